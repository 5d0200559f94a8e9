"""ShardMachine.on_message: the receive loop's entry point.

It must agree with on_frame on every payload (same sequence tracking, same state),
answer the gateway's usual dispatch layout without a list, and parse only the
dispatch types in ``wanted``.
"""

from __future__ import annotations

import doctest
from typing import Any

import orjson
import pytest
import zstandard

from rxgateway.config import Config
from rxgateway.errors import CompressionError
from rxgateway.machine import (
    HELLO_TIMEOUT,
    Close,
    Pending,
    Phase,
    Received,
    ReceiveError,
    RequestIdentify,
    ShardMachine,
    ShardState,
    StateChanged,
)
from rxgateway.protocol.envelope import PROBED_NAMES, event_bit
from rxgateway.protocol import EventTypeFlags, Intents, ShardId

#: Every test under each dispatch probe (tests/machine/conftest.py).
pytestmark = pytest.mark.usefixtures("dispatch_probe")

MESSAGE_CREATE = int(EventTypeFlags.MESSAGE_CREATE)
TYPING_START = int(EventTypeFlags.TYPING_START)


def frame(t: str | None, s: int | None, d: Any, op: int = 0) -> bytes:
    """A payload in the gateway's own key order (t, s, op, d), compact."""
    return b'{"t":%b,"s":%b,"op":%d,"d":%b}' % (orjson.dumps(t), orjson.dumps(s), op, orjson.dumps(d))


def active(compression: str | None = None, wanted: int = 0) -> ShardMachine:
    m = ShardMachine(ShardId(0, 1), Config("secret-token", Intents.GUILDS, compression=compression), rng=lambda: 0.5)
    m.start(0.0)
    m.on_connected(0.0)
    m.wanted = wanted
    return m


def read(m: ShardMachine, now: float, data: bytes | str) -> Any:
    """What the receive loop does with a frame (a str is a text frame: a payload as it
    is): on_message, and on_pending at ``now`` when the machine needs the time for it."""
    out = m.on_message(data.encode(), True) if isinstance(data, str) else m.on_message(data)
    return m.on_pending(now, out) if isinstance(out, Pending) else out


def to_active(m: ShardMachine, send: Any = None) -> None:
    send = send or (lambda data: read(m, 0.0, data))
    send(frame(None, None, {"heartbeat_interval": 41250}, op=10))
    m.on_identify_granted(0.0)
    out = send(frame("READY", 1, {"session_id": "s", "resume_gateway_url": "wss://r", "v": 10}))
    assert isinstance(out, list) and any(isinstance(o, StateChanged) for o in out)
    assert m.state == ShardState.ACTIVE


def test_an_unwanted_dispatch_is_tracked_and_not_parsed() -> None:
    m = active(wanted=MESSAGE_CREATE)
    to_active(m)
    # d is not valid JSON: it would fail if parsed, and nobody asked for TYPING_START.
    assert read(m, 1.0, b'{"t":"TYPING_START","s":2,"op":0,"d":{"broken"}') is None
    assert m.sequence == 2
    assert m.dispatches == 2  # READY and this one


def test_a_wanted_dispatch_comes_back_parsed() -> None:
    m = active(wanted=MESSAGE_CREATE)
    to_active(m)
    assert read(m, 1.0, frame("MESSAGE_CREATE", 2, {"content": "hi"})) == (2, "MESSAGE_CREATE", {"content": "hi"})
    assert m.sequence == 2


@pytest.mark.parametrize("wanted", [MESSAGE_CREATE, int(EventTypeFlags.DISPATCHES)], ids=["probe", "parse-all"])
def test_duplicates_are_dropped_on_both_paths(wanted: int) -> None:
    m = active(wanted=wanted)
    to_active(m)
    got = [read(m, 1.0, frame("MESSAGE_CREATE", s, {"n": s})) for s in (2, 3, 3, 2, 4)]
    assert [g[0] for g in got if isinstance(g, tuple)] == [2, 3, 4]
    assert got[2] is None and got[3] is None
    assert m.duplicates_dropped == 2
    assert m.dispatches == 4


def test_wanting_every_dispatch_parses_once_and_reads_the_dict() -> None:
    m = active(wanted=int(EventTypeFlags.all()))
    assert m.wanted == int(EventTypeFlags.DISPATCHES)  # gateway-level bits are not dispatches
    to_active(m)
    # Any key order works on this path: the parsed dict is read.
    data = orjson.dumps({"op": 0, "d": {"x": 1}, "s": 5, "t": "TYPING_START"})
    assert read(m, 1.0, data) == (5, "TYPING_START", {"x": 1})


def test_an_invalid_wanted_dispatch_is_reported_and_replayed_not_lost() -> None:
    m = active(wanted=MESSAGE_CREATE)
    to_active(m)
    out = read(m, 1.0, b'{"t":"MESSAGE_CREATE","s":2,"op":0,"d":{"broken"}')
    assert isinstance(out, list) and isinstance(out[0], ReceiveError)
    assert "secret-token" not in str(out[0].error)
    # The sequence did not move, and the connection is closed to be resumed from 1:
    # the gateway sends dispatch 2 again.
    assert m.sequence == 1
    assert [o.code for o in out if type(o).__name__ == "Close"] == [4000]
    assert m.session is not None and m.session.sequence == 1


