from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from reactivex import GroupedObservable, Observable
from reactivex import operators as rx_ops

from ..events.base import Event
from ..protocol.shard_id import ShardId

_E = TypeVar("_E", bound=Event)


def _shard_of(event: Event) -> ShardId:
    return event.shard


def by_shard() -> Callable[[Observable[_E]], Observable[GroupedObservable[ShardId, _E]]]:
    """Split a stream into one stream per shard (reactivex ``group_by`` keyed on
    ``event.shard``).

    A group appears with the first event of its shard; its ``key`` is the ``ShardId``.
    Each group must be subscribed when it is emitted, or its first event is missed
    (as with any ``group_by``).

    Example::

        >>> group.pipe(on(EventTypeFlags.MESSAGE_CREATE), by_shard()).subscribe(
        ...     lambda g: g.pipe(ops.count()).subscribe(lambda n: print(g.key, n)))

    Returns:
        An operator: source -> an Observable of ``GroupedObservable[ShardId, event]``.
        A value without ``shard`` errors the stream (and every group).
    """

    def by_shard_(source: Observable[_E]) -> Observable[GroupedObservable[ShardId, _E]]:
        grouped: Observable[GroupedObservable[ShardId, _E]] = source.pipe(rx_ops.group_by(_shard_of))
        return grouped

    return by_shard_


__all__ = ["by_shard"]
