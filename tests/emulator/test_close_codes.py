"""Every close code of GATEWAY.md §4.2 / §12.5, 12.8: the exact code, and the violation
recorded for it."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
import pytest

from rxgateway.emulator import DEFAULT_TOKEN, GatewayEmulator, ViolationKind
from rxgateway.protocol import ALL_INTENTS, Intents

from .client import PROPERTIES, GatewayClient, MakeEmulator, ready_client

V = ViolationKind


async def refused(client: GatewayClient, emu: GatewayEmulator, code: int, kind: ViolationKind) -> None:
    """The server closes ``client`` with ``code`` and records one ``kind`` violation."""
    assert await client.closed() == code
    await emu.wait_for(lambda: emu.record.connections[-1].closed_at is not None)
    assert [(v.kind, v.close_code) for v in emu.violations] == [(kind, code)]
    assert emu.record.connections[-1].close_sent == code


async def hello(http: aiohttp.ClientSession, emu: GatewayEmulator, **connect: Any) -> GatewayClient:
    client = await GatewayClient.connect(http, emu.url, **connect)
    assert (await client.receive())["op"] == 10
    return client


def identify(**fields: Any) -> dict[str, Any]:
    d = {"token": DEFAULT_TOKEN, "intents": 513, "properties": PROPERTIES}
    d.update(fields)
    return {"op": 2, "d": {k: v for k, v in d.items() if v is not ...}}


# 4002 -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "frame",
    ["not json", "[1, 2]", '"a string"', "{\"op\": 1, \"d\": null", b"\xff\xfe binary garbage"],
    ids=["text", "array", "string", "truncated", "binary"],
)
async def test_undecodable_or_not_an_object_is_4002(emu: GatewayEmulator, http: aiohttp.ClientSession, frame: Any) -> None:
    client = await hello(http, emu)
    await client.send(frame)
    await refused(client, emu, 4002, V.DECODE_ERROR)


async def test_payload_over_4096_bytes_is_4002(emu: GatewayEmulator, http: aiohttp.ClientSession) -> None:
    client = await hello(http, emu)
    await client.send({"op": 1, "d": None, "pad": "x" * 4096})
    await refused(client, emu, 4002, V.OVERSIZED_PAYLOAD)


async def test_payload_of_exactly_4096_bytes_is_accepted(emu: GatewayEmulator, http: aiohttp.ClientSession) -> None:
    client = await hello(http, emu)
    frame = '{"op":1,"d":null,"pad":"' + "x" * (4096 - 26) + '"}'
    assert len(frame) == 4096
    await client.send(frame)
    assert (await client.receive())["op"] == 11
    assert emu.violations == []


# 4001 -----------------------------------------------------------------------------


@pytest.mark.parametrize("op", [0, 5, 7, 9, 10, 11, 12, 30, 32, 42, 44, -1])
async def test_unknown_opcode_is_4001(emu: GatewayEmulator, http: aiohttp.ClientSession, op: int) -> None:
    client, _ = await ready_client(http, emu.url)
    await client.send({"op": op, "d": None})
    await refused(client, emu, 4001, V.UNKNOWN_OPCODE)


@pytest.mark.parametrize("op", [None, "1", 1.5, True])
async def test_op_that_is_not_an_integer_is_4001(emu: GatewayEmulator, http: aiohttp.ClientSession, op: Any) -> None:
    client = await hello(http, emu)
    await client.send({"op": op, "d": None} if op is not None else {"d": None})
    await refused(client, emu, 4001, V.UNKNOWN_OPCODE)


GUILD = "{guild}"
INVALID_D: list[tuple[int, Any]] = [
    (1, "7"),
    (1, {"seq": 1}),
    (3, None),
    (3, {"since": None, "activities": [], "status": "busy", "afk": False}),
    (3, {"since": None, "activities": [{"type": 0}], "status": "online", "afk": False}),
    (3, {"since": None, "activities": [], "status": "online"}),
    (4, {"guild_id": GUILD, "channel_id": None, "self_mute": False}),
    (4, {"guild_id": "not-a-snowflake", "channel_id": None, "self_mute": False, "self_deaf": False}),
    (8, {"guild_id": GUILD}),
    (8, {"guild_id": GUILD, "query": "", "limit": 0, "user_ids": ["1"]}),
    (8, {"guild_id": GUILD, "query": "a"}),
    (8, {"guild_id": [GUILD], "query": "", "limit": 0}),
    (8, {"guild_id": GUILD, "user_ids": ["x"]}),
    (31, {"guild_ids": GUILD}),
    (31, {}),
    (43, {"guild_id": GUILD, "fields": ["topic"]}),
    (43, {"guild_id": GUILD}),
]


@pytest.mark.parametrize(("op", "d"), INVALID_D)
async def test_invalid_d_for_a_known_op_is_4001(emu: GatewayEmulator, http: aiohttp.ClientSession, op: int, d: Any) -> None:
    client, _ = await ready_client(http, emu.url)
    guild = str(emu.state.world.guilds[0].id)
    if isinstance(d, dict):
        d = {k: ([guild] if v == [GUILD] else guild if v == GUILD else v) for k, v in d.items()}
    await client.send({"op": op, "d": d})
    await refused(client, emu, 4001, V.INVALID_PAYLOAD)


@pytest.mark.parametrize(
    "payload",
    [
        {"op": 2, "d": None},
        identify(token=...),
        identify(token=123),
        identify(properties=...),
        identify(large_threshold=49),
        identify(large_threshold=251),
        identify(compress="yes"),
        identify(presence={"status": "online"}),
        {"op": 6, "d": {"token": DEFAULT_TOKEN, "session_id": "x"}},
        {"op": 6, "d": {"token": DEFAULT_TOKEN, "session_id": "x", "seq": -1}},
        {"op": 6, "d": {"token": DEFAULT_TOKEN, "session_id": 5, "seq": 1}},
    ],
)
async def test_invalid_identify_or_resume_is_4001(
    emu: GatewayEmulator, http: aiohttp.ClientSession, payload: dict[str, Any]
) -> None:
    client = await hello(http, emu)
    await client.send(payload)
    await refused(client, emu, 4001, V.INVALID_PAYLOAD)


# 4003 -----------------------------------------------------------------------------


@pytest.mark.parametrize("op", [3, 4, 8, 31, 43, 0, 11, 5])
async def test_anything_but_heartbeat_identify_resume_before_identify_is_4003(
    emu: GatewayEmulator, http: aiohttp.ClientSession, op: int
) -> None:
    client = await hello(http, emu)
    await client.send({"op": op, "d": {}})
    await refused(client, emu, 4003, V.NOT_AUTHENTICATED)


async def test_heartbeats_before_identify_are_fine(emu: GatewayEmulator, http: aiohttp.ClientSession) -> None:
    client = await hello(http, emu)
    for _ in range(3):
        await client.heartbeat()
        assert (await client.receive())["op"] == 11
    await client.identify()
    assert (await client.dispatch("READY"))["s"] == 1
    assert emu.violations == []


# 4004 -----------------------------------------------------------------------------


async def test_unknown_token_is_4004(emu: GatewayEmulator, http: aiohttp.ClientSession) -> None:
    client = await hello(http, emu)
    await client.identify(token="not-a-token")
    await refused(client, emu, 4004, V.AUTHENTICATION_FAILED)
    assert [i.accepted for i in emu.record.connections[-1].identifies] == [False]


async def test_unknown_token_in_resume_is_4004(emu: GatewayEmulator, http: aiohttp.ClientSession) -> None:
    client = await hello(http, emu)
    await client.resume("whatever", 1, token="not-a-token")
    await refused(client, emu, 4004, V.AUTHENTICATION_FAILED)


@pytest.mark.parametrize("prefix", ["", "Bot "])
async def test_token_is_accepted_bare_or_with_bot_prefix(
    emu: GatewayEmulator, http: aiohttp.ClientSession, prefix: str
) -> None:
    client, _ = await ready_client(http, emu.url, token=prefix + DEFAULT_TOKEN)
    (record,) = emu.record.connections[-1].identifies
    assert record.accepted and record.token_prefixed == bool(prefix)
    await client.close()


# 4005 -----------------------------------------------------------------------------


@pytest.mark.parametrize("second", ["identify", "resume"])
async def test_second_identify_or_resume_on_a_connection_is_4005(
    emu: GatewayEmulator, http: aiohttp.ClientSession, second: str
) -> None:
    client, ready = await ready_client(http, emu.url)
    if second == "identify":
        await client.identify()
    else:
        await client.resume(ready["d"]["session_id"], 1)
    await refused(client, emu, 4005, V.ALREADY_AUTHENTICATED)


# 4007 -----------------------------------------------------------------------------


async def test_resume_with_a_sequence_beyond_the_last_sent_is_4007(emu: GatewayEmulator, http: aiohttp.ClientSession) -> None:
    client, ready = await ready_client(http, emu.url)
    await client.close(4000)
    last = emu.state.sessions.get(ready["d"]["session_id"], 0).seq  # type: ignore[union-attr]
    resumer = await GatewayClient.connect(http, ready["d"]["resume_gateway_url"])
    await resumer.receive()
    await resumer.resume(ready["d"]["session_id"], last + 1)
    await refused(resumer, emu, 4007, V.INVALID_SEQUENCE)


# 4008 -----------------------------------------------------------------------------


async def test_more_than_the_payload_limit_in_the_window_is_4008(make_emulator: MakeEmulator, http: aiohttp.ClientSession) -> None:
    async with make_emulator(payload_limit=10, payload_window_s=60) as emu:
        client = await hello(http, emu)
        for _ in range(10):
            await client.heartbeat()
        for _ in range(10):
            assert (await client.receive())["op"] == 11
        await client.heartbeat()
        await refused(client, emu, 4008, V.RATE_LIMITED)
        assert emu.record.connections[-1].max_payloads_in(60) == 11  # the refused one is recorded too


async def test_default_limit_is_120_payloads_per_60_s_heartbeats_included(emu: GatewayEmulator, http: aiohttp.ClientSession) -> None:
    client = await hello(http, emu)
    for _ in range(120):
        await client.heartbeat()
    for _ in range(120):
        assert (await client.receive())["op"] == 11
    await client.heartbeat()
    await refused(client, emu, 4008, V.RATE_LIMITED)


async def test_payload_window_slides(make_emulator: MakeEmulator, http: aiohttp.ClientSession) -> None:
    async with make_emulator(payload_limit=3, payload_window_s=0.3) as emu:
        client = await hello(http, emu)
        for _ in range(3):
            await client.heartbeat()
        for _ in range(3):
            await client.receive()
        await asyncio.sleep(0.35)
        await client.heartbeat()
        assert (await client.receive())["op"] == 11
        assert emu.violations == []


# 4010 -----------------------------------------------------------------------------


@pytest.mark.parametrize("shard", [[0], [0, 1, 2], [1, 1], [2, 2], [-1, 2], [0, 0], ["0", "1"], [0, True], "0,1", None])
async def test_invalid_shard_is_4010(emu: GatewayEmulator, http: aiohttp.ClientSession, shard: Any) -> None:
    client = await hello(http, emu)
    await client.send(identify(shard=shard))
    await refused(client, emu, 4010, V.INVALID_SHARD)


async def test_shard_count_not_a_multiple_of_the_large_bot_factor_is_4010(
    make_emulator: MakeEmulator, http: aiohttp.ClientSession
) -> None:
    async with make_emulator(shard_multiple=16) as emu:
        client = await hello(http, emu)
        await client.send(identify(shard=[0, 8]))
        await refused(client, emu, 4010, V.INVALID_SHARD)
        ok, _ = await ready_client(http, emu.url, shard=[3, 32])
        await ok.close()


# 4011 -----------------------------------------------------------------------------


async def test_too_many_guilds_on_one_shard_is_4011(make_emulator: MakeEmulator, http: aiohttp.ClientSession) -> None:
    async with make_emulator(guilds=6, max_guilds_per_shard=5) as emu:
        client = await hello(http, emu)
        await client.identify()
        await refused(client, emu, 4011, V.SHARDING_REQUIRED)
        sharded, _ = await ready_client(http, emu.url, shard=[0, 3])  # 6 guilds over 3 shards fit
        await sharded.close()


# 4012 -----------------------------------------------------------------------------


@pytest.mark.parametrize("v", [8, 6, 11, None, "ten"])
async def test_unsupported_version_is_4012(emu: GatewayEmulator, http: aiohttp.ClientSession, v: Any) -> None:
    ws = await http.ws_connect(emu.url, params={"encoding": "json", **({} if v is None else {"v": str(v)})})
    msg = await ws.receive()
    assert msg.type is aiohttp.WSMsgType.CLOSE and msg.data == 4012
    await ws.close()
    await emu.wait_for(lambda: emu.violations)
    assert [v.kind for v in emu.violations] == [V.INVALID_API_VERSION]


@pytest.mark.parametrize("v", [9, 10])
async def test_supported_versions_get_hello(emu: GatewayEmulator, http: aiohttp.ClientSession, v: int) -> None:
    client = await GatewayClient.connect(http, emu.url, v=v)
    assert (await client.receive())["op"] == 10
    await client.close()


# 4013 / 4014 ------------------------------------------------------------------------


@pytest.mark.parametrize("intents", [1 << 17, 1 << 18, 1 << 19, 1 << 22, 1 << 23, 1 << 26, -1, "513", 5.0, None, ...])
async def test_invalid_intents_are_4013(emu: GatewayEmulator, http: aiohttp.ClientSession, intents: Any) -> None:
    client = await hello(http, emu)
    await client.send(identify(intents=intents))
    await refused(client, emu, 4013, V.INVALID_INTENTS)


async def test_every_documented_intent_is_valid(emu: GatewayEmulator, http: aiohttp.ClientSession) -> None:
    client, _ = await ready_client(http, emu.url, intents=ALL_INTENTS)
    assert emu.violations == []
    await client.close()


@pytest.mark.parametrize("intent", [Intents.GUILD_MEMBERS, Intents.GUILD_PRESENCES, Intents.MESSAGE_CONTENT])
async def test_privileged_intent_without_the_app_flag_is_4014(
    make_emulator: MakeEmulator, http: aiohttp.ClientSession, intent: Intents
) -> None:
    async with make_emulator(application_flags=0) as emu:
        client = await hello(http, emu)
        await client.identify(intents=int(Intents.GUILDS | intent))
        await refused(client, emu, 4014, V.DISALLOWED_INTENTS)


async def test_limited_app_flags_allow_privileged_intents(make_emulator: MakeEmulator, http: aiohttp.ClientSession) -> None:
    limited = (1 << 13) | (1 << 15) | (1 << 19)  # the three _LIMITED flags (§3.5)
    async with make_emulator(application_flags=limited) as emu:
        client, ready = await ready_client(http, emu.url, intents=ALL_INTENTS)
        assert ready["d"]["application"]["flags"] == limited
        await client.close()
