"""The pytest plugin of rxgateway: fixtures to test a bot offline against the emulator.

Installed with rxgateway (entry point ``pytest11``), so every project that has
rxgateway has these fixtures. Loading it registers one marker and the fixtures, nothing
more: the emulator is imported and started only by a test that asks for a fixture.

Fixtures (they need pytest-asyncio, as any async fixture does):

``gateway``
    a :class:`~rxgateway.testing.Gateway`: a running emulator on a free
    ``127.0.0.1`` port, stopped after the test;
``gateway_config``
    ``gateway.config()``: a :class:`~rxgateway.Config` pointed at it (guilds, guild
    messages and message content);
``discord_py_gateway``
    ``gateway``, with discord.py pointed at it for the test
    (:func:`~rxgateway.testing.wire_discord_py`);
``gateway_settings``
    the emulator settings for ``gateway`` (``{}``: the test-sized defaults of
    :data:`~rxgateway.testing.TEST_SETTINGS`); override it in a
    ``conftest.py`` for a whole directory.

The marker ``@pytest.mark.rxgateway(**settings)`` changes the settings of one test,
e.g. ``@pytest.mark.rxgateway(shards=2, heartbeat_interval_ms=500)``.

Example (a test file; pytest-asyncio in auto mode)::

    async def test_ping(gateway, gateway_config):
        async with my_bot(gateway_config):
            await gateway.say("!ping")
            assert (await gateway.wait_for_message("pong!")).channel_id == gateway.channel().id
"""

from __future__ import annotations

import functools
import importlib.util
from collections.abc import AsyncIterator, Callable, Iterator
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from ..config import Config
    from .gateway import Gateway

__all__ = ["MARKER", "discord_py_gateway", "gateway", "gateway_config", "gateway_settings", "pytest_configure"]

#: The marker that changes the emulator settings of one test.
MARKER = "rxgateway"
#: The failure of a fixture used without pytest-asyncio.
NEEDS_ASYNCIO = "rxgateway's gateway fixtures are async: install pytest-asyncio (pip install pytest-asyncio)"


def pytest_configure(config: pytest.Config) -> None:
    """Register the ``rxgateway`` marker."""
    config.addinivalue_line(
        "markers",
        f"{MARKER}(**settings): emulator settings (EmulatorConfig fields) of the rxgateway `gateway` fixture",
    )


@pytest.fixture
def gateway_settings() -> dict[str, Any]:
    """Emulator settings for the ``gateway`` fixture, over the test-sized defaults
    (``{}``). Override this fixture in a ``conftest.py`` to change a directory's."""
    return {}


def _settings(request: pytest.FixtureRequest, base: dict[str, Any]) -> dict[str, Any]:
    settings = dict(base)
    for marker in reversed(list(request.node.iter_markers(MARKER))):  # closest marker wins
        if marker.args:
            raise pytest.UsageError(f"@pytest.mark.{MARKER} takes keyword settings only, got {marker.args!r}")
        settings.update(marker.kwargs)
    return settings


def _async_fixture(function: Callable[..., AsyncIterator[Gateway]]) -> Any:
    """``function`` as an async fixture of pytest-asyncio (whatever its mode); without
    pytest-asyncio, a fixture that fails the test saying what to install."""
    if importlib.util.find_spec("pytest_asyncio") is not None:
        import pytest_asyncio

        return pytest_asyncio.fixture(function)

    @functools.wraps(function)
    def missing(*args: Any, **kwargs: Any) -> None:
        pytest.fail(NEEDS_ASYNCIO, pytrace=False)

    return pytest.fixture(missing)


@_async_fixture
async def gateway(request: pytest.FixtureRequest, gateway_settings: dict[str, Any]) -> AsyncIterator[Gateway]:
    """A running emulator (:class:`~rxgateway.testing.Gateway`) on a free loopback
    port, with the test-sized settings, ``gateway_settings`` and the ``rxgateway``
    marker's; stopped after the test."""
    from .gateway import running_gateway

    async with running_gateway(**_settings(request, gateway_settings)) as running:
        yield running


@pytest.fixture
def gateway_config(gateway: Gateway) -> Config:
    """``gateway.config()``: a :class:`~rxgateway.Config` pointed at the ``gateway``
    fixture's emulator, with its test token and intents GUILDS | GUILD_MESSAGES |
    MESSAGE_CONTENT."""
    return gateway.config()


@pytest.fixture
def discord_py_gateway(gateway: Gateway) -> Iterator[Gateway]:
    """The ``gateway`` fixture with discord.py pointed at it for the test (its
    ``DEFAULT_GATEWAY`` and ``Route.BASE``, restored afterwards)."""
    from .libraries import wire_discord_py

    with wire_discord_py(gateway):
        yield gateway
