"""REST endpoints (GATEWAY.md §1.1, §12.1)."""

from __future__ import annotations

import aiohttp
import pytest

from rxgateway.emulator import DEFAULT_TOKEN, GatewayEmulator

from .client import MakeEmulator, ready_client, resumed_client

AUTH = {"Authorization": f"Bot {DEFAULT_TOKEN}"}


@pytest.mark.parametrize("slash", ["", "/"])
async def test_gateway_needs_no_auth_and_names_the_websocket(emu: GatewayEmulator, http: aiohttp.ClientSession, slash: str) -> None:
    async with http.get(f"{emu.api_url}/gateway{slash}") as response:
        assert response.status == 200
        assert response.headers["Content-Type"] == "application/json"
        assert await response.json() == {"url": emu.url}
    assert emu.url.startswith("ws://127.0.0.1:")


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bot wrong"}, {"Authorization": DEFAULT_TOKEN}])
async def test_gateway_bot_without_a_valid_bot_token_is_401(
    emu: GatewayEmulator, http: aiohttp.ClientSession, headers: dict[str, str]
) -> None:
    async with http.get(f"{emu.api_url}/gateway/bot", headers=headers) as response:
        assert response.status == 401
        assert response.headers["Content-Type"] == "application/json"
        assert (await response.json())["message"] == "401: Unauthorized"


async def test_gateway_bot_counts_identifies_not_resumes(make_emulator: MakeEmulator, http: aiohttp.ClientSession) -> None:
    async with make_emulator(shards=3, max_concurrency=2, session_start_total=10, session_start_window_s=600) as emu:
        async def limits() -> dict[str, int]:
            async with http.get(f"{emu.api_url}/gateway/bot/", headers=AUTH) as response:
                assert response.headers["Content-Type"] == "application/json"
                body = await response.json()
                assert body["url"] == emu.url and body["shards"] == 3
                return body["session_start_limit"]  # type: ignore[no-any-return]

        before = await limits()
        assert before == {"total": 10, "remaining": 10, "reset_after": 600_000, "max_concurrency": 2}
        client, ready = await ready_client(http, emu.url)
        after = await limits()
        assert after["remaining"] == 9
        assert 0 < after["reset_after"] <= 600_000
        await client.close(4000)
        resumer, _ = await resumed_client(http, ready)
        assert (await limits())["remaining"] == 9
        await resumer.close()


async def test_users_me_and_application_me_answer_for_the_token(emu: GatewayEmulator, http: aiohttp.ClientSession) -> None:
    async with http.get(f"{emu.api_url}/users/@me", headers=AUTH) as response:
        me = await response.json()
    async with http.get(f"{emu.api_url}/oauth2/applications/@me", headers=AUTH) as response:
        app = await response.json()
    assert me["bot"] is True and me["id"] == app["id"]
    assert app["flags"] == emu.config.application_flags


@pytest.mark.parametrize("slash", ["", "/"])
async def test_create_message_is_recorded_answered_and_dispatched(
    emu: GatewayEmulator, http: aiohttp.ClientSession, slash: str
) -> None:
    guild = emu.state.world.guilds[0]
    channel = guild.text_channels[0]
    client, _ = await ready_client(http, emu.url, intents=513)
    url = f"{emu.api_url}/channels/{channel.id}/messages{slash}"
    async with http.post(url, json={"content": "pong", "nonce": "n1"}, headers=AUTH) as response:
        assert response.status == 200
        assert response.headers["Content-Type"] == "application/json"
        message = await response.json()
    assert message["content"] == "pong" and message["channel_id"] == str(channel.id)
    assert message["author"]["bot"] is True and message["nonce"] == "n1"
    (sent,) = emu.messages_sent
    assert (sent.channel_id, sent.content) == (channel.id, "pong")
    echoed = await client.dispatch("MESSAGE_CREATE")
    assert echoed["d"]["id"] == message["id"]
    assert echoed["d"]["content"] == "pong"  # the bot's own message keeps its content (§8.3)
    await client.close()


async def test_create_message_needs_auth(emu: GatewayEmulator, http: aiohttp.ClientSession) -> None:
    async with http.post(f"{emu.api_url}/channels/1/messages", json={"content": "x"}) as response:
        assert response.status == 401
    assert emu.messages_sent == []
