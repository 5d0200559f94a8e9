#!/usr/bin/env python3
"""The project's two entry points, runnable with nothing but Python 3.11+ and pip.

    python3 dev.py demo     # the main job: the live demo on the embedded emulator
    python3 dev.py test     # the whole test suite
    python3 dev.py docs     # the documentation site, served on http://127.0.0.1:8000

Each command creates ``.venv`` beside this file on first use and installs the
package (editable) with the extras it needs; later runs reuse it and reinstall
only when ``pyproject.toml``, ``hatch_build.py`` or the C source of the optional
extension changed (the install compiles the extension where a compiler is at hand;
see ``hatch_build.py``). Extra arguments are passed through, for
example ``python3 dev.py test -k emulator -x`` or ``python3 dev.py demo --shards 4``.

``test`` also checks the documentation site in a headless browser, the system's
Chromium: when ``/usr/bin/chromium`` is missing it installs Debian's ``chromium``
package with apt-get (as root, or through ``sudo -n``), and says so first.
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
    "docs": "docs",
}

#: The browser the docs' test drives (tests/docs/): Debian's chromium package.
CHROMIUM = Path("/usr/bin/chromium")


def ensure_venv(extras: str) -> None:
    """Create the virtual environment and install the project with ``extras``."""
    if sys.version_info < (3, 11):
        sys.exit(f"rxgateway needs Python 3.11 or newer, this is {sys.version.split()[0]}")
    if not PYTHON.exists():
        print(f"creating {VENV} ...", flush=True)
        venv.EnvBuilder(with_pip=True, clear=True).create(VENV)
    # What the install depends on: the project file, and what the build compiles (an
    # edit to the C extension or its hook reinstalls, which recompiles it in place).
    built_from = [ROOT / "pyproject.toml", ROOT / "hatch_build.py", *sorted((ROOT / "rxgateway").rglob("*.c"))]
    digest = hashlib.sha256(b"".join(p.read_bytes() for p in built_from) + extras.encode()).hexdigest()
    stamp = VENV / f".installed-{extras.replace(',', '-')}"
    if stamp.exists() and stamp.read_text() == digest:
        return
    print(f"installing rxgateway[{extras}] into {VENV} ...", flush=True)
    pip = [str(PYTHON), "-m", "pip", "--disable-pip-version-check", "-q"]
    subprocess.run([*pip, "install", "--upgrade", "pip"], check=True)
    subprocess.run([*pip, "install", "-e", f"{ROOT}[{extras}]"], check=True)
    stamp.write_text(digest)


def ensure_chromium() -> None:
    """Install Debian's ``chromium`` when ``/usr/bin/chromium`` is missing (the docs'
    browser check needs it): ``apt-get install -y chromium``, as root or with
    ``sudo -n``; ``apt-get update`` first only if that fails. A failure is printed,
    not fatal: the browser test then fails and says why."""
    if CHROMIUM.exists():
        return
    as_root = hasattr(os, "geteuid") and os.geteuid() == 0
    prefix = [] if as_root else ["sudo", "-n"]
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    print(f"{CHROMIUM} is missing (the docs' browser check needs it): installing Debian's chromium", flush=True)

    def apt(*args: str) -> bool:
        command = [*prefix, "apt-get", *args]
        print(f"running: {' '.join(command)}", flush=True)
        try:
            return subprocess.run(command, env=env).returncode == 0
        except OSError as exc:  # no apt-get, no sudo
            print(f"cannot run {command[0]}: {exc}", flush=True)
            return False

    if not apt("install", "-y", "chromium") and not (apt("update") and apt("install", "-y", "chromium")):
        print("could not install chromium: the docs' browser test will fail until it is installed", flush=True)


#: Test workers: most tests wait on sockets, processes and timers, so twice the cores
#: keeps the machine busy; a file's tests stay on one worker (their module fixtures,
#: such as a redis-server, are started once).
WORKERS = max(2, 2 * (os.cpu_count() or 1))


def parallel(rest: list[str]) -> list[str]:
    """pytest-xdist's options for the suite, unless the arguments choose already
    (``-n``, ``--numprocesses``, ``-p no:xdist``)."""
    chosen = any(arg.startswith(("-n", "--numprocesses", "--dist")) or arg == "no:xdist" for arg in rest)
    return [] if chosen else ["-n", str(WORKERS), "--dist", "loadfile"]


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in EXTRAS:
        print(__doc__)
        return 2
    command, rest = argv[0], argv[1:]
    ensure_venv(EXTRAS[command])
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    if command == "test":
        ensure_chromium()
        args = [str(PYTHON), "-m", "pytest", *parallel(rest), *rest]
    elif command == "docs":
        print("serving the docs at http://127.0.0.1:8000 (Ctrl-C to stop)", flush=True)
        env.setdefault("NO_MKDOCS_2_WARNING", "1")
        args = [str(PYTHON), "-m", "mkdocs", "serve", *rest]
    elif command == "soak":
        args = [str(PYTHON), "-m", "rxgateway.tools.soak", *rest]
    elif command == "bench":
        args = [str(PYTHON), str(ROOT / "benchmarks" / "run.py"), *rest]
    else:
        args = [str(PYTHON), "-m", "rxgateway", command, *rest]
    return subprocess.run(args, cwd=ROOT, env=env).returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
