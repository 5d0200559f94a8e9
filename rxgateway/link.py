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
from collections.abc import Coroutine
from typing import Any

import aiohttp

__all__ = ["CLOSE_TIMEOUT", "Link"]

log = logging.getLogger("rxgateway.shard")

#: How long a client close handshake may take before the socket is abandoned.
CLOSE_TIMEOUT = 5.0
#: aiohttp 3.11 and later send bytes as a text frame as they are (no decode, no re-encode).
_SEND_FRAME = hasattr(aiohttp.ClientWebSocketResponse, "send_frame")


def _sending(ws: aiohttp.ClientWebSocketResponse, data: bytes) -> Coroutine[Any, Any, None]:
    """The coroutine that writes ``data`` (JSON, UTF-8) as one text frame."""
    if _SEND_FRAME:
        return ws.send_frame(data, aiohttp.WSMsgType.TEXT)
    return ws.send_str(data.decode())


class Link:
    """One websocket connection: a writer task that sends frames in order, and the
    means to close or abandon the socket. User commands it could not write before
    the connection ended are handed back (:meth:`unsent`), never dropped."""

    # The writer waits on a list and one future rather than an asyncio.Queue: a Queue
    # holds four deques (~3 KiB per shard, times a thousand idle shards).
    __slots__ = ("ws", "_items", "_wake", "_writer", "_unsent", "_pending")

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws
        #: ``(data, is_command)`` frames to send; a ``(code, reason)`` pair closes;
        #: ``None`` stops the writer.
        self._items: list[tuple[bytes, bool] | tuple[int, str] | None] = []
        self._wake: asyncio.Future[None] | None = None
        #: A command whose write failed: it may not have left, so it is handed back.
        self._unsent: bytes | None = None
        #: A send begun by :meth:`send` that has to wait for the socket to drain: the
        #: coroutine, what it waits on, the frame and whether it is a user command.
        self._pending: tuple[Coroutine[Any, Any, None], Any, bytes, bool] | None = None
        self._writer = asyncio.get_running_loop().create_task(self._write())

    def _put(self, item: tuple[bytes, bool] | tuple[int, str] | None) -> None:
        self._items.append(item)
        self._wake_writer()

    def _wake_writer(self) -> None:
        wake = self._wake
        if wake is not None and not wake.done():
            wake.set_result(None)

    def send(self, data: bytes, is_command: bool) -> None:
        """Send ``data`` (a text frame) after what was handed over before it. When the
        writer is idle (the usual case: a heartbeat, a command now and then) the frame
        is written at once, in this call: no wake-up of the writer task and no extra
        pass of the event loop per frame. Otherwise, and if the write has to wait for
        the socket to drain, the writer task carries on, in order."""
        wake = self._wake
        if not self._items and self._pending is None and wake is not None and not wake.done():
            self._write_now(data, is_command)
            return
        self._put((data, is_command))

    def _write_now(self, data: bytes, is_command: bool) -> None:
        """Run the send until it completes or would wait (then the writer finishes it)."""
        ws = self.ws
        if ws.closed:
            self._put((data, is_command))  # the writer ends and hands it back as unsent
            return
        send = _sending(ws, data)
        try:
            waiting = send.send(None)
        except StopIteration:
            return
        except (aiohttp.ClientError, ConnectionError, RuntimeError, OSError) as exc:
            log.debug("send failed: %s", exc)
            if is_command:
                self._unsent = data
            self._put(None)  # as after a failed write by the writer: it stops
            return
        # Back-pressure: the send waits for the transport to drain; the writer drives
        # the rest of it before anything handed over later.
        self._pending = (send, waiting, data, is_command)
        self._wake_writer()

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
            if self._pending is not None:
                if not await self._finish_pending():
                    return
                continue
            if not items:
                wake = self._wake
                if wake is None or wake.done():
                    self._wake = wake = loop.create_future()
                await wake
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
                await _sending(ws, first)
            except (aiohttp.ClientError, ConnectionError, RuntimeError, OSError) as exc:
                log.debug("send failed: %s", exc)
                if second:
                    self._unsent = first
                return

    async def _finish_pending(self) -> bool:
        """Drive the send :meth:`send` began to its end; False if it failed."""
        assert self._pending is not None
        send, waiting, data, is_command = self._pending
        try:
            while True:
                if isinstance(waiting, asyncio.Future):
                    # What the send waits on (the transport draining). Taken over as a
                    # Task would take it: no longer "blocking", then awaited here.
                    waiting._asyncio_future_blocking = False
                    try:
                        await waiting
                    except Exception:  # noqa: BLE001 - the send itself sees it next
                        pass
                else:  # a bare yield (sleep(0)): one pass of the loop
                    await asyncio.sleep(0)
                waiting = send.send(None)
        except StopIteration:
            return True
        except (aiohttp.ClientError, ConnectionError, RuntimeError, OSError) as exc:
            log.debug("send failed: %s", exc)
            if is_command:
                self._unsent = data
            return False
        except asyncio.CancelledError:
            send.close()
            if is_command:
                self._unsent = data
            raise
        finally:
            self._pending = None

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
