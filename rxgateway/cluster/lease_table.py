"""Who holds which shard: leases and live members, in Redis, each step one Lua script.

Keys (see :class:`~rxgateway.cluster.redis_link.Keys`):

- ``{app}:lease:N``: the id of the member holding shard ``N``, with a TTL. Taken with
  ``SET NX PX``, extended only by its holder, deleted only by its holder.
- ``{app}:members``: member id -> until when it is alive (server ms), a sorted set.
- ``{app}:epoch``: when this Redis first saw the cluster (server ms). A Redis that
  restarted empty has lost every lease; during the *grace* after a new epoch only
  holders re-take their own leases (:meth:`LeaseTable.heartbeat`), and claims of free
  shards are refused, so a shard goes back to the member that still runs it.
- ``{app}:config``: the cluster's shard total, set by the first member; a member with
  another total is refused (two totals would make two owners of one guild).

Every time is the Redis server's (``TIME``), never a member's.

Example::

    table = LeaseTable(redis, Keys("mybot"), member="host-1:4242:ab12", ttl=30.0)
    beat = await table.heartbeat(held=[0, 1])    # renew, see who is alive
    got = await table.claim(want=2, total=16)     # free shards, lowest first
    await table.release([1])                      # after handing shard 1 off
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from .redis_link import Keys

if TYPE_CHECKING:
    from redis.asyncio import Redis

__all__ = ["Beat", "LeaseTable", "TotalMismatchError"]

#: Milliseconds per second, for the scripts' PX arguments.
_MS: Final = 1000

_HEARTBEAT = """
-- KEYS: members, epoch, config, lease keys of the shards held
-- ARGV: member, ttl_ms, total
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local ttl = tonumber(ARGV[2])
local born = redis.call('GET', KEYS[2])
if not born then
  born = now
  redis.call('SET', KEYS[2], now)
end
local total = redis.call('HGET', KEYS[3], 'total')
if not total then
  redis.call('HSET', KEYS[3], 'total', ARGV[3])
elseif total ~= ARGV[3] then
  return {-1, total}
end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
redis.call('ZADD', KEYS[1], now + ttl, ARGV[1])
local results = {}
for i = 4, #KEYS do
  local holder = redis.call('GET', KEYS[i])
  if holder == ARGV[1] then
    redis.call('PEXPIRE', KEYS[i], ttl)
    results[#results + 1] = 1
  elseif not holder then
    redis.call('SET', KEYS[i], ARGV[1], 'PX', ttl)
    results[#results + 1] = 1
  else
    results[#results + 1] = 0
  end
end
return {now, now - tonumber(born), redis.call('ZRANGE', KEYS[1], 0, -1), results}
"""

_CLAIM = """
-- KEYS: epoch, lease keys of candidate shards (in order of preference)
-- ARGV: member, ttl_ms, want, grace_ms
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local born = redis.call('GET', KEYS[1])
if not born then
  redis.call('SET', KEYS[1], now)
  return {}
end
if now - tonumber(born) < tonumber(ARGV[4]) then
  return {}
end
local want = tonumber(ARGV[3])
local got = {}
for i = 2, #KEYS do
  if #got >= want then break end
  if redis.call('SET', KEYS[i], ARGV[1], 'NX', 'PX', ARGV[2]) then
    got[#got + 1] = i - 2
  end
end
return got
"""

_RELEASE = """
-- KEYS: lease keys; ARGV: member
local released = 0
for i = 1, #KEYS do
  if redis.call('GET', KEYS[i]) == ARGV[1] then
    redis.call('DEL', KEYS[i])
    released = released + 1
  end
end
return released
"""

_LEAVE = """
-- KEYS: members, lease keys; ARGV: member
redis.call('ZREM', KEYS[1], ARGV[1])
for i = 2, #KEYS do
  if redis.call('GET', KEYS[i]) == ARGV[1] then redis.call('DEL', KEYS[i]) end
end
return 1
"""


class TotalMismatchError(RuntimeError):
    """The cluster in Redis runs another shard total than this member was given."""


@dataclass(frozen=True, slots=True)
class Beat:
    """What a heartbeat learned: the server's time (ms), how old the cluster's epoch
    is (ms), the live members, and which of the held shards are still ours."""

    server_ms: int
    epoch_age_ms: int
    members: tuple[str, ...]
    kept: tuple[int, ...]
    lost: tuple[int, ...]


class LeaseTable:
    """One member's view of the lease table: renew, claim, release, leave."""

    def __init__(self, redis: Redis, keys: Keys, member: str, ttl: float) -> None:
        self.redis = redis
        self.keys = keys
        self.member = member
        self.ttl = ttl
        self._heartbeat = redis.register_script(_HEARTBEAT)
        self._claim = redis.register_script(_CLAIM)
        self._release = redis.register_script(_RELEASE)
        self._leave = redis.register_script(_LEAVE)

    @property
    def grace(self) -> float:
        """Seconds after a new epoch during which only holders re-take their leases:
        long enough for every live holder to have renewed once (two renew periods)."""
        return self.ttl / 3

    async def heartbeat(self, held: Sequence[int], total: int) -> Beat:
        """Say this member is alive; renew the leases of ``held`` (re-taking any that
        vanished, as after a Redis restart) and learn which were taken by another.

        Raises :class:`TotalMismatchError` if the cluster runs another total.
        """
        keys = [self.keys.members, self.keys.epoch, self.keys.config, *(self.keys.lease(n) for n in held)]
        reply: Any = await self._heartbeat(keys=keys, args=[self.member, int(self.ttl * _MS), total])
        if int(reply[0]) == -1:
            raise TotalMismatchError(f"the cluster {self.keys.app!r} runs {int(reply[1])} shards, this member {total}")
        results = [int(r) for r in reply[3]]
        return Beat(
            server_ms=int(reply[0]),
            epoch_age_ms=int(reply[1]),
            members=tuple(_text(m) for m in reply[2]),
            kept=tuple(n for n, ok in zip(held, results) if ok),
            lost=tuple(n for n, ok in zip(held, results) if not ok),
        )

    async def claim(self, candidates: Sequence[int], want: int) -> list[int]:
        """Take up to ``want`` of ``candidates`` that nobody holds, in order; nothing
        during the grace after a new epoch."""
        if want <= 0 or not candidates:
            return []
        keys = [self.keys.epoch, *(self.keys.lease(n) for n in candidates)]
        args: list[str | int] = [self.member, int(self.ttl * _MS), want, int(self.grace * _MS)]
        reply: Any = await self._claim(keys=keys, args=args)
        return [candidates[int(i)] for i in reply]

    async def release(self, shards: Sequence[int]) -> int:
        """Give up the leases of ``shards`` this member holds; returns how many."""
        if not shards:
            return 0
        released: Any = await self._release(keys=[self.keys.lease(n) for n in shards], args=[self.member])
        return int(released)

    async def leave(self, shards: Sequence[int]) -> None:
        """Leave the cluster: release ``shards`` and stop being a live member."""
        await self._leave(keys=[self.keys.members, *(self.keys.lease(n) for n in shards)], args=[self.member])

    async def holders(self, total: int) -> list[str | None]:
        """The holder of every shard ``0..total-1`` (``None``: free)."""
        if total <= 0:
            return []
        values: list[Any] = await self.redis.mget([self.keys.lease(n) for n in range(total)])
        return [None if v is None else _text(v) for v in values]

    async def holder(self, shard: int) -> str | None:
        """The holder of one shard, or ``None``."""
        value: Any = await self.redis.get(self.keys.lease(shard))
        return None if value is None else _text(value)


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
