"""SessionRecord: a JSON-safe round trip, and validation that names what is wrong."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from rxgateway.machine import Session
from rxgateway.protocol import ShardId
from rxgateway.store import SessionRecord, default_owner, supersedes

GOOD: dict[str, Any] = {
    "shard": [3, 8],
    "session_id": "9f1c2d",
    "sequence": 812,
    "resume_url": "wss://gateway-us-east1-b.discord.gg",
    "saved_at": 1_700_000_000.25,
    "owner": "host-1:4242",
}


def test_round_trip_through_json() -> None:
    record = SessionRecord.from_dict(GOOD)
    assert record.shard == ShardId(3, 8) and record.session == Session("9f1c2d", 812)
    assert SessionRecord.from_dict(orjson.loads(orjson.dumps(record.to_dict()))) == record
    assert record.to_dict() == GOOD


def test_optional_fields_may_be_null_or_absent() -> None:
    data = {k: v for k, v in GOOD.items() if k not in ("resume_url", "owner")}
    record = SessionRecord.from_dict(data)
    assert record.resume_url is None and record.owner is None
    assert SessionRecord.from_dict(record.to_dict()) == record


def test_now_stamps_the_time_and_this_process() -> None:
    record = SessionRecord.now(ShardId(0, 1), Session("a", 1), None)
    assert record.owner == default_owner() and 0 <= record.age() < 60


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"shard": [4, 4]}, "shard"),
        ({"shard": [0]}, "shard"),
        ({"shard": "0/1"}, "shard"),
        ({"shard": [True, 2]}, "shard"),
        ({"session_id": ""}, "'id'"),
        ({"session_id": 7}, "'id'"),
        ({"sequence": -1}, "'sequence'"),
        ({"sequence": "5"}, "'sequence'"),
        ({"resume_url": "https://not-a-websocket"}, "resume_url"),
        ({"resume_url": 5}, "resume_url"),
        ({"saved_at": "yesterday"}, "saved_at"),
        ({"saved_at": float("nan")}, "saved_at"),
        ({"owner": 12}, "owner"),
    ],
)
def test_bad_fields_raise_value_error_naming_them(change: dict[str, Any], words: str) -> None:
    with pytest.raises(ValueError, match="invalid session record") as caught:
        SessionRecord.from_dict({**GOOD, **change})
    assert words in str(caught.value)


@pytest.mark.parametrize("missing", ["shard", "session_id", "sequence", "saved_at"])
def test_missing_fields_are_named(missing: str) -> None:
    data = {k: v for k, v in GOOD.items() if k != missing}
    with pytest.raises(ValueError, match=repr(missing)):
        SessionRecord.from_dict(data)


def test_not_an_object() -> None:
    with pytest.raises(ValueError, match="expected an object"):
        SessionRecord.from_dict([1, 2])  # type: ignore[arg-type]


def test_the_constructor_checks_types_too() -> None:
    with pytest.raises(TypeError):
        SessionRecord((0, 1), Session("a", 1), None, 1.0)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        SessionRecord(ShardId(0, 1), Session("a", 1), "http://x", 1.0)


def test_resumable_only_by_the_same_number_and_total_and_not_too_old() -> None:
    record = SessionRecord(ShardId(1, 4), Session("a", 1), None, 1000.0)
    assert record.resumable_by(ShardId(1, 4))
    assert not record.resumable_by(ShardId(1, 8))
    assert not record.resumable_by(ShardId(2, 4))
    assert record.resumable_by(ShardId(1, 4), max_age=100, now=1099.0)
    assert not record.resumable_by(ShardId(1, 4), max_age=100, now=1100.0)


def test_supersedes_never_moves_a_session_back() -> None:
    old = SessionRecord(ShardId(0, 1), Session("a", 10), None, 1.0)
    assert supersedes(SessionRecord(ShardId(0, 1), Session("a", 10), None, 2.0), old)
    assert not supersedes(SessionRecord(ShardId(0, 1), Session("a", 9), None, 2.0), old)
    assert supersedes(SessionRecord(ShardId(0, 1), Session("b", 1), None, 2.0), old)


def test_repr_holds_nothing_but_the_record() -> None:
    record = SessionRecord.from_dict(GOOD)
    text = repr(record)
    assert "9f1c2d" in text and "token" not in text.lower()
