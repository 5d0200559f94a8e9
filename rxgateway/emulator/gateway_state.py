"""What every connection of one emulator shares: configuration, bots, world, sessions,
the open connections and the record.

The state knows an open connection only as an :class:`OpenConnection` (what it, the
server and the control API ask of one); :class:`~.connection.Connection` implements it
and depends on this module, never the other way round.

Example::

    state = GatewayState(EmulatorConfig())
    state.violate(conn.record, ViolationKind.RATE_LIMITED, "121 payloads in 60 s", 4008)
"""

from __future__ import annotations

import time
from typing import Protocol

from ..protocol import CloseCode
from .accounts import Accounts, BotAccount
from .command_answers import Commands
from .faults import DispatchFaultPlan, Fault
from .journal import ConnectionRecord, Note, Record, Violation, ViolationKind
from .loop_watch import LoopWatch
from .playback import ReplaySource
from .sessions import ServerSession, SessionStore
from .settings import EmulatorConfig
from .world import World


class OpenConnection(Protocol):
    """An open client connection as the rest of the emulator sees it (the one
    implementation is :class:`~.connection.Connection`)."""

    @property
    def id(self) -> int:
        """The connection id (its record's)."""
        ...

    @property
    def record(self) -> ConnectionRecord:
        """What the connection did so far."""
        ...

    @property
    def session(self) -> ServerSession | None:
        """The session attached to it, if it identified or resumed."""
        ...

    def close_soon(self, code: int, reason: str = "") -> None:
        """Close with ``code`` from a task the connection owns."""
        ...

    def apply(self, fault: Fault) -> bool:
        """Inject ``fault``; whether it hit this connection."""
        ...

    async def drained(self) -> None:
        """Return once the connection's backlog is low again."""
        ...


class ShiftedClock:
    """``time.monotonic()`` plus a shift that only grows: the emulator's clock.

    Every window the emulator keeps (identify concurrency, session starts, resume,
    payload, presence and member-request limits) reads this clock, so
    :meth:`advance` moves them all forward at once. Timers of the event loop
    (heartbeat timeouts, the delays after op 7 / op 9) run on real time and do not move.
    """

    __slots__ = ("shift",)

    def __init__(self) -> None:
        self.shift = 0.0

    def __call__(self) -> float:
        return time.monotonic() + self.shift

    def advance(self, seconds: float) -> None:
        """Move the clock ``seconds`` forward (never back: windows only expire)."""
        if not seconds >= 0:
            raise ValueError(f"the emulator's clock only moves forward, got {seconds!r} s")
        self.shift += seconds


class GatewayState:
    """The state behind one emulator, shared by its connections and its HTTP routes."""

    def __init__(self, config: EmulatorConfig) -> None:
        self.config = config
        self.clock = ShiftedClock()
        #: How late the emulator's loop is (running while the server is started).
        self.watch = LoopWatch()
        self.accounts = Accounts(config)
        self.world = World(
            config.seed, config.guilds, config.members_per_guild, config.large_guilds, config.large_guild_members
        )
        self.sessions = SessionStore(config.resume_window_s, config.replay_buffer_length)
        self.commands = Commands(self.world, self.sessions, config)
        self.record = Record()
        #: Open connections by id.
        self.connections: dict[int, OpenConnection] = {}
        #: ``ws://host:port`` and ``ws://host:port/resume``, set once the server is bound.
        self.gateway_url = ""
        self.resume_url = ""
        #: How many of the next connections get op 7 instead of Hello (a fault).
        self.reconnects_before_hello = 0
        #: Heartbeat intervals (ms) the next new connections announce instead (hostile tests).
        self.bad_hellos: list[int] = []
        #: The recording served to every session (``--replay``), if any.
        self.replay: ReplaySource | None = None
        #: Faults by dispatch count (``fault_every_dispatches``); ``None``: off. Replaced
        #: as a whole (never mutated): each connection restarts its count when it changes.
        self.fault_plan: DispatchFaultPlan | None = None
        if config.fault_every_dispatches is not None:
            self.fault_plan = DispatchFaultPlan.make(config.fault_every_dispatches, config.dispatch_faults)
        self._next_connection_id = 0

    def new_connection_id(self) -> int:
        self._next_connection_id += 1
        return self._next_connection_id

    def violate(self, conn: ConnectionRecord, kind: ViolationKind, detail: str, close_code: int | None = None) -> None:
        """Record that the client on ``conn`` broke a rule."""
        self.record.violations.append(Violation(kind, conn.id, self.clock(), detail, close_code, conn.shard))

    def note(self, conn: ConnectionRecord, op: int, detail: str) -> None:
        """Record that the client on ``conn`` sent something accepted leniently."""
        self.record.notes.append(Note(self.clock(), conn.id, conn.shard, op, detail))

    def revoke(self, account: BotAccount) -> None:
        """The daily budget ran out (§5.2 [EMU]): refuse the token from now on, close
        every connection of the bot with 4004 and forget its sessions."""
        account.revoked = True
        for connection in list(self.connections.values()):
            if connection.session is not None and connection.session.account is account:
                connection.close_soon(int(CloseCode.AUTHENTICATION_FAILED), "session start limit reached")
        for session in self.sessions:
            if session.account is account:
                self.sessions.delete(session)
