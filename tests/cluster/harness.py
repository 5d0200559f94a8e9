"""Members of a cluster as real OS processes (``rxgateway cluster run``), against one
emulator running in the test's process and one real Redis; the emulator's record is
the judge.

Example::

    async with Cluster(emu, redis_server.url, app, total=16) as cluster:
        a = await cluster.spawn()
        await cluster.wait_all_live()
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
import time
from dataclasses import dataclass, field
from typing import Any

from rxgateway.emulator import GatewayEmulator
from rxgateway.emulator.settings import DEFAULT_TOKEN

#: Cluster timings scaled for tests (the emulator's identify window agrees). The
#: window is scaled down, the margin is not: it absorbs the delay between a grant and
#: the Identify reaching the emulator (event-loop lag in a member, the emulator's own
#: lag), which does not shrink with the window. At 0.1 s a fresh-clone run of the
#: whole suite saw "bucket N again" violations at start-up (4 members, an emulator
#: and Redis on 2 loaded cores); at the library's own default, 0.25 s (5 % of
#: Discord's 5 s window), one fresh-clone run in six still did. 0.5 s doubles the
#: allowance for that lag, at the price of a slower start-up (a bucket's grants 0.9 s
#: apart instead of 0.65 s).
IDENTIFY_WINDOW = 0.4
IDENTIFY_MARGIN = 0.5
LEASE_TTL = 6.0


@dataclass
class MemberProcess:
    """One ``rxgateway cluster run`` process and the status lines it printed."""

    name: str
    process: asyncio.subprocess.Process
    lines: list[dict[str, Any]] = field(default_factory=list)
    stderr: list[str] = field(default_factory=list)
    readers: list[asyncio.Task[None]] = field(default_factory=list)

    @property
    def last(self) -> dict[str, Any] | None:
        return self.lines[-1] if self.lines else None

    @property
    def holds(self) -> list[int]:
        last = self.last
        return list(last["holds"]) if last else []

    @property
    def alive(self) -> bool:
        return self.process.returncode is None

    def active(self) -> int:
        last = self.last
        return int(last["states"].get("Active", 0)) if last else 0


class Cluster:
    """Starts, signals and stops member processes; knows what the emulator saw."""

    def __init__(
        self,
        emu: GatewayEmulator,
        redis_url: str,
        app: str,
        *,
        total: int,
        lease_ttl: float = LEASE_TTL,
        extra: tuple[str, ...] = (),
    ) -> None:
        self.emu = emu
        self.redis_url = redis_url
        self.app = app
        self.total = total
        self.lease_ttl = lease_ttl
        self.extra = extra
        self.members: list[MemberProcess] = []
        self._count = 0

    async def __aenter__(self) -> Cluster:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop_all()

    async def spawn(self) -> MemberProcess:
        """Start one member process."""
        self._count += 1
        name = f"m{self._count}"
        args = [
            sys.executable, "-m", "rxgateway", "cluster", "run",
            "--redis", self.redis_url, "--app", self.app, "--total", str(self.total),
            "--gateway-url", self.emu.url, "--api-url", self.emu.api_url,
            "--intents", "GUILDS,GUILD_MESSAGES",
            "--member-id", f"{name}-{os.getpid()}",
            "--lease-ttl", str(self.lease_ttl),
            "--identify-interval", str(IDENTIFY_WINDOW), "--identify-margin", str(IDENTIFY_MARGIN),
            "--status-every", "0.25", "--json", *self.extra,
        ]
        env = dict(os.environ, DISCORD_TOKEN=DEFAULT_TOKEN, PYTHONUNBUFFERED="1")
        process = await asyncio.create_subprocess_exec(
            *args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=env
        )
        member = MemberProcess(name, process)
        member.readers = [
            asyncio.create_task(self._read(member, process.stdout, json_lines=True)),
            asyncio.create_task(self._read(member, process.stderr, json_lines=False)),
        ]
        self.members.append(member)
        return member

    @staticmethod
    async def _read(member: MemberProcess, stream: asyncio.StreamReader | None, *, json_lines: bool) -> None:
        assert stream is not None
        while line := await stream.readline():
            text = line.decode(errors="replace").rstrip()
            if json_lines:
                try:
                    member.lines.append(json.loads(text))
                except ValueError:
                    member.stderr.append(text)
            else:
                member.stderr.append(text)

    def live(self) -> list[MemberProcess]:
        return [m for m in self.members if m.alive]

    def attached_shards(self) -> set[int]:
        """Shard numbers whose session at the emulator has a live connection."""
        return {s.shard.number for s in self.emu.state.sessions if s.connection is not None}

    def all_active(self) -> bool:
        """Every shard is held once, Active in its member, and attached at the emulator."""
        held: list[int] = []
        active = 0
        for member in self.live():
            held += member.holds
            active += member.active()
        return sorted(held) == list(range(self.total)) and active == self.total and len(self.attached_shards()) == self.total

    async def wait(self, predicate: Any, timeout: float, what: str) -> float:
        """Wait until ``predicate()``; returns the seconds it took."""
        start = time.monotonic()
        deadline = start + timeout
        while not predicate():
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out after {timeout} s waiting for {what}; {self.describe()}")
            await asyncio.sleep(0.05)
        return time.monotonic() - start

    async def wait_all_active(self, timeout: float = 60.0) -> float:
        return await self.wait(self.all_active, timeout, "every shard Active, held once")

    def describe(self) -> str:
        parts = []
        for m in self.members:
            last = m.last or {}
            parts.append(f"{m.name}(alive={m.alive}, holds={last.get('holds')}, states={last.get('states')}, "
                         f"counters={last.get('counters')}, err={m.stderr[-3:]})")
        return f"attached={sorted(self.attached_shards())}; " + "; ".join(parts)

    def identifies(self, since: float = 0.0) -> list[Any]:
        return [i for i in self.emu.record.identifies() if i.time >= since and i.accepted]

    def resumes(self, since: float = 0.0) -> list[Any]:
        return [r for r in self.emu.record.resumes() if r.time >= since and r.accepted]

    async def kill(self, member: MemberProcess) -> None:
        member.process.send_signal(signal.SIGKILL)
        await member.process.wait()

    async def terminate(self, member: MemberProcess, timeout: float = 30.0) -> int:
        member.process.send_signal(signal.SIGTERM)
        async with asyncio.timeout(timeout):
            code = await member.process.wait()
        await asyncio.gather(*member.readers, return_exceptions=True)
        return code

    async def stop_all(self) -> None:
        for member in self.members:
            if member.alive:
                member.process.send_signal(signal.SIGTERM)
        for member in self.members:
            try:
                async with asyncio.timeout(20):
                    await member.process.wait()
            except TimeoutError:
                member.process.kill()
                await member.process.wait()
            for reader in member.readers:
                reader.cancel()
            await asyncio.gather(*member.readers, return_exceptions=True)
