"""Typed errors. Each keeps its cause (``__cause__``), which twilight's ``into_parts`` loses.

Recoverable receive problems (a bad compressed frame, undecodable JSON) are reported as
values on the event stream and in logs; only what cannot recover ends a shard.
"""

from __future__ import annotations


class GatewayError(Exception):
    """Base class of every rxgateway error."""


class FatalCloseError(GatewayError):
    """The gateway closed with a code that forbids reconnecting (4004, 4010-4014)."""

    def __init__(self, code: int, reason: str = "") -> None:
        self.code = code
        self.reason = reason
        from .protocol.close import CloseCode

        try:
            name = CloseCode(code).name
        except ValueError:
            name = "UNKNOWN"
        detail = f": {reason}" if reason else ""
        super().__init__(f"gateway closed the shard with fatal code {code} ({name}){detail}")


class AuthenticationError(FatalCloseError):
    """The token was refused (close code 4004, or HTTP 401)."""


class DisallowedIntentsError(FatalCloseError):
    """A privileged intent was not enabled for the application (close code 4014)."""


class CompressionError(GatewayError):
    """A transport-compressed frame could not be decompressed."""


class DeserializationError(GatewayError):
    """A frame could not be decoded as a gateway payload."""

    def __init__(self, message: str, payload: bytes | str = b"") -> None:
        self.payload = payload
        super().__init__(message)


class SendError(GatewayError):
    """A command could not be sent: invalid, too large, or the shard is closed."""


class PayloadTooLargeError(SendError):
    """A payload is over the gateway's 4096-byte limit (GATEWAY.md §11.3)."""


class ShardClosedError(SendError):
    """The shard was closed; nothing more can be sent through it."""


class CommandsNotSentError(SendError):
    """Commands the shard had accepted were never written: it closed for good with them
    still queued. Reported as an error event, never dropped silently. ``payloads``
    holds them in order (serialised JSON), to be sent through another shard or later.
    """

    def __init__(self, message: str, payloads: tuple[bytes, ...] = ()) -> None:
        self.payloads = payloads
        super().__init__(message)


class IdentifyQueueError(GatewayError):
    """The identify queue failed to grant a permit (its ``acquire`` raised: a Redis
    queue whose server is down, say). The shard reports it and asks again, backing off."""


class ConnectError(GatewayError):
    """Connecting to the gateway failed (the shard retries with backoff)."""


class HTTPError(GatewayError):
    """A REST call failed; ``status`` is the HTTP status when there was an answer."""

    def __init__(self, message: str, status: int | None = None) -> None:
        self.status = status
        super().__init__(message)


class UnauthorizedError(HTTPError):
    """The REST API answered 401: the token is invalid."""


class SessionStoreError(GatewayError):
    """A session store could not load, save or delete a saved session (a file that
    cannot be written, a Redis that is down). Reported as an error event, never
    silent; the shard goes on: it identifies when a load failed, and the store keeps
    an unsaved record and writes it again later."""


class BusError(GatewayError):
    """The event bus could not publish, deliver or route: the broker is unreachable,
    refused a message, or a message on it was malformed."""

