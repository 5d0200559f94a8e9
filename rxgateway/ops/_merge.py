from __future__ import annotations

from typing import TypeVar

from reactivex import Observable, abc
from reactivex.disposable import CompositeDisposable

from ._demand import ALL_FLAGS, BITS, FlagObservable, is_flag_aware, subscribe_demand

_T = TypeVar("_T")


class Merged(FlagObservable[_T]):
    """The result of :func:`merge`: a flag-aware Observable of several sources that can
    also be used as an operator, ``source.pipe(merge(other))`` merging ``source`` in
    front of ``other``."""

    def __init__(self, sources: tuple[Observable[_T], ...]) -> None:
        self.sources = sources

        def subscribe(
            observer: abc.ObserverBase[_T], scheduler: abc.SchedulerBase | None, flags: int
        ) -> abc.DisposableBase:
            return _subscribe_all(sources, observer, scheduler, flags)

        super().__init__(subscribe)

    def __call__(self, source: Observable[_T]) -> Merged[_T]:
        """The operator form: ``source.pipe(merge(a, b))`` is ``merge(source, a, b)``."""
        return Merged((source, *self.sources))


def merge(*sources: Observable[_T]) -> Merged[_T]:
    """Merge shards, groups and other Observables into one stream that keeps demand
    push-down.

    ``merge(shard_a, group_b).pipe(on(flags))`` asks every flag-aware source for
    ``flags`` only; a plain source among them is subscribed as it is and filtered.
    The merge completes when every source has completed and errors with the first
    error (disposing the other sources), like ``reactivex.merge``.

    It is also an operator: ``source.pipe(merge(other))`` is ``merge(source, other)``,
    so it can stand in for ``reactivex.operators.merge`` (without ``max_concurrent``).

    Example::

        >>> everything = merge(group_eu, group_us, replayed)
        >>> everything.pipe(on(EventTypeFlags.MESSAGE_CREATE)).subscribe(print)

    Args:
        sources: the Observables to merge (shards, groups, any Observable).

    Returns:
        A flag-aware Observable of every source's values, in arrival order; empty and
        completed when there are no sources.
    """
    return Merged(sources)


class _PlainFilter(abc.ObserverBase[_T]):
    """For a source that cannot be asked: pass on the events in ``mask``."""

    __slots__ = ("_observer", "_mask")

    def __init__(self, observer: abc.ObserverBase[_T], mask: int) -> None:
        self._observer = observer
        self._mask = mask

    def on_next(self, value: _T) -> None:
        if BITS.get(getattr(value, "type", None), 0) & self._mask:
            self._observer.on_next(value)

    def on_error(self, error: Exception) -> None:
        self._observer.on_error(error)

    def on_completed(self) -> None:
        self._observer.on_completed()


def _subscribe_all(
    sources: tuple[Observable[_T], ...],
    observer: abc.ObserverBase[_T],
    scheduler: abc.SchedulerBase | None,
    flags: int,
) -> abc.DisposableBase:
    group = CompositeDisposable()
    remaining = len(sources)
    stopped = False

    class _Inner(abc.ObserverBase[_T]):
        def on_next(self, value: _T) -> None:
            if not stopped:
                observer.on_next(value)

        def on_error(self, error: Exception) -> None:
            nonlocal stopped
            if not stopped:
                stopped = True
                group.dispose()
                observer.on_error(error)

        def on_completed(self) -> None:
            nonlocal remaining, stopped
            remaining -= 1
            if remaining == 0 and not stopped:
                stopped = True
                observer.on_completed()

    if not sources:
        observer.on_completed()
        return group
    inner = _Inner()
    for source in sources:
        if stopped:
            break
        if flags == ALL_FLAGS or is_flag_aware(source):
            group.add(subscribe_demand(source, inner, flags, scheduler))
        else:
            group.add(source.subscribe(_PlainFilter(inner, flags), scheduler=scheduler))
    return group


__all__ = ["Merged", "merge"]
