"""Session dispatches (GATEWAY.md §3.5, §3.6, §5.4): READY, RESUMED and RATE_LIMITED.

Example::

    >>> e = Ready(ShardId(0, 1), 1, "READY", payload, EventType.READY)
    >>> e.session_id, e.user.username, len(e.guilds), e.shard_id
    ('3f1c9a7e2b5d4e6f8a0b1c2d3e4f5a6b', 'test-bot', 2, ShardId(0, 1))
"""

from __future__ import annotations

from typing import Any

from ..protocol.event_type import EventType
from ..protocol.shard_id import ShardId
from .fields import BOOL, FLOAT, INT, SNOWFLAKE, TEXT, Kind, list_of, opt, req, view
from .objects import User
from .view import TypedDispatch, View


def _shard_id(pair: list[Any]) -> ShardId:
    number, total = pair
    return ShardId(number, total)


#: READY's ``shard`` array ``[shard_id, num_shards]``.
_SHARD: Kind[ShardId] = Kind("a [shard_id, num_shards] pair", list, _shard_id)


class UnavailableGuild(View):
    """A guild not yet sent: READY's ``guilds``, or GUILD_DELETE during an outage."""

    __slots__ = ()

    id = req(SNOWFLAKE)
    unavailable = opt(BOOL)

    _repr_keys = "id unavailable"


class Application(View):
    """READY's partial application: ``id`` and ``flags`` (the gateway intent flags,
    e.g. ``GATEWAY_MESSAGE_CONTENT_LIMITED`` 1<<19)."""

    __slots__ = ()

    id = req(SNOWFLAKE)
    flags = req(INT)

    _repr_keys = "id flags"


class Ready(TypedDispatch):
    """READY: the session started; first dispatch after Identify."""

    __slots__ = ()
    type = EventType.READY

    #: The API version (``v``).
    version = req(INT, "v")
    #: The bot user.
    user = req(view(User))
    #: Every guild of the shard, all unavailable; a GUILD_CREATE follows for each.
    guilds = req(list_of(view(UnavailableGuild)))
    session_id = req(TEXT)
    resume_gateway_url = req(TEXT)
    #: The ``shard`` array as a ShardId, when Identify sent one. (``shard`` itself is
    #: the emitting shard's id, as on every event.)
    shard_id = opt(_SHARD, "shard")
    application = req(view(Application))

    _repr_keys = "user session_id guilds"


class Resumed(TypedDispatch):
    """RESUMED: a resume succeeded; every missed dispatch was replayed before it. ``d``
    is undocumented (``{}`` or trace data); see ``raw``."""

    __slots__ = ()
    type = EventType.RESUMED


class RateLimitMeta(View):
    """What was rate limited; for Request Guild Members (opcode 8): ``guild_id`` and the
    request's ``nonce``."""

    __slots__ = ()

    guild_id = opt(SNOWFLAKE)
    nonce = opt(TEXT)

    _repr_keys = "guild_id nonce"
    _label_key = "guild_id"


class RateLimited(TypedDispatch):
    """RATE_LIMITED: a request was refused for now (§5.4).

    Example::

        >>> e = RateLimited(ShardId(0, 1), 57, "RATE_LIMITED", {"opcode": 8, "retry_after": 23.41,
        ...     "meta": {"guild_id": "1", "nonce": "req-1"}}, EventType.RATE_LIMITED)
        >>> e.retry_after, e.guild_id, e.meta.nonce
        (23.41, 1, 'req-1')
    """

    __slots__ = ()
    type = EventType.RATE_LIMITED

    #: The refused request's opcode (8, Request Guild Members).
    opcode = req(INT)
    #: Seconds to wait before retrying.
    retry_after = req(FLOAT)
    meta = req(view(RateLimitMeta))

    _repr_keys = "opcode retry_after guild_id"

    @property
    def guild_id(self) -> int | None:
        """``meta.guild_id``: the guild of the refused request."""
        return self.meta.guild_id
