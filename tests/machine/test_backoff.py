"""Reconnect backoff, the op 9 delay and the connect timeout."""

from __future__ import annotations

import doctest
import random
from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import rxgateway.machine.backoff as backoff_module
from rxgateway.machine.backoff import (
    BACKOFF_CAP,
    CONNECT_TIMEOUT,
    INVALID_SESSION_DELAY,
    backoff_base,
    backoff_delay,
    invalid_session_delay,
)

EXPECTED_BASES = [0.0, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 64.0, 64.0, 64.0, 64.0, 64.0]
UNIT = st.floats(min_value=0.0, max_value=1.0)


def constant(value: float) -> Callable[[], float]:
    """An ``rng`` that always returns ``value``."""
    return lambda: value


def test_constants() -> None:
    assert BACKOFF_CAP == 64.0
    assert CONNECT_TIMEOUT == 10.0
    assert INVALID_SESSION_DELAY == (1.0, 5.0)


def test_bases_for_attempts_0_to_12() -> None:
    bases = [backoff_base(n) for n in range(13)]
    assert bases == EXPECTED_BASES
    assert bases == sorted(bases)
    assert max(bases) == BACKOFF_CAP


def test_first_retry_is_immediate_whatever_the_random_value() -> None:
    for value in (0.0, 0.5, 1.0):
        assert backoff_delay(0, constant(value)) == 0.0


@pytest.mark.parametrize("attempt", range(1, 13))
def test_delay_lies_in_half_base_to_base(attempt: int) -> None:
    base = EXPECTED_BASES[attempt]
    assert backoff_delay(attempt, lambda: 0.0) == base / 2
    assert backoff_delay(attempt, lambda: 1.0) == base
    assert backoff_delay(attempt, lambda: 0.5) == base * 0.75


@pytest.mark.parametrize("attempt", [13, 255, 10**6, 10**100])
def test_huge_attempts_are_capped_and_cheap(attempt: int) -> None:
    assert backoff_base(attempt) == BACKOFF_CAP
    assert BACKOFF_CAP / 2 <= backoff_delay(attempt, random.Random(attempt).random) <= BACKOFF_CAP


def test_seeded_sequence_is_deterministic_and_in_bounds() -> None:
    first = [backoff_delay(n, random.Random(7).random) for n in range(13)]
    again = [backoff_delay(n, random.Random(7).random) for n in range(13)]
    assert first == again
    for delay, base in zip(first, EXPECTED_BASES):
        assert base / 2 <= delay <= base


def test_invalid_arguments() -> None:
    with pytest.raises(ValueError, match="attempt"):
        backoff_delay(-1, lambda: 0.5)
    with pytest.raises(ValueError, match="rng"):
        backoff_delay(3, lambda: 1.5)
    with pytest.raises(ValueError, match="rng"):
        invalid_session_delay(lambda: -0.1)


def test_invalid_session_delay_bounds() -> None:
    assert invalid_session_delay(lambda: 0.0) == 1.0
    assert invalid_session_delay(lambda: 0.5) == 3.0
    rng = random.Random(3)
    delays = [invalid_session_delay(rng.random) for _ in range(1000)]
    assert all(1.0 <= delay < 5.0 for delay in delays)
    assert min(delays) < 1.5 and max(delays) > 4.5  # the whole range is used


@settings(max_examples=200, deadline=None, derandomize=True)
@given(attempt=st.integers(min_value=0, max_value=10**9), value=UNIT)
def test_property_delay_bounds(attempt: int, value: float) -> None:
    delay = backoff_delay(attempt, lambda: value)
    base = backoff_base(attempt)
    assert base / 2 <= delay <= base <= BACKOFF_CAP
    assert backoff_base(attempt + 1) >= base


@settings(max_examples=100, deadline=None, derandomize=True)
@given(value=UNIT)
def test_property_invalid_session_delay(value: float) -> None:
    low, high = INVALID_SESSION_DELAY
    assert low <= invalid_session_delay(lambda: value) <= high


def test_docstring_examples() -> None:
    assert doctest.testmod(backoff_module).failed == 0
