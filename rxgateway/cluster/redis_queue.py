"""The identify queue shared by every process and machine of one bot, on Redis.

:class:`RedisQueue` is a :class:`~rxgateway.queue.SessionQueue`: give the same
Redis and ``app`` to every process that holds shards of one bot, whatever the
layout, and together they Identify at most once per rate-limit key
(``shard.number % max_concurrency``) per ``identify_interval + margin``, first come
first served within a key, and never past the daily session-start budget's safety
floor.

Theory of operation. Every decision is one Lua script run on the Redis server
(atomic, one round trip), timed by the server's clock (``TIME``), never by the
processes' clocks, which may disagree. A waiting ``acquire`` runs the script again
and again, sleeping in between for as long as the script says (plus up to
:data:`JITTER` so waiters of many processes do not arrive together); nothing else
runs in the background. One run of the script:

1. merges the caller's view of the daily budget into the shared counter (below),
   and refuses at once when the counter is at the floor;
2. gives the caller a ticket on its first run (``INCR`` of one counter: the arrival
   order across all processes) and puts it in its key's FIFO, a sorted set scored by
   ticket; each run also marks the ticket alive until now + the alive period;
3. drops tickets at the head of the FIFO whose waiters stopped refreshing them
   (a process that crashed, or lost Redis): a crashed waiter blocks its key for at
   most one alive period, which is one window;
4. answers "wait" unless the caller is the head and the key's window is over (the
   window key's TTL, and the grant time stored in it, read on the server clock);
5. grants: sets the window key for one window (``SET PX``; never deleted early: it
   is a rate window, not a mutex, so a process that dies holding a grant costs its
   key exactly one window and nothing needs unlocking), takes one from the budget,
   removes the ticket and appends the grant to a capped audit stream.

A Redis restarted empty (or flushed) has lost the windows: a grant a moment before
the restart would not be seen. So the script notes, in an ``epoch`` key, when it
first saw this application's queue, and grants nothing until one window after that.
The first start of a bot on a new Redis therefore waits one window too.

The daily budget is one hash (``remaining``, ``total``) expiring when Discord's
window resets. Every run carries the caller's view of it: after
:meth:`RedisQueue.update`, Discord's fresh numbers; otherwise the numbers the
previous run returned. The script merges the view: an absent counter is created
from it, a present one keeps the lower ``remaining`` (other processes may already
have spent some; within a window the count only falls), and Discord's fresh numbers
also set ``total`` and may push the reset later. As in
:class:`~rxgateway.queue.InMemoryQueue`, a full budget has no window running: the
first grant after a refill starts one of ``limit_period`` (24 h). The view is what
lets a counter lost with a Redis restart come back at the right number rather than
full. When ``remaining`` is at or below the floor, the script refuses and
``acquire`` raises :class:`~rxgateway.errors.IdentifyQueueError` saying why: at
Discord's limit every session is ended and the token reset, so the queue stops
first. The shard reports the error and asks again after a backoff.

Cancelling ``acquire`` consumes nothing: the ticket leaves its FIFO (the next
waiter moves up at its next run). A run already on its way to the server is let
finish (it is shielded); if it turned out a grant, the budget gets the unit back
(an ``event=refund`` audit entry) and only the window, at most one, is spent.
A Redis that does not answer within :data:`COMMAND_TIMEOUT` makes ``acquire`` raise
:class:`~rxgateway.errors.IdentifyQueueError` (the URL in it redacted); a ticket left
behind is dropped once its alive period ends.

Keys, all under ``{app}:`` (see :class:`~rxgateway.cluster.redis_link.Keys`):
``idq:bucket:<key>`` (window), ``idq:waiters:<key>`` (FIFO), ``idq:tickets``,
``idq:alive``, ``idq:budget``, ``idq:audit``, and ``idq:epoch`` (built here).

Example::

    >>> import asyncio
    >>> from rxgateway.protocol.shard_id import ShardId
    >>> async def start(url: str) -> None:
    ...     queue = RedisQueue(url, app="mybot", max_concurrency=16)
    ...     try:
    ...         await queue.acquire(ShardId(5, 64))  # then send Identify at once
    ...     finally:
    ...         await queue.aclose()
    >>> asyncio.run(start("redis://:secret@redis.internal:6379/0"))  # doctest: +SKIP
"""

