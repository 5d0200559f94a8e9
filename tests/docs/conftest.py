"""The documentation site, built once per test session and served on loopback.

``built_site`` runs ``mkdocs build --strict`` into a temporary directory (warnings are
errors: a broken link, a missing page, a reference mkdocstrings cannot resolve); the
build test and the browser test share it. ``served_site`` serves that directory on
127.0.0.1 (a free port) for the browser, the system's Chromium driven by playwright.
"""

from __future__ import annotations

import functools
import http.server
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
BUILD_TIMEOUT = 300.0


@dataclass(frozen=True)
class Build:
    """One ``mkdocs build --strict``: where it went, what it said, how long it took."""

    site: Path
    returncode: int
    output: str
    seconds: float

    def pages(self) -> set[str]:
        """The built pages, as site-relative URLs (``""``, ``"tutorial/"`` ...)."""
        found = set()
        for html in self.site.rglob("index.html"):
            rel = html.parent.relative_to(self.site).as_posix()
            if rel.split("/", 1)[0] in {"assets", "search"}:
                continue
            found.add("" if rel == "." else rel + "/")
        return found


@pytest.fixture(scope="session")
def built_site(tmp_path_factory: pytest.TempPathFactory) -> Build:
    site = tmp_path_factory.mktemp("docs") / "site"
    env = dict(os.environ, NO_MKDOCS_2_WARNING="1")
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=BUILD_TIMEOUT,
    )
    seconds = time.monotonic() - started
    print(f"\nmkdocs build --strict: {seconds:.1f} s, exit {done.returncode}", flush=True)
    return Build(site, done.returncode, done.stdout + done.stderr, seconds)


@pytest.fixture(scope="session")
def site(built_site: Build) -> Build:
    """The built site; fails (not skips) the test when the strict build did not pass."""
    if built_site.returncode != 0:
        pytest.fail(f"mkdocs build --strict failed:\n{built_site.output[-4000:]}")
    return built_site


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="session")
def served_site(site: Build) -> Iterator[str]:
    """The built site over HTTP on 127.0.0.1; yields its base URL (ending in ``/``)."""
    handler = functools.partial(_QuietHandler, directory=str(site.site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
