"""The compiled dispatch lane (``_cprobe.Lane``) does what the Python lane does.

``ShardMachine.on_message`` hands a payload in the gateway's own layout to
``shard_machine._read_lane`` where the extension is built: one C call that reads the
head, drops a duplicate, tests the wanted names, parses a wanted dispatch and moves the
sequence, the count and the tap on the machine's own slots. Every other machine test
runs under both lanes (``tests/machine/conftest.py``); here the two are driven side by side over
generated streams and compared, and the C type's own contract (bad arguments, limits,
references) is checked.
"""

from __future__ import annotations

import gc
import os
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rxgateway.config import Config
from rxgateway.machine import Pending, ShardMachine, shard_machine
from rxgateway.protocol import EventTypeFlags, Intents, ShardId
from rxgateway.protocol.envelope import PROBED_NAMES, compiled_probe_dispatch, event_bit, probe_dispatch

from ..build_support import HAVE_COMPILER

LANE: Any = shard_machine._read_lane
needs_lane = pytest.mark.skipif(LANE is None, reason="the C extension is not built here (or switched off)")
NAMES = sorted(PROBED_NAMES.values())
SLOTS = ("_sequence", "_wanted_names", "dispatches", "duplicates_dropped", "tap")


def test_the_lane_is_built_wherever_the_extension_is() -> None:
    if os.environ.get("RXGATEWAY_NO_EXTENSIONS") or not HAVE_COMPILER:
        pytest.skip("RXGATEWAY_NO_EXTENSIONS is set, or nothing here can compile C: the Python lane is what runs")
    assert LANE is not None and compiled_probe_dispatch is not None


def machine(wanted: int) -> ShardMachine:
    config = Config("secret-token", Intents.GUILDS, compression=None)
    m = ShardMachine(ShardId(0, 1), config, rng=lambda: 0.5)
    m.start(0.0)
    m.on_connected(0.0)
    m.wanted = wanted
    for data in (
        b'{"t":null,"s":null,"op":10,"d":{"heartbeat_interval":41250}}',
        b'{"t":"READY","s":1,"op":0,"d":{"session_id":"s","resume_gateway_url":"wss://r","v":10}}',
    ):
        out = m.on_message(data)
        if isinstance(out, Pending):
            m.on_pending(0.0, out)
        m.on_identify_granted(0.0)
    return m


@pytest.fixture
def python_lane() -> Iterator[None]:
    """The Python lane for the machine module while the test runs."""
    saved = shard_machine._read_lane
    shard_machine._read_lane = None
    try:
        yield
    finally:
        shard_machine._read_lane = saved


def frame(name: str, seq: int, d: bytes = b'{"n":1}') -> bytes:
    return b'{"t":"%b","s":%d,"op":0,"d":%b}' % (name.encode(), seq, d)


#: One received frame: a dispatch in the gateway's layout (maybe a duplicate, maybe with
#: a d that does not parse), one in another key order, or something that is no dispatch.
frames = st.one_of(
    st.tuples(st.sampled_from(NAMES[:12] + ["MESSAGE_CREATE"]), st.integers(1, 40), st.sampled_from([b'{"n":1}', b"[1,2]", b"null", b'{"broken"}'])).map(
        lambda t: frame(*t)
    ),
    st.integers(1, 40).map(lambda s: orjson.dumps({"op": 0, "s": s, "t": "MESSAGE_CREATE", "d": {}})),
    st.just(b'{"t":null,"s":null,"op":11,"d":null}'),
    st.just(b'{"t":"SOMETHING_NEW","s":3,"op":0,"d":{}}'),
)


def run(m: ShardMachine, stream: list[bytes]) -> list[str]:
    """What each frame gave (the reprs: errors compare by identity), as the receive loop
    hands them over."""
    answers = []
    for data in stream:
        out = m.on_message(data)
        answers.append(repr(m.on_pending(1.0, out) if isinstance(out, Pending) else out))
    return answers


def state(m: ShardMachine) -> tuple[Any, ...]:
    return (m.sequence, m.dispatches, m.duplicates_dropped, m.state, m.phase)


