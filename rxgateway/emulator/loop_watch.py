"""How late the emulator's own event loop is: so that its stalls are not the client's fault.

The emulator stamps a payload when its handler runs, not when the bytes reached its
socket. Most of the time the two are a fraction of a millisecond apart. When its loop
is held up (thousands of connections opening at once, a full garbage collection, a
machine whose cores are busy), payloads wait in their sockets and are then read one
after the other in a few milliseconds: two Identifies sent 150 ms apart can be stamped
3 ms apart. The identify spacing rule asks :meth:`LoopWatch.behind` how long a payload
read now may have waited, and refuses only what came too soon even allowing for that
wait. (The heartbeat deadline needs no watch: when it passes, the connection looks once
more after the loop has handled what it read meanwhile.)

A tick every :data:`PERIOD` seconds marks the loop as running. A payload read now
waited at most since the loop last ran a tick before the stall that held it: when the
next tick is overdue (the loop is held up now), since the last tick; when the last tick
came late (the loop was held up just before, and the payloads the stall kept are being
handled in the passes right after it), since the tick before that. Both bounds are the
length of a stall plus a period, never more, however long the loop stays busy. Ticks
up to :data:`TOLERANCE` late count as on time: stalls shorter than ``PERIOD +
TOLERANCE`` (30 ms) are not allowed for, and are what a client's margin is for. This
costs one timer every 20 ms per emulator.

Example::

    >>> import asyncio
    >>> async def held_up() -> tuple[float, bool]:
    ...     watch = LoopWatch()
    ...     watch.start()
    ...     calm = watch.behind()
    ...     time.sleep(0.1)  # the loop is held up: nothing else runs
    ...     late = watch.behind()
    ...     watch.stop()
    ...     return calm, late >= 0.1
    >>> asyncio.run(held_up())
    (0.0, True)
"""

from __future__ import annotations

import asyncio
import time
from typing import Final

__all__ = ["PERIOD", "TOLERANCE", "LoopWatch"]

#: Seconds between two ticks.
PERIOD: Final = 0.02

#: Seconds a tick may be late before the loop counts as held up.
TOLERANCE: Final = 0.01


class LoopWatch:
    """Tells how long the running loop may have kept a payload waiting.

    Times are ``time.monotonic()`` seconds (what ``loop.time()`` reads in asyncio's
    loops), independent of the emulator's shiftable clock: a test that moves that clock
    forward does not make the loop late.
    """

    __slots__ = ("_handle", "_last", "_prev")

    def __init__(self) -> None:
        #: When the last tick and the one before it ran; ``None`` while stopped.
        self._last: float | None = None
        self._prev = 0.0
        self._handle: asyncio.TimerHandle | None = None

    def start(self) -> None:
        """Start ticking on the running loop (again after :meth:`stop`)."""
        self.stop()
        self._last = time.monotonic()
        self._tick()

    def stop(self) -> None:
        """Stop ticking; :meth:`behind` answers 0 until started again."""
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None
        self._last = None

    def behind(self) -> float:
        """Seconds a payload read now may have waited for the loop; 0 when on time."""
        last = self._last
        if last is None:
            return 0.0
        now = time.monotonic()
        if now - last > PERIOD + TOLERANCE:  # held up now: the next tick is overdue
            return now - last
        if last - self._prev > PERIOD + TOLERANCE:  # held up just before: the last tick came late
            return now - self._prev
        return 0.0

    def _tick(self) -> None:
        assert self._last is not None
        self._prev, self._last = self._last, time.monotonic()
        self._handle = asyncio.get_running_loop().call_later(PERIOD, self._tick)
