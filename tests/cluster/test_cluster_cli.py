"""``rxgateway cluster``: status as Redis has it, and one-line errors for the
mistakes a user can make (no token, a wrong URL, an unreachable Redis), never with
the Redis password in them."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from typing import Any

import pytest

from rxgateway import Config, Intents
from rxgateway.cluster.member import Member
from rxgateway.cluster.redis_queue import RedisQueue
from rxgateway.emulator import GatewayEmulator
from rxgateway.emulator.settings import DEFAULT_TOKEN
from rxgateway.machine.state import ShardState
from rxgateway.tools.redis_server import RedisServer, free_port

from .harness import IDENTIFY_MARGIN, IDENTIFY_WINDOW

PASSWORD = "cli-secret-pw"


def rxgateway(*args: str, token: str | None = DEFAULT_TOKEN, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "DISCORD_TOKEN"}
    if token is not None:
        env["DISCORD_TOKEN"] = token
    return subprocess.run(
        [sys.executable, "-m", "rxgateway", *args], capture_output=True, text=True, env=env, timeout=timeout
    )


async def test_status_shows_members_leases_sessions_and_the_budget(app: str) -> None:
    with RedisServer(password=PASSWORD) as server:
        async with GatewayEmulator(shards=2, max_concurrency=2, identify_window_s=IDENTIFY_WINDOW) as emu:
            queue = RedisQueue(server.url, app=app, identify_interval=IDENTIFY_WINDOW, margin=IDENTIFY_MARGIN)
            config = Config(DEFAULT_TOKEN, Intents.GUILDS, gateway_url=emu.url, api_url=emu.api_url, queue=queue)
            member = Member(config, server.url, total=2, app=app, member_id="only-one", lease_ttl=3.0)
            async with member:
                deadline = time.monotonic() + 30
                while not (len(member.shards) == 2 and all(s.state == ShardState.ACTIVE for s in member.shards.values())):
                    assert time.monotonic() < deadline, member
                    await asyncio.sleep(0.05)
                await member.config.session_store.flush()  # type: ignore[union-attr]
                done = await asyncio.to_thread(
                    rxgateway, "cluster", "status", "--redis", server.url, "--app", app, "--json"
                )
                text = await asyncio.to_thread(
                    rxgateway, "cluster", "status", "--redis", server.url, "--app", app
                )
            await queue.aclose()
    assert done.returncode == 0, done.stderr
    report: dict[str, Any] = json.loads(done.stdout)
    assert report["total"] == 2 and report["free"] == []
    assert report["members"]["only-one"]["shards"] == [0, 1]
    assert report["leases"] == {"0": "only-one", "1": "only-one"}
    assert set(report["sessions"]) == {"0", "1"}
    assert int(report["identify_budget"]["remaining"]) == int(report["identify_budget"]["total"]) - 2
    assert "only-one: 2 shards (0,1)" in text.stdout and "identify budget:" in text.stdout
    assert PASSWORD not in done.stdout + done.stderr + text.stdout + text.stderr


def test_run_without_a_token_says_so() -> None:
    done = rxgateway("cluster", "run", "--redis", "redis://127.0.0.1:1/0", token=None)
    assert done.returncode == 2 and "DISCORD_TOKEN" in done.stderr


def test_a_url_that_is_not_redis_is_refused_without_its_password() -> None:
    done = rxgateway("cluster", "status", "--redis", f"http://:{PASSWORD}@127.0.0.1:1/0")
    assert done.returncode == 2 and "redis://" in done.stderr and PASSWORD not in done.stderr


def test_an_unreachable_redis_is_one_line_without_its_password() -> None:
    url = f"redis://:{PASSWORD}@127.0.0.1:{free_port()}/0"
    started = time.monotonic()
    done = rxgateway("cluster", "status", "--redis", url)
    assert done.returncode == 1, done.stderr
    assert "cannot" in done.stderr and PASSWORD not in done.stderr and "***" in done.stderr
    assert "Traceback" not in done.stderr
    assert time.monotonic() - started < 30


def test_help_lists_run_and_status() -> None:
    done = rxgateway("cluster", "--help")
    assert done.returncode == 0 and "run" in done.stdout and "status" in done.stdout
