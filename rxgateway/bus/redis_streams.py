"""The bus on Redis Streams: :class:`RedisStreamsBroker` (reference/scaling.md §1.1, §3.1).

It keeps :class:`~rxgateway.bus.broker.Broker`'s contract with nothing but Redis
(6.2 or newer: ``XPENDING ... IDLE``, ``XTRIM MINID``), and closes the two gaps of
``@discordjs/brokers``: publishing is deduplicated by event key, and every stream is
bounded.

**One stream per event type**, ``{app}:events:MESSAGE_CREATE``: a subscriber reads
only the streams of the types it asked for, so a consumer of ``MESSAGE_CREATE``
never receives (nor downloads) a ``PRESENCE_UPDATE``. Each entry holds
:meth:`BusEvent.fields() <rxgateway.bus.bus_event.BusEvent.fields>` plus ``payload``
(the dispatch's bytes). The set ``{app}:events:types`` names every type ever
published; a subscriber to every type (``names=None``) reads it again every
:data:`TYPES_REFRESH` seconds and adds the streams of new types (from their first
entry: a type absent at its start was first published after it). Order holds within
a type, not across types: a ``MESSAGE_UPDATE`` may be read before the
``MESSAGE_CREATE`` it follows.

**Publishing** is one Lua script per :data:`PUBLISH_CHUNK` events, all in one round
trip. For each event whose key ``{app}:dedup:<key>`` does not exist it runs
``XADD <stream> MAXLEN ~ <maxlen> *`` then ``SET {app}:dedup:<key> 1 PX
<dedup_window>`` (atomic: nothing runs between them): a resume replaying keys already
published stores nothing twice. ``publish`` returns how many were new.

**Subscribing.** A subscriber's start (:meth:`RedisSubscription.start`, or its first
read) is one moment for all its streams: their last entries, read in one
transaction. ``group=None`` is fan-out: ``XREAD BLOCK`` from there on; nothing is
pending, :meth:`RedisDelivery.ack` does nothing and :meth:`RedisDelivery.retry` hands
the event to the same subscriber again (it alone sees it). A named group is one
consumer group per stream (``XREADGROUP ... >``): each entry goes to one member. A
**new group starts at its first member's start** (``XGROUP CREATE`` at those last
entries, like ``$``): a new service does not receive a backlog of old events; an
existing group goes on where it stands. A group lost with a Redis restarted empty is
created again from the beginning of the (new) stream, so nothing published since is
missed. An entry stays pending until its consumer acks it (after its handler; the acks a
subscriber issues together share one round trip); every
``claim_idle / 2`` seconds each member takes entries idle for more than
``claim_idle`` (a dead consumer's, a consumer killed mid-handler) with
``XPENDING IDLE`` + ``XCLAIM`` in one script and delivers them again
(``redelivered``). :meth:`RedisDelivery.retry` in a group marks the entry idle at
once (``XCLAIM ... IDLE``, if no other member claimed it meanwhile), so the next
claim pass of any member takes it. An entry
delivered ``max_deliveries`` times without an ack is a poison message: it is copied to
the dead-letter stream ``{app}:dead``, acked and logged, never delivered again.
Entries that are malformed (a field missing, a type that is not the stream's) are
logged, acked and skipped. Events are delivered at least once; a consumer that must
act once per event drops the keys it has handled (``redelivered`` says when to look).

**Commands** go on one stream, ``{app}:commands``, read by a consumer group on the
gateway side (:meth:`RedisStreamsBroker.serve_commands`); nothing else is ever read
as a command. An entry is ``{id, shard, data, ttl}``. Each is checked before it is
yielded: ``data`` at most :data:`~rxgateway.bus.bus_event.MAX_COMMAND_BYTES`, a JSON
object with an integer ``op`` (not one of :data:`REFUSED_OPS`: identify, resume,
heartbeat and the gateway's own) and a ``d``; ``shard`` an integer >= 0; not older than
its ``ttl`` (the sender's timeout, so a sender that gave up never has its command sent
later). A refused command is logged (its id, shard and size, never its content) and
answered with the reason. :meth:`RedisCommandDelivery.answer` pushes the answer to
``{app}:answer:<id>`` (a list that expires after :data:`ANSWER_TTL`) and acks, in one
transaction; :meth:`RedisStreamsBroker.send_command` adds the entry and waits on that
list with ``BLPOP``, raising :class:`~rxgateway.errors.CommandsNotSentError` on a
refusal, a negative answer or no answer within its timeout.

**Limits** (all per application, all settable):

- an event type's stream keeps ``maxlen`` entries (default :data:`DEFAULT_MAXLEN`,
  100 000), trimmed approximately (``MAXLEN ~``: up to one macro node, 100 entries by
  default, more); with ``max_age`` also none older than that (``MINID ~``);
- a dedup key lives ``dedup_window`` seconds (default :data:`DEFAULT_DEDUP_WINDOW`,
  600 s: a session older than that cannot resume, so no replay comes later) and
  costs about 100 bytes: at 1 000 events/s, about 60 MB;
- the command stream keeps :data:`COMMANDS_MAXLEN` entries, the dead-letter stream
  :data:`DEAD_MAXLEN`, and an answer lives :data:`ANSWER_TTL` seconds;
- a group member reads up to ``count`` entries ahead (default :data:`DEFAULT_COUNT`)
  and must ack each within ``claim_idle`` (default :data:`DEFAULT_CLAIM_IDLE`, 30 s)
  of its read, or another member takes it (an entry still unyielded by then is not
  yielded: the member that claims it delivers it);
- publishing never waits for a consumer: a slow fan-out subscriber that falls more
  than ``maxlen`` entries behind loses the oldest ones (trimmed); a slow group
  only grows its pending lists.

**Security.** Whoever can ``XADD`` to ``{app}:commands`` can make the bot send gateway
commands; whoever can write ``{app}:events:*`` can feed consumers events. Give Redis a
password or an ACL user (``redis://user:password@host:6379/0``) and TLS
(``rediss://``; a private CA through a client made with
``connect(url, ssl_ca_certs=...)`` (:func:`~rxgateway.cluster.redis_link.connect`)
and handed in). Keys all start with ``{app}:``, so ACL key patterns separate the roles. A
consumer that may read events (fan-out or in a group) but can neither send commands
nor publish (the tests run this very rule)::

    ACL SETUSER reader on >pw ~{mybot}:events:* ~{mybot}:dead +ping +hello +time
        +multi +exec +smembers +xrevrange +xread +xreadgroup +xack +xclaim +xpending
        +xgroup|create +evalsha +script|exists +script|load +xadd

Its ``XADD`` reaches only the keys listed (the claim script writes the dead-letter
stream); Redis 6 cannot make a key pattern read-only, so it could still append to an
event stream by hand (Redis 7: ``%R~{mybot}:events:*``). A command sender also needs
``~{mybot}:commands ~{mybot}:answer:* +del +blpop``; the gateway side needs
``~{mybot}:*``. The password is never printed: reprs and errors show
:func:`~rxgateway.cluster.redis_link.redact_url`'s form.

Example::

    broker = RedisStreamsBroker("rediss://:secret@redis.internal:6380/0", app="mybot")
    await broker.publish(events)                       # the gateway side
    async for delivery in broker.subscribe({"MESSAGE_CREATE"}, group="moderation", consumer="worker-1"):
        await handle(delivery.event)
        await delivery.ack()
"""

from __future__ import annotations

import asyncio
import logging
import math
import re
import time
import weakref
from collections import deque
from collections.abc import Collection, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Final, Generic, Self, TypeVar
from urllib.parse import urlsplit

import orjson

from ..cluster.redis_link import DEFAULT_APP, Keys, client_where, connect, redact_url
from ..errors import BusError, CommandsNotSentError
from ..store.session_store import SESSION_MAX_AGE
from .broker import Broker, BusCommand, Published
from .bus_event import COMMAND_ID, BusEvent, check_event_name, command_problem
from .bus_event import REFUSED_OPS as REFUSED_OPS  # the opcodes a command may not carry

if TYPE_CHECKING:
    from redis.asyncio import Redis