@pytest.mark.parametrize(
    "data",
    [
        orjson.dumps({"op": 0, "s": 2, "t": "MESSAGE_CREATE", "d": {}}),  # another key order
        b'{"t": "MESSAGE_CREATE", "s": 2, "op": 0, "d": {}}',  # whitespace
        b'{"t":"SOMETHING_NEW","s":2,"op":0,"d":{}}',  # a name this version does not know
        b'{"t":"MESSAGE_CREATE","s":02,"op":0,"d":{}}',  # not JSON: a leading zero
    ],
    ids=["key-order", "whitespace", "unknown-name", "leading-zero"],
)
def test_other_layouts_take_the_general_path(data: bytes) -> None:
    m = active(wanted=MESSAGE_CREATE)
    to_active(m)
    out = read(m, 1.0, data)
    reference = active(wanted=MESSAGE_CREATE)
    to_active(reference, lambda d: reference.on_frame(0.0, d))
    assert repr(out) == repr(reference.on_frame(1.0, data))  # errors compare by identity: their reprs
    assert m.sequence == reference.sequence


def test_control_frames_and_ready_come_back_as_lists() -> None:
    m = active()
    out = read(m, 0.0, frame(None, None, {"heartbeat_interval": 41250}, op=10))
    assert isinstance(out, list)
    m.on_identify_granted(0.0)
    out = read(m, 0.0, frame("READY", 1, {"session_id": "s", "v": 10}))
    assert isinstance(out, list) and [o.name for o in out if isinstance(o, Received)] == ["READY"]


def test_text_frames_and_compressed_frames_give_the_same_answers() -> None:
    compressor = zstandard.ZstdCompressor().compressobj()

    def zstd(data: bytes) -> bytes:
        return compressor.compress(data) + compressor.flush(zstandard.COMPRESSOBJ_FLUSH_BLOCK)

    plain, packed = active(wanted=MESSAGE_CREATE), active("zstd-stream", wanted=MESSAGE_CREATE)
    to_active(plain, lambda d: read(plain, 0.0, d.decode()))
    to_active(packed, lambda d: read(packed, 0.0, zstd(d)))
    for s, t in enumerate(["TYPING_START", "MESSAGE_CREATE", "TYPING_START"], start=2):
        data = frame(t, s, {"s": s})
        assert read(plain, 1.0, data.decode()) == read(packed, 1.0, zstd(data))
    assert plain.sequence == packed.sequence == 4


def test_a_text_frame_on_a_compressed_connection_is_a_payload_and_the_stream_goes_on() -> None:
    compressor = zstandard.ZstdCompressor().compressobj()

    def zstd(data: bytes) -> bytes:
        return compressor.compress(data) + compressor.flush(zstandard.COMPRESSOBJ_FLUSH_BLOCK)

    m = active("zstd-stream", wanted=MESSAGE_CREATE)
    to_active(m, lambda d: read(m, 0.0, zstd(d)))
    assert read(m, 1.0, frame("MESSAGE_CREATE", 2, {"n": 2}).decode()) == (2, "MESSAGE_CREATE", {"n": 2})
    # The inflater never saw it: the compressed stream still reads.
    assert read(m, 1.0, zstd(frame("MESSAGE_CREATE", 3, {"n": 3}))) == (3, "MESSAGE_CREATE", {"n": 3})


def test_nothing_is_read_when_not_connected() -> None:
    m = active(wanted=MESSAGE_CREATE)
    to_active(m)
    m.on_closed(1.0, 4000, "")
    assert read(m, 1.0, frame("MESSAGE_CREATE", 2, {})) is None
    assert m.sequence == 1


def test_a_broken_compressed_message_resumes() -> None:
    m = active("zstd-stream", wanted=MESSAGE_CREATE)
    pending = m.on_message(b"not zstd at all")
    assert isinstance(pending, Pending) and isinstance(pending.error, CompressionError)
    assert m.phase is Phase.AWAITING_HELLO  # nothing happened yet: the machine waits for the time
    out = m.on_pending(0.0, pending)
    assert isinstance(out, list) and any(isinstance(o, ReceiveError) for o in out)
    assert any(isinstance(o, Close) and o.code == 4000 for o in out)


