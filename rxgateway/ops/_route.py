"""``route``: a declarative table from event keys to handlers, subscribed as one.

The table rules are in :func:`route`'s docstring. Theory of operation: ``route(table)``
normalises the table into ``_Entry`` rows once; applying it to a source builds one
``_Branch`` per row (a task pool for async handlers, a ``Subject`` for a pipeline),
then subscribes the source once. Each event is matched against every row in table
order; every failure is caught per row and reported, so nothing reaches the source.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Callable, Iterable, Mapping
from typing import Any, cast, overload

from reactivex import Observable, abc
from reactivex.subject import Subject

from ..events.base import Event
from ..protocol.event_type import EventType
from ._demand import ALL_FLAGS, BITS, class_flags, subscribe_demand
from ._errors import ErrorSink, HandlerError, report
from ._pipeline import Pipeline
from ._tasks import DEFAULT_MAX_CONCURRENCY, TaskPool, check_limit, close_awaitable, running_loop

log = logging.getLogger("rxgateway.ops")

#: What selects events by type: an event class, flags, one event type.
Selector = type[Event] | EventType | int
#: A key of a route table (see the module docstring).
RouteKey = Selector | Callable[[Any], bool] | tuple[Selector, Callable[[Any], bool]]
#: A handler of a route table (see the module docstring).
Handler = Pipeline | abc.ObserverBase[Any] | Callable[[Any], object]
#: A route table: a mapping, or ``(key, handler)`` pairs.
RouteTable = Mapping[Any, Handler] | Iterable[tuple[Any, Handler]]

_FUNCTION, _ASYNC, _OBSERVER, _PIPELINE = "function", "async", "observer", "pipeline"


class _Entry:
    """One table row, normalised: which events, and what kind of handler."""

    __slots__ = ("key", "flags", "cls", "predicate", "handler", "kind", "warned")

    def __init__(self, key: Any, handler: Any) -> None:
        self.key = key
        self.handler = handler
        self.cls: type | None = None
        self.predicate: Callable[[Any], bool] | None = None
        self.warned = False
        if isinstance(key, tuple):
            if len(key) != 2 or not callable(key[1]) or isinstance(key[1], type):
                raise TypeError(f"a tuple route key is (class or flags, predicate), got {key!r}")
            self.flags, self.cls = _selector(key[0], key)
            self.predicate = key[1]
        elif isinstance(key, (type, EventType, int)):
            self.flags, self.cls = _selector(key, key)
        elif callable(key):
            self.flags = ALL_FLAGS
            self.predicate = key
        else:
            raise TypeError(f"a route key is an event class, EventTypeFlags, a predicate or a pair, got {key!r}")
        self.kind = _kind(handler)

    def matches(self, event: Any, bit: int, errors: ErrorSink | None) -> bool:
        if not bit & self.flags and self.flags != ALL_FLAGS:
            return False
        if self.cls is not None and not isinstance(event, self.cls):
            return False
        if self.predicate is None:
            return True
        try:
            return bool(self.predicate(event))
        except AttributeError as exc:
            if not self.warned:
                self.warned = True
                log.debug("route key %r: %r counts as no match (logged once per key)", self.key, exc)
            return False
        except Exception as exc:
            report(errors, HandlerError(exc, event, self.predicate, self.key))
            return False


def _selector(selector: Any, key: Any) -> tuple[int, type | None]:
    if isinstance(selector, type):
        if not issubclass(selector, Event):
            raise TypeError(f"a route key class must be an Event class, got {selector!r}")
        return class_flags(selector), selector
    if isinstance(selector, EventType):
        return BITS[selector], None
    if isinstance(selector, int) and not isinstance(selector, bool):
        if not int(selector) & ALL_FLAGS:
            raise ValueError(f"route key {key!r} selects no event type")
        return int(selector) & ALL_FLAGS, None
    raise TypeError(f"a route key selects by event class or EventTypeFlags, got {selector!r} in {key!r}")


def _kind(handler: Any) -> str:
    if isinstance(handler, Pipeline):
        return _PIPELINE
    if callable(getattr(handler, "on_next", None)):
        return _OBSERVER
    if inspect.iscoroutinefunction(handler) or inspect.iscoroutinefunction(getattr(handler, "__call__", None)):
        return _ASYNC
    if callable(handler):
        return _FUNCTION
    raise TypeError(f"a route handler is a function, an async function, an Observer or a pipeline(), got {handler!r}")


class _Branch:
    """One entry's live state in one subscription."""

    __slots__ = ("entry", "routing", "pool", "subject", "subscription")

    def __init__(self, entry: _Entry, routing: Routing) -> None:
        self.entry = entry
        self.routing = routing
        self.pool: TaskPool[Any, Any] | None = None
        self.subject: Subject[Any] | None = None
        self.subscription: abc.DisposableBase | None = None

    def start(self, loop: asyncio.AbstractEventLoop | None) -> None:
        entry = self.entry
        if entry.kind == _ASYNC or (entry.kind == _FUNCTION and loop is not None):
            if loop is None:
                loop = running_loop("route")  # raises with the explanation
            self.pool = self.routing._new_pool(loop, entry)
        elif entry.kind == _PIPELINE:
            self._start_pipeline()

    def _start_pipeline(self) -> None:
        entry = self.entry
        pipe: Pipeline = entry.handler
        errors = self.routing.errors
        self.subject = Subject()
        built = pipe.apply(self.subject)
        if not isinstance(built, Observable):
            self.subscription = built
            return
        sink = pipe.sink
        on_next: Callable[[Any], None]
        if sink is None:
            def on_next(value: Any) -> None:
                pass
        else:
            sink_on_next = getattr(sink, "on_next", None)  # an Observer, or a function
            target = sink_on_next if callable(sink_on_next) else cast(Callable[[Any], object], sink)

            def on_next(value: Any) -> None:
                try:
                    target(value)
                except Exception as exc:
                    report(errors, HandlerError(exc, value, sink, entry.key))

        def on_error(error: Exception) -> None:
            if error is not self.routing.source_error:
                report(errors, HandlerError(error, None, pipe, entry.key))
            _end_observer(sink, error, errors, entry.key)

        def on_completed() -> None:
            _end_observer(sink, None, errors, entry.key)

        self.subscription = built.subscribe(on_next, on_error, on_completed)

    def deliver(self, event: Any) -> None:
        entry = self.entry
        kind = entry.kind
        try:
            if kind == _FUNCTION:
                result = entry.handler(event)
                if result is not None and inspect.isawaitable(result):
                    self._run(event, result)
            elif kind == _ASYNC:
                assert self.pool is not None
                self.pool.submit(event, entry.handler)
            elif kind == _OBSERVER:
                entry.handler.on_next(event)
            elif self.subject is not None:
                self.subject.on_next(event)
        except Exception as exc:
            report(self.routing.errors, HandlerError(exc, event, entry.handler, entry.key))

    def _run(self, event: Any, awaitable: Any) -> None:
        if self.pool is None:
            close_awaitable(awaitable)
            raise RuntimeError("the handler returned an awaitable, but the route was subscribed without a running loop")
        self.pool.submit(event, lambda _event: awaitable, lambda: close_awaitable(awaitable))

    def end(self, error: Exception | None) -> None:
        entry = self.entry
        if entry.kind == _OBSERVER:
            _end_observer(entry.handler, error, self.routing.errors, entry.key)
        elif self.subject is not None:
            try:
                if error is not None:
                    self.subject.on_error(error)
                else:
                    self.subject.on_completed()
            except Exception as exc:
                report(self.routing.errors, HandlerError(exc, None, entry.handler, entry.key))

    def dispose(self) -> None:
        if self.pool is not None:
            self.pool.close()
        if self.subscription is not None:
            self.subscription.dispose()


