"""The states a shard moves through (reference/twilight.md §1.3 and §2.2).

::

    Disconnected(n) --connect--> Identifying --Hello, session--> Resuming --RESUMED--> Active
                                      |                                                  ^
                                      +--Hello, no session, queue permit, READY----------+
    any --fatal close code--> FatallyClosed          any --user close--> Closed

``Disconnected.attempts`` counts consecutive connections that failed to reach a
session; it drives the reconnect backoff and goes back to 0 once the shard is Active.
``Closed`` is ours: twilight has no terminal state for a shard its user closed.

Example::

    >>> ShardState.ACTIVE.is_identified
    True
    >>> ShardState.disconnected(3)
    ShardState.disconnected(3)
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import ClassVar


class StateKind(enum.Enum):
    """The kind of a :class:`ShardState`."""

    DISCONNECTED = "disconnected"
    IDENTIFYING = "identifying"
    RESUMING = "resuming"
    ACTIVE = "active"
    FATALLY_CLOSED = "fatally_closed"
    CLOSED = "closed"


@dataclass(frozen=True, slots=True)
class ShardState:
    """A shard's state: its kind and, when disconnected, the failed attempts so far."""

    kind: StateKind
    attempts: int = 0

    DISCONNECTED: ClassVar[ShardState]
    IDENTIFYING: ClassVar[ShardState]
    RESUMING: ClassVar[ShardState]
    ACTIVE: ClassVar[ShardState]
    FATALLY_CLOSED: ClassVar[ShardState]
    CLOSED: ClassVar[ShardState]

    @classmethod
    def disconnected(cls, attempts: int) -> ShardState:
        """Disconnected after ``attempts`` consecutive failed connections."""
        return cls(StateKind.DISCONNECTED, attempts)

    @property
    def is_identified(self) -> bool:
        """Active or Resuming: commands may be sent."""
        return self.kind is StateKind.ACTIVE or self.kind is StateKind.RESUMING

    @property
    def is_terminal(self) -> bool:
        """Closed or FatallyClosed: the shard will not connect again."""
        return self.kind is StateKind.CLOSED or self.kind is StateKind.FATALLY_CLOSED

    def __repr__(self) -> str:
        if self.kind is StateKind.DISCONNECTED:
            return f"ShardState.disconnected({self.attempts})"
        return f"ShardState.{self.kind.name}"

    def __str__(self) -> str:
        if self.kind is StateKind.DISCONNECTED:
            return f"Disconnected({self.attempts})"
        return self.kind.name.replace("_", " ").title().replace(" ", "")


ShardState.DISCONNECTED = ShardState(StateKind.DISCONNECTED)
ShardState.IDENTIFYING = ShardState(StateKind.IDENTIFYING)
ShardState.RESUMING = ShardState(StateKind.RESUMING)
ShardState.ACTIVE = ShardState(StateKind.ACTIVE)
ShardState.FATALLY_CLOSED = ShardState(StateKind.FATALLY_CLOSED)
ShardState.CLOSED = ShardState(StateKind.CLOSED)
