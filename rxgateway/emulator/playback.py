"""Serving a recording to any client: ``rxgateway emulate --replay FILE``,
``GatewayEmulator(replay=path)``.

A recording (``rxgateway run --record``, :mod:`rxgateway.record`) holds what real
shards received. Served by the emulator, it lets any bot (ours or not) meet that
session's traffic again, offline, as often as wanted. (Replaying a recording into a
pipeline, with no gateway at all, is :mod:`rxgateway.replay`.)

Theory of operation. The file is read once, when the emulator is created: each
recorded dispatch becomes a :class:`~.dispatch.OutgoingDispatch` (its ``d`` serialised
once, its routing key and intents worked out), kept with its recorded time and
shard. READY and RESUMED are not replayed: they belong to the recorded sessions,
and every emulated session gets its own. What the recorded READYs said is kept:
the bot user and the guilds of each shard.

When a client's Identify is accepted, the emulator sends its own READY (its session
id and resume URL) carrying the recorded user and the recorded guilds (unavailable,
as Discord sends them) of the client's shard, then starts a feeder task for the
session. The feeder pushes the recorded dispatches to the session at their recorded
offsets (divided by the speed), each numbered by the session like any dispatch, and
filtered by the session's intents like any dispatch. The recorded GUILD_CREATEs
come first, as they did. While the client is away the session buffers what is
pushed and a Resume replays it, as for generated traffic. The feeder ends with the
recording, or when the session ends; it is a task of the emulator, cancelled by
``stop()``. Each one leaves a :class:`~.journal.ReplayRecord` in ``emu.record.replays``.

Routing (``route``):

* ``"shard"``: a session of shard *n* gets what recorded shard *n* received, timed
  from that shard's first READY.
* ``"guild"``: a session gets every recorded dispatch whose guild its shard owns by
  the sharding formula (GATEWAY.md §6.1; guild-less ones on shard 0), from every
  recorded shard, timed from the recording's first READY: any shard count works.
* ``"auto"`` (the default): ``"shard"`` when the session's shard count is the
  recording's, else ``"guild"``.

Example::

    async with GatewayEmulator(replay="session.jsonl.zst", replay_speed=4.0, shards=4) as emu:
        ...                                   # connect a bot: it gets the session's events
        print(emu.replay.dispatches, [r.sent for r in emu.record.replays])
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

import orjson

from ..errors import DeserializationError
from ..protocol import ShardId
from ..protocol.envelope import read_envelope
from ..record import Recording
from .dispatch import OutgoingDispatch
from .journal import ReplayRecord
from .sessions import ServerSession, SessionStore

#: The ``route`` values (see the module docstring).
ROUTES = ("auto", "shard", "guild")
#: Dispatches that belong to the recorded sessions and are never replayed.
SESSION_DISPATCHES = frozenset({"READY", "RESUMED"})
#: A feeder lets the connection's writer catch up after this many dispatches.
REPLAY_BATCH = 256

Spawn = Callable[[Coroutine[Any, Any, None]], None]


@dataclass(frozen=True, slots=True)
class ReplayedDispatch:
    """One recorded dispatch, ready to deliver."""

    t_ns: int
    """Its arrival time in the recording (ns from the recording's start)."""
    shard: ShardId
    """The recorded shard that received it."""
    dispatch: OutgoingDispatch


class ReplaySource:
    """A recording loaded for serving: what each session gets, and the feeders.

    Example::

        source = ReplaySource("session.jsonl.zst", speed=None, route="guild")
        source.dispatches, source.shard_count
    """

    def __init__(self, path: str | os.PathLike[str], *, speed: float | None = 1.0, route: str = "auto") -> None:
        if route not in ROUTES:
            raise ValueError(f"route must be one of {ROUTES}, not {route!r}")
        if speed is not None and not speed > 0:
            raise ValueError(f"speed must be positive (or None for as fast as the client reads), not {speed!r}")
        self.path = os.fspath(path)
        self.speed = speed
        self.route = route
        #: Every replayable dispatch in recorded order.
        self.items: list[ReplayedDispatch] = []
        #: Per recorded shard number: the recorded guild ids of its first READY.
        self.guilds: dict[int, list[str]] = {}
        #: The bot user of the first recorded READY (``None``: the emulator's own).
        self.user: dict[str, Any] | None = None
        #: Recorded dispatches that could not be replayed (``d`` not an object, not JSON).
        self.skipped = 0
        self._ready_at: dict[int, int] = {}
        self._first_at: dict[int, int] = {}
        totals: set[int] = set()
        with Recording(self.path) as recording:
            for frame in recording:
                totals.add(frame.shard.total)
                self._load(frame.t_ns, frame.shard, frame.payload)
        #: The recording's shard count (1 for an empty recording).
        self.shard_count = max(totals, default=1)
        self._spawn: Spawn | None = None
        self._sessions: SessionStore | None = None
        self._records: list[ReplayRecord] | None = None
        self._clock: Callable[[], float] | None = None

    @property
    def dispatches(self) -> int:
        """How many recorded dispatches can be replayed."""
        return len(self.items)

    def _load(self, t_ns: int, shard: ShardId, payload: bytes) -> None:
        try:
            op, _, name = read_envelope(payload)
        except DeserializationError:
            self.skipped += 1
            return
        if op != 0 or name is None:
            return
        self._first_at.setdefault(shard.number, t_ns)
        if name in SESSION_DISPATCHES and name != "READY":
            return
        try:
            d = orjson.loads(payload).get("d")
        except orjson.JSONDecodeError:
            self.skipped += 1
            return
        if not isinstance(d, dict):
            self.skipped += 1
            return
        if name == "READY":
            if shard.number not in self._ready_at:
                self._ready_at[shard.number] = t_ns
                guilds = d.get("guilds")
                self.guilds[shard.number] = [
                    str(g["id"]) for g in guilds if isinstance(g, dict) and "id" in g
                ] if isinstance(guilds, list) else []  # fmt: skip
                user = d.get("user")
                if self.user is None and isinstance(user, dict):
                    self.user = user
            return
        self.items.append(ReplayedDispatch(t_ns, shard, OutgoingDispatch.build(name, d)))

    # -- serving -----------------------------------------------------------------

    def bind(
        self, spawn: Spawn, sessions: SessionStore, records: list[ReplayRecord], clock: Callable[[], float]
    ) -> None:
        """Called by the emulator: where feeder tasks, sessions and records live."""
        self._spawn, self._sessions, self._records, self._clock = spawn, sessions, records, clock

    def route_for(self, shard: ShardId) -> str:
        """``"shard"`` or ``"guild"``: how a session of ``shard`` is served."""
        if self.route != "auto":
            return self.route
        return "shard" if shard.total == self.shard_count else "guild"

    def ready(self, ready: dict[str, Any], shard: ShardId) -> None:
        """Put the recorded user and ``shard``'s recorded guilds into ``ready`` (the ``d``
        of the READY the emulator is about to send)."""
        if self.user is not None:
            ready["user"] = self.user
        if self.route_for(shard) == "shard":
            ids = self.guilds.get(shard.number, [])
        else:
            ids = [g for gs in self.guilds.values() for g in gs if _owner(int(g), shard.total) == shard.number]
        ready["guilds"] = [{"id": g, "unavailable": True} for g in ids]

    def timeline(self, shard: ShardId) -> list[tuple[int, OutgoingDispatch]]:
        """What a session of ``shard`` gets: ``(offset_ns, dispatch)`` in order, the
        offset counted from its READY."""
        if self.route_for(shard) == "shard":
            origin = self._ready_at.get(shard.number, self._first_at.get(shard.number, 0))
            chosen = [item for item in self.items if item.shard.number == shard.number]
        else:
            origin = min(self._ready_at.values(), default=min(self._first_at.values(), default=0))
            chosen = [item for item in self.items if _owner(item.dispatch.guild_id, shard.total) == shard.number]
        return [(max(0, item.t_ns - origin), item.dispatch) for item in chosen]

    def serve(self, session: ServerSession) -> None:
        """Start feeding ``session`` (just identified, READY pushed) its timeline."""
        if self._spawn is None or self._records is None or self._clock is None:
            raise RuntimeError("the replay source is not bound to an emulator")
        timeline = self.timeline(session.shard)
        record = ReplayRecord(self._clock(), session.id, session.shard, self.route_for(session.shard), len(timeline))
        self._records.append(record)
        self._spawn(self._feed(session, timeline, record))

    async def _feed(
        self, session: ServerSession, timeline: list[tuple[int, OutgoingDispatch]], record: ReplayRecord
    ) -> None:
        loop = asyncio.get_running_loop()
        sessions, speed = self._sessions, self.speed
        assert sessions is not None and self._clock is not None
        start = loop.time()
        try:
            for index, (offset_ns, dispatch) in enumerate(timeline):
                if speed is not None:
                    delay = start + offset_ns / 1e9 / speed - loop.time()
                    if delay > 0:
                        await asyncio.sleep(delay)
                if session not in sessions:
                    record.ended = "session ended"
                    return
                session.push(dispatch)
                record.sent += 1
                if index % REPLAY_BATCH == REPLAY_BATCH - 1:
                    outlet = session.connection
                    if outlet is not None:
                        await outlet.drained()
                    else:
                        await asyncio.sleep(0)
            record.ended = "recording ended"
        except asyncio.CancelledError:
            record.ended = "emulator stopped"
            raise
        finally:
            record.finished_at = self._clock()

    def describe(self) -> str:
        """One line for the command's banner."""
        pace = "as fast as clients read" if self.speed is None else f"at x{self.speed:g} the recorded pace"
        return (
            f"{self.path}: {self.dispatches} dispatches of {self.shard_count} shard(s), {pace}, "
            f"routed by {self.route}"
        )


def _owner(guild_id: int | None, total: int) -> int:
    """The shard number that owns ``guild_id`` among ``total`` (§6.1); 0 without a guild."""
    return 0 if guild_id is None else (guild_id >> 22) % total


def recorded_shard_count(path: str | os.PathLike[str]) -> int:
    """The shard count of a recording (the largest ``total`` in it; 1 when empty),
    read without parsing a payload."""
    with Recording(path) as recording:
        return max((frame.shard.total for frame in recording), default=1)
