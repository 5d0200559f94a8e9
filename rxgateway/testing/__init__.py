"""Test a Discord bot offline: a running emulator, and helpers to talk to the bot as
its users do and to read what it sent. For bots written with rxgateway, hikari or
discord.py.

The pytest plugin (:mod:`rxgateway.testing.plugin`, installed with rxgateway) gives the
fixtures ``gateway``, ``gateway_config``, ``discord_py_gateway`` and
``gateway_settings``; without pytest use :func:`running_gateway`.

Importing this package is cheap: the emulator is imported on first use of a name
(pytest loads the plugin in every run, also where no test uses it).

Example::

    from rxgateway.testing import running_gateway

    async with running_gateway() as gateway:
        ...                                   # start the bot with gateway.config()
        await gateway.say("!ping")
        await gateway.wait_for_message("pong!")
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .gateway import DEFAULT_INTENTS, TEST_SETTINGS, Gateway, NotSeenError, running_gateway
    from .libraries import wire_discord_py

__all__ = ["DEFAULT_INTENTS", "TEST_SETTINGS", "Gateway", "NotSeenError", "running_gateway", "wire_discord_py"]

#: Where each public name lives (imported on first use).
_HOMES = {
    "DEFAULT_INTENTS": ".gateway",
    "TEST_SETTINGS": ".gateway",
    "Gateway": ".gateway",
    "NotSeenError": ".gateway",
    "running_gateway": ".gateway",
    "wire_discord_py": ".libraries",
}


def __getattr__(name: str) -> Any:
    """Import a public name's module on first use (PEP 562)."""
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(home, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
