"""Helpers for the example and notebook tests: load an example script as a module,
start a test-sized emulator, and say things in its world as one of its members."""

from __future__ import annotations

import importlib.util
import itertools
import sys
import time
from pathlib import Path
from types import ModuleType
from typing import Any

from rxgateway.emulator import GatewayEmulator
from rxgateway.emulator.shapes import message
from rxgateway.emulator.world import Guild
from rxgateway.protocol import shard_for_guild, snowflake_from_time_ms

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
NOTEBOOKS = ROOT / "notebooks"

#: Test-sized windows; the examples are told the same identify window.
IDENTIFY_WINDOW = 0.2
HEARTBEAT_MS = 500

_increments = itertools.count()


def load_example(name: str) -> ModuleType:
    """``examples/<name>.py`` as a module (loaded once per test session)."""
    module_name = f"rxgateway_example_{name}"
    module = sys.modules.get(module_name)
    if module is not None:
        return module
    spec = importlib.util.spec_from_file_location(module_name, EXAMPLES / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module  # dataclasses look their module up while building
    spec.loader.exec_module(module)
    return module


def emulator(**changes: Any) -> GatewayEmulator:
    """An emulator with fast heartbeats and a short identify window."""
    settings: dict[str, Any] = {
        "heartbeat_interval_ms": HEARTBEAT_MS,
        "identify_window_s": IDENTIFY_WINDOW,
        "guilds": 6,
    }
    settings.update(changes)
    return GatewayEmulator(**settings)


def guild_on_shard(emu: GatewayEmulator, number: int, total: int) -> Guild:
    """A guild of the emulated world whose events go to shard ``number`` of ``total``."""
    for guild in emu.state.world.guilds:
        if shard_for_guild(guild.id, total) == number:
            return guild
    raise LookupError(f"no guild of the world is on shard {number} of {total}")


def user_says(emu: GatewayEmulator, guild: Guild, content: str, *, message_id: int | None = None) -> dict[str, Any]:
    """The MESSAGE_CREATE ``d`` of a member of ``guild`` saying ``content`` in its first
    text channel, shaped as the emulator's own traffic is."""
    author = emu.state.world.members(guild)[0]
    now_ms = int(time.time() * 1000)
    if message_id is None:
        message_id = snowflake_from_time_ms(now_ms, increment=next(_increments) % 4096)
    return message(message_id, guild.text_channels[0].id, author, content, now_ms, guild.id)


def sessions(emu: GatewayEmulator) -> int:
    """Open connections that have a session (identified or resumed)."""
    return sum(1 for conn in emu.connections if conn.session_id is not None)
