"""The bus on NATS JetStream: events as subjects, deduplicated by the server, pulled by
type; gateway commands on their own stream, each answered.

Install the client with ``pip install rxgateway[nats]`` (``nats-py``); a JetStream
server is ``nats-server -js`` (2.10 or newer: consumers with several filter subjects).
``import rxgateway`` never imports ``nats``: this module imports it when it is used.

**Layout** (for ``app="mybot"``):

- events: stream ``mybot_EVENTS`` on ``mybot.events.>``, one subject per event
  ``mybot.events.{NAME}.{shard}`` (``mybot.events.MESSAGE_CREATE.3``). Each message
  carries the dispatch's bytes unchanged as payload, the header ``Nats-Msg-Id:
  shard:session:sequence`` (the server stores each id once within the duplicate
  window: a resume's replay is skipped) and the metadata as ``Rxgw-*`` headers
  (:meth:`~rxgateway.bus.bus_event.BusEvent.fields`).
- subscriptions: a pull consumer whose filter subjects are ``mybot.events.{NAME}.*``
  for each type asked for (``mybot.events.>`` for every type), so the server sends
  only those types. ``group=None``: an ephemeral consumer delivering what is published
  from now on (fan-out: each such subscriber sees everything), deleted when the
  subscription closes (or by the server after :data:`EPHEMERAL_INACTIVE`). A named
  group: the durable consumer ``{group}-{types}`` (``{types}`` is ``all`` or a digest
  of the sorted type names), shared by every subscriber of that group asking for the
  same types (work-sharing: each event goes to one of them). A new group starts with
  what is published from its creation on (deliver policy *new*: a new service does
  not act on a day of old messages); from then on it resumes where it stands. Acks
  are explicit: an event not acknowledged within ``ack_wait`` goes to another member.
- commands: stream ``mybot_COMMANDS`` on ``mybot.commands.>`` with work-queue
  retention, one subject per shard ``mybot.commands.{shard}``, read by the durable
  consumer named after the serving group (one group per application: a work-queue
  stream has one reader). The sender names an inbox in the ``Rxgw-Reply`` header and
  waits there for the answer (``{"id": ..., "error": null | "why"}``): no answer within
  the timeout is an error too, and the command is then withdrawn from the stream if
  no gateway took it yet, and refused by the gateway once its ``Rxgw-Deadline``
  passed (the sender's wall clock: keep the hosts' clocks in sync), so a command the
  sender gave up on is not sent later.

**Limits** (every one a constructor argument or a named constant below):

- events: at most ``max_age`` old (:data:`DEFAULT_MAX_AGE`, 24 h), ``max_bytes``
  (:data:`DEFAULT_MAX_BYTES`, 1 GiB) and ``max_msgs`` (:data:`DEFAULT_MAX_MSGS`, one
  million); past a limit the server drops the oldest (discard *old*): a slow or
  absent consumer never slows the shards, it loses the oldest events instead.
- deduplication: ``duplicate_window`` (:data:`DEFAULT_DUPLICATE_WINDOW`, 10 min: a
  resume replays minutes at most). The server keeps the ids of that window in memory
  (about 100 bytes each: 1000 events/s is some 60 MB). A consumer also drops keys it
  has handled (:class:`~rxgateway.bus.bus.Bus`).
- an event larger than the server's ``max_payload`` (1 MB by default; Discord's
  GUILD_CREATE for a very large guild can be bigger: raise ``max_payload`` in the
  server's configuration) cannot be published: it is skipped with a logged error.
- delivery: ``ack_wait`` (:data:`DEFAULT_ACK_WAIT`, 30 s) before an unacknowledged
  event goes to another member; :data:`MAX_DELIVER` deliveries at most (a poison
  event is given up, not redelivered forever); the server's ``max_ack_pending``
  (1000) events in flight per consumer.
- commands: :data:`~rxgateway.bus.bus_event.MAX_COMMAND_BYTES` (4096) accepted by the
  gateway side, never with an opcode in :data:`REFUSED_OPS` (the shard's own:
  identify, resume, heartbeat); the stream refuses anything over
  :data:`COMMAND_MAX_MSG_SIZE` and keeps :data:`COMMAND_MAX_MSGS` at most, for
  :data:`COMMAND_MAX_AGE`.

**Security.** Whoever can publish on ``{app}.commands.>`` can make the bot send
gateway commands. Commands are read only from that stream, and each is checked: at
most 4096 bytes; a JSON object with an integer ``op`` (not identify, resume or
heartbeat) and a ``d``; the shard a non-negative integer; a reply subject that is a
plain inbox (never a ``$JS``/``$SYS`` API subject, never one of the application's own
subjects). A command that fails is refused with a logged error (its size and the
reason, never its content). Give only trusted services publish permission on
``{app}.commands.>``; the gateway's NATS user needs ``{app}.events.>``, ``_INBOX.>``
and ``$JS.API.>`` (streams, consumers, acks). Connect with credentials and TLS
through ``connect_options`` (passed to ``nats.connect``:
``user_credentials="bot.creds"``, ``nkeys_seed=``, ``tls=ssl.create_default_context()``)
or a user and password in the URL: the broker's ``repr`` and its errors never show a
password or token.

Example::

    broker = JetStreamBroker("tls://bus.example:4222", app="mybot",
                             connect_options={"user_credentials": "/etc/mybot/bus.creds"})
    await broker.publish(events)
    async for delivery in broker.subscribe({"MESSAGE_CREATE"}, group="moderation", consumer="worker-1"):
        await handle(delivery.event)
        await delivery.ack()
    await broker.aclose()
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import re
import time
import uuid
from collections import deque
from collections.abc import AsyncGenerator, AsyncIterator, Collection, Sequence
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import unquote, urlsplit, urlunsplit

import orjson

from ..errors import BusError, CommandsNotSentError
from .broker import BusCommand, Published
from .bus_event import COMMAND_ID, BusEvent, check_event_name, command_problem
from .bus_event import REFUSED_OPS as REFUSED_OPS  # the opcodes a command may not carry

if TYPE_CHECKING:
    from nats.aio.client import Client

    from .broker import Broker

__all__ = [
    "DEFAULT_ACK_WAIT",
    "DEFAULT_DUPLICATE_WINDOW",
    "DEFAULT_MAX_AGE",
    "DEFAULT_MAX_BYTES",
    "DEFAULT_MAX_MSGS",
    "JetStreamBroker",
    "JetStreamCommandDelivery",
    "JetStreamCommands",
    "JetStreamDelivery",
    "JetStreamSubscription",
    "redact_url",
]

log = logging.getLogger("rxgateway.bus")

#: Seconds an event stays in the stream: a consumer group that was down for a day
#: still finds what it missed; older is history, not work.
DEFAULT_MAX_AGE: Final = 24 * 3600.0
#: Bytes the events stream keeps at most (the oldest go first): bounded disk.
DEFAULT_MAX_BYTES: Final = 1 << 30
#: Events the stream keeps at most (Redis' MAXLEN): about a day of a mid-size bot.
DEFAULT_MAX_MSGS: Final = 1_000_000
#: Seconds within which the server skips a ``Nats-Msg-Id`` it stored already: longer
#: than a resume's replay (Discord keeps a session resumable for minutes).
DEFAULT_DUPLICATE_WINDOW: Final = 600.0
#: Seconds a consumer has to acknowledge an event before another gets it.
DEFAULT_ACK_WAIT: Final = 30.0
#: Events one pull takes at most: large enough for throughput, small enough that a
#: group's members share the work evenly.
FETCH_BATCH: Final = 64
#: Seconds one pull waits on the server when there is nothing: short, so a pull
#: request left by a closed subscription expires soon (events it caught for a gone
#: inbox would wait ``ack_wait``) and a concurrent ``aclose`` ends the loop promptly.
FETCH_TIMEOUT: Final = 1.0
#: Deliveries of one event at most: a poison event that makes every handler fail (or
#: crash) is given up after this many, not redelivered forever.
MAX_DELIVER: Final = 10
#: Seconds before a retried event is delivered again: no hot loop on a failing handler.
RETRY_DELAY: Final = 0.5
#: Held events are kept ours (``+WPI``) when this fraction of ``ack_wait`` has passed
#: since they were fetched, so a batch waiting behind slow handlers is not redelivered.
REFRESH_FRACTION: Final = 1 / 3
#: Seconds after which the server deletes an ephemeral (fan-out) consumer nobody
#: pulls from: a process that died does not leave it behind.
EPHEMERAL_INACTIVE: Final = 300.0
#: Seconds after which the server deletes a group's durable consumer nobody pulled
#: from (a group given up, or whose types changed): a week, far past ``max_age``.
GROUP_INACTIVE: Final = 7 * 24 * 3600.0
#: Seconds a command stays in its stream: far past any sender's timeout.
COMMAND_MAX_AGE: Final = 60.0
#: Commands the stream holds at most (a gateway that is down does not make it grow).
COMMAND_MAX_MSGS: Final = 10_000
#: Bytes the command stream refuses above (the server's guard; the gateway side
#: refuses anything over MAX_COMMAND_BYTES with a logged error).
COMMAND_MAX_MSG_SIZE: Final = 64 * 1024
#: Seconds the gateway side has to answer a command before it is delivered again.
COMMAND_ACK_WAIT: Final = 10.0
#: Deliveries of one command at most (it is refused once its deadline passed anyway).
COMMAND_MAX_DELIVER: Final = 3
#: Commands one pull takes at most (each is answered before the next is pulled).
COMMAND_BATCH: Final = 16
#: Seconds one JetStream API call (stream and consumer management, a publish's ack)
#: may take.
API_TIMEOUT: Final = 5.0
#: Seconds a batch of publishes may wait for the server's acks.
PUBLISH_TIMEOUT: Final = 10.0
#: Seconds connecting may take before the call fails (nats-py would retry for minutes).
CONNECT_TIMEOUT: Final = 10.0
#: Characters of an error text that travel in a command's answer.
MAX_ANSWER_ERROR: Final = 1000

#: Prefix of the metadata headers (``Rxgw-shard``, ``Rxgw-session``, ...).
HEADER_PREFIX: Final = "Rxgw-"
_MSG_ID: Final = "Nats-Msg-Id"
_CMD_ID: Final = "Rxgw-Command-Id"
_CMD_REPLY: Final = "Rxgw-Reply"
_CMD_DEADLINE: Final = "Rxgw-Deadline"

#: Application and group names: subject tokens, stream and consumer names.
_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
#: A reply subject a gateway answers on: plain tokens (no wildcard, no ``$``).
_REPLY = re.compile(r"^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$")
_MAX_REPLY = 256
_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")
_SHARD = re.compile(r"^(0|[1-9][0-9]{0,9})$")


def redact_url(url: str) -> str:
    """``url`` with its password (or token) replaced by ``***``.

    Example::

        >>> redact_url("nats://bot:s3cret@bus.example:4222")
        'nats://bot:***@bus.example:4222'
        >>> redact_url("nats://t0ken@bus.example:4222")
        'nats://***@bus.example:4222'
        >>> redact_url("nats://bus.example:4222")
        'nats://bus.example:4222'
    """
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<an unparsable URL>"
    if "@" not in parts.netloc:
        return url
    userinfo, _, host = parts.netloc.rpartition("@")
    user, sep, _password = userinfo.partition(":")
    shown = f"{user}:***" if sep else "***"
    return urlunsplit(parts._replace(netloc=f"{shown}@{host}"))


def _secrets_of(url: str) -> list[str]:
    try:
        parts = urlsplit(url)
    except ValueError:
        return [url]
    if "@" not in parts.netloc:
        return []
    userinfo = parts.netloc.rpartition("@")[0]
    user, sep, password = userinfo.partition(":")
    secret = password if sep else user
    return [secret, unquote(secret)]


def _check_name(kind: str, name: str) -> str:
    if not isinstance(name, str) or not _NAME.match(name):
        raise ValueError(f"{kind} must be 1-64 letters, digits, '_' or '-': {name!r}")
    return name


def _short(text: str, limit: int = 200) -> str:
    """An untrusted text made safe to log: escaped and cut."""
    shown = repr(text)[1:-1]
    return shown if len(shown) <= limit else shown[:limit] + "..."


def _is_timeout(exc: BaseException) -> bool:
    return isinstance(exc, asyncio.TimeoutError | TimeoutError)


class JetStreamBroker:
    """A :class:`~rxgateway.bus.broker.Broker` on NATS JetStream.

    Args:
        nats: a server URL (``nats://user:password@host:4222``, ``tls://...``), a list
            of them (a cluster), or a connected ``nats.aio.client.Client``. From a URL
            the broker connects on first use and :meth:`aclose` closes the connection;
            a client handed in stays open.
        app: the application's name: the prefix of every subject, stream and consumer.
        max_age, max_bytes, max_msgs: the events stream's limits (oldest dropped first).
        duplicate_window: seconds within which a key is stored once (at most ``max_age``).
        ack_wait: seconds a consumer has to acknowledge an event.
        replicas: the streams' replicas in a JetStream cluster (3 for resilience).
        fetch_batch: events one pull takes at most (lower spreads a group's work more
            evenly, higher moves more per round trip).
        connect_options: keyword arguments for ``nats.connect`` (``user_credentials``,
            ``nkeys_seed``, ``tls``, ``tls_hostname``, ``token``, ``name``, ...).

    The streams are created on first use (or updated when their limits differ: the
    last broker to start sets them).

    Example::

        broker = JetStreamBroker("nats://127.0.0.1:4222", app="mybot")
        new = await broker.publish(events)       # duplicates (replays) not counted
        await broker.send_command(BusCommand(uuid.uuid4().hex, 0, b'{"op":3,"d":{}}'), timeout=5)
        await broker.aclose()
    """

    def __init__(
        self,
        nats: str | Sequence[str] | Client,
        *,
        app: str = "rxgateway",
        max_age: float = DEFAULT_MAX_AGE,
        max_bytes: int = DEFAULT_MAX_BYTES,
        max_msgs: int = DEFAULT_MAX_MSGS,
        duplicate_window: float = DEFAULT_DUPLICATE_WINDOW,
        ack_wait: float = DEFAULT_ACK_WAIT,
        replicas: int = 1,
        fetch_batch: int = FETCH_BATCH,
        connect_options: dict[str, Any] | None = None,
    ) -> None:
        self._app = _check_name("app", app)
        if not max_age > 0 or not 0 < duplicate_window <= max_age:
            raise ValueError("need 0 < duplicate_window <= max_age")
        if max_bytes <= 0 or max_msgs <= 0 or ack_wait <= 0 or replicas < 1 or fetch_batch < 1:
            raise ValueError("max_bytes, max_msgs, ack_wait, replicas and fetch_batch must be positive")
        self.max_age = float(max_age)
        self.max_bytes = int(max_bytes)
        self.max_msgs = int(max_msgs)
        self.duplicate_window = float(duplicate_window)
        self.ack_wait = float(ack_wait)
        self.replicas = int(replicas)
        self.fetch_batch = int(fetch_batch)
        self._options = dict(connect_options or {})
        self._secrets: list[str] = [
            value
            for key in ("password", "token", "nkeys_seed_str")
            if isinstance(value := self._options.get(key), str) and value
        ]
        self._nc: Any = None
        self._servers: list[str] | None
        if isinstance(nats, str):
            self._servers = [nats]
        elif isinstance(nats, Sequence) and all(isinstance(url, str) for url in nats):
            self._servers = list(nats)
            if not self._servers:
                raise ValueError("no NATS server URL given")
        else:
            self._servers = None
            self._nc = nats
        for url in self._servers or ():
            self._secrets += [secret for secret in _secrets_of(url) if secret]
        self._where = ",".join(redact_url(url) for url in self._servers) if self._servers else "a NATS client"
        self._js: Any = None
        self._lock = asyncio.Lock()
        self._streams_ready = False
        self._closed = False

    # ----------------------------------------------------------- names

    @property
    def app(self) -> str:
        """The application's name (the prefix of every subject, stream and consumer)."""
        return self._app

    @property
    def events_stream(self) -> str:
        """The events stream's name, ``{app}_EVENTS``."""
        return f"{self._app}_EVENTS"

    @property
    def commands_stream(self) -> str:
        """The commands stream's name, ``{app}_COMMANDS``."""
        return f"{self._app}_COMMANDS"

    def event_subject(self, name: str, shard: int) -> str:
        """The subject of an event: ``{app}.events.{NAME}.{shard}``.

        Example::

            >>> JetStreamBroker("nats://127.0.0.1:4222", app="mybot").event_subject("READY", 3)
            'mybot.events.READY.3'
        """
        return f"{self._app}.events.{name}.{shard}"

    def command_subject(self, shard: int) -> str:
        """The subject of a command for ``shard``: ``{app}.commands.{shard}``."""
        return f"{self._app}.commands.{shard}"

    def group_consumer(self, names: Collection[str] | None, group: str) -> str:
        """The durable consumer a group reads ``names`` through: ``{group}-all`` or
        ``{group}-{digest of the sorted names}``. Subscribers of one group asking for
        the same types share it.

        Example::

            >>> JetStreamBroker("nats://127.0.0.1:4222").group_consumer(None, "moderation")
            'moderation-all'
        """
        _check_name("group", group)
        if names is None:
            return f"{group}-all"
        joined = ",".join(sorted({check_event_name(name) for name in names}))
        return f"{group}-{hashlib.sha256(joined.encode()).hexdigest()[:12]}"

    def _redact(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, "***")
        return text

    def __repr__(self) -> str:
        return f"JetStreamBroker({self._where!r}, app={self._app!r})"

    # ----------------------------------------------------------- connection

    async def _context(self) -> Any:
        """The JetStream context, connecting (again, if the connection gave up) and
        creating the streams first."""
        if self._closed:
            raise BusError(f"the JetStream broker for {self._app} is closed")
        js = self._js
        if js is not None and self._streams_ready and not self._nc.is_closed:
            return js
        async with self._lock:
            if self._nc is None or (self._servers is not None and self._nc.is_closed):
                self._nc = await self._connect()
                self._js = None
            if self._nc.is_closed:
                raise BusError(f"the NATS client handed to the {self._app} broker is closed")
            if self._js is None:
                self._js = self._nc.jetstream(timeout=API_TIMEOUT)
            if not self._streams_ready:
                await self._ensure_streams(self._js)
                self._streams_ready = True
            return self._js

    async def _connect(self) -> Any:
        from nats.aio.client import Client as NatsClient

        async def error_cb(exc: Exception) -> None:
            log.warning("nats %s: %s", self._where, self._redact(str(exc) or type(exc).__name__))

        options: dict[str, Any] = {"name": f"rxgateway {self._app}", "error_cb": error_cb}
        options.update(self._options)
        assert self._servers is not None, "only a broker made from URLs connects"
        nc = NatsClient()
        try:
            await asyncio.wait_for(nc.connect(servers=self._servers, **options), CONNECT_TIMEOUT)
        except Exception as exc:
            try:
                await nc.close()
            except Exception:
                pass
            detail = "timed out" if _is_timeout(exc) else self._redact(repr(exc))
            raise BusError(f"connecting to NATS at {self._where} failed: {detail}") from None
        return nc

    async def _ensure_streams(self, js: Any) -> None:
        from nats.js.api import DiscardPolicy, RetentionPolicy, StorageType, StreamConfig

        events = StreamConfig(
            name=self.events_stream,
            description=f"rxgateway {self._app}: gateway dispatches",
            subjects=[f"{self._app}.events.>"],
            retention=RetentionPolicy.LIMITS,
            discard=DiscardPolicy.OLD,
            max_age=self.max_age,
            max_bytes=self.max_bytes,
            max_msgs=self.max_msgs,
            duplicate_window=self.duplicate_window,
            storage=StorageType.FILE,
            num_replicas=self.replicas,
        )
        commands = StreamConfig(
            name=self.commands_stream,
            description=f"rxgateway {self._app}: gateway commands",
            subjects=[f"{self._app}.commands.>"],
            retention=RetentionPolicy.WORK_QUEUE,
            discard=DiscardPolicy.OLD,
            max_age=COMMAND_MAX_AGE,
            max_msgs=COMMAND_MAX_MSGS,
            max_msg_size=COMMAND_MAX_MSG_SIZE,
            duplicate_window=COMMAND_MAX_AGE,
            storage=StorageType.FILE,
            num_replicas=self.replicas,
        )
        for config in (events, commands):
            await self._ensure_stream(js, config)

    async def _ensure_stream(self, js: Any, config: Any) -> None:
        from nats.js.errors import BadRequestError

        try:
            try:
                await js.add_stream(config)
                return
            except BadRequestError as exc:
                if exc.err_code != 10058:  # stream name already in use, another configuration
                    raise
            info = await js.stream_info(config.name)
            if sorted(info.config.subjects or ()) != sorted(config.subjects):
                raise BusError(
                    f"a stream {config.name} exists with other subjects {info.config.subjects}: not changing it"
                )
            await js.update_stream(config)
            log.info("bus %s: stream %s updated to this broker's limits", self._app, config.name)
        except BusError:
            raise
        except Exception as exc:
            detail = self._redact(repr(exc))
            raise BusError(f"creating the stream {config.name} on {self._where} failed: {detail}") from None

    def _failed(self, what: str, exc: BaseException) -> BusError:
        from nats.js.errors import NoStreamResponseError, NotFoundError

        if isinstance(exc, NoStreamResponseError | NotFoundError):
            self._streams_ready = False  # deleted under us: create again on next use
        detail = "timed out" if _is_timeout(exc) else self._redact(repr(exc))
        return BusError(f"{what} on {self._where} failed: {detail}")

    async def aclose(self) -> None:
        """Close the connection made from a URL (a client handed in stays open).
        Further calls raise :class:`~rxgateway.errors.BusError`."""
        self._closed = True
        nc, self._js = self._nc, None
        if self._servers is not None and nc is not None:
            self._nc = None
            try:
                await nc.close()
            except Exception as exc:  # closing a broken connection
                log.debug("bus %s: closing NATS: %s", self._app, self._redact(repr(exc)))

    # ----------------------------------------------------------- events

    async def publish(self, events: Sequence[BusEvent]) -> int:
        """Publish ``events`` (pipelined: every publish is sent before the acks are
        awaited) and return how many the server stored as new. Keys it already holds
        within the duplicate window (a resume's replay) are skipped by the server.
        An event the server can never take (over its ``max_payload``, or an invalid
        type name) is skipped with a logged error rather than failing every retry.

        The count is a :class:`~rxgateway.bus.broker.Published`: its ``skipped`` says
        how many of ``events`` were skipped so (neither new nor duplicates).

        Raises :class:`~rxgateway.errors.BusError` if the server cannot take them.

        Example::

            new = await broker.publish([BusEvent(0, 1, "9f1c", 42, "MESSAGE_CREATE", raw)])
        """
        if not events:
            return Published(0)
        js = await self._context()
        futures: list[asyncio.Future[Any]] = []
        try:
            async with asyncio.timeout(PUBLISH_TIMEOUT):
                for event in events:
                    future = await self._publish_one(js, event)
                    if future is not None:
                        futures.append(future)
                acks = await asyncio.gather(*futures)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            for future in futures:
                if not future.done():
                    future.cancel()
                elif not future.cancelled():
                    future.exception()  # retrieved: no "never retrieved" log later
            raise self._failed(f"publishing {len(events)} events", exc) from None
        return Published(sum(1 for ack in acks if not ack.duplicate), skipped=len(events) - len(futures))

    async def _publish_one(self, js: Any, event: BusEvent) -> asyncio.Future[Any] | None:
        """Send one event; the future of its ack, or ``None`` when it can never be taken."""
        from nats.errors import MaxPayloadError

        try:
            check_event_name(event.name)
        except ValueError:
            log.error("bus %s: an event with an invalid type name was not published (%s)", self._app, event.key)
            return None
        headers = {_MSG_ID: event.key}
        for field, value in event.fields().items():
            if field != "key":
                headers[HEADER_PREFIX + field] = value
        try:
            future: asyncio.Future[Any] = await js.publish_async(
                self.event_subject(event.name, event.shard), event.payload, stream=self.events_stream, headers=headers
            )
        except MaxPayloadError:
            log.error(
                "bus %s: a %s of %d bytes (%s) is over the server's max_payload of %d bytes: not published",
                self._app, event.name, len(event.payload), event.key, self._nc.max_payload,
            )
            return None
        return future

    async def group_lag(self, names: Collection[str] | None, *, group: str) -> int:
        """Events of the types ``names`` that ``group`` has not acknowledged yet, from
        its durable consumer's info: ``num_pending`` (matching its filter, not yet
        delivered to any member) plus ``num_ack_pending`` (delivered, not yet
        acknowledged: a handler still busy, or fetched into a member's batch). Both are
        exact counts kept by the server. A group that never subscribed to these types
        has no consumer yet: 0 (it will start from its creation).

        Example::

            behind = await broker.group_lag({"MESSAGE_CREATE"}, group="moderation")
        """
        from nats.js.errors import NotFoundError

        name = self.group_consumer(names, group)
        js = await self._context()
        try:
            info = await js.consumer_info(self.events_stream, name)
        except NotFoundError:
            return 0
        except Exception as exc:
            raise self._failed(f"reading the lag of the consumer {name}", exc) from None
        return int(info.num_pending or 0) + int(info.num_ack_pending or 0)

    def subscribe(
        self, names: Collection[str] | None, *, group: str | None, consumer: str
    ) -> JetStreamSubscription:
        """Events of the types ``names`` (``None``: every type), only those crossing the
        wire. ``group=None``: fan-out, every event published from the first pull on;
        a named ``group``: shared with every subscriber of that group asking for the
        same types, from where the group stands (a new group: from its creation).
        No types at all (an empty ``names``): nothing is asked of the server and the
        iterator yields nothing until it is closed.

        The consumer is created on the first ``__anext__`` (or :meth:`JetStreamSubscription.start`);
        close with :meth:`JetStreamSubscription.aclose`.

        Example::

            subscription = broker.subscribe({"MESSAGE_CREATE"}, group=None, consumer="dashboard")
            await subscription.start()               # from now on
            async for delivery in subscription:
                show(delivery.event)
                await delivery.ack()
        """
        if names is not None:
            names = frozenset(check_event_name(name) for name in names)
        if group is not None:
            _check_name("group", group)
        if not isinstance(consumer, str) or not consumer:
            raise ValueError("consumer must be a non-empty name")
        return JetStreamSubscription(self, names, group, consumer)

    # ----------------------------------------------------------- commands

    async def send_command(self, command: BusCommand, *, timeout: float) -> None:
        """Send ``command`` to the gateway side and wait for its answer.

        Raises :class:`~rxgateway.errors.CommandsNotSentError` with the gateway's reason,
        when no answer came within ``timeout`` seconds (the command is then withdrawn
        if no gateway took it yet, and refused by the gateway after its deadline), when
        the command is invalid (over 4096 bytes, not a gateway payload) or the bus is
        unreachable. A command id sent twice within a minute is refused the second time.

        Example::

            await broker.send_command(BusCommand(uuid.uuid4().hex, 0, b'{"op":3,"d":{"status":"idle"}}'), timeout=5)
        """
        payloads = (command.data,)
        problem = command_problem(command.id, command.shard, command.data)
        if problem is not None:
            raise CommandsNotSentError(problem, payloads)
        if not timeout > 0:
            raise CommandsNotSentError("a command needs a positive timeout", payloads)
        try:
            js = await self._context()
        except BusError as exc:
            raise CommandsNotSentError(f"the bus is unreachable: {exc}", payloads) from None
        nc = self._nc
        deadline = time.monotonic() + timeout
        inbox = nc.new_inbox()
        ack: Any = None
        try:
            replies = await nc.subscribe(inbox, max_msgs=1)
            try:
                ack = await js.publish(
                    self.command_subject(command.shard),
                    command.data,
                    timeout=min(timeout, API_TIMEOUT),
                    stream=self.commands_stream,
                    headers={
                        _MSG_ID: command.id,
                        _CMD_ID: command.id,
                        _CMD_REPLY: inbox,
                        _CMD_DEADLINE: repr(time.time() + timeout),
                    },
                )
                if ack.duplicate:
                    raise CommandsNotSentError(f"a command with the id {command.id} was sent already", payloads)
                answer = await replies.next_msg(timeout=max(deadline - time.monotonic(), 0.001))
            finally:
                try:
                    await replies.unsubscribe()
                except Exception:
                    pass
        except CommandsNotSentError:
            raise
        except Exception as exc:
            if not _is_timeout(exc):
                failure = self._failed("sending a command", exc)
                raise CommandsNotSentError(f"the bus failed: {failure}", payloads) from None
            withdrawn = ""
            if ack is not None:
                try:
                    if await js.delete_msg(self.commands_stream, ack.seq):
                        withdrawn = " (withdrawn: sent only if a gateway had taken it already)"
                except Exception:
                    pass  # taken (and acknowledged) already, or the bus is down
            raise CommandsNotSentError(
                f"no answer from the gateway within {timeout:g} s{withdrawn}", payloads
            ) from None
        try:
            body = orjson.loads(answer.data)
            error = body["error"]
            if body.get("id") != command.id or not (error is None or isinstance(error, str)):
                raise ValueError("a mismatched answer")
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
            raise CommandsNotSentError("the gateway's answer was malformed", payloads) from None
        if error is not None:
            raise CommandsNotSentError(error, payloads)

    def serve_commands(self, *, group: str, consumer: str) -> JetStreamCommands:
        """The gateway side: commands sent to this application (from its command stream
        only), each to one consumer of ``group``. Malformed, oversized and expired
        commands are refused with a logged error and a negative answer, never yielded.
        Answer each with :meth:`JetStreamCommandDelivery.answer`.

        Example::

            async for delivery in broker.serve_commands(group="gateway", consumer="gw-1"):
                try:
                    shards[delivery.command.shard].sender.send(delivery.command.data)
                except Exception as exc:
                    await delivery.answer(str(exc))
                else:
                    await delivery.answer(None)
        """
        _check_name("group", group)
        if not isinstance(consumer, str) or not consumer:
            raise ValueError("consumer must be a non-empty name")
        return JetStreamCommands(self, group, consumer)


class _Pull:
    """A pull consumer read in batches (an event subscription, the command reader).

    Messages fetched and not yet handed out are kept ours (``+WPI``) while they wait,
    and handed back (``-NAK``) when the reader closes."""

    def __init__(
        self,
        broker: JetStreamBroker,
        stream: str,
        name: str,
        config: Any,
        *,
        ephemeral: bool,
        batch: int,
        ack_wait: float,
    ) -> None:
        self.broker = broker
        self.stream = stream
        self.name = name
        self._config = config
        self._ephemeral = ephemeral
        self._batch = batch
        self._ack_wait = ack_wait
        self._sub: Any = None
        self._held: deque[Any] = deque()
        self._fetched_at = 0.0
        self._started = False
        self._closed = False
        self._finished = False
        self._gen: AsyncGenerator[Any, None] | None = None

    async def start(self) -> None:
        """Create (or join) the consumer and bind to it; done by the first
        ``__anext__`` otherwise. Raises :class:`~rxgateway.errors.BusError`."""
        if self._started:
            return
        if self._closed:
            raise BusError(f"the subscription {self.name} is closed")
        js = await self.broker._context()
        try:
            await js.add_consumer(self.stream, self._config)
            self._sub = await js.pull_subscribe_bind(consumer=self.name, stream=self.stream)
        except Exception as exc:
            raise self._consumer_error(exc) from None
        self._started = True

    def _consumer_error(self, exc: BaseException) -> BusError:
        return self.broker._failed(f"creating the consumer {self.name} on {self.stream}", exc)

    async def _fetch(self) -> list[Any]:
        from nats.errors import TimeoutError as NatsTimeout

        try:
            return list(await self._sub.fetch(self._batch, timeout=FETCH_TIMEOUT))
        except (NatsTimeout, asyncio.TimeoutError):
            return []
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            if self._closed:
                return []
            raise self.broker._failed(f"pulling from {self.stream}/{self.name}", exc) from None

    async def _messages(self) -> AsyncGenerator[Any, None]:
        try:
            await self.start()
            while not self._closed:
                batch = await self._fetch()
                if self._closed:
                    self._held.extend(batch)
                    return
                self._held.extend(batch)
                self._fetched_at = time.monotonic()
                while self._held and not self._closed:
                    if time.monotonic() - self._fetched_at > self._ack_wait * REFRESH_FRACTION:
                        await self._keep_held()
                    yield self._held.popleft()
        finally:
            await self._finish()

    async def _keep_held(self) -> None:
        """Tell the server the held messages are still ours (their ack wait restarts)."""
        self._fetched_at = time.monotonic()
        for msg in self._held:
            try:
                await msg.in_progress()
            except Exception as exc:
                log.debug("bus %s: keeping a held message: %r", self.broker.app, exc)

    async def _finish(self) -> None:
        self._closed = True
        held, self._held = list(self._held), deque()
        for msg in held:  # hand back at once what was fetched but not handed out
            try:
                await msg.nak()
            except Exception:
                break
        if self._finished:
            return
        self._finished = True
        sub, self._sub = self._sub, None
        if sub is not None:
            try:
                await sub.unsubscribe()
            except Exception as exc:
                log.debug("bus %s: unsubscribing %s: %r", self.broker.app, self.name, exc)
        if self._ephemeral and self._started:
            js = self.broker._js
            try:
                if js is not None:
                    await js.delete_consumer(self.stream, self.name)
            except Exception as exc:  # the server deletes it after EPHEMERAL_INACTIVE anyway
                log.debug("bus %s: deleting the consumer %s: %r", self.broker.app, self.name, exc)

    async def _next_message(self) -> Any:
        if self._gen is None:
            self._gen = self._messages()
        return await self._gen.__anext__()

    async def aclose(self) -> None:
        """Stop: what was fetched and not handed out goes back to the server, an
        ephemeral consumer is deleted. Safe to call more than once, from any task."""
        self._closed = True
        gen = self._gen
        if gen is not None and not getattr(gen, "ag_running", False):
            await gen.aclose()
        await self._finish()

    async def consumer_info(self) -> Any:
        """The server's view of this consumer (``nats.js.api.ConsumerInfo``: delivered,
        pending, acknowledgements pending)."""
        js = await self.broker._context()
        return await js.consumer_info(self.stream, self.name)


class JetStreamDelivery:
    """One event from a :class:`JetStreamSubscription` (a
    :class:`~rxgateway.bus.broker.Delivery`).

    Example::

        async for delivery in subscription:
            await handle(delivery.event)
            await delivery.ack()          # or: await delivery.retry()
    """

    __slots__ = ("_broker", "_event", "_msg")

    def __init__(self, broker: JetStreamBroker, event: BusEvent, msg: Any) -> None:
        self._broker = broker
        self._event = event
        self._msg = msg

    @property
    def event(self) -> BusEvent:
        """The event, as published."""
        return self._event

    @property
    def redelivered(self) -> bool:
        """The server delivered it before (to this or another member of the group)."""
        return int(self._msg.metadata.num_delivered) > 1

    async def ack(self) -> None:
        """Handled: the group never gets it again. A second call does nothing."""
        await self._settle("ack")

    async def retry(self) -> None:
        """Not handled: delivered again after :data:`RETRY_DELAY` (to any member of the
        group), up to :data:`MAX_DELIVER` deliveries in all."""
        await self._settle("nak")

    async def in_progress(self) -> None:
        """Still being handled: the ack wait starts again (for handlers that may take
        longer than ``ack_wait``)."""
        await self._settle("in_progress")

    async def _settle(self, how: str) -> None:
        from nats.errors import MsgAlreadyAckdError

        msg = self._msg
        try:
            if how == "ack":
                await msg.ack()
            elif how == "nak":
                await msg.nak(delay=RETRY_DELAY)
            else:
                await msg.in_progress()
        except MsgAlreadyAckdError:
            return
        except Exception as exc:
            raise self._broker._failed(f"acknowledging {self._event.key}", exc) from None

    def __repr__(self) -> str:
        return f"JetStreamDelivery({self._event.name} {self._event.key}, redelivered={self.redelivered})"


class JetStreamSubscription(_Pull):
    """Events of some types from the events stream: an async iterator of
    :class:`JetStreamDelivery` (what :meth:`JetStreamBroker.subscribe` returns).

    A malformed message (metadata missing or not matching its subject) is logged,
    terminated (never delivered again) and skipped. Iteration ends after
    :meth:`aclose`; a subscription dropped without it is closed when the iterator is
    collected, and the server deletes a forgotten ephemeral consumer after
    :data:`EPHEMERAL_INACTIVE`.

    Example::

        subscription = broker.subscribe(None, group="archive", consumer="archiver-1")
        try:
            async for delivery in subscription:
                await store(delivery.event)
                await delivery.ack()
        finally:
            await subscription.aclose()
    """

    def __init__(self, broker: JetStreamBroker, names: frozenset[str] | None, group: str | None, consumer: str) -> None:
        from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

        self.names = names
        self.group = group
        self.consumer = consumer
        app = broker.app
        subjects = [f"{app}.events.>"] if names is None else [f"{app}.events.{name}.*" for name in sorted(names)]
        what = "every type" if names is None else ", ".join(sorted(names))
        if group is None:
            name = f"{_UNSAFE.sub('_', consumer)[:40]}-{uuid.uuid4().hex[:12]}"
            description = f"rxgateway {app} fan-out {consumer}: {what}"
            inactive = EPHEMERAL_INACTIVE
        else:
            name = broker.group_consumer(names, group)
            description = f"rxgateway {app} group {group}: {what}"
            inactive = GROUP_INACTIVE
        config = ConsumerConfig(
            name=name,
            durable_name=name if group is not None else None,
            description=description[:256],
            deliver_policy=DeliverPolicy.NEW,
            ack_policy=AckPolicy.EXPLICIT,
            ack_wait=broker.ack_wait,
            max_deliver=MAX_DELIVER,
            inactive_threshold=inactive,
            mem_storage=True if group is None else None,
        )
        if len(subjects) == 1:
            config.filter_subject = subjects[0]
        else:
            config.filter_subjects = subjects
        super().__init__(
            broker, broker.events_stream, name, config,
            ephemeral=group is None, batch=broker.fetch_batch, ack_wait=broker.ack_wait,
        )
        self._nothing = asyncio.Event()  # set by aclose: ends a subscription to no types

    async def start(self) -> None:
        """Create the consumer (done by the first ``__anext__`` otherwise): for fan-out,
        the events published from then on are delivered."""
        if self.names == frozenset():
            return  # no types: nothing to ask the server for
        await super().start()

    async def aclose(self) -> None:
        """Stop (iteration ends): what was fetched and not handed out goes back to the
        server, an ephemeral consumer is deleted. Safe to call more than once."""
        self._nothing.set()
        await super().aclose()

    def __aiter__(self) -> JetStreamSubscription:
        return self

    async def __anext__(self) -> JetStreamDelivery:
        if self.names == frozenset():
            await self._nothing.wait()
            raise StopAsyncIteration
        while True:
            msg = await self._next_message()
            event = self._event_of(msg)
            if event is not None:
                return JetStreamDelivery(self.broker, event, msg)
            try:
                await msg.term()
            except Exception as exc:
                log.debug("bus %s: terminating a malformed message: %r", self.broker.app, exc)

    def _event_of(self, msg: Any) -> BusEvent | None:
        headers: dict[str, str] = msg.headers or {}
        fields = {key[len(HEADER_PREFIX):]: value for key, value in headers.items() if key.startswith(HEADER_PREFIX)}
        problem: str | None = None
        try:
            event = BusEvent.from_fields(fields, msg.data)
        except ValueError as exc:
            problem = str(exc)
        else:
            tokens = msg.subject.split(".")
            if tokens[-2:] != [event.name, str(event.shard)]:
                problem = "its subject does not match its metadata"
            elif headers.get(_MSG_ID) != event.key:
                problem = "its Nats-Msg-Id is not its key"
        if problem is None:
            return event
        log.error(
            "bus %s: a malformed event of %d bytes on %s was dropped: %s",
            self.broker.app, len(msg.data), _short(msg.subject), _short(problem),
        )
        return None

    def __repr__(self) -> str:
        what = "every type" if self.names is None else sorted(self.names)
        return f"JetStreamSubscription({self.name!r}, group={self.group!r}, {what})"


class JetStreamCommandDelivery:
    """One command received on the gateway side (a
    :class:`~rxgateway.bus.broker.CommandDelivery`); answer it exactly once.

    Example::

        await delivery.answer(None)                       # handed to its shard
        await delivery.answer("shard 3 has closed")       # the sender raises with this
    """

    __slots__ = ("_answered", "_broker", "_command", "_msg", "_reply")

    def __init__(self, broker: JetStreamBroker, command: BusCommand, reply: str, msg: Any) -> None:
        self._broker = broker
        self._command = command
        self._reply = reply
        self._msg = msg
        self._answered = False

    @property
    def command(self) -> BusCommand:
        """The command: its id, its shard and its JSON."""
        return self._command

    async def answer(self, error: str | None) -> None:
        """Tell the sender (``None``: sent; else why not) and remove the command from
        the stream. Only the first answer counts."""
        if self._answered:
            return
        self._answered = True
        body = orjson.dumps({"id": self._command.id, "error": None if error is None else str(error)[:MAX_ANSWER_ERROR]})
        try:
            await self._broker._nc.publish(self._reply, body)
            await self._msg.ack()
        except Exception as exc:
            raise self._broker._failed(f"answering the command {self._command.id}", exc) from None

    def __repr__(self) -> str:
        return f"JetStreamCommandDelivery(id={self._command.id!r}, shard={self._command.shard})"


class JetStreamCommands(_Pull):
    """The commands stream read by a gateway group: an async iterator of
    :class:`JetStreamCommandDelivery` (what :meth:`JetStreamBroker.serve_commands`
    returns). Every command is checked before it is yielded; one that fails is refused
    (logged with its size and the reason, answered negatively when its reply subject
    is a plain inbox, terminated).

    Example::

        commands = broker.serve_commands(group="gateway", consumer="gw-1")
        async for delivery in commands:
            await delivery.answer(route(delivery.command))
    """

    def __init__(self, broker: JetStreamBroker, group: str, consumer: str) -> None:
        from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

        self.group = group
        self.consumer = consumer
        config = ConsumerConfig(
            name=group,
            durable_name=group,
            description=f"rxgateway {broker.app} gateway commands"[:256],
            deliver_policy=DeliverPolicy.ALL,
            ack_policy=AckPolicy.EXPLICIT,
            ack_wait=COMMAND_ACK_WAIT,
            max_deliver=COMMAND_MAX_DELIVER,
            filter_subject=f"{broker.app}.commands.>",
            inactive_threshold=GROUP_INACTIVE,
        )
        super().__init__(
            broker, broker.commands_stream, group, config,
            ephemeral=False, batch=COMMAND_BATCH, ack_wait=COMMAND_ACK_WAIT,
        )

    def _consumer_error(self, exc: BaseException) -> BusError:
        from nats.js.errors import BadRequestError

        if isinstance(exc, BadRequestError) and "workqueue" in str(exc.description).lower():
            return BusError(
                f"the command stream {self.stream} is served by another group already "
                f"(one group per application): {exc.description}"
            )
        return super()._consumer_error(exc)

    def __aiter__(self) -> JetStreamCommands:
        return self

    async def __anext__(self) -> JetStreamCommandDelivery:
        while True:
            msg = await self._next_message()
            delivery = await self._check(msg)
            if delivery is not None:
                return delivery

    async def _check(self, msg: Any) -> JetStreamCommandDelivery | None:
        app = self.broker.app
        headers: dict[str, str] = msg.headers or {}
        data: bytes = msg.data
        reply = headers.get(_CMD_REPLY, "")
        command_id = headers.get(_CMD_ID, "")
        reply_ok = 0 < len(reply) <= _MAX_REPLY and bool(_REPLY.match(reply)) and not reply.startswith(f"{app}.")
        shard = -1
        tokens = msg.subject.split(".")
        if len(tokens) == 3 and tokens[:2] == [app, "commands"] and _SHARD.match(tokens[2]):
            shard = int(tokens[2])
        expired = False
        problem: str | None
        if shard < 0:
            problem = f"a command on {_short(msg.subject)}, not {app}.commands.<shard>"
        else:  # the one check both brokers run (id, shard, size, JSON, opcode)
            problem = command_problem(command_id, shard, data)
        if problem is None:
            if not reply_ok:
                problem = "a command whose Rxgw-Reply is not a plain inbox subject"
            else:
                try:
                    deadline = float(headers.get(_CMD_DEADLINE, "inf"))
                except ValueError:
                    problem = "a command with an invalid Rxgw-Deadline"
                else:
                    if time.time() > deadline:
                        expired = True
                        problem = "the command expired before a gateway took it (its sender gave up)"
        if problem is None:
            if int(msg.metadata.num_delivered) > 1:
                log.warning(
                    "bus %s: command %s delivered again (a gateway took it and did not answer)", app, command_id
                )
            return JetStreamCommandDelivery(self.broker, BusCommand(command_id, shard, data), reply, msg)
        shown_id = command_id if COMMAND_ID.match(command_id) else "?"
        if expired:
            log.warning("bus %s: command %s refused: %s", app, shown_id, problem)
        else:
            log.error("bus %s: command %s (%d bytes) refused, not forwarded: %s", app, shown_id, len(data), problem)
        try:
            if reply_ok:
                await self.broker._nc.publish(reply, orjson.dumps({"id": command_id, "error": problem}))
            await msg.term()
        except Exception as exc:
            log.debug("bus %s: refusing a command: %r", app, exc)
        return None

    def __repr__(self) -> str:
        return f"JetStreamCommands(group={self.group!r}, consumer={self.consumer!r})"


if TYPE_CHECKING:

    def _is_a_broker(broker: JetStreamBroker) -> Broker:
        return broker

    def _iterates(
        subscription: JetStreamSubscription, commands: JetStreamCommands
    ) -> tuple[AsyncIterator[Any], AsyncIterator[Any]]:
        return subscription, commands
