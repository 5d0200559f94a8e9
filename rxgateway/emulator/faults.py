"""Faults the emulator injects on command (GATEWAY.md §12.11).

A :class:`Fault` says what goes wrong; ``GatewayEmulator.inject`` says to whom (a
shard number, a connection id, a session id, or every open connection). The same
faults are reachable from the command line (``--fault KIND[:ARG]``) and the HTTP
control API (``POST /_emulator/faults``).

Faults can also be timed in dispatches rather than seconds: a
:class:`DispatchFaultPlan` (``EmulatorConfig.fault_every_dispatches`` and
``dispatch_faults``, ``--fault-every-dispatches N``, ``GatewayEmulator.
schedule_dispatch_faults``) applies the next fault of a cycle each time a connection
has *written* another N dispatch frames to its socket, so a fault lands reliably in
the middle of a Resume's replay. A closing fault (:data:`CLOSING_FAULTS`) fired that
way ends the stream exactly there: nothing queued behind it is written (the session's
replay buffer keeps it), op 7 / op 9 go out next, and the close follows after the
usual delay.

Example::

    >>> Fault.parse("close:4009")
    Fault(kind=<FaultKind.CLOSE: 'close'>, code=4009, resumable=False, chunk_bytes=16, data=b'', frame='payload', interval_ms=0)
    >>> Fault.from_json({"fault": "invalid_session", "resumable": True}).resumable
    True
    >>> plan = DispatchFaultPlan.make(1000, ["reconnect", "close:4000"])
    >>> [f.kind.value for f in plan.faults]
    ['reconnect', 'close']
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from ..protocol import CloseCode, CloseFrame

#: The frame size of the slow-link fault: small enough that any payload spans frames.
SLOW_LINK_CHUNK_BYTES = 16
#: A close fault without a code closes with 4000 (Unknown error): resumable (§4.1), as
#: the emulator's own closes after op 7 / op 9 are (``settings.SERVER_CLOSE_CODE``).
CLOSE_FAULT_CODE = int(CloseCode.UNKNOWN_ERROR)
#: The faults ``fault_every_dispatches`` cycles through unless told otherwise: every
#: way a gateway node can go away in the middle of a replay (§3.6 "When to resume").
DEFAULT_DISPATCH_FAULTS = ("reconnect", "invalid_session:true", "close:4000", "drop")


class FaultKind(enum.Enum):
    """What goes wrong (the ``KIND`` of ``--fault KIND[:ARG]``)."""

    CLOSE = "close"
    DROP = "drop"
    ZOMBIE = "zombie"
    RECONNECT = "reconnect"
    INVALID_SESSION = "invalid_session"
    CORRUPT_FRAME = "corrupt_frame"
    INVALID_JSON = "invalid_json"
    REQUEST_HEARTBEAT = "request_heartbeat"
    SLOW_LINK = "slow_link"
    RECONNECT_BEFORE_HELLO = "reconnect_before_hello"
    RAW = "raw"
    BAD_HELLO = "bad_hello"
    CORRUPT_DISPATCH = "corrupt_dispatch"


#: Faults that end the connection they hit (the session stays resumable unless
#: ``invalid_session:false``).
CLOSING_FAULTS = frozenset({FaultKind.CLOSE, FaultKind.DROP, FaultKind.RECONNECT, FaultKind.INVALID_SESSION})
#: Faults that arm the next new connection instead of hitting an open one.
NEXT_CONNECTION_FAULTS = frozenset({FaultKind.RECONNECT_BEFORE_HELLO, FaultKind.BAD_HELLO})


#: What each fault does, and its argument (shown by ``rxgateway emulate --help``).
FAULT_HELP: dict[FaultKind, str] = {
    FaultKind.CLOSE: "close[:CODE]  close the websocket with CODE (default 4000; any 1000-4999 code)",
    FaultKind.DROP: "drop  cut the TCP connection without a close frame (the client sees 1006)",
    FaultKind.ZOMBIE: "zombie  stop sending heartbeat ACKs on the connection (the client must detect it)",
    FaultKind.RECONNECT: "reconnect  send op 7, then close with 4000 after the reconnect delay",
    FaultKind.INVALID_SESSION: (
        "invalid_session[:true|false]  send op 9 with d (default false: the session is deleted), "
        "then close with 4000 after the invalid-session delay"
    ),
    FaultKind.CORRUPT_FRAME: "corrupt_frame  send a frame the client's inflater (or JSON parser) cannot decode",
    FaultKind.INVALID_JSON: "invalid_json  send a payload that is not JSON (compressed like any payload)",
    FaultKind.REQUEST_HEARTBEAT: "request_heartbeat  send op 1: the client must heartbeat at once",
    FaultKind.SLOW_LINK: (
        "slow_link[:BYTES]  split every later zlib-stream message into frames of BYTES (default 16); "
        "zlib-stream connections only"
    ),
    FaultKind.RECONNECT_BEFORE_HELLO: (
        "reconnect_before_hello  the next new connection gets op 7 instead of Hello (needs no target)"
    ),
    FaultKind.RAW: (
        "raw  (control API / Python only) send DATA as-is: as a payload through the connection's "
        "compression (frame=payload), or as one raw text, binary or close frame (frame=text|binary|close)"
    ),
    FaultKind.BAD_HELLO: (
        "bad_hello[:MS]  the next new connection gets Hello with heartbeat_interval MS (default 0) "
        "(needs no target)"
    ),
    FaultKind.CORRUPT_DISPATCH: (
        'corrupt_dispatch  the next dispatch written goes out with a valid head {"t":NAME,"s":N,"op":0,"d": '
        "but its d cut short (not JSON), compressed like any payload; the replay buffer keeps the good "
        "one, so closing with 4000 and resuming from N-1 gets it back"
    ),
}

#: How a raw fault's bytes travel: through the connection's encoder, or as one frame.
RAW_FRAMES = ("payload", "text", "binary", "close")


@dataclass(frozen=True, slots=True)
class Fault:
    """One fault. Build it with the class methods, e.g. ``Fault.close(4009)``."""

    kind: FaultKind
    code: int = CLOSE_FAULT_CODE
    resumable: bool = False
    chunk_bytes: int = SLOW_LINK_CHUNK_BYTES
    #: RAW: the bytes to send, and how (one of :data:`RAW_FRAMES`).
    data: bytes = b""
    frame: str = "payload"
    #: BAD_HELLO: the heartbeat interval the next Hello announces.
    interval_ms: int = 0

    def __post_init__(self) -> None:
        CloseFrame(self.code)  # raises for a code no close frame may carry
        if self.chunk_bytes < 1:
            raise ValueError("slow_link needs a positive frame size")
        if self.frame not in RAW_FRAMES:
            raise ValueError(f"raw frame must be one of {RAW_FRAMES}, got {self.frame!r}")

    @classmethod
    def close(cls, code: int = CLOSE_FAULT_CODE) -> Fault:
        return cls(FaultKind.CLOSE, code=code)

    @classmethod
    def drop(cls) -> Fault:
        return cls(FaultKind.DROP)

    @classmethod
    def zombie(cls) -> Fault:
        return cls(FaultKind.ZOMBIE)

    @classmethod
    def reconnect(cls) -> Fault:
        return cls(FaultKind.RECONNECT)

    @classmethod
    def invalid_session(cls, resumable: bool = False) -> Fault:
        return cls(FaultKind.INVALID_SESSION, resumable=resumable)

    @classmethod
    def corrupt_frame(cls) -> Fault:
        return cls(FaultKind.CORRUPT_FRAME)

    @classmethod
    def invalid_json(cls) -> Fault:
        return cls(FaultKind.INVALID_JSON)

    @classmethod
    def request_heartbeat(cls) -> Fault:
        return cls(FaultKind.REQUEST_HEARTBEAT)

    @classmethod
    def slow_link(cls, chunk_bytes: int = SLOW_LINK_CHUNK_BYTES) -> Fault:
        return cls(FaultKind.SLOW_LINK, chunk_bytes=chunk_bytes)

    @classmethod
    def reconnect_before_hello(cls) -> Fault:
        return cls(FaultKind.RECONNECT_BEFORE_HELLO)

    @classmethod
    def raw(cls, data: bytes, frame: str = "payload") -> Fault:
        """Hostile input: ``data`` as a payload (compressed like any other), or as one
        raw ``text``, ``binary`` or ``close`` frame (a close frame's data is its code and
        reason as the wire carries them, so an invalid code can be sent)."""
        return cls(FaultKind.RAW, data=data, frame=frame)

    @classmethod
    def bad_hello(cls, interval_ms: int = 0) -> Fault:
        """Hostile input: the next new connection's Hello announces ``interval_ms``."""
        return cls(FaultKind.BAD_HELLO, interval_ms=interval_ms)

    @classmethod
    def corrupt_dispatch(cls) -> Fault:
        """The next dispatch written on the connection keeps its head
        (``{"t":"NAME","s":N,"op":0,"d":``) but loses the second half of its ``d`` (so
        the payload is not JSON); it is compressed like any payload, so the stream stays
        decodable. The session's replay buffer holds the intact frame."""
        return cls(FaultKind.CORRUPT_DISPATCH)

    @classmethod
    def parse(cls, text: str) -> Fault:
        """``KIND[:ARG]`` as on the command line: ``close:4009``, ``invalid_session:true``,
        ``slow_link:32``. Raises ``ValueError`` naming the problem."""
        name, _, arg = text.partition(":")
        obj: dict[str, Any] = {"fault": name.strip()}
        if arg:
            key = {
                "close": "code",
                "invalid_session": "resumable",
                "slow_link": "chunk_bytes",
                "bad_hello": "interval_ms",
            }.get(obj["fault"])
            if key is None:
                raise ValueError(f"fault {name!r} takes no argument")
            obj[key] = arg.strip().lower() == "true" if key == "resumable" else _int(arg, key)
        return cls.from_json(obj)

    def to_text(self) -> str:
        """The ``KIND[:ARG]`` form :meth:`parse` reads back (``raw`` loses its data).

        >>> [f.to_text() for f in (Fault.close(4009), Fault.invalid_session(True), Fault.drop())]
        ['close:4009', 'invalid_session:true', 'drop']
        """
        kind = self.kind
        if kind is FaultKind.CLOSE:
            return f"close:{self.code}"
        if kind is FaultKind.INVALID_SESSION:
            return f"invalid_session:{str(self.resumable).lower()}"
        if kind is FaultKind.SLOW_LINK:
            return f"slow_link:{self.chunk_bytes}"
        if kind is FaultKind.BAD_HELLO:
            return f"bad_hello:{self.interval_ms}"
        return str(kind.value)

    @classmethod
    def from_json(cls, obj: dict[str, Any]) -> Fault:
        """A fault from ``{"fault": KIND, "code"?, "resumable"?, "chunk_bytes"?,
        "interval_ms"?, "data"? (a string, sent as UTF-8), "frame"?}``."""
        try:
            kind = FaultKind(obj.get("fault"))
        except ValueError:
            raise ValueError(f"unknown fault {obj.get('fault')!r}; known: {[k.value for k in FaultKind]}") from None
        code = obj.get("code", CLOSE_FAULT_CODE)
        resumable = obj.get("resumable", False)
        chunk_bytes = obj.get("chunk_bytes", SLOW_LINK_CHUNK_BYTES)
        interval_ms = obj.get("interval_ms", 0)
        data = obj.get("data", "")
        frame = obj.get("frame", "payload")
        if not all(isinstance(v, int) for v in (code, chunk_bytes, interval_ms)) or not isinstance(resumable, bool):
            raise ValueError("code, chunk_bytes and interval_ms must be integers, resumable a boolean")
        if not isinstance(data, str) or not isinstance(frame, str):
            raise ValueError("data and frame must be strings")
        return cls(
            kind,
            code=code,
            resumable=resumable,
            chunk_bytes=chunk_bytes,
            interval_ms=interval_ms,
            data=data.encode(),
            frame=frame,
        )


