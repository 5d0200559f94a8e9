"""``benchmarks/metrics_cost.py`` runs end to end: one round, a small burst. Checks
that every event was counted and each scrape agreed with the host; never a timing."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the drivers read /proc")


@pytest.mark.timeout(120)
def test_the_metrics_cost_benchmark_runs_and_its_scrapes_agree() -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "metrics_cost.py"), "--runs", "1", "--events", "2000"],
        capture_output=True, text=True, cwd=ROOT, timeout=110,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:] + done.stdout[-2000:]
    out = done.stdout
    assert out.count("(scrape agrees with the host)") == 2, out
    assert "| all | on |" in out and "| none | on |" in out and "FAILED" not in out
