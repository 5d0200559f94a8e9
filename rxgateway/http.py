"""The one REST call a gateway client needs: ``GET /gateway/bot`` (GATEWAY.md §1.1).

Example::

    info = await get_gateway_bot(config.token, api_url=emulator.api_url)
    info.shards, info.session_start_limit.max_concurrency
"""

from __future__ import annotations

import asyncio
import logging
import random
from dataclasses import dataclass
from typing import Any

import aiohttp

from .config import DEFAULT_API_URL
from .errors import HTTPError, UnauthorizedError

log = logging.getLogger("rxgateway.http")

#: Attempts before giving up on 5xx answers and timeouts (a startup that dies on one
#: failed GET /gateway/bot is a known complaint: hikari#1132).
HTTP_ATTEMPTS = 5
#: Per-request timeout in seconds.
HTTP_TIMEOUT = 10.0
#: First retry delay in seconds; doubles each attempt, with jitter.
HTTP_RETRY_BASE = 0.5


@dataclass(frozen=True, slots=True)
class SessionStartLimit:
    """The identify budget (GATEWAY.md §1.1). ``reset_after`` is in seconds."""

    total: int
    remaining: int
    reset_after: float
    max_concurrency: int


@dataclass(frozen=True, slots=True)
class GatewayBot:
    """The answer of ``GET /gateway/bot``."""

    url: str
    shards: int
    session_start_limit: SessionStartLimit

    @classmethod
    def from_json(cls, data: Any) -> GatewayBot:
        """Validate and convert the JSON answer."""
        try:
            limit = data["session_start_limit"]
            return cls(
                url=str(data["url"]),
                shards=int(data["shards"]),
                session_start_limit=SessionStartLimit(
                    total=int(limit["total"]),
                    remaining=int(limit["remaining"]),
                    reset_after=int(limit["reset_after"]) / 1000.0,
                    max_concurrency=int(limit["max_concurrency"]),
                ),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise HTTPError(f"GET /gateway/bot answered an unexpected shape: {exc!r}") from exc


def _auth(token: str) -> str:
    token = token.strip()
    return token if token.startswith("Bot ") else "Bot " + token


async def get_gateway_bot(
    token: str,
    *,
    api_url: str = DEFAULT_API_URL,
    session: aiohttp.ClientSession | None = None,
    attempts: int = HTTP_ATTEMPTS,
) -> GatewayBot:
    """Fetch the recommended shard count, gateway URL and identify budget.

    Retries 5xx answers, 429 and timeouts with exponential backoff; raises
    :class:`~rxgateway.errors.UnauthorizedError` at once on 401 (the token is never
    part of the message).
    """
    own = session is None
    http = session or aiohttp.ClientSession()
    url = api_url.rstrip("/") + "/gateway/bot"
    headers = {"Authorization": _auth(token), "User-Agent": "DiscordBot (rxgateway, 0.1)"}
    last: BaseException | None = None
    try:
        for attempt in range(attempts):
            if attempt:
                await asyncio.sleep(HTTP_RETRY_BASE * 2 ** (attempt - 1) * (0.5 + random.random() / 2))
            try:
                async with http.get(url, headers=headers, timeout=aiohttp.ClientTimeout(total=HTTP_TIMEOUT)) as resp:
                    if resp.status == 401:
                        raise UnauthorizedError("GET /gateway/bot: 401 Unauthorized (is the token right?)", 401)
                    if resp.status == 429 or resp.status >= 500:
                        last = HTTPError(f"GET /gateway/bot: HTTP {resp.status}", resp.status)
                        log.warning("%s, retrying", last)
                        continue
                    if resp.status != 200:
                        raise HTTPError(f"GET /gateway/bot: HTTP {resp.status}", resp.status)
                    return GatewayBot.from_json(await resp.json(content_type=None))
            except (aiohttp.ClientConnectionError, asyncio.TimeoutError) as exc:
                last = exc
                log.warning("GET /gateway/bot failed (%r), retrying", exc)
        raise HTTPError(f"GET /gateway/bot failed after {attempts} attempts: {last!r}") from last
    finally:
        if own:
            await http.close()