__all__ = [
    "ANSWER_TTL",
    "CLAIM_COUNT",
    "COMMANDS_MAXLEN",
    "COMMAND_TIMEOUT",
    "DEAD_MAXLEN",
    "DEFAULT_BLOCK",
    "DEFAULT_CLAIM_IDLE",
    "DEFAULT_COMMAND_TTL",
    "DEFAULT_COUNT",
    "DEFAULT_DEDUP_WINDOW",
    "DEFAULT_MAXLEN",
    "DEFAULT_MAX_DELIVERIES",
    "PUBLISH_CHUNK",
    "REFUSED_OPS",
    "TYPES_REFRESH",
    "RedisCommandDelivery",
    "RedisCommandService",
    "RedisDelivery",
    "RedisStreamsBroker",
    "RedisSubscription",
    "StreamKeys",
]

log = logging.getLogger("rxgateway.bus.redis")

#: Entries kept per event type's stream. At ~1 kB a dispatch, 100 MB for the busiest
#: type at most; a few minutes of PRESENCE_UPDATE for a large bot, hours for most types.
DEFAULT_MAXLEN: Final = 100_000

#: Seconds a published key is remembered (a later publish of it is a duplicate). A
#: session older than the session store's max age (10 min) cannot resume, so no
#: replay of its events comes later than this.
DEFAULT_DEDUP_WINDOW: Final = SESSION_MAX_AGE

#: Seconds an entry may stay unacknowledged in a group before another member takes it:
#: a handler's time budget, and how late a dead consumer's entries are redelivered.
DEFAULT_CLAIM_IDLE: Final = 30.0

#: Claim passes per ``claim_idle``: an abandoned entry is redelivered within 1.5 x
#: ``claim_idle`` (plus one read's block).
CLAIM_PASSES_PER_IDLE: Final = 2

#: Deliveries of one entry in a group before it is dead-lettered: a message that kills
#: or fails every consumer does not circulate forever. The NATS broker's limit, so both
#: behave alike (@discordjs/brokers stops at 3, which a rolling restart can reach).
DEFAULT_MAX_DELIVERIES: Final = 10

#: Seconds one blocking read waits for entries. It bounds how late a claim pass or a
#: new type's stream is noticed; an idle subscriber costs one round trip per block.
DEFAULT_BLOCK: Final = 1.0

#: Entries read per stream per read: one round trip for a burst, few enough to handle
#: well within ``claim_idle``.
DEFAULT_COUNT: Final = 100

#: Pending entries one claim pass takes per stream at most (the rest at the next pass).
CLAIM_COUNT: Final = 100

#: Events per run of the publish script: each run does a SET and an XADD per event,
#: about a millisecond for 200, so one batch never holds Redis up for long.
PUBLISH_CHUNK: Final = 200

#: Seconds between two reads of the set of type names by a subscriber to every type.
TYPES_REFRESH: Final = 1.0

#: Entries kept in the command stream: commands older than their ttl are refused
#: anyway, so this is only a bound on a flood (an attacker, a runaway sender).
COMMANDS_MAXLEN: Final = 10_000

#: Entries kept in the dead-letter stream ``{app}:dead``: for inspection, not a queue.
DEAD_MAXLEN: Final = 10_000

#: Seconds an answer waits for its sender (who is normally blocked on it already): only
#: answers nobody reads (the sender gave up) live that long.
ANSWER_TTL: Final = 60.0

#: Seconds a command waits for the gateway when its entry carries no ttl (an entry
#: written by hand): as long as an answer is kept.
DEFAULT_COMMAND_TTL: Final = ANSWER_TTL

#: Seconds one non-blocking Redis call may take before it is an error: a healthy
#: Redis answers in microseconds; redis-py's reconnect retries fit inside.
COMMAND_TIMEOUT: Final = 5.0

#: Seconds of slack on top of a blocking call's own timeout before it is abandoned.
BLOCK_MARGIN: Final = COMMAND_TIMEOUT

#: A failing read is retried after 0.1 s, doubling up to 5 s while Redis stays away.
RETRY_BASE: Final = 0.1
RETRY_CAP: Final = 5.0

#: Longest refusal reason sent back to a sender, or logged for a malformed entry.
_MAX_REASON: Final = 300
#: Group and consumer names: printable ASCII without spaces.
_NAME = re.compile(r"^[!-~]{1,128}$")
_MS: Final = 1000

#: One run per chunk of events. Returns how many were new.
_PUBLISH_LUA: Final = """
-- KEYS[1]: the set of type names; then per event its dedup key and its stream.
-- ARGV: dedup window ms, maxlen, max age ms (0: none), fields per event (n);
--       then per event its type name and its n field strings.
local window, maxlen, age, width = ARGV[1], ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4])
local minid = nil
if age > 0 then
  local t = redis.call('TIME')
  local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
  minid = string.format('%.0f', math.max(now - age, 0)) .. '-0'
end
local new, a, trimmed = 0, 5, {}
for i = 2, #KEYS, 2 do
  if redis.call('EXISTS', KEYS[i]) == 0 then
    -- Stored first, remembered after: a failing XADD leaves no key behind to skip a retry.
    local stream = KEYS[i + 1]
    redis.call('XADD', stream, 'MAXLEN', '~', maxlen, '*', unpack(ARGV, a + 1, a + width))
    redis.call('SET', KEYS[i], '1', 'PX', window)
    redis.call('SADD', KEYS[1], ARGV[a])
    if minid and not trimmed[stream] then
      redis.call('XTRIM', stream, 'MINID', '~', minid)
      trimmed[stream] = true
    end
    new = new + 1
  end
  a = a + width + 1
end
return new
"""

#: One claim pass over one stream of a group. Returns {gone, {dead ids}, {{id,
#: deliveries, {field, value, ...}}, ...}}: gone = pending entries trimmed away
#: (acked: nothing left to deliver), dead = delivered max_deliveries times (copied to
#: the dead-letter stream, acked), then the entries now this consumer's.
_CLAIM_LUA: Final = """
-- KEYS[1]: a stream, KEYS[2]: the dead-letter stream.
-- ARGV: group, consumer, min idle ms, count, max deliveries, dead-letter maxlen.
local stream, dead = KEYS[1], KEYS[2]
local group, consumer, idle = ARGV[1], ARGV[2], ARGV[3]
local max_deliveries = tonumber(ARGV[5])
local pending = redis.call('XPENDING', stream, group, 'IDLE', idle, '-', '+', ARGV[4])
local gone, buried, out = 0, {}, {}
for _, p in ipairs(pending) do
  local id, deliveries = p[1], tonumber(p[4])
  local entry = redis.call('XCLAIM', stream, group, consumer, idle, id)[1]
  if not entry then
    -- Trimmed (MAXLEN) while pending: Redis 6 claims a nil entry, 7 drops it.
    redis.call('XACK', stream, group, id)
    gone = gone + 1
  elseif deliveries >= max_deliveries then
    redis.call('XADD', dead, 'MAXLEN', '~', ARGV[6], '*', 'dead_stream', stream, 'dead_id', id,
      'dead_group', group, 'dead_deliveries', deliveries, unpack(entry[2]))
    redis.call('XACK', stream, group, id)
    buried[#buried + 1] = id
  else
    out[#out + 1] = {id, deliveries + 1, entry[2]}
  end
end
return {gone, buried, out}
"""

#: Makes an entry claimable at once (``retry``, or read but never yielded), only while it
#: is still this consumer's: one another member claimed meanwhile is left to it.
_RELEASE_LUA: Final = """
-- KEYS[1]: a stream. ARGV: group, consumer, entry id, idle ms.
local mine = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[3], ARGV[3], 1, ARGV[2])
if #mine == 0 then return 0 end
redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[2], 0, ARGV[3], 'IDLE', ARGV[4], 'JUSTID')
return 1
"""

#: Counts a stream's entries after an id, without sending them: Redis 6.2's ``XINFO
#: GROUPS`` has no ``lag`` (7.0 added it). Returns {entries counted, last id counted}.
_COUNT_AFTER_LUA: Final = """
-- KEYS[1]: a stream. ARGV: an exclusive start '(<id>', the most entries to count.
local entries = redis.call('XRANGE', KEYS[1], ARGV[1], '+', 'COUNT', ARGV[2])
local n = #entries
if n == 0 then return {0, ''} end
return {n, entries[n][1]}
"""