def _end_observer(observer: Any, error: Exception | None, errors: ErrorSink | None, key: Any) -> None:
    """Tell an Observer handler (or sink) that its stream ended, if it listens."""
    method = getattr(observer, "on_error" if error is not None else "on_completed", None)
    if not callable(method):
        return
    try:
        if error is not None:
            method(error)
        else:
            method()
    except Exception as exc:
        report(errors, HandlerError(exc, None, observer, key))


class Routing(abc.DisposableBase):
    """The one subscription ``source.pipe(route(table))`` returns.

    ``dispose()`` unsubscribes the source, disposes every pipeline and cancels every
    handler task; ``await aclose()`` does that and waits for the cancelled tasks;
    ``await join()`` waits until the source has ended (or the route was disposed)
    and every handler task has finished, and raises the source's error if it failed.
    ``async with source.pipe(route(table)):`` closes it (``aclose``) on exit.
    """

    def __init__(self, entries: list[_Entry], errors: ErrorSink | None, max_concurrency: int) -> None:
        self.errors = errors
        self.source_error: Exception | None = None
        self._max_concurrency = max_concurrency
        self._branches = [_Branch(entry, self) for entry in entries]
        self._source: abc.DisposableBase | None = None
        self._ended = False
        self._disposed = False
        self._waiters: list[asyncio.Future[None]] = []
        self._pools: list[TaskPool[Any, Any]] = []

    @property
    def is_disposed(self) -> bool:
        """True after ``dispose``."""
        return self._disposed

    @property
    def ended(self) -> bool:
        """True once the source has completed or errored."""
        return self._ended

    @property
    def running(self) -> int:
        """Handler tasks running now."""
        return sum(pool.running for pool in self._pools)

    def dispose(self) -> None:
        if self._disposed:
            return
        self._disposed = True
        if self._source is not None:
            self._source.dispose()
        for branch in self._branches:
            branch.dispose()
        self._check_finished()

    async def aclose(self) -> None:
        """Dispose, then wait until every cancelled handler task has ended."""
        self.dispose()
        for pool in self._pools:
            await pool.join()

    async def __aenter__(self) -> Routing:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def join(self) -> None:
        """Wait until the source has ended (or the route was disposed) and every
        handler task has finished; raise the source's error if it had one."""
        if not self._finished():
            future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            self._waiters.append(future)
            await future
        if self.source_error is not None and not self._disposed:
            raise self.source_error

    # -------------------------------------------------------------- internals

    def _start(self, source: Observable[Any], flags: int) -> None:
        try:
            loop: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            loop = None
        for branch in self._branches:
            branch.start(loop)
        self._source = subscribe_demand(source, _RouteObserver(self), flags, None)

    def _new_pool(self, loop: asyncio.AbstractEventLoop, entry: _Entry) -> TaskPool[Any, Any]:
        errors = self.errors

        def on_result(_event: Any, _result: Any) -> None:
            pass

        def on_failure(event: Any, error: BaseException) -> None:
            report(errors, HandlerError(error, event, entry.handler, entry.key))

        pool: TaskPool[Any, Any] = TaskPool(
            loop, self._max_concurrency, on_result, on_failure, self._check_finished, self._check_finished
        )
        self._pools.append(pool)
        return pool

    def _on_next(self, event: Any) -> None:
        bit = BITS.get(getattr(event, "type", None), 0)
        errors = self.errors
        for branch in self._branches:
            if branch.entry.matches(event, bit, errors):
                branch.deliver(event)

    def _on_end(self, error: Exception | None) -> None:
        self._ended = True
        self.source_error = error
        if error is not None:
            log.warning("route: the source failed, the route has ended: %r", error)
        ended: set[int] = set()
        for branch in self._branches:
            handler = branch.entry.handler
            if branch.entry.kind == _OBSERVER:
                if id(handler) in ended:
                    continue  # one Observer under several keys hears the end once
                ended.add(id(handler))
            branch.end(error)
        self._check_finished()

    def _finished(self) -> bool:
        return (self._ended or self._disposed) and all(pool.idle for pool in self._pools)

    def _check_finished(self) -> None:
        if not self._finished():
            return
        waiters, self._waiters = self._waiters, []
        for future in waiters:
            if not future.done():
                future.set_result(None)


