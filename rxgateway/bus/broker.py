"""The contract every broker of the bus honours (NATS JetStream, Redis Streams).

A broker moves :class:`~rxgateway.bus.bus_event.BusEvent` s from the gateway side to
consumers, and gateway commands back. The bus (:mod:`rxgateway.bus.bus`) and the
publisher (:mod:`rxgateway.bus.publisher`) are written against this protocol only, so
both brokers behave the same way to the code above them:

- **Publish** stores each event once per key (``shard:session:sequence``) within the
  broker's duplicate window: a resume's replay publishes keys again and they are
  skipped. Streams are bounded (age and length, see each broker).
- **Subscribe** by event type: only the types asked for cross the wire (a subject
  filter on NATS, a stream per type on Redis). ``group=None`` is fan-out (this
  subscriber sees every event from now on); a named group shares the work (each
  event goes to one member of the group; one not acknowledged within the ack wait
  goes to another). Delivery is at least once; :meth:`Delivery.ack` after the
  handler finished.
- **Commands** travel on their own subject/stream, accepted only there: a command is
  a shard number and at most 4096 bytes of JSON (one check for both brokers,
  :func:`~rxgateway.bus.bus_event.command_problem`); the gateway side answers each
  (delivered, or why not), so a sender learns of a failure.
- **Lag**: :meth:`Broker.group_lag` says how many events a group has yet to handle
  (what :meth:`Metrics.watch_bus <rxgateway.metrics.Metrics.watch_bus>` reports).

Example::

    async for delivery in broker.subscribe({"MESSAGE_CREATE"}, group="moderation", consumer="worker-1"):
        handle(delivery.event)
        await delivery.ack()
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Collection, Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from .bus_event import BusEvent

__all__ = ["Broker", "BusCommand", "CommandDelivery", "Delivery", "Published"]


class Published(int):
    """What :meth:`Broker.publish` returns: the number of events stored as new (an
    ``int``, so it adds and compares as one), with :attr:`skipped`, how many of the
    events handed in the broker can never take (over the server's payload limit, an
    invalid type name: each logged). The rest were duplicates (keys stored already).

    Example::

        >>> new = Published(7, skipped=1)
        >>> new == 7, new.skipped
        (True, 1)
    """

    skipped: int

    def __new__(cls, new: int, *, skipped: int = 0) -> Published:
        value = super().__new__(cls, new)
        value.skipped = skipped
        return value


@dataclass(frozen=True, slots=True)
class BusCommand:
    """A gateway command for shard ``shard`` (``data`` is its JSON), with an id that
    its answer carries."""

    id: str
    shard: int
    data: bytes


@runtime_checkable
class Delivery(Protocol):
    """One event handed to a subscriber."""

    @property
    def event(self) -> BusEvent: ...

    @property
    def redelivered(self) -> bool:
        """The broker delivered it before (to this or another consumer of the group)."""
        ...

    async def ack(self) -> None:
        """Handled: never deliver it again (to this group)."""
        ...

    async def retry(self) -> None:
        """Not handled: deliver it again (to any consumer of the group)."""
        ...


@runtime_checkable
class CommandDelivery(Protocol):
    """A command received on the gateway side; answer it exactly once."""

    @property
    def command(self) -> BusCommand: ...

    async def answer(self, error: str | None) -> None:
        """``None``: the command was handed to its shard; else why it was not."""
        ...


@runtime_checkable
class Broker(Protocol):
    """A message broker carrying one application's events and commands."""

    @property
    def app(self) -> str:
        """The application's name: the prefix of every subject, stream and key."""
        ...

    async def publish(self, events: Sequence[BusEvent]) -> int:
        """Store ``events``; returns how many were new (duplicates skipped), as a
        :class:`Published` when the broker also says how many it could never take.
        Raises :class:`~rxgateway.errors.BusError` if the broker cannot take them."""
        ...

    async def group_lag(self, names: Collection[str] | None, *, group: str) -> int:
        """Events of the types ``names`` (``None``: every type) that consumer group
        ``group`` has not acknowledged yet: those not delivered to any of its members,
        plus those delivered and not acknowledged (a handler still busy, or a member
        that died with them). 0 for a group that does not exist yet (a new group
        starts from its creation). Raises :class:`~rxgateway.errors.BusError`."""
        ...

    def subscribe(
        self, names: Collection[str] | None, *, group: str | None, consumer: str
    ) -> AsyncIterator[Delivery]:
        """Events of the types ``names`` (``None``: every type), from now on for
        fan-out, from where the group stands for a named ``group``."""
        ...

    async def send_command(self, command: BusCommand, *, timeout: float) -> None:
        """Send a command and wait for its answer; raises
        :class:`~rxgateway.errors.CommandsNotSentError` with the gateway's reason, or if
        no answer came within ``timeout`` seconds."""
        ...

    def serve_commands(self, *, group: str, consumer: str) -> AsyncIterator[CommandDelivery]:
        """The gateway side: commands sent to this application, each to one consumer of
        ``group``. Malformed or oversized ones are refused and logged, never yielded."""
        ...

    async def aclose(self) -> None:
        """Close the broker's connections (a client handed in stays open)."""
        ...
