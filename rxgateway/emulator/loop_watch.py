"""How late the emulator's own event loop is: so that its lag is never the client's fault.

The emulator stamps a payload when its handler runs, not when the bytes reached its
socket. Most of the time the two are a fraction of a millisecond apart. When its loop
is held up (thousands of connections opening at once, a full garbage collection, a
machine whose cores are busy), payloads wait in their sockets and are then read one
after the other in a few milliseconds: two Identifies sent 150 ms apart can be stamped
3 ms apart. The identify spacing rule asks :meth:`LoopWatch.behind` how long a payload
read now may have waited, and refuses only what came too soon even allowing for that
wait. (The heartbeat deadline needs no watch: when it passes, the connection looks once
more after the loop has handled what it read meanwhile.)

A tick every :data:`PERIOD` seconds notes the last time the loop was on time (its
tick no more than :data:`TOLERANCE` late). ``behind`` is the time since then, once that
is over ``PERIOD + TOLERANCE``, else 0. The payloads held up by a stall are handled in
the passes of the loop right after it, when the stall's own late tick has run but no
tick has been on time yet: they all count the whole stall. This costs one timer every
20 ms per emulator.

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

    __slots__ = ("_calm_at", "_due", "_handle")

    def __init__(self) -> None:
        self._calm_at: float | None = None
        self._due = 0.0
        self._handle: asyncio.TimerHandle | None = None

    def start(self) -> None:
        """Start ticking on the running loop (again after :meth:`stop`)."""
        self.stop()
        self._calm_at = self._due = time.monotonic()
        self._tick()

    def stop(self) -> None:
        """Stop ticking; :meth:`behind` answers 0 until started again."""
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None
        self._calm_at = None

    def behind(self) -> float:
        """Seconds a payload read now may have waited for the loop; 0 when on time."""
        if self._calm_at is None:
            return 0.0
        waited = time.monotonic() - self._calm_at
        return waited if waited > PERIOD + TOLERANCE else 0.0

    def _tick(self) -> None:
        now = time.monotonic()
        if now - self._due <= TOLERANCE:
            self._calm_at = now
        self._due = now + PERIOD
        self._handle = asyncio.get_running_loop().call_later(PERIOD, self._tick)
