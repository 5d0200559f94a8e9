"""The command ratelimiter: at most 120 gateway payloads per 60 s per connection.

Discord closes a connection that sends more with 4008 (GATEWAY.md §5.1). Heartbeats
count towards that limit but must never wait, so a few permits are **reserved** for
them and the rest, :attr:`CommandRatelimiter.max`, are usable by Identify, Resume
and user commands (twilight.md §2.10). Heartbeats and close frames bypass the
limiter.

The algorithm is a sliding-window log: every permit taken is released
:data:`PERIOD` + :data:`MARGIN` seconds after it was taken. The gateway counts a
payload from when it *receives* it, which is later than when the limiter *decided*
to send it (the writer, the network); without the margin, a burst released exactly
60 s after the first one lands inside the gateway's window and is closed with 4008. Sans-I/O: the time is passed in as ``now``
(monotonic seconds), and nothing ever blocks; :meth:`CommandRatelimiter.next_available`
says how long to wait. A new limiter is made on every Hello.

Example::

    >>> limiter = CommandRatelimiter(heartbeat_interval=41.25)
    >>> limiter.max, limiter.acquire(now=0.0), limiter.available(now=0.0)
    (117, True, 116)
    >>> limiter.available(now=60.0), limiter.available(now=60.0 + MARGIN)
    (116, 117)
"""

from __future__ import annotations

import math
from bisect import bisect_right
from typing import Final

__all__ = ["MARGIN", "MIN_NONRESERVED", "PERIOD", "PERMITS", "SERVER_REQUESTED_BEATS", "CommandRatelimiter", "nonreserved"]

#: Payloads Discord accepts per connection per :data:`PERIOD` (GATEWAY.md §5.1).
PERMITS: Final = 120

#: The length of Discord's send window, in seconds (GATEWAY.md §5.1).
PERIOD: Final = 60.0

#: Seconds a permit is held beyond :data:`PERIOD`: the time a payload may take from the
#: limiter's decision to the gateway's receipt (the writer's queue, a busy event loop,
#: one-way latency). The same reason as the identify queue's margin; it costs 1/60 of
#: the sustained command rate.
MARGIN: Final = 1.0

#: Usable permits never drop below this, whatever the heartbeat interval: a faulty
#: gateway announcing a tiny interval must not starve commands, so at most 10
#: permits are ever held back for heartbeats.
MIN_NONRESERVED: Final = PERMITS - 10

#: Extra heartbeats reserved per period for those the server asks for with op 1.
SERVER_REQUESTED_BEATS: Final = 1


#: How long each permit is held.
_HOLD: Final = PERIOD + MARGIN


def nonreserved(heartbeat_interval: float) -> int:
    """Permits per :data:`PERIOD` left for commands after reserving the heartbeats.

    ``max(PERMITS - (ceil(PERIOD / interval) + 1), MIN_NONRESERVED)``. An interval of
    0 (or one so small the quotient overflows) gives :data:`MIN_NONRESERVED`; a
    huge or infinite interval still reserves one regular beat, as twilight does.

    Example::

        >>> [nonreserved(s) for s in (float("inf"), 60.0, 42.5, 30.0, 29.999, 0.0)]
        [118, 118, 117, 117, 116, 110]
    """
    if math.isnan(heartbeat_interval) or heartbeat_interval < 0:
        raise ValueError(f"heartbeat_interval must be >= 0 seconds, got {heartbeat_interval}")
    if heartbeat_interval == 0:
        return MIN_NONRESERVED
    beats = PERIOD / heartbeat_interval
    if math.isinf(beats):
        return MIN_NONRESERVED
    reserved = max(math.ceil(beats), 1) + SERVER_REQUESTED_BEATS
    return max(PERMITS - reserved, MIN_NONRESERVED)


class CommandRatelimiter:
    """Twilight's command ratelimiter without I/O: a log of release times.

    ``now`` must never go backwards between calls (permits released at a later
    ``now`` are forgotten). Every call costs at most O(:attr:`max`).

    Example::

        >>> limiter = CommandRatelimiter(60.0)
        >>> all(limiter.acquire(0.0) for _ in range(limiter.max))
        True
        >>> limiter.acquire(1.0), limiter.next_available(1.0)
        (False, 60.0)
    """

    __slots__ = ("_max", "_releases")

    def __init__(self, heartbeat_interval: float) -> None:
        self._max = nonreserved(heartbeat_interval)
        # Release times of the permits taken, oldest first: acquisition + PERIOD + MARGIN.
        # A list, not a deque: at most ~120 entries, and an empty deque costs ~0.7 KiB
        # per shard where an empty list costs 56 bytes.
        self._releases: list[float] = []

    def __repr__(self) -> str:
        return f"CommandRatelimiter(max={self._max}, in_use={len(self._releases)})"

    @property
    def max(self) -> int:
        """Permits usable per :data:`PERIOD` on this connection.

        Example::

            >>> CommandRatelimiter(41.25).max
            117
        """
        return self._max

    def _release(self, now: float) -> int:
        """Drop the permits released by ``now``; return how many are still taken."""
        releases = self._releases
        # Sorted, since ``now`` never goes backwards: the released ones are a prefix.
        released = bisect_right(releases, now)
        if released:
            del releases[:released]
        return len(releases)

    def available(self, now: float) -> int:
        """Permits that can be taken at ``now``.

        Example::

            >>> CommandRatelimiter(60.0).available(0.0)
            118
        """
        return self._max - self._release(now)

    def acquire(self, now: float) -> bool:
        """Take one permit if one is free at ``now``; never waits.

        Example::

            >>> limiter = CommandRatelimiter(60.0)
            >>> limiter.acquire(5.0), limiter.available(5.0)
            (True, 117)
        """
        if self._release(now) >= self._max:
            return False
        self._releases.append(now + _HOLD)
        return True

    def next_available(self, now: float) -> float:
        """Seconds from ``now`` until a permit is free; ``0.0`` if one is free now.

        Rounded up where needed, so that at ``now + next_available(now)`` a permit
        is free: a timer set for that instant never wakes a moment too early.

        Example::

            >>> limiter = CommandRatelimiter(60.0)
            >>> limiter.next_available(0.0)
            0.0
        """
        if self._release(now) < self._max:
            return 0.0
        release = self._releases[0]
        wait = release - now
        while now + wait < release:
            wait = math.nextafter(wait, math.inf)
        return wait

    def to_dict(self, now: float) -> dict[str, int | float]:
        """The limiter's figures at ``now``, for display.

        Example::

            >>> CommandRatelimiter(60.0).to_dict(0.0)
            {'max': 118, 'available': 118, 'next_available': 0.0}
        """
        return {"max": self._max, "available": self.available(now), "next_available": self.next_available(now)}
