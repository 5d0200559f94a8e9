"""of_type(*classes): typed narrowing, with the classes' flags pushed down."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from ops_support import ALL, GC, MC, FakeShard, GuildCreate, MessageCreate, dispatch, guild_create, message
from reactivex.testing.marbles import marbles_testing

from rxgateway.events.base import Dispatch, Event, GatewayClose
from rxgateway.ops import of_type, on
from rxgateway.protocol.event_type import EventTypeFlags
from rxgateway.protocol.shard_id import ShardId

M = message("a", 1)
P = dispatch("MESSAGE_CREATE", 2)  # a plain Dispatch: not a MessageCreate instance
C = GatewayClose(ShardId(0, 1), 4000, "", "server")
G = guild_create(5, 3)
LOOKUP = {"m": M, "p": P, "c": C, "g": G}


def test_keeps_instances_only() -> None:
    with marbles_testing() as (start, cold, hot, exp):
        source = hot("-m-p-c-g-|", LOOKUP)
        assert start(source.pipe(of_type(MessageCreate))) == exp("-m-------|", LOOKUP)


def test_several_classes_and_base_classes() -> None:
    with marbles_testing() as (start, cold, hot, exp):
        source = hot("-m-p-c-g-|", LOOKUP)
        assert start(source.pipe(of_type(MessageCreate, GatewayClose))) == exp("-m---c---|", LOOKUP)
    with marbles_testing() as (start, cold, hot, exp):
        source = hot("-m-p-c-g-|", LOOKUP)
        assert start(source.pipe(of_type(Dispatch))) == exp("-m-p---g-|", LOOKUP)


def test_pushes_down_the_union_of_class_flags() -> None:
    shard = FakeShard()
    sub = shard.pipe(of_type(MessageCreate, GuildCreate, GatewayClose)).subscribe(lambda e: None)
    assert shard.demand == MC | GC | EventTypeFlags.GATEWAY_CLOSE
    shard.feed("READY")
    assert not shard.parsed
    sub.dispose()
    assert shard.demand == 0


def test_the_library_typed_classes_push_down_their_type() -> None:
    from rxgateway.events.messages import MessageCreate as RealMessageCreate
    from rxgateway.events.messages import MessageDelete

    shard = FakeShard()
    shard.pipe(of_type(RealMessageCreate, MessageDelete)).subscribe(lambda e: None)
    assert shard.demand == MC | EventTypeFlags.MESSAGE_DELETE


def test_base_classes_push_down_everything() -> None:
    for cls in (Dispatch, Event):
        shard = FakeShard()
        shard.pipe(of_type(cls)).subscribe(lambda e: None)
        assert shard.demand == ALL


def test_combines_with_on() -> None:
    shard = FakeShard()
    seen: list[Event] = []
    shard.pipe(of_type(MessageCreate, GuildCreate), on(GC)).subscribe(seen.append)
    assert shard.demand == GC
    shard.feed("GUILD_CREATE", 7)
    shard.feed("MESSAGE_CREATE", 8)
    assert [e.sequence for e in seen] == [7]


def test_needs_classes() -> None:
    with pytest.raises(TypeError):
        of_type()
    with pytest.raises(TypeError):
        of_type(EventTypeFlags.READY)  # type: ignore[call-overload]


# ------------------------------------------------------------------- typing

SNIPPET = Path(__file__).with_name("typing_of_type.py")


def test_of_type_narrows_for_mypy(tmp_path: Path) -> None:
    """mypy sees ``source.pipe(of_type(MessageCreate))`` as an Observable of
    MessageCreate, ``spawn`` results typed, and the brief's route table accepted
    (the snippet is a file beside this test)."""
    from mypy import api

    root = Path(__file__).resolve().parents[2]
    cwd = os.getcwd()
    os.chdir(root)
    try:
        stdout, stderr, status = api.run(
            [
                "--strict",
                "--follow-imports=silent",
                "--no-error-summary",
                "--show-absolute-path",
                f"--cache-dir={tmp_path / 'mypy-cache'}",
                str(SNIPPET),
            ]
        )
    finally:
        os.chdir(cwd)
    lines = [line for line in stdout.splitlines() if line.startswith(str(SNIPPET))]
    # The snippet's module is "typing_of_type" or "tests.ops.typing_of_type", depending
    # on whether tests/ is a package: compare without the package prefix.
    revealed = [
        line.split("Revealed type is ", 1)[1].replace("tests.ops.typing_of_type", "typing_of_type")
        for line in lines
        if "Revealed type is" in line
    ]
    errors = [line for line in lines if ": error:" in line]
    assert not errors, stdout
    assert len(revealed) == 7, stdout + stderr
    one, two, plain, via_on, real, spawned, routing = revealed
    assert "Observable[typing_of_type.MessageCreate]" in one
    assert "typing_of_type.MessageCreate | rxgateway.events.base.GatewayClose" in two
    assert "Observable[rxgateway.events.base.Event]" in plain
    assert "Observable[typing_of_type.MessageCreate]" in via_on  # on() keeps the type
    assert "Observable[rxgateway.events.messages.MessageCreate]" in real  # the library's own class
    assert re.search(r"\bObservable\[(builtins\.)?int\]", spawned), spawned
    assert routing == '"rxgateway.ops._route.Routing"'
