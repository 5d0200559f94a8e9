"""Guild moderation (GATEWAY.md §10.5): GUILD_AUDIT_LOG_ENTRY_CREATE, GUILD_BAN_ADD and
GUILD_BAN_REMOVE (the GUILD_MODERATION intent). Auto moderation is in ``automod.py``.

Example::

    >>> e = GuildBanAdd(ShardId(0, 1), 43, "GUILD_BAN_ADD", {"guild_id": "1",
    ...     "user": {"id": "3", "username": "bob", "discriminator": "0"}}, EventType.GUILD_BAN_ADD)
    >>> e.user.id
    3
"""

from __future__ import annotations

from ..protocol.event_type import EventType
from .fields import INT, OBJECT, OBJECTS, SNOWFLAKE, TEXT, opt, req
from .objects import GuildUserFields
from .view import TypedDispatch


class GuildAuditLogEntryCreate(TypedDispatch):
    """GUILD_AUDIT_LOG_ENTRY_CREATE: an audit log entry was written (needs
    VIEW_AUDIT_LOG).

    Example::

        >>> e = GuildAuditLogEntryCreate(ShardId(0, 1), 44, "GUILD_AUDIT_LOG_ENTRY_CREATE",
        ...     {"id": "9", "guild_id": "1", "user_id": "3", "target_id": "4", "action_type": 22},
        ...     EventType.GUILD_AUDIT_LOG_ENTRY_CREATE)
        >>> e.action_type, e.reason
        (22, None)
    """

    __slots__ = ()
    type = EventType.GUILD_AUDIT_LOG_ENTRY_CREATE

    id = req(SNOWFLAKE)
    guild_id = req(SNOWFLAKE)
    #: Who acted; ``None`` for some automatic actions.
    user_id = opt(SNOWFLAKE)
    target_id = opt(SNOWFLAKE)
    action_type = req(INT)
    changes = opt(OBJECTS)
    options = opt(OBJECT)
    reason = opt(TEXT)

    _repr_keys = "id action_type user_id target_id"


class GuildBanAdd(GuildUserFields, TypedDispatch):
    """GUILD_BAN_ADD: a user was banned."""

    __slots__ = ()
    type = EventType.GUILD_BAN_ADD


class GuildBanRemove(GuildUserFields, TypedDispatch):
    """GUILD_BAN_REMOVE: a user was unbanned."""

    __slots__ = ()
    type = EventType.GUILD_BAN_REMOVE
