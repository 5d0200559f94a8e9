"""Who holds which shard: leases and live members, in Redis, each step one Lua script.

Keys (see :class:`~rxgateway.cluster.redis_link.Keys`):

- ``{app}:lease:N``: the id of the member holding shard ``N``, with a TTL. Taken with
  ``SET NX PX``, extended only by its holder, deleted only by its holder.
- ``{app}:members``: member id -> until when it is alive (server ms), a sorted set.
- ``{app}:epoch``: when this Redis first saw the cluster (server ms). A Redis that
  restarted empty has lost every lease; during the *grace* after a new epoch only
  holders re-take their own leases (:meth:`LeaseTable.heartbeat`), and claims of free
  shards are refused, so a shard goes back to the member that still runs it.
- ``{app}:config``: the cluster's shard total and generation, set by the first member;
  a member with another total is refused (two totals would make two owners of one
  guild), unless it is the total of a reshard under way (``next_total``,
  ``next_generation``: :func:`start_reshard`). Leases of generation ``g > 0`` are
  ``{app}:lease:gG:N``; ``{app}:active:gG`` collects the pending generation's shards
  that were Active, and the one call that completes it switches the config
  (:meth:`LeaseTable.mark_active`).

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

__all__ = [
    "Beat", "LeaseTable", "ReshardError", "Shape", "TotalMismatchError",
    "cancel_reshard", "read_shape", "start_reshard",
]  # fmt: skip

#: Milliseconds per second, for the scripts' PX arguments.
_MS: Final = 1000

_HEARTBEAT = """
-- KEYS: members, epoch, config, lease keys of the shards held (any generation)
-- ARGV: member, ttl_ms, total, generation (the shape set if the cluster has none)
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
  redis.call('HSET', KEYS[3], 'total', ARGV[3], 'generation', ARGV[4])
