"""read_envelope: identical to a full parse on every valid payload, fast on the usual ones."""

from __future__ import annotations

import json
import random
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rxgateway.errors import DeserializationError
from rxgateway.protocol import envelope
from rxgateway.protocol.envelope import (
    FAST_PATH_MIN_BYTES,
    PROBED_NAMES,
    Envelope,
    event_bit,
    probe_dispatch,
    read_envelope,
)
from rxgateway.protocol.event_type import DISPATCH_BITS, EventTypeFlags

from . import frames
from .jsonwriter import Writer

#: Pads ``d`` so that a frame is long enough for the fast path.
PAD = "x" * FAST_PATH_MIN_BYTES


def reference(data: bytes) -> Envelope | str:
    """What the contract says, from a full parse; "error" where it must raise."""
    try:
        payload = orjson.loads(data)
    except orjson.JSONDecodeError:
        return "error"
    if not isinstance(payload, dict):
        return "error"
    op, s, t = payload.get("op"), payload.get("s"), payload.get("t")
    if type(op) is not int or (s is not None and type(s) is not int) or (t is not None and type(t) is not str):
        return "error"
    return Envelope(op, s, t)


def read(data: bytes) -> Envelope | str:
    try:
        return read_envelope(data)
    except DeserializationError:
        return "error"


