"""Shard configuration: one frozen value shared by every shard of a bot.

Example::

    config = Config(token, Intents.GUILD_MESSAGES | Intents.MESSAGE_CONTENT)
    shard0 = Shard(ShardId(0, 2), config)
    shard1 = Shard(ShardId(1, 2), config.replace(presence=...))   # same queue, same TLS

The token is stored with its ``Bot `` prefix (what REST wants) and is never shown:
``repr(config)`` prints ``token=<redacted>``.
"""

from __future__ import annotations

import dataclasses
import ssl
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import urlsplit

from .machine.inflate import COMPRESSIONS
from .machine.session import Session
from .protocol.commands import UpdatePresence
from .protocol.intents import Intents, validate_intents
from .protocol.opcode import API_VERSION
from .queue import InMemoryQueue, SessionQueue
from .store.session_store import SessionStore

#: Discord's gateway, used when no ``gateway_url`` is given.
DEFAULT_GATEWAY_URL = "wss://gateway.discord.gg"
#: Discord's REST API base, for ``GET /gateway/bot``.
DEFAULT_API_URL = "https://discord.com/api/v10"
#: ``large_threshold`` bounds (GATEWAY.md §3.4).
LARGE_THRESHOLD_RANGE = range(50, 251)
#: Connect timeout: covers TCP, TLS and the websocket upgrade (twilight #2448: shards
#: used to hang for ever on a connect that never finished).
CONNECT_TIMEOUT = 10.0

TLSTrust = Literal["default", "system", "certifi"] | ssl.SSLContext


def _default_properties() -> dict[str, str]:
    return {"os": sys.platform, "browser": "rxgateway", "device": "rxgateway"}


