"""Recordings of what shards received: the file format, the :class:`Recorder` that
writes one, the :func:`record` operator, and :class:`Recording` that reads one back.

A recording keeps every payload a shard received, inflated and byte for byte, with
its arrival time, so a session can be replayed later as the very events the shard
emitted (:mod:`rxgateway.replay`), or served to any bot by the emulator
(``rxgateway emulate --replay FILE``).

Example::

    async with Recorder("session.jsonl.zst") as recorder:
        recorder.attach(shards)                 # a Shard, a ShardGroup, or shards
        async with shards:
            await asyncio.sleep(60)

    # or as an operator: the file is complete when the shards close
    shards.pipe(record("session.jsonl.zst"), ops.on(EventTypeFlags.MESSAGE_CREATE)).subscribe(print)

File format, version 1
----------------------
UTF-8 JSON lines, compressed as one zstd frame (``compression="zstd"``, the
default, suffix ``.jsonl.zst``) or not at all (``compression=None``, ``.jsonl``).
A reader tells the two apart by the zstd magic number ``28 b5 2f fd``.

The first line is the header::

    {"format":"rxgateway-recording","version":1,"compression":"zstd",
     "created":"2025-05-09T07:35:25.123456Z","created_unix_ns":1746776125123456789,
     "clock":"monotonic","library":"rxgateway 0.1.0","meta":{"command":"demo"}}

* ``format``: always ``"rxgateway-recording"``; ``version``: 1. A reader refuses a
  newer version.
* ``compression``: how the file is compressed, ``"zstd"`` or ``"none"``.
* ``created`` (ISO 8601, UTC) and ``created_unix_ns``: when recording began; the
  origin of every ``t_ns``.
* ``clock``: what ``t_ns`` was measured on: ``"monotonic"`` (``time.monotonic_ns``):
  differences are exact, they do not follow wall-clock jumps.
* ``meta``: free-form, what the writer chose to note (the CLI notes its command,
  intents and transport compression). Never the token: a recording holds only what
  the gateway sent, and the gateway never sends the token back.

Every other line is one received payload::

    {"t_ns":1532000,"shard":[0,4],"frame":{"t":"MESSAGE_CREATE","s":42,"op":0,"d":{...}}}

* ``t_ns``: nanoseconds from ``created`` to the payload's arrival; never
  decreasing within a file written by one process.
* ``shard``: ``[number, total]`` of the shard that received it.
* ``frame``: the payload itself, as the JSON object the gateway sent: its bytes are
  copied, not re-serialised, so recording never parses it. ``frame`` is always the
  last member of its line.
* ``text`` instead of ``frame``: the payload as a JSON string, when it cannot be
  copied as is (it does not start with ``{`` and end with ``}``, or holds a line
  break). Only a broken gateway sends such a payload.

  A payload shaped like an object whose inside is broken JSON is still copied (only
  a parse could tell), so that one line is not valid JSON: :class:`Recording` reads
  it all the same (it never parses a line's frame to read it), a generic JSON tool
  may reject it.

What a recording holds: every payload the shard's machine accepted, whatever the
subscribers want: dispatches, Hello, Heartbeat ACK, heartbeat requests, Reconnect,
Invalid Session, in arrival order across shards. What it does not hold: what the
shard sent (Identify and Resume carry the token), frames that failed to inflate or
decode, duplicate dispatches the machine dropped, connection ends and state changes
(they are not payloads).

Readers skip lines with neither ``frame`` nor ``text`` (a later version may add
other kinds of lines). A file cut short (a crash) reads up to its last whole line.

Cost. The shard hands the recorder each payload before any parse (``Shard.add_frame_sink``);
the recorder appends it to a queue, nothing more. A writer thread formats, compresses
(zstd releases the GIL) and writes every :data:`POLL_INTERVAL_S`, and makes what it
wrote durable every :data:`FLUSH_INTERVAL_S`.
"""

from __future__ import annotations

import asyncio
import atexit
import io
import logging
import os
import re
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import datetime, timezone
from typing import IO, Any, NamedTuple

import orjson
import zstandard
from reactivex import Observable, abc
from reactivex.disposable import CompositeDisposable, Disposable

from .events.base import Event
from .group import ShardGroup
from .ops._demand import FlagObservable, subscribe_demand
from .protocol.shard_id import ShardId
from .shard import Shard
from .version import __version__

__all__ = [
    "COMPRESSIONS",
    "FORMAT_NAME",
    "FORMAT_VERSION",
    "RecordedFrame",
    "Recorder",
    "Recording",
    "RecordingError",
    "record",
]