#: Entries one run of the counting script reads at most (each run holds Redis a few
#: milliseconds at most; a stream of ``maxlen`` entries takes ``maxlen / LAG_CHUNK`` runs).
LAG_CHUNK: Final = 5000

_Item = TypeVar("_Item")


class StreamKeys:
    """The key names of one application's bus in Redis, all under ``{app}:`` (one
    Redis Cluster hash slot, so a script may touch any of them).

    Example::

        >>> keys = StreamKeys("mybot")
        >>> keys.events("MESSAGE_CREATE"), keys.types, keys.commands
        ('{mybot}:events:MESSAGE_CREATE', '{mybot}:events:types', '{mybot}:commands')
        >>> keys.dedup("3:9f1c:42"), keys.answer("c-1"), keys.dead
        ('{mybot}:dedup:3:9f1c:42', '{mybot}:answer:c-1', '{mybot}:dead')
    """

    __slots__ = ("app", "prefix")

    def __init__(self, app: str = DEFAULT_APP) -> None:
        keys = Keys(app)  # validates the name
        self.app = keys.app
        self.prefix = keys.prefix

    def events(self, name: str) -> str:
        """The stream of event type ``name``."""
        return f"{self.prefix}events:{check_event_name(name)}"

    @property
    def types(self) -> str:
        """The set of every event type name ever published."""
        return f"{self.prefix}events:types"

    def dedup(self, key: str) -> str:
        """Present while event key ``key`` (``shard:session:sequence``) counts as published."""
        return f"{self.prefix}dedup:{key}"

    @property
    def commands(self) -> str:
        """The command stream (the only place commands are read from)."""
        return f"{self.prefix}commands"

    def answer(self, command_id: str) -> str:
        """The list the answer to command ``command_id`` is pushed to."""
        return f"{self.prefix}answer:{command_id}"

    @property
    def dead(self) -> str:
        """The dead-letter stream: entries delivered ``max_deliveries`` times unacked."""
        return f"{self.prefix}dead"

    def __repr__(self) -> str:
        return f"StreamKeys({self.app!r})"


# ----------------------------------------------------------------------- helpers


def _text(value: object) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _raw(value: object) -> bytes:
    if isinstance(value, bytes):
        return value
    return str(value).encode()


def _field_map(raw: object) -> dict[str, bytes]:
    """Stream entry fields as redis-py gives them (a dict, or a flat list from a
    script) as ``{name: bytes}``. ``ValueError`` when there are none."""
    if isinstance(raw, Mapping):
        return {_text(k): _raw(v) for k, v in raw.items()}
    if isinstance(raw, (list, tuple)) and len(raw) % 2 == 0:
        return {_text(raw[i]): _raw(raw[i + 1]) for i in range(0, len(raw), 2)}
    raise ValueError("an entry without fields")


def _names(raw: Iterable[object]) -> list[str]:
    """The valid event type names among the members of the set of types."""
    names = []
    for value in raw:
        try:
            names.append(check_event_name(_text(value)))
        except ValueError:
            log.error("ignored an invalid type name in the set of types: %s", _short(repr(value)))
    return sorted(names)


def _valid_name(event: BusEvent) -> bool:
    try:
        check_event_name(event.name)
    except ValueError:
        log.error("an event with an invalid type name was not published (%s, %s)", event.key, _short(repr(event.name)))
        return False
    return True


def _group_state(groups: Iterable[Mapping[str, Any]], group: str) -> tuple[int, int | None, str] | None:
    """``(pending, lag, last delivered id)`` of ``group`` in an ``XINFO GROUPS`` reply
    as redis-py parses it, ``lag`` ``None`` when Redis does not say (6.2 has no
    ``lag``; 7.x gives ``nil`` when it cannot tell); ``None`` if the group is not there.

    Example::

        >>> _group_state([{"name": b"g", "pending": 2, "last-delivered-id": b"5-0", "lag": 3}], "g")
        (2, 3, '5-0')
        >>> _group_state([{"name": b"g", "pending": 0, "last-delivered-id": b"5-0"}], "g")
        (0, None, '5-0')
    """
    for info in groups:
        if _text(info.get("name", "")) != group:
            continue
        lag = info.get("lag")
        return int(info.get("pending") or 0), None if lag is None else int(lag), _text(info["last-delivered-id"])
    return None


def _entry_ms(entry_id: str) -> int:
    return int(entry_id.split("-", 1)[0])


def _short(reason: object) -> str:
    text = str(reason)
    return text if len(text) <= _MAX_REASON else text[: _MAX_REASON - 3] + "..."



def _check_name(what: str, value: str) -> str:
    if not isinstance(value, str) or not _NAME.match(value):
        raise ValueError(f"{what} must be 1-128 printable ASCII characters without spaces, got {value!r}")
    return value


def _classify(exc: BaseException) -> str:
    """``nogroup`` (a group or stream vanished: create again), ``transient`` (retry
    later), or ``fatal`` (auth, permissions, a key of the wrong type: stop)."""
    from redis import exceptions as rx

    if isinstance(exc, (rx.AuthenticationError, rx.AuthorizationError, rx.NoPermissionError)):
        return "fatal"
    if isinstance(exc, rx.ResponseError):
        message = str(exc)  # an error inside a script comes wrapped: "ERR Error running script ... NOGROUP ..."
        if "NOGROUP" in message:
            return "nogroup"
        if isinstance(exc, (rx.OutOfMemoryError, rx.ReadOnlyError)) or message.startswith(
            ("LOADING", "BUSY ", "TRYAGAIN", "MASTERDOWN", "CLUSTERDOWN", "OOM", "READONLY")
        ):
            return "transient"
        return "fatal"
    if isinstance(exc, (rx.ConnectionError, rx.TimeoutError, OSError, TimeoutError)):
        return "transient"
    return "fatal"


def _retrieved(task: asyncio.Task[Any]) -> None:
    """A batch's outcome is read by its waiters; read here too, so a batch whose
    waiters were all cancelled leaves no "exception was never retrieved" behind."""
    if not task.cancelled():
        task.exception()


class _Stopped(Exception):
    """The reader was closed while it waited."""


# ---------------------------------------------------------------------- deliveries


class RedisDelivery:
    """One event handed to a subscriber of :class:`RedisStreamsBroker` (a
    :class:`~rxgateway.bus.broker.Delivery`). ``stream`` and ``entry_id`` say where it
    is stored, ``deliveries`` how many times it was delivered (to the group, or to
    this fan-out subscriber). The first of :meth:`ack` and :meth:`retry` counts; later
    calls do nothing.

    Example::

        async for delivery in broker.subscribe({"MESSAGE_CREATE"}, group="mod", consumer="w1"):
            if delivery.redelivered and already_handled(delivery.event.key):
                await delivery.ack()
                continue
            try:
                await handle(delivery.event)
            except Exception:
                await delivery.retry()      # another member (or this one) gets it again
            else:
                await delivery.ack()
    """

    __slots__ = ("_event", "_reader", "_redelivered", "_settled", "deliveries", "entry_id", "stream")

    def __init__(
        self,
        reader: RedisSubscription,
        event: BusEvent,
        stream: str,
        entry_id: str,
        deliveries: int,
        redelivered: bool,
    ) -> None:
        self._reader = reader
        self._event = event
        self.stream = stream
        self.entry_id = entry_id
        self.deliveries = deliveries
        self._redelivered = redelivered
        self._settled = False

    @property
    def event(self) -> BusEvent:
        """The event."""
        return self._event

    @property
    def redelivered(self) -> bool:
        """Delivered before (to this or another consumer of the group): it may have
        been handled already."""
        return self._redelivered

    @property
    def settled(self) -> bool:
        """:meth:`ack` or :meth:`retry` was called."""
        return self._settled

    async def ack(self) -> None:
        """Handled: ``XACK`` in a group (never delivered to it again); nothing for a
        fan-out subscriber. The acks a subscription's deliveries issue in one turn
        of the event loop go in one round trip, one ``XACK`` per stream; this returns
        once that was sent. Raises
        :class:`~rxgateway.errors.BusError` if Redis fails (the entry stays pending
        and is redelivered after ``claim_idle``)."""
        if self._settled:
            return
        self._settled = True
        await self._reader._ack(self)

    async def retry(self) -> None:
        """Not handled: deliver it again. In a group the entry is marked idle, and the
        next claim pass of any member (within ``claim_idle / 2``) takes it; a fan-out
        subscriber gets it again at its next read. After ``max_deliveries`` it is
        dead-lettered (group) or dropped with an error logged (fan-out)."""
        if self._settled:
            return
        self._settled = True
        await self._reader._retry(self)

    def __repr__(self) -> str:
        return (
            f"RedisDelivery({self._event.name} {self._event.key}, entry={self.entry_id}, "
            f"deliveries={self.deliveries})"
        )


