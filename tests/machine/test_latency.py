"""Heartbeat latency: twilight's latency.rs tests, with the panics turned into ``None``."""

from __future__ import annotations

import doctest

import pytest

import rxgateway.machine.latency as latency_module
from rxgateway.machine.latency import RECENT_SIZE, Latency

MS = 0.001


def beat(latency: Latency, sent: float, rtt: float) -> float | None:
    """One heartbeat period: sent at ``sent``, acknowledged ``rtt`` later."""
    latency.record_sent(sent)
    return latency.record_received(sent + rtt)


def test_public_api() -> None:
    """Twilight: 17 periods summing to 510 ms average 30 ms; recent is newest first."""
    latency = Latency()
    rtts = [30 * MS] * 12 + [40 * MS, 35 * MS, 30 * MS, 25 * MS, 20 * MS]
    for i, rtt in enumerate(rtts):
        assert beat(latency, float(i), rtt) == pytest.approx(rtt)
    assert latency.periods == 17
    assert latency.average == pytest.approx(510 * MS / 17)
    assert latency.recent == pytest.approx((20 * MS, 25 * MS, 30 * MS, 35 * MS, 40 * MS))
    assert tuple(reversed(latency.recent)) == pytest.approx((40 * MS, 35 * MS, 30 * MS, 25 * MS, 20 * MS))


def test_recent_empty_partial_and_full() -> None:
    assert Latency().recent == ()
    latency = Latency()
    beat(latency, 0.0, 0.5)
    beat(latency, 1.0, 0.25)
    assert list(latency.recent) == [0.25, 0.5]
    for i in range(10):
        beat(latency, 2.0 + i, 0.125 * (i + 1))
    assert RECENT_SIZE == 5
    assert list(latency.recent) == [1.25, 1.125, 1.0, 0.875, 0.75]
    assert latency.periods == 12


def test_record_period() -> None:
    latency = Latency()
    assert (latency.sent, latency.received, latency.periods, latency.average) == (None, None, 0, None)
    latency.record_sent(5.0)
    assert (latency.sent, latency.received, latency.periods) == (5.0, None, 0)
    assert latency.record_received(5.5) == 0.5
    assert (latency.sent, latency.received, latency.periods, latency.recent) == (5.0, 5.5, 1, (0.5,))
    latency.record_sent(6.0)
    assert (latency.sent, latency.received, latency.periods) == (6.0, None, 1)


def test_completed_period_ack_is_ignored() -> None:
    """Twilight panics with "period completed multiple times"."""
    latency = Latency()
    assert beat(latency, 0.0, 0.5) == 0.5
    assert latency.record_received(0.75) is None
    assert (latency.received, latency.periods, latency.recent, latency.average) == (0.5, 1, (0.5,), 0.5)


def test_ack_without_a_heartbeat_is_ignored() -> None:
    """Twilight panics with "period has not begun"."""
    latency = Latency()
    assert latency.record_received(1.0) is None
    assert latency.to_dict() == Latency().to_dict()


def test_missed_ack_then_resend_measures_from_the_latest_heartbeat() -> None:
    latency = Latency()
    latency.record_sent(0.0)
    latency.record_sent(10.0)
    assert latency.record_received(10.25) == 0.25
    assert latency.periods == 1


def test_to_dict() -> None:
    latency = Latency()
    beat(latency, 1.0, 0.5)
    beat(latency, 2.0, 0.25)
    assert latency.to_dict() == {
        "average": 0.375,
        "periods": 2,
        "recent": [0.25, 0.5],
        "sent": 2.0,
        "received": 2.25,
    }
    assert "average=375.0ms" in repr(latency)


def test_docstring_examples() -> None:
    assert doctest.testmod(latency_module).failed == 0
