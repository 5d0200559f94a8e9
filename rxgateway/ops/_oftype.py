from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar, overload

from reactivex import Observable, abc

from ..events.base import Event
from ._demand import BITS, FlagObservable, class_flags, subscribe_demand
from ._fused import FusedPipe, fanout_source

_E1 = TypeVar("_E1", bound=Event)
_E2 = TypeVar("_E2", bound=Event)
_E3 = TypeVar("_E3", bound=Event)
_E4 = TypeVar("_E4", bound=Event)


class _OfTypeObserver(abc.ObserverBase[Any]):
    """Passes on the values that are instances of ``classes`` and whose type's bit is
    in ``mask`` (narrower than the classes when a subscriber asked for less)."""

    __slots__ = ("_observer", "_classes", "_mask")

    def __init__(self, observer: abc.ObserverBase[Any], classes: tuple[type, ...], mask: int) -> None:
        self._observer = observer
        self._classes = classes
        self._mask = mask

    def on_next(self, value: Any) -> None:
        if isinstance(value, self._classes) and BITS.get(getattr(value, "type", None), 0) & self._mask:
            self._observer.on_next(value)

    def on_error(self, error: Exception) -> None:
        self._observer.on_error(error)

    def on_completed(self) -> None:
        self._observer.on_completed()


@overload
def of_type(cls: type[_E1], /) -> Callable[[Observable[Event]], FlagObservable[_E1]]: ...


@overload
def of_type(cls1: type[_E1], cls2: type[_E2], /) -> Callable[[Observable[Event]], FlagObservable[_E1 | _E2]]: ...


@overload
def of_type(
    cls1: type[_E1], cls2: type[_E2], cls3: type[_E3], /
) -> Callable[[Observable[Event]], FlagObservable[_E1 | _E2 | _E3]]: ...


@overload
def of_type(
    cls1: type[_E1], cls2: type[_E2], cls3: type[_E3], cls4: type[_E4], /
) -> Callable[[Observable[Event]], FlagObservable[_E1 | _E2 | _E3 | _E4]]: ...


@overload
def of_type(*classes: type[Event]) -> Callable[[Observable[Event]], FlagObservable[Event]]: ...


def of_type(*classes: type[Event]) -> Callable[[Observable[Event]], FlagObservable[Any]]:
    """Keep the events that are instances of ``classes``, typed as those classes.

    ``shard.pipe(of_type(MessageCreate))`` is an ``Observable[MessageCreate]`` to a type
    checker (two to four classes give a union; more give ``Observable[Event]``). The
    classes' event types are pushed down like ``on()``'s flags: a class with a class
    attribute ``type`` that is an ``EventType`` (every typed dispatch and gateway-level
    event) stands for that one type. ``Event``, ``Dispatch`` or any class without one
    stands for every type, so nothing is pushed down for it.

    Example::

        >>> shard.pipe(of_type(MessageCreate)).subscribe(lambda m: print(m.content))
        >>> shard.pipe(of_type(GatewayClose, GatewayReconnect))

    Args:
        classes: one or more event classes (subclasses of ``Event``).

    Returns:
        An operator: source -> a flag-aware Observable of the source's values that are
        instances of one of ``classes``.
    """
    if not classes:
        raise TypeError("of_type() needs at least one event class")
    for cls in classes:
        if not isinstance(cls, type):
            raise TypeError(f"of_type() takes event classes, got {cls!r}")
    wanted = 0
    for cls in classes:
        wanted |= class_flags(cls)

    def of_type_(source: Observable[Event]) -> FlagObservable[Any]:
        def subscribe(
            observer: abc.ObserverBase[Any], scheduler: abc.SchedulerBase | None, demand: int
        ) -> abc.DisposableBase:
            mask = wanted & demand
            return subscribe_demand(source, _OfTypeObserver(observer, classes, mask), mask, scheduler)

        fused = None
        if fanout_source(source):  # subscribe(fn) takes the fused path: one check, no observer chain

            def keep(value: Any) -> bool:
                return isinstance(value, classes) and bool(BITS.get(getattr(value, "type", None), 0) & wanted)

            fused = FusedPipe(source, wanted, (("filter", keep),))
        return FlagObservable(subscribe, fused)

    return of_type_


__all__ = ["of_type"]
