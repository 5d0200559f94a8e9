"""The ops namespace: reactivex's operators plus ours, and the shared pieces."""

from __future__ import annotations

import reactivex.operators as rx_ops
from ops_support import Collect, FakeShard, message
from reactivex.subject import Subject

from rxgateway import ops
from rxgateway.ops import FlagAware, HandlerError, merge


def test_every_reactivex_operator_is_there_and_merge_is_ours() -> None:
    missing = [name for name in rx_ops.__all__ if not hasattr(ops, name)]
    assert missing == []
    # filter and map are reactivex's plus a fused path after on() (tests/ops/test_ops_fused.py):
    # on anything else they are reactivex's own operators.
    source: Subject[int] = Subject()
    got: list[int] = []
    source.pipe(ops.filter(lambda x: x % 2 == 1), ops.map(lambda x: x * 10)).subscribe(got.append)
    for x in range(5):
        source.on_next(x)
    assert got == [10, 30]
    assert ops.merge is merge and ops.merge is not rx_ops.merge
    for name in ("on", "of_type", "with_shard", "by_shard", "merge", "spawn", "route", "pipeline"):
        assert name in ops.__all__


def test_the_design_example_shape() -> None:
    shard = FakeShard()
    pings: list[object] = []
    shard.pipe(
        ops.on(ops_flags()),
        ops.filter(lambda e: e.content == "m1"),
    ).subscribe(pings.append)
    shard.feed("MESSAGE_CREATE", 1)
    shard.feed("MESSAGE_CREATE", 2)
    assert [e.sequence for e in pings] == [1]  # type: ignore[attr-defined]


def ops_flags() -> int:
    from rxgateway.protocol.event_type import EventTypeFlags

    return EventTypeFlags.MESSAGE_CREATE


def test_flag_aware_protocol() -> None:
    assert isinstance(FakeShard(), FlagAware)
    assert isinstance(ops.on(1)(Subject()), FlagAware)
    assert not isinstance(Subject(), FlagAware)


def test_handler_error_says_what_failed() -> None:
    def on_message(e: object) -> None: ...

    error = HandlerError(ValueError("nope"), message("x", 5), on_message, key=ops_flags())
    text = str(error)
    assert "on_message" in text and "nope" in text and "sequence=5" in text
    assert error.__cause__ is error.error


def test_one_observer_under_two_keys_hears_the_end_once() -> None:
    from ops_support import GC, MC

    source: Subject[object] = Subject()
    observer = Collect()
    source.pipe(ops.route({MC: observer, GC: observer}))  # type: ignore[arg-type]
    source.on_completed()
    assert observer.completed == 1
