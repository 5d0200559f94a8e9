"""A bot as a user writes it, with its sessions in a file: run twice, the second run
resumes every shard. Used by test_shard_sessions.py, which runs it as a separate
process against an emulator in the test process.

    python restart_script.py GATEWAY_URL SESSIONS_PATH TOTAL

It prints one JSON line when every shard is Active, then runs until a line arrives on
stdin (the "shutdown signal"): it closes the shards with CloseFrame.RESUME and prints,
per shard, the dispatch sequences it saw and whether the shard resumed.
"""

from __future__ import annotations

import asyncio
import json
import sys

from rxgateway.config import Config
from rxgateway.emulator import DEFAULT_TOKEN
from rxgateway.events.base import Dispatch, Event
from rxgateway.group import create_iterator
from rxgateway.protocol import CloseFrame, Intents
from rxgateway.queue import InMemoryQueue
from rxgateway.store import FileSessionStore


async def main(url: str, path: str, total: int) -> None:
    config = Config(
        DEFAULT_TOKEN, Intents.all(), gateway_url=url,
        queue=InMemoryQueue(identify_interval=0.2),  # the test emulator's identify window
        session_store=FileSessionStore(path),
    )  # fmt: skip
    group = create_iterator(range(total), total, config)
    seen: dict[int, list[int]] = {n: [] for n in range(total)}

    def on_event(event: Event) -> None:
        if isinstance(event, Dispatch) and event.sequence is not None:
            seen[event.shard.number].append(event.sequence)

    group.subscribe(on_event)
    await group.start()
    await group.ready(timeout=20)
    print(json.dumps({"ready": True}), flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
    group.close(CloseFrame.RESUME)
    await group.closed()
    resumed = {s.id.number: s.stats["resumes"] > 0 for s in group}
    print(json.dumps({"seen": seen, "resumed": resumed}), flush=True)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], int(sys.argv[3])))
