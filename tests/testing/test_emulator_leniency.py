"""The emulator accepts what Discord accepts: the payloads hikari 2.7 and discord.py 2.7
send (copied here field for field from their Identify, presence and heartbeat code)
are served, and what GATEWAY.md does not describe is noted in ``emu.notes`` rather
than closed with 4001. Shapes GATEWAY.md does describe stay refused."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest

from rxgateway.emulator import ViolationKind
from rxgateway.emulator.rules import Refusal, parse_presence
from rxgateway.testing import Gateway
from tests.emulator.client import GatewayClient

#: hikari's Identify (``hikari/impl/shard.py``): ``capabilities``, and a presence with the
#: legacy ``game`` key (``null`` without an activity, else ``{name, state, type, url}``).
HIKARI_IDENTIFY: dict[str, Any] = {
    "compress": False,
    "large_threshold": 250,
    "properties": {"os": "Linux 64bit", "browser": "hikari (2.7.0, aiohttp 3.14)", "device": "hikari 2.7.0"},
    "shard": [0, 1],
    "intents": 33281,
    "capabilities": 0,
    "presence": {"since": None, "afk": False, "game": None, "status": "online"},
}
#: discord.py's Identify (``discord/gateway.py``) with an activity and no status.
DISCORD_PY_IDENTIFY: dict[str, Any] = {
    "properties": {"os": "linux", "browser": "discord.py", "device": "discord.py"},
    # discord.py also sends "compress": true (payload compression, tested with the
    # emulator's compression); left out so this plain client reads READY.
    "large_threshold": 250,
    "presence": {"status": None, "game": {"type": 0, "name": "tests"}, "since": 0, "afk": False},
    "intents": 33281,
}
HIKARI_GAME = {"name": "tests", "state": None, "type": 3, "url": None}


async def identified(gateway: Gateway, http: aiohttp.ClientSession, fields: dict[str, Any]) -> GatewayClient:
    """A client that sent Identify ``fields`` and a heartbeat, and got READY and the ACK."""
    client = await GatewayClient.connect(http, gateway.url)
    assert (await client.receive())["op"] == 10
    await client.identify(**fields)
    await client.dispatch("READY")
    await client.heartbeat(1)
    await client.until(op=11)
    return client


@pytest.mark.parametrize(
    ("fields", "notes"),
    [
        (HIKARI_IDENTIFY, ["presence uses the legacy 'game' key; read as its activities"]),
        (
            {**HIKARI_IDENTIFY, "presence": {**HIKARI_IDENTIFY["presence"], "game": HIKARI_GAME}},
            ["presence uses the legacy 'game' key; read as its activities"],
        ),
        (
            DISCORD_PY_IDENTIFY,
            ["presence uses the legacy 'game' key; read as its activities", "presence status is null; read as 'online'"],
        ),
    ],
    ids=["hikari", "hikari_activity", "discord_py_activity"],
)
async def test_library_identify_is_served_and_noted(gateway: Gateway, fields: dict[str, Any], notes: list[str]) -> None:
    async with aiohttp.ClientSession() as http:
        client = await identified(gateway, http, fields)
        (session,) = gateway.emulator.state.sessions
        await client.close()
        async with http.get(f"{gateway.emulator.http_url}/_emulator/record") as answer:
            shown = (await answer.json())["notes"]  # the control API shows them too
    assert [n.detail for n in gateway.notes] == notes == [n["detail"] for n in shown]
    assert {n["op"] for n in shown} == {2}
    assert all(n.op == 2 and n.connection_id == 1 for n in gateway.notes)
    assert session.presence is not None
    assert session.presence["status"] == "online"
    game = fields["presence"]["game"]
    assert session.presence["activities"] == ([] if game is None else [game])
    gateway.assert_no_violations()


@pytest.mark.parametrize(
    ("presence", "note"),
    [
        ({"since": None, "afk": False, "game": HIKARI_GAME, "status": "idle"}, "legacy 'game' key"),  # hikari
        ({"activities": [{"type": 0, "name": "x"}], "afk": False, "since": 0.0, "status": None}, "since 0.0"),  # dpy
        ({"since": None, "afk": False, "status": "online"}, "no 'activities'"),
        ({"since": None, "activities": [], "game": HIKARI_GAME, "status": "online", "afk": False}, "'game' ignored"),
    ],
    ids=["hikari", "discord_py", "no_activities", "game_and_activities"],
)
async def test_library_presence_update_is_accepted_and_noted(
    gateway: Gateway, presence: dict[str, Any], note: str
) -> None:
    async with aiohttp.ClientSession() as http:
        client = await identified(gateway, http, {"intents": 513})
        await client.send({"op": 3, "d": presence})
        command = await gateway.wait_for_command(3)
        await client.heartbeat(2)
        await client.until(op=11)  # still open: not closed with 4001
        await client.close()
    assert isinstance(command.data["activities"], list) and isinstance(command.data["since"], (int, type(None)))
    assert any(note in n.detail and n.op == 3 for n in gateway.notes), gateway.notes
    gateway.assert_no_violations()


@pytest.mark.parametrize(
    "presence",
    [
        {"since": None, "afk": False, "game": {"type": 0}, "status": "online"},  # a game without a name
        {"since": None, "afk": False, "game": "chess", "status": "online"},
        {"since": 1.5, "afk": False, "activities": [], "status": "online"},
        {"since": -1.0, "afk": False, "activities": [], "status": "online"},
        {"since": None, "afk": False, "activities": None, "status": "online"},
        {"since": None, "afk": False, "game": None, "status": "busy"},
        {"since": None, "game": None, "status": "online"},  # no afk
    ],
)
async def test_what_gateway_md_describes_otherwise_is_still_refused(gateway: Gateway, presence: dict[str, Any]) -> None:
    with pytest.raises(Refusal) as refused:
        parse_presence(presence)
    assert refused.value.code == 4001 and refused.value.kind is ViolationKind.INVALID_PAYLOAD
    async with aiohttp.ClientSession() as http:
        client = await identified(gateway, http, {"intents": 513})
        await client.send({"op": 3, "d": presence})
        assert await client.closed() == 4001
    assert [v.kind for v in gateway.violations] == [ViolationKind.INVALID_PAYLOAD]
