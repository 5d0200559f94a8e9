from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from reactivex import Observable, abc

from ..events.base import Event
from ..protocol.shard_id import ShardId

_E = TypeVar("_E", bound=Event)


def with_shard() -> Callable[[Observable[_E]], Observable[tuple[ShardId, _E]]]:
    """Pair each event with the id of the shard it came from.

    Handy after a merge of shards or a group, to unpack in a lambda or a ``match``.

    Example::

        >>> group.pipe(on(EventTypeFlags.READY), with_shard()).subscribe(
        ...     lambda pair: print("shard", pair[0], "is ready"))

    Returns:
        An operator: source -> an Observable of ``(event.shard, event)``. A value
        without ``shard`` errors the stream with ``TypeError``.
    """

    def with_shard_(source: Observable[_E]) -> Observable[tuple[ShardId, _E]]:
        def subscribe(
            observer: abc.ObserverBase[tuple[ShardId, _E]], scheduler: abc.SchedulerBase | None = None
        ) -> abc.DisposableBase:
            def on_next(event: _E) -> None:
                try:
                    shard = event.shard
                except AttributeError:
                    observer.on_error(TypeError(f"with_shard() expected an rxgateway Event, got {event!r}"))
                    return
                observer.on_next((shard, event))

            return source.subscribe(on_next, observer.on_error, observer.on_completed, scheduler=scheduler)

        return Observable(subscribe)

    return with_shard_


__all__ = ["with_shard"]
