"""``publish``: forward a shard source's dispatches to the bus, unparsed, and take
commands from it (see :mod:`rxgateway.bus`).

Example::

    shards.pipe(ops.publish(bus)).subscribe(on_error=print)      # a ShardGroup
    member.pipe(ops.publish(broker, EventTypeFlags.MESSAGE_CREATE)).subscribe()

Called with anything else (no argument, a subject factory or a mapper), it is
reactivex's ``publish`` (multicast), so code written for plain reactivex still works.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

import reactivex
from reactivex import Observable, abc
from reactivex import operators as rx_ops
from reactivex.disposable import CompositeDisposable, Disposable

from ..errors import GatewayError
from ..events.base import GatewayErrorEvent
from ..protocol.event_type import EventTypeFlags
from ..protocol.shard_id import ShardId

__all__ = ["publish"]

log = logging.getLogger("rxgateway.bus")


def publish(target: Any = None, flags: EventTypeFlags | int = EventTypeFlags.DISPATCHES, *args: Any, commands: bool = True, metrics: Any = None, **kwargs: Any) -> Callable[[Observable[Any]], Observable[Any]]:
    """Forward the dispatches of ``flags`` that the source's shards receive to
    ``target`` (a :class:`~rxgateway.bus.Bus` or a broker), as the bytes received,
    never parsed; with ``commands`` (default) also hand the bus's commands to the
    source's shards and answer them.

    The source must be a ``Shard``, a ``ShardGroup`` or a cluster ``Member`` (what
    receives the payloads). The result emits a ``GatewayErrorEvent`` for each problem
    of the bus (a broker down, events dropped at the bound) and completes when the
    source does, after publishing what is queued. ``metrics`` (a
    :class:`~rxgateway.metrics.Metrics`) gets the publish lag of every event
    published (see :class:`~rxgateway.bus.publisher.Publisher`).
    """
    broker = getattr(target, "broker", target)
    if broker is None or not hasattr(broker, "publish") or not hasattr(broker, "serve_commands"):
        plain: Callable[[Observable[Any]], Observable[Any]] = rx_ops.publish(target, *args, **kwargs)
        return plain
    from ..bus.publisher import Publisher  # the bus is optional: imported when used

    def operator(source: Observable[Any]) -> Observable[GatewayErrorEvent]:
        if not hasattr(source, "subscribe_flags") or not (hasattr(source, "add_frame_sink") or hasattr(source, "shard")):
            raise TypeError("publish needs a Shard, a ShardGroup or a Member as its source (it forwards what they receive)")

        def subscribe(observer: abc.ObserverBase[GatewayErrorEvent], scheduler: abc.SchedulerBase | None = None) -> abc.DisposableBase:
            def report(error: GatewayError) -> None:
                observer.on_next(GatewayErrorEvent(ShardId(0, 1), error))

            publisher = Publisher(broker, flags=flags, on_error=report, metrics=metrics)
            disposables = CompositeDisposable(publisher.attach(source))  # type: ignore[arg-type]
            loop = asyncio.get_running_loop()
            tasks: list[asyncio.Task[None]] = []
            if commands:
                tasks.append(loop.create_task(publisher.serve_commands(source, consumer=f"gateway-{id(publisher):x}")))  # type: ignore[arg-type]

            ends: list[asyncio.Task[None]] = []

            async def finish(error: Exception | None) -> None:
                for task in tasks:
                    task.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)
                await publisher.aclose()
                if error is not None:
                    observer.on_error(error)
                else:
                    observer.on_completed()

            class _End(abc.ObserverBase[Any]):
                def on_next(self, value: Any) -> None:
                    pass

                def on_error(self, error: Exception) -> None:
                    ends.append(loop.create_task(finish(error)))

                def on_completed(self) -> None:
                    ends.append(loop.create_task(finish(None)))

            disposables.add(source.subscribe_flags(_End(), 0))  # type: ignore[attr-defined]

            def stop() -> None:
                if ends:  # the source ended: finish() is already closing
                    return
                for task in tasks:
                    task.cancel()
                ends.append(loop.create_task(publisher.aclose()))

            disposables.add(Disposable(stop))
            return disposables

        return reactivex.create(subscribe)

    return operator
