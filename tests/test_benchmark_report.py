"""The benchmark report's verdicts: how rounds are paired and what a verdict rests on.

Plain data in, rows out: no run, no timing.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

import report  # noqa: E402


def _latency(client: str, level: str, loop: str, rnd: int | None, p99: float | None) -> dict[str, Any]:
    return {"client": client, "level": level, "loop": loop, "round": rnd, "p99_ms": p99, "p50_ms": 0.1,
            "p999_ms": p99, "max_ms": p99, "rate": 1000, "events": 10, "expected": 10}  # fmt: skip


def test_round_ratios_pair_each_round_with_the_same_round() -> None:
    ours = [{"round": 0, "v": 2.0}, {"round": 1, "v": 3.0}, {"round": 2, "v": 9.0}]
    theirs = [{"round": 1, "v": 6.0}, {"round": 0, "v": 1.0}]  # round 2 missing: not paired
    assert report._round_ratios(ours, theirs, "v") == [2.0, 0.5]


def test_round_ratios_skip_results_without_a_round_or_a_figure() -> None:
    ours = [{"round": None, "v": 2.0}, {"round": 0, "v": None}, {"v": 1.0}]
    theirs = [{"round": None, "v": 1.0}, {"round": 0, "v": 1.0}, {"round": 1, "v": 0.0}]
    assert report._round_ratios(ours, theirs, "v") == []


def test_latency_verdict_rests_on_the_median_of_the_rounds_ratios() -> None:
    # Round 1's floor caught the stalls: the medians' ratio says 2.00x, the rounds 1.10x.
    floor = [1.0, 5.0, 1.0]
    ours = [1.1, 2.0, 2.0]
    results = [_latency("floor", "raw", "asyncio", i, v) for i, v in enumerate(floor)]
    results += [_latency("rxgateway", "typed", "asyncio", i, v) for i, v in enumerate(ours)]
    [(target, figure, verdict)] = report.latency_targets(results)
    assert target.startswith("latency typed (asyncio)")
    assert "median of 3 per-round ratios 1.10x" in figure and "ratio of the medians 2.00x" in figure
    assert verdict == "MET"


def test_latency_verdict_fails_when_most_rounds_are_over() -> None:
    results = [_latency("floor", "raw", "uvloop", i, 1.0) for i in range(3)]
    results += [_latency("rxgateway", "raw", "uvloop", i, v) for i, v in enumerate([1.6, 1.2, 1.7])]
    [(_, figure, verdict)] = report.latency_targets(results)
    assert "median of 3 per-round ratios 1.60x" in figure
    assert verdict == "NOT MET"


def test_without_rounds_the_verdict_is_the_ratio_of_the_medians() -> None:
    results = [_latency("floor", "raw", "asyncio", None, 2.0), _latency("rxgateway", "raw", "asyncio", None, 3.2)]
    [(_, figure, verdict)] = report.latency_targets(results)
    assert "per-round" not in figure and "ratio of the medians 1.60x" in figure
    assert verdict == "NOT MET"


def _scale(client: str, comp: str, rnd: int, cores: float, reconnects: int = 0) -> dict[str, Any]:
    return {"client": client, "compression": comp, "shards": 512, "round": rnd, "idle_cpu_cores": cores,
            "reconnects": reconnects, "ready_s": 1.0, "active": 512, "idle_kib_per_shard": 40.0}  # fmt: skip


def test_idle_cpu_verdict_pairs_the_rounds() -> None:
    results = [_scale("hikari", "zlib-stream", i, v) for i, v in enumerate([0.0150, 0.0130, 0.0170])]
    results += [_scale("rxgateway", "zlib-stream", i, v) for i, v in enumerate([0.0140, 0.0150, 0.0160])]
    rows = {t: (f, v) for t, f, v in report.scale_targets(results)}
    figure, verdict = rows["512 shards zlib-stream: idle CPU <= hikari's (the most shards hikari held without a reconnect)"]
    # Per round: 0.93, 1.15, 0.94 -> median 0.94; the medians: 0.0150 / 0.0150 = 1.00.
    assert "median of 3 per-round ratios 0.94x" in figure and "ratio of the medians 1.00x" in figure
    assert verdict == "MET"


def test_scale_rows_split_the_idle_cpu_and_show_a_dash_for_runs_that_predate_it() -> None:
    old = [_scale("hikari", "zlib-stream", i, 0.015) for i in range(2)]
    new = [
        dict(_scale("rxgateway", "zlib-stream", i, 0.014), idle_user_cores=u, idle_system_cores=k, idle_voluntary_switches_per_s=w)
        for i, (u, k, w) in enumerate([(0.010, 0.004, 9.0), (0.012, 0.003, 15.0), (0.011, 0.005, 12.0)])
    ]
    rows = {row[0]: row for row in report.scale_rows(old + new)}
    header = report.SCALE_HEADER
    assert all(len(row) == len(header) for row in rows.values())
    split, wakeups = header.index("user / system cores"), header.index("voluntary switches /s")
    assert rows["rxgateway"][split] == "0.0110 / 0.0040" and rows["rxgateway"][wakeups] == "12 [9-15]"
    assert rows["hikari"][split] == "-" and rows["hikari"][wakeups] == "-"


def test_idle_instructions_are_judged_against_hikari_only_where_neither_reconnected() -> None:
    def beat(client: str, comp: str, per_beat: int, reconnects: int = 0) -> dict[str, Any]:
        return {"path": client, "compression": comp, "instructions": per_beat, "reconnects": reconnects}

    results = [beat("rxgateway", "zstd-stream", 95000), beat("hikari", "zstd-stream", 125000),
               beat("rxgateway", "zlib-stream", 99000), beat("hikari", "zlib-stream", 900000, reconnects=40)]  # fmt: skip
    [(target, figure, verdict)] = report.idle_instruction_targets(results)
    assert target.startswith("64 idle shards zstd-stream") and figure == "95,000 vs 125,000 = 0.76x" and verdict == "MET"
    # (run.py leaves a run that reconnected out of the table too, and says so.)
    rows = report.instruction_rows(results[:3], {"hikari": "hikari", "rxgateway": "hikari"})
    assert rows[1] == ["rxgateway (vs hikari)", "95,000", "0.760x", "99,000", "-"]
    assert report.IDLE_INSTRUCTION_HEADER[0] == "client" and "instructions/beat" in report.IDLE_INSTRUCTION_HEADER[1]


def test_instruction_rows_give_each_path_its_ratio_to_its_own_floor() -> None:
    results = [
        {"path": "floor", "compression": "zstd-stream", "instructions": 40000},
        {"path": "pipe", "compression": "zstd-stream", "instructions": 46000},
        {"path": "transport-filtered", "compression": "zstd-stream", "instructions": 12000},
        {"path": "none", "compression": "zstd-stream", "instructions": 14400},
        {"path": "pipe", "compression": "zlib-stream", "instructions": 50000},  # its floor is missing
    ]
    against = {"floor": "floor", "pipe": "floor", "transport-filtered": "transport-filtered", "none": "transport-filtered"}
    rows = report.instruction_rows(results, against)
    assert rows == [
        ["floor", "40,000", "1.000x", "-", "-"],
        ["pipe (vs floor)", "46,000", "1.150x", "50,000", "-"],
        ["transport-filtered", "12,000", "1.000x", "-", "-"],
        ["none (vs transport-filtered)", "14,400", "1.200x", "-", "-"],
    ]
    assert len(report.INSTRUCTION_HEADER) == len(rows[0])
