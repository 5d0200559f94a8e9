"""The REST endpoints a gateway client (and a small bot) needs (GATEWAY.md §1.1).

* ``GET /api/v10/gateway`` — no auth: ``{"url": "ws://127.0.0.1:PORT"}``;
* ``GET /api/v10/gateway/bot`` — ``Authorization: Bot <token>``: url, recommended
  shards and ``session_start_limit``;
* ``GET /api/v10/users/@me`` and ``GET /api/v10/oauth2/applications/@me`` — what
  discord.py's ``login()`` asks for;
* ``POST /api/v10/channels/{id}/messages`` — records the message (``emu.messages_sent``),
  answers a message object, and dispatches its MESSAGE_CREATE to the bot's shards;
* any other path under ``/api/v10`` — ``404 {"message": "404: Not Found", "code": 0}``.

Every request under ``/api/v10`` is recorded (``emu.record.rest_calls``: method, path,
query, JSON body, status; never the ``Authorization`` header), so a test can read what
a bot asked for, the calls the emulator does not implement included.

Every path also answers with a trailing slash. Errors are ``401 {"message", "code"}``.
Responses carry ``Content-Type: application/json`` exactly (discord.py compares it).

Example::

    async with session.get(f"{emu.api_url}/gateway/bot", headers={"Authorization": f"Bot {token}"}) as r:
        limits = (await r.json())["session_start_limit"]
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from aiohttp import web

from ..protocol import snowflake_from_time_ms
from . import shapes
from .accounts import BOT_PREFIX, BotAccount
from .dispatch import OutgoingDispatch
from .gateway_state import GatewayState
from .journal import RestCall, SentMessage

API_PREFIX = "/api/v10"
#: An aiohttp request handler (what a middleware wraps).
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
#: Discord's answer to a missing or wrong token.
UNAUTHORIZED = {"message": "401: Unauthorized", "code": 0}
#: Discord's answer to a route it does not know (here: one the emulator does not implement).
NOT_FOUND = {"message": "404: Not Found", "code": 0}
#: Methods the catch-all route answers.
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
#: Exactly this, with no charset: discord.py compares the header verbatim (peers.md §3).
JSON_CONTENT_TYPE = "application/json"


def json_response(body: Any, status: int = 200) -> web.Response:
    """``body`` as JSON with ``Content-Type: application/json`` (no charset)."""
    return web.Response(body=orjson.dumps(body), status=status, content_type=JSON_CONTENT_TYPE)


def add_routes(app: web.Application, path: str, method: str, handler: Any) -> None:
    """Route ``path`` and ``path/`` to ``handler``."""
    app.router.add_route(method, path, handler)
    app.router.add_route(method, path + "/", handler)


class RestApi:
    """The REST handlers of one emulator."""

    def __init__(self, state: GatewayState) -> None:
        self._state = state

    def install(self, app: web.Application) -> None:
        add_routes(app, f"{API_PREFIX}/gateway", "GET", self.gateway)
        add_routes(app, f"{API_PREFIX}/gateway/bot", "GET", self.gateway_bot)
        add_routes(app, f"{API_PREFIX}/users/@me", "GET", self.current_user)
        add_routes(app, f"{API_PREFIX}/oauth2/applications/@me", "GET", self.current_application)
        add_routes(app, f"{API_PREFIX}/channels/{{channel_id:\\d+}}/messages", "POST", self.create_message)
        for method in METHODS:
            app.router.add_route(method, f"{API_PREFIX}/{{tail:.*}}", self.not_found)
        app.middlewares.append(self._record)

    @web.middleware
    async def _record(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        """Record every request under ``/api/v10`` (see :class:`~.journal.RestCall`)."""
        if not request.path.startswith(API_PREFIX + "/"):
            return await handler(request)
        body: Any = None
        if request.can_read_body:
            try:
                body = orjson.loads(await request.read())
            except orjson.JSONDecodeError:
                body = None
        response = await handler(request)
        state = self._state
        path = request.path[len(API_PREFIX) :]
        state.record.rest_calls.append(
            RestCall(state.clock(), request.method, path, dict(request.query), body, response.status)
        )
        return response

    async def not_found(self, request: web.Request) -> web.Response:
        """Any route the emulator does not implement: 404, as Discord answers an unknown one."""
        return json_response(NOT_FOUND, 404)

    def _account(self, request: web.Request) -> BotAccount | None:
        header = request.headers.get("Authorization", "")
        return self._state.accounts.find(header[len(BOT_PREFIX) :]) if header.startswith(BOT_PREFIX) else None

    async def gateway(self, request: web.Request) -> web.Response:
        return json_response({"url": self._state.gateway_url})

    async def gateway_bot(self, request: web.Request) -> web.Response:
        account = self._account(request)
        if account is None:
            return json_response(UNAUTHORIZED, 401)
        state = self._state
        now = state.clock()
        return json_response(
            {
                "url": state.gateway_url,
                "shards": state.config.shards,
                "session_start_limit": {
                    "total": account.budget.total,
                    "remaining": account.budget.remaining(now),
                    "reset_after": account.budget.reset_after_ms(now),
                    "max_concurrency": state.config.max_concurrency,
                },
            }
        )

    async def current_user(self, request: web.Request) -> web.Response:
        account = self._account(request)
        if account is None:
            return json_response(UNAUTHORIZED, 401)
        return json_response({**shapes.user(account.user), "verified": True, "flags": 0, "mfa_enabled": False})

    async def current_application(self, request: web.Request) -> web.Response:
        account = self._account(request)
        if account is None:
            return json_response(UNAUTHORIZED, 401)
        app_id = str(account.user.id)
        return json_response(
            {
                "id": app_id,
                "name": account.user.username,
                "icon": None,
                "description": "",
                "bot_public": True,
                "bot_require_code_grant": False,
                "verify_key": "0" * 64,
                "flags": account.application_flags,
                "team": None,
                "owner": {"id": app_id, "username": "owner", "discriminator": "0", "global_name": None, "avatar": None},
            }
        )

    async def create_message(self, request: web.Request) -> web.Response:
        account = self._account(request)
        if account is None:
            return json_response(UNAUTHORIZED, 401)
        try:
            body = orjson.loads(await request.read())
        except orjson.JSONDecodeError:
            return json_response({"message": "400: Bad Request", "code": 50109}, 400)
        if not isinstance(body, dict):
            return json_response({"message": "400: Bad Request", "code": 50109}, 400)
        state = self._state
        channel_id = int(request.match_info["channel_id"])
        content = str(body.get("content") or "")
        state.record.messages.append(SentMessage(state.clock(), channel_id, content, body))
        channel = state.world.channels.get(channel_id)
        now_ms = time.time_ns() // 1_000_000
        message = shapes.message(
            snowflake_from_time_ms(now_ms), channel_id, account.user, content, now_ms,
            None if channel is None else channel.guild_id,
        )  # fmt: skip
        if "nonce" in body:
            message["nonce"] = body["nonce"]
        if channel is not None:
            state.sessions.route(OutgoingDispatch.build("MESSAGE_CREATE", message))
        return json_response(message)
