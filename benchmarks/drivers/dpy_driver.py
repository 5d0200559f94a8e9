"""discord.py's clients (runs in the peers' venv, under ``python -O``).

``discord.py``  raw: a ``discord.Client`` whose parsers for every dispatch but READY,
                RESUMED and GUILD_CREATE are swapped for a counter (the websocket loop,
                decompression, ``orjson`` decode and its per-event bookkeeping remain);
                typed / filtered: ``on_message`` reading ``message.content`` and
                ``message.author.id``, with the caches discord.py lets you turn off
                turned off (``max_messages=None``, ``MemberCacheFlags.none()``, no
                chunking). discord.py cannot skip events before building their models.

Pointing it at the emulator (peers.md §3): ``DiscordWebSocket.DEFAULT_GATEWAY`` is the
emulator's URL and ``Route.BASE`` its REST base (``login()`` reads ``/users/@me``).
Compression is chosen at import time by discord.py; the driver pins it: zstd is its
default when ``zstandard`` is installed, zlib-stream through a small decompression
context of our own, none by opening the socket with ``compress=False`` (and
``"compress": false`` in Identify).

    python -O benchmarks/drivers/dpy_driver.py --client discord.py --level raw --url ... --control ...
"""

from __future__ import annotations

import asyncio
import logging
import sys
import zlib

import discord
import yarl
from _common import ALL_INTENTS, TOKEN, SETTLE_S, Meter, emit, parser
from discord import gateway, http, utils

#: The dispatches discord.py itself needs to become ready; every other parser counts.
KEEP = frozenset({"READY", "RESUMED", "GUILD_CREATE"})
SYNC_FLUSH = b"\x00\x00\xff\xff"


class ZlibStream:
    """A zlib-stream decompression context with the interface discord.py expects
    (``COMPRESSION_TYPE`` and ``decompress(bytes) -> str | None``)."""

    COMPRESSION_TYPE = "zlib-stream"

    def __init__(self) -> None:
        self._inflate = zlib.decompressobj().decompress
        self._pending = bytearray()

    def decompress(self, data: bytes, /) -> str | None:
        if not self._pending and data[-4:] == SYNC_FLUSH:
            return self._inflate(data).decode()
        self._pending += data
        if self._pending[-4:] != SYNC_FLUSH:
            return None
        whole, self._pending = self._pending, bytearray()
        return self._inflate(whole).decode()


def pin(args) -> None:
    gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(args.url)
    http.Route.BASE = args.api_url
    if args.compression == "zlib-stream":
        utils._ActiveDecompressionContext = ZlibStream
    elif args.compression == "zstd-stream":
        if utils._ActiveDecompressionContext.COMPRESSION_TYPE != "zstd-stream":
            raise SystemExit("discord.py found no zstd library: install discord.py[speed]")
    else:
        from_client = gateway.DiscordWebSocket.from_client.__func__

        async def plain(cls, client, **kwargs):
            kwargs["compress"] = False
            return await from_client(cls, client, **kwargs)

        gateway.DiscordWebSocket.from_client = classmethod(plain)
        # discord.py also asks for payload compression in every Identify (``"compress":
        # true``), which a gateway honours when there is no transport compression: the
        # large payloads would then come zlib-compressed. Ask for plain JSON instead.
        send_as_json = gateway.DiscordWebSocket.send_as_json

        async def plain_identify(self, data):
            if data.get("op") == self.IDENTIFY:
                data["d"]["compress"] = False
            return await send_as_json(self, data)

        gateway.DiscordWebSocket.send_as_json = plain_identify


async def throughput(args) -> None:
    pin(args)
    meter = Meter()
    hit = meter.hit
    client = discord.Client(
        intents=discord.Intents._from_value(ALL_INTENTS),
        max_messages=None,
        chunk_guilds_at_startup=False,
        member_cache_flags=discord.MemberCacheFlags.none(),
        guild_ready_timeout=0.2,
    )
    wanted = None
    if args.level != "raw":

        @client.event
        async def on_message(message: discord.Message) -> None:
            message.content, message.author.id
            hit()

        wanted = lambda by_type: by_type.get("MESSAGE_CREATE", 0)  # noqa: E731
    async with client:
        await client.login(args.token or TOKEN)
        if args.level == "raw":
            parsers = client._connection.parsers
            for name in list(parsers):
                if name not in KEEP:
                    parsers[name] = lambda data: hit()
        runner = asyncio.get_running_loop().create_task(client.connect(reconnect=False))
        await asyncio.wait_for(client.wait_until_ready(), 30)
        await asyncio.sleep(SETTLE_S)
        await meter.run_burst(args, wanted)
        await client.close()
        try:
            await asyncio.wait_for(runner, 10)
        except Exception:  # noqa: BLE001 - closing; only the figures matter
            pass
    emit(meter.result(args, discord_py=discord.__version__))


def main() -> None:
    args = parser(__doc__, ["discord.py"]).parse_args()
    logging.basicConfig(level=logging.WARNING)
    if args.mode != "throughput":
        raise SystemExit("the discord.py driver measures throughput only")
    asyncio.run(throughput(args))


if __name__ == "__main__":
    main()
    sys.exit(0)
