"""The compiled dispatch probe answers exactly as the pure one, for every input.

``rxgateway.protocol._cprobe`` is optional: the build compiles it where it can
(``hatch_build.py``). Where this machine has a C compiler and Python's headers, and
``RXGATEWAY_NO_EXTENSIONS`` is unset, the test environment must have it: a build that
silently stopped compiling fails here instead of making the suite quietly test the
fallback only.
Each property below compares the two on the same bytes: generated payloads, every
prefix and single-byte change of the gateway's layout, the limits of its name and
sequence, other buffer types and wrong types.
"""

from __future__ import annotations

import gc
import importlib.util
import os
import re
import subprocess
import sys
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rxgateway.protocol import envelope
from rxgateway.protocol.envelope import DISPATCH_HEAD, PROBED_NAMES, compiled_probe_dispatch, probe_dispatch

from ..build_support import HAVE_COMPILER
from .test_envelope import payloads

SWITCHED_OFF = bool(os.environ.get("RXGATEWAY_NO_EXTENSIONS"))

if compiled_probe_dispatch is None:
    cprobe: Any = None
else:
    from rxgateway.protocol import _cprobe as cprobe

needs_extension = pytest.mark.skipif(compiled_probe_dispatch is None, reason="the C extension is not built here")


def test_the_extension_is_built_wherever_it_can_be() -> None:
    if SWITCHED_OFF or not HAVE_COMPILER:
        pytest.skip("RXGATEWAY_NO_EXTENSIONS is set, or nothing here can compile C: the fallback is what runs")
    assert compiled_probe_dispatch is not None, "a C compiler is here, yet the install did not build the extension"


def same(data: Any) -> Any:
    """Both probes' answer to ``data``, asserted equal (an exception counts as its type)."""
    answers = []
    for probe in (probe_dispatch, compiled_probe_dispatch):
        try:
            answers.append(probe(data))  # type: ignore[misc]
        except Exception as exc:
            answers.append(type(exc))
    assert answers[0] == answers[1], (data, answers)
    return answers[0]


# A frame in the gateway's layout, and the bytes that matter around its head.
FRAME = b'{"t":"MESSAGE_CREATE","s":4711,"op":0,"d":{"content":"hi"}}'
HEAD_END = FRAME.index(b'"d":') + 4
INTERESTING = sorted(set(b'{}":,0123456789AZ_az -\\tsopd\x00\xff'))


@needs_extension
def test_it_reads_the_gateway_layout() -> None:
    assert same(FRAME) == ("MESSAGE_CREATE", 4711)
    assert same(FRAME)[0] is PROBED_NAMES[b"MESSAGE_CREATE"]  # the table's object, not a copy


@needs_extension
@settings(max_examples=800, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(payloads() | payloads(usual=True))
def test_the_two_agree_on_generated_payloads(data: bytes) -> None:
    same(data)


@needs_extension
@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from(sorted(PROBED_NAMES) + [b"READY", b"RESUMED", b"NOT_A_DISPATCH", b"message_create"]),
    st.integers(0, 2**70),
    st.sampled_from([b"{}", b"null", b'{"t":"X","s":1,"op":1}', b""]),
)
def test_the_two_agree_on_any_name_and_sequence(name: bytes, seq: int, d: bytes) -> None:
    same(b'{"t":"%b","s":%d,"op":0,"d":%b}' % (name, seq, d))


@needs_extension
def test_every_prefix_and_every_single_byte_change_of_the_head() -> None:
    read = 0
    for end in range(len(FRAME) + 1):
        read += same(FRAME[:end]) is not None
    assert read == len(FRAME) - HEAD_END + 1  # from the head's last byte on, it reads
    for i in range(HEAD_END + 1):
        for byte in INTERESTING:
            changed = FRAME[:i] + bytes([byte]) + FRAME[i + 1 :]
            same(changed)
            same(FRAME[:i] + bytes([byte]) + FRAME[i:])  # and one byte inserted
        same(FRAME[:i] + FRAME[i + 1 :])  # and one removed


@needs_extension
@pytest.mark.parametrize("digits", range(1, 21))
def test_sequences_of_up_to_eighteen_digits(digits: int) -> None:
    for first in "19":
        seq = first + "0" * (digits - 1)
        answer = same(b'{"t":"MESSAGE_CREATE","s":%b,"op":0,"d":{}}' % seq.encode())
        assert (answer is not None) == (digits <= envelope.MAX_FAST_DIGITS)
        if answer is not None:
            assert answer[1] == int(seq)
    assert same(b'{"t":"MESSAGE_CREATE","s":0%d,"op":0,"d":{}}' % (10 ** (digits - 1))) is None


def reference(names: dict[bytes, Any], data: bytes) -> Any:
    """The pure probe's reading over any table."""
    head = DISPATCH_HEAD.match(data)
    if head is None:
        return None
    value = names.get(head.group(1))
    return None if value is None else (value, int(head.group(2)))


