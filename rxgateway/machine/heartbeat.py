"""When a shard beats: on a grid of phases shared by every shard that reads the same clock.

GATEWAY.md §3.3 asks for a first heartbeat after a random share of the interval and
then one every interval. Where each beat falls within the interval is free: the
jitter only spreads connections' first beats. An idle shard's cost is mostly the
event loop waking up for it (once for the beat, once for its ACK), so the machine
puts every beat on one of :data:`HEARTBEAT_PHASES` points per interval, counted from
the clock's zero. A process's shards then beat in a few groups per interval, each
woken once, however many shards there are.

The jittered first beat moves earlier, to the grid point before it (beating early is
allowed; late is not). Were that point already past, it moves one interval on, to the
same phase, which is still within one interval of the Hello: so shards whose Hellos
came together still spread evenly over the phases. Each later beat is the last point
within one interval of the beat before it: the next of the same phase, exactly one
interval on, when the loop was on time.
"""

from __future__ import annotations

import math

__all__ = ["HEARTBEAT_PHASES", "beat_time"]

#: Points per heartbeat interval a beat may fall on: at Discord's 41.25 s, one every
#: 10.3 s. Idle CPU, 512 shards at 2 s beats, two runs each (benchmarks/RESULTS.md):
#: 8 points 0.0173-0.0181 cores, 4 points 0.0140-0.0145, 2 points 0.0130-0.0133, and
#: beats spread over the interval 0.03. Fewer points mean larger groups; the driver
#: sends a group in batches, so frames arriving meanwhile wait for one batch.
HEARTBEAT_PHASES = 4

#: A time this close below a point (in steps) is on it: point ``k``'s time plus an
#: interval, computed in floating point, may land a hair short of point
#: ``k + HEARTBEAT_PHASES``.
_ON_POINT = 1e-6


def beat_time(at: float, after: float, interval: float) -> float:
    """The grid point at or before ``at`` for beats ``interval`` seconds apart, or the
    point one interval after it if that is not later than ``after`` (the time now).

    ``at`` between ``after`` and ``after + interval`` gives a time in
    ``(after, after + interval]``; points are computed the same way for every shard, so
    shards in one phase get equal times (one timer between them).

    Example::

        >>> beat_time(103.9, 100.0, 8.0)   # points every 2 s: the one before
        102.0
        >>> beat_time(101.4, 100.0, 8.0)   # 100.0 is not later than now: one interval on
        108.0
        >>> beat_time(118.0, 100.0, 8.0)   # on a point already
        118.0
    """
    step = interval / HEARTBEAT_PHASES
    point = math.floor(at / step + _ON_POINT)
    if point * step <= after:
        point += HEARTBEAT_PHASES
    return point * step
