"""The lease rules of a cluster, as pure functions of numbers and a clock.

A member of a cluster holds the shards its leases grant. Who holds what is stored in
Redis (:mod:`rxgateway.cluster.lease_table`); *what to do about it* is decided here,
with no I/O, so every rule is tested with plain numbers and a fake clock:

- :func:`fair_share`: how many of ``total`` shards a member should hold, given every
  live member. Members sorted by id; the first ``total % n`` hold one more.
- :func:`plan`: how many shards to claim, and which to hand off (the member's
  highest, when it holds more than its share).
- :class:`LeaseClock`: until when this member may trust its leases. A renewal that
  was *sent* at ``t`` extends the lease at the server to at least ``t + ttl``
  (the server counts from when it received it, later). A member that could not
  renew lets its shards go at ``t + ttl - let_go_margin``: before any other member
  can claim them, so no shard is ever held by two.

Example::

    >>> fair_share(16, ["b", "a", "c"], "a"), fair_share(16, ["b", "a", "c"], "c")
    (6, 5)
    >>> plan(held={0, 1, 2, 3, 4, 5, 6}, share=5)
    Plan(claim=0, release=(6, 5))
    >>> plan(held={0, 1}, share=4)
    Plan(claim=2, release=())
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from typing import Final

__all__ = [
    "LEASE_TTL",
    "LeaseClock",
    "Plan",
    "fair_share",
    "let_go_margin",
    "plan",
    "renew_interval",
    "reshard_target",
]

#: Seconds a lease lasts without renewal. A member that dies loses its shards after
#: this long: the failover time. Long enough that a Redis restart or a network blip
#: of 10–15 s costs no shard (the member renews well within it), short enough that a
#: crashed member's shards are resumed elsewhere within half a minute, well inside
#: Discord's resume window.
LEASE_TTL: Final = 30.0

#: Renewals per lease TTL: a member renews every ``ttl / RENEWALS_PER_TTL`` seconds,
#: so several renewals can fail before its leases are at risk.
RENEWALS_PER_TTL: Final = 6

#: Seconds between attempts while Redis does not answer (then back to the usual pace).
RETRY_INTERVAL: Final = 1.0

#: The least time kept between letting go and the lease's expiry: closing a shard
#: takes up to the link's close timeout (5 s) plus a little.
MIN_LET_GO_MARGIN: Final = 6.0


def renew_interval(ttl: float) -> float:
    """Seconds between two renewals of leases lasting ``ttl``.

    Example::

        >>> renew_interval(30.0)
        5.0
    """
    return ttl / RENEWALS_PER_TTL


def let_go_margin(ttl: float) -> float:
    """Seconds before a lease's expiry at which a member that could not renew lets
    its shards go: a quarter of the TTL, and at least :data:`MIN_LET_GO_MARGIN`
    (but never more than half the TTL).

    Example::

        >>> let_go_margin(30.0), let_go_margin(8.0)
        (7.5, 4.0)
    """
    return min(max(ttl / 4, MIN_LET_GO_MARGIN), ttl / 2)


def fair_share(total: int, members: Iterable[str], me: str) -> int:
    """How many of ``total`` shards ``me`` should hold while ``members`` are alive.

    Members are ordered by id; with ``n`` of them each holds ``total // n`` and the
    first ``total % n`` one more, so the shares add up to ``total`` exactly. A member
    missing from ``members`` (not yet seen as alive) gets 0.

    Example::

        >>> [fair_share(10, "abc", m) for m in "abc"]
        [4, 3, 3]
        >>> fair_share(10, "ab", "z")
        0
    """
    ordered = sorted(set(members))
    if me not in ordered:
        return 0
    base, extra = divmod(total, len(ordered))
    return base + (1 if ordered.index(me) < extra else 0)


@dataclass(frozen=True, slots=True)
class Plan:
    """What a member does next: claim this many free shards, hand off these of its own."""

    claim: int
    release: tuple[int, ...]


def plan(held: Collection[int], share: int, batch: int | None = None) -> Plan:
    """Move ``held`` towards ``share`` shards: claim what is missing, at most ``batch``
    at a time (free shards are found in Redis, lowest first), hand off the highest
    held ones while over.

    Example::

        >>> plan(held={3}, share=1)
        Plan(claim=0, release=())
    """
    if len(held) < share:
        missing = share - len(held)
        return Plan(missing if batch is None else min(missing, batch), ())
    return Plan(0, tuple(sorted(held, reverse=True)[: len(held) - share]))


class LeaseClock:
    """Until when a member may trust the leases it renewed, on its own clock.

    ``renewed(sent_at)`` records a renewal the server confirmed, with the member's
    time at which the request was *sent*; :meth:`must_let_go` says when leases could
    expire at the server within the let-go margin.

    Example::

        >>> clock = LeaseClock(ttl=30.0)
        >>> clock.must_let_go(now=0.0)   # nothing renewed yet: nothing to hold
        True
        >>> clock.renewed(sent_at=100.0)
        >>> clock.must_let_go(now=122.0), clock.must_let_go(now=122.5)
        (False, True)
    """

    __slots__ = ("margin", "ttl", "valid_until")

    def __init__(self, ttl: float = LEASE_TTL) -> None:
        if not ttl > 0:
            raise ValueError(f"the lease ttl must be positive, got {ttl}")
        self.ttl = ttl
        self.margin = let_go_margin(ttl)
        #: The member's time at which its leases may expire at the server.
        self.valid_until: float | None = None

    def renewed(self, sent_at: float) -> None:
        """A renewal sent at ``sent_at`` succeeded."""
        until = sent_at + self.ttl
        if self.valid_until is None or until > self.valid_until:
            self.valid_until = until

    def must_let_go(self, now: float) -> bool:
        """True once the leases could expire within the margin: close the shards."""
        return self.valid_until is None or now >= self.valid_until - self.margin

    def forget(self) -> None:
        """The member let go of everything: nothing is trusted until the next renewal."""
        self.valid_until = None


def reshard_target(recommended: int, current: int, max_concurrency: int) -> int | None:
    """The total to reshard to when Discord recommends ``recommended`` shards and the
    cluster runs ``current``: ``None`` unless more are recommended; rounded up to a
    multiple of ``max_concurrency`` when it is above 1 (large-bot sharding: another
    count is refused with 4010).

    Example::

        >>> reshard_target(9, 8, 1), reshard_target(8, 8, 1), reshard_target(20, 16, 16)
        (9, None, 32)
    """
    if recommended <= current:
        return None
    factor = max(1, max_concurrency)
    target = -(-recommended // factor) * factor
    return target if target > current else None