class RedisCommandDelivery:
    """A command received on the gateway side (a
    :class:`~rxgateway.bus.broker.CommandDelivery`): checked already (size, JSON form,
    shard, age). Answer it once; later answers do nothing.

    Example::

        async for delivery in broker.serve_commands(group="gateway", consumer=member_id):
            shard = shards.get(delivery.command.shard)
            if shard is None:
                await delivery.answer(f"shard {delivery.command.shard} is not held here")
            else:
                shard.sender.send(delivery.command.data)
                await delivery.answer(None)
    """

    __slots__ = ("_answered", "_command", "_service", "entry_id", "redelivered")

    def __init__(self, service: RedisCommandService, command: BusCommand, entry_id: str, redelivered: bool) -> None:
        self._service = service
        self._command = command
        self.entry_id = entry_id
        self.redelivered = redelivered
        self._answered = False

    @property
    def command(self) -> BusCommand:
        """The command: its id, shard and JSON."""
        return self._command

    @property
    def answered(self) -> bool:
        """:meth:`answer` was called."""
        return self._answered

    async def answer(self, error: str | None) -> None:
        """``None``: handed to its shard; else why not (sent back to the sender, who
        raises :class:`~rxgateway.errors.CommandsNotSentError` with it). Pushes the
        answer and acks the entry in one transaction; raises
        :class:`~rxgateway.errors.BusError` if Redis fails."""
        if self._answered:
            return
        self._answered = True
        await self._service._answer([(self._command.id, self.entry_id, error)])

    def __repr__(self) -> str:
        command = self._command
        return f"RedisCommandDelivery(id={command.id!r}, shard={command.shard}, {len(command.data)} bytes)"


# ------------------------------------------------------------------------- readers


class _Reader(Generic[_Item]):
    """What subscriptions and the command service share: a set of streams read in a
    loop (fan-out or a consumer group), claim passes, an interruptible blocking read,
    retries while Redis is away, and a clean end on :meth:`aclose` or cancellation."""

    def __init__(self, broker: RedisStreamsBroker, group: str | None, consumer: str) -> None:
        self._broker = broker
        self.group = _check_name("group", group) if group is not None else None
        self.consumer = _check_name("consumer", consumer)
        #: stream key -> last id read (fan-out) or ">" (group)
        self._streams: dict[str, str] = {}
        self._buffer: deque[tuple[_Item, float]] = deque()
        self._started = False
        self._closed = False
        self._inflight: asyncio.Future[Any] | None = None
        self._next_claim = 0.0
        self._failures = 0
        #: What crossed the wire and what became of it.
        self.counters: dict[str, int] = {
            "reads": 0,
            "read": 0,
            "claimed": 0,
            "gone": 0,
            "dead": 0,
            "malformed": 0,
            "stale": 0,
            "errors": 0,
        }
        broker._readers.add(self)

    # -- the iterator -----------------------------------------------------------

    def __aiter__(self) -> Self:
        return self

    async def __anext__(self) -> _Item:
        if not self._started:
            try:
                await self._interruptible(self.start())
            except _Stopped:
                raise StopAsyncIteration from None
        while True:
            if self._closed:
                raise StopAsyncIteration
            item = self._pop()
            if item is not None:
                return item
            try:
                await self._interruptible(self._fill())
                self._failures = 0
            except _Stopped:
                raise StopAsyncIteration from None
            except (asyncio.CancelledError, BusError):
                raise
            except Exception as exc:
                await self._failed(exc)

    async def start(self) -> None:
        """Set up the streams and groups and fix the start (idempotent; the first
        ``__anext__`` calls it). Await it before publishing what the subscriber must
        see. Raises :class:`~rxgateway.errors.BusError` if Redis fails.

        Example::

            events = broker.subscribe({"READY"}, group=None, consumer="probe")
            await events.start()            # from here on, nothing is missed
            await broker.publish([ready])
            delivery = await anext(events)
        """
        if self._started or self._closed:
            return
        try:
            await self._setup()
        except Exception as exc:
            raise self._broker._error(f"{self!r}: starting failed", exc) from exc
        self._started = True
        self._next_claim = time.monotonic()

    async def aclose(self) -> None:
        """Stop: a read in flight is abandoned at once and the iterator ends
        (``StopAsyncIteration``). Entries of a group read but not yet yielded are made
        claimable at once; yielded, unacked ones stay pending (claimed after
        ``claim_idle``)."""
        if self._closed:
            return
        self._closed = True
        inflight = self._inflight
        if inflight is not None and not inflight.done():
            inflight.cancel()
        self._broker._readers.discard(self)
        leftovers = [item for item, _ in self._buffer]
        self._buffer.clear()
        if leftovers and self.group is not None:
            try:
                await self._give_back(leftovers)
            except Exception as exc:  # best effort: claimed after claim_idle anyway
                log.debug("%r: giving back %d entries failed: %r", self, len(leftovers), exc)

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    @property
    def streams(self) -> tuple[str, ...]:
        """The streams read (the only ones this reader asks Redis about)."""
        return tuple(self._streams)

    @property
    def closed(self) -> bool:
        """:meth:`aclose` was called (or a fatal error ended the iterator)."""
        return self._closed

    # -- the loop -----------------------------------------------------------------

    def _pop(self) -> _Item | None:
        stale_after = self._broker.claim_idle
        while self._buffer:
            item, read_at = self._buffer.popleft()
            if self.group is not None and time.monotonic() - read_at > stale_after:
                # Another member may have claimed it by now: leave it to the claim.
                self.counters["stale"] += 1
                continue
            return item
        return None

    async def _interruptible(self, coro: Any) -> Any:
        """Run ``coro`` so that :meth:`aclose` from another task ends it at once.

        A cancellation of the caller is passed on to the inner task, which should end
        by raising it. When the inner task ends otherwise (it returned, or raised
        something else, because the cancellation was swallowed on its way through the
        Redis client), the caller's cancellation is raised here all the same: a lost
        one left the caller reading forever and ``Bus.aclose`` waiting for it."""
        current = asyncio.current_task()
        cancels = current.cancelling() if current is not None else 0
        task = asyncio.ensure_future(coro)
        self._inflight = task
        try:
            try:
                result = await task
            except Exception:
                if current is not None and current.cancelling() > cancels:
                    raise asyncio.CancelledError from None
                raise
            if current is not None and current.cancelling() > cancels:
                raise asyncio.CancelledError
            return result
        except asyncio.CancelledError:
            current = asyncio.current_task()
            if self._closed and (current is None or current.cancelling() == 0):
                raise _Stopped from None
            raise
        finally:
            self._inflight = None
            if not task.done():
                task.cancel()

    async def _fill(self) -> None:
        broker = self._broker
        await self._refresh()
        now = time.monotonic()
        if self.group is not None and now >= self._next_claim:
            self._next_claim = now + broker.claim_idle / CLAIM_PASSES_PER_IDLE
            await self._claim()
            if self._buffer:
                return
        if not self._streams:
            await asyncio.sleep(broker.block)
            return
        block_ms = max(1, round(broker.block * _MS))
        redis = broker._redis
        async with asyncio.timeout(broker.block + BLOCK_MARGIN):
            if self.group is None:
                reply: Any = await redis.xread(dict(self._streams), count=broker.count, block=block_ms)  # type: ignore[arg-type]
            else:
                reply = await redis.xreadgroup(
                    self.group, self.consumer, dict(self._streams), count=broker.count, block=block_ms  # type: ignore[arg-type]
                )
        self.counters["reads"] += 1
        if not reply:
            return
        pairs = reply.items() if isinstance(reply, Mapping) else reply
        batch: list[tuple[str, str, Any, int]] = []
        for raw_stream, entries in pairs:
            stream = _text(raw_stream)
            for raw_id, fields in entries or ():
                entry_id = _text(raw_id)
                if self.group is None:
                    self._streams[stream] = entry_id
                batch.append((stream, entry_id, fields, 1))
        self.counters["read"] += len(batch)
        await self._take(batch, redelivered=False)

    async def _claim(self) -> None:
        """Take this group's entries idle longer than ``claim_idle``."""
        broker = self._broker
        assert self.group is not None
        keys = list(self._streams)
        if not keys:
            return
        idle_ms = max(1, round(broker.claim_idle * _MS))
        args: list[str | int] = [self.group, self.consumer, idle_ms, CLAIM_COUNT, broker.max_deliveries, DEAD_MAXLEN]
        async with asyncio.timeout(COMMAND_TIMEOUT):
            if len(keys) == 1:
                replies: list[Any] = [await broker._claim_script(keys=[keys[0], broker.keys.dead], args=args)]
            else:
                async with broker._redis.pipeline(transaction=False) as pipe:
                    for key in keys:
                        await broker._claim_script(keys=[key, broker.keys.dead], args=args, client=pipe)
                    replies = await pipe.execute()
        batch: list[tuple[str, str, Any, int]] = []
        for key, reply in zip(keys, replies):
            gone, buried, entries = reply
            self.counters["gone"] += int(gone)
            for dead_id in buried:
                self.counters["dead"] += 1
                log.error(
                    "%r: entry %s of %s was delivered %d times without an ack; moved to %s",
                    self, _text(dead_id), key, broker.max_deliveries, broker.keys.dead,
                )
            for raw_id, deliveries, fields in entries:
                batch.append((key, _text(raw_id), fields, int(deliveries)))
        if batch:
            self.counters["claimed"] += len(batch)
            log.info("%r: took %d entries idle for over %.1f s", self, len(batch), broker.claim_idle)
            await self._take(batch, redelivered=True)

    async def _failed(self, exc: Exception) -> None:
        """A read failed: create lost groups again, wait and retry while Redis is away,
        end with a :class:`~rxgateway.errors.BusError` when retrying cannot help."""
        kind = _classify(exc)
        self.counters["errors"] += 1
        if kind == "fatal":
            self._closed = True
            self._broker._readers.discard(self)
            error = self._broker._error(f"{self!r}: reading failed", exc)
            log.error("%s", error)
            raise error from exc
        if kind == "nogroup":
            log.warning("%r: a consumer group was lost (Redis restarted empty?): creating it again", self)
            try:
                await self._interruptible(self._regroup())
                return
            except _Stopped:
                raise StopAsyncIteration from None
            except Exception as again:
                exc = again
        self._failures += 1
        pause = min(RETRY_CAP, RETRY_BASE * 2 ** min(self._failures - 1, 16))
        log.warning("%r: %s; retrying in %.1f s", self, self._broker._scrub(repr(exc)), pause)
        try:
            await self._interruptible(asyncio.sleep(pause))
        except _Stopped:
            raise StopAsyncIteration from None

    async def _create_groups(self, starts: Mapping[str, str]) -> None:
        """``XGROUP CREATE key group start MKSTREAM`` for each (an existing group is kept)."""
        if self.group is None or not starts:
            return
        async with asyncio.timeout(COMMAND_TIMEOUT):
            async with self._broker._redis.pipeline(transaction=False) as pipe:
                for key, start in starts.items():
                    pipe.xgroup_create(key, self.group, start, mkstream=True)
                results = await pipe.execute(raise_on_error=False)
        for result in results:
            if isinstance(result, Exception) and not str(result).startswith("BUSYGROUP"):
                raise result

    async def _regroup(self) -> None:
        await self._create_groups(dict.fromkeys(self._streams, "0-0"))

    async def _give_back(self, items: list[_Item]) -> None:
        """Entries read but never yielded: idle at once, for the next claim pass."""
        await self._release([self._where(item) for item in items])

    async def _release(self, entries: Sequence[tuple[str, str]]) -> None:
        """Make ``(stream, id)`` entries still this consumer's claimable at once."""
        assert self.group is not None
        broker = self._broker
        idle_ms = max(1, round(broker.claim_idle * _MS))
        async with asyncio.timeout(COMMAND_TIMEOUT):
            if len(entries) == 1:
                stream, entry_id = entries[0]
                await broker._release_script(keys=[stream], args=[self.group, self.consumer, entry_id, idle_ms])
                return
            async with broker._redis.pipeline(transaction=False) as pipe:
                for stream, entry_id in entries:
                    await broker._release_script(
                        keys=[stream], args=[self.group, self.consumer, entry_id, idle_ms], client=pipe
                    )
                await pipe.execute()

    # -- what the subclasses decide ---------------------------------------------------

    async def _setup(self) -> None:
        raise NotImplementedError

    async def _refresh(self) -> None:
        """Between reads: notice new streams (a subscriber to every type)."""

    async def _take(self, batch: list[tuple[str, str, Any, int]], *, redelivered: bool) -> None:
        """Entries read or claimed ``(stream, id, fields, deliveries)``: buffer the good
        ones, settle the bad ones."""
        raise NotImplementedError

    def _where(self, item: _Item) -> tuple[str, str]:
        raise NotImplementedError


