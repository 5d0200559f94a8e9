"""What the metrics keep per shard, and how they follow a Shard, a ShardGroup or a
Member: the one part of the metrics that runs on a shard's receive path.

A watched shard gets one frame sink (:meth:`~rxgateway.shard.Shard.add_frame_sink`).
For a dispatch in the gateway's layout (``{"t":"NAME",...``, what
:func:`~rxgateway.protocol.envelope.probe_dispatch` reads) it costs a ``startswith``,
a ``find`` of the name's closing quote, a slice and one dict increment keyed by the
name's bytes: no regular expression (a match object is one more allocation the
garbage collector tracks, per event); other payloads (Hello, Heartbeat ACK, Reconnect, Invalid
Session, a dispatch in another layout: a few a minute) are read with
:func:`~rxgateway.protocol.envelope.read_envelope`. An unwatched shard has no sink
and pays nothing. Everything else (state, dispatches, resumes, connections, errors,
latency) is what the shard counts anyway, read at scrape time.

Heartbeat round trips: the sink sees each Heartbeat ACK after the machine has timed
it, and observes the new round trips of the shard's :class:`~rxgateway.machine.Latency`
(``periods`` says how many are new; ``recent`` holds them). A scrape catches up the
same way, so a round trip is observed once, either way, as long as fewer than
:data:`~rxgateway.machine.latency.RECENT_SIZE` of them pass unobserved.

Counters never go back: when a member hands a shard off, its shard object is kept
until it has ended, then its final numbers are folded into a base per
``(app, member, shard)``, so a shard claimed again later goes on from there.

Example::

    book = Book()
    book.attach(shard, ("", "", "0"))     # what Metrics.watch(shard) does
    ...
    for row in book.rows(): ...           # what the collector reads at scrape time
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Final

from reactivex import abc

from ..errors import DeserializationError
from ..machine.latency import Latency
from ..machine.state import ShardState
from ..protocol.envelope import read_envelope
from ..protocol.event_type import OPCODE_BITS, EventTypeFlags
from ..protocol.shard_id import ShardId
from .buckets import HEARTBEAT_BUCKETS, Buckets

if TYPE_CHECKING:
    from ..cluster.member import Member
    from ..shard import Shard

__all__ = ["COUNTERS", "MAX_TYPES", "MAX_NAME", "NAME_PREFIX", "Book", "Key", "MemberSource", "Row", "ShardWatch"]

log = logging.getLogger("rxgateway.metrics")

#: ``(app, member, shard)``: the labels of one shard's series.
Key = tuple[str, str, str]

#: How a dispatch in the gateway's layout begins (:data:`~rxgateway.protocol.envelope.DISPATCH_HEAD`);
#: its name runs to the next quote, at most :data:`MAX_NAME` bytes (the machine has
#: already accepted the payload: the sink needs the name only).
NAME_PREFIX: Final = b'{"t":"'
MAX_NAME: Final = 64

#: Distinct type names counted per shard; past it, new names count as ``OTHER`` (a
#: gateway sending made-up names cannot grow the series without bound). Discord has
#: about 80 dispatch names.
MAX_TYPES: Final = 512
OTHER: Final = b"OTHER"
_UNKNOWN: Final = b"UNKNOWN_DISPATCH"
#: Gateway-level payloads by opcode, named as :class:`~rxgateway.protocol.EventType` names them.
_OP_NAMES: dict[int, bytes] = {int(op): str(EventTypeFlags(bit).name).encode() for op, bit in OPCODE_BITS.items()}
_OP_ACK: Final = 11

#: The counters a shard keeps (:attr:`Shard.stats <rxgateway.shard.Shard.stats>`), and
#: ``reconnects``: connections after the first of each shard object.
COUNTERS: Final = ("dispatches", "resumes", "connections", "reconnects", "errors")


class ShardWatch:
    """One watched shard object: its frame sink, its counts by type, the heartbeat
    periods observed so far."""

    __slots__ = ("_heartbeats", "_latency", "_periods", "_sink", "key", "refs", "shard", "types")

    def __init__(self, shard: Shard, key: Key, heartbeats: Buckets) -> None:
        self.shard = shard
        self.key = key
        self.refs = 1
        #: Payloads by type name (bytes: the sink never decodes).
        self.types: dict[bytes, int] = {}
        self._heartbeats = heartbeats
        # Round trips from now on: those timed before the watch began are not observed.
        self._latency: Latency | None = shard.latency
        self._periods = shard.latency.periods
        self._sink: abc.DisposableBase | None = shard.add_frame_sink(self._make_sink())

    def _make_sink(self) -> Callable[[ShardId, int, bytes], None]:
        types = self.types
        other = self._other
        new_type = self._new_type
        prefix, start = NAME_PREFIX, len(NAME_PREFIX)
        stop = start + MAX_NAME + 1

        def sink(shard_id: ShardId, time_ns: int, payload: bytes) -> None:
            if payload.startswith(prefix):
                end = payload.find(b'"', start, stop)
                if end > start:
                    name = payload[start:end]
                    try:
                        types[name] += 1
                    except KeyError:
                        new_type(name)
                    return
            other(payload)

        return sink

    def _new_type(self, name: bytes) -> None:
        types = self.types
        if name not in types and len(types) >= MAX_TYPES:
            name = OTHER
        types[name] = types.get(name, 0) + 1

    def _other(self, payload: bytes) -> None:
        """A payload not in the dispatch layout the sink matches: a few a minute."""
        try:
            op, _seq, t = read_envelope(payload)
        except DeserializationError:  # the machine accepted it: not expected
            return
        if op == 0:
            name = t.encode() if t else _UNKNOWN
        else:
            name = _OP_NAMES.get(op) or b"OP_%d" % op
        try:
            self.types[name] += 1
        except KeyError:
            self._new_type(name)
        if op == _OP_ACK:
            self.catch_up()

    def catch_up(self) -> None:
        """Observe the round trips completed since the last look."""
        latency = self.shard.latency
        periods = latency.periods
        new = periods - self._periods if latency is self._latency else periods
        self._latency = latency
        self._periods = periods
        if new > 0:
            observe = self._heartbeats.observe
            for rtt in latency.recent[:new]:
                observe(rtt)

    def detach(self) -> None:
        """Remove the frame sink."""
        if self._sink is not None:
            self._sink.dispose()
            self._sink = None

    def totals(self) -> dict[str, int]:
        """This shard object's counters (see :data:`COUNTERS`)."""
        stats = self.shard.stats
        connections = stats["connections"]
        return {
            "dispatches": stats["dispatches"],
            "resumes": stats["resumes"],
            "connections": connections,
            "reconnects": max(connections - 1, 0),
            "errors": stats["errors"],
        }