@needs_lane
@settings(max_examples=150, deadline=None)
@given(
    st.lists(frames, max_size=30),
    st.lists(st.sampled_from(NAMES[:12] + ["MESSAGE_CREATE"]), max_size=4) | st.just(["every type"]),
    st.booleans(),
)
def test_both_lanes_answer_alike(stream: list[bytes], wanted_names: list[str], tapped: bool) -> None:
    """Against the Python probe lane, and against its parse-first lane (every type
    wanted), which the compiled lane replaces as well."""
    wanted = int(EventTypeFlags.DISPATCHES) if wanted_names == ["every type"] else 0
    for name in wanted_names if not wanted else ():
        wanted |= event_bit(0, name)
    if wanted:
        # One known difference: the parse-first lane parses a duplicate before it knows
        # it is one, so a duplicate whose d does not parse makes it resume (and get it
        # again); the probe lanes drop it unread. Nothing is lost either way.
        stream = [data for data in stream if not data.endswith(b'{"broken"}}')]
    results = []
    for lane in (LANE, None):
        saved = shard_machine._read_lane
        shard_machine._read_lane = lane
        try:
            m = machine(wanted)
            taps: list[bytes] = []
            if tapped:
                m.tap = taps.append
            results.append((run(m, stream), state(m), taps))
        finally:
            shard_machine._read_lane = saved
    assert results[0] == results[1]


@needs_lane
def test_a_wanted_dispatch_an_unwanted_one_and_a_duplicate() -> None:
    m = machine(int(EventTypeFlags.MESSAGE_CREATE))
    taps: list[bytes] = []
    m.tap = taps.append
    assert LANE(m, frame("MESSAGE_CREATE", 2)) == (2, "MESSAGE_CREATE", {"n": 1})
    assert LANE(m, frame("TYPING_START", 3, b"not json")) is None  # unwanted: never parsed
    assert LANE(m, frame("MESSAGE_CREATE", 3)) is None  # a duplicate
    assert (m.sequence, m.dispatches, m.duplicates_dropped) == (3, 3, 1)
    assert taps == [frame("MESSAGE_CREATE", 2), frame("TYPING_START", 3, b"not json")]
    name = LANE(m, frame("MESSAGE_CREATE", 4))[1]
    assert name is PROBED_NAMES[b"MESSAGE_CREATE"]


@needs_lane
@pytest.mark.parametrize(
    "data",
    [
        b'{"t":"READY","s":2,"op":0,"d":{}}',  # read by the general lane, always
        b'{"op":0,"s":2,"t":"MESSAGE_CREATE","d":{}}',
        b'{"t":"MESSAGE_CREATE","s":2,"op":0,"d":{"broken"}',  # wanted, does not parse
        bytearray(b'{"t":"MESSAGE_CREATE","s":2,"op":0,"d":{}}'),  # not bytes: the general lane reads it
    ],
)
def test_what_it_does_not_answer_is_not_implemented_and_changes_nothing(data: Any) -> None:
    m = machine(int(EventTypeFlags.MESSAGE_CREATE))
    before = state(m)
    assert LANE(m, data) is NotImplemented
    assert state(m) == before


@needs_lane
def test_a_sequence_past_64_bits_makes_everything_a_duplicate() -> None:
    m = machine(int(EventTypeFlags.MESSAGE_CREATE))
    m._sequence = 2**70  # whatever the machine holds, however large
    assert LANE(m, frame("MESSAGE_CREATE", 999_999_999_999_999_999)) is None
    assert m.duplicates_dropped == 1 and m.sequence == 2**70


@needs_lane
def test_a_tap_that_raises_raises_after_the_sequence_moved(python_lane: None) -> None:
    def boom(_: bytes) -> None:
        raise RuntimeError("tap")

    after = []
    for lane in (LANE, None):
        shard_machine._read_lane = lane
        m = machine(int(EventTypeFlags.MESSAGE_CREATE))
        m.tap = boom
        with pytest.raises(RuntimeError, match="tap"):
            m.on_message(frame("MESSAGE_CREATE", 2))
        after.append(state(m))
    assert after[0] == after[1] and after[0][0] == 2