class RedisSubscription(_Reader[RedisDelivery]):
    """Events of some types, from :meth:`RedisStreamsBroker.subscribe`: an async
    iterator of :class:`RedisDelivery` (and an async context manager). Starting fixes
    "now" (the last entry of each stream) or joins the group; :meth:`start` does it
    ahead of the first read. ``counters`` count what crossed the wire (``read``: entries read,
    ``claimed``: taken from idle members) and what was refused or dropped. One task at a
    time iterates it.

    Example::

        async with broker.subscribe({"MESSAGE_CREATE"}, group=None, consumer="audit") as events:
            async for delivery in events:
                print(delivery.event.key)
        events.counters["read"], events.streams
    """

    def __init__(
        self, broker: RedisStreamsBroker, names: frozenset[str] | None, group: str | None, consumer: str
    ) -> None:
        super().__init__(broker, group, consumer)
        self.names = names
        self._next_types = 0.0
        #: Acks waiting for their XACK: stream -> entry ids, sent by ``_ack_task``.
        self._acks: dict[str, list[str]] = {}
        self._ack_task: asyncio.Task[None] | None = None
        #: ``xacks``: XACK round trips; ``acked``: entries they acknowledged.
        self.counters["xacks"] = 0
        self.counters["acked"] = 0

    def __repr__(self) -> str:
        names = "every type" if self.names is None else ",".join(sorted(self.names))
        mode = f"group={self.group!r}" if self.group is not None else "fan-out"
        return f"RedisSubscription(app={self._broker.app!r}, {names}, {mode}, consumer={self.consumer!r})"

    async def _setup(self) -> None:
        broker = self._broker
        names = sorted(self.names) if self.names is not None else await broker._known_types()
        keys = [broker.keys.events(name) for name in names]
        # "Now" is one moment for every stream: the last entry of each, read in one
        # transaction (with the set of types again, for a type first published meanwhile).
        async with asyncio.timeout(COMMAND_TIMEOUT):
            async with broker._redis.pipeline(transaction=True) as pipe:
                for key in keys:
                    pipe.xrevrange(key, "+", "-", count=1)
                if self.names is None:
                    pipe.smembers(broker.keys.types)
                replies: list[Any] = await pipe.execute()
        starts = {key: _text(last[0][0]) if last else "0-0" for key, last in zip(keys, replies)}
        if self.names is None:
            # Types first published during the start: from their beginning.
            for name in _names(replies[-1]):
                starts.setdefault(broker.keys.events(name), "0-0")
        await self._add(starts)
        self._next_types = time.monotonic() + TYPES_REFRESH

    async def _add(self, starts: Mapping[str, str]) -> None:
        """Read the streams ``starts`` (key -> the last id not to deliver) too."""
        starts = {key: start for key, start in starts.items() if key not in self._streams}
        if not starts:
            return
        await self._create_groups(starts)
        for key, start in starts.items():
            self._streams[key] = ">" if self.group is not None else start

    async def _refresh(self) -> None:
        if self.names is not None or time.monotonic() < self._next_types:
            return
        self._next_types = time.monotonic() + TYPES_REFRESH
        # A type new since the start: everything in its stream was published after it.
        await self._add({self._broker.keys.events(name): "0-0" for name in await self._broker._known_types()})

    async def _take(self, batch: list[tuple[str, str, Any, int]], *, redelivered: bool) -> None:
        now = time.monotonic()
        refused: list[tuple[str, str]] = []
        for stream, entry_id, fields, deliveries in batch:
            try:
                event = self._decode(stream, fields)
            except ValueError as exc:
                self.counters["malformed"] += 1
                log.error(
                    "%r: refused malformed entry %s of %s: %s", self, entry_id, stream, _short(exc)
                )
                refused.append((stream, entry_id))
                continue
            delivery = RedisDelivery(self, event, stream, entry_id, deliveries, redelivered)
            self._buffer.append((delivery, now))
        if refused and self.group is not None:
            async with asyncio.timeout(COMMAND_TIMEOUT):
                async with self._broker._redis.pipeline(transaction=False) as pipe:
                    for stream, entry_id in refused:
                        pipe.xack(stream, self.group, entry_id)
                    await pipe.execute()

    def _decode(self, stream: str, raw: Any) -> BusEvent:
        fields = _field_map(raw)
        payload = fields.pop("payload", None)
        if payload is None:
            raise ValueError("an entry without a payload")
        try:
            text = {name: value.decode() for name, value in fields.items()}
        except UnicodeDecodeError:
            raise ValueError("metadata that is not UTF-8") from None
        event = BusEvent.from_fields(text, payload)
        if self._broker.keys.events(event.name) != stream:
            raise ValueError(f"a {event.name} entry in another type's stream")
        return event

    def _where(self, item: RedisDelivery) -> tuple[str, str]:
        return item.stream, item.entry_id

    async def _ack(self, delivery: RedisDelivery) -> None:
        """Join the batch of acks being gathered (one ``XACK`` per stream for every ack
        issued before it is sent, in one round trip) and wait until it was sent. A
        waiter cancelled meanwhile does not take the batch down with it."""
        if self.group is None:
            return
        self._acks.setdefault(delivery.stream, []).append(delivery.entry_id)
        task = self._ack_task
        if task is None:  # the first ack since the last batch left: it starts the next
            task = self._ack_task = asyncio.get_running_loop().create_task(self._send_acks())
            task.add_done_callback(_retrieved)
        await asyncio.shield(task)

    async def _send_acks(self) -> None:
        """Send the acks gathered until now (this task's first step runs at the next
        turn of the event loop: the acks issued in the meantime are in it)."""
        assert self.group is not None
        acks, self._acks, self._ack_task = self._acks, {}, None
        count = sum(len(ids) for ids in acks.values())
        try:
            async with asyncio.timeout(COMMAND_TIMEOUT):
                if len(acks) == 1:
                    ((stream, ids),) = acks.items()
                    await self._broker._redis.xack(stream, self.group, *ids)
                else:
                    async with self._broker._redis.pipeline(transaction=False) as pipe:
                        for stream, ids in acks.items():
                            pipe.xack(stream, self.group, *ids)
                        await pipe.execute()
        except Exception as exc:
            error = self._broker._error(f"{self!r}: acking {count} entries failed", exc)
            log.warning("%s; they stay pending and are delivered again after claim_idle", error)
            raise error from exc
        self.counters["xacks"] += 1
        self.counters["acked"] += count

    async def aclose(self) -> None:
        """Send the acks still gathered, then stop: an ack issued before the close is
        never lost with it. A read in flight is abandoned at once and the iterator ends;
        entries read but not yet yielded are made claimable at once; yielded, unacked
        ones stay pending (claimed after ``claim_idle``)."""
        task = self._ack_task
        if task is not None:
            await asyncio.gather(asyncio.shield(task), return_exceptions=True)  # its waiters see a failure
        await super().aclose()

    async def _retry(self, delivery: RedisDelivery) -> None:
        broker = self._broker
        if self.group is None:
            if delivery.deliveries >= broker.max_deliveries:
                self.counters["dead"] += 1
                log.error(
                    "%r: dropped %s (entry %s) after %d deliveries", self, delivery.event.key,
                    delivery.entry_id, delivery.deliveries,
                )
                return
            again = RedisDelivery(
                self, delivery.event, delivery.stream, delivery.entry_id, delivery.deliveries + 1, True
            )
            self._buffer.appendleft((again, time.monotonic()))
            return
        try:
            await self._release([(delivery.stream, delivery.entry_id)])
        except Exception as exc:
            raise broker._error(f"{self!r}: retrying {delivery.entry_id} failed", exc) from exc