class Row:
    """What a scrape reports for one ``(app, member, shard)``: counters summed over its
    shard objects (ended ones folded in), and the state and last round trip of the
    one held now (``None`` if none is)."""

    __slots__ = ("counters", "key", "latency", "state", "types")

    def __init__(self, key: Key) -> None:
        self.key = key
        self.counters: dict[str, int] = dict.fromkeys(COUNTERS, 0)
        self.types: dict[bytes, int] = {}
        self.state: ShardState | None = None
        self.latency: float | None = None

    def add(self, counters: dict[str, int], types: dict[bytes, int]) -> None:
        for name, value in counters.items():
            self.counters[name] += value
        mine = self.types
        for type_name, n in types.items():
            mine[type_name] = mine.get(type_name, 0) + n


class Book:
    """Every shard object watched: live ones, ended ones not yet folded, and the base
    the folded ones left. Shared by the sources of one :class:`~rxgateway.metrics.Metrics`.

    Changed on the event loop (attach, release) and read by :meth:`rows` at scrape
    time, on the loop too when :meth:`Metrics.serve <rxgateway.metrics.Metrics.serve>`
    serves it. :meth:`rows` copies what it iterates and folds under a lock, so a
    scrape from another thread (prometheus_client's own server) does not break; a
    round trip may then, rarely, be observed twice.
    """

    def __init__(self) -> None:
        self.live: dict[Shard, ShardWatch] = {}
        self.retiring: list[ShardWatch] = []
        self.base: dict[Key, Row] = {}
        #: Every round trip of every watched shard.
        self.heartbeats = Buckets(HEARTBEAT_BUCKETS)
        self._lock = threading.Lock()

    def attach(self, shard: Shard, key: Key) -> ShardWatch:
        """Watch ``shard`` (again: one sink per shard object, counted references)."""
        watch = self.live.get(shard)
        if watch is not None:
            watch.refs += 1
            return watch
        watch = self.live[shard] = ShardWatch(shard, key, self.heartbeats)
        return watch

    def release(self, shard: Shard, *, keep: bool) -> None:
        """One source stopped watching ``shard``. ``keep``: its counts stay in the
        totals (a member handed it off); else they are forgotten (unwatched)."""
        watch = self.live.get(shard)
        if watch is None:
            return
        watch.refs -= 1
        if watch.refs > 0:
            return
        del self.live[shard]
        if keep:
            self.retiring.append(watch)
        else:
            watch.detach()

    def rows(self) -> list[Row]:
        """The rows of a scrape, by key order; folds shard objects that have ended."""
        with self._lock:
            retiring = list(self.retiring)
            done = [w for w in retiring if w.shard.state.is_terminal or w.shard.stats["connections"] == 0]
            for watch in done:
                watch.catch_up()
                watch.detach()
                base = self.base.get(watch.key)
                if base is None:
                    base = self.base[watch.key] = Row(watch.key)
                base.add(watch.totals(), dict(watch.types))
                self.retiring.remove(watch)
            rows: dict[Key, Row] = {}
            for key, base in list(self.base.items()):
                row = rows[key] = Row(key)
                row.add(base.counters, base.types)
            for watch in [w for w in retiring if w not in done]:
                rows.setdefault(watch.key, Row(watch.key)).add(watch.totals(), dict(watch.types))
            for watch in list(self.live.values()):
                watch.catch_up()
                row = rows.setdefault(watch.key, Row(watch.key))
                row.add(watch.totals(), dict(watch.types))
                row.state = watch.shard.state
                recent = watch.shard.latency.recent
                row.latency = recent[0] if recent else None
        return [rows[key] for key in sorted(rows, key=_order)]


