"""The sans-I/O shard: every decision about one gateway session, and nothing else.

Rules of this file:

- Everything that decides what a shard does next lives here: state transitions,
  heartbeats and zombie detection, identify versus resume, close-code handling,
  reconnect pacing, sequence tracking and command rate limiting.
- It owns no socket, no task and no clock. Time comes in as ``now`` (monotonic
  seconds); randomness comes from an injected ``rng``. Each input returns a list of
  actions for the driver and outputs for observers (see :mod:`.outputs`).
- It does not know who listens or how frames travel. It knows which dispatch types
  are wanted (:attr:`ShardMachine.wanted`, a bit mask the driver keeps up to date),
  because deciding what to parse is part of reading the protocol: an unwanted
  dispatch has its sequence tracked and is never parsed.

The receive loop calls :meth:`ShardMachine.on_message`, which answers the common case
(a dispatch in the gateway's usual layout) with ``None`` or a ``(sequence, name, d)``
tuple, and everything else with the same list of outputs as :meth:`ShardMachine.on_frame`.

Theory of operation. A connection's life is: ``Connect`` → ``on_connected`` →
Hello (op 10) arrives → heartbeat timer armed at ``interval × U[0,1)``, moved to the
phase grid of :mod:`.heartbeat` → Resume is
sent (a session exists) or an identify permit is requested from the queue and
Identify sent when granted → READY or RESUMED makes the shard Active → user
commands flow → the connection ends (``on_closed``), and the machine decides, from
who ended it and why, whether to keep the session, how long to wait, and where to
reconnect. The one timer the driver keeps is :attr:`ShardMachine.deadline`; when it
passes, the driver calls :meth:`ShardMachine.on_timeout`.

Two states are kept, and nothing else decides: :class:`~.state.ShardState` (what users
see: Disconnected, Identifying, Resuming, Active, Closed) and :class:`Phase`, where the
socket stands (New, Idle, Connecting, Awaiting Hello, Open, Closing), which moves only
along :data:`PHASE_MOVES`. The rest is data of the current phase (the heartbeat's
``awaiting_ack``, an identify request outstanding) or caches of the two.

The tables of reference/twilight.md §2.2 / §2.7 and GATEWAY.md §3.10, with our fixes:
4003/4007/4009 drop the session (twilight resumes in vain), op 9 d=false waits 1-5 s
before identifying, stale frames never cross into a new connection, and a connection
that ends before reaching a session counts as a failed attempt, so a server that
accepts and closes at once is met with backoff rather than a tight loop.

Progress is a live session: a connection counts as a failed attempt only if it ended
having reached nothing, neither READY/RESUMED nor a single new dispatch. A resume
whose replay is cut short (op 7, op 9 d=true, a close or a drop in the middle of a
long backlog) still moved the session forward, so the next connection is made at once
and resumes from where this one stopped, however many times that happens.

Nothing is lost silently: a wanted dispatch that does not parse leaves the sequence
where it was and the connection is resumed, so the gateway sends it again (after
:data:`MAX_CORRUPT_REPLAYS` failures of the same dispatch the session is given up and
a new one identified, and that is reported); commands handed to a connection that
ended before writing them come back through :meth:`ShardMachine.on_unsent`; commands
still queued when the shard closes for good are reported; an identify queue that
raises is retried with backoff (:meth:`ShardMachine.on_identify_failed`).
"""

from __future__ import annotations

import random
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import orjson
import zstandard

from ..errors import (
    AuthenticationError,
    CommandsNotSentError,
    CompressionError,
    DeserializationError,
    DisallowedIntentsError,
    FatalCloseError,
    GatewayError,
    IdentifyQueueError,
    PayloadTooLargeError,
    ShardClosedError,
)
from ..protocol.close import CloseAction, CloseCode, CloseFrame, close_action
from ..protocol.commands import Identify, Resume
from ..protocol import _extension
from ..protocol.envelope import (
    PROBED_NAMES,
    compiled_probe_dispatch,
    dispatch_probe,
    event_bit,
    parse_payload,
    read_envelope,
)
from ..protocol.event_type import EventTypeFlags
from ..protocol.opcode import API_VERSION, OpCode
from ..protocol.shard_id import ShardId
from .backoff import backoff_delay, invalid_session_delay
from .heartbeat import beat_time
from .inflate import Inflater, ZstdStreamInflater, make_inflater, zstd_error
from .latency import Latency
from .phase import PHASE_MOVES, RECEIVING, WITH_SOCKET, Phase
from .outputs import (
    CancelIdentify,
    Close,
    Closed,
    Connect,
    Drop,
    Fatal,
    Output,
    Problem,
    Received,
    RequestIdentify,
    Send,
    StateChanged,
)
from .ratelimiter import CommandRatelimiter
from .session import Session
from .state import ShardState, StateKind

if TYPE_CHECKING:
    from ..config import Config

#: Largest payload the gateway accepts from a client (GATEWAY.md §11.3).
MAX_PAYLOAD_BYTES = 4096
#: How long to wait for Hello after the websocket opened before giving up on the
#: connection. Discord sends Hello at once; twilight waits for ever.
HELLO_TIMEOUT = 20.0
#: The close frame the shard sends to reconnect and resume (keeps the session).
RESUME_CLOSE = CloseFrame.RESUME
#: The close frame the shard sends when the session is gone anyway (op 9 d=false).
DROP_SESSION_CLOSE = CloseFrame.NORMAL