from __future__ import annotations

import asyncio
import logging
import math
import os
import random
import socket
import time
from collections.abc import Awaitable
from typing import TYPE_CHECKING, Any, Final, TypedDict, TypeVar
from urllib.parse import urlsplit

from rxgateway.errors import IdentifyQueueError
from rxgateway.protocol.shard_id import ShardId
from rxgateway.queue.memory import DEFAULT_TOTAL
from rxgateway.queue.session_queue import IDENTIFY_INTERVAL, IDENTIFY_MARGIN, LIMIT_PERIOD, check_limits

from .redis_link import DEFAULT_APP, Keys, client_where, connect, redact_url

if TYPE_CHECKING:
    from redis.asyncio import Redis

__all__ = [
    "AUDIT_MAXLEN",
    "COMMAND_TIMEOUT",
    "FLOOR_FRACTION",
    "JITTER",
    "LastGrant",
    "MAX_DROPS",
    "MIN_ALIVE",
    "REFRESHES_PER_ALIVE",
    "RedisQueue",
    "RedisQueueStatus",
    "STATUS_SCAN",
    "epoch_key",
]

log = logging.getLogger("rxgateway.cluster.redis_queue")

#: Seconds one Redis call may take before ``acquire`` gives up and raises. The
#: script does a few dozen hash and sorted-set operations (microseconds); a Redis
#: that needs seconds is overloaded or unreachable, and a shard is better told (it
#: reports and retries with backoff) than left hanging. redis-py's own retries of a
#: dropped connection fit inside it.
COMMAND_TIMEOUT: Final = 5.0

#: Up to this many seconds, at random, are added to every sleep between two runs of
#: the script, so that waiters of many processes woken by the same window do not
#: all reach Redis in the same millisecond. 50 ms is 1 % of Discord's window.
JITTER: Final = 0.05

#: The shortest alive period, in seconds. A ticket is alive for one window
#: (``identify_interval + margin``) after each run, but never less than this, so a
#: tiny window in a test does not declare a waiter dead whose event loop was busy
#: for a moment. (Discord's window is 5 s: the floor does not apply there.)
MIN_ALIVE: Final = 0.2

#: A waiter runs the script at least this many times per alive period, so one late
#: run (a slow loop, a slow network) does not let its ticket lapse.
REFRESHES_PER_ALIVE: Final = 4

#: The default safety floor, as a fraction of the daily ``total``: 5 % (50 of
#: Discord's default 1000) is left unspent, for the restarts that must identify on
#: the day the budget runs low; the floor is at least 1.
FLOOR_FRACTION: Final = 0.05

#: Grants kept in the audit stream (``XADD MAXLEN ~``): enough to read back a full
#: start of a large bot (thousands of shards), small enough to be a few MB at most.
AUDIT_MAXLEN: Final = 10_000

#: Dead tickets one run of the script drops at most from the head of a FIFO, so one
#: run stays short whatever was left behind; the rest go at the next runs.
MAX_DROPS: Final = 100

#: Audit entries :meth:`RedisQueue.status` reads back to find each key's last grant.
STATUS_SCAN: Final = 1000

_T = TypeVar("_T")

#: A grant that reached its waiter late (a stalled event loop, a slow network): if
#: the window is still this grant's, start it again from now, so the next grant of the
#: key comes a full window after this Identify is actually sent. 1: restamped; 0: the
#: window already ended or another grant holds it (the grant must not be used).
_RESTAMP_LUA: Final = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
return 0
"""

#: One grant attempt. Returns {status, ticket, remaining, total, budget_pttl, x, y}:
#: granted -> x = server ms of the grant; wait -> x = ms to wait, y = place in the
#: FIFO (0 = head); refused -> x = the floor.
_GRANT_LUA: Final = """
local bucket, waiters, tickets, alive, budget, audit, epoch_key =
  KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7]
local ticket = ARGV[1]
local window = tonumber(ARGV[2])
local alive_ms = tonumber(ARGV[3])
local key, shard, shards, owner = ARGV[4], ARGV[5], ARGV[6], ARGV[7]
local floor = tonumber(ARGV[8])
local fresh = ARGV[9] == '1'
local view_rem, view_total, view_reset = tonumber(ARGV[10]), tonumber(ARGV[11]), tonumber(ARGV[12])
local limit_period, maxlen, max_drops = tonumber(ARGV[13]), ARGV[14], tonumber(ARGV[15])