def _order(key: Key) -> tuple[str, str, int, str]:
    app, member, shard = key
    return (app, member, int(shard) if shard.isdigit() else -1, shard)


class MemberSource:
    """Follows the shards a :class:`~rxgateway.cluster.Member` holds, now and later.

    The member re-emits :attr:`Member.states <rxgateway.cluster.Member.states>` when
    it claims a shard (before starting it), on every state change, and when a shard
    it stopped has ended: each emission re-reads :attr:`Member.shards`, so a new shard
    has its sink before its first frame. A scrape re-reads it too (a fallback, should
    an emission be missed).
    """

    def __init__(self, book: Book, member: Member) -> None:
        self.member = member
        self.app = member.app
        self.id = member.id
        self.held: dict[int, Shard] = {}
        self._book = book
        self._closed = False
        self._subscription = member.states.subscribe(self._on_states, self._on_error, lambda: self._on_states(None))
        self.sync()

    def _on_states(self, _states: Any) -> None:
        try:
            self.sync()
        except Exception:  # never into the member's delivery: the next scrape syncs again
            log.exception("metrics: following member %s failed", self.id)

    def _on_error(self, error: Exception) -> None:
        log.debug("member %s: its states ended with %r", self.id, error)

    def sync(self) -> None:
        """Watch what the member holds now; hand back what it no longer holds."""
        if self._closed:
            return
        held = self.member.shards
        book, mine = self._book, self.held
        for number, shard in held.items():
            old = mine.get(number)
            if old is shard:
                continue
            if old is not None:
                book.release(old, keep=True)
            book.attach(shard, (self.app, self.id, str(number)))
            mine[number] = shard
        for number in [n for n in mine if n not in held]:
            book.release(mine.pop(number), keep=True)

    def close(self) -> None:
        """Stop following the member; its shards' counts are forgotten."""
        if self._closed:
            return
        self._closed = True
        self._subscription.dispose()
        for shard in self.held.values():
            self._book.release(shard, keep=False)
        self.held.clear()
