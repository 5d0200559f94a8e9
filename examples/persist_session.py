"""Resume after a restart: save each shard's session to a file on the way out, and
resume from it on the next start instead of identifying (reference/twilight.md §2.14).

    DISCORD_TOKEN=... python examples/persist_session.py --gateway-url wss://gateway.discord.gg --seconds 10
    DISCORD_TOKEN=... python examples/persist_session.py --gateway-url wss://gateway.discord.gg --seconds 10
    python examples/persist_session.py       # both runs against one embedded emulator

How:

1. close every shard with ``CloseFrame.RESUME`` (not NORMAL, which ends the session);
2. wait until the shards have closed;
3. write each shard's ``session`` (id and last sequence) and ``resume_url`` to a JSON
   file, with the shard count they belong to (the file is written whole and renamed
   into place, readable by the owner only: with the token, a session id is a login);
4. on the next start, give each shard its saved ``session`` and ``resume_url`` through
   ``create_recommended(config, per_shard)``. The shard connects to the resume URL and
   sends Resume; the gateway replays what was sent meanwhile, then RESUMED. If the
   session is gone (op 9), the shard identifies as usual. Sessions saved for another
   shard count are not used.

Without ``--gateway-url`` the script runs twice against an emulator started here, and
while the bot is "down" between the runs, the emulator's users write a few messages,
which the second run receives as replays.

Entry points for tests: :func:`run` (one run; returns a :class:`RunReport`) and :func:`main`.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import orjson

from rxgateway import (
    DEFAULT_API_URL,
    CloseFrame,
    Config,
    InMemoryQueue,
    Intents,
    Session,
    ShardGroup,
    ShardId,
    create_recommended,
    ops,
)
from rxgateway.emulator import DEFAULT_TOKEN, GatewayEmulator
from rxgateway.events import MessageCreate, Ready, Resumed
from rxgateway.protocol import snowflake_from_time_ms
from rxgateway.queue import IDENTIFY_INTERVAL

log = logging.getLogger("persist_session")

INTENTS = Intents.GUILDS | Intents.GUILD_MESSAGES | Intents.MESSAGE_CONTENT
#: Where sessions are kept when ``--state-file`` is not given.
DEFAULT_STATE_FILE = Path("rxgateway-sessions.json")
#: The longest a start may take before the run gives up waiting for every shard.
READY_TIMEOUT = 60.0
EMBEDDED_SHARDS = 2
EMBEDDED_IDENTIFY_WINDOW = 0.5
#: Messages written by the emulator's users while the embedded bot is down.
EMBEDDED_MISSED_MESSAGES = 6


@dataclass(frozen=True)
class Options:
    token: str
    state_file: Path = DEFAULT_STATE_FILE
    gateway_url: str | None = None
    api_url: str = DEFAULT_API_URL
    #: How long to run once every shard is active, before saving and exiting.
    seconds: float = 5.0
    identify_interval: float | None = None


@dataclass
class RunReport:
    """What one run did."""

    #: Shard numbers that resumed a saved session, and those that identified.
    resumed: list[int] = field(default_factory=list)
    identified: list[int] = field(default_factory=list)
    #: Ids of the messages received, replays included, in order.
    messages: list[int] = field(default_factory=list)
    #: What was written to the state file at the end.
    saved: dict[str, Any] = field(default_factory=dict)


# -- the state file -------------------------------------------------------------------


def load_sessions(path: Path) -> tuple[int, dict[int, tuple[Session, str]]] | None:
    """``(shard count, {shard number: (session, resume_url)})`` from ``path``, or
    ``None`` when there is no usable file (missing or damaged: start afresh)."""
    try:
        state = orjson.loads(path.read_bytes())
        total = int(state["shards"])
        sessions = {
            int(number): (Session.from_dict(saved["session"]), str(saved["resume_url"]))
            for number, saved in state["sessions"].items()
        }
    except FileNotFoundError:
        return None
    except (ValueError, KeyError, TypeError) as exc:
        log.warning("ignoring %s: %s", path, exc)
        return None
    return total, sessions


def save_sessions(path: Path, shards: ShardGroup) -> dict[str, Any]:
    """Write the resumable sessions of ``shards`` to ``path`` (atomically, mode 0600)."""
    state: dict[str, Any] = {"shards": next(iter(shards)).id.total, "sessions": {}}
    for shard in shards:
        if shard.session is not None and shard.resume_url is not None:
            state["sessions"][str(shard.id.number)] = {
                "session": shard.session.to_dict(),
                "resume_url": shard.resume_url,
            }
    partial = path.with_name(path.name + ".partial")
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as out:
        out.write(orjson.dumps(state, option=orjson.OPT_INDENT_2))
    os.replace(partial, path)
    return state


# -- one run --------------------------------------------------------------------------


async def run(options: Options, *, stop: asyncio.Event | None = None) -> RunReport:
    """Start (resuming what ``options.state_file`` holds), run ``options.seconds`` once
    every shard is active (or until ``stop``), close with RESUME and save the sessions."""
    saved = load_sessions(options.state_file)
    interval = IDENTIFY_INTERVAL if options.identify_interval is None else options.identify_interval
    queue = InMemoryQueue(identify_interval=interval)
    config = Config(options.token, INTENTS, api_url=options.api_url, queue=queue)
    if options.gateway_url is not None:
        config = config.replace(gateway_url=options.gateway_url)

    def per_shard(shard_id: ShardId, shard_config: Config) -> Config:
        if saved is None or saved[0] != shard_id.total or shard_id.number not in saved[1]:
            return shard_config
        session, resume_url = saved[1][shard_id.number]
        log.info("shard %s: resuming its saved session from sequence %d", shard_id, session.sequence)
        return shard_config.replace(session=session, resume_url=resume_url)  # keeps the shared queue

    shards = await create_recommended(config, per_shard)
    report = RunReport()
    subscriptions = [
        shards.pipe(ops.of_type(Ready)).subscribe(lambda e: report.identified.append(e.shard.number)),
        shards.pipe(ops.of_type(Resumed)).subscribe(lambda e: report.resumed.append(e.shard.number)),
        shards.pipe(ops.of_type(MessageCreate)).subscribe(lambda e: report.messages.append(e.id)),
    ]
    await shards.start()
    try:
        await shards.ready(timeout=READY_TIMEOUT)
        log.info("active: resumed %s, identified %s", sorted(report.resumed), sorted(report.identified))
        try:
            await asyncio.wait_for((stop or asyncio.Event()).wait(), options.seconds)
        except TimeoutError:
            pass
    finally:
        shards.close(CloseFrame.RESUME)  # keep the sessions
        await shards.closed()
        for subscription in subscriptions:
            subscription.dispose()
    report.saved = save_sessions(options.state_file, shards)
    log.info("saved %d session(s) to %s", len(report.saved["sessions"]), options.state_file)
    return report


# -- the embedded emulator ------------------------------------------------------------


def write_while_down(emu: GatewayEmulator, count: int) -> list[int]:
    """Messages from users of the emulated world, to every guild in turn; their ids."""
    world = emu.state.world
    ids = []
    for index in range(count):
        guild = world.guilds[index % len(world.guilds)]
        author = world.members(guild)[0]
        message_id = snowflake_from_time_ms(int(time.time() * 1000), increment=index)
        emu.dispatch(
            "MESSAGE_CREATE",
            {
                "id": str(message_id),
                "channel_id": str(guild.text_channels[0].id),
                "guild_id": str(guild.id),
                "author": {"id": str(author.id), "username": author.username, "discriminator": "0"},
                "content": f"message {index} while the bot was away",
                "timestamp": "2025-07-01T12:00:00.000000+00:00",
                "edited_timestamp": None,
                "tts": False,
                "mention_everyone": False,
                "mentions": [],
                "mention_roles": [],
                "attachments": [],
                "embeds": [],
                "pinned": False,
                "type": 0,
            },
        )
        ids.append(message_id)
    return ids


async def run_embedded(options: Options) -> int:
    async with GatewayEmulator(
        shards=EMBEDDED_SHARDS, max_concurrency=EMBEDDED_SHARDS, identify_window_s=EMBEDDED_IDENTIFY_WINDOW
    ) as emu:
        options = replace(
            options,
            gateway_url=emu.url,
            api_url=emu.api_url,
            identify_interval=options.identify_interval or EMBEDDED_IDENTIFY_WINDOW,
        )
        options.state_file.unlink(missing_ok=True)
        first = await run(options)
        print(f"run 1: identified shards {sorted(first.identified)}, saved {options.state_file}", flush=True)
        missed = write_while_down(emu, EMBEDDED_MISSED_MESSAGES)
        print(f"while the bot was down, users wrote {len(missed)} messages", flush=True)
        second = await run(options)
        replayed = [m for m in second.messages if m in set(missed)]
        print(
            f"run 2: resumed shards {sorted(second.resumed)}, identified {sorted(second.identified)}, "
            f"replayed {len(replayed)}/{len(missed)} missed messages",
            flush=True,
        )
        ok = not second.identified and sorted(replayed) == sorted(missed) and not emu.violations
        return 0 if ok else 1


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--gateway-url", help="the gateway to connect to (default: start an embedded emulator)")
    parser.add_argument("--api-url", help=f"the REST base (default {DEFAULT_API_URL})")
    parser.add_argument(
        "--state-file",
        type=Path,
        help=f"where sessions are kept (default {DEFAULT_STATE_FILE}; embedded: a temporary file)",
    )
    parser.add_argument("--seconds", type=float, help="how long to run once active (default 5; embedded 1)")
    parser.add_argument("--identify-interval", type=float, help="seconds between identifies per bucket (default 5)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)-7s %(name)s: %(message)s")
    token = os.environ.get("DISCORD_TOKEN")
    options = Options(
        token=token or DEFAULT_TOKEN,
        state_file=args.state_file or DEFAULT_STATE_FILE,
        gateway_url=args.gateway_url,
        api_url=args.api_url or DEFAULT_API_URL,
        seconds=args.seconds if args.seconds is not None else (1.0 if args.gateway_url is None else 5.0),
        identify_interval=args.identify_interval,
    )
    if args.gateway_url is None:
        if args.state_file is not None:
            return asyncio.run(run_embedded(options))
        with tempfile.TemporaryDirectory() as directory:
            return asyncio.run(run_embedded(replace(options, state_file=Path(directory) / DEFAULT_STATE_FILE.name)))
    if not token:
        print("set DISCORD_TOKEN to the bot's token", file=sys.stderr)
        return 2
    report = asyncio.run(run(options))
    resumed, identified = sorted(report.resumed), sorted(report.identified)
    print(f"resumed {resumed}, identified {identified}, messages received {len(report.messages)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