log = logging.getLogger("rxgateway.record")

#: The header's ``format``.
FORMAT_NAME = "rxgateway-recording"
#: The version this module writes, and the newest it reads.
FORMAT_VERSION = 1
#: ``compression`` values: ``"zstd"``, or ``None`` for plain JSON lines.
COMPRESSIONS = ("zstd", None)
#: zstd level 1: gateway JSON shrinks ~15x (level 3: ~16x) for ~30% less writer CPU
#: (measured on the emulator's traffic: ~0.75 against ~1.05 us per 540-byte line),
#: and the writer shares the machine with the shards it records.
DEFAULT_ZSTD_LEVEL = 1
#: The writer thread wakes this often to take what the shards queued: the queue
#: holds at most this long of traffic (at 100k payloads/s, 5k payloads).
POLL_INTERVAL_S = 0.05
#: What was written is flushed to the file (a zstd block boundary, then ``flush``)
#: at least this often, so a crash loses at most about this much.
FLUSH_INTERVAL_S = 1.0
#: Lines are compressed in chunks of about this many bytes.
WRITE_CHUNK_BYTES = 1 << 20
#: The first four bytes of every zstd frame.
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"

#: The bytes that decide whether a payload is copied as is (as ints: ``10 in data`` is a
#: memchr, ``b"\n" in data`` a much slower substring search).
_OPEN, _CLOSE, _LF, _CR = ord("{"), ord("}"), ord("\n"), ord("\r")
#: A line is ``_T_NS + offset + shard prefix + payload + _END``.
_T_NS = b'{"t_ns":'
_END = b"}\n"
#: The start of a line this module wrote with ``frame``: the payload is the rest,
#: less the closing brace, and is never parsed to be read.
_FRAME_PREFIX = re.compile(rb'\{"t_ns":(\d+),"shard":\[(\d+),(\d+)\],"frame":')

FrameSink = Callable[[ShardId, int, bytes], None]


class RecordingError(ValueError):
    """The file is not a recording this version can read (bad header, bad line)."""


class RecordedFrame(NamedTuple):
    """One received payload of a recording."""

    t_ns: int
    """Nanoseconds from the start of the recording to its arrival."""
    shard: ShardId
    """The shard that received it."""
    payload: bytes
    """The payload, as the gateway sent it (inflated)."""


