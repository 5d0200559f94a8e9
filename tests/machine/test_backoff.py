"""Reconnect backoff and the op 9 delay: behaviour, not constants.

The rules (backoff.py's docstring): attempt 0 retries at once; the base never
shrinks as attempts grow, doubles from 1 s until it reaches the cap and then stays
there; a delay lies in ``[base / 2, base]`` and grows with the random value; a
random value outside ``[0, 1]`` is refused. (The connect timeout lives in
``rxgateway.config``, not here.)
"""

from __future__ import annotations

import doctest
import math
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import rxgateway.machine.backoff as backoff_module
from rxgateway.machine.backoff import (
    BACKOFF_CAP,
    INVALID_SESSION_DELAY,
    backoff_base,
    backoff_delay,
    invalid_session_delay,
)

UNIT = st.floats(min_value=0.0, max_value=1.0)
ATTEMPTS = st.integers(min_value=0, max_value=10**9) | st.integers(min_value=0, max_value=40)
#: Values ``rng()`` must not return.
NOT_UNIT = (
    st.floats(max_value=0.0, exclude_max=True)
    | st.floats(min_value=1.0, exclude_min=True)
    | st.just(math.nan)
)


def first_capped_attempt() -> int:
    attempt = 1
    while backoff_base(attempt) < BACKOFF_CAP:
        attempt += 1
        assert attempt < 1000, "the base never reaches the cap"
    return attempt


# -- the base --------------------------------------------------------------------------------


def test_bases_never_decrease() -> None:
    bases = [backoff_base(n) for n in range(200)]
    assert all(a <= b for a, b in zip(bases, bases[1:])), bases


@settings(max_examples=200, deadline=None, derandomize=True)
@given(a=ATTEMPTS, b=ATTEMPTS)
def test_property_bases_are_monotone(a: int, b: int) -> None:
    low, high = sorted((a, b))
    assert backoff_base(low) <= backoff_base(high)


def test_base_doubles_from_one_second_until_the_cap() -> None:
    assert backoff_base(1) == 1.0
    cap_at = first_capped_attempt()
    for n in range(1, cap_at):
        assert backoff_base(n + 1) == min(2 * backoff_base(n), BACKOFF_CAP)
    assert backoff_base(cap_at - 1) < BACKOFF_CAP  # reached by doubling, not jumped to


@pytest.mark.parametrize("extra", [0, 1, 2, 50, 10**6, 10**100])
def test_cap_is_reached_and_held(extra: int) -> None:
    attempt = first_capped_attempt() + extra
    assert backoff_base(attempt) == BACKOFF_CAP
    for value in (0.0, 0.3, 1.0):
        assert BACKOFF_CAP / 2 <= backoff_delay(attempt, lambda: value) <= BACKOFF_CAP


@settings(max_examples=200, deadline=None, derandomize=True)
@given(attempt=ATTEMPTS)
def test_property_base_never_exceeds_the_cap(attempt: int) -> None:
    assert 0.0 <= backoff_base(attempt) <= BACKOFF_CAP


# -- the delay -------------------------------------------------------------------------------


@settings(max_examples=100, deadline=None, derandomize=True)
@given(value=UNIT)
def test_property_attempt_zero_is_immediate(value: float) -> None:
    assert backoff_base(0) == 0.0
    assert backoff_delay(0, lambda: value) == 0.0


@pytest.mark.parametrize("attempt", range(1, 13))
def test_delay_spans_half_base_to_base(attempt: int) -> None:
    base = backoff_base(attempt)
    assert backoff_delay(attempt, lambda: 0.0) == base / 2
    assert backoff_delay(attempt, lambda: 1.0) == base
    rng = random.Random(attempt)
    delays = [backoff_delay(attempt, rng.random) for _ in range(2000)]
    assert all(base / 2 <= d <= base for d in delays)
    # The random half is really used: the delays cover the window, both halves of it.
    assert min(delays) < base * 0.55 and max(delays) > base * 0.95


@settings(max_examples=300, deadline=None, derandomize=True)
@given(attempt=ATTEMPTS, value=UNIT)
def test_property_delay_within_half_base_and_base(attempt: int, value: float) -> None:
    base = backoff_base(attempt)
    delay = backoff_delay(attempt, lambda: value)
    assert base / 2 <= delay <= base <= BACKOFF_CAP


@settings(max_examples=200, deadline=None, derandomize=True)
@given(attempt=st.integers(1, 40), a=UNIT, b=UNIT)
def test_property_delay_grows_with_the_random_value(attempt: int, a: float, b: float) -> None:
    low, high = sorted((a, b))
    assert backoff_delay(attempt, lambda: low) <= backoff_delay(attempt, lambda: high)


def test_delay_uses_one_random_value_and_is_reproducible() -> None:
    calls = 0

    def rng() -> float:
        nonlocal calls
        calls += 1
        return 0.25

    assert backoff_delay(5, rng) == backoff_base(5) * (0.5 + 0.25 / 2)
    assert calls == 1
    first = [backoff_delay(n, random.Random(7).random) for n in range(13)]
    assert first == [backoff_delay(n, random.Random(7).random) for n in range(13)]


# -- invalid input ---------------------------------------------------------------------------


@settings(max_examples=100, deadline=None, derandomize=True)
@given(attempt=st.integers(1, 10**6), value=NOT_UNIT)
def test_property_a_random_value_outside_0_1_is_refused(attempt: int, value: float) -> None:
    with pytest.raises(ValueError, match="rng"):
        backoff_delay(attempt, lambda: value)
    with pytest.raises(ValueError, match="rng"):
        invalid_session_delay(lambda: value)


@pytest.mark.parametrize("attempt", [-1, -2, -(10**9)])
def test_negative_attempt_is_refused(attempt: int) -> None:
    with pytest.raises(ValueError, match="attempt"):
        backoff_base(attempt)
    with pytest.raises(ValueError, match="attempt"):
        backoff_delay(attempt, lambda: 0.5)


# -- op 9 ------------------------------------------------------------------------------------


def test_invalid_session_delay_spans_its_window() -> None:
    low, high = INVALID_SESSION_DELAY
    assert 0 < low < high
    assert invalid_session_delay(lambda: 0.0) == low
    assert invalid_session_delay(lambda: 0.5) == (low + high) / 2
    rng = random.Random(3)
    delays = [invalid_session_delay(rng.random) for _ in range(2000)]
    assert all(low <= d < high for d in delays)
    span = high - low
    assert min(delays) < low + span / 10 and max(delays) > high - span / 10  # the whole range is used


@settings(max_examples=200, deadline=None, derandomize=True)
@given(a=UNIT, b=UNIT)
def test_property_invalid_session_delay_bounds_and_order(a: float, b: float) -> None:
    low, high = INVALID_SESSION_DELAY
    # (high itself is reachable: rng() may return 1.0, and 1 - 2**-53 rounds up)
    assert low <= invalid_session_delay(lambda: a) <= high
    lesser, greater = sorted((a, b))
    assert invalid_session_delay(lambda: lesser) <= invalid_session_delay(lambda: greater)


def test_docstring_examples() -> None:
    assert doctest.testmod(backoff_module).failed == 0
