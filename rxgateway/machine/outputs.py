"""What the shard machine hands back: actions for the driver, and outputs for observers.

The machine never performs I/O. Each input method returns a list of these small
frozen records; the driver carries out the actions in order and forwards the
outputs to the event layer.

Actions (the driver must do these):

- :class:`Connect`: open a websocket to ``url``; report ``on_connected`` or
  ``on_connect_failed``.
- :class:`Send`: write ``data`` as one text frame on the current connection.
- :class:`Close`: send a close frame with ``code``, close the socket, report ``on_closed``.
- :class:`Drop`: abandon the socket without a close handshake, report ``on_closed``.
- :class:`RequestIdentify` / :class:`CancelIdentify`: ask the identify queue for a
  permit (report ``on_identify_granted``), or withdraw the request.

Outputs (for observers):

- :class:`Received`: an inbound gateway payload, raw, with what the machine read of it.
  When an input returns a lone ``Received`` (a dispatch, an ACK), nothing else changed:
  no state, no timer. Drivers may rely on that for their per-frame fast path.
- :class:`StateChanged`, :class:`Closed` (every connection's end), :class:`Problem`
  (something went wrong and the shard goes on: an inbound frame it could not read, an
  identify queue that failed, commands it could not send), :class:`Fatal` (the shard
  is over).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..errors import GatewayError
from .state import ShardState


@dataclass(frozen=True, slots=True)
class Connect:
    """Open a websocket to ``url`` (already carrying ``?v=10&encoding=json...``)."""

    url: str
    to_resume_url: bool = False


@dataclass(frozen=True, slots=True)
class Send:
    """Write ``data`` as one text frame. ``kind`` names it for logs."""

    data: bytes
    kind: str


@dataclass(frozen=True, slots=True)
class Close:
    """Send a close frame and close the socket."""

    code: int
    reason: str = ""


@dataclass(frozen=True, slots=True)
class Drop:
    """Abandon the socket at once, with no close handshake (a zombie or a dead link)."""

    reason: str


@dataclass(frozen=True, slots=True)
class RequestIdentify:
    """Ask the identify queue for permission to identify."""


@dataclass(frozen=True, slots=True)
class CancelIdentify:
    """Withdraw a pending identify request."""


@dataclass(slots=True)
class Received:
    """An inbound payload.

    ``data`` is the parsed payload when the machine had to parse it (Hello, READY,
    op 9), else ``None``: the event layer parses on demand. Not frozen only because a
    frozen dataclass costs several times more to build, and one is built per frame:
    treat it as immutable.
    """

    op: int
    sequence: int | None
    name: str | None
    raw: bytes
    data: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class StateChanged:
    """The shard moved from ``old`` to ``new``."""

    old: ShardState
    new: ShardState


@dataclass(frozen=True, slots=True)
class Closed:
    """A connection ended. ``code`` is ``None`` when no close frame was exchanged
    (shown as 1006). ``initiator`` is ``"server"``, ``"client"`` or ``"transport"``."""

    code: int | None
    reason: str
    initiator: str


@dataclass(frozen=True, slots=True)
class Problem:
    """Something went wrong and the shard goes on (or resumes): a frame it could not
    read, an identify queue that raised, commands that could not be sent. Never
    silent: the driver logs it and hands it to observers as an error event."""

    error: GatewayError


#: The former name of :class:`Problem`, when it only reported inbound frames.
ReceiveError = Problem


@dataclass(frozen=True, slots=True)
class Fatal:
    """The shard cannot continue."""

    error: GatewayError


#: What the machine asks the driver to do (see the module docstring).
Action = Connect | Send | Close | Drop | RequestIdentify | CancelIdentify
#: Everything the machine emits: an :data:`Action` for the driver, or news for observers.
Output = Action | Received | StateChanged | Closed | Problem | Fatal
