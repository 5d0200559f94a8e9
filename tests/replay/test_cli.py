"""``--record FILE`` of ``rxgateway demo`` and ``rxgateway run``: the command writes
a readable recording that replays to what the command saw."""

from __future__ import annotations

import asyncio
import re
from collections import Counter
from pathlib import Path

import pytest

from rxgateway.emulator import DEFAULT_TOKEN, GatewayEmulator
from rxgateway.events.base import Dispatch
from rxgateway.record import Recording
from rxgateway.replay import replay
from rxgateway.tools.cli import main

from .support import Collector


def dispatch_counts(path: Path) -> Counter[str]:
    out = Collector()
    replay(path, speed=None).subscribe(out)  # no loop here: runs to the end
    assert out.done and out.error is None
    return Counter(e.name for e in out.events if isinstance(e, Dispatch))


def test_demo_record_writes_a_recording_of_what_the_demo_counted(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "demo.jsonl.zst"
    code = main(["demo", "--shards", "2", "--seconds", "2", "--rate", "300", "--record", str(path)])
    out = capsys.readouterr().out
    assert code == 0, out
    events = int(re.search(r"^events: (\d+)", out, re.M).group(1))  # type: ignore[union-attr]
    frames = len(list(Recording(path)))
    assert f"recorded {frames} payloads to {path}" in out
    header = Recording(path).header
    assert header["meta"]["command"] == "demo" and header["meta"]["shards"] == 2
    counts = dispatch_counts(path)
    assert sum(counts.values()) == events > 0  # every dispatch the dashboard counted
    assert counts["READY"] == 2 and counts["RESUMED"] >= 1  # the demo's faults resumed shards
    assert DEFAULT_TOKEN.encode() not in path.read_bytes()


async def test_run_record_against_an_emulator(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "run.jsonl"
    monkeypatch.setenv("DISCORD_TOKEN", DEFAULT_TOKEN)
    emulator = GatewayEmulator(shards=2, max_concurrency=2, heartbeat_interval_ms=500, identify_window_s=0.1, guilds=4)
    async with emulator as emu:
        emu.start_traffic(200)
        argv = ["run", "--gateway-url", emu.url, "--api-url", emu.api_url, "--seconds", "1.5",
                "--intents", "GUILDS,GUILD_MESSAGES", "--compression", "zlib-stream", "--record", str(path)]  # fmt: skip
        code = await asyncio.to_thread(main, argv)  # the command runs its own loop
        assert not emu.violations
    assert code == 0, capsys.readouterr().err
    assert f"payloads to {path}" in capsys.readouterr().err
    recording = Recording(path)
    assert recording.header["compression"] == "zstd"  # the suffix does not choose the compression
    assert recording.header["meta"] == {"command": "run", "intents": 513, "compression": "zlib-stream", "shards": 2}
    assert {f.shard.number for f in recording} == {0, 1}
    counts = await asyncio.to_thread(dispatch_counts, path)
    assert counts["READY"] == 2 and counts["GUILD_CREATE"] == 4 and counts["MESSAGE_CREATE"] > 0
    assert DEFAULT_TOKEN.encode() not in path.read_bytes()


def test_record_needs_a_writable_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["demo", "--shards", "1", "--seconds", "1", "--record", str(tmp_path / "no" / "such" / "dir.jsonl")])
    assert code == 1
    assert "No such file or directory" in capsys.readouterr().err
