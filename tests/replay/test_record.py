"""The recording format and the Recorder: what the file holds (never the token), how
it is written from a live shard (the frame-sink hook, the ``record`` operator), and
how the reader copes with odd lines and cut files."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import orjson
import pytest
import zstandard

from rxgateway import ops
from rxgateway.config import Config
from rxgateway.emulator import DEFAULT_TOKEN, GatewayEmulator
from rxgateway.protocol import EventTypeFlags, Intents, ShardId
from rxgateway.record import FORMAT_NAME, FORMAT_VERSION, Recorder, Recording, RecordingError, record
from rxgateway.replay import replay
from rxgateway.shard import Shard

from .support import TIMEOUT, Collector, LiveSession

S0 = ShardId(0, 1)


def text_of(path: Path) -> bytes:
    data = path.read_bytes()
    if data[:4] == b"\x28\xb5\x2f\xfd":
        return zstandard.ZstdDecompressor().stream_reader(data, read_across_frames=True).read()
    return data


def test_the_file_is_zstd_json_lines_with_a_header(session: LiveSession) -> None:
    raw = session.path.read_bytes()
    assert raw[:4] == b"\x28\xb5\x2f\xfd"
    lines = text_of(session.path).splitlines()
    header = orjson.loads(lines[0])
    assert header["format"] == FORMAT_NAME and header["version"] == FORMAT_VERSION == 1
    assert header["compression"] == "zstd" and header["clock"] == "monotonic"
    assert header["created"].endswith("Z") and isinstance(header["created_unix_ns"], int)
    assert header["meta"] == {"test": "live session"}
    records = [orjson.loads(line) for line in lines[1:]]  # every line is valid JSON here
    assert all(list(r) == ["t_ns", "shard", "frame"] for r in records)
    times = [r["t_ns"] for r in records]
    assert times == sorted(times) and times[0] > 0
    assert {tuple(r["shard"]) for r in records} == {(0, 3), (1, 3), (2, 3)}
    assert {r["frame"]["op"] for r in records} >= {0, 1, 7, 9, 10, 11}
    assert Recording(session.path).header == header
    assert len(list(Recording(session.path))) == len(records)


def test_the_recording_never_holds_the_token(session: LiveSession) -> None:
    # The shards sent it in every Identify and Resume; only what they received is kept.
    secret = DEFAULT_TOKEN.encode()
    for blob in (session.path.read_bytes(), text_of(session.path)):
        assert secret not in blob and secret.split(b".")[0] not in blob
    assert all(orjson.loads(f.payload)["op"] not in (2, 6) for f in Recording(session.path))


async def test_recording_costs_no_parsing_and_the_operator_keeps_push_down(tmp_path: Path) -> None:
    path = tmp_path / "op.jsonl"
    async with GatewayEmulator(heartbeat_interval_ms=500, identify_window_s=0.0, guilds=3) as emu:
        shard = Shard(S0, Config(DEFAULT_TOKEN, Intents.all(), gateway_url=emu.url))
        out = Collector()
        shard.pipe(record(path, compression=None), ops.on(EventTypeFlags.READY)).subscribe(out)
        assert shard.demand == EventTypeFlags.READY  # the recorder added no demand
        async with shard:
            await shard.ready(TIMEOUT)
            await emu.burst(200)
            await asyncio.sleep(0.2)
        await asyncio.wait_for(out.completed.wait(), TIMEOUT)  # type: ignore[union-attr]
    assert [e.name for e in out.events] == ["READY"]  # type: ignore[attr-defined]
    # Complete when the subscriber's on_completed ran: every payload, plain JSON lines.
    assert text_of(path).endswith(b"\n")
    names = [f.payload for f in Recording(path)]
    assert sum(b'"t":"GUILD_CREATE"' in p for p in names) == 3
    assert sum(b'"op":0' in p for p in names) >= 204  # READY, 3 GUILD_CREATE, the burst
    replayed = Collector()
    replay(path, speed=None).subscribe(replayed)
    await asyncio.wait_for(replayed.completed.wait(), TIMEOUT)  # type: ignore[union-attr]
    assert replayed.counts["READY"] == 1 and replayed.counts["GUILD_CREATE"] == 3


async def test_a_frame_sink_that_raises_is_detached_and_the_shard_goes_on(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    calls: list[int] = []

    def bad(shard: ShardId, t_ns: int, payload: bytes) -> None:
        calls.append(t_ns)
        raise RuntimeError("sink bug")

    async with GatewayEmulator(heartbeat_interval_ms=500, identify_window_s=0.0, guilds=2) as emu:
        shard = Shard(S0, Config(DEFAULT_TOKEN, Intents.all(), gateway_url=emu.url))
        seen: list[int] = []
        shard.add_frame_sink(lambda s, t, p: seen.append(len(p)))
        shard.add_frame_sink(bad)
        detach = shard.add_frame_sink(lambda s, t, p: seen.append(-1))
        detach.dispose()
        with caplog.at_level(logging.ERROR, logger="rxgateway.shard"):
            async with shard:
                await shard.ready(TIMEOUT)
        assert len(calls) == 1 and "frame sink raised" in caplog.text
        assert len(seen) >= 4 and -1 not in seen  # Hello, READY, two GUILD_CREATEs ...


def test_payloads_that_cannot_be_copied_are_kept_as_text(tmp_path: Path) -> None:
    odd = [b"[1,2]", b'{"op":11,\n"d":null}', b'\xff{"op": 11}']
    path = tmp_path / "odd.jsonl.zst"
    with Recorder(path) as recorder:
        for i, payload in enumerate(odd):
            recorder.write(S0, recorder._origin_ns + i, payload)
    lines = [orjson.loads(line) for line in text_of(path).splitlines()[1:]]
    assert [list(line) for line in lines] == [["t_ns", "shard", "text"]] * 3
    frames = list(Recording(path))
    assert [f.payload for f in frames[:2]] == odd[:2]
    assert frames[2].payload == '\ufffd{"op": 11}'.encode()
    assert [f.t_ns for f in frames] == [0, 1, 2]


def test_plain_files_lines_in_other_layouts_and_unknown_kinds(tmp_path: Path) -> None:
    path = tmp_path / "hand.jsonl"
    header = {"format": FORMAT_NAME, "version": 1, "compression": "none"}
    path.write_bytes(
        b"\n".join(
            [
                orjson.dumps(header),
                b'{"frame": {"op": 11, "d": null}, "shard": [1, 2], "t_ns": 5}',
                b'{"t_ns": 6, "shard": [1, 2], "note": "a later kind of line"}',
                b"",
                b'{"t_ns":7,"shard":[0,2],"frame":{"t":null,"s":null,"op":1,"d":null}}',
            ]
        )
    )
    frames = list(Recording(path))
    assert [(f.t_ns, f.shard.number, orjson.loads(f.payload)["op"]) for f in frames] == [(5, 1, 11), (7, 0, 1)]
    assert Recording(path).shard_ids() == [ShardId(0, 2), ShardId(1, 2)]


def test_a_cut_file_reads_up_to_its_last_whole_line(session: LiveSession, tmp_path: Path) -> None:
    whole = list(Recording(session.path))
    cut = tmp_path / "cut.jsonl.zst"
    cut.write_bytes(session.path.read_bytes()[: len(session.path.read_bytes()) * 2 // 3])
    frames = list(Recording(cut))
    assert 0 < len(frames) < len(whole)
    assert frames == whole[: len(frames)]


@pytest.mark.parametrize(
    "first",
    [b'{"format":"something-else","version":1}', b'{"format":"rxgateway-recording","version":2}', b"not json"],
)
def test_files_that_are_not_readable_recordings_are_refused(tmp_path: Path, first: bytes) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_bytes(first + b"\n")
    with pytest.raises(RecordingError):
        Recording(path)


def test_a_bad_line_fails_the_replay(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_bytes(orjson.dumps({"format": FORMAT_NAME, "version": 1}) + b"\n" + b"garbage\n")
    errors: list[Exception] = []
    replay(path, speed=None).subscribe(on_error=errors.append)
    assert len(errors) == 1 and isinstance(errors[0], RecordingError)


def test_recorder_arguments_and_lifecycle(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        Recorder(tmp_path / "x", compression="gzip")
    recorder = Recorder(tmp_path / "y.jsonl.zst")
    recorder.close()
    recorder.close()
    assert recorder.closed and recorder.frames == 0
    assert list(Recording(tmp_path / "y.jsonl.zst")) == []
    with pytest.raises(RuntimeError):
        recorder.attach([])
    with pytest.raises(TypeError):
        record(tmp_path / "z")(replay(tmp_path / "y.jsonl.zst"))


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
def test_a_failing_disk_is_reported_by_close() -> None:
    recorder = Recorder("/dev/full")
    recorder.write(S0, recorder._origin_ns, b'{"op":11,"d":null}')
    with pytest.raises(OSError, match="recording to /dev/full failed"):
        recorder.close()
    assert isinstance(recorder.error, OSError) and recorder.closed
    recorder.close()  # reported once