@pytest.fixture
def fast_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail the test if read_envelope falls back to the full parse."""

    def refuse(data: bytes) -> Envelope:
        raise AssertionError("the fast path fell back to orjson")

    monkeypatch.setattr(envelope, "_read_full", refuse)


# --- strategies ----------------------------------------------------------------------

#: Strings that look like envelope members, to hide inside ``d`` and other strings.
DECOYS = [
    '"op":5',
    '"s":9,"t":"READY"}',
    ',"s":',
    ',"s":1,"t":"X"}',
    '\\"op\\":',
    "}",
    "{",
    "]",
    '"t":null',
    "\\",
    '"',
]
NAMES = ["READY", "RESUMED", "MESSAGE_CREATE", "GUILD_CREATE", "X", "", "NOT_A_REAL_EVENT", "café", "A}B", 'Q"T']

texts = st.text(max_size=12) | st.sampled_from(DECOYS) | st.sampled_from(NAMES)
scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | texts
)
keys = texts | st.sampled_from(["op", "s", "t", "d"])
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(keys, inner, max_size=4),
    max_leaves=16,
)
# Mostly what a gateway sends (the fast path), sometimes what it does not (the fallback).
usual_ops = st.sampled_from([0, 1, 7, 9, 10, 11])
ops = st.one_of(usual_ops, usual_ops, usual_ops, st.integers(0, 2**65), st.integers(-5, -1))
usual_seqs = st.none() | st.integers(0, 2**20)
seqs = st.one_of(usual_seqs, usual_seqs, usual_seqs, st.integers(0, 2**66), st.integers(-(2**10), -1))
names = st.one_of(st.none(), st.sampled_from(NAMES), st.sampled_from(NAMES), st.text(max_size=20))
#: Values of the wrong type, to check that bad envelopes fail the same way.
wrong = (
    st.booleans() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=3) | st.lists(st.none(), max_size=1)
)


@st.composite
def ds(draw: st.DrawFn) -> Any:
    """A ``d``: mostly an object with decoy keys, sometimes long enough for the fast path."""
    if draw(st.integers(0, 5)) == 0:
        return draw(values)
    d = draw(st.dictionaries(keys, values, max_size=5))
    if draw(st.booleans()):
        d["pad"] = PAD
    return d


@st.composite
def payloads(draw: st.DrawFn, usual: bool = False) -> bytes:
    """Any JSON object with optional op/s/t/d members in random order and spelling;
    ``usual``: all four, of the types a gateway sends, and a long ``d``."""
    members: dict[str, Any] = {}
    if usual:
        members["op"] = draw(usual_ops)
        members["s"] = draw(usual_seqs)
        members["t"] = draw(st.none() | st.sampled_from(NAMES))
        members["d"] = draw(st.dictionaries(keys, values, max_size=5)) | {"pad": PAD}
    elif draw(st.integers(0, 20)):
        members["op"] = draw(ops if draw(st.integers(0, 15)) else wrong)
    if not usual and draw(st.integers(0, 9)):
        members["s"] = draw(seqs if draw(st.integers(0, 15)) else wrong)
    if not usual and draw(st.integers(0, 9)):
        members["t"] = draw(names if draw(st.integers(0, 15)) else (wrong | st.integers()))
    if not usual and draw(st.integers(0, 9)):
        members["d"] = draw(ds())
    if not draw(st.integers(0, 3)):
        extra = draw(st.dictionaries(texts, values, max_size=2))
        members.update({k: v for k, v in extra.items() if k not in ("op", "s", "t", "d")})
    items = draw(st.permutations(list(members.items())))
    writer = Writer(
        draw(st.randoms(use_true_random=False)),
        spaced=draw(st.booleans()),
        escapes=draw(st.sampled_from([0.0, 0.02] if usual else [0.0] * 6 + [0.02, 1.0])),
    )
    text = writer.members(items)
    return (text.strip() if draw(st.integers(0, 2)) else text).encode()


# --- the property --------------------------------------------------------------------


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(payloads())
def test_matches_a_full_parse(data: bytes) -> None:
    assert read(data) == reference(data)


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(payloads(usual=True))
def test_matches_a_full_parse_on_usual_envelopes(data: bytes) -> None:
    # All four members, decoys in d, any order and spacing: mostly the fast path.
    assert read(data) == reference(data)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=64) | st.text(max_size=64).map(str.encode))
def test_garbage_raises_only_deserialization_error(data: bytes) -> None:
    assert read(data) == reference(data)


@settings(max_examples=300, deadline=None)
@given(
    layout=st.sampled_from(["emulator", "discord", "docs", "d first", "spaced"]),
    op=st.sampled_from([0, 1, 7, 9, 10, 11]),
    s=st.none() | st.integers(0, 10**18 - 1),
    t=st.none() | st.sampled_from(NAMES[:5]) | st.from_regex(r"[A-Z_]{1,40}", fullmatch=True),
    d=st.dictionaries(keys, values, max_size=6),
    rnd=st.randoms(use_true_random=False),
)
def test_gateway_layouts_take_the_fast_path(
    layout: str, op: int, s: int | None, t: str | None, d: dict[str, Any], rnd: random.Random
) -> None:
    d["pad"] = PAD
    members = {"op": op, "s": s, "t": t, "d": d}
    order = {
        "emulator": ["op", "s", "t", "d"],
        "discord": ["t", "s", "op", "d"],
        "docs": ["op", "d", "s", "t"],
        "d first": ["d", "op", "s", "t"],
        "spaced": rnd.sample(["op", "s", "t", "d"], 4),
    }[layout]
    writer = Writer(rnd, spaced=layout == "spaced", escapes=0.0)
    data = writer.members([(k, members[k]) for k in order]).strip().encode()
    original = envelope._read_full
    try:
        envelope._read_full = _refuse
        got = read_envelope(data)
    finally:
        envelope._read_full = original
    assert got == (op, s, t) == reference(data)


def _refuse(data: bytes) -> Envelope:
    raise AssertionError("the fast path fell back to orjson")


# --- targeted examples ---------------------------------------------------------------


def big(text: str) -> bytes:
    """``text`` with a padding member first in the object marked ``{{``."""
    if "{{" not in text:
        return text.encode()
    at = text.index("{{") + 1
    empty = text[at + 1 :].lstrip().startswith("}")
    return (text[:at] + '"pad":"' + PAD + '"' + ("" if empty else ",") + text[at + 1 :]).encode()


EXAMPLES = [
    # (payload, expected)  -- "{{" marks where padding goes, to reach the fast path
    ('{"op":0,"s":42,"t":"MESSAGE_CREATE","d":{{"id":"1"}}', (0, 42, "MESSAGE_CREATE")),
    ('{"t":"MESSAGE_CREATE","s":42,"op":0,"d":{{"id":"1"}}', (0, 42, "MESSAGE_CREATE")),
    ('{"op":0,"d":{{"id":"1"},"s":42,"t":"MESSAGE_CREATE"}', (0, 42, "MESSAGE_CREATE")),
    # twilight's scanner takes the first "t": and "op": it finds, here inside d
    ('{"op":0,"d":{{"t":"x","op":5,"s":9},"s":7,"t":"READY"}', (0, 7, "READY")),
    ('{"d":{{"t":"x","op":5,"s":9},"op":0,"s":7,"t":"READY"}', (0, 7, "READY")),
    # d ends with members that look like the envelope's tail
    ('{"op":0,"d":{{"a":1,"s":5,"t":"Y"}}', (0, None, None)),
    ('{"op":0,"d":{{"a":1},"s":5,"t":"Y","x":{"s":9}}', (0, 5, "Y")),
    ('{"op":0,"d":{{"a":1},"x":{"s":9,"t":"Z"}}', (0, None, None)),
    # strings holding member-like text and escaped quotes
    ('{"op":0,"d":{{"c":"\\",\\"s\\":5,\\"t\\":\\"X\\"}"},"s":1,"t":"A"}', (0, 1, "A")),
    ('{"op":0,"s":1,"t":"A","d":{{"c":"\\"op\\":9,\\"s\\":9"}}', (0, 1, "A")),
    ('{"op":0,"d":["\\",\\"s\\":5}", {{}],"s":1,"t":"A"}', (0, 1, "A")),
    # missing and null members
    ('{"op":10,"d":{{"heartbeat_interval":41250}}', (10, None, None)),
    ('{"op":11,"d":{{},"s":null,"t":null}', (11, None, None)),
    ('{"op":11}', (11, None, None)),
    ('{"op":11,"d":null,"s":null,"t":null}', (11, None, None)),
    # whitespace everywhere
    ('\n { "op" :\t0 , "d" : {{ } ,\r\n "s" : 3 , "t" : "READY" } \n', (0, 3, "READY")),
    ('{ "t" : "READY" , "s" : 3 , "op" : 0 , "d" : {{ } }', (0, 3, "READY")),
    # escaped keys are the same keys
    ('{"\\u006fp":0,"d":{{},"s":1,"t":"X"}', (0, 1, "X")),
    ('{"op":0,"d":{{},"\\u0073":1,"\\u0074":"X"}', (0, 1, "X")),
    ('{"op":0,"s":1,"t":"R\\u0045ADY","d":{{}}', (0, 1, "READY")),
    # numbers: the biggest ints, zero, and an unknown or non-ASCII name
    ('{"op":0,"s":18446744073709551615,"t":"X","d":{{}}', (0, 18446744073709551615, "X")),
    ('{"op":0,"s":999999999999999999,"t":"X","d":{{}}', (0, 999999999999999999, "X")),
    ('{"op":0,"s":0,"t":"","d":{{}}', (0, 0, "")),
    ('{"op":0,"s":-0,"t":"X","d":{{}}', (0, 0, "X")),
    ('{"op":0,"s":1,"t":"NEW_EVENT_2031","d":{{}}', (0, 1, "NEW_EVENT_2031")),
    ('{"op":0,"s":1,"t":"caf\u00e9","d":{{}}', (0, 1, "caf\u00e9")),
    ('{"op":0,"s":1,"t":"A}B","d":{{}}', (0, 1, "A}B")),
]


@pytest.mark.parametrize(("text", "expected"), EXAMPLES)
def test_examples(text: str, expected: tuple[int, int | None, str | None]) -> None:
    for data in (big(text), text.replace("{{", "{", 1).encode()):
        assert read_envelope(data) == expected == reference(data)
        assert read_envelope(data.decode()) == expected


INVALID = [
    b"",
    b"   ",
    b"null",
    b"[]",
    b'"op"',
    b"42",
    b"{",
    b"{}",
    b'{"s":1,"t":"READY","d":{}}',
    b'{"op":null}',
    b'{"op":"0"}',
    b'{"op":1.0}',
    b'{"op":true}',
    b'{"op":0,"s":"1"}',
    b'{"op":0,"s":1.5}',
    b'{"op":0,"s":18446744073709551616}',  # orjson makes a float past 2**64
    b'{"op":0,"s":1,"t":5}',
    b'{"op":0,"s":1,"t":{}}',
    b'{"op":0,"s":01}',
    b'{"op":0} x',
    b'\xef\xbb\xbf{"op":0}',
    b'{"op":0,"t":"\xff"}',
    b'{"op":0,"d":{}',
]


@pytest.mark.parametrize("data", INVALID)
def test_invalid_payloads_raise(data: bytes) -> None:
    for frame in (data, data.replace(b"{}", b'{"pad":"' + PAD.encode() + b'"}')):
        with pytest.raises(DeserializationError) as info:
            read_envelope(frame)
        assert info.value.payload == frame
        assert reference(frame) == "error"


def test_error_message_never_holds_the_payload() -> None:
    secret = b"MTE4NDk.secret-token-like.text"
    for data in (b'{"op":"' + secret + b'"}', b'{"op":2,"d":{"token":"' + secret + b'"', b"[" + secret + b"]"):
        with pytest.raises(DeserializationError) as info:
            read_envelope(data)
        assert secret.decode() not in str(info.value)
        assert info.value.payload == data


@pytest.mark.parametrize(
    "tail",
    [b',"a":[}}', b"}"],  # bad JSON inside d; the outer brace missing after d's
    ids=["bad d", "cut after d"],
)
def test_the_skipped_bytes_are_left_to_the_full_parse(tail: bytes) -> None:
    # Documented: the fast path checks what it reads and the final brace, not the
    # bytes it skips; the full parse of the frame reports them, if it ever happens.
    data = b'{"op":0,"s":1,"t":"READY","d":{"pad":"' + PAD.encode() + b'"' + tail
    assert read_envelope(data) == (0, 1, "READY")
    with pytest.raises(orjson.JSONDecodeError):
        orjson.loads(data)


def test_accepts_str_and_bytes_like() -> None:
    data = b'{"op":0,"s":42,"t":"READY","d":{"pad":"' + PAD.encode() + b'"}}'
    for frame in (data, data.decode(), bytearray(data), memoryview(data)):
        assert read_envelope(frame) == (0, 42, "READY")
    with pytest.raises(TypeError):
        read_envelope(42)  # type: ignore[arg-type]


def test_envelope_unpacks_and_names_its_fields() -> None:
    env = read_envelope(b'{"op":0,"s":42,"t":"READY","d":{}}')
    op, s, t = env
    assert (op, s, t) == (env.op, env.s, env.t) == (0, 42, "READY")
    assert type(read_envelope(big('{"op":0,"s":1,"t":"READY","d":{{}}'))) is Envelope


def test_known_names_share_one_str_object(fast_only: None) -> None:
    a = read_envelope(big('{"op":0,"s":1,"t":"GUILD_CREATE","d":{{}}'))
    b = read_envelope(big('{"t":"GUILD_CREATE","s":2,"op":0,"d":{{}}'))
    assert a.t is b.t


def test_event_bit() -> None:
    assert event_bit(0, "READY") == EventTypeFlags.READY
    assert event_bit(0, "MESSAGE_POLL_VOTE_ADD") == EventTypeFlags.MESSAGE_POLL_VOTE_ADD
    assert event_bit(0, "NOT_AN_EVENT") == EventTypeFlags.UNKNOWN_DISPATCH
    assert event_bit(0, None) == EventTypeFlags.UNKNOWN_DISPATCH
    assert event_bit(1, None) == EventTypeFlags.GATEWAY_HEARTBEAT
    assert event_bit(7, None) == EventTypeFlags.GATEWAY_RECONNECT
    assert event_bit(9, None) == EventTypeFlags.GATEWAY_INVALIDATE_SESSION
    assert event_bit(10, None) == EventTypeFlags.GATEWAY_HELLO
    assert event_bit(11, "ignored") == EventTypeFlags.GATEWAY_HEARTBEAT_ACK
    assert event_bit(2, None) == 0
    assert type(event_bit(0, "READY")) is int


@pytest.mark.parametrize("layout", sorted(frames.LAYOUTS))
def test_realistic_frames_take_the_fast_path(layout: str, fast_only: None) -> None:
    data = frames.LAYOUTS[layout]
    assert len(data) > 1000
    assert read_envelope(data) == (0, 42, "MESSAGE_CREATE")


# --- probe_dispatch: the receive path's reading of the gateway's own layout ----------


def agrees_with_the_full_parse(data: bytes) -> None:
    """probe_dispatch answers only what a full parse confirms (``d`` aside), else None."""
    probed = probe_dispatch(data)
    if probed is None:
        return
    name, seq = probed
    expected = reference(data)
    if expected == "error":  # only d may be broken: the head it read is whole tokens
        head = data[: data.index(b',"d":') + 5]
        expected = reference(head + b"null}")
    assert expected == (0, seq, name)
    assert name is PROBED_NAMES[name.encode()]  # the table's own object: its hash is cached
    assert name not in ("READY", "RESUMED")


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(payloads())
def test_probe_never_contradicts_a_full_parse(data: bytes) -> None:
    agrees_with_the_full_parse(data)


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(payloads(usual=True))
def test_probe_never_contradicts_a_full_parse_on_usual_envelopes(data: bytes) -> None:
    agrees_with_the_full_parse(data)


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from(sorted(n.decode() for n in DISPATCH_BITS if n not in (b"READY", b"RESUMED"))),
    st.integers(0, 2**20) | st.integers(0, 2**64),
    ds(),
)
def test_probe_reads_every_dispatch_in_the_gateway_layout(name: str, seq: int, d: Any) -> None:
    data = b'{"t":"%b","s":%d,"op":0,"d":%b}' % (name.encode(), seq, json.dumps(d).encode())
    probed = probe_dispatch(data)
    if seq == 0 or seq >= 10**envelope.MAX_FAST_DIGITS:
        assert probed is None  # left to read_envelope
    else:
        assert probed == (name, seq)


@pytest.mark.parametrize(
    "data",
    [
        b'{"t":"READY","s":1,"op":0,"d":{}}',
        b'{"t":"RESUMED","s":1,"op":0,"d":{}}',
        b'{"t":"SOMETHING_NEW","s":1,"op":0,"d":{}}',
        b'{"t":"MESSAGE_CREATE","s":01,"op":0,"d":{}}',
        b'{"t":"MESSAGE_CREATE","s":-1,"op":0,"d":{}}',
        b'{"t":"MESSAGE_CREATE","s":1.0,"op":0,"d":{}}',
        b'{"t":"MESSAGE_CREATE","s":1234567890123456789,"op":0,"d":{}}',
        b'{"t":"MESSAGE_CREATE","s":null,"op":0,"d":{}}',
        b'{"t":"MESSAGE_CREATE","s":1,"op":1,"d":{}}',
        b'{"t":"MESSAGE\\u005fCREATE","s":1,"op":0,"d":{}}',
        b'{"t": "MESSAGE_CREATE","s":1,"op":0,"d":{}}',
        b'{"op":0,"s":1,"t":"MESSAGE_CREATE","d":{}}',
        b' {"t":"MESSAGE_CREATE","s":1,"op":0,"d":{}}',
        b"",
    ],
)
def test_probe_leaves_everything_else_to_read_envelope(data: bytes) -> None:
    assert probe_dispatch(data) is None
