"""The event loops a benchmark client can run on: asyncio's own, or uvloop.

uvloop is not a dependency of rxgateway, nor of the benchmark's venvs: it is installed
(pinned) into ``benchmarks/.cache/uvloop-lib`` with ``pip install --target`` and put on
a client's ``PYTHONPATH`` only for the runs that ask for it, so a run with and one
without read the same packages otherwise. A driver runs on uvloop when its
environment has ``BENCH_LOOP=uvloop`` (``drivers/_common.py`` sets the loop policy at
import; every driver imports it first, discord.py's included).

    >>> import loops
    >>> env = loops.environment("uvloop", {"PYTHONPATH": "drivers"})   # doctest: +SKIP
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
TARGET = HERE / ".cache" / "uvloop-lib"
#: Pinned, like the peers.
UVLOOP = "uvloop==0.23.0"
LOOPS = ("asyncio", "uvloop")

__all__ = ["LOOPS", "UVLOOP", "ensure_uvloop", "environment"]


def ensure_uvloop(log=print) -> Path:
    """The directory holding uvloop (installed on first use); raises RuntimeError if pip fails."""
    stamp = TARGET / ".bench-installed"
    if stamp.exists() and stamp.read_text() == UVLOOP + sys.version:
        return TARGET
    log(f"installing {UVLOOP} into {TARGET} ...")
    TARGET.mkdir(parents=True, exist_ok=True)
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q", "install", "--upgrade",
           "--target", str(TARGET), UVLOOP]  # fmt: skip
    done = subprocess.run(pip, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"pip install {UVLOOP} failed:\n{done.stderr[-2000:]}")
    stamp.write_text(UVLOOP + sys.version)
    return TARGET


def environment(loop: str, env: dict[str, str]) -> dict[str, str]:
    """``env`` changed for a client that runs on ``loop``."""
    if loop == "asyncio":
        return dict(env, BENCH_LOOP="asyncio")
    path = ensure_uvloop()
    pythonpath = env.get("PYTHONPATH", "")
    return dict(env, BENCH_LOOP="uvloop", PYTHONPATH=f"{pythonpath}:{path}" if pythonpath else str(path))
