"""Transport inflaters: twilight's compression tests, the quirks fixed, and round trips."""

from __future__ import annotations

import doctest
import random
import zlib

import pytest
import zstandard
from hypothesis import given, settings
from hypothesis import strategies as st

import rxgateway.machine.inflate as inflate_module
from rxgateway.errors import CompressionError
from rxgateway.machine.inflate import (
    COMPRESSIONS,
    ZLIB_SUFFIX,
    Inflater,
    NoInflater,
    ZlibStreamInflater,
    ZstdStreamInflater,
    make_inflater,
)

#: A gateway Hello as Discord sends it.
HELLO = (
    b'{"t":null,"s":null,"op":10,"d":{"heartbeat_interval":41250,'
    b'"_trace":["[\\"gateway-prd-us-east1-b-0568\\",{\\"micros\\":0.0}]"]}}'
)

PROPERTY = settings(max_examples=60, deadline=None, derandomize=True)


class ZlibServer:
    """The gateway's side of zlib-stream: one compressor, a sync flush per payload."""

    def __init__(self) -> None:
        self._compressor = zlib.compressobj()

    def frame(self, payload: bytes) -> bytes:
        return self._compressor.compress(payload) + self._compressor.flush(zlib.Z_SYNC_FLUSH)


class ZstdServer:
    """The gateway's side of zstd-stream: one frame, a flushed block per payload."""

    def __init__(self) -> None:
        self._compressor = zstandard.ZstdCompressor().compressobj()

    def frame(self, payload: bytes) -> bytes:
        return self._compressor.compress(payload) + self._compressor.flush(zstandard.COMPRESSOBJ_FLUSH_BLOCK)


