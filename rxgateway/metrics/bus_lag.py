"""Consumer lag: how far a bus consumer group is behind, polled from the broker.

A consumer group's lag lives in the broker, not in any one consumer: JetStream keeps
it on the group's durable consumer, Redis Streams per stream of the group.
:meth:`Broker.group_lag <rxgateway.bus.broker.Broker.group_lag>` asks for it (events
not yet delivered to the group, plus delivered and not yet acknowledged); a
:class:`BusLagWatch` asks every ``every`` seconds and sets
``rxgateway_consumer_lag{group=...}`` (:meth:`Metrics.set_consumer_lag
<rxgateway.metrics.Metrics.set_consumer_lag>`). It is one task on the event loop, one
broker round trip (a few for Redis: one per type's stream) per poll; nothing runs on
a consumer's delivery path.

A poll that fails (the broker away) removes the group's series rather than leave a
stale number, logs a warning (the first, then every hundredth in a row), and the next
poll tries again. Stopping (:meth:`BusLagWatch.aclose`, or ``dispose``) ends the task
and removes the series.

Example::

    bus = Bus(broker, group="moderation")
    bus.pipe(ops.on(EventTypeFlags.MESSAGE_CREATE)).subscribe(moderate)
    watch = metrics.watch_bus(bus, EventTypeFlags.MESSAGE_CREATE, every=5)
    ...
    await watch.aclose()
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Collection
from typing import TYPE_CHECKING, Final

from ..errors import BusError

if TYPE_CHECKING:
    from ..bus.broker import Broker
    from .exporter import Metrics

__all__ = ["DEFAULT_EVERY", "BusLagWatch"]

log = logging.getLogger("rxgateway.metrics")

#: Seconds between two polls by default: a scrape every 15 s sees a value at most
#: that old, for one round trip per type's stream per poll.
DEFAULT_EVERY: Final = 5.0


class BusLagWatch:
    """Polls ``broker.group_lag(names, group=group)`` into ``metrics`` every ``every``
    seconds (see the module). Made by :meth:`Metrics.watch_bus
    <rxgateway.metrics.Metrics.watch_bus>`; starts polling at once on the running
    event loop.

    Attributes:
        last: the last lag read (``None`` before the first, or after a failure).
        polls, failures: polls done, and those that failed.
    """

    def __init__(
        self, metrics: Metrics, broker: Broker, group: str, names: Collection[str] | None, every: float = DEFAULT_EVERY
    ) -> None:
        if not every > 0:
            raise ValueError(f"every must be > 0 seconds, got {every!r}")
        self.metrics = metrics
        self.broker = broker
        self.group = group
        self.names = None if names is None else frozenset(names)
        self.every = float(every)
        self.last: int | None = None
        self.polls = 0
        self.failures = 0
        self._failing = 0
        self._stopped = False
        self._task: asyncio.Task[None] = asyncio.get_running_loop().create_task(
            self._run(), name=f"rxgateway consumer lag {group}"
        )

    @property
    def running(self) -> bool:
        """Polling (not stopped)."""
        return not self._stopped and not self._task.done()

    async def poll(self) -> int | None:
        """Read the lag now and set the gauge; the lag, or ``None`` if the broker
        failed (the series is removed then, and the failure logged)."""
        try:
            lag = await self.broker.group_lag(self.names, group=self.group)
        except BusError as exc:
            self.polls += 1
            self.failures += 1
            self._failing += 1
            self.last = None
            if not self._stopped:
                self.metrics.clear_consumer_lag(self.group)
            if self._failing == 1 or self._failing % 100 == 0:
                log.warning("consumer lag of group %s: %s (%d polls failed in a row)", self.group, exc, self._failing)
            return None
        self.polls += 1
        self._failing = 0
        self.last = lag
        if not self._stopped:
            self.metrics.set_consumer_lag(self.group, lag)
        return lag

    async def _run(self) -> None:
        while not self._stopped:
            try:
                await self.poll()
            except asyncio.CancelledError:
                raise
            except Exception:  # a broker's bug: reported, and the watch goes on
                self.failures += 1
                log.exception("consumer lag of group %s: the poll raised", self.group)
            await asyncio.sleep(self.every)

    def dispose(self) -> None:
        """Stop polling (the task is cancelled) and remove the group's series."""
        if self._stopped:
            return
        self._stopped = True
        self._task.cancel()
        self.metrics.clear_consumer_lag(self.group)

    async def aclose(self) -> None:
        """:meth:`dispose`, then wait until the task has ended."""
        self.dispose()
        await asyncio.gather(self._task, return_exceptions=True)

    def __repr__(self) -> str:
        state = "running" if self.running else "stopped"
        return f"BusLagWatch(group={self.group!r}, every={self.every}, last={self.last}, {state})"
