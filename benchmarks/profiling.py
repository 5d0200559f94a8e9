"""Where rxgateway's CPU goes per event: py-spy (sampling, for the shares) and cProfile
(deterministic, for call counts), on the raw, typed and "nothing wanted" paths.

Shares come from py-spy's self samples (500 Hz, import-time stacks
dropped) grouped into layers by file; a C call (orjson, the decompressor) is charged to
the Python line that made it, so the line ``orjson.loads(...)`` is the "orjson" layer.
µs per event = share × the unprofiled median CPU µs/event of the same client from the
throughput part (or, without it, the profiled run's own figure). cProfile runs only
during the measured window (``--cprofile``) and says how many Python calls each event
costs; its times are inflated by the profiler and shown for ranking only.

    python benchmarks/run.py --only profile       # writes results/profile.md too
"""

from __future__ import annotations

import pstats
import re
import subprocess
from collections import Counter
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
#: Where the profiled rxgateway's sources are (the suite's snapshot), set by run().
SNAPSHOT: list[Path] = []
FRAME = re.compile(r"^(?P<func>.*) \((?P<path>.*):(?P<line>\d+)\)$")

#: (name, level, client, pool-level): what is profiled.
CASES = [
    ("raw", "raw", "rxgateway"),
    ("typed", "typed", "rxgateway"),
    ("unwanted", "filtered", "rxgateway-none"),
]
LAYERS = [
    "aiohttp receive + event loop",
    "driver loop (shard._receive: the loop, delivery to subscribers)",
    "inflate",
    "envelope (general path)",
    "machine",
    "shard, general path (_feed/_on_received/_emit)",
    "orjson parse",
    "event build + field reads",
    "Rx delivery",
    "subscriber (benchmark counter)",
    "other",
]


def _source_line(path: str, line: int, cache: dict[str, list[str]]) -> str:
    if path not in cache:
        candidates = [SNAPSHOT[0] / path if SNAPSHOT else ROOT / path, ROOT / path, HERE / "drivers" / Path(path).name]
        cache[path] = []
        for candidate in candidates:
            if candidate.is_file():
                cache[path] = candidate.read_text().splitlines()
                break
    lines = cache[path]
    return lines[line - 1].strip() if 0 < line <= len(lines) else ""


def layer_of(func: str, path: str, source: str) -> str:
    if "orjson.loads" in source or re.search(r"\b_?loads\(", source):
        return "orjson parse"
    if path.startswith("rxgateway/machine/inflate"):
        return "inflate"
    if path.startswith("rxgateway/protocol/envelope"):
        return "envelope (general path)"
    if path.startswith(("rxgateway/machine/", "rxgateway/protocol/")):
        return "machine"
    if path.startswith("rxgateway/events/"):
        return "event build + field reads"
    if path.startswith("rxgateway/shard"):
        if re.search(r"\bcls\(", source):  # the typed event built inline by the loop
            return "event build + field reads"
        if func.endswith(("_receive", "_run_connection")):
            return "driver loop (shard._receive: the loop, delivery to subscribers)"
        return "shard, general path (_feed/_on_received/_emit)"
    if path.startswith(("reactivex/", "rxgateway/ops/")):
        return "Rx delivery"
    if path.startswith(("aiohttp/", "asyncio/", "selectors", "socket", "ssl")) or "/asyncio/" in path:
        return "aiohttp receive + event loop"
    if "drivers" in path or path.startswith(("_common", "rxgw")):
        return "subscriber (benchmark counter)"
    return "other"


def read_pyspy(path: Path) -> tuple[Counter[str], Counter[tuple[str, str]], Counter[tuple[str, int]], int]:
    """Self samples by layer, by function and by line, and the total, from py-spy's raw
    (collapsed) output; stacks under an import are dropped."""
    layers: Counter[str] = Counter()
    funcs: Counter[tuple[str, str]] = Counter()
    lines: Counter[tuple[str, int]] = Counter()
    cache: dict[str, list[str]] = {}
    total = 0
    for row in path.read_text().splitlines():
        stack, _, count = row.rpartition(" ")
        if not stack or "_find_and_load" in stack or not count.isdigit():
            continue
        frames = stack.split(";")
        if not any(f.startswith(("main (", "throughput (")) for f in frames):
            continue
        m = FRAME.match(frames[-1])
        if m is None:
            continue
        n = int(count)
        func, file, line = m["func"], m["path"], int(m["line"])
        source = _source_line(file, line, cache)
        layers[layer_of(func, file, source)] += n
        funcs[(func, file)] += n
        lines[(file, line)] += n
        total += n
    return layers, funcs, lines, total


def cprofile_rows(path: Path, events: int, top: int = 15) -> tuple[list[list[str]], float]:
    stats = pstats.Stats(str(path))
    entries = []
    calls = 0
    for (file, line, func), (cc, nc, tt, ct, _callers) in stats.stats.items():  # type: ignore[attr-defined]
        calls += nc
        short = file.split("site-packages/")[-1].replace(str(ROOT) + "/", "")
        entries.append((tt, nc, ct, f"{func} ({short}:{line})"))
    entries.sort(reverse=True)
    rows = [
        [name, f"{nc / events:.2f}", f"{tt / events * 1e6:.2f}", f"{ct / events * 1e6:.2f}"]
        for tt, nc, ct, name in entries[:top]
    ]
    return rows, calls / events