#: How many times the same dispatch may arrive unreadable before the session is given
#: up: each time the connection is resumed so the gateway sends it again; a frame
#: that stays broken would otherwise loop for ever.
MAX_CORRUPT_REPLAYS = 3

# Plain ints for the per-frame comparisons (an IntEnum compares more slowly).
_OP_DISPATCH = int(OpCode.DISPATCH)
_OP_HEARTBEAT = int(OpCode.HEARTBEAT)
_OP_RECONNECT = int(OpCode.RECONNECT)
_OP_INVALID_SESSION = int(OpCode.INVALID_SESSION)
_OP_HELLO = int(OpCode.HELLO)
_OP_HEARTBEAT_ACK = int(OpCode.HEARTBEAT_ACK)
#: A heartbeat ACK as the gateway writes it, byte for byte: recognised without a parse
#: (one per beat per shard, the most common frame of an idle shard). Any other layout
#: of an ACK takes the general lane and means the same.
_ACK_PAYLOAD = b'{"t":null,"s":null,"op":11,"d":null}'

_loads = orjson.loads
#: The names :meth:`ShardMachine.on_message` answers itself (READY and RESUMED are not).
_LANE_NAMES = frozenset(PROBED_NAMES.values())
_ALL_DISPATCHES = int(EventTypeFlags.DISPATCHES)

_FATAL_ERRORS: dict[int, type[FatalCloseError]] = {
    CloseCode.AUTHENTICATION_FAILED: AuthenticationError,
    CloseCode.DISALLOWED_INTENTS: DisallowedIntentsError,
}


class Pending:
    """A frame :meth:`ShardMachine.on_message` read but did not finish: it needs the
    time. Hand it to :meth:`ShardMachine.on_pending` with ``now``, at once.

    ``payload`` is the frame's payload (or, when ``error`` is set, the data that could
    not be read); ``error`` why it could not be read, else ``None``.

    Example::

        >>> from rxgateway import Config, Intents, ShardId
        >>> m = ShardMachine(ShardId(0, 1), Config("token", Intents(0), compression=None))
        >>> _ = m.start(0.0), m.on_connected(0.0)
        >>> hello = m.on_message(b'{"op":10,"d":{"heartbeat_interval":41250}}')
        >>> hello
        Pending(payload=b'{"op":10,"d":{"heartbeat_interval":41250}}', error=None)
        >>> [type(o).__name__ for o in m.on_pending(0.0, hello)]
        ['Received', 'RequestIdentify']
    """

    __slots__ = ("error", "payload")

    def __init__(self, payload: bytes, error: GatewayError | None = None) -> None:
        self.payload = payload
        self.error = error

    def __repr__(self) -> str:
        return f"Pending(payload={self.payload[:64]!r}, error={self.error!r})"


