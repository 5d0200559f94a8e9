"""The gateway's rate limits, as the server counts them (GATEWAY.md §5).

Each limiter takes the time as an argument and owns no clock.

Example::

    >>> window = SlidingWindow(limit=2, window_s=60.0)
    >>> [window.hit(t) for t in (0.0, 1.0, 2.0, 61.0)]
    [True, True, False, True]
"""

from __future__ import annotations

from collections import deque


class SlidingWindow:
    """At most ``limit`` events within any ``window_s`` seconds (§5.1 [EMU]: sliding)."""

    def __init__(self, limit: int, window_s: float) -> None:
        self._window_s = window_s
        self._times: deque[float] = deque(maxlen=limit)

    def hit(self, now: float) -> bool:
        """Count an event at ``now``; False (and not counted) if it is over the limit."""
        times = self._times
        if len(times) == times.maxlen and now - times[0] < self._window_s:
            return False
        times.append(now)
        return True


class IdentifyGate:
    """One Identify per rate-limit key per window (§5.3): key = ``shard_id % max_concurrency``."""

    def __init__(self, max_concurrency: int, window_s: float) -> None:
        self.max_concurrency = max_concurrency
        self._window_s = window_s
        self._last: dict[int, float] = {}

    def key(self, shard_id: int) -> int:
        return shard_id % self.max_concurrency

    @property
    def window_s(self) -> float:
        """Seconds between two Identifies of one key."""
        return self._window_s

    def try_pass(self, shard_id: int, now: float, waited: float = 0.0) -> float | None:
        """Let an Identify of ``shard_id`` read at ``now`` through (``None``), or refuse
        it: then the most seconds there can have been since its key's last Identify,
        which were too few.

        ``waited`` is how long the Identify may have waited to be read (the emulator's
        own lag, :class:`~rxgateway.emulator.loop_watch.LoopWatch`): it may have arrived
        as early as ``now - waited``, and the next Identify of its key is measured from
        then. Only an Identify that came too soon whatever the lag is refused.

        Example::

            >>> gate = IdentifyGate(max_concurrency=2, window_s=5.0)
            >>> [gate.try_pass(shard, now) for shard, now in ((0, 0.0), (1, 1.0), (2, 4.5), (2, 5.0))]
            [None, None, 4.5, None]
            >>> gate.try_pass(0, 12.0, waited=2.0)  # read at 12.0, perhaps there since 10.0
            >>> gate.try_pass(2, 15.5)  # 5.5 s after 10.0: it may have kept the window
            >>> gate.try_pass(0, 19.0)
            3.5
        """
        key = self.key(shard_id)
        last = self._last.get(key)
        if last is not None and now - last < self._window_s:
            return now - last
        self._last[key] = now - waited
        return None


class SessionStartBudget:
    """The daily session-start budget of ``GET /gateway/bot`` (§5.2).

    The window starts with the first session start and refills when it ends.
    """

    def __init__(self, total: int, window_s: float) -> None:
        self.total = total
        self._window_s = window_s
        self._used = 0
        self._resets_at: float | None = None

    def _refill(self, now: float) -> None:
        if self._resets_at is not None and now >= self._resets_at:
            self._used = 0
            self._resets_at = None

    def remaining(self, now: float) -> int:
        self._refill(now)
        return self.total - self._used

    def reset_after_ms(self, now: float) -> int:
        """Milliseconds until the budget refills (a full window before the first start)."""
        self._refill(now)
        if self._resets_at is None:
            return round(self._window_s * 1000)
        return max(0, round((self._resets_at - now) * 1000))

    def take(self, now: float) -> bool:
        """Spend one session start; False if none is left."""
        self._refill(now)
        if self._used >= self.total:
            return False
        if self._resets_at is None:
            self._resets_at = now + self._window_s
        self._used += 1
        return True