@needs_extension
@pytest.mark.parametrize("length", [1, 2, 63, 64, 65, 66])
def test_names_of_one_to_sixty_four_bytes(length: int) -> None:
    name = (b"AB_9" * 20)[:length]
    names = {name: "value"} if length <= 64 else {}
    probe = cprobe.DispatchProbe(names).probe
    for candidate in (name, name + b"X", name[:-1]):
        data = b'{"t":"%b","s":7,"op":0,"d":{}}' % candidate
        assert probe(data) == reference(names, data)
    assert (probe(b'{"t":"%b","s":7,"op":0,"d":{}}' % name) is not None) == (length <= 64)


@needs_extension
def test_a_crowded_table_finds_every_name_and_nothing_else() -> None:
    names = {b"N%d" % i: i for i in range(2000)}
    probe = cprobe.DispatchProbe(names).probe
    assert len(cprobe.DispatchProbe(names)) == 2000
    for i in range(0, 4000, 7):
        data = b'{"t":"N%d","s":3,"op":0,"d":1}' % i
        assert probe(data) == reference(names, data)


@needs_extension
def test_the_table_is_a_snapshot_and_holds_its_values() -> None:
    value = object()
    alone = sys.getrefcount(value)
    names = {b"MINE": value}
    probe = cprobe.DispatchProbe(names).probe
    names[b"MINE"] = "replaced"
    names[b"OTHER"] = "added"
    del names
    gc.collect()
    assert probe(b'{"t":"MINE","s":1,"op":0,"d":1}') == (value, 1)
    assert probe(b'{"t":"OTHER","s":1,"op":0,"d":1}') is None
    assert sys.getrefcount(value) == alone + 1  # the probe's own reference, and no leak per call
    del probe
    gc.collect()
    assert sys.getrefcount(value) == alone


@needs_extension
@pytest.mark.parametrize(
    "names, error",
    [
        ({"MESSAGE_CREATE": 1}, TypeError),
        ({b"": 1}, ValueError),
        ({b"message_create": 1}, ValueError),
        ({b"A" * 65: 1}, ValueError),
        ({b'A"B': 1}, ValueError),
    ],
)
def test_a_table_it_could_never_read_is_refused(names: dict[Any, Any], error: type[Exception]) -> None:
    with pytest.raises(error, match="name"):
        cprobe.DispatchProbe(names)


@needs_extension
def test_a_table_must_be_a_dict() -> None:
    with pytest.raises(TypeError):
        cprobe.DispatchProbe([(b"A", 1)])


@needs_extension
@pytest.mark.parametrize("kind", [bytearray, memoryview])
def test_other_buffers_read_alike(kind: type) -> None:
    assert same(kind(FRAME)) is not None
    assert same(kind(FRAME[:10])) is None


@needs_extension
@pytest.mark.parametrize("data", [FRAME.decode(), 42, None, [FRAME]])
def test_a_wrong_type_is_a_type_error_from_both(data: Any) -> None:
    assert same(data) is TypeError


@pytest.mark.parametrize("switch", ["1", ""])
def test_the_environment_switch(switch: str) -> None:
    """``RXGATEWAY_NO_EXTENSIONS`` (non-empty) makes the package use the pure probe."""
    code = "from rxgateway.protocol.envelope import compiled_probe_dispatch as c; print(c is not None)"
    env = {**os.environ, "RXGATEWAY_NO_EXTENSIONS": switch}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    built = importlib.util.find_spec("rxgateway.protocol._cprobe") is not None  # whatever this process's switch
    expected = not switch and built
    assert done.stdout.strip() == str(expected)


def test_the_receive_path_and_the_publisher_use_the_compiled_probe_where_there_is_one() -> None:
    from rxgateway.bus import publisher
    from rxgateway.machine import shard_machine

    expected = compiled_probe_dispatch or probe_dispatch
    assert envelope.dispatch_probe is expected
    assert shard_machine.dispatch_probe is expected and publisher.dispatch_probe is expected


def test_the_c_source_reads_the_same_head_as_the_pattern() -> None:
    """The C file spells the layout out by hand; the pattern is its reference."""
    source = (envelope.__file__.rsplit("/", 1)[0] + "/_cprobe.c")
    text = open(source, encoding="utf-8").read()
    assert re.search(r"#define MAX_NAME 64\b", text) and re.search(r"#define MAX_DIGITS %d\b" % envelope.MAX_FAST_DIGITS, text)
    assert DISPATCH_HEAD.pattern.startswith(rb'\{"t":"([A-Z0-9_]{1,64})","s":([1-9][0-9]{0,')
    assert DISPATCH_HEAD.pattern.endswith(rb'}),"op":0,"d":')
