"""A consumer process of the bus for the tests: ``python consumer_script.py KIND URL APP
GROUP OUT [HOW]``. It handles MESSAGE_CREATEs as a member of GROUP, writing ``shard seq``
for each to OUT (flushed) when its handler finishes; the event is acknowledged after.
HOW is ``consume`` (:meth:`Bus.consume`, the default) or ``spawn`` (a pipeline
``on(...)`` then ``ops.spawn``, acknowledged through its receipt)."""

from __future__ import annotations

import asyncio
import sys

from rxgateway import EventTypeFlags, ops
from rxgateway.bus import Bus, JetStreamBroker, RedisStreamsBroker


async def main(kind: str, url: str, app: str, group: str, out: str, how: str = "consume") -> None:
    broker = JetStreamBroker(url, app=app) if kind == "nats" else RedisStreamsBroker(url, app=app)
    bus = Bus(broker, group=group, consumer="victim")
    with open(out, "a", buffering=1) as log:

        async def handle(event: object) -> None:
            log.write(f"{event.shard.number} {event.sequence}\n")  # type: ignore[attr-defined]
            await asyncio.sleep(0.002)

        if how == "spawn":
            bus.pipe(ops.on(EventTypeFlags.MESSAGE_CREATE), ops.spawn(handle, max_concurrency=1)).subscribe()
            await asyncio.Event().wait()  # until killed
        else:
            await bus.consume(EventTypeFlags.MESSAGE_CREATE, handle)


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:7]))
