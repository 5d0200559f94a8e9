"""The fused path: ``shard.pipe(on(flags), filter(p), map(f)).subscribe(fn)`` as one
subscriber of the shard, with no reactivex observer chain per event.

Why: through reactivex every operator adds an observer and an ``AutoDetachObserver``
(two Python calls per event each), and ``subscribe(fn)`` one more; on a shard's
receive path those calls were most of what ``pipe(on(flags))`` cost above the floor.

What is fused, and when:

* the source is a :class:`~rxgateway.shard.Shard` or a
  :class:`~rxgateway.group.ShardGroup`, whose deliveries already keep the Rx contract
  (:mod:`rxgateway.fanout`: one terminal notification, nothing after it or after a
  dispose, an ``on_next`` that raises is unsubscribed and told through ``on_error``);
* ``on(flags)`` or ``of_type(classes)`` straight on it, then any number of ``filter``
  and ``map`` (this package's, ``ops.filter`` / ``ops.map``), then ``subscribe`` with
  functions (not an Observer, no scheduler).

Anything else (an Observer, a scheduler, another operator in between, another source)
takes reactivex's own path, unchanged. The fused path keeps the notifications the same
as reactivex's operators: same values in the same order; a predicate or mapper that
raises ends the subscription (it is disposed, then ``on_error``); an ``on_next`` that
raises is unsubscribed by the shard and told through ``on_error``; ``on_completed`` /
``on_error`` of the source once; nothing after a dispose; with no ``on_error`` given,
reactivex's ``default_error`` (it raises, and the shard logs it). ``tests/ops/
test_ops_fused.py`` runs the same marbles through both paths.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from reactivex import Observable, abc
from reactivex import operators as rx_ops
from reactivex.disposable import SingleAssignmentDisposable
from reactivex.internal.basic import default_error, noop

__all__ = ["FusedObservable", "FusedPipe", "filter", "fanout_source", "map"]

_T = TypeVar("_T")
_T1 = TypeVar("_T1")
_T2 = TypeVar("_T2")

#: A stage: ("filter", predicate) or ("map", mapper).
Stage = tuple[str, Callable[[Any], Any]]


def fanout_source(source: object) -> bool:
    """True when ``source`` delivers through a :class:`~rxgateway.fanout.Fanout` with
    the Rx contract kept (a Shard or a ShardGroup): the fused path may subscribe plain
    functions to it."""
    from ..group import ShardGroup
    from ..shard import Shard

    return isinstance(source, Shard | ShardGroup)


class _Callbacks:
    """An observer made of three functions, called as they are (no wrapper): what a
    fanout-grade source registers."""

    __slots__ = ("on_next", "on_error", "on_completed")

    def __init__(
        self, on_next: Callable[[Any], None], on_error: Callable[[Exception], None], on_completed: Callable[[], None]
    ) -> None:
        self.on_next = on_next
        self.on_error = on_error
        self.on_completed = on_completed


class FusedPipe:
    """A flag-aware source, the flags asked of it and the stages after ``on``."""

    __slots__ = ("source", "flags", "stages")

    def __init__(self, source: Any, flags: int, stages: tuple[Stage, ...] = ()) -> None:
        self.source = source
        self.flags = flags
        self.stages = stages

    def then(self, stage: Stage) -> FusedPipe:
        """This pipe with one more stage."""
        return FusedPipe(self.source, self.flags, (*self.stages, stage))

    def subscribe(
        self,
        on_next: Callable[[Any], None] | None,
        on_error: Callable[[Exception], None] | None,
        on_completed: Callable[[], None] | None,
    ) -> abc.DisposableBase:
        """Subscribe the three functions: one subscriber of the source."""
        user_next = on_next or noop
        user_error = on_error or default_error
        user_completed = on_completed or noop
        if not self.stages:
            observer = _Callbacks(user_next, user_error, user_completed)
            disposable: abc.DisposableBase = self.source.subscribe_flags(observer, self.flags)
            return disposable
        holder = SingleAssignmentDisposable()
        stopped = [False]

        def fail(error: Exception) -> None:  # a stage raised: tell, then dispose (as AutoDetachObserver)
            if not stopped[0]:
                stopped[0] = True
                try:
                    user_error(error)
                finally:
                    holder.dispose()

        def terminal_error(error: Exception) -> None:
            if not stopped[0]:
                stopped[0] = True
                user_error(error)

        def terminal_completed() -> None:
            if not stopped[0]:
                stopped[0] = True
                user_completed()

        chained = user_next
        for kind, fn in reversed(self.stages):
            chained = _filter_stage(fn, chained, fail) if kind == "filter" else _map_stage(fn, chained, fail)
        observer = _Callbacks(chained, terminal_error, terminal_completed)
        holder.disposable = self.source.subscribe_flags(observer, self.flags)
        return holder


def _filter_stage(
    predicate: Callable[[Any], Any], downstream: Callable[[Any], None], fail: Callable[[Exception], None]
) -> Callable[[Any], None]:
    def on_next(value: Any) -> None:
        try:
            keep = predicate(value)
        except Exception as exc:
            fail(exc)
            return
        if keep:
            downstream(value)  # outside the try, as in reactivex: its error goes upstream

    return on_next


def _map_stage(
    mapper: Callable[[Any], Any], downstream: Callable[[Any], None], fail: Callable[[Exception], None]
) -> Callable[[Any], None]:
    def on_next(value: Any) -> None:
        try:
            result = mapper(value)
        except Exception as exc:
            fail(exc)
            return
        downstream(result)

    return on_next


class FusedSubscribe(Observable[_T]):
    """An Observable whose ``subscribe`` with plain functions (no Observer, no
    scheduler) takes the fused path of :meth:`_fused_pipe`, and reactivex's path
    otherwise: a Shard, ``on`` over a shard or group, and ``filter``/``map`` after it."""

    def _fused_pipe(self) -> FusedPipe | None:
        """The fused path of this Observable, or ``None`` for reactivex's always."""
        return None

    def subscribe(
        self,
        on_next: abc.ObserverBase[_T] | abc.OnNext[_T] | None = None,
        on_error: abc.OnError | None = None,
        on_completed: abc.OnCompleted | None = None,
        *,
        scheduler: abc.SchedulerBase | None = None,
    ) -> abc.DisposableBase:
        """Subscribe, as reactivex's ``subscribe``; plain functions are handed to the
        delivery path as they are, with no observer wrapper called per event, and get
        the same notifications (see the module docstring)."""
        if scheduler is None and not isinstance(on_next, abc.ObserverBase) and not hasattr(on_next, "on_next"):
            pipe = self._fused_pipe()
            if pipe is not None:
                return pipe.subscribe(on_next, on_error, on_completed)
        return super().subscribe(on_next, on_error, on_completed, scheduler=scheduler)


