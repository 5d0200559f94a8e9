"""The benchmark's own virtual environments, kept apart from rxgateway's dependencies.

``peers``: hikari and discord.py with their speed-ups, pinned. ``tools``: py-spy for
the profile. Both live under ``benchmarks/.cache/`` (git-ignored) and are rebuilt only
when the pinned list changes.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
import venv
from pathlib import Path

HERE = Path(__file__).resolve().parent
CACHE = HERE / ".cache"

#: Pinned: the versions peers.md examined. ``[speedups]`` brings orjson, backports.zstd,
#: aiodns, brotli, ciso8601 to hikari; ``[speed]`` brings orjson, zstandard, aiodns,
#: brotli, cchardet-like extras to discord.py.
PEERS = ("hikari[speedups]==2.7.0", "discord.py[speed]==2.7.1")
TOOLS = ("py-spy==0.4.3",)


def python_of(path: Path) -> Path:
    return path / "bin" / "python"


def ensure(name: str, requirements: tuple[str, ...], log=print) -> Path:
    """The venv ``benchmarks/.cache/<name>-venv`` with ``requirements`` installed; built
    with the interpreter running this script. Raises ``RuntimeError`` if pip fails."""
    path = CACHE / f"{name}-venv"
    python = python_of(path)
    digest = hashlib.sha256(("\n".join(requirements) + sys.version).encode()).hexdigest()
    stamp = path / ".bench-installed"
    if python.exists() and stamp.exists() and stamp.read_text() == digest:
        return path
    log(f"installing {' '.join(requirements)} into {path} ...")
    CACHE.mkdir(parents=True, exist_ok=True)
    venv.EnvBuilder(with_pip=True, clear=True).create(path)
    pip = [str(python), "-m", "pip", "--disable-pip-version-check", "-q", "install", *requirements]
    done = subprocess.run(pip, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"pip install {' '.join(requirements)} failed:\n{done.stderr[-2000:]}")
    stamp.write_text(digest)
    return path


def versions(path: Path) -> dict[str, str]:
    """``pip freeze`` of a venv, as name → version."""
    done = subprocess.run([str(python_of(path)), "-m", "pip", "freeze"], capture_output=True, text=True)
    pairs = (line.split("==", 1) for line in done.stdout.splitlines() if "==" in line)
    return {name.lower(): version for name, version in pairs}
