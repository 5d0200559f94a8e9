"""Roles (GATEWAY.md §10.5): GUILD_ROLE_CREATE/UPDATE/DELETE. The
:class:`~rxgateway.events.objects.Role` view is in ``objects.py``.

Example::

    >>> e = GuildRoleDelete(ShardId(0, 1), 42, "GUILD_ROLE_DELETE", {"guild_id": "1", "role_id": "2"},
    ...                     EventType.GUILD_ROLE_DELETE)
    >>> e.role_id
    2
"""

from __future__ import annotations

from ..protocol.event_type import EventType
from .fields import SNOWFLAKE, req, view
from .objects import Role
from .view import Display, TypedDispatch


class RoleOfGuild(Display):
    """A role and its guild."""

    __slots__ = ()

    guild_id = req(SNOWFLAKE)
    role = req(view(Role))

    _repr_keys = "guild_id role"


class GuildRoleCreate(RoleOfGuild, TypedDispatch):
    """GUILD_ROLE_CREATE: a role was created."""

    __slots__ = ()
    type = EventType.GUILD_ROLE_CREATE


class GuildRoleUpdate(RoleOfGuild, TypedDispatch):
    """GUILD_ROLE_UPDATE: a role changed; ``role`` is the whole new role."""

    __slots__ = ()
    type = EventType.GUILD_ROLE_UPDATE


class GuildRoleDelete(TypedDispatch):
    """GUILD_ROLE_DELETE: a role was deleted."""

    __slots__ = ()
    type = EventType.GUILD_ROLE_DELETE

    guild_id = req(SNOWFLAKE)
    role_id = req(SNOWFLAKE)

    _repr_keys = "guild_id role_id"
