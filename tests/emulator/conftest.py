"""Fixtures of the emulator conformance suite: a fast emulator factory and an HTTP session."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from rxgateway.emulator import GatewayEmulator

from .client import MakeEmulator

#: Test-sized timings: heartbeats every second (a test that never beats has 1.5 s),
#: no identify window unless a test sets one, and short delays after op 7 / op 9.
FAST = {
    "heartbeat_interval_ms": 1000,
    "identify_window_s": 0.0,
    "reconnect_close_delay_s": 0.1,
    "invalid_session_close_delay_s": 0.1,
    "guilds": 6,
}


@pytest.fixture
def make_emulator() -> MakeEmulator:
    """``async with make_emulator(**changes) as emu``: the FAST settings plus ``changes``."""

    def make(**changes: Any) -> GatewayEmulator:
        return GatewayEmulator(**{**FAST, **changes})

    return make


@pytest.fixture
async def emu(make_emulator: MakeEmulator) -> AsyncIterator[GatewayEmulator]:
    async with make_emulator() as emulator:
        yield emulator


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session