class FusedObservable(FusedSubscribe[_T]):
    """The result of ``filter`` / ``map`` after a fused ``on``: reactivex's operator
    chain (``fallback``) for every subscription, except ``subscribe`` with plain
    functions, which takes the fused path. Not flag-aware, like reactivex's result."""

    def __init__(self, pipe: FusedPipe, fallback: Observable[_T]) -> None:
        super().__init__()
        self._pipe = pipe
        self._fallback = fallback

    @property
    def fused(self) -> FusedPipe:
        """The fused pipe this Observable stands for."""
        return self._pipe

    def _subscribe_core(
        self, observer: abc.ObserverBase[_T], scheduler: abc.SchedulerBase | None = None
    ) -> abc.DisposableBase:
        return self._fallback.subscribe(observer, scheduler=scheduler)

    def _fused_pipe(self) -> FusedPipe:
        return self._pipe


def _pipe_of(source: object) -> FusedPipe | None:
    pipe = getattr(source, "fused", None)
    return pipe if isinstance(pipe, FusedPipe) else None


def filter(predicate: Callable[[_T], bool]) -> Callable[[Observable[_T]], Observable[_T]]:
    """reactivex's ``filter``; after ``on(...)`` on a shard or group it joins the fused
    path (:mod:`rxgateway.ops._fused`), with the same notifications.

    Example::

        >>> shard.pipe(ops.on(EventTypeFlags.MESSAGE_CREATE), ops.filter(lambda m: m.content == "!ping"))

    Args:
        predicate: called with each value; the values it is true for pass.

    Returns:
        An operator: source -> the values of source ``predicate`` keeps.
    """
    plain = rx_ops.filter(predicate)

    def filter_(source: Observable[_T]) -> Observable[_T]:
        pipe = _pipe_of(source)
        if pipe is None:
            return plain(source)
        return FusedObservable(pipe.then(("filter", predicate)), plain(source))

    return filter_


def map(mapper: Callable[[_T1], _T2] | None = None) -> Callable[[Observable[_T1]], Observable[_T2]]:
    """reactivex's ``map``; after ``on(...)`` on a shard or group it joins the fused
    path (:mod:`rxgateway.ops._fused`), with the same notifications.

    Example::

        >>> shard.pipe(ops.on(EventTypeFlags.MESSAGE_CREATE), ops.map(lambda m: m.content))

    Args:
        mapper: called with each value; its result is passed on (``None``: identity).

    Returns:
        An operator: source -> ``mapper`` of each value of source.
    """
    plain = rx_ops.map(mapper)

    def map_(source: Observable[_T1]) -> Observable[_T2]:
        pipe = _pipe_of(source)
        if pipe is None or mapper is None:
            return plain(source)
        return FusedObservable(pipe.then(("map", mapper)), plain(source))

    return map_