class Recorder:
    """Writes what shards receive to a recording (see the module docstring for the
    format).

    Attach it to shards with :meth:`attach`; it closes itself (the file complete)
    once every shard it was attached to has ended, or when :meth:`close` /
    :meth:`aclose` is called, or when leaving ``with`` / ``async with``. A recorder
    left open at interpreter exit is closed then.

    :meth:`write` is the frame sink the shards call: ``write(shard_id, time_ns,
    payload)`` with ``time_ns`` on ``time.monotonic_ns()``'s clock. It only queues.

    Example::

        recorder = Recorder("session.jsonl.zst", meta={"bot": "my-bot"})
        recorder.attach(group)
        async with group:
            await group.closed()
        await recorder.aclose()          # already closed by then: a no-op
        print(recorder.frames, "payloads recorded")
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        compression: str | None = "zstd",
        level: int = DEFAULT_ZSTD_LEVEL,
        meta: Mapping[str, Any] | None = None,
    ) -> None:
        if compression not in COMPRESSIONS:
            raise ValueError(f"compression must be one of {COMPRESSIONS}, not {compression!r}")
        self.path = os.fspath(path)
        self.compression = compression
        created = time.time_ns()
        self._origin_ns = time.monotonic_ns()
        self.header: dict[str, Any] = {
            "format": FORMAT_NAME,
            "version": FORMAT_VERSION,
            "compression": compression or "none",
            "created": _iso(created),
            "created_unix_ns": created,
            "clock": "monotonic",
            "library": f"rxgateway {_library_version()}",
            "meta": dict(meta or {}),
        }
        header_line = orjson.dumps(self.header) + b"\n"  # fails early on a meta that is not JSON
        self._file: IO[bytes] = open(self.path, "wb")  # noqa: SIM115 - closed by the writer thread
        self._compressor = zstandard.ZstdCompressor(level=level).compressobj() if compression else None
        self._queue: deque[tuple[ShardId, int, bytes]] = deque()
        self._stop = threading.Event()
        self._closed = False
        self._lock = threading.Lock()
        self._attachments: list[abc.DisposableBase] = []
        self._live: set[int] = set()
        self._prefixes: dict[int, tuple[ShardId, bytes, bytes]] = {}
        #: Payloads written so far, their bytes before and after compression.
        self.frames = 0
        self.bytes_in = 0
        self.bytes_out = 0
        #: The error that stopped the writer (a full disk ...), if any.
        self.error: BaseException | None = None
        self._error_raised = False
        self._thread = threading.Thread(target=self._run, args=(header_line,), name="rxgateway-recorder", daemon=True)
        self._thread.start()
        atexit.register(self.close)

    # ------------------------------------------------------------------ sources

    def write(self, shard: ShardId, time_ns: int, payload: bytes) -> None:
        """Queue one received payload (the frame sink shards call). ``time_ns`` is on
        ``time.monotonic_ns()``'s clock. Not to be called once the recorder is closed
        (closing detaches it from its shards)."""
        self._queue.append((shard, time_ns, payload))

    def attach(self, source: Shard | ShardGroup | Iterable[Shard]) -> abc.DisposableBase:
        """Record every payload the shards of ``source`` receive from now on. Attach
        before starting them to record the whole session. Disposing the result
        detaches them (the recorder stays open)."""
        shards = [source] if isinstance(source, Shard) else list(source)
        if self._closed:
            raise RuntimeError(f"the recorder of {self.path} is closed")
        disposables = CompositeDisposable()
        for shard in shards:
            if not isinstance(shard, Shard):
                raise TypeError(f"a recorder attaches to shards, not {type(shard).__name__}")
            disposables.add(shard.add_frame_sink(self.write))
            self._live.add(id(shard))
            disposables.add(shard.states.subscribe(on_completed=self._on_shard_end(id(shard))))
        self._attachments.append(disposables)
        return disposables

    def _on_shard_end(self, key: int) -> Callable[[], None]:
        """What runs when the shard ``key`` ends: the last one to end closes the file."""

        def ended() -> None:
            self._live.discard(key)
            if not self._live and not self._closed:
                try:
                    self.close()
                except Exception:  # noqa: BLE001 - the shard's shutdown must go on
                    log.exception("closing the recording %s failed", self.path)

        return ended

    # --------------------------------------------------------------- lifecycle

    @property
    def closed(self) -> bool:
        """True once the file is complete (or writing it failed)."""
        return self._closed and not self._thread.is_alive()

    def close(self) -> None:
        """Detach from every shard, write what is queued, end the file. Blocks until
        the writer thread is done (a few ms). Idempotent; the first call after the
        writer failed raises ``OSError`` (the cause stays in :attr:`error`)."""
        self._begin_close()
        self._thread.join()
        self._end_close()

    async def aclose(self) -> None:
        """:meth:`close` without blocking the event loop."""
        self._begin_close()
        await asyncio.get_running_loop().run_in_executor(None, self._thread.join)
        self._end_close()

    def _begin_close(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
        for attachment in self._attachments:
            attachment.dispose()
        self._attachments.clear()
        self._live.clear()
        self._stop.set()
        atexit.unregister(self.close)

    def _end_close(self) -> None:
        error = self.error
        if error is not None and not self._error_raised:
            self._error_raised = True
            raise OSError(f"recording to {self.path} failed: {error}") from error

    def __enter__(self) -> Recorder:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    async def __aenter__(self) -> Recorder:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    def __repr__(self) -> str:
        state = "closed" if self.closed else "open"
        return f"Recorder({self.path!r}, {state}, frames={self.frames})"

    # ----------------------------------------------------------- writer thread

    def _run(self, header_line: bytes) -> None:
        """The writer thread: the header, then every queued payload, until closed."""
        try:
            self._emit(header_line)
            last_flush = time.monotonic()
            dirty = False
            while True:
                stopping = self._stop.wait(POLL_INTERVAL_S)
                dirty |= self._drain()
                if stopping:
                    self._drain()  # what was queued while the flag was being set
                    break
                if dirty and time.monotonic() - last_flush >= FLUSH_INTERVAL_S:
                    self._flush_block()
                    last_flush, dirty = time.monotonic(), False
            if self._compressor is not None:
                self._out(self._compressor.flush(zstandard.COMPRESSOBJ_FLUSH_FINISH))
        except BaseException as exc:  # noqa: BLE001 - kept and raised by close()
            self.error = exc
            log.error("recording to %s failed: %r", self.path, exc)
        finally:
            self._queue.clear()
            try:
                self._file.close()
            except OSError as exc:
                self.error = self.error or exc

    def _drain(self) -> bool:
        """Write every queued payload; True if there was any."""
        queue = self._queue
        if not queue:
            return False
        origin = self._origin_ns
        prefixes = self._prefixes
        popleft = queue.popleft
        parts: list[bytes] = []
        extend = parts.extend
        size = count = 0
        while queue:
            shard, t_ns, payload = popleft()
            # Keyed by identity (a shard passes the same ShardId each time): hashing the
            # dataclass costs more than the line. The entry keeps the id from reuse.
            entry = prefixes.get(id(shard))
            if entry is None:
                entry = prefixes[id(shard)] = (
                    shard,
                    b',"shard":[%d,%d],"frame":' % (shard.number, shard.total),
                    b',"shard":[%d,%d],"text":' % (shard.number, shard.total),
                )
            offset = b"%d" % (t_ns - origin if t_ns > origin else 0)
            if payload and payload[0] == _OPEN and payload[-1] == _CLOSE and _LF not in payload and _CR not in payload:
                extend((_T_NS, offset, entry[1], payload, _END))
            else:
                text = orjson.dumps(bytes(payload).decode("utf-8", "replace"))
                extend((_T_NS, offset, entry[2], text, _END))
            size += len(payload)
            count += 1
            if size >= WRITE_CHUNK_BYTES:
                self._emit(b"".join(parts))
                self.frames += count
                parts.clear()
                size = count = 0
        if parts:
            self._emit(b"".join(parts))
            self.frames += count
        return True

    def _emit(self, data: bytes) -> None:
        self.bytes_in += len(data)
        self._out(self._compressor.compress(data) if self._compressor is not None else data)

    def _out(self, data: bytes) -> None:
        if data:
            self._file.write(data)
            self.bytes_out += len(data)

    def _flush_block(self) -> None:
        if self._compressor is not None:
            self._out(self._compressor.flush(zstandard.COMPRESSOBJ_FLUSH_BLOCK))
        self._file.flush()


def record(
    target: str | os.PathLike[str] | Recorder, **options: Any
) -> Callable[[Observable[Event]], FlagObservable[Event]]:
    """Record what the source's shards receive while subscribed; pass the events on.

    The source must be a :class:`~rxgateway.shard.Shard` or
    :class:`~rxgateway.group.ShardGroup` (put ``record`` first in the pipeline). The
    result is flag-aware: ``shards.pipe(record(path), on(A))`` still asks the shards
    for ``A`` only, and the recording still holds every payload (it is taken before
    any parse, so recording costs no parsing).

    With a path, each subscription writes that file anew (``options`` go to
    :class:`Recorder`), and the file is complete before the subscriber's
    ``on_completed`` / ``on_error`` runs, or once it disposes. With a
    :class:`Recorder`, the subscription attaches it and detaches it at its end;
    closing it is left to its owner (it also closes itself when its shards end).

    Example::

        >>> shards.pipe(record("run.jsonl.zst"), ops.on(EventTypeFlags.READY)).subscribe(print)

    Returns:
        An operator: Shard or ShardGroup -> a flag-aware Observable of its events.
    """

    def record_(source: Observable[Event]) -> FlagObservable[Event]:
        if not isinstance(source, (Shard, ShardGroup)):
            raise TypeError(f"record() needs a Shard or ShardGroup as its source, not {type(source).__name__}")

        def subscribe(
            observer: abc.ObserverBase[Event], scheduler: abc.SchedulerBase | None, flags: int
        ) -> abc.DisposableBase:
            owned = not isinstance(target, Recorder)
            recorder = Recorder(target, **options) if not isinstance(target, Recorder) else target
            attachment = recorder.attach(source)
            done = False

            def finish() -> None:
                nonlocal done
                if done:
                    return
                done = True
                attachment.dispose()
                if owned:
                    recorder.close()

            class _Finishing(abc.ObserverBase[Event]):
                def on_next(self, value: Event) -> None:
                    observer.on_next(value)

                def on_error(self, error: Exception) -> None:
                    finish()
                    observer.on_error(error)

                def on_completed(self) -> None:
                    finish()
                    observer.on_completed()

            inner = subscribe_demand(source, _Finishing(), flags, scheduler)
            return CompositeDisposable(inner, Disposable(finish))

        return FlagObservable(subscribe)

    return record_


class Recording:
    """A recording opened for reading: its :attr:`header`, then its payloads in file
    order when iterated (each iteration reads the file from the start).

    Payloads are read without being parsed. Use it as a context manager, or
    :meth:`close` it; iterating to the end closes it too.

    Example::

        with Recording("session.jsonl.zst") as recording:
            print(recording.header["created"])
            for frame in recording:
                print(frame.t_ns, frame.shard, len(frame.payload))
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = os.fspath(path)
        with self._open() as stream:
            first = stream.readline()
        self.header = _parse_header(first, self.path)
        self._streams: list[IO[bytes]] = []

    def _open(self) -> IO[bytes]:
        raw = open(self.path, "rb")  # noqa: SIM115 - returned, closed by the caller
        try:
            magic = raw.read(4)
            raw.seek(0)
        except BaseException:
            raw.close()
            raise
        if magic == ZSTD_MAGIC:
            reader = zstandard.ZstdDecompressor().stream_reader(raw, read_across_frames=True, closefd=True)
            return io.BufferedReader(reader, buffer_size=1 << 16)
        return raw

    def __iter__(self) -> Iterator[RecordedFrame]:
        return self._frames()

    def _frames(self) -> Iterator[RecordedFrame]:
        stream = self._open()
        self._streams.append(stream)
        shards: dict[tuple[int, int], ShardId] = {}
        match = _FRAME_PREFIX.match
        number = 1
        try:
            stream.readline()  # the header, read by __init__
            while True:
                try:
                    line = stream.readline()
                except zstandard.ZstdError as exc:
                    log.warning("%s: the recording is cut short after line %d (%s)", self.path, number, exc)
                    return
                if not line:
                    return
                number += 1
                complete = line.endswith(b"\n")
                body = line.rstrip(b"\r\n")
                if not body.strip():
                    continue
                m = match(body)
                if m is not None and complete and body.endswith(b"}"):
                    t_ns, n, total = int(m[1]), int(m[2]), int(m[3])
                    payload = body[m.end() : -1]
                else:
                    parsed = _parse_line(body, complete, number, self.path)
                    if parsed is None:
                        continue
                    t_ns, n, total, payload = parsed
                key = (n, total)
                shard = shards.get(key)
                if shard is None:
                    shard = shards[key] = _shard_id(n, total, number, self.path)
                yield RecordedFrame(t_ns, shard, payload)
        finally:
            stream.close()
            if stream in self._streams:
                self._streams.remove(stream)

    def shard_ids(self) -> list[ShardId]:
        """Every shard the recording holds payloads of, by number (reads the file)."""
        seen = {(f.shard.total, f.shard.number): f.shard for f in self}
        return [seen[key] for key in sorted(seen)]

    def close(self) -> None:
        """Close the files that iterations left open."""
        for stream in self._streams:
            stream.close()
        self._streams.clear()

    def __enter__(self) -> Recording:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Recording({self.path!r}, created={self.header.get('created')!r})"