class ShardMachine:
    """One shard's gateway protocol, as a plain object driven by inputs.

    Example (the driver's view, abridged)::

        m = ShardMachine(ShardId(0, 1), config)
        actions = m.start(now)                 # [Connect(url)]
        actions = m.on_connected(now)          # [StateChanged(Disconnected -> Identifying)]
        actions = m.on_frame(now, hello_bytes) # [Received(op=10...), RequestIdentify()]
        actions = m.on_identify_granted(now)   # [Send(identify)]
        if m.deadline is not None and now >= m.deadline:
            actions = m.on_timeout(now)        # heartbeats, reconnects, held commands
    """

    # Slots, not a __dict__: ~1 KiB less per shard, times a thousand idle shards.
    __slots__ = (
        "_awaiting_ack", "_close_frame", "_corrupt_count", "_corrupt_seq",
        "_dispatches_at_connect", "_failures",
        "_handshake", "_heartbeat_at", "_heartbeat_interval", "_hello_by", "_identify_failures",
        "_identify_requested", "_identify_retry_at", "_inflate", "_inflater", "_latency", "_outbox",
        "_parse_all", "_phase", "_ratelimiter", "_reconnect_at", "_reconnect_delay",
        "_receiving", "_resume_url", "_rng", "_send_blocked_until", "_sequence", "_session_id",
        "_state", "_wanted", "_wanted_names", "config", "dispatches", "duplicates_dropped", "shard_id",
        "tap",
    )  # fmt: skip

    def __init__(self, shard_id: ShardId, config: Config, *, rng: Callable[[], float] = random.random) -> None:
        self.shard_id = shard_id
        self.config = config
        self._rng = rng
        self._state = ShardState.disconnected(0)
        # The session (from READY, or handed in through the config).
        session = config.session
        self._session_id: str | None = session.id if session else None
        self._sequence: int | None = session.sequence if session else None
        self._resume_url: str | None = config.resume_url if session else None
        # The connection.
        self._phase = Phase.NEW
        #: ``phase in RECEIVING``, kept by :meth:`_enter` only: read once per frame.
        self._receiving = False
        self._inflater: Inflater | None = make_inflater(config.compression)
        #: What on_message inflates with: zstd's own C ``decompress`` (no Python frame
        #: per message; renewed with the context by every reset), or ``feed``.
        self._inflate: Callable[[bytes], bytes | None] | None = None
        self._bind_inflate()
        self._heartbeat_interval: float | None = None
        self._heartbeat_at: float | None = None
        self._awaiting_ack = False
        self._hello_by: float | None = None
        self._ratelimiter: CommandRatelimiter | None = None
        self._latency = Latency()
        self._identify_requested = False
        #: Consecutive identify queue failures on this connection (the retry backoff).
        self._identify_failures = 0
        self._identify_retry_at: float | None = None
        self._handshake: tuple[bytes, str] | None = None
        self._send_blocked_until: float | None = None
        # Between connections.
        self._reconnect_at: float | None = None
        #: While CLOSING: the delay to reconnect after, counted once the socket is gone.
        self._reconnect_delay: float | None = None
        #: Consecutive connections that ended (or failed to open) without reaching a
        #: session: the backoff exponent, shown as ``Disconnected(attempts)``.
        self._failures = 0
        #: :attr:`dispatches` when the current connection opened: more at its end means
        #: the connection moved the session forward (see "Progress" above).
        self._dispatches_at_connect = 0
        #: The sequence after which a wanted dispatch did not parse, and how many times
        #: in a row it came back unreadable.
        self._corrupt_seq: int | None = None
        self._corrupt_count = 0
        # Commands from the user: kept across reconnects, sent once identified.
        # Made on first use: an empty deque costs ~0.7 KiB, times a thousand idle shards.
        self._outbox: deque[bytes] | None = None
        self._close_frame: CloseFrame | None = None
        #: Dispatches dropped because their sequence was already delivered.
        self.duplicates_dropped = 0
        #: Dispatches accepted (duplicates not counted), wanted or not.
        self.dispatches = 0
        self._wanted = 0
        self._parse_all = False
        #: The names of :attr:`wanted`'s dispatches that the probe reads: one set lookup
        #: per dispatch (a test of the big flag int costs half as much again).
        self._wanted_names: frozenset[str] = frozenset()
        #: Called with every payload the machine accepts (each dispatch once, less the
        #: duplicates; Hello, ACKs, op 7, op 9 ...), before any parse, in order; not
        #: frames that failed to inflate or decode. ``None`` (the default) costs one
        #: test per accepted frame. The driver sets it while a recorder is attached.
        self.tap: Callable[[bytes], None] | None = None

    # ------------------------------------------------------------------ views

    @property
    def state(self) -> ShardState:
        """The current state."""
        return self._state

    @property
    def phase(self) -> Phase:
        """Where the current connection stands (see :class:`Phase`)."""
        return self._phase

    @property
    def session(self) -> Session | None:
        """The session to resume (id and last sequence), or ``None``."""
        if self._session_id is None:
            return None
        return Session(self._session_id, self._sequence or 0)

    @property
    def sequence(self) -> int | None:
        """The last dispatch sequence number received on this session."""
        return self._sequence

    @property
    def resume_url(self) -> str | None:
        """The ``resume_gateway_url`` of the session, if any."""
        return self._resume_url

    @property
    def latency(self) -> Latency:
        """Heartbeat round trips of the current connection."""
        return self._latency

    @property
    def ratelimiter(self) -> CommandRatelimiter | None:
        """The command ratelimiter of the current connection, if any."""
        return self._ratelimiter

    @property
    def queued_commands(self) -> int:
        """User commands waiting to be sent."""
        return len(self._outbox) if self._outbox is not None else 0

    @property
    def heartbeat_interval(self) -> float | None:
        """Seconds between heartbeats on this connection (from Hello)."""
        return self._heartbeat_interval

    @property
    def deadline(self) -> float | None:
        """When :meth:`on_timeout` must next be called, or ``None``: the earliest of the
        machine's five timers, read from plain slots (the driver reads it after every
        list of outputs, and a timer moves about once per heartbeat)."""
        best = self._heartbeat_at
        for at in (self._reconnect_at, self._hello_by, self._send_blocked_until, self._identify_retry_at):
            if at is not None and (best is None or at < best):
                best = at
        return best

    # ------------------------------------------------------------------ inputs

    def start(self, now: float) -> list[Output]:
        """Begin: the first connection is made at once."""
        if self._phase is not Phase.NEW:
            raise RuntimeError("the shard was already started")
        return self._connect(now)

    def restore(self, session: Session, resume_url: str | None = None) -> None:
        """Resume ``session`` (saved by an earlier process) on the first connection
        instead of identifying, at ``resume_url`` if given. Only before :meth:`start`;
        the same as a config's ``session`` and ``resume_url``."""
        if self._phase is not Phase.NEW or self._state.is_terminal:
            raise RuntimeError("a session can only be restored before the shard starts")
        self._session_id = session.id
        self._sequence = session.sequence
        self._resume_url = resume_url

    def on_connected(self, now: float) -> list[Output]:
        """The websocket opened."""
        self._enter(Phase.AWAITING_HELLO)
        self._dispatches_at_connect = self.dispatches
        self._handshake = None
        if self._inflater is not None:
            self._inflater.reset()
            self._bind_inflate()
        if self._state.kind is StateKind.CLOSED:
            # The user closed the shard while we were connecting.
            frame = self._close_frame or CloseFrame.NORMAL
            return self._end_connection(Close(frame.code, frame.reason))
        self._hello_by = now + HELLO_TIMEOUT
        return self._set_state(ShardState.IDENTIFYING)

    def on_connect_failed(self, now: float, error: BaseException) -> list[Output]:
        """Opening the websocket failed or timed out.

        A failed connect to the resume URL falls back to the gateway URL. The session
        is kept: the resume is tried there, and a gateway that cannot resume it answers
        op 9, which leads to Identify; dropping it here would lose the missed events.
        """
        self._enter(Phase.IDLE)
        if self._state.is_terminal:
            return []
        self._resume_url = None
        self._failures += 1
        out = self._set_state(ShardState.disconnected(self._failures))
        self._schedule_reconnect(now)
        return out

    def on_frame(self, now: float, data: bytes | str) -> list[Output]:
        """A websocket message arrived (binary when transport-compressed): every answer
        as a list. The reading is :meth:`on_message`'s; this only inflates first and
        turns its short answers into outputs."""
        if not self._receiving:
            return []
        if isinstance(data, str):  # a text frame: never compressed
            payload = data.encode()
        elif self._inflater is not None:
            try:
                inflated = self._inflater.feed(data)
            except CompressionError as exc:
                return self._unreadable(now, exc)
            if inflated is None:
                return []
            payload = inflated
        else:
            payload = data
        out = self.on_message(payload, inflated=True)
        if out is None:
            return []
        if isinstance(out, tuple):
            seq, name, d = out
            return [Received(_OP_DISPATCH, seq, name, payload, {"t": name, "s": seq, "op": _OP_DISPATCH, "d": d})]
        return self.on_pending(now, out)

    def on_message(self, data: bytes, inflated: bool = False) -> tuple[int, str, Any] | Pending | None:
        """:meth:`on_frame` for the receive loop: the common case answered without a
        list and without the time. The one reading of a payload.

        ``data`` is a binary frame's bytes, inflated here on a compressed connection;
        ``inflated``: ``data`` is a payload already (a text frame's bytes: the gateway
        never compresses those).

        A dispatch the gateway wrote in its usual layout (see
        :func:`~rxgateway.protocol.envelope.probe_dispatch`) has its sequence tracked
        and is

        * ``None`` when its type is not in :attr:`wanted` (never parsed), when it was
          already delivered (a duplicate), or when the message decoded to nothing yet;
        * ``(sequence, name, d)`` when it is wanted, ``d`` parsed.

        Everything else (READY, RESUMED, other opcodes and layouts, a frame that does
        not inflate, a wanted dispatch that does not parse) is a :class:`Pending`: the
        machine needs the time for it, so the driver reads its clock then (not once
        per frame) and hands both straight to :meth:`on_pending`, before any other
        input. No state changes and no timer moves until then.
        """
        if not self._receiving:
            return None
        inflate = self._inflate
        if inflate is None or inflated:
            payload = data
        else:
            try:
                unpacked = inflate(data)
            except CompressionError as exc:
                return Pending(data, exc)
            except zstandard.ZstdError as exc:  # the zstd context's own, called directly
                broken = zstd_error(exc)
                broken.__cause__ = exc
                return Pending(data, broken)
            if not unpacked:  # feed's None, or decompress's b"": no payload yet
                return None
            payload = unpacked
        # Three lanes, one policy: the sequence moves only once a dispatch is accepted,
        # a wanted dispatch is parsed before it is accepted, and every accepted payload
        # goes to the tap.
        if _read_lane is not None:  # the probe lane below, compiled: one call, for any wanted set
            out = _read_lane(self, payload)
            if out is not NotImplemented:
                return out  # type: ignore[no-any-return]
        if self._parse_all:  # every dispatch is wanted: parse first, one parse (any key order)
            try:
                parsed = _loads(payload)
            except ValueError:  # orjson.JSONDecodeError: the general lane reports it
                parsed = None
            if type(parsed) is dict:
                name, seq, op = parsed.get("t"), parsed.get("s"), parsed.get("op")
                if type(seq) is int and op == _OP_DISPATCH and type(op) is int and type(name) is str and name in _LANE_NAMES:
                    last = self._sequence
                    if last is not None and seq <= last:
                        self.duplicates_dropped += 1
                        return None
                    self._sequence = seq
                    self.dispatches += 1
                    if self.tap is not None:
                        self.tap(payload)
                    return seq, name, parsed.get("d")
        elif _read_lane is None:  # the gateway's own layout, read without a parse: every frame
            probed = dispatch_probe(payload)
            if probed is not None:
                name, seq = probed
                last = self._sequence
                if last is not None and seq <= last:
                    self.duplicates_dropped += 1
                    return None
                if name not in self._wanted_names:
                    self._sequence = seq
                    self.dispatches += 1
                    if self.tap is not None:
                        self.tap(payload)
                    return None
                try:  # parsed before the sequence moves
                    d = _loads(payload)["d"]
                except ValueError:  # orjson.JSONDecodeError: the general lane reports it, and it is replayed
                    return Pending(payload)
                self._sequence = seq
                self.dispatches += 1
                if self.tap is not None:
                    self.tap(payload)
                return seq, name, d
        return Pending(payload)

    def on_pending(self, now: float, pending: Pending) -> list[Output]:
        """The rest of a frame :meth:`on_message` answered with a :class:`Pending`, at
        ``now``: every answer as a list, as :meth:`on_frame` gives it."""
        if pending.error is not None:
            return self._unreadable(now, pending.error)
        payload = pending.payload
        out = self._on_ack(now, payload) if payload == _ACK_PAYLOAD else self._on_payload(now, payload)
        tap = self.tap
        if tap is not None:
            for o in out:
                if type(o) is Received:
                    tap(o.raw)
        return out

    def _bind_inflate(self) -> None:
        """Point :meth:`on_message`'s inflate at the current context (see ``_inflate``)."""
        inflater = self._inflater
        if isinstance(inflater, ZstdStreamInflater):
            self._inflate = inflater.decompress
        else:
            self._inflate = inflater.feed if inflater is not None else None

    @property
    def wanted(self) -> int:
        """The dispatch types (:class:`~rxgateway.protocol.EventTypeFlags` bits) the
        driver's consumers want: :meth:`on_message` parses only these. The driver sets
        it as subscribers come and go."""
        return self._wanted

    @wanted.setter
    def wanted(self, flags: int) -> None:
        self._wanted = int(flags) & _ALL_DISPATCHES
        self._parse_all = self._wanted == _ALL_DISPATCHES
        self._wanted_names = frozenset(name for name in _LANE_NAMES if event_bit(_OP_DISPATCH, name) & self._wanted)

    def _on_payload(self, now: float, payload: bytes) -> list[Output]:
        """One inflated payload, any opcode, any layout."""
        try:
            op, seq, name = read_envelope(payload)
        except DeserializationError as exc:
            return self._unreadable(now, exc)
        if op == _OP_DISPATCH:
            if name == "READY" or name == "RESUMED":
                try:  # the envelope scan does not check d; READY's is parsed here
                    return self._on_dispatch(now, seq, name, payload)
                except DeserializationError as exc:
                    return self._recoverable(now, exc, f"undecodable {name}")
            # The common case, inlined: track the sequence, drop what was delivered.
            if seq is not None:
                last = self._sequence
                if last is not None and seq <= last:
                    self.duplicates_dropped += 1
                    return []
            data: dict[str, Any] | None = None
            if self._wanted & event_bit(_OP_DISPATCH, name):  # parsed here, once, before the sequence moves
                try:
                    data = parse_payload(payload)[0]
                except DeserializationError:
                    return self._unreadable(now, DeserializationError(f"dispatch {name} (sequence {seq}) is not valid JSON", payload))
            if seq is not None:
                self._sequence = seq
            self.dispatches += 1
            return [Received(_OP_DISPATCH, seq, name, payload, data)]
        if op == _OP_HEARTBEAT_ACK:
            return self._on_ack(now, payload)
        if op == _OP_HEARTBEAT:
            out: list[Output] = [Received(op, None, None, payload)]
            if self._phase is Phase.OPEN:
                out.append(self._heartbeat(now))
            return out
        if op == _OP_HELLO:
            try:
                return self._on_hello(now, payload)
            except DeserializationError as exc:
                return self._recoverable(now, exc, "undecodable Hello")
        if op == _OP_RECONNECT:
            out = [Received(op, None, None, payload)]
            out += self._end_connection(Close(RESUME_CLOSE.code, RESUME_CLOSE.reason))
            self._schedule_reconnect(now)
            return out
        if op == _OP_INVALID_SESSION:
            try:
                return self._on_invalid_session(now, payload)
            except DeserializationError as exc:
                return self._recoverable(now, exc, "undecodable Invalid Session")
        return [Problem(DeserializationError(f"unknown opcode {op} ignored", payload))]

    def _on_ack(self, now: float, payload: bytes) -> list[Output]:
        """Heartbeat ACK (op 11): the connection is alive; the beat's round trip is timed."""
        self._awaiting_ack = False
        self._latency.record_received(now)
        return [Received(_OP_HEARTBEAT_ACK, None, None, payload)]

    def on_identify_granted(self, now: float) -> list[Output]:
        """The identify queue allowed this shard to identify."""
        if not self._identify_requested:
            return []
        self._identify_requested = False
        self._identify_failures = 0
        if not self._may_identify():
            return []
        identify = Identify(
            token=self.config.bare_token,
            intents=self.config.intents,
            properties=dict(self.config.identify_properties),
            large_threshold=self.config.large_threshold,
            shard=self.shard_id,
            presence=self.config.presence,
        )
        self._handshake = (identify.to_bytes(), "identify")
        return self._flush(now)

    def on_identify_failed(self, now: float, error: BaseException) -> list[Output]:
        """The identify queue raised instead of granting a permit (a Redis queue whose
        server is down, say). Reported, then asked again after a backoff (0, 1, 2, 4 ...
        s), for as long as the connection lasts; never a shard stuck in Identifying."""
        if not self._identify_requested:
            return []
        self._identify_requested = False
        if not self._may_identify():
            return []
        self._identify_failures += 1
        delay = backoff_delay(self._identify_failures - 1, self._rng)
        self._identify_retry_at = now + delay
        failure = IdentifyQueueError(f"the identify queue failed: {error!r}; asking again in {delay:.1f} s")
        failure.__cause__ = error
        return [Problem(failure)]

    def on_unsent(self, now: float, payloads: list[bytes]) -> list[Output]:
        """User commands the driver had been handed (as :class:`Send` of kind
        ``"command"``) but never wrote, because their connection ended first. They go
        back to the front of the queue, in order, for the next connection; a shard that
        is over reports them instead."""
        if not payloads:
            return []
        outbox = self._outbox
        if outbox is None:
            outbox = self._outbox = deque()
        outbox.extendleft(reversed(payloads))
        if self._state.is_terminal:
            return self._abandon_outbox()
        return self._flush(now)

    def on_closed(self, now: float, code: int | None, reason: str = "") -> list[Output]:
        """The socket is gone: closed by the server, by us, or by the network.

        ``code`` is the close code received, or ``None`` when there was none (a drop).
        """
        if self._phase not in WITH_SOCKET:
            return []
        by_us = self._phase is Phase.CLOSING
        self._enter(Phase.IDLE)
        out: list[Output] = self._reset_connection()
        if by_us:
            delay, self._reconnect_delay = self._reconnect_delay, None
            if delay is not None and not self._state.is_terminal:
                self._reconnect_at = now + delay
            return out
        initiator = "server" if code is not None else "transport"
        out.append(Closed(code, reason, initiator))
        if self._state.is_terminal:
            return out
        action = close_action(code)
        if action is CloseAction.FATAL:
            assert code is not None
            error = _FATAL_ERRORS.get(code, FatalCloseError)(code, reason)
            out += self._set_state(ShardState.FATALLY_CLOSED)
            out += self._abandon_outbox()
            out.append(Fatal(error))
            return out
        self._note_connection_end()
        if action is CloseAction.REIDENTIFY:
            self._drop_session()
        out += self._set_state(ShardState.disconnected(self._failures))
        # GATEWAY.md §3.10: after 4008, back off before reconnecting.
        self._schedule_reconnect(now, pause=code == CloseCode.RATE_LIMITED)
        return out

    def on_timeout(self, now: float) -> list[Output]:
        """The :attr:`deadline` passed."""
        out: list[Output] = []
        if self._reconnect_at is not None and now >= self._reconnect_at:
            self._reconnect_at = None
            out += self._connect(now)
        if self._hello_by is not None and now >= self._hello_by:
            self._hello_by = None
            out += self._end_connection(Drop("no Hello from the gateway"))
            self._schedule_reconnect(now)
            return out
        if self._heartbeat_at is not None and now >= self._heartbeat_at:
            if self._awaiting_ack:
                # Zombie: the last beat was never acknowledged. Drop the socket without
                # a close handshake (it would wait on a dead link) and resume.
                out += self._end_connection(Drop("no heartbeat ACK since the last beat"))
                self._schedule_reconnect(now)
                return out
            interval = self._heartbeat_interval
            assert interval is not None
            # The last point of the grid within one interval of this beat: the next of
            # the same phase, or after a stall, the one closest to a whole interval.
            self._heartbeat_at = beat_time(now + interval, now, interval)
            out.append(self._heartbeat(now))
        if self._identify_retry_at is not None and now >= self._identify_retry_at:
            self._identify_retry_at = None
            if self._may_identify():
                self._identify_requested = True
                out.append(RequestIdentify())
        if self._send_blocked_until is not None and now >= self._send_blocked_until:
            self._send_blocked_until = None
            out += self._flush(now)
        return out

    def send(self, now: float, payload: bytes) -> list[Output]:
        """Queue a user command (serialised JSON). It is sent once the shard is
        identified, in order, within the rate limit, surviving reconnects."""
        if self._state.is_terminal:
            raise ShardClosedError(f"shard {self.shard_id} is closed; nothing more can be sent")
        if len(payload) > MAX_PAYLOAD_BYTES:
            raise PayloadTooLargeError(f"payload is {len(payload)} bytes; the gateway accepts at most {MAX_PAYLOAD_BYTES}")
        if self._outbox is None:
            self._outbox = deque()
        self._outbox.append(payload)
        return self._flush(now)

    def close(self, now: float, frame: CloseFrame = CloseFrame.NORMAL) -> list[Output]:
        """Close the shard for good. 1000/1001 end the session; other codes keep it
        (read :attr:`session` and :attr:`resume_url` to resume it later)."""
        if self._state.is_terminal:
            return []
        self._close_frame = frame
        if not frame.keeps_session:
            self._drop_session()
        self._reconnect_at = None
        self._reconnect_delay = None
        out = self._set_state(ShardState.CLOSED)
        if self._phase is Phase.NEW:
            self._enter(Phase.IDLE)
        elif self._phase in RECEIVING:
            out += self._end_connection(Close(frame.code, frame.reason))
        out += self._abandon_outbox()
        return out

    # --------------------------------------------------------------- internals

    def _connect(self, now: float) -> list[Output]:
        use_resume = self._resume_url is not None and self._session_id is not None
        base = self._resume_url if use_resume else self.config.gateway_url
        assert base is not None
        query = f"/?v={API_VERSION}&encoding=json"
        if self.config.compression:
            query += f"&compress={self.config.compression}"
        self._enter(Phase.CONNECTING)
        return [Connect(base.rstrip("/") + query, to_resume_url=use_resume)]

    def _on_hello(self, now: float, payload: bytes) -> list[Output]:
        data = parse_payload(payload)[0]
        interval_ms = (data.get("d") or {}).get("heartbeat_interval") if isinstance(data.get("d"), dict) else None
        if isinstance(interval_ms, bool) or not isinstance(interval_ms, (int, float)) or interval_ms <= 0:
            error = DeserializationError(f"Hello with an unusable heartbeat_interval {interval_ms!r}", payload)
            return [Received(_OP_HELLO, None, None, payload, data), *self._recoverable(now, error, "bad Hello")]
        out: list[Output] = [Received(_OP_HELLO, None, None, payload, data)]
        if self._phase is Phase.OPEN:
            return out  # a repeated Hello changes nothing
        self._enter(Phase.OPEN)
        self._hello_by = None
        interval = interval_ms / 1000.0
        self._heartbeat_interval = interval
        self._heartbeat_at = beat_time(now + interval * self._rng(), now, interval)
        self._awaiting_ack = False
        self._latency = Latency()
        self._ratelimiter = CommandRatelimiter(interval) if self.config.ratelimit_messages else None
        if self._session_id is not None:
            resume = Resume(token=self.config.bare_token, session_id=self._session_id, seq=self._sequence or 0)
            self._handshake = (resume.to_bytes(), "resume")
            out += self._set_state(ShardState.RESUMING)
            out += self._flush(now)
        else:
            self._identify_requested = True
            out.append(RequestIdentify())
        return out

    def _on_dispatch(self, now: float, seq: int | None, name: str, payload: bytes) -> list[Output]:
        """READY and RESUMED."""
        out: list[Output] = []
        if name == "READY":
            data = parse_payload(payload)[0]
            d = data.get("d")
            session_id = d.get("session_id") if isinstance(d, dict) else None
            if not isinstance(session_id, str):
                error = DeserializationError("READY without a session_id", payload)
                return self._recoverable(now, error, "bad READY")
            resume_url = d.get("resume_gateway_url") if isinstance(d, dict) else None
            self._session_id = session_id
            self._sequence = seq
            self._resume_url = resume_url if isinstance(resume_url, str) and resume_url else None
            self._failures = 0
            self.dispatches += 1
            out += self._set_state(ShardState.ACTIVE)
            out.append(Received(_OP_DISPATCH, seq, name, payload, data))
            out += self._flush(now)
            return out
        if name == "RESUMED" and self._state.kind is StateKind.RESUMING:
            data = parse_payload(payload)[0]
            self._failures = 0
            out += self._set_state(ShardState.ACTIVE)
            if seq is not None and (self._sequence is None or seq > self._sequence):
                self._sequence = seq
            self.dispatches += 1
            out.append(Received(_OP_DISPATCH, seq, name, payload, data))
            out += self._flush(now)
            return out
        if seq is not None:  # a RESUMED outside a resume: a dispatch like any other
            if self._sequence is not None and seq <= self._sequence:
                self.duplicates_dropped += 1
                return out
            self._sequence = seq
        self.dispatches += 1
        out.append(Received(_OP_DISPATCH, seq, name, payload, parse_payload(payload)[0]))
        return out

    def _on_invalid_session(self, now: float, payload: bytes) -> list[Output]:
        data = parse_payload(payload)[0]
        resumable = data.get("d") is True
        out: list[Output] = [Received(_OP_INVALID_SESSION, None, None, payload, data)]
        if resumable and self._session_id is not None:
            out += self._end_connection(Close(RESUME_CLOSE.code, RESUME_CLOSE.reason))
            self._schedule_reconnect(now)
            return out
        self._drop_session()
        out += self._end_connection(Close(DROP_SESSION_CLOSE.code, DROP_SESSION_CLOSE.reason))
        self._schedule_reconnect(now, pause=True)  # GATEWAY.md §3.8: wait 1-5 s, then identify
        return out

    def _recoverable(self, now: float, error: GatewayError, why: str) -> list[Output]:
        """A bad frame: report it, close with a resumable code, resume. The resume
        replays whatever the bad frame may have carried, so nothing is lost."""
        out: list[Output] = [Problem(error)]
        out += self._end_connection(Close(RESUME_CLOSE.code, why[:120]))
        self._schedule_reconnect(now)
        return out

    def _heartbeat(self, now: float) -> Send:
        self._awaiting_ack = True
        self._latency.record_sent(now)
        return Send(_heartbeat_bytes(self._sequence), "heartbeat")

    def _flush(self, now: float) -> list[Output]:
        """Send what may be sent now: the handshake first, then user commands once
        identified, each taking a ratelimiter permit."""
        if self._phase is not Phase.OPEN:
            return []
        out: list[Output] = []
        limiter = self._ratelimiter
        if self._handshake is not None:
            if limiter is not None and not limiter.acquire(now):
                self._send_blocked_until = now + limiter.next_available(now)
                return out
            data, kind = self._handshake
            self._handshake = None
            out.append(Send(data, kind))
        if not self._state.is_identified:
            return out
        outbox = self._outbox
        while outbox:
            if limiter is not None and not limiter.acquire(now):
                self._send_blocked_until = now + limiter.next_available(now)
                break
            out.append(Send(outbox.popleft(), "command"))
        return out

    def _end_connection(self, action: Close | Drop) -> list[Output]:
        """We end the current connection: stop everything tied to it, and tell the
        driver how to close. ``on_closed`` follows when the socket is gone."""
        out: list[Output] = [action]
        self._enter(Phase.CLOSING)
        out += self._reset_connection()
        code = action.code if isinstance(action, Close) else None
        reason = action.reason
        out.append(Closed(code, reason, "client"))
        self._note_connection_end()
        if not self._state.is_terminal:
            out += self._set_state(ShardState.disconnected(self._failures))
        return out

    def _reset_connection(self) -> list[Output]:
        out: list[Output] = []
        self._hello_by = None
        self._heartbeat_at = None
        self._heartbeat_interval = None
        self._awaiting_ack = False
        self._ratelimiter = None
        self._handshake = None
        self._send_blocked_until = None
        self._identify_retry_at = None
        self._identify_failures = 0
        if self._identify_requested:
            self._identify_requested = False
            out.append(CancelIdentify())
        return out

    def _note_connection_end(self) -> None:
        """A connection that reached its session (READY, RESUMED, or any new dispatch:
        a replay cut short still moved the session forward) resets the backoff; one
        that reached nothing counts as a failed attempt."""
        if self.dispatches > self._dispatches_at_connect:  # READY and RESUMED count too
            self._failures = 0
        else:
            self._failures += 1

    def _unreadable(self, now: float, error: GatewayError) -> list[Output]:
        """A frame that may carry a dispatch could not be read (it did not inflate, or a
        wanted dispatch did not parse). The sequence stays where it was and the
        connection is resumed, so the gateway sends it again; unreadable
        :data:`MAX_CORRUPT_REPLAYS` times in a row at the same point, the session is
        given up and a new one identified, and that is reported."""
        after = self._sequence
        if self._corrupt_seq == after:
            self._corrupt_count += 1
        else:
            self._corrupt_seq, self._corrupt_count = after, 1
        if self._corrupt_count < MAX_CORRUPT_REPLAYS or self._session_id is None:
            return self._recoverable(now, error, "unreadable frame: resuming to have it again")
        self._corrupt_seq, self._corrupt_count = None, 0
        lost = DeserializationError(
            f"the frame after sequence {after} arrived unreadable {MAX_CORRUPT_REPLAYS} times in a row; "
            "the session is given up and a new one identified (the events after it are lost)",
        )
        self._drop_session()
        out: list[Output] = [Problem(error), Problem(lost)]
        out += self._end_connection(Close(DROP_SESSION_CLOSE.code, "unreadable dispatch: new session"))
        self._schedule_reconnect(now)
        return out

    def _abandon_outbox(self) -> list[Output]:
        """The shard is over: commands still queued can never be sent; report them."""
        outbox = self._outbox
        if not outbox:
            return []
        payloads = tuple(outbox)
        outbox.clear()
        return [Problem(CommandsNotSentError(f"{len(payloads)} queued command(s) not sent: shard {self.shard_id} closed", payloads))]

    def _schedule_reconnect(self, now: float, *, pause: bool = False) -> None:
        """Reconnect at once after a connection that had a session; after failures,
        back off: none on the first retry, then 1, 2, 4 ... s (see backoff.py).
        ``pause``: wait 1-5 s at least (op 9 d=false, 4008). While our close of the
        socket is under way, the wait counts from when it is gone."""
        if self._state.is_terminal:
            return
        delay = backoff_delay(max(self._failures - 1, 0), self._rng)
        if pause:
            delay = max(delay, invalid_session_delay(self._rng))
        if self._phase is Phase.CLOSING:
            self._reconnect_delay = delay
        else:
            self._reconnect_at = now + delay

    def _may_identify(self) -> bool:
        """Hello came on a live connection and the shard waits to identify."""
        return self._phase is Phase.OPEN and self._state.kind is StateKind.IDENTIFYING

    def _enter(self, phase: Phase) -> None:
        """Move the connection to ``phase``, along :data:`PHASE_MOVES` only."""
        assert phase in PHASE_MOVES[self._phase], f"{self._phase} -> {phase}"
        self._phase = phase
        self._receiving = phase in RECEIVING

    def _drop_session(self) -> None:
        self._session_id = None
        self._sequence = None
        self._resume_url = None

    def _set_state(self, new: ShardState) -> list[Output]:
        old = self._state
        if new == old:
            return []
        self._state = new
        return [StateChanged(old, new)]


