from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

from reactivex import Observable, abc
from reactivex.disposable import Disposable

from ._errors import ErrorSink, HandlerError, report
from ._tasks import DEFAULT_MAX_CONCURRENCY, TaskPool, check_limit, running_loop

_T = TypeVar("_T")
_R = TypeVar("_R")


class Spawn(Generic[_T, _R]):
    """The operator :func:`spawn` returns. Apply it with ``source.pipe(...)``; it owns
    the tasks of every subscription made through it, and :meth:`join` awaits them."""

    def __init__(
        self,
        handler: Callable[[_T], Awaitable[_R]],
        max_concurrency: int,
        errors: ErrorSink | None,
    ) -> None:
        self.handler = handler
        self.max_concurrency = check_limit(max_concurrency)
        self.errors = errors
        self._pools: set[TaskPool[_T, _R]] = set()

    @property
    def running(self) -> int:
        """Tasks running now, over every subscription."""
        return sum(pool.running for pool in self._pools)

    @property
    def queued(self) -> int:
        """Events waiting for a free slot, over every subscription."""
        return sum(pool.queued for pool in self._pools)

    async def join(self) -> None:
        """Wait until every task this operator started has ended: finished, or (after
        a dispose) cancelled. Returns at once when nothing runs."""
        while True:
            busy = [pool for pool in self._pools if not pool.idle]
            if not busy:
                return
            for pool in busy:
                await pool.join()

    def __call__(self, source: Observable[_T]) -> Observable[_R]:
        handler = self.handler
        errors = self.errors
        pools = self._pools
        limit = self.max_concurrency

        def subscribe(observer: abc.ObserverBase[_R], scheduler: abc.SchedulerBase | None = None) -> abc.DisposableBase:
            loop = running_loop("spawn")
            ended = False
            failure: Exception | None = None

            def on_result(_event: _T, result: _R) -> None:
                try:
                    observer.on_next(result)
                except Exception as exc:  # the subscriber's bug: reported, not raised into the loop
                    report(errors, HandlerError(exc, result, observer))

            def on_failure(event: _T, error: BaseException) -> None:
                report(errors, HandlerError(error, event, handler))

            def finish() -> None:
                pool.close()
                if failure is not None:
                    observer.on_error(failure)
                else:
                    observer.on_completed()

            def on_idle() -> None:
                if ended:
                    finish()

            def on_released() -> None:
                pools.discard(pool)

            pool: TaskPool[_T, _R] = TaskPool(loop, limit, on_result, on_failure, on_idle, on_released)
            pools.add(pool)

            def on_next(event: _T) -> None:
                pool.submit(event, handler)

            def on_end(error: Exception | None) -> None:
                nonlocal ended, failure
                ended, failure = True, error
                if pool.idle:
                    finish()

            subscription = source.subscribe(
                on_next, lambda error: on_end(error), lambda: on_end(None), scheduler=scheduler
            )

            def dispose() -> None:
                subscription.dispose()
                pool.close()

            return Disposable(dispose)

        return Observable(subscribe)


def spawn(
    handler: Callable[[_T], Awaitable[_R]],
    *,
    max_concurrency: int = DEFAULT_MAX_CONCURRENCY,
    errors: ErrorSink | None = None,
) -> Spawn[_T, _R]:
    """Run an async handler for each event as an asyncio task, and emit its results.

    ``on_next`` returns at once: the producer (a shard's receive loop) never waits for
    a handler. At most ``max_concurrency`` tasks run at once per subscription; further
    events wait in a FIFO queue and start in arrival order as tasks end. None is
    dropped, so a handler slower than the event rate grows the queue: bound the
    source (``on``, ``filter``, ``sample``) if that can happen.

    Results are emitted downstream in completion order. A handler that raises (or
    cancels itself) is reported on ``errors`` as a :class:`HandlerError` (or logged
    on the ``rxgateway.ops`` logger when ``errors`` is ``None``); the stream goes on.

    Ownership: disposing the subscription cancels the running tasks and drops the
    queue; ``await op.join()`` waits until the cancelled tasks have ended. When the
    source completes, the result stream completes after the queued and running tasks
    have finished; when the source errors, it errors the same way, after them.

    Must be subscribed on a running event loop (a coroutine, a notebook cell);
    otherwise subscribing raises ``RuntimeError``. Nothing here blocks or starts a loop.

    Example::

        >>> async def reply(event):
        ...     await rest.create_message(event.channel_id, "pong")
        ...     return event.id
        >>> replying = spawn(reply, max_concurrency=4, errors=failures)
        >>> shard.pipe(on(EventTypeFlags.MESSAGE_CREATE), replying).subscribe(print)
        >>> ...
        >>> subscription.dispose(); await replying.join()

    Args:
        handler: an async function (or any function returning an awaitable) of one event.
        max_concurrency: the most tasks running at once per subscription (at least 1).
        errors: an Observer (a ``Subject``) for handler failures; ``None`` to log them.

    Returns:
        A :class:`Spawn` operator: source -> an Observable of the handler's results.
    """
    return Spawn(handler, max_concurrency, errors)


__all__ = ["Spawn", "spawn"]
