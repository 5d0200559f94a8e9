"""Heartbeat round-trip statistics (twilight.md §1.9, §2.13).

A period begins when a heartbeat is sent (:meth:`Latency.record_sent`) and ends at
the first ACK after it (:meth:`Latency.record_received`). The machine makes a new
``Latency`` on every Hello, since the remote host may have changed. Times are
monotonic seconds passed in by the caller; nothing here reads a clock.

Unlike twilight, an ACK with no heartbeat outstanding (never sent, or already
answered) does not panic: it is ignored and returns ``None``.

Example::

    >>> latency = Latency()
    >>> latency.record_sent(10.0)
    >>> latency.record_received(10.25)
    0.25
    >>> latency.periods, latency.recent
    (1, (0.25,))
"""

from __future__ import annotations

from typing import Final

__all__ = ["RECENT_SIZE", "Latency"]

#: Round trips kept in :attr:`Latency.recent`: enough to see a trend or a spike
#: without keeping history (twilight keeps the same five).
RECENT_SIZE: Final = 5


class Latency:
    """Heartbeat latency: the average since creation and the last few round trips.

    Example::

        >>> latency = Latency()
        >>> latency.average is None, latency.recent
        (True, ())
    """

    __slots__ = ("_periods", "_received", "_recent", "_sent", "_sum")

    def __init__(self) -> None:
        self._sum = 0.0
        self._periods = 0
        self._sent: float | None = None
        self._received: float | None = None
        # A tuple, not a deque: an empty deque costs ~0.7 KiB, times a thousand shards.
        self._recent: tuple[float, ...] = ()

    def __repr__(self) -> str:
        average = "None" if self.average is None else f"{self.average * 1000:.1f}ms"
        return f"Latency(average={average}, periods={self._periods})"

    def record_sent(self, now: float) -> None:
        """A heartbeat was sent at ``now``: a new period begins.

        Example::

            >>> latency = Latency(); latency.record_sent(1.0); latency.sent
            1.0
        """
        self._sent = now
        self._received = None

    def record_received(self, now: float) -> float | None:
        """An ACK arrived at ``now``: the round trip in seconds, or ``None`` when no
        heartbeat was outstanding (the ACK is then ignored).

        Example::

            >>> Latency().record_received(1.0) is None
            True
        """
        sent = self._sent
        if sent is None or self._received is not None:
            return None
        rtt = now - sent
        self._received = now
        self._periods += 1
        self._sum += rtt
        self._recent = (rtt, *self._recent[: RECENT_SIZE - 1])
        return rtt

    @property
    def average(self) -> float | None:
        """Mean round trip in seconds over every period since creation, or ``None``.

        Example::

            >>> latency = Latency()
            >>> for sent, ack in ((0.0, 0.1), (1.0, 1.3)):
            ...     latency.record_sent(sent); _ = latency.record_received(ack)
            >>> round(latency.average, 6)
            0.2
        """
        return self._sum / self._periods if self._periods else None

    @property
    def periods(self) -> int:
        """Completed heartbeat periods since creation.

        Example::

            >>> Latency().periods
            0
        """
        return self._periods

    @property
    def recent(self) -> tuple[float, ...]:
        """Up to :data:`RECENT_SIZE` most recent round trips in seconds, newest first.

        Example::

            >>> latency = Latency()
            >>> for sent, ack in ((0.0, 0.5), (1.0, 1.25)):
            ...     latency.record_sent(sent); _ = latency.record_received(ack)
            >>> latency.recent
            (0.25, 0.5)
        """
        return self._recent

    @property
    def sent(self) -> float | None:
        """When the last heartbeat was sent, or ``None``.

        Example::

            >>> Latency().sent is None
            True
        """
        return self._sent

    @property
    def received(self) -> float | None:
        """When the last heartbeat was acknowledged; ``None`` until then and while a
        heartbeat is outstanding.

        Example::

            >>> latency = Latency(); latency.record_sent(1.0); _ = latency.record_received(1.5)
            >>> latency.received
            1.5
        """
        return self._received

    def to_dict(self) -> dict[str, object]:
        """The statistics for display: seconds, ``None`` where unknown.

        Example::

            >>> Latency().to_dict()
            {'average': None, 'periods': 0, 'recent': [], 'sent': None, 'received': None}
        """
        return {
            "average": self.average,
            "periods": self._periods,
            "recent": list(self._recent),
            "sent": self._sent,
            "received": self._received,
        }