def _heartbeat_bytes(seq: int | None) -> bytes:
    """Heartbeat (op 1) as sent, ``{"op":1,"d":N}``. Built exactly sized: ``orjson.dumps``
    hands back a 4 KiB buffer, and the last heartbeat stays referenced in every shard."""
    return b'{"op":1,"d":null}' if seq is None else b'{"op":1,"d":%d}' % seq


def _compile_lane() -> Callable[[ShardMachine, bytes], Any] | None:
    compiled = _extension.load()
    if compiled is None or compiled_probe_dispatch is None:
        return None
    probe = compiled_probe_dispatch.__self__  # type: ignore[attr-defined]
    slots = ("_sequence", "_wanted_names", "dispatches", "duplicates_dropped", "tap")
    return compiled.Lane(probe, ShardMachine, slots, _loads).read  # type: ignore[no-any-return]


#: The probe lane of :meth:`ShardMachine.on_message` compiled (``_cprobe.c``'s ``Lane``),
#: or ``None``, where the extension is not built or is switched off
#: (``RXGATEWAY_NO_EXTENSIONS``): then the Python lane runs, with :data:`dispatch_probe`.
#: One call reads the head, drops a duplicate, tests the wanted names, parses a wanted
#: dispatch and moves the sequence, the count and the tap, on the machine's own slots,
#: as the Python lane does; ``NotImplemented`` for anything it does not answer (another
#: layout, a wanted ``d`` that does not parse), which goes to the general lane.
#: ``tests/machine/conftest.py`` runs the machine's tests under both.
_read_lane: Callable[[ShardMachine, bytes], Any] | None = _compile_lane()