local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)

-- 1. The daily budget: merge the caller's view, refuse at the floor.
local running = view_rem < view_total and view_reset > 0
if redis.call('EXISTS', budget) == 0 then
  if running then
    redis.call('HSET', budget, 'remaining', view_rem, 'total', view_total)
    redis.call('PEXPIRE', budget, view_reset)
  else
    redis.call('HSET', budget, 'remaining', view_total, 'total', view_total)
  end
else
  local cur = tonumber(redis.call('HGET', budget, 'remaining'))
  if cur == nil or view_rem < cur then redis.call('HSET', budget, 'remaining', view_rem) end
  if fresh or redis.call('HEXISTS', budget, 'total') == 0 then
    redis.call('HSET', budget, 'total', view_total)
  end
  if running then
    local left = redis.call('PTTL', budget)
    if left < 0 or (fresh and left < view_reset) then redis.call('PEXPIRE', budget, view_reset) end
  end
end
local rem = tonumber(redis.call('HGET', budget, 'remaining'))
local total = tonumber(redis.call('HGET', budget, 'total'))
if rem <= floor then
  if ticket ~= '' then
    redis.call('ZREM', waiters, ticket)
    redis.call('HDEL', alive, ticket)
  end
  return {'refused', ticket, rem, total, redis.call('PTTL', budget), floor, 0}
end

-- 2. The ticket: first come, first served across processes; alive while refreshed.
if ticket == '' then ticket = tostring(redis.call('INCR', tickets)) end
redis.call('ZADD', waiters, ticket, ticket)
redis.call('HSET', alive, ticket, now + alive_ms)
local keep = 2 * alive_ms + window
for _, k in ipairs({waiters, alive}) do
  if redis.call('PTTL', k) < keep then redis.call('PEXPIRE', k, keep) end
end

-- 3. Drop the dead at the head.
for _ = 1, max_drops do
  local head = redis.call('ZRANGE', waiters, 0, 0)[1]
  if head == ticket then break end
  local deadline = tonumber(redis.call('HGET', alive, head))
  if deadline ~= nil and deadline > now then break end
  redis.call('ZREM', waiters, head)
  redis.call('HDEL', alive, head)
end
local rank = redis.call('ZRANK', waiters, ticket)

-- 4. Busy: the window of the last grant, or a Redis that may have lost it.
local busy = redis.call('PTTL', bucket)
local last = redis.call('GET', bucket)
if last then
  local at = tonumber(string.match(last, '^(%d+)'))
  if at ~= nil and at + window - now > busy then busy = at + window - now end
end
local epoch = tonumber(redis.call('GET', epoch_key))
if epoch == nil then
  epoch = now
  redis.call('SET', epoch_key, now)
end
if epoch + window - now > busy then busy = epoch + window - now end
if busy < 0 then busy = 0 end
if rank > 0 then
  return {'wait', ticket, rem, total, redis.call('PTTL', budget), busy + rank * window, rank}
end
if busy > 0 then
  return {'wait', ticket, rem, total, redis.call('PTTL', budget), busy, 0}
end

-- 5. Grant.
redis.call('SET', bucket, now .. ' ' .. shard .. ' ' .. owner, 'PX', window)
rem = redis.call('HINCRBY', budget, 'remaining', -1)
if redis.call('PTTL', budget) < 0 then redis.call('PEXPIRE', budget, limit_period) end
redis.call('ZREM', waiters, ticket)
redis.call('HDEL', alive, ticket)
redis.call('XADD', audit, 'MAXLEN', '~', maxlen, '*', 'event', 'grant', 'key', key, 'shard', shard,
  'total', shards, 'owner', owner, 'ms', now, 'remaining', rem)
