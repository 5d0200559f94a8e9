"""The benchmark suite runs: a quick pass, no peers, two levels, three clients.

Checks only that it runs end to end and that its figures are sane (every event the
emulator sent was counted, exactly once; CPU and rates positive): never a timing.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
RUN = ROOT / "benchmarks" / "run.py"

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the drivers read /proc")


@pytest.mark.timeout(180)
def test_quick_run_prints_a_table_with_sane_numbers(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, str(RUN), "--quick", "--no-peers", "--only", "raw,filtered",
         "--clients", "floor,transport,rxgateway", "--out", str(tmp_path)],
        capture_output=True, text=True, cwd=ROOT, timeout=170,
    )  # fmt: skip
    out = done.stdout
    assert done.returncode == 0, done.stderr[-2000:] + out[-2000:]
    assert "peers skipped (--no-peers)" in out
    # The tables, with the expected rows.
    assert "## raw:" in out and "## filtered:" in out
    for row in ("floor: aiohttp + inflate + orjson", "transport floor: inflate only", "rxgateway shard.subscribe",
                "rxgateway on(MESSAGE_CREATE), 10 %"):  # fmt: skip
        assert row in out, row
    assert "## failures" not in out, out[out.find("## failures") :]

    data = json.loads((tmp_path / "latest.json").read_text())
    runs = data["throughput"]
    # 1 round x (raw: 3 clients + filtered: 2 clients) x 3 compressions.
    assert {(r["level"], r["client"]) for r in runs} == {
        ("raw", "floor"), ("raw", "transport"), ("raw", "rxgateway"),
        ("filtered", "floor"), ("filtered", "transport"), ("filtered", "rxgateway"),
    }  # fmt: skip
    assert len(runs) == 18
    for r in runs:
        assert r["events"] == r["expected"], r  # counted == sent, nothing extra within the grace period
        assert r["sent"] == data["plan"]["events"][r["level"]]
        if r["level"] == "filtered" and r["client"] != "transport":
            assert r["expected"] == r["sent"] // 10  # MESSAGE_CREATE, the wanted 10 %
        else:
            assert r["expected"] == r["sent"]
        assert r["cpu_us_per_event"] > 0 and r["events_per_s"] > 0 and r["wall_s"] > 0
        assert r["optimize"] == 1  # every client under python -O
    assert (tmp_path / "latest.md").read_text().startswith("# rxgateway benchmark results")
