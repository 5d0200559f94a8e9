"""The plugin as a user meets it: installed by its ``pytest11`` entry point, loaded in a
pytest run of its own (``pytester``, in a subprocess, so the entry point is really
read), free for tests that do not use it, and its fixtures working in a project
written as a user would write one: the bot and tests the how-to page shows."""

from __future__ import annotations

import importlib.metadata
import re
from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

ROOT = Path(__file__).resolve().parents[2]
#: The how-to page whose code blocks with a ``title="file.py"`` are a user's project.
PAGE = ROOT / "docs" / "how-to" / "test-a-bot.md"
TITLED_BLOCK = re.compile(r'^```python title="(?P<name>[\w.]+\.py)"\n(?P<code>.*?)^```$', re.M | re.S)

#: The flagship bot the page's worked example tests.
FLAGSHIP = ROOT / "examples" / "ping_bot.py"

#: Runs first (files are collected in name order): nothing asked for a fixture yet,
#: and a failed wait as a user sees it.
FIRST_TESTS = """
import sys

from ping_bot import INTENTS, parser, setup


def test_loading_the_plugin_imported_no_emulator():
    assert "rxgateway.emulator.server" not in sys.modules
    assert "rxgateway.testing.gateway" not in sys.modules


async def test_a_failed_wait_says_what_happened(gateway):
    async with gateway.run(setup, INTENTS, parser=parser()):
        await gateway.say("!pong")
        await gateway.wait_for_message("pong!", timeout=0.2)
"""


def page_files() -> dict[str, str]:
    """The files the how-to page shows, by name."""
    files = {m["name"]: m["code"] for m in TITLED_BLOCK.finditer(PAGE.read_text(encoding="utf-8"))}
    assert {"test_ping_bot.py", "test_hikari_bot.py", "test_discord_py_bot.py"} <= set(files)
    return {"ping_bot.py": FLAGSHIP.read_text(encoding="utf-8"), **files}


def test_the_entry_point_names_the_plugin_module() -> None:
    (entry,) = [e for e in importlib.metadata.entry_points(group="pytest11") if e.name == "rxgateway"]
    assert entry.value == "rxgateway.testing.plugin"


def test_the_how_to_pages_project_passes_its_tests(pytester: pytest.Pytester) -> None:
    """The page's tests of the flagship bot (``examples/ping_bot.py``) and its hikari and
    discord.py bots, copied into a fresh directory and run by a pytest that finds the
    plugin by its entry point only."""
    pytester.makeini("[pytest]\nasyncio_mode = auto\nasyncio_default_fixture_loop_scope = function\n")
    for name, code in page_files().items():
        pytester.path.joinpath(name).write_text(code, encoding="utf-8")
    pytester.makepyfile(test_a_first=FIRST_TESTS)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--strict-markers", "-v", timeout=120)
    result.assert_outcomes(passed=7, failed=1)
    result.stdout.fnmatch_lines(
        [
            "*test_a_failed_wait_says_what_happened FAILED*",
            "*NotSeenError: within 0.2 s: message 'pong!' x1 not sent; the bot sent nothing*",
        ]
    )
    assert "emulator.token" not in result.stdout.str()  # the test token is never shown


def test_the_fixtures_are_listed_with_their_docstrings(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\nasyncio_default_fixture_loop_scope = function\n")
    pytester.makepyfile(test_nothing="def test_nothing():\n    pass\n")
    fixtures = pytester.runpytest("--fixtures", "-p", "no:cacheprovider")  # in-process: quicker
    fixtures.stdout.fnmatch_lines(["*fixtures defined from rxgateway.testing.plugin*"])
    for name in ("gateway --", "gateway_config --", "discord_py_gateway --", "gateway_settings --"):
        fixtures.stdout.fnmatch_lines([f"{name}*"])


def test_the_marker_is_registered(pytestconfig: pytest.Config) -> None:
    # This very run loaded the plugin by its entry point too (--strict-markers safe).
    assert any(line.startswith("rxgateway(**settings):") for line in pytestconfig.getini("markers"))
