"""Helpers for the operator tests: events, a typed event class, and a fake
flag-aware shard that counts what it parses."""

from __future__ import annotations

from collections import Counter
from typing import Any

from reactivex import Observable, abc
from reactivex.disposable import Disposable

from rxgateway.events.base import Dispatch, Event
from rxgateway.protocol.event_type import EventType, EventTypeFlags
from rxgateway.protocol.shard_id import ShardId

SHARD0 = ShardId(0, 2)
SHARD1 = ShardId(1, 2)
ALL = int(EventTypeFlags.all())
MC = EventTypeFlags.MESSAGE_CREATE
GC = EventTypeFlags.GUILD_CREATE
GD = EventTypeFlags.GUILD_DELETE
READY = EventTypeFlags.READY


class MessageCreate(Dispatch):
    """A stand-in typed dispatch (the real ones live in rxgateway/events/)."""

    __slots__ = ()
    type = EventType.MESSAGE_CREATE  # type: ignore[assignment]

    @property
    def content(self) -> str:
        return str(self.raw["content"])

    @property
    def guild_id(self) -> int | None:
        gid = self.raw.get("guild_id")
        return None if gid is None else int(gid)


class GuildCreate(Dispatch):
    __slots__ = ()
    type = EventType.GUILD_CREATE  # type: ignore[assignment]

    @property
    def guild_id(self) -> int:
        return int(self.raw["id"])


def dispatch(name: str, seq: int = 1, shard: ShardId = SHARD0, **raw: Any) -> Dispatch:
    """A plain dispatch, as a shard without typed classes emits it."""
    return Dispatch(shard, seq, name, raw, EventType[name])


def message(content: str = "hi", seq: int = 1, shard: ShardId = SHARD0, guild_id: int | None = None) -> MessageCreate:
    raw: dict[str, Any] = {"content": content}
    if guild_id is not None:
        raw["guild_id"] = str(guild_id)
    return MessageCreate(shard, seq, "MESSAGE_CREATE", raw, EventType.MESSAGE_CREATE)


def guild_create(guild_id: int, seq: int = 1, shard: ShardId = SHARD0) -> GuildCreate:
    return GuildCreate(shard, seq, "GUILD_CREATE", {"id": str(guild_id)}, EventType.GUILD_CREATE)


class FakeShard(Observable[Event]):
    """Flag-aware like ``Shard``: ``subscribe_flags`` records demand; ``feed`` hands a
    frame to the "parser" only when some subscriber asked for its type, and counts
    each parser call per type name."""

    def __init__(self, shard: ShardId = SHARD0) -> None:
        super().__init__()
        self.id = shard
        self._subs: list[tuple[int, abc.ObserverBase[Event]]] = []
        self.parsed: Counter[str] = Counter()
        self.requests: list[int] = []  # the flags of every subscribe_flags call

    @property
    def demand(self) -> int:
        demand = 0
        for flags, _ in self._subs:
            demand |= flags
        return demand

    def _subscribe_core(
        self, observer: abc.ObserverBase[Event], scheduler: abc.SchedulerBase | None = None
    ) -> abc.DisposableBase:
        return self.subscribe_flags(observer, ALL)

    def subscribe_flags(self, observer: abc.ObserverBase[Event], flags: EventTypeFlags | int) -> abc.DisposableBase:
        entry = (int(flags), observer)
        self._subs.append(entry)
        self.requests.append(int(flags))

        def remove() -> None:
            if entry in self._subs:
                self._subs.remove(entry)

        return Disposable(remove)

    def _parse(self, name: str, seq: int) -> Event:
        self.parsed[name] += 1
        if name == "MESSAGE_CREATE":
            return message(f"m{seq}", seq, self.id)
        if name == "GUILD_CREATE":
            return guild_create(seq, seq, self.id)
        return dispatch(name, seq, self.id)

    def feed(self, name: str, seq: int = 1) -> Event | None:
        """A frame of type ``name`` arrives; returns the event if it was parsed."""
        bit = int(EventTypeFlags[name])
        if not self.demand & bit:
            return None  # nobody asked: never parsed
        event = self._parse(name, seq)
        for flags, observer in list(self._subs):
            if flags & bit:
                observer.on_next(event)
        return event

    def complete(self) -> None:
        for _, observer in list(self._subs):
            observer.on_completed()
        self._subs.clear()

    def fail(self, error: Exception) -> None:
        for _, observer in list(self._subs):
            observer.on_error(error)
        self._subs.clear()


class Collect(abc.ObserverBase[Any]):
    """An Observer that records everything."""

    def __init__(self) -> None:
        self.values: list[Any] = []
        self.errors: list[Exception] = []
        self.completed = 0

    def on_next(self, value: Any) -> None:
        self.values.append(value)

    def on_error(self, error: Exception) -> None:
        self.errors.append(error)

    def on_completed(self) -> None:
        self.completed += 1
