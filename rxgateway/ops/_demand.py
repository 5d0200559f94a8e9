"""Demand push-down: how an operator asks its source for only some event types.

Rules of this module:

* A *flag-aware* source has ``subscribe_flags(observer, flags)``: it delivers only
  events whose type's bit is in ``flags`` and, for a shard, parses nothing else.
  :class:`~rxgateway.shard.Shard` and :class:`~rxgateway.group.ShardGroup` are
  flag-aware, and so is every :class:`FlagObservable` these operators return.
* Any other Observable (a Subject, a replayed recording) is subscribed plainly; the
  operator filters by bit itself. So every operator works on both kinds.
* Flags only ever narrow on the way up: an operator subscribes its source with the
  intersection of what it wants and what its own subscriber asked for.

Theory of operation: ``shard.pipe(on(A), on(B)).subscribe(obs)`` calls
``on(B)``'s subscribe with every flag; it asks ``on(A)``'s Observable for ``B``, which
asks the shard for ``A & B``. Disposing ``obs``'s subscription disposes the shard's
subscriber, and the shard recomputes its demand without ``A & B``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol, TypeVar, runtime_checkable

from reactivex import Observable, abc

from ..protocol.event_type import EventType, EventTypeFlags
from ._fused import FusedPipe, FusedSubscribe

_T = TypeVar("_T")

#: Every event type's bit, as one int.
ALL_FLAGS: int = int(EventTypeFlags.all())

#: The bit of each event type, as a plain int: ``on()`` looks bits up here per event
#: rather than building an ``EventTypeFlags`` member (``EventType.flag``) each time.
#: Keyed by ``object`` so ``BITS.get(getattr(value, "type", None), 0)`` checks: a value
#: that is not an event has no bit.
BITS: dict[object, int] = {t: int(EventTypeFlags[t.name]) for t in EventType}

#: ``subscribe(observer, scheduler, flags)``: the closure a :class:`FlagObservable` runs.
FlagSubscription = Callable[[abc.ObserverBase[_T], abc.SchedulerBase | None, int], abc.DisposableBase]


@runtime_checkable
class FlagAware(Protocol):
    """A source that can be asked for some event types only (the demand API)."""

    def subscribe_flags(self, observer: abc.ObserverBase[Any], flags: EventTypeFlags | int) -> abc.DisposableBase:
        """Deliver to ``observer`` only the events whose type's bit is in ``flags``."""
        ...


class FlagObservable(FusedSubscribe[_T]):
    """An Observable that is also flag-aware: ``subscribe`` asks for every type,
    ``subscribe_flags(observer, flags)`` for ``flags`` only.

    It is built like ``Observable(subscribe)``, from a closure that also takes the
    flags its subscriber asked for.

    Example::

        def subscribe(observer, scheduler, flags):
            return subscribe_demand(source, observer, flags & wanted, scheduler)

        FlagObservable(subscribe).subscribe_flags(observer, EventTypeFlags.READY)
    """

    def __init__(self, subscribe: FlagSubscription[_T], fused: FusedPipe | None = None) -> None:
        super().__init__()
        self._subscribe_with_flags = subscribe
        self._fused = fused

    @property
    def fused(self) -> FusedPipe | None:
        """The fused path this Observable can take (``on`` straight on a shard or
        group, :mod:`rxgateway.ops._fused`), or ``None``."""
        return self._fused

    def _fused_pipe(self) -> FusedPipe | None:
        return self._fused

    def _subscribe_core(
        self, observer: abc.ObserverBase[_T], scheduler: abc.SchedulerBase | None = None
    ) -> abc.DisposableBase:
        return self._subscribe_with_flags(observer, scheduler, ALL_FLAGS)

    def subscribe_flags(
        self,
        observer: abc.ObserverBase[_T],
        flags: EventTypeFlags | int,
        *,
        scheduler: abc.SchedulerBase | None = None,
    ) -> abc.DisposableBase:
        """Subscribe ``observer`` to the event types in ``flags`` only.

        The observer gets the same guarantees as with ``subscribe`` (nothing after a
        terminal notification; the subscription is released when it ends).
        """
        wanted = int(flags)
        subscribe = self._subscribe_with_flags

        def subscribe_narrowed(obs: abc.ObserverBase[_T], sched: abc.SchedulerBase | None) -> abc.DisposableBase:
            return subscribe(obs, sched, wanted)

        # A throwaway Observable gives the observer reactivex's auto-detach wrapper.
        return Observable(subscribe_narrowed).subscribe(observer, scheduler=scheduler)


def is_flag_aware(source: object) -> bool:
    """True when ``source`` has a callable ``subscribe_flags``."""
    return callable(getattr(source, "subscribe_flags", None))


def subscribe_demand(
    source: Observable[_T],
    observer: abc.ObserverBase[_T],
    flags: int,
    scheduler: abc.SchedulerBase | None,
) -> abc.DisposableBase:
    """Subscribe ``observer`` to ``source`` asking for ``flags`` if the source can be
    asked; otherwise subscribe plainly (the caller filters)."""
    if isinstance(source, FlagObservable):
        return source.subscribe_flags(observer, flags, scheduler=scheduler)
    subscribe_flags = getattr(source, "subscribe_flags", None)
    if callable(subscribe_flags):
        disposable: abc.DisposableBase = subscribe_flags(observer, flags)
        return disposable
    return source.subscribe(observer, scheduler=scheduler)


def class_flags(cls: type) -> int:
    """The flags an event class stands for: its class attribute ``type`` when that is
    an :class:`EventType` (typed events, gateway-level events); every flag otherwise
    (``Event``, ``Dispatch``, whose ``type`` is per instance)."""
    event_type = getattr(cls, "type", None)
    if isinstance(event_type, EventType):
        return BITS[event_type]
    return ALL_FLAGS