end
local shape = redis.call('HMGET', KEYS[3], 'total', 'generation', 'next_total', 'next_generation')
for i = 1, 4 do
  if not shape[i] then shape[i] = '' end
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
return {now, now - tonumber(born), redis.call('ZRANGE', KEYS[1], 0, -1), results, shape}
"""

#: Start a reshard: {status, a, b, c}. ok -> a = the new generation, b = remaining
#: budget (-1: not known); pending -> a = next_total, b = next_generation; same -> a =
#: total; budget -> a = remaining, b = daily total, c = floor; none -> no cluster yet.
_RESHARD = """
-- KEYS: config, identify budget, active set of the next generation (prefix; gen appended)
-- ARGV: new_total, floor (-1: 5 % of the budget's total, at least 1)
local total = redis.call('HGET', KEYS[1], 'total')
if not total then return {'none', 0, 0, 0} end
local pending = redis.call('HGET', KEYS[1], 'next_total')
if pending then
  return {'pending', tonumber(pending), tonumber(redis.call('HGET', KEYS[1], 'next_generation')), 0}
end
local new_total = tonumber(ARGV[1])
if tonumber(total) == new_total then return {'same', tonumber(total), 0, 0} end
local rem = tonumber(redis.call('HGET', KEYS[2], 'remaining'))
if rem ~= nil then
  local btotal = tonumber(redis.call('HGET', KEYS[2], 'total')) or 1000
  local floor = tonumber(ARGV[2])
  if floor < 0 then floor = math.max(1, math.floor(btotal * 0.05)) end
  if rem < new_total + floor then return {'budget', rem, btotal, floor} end
end
local gen = (tonumber(redis.call('HGET', KEYS[1], 'generation')) or 0) + 1
redis.call('HSET', KEYS[1], 'next_total', new_total, 'next_generation', gen)
redis.call('DEL', KEYS[3] .. gen)
return {'ok', gen, rem or -1, 0}
"""

#: Record shards of the pending generation as Active; switch when all are.
#: Returns {status, count, next_total}: switched, waiting, or stale (no such pending).
_ACTIVE = """
-- KEYS: config, active set of that generation
-- ARGV: generation, shard numbers...
local gen = redis.call('HGET', KEYS[1], 'next_generation')
if gen ~= ARGV[1] then return {'stale', 0, 0} end
local next_total = tonumber(redis.call('HGET', KEYS[1], 'next_total'))
for i = 2, #ARGV do
  local n = tonumber(ARGV[i])
  if n >= 0 and n < next_total then redis.call('SADD', KEYS[2], n) end
end
local count = redis.call('SCARD', KEYS[2])
if count >= next_total then
  redis.call('HSET', KEYS[1], 'total', next_total, 'generation', gen)
  redis.call('HDEL', KEYS[1], 'next_total', 'next_generation')
  redis.call('DEL', KEYS[2])
  return {'switched', count, next_total}
end
return {'waiting', count, next_total}
"""

_CANCEL = """
-- KEYS: config, active prefix
local gen = redis.call('HGET', KEYS[1], 'next_generation')
if not gen then return 0 end
redis.call('HDEL', KEYS[1], 'next_total', 'next_generation')
redis.call('DEL', KEYS[2] .. gen)
return 1
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


class ReshardError(RuntimeError):
    """A reshard was refused (the budget, one already pending, the same total...)."""


@dataclass(frozen=True, slots=True)
class Shape:
    """The cluster's shape as ``{app}:config`` has it: the running total and
    generation, and the pending ones during a reshard (``None`` otherwise)."""

    total: int
    generation: int = 0
    next_total: int | None = None
    next_generation: int | None = None

    def accepts(self, total: int) -> bool:
        """Whether a member given ``total`` may join: the running total, or the
        pending one (it joins mid-reshard)."""
        return total == self.total or total == self.next_total


@dataclass(frozen=True, slots=True)
class Beat:
    """What a heartbeat learned: the server's time (ms), how old the cluster's epoch
    is (ms), the live members, which of the held shards are still ours (``kept``,
    ``lost``: of generation ``generation``; ``next_kept``/``next_lost``: of the
    pending generation), and the cluster's shape."""

    server_ms: int
    epoch_age_ms: int
    members: tuple[str, ...]
    kept: tuple[int, ...]
    lost: tuple[int, ...]
    shape: Shape = Shape(1)
    next_kept: tuple[int, ...] = ()
    next_lost: tuple[int, ...] = ()


class LeaseTable:
    """One member's view of the lease table: renew, claim, release, leave.

    Every method takes the shard ``generation`` its shards belong to (0, the default,
    for a cluster that never resharded)."""

    def __init__(self, redis: Redis, keys: Keys, member: str, ttl: float) -> None:
        self.redis = redis
        self.keys = keys
        self.member = member
        self.ttl = ttl
        self._heartbeat = redis.register_script(_HEARTBEAT)
        self._claim = redis.register_script(_CLAIM)
        self._release = redis.register_script(_RELEASE)
        self._leave = redis.register_script(_LEAVE)
        self._reshard = redis.register_script(_RESHARD)
        self._active = redis.register_script(_ACTIVE)
        self._cancel = redis.register_script(_CANCEL)

    @property
    def grace(self) -> float:
        """Seconds after a new epoch during which only holders re-take their leases:
        long enough for every live holder to have renewed once (two renew periods)."""
        return self.ttl / 3

    async def heartbeat(
        self,
        held: Sequence[int],
        total: int,
        *,
        generation: int = 0,
        next_held: Sequence[int] = (),
        next_generation: int = 0,
        check: bool = True,
    ) -> Beat:
        """Say this member is alive; renew the leases of ``held`` (of ``generation``)
        and ``next_held`` (of ``next_generation``), re-taking any that vanished, as
        after a Redis restart, and learn which were taken by another and the shape.

        A cluster with no shape yet gets ``total``/``generation``. With ``check``,
        raises :class:`TotalMismatchError` if ``total`` is neither the cluster's total
        nor the one of a reshard under way.
        """
        keys = [
            self.keys.members, self.keys.epoch, self.keys.config,
            *(self.keys.lease(n, generation) for n in held),
            *(self.keys.lease(n, next_generation) for n in next_held),
        ]  # fmt: skip
        reply: Any = await self._heartbeat(keys=keys, args=[self.member, int(self.ttl * _MS), total, generation])
        raw = [_text(v) for v in reply[4]]
        shape = Shape(
            int(raw[0]),
            int(raw[1] or 0),
            int(raw[2]) if raw[2] else None,
            int(raw[3]) if raw[3] else None,
        )
        if check and not shape.accepts(total):
            running = f"{shape.total} shards" + (f" (resharding to {shape.next_total})" if shape.next_total else "")
            raise TotalMismatchError(f"the cluster {self.keys.app!r} runs {running}, this member {total}")
        results = [int(r) for r in reply[3]]
        mine, pending = results[: len(held)], results[len(held) :]
        return Beat(
            server_ms=int(reply[0]),
            epoch_age_ms=int(reply[1]),
            members=tuple(_text(m) for m in reply[2]),
            kept=tuple(n for n, ok in zip(held, mine) if ok),
            lost=tuple(n for n, ok in zip(held, mine) if not ok),
            shape=shape,
            next_kept=tuple(n for n, ok in zip(next_held, pending) if ok),
            next_lost=tuple(n for n, ok in zip(next_held, pending) if not ok),
        )

    async def claim(self, candidates: Sequence[int], want: int, *, generation: int = 0) -> list[int]:
        """Take up to ``want`` of ``candidates`` that nobody holds, in order; nothing
        during the grace after a new epoch."""
        if want <= 0 or not candidates:
            return []
        keys = [self.keys.epoch, *(self.keys.lease(n, generation) for n in candidates)]
        args: list[str | int] = [self.member, int(self.ttl * _MS), want, int(self.grace * _MS)]
        reply: Any = await self._claim(keys=keys, args=args)
        return [candidates[int(i)] for i in reply]

    async def release(self, shards: Sequence[int], *, generation: int = 0) -> int:
        """Give up the leases of ``shards`` this member holds; returns how many."""
        if not shards:
            return 0
        keys = [self.keys.lease(n, generation) for n in shards]
        released: Any = await self._release(keys=keys, args=[self.member])
        return int(released)

    async def leave(
        self, shards: Sequence[int], *, generation: int = 0, next_shards: Sequence[int] = (), next_generation: int = 0
    ) -> None:
        """Leave the cluster: release ``shards`` (and ``next_shards`` of the pending
        generation) and stop being a live member."""
        keys = [
            self.keys.members,
            *(self.keys.lease(n, generation) for n in shards),
            *(self.keys.lease(n, next_generation) for n in next_shards),
        ]
        await self._leave(keys=keys, args=[self.member])

    async def holders(self, total: int, *, generation: int = 0) -> list[str | None]:
        """The holder of every shard ``0..total-1`` (``None``: free)."""
        if total <= 0:
            return []
        values: list[Any] = await self.redis.mget([self.keys.lease(n, generation) for n in range(total)])
        return [None if v is None else _text(v) for v in values]

    async def holder(self, shard: int, *, generation: int = 0) -> str | None:
        """The holder of one shard, or ``None``."""
        value: Any = await self.redis.get(self.keys.lease(shard, generation))
        return None if value is None else _text(value)

    # -- resharding ------------------------------------------------------------

    async def shape(self) -> Shape | None:
        """The cluster's shape, or ``None`` before any member set it."""
        return await read_shape(self.redis, self.keys)

    async def mark_active(self, generation: int, shards: Sequence[int]) -> bool:
        """Record ``shards`` of the pending ``generation`` as Active; when every shard
        of it has been, switch the cluster to it (atomically). True if this call
        switched it."""
        reply: Any = await self._active(
            keys=[self.keys.config, self.keys.active(generation)], args=[generation, *shards]
        )
        return _text(reply[0]) == "switched"


async def read_shape(redis: Redis, keys: Keys) -> Shape | None:
    """The shape in ``{app}:config``, or ``None`` when there is none."""
    raw: Any = await redis.hmget(keys.config, ["total", "generation", "next_total", "next_generation"])
    if raw[0] is None:
        return None
    return Shape(
        int(raw[0]),
        int(raw[1] or 0),
        int(raw[2]) if raw[2] is not None else None,
        int(raw[3]) if raw[3] is not None else None,
    )


async def start_reshard(redis: Redis, keys: Keys, total: int, *, floor: int | None = None) -> int:
    """Ask the cluster to reshard to ``total`` shards: a new generation starts
    alongside the running one (see :mod:`rxgateway.cluster.member`). Returns the new
    generation's number.

    Checked first, atomically: a cluster exists, no reshard is pending, the total
    changes, and the identify budget the shared queue keeps (``{app}:idq:budget``)
    has at least ``total + floor`` left (``floor``: the queue's safety floor, default
    5 % of the daily total). Raises :class:`ReshardError` saying why not.
    """
    if total < 1:
        raise ReshardError(f"the new total must be at least 1, got {total}")
    script = redis.register_script(_RESHARD)
    reply: Any = await script(
        keys=[keys.config, keys.budget, keys.active(0)[: -len("0")]], args=[total, -1 if floor is None else floor]
    )
    status, a, b, c = _text(reply[0]), int(reply[1]), int(reply[2]), int(reply[3])
    if status == "ok":
        return a
    if status == "none":
        raise ReshardError(f"the cluster {keys.app!r} has no shard total yet: start it first")
    if status == "pending":
        raise ReshardError(f"the cluster {keys.app!r} is already resharding to {a} shards (generation {b})")
    if status == "same":
        raise ReshardError(f"the cluster {keys.app!r} already runs {a} shards")
    raise ReshardError(
        f"the identify budget is too low to reshard {keys.app!r} to {total} shards: {a} of {b} left today, "
        f"and {total} identifies plus the safety floor of {c} are needed ({total + c}); wait for the daily reset"
    )


async def cancel_reshard(redis: Redis, keys: Keys) -> bool:
    """Drop a pending reshard (members close the new generation's shards). True if
    one was pending."""
    script = redis.register_script(_CANCEL)
    return bool(await script(keys=[keys.config, keys.active(0)[: -len("0")]]))


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
