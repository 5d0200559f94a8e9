"""A histogram as plain counts: what the metrics observe on the event loop.

:class:`Buckets` keeps one count per upper bound and the sum, nothing else. It imports
nothing of prometheus_client and takes no lock: every observation happens on the
event loop that owns the shard, the queue or the bus, and the collector copies the
counts at scrape time (:meth:`Buckets.snapshot`). An observation costs a ``bisect``
and two additions, less than a prometheus_client ``Histogram.observe`` (which locks).

Example::

    >>> latency = Buckets((0.1, 0.5, 1.0))
    >>> for rtt in (0.05, 0.2, 0.2, 3.0):
    ...     latency.observe(rtt)
    >>> latency.snapshot()
    ([(0.1, 1), (0.5, 3), (1.0, 3), (inf, 4)], 3.45)
"""

from __future__ import annotations

import math
from bisect import bisect_left
from collections.abc import Iterable

__all__ = ["Buckets", "HEARTBEAT_BUCKETS", "IDENTIFY_WAIT_BUCKETS", "PUBLISH_LAG_BUCKETS"]

#: Heartbeat round trips, seconds: Discord answers in tens of milliseconds; seconds
#: mean a loaded loop or a zombie on its way.
HEARTBEAT_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
#: Waits for an identify grant, seconds: a window is 5 s, and a bot of 1,000 shards
#: with ``max_concurrency`` 1 waits up to 5,000 s for the last one.
IDENTIFY_WAIT_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 900.0, 1800.0, 3600.0)
#: From a dispatch's arrival at the shard to its publish being acknowledged by the bus.
PUBLISH_LAG_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class Buckets:
    """Counts of observations per upper bound (``le``), and their sum.

    ``bounds`` must be increasing and finite; ``+Inf`` is added. Observing NaN is
    ignored (it would poison the sum).

    Example::

        >>> Buckets((1.0, 2.0)).bounds
        (1.0, 2.0, inf)
    """

    __slots__ = ("_bounds", "_counts", "_sum")

    def __init__(self, bounds: Iterable[float]) -> None:
        finite = tuple(float(b) for b in bounds)
        if not finite or any(not math.isfinite(b) for b in finite) or any(a >= b for a, b in zip(finite, finite[1:])):
            raise ValueError(f"bounds must be finite and increasing, got {finite}")
        self._bounds = (*finite, math.inf)
        self._counts = [0] * len(self._bounds)
        self._sum = 0.0

    @property
    def bounds(self) -> tuple[float, ...]:
        """The upper bounds, ``+Inf`` last."""
        return self._bounds

    def observe(self, value: float) -> None:
        """Count ``value`` in the first bucket whose bound is ``>= value``.

        Example::

            >>> b = Buckets((1.0,)); b.observe(1.0); b.observe(2.0); b.snapshot()
            ([(1.0, 1), (inf, 2)], 3.0)
        """
        if value != value:  # NaN
            return
        self._counts[bisect_left(self._bounds, value)] += 1
        self._sum += value

    @property
    def count(self) -> int:
        """Observations so far."""
        return sum(self._counts)

    def snapshot(self) -> tuple[list[tuple[float, int]], float]:
        """``([(le, cumulative count), ...], sum)``, ``+Inf`` last: the exposition's
        buckets. The counts are copied first (one C call), so the buckets agree with
        each other and with the count even if an observation lands meanwhile."""
        counts = list(self._counts)
        total = self._sum
        cumulative: list[tuple[float, int]] = []
        running = 0
        for bound, n in zip(self._bounds, counts):
            running += n
            cumulative.append((bound, running))
        return cumulative, total
