"""Fuzzed input: inflaters, the machine's frame input, and Config.

Every case either works or fails with the library's own typed error; nothing else
escapes (a stray IndexError or zlib.error would crash a shard's read loop).
"""

from __future__ import annotations

import zlib
from typing import Any

import orjson
import zstandard
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rxgateway.config import Config
from rxgateway.errors import CompressionError
from rxgateway.machine import ShardMachine, ShardState
from rxgateway.machine.inflate import ZlibStreamInflater, ZstdStreamInflater
from rxgateway.protocol import Intents, ShardId

payloads = st.lists(
    st.dictionaries(st.text(max_size=8), st.one_of(st.integers(0, 2**53), st.text(max_size=40)), max_size=6).map(
        lambda d: orjson.dumps({"op": 0, "s": 1, "t": "X", "d": d})
    ),
    min_size=1,
    max_size=5,
)


def zlib_frames(messages: list[bytes]) -> list[bytes]:
    deflate = zlib.compressobj()
    return [deflate.compress(m) + deflate.flush(zlib.Z_SYNC_FLUSH) for m in messages]


def zstd_frames(messages: list[bytes]) -> list[bytes]:
    compressor = zstandard.ZstdCompressor(level=1).compressobj()
    return [compressor.compress(m) + compressor.flush(zstandard.COMPRESSOBJ_FLUSH_BLOCK) for m in messages]


def mangle(data: bytes, how: str, where: int, bit: int) -> bytes:
    if not data:
        return data
    at = where % len(data)
    if how == "flip":
        return data[:at] + bytes([data[at] ^ (1 << bit)]) + data[at + 1 :]
    if how == "truncate":
        return data[:at]
    return data[:at] + data[at + 1 :] + data[at : at + 1]  # move a byte to the end


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(payloads, st.sampled_from(["zlib", "zstd"]), st.sampled_from(["flip", "truncate", "swap"]),
       st.integers(0, 10**6), st.integers(0, 7), st.integers(0, 10**6), st.integers(1, 64))  # fmt: skip
def test_inflaters_never_raise_anything_but_compression_error(
    messages: list[bytes], codec: str, how: str, where: int, bit: int, which: int, split: int
) -> None:
    frames = zlib_frames(messages) if codec == "zlib" else zstd_frames(messages)
    inflater: Any = ZlibStreamInflater() if codec == "zlib" else ZstdStreamInflater()
    target = which % len(frames)
    frames[target] = mangle(frames[target], how, where, bit)
    for frame in frames:
        for start in range(0, max(len(frame), 1), split):  # random split points
            try:
                out = inflater.feed(frame[start : start + split])
            except CompressionError:
                break
            assert out is None or isinstance(out, bytes)
    # After a reset a fresh stream decodes exactly.
    inflater.reset()
    fresh = zlib_frames(messages) if codec == "zlib" else zstd_frames(messages)
    assert [inflater.feed(f) for f in fresh] == messages


def active_machine() -> ShardMachine:
    m = ShardMachine(ShardId(0, 1), Config("t", Intents.GUILDS, compression=None), rng=lambda: 0.5)
    m.start(0.0)
    m.on_connected(0.0)
    m.on_frame(0.0, orjson.dumps({"op": 10, "d": {"heartbeat_interval": 1000}}))
    m.on_identify_granted(0.0)
    m.on_frame(0.0, orjson.dumps({"op": 0, "s": 1, "t": "READY", "d": {"session_id": "x", "resume_gateway_url": "ws://r"}}))
    assert m.state == ShardState.ACTIVE
    return m


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1) | st.floats(allow_nan=False) | st.text(max_size=10),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=10,
)
frames = st.one_of(
    st.binary(max_size=200),
    st.text(max_size=200),
    st.fixed_dictionaries(
        {"op": st.one_of(st.integers(-5, 50), json_values), "d": json_values},
        optional={"s": json_values, "t": st.one_of(st.none(), st.sampled_from(["READY", "RESUMED", "X"]), json_values)},
    ).map(orjson.dumps),
)


@settings(max_examples=500, deadline=None)
@given(st.lists(frames, min_size=1, max_size=8))
def test_machine_survives_any_frame(inputs: list[Any]) -> None:
    m = active_machine()
    now = 1.0
    for frame in inputs:
        m.on_frame(now, frame)  # must never raise
        if m.deadline is not None and m.deadline <= now + 5:
            m.on_timeout(max(now, m.deadline))
        now += 0.01
    assert m.state.kind.value in {"active", "disconnected", "identifying", "resuming"}


@settings(max_examples=300, deadline=None)
@given(
    token=st.one_of(st.text(max_size=20).map(lambda t: "secret-" + t), st.sampled_from(["", "  "]), st.integers(), st.none()),
    intents=st.one_of(st.integers(-10, 1 << 27), st.sampled_from(list(Intents)), st.text(max_size=3)),
    large_threshold=st.one_of(st.integers(0, 400), st.booleans(), st.floats()),
    compression=st.one_of(st.sampled_from(["zstd-stream", "zlib-stream", "none", None]), st.text(max_size=8)),
    gateway_url=st.one_of(st.sampled_from(["wss://gateway.discord.gg", "ws://127.0.0.1:1"]), st.text(max_size=20)),
)
def test_config_is_valid_or_refused_clearly(
    token: Any, intents: Any, large_threshold: Any, compression: Any, gateway_url: Any
) -> None:
    try:
        config = Config(
            token,
            intents,
            large_threshold=large_threshold,
            compression=compression,
            gateway_url=gateway_url,
        )
    except (ValueError, TypeError) as exc:
        assert str(exc)
        if isinstance(token, str) and token.strip():
            assert "secret-" not in str(exc)
        return
    assert config.token.startswith("Bot ")
    assert 50 <= config.large_threshold <= 250
    assert "redacted" in repr(config)
