"""The driver's link (one websocket and its writer): commands it could not write are
handed back, never dropped; over a real loopback websocket to the emulator."""

from __future__ import annotations

import asyncio
import socket

import aiohttp
from aiohttp import web

from rxgateway.emulator import GatewayEmulator
from rxgateway.link import Link

HEARTBEAT = b'{"op":1,"d":null}'


def command(n: int) -> bytes:
    return b'{"op":3,"d":{"since":null,"activities":[],"status":"online","afk":false,"n":%d}}' % n


async def test_commands_handed_to_a_closed_link_come_back_in_order() -> None:
    async with GatewayEmulator(heartbeat_interval_ms=10_000) as emu, aiohttp.ClientSession() as http:
        ws = await http.ws_connect(emu.url + "/?v=10&encoding=json")
        await ws.receive()  # Hello
        link = Link(ws)
        await ws.close()  # the connection ends before the writer gets to them
        link.send(command(1), True)
        link.send(HEARTBEAT, False)  # not a user command: not handed back
        link.send(command(2), True)
        await link.finish()
        assert link.unsent() == [command(1), command(2)]
        assert link.unsent() == []  # handed back once


async def test_written_commands_are_not_handed_back() -> None:
    async with GatewayEmulator(heartbeat_interval_ms=10_000) as emu, aiohttp.ClientSession() as http:
        ws = await http.ws_connect(emu.url + "/?v=10&encoding=json")
        await ws.receive()  # Hello
        link = Link(ws)
        link.send(HEARTBEAT, False)
        await emu.wait_for(lambda: emu.record.connections and emu.record.connections[0].heartbeats)
        link.close(1000, "done")
        await link.finish()
        assert link.unsent() == []
        assert ws.closed


async def test_a_frame_sent_while_the_writer_is_idle_is_written_in_the_call() -> None:
    # The writer task is parked; send() writes at once (no pass of the event loop), so
    # the emulator receives the beat even though this test never yields to the writer.
    async with GatewayEmulator(heartbeat_interval_ms=10_000) as emu, aiohttp.ClientSession() as http:
        ws = await http.ws_connect(emu.url + "/?v=10&encoding=json")
        await ws.receive()  # Hello
        link = Link(ws)
        await asyncio.sleep(0)  # the writer starts and parks
        writer_steps_before = link._writer.get_stack()
        link.send(HEARTBEAT, False)
        assert writer_steps_before == link._writer.get_stack()
        assert ws._writer.transport.get_write_buffer_size() == 0  # handed to the kernel already
        await emu.wait_for(lambda: emu.record.connections and emu.record.connections[0].heartbeats)
        link.close(1000, "done")
        await link.finish()
        assert link.unsent() == []


async def test_frames_keep_their_order_when_the_socket_pushes_back() -> None:
    # A real websocket server on loopback that reads nothing until told: the client's
    # transport fills, a send has to wait for it to drain, and everything handed over
    # meanwhile goes after it, in order; nothing is lost.
    received: list[bytes] = []
    release = asyncio.Event()
    done = asyncio.Event()
    frames = [b'{"op":3,"d":{"n":%d,"pad":"%s"}}' % (n, b"x" * 3000) for n in range(300)]

    async def handler(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(max_msg_size=0)
        await ws.prepare(request)
        await release.wait()
        async for msg in ws:
            received.append(msg.data.encode() if isinstance(msg.data, str) else msg.data)
            if len(received) == len(frames):
                done.set()
        return ws

    app = web.Application()
    app.router.add_get("/", handler)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        async with aiohttp.ClientSession() as http:
            ws = await http.ws_connect(f"http://127.0.0.1:{port}/")
            sock = ws.get_extra_info("socket")
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
            ws._writer.transport.set_write_buffer_limits(high=4096)
            link = Link(ws)
            await asyncio.sleep(0)
            pushed_back = False
            for index, frame in enumerate(frames):
                link.send(frame, True)
                pushed_back = pushed_back or link._pending is not None
                if index % 50 == 49:
                    await asyncio.sleep(0)
            assert pushed_back, "the socket never pushed back: the test did not exercise the waiting send"
            release.set()
            async with asyncio.timeout(30):
                await done.wait()
            link.close(1000, "done")
            await link.finish()
            assert link.unsent() == []
        assert received == frames
    finally:
        await runner.cleanup()
