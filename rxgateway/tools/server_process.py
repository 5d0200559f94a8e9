"""What the throwaway servers for tests, benchmarks and examples share: one child
process on 127.0.0.1, a temporary directory, started and waited for, stopped by its
process (:class:`~rxgateway.tools.redis_server.RedisServer`,
:class:`~rxgateway.tools.nats_server.NatsServer`).

Example::

    class EchoServer(ServerProcess):
        name = "echo"
        def arguments(self) -> list[str]: ...
        def ready(self) -> bool: ...
"""

from __future__ import annotations

import subprocess
import tempfile
import time
from typing import ClassVar, Self

__all__ = ["START_TIMEOUT", "ServerProcess"]

#: Seconds allowed for a server to answer after it was started.
START_TIMEOUT = 10.0
#: Seconds a server has to exit after SIGTERM before it is killed.
STOP_TIMEOUT = 5.0


class ServerProcess:
    """A server process: subclasses say how to start it (:meth:`arguments`) and how to
    know it answers (:meth:`ready`)."""

    #: The server's name in messages.
    name: ClassVar[str] = "server"

    def __init__(self, binary: str, port: int) -> None:
        self.binary = binary
        self.port = port
        self._dir = tempfile.TemporaryDirectory(prefix=f"rxgw-{self.name}-")
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def directory(self) -> str:
        """The server's temporary directory (its data, if it keeps any)."""
        return self._dir.name

    def arguments(self) -> list[str]:
        """The command line that starts the server."""
        raise NotImplementedError

    def ready(self) -> bool:
        """True once the server answers."""
        raise NotImplementedError

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def start(self) -> None:
        """Start the server and wait until it answers."""
        if self.running:
            return
        self._process = subprocess.Popen(self.arguments(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + START_TIMEOUT
        while not self.ready():
            if self._process.poll() is not None:
                err = self._process.stderr.read().decode(errors="replace") if self._process.stderr else ""
                raise RuntimeError(f"{self.name} exited with {self._process.returncode}: {err[-500:]}")
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"{self.name} did not answer on port {self.port} within {START_TIMEOUT} s")
            time.sleep(0.02)

    def stop(self) -> None:
        """Stop the server (its directory stays until :meth:`close`)."""
        process, self._process = self._process, None
        if process is None:
            return
        process.terminate()
        try:
            process.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stderr is not None:
            process.stderr.close()

    def close(self) -> None:
        """Stop the server and remove its directory."""
        self.stop()
        self._dir.cleanup()

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"{type(self).__name__}(port={self.port}, running={self.running})"
