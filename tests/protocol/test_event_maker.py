"""The compiled event maker builds the very object the class itself builds.

``dispatch_maker(cls)`` is what the receive path calls to build a dispatch: ``cls``
itself, or ``rxgateway.protocol._cprobe.EventMaker`` where the optional extension is
built. These tests hold the twin to ``cls(...)`` for every dispatch class the library
has, and to the rules that keep it from building anything ``cls(...)`` would not.
"""

from __future__ import annotations

import gc
import importlib.util
import os
import subprocess
import sys
from typing import Any

import pytest

from rxgateway.events import base
from rxgateway.events.base import Dispatch, dispatch_maker
from rxgateway.events.build import DISPATCH_TABLE, UNKNOWN_DISPATCH
from rxgateway.protocol import ShardId
from rxgateway.protocol.envelope import compiled_probe_dispatch

SHARD = ShardId(3, 8)
CLASSES = sorted({cls for _, cls, _ in [*DISPATCH_TABLE.values(), UNKNOWN_DISPATCH]}, key=lambda c: c.__name__)
needs_extension = pytest.mark.skipif(base._EventMaker is None, reason="the C extension is not built here")


def test_the_maker_is_compiled_wherever_the_probe_is() -> None:
    """One extension: both of its parts are there, or neither."""
    assert (base._EventMaker is None) == (compiled_probe_dispatch is None)


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.__name__)
def test_every_dispatch_class_is_built_alike(cls: type[Dispatch]) -> None:
    make = dispatch_maker(cls)
    assert dispatch_maker(cls) is make  # one per class
    if base._EventMaker is not None:
        assert make is not cls and make.cls is cls  # type: ignore[attr-defined]
    name = next((n for n, (_, c, _) in DISPATCH_TABLE.items() if c is cls), "SOMETHING_NEW")
    type_ = (DISPATCH_TABLE.get(name) or UNKNOWN_DISPATCH)[2]
    d = {"id": "1", "content": "hi"}
    built, expected = make(SHARD, 9, name, d, type_), cls(SHARD, 9, name, d, type_)
    assert type(built) is cls
    for slot in ("shard", "_sequence", "name", "raw", "_type"):
        assert getattr(built, slot) is getattr(expected, slot)
    assert (built.sequence, built.type, built.raw) == (9, type_, d)
    assert repr(built) == repr(expected)
    assert gc.is_tracked(built) == gc.is_tracked(expected)


@needs_extension
def test_built_objects_hold_and_release_their_arguments() -> None:
    cls = DISPATCH_TABLE["MESSAGE_CREATE"][1]
    make = dispatch_maker(cls)
    d: dict[str, Any] = {}
    name = "MESSAGE_CREATE"
    before = sys.getrefcount(d), sys.getrefcount(name)
    events = [make(SHARD, i, name, d, DISPATCH_TABLE[name][2]) for i in range(1000)]
    assert sys.getrefcount(d) == before[0] + 1000
    del events
    assert (sys.getrefcount(d), sys.getrefcount(name)) == before


@needs_extension
def test_a_cycle_through_a_built_event_is_collected() -> None:
    cls = DISPATCH_TABLE["MESSAGE_CREATE"][1]
    d: dict[str, Any] = {}
    event = dispatch_maker(cls)(SHARD, 1, "MESSAGE_CREATE", d, DISPATCH_TABLE["MESSAGE_CREATE"][2])
    d["self"] = event  # event -> d -> event
    probe = type("Probe", (), {})()
    d["probe"] = probe
    import weakref

    gone = weakref.ref(probe)
    del event, d, probe
    gc.collect()
    assert gone() is None


@needs_extension
def test_wrong_calls_are_type_errors() -> None:
    make = dispatch_maker(DISPATCH_TABLE["MESSAGE_CREATE"][1])
    with pytest.raises(TypeError, match="takes 5 positional arguments"):
        make(SHARD, 1, "MESSAGE_CREATE", {})
    with pytest.raises(TypeError):
        make(SHARD, 1, "MESSAGE_CREATE", {}, None, None)
    with pytest.raises(TypeError):
        make(SHARD, 1, "MESSAGE_CREATE", {}, type_=None)  # type: ignore[call-arg]


@needs_extension
def test_the_maker_refuses_what_it_cannot_build_exactly() -> None:
    maker = base._EventMaker
    assert maker is not None
    cls = DISPATCH_TABLE["MESSAGE_CREATE"][1]
    with pytest.raises(TypeError, match="not a slot"):
        maker(cls, ("shard", "content"))  # a property, not a slot
    with pytest.raises(AttributeError):
        maker(cls, ("shard", "nothing_of_the_kind"))
    with pytest.raises(ValueError):
        maker(cls, ())
    with pytest.raises(TypeError):
        maker(cls, ["shard"])  # a tuple of names

    class OwnNew(Dispatch):
        __slots__ = ()

        def __new__(cls, *args: Any) -> OwnNew:
            return super().__new__(cls)

    with pytest.raises(TypeError, match="own __new__"):
        maker(OwnNew, ("shard",))

    class Borrowed:  # another class's slot descriptor, set on a class without that slot
        __slots__ = ()
        shard = base.Event.shard

    with pytest.raises(TypeError, match="not a slot"):
        maker(Borrowed, ("shard",))


def test_a_class_with_its_own_init_is_its_own_maker() -> None:
    seen: list[int] = []

    class Counting(Dispatch):
        __slots__ = ()

        def __init__(self, *args: Any) -> None:
            seen.append(1)
            super().__init__(*args)

    assert dispatch_maker(Counting) is Counting
    dispatch_maker(Counting)(SHARD, 1, "X", {}, UNKNOWN_DISPATCH[2])
    assert seen == [1]


@pytest.mark.parametrize("switch", ["1", ""])
def test_the_environment_switch(switch: str) -> None:
    """``RXGATEWAY_NO_EXTENSIONS`` (non-empty): every class is its own maker."""
    code = (
        "from rxgateway.events import MessageCreate\n"
        "from rxgateway.events.base import dispatch_maker\n"
        "print(dispatch_maker(MessageCreate) is MessageCreate)"
    )
    env = {**os.environ, "RXGATEWAY_NO_EXTENSIONS": switch}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    built = importlib.util.find_spec("rxgateway.protocol._cprobe") is not None
    assert done.stdout.strip() == str(bool(switch) or not built)