return {'granted', ticket, rem, total, redis.call('PTTL', budget), now, 0}
"""

#: Gives back the budget unit of a grant whose ``acquire`` was cancelled before it
#: returned (no Identify was sent). Returns the new remaining, or -1.
_REFUND_LUA: Final = """
local budget, audit = KEYS[1], KEYS[2]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local rem = tonumber(redis.call('HGET', budget, 'remaining'))
local total = tonumber(redis.call('HGET', budget, 'total'))
if rem ~= nil and total ~= nil and rem < total then
  rem = redis.call('HINCRBY', budget, 'remaining', 1)
end
redis.call('XADD', audit, 'MAXLEN', '~', ARGV[5], '*', 'event', 'refund', 'key', ARGV[1], 'shard', ARGV[2],
  'total', ARGV[3], 'owner', ARGV[4], 'ms', now, 'remaining', rem or -1)
return rem or -1
"""

_GRANTED: Final = "granted"
_WAIT: Final = "wait"
_REFUSED: Final = "refused"


def epoch_key(keys: Keys) -> str:
    """The key holding when this Redis first saw the application's identify queue
    (server ms). Absent after a Redis restarted empty: no grant until one window
    after it is set again.

    Example::

        >>> epoch_key(Keys("mybot"))
        '{mybot}:idq:epoch'
    """
    return f"{keys.prefix}idq:epoch"


class LastGrant(TypedDict):
    """The last grant of one rate-limit key, as :meth:`RedisQueue.status` reports it.

    Example::

        >>> LastGrant(shard=3, total=16, owner="host-a:4242", ago=1.25)
        {'shard': 3, 'total': 16, 'owner': 'host-a:4242', 'ago': 1.25}
    """

    shard: int
    total: int
    owner: str
    ago: float


class RedisQueueStatus(TypedDict):
    """What :meth:`RedisQueue.status` returns: the shared state, read on the server.

    ``remaining``/``total`` are ``None`` before the first grant attempt created the
    counter; ``resets_in`` (seconds) is ``None`` while no daily window runs.
    ``waiting`` and ``last_grant`` are per rate-limit key (0 .. max_concurrency-1).

    Example::

        >>> status: RedisQueueStatus = {
        ...     "app": "mybot", "max_concurrency": 1, "remaining": 990, "total": 1000,
        ...     "resets_in": 3600.0, "floor": 50, "waiting": {0: 2}, "last_grant": {0: None}}
        >>> status["remaining"] - status["floor"]  # identifies left before refusals
        940
    """

    app: str
    max_concurrency: int
    remaining: int | None
    total: int | None
    resets_in: float | None
    floor: int
    waiting: dict[int, int]
    last_grant: dict[int, LastGrant | None]


class _Reply:
    """One answer of the grant script, decoded."""

    __slots__ = ("budget_ms", "rank", "remaining", "status", "ticket", "total", "x")

    def __init__(self, raw: Any) -> None:
        self.status = _text(raw[0])
        self.ticket = _text(raw[1])
        self.remaining = int(raw[2])
        self.total = int(raw[3])
        self.budget_ms = int(raw[4])
        self.x = int(raw[5])
        self.rank = int(raw[6])


class _Wait:
    """One pending ``acquire``: its key, its ticket ('' until the server gave one),
    and the script run on its way, if any."""

    __slots__ = ("inflight", "key", "shard", "ticket")

    def __init__(self, shard: ShardId) -> None:
        self.shard = shard
        self.key = 0
        self.ticket = ""
        self.inflight: asyncio.Future[Any] | None = None


def _text(value: object) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)



def _default_owner() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"



class RedisQueue:
    """Identify grants shared by every process and machine using the same Redis and
    ``app``: one per rate-limit key per ``identify_interval + margin``, FIFO within
    a key across processes, never below the daily budget's ``floor``.

    ``redis`` is a URL (``redis://``, ``rediss://``, ``unix://``; the queue makes its
    own client and :meth:`aclose` closes it) or a ``redis.asyncio.Redis`` client (not
    closed by the queue). ``max_concurrency``, ``remaining``, ``total`` and
    ``reset_after`` (seconds) are Discord's ``session_start_limit`` as for
    :class:`~rxgateway.queue.InMemoryQueue`; ``max_concurrency`` 0 turns the queue
    off (every request is granted at once, Redis is not asked). ``floor`` is the
    budget never spent (default: 5 % of ``total``, at least 1). The constructor's
    budget numbers are a starting view: they can lower the shared counter, never raise
    it, and only :meth:`update` (Discord's word) replaces its ``total`` or pushes its
    reset later. ``owner`` names this
    process in the audit stream (default ``hostname:pid``). Every process of one bot
    should use the same ``identify_interval``, ``margin`` and ``max_concurrency``.

    Example::

        >>> queue = RedisQueue("redis://:secret@redis.internal:6379/0", app="mybot",
        ...                    max_concurrency=16, remaining=1990, total=2000, reset_after=3600.0)
        >>> queue
        RedisQueue('redis://:***@redis.internal:6379/0', app='mybot', max_concurrency=16, floor=100)
    """

    def __init__(
        self,
        redis: str | Redis,
        *,
        app: str = DEFAULT_APP,
        max_concurrency: int = 1,
        remaining: int = DEFAULT_TOTAL,
        reset_after: float = LIMIT_PERIOD,
        total: int = DEFAULT_TOTAL,
        identify_interval: float = IDENTIFY_INTERVAL,
        margin: float = IDENTIFY_MARGIN,
        limit_period: float = LIMIT_PERIOD,
        floor: int | None = None,
        owner: str | None = None,
    ) -> None:
        check_limits(max_concurrency, remaining, reset_after, total)
        if not (identify_interval >= 0 and margin >= 0 and limit_period > 0):
            raise ValueError("identify_interval and margin must be >= 0, limit_period > 0")
        if floor is not None and floor < 0:
            raise ValueError(f"floor must be >= 0, got {floor}")
        self._keys = Keys(app)
        self._epoch = epoch_key(self._keys)
        if isinstance(redis, str):
            self._where = redact_url(redis)
            self._password: str | None = urlsplit(redis).password
            self._redis: Redis = connect(redis, socket_connect_timeout=COMMAND_TIMEOUT, socket_timeout=COMMAND_TIMEOUT)
            self._owns_client = True
        else:
            self._where, self._password = client_where(redis)
            self._redis = redis
            self._owns_client = False
        self._grant = self._redis.register_script(_GRANT_LUA)
        self._refund = self._redis.register_script(_REFUND_LUA)
        self._restamp = self._redis.register_script(_RESTAMP_LUA)
        #: A grant whose round trip took longer than this is restamped (see _RESTAMP_LUA).
        self._late_after = margin / 2
        self._max_concurrency = max_concurrency
        self._window_ms = max(1, round((identify_interval + margin) * 1000))
        self._alive_ms = max(self._window_ms, round(MIN_ALIVE * 1000))
        self._limit_period_ms = round(limit_period * 1000)
        self._floor_given = floor
        self._owner = owner if owner is not None else _default_owner()
        self._cleanups: set[asyncio.Future[None]] = set()
        # The view of the daily budget sent with every run (see the module docstring).
        self._view_remaining = remaining
        self._view_total = total
        self._view_deadline: float | None = None
        # The constructor's numbers are a starting view, often only the defaults: they
        # may lower the shared counter but not replace its total or its reset time.
        self._fresh = False
        self._fresh_generation = 0
        self._set_view(remaining, reset_after, total)

    def __repr__(self) -> str:
        return (
            f"RedisQueue({self._where!r}, app={self.app!r}, max_concurrency={self._max_concurrency}, "
            f"floor={self.floor})"
        )

    # -- properties --------------------------------------------------------------

    @property
    def app(self) -> str:
        """The application's key prefix in Redis (``{app}:``).

        Example::

            >>> RedisQueue("redis://127.0.0.1:6379/0", app="mybot").app
            'mybot'
        """
        return self._keys.app

    @property
    def max_concurrency(self) -> int:
        """Rate-limit keys; 0 when the queue is off.

        Example::

            >>> RedisQueue("redis://127.0.0.1:6379/0", max_concurrency=16).max_concurrency
            16
        """
        return self._max_concurrency

    @property
    def owner(self) -> str:
        """This process's name in the audit stream.

        Example::

            >>> RedisQueue("redis://127.0.0.1:6379/0", owner="worker-3").owner
            'worker-3'
        """
        return self._owner

    @property
    def floor(self) -> int:
        """The part of the daily budget never spent: the one given, else 5 % of the
        latest known ``total`` (at least 1).

        Example::

            >>> RedisQueue("redis://127.0.0.1:6379/0", total=2000, remaining=2000).floor
            100
        """
        if self._floor_given is not None:
            return self._floor_given
        return max(1, int(self._view_total * FLOOR_FRACTION))

    @property
    def remaining(self) -> int:
        """This process's latest view of the shared daily budget (as of its last
        grant attempt, or the last :meth:`update`); :meth:`status` reads the server.

        Example::

            >>> RedisQueue("redis://127.0.0.1:6379/0", remaining=7, total=10).remaining
            7
        """
        self._expire_view(time.monotonic())
        return self._view_remaining

    @property
    def keys(self) -> Keys:
        """The key names the queue uses.

        Example::

            >>> RedisQueue("redis://127.0.0.1:6379/0", app="mybot").keys.bucket(0)
            '{mybot}:idq:bucket:0'
        """
        return self._keys

    # -- the SessionQueue contract -------------------------------------------------

    async def acquire(self, shard: ShardId) -> None:
        """Wait until ``shard`` may Identify, then return: the grant is spent.

        Raises :class:`~rxgateway.errors.IdentifyQueueError` when the daily budget is
        at its floor (the message says how much is left and when it resets) or when
        Redis fails or does not answer within :data:`COMMAND_TIMEOUT`. Cancelling
        consumes nothing.

        Example::

            >>> async def identify(queue: RedisQueue) -> None:
            ...     await queue.acquire(ShardId(3, 16))
            ...     ...  # send Identify now
        """
        if self._max_concurrency == 0:
            return
        wait = _Wait(shard)
        try:
            while True:
                max_concurrency = self._max_concurrency
                if max_concurrency == 0:  # update() turned the queue off: granted
                    await self._leave(wait)
                    return
                key = shard.number % max_concurrency
                if wait.ticket and key != wait.key:
                    # update() changed max_concurrency: move to the new key's FIFO,
                    # keeping the ticket, so the arrival order holds there too.
                    await self._leave(wait, keep_ticket=True)
                wait.key = key
                sent = time.monotonic()
                reply = await self._attempt(wait)
                if reply.status == _GRANTED:
                    log.debug("identify granted to shard %s (key %s) at server ms %s", shard, key, reply.x)
                    if time.monotonic() - sent <= self._late_after or await self._restamped(wait, reply):
                        return
                    continue  # too late to use safely: wait for another grant

                if reply.status == _REFUSED:
                    raise IdentifyQueueError(self._refusal(shard, reply))
                await asyncio.sleep(self._pause(reply.x))
        except asyncio.CancelledError:
            cleanup = asyncio.ensure_future(self._abandon(wait))
            self._cleanups.add(cleanup)
            cleanup.add_done_callback(self._cleanups.discard)
            await asyncio.shield(cleanup)
            raise

    def update(self, *, max_concurrency: int, remaining: int, reset_after: float, total: int) -> None:
        """Take fresh ``session_start_limit`` numbers (``reset_after`` in seconds).

        They travel with the next grant attempt of any waiter of this queue; the
        shared counter then keeps the lower ``remaining`` of its own and these (other
        processes may have spent some since Discord counted). A new
        ``max_concurrency`` moves the waiters to their new keys, in arrival order.

        Example::

            >>> queue = RedisQueue("redis://127.0.0.1:6379/0")
            >>> queue.update(max_concurrency=4, remaining=999, reset_after=600.0, total=1000)
            >>> queue.max_concurrency, queue.remaining
            (4, 999)
        """
        check_limits(max_concurrency, remaining, reset_after, total)
        self._max_concurrency = max_concurrency
        self._set_view(remaining, reset_after, total)
        self._fresh = True
        self._fresh_generation += 1

    # -- status and lifetime -----------------------------------------------------

    async def status(self) -> RedisQueueStatus:
        """The shared state, read from Redis: budget, waiters and last grant per key.

        Raises :class:`~rxgateway.errors.IdentifyQueueError` when Redis fails.

        Example::

            >>> async def show(queue: RedisQueue) -> None:
            ...     status = await queue.status()
            ...     print(f"{status['remaining']}/{status['total']} left, floor {status['floor']}")
        """
        keys = self._keys
        count = self._max_concurrency
        pipe = self._redis.pipeline(transaction=False)
        pipe.time()
        pipe.hgetall(keys.budget)
        pipe.pttl(keys.budget)
        pipe.hgetall(keys.alive)
        pipe.xrevrange(keys.audit, count=STATUS_SCAN)
        for key in range(count):
            pipe.zrange(keys.waiters(key), 0, -1)
        results = await self._guard(pipe.execute())
        seconds, micros = results[0]
        now_ms = int(seconds) * 1000 + int(micros) // 1000
        budget = {_text(k): int(v) for k, v in (results[1] or {}).items()}
        budget_ms = int(results[2])
        alive = {_text(k): int(float(_text(v))) for k, v in (results[3] or {}).items()}
        last_grant: dict[int, LastGrant | None] = dict.fromkeys(range(count))
        for _id, fields in results[4] or []:
            entry = {_text(k): _text(v) for k, v in fields.items()}
            if entry.get("event") != "grant":
                continue
            key = int(entry["key"])
            if key in last_grant and last_grant[key] is None:
                last_grant[key] = LastGrant(
                    shard=int(entry["shard"]),
                    total=int(entry["total"]),
                    owner=entry["owner"],
                    ago=max(0, now_ms - int(entry["ms"])) / 1000,
                )
        waiting = {
            key: sum(1 for ticket in results[5 + key] if alive.get(_text(ticket), 0) > now_ms) for key in range(count)
        }
        return RedisQueueStatus(
            app=self.app,
            max_concurrency=count,
            remaining=budget.get("remaining"),
            total=budget.get("total"),
            resets_in=budget_ms / 1000 if budget_ms > 0 else None,
            floor=self.floor,
            waiting=waiting,
            last_grant=last_grant,
        )

    async def aclose(self) -> None:
        """Let pending clean-ups finish, and close the client if the queue made it.

        Example::

            >>> async def main() -> None:
            ...     queue = RedisQueue("redis://127.0.0.1:6379/0")
            ...     await queue.aclose()
        """
        if self._cleanups:
            await asyncio.gather(*self._cleanups, return_exceptions=True)
        if self._owns_client:
            await self._redis.aclose()

    async def __aenter__(self) -> RedisQueue:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    # -- internals ---------------------------------------------------------------

    def _set_view(self, remaining: int, reset_after: float, total: int) -> None:
        self._view_remaining = remaining
        self._view_total = total
        # Discord's reset_after times a window already running; a full budget has none.
        self._view_deadline = time.monotonic() + reset_after if remaining < total else None

    def _expire_view(self, now: float) -> None:
        if self._view_deadline is not None and now >= self._view_deadline:
            self._view_remaining = self._view_total
            self._view_deadline = None

    def _learn(self, reply: _Reply, generation: int, now: float) -> None:
        """Take the server's numbers as this process's view, unless update() brought
        newer ones meanwhile (those must reach the server first)."""
        if generation != self._fresh_generation:
            return
        self._fresh = False
        self._view_remaining = reply.remaining
        self._view_total = reply.total
        self._view_deadline = now + reply.budget_ms / 1000 if reply.budget_ms > 0 else None

    async def _attempt(self, wait: _Wait) -> _Reply:
        """Run the grant script once for ``wait``. Cancellation leaves the run going
        (shielded, in ``wait.inflight``) for :meth:`_abandon` to settle."""
        now = time.monotonic()
        self._expire_view(now)
        generation = self._fresh_generation
        deadline = self._view_deadline
        reset_ms = -1 if deadline is None else max(1, math.ceil((deadline - now) * 1000))
        keys = self._keys
        call = asyncio.ensure_future(
            self._guard(
                self._grant(
                    keys=[
                        keys.bucket(wait.key), keys.waiters(wait.key), keys.tickets, keys.alive,
                        keys.budget, keys.audit, self._epoch,
                    ],
                    args=[
                        wait.ticket, self._window_ms, self._alive_ms, wait.key,
                        wait.shard.number, wait.shard.total, self._owner, self.floor,
                        1 if self._fresh else 0, self._view_remaining, self._view_total, reset_ms,
                        self._limit_period_ms, AUDIT_MAXLEN, MAX_DROPS,
                    ],
                )
            )
        )  # fmt: skip
        wait.inflight = call
        try:
            raw = await asyncio.shield(call)
        except asyncio.CancelledError:
            raise
        except BaseException:
            wait.inflight = None
            raise
        wait.inflight = None
        reply = _Reply(raw)
        wait.ticket = "" if reply.status != _WAIT else reply.ticket
        self._learn(reply, generation, time.monotonic())
        return reply

    async def _restamped(self, wait: _Wait, reply: _Reply) -> bool:
        """A grant came back more than half the margin after it was asked for: the
        Identify may reach Discord late, closer to the next grant of its key than the
        window. Restart the window from now if it is still this grant's (True: send);
        if it already ended, the grant is dropped (False), with its budget unit, which
        costs less than an op 9 for identifying too fast."""
        value = f"{reply.x} {wait.shard.number} {self._owner}"
        try:
            restamped = int(await self._guard(self._restamp(keys=[self._keys.bucket(wait.key)], args=[value, self._window_ms])))
        except IdentifyQueueError:
            restamped = 0
        if not restamped:
            log.warning("identify grant for shard %s came back after its window ended; asking again", wait.shard)
        return bool(restamped)

    def _pause(self, hint_ms: int) -> float:
        """Seconds to sleep before the next run: the script's hint, but short enough
        to refresh the ticket well within its alive period, plus jitter."""
        refresh = self._alive_ms / 1000 / REFRESHES_PER_ALIVE
        return min(max(hint_ms, 0) / 1000, refresh) + random.uniform(0, JITTER)

    def _refusal(self, shard: ShardId, reply: _Reply) -> str:
        if reply.budget_ms > 0:
            when = f"it resets in {reply.budget_ms / 1000:.0f} s"
        else:
            when = "no reset is scheduled (call update() with fresh numbers from GET /gateway/bot)"
        return (
            f"identify refused for shard {shard}: the daily session-start budget is at its safety floor "
            f"({reply.remaining} remaining of {reply.total}, floor {reply.x}); {when}. At Discord's limit "
            f"every session is ended and the token reset, so the queue stops first (app {self.app!r}, "
            f"Redis {self._where})"
        )

    async def _guard(self, awaitable: Awaitable[_T]) -> _T:
        """Await a Redis call for at most :data:`COMMAND_TIMEOUT`; its failure becomes
        an :class:`~rxgateway.errors.IdentifyQueueError` naming the redacted URL."""
        from redis.exceptions import RedisError

        try:
            async with asyncio.timeout(COMMAND_TIMEOUT):
                return await awaitable
        except (RedisError, OSError, TimeoutError) as exc:
            detail = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
            if self._password:
                detail = detail.replace(self._password, "***")
            raise IdentifyQueueError(
                f"the Redis identify queue at {self._where} (app {self.app!r}) failed: {detail}"
            ) from exc

    async def _leave(self, wait: _Wait, *, keep_ticket: bool = False) -> None:
        """Take ``wait``'s ticket out of its FIFO (and, unless moving, out of the
        alive hash)."""
        if not wait.ticket:
            return
        pipe = self._redis.pipeline(transaction=True)
        pipe.zrem(self._keys.waiters(wait.key), wait.ticket)
        if not keep_ticket:
            pipe.hdel(self._keys.alive, wait.ticket)
        await self._guard(pipe.execute())
        if not keep_ticket:
            wait.ticket = ""

    async def _abandon(self, wait: _Wait) -> None:
        """After a cancellation: settle the run in flight (a grant is refunded), then
        remove the ticket. Best effort: a ticket left behind dies with its alive period."""
        try:
            call, wait.inflight = wait.inflight, None
            if call is not None:
                try:
                    reply = _Reply(await call)
                except Exception:
                    return  # no answer: the alive period retires the ticket, if any
                if reply.status == _GRANTED:
                    await self._guard(
                        self._refund(
                            keys=[self._keys.budget, self._keys.audit],
                            args=[wait.key, wait.shard.number, wait.shard.total, self._owner, AUDIT_MAXLEN],
                        )
                    )
                    return
                wait.ticket = reply.ticket if reply.status == _WAIT else ""
            await self._leave(wait)
        except Exception as exc:
            log.debug("identify queue: cleaning up a cancelled wait failed: %r", exc)
