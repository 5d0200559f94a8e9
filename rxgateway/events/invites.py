"""Invites (GATEWAY.md §10.5): INVITE_CREATE and INVITE_DELETE (needs MANAGE_CHANNELS).

Example::

    >>> e = InviteDelete(ShardId(0, 1), 48, "INVITE_DELETE", {"channel_id": "5", "code": "abc"},
    ...                  EventType.INVITE_DELETE)
    >>> e.code, e.guild_id
    ('abc', None)
"""

from __future__ import annotations

from ..protocol.event_type import EventType
from .fields import BOOL, INT, OBJECT, SNOWFLAKE, SNOWFLAKES, TEXT, opt, req, view
from .objects import User
from .view import Display, TypedDispatch


class InviteRef(Display):
    """An invite's ``code`` and ``channel_id``."""

    __slots__ = ()

    channel_id = req(SNOWFLAKE)
    code = req(TEXT)

    _repr_keys = "code channel_id"


class InviteCreate(InviteRef, TypedDispatch):
    """INVITE_CREATE: an invite was created.

    Example::

        >>> e = InviteCreate(ShardId(0, 1), 49, "INVITE_CREATE", {"channel_id": "5", "code": "abc",
        ...     "created_at": "2025-07-01T12:00:00+00:00", "max_age": 86400, "max_uses": 0, "temporary": False,
        ...     "uses": 0}, EventType.INVITE_CREATE)
        >>> e.max_age, e.inviter
        (86400, None)
    """

    __slots__ = ()
    type = EventType.INVITE_CREATE

    created_at = req(TEXT)
    inviter = opt(view(User))
    #: Seconds the invite lasts; 0 is forever.
    max_age = req(INT)
    #: 0 is unlimited.
    max_uses = req(INT)
    #: 1 STREAM, 2 EMBEDDED_APPLICATION.
    target_type = opt(INT)
    target_user = opt(view(User))
    target_application = opt(OBJECT)
    #: True when the invite grants temporary membership.
    temporary = req(BOOL)
    #: Always 0.
    uses = req(INT)
    expires_at = opt(TEXT)
    role_ids = opt(SNOWFLAKES)

    _repr_keys = "code channel_id inviter max_age"


class InviteDelete(InviteRef, TypedDispatch):
    """INVITE_DELETE: an invite was deleted."""

    __slots__ = ()
    type = EventType.INVITE_DELETE