@dataclass(frozen=True, slots=True)
class DispatchFaultPlan:
    """Faults by dispatch count: on every connection, each time ``every`` more dispatch
    frames have been written to its socket (counted by the writer, not when queued),
    the next fault of ``faults`` is applied at exactly that point of the stream.

    The cycle is kept per session (across its connections): the k-th fault of this plan
    that hits a session is ``faults[k % len(faults)]``, so each session sees the faults
    in the same order whatever the timing (a new plan starts every cycle afresh). A closing fault (:data:`CLOSING_FAULTS`) stops the
    connection's dispatches right there (the frames queued behind it are dropped and
    stay in the session's replay buffer); op 7 / op 9 go out next and the close
    follows after the configured delay; a drop flushes what was written first. Other
    faults (``corrupt_dispatch``, ``request_heartbeat``, ``invalid_json``, ...) apply
    there too and counting goes on.
    """

    every: int
    faults: tuple[Fault, ...]

    def __post_init__(self) -> None:
        if isinstance(self.every, bool) or not isinstance(self.every, int) or self.every < 1:
            raise ValueError(f"fault every N dispatches needs a positive integer N, got {self.every!r}")
        if not self.faults:
            raise ValueError("fault every N dispatches needs at least one fault")
        for fault in self.faults:
            if fault.kind in NEXT_CONNECTION_FAULTS:
                raise ValueError(f"{fault.kind.value} arms the next connection; it cannot be timed in dispatches")

    @classmethod
    def make(cls, every: int, faults: Iterable[Fault | str] = DEFAULT_DISPATCH_FAULTS) -> DispatchFaultPlan:
        """A plan from :class:`Fault` objects and/or ``KIND[:ARG]`` strings (parsed with
        :meth:`Fault.parse`). Raises ``ValueError`` for a bad fault or count."""
        return cls(every, tuple(f if isinstance(f, Fault) else Fault.parse(f) for f in faults))


def _int(text: str, name: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise ValueError(f"{name} must be an integer, got {text!r}") from None