def dispatch(seq: int, rng: random.Random, size: int = 900) -> bytes:
    """A JSON dispatch of about ``size`` bytes, partly random so it does not vanish."""
    content = rng.randbytes(size // 2).hex().encode()
    return b'{"t":"MESSAGE_CREATE","s":%d,"op":0,"d":{"content":"%s"}}' % (seq, content)


def large_payload(size: int) -> bytes:
    """A payload of ``size`` bytes that compresses only moderately (several zstd blocks)."""
    return b'{"d":"' + random.Random(size).randbytes(size // 2).hex().encode() + b'"}'


# -- zlib-stream (twilight compression/zlib.rs, and more) --------------------------


def test_zlib_complete_message_is_decompressed_without_buffering() -> None:
    inflater = ZlibStreamInflater()
    frame = ZlibServer().frame(HELLO)
    assert frame.endswith(ZLIB_SUFFIX)
    assert inflater.feed(frame) == HELLO
    assert inflater.pending == 0


def test_zlib_split_message_is_buffered_until_the_suffix() -> None:
    inflater = ZlibStreamInflater()
    frame = ZlibServer().frame(HELLO)
    half = len(frame) // 2
    assert inflater.feed(frame[:half]) is None
    assert inflater.pending == half
    assert inflater.feed(frame[half:]) == HELLO
    assert inflater.pending == 0


def test_zlib_invalid_input_without_suffix_is_none_not_an_error() -> None:
    inflater = ZlibStreamInflater()
    assert inflater.feed(b"") is None
    assert inflater.feed(b"not zlib at all") is None


def test_zlib_reset_drops_a_buffered_partial() -> None:
    inflater = ZlibStreamInflater()
    frame = ZlibServer().frame(HELLO)
    assert inflater.feed(frame[:10]) is None
    inflater.reset()
    assert inflater.pending == 0
    assert inflater.feed(frame) == HELLO


@pytest.mark.parametrize("cut", [1, 2, 3])
def test_zlib_suffix_split_across_fragments_is_found(cut: int) -> None:
    """Twilight's quirk: it checks only the last fragment and would miss this."""
    inflater = ZlibStreamInflater()
    frame = ZlibServer().frame(HELLO)
    head, tail = frame[:-cut], frame[-cut:]
    assert not head.endswith(ZLIB_SUFFIX) and not tail.endswith(ZLIB_SUFFIX)
    assert inflater.feed(head) is None
    assert inflater.feed(tail) == HELLO


def test_zlib_every_split_point_and_one_byte_fragments() -> None:
    inflater, frame = ZlibStreamInflater(), ZlibServer().frame(HELLO)
    for cut in range(1, len(frame)):
        inflater.reset()
        assert inflater.feed(frame[:cut]) is None
        assert inflater.feed(frame[cut:]) == HELLO
    inflater.reset()
    results = [inflater.feed(frame[i : i + 1]) for i in range(len(frame))]
    assert results[:-1] == [None] * (len(frame) - 1)
    assert results[-1] == HELLO


def test_zlib_stream_shares_one_context_across_messages() -> None:
    rng = random.Random(1)
    server, inflater = ZlibServer(), ZlibStreamInflater()
    payloads = [dispatch(seq, rng) for seq in range(200)]
    frames = [server.frame(payload) for payload in payloads]
    assert [inflater.feed(frame) for frame in frames] == payloads
    # A later frame refers to the shared window: a fresh context cannot read it.
    fresh = ZlibStreamInflater()
    with pytest.raises(CompressionError):
        fresh.feed(frames[1])


def test_zlib_large_payload_is_complete_whole_and_fragmented() -> None:
    payload = large_payload(3 * 1024 * 1024)
    frame = ZlibServer().frame(payload)
    assert ZlibStreamInflater().feed(frame) == payload
    inflater = ZlibStreamInflater()
    chunk = 64 * 1024
    pieces = [frame[i : i + chunk] for i in range(0, len(frame), chunk)]
    results = [inflater.feed(piece) for piece in pieces]
    assert results[-1] == payload and results[:-1] == [None] * (len(pieces) - 1)


def test_zlib_corrupt_data_raises_compression_error_with_cause() -> None:
    inflater = ZlibStreamInflater()
    with pytest.raises(CompressionError) as caught:
        inflater.feed(b"\x12\x34garbage" + ZLIB_SUFFIX)
    assert isinstance(caught.value.__cause__, zlib.error)
    assert inflater.pending == 0
    inflater.reset()
    assert inflater.feed(ZlibServer().frame(HELLO)) == HELLO


def test_zlib_corrupt_buffered_data_also_raises() -> None:
    inflater = ZlibStreamInflater()
    assert inflater.feed(b"\xff\xfe") is None
    with pytest.raises(CompressionError):
        inflater.feed(b"garbage" + ZLIB_SUFFIX)
    assert inflater.pending == 0


def test_zlib_ended_stream_is_an_error_not_silence() -> None:
    compressor = zlib.compressobj()
    first = compressor.compress(HELLO) + compressor.flush(zlib.Z_FINISH)
    inflater = ZlibStreamInflater()
    assert inflater.feed(first + b"\x00" + ZLIB_SUFFIX) == HELLO
    with pytest.raises(CompressionError, match="ended"):
        inflater.feed(ZlibServer().frame(HELLO))


def test_zlib_bare_flush_marker_is_no_payload() -> None:
    server, inflater = ZlibServer(), ZlibStreamInflater()
    assert inflater.feed(server.frame(b"")) is None
    assert inflater.feed(server.frame(HELLO)) == HELLO


def test_zlib_pending_bytes_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(inflate_module, "MAX_PENDING_BYTES", 100)
    inflater = ZlibStreamInflater()
    assert inflater.feed(b"x" * 60) is None
    with pytest.raises(CompressionError, match="without a sync flush"):
        inflater.feed(b"x" * 60)
    assert inflater.pending == 0


@PROPERTY
@given(
    payloads=st.lists(st.binary(max_size=3000), min_size=1, max_size=12),
    cuts=st.lists(st.integers(min_value=0, max_value=10_000), max_size=30),
)
def test_zlib_round_trip_with_any_fragmentation(payloads: list[bytes], cuts: list[int]) -> None:
    server, inflater = ZlibServer(), ZlibStreamInflater()
    received: list[bytes] = []
    for payload in payloads:
        frame = server.frame(payload)
        points = sorted({cut % (len(frame) + 1) for cut in cuts} | {0, len(frame)})
        for start, end in zip(points, points[1:]):
            out = inflater.feed(frame[start:end])
            if out is not None:
                received.append(out)
    assert received == [payload for payload in payloads if payload]


# -- zstd-stream (twilight compression/zstd.rs, and more) --------------------------


def test_zstd_message() -> None:
    frame = ZstdServer().frame(HELLO)
    assert frame[:4] == b"\x28\xb5\x2f\xfd" and len(frame) == 117
    assert ZstdStreamInflater().feed(frame) == HELLO


def test_zstd_truncated_message_corrupts_until_reset() -> None:
    inflater = ZstdStreamInflater()
    frame = ZstdServer().frame(HELLO)
    assert inflater.feed(frame[: len(frame) // 2]) is None
    with pytest.raises(CompressionError) as caught:
        inflater.feed(ZstdServer().frame(HELLO))
    assert isinstance(caught.value.__cause__, zstandard.ZstdError)
    inflater.reset()
    assert inflater.feed(ZstdServer().frame(HELLO)) == HELLO


def test_zstd_long_running_frame_across_many_messages() -> None:
    rng = random.Random(2)
    server, inflater = ZstdServer(), ZstdStreamInflater()
    payloads = [dispatch(seq, rng, size=rng.randrange(10, 4000)) for seq in range(1000)]
    frames = [server.frame(payload) for payload in payloads]
    assert sum(frame.startswith(b"\x28\xb5\x2f\xfd") for frame in frames) == 1
    assert [inflater.feed(frame) for frame in frames] == payloads


def test_zstd_large_payload_spanning_many_blocks_is_complete() -> None:
    payload = large_payload(3 * 1024 * 1024)
    server, inflater = ZstdServer(), ZstdStreamInflater()
    assert inflater.feed(server.frame(HELLO)) == HELLO
    assert inflater.feed(server.frame(payload)) == payload
    assert inflater.feed(server.frame(HELLO)) == HELLO


def test_zstd_reset_makes_a_fresh_context() -> None:
    server, inflater = ZstdServer(), ZstdStreamInflater()
    first, second = server.frame(HELLO), server.frame(HELLO * 2)
    assert inflater.feed(first) == HELLO
    inflater.reset()
    # The old stream's continuation means nothing to a new context...
    with pytest.raises(CompressionError):
        inflater.feed(second)
    inflater.reset()
    # ...while a new connection's stream starts cleanly.
    assert inflater.feed(ZstdServer().frame(HELLO)) == HELLO


def test_zstd_garbage_and_empty_input() -> None:
    inflater = ZstdStreamInflater()
    assert inflater.feed(b"") is None
    with pytest.raises(CompressionError) as caught:
        inflater.feed(b"definitely not zstd")
    assert isinstance(caught.value.__cause__, zstandard.ZstdError)


@PROPERTY
@given(payloads=st.lists(st.binary(min_size=1, max_size=5000), min_size=1, max_size=15))
def test_zstd_round_trip(payloads: list[bytes]) -> None:
    server, inflater = ZstdServer(), ZstdStreamInflater()
    assert [inflater.feed(server.frame(payload)) for payload in payloads] == payloads


# -- no compression and the factory ----------------------------------------------------


def test_no_inflater_passes_data_through() -> None:
    inflater = NoInflater()
    assert inflater.feed(HELLO) is HELLO
    assert inflater.feed(b"") is None
    inflater.reset()


def test_make_inflater_names() -> None:
    assert isinstance(make_inflater("zstd-stream"), ZstdStreamInflater)
    assert isinstance(make_inflater("zlib-stream"), ZlibStreamInflater)
    assert make_inflater(None) is None
    assert make_inflater("none") is None
    assert set(COMPRESSIONS) == {"zstd-stream", "zlib-stream", "none"}
    for name in COMPRESSIONS:
        make_inflater(name)


@pytest.mark.parametrize("name", ["zlib", "zstd", "ZSTD-STREAM", "", "gzip"])
def test_make_inflater_rejects_other_names(name: str) -> None:
    with pytest.raises(ValueError, match="unknown compression"):
        make_inflater(name)


def test_every_inflater_satisfies_the_protocol() -> None:
    inflaters: list[Inflater] = [ZlibStreamInflater(), ZstdStreamInflater(), NoInflater()]
    for inflater in inflaters:
        inflater.reset()
        assert inflater.feed(b"") is None


def test_docstring_examples() -> None:
    assert doctest.testmod(inflate_module).failed == 0
