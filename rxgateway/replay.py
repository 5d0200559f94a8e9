"""Replay a recording (:mod:`rxgateway.record`) as the events the live shard emitted.

``replay(path)`` is an Observable of typed events built and delivered exactly as the
live shard does it (:class:`rxgateway.fanout.Fanout`): the envelope is read without a parse,
the type's bit is checked against what the subscribers asked for, and only wanted
payloads are parsed. It is flag-aware, so ``replay(path).pipe(ops.on(flags))``
parses the types in ``flags`` and nothing else, as on a shard.

Pace: ``speed=1.0`` (the default) delivers each event at its recorded offset from
the start of the recording; ``speed=4.0`` four times as fast; ``speed=None`` as
fast as possible (in order, yielding to the event loop every
:data:`FAST_BATCH` events).

Time comes from a reactivex scheduler: the one given to :func:`replay`, else the
one given to ``subscribe``, else the running asyncio loop's, else the current
thread's (``subscribe`` then returns when the replay has ended, like
``reactivex.from_iterable``). Under a ``TestScheduler`` (any virtual-time
scheduler) events land at their recorded offsets in virtual time: a pipeline can be
unit-tested against a real session's traffic, instantly. reactivex counts one tick
as one second.

Example::

    >>> scheduler = TestScheduler()
    >>> messages = replay("session.jsonl.zst", scheduler=scheduler).pipe(
    ...     ops.on(EventTypeFlags.MESSAGE_CREATE), ops.map(lambda e: e.content))
    >>> results = scheduler.start(lambda: messages, disposed=10_000)
    >>> results.messages[0]          # at 200 (subscription) + the recorded offset
    OnNext(hello)@201.873412

What the replay holds: the dispatches and the gateway-level events (Hello,
Heartbeat ACK, heartbeat requests, Reconnect, Invalid Session) the shard received;
a dispatch that is not valid JSON becomes a ``GatewayErrorEvent``, as live. A
replayed Heartbeat ACK has no latency (``None``): the heartbeats the shard sent are
not recorded. State changes and ``GatewayClose`` events are not payloads and are
not in a recording.
"""

from __future__ import annotations

import asyncio
import math
import os
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

from reactivex import abc
from reactivex.disposable import Disposable, SerialDisposable
from reactivex.scheduler import CurrentThreadScheduler
from reactivex.scheduler.eventloop import AsyncIOScheduler

from .errors import DeserializationError
from .events.base import Event
from .fanout import Fanout
from .ops._demand import FlagObservable
from .protocol.envelope import read_envelope
from .protocol.event_type import EventTypeFlags
from .record import RecordedFrame, Recording
from .stream import EventStream

__all__ = ["FAST_BATCH", "Replay", "replay"]

#: As fast as possible, the replay hands the scheduler back (lets the event loop
#: run) after this many events.
FAST_BATCH = 512
_ONE_US = timedelta(microseconds=1)


def replay(
    path: str | os.PathLike[str],
    *,
    speed: float | None = 1.0,
    scheduler: abc.SchedulerBase | None = None,
) -> Replay:
    """The recording at ``path`` as an Observable of the shard's events.

    Args:
        path: a recording (``rxgateway run --record``, :class:`~rxgateway.record.Recorder`).
        speed: 1.0 for the recorded pace, 2.0 twice as fast, ``None`` (or ``math.inf``)
            as fast as possible.
        scheduler: where time comes from (a ``TestScheduler`` for virtual time); see
            the module docstring for the default.

    Returns:
        A cold, flag-aware Observable: each subscription replays the file from the
        start and completes after its last event. Raises
        :class:`~rxgateway.record.RecordingError` at once if the file is not a
        recording.

    Example::

        >>> async for event in replay("session.jsonl.zst", speed=None).events(EventTypeFlags.READY):
        ...     print(event.session_id)
    """
    return Replay(path, speed=speed, scheduler=scheduler)


