"""Pointing other libraries' bots at a :class:`~rxgateway.testing.Gateway`.

* **hikari** needs no help: ``hikari.GatewayBot(gateway.token, rest_url=gateway.api_url)``
  reads the gateway URL and the shard count from the emulator's ``GET /gateway/bot``.
* **discord.py** never asks where the gateway is: a ``Client`` connects to the class
  attribute ``discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY`` and sends REST to
  ``discord.http.Route.BASE``. :func:`wire_discord_py` sets both for the length of a
  ``with`` block and puts the old values back (the ``discord_py_gateway`` fixture does
  it for a whole test).

Example::

    with wire_discord_py(gateway):
        client = discord.Client(intents=intents)
        ...
        await client.start(gateway.token)
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Protocol

__all__ = ["wire_discord_py"]


class Addresses(Protocol):
    """Where a gateway is: what :func:`wire_discord_py` needs of a
    :class:`~rxgateway.testing.Gateway` (or of a ``GatewayEmulator``)."""

    @property
    def url(self) -> str:
        """The gateway URL, ``ws://127.0.0.1:PORT``."""
        ...

    @property
    def api_url(self) -> str:
        """The REST base, ``http://127.0.0.1:PORT/api/v10``."""
        ...


@contextmanager
def wire_discord_py(gateway: Addresses) -> Iterator[None]:
    """Point every discord.py ``Client`` at ``gateway`` inside the block: its gateway
    (``DiscordWebSocket.DEFAULT_GATEWAY``, also where it goes back to after an
    Invalid Session) and its REST base (``Route.BASE``). Restores both on exit, even
    if the block raises. Raises ``ImportError`` with the install line if discord.py
    is missing."""
    try:
        discord_gateway = importlib.import_module("discord.gateway")
        discord_http = importlib.import_module("discord.http")
        yarl = importlib.import_module("yarl")
    except ImportError as exc:
        raise ImportError("wire_discord_py needs discord.py: pip install discord.py") from exc
    socket_class = discord_gateway.DiscordWebSocket
    route_class = discord_http.Route
    saved_gateway, saved_base = socket_class.DEFAULT_GATEWAY, route_class.BASE
    socket_class.DEFAULT_GATEWAY = yarl.URL(gateway.url + "/")
    route_class.BASE = gateway.api_url
    try:
        yield
    finally:
        socket_class.DEFAULT_GATEWAY = saved_gateway
        route_class.BASE = saved_base