class _ParsedCommand:
    """A command entry read from the stream: the command, or why it is refused (and
    what of it can be logged: its id, shard and size, never its data)."""

    __slots__ = ("command", "id", "refusal", "shard", "size")

    def __init__(self, entry_id: str, raw: Any, now_ms: int) -> None:
        self.command: BusCommand | None = None
        self.id: str | None = None
        self.shard: object = "?"
        self.size = 0
        self.refusal: str | None = self._parse(entry_id, raw, now_ms)

    def _parse(self, entry_id: str, raw: Any, now_ms: int) -> str | None:
        try:
            fields = _field_map(raw)
        except ValueError:
            return "an entry without fields"
        try:
            command_id = fields["id"].decode()
        except (KeyError, UnicodeDecodeError):
            return "no id"
        if not COMMAND_ID.match(command_id):
            return "an invalid id"
        self.id = command_id
        data = fields.get("data")
        if data is None:
            return "no data"
        self.size = len(data)
        try:
            shard = int(fields["shard"])
        except (KeyError, ValueError):
            return "no integer shard"
        self.shard = shard
        reason = command_problem(command_id, shard, data)
        if reason is not None:
            return reason
        try:
            ttl_ms = int(fields["ttl"]) if "ttl" in fields else round(DEFAULT_COMMAND_TTL * _MS)
        except ValueError:
            return "a ttl that is not an integer"
        age_ms = now_ms - _entry_ms(entry_id)
        if age_ms > ttl_ms:
            return f"expired: it waited {age_ms / _MS:.1f} s, longer than its {ttl_ms / _MS:.1f} s"
        self.command = BusCommand(command_id, shard, data)
        return None


class RedisCommandService(_Reader[RedisCommandDelivery]):
    """The gateway side's commands, from :meth:`RedisStreamsBroker.serve_commands`: an
    async iterator of :class:`RedisCommandDelivery`, checked already. A new group
    starts at the beginning of the retained stream (what is older than its ttl is
    refused as expired). ``counters["refused"]`` counts the commands refused here.

    Example::

        async with broker.serve_commands(group="gateway", consumer="member-1") as commands:
            async for delivery in commands:
                await delivery.answer(route(delivery.command))
    """

    def __init__(self, broker: RedisStreamsBroker, group: str, consumer: str) -> None:
        super().__init__(broker, group, consumer)
        self.counters["refused"] = 0

    def __repr__(self) -> str:
        return (
            f"RedisCommandService(app={self._broker.app!r}, group={self.group!r}, consumer={self.consumer!r})"
        )

    async def _setup(self) -> None:
        key = self._broker.keys.commands
        await self._create_groups({key: "0-0"})
        self._streams[key] = ">"

    async def _take(self, batch: list[tuple[str, str, Any, int]], *, redelivered: bool) -> None:
        if not batch:
            return
        now_ms = await self._broker._server_ms()
        now = time.monotonic()
        refusals: list[tuple[str | None, str, str | None]] = []
        for _stream, entry_id, raw, _deliveries in batch:
            parsed = _ParsedCommand(entry_id, raw, now_ms)
            if parsed.refusal is None and parsed.command is not None:
                self._buffer.append((RedisCommandDelivery(self, parsed.command, entry_id, redelivered), now))
                continue
            self.counters["refused"] += 1
            log.error(
                "%r: refused command %s (entry %s) for shard %s, %d bytes: %s",
                self, parsed.id or "without a valid id", entry_id, parsed.shard, parsed.size, parsed.refusal,
            )
            refusals.append((parsed.id, entry_id, f"refused by the gateway: {parsed.refusal}"))
        if refusals:
            await self._push_answers(refusals)

    async def _answer(self, answers: Sequence[tuple[str | None, str, str | None]]) -> None:
        """:meth:`_push_answers`, its failure a :class:`~rxgateway.errors.BusError`."""
        try:
            await self._push_answers(answers)
        except Exception as exc:
            raise self._broker._error(f"{self!r}: answering {len(answers)} command(s) failed", exc) from exc

    async def _push_answers(self, answers: Sequence[tuple[str | None, str, str | None]]) -> None:
        """Push each answer ``(command id, entry id, error)`` and ack its entry, in one
        transaction (an answer without an ack would be sent twice; an ack without an
        answer, never)."""
        broker = self._broker
        assert self.group is not None
        ttl_ms = round(ANSWER_TTL * _MS)
        async with asyncio.timeout(COMMAND_TIMEOUT):
            async with broker._redis.pipeline(transaction=True) as pipe:
                for command_id, entry_id, error in answers:
                    if command_id is not None:
                        key = broker.keys.answer(command_id)
                        pipe.lpush(key, orjson.dumps({"error": None if error is None else _short(error)}))
                        pipe.pexpire(key, ttl_ms)
                    pipe.xack(broker.keys.commands, self.group, entry_id)
                await pipe.execute()

    def _where(self, item: RedisCommandDelivery) -> tuple[str, str]:
        return self._broker.keys.commands, item.entry_id