class Replay(FlagObservable[Event]):
    """The Observable :func:`replay` returns (a :class:`~rxgateway.ops.FlagObservable`)."""

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        speed: float | None = 1.0,
        scheduler: abc.SchedulerBase | None = None,
    ) -> None:
        if speed is not None and math.isinf(speed):
            speed = None
        if speed is not None and not speed > 0:
            raise ValueError(f"speed must be positive (or None for as fast as possible), not {speed!r}")
        self.path = os.fspath(path)
        self.speed = speed
        self._scheduler = scheduler
        self.header = Recording(self.path).header  # checks the file now
        super().__init__(self._subscribe_replay)

    def events(self, flags: EventTypeFlags | int = EventTypeFlags.all()) -> EventStream:
        """The events in ``flags`` as an async iterator (from an asyncio task)."""
        return EventStream(self, flags)

    def _subscribe_replay(
        self, observer: abc.ObserverBase[Event], scheduler: abc.SchedulerBase | None, flags: int
    ) -> abc.DisposableBase:
        run = _Run(Recording(self.path), observer, flags, self.speed)
        return run.start(self._scheduler or scheduler or _default_scheduler())

    def __repr__(self) -> str:
        return f"Replay({self.path!r}, speed={self.speed})"


def _default_scheduler() -> abc.SchedulerBase:
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        current: abc.SchedulerBase = CurrentThreadScheduler.singleton()
        return current
    return _LoopScheduler(loop)


class _LoopScheduler(AsyncIOScheduler):
    """reactivex's asyncio scheduler on the loop's monotonic clock (its own ``now``
    is the wall clock): a long paced replay does not follow wall-clock jumps."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__(loop)
        self._time = loop.time

    @property
    def now(self) -> datetime:
        return self.to_datetime(self._time())


class _Run:
    """One subscription's replay: reads the file as it goes, one frame ahead."""

    def __init__(self, recording: Recording, observer: abc.ObserverBase[Event], flags: int, speed: float | None) -> None:
        self._recording = recording
        self._frames: Iterator[RecordedFrame] = iter(recording)
        #: The one observer, behind the same delivery path as a live shard's.
        self._fanout = Fanout("replay")
        self._fanout.add(flags, observer.on_next, observer.on_error, observer.on_completed)
        self._speed = speed
        self._next: RecordedFrame | None = None
        self._timer = SerialDisposable()
        self._stopped = False
        self._start: Any = None

    def start(self, scheduler: abc.SchedulerBase) -> abc.DisposableBase:
        self._start = scheduler.now
        if self._advance():
            self._schedule(scheduler)
        return Disposable(self._stop)

    def _stop(self) -> None:
        if not self._stopped:
            self._stopped = True
            self._timer.dispose()
            self._recording.close()

    def _advance(self) -> bool:
        """Read the next frame into ``_next``; on the end or an error, finish."""
        try:
            self._next = next(self._frames, None)
        except Exception as exc:  # a bad line: the replay fails
            self._fail(exc)
            return False
        if self._next is None:
            self._stop()
            self._fanout.finish()
            return False
        return True

    def _due_us(self, frame: RecordedFrame) -> int:
        assert self._speed is not None
        return round(frame.t_ns / 1000 / self._speed)

    def _schedule(self, scheduler: abc.SchedulerBase) -> None:
        if self._stopped:
            return
        if self._speed is None:
            self._timer.disposable = scheduler.schedule(self._step)
        else:
            assert self._next is not None
            due = self._start + timedelta(microseconds=self._due_us(self._next))
            self._timer.disposable = scheduler.schedule_absolute(due, self._step)

    def _step(self, scheduler: abc.SchedulerBase, state: Any = None) -> None:
        if self._stopped:
            return
        try:
            if self._speed is None:
                for _ in range(FAST_BATCH):
                    assert self._next is not None
                    if not self._emit(self._next) or not self._advance():
                        return
            else:
                elapsed_us = (scheduler.now - self._start) // _ONE_US
                while self._next is not None and self._due_us(self._next) <= elapsed_us:
                    if not self._emit(self._next) or not self._advance():
                        return
        except Exception as exc:  # a bug of ours: the subscriber is told, the replay stops
            self._fail(exc)
            return
        self._schedule(scheduler)

    def _emit(self, frame: RecordedFrame) -> bool:
        """The shard's receive path for one recorded payload; False once the replay is
        over (its subscriber raised: it was unsubscribed and told)."""
        shard, raw = frame.shard, frame.payload
        try:
            op, sequence, name = read_envelope(raw)
        except DeserializationError as error:
            self._fanout.error(shard, error)
        else:
            self._fanout.payload(shard, op, sequence, name, raw, None)
        if not self._fanout:
            self._stop()
            return False
        return not self._stopped

    def _fail(self, error: Exception) -> None:
        self._stop()
        self._fanout.finish(error)
