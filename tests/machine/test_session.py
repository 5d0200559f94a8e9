"""Session: twilight's session.rs tests, plus persistence with validation."""

from __future__ import annotations

import dataclasses
import doctest
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import rxgateway.machine.session as session_module
from rxgateway.machine.session import Session

SESSION_ID = "9f1c2d3e4b5a69788796a5b4c3d2e1f0"


def test_session_getters() -> None:
    session = Session(SESSION_ID, 42)
    assert session.id == SESSION_ID
    assert session.sequence == 42


def test_serde_form_is_id_and_sequence() -> None:
    session = Session(SESSION_ID, 42)
    assert session.to_dict() == {"id": SESSION_ID, "sequence": 42}
    assert orjson.loads(session.to_json()) == {"id": SESSION_ID, "sequence": 42}
    assert Session.from_dict(session.to_dict()) == session
    assert Session.from_json(session.to_json()) == session
    assert Session.from_json(session.to_json().encode()) == session


def test_with_sequence_accepts_skips_and_repeats() -> None:
    session = Session(SESSION_ID, 5)
    assert session.with_sequence(9) == Session(SESSION_ID, 9)
    assert session.with_sequence(5) == session
    assert session.with_sequence(2).sequence == 2  # no monotonicity check, as twilight
    assert session.sequence == 5


def test_frozen_slotted_and_hashable() -> None:
    session = Session(SESSION_ID, 1)
    with pytest.raises(dataclasses.FrozenInstanceError):
        session.sequence = 2  # type: ignore[misc]
    assert not hasattr(session, "__dict__")
    assert len({session, Session(SESSION_ID, 1), Session(SESSION_ID, 2)}) == 2


def test_extra_keys_are_ignored() -> None:
    data = {"id": SESSION_ID, "sequence": 3, "resume_url": "wss://example"}
    assert Session.from_dict(data) == Session(SESSION_ID, 3)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ([SESSION_ID, 1], "expected an object, got list"),
        ({"sequence": 1}, "missing 'id'"),
        ({}, "missing 'id', 'sequence'"),
        ({"id": SESSION_ID}, "missing 'sequence'"),
        ({"id": 12, "sequence": 1}, "'id' must be a string, got int"),
        ({"id": "", "sequence": 1}, "'id' must not be empty"),
        ({"id": SESSION_ID, "sequence": "1"}, "'sequence' must be an integer, got str"),
        ({"id": SESSION_ID, "sequence": 1.0}, "'sequence' must be an integer, got float"),
        ({"id": SESSION_ID, "sequence": True}, "'sequence' must be an integer, got bool"),
        ({"id": SESSION_ID, "sequence": None}, "'sequence' must be an integer, got NoneType"),
        ({"id": SESSION_ID, "sequence": -1}, "'sequence' must be >= 0, got -1"),
    ],
)
def test_from_dict_errors_name_the_problem(data: Any, message: str) -> None:
    with pytest.raises(ValueError, match="invalid session") as caught:
        Session.from_dict(data)
    assert message in str(caught.value)


@pytest.mark.parametrize("text", ["", "{", "not json", "[1, 2]", "null", '{"id": "a"}'])
def test_from_json_errors_are_value_errors(text: str) -> None:
    with pytest.raises(ValueError, match="invalid session"):
        Session.from_json(text)


def test_constructor_checks_types() -> None:
    with pytest.raises(TypeError, match="'sequence' must be an integer"):
        Session(SESSION_ID, "1")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="'id' must be a string"):
        Session(None, 1)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=">= 0"):
        Session(SESSION_ID, -5)


@settings(max_examples=100, deadline=None, derandomize=True)
@given(session_id=st.text(min_size=1, max_size=64), sequence=st.integers(min_value=0, max_value=2**63))
def test_property_json_round_trip(session_id: str, sequence: int) -> None:
    session = Session(session_id, sequence)
    assert Session.from_json(session.to_json()) == session


def test_docstring_examples() -> None:
    assert doctest.testmod(session_module).failed == 0
