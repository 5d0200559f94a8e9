"""A plain aiohttp gateway client for the conformance suite: it speaks just enough of
the protocol to drive the emulator, and decodes every compression by hand.

Example::

    client = await GatewayClient.connect(http, emu.url, compress="zlib-stream")
    hello = await client.receive()
    await client.identify(intents=513)
    ready = await client.dispatch("READY")
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

import aiohttp
import orjson
import zstandard

from rxgateway.emulator import DEFAULT_TOKEN, GatewayEmulator

ZLIB_SUFFIX = b"\x00\x00\xff\xff"
#: How long one receive may wait before the test fails.
RECEIVE_TIMEOUT_S = 5.0
#: The most payloads a test skips while looking for one.
MAX_SKIPPED = 10_000
#: The most websocket frames one payload may span (slow_link splits into 16-byte frames).
MAX_FRAMES_PER_PAYLOAD = 1_000_000
#: The ``make_emulator`` fixture: ``async with make_emulator(**changes) as emu``.
MakeEmulator = Callable[..., AbstractAsyncContextManager[GatewayEmulator]]
PROPERTIES = {"os": "linux", "browser": "conformance", "device": "conformance"}


class GatewayClient:
    """One websocket to the emulator, with payload decoding."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse, compress: str | None) -> None:
        self.ws = ws
        self.compress = compress
        self.frames = 0
        self.frames_per_payload: list[int] = []
        self._buffer = bytearray()
        self._inflater = zlib.decompressobj()
        self._zstd = zstandard.ZstdDecompressor().decompressobj()

    @classmethod
    async def connect(
        cls, http: aiohttp.ClientSession, url: str, *, compress: str | None = None, v: int | None = 10, path: str = "/"
    ) -> GatewayClient:
        query = {"encoding": "json"}
        if v is not None:
            query["v"] = str(v)
        if compress is not None:
            query["compress"] = compress
        ws = await http.ws_connect(url + path, params=query, max_msg_size=0)
        return cls(ws, compress)

    async def receive(self) -> dict[str, Any]:
        """The next payload; raises ``ConnectionError`` (with the close code) if the socket closed."""
        payload: dict[str, Any] = orjson.loads(await self.receive_raw())
        return payload

    async def receive_raw(self) -> bytes:
        """The next payload's bytes, decompressed but not parsed (``ConnectionError`` as
        :meth:`receive`)."""
        frames = 0
        for _ in range(MAX_FRAMES_PER_PAYLOAD):
            msg = await self.ws.receive(timeout=RECEIVE_TIMEOUT_S)
            if msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.ERROR):
                raise ConnectionError(msg.data if msg.type is aiohttp.WSMsgType.CLOSE else None)
            self.frames += 1
            frames += 1
            raw = self._decode(msg.data if isinstance(msg.data, bytes) else msg.data.encode())
            if raw is not None:
                self.frames_per_payload.append(frames)
                return raw
        raise AssertionError(f"no whole payload within {MAX_FRAMES_PER_PAYLOAD} frames")

    def _decode(self, data: bytes) -> bytes | None:
        if self.compress == "zlib-stream":
            self._buffer += data
            if not self._buffer.endswith(ZLIB_SUFFIX):
                return None
            raw = self._inflater.decompress(bytes(self._buffer))
            self._buffer.clear()
            return raw
        if self.compress == "zstd-stream":
            return self._zstd.decompress(data)  # type: ignore[no-any-return]
        return data

    async def until(self, op: int | None = None, t: str | None = None) -> dict[str, Any]:
        """The next payload with ``op`` (and ``t``), skipping others."""
        for _ in range(MAX_SKIPPED):
            payload = await self.receive()
            if (op is None or payload["op"] == op) and (t is None or payload["t"] == t):
                return payload
        raise AssertionError(f"no op={op} t={t} within {MAX_SKIPPED} payloads")

    async def dispatch(self, t: str) -> dict[str, Any]:
        return await self.until(0, t)

    async def send(self, payload: dict[str, Any] | bytes | str) -> None:
        if isinstance(payload, dict):
            await self.ws.send_str(orjson.dumps(payload).decode())
        elif isinstance(payload, bytes):
            await self.ws.send_bytes(payload)
        else:
            await self.ws.send_str(payload)

    async def heartbeat(self, seq: int | None = None) -> None:
        await self.send({"op": 1, "d": seq})

    async def identify(self, token: str = DEFAULT_TOKEN, intents: int = 513, **fields: Any) -> None:
        await self.send({"op": 2, "d": {"token": token, "intents": intents, "properties": PROPERTIES, **fields}})

    async def resume(self, session_id: str, seq: int, token: str = DEFAULT_TOKEN) -> None:
        await self.send({"op": 6, "d": {"token": token, "session_id": session_id, "seq": seq}})

    async def closed(self) -> int | None:
        """Read until the server closes; the close code (``None`` for a dropped link)."""
        for _ in range(MAX_SKIPPED):
            try:
                await self.receive()
            except ConnectionError as closed:
                return closed.args[0]  # type: ignore[no-any-return]
        raise AssertionError("the server did not close")

    async def close(self, code: int = 1000) -> None:
        await self.ws.close(code=code)


async def ready_client(
    http: aiohttp.ClientSession, url: str, *, compress: str | None = None, **identify: Any
) -> tuple[GatewayClient, dict[str, Any]]:
    """A client that got Hello, identified and received READY; returns (client, READY)."""
    client = await GatewayClient.connect(http, url, compress=compress)
    hello = await client.receive()
    assert hello["op"] == 10
    await client.identify(**identify)
    ready = await client.dispatch("READY")
    return client, ready



async def resumed_client(
    http: aiohttp.ClientSession,
    ready: dict[str, Any],
    seq: int | None = None,
    *,
    compress: str | None = None,
    max_payloads: int = MAX_SKIPPED,
) -> tuple[GatewayClient, list[dict[str, Any]]]:
    """Resume READY's session at ``resume_gateway_url``; returns (client, replayed
    dispatches up to and including RESUMED), reading at most ``max_payloads``."""
    client = await GatewayClient.connect(http, ready["d"]["resume_gateway_url"], compress=compress)
    assert (await client.receive())["op"] == 10
    await client.resume(ready["d"]["session_id"], ready["s"] if seq is None else seq)
    replayed = []
    for _ in range(max_payloads):
        payload = await client.receive()
        if payload["op"] == 0:
            replayed.append(payload)
            if payload["t"] == "RESUMED":
                return client, replayed
    raise AssertionError("no RESUMED")
