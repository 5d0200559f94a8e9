"""Reconnect pacing: backoff after failed connects and the op 9 delay.

Only *failed* connection attempts back off; a shard whose connection ended after
reaching a session reconnects at once (twilight.md §2.3, GATEWAY.md §3.10). The
random source is passed in (``rng() -> float in [0, 1)``, e.g. ``random.random``),
so tests and the sans-I/O machine stay deterministic.

Jitter is "equal jitter": attempt ``n >= 1`` waits ``base * (0.5 + rng() / 2)`` with
``base = min(2 ** (n - 1), BACKOFF_CAP)``, i.e. uniformly between half the base and
the base. Half the delay is guaranteed, so a failing shard never hammers the
gateway, and the random half spreads a crowd of shards that failed together
(a mass disconnect) over the window instead of retrying in lockstep. Full jitter
(``base * rng()``) spreads more but can retry at once, which a gateway that just
refused us does not deserve.

Example::

    >>> backoff_delay(0, lambda: 0.5)
    0.0
    >>> [backoff_delay(n, lambda: 1.0) for n in range(1, 9)]
    [1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 64.0]
    >>> backoff_delay(3, lambda: 0.0)
    2.0
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Final

__all__ = [
    "BACKOFF_CAP",
    "INVALID_SESSION_DELAY",
    "backoff_delay",
    "backoff_base",
    "invalid_session_delay",
]

#: Longest backoff base, in seconds. 64 s keeps a bot that lost its network retrying
#: about once a minute, so it is back within a minute of the network returning; it
#: matches GATEWAY.md §3.10's "doubling up to ~60 s" advice; and it avoids twilight's
#: 255 s plateau, which leaves a bot offline for minutes after a long outage ends.
BACKOFF_CAP: Final = 64.0

#: The first attempt whose base reaches :data:`BACKOFF_CAP` (7, as 2 ** 6 == 64): from
#: there on the base is the cap and no power of two is computed, so huge attempts are cheap.
_CAP_ATTEMPT: Final = math.ceil(math.log2(BACKOFF_CAP)) + 1

#: op 9 d=false waits uniformly in [1, 5) seconds before identifying again
#: (GATEWAY.md §3.8: older docs asked for a random 1-5 s; it also lets the 5 s
#: identify window pass).
INVALID_SESSION_DELAY: Final = (1.0, 5.0)


def _check_random(value: float) -> float:
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"rng() must return a number in [0, 1], got {value}")
    return value


def backoff_base(attempt: int) -> float:
    """The un-jittered delay of failed attempt ``attempt``: 0, then 1, 2, 4 ... 64 s.

    Example::

        >>> [backoff_base(n) for n in (0, 1, 2, 7, 10**9)]
        [0.0, 1.0, 2.0, 64.0, 64.0]
    """
    if attempt < 0:
        raise ValueError(f"attempt must be >= 0, got {attempt}")
    if attempt == 0:
        return 0.0
    if attempt >= _CAP_ATTEMPT:
        return BACKOFF_CAP
    return min(float(1 << (attempt - 1)), BACKOFF_CAP)


def backoff_delay(attempt: int, rng: Callable[[], float]) -> float:
    """Seconds to wait before connection attempt ``attempt`` (0 = the first retry).

    Attempt 0 retries at once; attempt ``n >= 1`` waits within ``[base / 2, base]``
    (see the module docstring for the jitter).

    Example::

        >>> import random
        >>> 4.0 <= backoff_delay(4, random.Random(1).random) <= 8.0
        True
    """
    base = backoff_base(attempt)
    if base == 0.0:
        return 0.0
    return base * (0.5 + _check_random(rng()) / 2)


def invalid_session_delay(rng: Callable[[], float]) -> float:
    """Seconds to wait after op 9 d=false before identifying: uniform in [1, 5).

    Example::

        >>> invalid_session_delay(lambda: 0.0), invalid_session_delay(lambda: 0.5)
        (1.0, 3.0)
    """
    low, high = INVALID_SESSION_DELAY
    return low + (high - low) * _check_random(rng())
