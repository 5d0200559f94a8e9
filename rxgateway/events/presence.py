"""Presence, typing and the bot's user (GATEWAY.md §10.7): PRESENCE_UPDATE, TYPING_START
and USER_UPDATE.

Example::

    >>> e = TypingStart(ShardId(0, 1), 61, "TYPING_START",
    ...     {"channel_id": "5", "user_id": "3", "timestamp": 1751371200}, EventType.TYPING_START)
    >>> e.user_id, e.timestamp, e.member
    (3, 1751371200, None)
"""

from __future__ import annotations

from ..protocol.event_type import EventType
from .fields import INT, SNOWFLAKE, opt, req, view
from .objects import Member, PresenceFields, UserFields
from .view import TypedDispatch


class PresenceUpdate(PresenceFields, TypedDispatch):
    """PRESENCE_UPDATE: a member's status or activities changed. Only ``user.id`` is
    guaranteed; Discord validates nothing here.

    Example::

        >>> e = PresenceUpdate(ShardId(0, 1), 60, "PRESENCE_UPDATE", payload, EventType.PRESENCE_UPDATE)
        >>> e.status, e.activities[0].name, e.client_status.desktop
        ('idle', 'Rocket League', 'idle')
    """

    __slots__ = ()
    type = EventType.PRESENCE_UPDATE

    guild_id = req(SNOWFLAKE)


class TypingStart(TypedDispatch):
    """TYPING_START: a user started typing in a channel."""

    __slots__ = ()
    type = EventType.TYPING_START

    channel_id = req(SNOWFLAKE)
    user_id = req(SNOWFLAKE)
    #: Unix seconds.
    timestamp = req(INT)
    #: The typing member, in guilds.
    member = opt(view(Member))

    _repr_keys = "channel_id user_id"


class UserUpdate(UserFields, TypedDispatch):
    """USER_UPDATE: the bot's own user changed; ``d`` is the user.

    Example::

        >>> e = UserUpdate(ShardId(0, 1), 62, "USER_UPDATE", {"id": "2", "username": "bot", "discriminator": "4821"},
        ...                EventType.USER_UPDATE)
        >>> e.username, e.guild_id
        ('bot', None)
    """

    __slots__ = ()
    type = EventType.USER_UPDATE
