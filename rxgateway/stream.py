"""``async for event in shard.events(flags)``: a flag-aware source as an async iterator.

Example::

    async with shard.events(EventTypeFlags.MESSAGE_CREATE) as stream:
        async for event in stream:
            print(event.content)
"""

from __future__ import annotations

import asyncio
from typing import Any

from reactivex import abc

from .events.base import Event
from .protocol.event_type import EventTypeFlags

__all__ = ["EventStream"]


class EventStream(abc.ObserverBase[Event]):
    """An async iterator over a flag-aware source's events (a Shard or ShardGroup).

    Subscribes when created, buffers without bound, and unsubscribes when exhausted,
    on :meth:`aclose`, or on leaving ``async with``.
    """

    def __init__(self, source: Any, flags: EventTypeFlags | int) -> None:
        self._queue: asyncio.Queue[tuple[int, Any]] = asyncio.Queue()
        self._done = False
        self._disposable: abc.DisposableBase | None = None
        self._disposable = source.subscribe_flags(self, flags)

    def on_next(self, value: Event) -> None:
        self._queue.put_nowait((0, value))

    def on_error(self, error: Exception) -> None:
        self._queue.put_nowait((1, error))

    def on_completed(self) -> None:
        self._queue.put_nowait((2, None))

    def __aiter__(self) -> EventStream:
        return self

    async def __anext__(self) -> Event:
        if self._done:
            raise StopAsyncIteration
        kind, value = await self._queue.get()
        if kind == 0:
            return value  # type: ignore[no-any-return]
        self._done = True
        self._dispose()
        if kind == 1:
            raise value
        raise StopAsyncIteration

    async def aclose(self) -> None:
        """Stop receiving."""
        self._done = True
        self._dispose()

    async def __aenter__(self) -> EventStream:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    def _dispose(self) -> None:
        if self._disposable is not None:
            self._disposable.dispose()
            self._disposable = None
