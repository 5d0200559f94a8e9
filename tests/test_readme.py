"""The README's python code blocks, run as a reader would run them, against an emulator.

Each ```python block of README.md is either run or visibly marked as a fragment: an
HTML comment ``<!-- fragment: ... -->`` on the line before it. A runnable block is
written to a file and run as a script (``DISCORD_TOKEN`` and the gateway and REST
URLs are the emulator's, given through the runner's common options), then a user
talks to it: a ``!join`` in a DM (where it raises), ``!ping`` and ``!join`` in a
guild. The test checks what the emulator saw: the pong over REST, the voice state
update on the guild's shard, and a clean close on SIGINT. pytest's summary says how
many blocks ran (passed) and how many are fragments (skipped).
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import sys
import time
from pathlib import Path

import pytest

from rxgateway.emulator import DEFAULT_TOKEN
from rxgateway.emulator.shapes import message
from rxgateway.protocol import shard_for_guild, snowflake_from_time_ms

from .examples_support import IDENTIFY_WINDOW, ROOT, emulator, guild_on_shard, sessions, user_says

README = ROOT / "README.md"
FRAGMENT = re.compile(r"^<!--\s*fragment\b.*-->\s*$")
#: Bound on every wait for an effect; loopback answers in milliseconds.
EFFECT_TIMEOUT = 15.0
#: The voice channel the README's bot joins.
VOICE_CHANNEL = 981346340044931074


def python_blocks(text: str) -> list[tuple[int, str, bool]]:
    """``(line number, code, is a fragment)`` for each ```python block of ``text``."""
    lines = text.splitlines()
    blocks = []
    index = 0
    while index < len(lines):
        if lines[index].strip() == "```python":
            start = index
            end = lines.index("```", start + 1)
            before = next((line for line in reversed(lines[:start]) if line.strip()), "")
            blocks.append((start + 1, "\n".join(lines[start + 1 : end]) + "\n", bool(FRAGMENT.match(before.strip()))))
            index = end
        index += 1
    return blocks


BLOCKS = python_blocks(README.read_text())


def test_the_readme_has_a_runnable_block_and_marks_the_rest() -> None:
    runnable = [line for line, _, fragment in BLOCKS if not fragment]
    assert runnable, "the README's example must run"
    # Every block is run or marked; the marker is a visible HTML comment, not a hidden rule.
    text = README.read_text()
    assert text.count("<!-- fragment") == sum(1 for _, _, fragment in BLOCKS if fragment)


@pytest.mark.timeout(60)
@pytest.mark.parametrize(
    ("line", "code", "fragment"),
    BLOCKS,
    ids=[f"line{line}-{'fragment' if fragment else 'run'}" for line, _, fragment in BLOCKS],
)
async def test_readme_block_answers_and_survives_a_failing_handler(
    line: int, code: str, fragment: bool, tmp_path: Path
) -> None:
    if fragment:
        pytest.skip(f"README line {line}: marked as a fragment")
    script = tmp_path / "bot.py"
    script.write_text(code)
    async with emulator(shards=2, max_concurrency=2) as emu:
        guild = guild_on_shard(emu, 1, 2)
        world = emu.state.world
        env = dict(os.environ, DISCORD_TOKEN=DEFAULT_TOKEN, PYTHONUNBUFFERED="1")
        process = await asyncio.create_subprocess_exec(
            sys.executable, str(script),
            "--gateway-url", emu.url, "--api-url", emu.api_url, "--identify-interval", str(IDENTIFY_WINDOW),
            env=env, cwd=tmp_path, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        try:
            await emu.wait_for(lambda: sessions(emu) == 2, timeout=30)
            # A DM "!join": no guild, so the handler raises. It must not kill "!join".
            now_ms = int(time.time() * 1000)
            dm = message(snowflake_from_time_ms(now_ms), 1_200_000_000_000_000_001, world.members(guild)[0], "!join", now_ms)
            emu.dispatch("MESSAGE_CREATE", dm)
            await asyncio.sleep(0.2)  # the failing handler has run by now (loopback)
            emu.dispatch("MESSAGE_CREATE", user_says(emu, guild, "!ping"))
            emu.dispatch("MESSAGE_CREATE", user_says(emu, guild, "!join"))
            await emu.wait_for(lambda: emu.messages_sent, timeout=EFFECT_TIMEOUT)
            joins = await emu.wait_for(lambda: [c for c in emu.record.commands if c.op == 4], timeout=EFFECT_TIMEOUT)
            assert process.returncode is None  # still running
            process.send_signal(signal.SIGINT)
            stdout, stderr = await asyncio.wait_for(process.communicate(), EFFECT_TIMEOUT)
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()

    log = stdout.decode() + stderr.decode()
    assert process.returncode == 0, log
    # REST: the pong, once, in the guild channel the "!ping" came from.
    assert [(m.channel_id, m.content) for m in emu.messages_sent] == [(guild.text_channels[0].id, "pong!")]
    # Gateway: the guild's "!join" still worked after the DM's failed, on the guild's shard.
    (join,) = joins
    assert join.data["guild_id"] == str(guild.id) and join.data["channel_id"] == str(VOICE_CHANNEL)
    assert join.shard is not None and join.shard.number == shard_for_guild(guild.id, 2)
    # The DM's failure was logged, with what failed; the token never was.
    assert "failed on MessageCreate" in log and "'!join'" in log
    assert DEFAULT_TOKEN not in log and DEFAULT_TOKEN.split(".")[0] not in log
    # SIGINT closed every connection with 1000.
    assert len(emu.record.connections) == 2
    assert all(c.close_received == 1000 for c in emu.record.connections)
    assert emu.violations == []
