"""benchmarks/scale5k.py runs end to end on a small scale: rxgateway and the floor,
32 shards each, identifies paced by buckets, a trickle of events, heartbeats as the
emulator saw them. Checks the figures are sane (every shard Active, no reconnect, no
violation, every open connection beat): never a timing."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "benchmarks" / "scale5k.py"

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the drivers read /proc")


@pytest.mark.timeout(150)
def test_scale_benchmark_smoke(tmp_path: Path) -> None:
    shards = 32
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--shards", str(shards), "--heartbeat-ms", "1000", "--max-concurrency", "16",
         "--window", "0.05", "--margin", "0.1", "--idle", "2.5", "--settle", "1", "--trickle", "2",
         "--clients", "rxgateway,floor", "--timeout", "60", "--out", str(tmp_path)],
        capture_output=True, text=True, cwd=ROOT, timeout=140,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "| rxgateway | asyncio |" in done.stdout and "| floor | asyncio |" in done.stdout
    data = json.loads((tmp_path / "scale5k.json").read_text())
    assert data["failures"] == []
    assert {r["client"] for r in data["results"]} == {"rxgateway", "floor"}
    for r in data["results"]:
        assert r["shards"] == shards and r["active"] == shards, r
        assert r["reconnects"] == 0 and r["violations"] == 0, r
        beats = r["emulator_beats"]
        assert beats["missed_heartbeat_closes"] == 0, r
        assert beats["beats"] > 0 and beats["silent_connections"] == 0, r
        assert r["trickle_sent"] > 0 and r["idle_cpu_cores"] > 0 and r["idle_kib_per_shard"] > 0, r
    rx = next(r for r in data["results"] if r["client"] == "rxgateway")
    assert rx["message_creates"] > 0  # the trickle reached the bot's subscription
