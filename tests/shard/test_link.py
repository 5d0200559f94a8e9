"""The driver's link (one websocket and its writer): commands it could not write are
handed back, never dropped; over a real loopback websocket to the emulator."""

from __future__ import annotations

import aiohttp

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
