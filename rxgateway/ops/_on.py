from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from reactivex import Observable, abc

from ..events.base import Event
from ..protocol.event_type import EventTypeFlags
from ._demand import BITS, FlagObservable, is_flag_aware, subscribe_demand
from ._fused import FusedPipe, fanout_source

_E = TypeVar("_E", bound=Event)


class _OnObserver(abc.ObserverBase[_E]):
    """Passes on the events whose type's bit is in ``mask``; one call per event."""

    __slots__ = ("_observer", "_mask")

    def __init__(self, observer: abc.ObserverBase[_E], mask: int) -> None:
        self._observer = observer
        self._mask = mask

    def on_next(self, value: _E) -> None:
        try:
            bit = BITS[value.type]
        except (AttributeError, KeyError):
            self._observer.on_error(TypeError(f"on() expected an rxgateway Event, got {value!r}"))
            return
        if bit & self._mask:
            self._observer.on_next(value)

    def on_error(self, error: Exception) -> None:
        self._observer.on_error(error)

    def on_completed(self) -> None:
        self._observer.on_completed()


def on(flags: EventTypeFlags | int) -> Callable[[Observable[_E]], FlagObservable[_E]]:
    """Keep the events whose type is in ``flags``, and ask the source for those only.

    On a shard or group (or anything with ``subscribe_flags``) the flags are pushed
    down: the shard never parses a frame whose type no subscriber asked for, and when
    the last subscriber interested in a type disposes, the shard stops parsing it. The
    result is itself flag-aware, so ``shard.pipe(on(A), on(B))`` asks the shard for
    ``A & B``. On a plain Observable (a Subject, a replayed recording) ``on`` filters.

    Put ``on`` first in a pipeline: an ordinary operator in front of it (``filter``,
    ``map``) hides the shard, and the shard then parses every type.

    Example::

        >>> messages = shard.pipe(on(EventTypeFlags.MESSAGE_CREATE))
        >>> guilds = shard.pipe(on(EventTypeFlags.GUILD_CREATE | EventTypeFlags.GUILD_DELETE))

    Args:
        flags: the event types to keep (``EventTypeFlags``, or its int value).

    Returns:
        An operator: source -> a flag-aware Observable of the source's events whose
        type's bit is in ``flags``. A value that is not an event errors the stream
        with ``TypeError``.
    """
    wanted = int(flags)

    def on_(source: Observable[_E]) -> FlagObservable[_E]:
        def subscribe(
            observer: abc.ObserverBase[_E], scheduler: abc.SchedulerBase | None, demand: int
        ) -> abc.DisposableBase:
            mask = wanted & demand
            if is_flag_aware(source):  # it delivers only what the mask asks for
                return subscribe_demand(source, observer, mask, scheduler)
            return subscribe_demand(source, _OnObserver(observer, mask), mask, scheduler)

        # Straight on a shard or group: subscribe(fn) may take the fused path.
        return FlagObservable(subscribe, FusedPipe(source, wanted) if fanout_source(source) else None)

    return on_


__all__ = ["on"]
