#!/usr/bin/env python3
"""The project's two entry points, runnable with nothing but Python 3.11+ and pip.

    python3 dev.py demo     # the main job: the live demo on the embedded emulator
    python3 dev.py test     # the whole test suite

Each command creates ``.venv`` beside this file on first use and installs the
package (editable) with the extras it needs; later runs reuse it and reinstall
only when ``pyproject.toml`` changed. Extra arguments are passed through, for
example ``python3 dev.py test -k emulator -x`` or ``python3 dev.py demo --shards 4``.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PYTHON = BIN / ("python.exe" if os.name == "nt" else "python")

#: The extras each command needs installed.
EXTRAS = {
    "demo": "cli",
    "test": "test,cli,tls,notebooks,docs",
    "bench": "cli",
    "soak": "test,cli",
}


def ensure_venv(extras: str) -> None:
    """Create the virtual environment and install the project with ``extras``."""
    if sys.version_info < (3, 11):
        sys.exit(f"rxgateway needs Python 3.11 or newer, this is {sys.version.split()[0]}")
    if not PYTHON.exists():
        print(f"creating {VENV} ...", flush=True)
        venv.EnvBuilder(with_pip=True, clear=True).create(VENV)
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes() + extras.encode()).hexdigest()
    stamp = VENV / f".installed-{extras.replace(',', '-')}"
    if stamp.exists() and stamp.read_text() == digest:
        return
    print(f"installing rxgateway[{extras}] into {VENV} ...", flush=True)
    pip = [str(PYTHON), "-m", "pip", "--disable-pip-version-check", "-q"]
    subprocess.run([*pip, "install", "--upgrade", "pip"], check=True)
    subprocess.run([*pip, "install", "-e", f"{ROOT}[{extras}]"], check=True)
    stamp.write_text(digest)


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in EXTRAS:
        print(__doc__)
        return 2
    command, rest = argv[0], argv[1:]
    ensure_venv(EXTRAS[command])
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    if command == "test":
        args = [str(PYTHON), "-m", "pytest", *rest]
    elif command == "soak":
        args = [str(PYTHON), "-m", "rxgateway.tools.soak", *rest]
    elif command == "bench":
        args = [str(PYTHON), str(ROOT / "benchmarks" / "run.py"), *rest]
    else:
        args = [str(PYTHON), "-m", "rxgateway", command, *rest]
    return subprocess.run(args, cwd=ROOT, env=env).returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