@dataclass(frozen=True, slots=True, repr=False)
class Config:
    """Everything a shard needs to connect, identify and resume.

    Args:
        token: the bot token, with or without the ``Bot `` prefix.
        intents: the gateway intents; bits outside the documented set are refused.
        gateway_url: where to connect (an emulator, a gateway proxy); default Discord's.
        compression: ``"zstd-stream"`` (default: cheapest CPU, but a connection holds a
            ~2 MiB window after traffic), ``"zlib-stream"`` (~50 KiB) or ``None``.
        large_threshold: 50..250 (GATEWAY.md §3.4).
        presence: the presence sent in Identify.
        identify_properties: ``os``, ``browser`` and ``device`` sent in Identify.
        queue: the identify queue; every shard built from this config (or a
            ``replace``d copy) shares it.
        ratelimit_messages: keep outgoing commands within 120 per 60 s. Turn off only
            behind a proxy that rate-limits for you.
        session, resume_url: a saved session to resume on the first connection instead
            of identifying (``resume_url`` needs ``session``).
        tls: certificate trust for ``wss://``: ``"default"`` (Python's ssl defaults),
            ``"system"`` (the OS store, via truststore), ``"certifi"`` (Mozilla's
            bundle), or an ``ssl.SSLContext``. Verification is always on.
        proxy: an HTTP proxy URL for the websocket connection.
        api_url: the REST base used for ``GET /gateway/bot``.
        connect_timeout: seconds allowed for TCP, TLS and the upgrade.
        session_store: where shards keep their sessions across process restarts
            (:mod:`rxgateway.store`): a shard loads its record when it starts (unless
            ``session`` is given) and resumes it; saves the session when it becomes
            Active and at each heartbeat (batched by the store); saves it for good
            when closed with ``CloseFrame.RESUME``; deletes it when the session ends.
            ``None`` (default): nothing is saved. Shared by ``replace``d copies.
    """

    token: str
    intents: Intents
    gateway_url: str = DEFAULT_GATEWAY_URL
    compression: str | None = "zstd-stream"
    large_threshold: int = 50
    presence: UpdatePresence | None = None
    identify_properties: Mapping[str, str] = field(default_factory=_default_properties)
    queue: SessionQueue = field(default_factory=InMemoryQueue)
    ratelimit_messages: bool = True
    session: Session | None = None
    resume_url: str | None = None
    tls: TLSTrust = "default"
    proxy: str | None = None
    api_url: str = DEFAULT_API_URL
    connect_timeout: float = CONNECT_TIMEOUT
    session_store: SessionStore | None = None
    # The TLS context, built on first use. Not an __init__ field: dataclasses.replace
    # would hand the copy the same list, and a copy with other ``tls`` would share it.
    _ssl: list[ssl.SSLContext] = field(default_factory=list, compare=False, init=False)

    def __post_init__(self) -> None:
        if not isinstance(self.token, str) or not self.token.strip():
            raise ValueError("token must be a non-empty string")
        token = self.token.strip()
        if not token.startswith("Bot "):
            token = "Bot " + token
        object.__setattr__(self, "token", token)
        object.__setattr__(self, "intents", validate_intents(self.intents))
        if self.compression == "none":
            object.__setattr__(self, "compression", None)
        if self.compression is not None and self.compression not in COMPRESSIONS:
            raise ValueError(f"compression must be one of {COMPRESSIONS} or None, got {self.compression!r}")
        if isinstance(self.large_threshold, bool) or self.large_threshold not in LARGE_THRESHOLD_RANGE:
            raise ValueError(f"large_threshold must be in 50..250, got {self.large_threshold!r}")
        _check_ws_url("gateway_url", self.gateway_url)
        if self.resume_url is not None:
            if self.session is None:
                raise ValueError("resume_url is only used to resume a session: pass session too")
            _check_ws_url("resume_url", self.resume_url)
        if self.session is not None and not isinstance(self.session, Session):
            raise TypeError(f"session must be a Session, got {type(self.session).__name__}")
        if not isinstance(self.tls, ssl.SSLContext) and self.tls not in ("default", "system", "certifi"):
            raise ValueError(f"tls must be 'default', 'system', 'certifi' or an ssl.SSLContext, got {self.tls!r}")
        if not isinstance(self.queue, SessionQueue):
            raise TypeError("queue must implement SessionQueue (acquire and update)")
        if self.session_store is not None and not isinstance(self.session_store, SessionStore):
            raise TypeError("session_store must implement SessionStore (load, save, delete, flush, aclose)")
        if self.connect_timeout <= 0:
            raise ValueError("connect_timeout must be positive")
        missing = {"os", "browser", "device"} - set(self.identify_properties)
        if missing:
            raise ValueError(f"identify_properties lacks {sorted(missing)}")

    @property
    def bare_token(self) -> str:
        """The token without its ``Bot `` prefix, as Identify and Resume send it."""
        return self.token[4:]

    def replace(self, **changes: Any) -> Config:
        """A copy with ``changes``; the queue, session store and TLS context are shared
        unless replaced."""
        new = dataclasses.replace(self, **changes)
        if "tls" not in changes:  # same trust: share the context (built once for all)
            object.__setattr__(new, "_ssl", self._ssl)
        return new

    def ssl_context(self) -> ssl.SSLContext:
        """The TLS context for ``wss://`` connections, built once and shared."""
        if not self._ssl:
            self._ssl.append(_make_ssl_context(self.tls))
        return self._ssl[0]

    def __repr__(self) -> str:
        shown = ", ".join(
            f"{f.name}={getattr(self, f.name)!r}"
            for f in dataclasses.fields(self)
            if f.name not in ("token", "_ssl")
        )
        return f"Config(token=<redacted>, {shown})"


def _check_ws_url(name: str, url: str) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("ws", "wss") or not parts.hostname:
        raise ValueError(f"{name} must be a ws:// or wss:// URL with a host, got {url!r}")


def _make_ssl_context(tls: TLSTrust) -> ssl.SSLContext:
    if isinstance(tls, ssl.SSLContext):
        return tls
    if tls == "system":
        try:
            import truststore
        except ImportError as exc:  # pragma: no cover - depends on the extra
            raise RuntimeError("tls='system' needs truststore: pip install 'rxgateway[tls]'") from exc
        return truststore.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    if tls == "certifi":
        try:
            import certifi
        except ImportError as exc:  # pragma: no cover - depends on the extra
            raise RuntimeError("tls='certifi' needs certifi: pip install 'rxgateway[tls]'") from exc
        return ssl.create_default_context(cafile=certifi.where())
    return ssl.create_default_context()