def test_frames_that_need_the_time_wait_for_it_and_change_nothing_before() -> None:
    """Hello, READY, an ACK: on_message hands back a Pending and moves no state and no
    timer; on_pending does it all at the time it is given."""
    m = active(wanted=MESSAGE_CREATE)
    hello = m.on_message(frame(None, None, {"heartbeat_interval": 41250}, op=10))
    assert isinstance(hello, Pending) and hello.error is None
    assert (m.phase, m.deadline) == (Phase.AWAITING_HELLO, HELLO_TIMEOUT)
    out = m.on_pending(7.0, hello)
    assert [type(o) for o in out] == [Received, RequestIdentify]
    assert m.deadline is not None and 7.0 < m.deadline <= 7.0 + 41.25  # the first beat, after 7.0
    m.on_identify_granted(7.0)
    ready = m.on_message(frame("READY", 1, {"session_id": "s", "resume_gateway_url": "wss://r", "v": 10}))
    assert isinstance(ready, Pending) and m.state != ShardState.ACTIVE and m.sequence is None
    m.on_pending(7.5, ready)
    assert m.state == ShardState.ACTIVE and m.sequence == 1
    # The common case never asks for it.
    assert m.on_message(frame("MESSAGE_CREATE", 2, {})) == (2, "MESSAGE_CREATE", {})
    assert m.on_message(frame("TYPING_START", 3, {})) is None
    assert m.sequence == 3


@pytest.mark.parametrize("lane", ["probe", "parse-all"])
def test_exactly_the_wanted_names_are_parsed(lane: str) -> None:
    """Every dispatch the probe reads, wanted alone: it comes back parsed, and every
    other comes back as None (not parsed: its d would not parse)."""
    names = sorted(PROBED_NAMES.values())
    for wanted_name in names[:: 7 if lane == "probe" else len(names)]:
        bit = int(EventTypeFlags.DISPATCHES) if lane == "parse-all" else event_bit(0, wanted_name)
        m = active(wanted=bit)
        to_active(m)
        for seq, name in enumerate(names, start=2):
            data = frame(name, seq, {"n": seq})
            if name == wanted_name or lane == "parse-all":
                assert m.on_message(data) == (seq, name, {"n": seq})
            else:
                assert m.on_message(data[:-1] + b"broken}") is None
        assert m.sequence == len(names) + 1 and m.dispatches == len(names) + 1


def test_a_pending_shows_what_it_holds() -> None:
    assert repr(Pending(b"x" * 100)).startswith("Pending(payload=b'" + "x" * 64 + "', error=None")
    finder = doctest.DocTestFinder()
    (test,) = finder.find(Pending, "Pending", globs={"ShardMachine": ShardMachine})
    result = doctest.DocTestRunner().run(test)
    assert result.attempted > 0 and result.failed == 0


def test_zstd_is_read_with_the_new_context_after_a_reconnect() -> None:
    """on_message calls the zstd context's own decompress: every connection resets the
    context, and the next connection's stream must be read with the new one."""
    m = active("zstd-stream", wanted=MESSAGE_CREATE)

    def stream() -> Any:
        compressor = zstandard.ZstdCompressor().compressobj()
        return lambda data: compressor.compress(data) + compressor.flush(zstandard.COMPRESSOBJ_FLUSH_BLOCK)

    first = stream()
    to_active(m, lambda d: read(m, 0.0, first(d)))
    assert read(m, 1.0, first(frame("MESSAGE_CREATE", 2, {"n": 1}))) == (2, "MESSAGE_CREATE", {"n": 1})
    assert read(m, 1.0, b"") is None  # decodes to nothing: no payload, no state change
    m.on_closed(2.0, 4000, "")
    m.on_timeout(m.deadline or 3.0)
    m.on_connected(3.0)
    second = stream()  # the gateway starts a fresh zstd frame per connection
    read(m, 3.0, second(frame(None, None, {"heartbeat_interval": 41250}, op=10)))
    out = read(m, 3.0, second(frame("RESUMED", 3, {})))
    assert isinstance(out, list) and m.state == ShardState.ACTIVE
    assert read(m, 4.0, second(frame("MESSAGE_CREATE", 4, {"n": 2}))) == (4, "MESSAGE_CREATE", {"n": 2})


@pytest.mark.parametrize("wanted", [0, MESSAGE_CREATE, int(EventTypeFlags.all())])
@pytest.mark.parametrize(
    "ack",
    [
        b'{"t":null,"s":null,"op":11,"d":null}',  # the gateway's bytes: recognised without a parse
        b'{"op":11,"d":null}',
        b'{"op":11}',
        b'{ "d" : null , "op" : 11 }',
    ],
)
def test_a_heartbeat_ack_in_any_layout_ends_the_wait_and_times_the_beat(ack: bytes, wanted: int) -> None:
    m = active(wanted=wanted)
    to_active(m)
    tapped: list[bytes] = []
    m.tap = tapped.append
    beat = m.on_timeout(41.25)  # the first beat (jitter 0.5 of 41.25 s)
    assert any(getattr(o, "kind", None) == "heartbeat" for o in beat)
    assert m.latency.recent == ()
    out = read(m, 41.30, ack)
    assert isinstance(out, list)
    assert [(type(o), o.op, o.raw) for o in out] == [(Received, 11, ack)]
    assert tapped == [ack]
    assert m.latency.recent and m.latency.recent[0] == pytest.approx(0.05)
    # Acknowledged: the next beat goes out, rather than a zombie close.
    out = m.on_timeout(41.25 + 41.25)
    assert [getattr(o, "kind", None) for o in out] == ["heartbeat"]