def _parse_header(line: bytes, path: str) -> dict[str, Any]:
    try:
        header = orjson.loads(line)
    except orjson.JSONDecodeError:
        header = None
    if not isinstance(header, dict) or header.get("format") != FORMAT_NAME:
        raise RecordingError(f"{path} is not an rxgateway recording (its first line is not the header)")
    version = header.get("version")
    if not isinstance(version, int) or version < 1 or version > FORMAT_VERSION:
        raise RecordingError(f"{path} is a version {version!r} recording; this rxgateway reads up to {FORMAT_VERSION}")
    return header


def _parse_line(body: bytes, complete: bool, number: int, path: str) -> tuple[int, int, int, bytes] | None:
    """A line in any layout (the slow path): ``None`` to skip it."""
    try:
        line = orjson.loads(body)
    except orjson.JSONDecodeError:
        if not complete:
            log.warning("%s: the recording is cut short in line %d", path, number)
            return None
        raise RecordingError(f"{path}: line {number} is not JSON") from None
    if not isinstance(line, dict):
        raise RecordingError(f"{path}: line {number} is not a JSON object")
    if "frame" in line:
        payload = orjson.dumps(line["frame"])
    elif isinstance(line.get("text"), str):
        payload = line["text"].encode()
    else:
        return None  # a kind of line this version does not know
    t_ns, shard = line.get("t_ns"), line.get("shard")
    if (
        not isinstance(t_ns, int)
        or not isinstance(shard, list)
        or len(shard) != 2
        or not all(isinstance(v, int) for v in shard)
    ):
        raise RecordingError(f"{path}: line {number} has no valid t_ns and shard")
    return t_ns, shard[0], shard[1], payload


def _shard_id(number: int, total: int, line: int, path: str) -> ShardId:
    try:
        return ShardId(number, total)
    except (ValueError, TypeError) as exc:
        raise RecordingError(f"{path}: line {line} has an invalid shard [{number}, {total}]") from exc


def _iso(unix_ns: int) -> str:
    stamp = datetime.fromtimestamp(unix_ns / 1e9, tz=timezone.utc)
    return stamp.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _library_version() -> str:
    return __version__
