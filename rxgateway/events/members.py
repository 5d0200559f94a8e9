"""Guild members (GATEWAY.md §9.1, §10.5): GUILD_MEMBER_ADD/UPDATE/REMOVE and
GUILD_MEMBERS_CHUNK (the answer to Request Guild Members, op 8).

Example::

    >>> e = GuildMemberRemove(ShardId(0, 1), 41, "GUILD_MEMBER_REMOVE", {"guild_id": "1",
    ...     "user": {"id": "3", "username": "bob", "discriminator": "0"}}, EventType.GUILD_MEMBER_REMOVE)
    >>> e.guild_id, e.user.username
    (1, 'bob')
"""

from __future__ import annotations

from ..protocol.event_type import EventType
from .fields import BOOL, INT, SNOWFLAKE, SNOWFLAKES, TEXT, list_of, opt, req, view
from .objects import GuildUserFields, Member, MemberCommon, MemberFields, Presence, User
from .view import TypedDispatch


class GuildMemberAdd(MemberFields, TypedDispatch):
    """GUILD_MEMBER_ADD: a user joined a guild (or was re-sent); ``d`` is the member
    with ``user``, plus ``guild_id``."""

    __slots__ = ()
    type = EventType.GUILD_MEMBER_ADD

    guild_id = req(SNOWFLAKE)
    user = req(view(User))

    _repr_keys = "guild_id user nick roles"

    @property
    def member(self) -> Member:
        """The same payload as a :class:`Member` view."""
        return Member(self.raw)


class GuildMemberUpdate(MemberCommon, TypedDispatch):
    """GUILD_MEMBER_UPDATE: a member (or their user) changed. ``deaf``, ``mute`` and
    ``flags`` may be absent here (``None``)."""

    __slots__ = ()
    type = EventType.GUILD_MEMBER_UPDATE

    guild_id = req(SNOWFLAKE)
    user = req(view(User))
    deaf = opt(BOOL)
    mute = opt(BOOL)
    flags = opt(INT)

    _repr_keys = "guild_id user nick roles"


class GuildMemberRemove(GuildUserFields, TypedDispatch):
    """GUILD_MEMBER_REMOVE: a user left, was kicked or was banned."""

    __slots__ = ()
    type = EventType.GUILD_MEMBER_REMOVE


class GuildMembersChunk(TypedDispatch):
    """GUILD_MEMBERS_CHUNK: up to 1000 members answering Request Guild Members (§9.1).

    Example::

        >>> e = GuildMembersChunk(ShardId(0, 1), 12, "GUILD_MEMBERS_CHUNK", {"guild_id": "1", "members": [],
        ...     "chunk_index": 0, "chunk_count": 1, "not_found": [123]}, EventType.GUILD_MEMBERS_CHUNK)
        >>> e.not_found, e.is_last
        ([123], True)
    """

    __slots__ = ()
    type = EventType.GUILD_MEMBERS_CHUNK

    guild_id = req(SNOWFLAKE)
    members = req(list_of(view(Member)))
    #: 0-based, below ``chunk_count``.
    chunk_index = req(INT)
    chunk_count = req(INT)
    #: Requested ``user_ids`` that are not members (echoed ids may be JSON integers).
    not_found = opt(SNOWFLAKES)
    #: When the request asked for ``presences``.
    presences = opt(list_of(view(Presence)))
    nonce = opt(TEXT)

    _repr_keys = "guild_id chunk_index chunk_count members nonce"

    @property
    def is_last(self) -> bool:
        """True for the last chunk of its request."""
        return self.chunk_index + 1 >= self.chunk_count
