"""Fanout.route: the per-name cache of who wants a dispatch, and that it never goes stale."""

from __future__ import annotations

import doctest
from typing import Any

import rxgateway.fanout
from rxgateway.events import MessageCreate, TypingStart
from rxgateway.events.base import dispatch_maker
from rxgateway.events.view import UnknownDispatch
from rxgateway.fanout import Fanout
from rxgateway.protocol import EventTypeFlags, ShardId

SHARD = ShardId(0, 1)
MESSAGE = int(EventTypeFlags.MESSAGE_CREATE)
TYPING = int(EventTypeFlags.TYPING_START)


def _noop(*_: Any) -> None:
    pass


def test_docstring_examples() -> None:
    result = doctest.testmod(rxgateway.fanout, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0
    assert result.attempted > 0


def test_route_names_the_maker_and_the_subscribers_in_order() -> None:
    fanout = Fanout("t")
    a = fanout.add(MESSAGE, _noop, _noop, _noop)
    fanout.add(TYPING, _noop, _noop, _noop)
    c = fanout.add(MESSAGE | TYPING, _noop, _noop, _noop)
    make, type_, subs = fanout.route("MESSAGE_CREATE")
    assert make is dispatch_maker(MessageCreate) and type_.value == "MESSAGE_CREATE"
    assert subs == (a, c)
    assert type(make(SHARD, 1, "MESSAGE_CREATE", {}, type_)) is MessageCreate
    assert fanout.route("TYPING_START")[0] is dispatch_maker(TypingStart)
    assert fanout.route("GUILD_BAN_ADD")[2] == ()
    assert set(fanout.routes) == {"MESSAGE_CREATE", "TYPING_START", "GUILD_BAN_ADD"}


def test_a_subscriber_added_after_a_route_was_cached_gets_the_next_event() -> None:
    fanout = Fanout("t")
    first: list[Any] = []
    fanout.add(MESSAGE, first.append, _noop, _noop)
    fanout.dispatch(SHARD, 1, "MESSAGE_CREATE", {"content": "a"})
    later: list[Any] = []
    fanout.add(MESSAGE, later.append, _noop, _noop)
    fanout.dispatch(SHARD, 2, "MESSAGE_CREATE", {"content": "b"})
    assert [e.sequence for e in first] == [1, 2]
    assert [e.sequence for e in later] == [2]


def test_a_cached_empty_route_opens_when_someone_subscribes() -> None:
    fanout = Fanout("t")
    fanout.add(TYPING, _noop, _noop, _noop)
    fanout.dispatch(SHARD, 1, "MESSAGE_CREATE", {})  # cached as nobody's
    assert fanout.routes["MESSAGE_CREATE"][2] == ()
    seen: list[Any] = []
    fanout.add(MESSAGE, seen.append, _noop, _noop)
    fanout.dispatch(SHARD, 2, "MESSAGE_CREATE", {})
    assert [e.sequence for e in seen] == [2]


def test_a_subscriber_removed_by_another_during_a_delivery_gets_nothing_more() -> None:
    fanout = Fanout("t")
    seen: list[str] = []
    handles: dict[str, Any] = {}

    def first(event: Any) -> None:
        seen.append("first")
        fanout.remove(handles["second"])

    handles["first"] = fanout.add(MESSAGE, first, _noop, _noop)
    handles["second"] = fanout.add(MESSAGE, lambda e: seen.append("second"), _noop, _noop)
    fanout.dispatch(SHARD, 1, "MESSAGE_CREATE", {})
    fanout.dispatch(SHARD, 2, "MESSAGE_CREATE", {})
    assert seen == ["first", "first"]
    assert fanout.route("MESSAGE_CREATE")[2] == (handles["first"],)


def test_a_subscriber_that_raises_leaves_the_route() -> None:
    fanout = Fanout("t")
    errors: list[Exception] = []

    def bad(event: Any) -> None:
        raise RuntimeError("user bug")

    fanout.add(MESSAGE, bad, errors.append, _noop)
    good: list[Any] = []
    fanout.add(MESSAGE, good.append, _noop, _noop)
    fanout.dispatch(SHARD, 1, "MESSAGE_CREATE", {})
    fanout.dispatch(SHARD, 2, "MESSAGE_CREATE", {})
    assert [type(e) for e in errors] == [RuntimeError]
    assert [e.sequence for e in good] == [1, 2]
    assert len(fanout.route("MESSAGE_CREATE")[2]) == 1


def test_unknown_names_are_delivered_but_not_cached() -> None:
    fanout = Fanout("t")
    seen: list[Any] = []
    fanout.add(int(EventTypeFlags.UNKNOWN_DISPATCH), seen.append, _noop, _noop)
    for i in range(3):
        fanout.dispatch(SHARD, i + 1, f"MADE_UP_{i}", {})
    assert [type(e) for e in seen] == [UnknownDispatch] * 3
    assert [e.name for e in seen] == ["MADE_UP_0", "MADE_UP_1", "MADE_UP_2"]
    assert fanout.routes == {}


def test_finish_empties_the_routes() -> None:
    fanout = Fanout("t")
    fanout.add(MESSAGE, _noop, _noop, _noop)
    fanout.route("MESSAGE_CREATE")
    fanout.finish()
    assert fanout.routes == {}
    assert fanout.route("MESSAGE_CREATE")[2] == ()