@needs_lane
def test_a_machine_subclass_is_read_and_another_type_is_refused() -> None:
    class Mine(ShardMachine):
        __slots__ = ("extra",)

    m = Mine(ShardId(0, 1), Config("secret-token", Intents.GUILDS, compression=None))
    m.wanted = int(EventTypeFlags.MESSAGE_CREATE)
    assert LANE(m, frame("MESSAGE_CREATE", 2)) == (2, "MESSAGE_CREATE", {"n": 1})
    with pytest.raises(TypeError, match="ShardMachine"):
        LANE(object(), frame("MESSAGE_CREATE", 2))
    with pytest.raises(TypeError, match="2 arguments"):
        LANE(m)


@needs_lane
def test_broken_state_is_an_error_not_a_crash() -> None:
    m = machine(int(EventTypeFlags.MESSAGE_CREATE))
    m._wanted_names = ["MESSAGE_CREATE"]  # type: ignore[assignment]
    with pytest.raises(TypeError, match="wanted"):
        LANE(m, frame("MESSAGE_CREATE", 2))
    m = machine(int(EventTypeFlags.MESSAGE_CREATE))
    m._sequence = "1"  # type: ignore[assignment]
    with pytest.raises(TypeError, match="sequence"):
        LANE(m, frame("MESSAGE_CREATE", 2))
    m = machine(int(EventTypeFlags.MESSAGE_CREATE))
    del m.dispatches
    with pytest.raises(AttributeError):
        LANE(m, frame("MESSAGE_CREATE", 2))


@needs_lane
@pytest.mark.parametrize(
    "args, error, match",
    [
        ((SLOTS[:4],), ValueError, "5 slot names"),
        ((("_sequence", "_wanted_names", "dispatches", "duplicates_dropped", "nope"),), AttributeError, "nope"),
        ((("_sequence", "_wanted_names", "dispatches", "duplicates_dropped", "state"),), TypeError, "not a slot"),
    ],
)
def test_a_lane_over_slots_that_are_not_there_is_refused(args: tuple[Any, ...], error: type, match: str) -> None:
    from rxgateway.protocol import _cprobe

    probe = compiled_probe_dispatch.__self__  # type: ignore[union-attr]
    with pytest.raises(error, match=match):
        _cprobe.Lane(probe, ShardMachine, args[0], orjson.loads)


@needs_lane
def test_a_lane_needs_a_probe_a_class_and_a_callable() -> None:
    from rxgateway.protocol import _cprobe

    probe = compiled_probe_dispatch.__self__  # type: ignore[union-attr]
    with pytest.raises(TypeError):
        _cprobe.Lane(probe_dispatch, ShardMachine, SLOTS, orjson.loads)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        _cprobe.Lane(probe, "ShardMachine", SLOTS, orjson.loads)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="callable"):
        _cprobe.Lane(probe, ShardMachine, SLOTS, None)  # type: ignore[arg-type]


@needs_lane
def test_no_reference_is_lost_or_kept() -> None:
    m = machine(int(EventTypeFlags.MESSAGE_CREATE))
    payloads = [frame("MESSAGE_CREATE", s) for s in range(2, 202)] + [frame("TYPING_START", s) for s in range(202, 402)]
    name = PROBED_NAMES[b"MESSAGE_CREATE"]
    counts = [sys.getrefcount(p) for p in payloads]
    gc.collect()
    name_before = sys.getrefcount(name)
    answers = [LANE(m, p) for p in payloads]
    assert sys.getrefcount(name) == name_before + 200  # one per answer it is in
    del answers
    gc.collect()
    assert sys.getrefcount(name) == name_before
    assert [sys.getrefcount(p) for p in payloads] == counts


def test_the_environment_switch_turns_the_lane_off() -> None:
    code = "from rxgateway.machine import shard_machine as m; print(m._read_lane is None)"
    env = {**os.environ, "RXGATEWAY_NO_EXTENSIONS": "1"}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "True"