def run(suite: Any, host: Any, tools: Path | None, events: dict[str, int]) -> str:
    import report

    summ = report.summary(suite.results)
    SNAPSHOT[:] = [suite.out / "snapshot"]
    out = [
        f"rxgateway {suite.env.get('rxgateway_commit')}"
        + (" + uncommitted changes" if suite.env.get("rxgateway_dirty") else "")
        + "; zstd-stream; client pinned like the throughput runs.",
    ]
    spy = tools / "bin" / "py-spy" if tools else None
    for name, level, client in CASES:
        n = events["typed" if level == "typed" else "raw"]
        extra = ["--level", level, "--compression", "zstd-stream", "--events", str(n)]
        base = summ.get((level, "zstd-stream", client))
        # 1. py-spy over a whole run.
        spied = None
        if spy is not None and spy.exists():
            raw = suite.out / f"pyspy-{name}.txt"
            spied = _spy(suite, host, spy, client, extra, raw)
        # 2. cProfile over the measured window only.
        prof = suite.out / f"cprofile-{name}.prof"
        profiled = suite.drive(client, host, [*extra, "--cprofile", str(prof)])
        ref = base["cpu"][0] if base and base.get("runs") else (spied or {}).get("cpu_us_per_event")
        out.append(f"\n#### {name}: `{client}` at the {level} level, {n:,} events\n")
        if ref:
            src = "throughput median" if base and base.get("runs") else "the py-spy run itself"
            out.append(f"Reference: {ref:.2f} CPU µs/event ({src}).\n")
        if spied is not None:
            layers, funcs, lines, total = read_pyspy(suite.out / f"pyspy-{name}.txt")
            if total:
                rows = [[lay, f"{layers[lay] / total:.1%}", f"{layers[lay] / total * ref:.2f}" if ref else "-"]
                        for lay in LAYERS if layers[lay]]  # fmt: skip
                out += [f"py-spy: {total} samples in the event loop.\n",
                        report.md_table(rows, ["layer", "share of samples", "µs/event"]), ""]  # fmt: skip
                rows = [[f"`{func}` ({file})", f"{cnt / total:.1%}", f"{cnt / total * ref:.2f}" if ref else "-"]
                        for (func, file), cnt in funcs.most_common(12)]  # fmt: skip
                out += ["Top functions by own time (py-spy):\n",
                        report.md_table(rows, ["function", "share", "µs/event"]), ""]  # fmt: skip
                cache: dict[str, list[str]] = {}
                rows = [[f"{file}:{line}", f"`{_source_line(file, line, cache)[:70]}`", f"{cnt / total:.1%}"]
                        for (file, line), cnt in lines.most_common(10)]  # fmt: skip
                out += ["Hottest lines (py-spy):\n", report.md_table(rows, ["line", "source", "share"]), ""]
        if profiled is not None and prof.exists():
            rows, calls = cprofile_rows(prof, profiled["sent"])
            out += [f"cProfile (measured window only): {calls:.1f} Python-level calls per event; "
                    f"profiled CPU {profiled['cpu_us_per_event']:.1f} µs/event (profiler overhead included).\n",
                    report.md_table(rows, ["function", "calls/event", "own µs/event (profiled)", "cum µs/event"]), ""]  # fmt: skip
    text = "\n".join(out)
    (suite.out / "profile.md").write_text(text + "\n")
    return text


def _spy(suite: Any, host: Any, spy: Path, client: str, extra: list[str], raw: Path) -> dict | None:
    import json
    import os

    from rxgateway.emulator import DEFAULT_TOKEN

    script, venv = ("rxgw.py", "main")
    inner = [
        suite.python[venv], "-O", str(HERE / "drivers" / script), "--client", client,
        "--url", host.url, "--api-url", host.api_url, "--control", host.control, "--token", DEFAULT_TOKEN, *extra,
    ]  # fmt: skip
    inner = suite.pin.wrap(inner, suite.pin.client_cpu)
    command = [str(spy), "record", "--format", "raw", "--rate", "500", "--output", str(raw), "--", *inner]
    command = suite.pin.wrap(command, suite.pin.emulator_cpu)
    env = dict(os.environ, PYTHONUNBUFFERED="1", PYTHONPATH=suite.pythonpath[venv])
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=300, cwd=ROOT, env=env)
    except subprocess.TimeoutExpired:
        suite.failures.append(f"profile {client} {extra}: py-spy timed out")
        return None
    finally:
        try:
            host.forget()
        except OSError:
            pass
    for line in done.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[7:])
    suite.failures.append(f"profile {client}: py-spy run failed: {done.stderr.strip()[-300:]}")
    return None