# -------------------------------------------------------------------------- broker


class RedisStreamsBroker:
    """A :class:`~rxgateway.bus.broker.Broker` on Redis Streams (see the module).

    Args:
        redis: a Redis URL (``redis://``, ``rediss://`` for TLS, ``unix://``; a
            password in it is never shown) or a redis-py asyncio client. A client made
            from a URL is closed by :meth:`aclose`; one handed in stays open. Blocking
            reads need its ``socket_timeout`` (if any) longer than ``block`` and
            ``send_command``'s timeout, and a connection each (redis-py's default pool).
        app: the key prefix ``{app}:``; two bots on one Redis use two names.
        maxlen: entries kept per event type's stream (approximate trimming).
        max_age: seconds an entry is kept at most (``None``: only ``maxlen`` bounds).
        dedup_window: seconds a published key keeps a second publish out.
        claim_idle: seconds before an unacked entry of a group goes to another member.
        max_deliveries: deliveries of an entry before it is dead-lettered (group) or
            dropped (a fan-out subscriber's retries).
        block: seconds one blocking read waits.
        count: entries read per stream per read.

    Example::

        >>> broker = RedisStreamsBroker("redis://:secret@127.0.0.1:6379/0", app="mybot", maxlen=10_000)
        >>> broker
        RedisStreamsBroker('redis://:***@127.0.0.1:6379/0', app='mybot', maxlen=10000, dedup_window=600.0, claim_idle=30.0)
    """

    def __init__(
        self,
        redis: str | Redis,
        *,
        app: str = DEFAULT_APP,
        maxlen: int = DEFAULT_MAXLEN,
        max_age: float | None = None,
        dedup_window: float = DEFAULT_DEDUP_WINDOW,
        claim_idle: float = DEFAULT_CLAIM_IDLE,
        max_deliveries: int = DEFAULT_MAX_DELIVERIES,
        block: float = DEFAULT_BLOCK,
        count: int = DEFAULT_COUNT,
    ) -> None:
        if isinstance(maxlen, bool) or not isinstance(maxlen, int) or maxlen < 1:
            raise ValueError(f"maxlen must be an integer >= 1, got {maxlen!r}")
        if max_age is not None and not max_age > 0:
            raise ValueError(f"max_age must be > 0 seconds or None, got {max_age!r}")
        if not dedup_window >= 0.001:
            raise ValueError(f"dedup_window must be at least 1 ms, got {dedup_window!r}")
        if not claim_idle >= 0.001:
            raise ValueError(f"claim_idle must be at least 1 ms, got {claim_idle!r}")
        if isinstance(max_deliveries, bool) or not isinstance(max_deliveries, int) or max_deliveries < 1:
            raise ValueError(f"max_deliveries must be an integer >= 1, got {max_deliveries!r}")
        if not block >= 0.001:
            raise ValueError(f"block must be at least 1 ms, got {block!r}")
        if isinstance(count, bool) or not isinstance(count, int) or count < 1:
            raise ValueError(f"count must be an integer >= 1, got {count!r}")
        self._keys = StreamKeys(app)
        self.maxlen = maxlen
        self.max_age = max_age
        self.dedup_window = float(dedup_window)
        self.claim_idle = float(claim_idle)
        self.max_deliveries = max_deliveries
        self.block = float(block)
        self.count = count
        if isinstance(redis, str):
            self._where = redact_url(redis)
            self._password: str | None = urlsplit(redis).password
            self._redis: Redis = connect(redis)
            self._owns_client = True
        else:
            self._where, self._password = client_where(redis)
            self._redis = redis
            self._owns_client = False
        self._publish_script = self._redis.register_script(_PUBLISH_LUA)
        self._claim_script = self._redis.register_script(_CLAIM_LUA)
        self._release_script = self._redis.register_script(_RELEASE_LUA)
        self._count_script = self._redis.register_script(_COUNT_AFTER_LUA)
        self._readers: weakref.WeakSet[_Reader[Any]] = weakref.WeakSet()
        self._closed = False
        #: ``published`` (new events stored), ``duplicates`` (skipped), ``commands``
        #: (sent and answered positively).
        self.counters: dict[str, int] = {"published": 0, "duplicates": 0, "commands": 0}

    def __repr__(self) -> str:
        return (
            f"RedisStreamsBroker({self._where!r}, app={self.app!r}, maxlen={self.maxlen}, "
            f"dedup_window={self.dedup_window}, claim_idle={self.claim_idle})"
        )

    @property
    def app(self) -> str:
        """The application's name: every key starts with ``{app}:``.

        Example::

            >>> RedisStreamsBroker("redis://127.0.0.1:6379/0", app="mybot").app
            'mybot'
        """
        return self._keys.app

    @property
    def keys(self) -> StreamKeys:
        """The key names this broker uses.

        Example::

            >>> RedisStreamsBroker("redis://127.0.0.1:6379/0", app="mybot").keys.events("READY")
            '{mybot}:events:READY'
        """
        return self._keys

    # -- publishing ---------------------------------------------------------------------

    async def publish(self, events: Sequence[BusEvent]) -> int:
        """Store ``events`` (each in its type's stream, once per key within
        ``dedup_window``), in one round trip; returns how many were new. An event whose
        type is not a valid name can never be stored: it is skipped with a logged
        error (a retry would fail the same way), counted in the result's ``skipped``
        (a :class:`~rxgateway.bus.broker.Published`). Raises
        :class:`~rxgateway.errors.BusError` when Redis fails.

        Example::

            new = await broker.publish([BusEvent(0, 1, "9f1c", 42, "MESSAGE_CREATE", payload)])
        """
        valid = [event for event in events if _valid_name(event)]
        skipped = len(events) - len(valid)
        if not valid:
            return Published(0, skipped=skipped)
        window_ms = max(1, round(self.dedup_window * _MS))
        age_ms = round(self.max_age * _MS) if self.max_age is not None else 0
        calls: list[tuple[list[str], list[str | int | bytes]]] = []
        for start in range(0, len(valid), PUBLISH_CHUNK):
            chunk = valid[start : start + PUBLISH_CHUNK]
            keys = [self._keys.types]
            width = 0
            body: list[str | int | bytes] = []
            for event in chunk:
                keys += [self._keys.dedup(event.key), self._keys.events(event.name)]
                pairs: list[str | int | bytes] = [event.name]
                for name, value in event.fields().items():
                    pairs += [name, value]
                pairs += ["payload", event.payload]
                width = len(pairs) - 1
                body += pairs
            calls.append((keys, [window_ms, self.maxlen, age_ms, width, *body]))
        try:
            async with asyncio.timeout(COMMAND_TIMEOUT):
                if len(calls) == 1:
                    replies: list[Any] = [await self._publish_script(keys=calls[0][0], args=calls[0][1])]
                else:
                    async with self._redis.pipeline(transaction=False) as pipe:
                        for keys, args in calls:
                            await self._publish_script(keys=keys, args=args, client=pipe)
                        replies = await pipe.execute()
        except Exception as exc:
            raise self._error(f"publishing {len(events)} event(s) failed", exc) from exc
        new = sum(int(reply) for reply in replies)
        self.counters["published"] += new
        self.counters["duplicates"] += len(valid) - new
        return Published(new, skipped=skipped)

    # -- lag --------------------------------------------------------------------------

    async def group_lag(self, names: Collection[str] | None, *, group: str) -> int:
        """Entries of the types ``names`` (``None``: every type published so far) that
        ``group`` has not acknowledged yet, summed over their streams: per stream, the
        entries not yet delivered to the group plus its pending entries (delivered,
        not acknowledged; ``XINFO GROUPS``' ``pending``).

        Not yet delivered is ``XINFO GROUPS``' ``lag`` where Redis gives it (7.0 and
        later, when it can tell); else (Redis 6.2, or a 7.x ``lag`` of ``nil`` after
        deletions) it is counted: the entries after the group's last delivered id,
        by a script that counts without sending them (:data:`LAG_CHUNK` per run). Both
        are exact while the group does not read; while it reads, a stream's two
        counts are a round trip apart (an entry delivered between them is missed, or
        counted twice, at most one read's ``count`` per member). A stream the group has
        not joined yet (a type first published after its members started, before
        their next look at the types) counts 0. Raises
        :class:`~rxgateway.errors.BusError` when Redis fails.

        Example::

            behind = await broker.group_lag({"MESSAGE_CREATE"}, group="moderation")
        """
        _check_name("group", group)
        try:
            types = sorted({check_event_name(name) for name in names}) if names is not None else await self._known_types()
            keys = [self._keys.events(name) for name in types]
            if not keys:
                return 0
            async with asyncio.timeout(COMMAND_TIMEOUT):
                async with self._redis.pipeline(transaction=False) as pipe:
                    for key in keys:
                        pipe.xinfo_groups(key)
                    replies: list[Any] = await pipe.execute(raise_on_error=False)
            total = 0
            for key, reply in zip(keys, replies):
                if isinstance(reply, Exception):
                    if "no such key" in str(reply).lower():
                        continue  # a type never published: nothing behind
                    raise reply
                state = _group_state(reply, group)
                if state is None:
                    continue
                pending, lag, last = state
                total += pending + (lag if lag is not None else await self._count_after(key, last))
        except Exception as exc:
            raise self._error(f"reading the lag of group {group!r} failed", exc) from exc
        return total

    async def _count_after(self, key: str, last: str) -> int:
        """Entries of stream ``key`` after id ``last`` (as many as it holds now)."""
        async with asyncio.timeout(COMMAND_TIMEOUT):
            length = int(await self._redis.xlen(key))
        counted = 0
        start = last
        for _ in range(length // LAG_CHUNK + 2):  # what is added meanwhile is not chased
            async with asyncio.timeout(COMMAND_TIMEOUT):
                n, end = await self._count_script(keys=[key], args=[f"({start}", LAG_CHUNK])
            counted += int(n)
            if int(n) < LAG_CHUNK:
                break
            start = _text(end)
        return counted

    # -- subscribing ------------------------------------------------------------------

    def subscribe(
        self, names: Collection[str] | None, *, group: str | None, consumer: str
    ) -> RedisSubscription:
        """Events of the types ``names`` (``None``: every type, new ones included):
        fan-out from the subscription's start (``group=None``), or shared by the
        members of ``group`` (from where the group stands; a new group from now).
        ``consumer`` names this member in the group (keep it across restarts to find
        its own pending entries first; any unique name works) or the subscriber in logs.

        Example::

            async for delivery in broker.subscribe({"MESSAGE_CREATE", "MESSAGE_UPDATE"},
                                                   group="indexer", consumer="indexer-1"):
                await index(delivery.event)
                await delivery.ack()
        """
        wanted: frozenset[str] | None = None
        if names is not None:
            if isinstance(names, str):
                raise TypeError("names is a collection of event type names, not one name")
            wanted = frozenset(check_event_name(name) for name in names)
            if not wanted:
                raise ValueError("names is empty: give event type names, or None for every type")
        return RedisSubscription(self, wanted, group, consumer)

    # -- commands ---------------------------------------------------------------------

    async def send_command(self, command: BusCommand, *, timeout: float) -> None:
        """Send ``command`` on ``{app}:commands`` and wait up to ``timeout`` seconds
        for the gateway's answer. Raises
        :class:`~rxgateway.errors.CommandsNotSentError` (``payloads`` holds the
        command's JSON) when it is refused here (too large, not a command), answered
        negatively (the message carries the gateway's reason), not answered in time
        (the gateway will refuse it as expired from then on), or Redis fails.

        Example::

            data = b'{"op":3,"d":{"since":null,"activities":[],"status":"idle","afk":false}}'
            await broker.send_command(BusCommand("presence-1", 0, data), timeout=5.0)
        """
        if not timeout > 0:
            raise ValueError(f"timeout must be > 0 seconds, got {timeout!r}")
        what = f"command {command.id!r} for shard {command.shard}"
        payloads = (bytes(command.data),)
        reason = command_problem(command.id, command.shard, command.data)
        if reason is not None:
            raise CommandsNotSentError(f"{what} was not sent: {reason}", payloads)
        key = self._keys.answer(command.id)
        fields = {"id": command.id, "shard": command.shard, "data": command.data, "ttl": math.ceil(timeout * _MS)}
        try:
            async with asyncio.timeout(COMMAND_TIMEOUT):
                async with self._redis.pipeline(transaction=True) as pipe:
                    pipe.delete(key)  # an answer left from an earlier use of the id
                    pipe.xadd(self._keys.commands, fields, maxlen=COMMANDS_MAXLEN, approximate=True)  # type: ignore[arg-type]
                    await pipe.execute()
            async with asyncio.timeout(timeout + BLOCK_MARGIN):
                reply: Any = await self._redis.blpop([key], timeout=timeout)
        except Exception as exc:
            detail = self._scrub(f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__)
            raise CommandsNotSentError(f"{what}: Redis at {self._where} failed: {detail}", payloads) from exc
        if reply is None:
            raise CommandsNotSentError(f"{what}: no answer from the gateway within {timeout} s", payloads)
        try:
            answer = orjson.loads(reply[1])
            error = answer["error"]
        except (orjson.JSONDecodeError, KeyError, TypeError, IndexError):
            raise CommandsNotSentError(f"{what}: a malformed answer from the gateway", payloads) from None
        if error is not None:
            raise CommandsNotSentError(f"{what} was not sent: {_short(error)}", payloads)
        self.counters["commands"] += 1

    def serve_commands(self, *, group: str, consumer: str) -> RedisCommandService:
        """The gateway side: commands sent to this application, each to one member of
        ``group``. Malformed, oversized and expired ones are refused (logged without
        their content, answered with the reason), never yielded.

        Example::

            async for delivery in broker.serve_commands(group="gateway", consumer="member-1"):
                await delivery.answer(None)
        """
        return RedisCommandService(self, group, consumer)

    # -- life -------------------------------------------------------------------------

    async def aclose(self) -> None:
        """End every subscription and command service at once, then close the client
        made from a URL (one handed in stays open). Idempotent."""
        for reader in list(self._readers):
            await reader.aclose()
        if self._closed:
            return
        self._closed = True
        if self._owns_client:
            await self._redis.aclose()

    async def __aenter__(self) -> RedisStreamsBroker:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    # -- internals --------------------------------------------------------------------

    async def _server_ms(self) -> int:
        async with asyncio.timeout(COMMAND_TIMEOUT):
            seconds, micros = await self._redis.time()
        return int(seconds) * _MS + int(micros) // _MS

    async def _known_types(self) -> list[str]:
        async with asyncio.timeout(COMMAND_TIMEOUT):
            raw: Any = await self._redis.smembers(self._keys.types)
        return _names(raw)

    def _scrub(self, text: str) -> str:
        return text.replace(self._password, "***") if self._password else text

    def _error(self, message: str, exc: BaseException) -> BusError:
        """``exc`` as a :class:`~rxgateway.errors.BusError` naming where (the URL
        redacted), with any password scrubbed from the cause's text."""
        detail = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        return BusError(f"{message} (Redis at {self._where}, app {self.app!r}): {self._scrub(detail)}")


if TYPE_CHECKING:

    def _is_a_broker(broker: RedisStreamsBroker) -> Broker:
        return broker
