"""One websocket connection of a shard: the socket, a writer task that sends frames
in order, and the means to close or abandon it.

The driver (:mod:`rxgateway.shard`) makes one :class:`Link` per connection and hands
it what the machine says to send. User commands the link could not write before the
connection ended are handed back (:meth:`Link.unsent`), never dropped: the machine
queues them again for the next connection.

Example (the driver's view)::

    link = Link(ws)
    link.send(b'{"op":1,"d":null}', is_command=False)
    link.close(4000, "resuming")
    await link.finish()
    requeue(link.unsent())
"""

from __future__ import annotations

import asyncio
import logging
import socket

import aiohttp

__all__ = ["CLOSE_TIMEOUT", "Link"]

log = logging.getLogger("rxgateway.shard")

#: How long a client close handshake may take before the socket is abandoned.
CLOSE_TIMEOUT = 5.0


class Link:
    """One websocket connection: a writer task that sends frames in order, and the
    means to close or abandon the socket. User commands it could not write before
    the connection ended are handed back (:meth:`unsent`), never dropped."""

    # The writer waits on a list and one future rather than an asyncio.Queue: a Queue
    # holds four deques (~3 KiB per shard, times a thousand idle shards).
    __slots__ = ("ws", "_items", "_wake", "_writer", "_unsent")

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws
        #: ``(data, is_command)`` frames to send; a ``(code, reason)`` pair closes;
        #: ``None`` stops the writer.
        self._items: list[tuple[bytes, bool] | tuple[int, str] | None] = []
        self._wake: asyncio.Future[None] | None = None
        #: A command whose write failed: it may not have left, so it is handed back.
        self._unsent: bytes | None = None
        self._writer = asyncio.get_running_loop().create_task(self._write())

    def _put(self, item: tuple[bytes, bool] | tuple[int, str] | None) -> None:
        self._items.append(item)
        wake = self._wake
        if wake is not None and not wake.done():
            wake.set_result(None)

    def send(self, data: bytes, is_command: bool) -> None:
        self._put((data, is_command))

    def close(self, code: int, reason: str) -> None:
        self._put((code, reason))

    def drop(self) -> None:
        """Abandon the connection: shut the socket down with no close frame."""
        sock = self.ws.get_extra_info("socket")
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self._put(None)

    async def _write(self) -> None:
        ws, items = self.ws, self._items
        loop = asyncio.get_running_loop()
        while True:
            if not items:
                self._wake = loop.create_future()
                await self._wake
                continue
            item = items[0]
            if item is None:
                return
            first, second = item
            if isinstance(first, int):  # a close
                del items[0]
                try:
                    async with asyncio.timeout(CLOSE_TIMEOUT):
                        await ws.close(code=first, message=str(second).encode())
                except (asyncio.TimeoutError, aiohttp.ClientError, OSError):
                    self.drop()
                return
            if ws.closed:
                return  # what is left stays in items: unsent
            del items[0]
            try:
                await ws.send_str(first.decode())
            except (aiohttp.ClientError, ConnectionError, RuntimeError, OSError) as exc:
                log.debug("send failed: %s", exc)
                if second:
                    self._unsent = first
                return

    def unsent(self) -> list[bytes]:
        """The user commands handed to this link and never written, in order (call
        after :meth:`finish`)."""
        out = [self._unsent] if self._unsent is not None else []
        out += [item[0] for item in self._items if item is not None and item[1] is True]
        self._items.clear()
        self._unsent = None
        return out

    async def finish(self) -> None:
        """Wait for the writer to end (after a close or drop), or stop it."""
        if not self._writer.done():
            self._put(None)
        try:
            await self._writer
        except asyncio.CancelledError:
            pass
        if not self.ws.closed:
            self.drop()