class _RouteObserver(abc.ObserverBase[Any]):
    """The route's subscriber on the source: nothing it is given can raise back."""

    __slots__ = ("_routing", "_stopped")

    def __init__(self, routing: Routing) -> None:
        self._routing = routing
        self._stopped = False

    def on_next(self, value: Any) -> None:
        if not self._stopped:
            self._routing._on_next(value)

    def on_error(self, error: Exception) -> None:
        if not self._stopped:
            self._stopped = True
            self._routing._on_end(error)

    def on_completed(self) -> None:
        if not self._stopped:
            self._stopped = True
            self._routing._on_end(None)


@overload
def route(
    table: Mapping[Any, Handler],
    *,
    errors: ErrorSink | None = None,
    max_concurrency: int = DEFAULT_MAX_CONCURRENCY,
) -> Callable[[Observable[Any]], Routing]: ...


@overload
def route(
    table: Iterable[tuple[Any, Handler]],
    *,
    errors: ErrorSink | None = None,
    max_concurrency: int = DEFAULT_MAX_CONCURRENCY,
) -> Callable[[Observable[Any]], Routing]: ...


# Overloads rather than one union parameter: a dict literal then gets the handler
# type as its context, so a table mixing functions, Observers and pipelines checks.
def route(
    table: RouteTable,
    *,
    errors: ErrorSink | None = None,
    max_concurrency: int = DEFAULT_MAX_CONCURRENCY,
) -> Callable[[Observable[Any]], Routing]:
    """Send each event to the handlers of the keys it matches; one subscription for
    the whole table.

    ``source.pipe(route(table))`` subscribes at once and returns a :class:`Routing`,
    the one Disposable of the whole table.

    Table rules (checked when ``route(table)`` is called: a bad entry is a ``TypeError``,
    flags that select no type a ``ValueError``).

    Keys select events:

    * an event class (``MessageCreate``, ``GatewayClose``): instances of it. Its
      ``type`` class attribute gives its flag; ``Event``/``Dispatch`` mean every type.
    * ``EventTypeFlags`` (or an ``EventType``, or the int value of flags): events whose
      type's bit is set.
    * a predicate, any other callable ``event -> bool``: every event it returns true for.
      A predicate sees every event of the route's source, so reading an attribute some
      events lack is expected: an ``AttributeError`` counts as "no match" (logged once
      per key at DEBUG). Any other exception is reported as a :class:`HandlerError` for
      that key and counts as no match.
    * ``(class or flags, predicate)``: both must match; the predicate only sees events
      of that class or those flags (so ``(MessageCreate, lambda m: m.guild_id == X)``
      never meets a heartbeat), and the flags are still pushed down.

    Every key an event matches gets it, in table order: a route is a fan-out, not a
    ``switch``. A table may be a dict or an iterable of ``(key, handler)`` pairs (to use
    one key twice).

    Handlers, recognised in this order:

    1. a :class:`Pipeline` (from :func:`pipeline`): applied once to the Observable of the
       key's events; what it builds is subscribed for the life of the route. Operators
       must be wrapped: a function of an Observable looks just like a function of an
       event, and a guess would call one with the other.
    2. an Observer (anything with a callable ``on_next``, e.g. a ``Subject`` or a shard's
       ``sender``): ``on_next`` per event; ``on_completed``/``on_error`` (if it has them)
       when the source ends.
    3. a coroutine function (``async def``, or an object with an ``async def
       __call__``): run per event as an asyncio task, at most ``max_concurrency`` at once
       for that handler, FIFO beyond that (the mechanism of :func:`spawn`).
    4. any other callable: called inline with the event; keep it quick. If it returns an
       awaitable (``lambda e: reply(e)``), that runs as a task like 3.

    Failures: a handler (or predicate, or pipeline) that raises is reported on
    ``errors`` as a :class:`HandlerError` carrying the key, handler and event (logged
    when ``errors`` is ``None``). It never reaches the source, and the other handlers
    carry on; a plain or async handler keeps receiving later events.

    Push-down: when no key is a bare predicate, the route asks its source for the union
    of its keys' flags; a bare predicate (or ``Event``/``Dispatch``) asks for everything.

    Example::

        >>> failures = Subject()
        >>> routing = shards.pipe(route({
        ...     MessageCreate: on_message,                       # async def: a task each
        ...     EventTypeFlags.GUILD_CREATE | EventTypeFlags.GUILD_DELETE: guilds,   # an Observer
        ...     lambda e: e.guild_id == AUDITED: audit,          # events without guild_id skip it
        ... }, errors=failures))
        >>> ...
        >>> await routing.aclose()

    Args:
        table: a mapping (or ``(key, handler)`` pairs) from keys to handlers.
        errors: an Observer (a ``Subject``) for handler failures, as
            :class:`HandlerError`; ``None`` logs them on ``rxgateway.ops``.
        max_concurrency: the most tasks running at once for each async handler.

    Returns:
        An operator: source -> :class:`Routing`. Applying it raises ``TypeError`` for
        a bad pipeline and ``RuntimeError`` if the table has an async handler and no
        event loop is running.
    """
    pairs = list(table.items()) if isinstance(table, Mapping) else list(table)
    if not pairs:
        raise TypeError("route() needs at least one (key, handler) entry")
    for pair in pairs:
        if not isinstance(pair, tuple) or len(pair) != 2:
            raise TypeError(f"a route table is a mapping or (key, handler) pairs, got {pair!r}")
    entries = [_Entry(key, handler) for key, handler in pairs]
    check_limit(max_concurrency)
    flags = 0
    for entry in entries:
        flags |= entry.flags

    def route_(source: Observable[Any]) -> Routing:
        routing = Routing(entries, errors, max_concurrency)
        try:
            routing._start(source, flags)
        except BaseException:
            routing.dispose()
            raise
        return routing

    return route_


__all__ = ["Handler", "RouteKey", "RouteTable", "Routing", "route"]
