"""How the cluster reaches Redis: a client from a URL, a URL safe to print, and the
names of the keys it uses.

Every key of one application lives under one prefix, ``{app}:``; the braces are a
Redis Cluster hash tag, so every key of an application sits on one node and a Lua
script may touch any of them. Two bots sharing a Redis use two ``app`` names and
never see each other's buckets, sessions or leases.

A URL may carry a password (``redis://:secret@host:6379/0``) and ask for TLS
(``rediss://``). The password is never logged or shown: :func:`redact_url` is what
reprs and messages print.

Example::

    >>> redact_url("rediss://bot:hunter2@redis.internal:6380/1")
    'rediss://bot:***@redis.internal:6380/1'
    >>> Keys("mybot").lease(3)
    '{mybot}:lease:3'
"""

from __future__ import annotations

import asyncio
import functools
import re
from collections.abc import Awaitable
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

if TYPE_CHECKING:
    from redis.asyncio import Redis

__all__ = ["DEFAULT_APP", "Keys", "client_where", "connect", "passing_cancellation", "redact_url"]

_T = TypeVar("_T")

#: The key prefix when none is given.
DEFAULT_APP = "rxgateway"

#: Seconds a pooled connection may sit idle before it is checked with a PING.
HEALTH_CHECK_INTERVAL = 10
#: Retries of a command whose connection failed (a server restarted, a dropped
#: socket), after 50 ms, 100 ms: a live server is reached again, a dead one is
#: reported within a fraction of a second.
RETRIES = 2
RETRY_BASE = 0.05
RETRY_CAP = 0.5
#: Connections one client keeps open at most; more callers wait for a free one.
MAX_CONNECTIONS = 32
#: Seconds a caller waits for a free pooled connection before it is an error.
POOL_TIMEOUT = 20.0
#: Seconds to open a TCP connection to Redis: an unreachable server is an error
#: quickly, never a hang.
CONNECT_TIMEOUT = 5.0

_APP_NAME = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")


def redact_url(url: str) -> str:
    """``url`` with its password replaced by ``***`` (a user name is kept).

    Example::

        >>> redact_url("redis://:pw@127.0.0.1:6379/0")
        'redis://:***@127.0.0.1:6379/0'
        >>> redact_url("redis://127.0.0.1:6379")
        'redis://127.0.0.1:6379'
    """
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    if ":" in host:  # IPv6
        host = f"[{host}]"
    netloc = f"{parts.username or ''}:***@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def client_where(client: Redis) -> tuple[str, str | None]:
    """A printable address of a client made elsewhere (never its password), and that
    password, so messages can scrub it.

    Example::

        where, password = client_where(redis)    # ('redis://10.0.0.5:6379/0', 'pw')
    """
    try:
        kwargs = client.connection_pool.connection_kwargs
    except AttributeError:  # pragma: no cover - not a plain client
        return "a Redis client", None
    password = kwargs.get("password")
    if kwargs.get("path"):
        return f"unix://{kwargs['path']}", password
    return f"redis://{kwargs.get('host', '?')}:{kwargs.get('port', '?')}/{kwargs.get('db', 0)}", password


def connect(url: str, **options: Any) -> Redis:
    """A redis-py asyncio client for ``url`` (``redis://``, ``rediss://`` or
    ``unix://``). Connections open on first use; ``options`` go to
    ``Redis.from_url`` (``ssl_ca_certs=...`` for a private CA, say).

    Raises ``ValueError`` for another scheme, and ``RuntimeError`` when redis-py is
    not installed (``pip install 'rxgateway[redis]'``).
    """
    scheme = urlsplit(url).scheme
    if scheme not in ("redis", "rediss", "unix"):
        raise ValueError(f"a Redis URL starts with redis://, rediss:// or unix://, got {redact_url(url)!r}")
    try:
        from redis.asyncio import BlockingConnectionPool, Redis
        from redis.asyncio.retry import Retry
        from redis.backoff import ExponentialBackoff
        from redis.exceptions import ConnectionError, TimeoutError
    except ImportError as exc:  # pragma: no cover - depends on the extra
        raise RuntimeError("the cluster needs redis-py: pip install 'rxgateway[redis]'") from exc
    options.setdefault("health_check_interval", HEALTH_CHECK_INTERVAL)
    # A pooled connection to a server that restarted fails once: try again on a fresh one.
    options.setdefault("retry", Retry(ExponentialBackoff(cap=RETRY_CAP, base=RETRY_BASE), RETRIES))
    options.setdefault("retry_on_error", [ConnectionError, TimeoutError])
    options.setdefault("socket_connect_timeout", CONNECT_TIMEOUT)
    CancelSafe = _cancel_safe_client()
    if "connection_pool" in options:
        client: Redis = CancelSafe.from_url(url, **options)
        return client
    # A bounded pool that makes a caller wait for a free connection rather than fail:
    # a member's shards all ask the queue and the store at once, and redis-py's default
    # pool raises MaxConnectionsError past 100 (thousands of failed identifies at 2,000
    # shards over 8 processes).
    max_connections = options.pop("max_connections", MAX_CONNECTIONS)
    pool = BlockingConnectionPool.from_url(url, max_connections=max_connections, timeout=POOL_TIMEOUT, **options)
    client = CancelSafe.from_pool(pool)
    return client


async def passing_cancellation(awaitable: Awaitable[_T]) -> _T:
    """Await ``awaitable`` (a redis-py call) so that a cancellation of the calling task
    is never lost. redis-py 8 (seen with 8.1.0) swallows about half of the
    cancellations that reach a command in flight: the command returns normally and the
    task goes on as if never cancelled (a stopping bus reader kept reading, a cancelled
    identify wait kept spending the daily budget). When the task's ``cancelling()``
    count rose during the call, ``CancelledError`` is raised here whatever the call
    did; an ``asyncio.timeout`` around it then turns it into ``TimeoutError`` as it
    should."""
    task = asyncio.current_task()
    before = task.cancelling() if task is not None else 0
    try:
        result = await awaitable
    except Exception:
        if task is not None and task.cancelling() > before:
            raise asyncio.CancelledError from None
        raise
    if task is not None and task.cancelling() > before:
        raise asyncio.CancelledError
    return result


@functools.cache
def _cancel_safe_client() -> Any:
    """redis-py's asyncio client (and its pipelines) with every command awaited
    through :func:`passing_cancellation`; made once, on first use (redis-py is
    optional)."""
    from redis.asyncio import Redis
    from redis.asyncio.client import Pipeline

    class CancelSafePipeline(Pipeline):
        async def execute(self, raise_on_error: bool = True) -> Any:
            return await passing_cancellation(super().execute(raise_on_error))

    class CancelSafeRedis(Redis):
        async def execute_command(self, *args: Any, **options: Any) -> Any:
            return await passing_cancellation(super().execute_command(*args, **options))  # type: ignore[no-untyped-call]

        def pipeline(self, transaction: bool = True, shard_hint: Any = None) -> Any:
            pipe = super().pipeline(transaction, shard_hint)
            pipe.__class__ = CancelSafePipeline
            return pipe

    return CancelSafeRedis


def _gen(generation: int) -> str:
    return "" if generation == 0 else f"g{generation}:"


class Keys:
    """The names of one application's keys in Redis.

    Example::

        >>> keys = Keys("mybot")
        >>> keys.bucket(2), keys.session(7), keys.members
        ('{mybot}:idq:bucket:2', '{mybot}:session:7', '{mybot}:members')
    """

    __slots__ = ("app", "prefix")

    def __init__(self, app: str = DEFAULT_APP) -> None:
        if not isinstance(app, str) or not _APP_NAME.match(app):
            raise ValueError(f"app must be 1-64 letters, digits or _.:- , got {app!r}")
        self.app = app
        self.prefix = "{" + app + "}:"

    # The identify queue.
    def bucket(self, key: int) -> str:
        """The identify window of rate-limit key ``key`` (``shard % max_concurrency``)."""
        return f"{self.prefix}idq:bucket:{key}"

    def waiters(self, key: int) -> str:
        """The FIFO of tickets waiting on rate-limit key ``key`` (a sorted set)."""
        return f"{self.prefix}idq:waiters:{key}"

    @property
    def tickets(self) -> str:
        """The counter that orders tickets, first come first served."""
        return f"{self.prefix}idq:tickets"

    @property
    def alive(self) -> str:
        """Ticket -> until when its waiter is known alive (server ms; a hash)."""
        return f"{self.prefix}idq:alive"

    @property
    def budget(self) -> str:
        """The daily session-start budget (a hash: remaining, total; expires at reset)."""
        return f"{self.prefix}idq:budget"

    @property
    def audit(self) -> str:
        """A capped stream of identify grants (shard, owner, server time)."""
        return f"{self.prefix}idq:audit"

    # Sessions.
    def session(self, shard: int, generation: int = 0) -> str:
        """The saved session of shard ``shard`` (a hash) of shard generation
        ``generation`` (generation 0 keeps the plain name; see resharding)."""
        return f"{self.prefix}session:{_gen(generation)}{shard}"

    @property
    def sessions_pattern(self) -> str:
        return f"{self.prefix}session:*"

    # Leases and members.
    def lease(self, shard: int, generation: int = 0) -> str:
        """Who holds shard ``shard`` of generation ``generation`` (a string with a
        TTL). Generation 0 keeps the plain name, so a cluster that never resharded
        keeps its keys.

        Example::

            >>> Keys("mybot").lease(3, 2)
            '{mybot}:lease:g2:3'
        """
        return f"{self.prefix}lease:{_gen(generation)}{shard}"

    def active(self, generation: int) -> str:
        """The shards of a pending generation that were Active once (a set): the
        switch happens when it has every shard of the new total."""
        return f"{self.prefix}active:g{generation}"

    @property
    def members(self) -> str:
        """Live members: member id -> until when it is alive (server ms; a sorted set)."""
        return f"{self.prefix}members"

    @property
    def epoch(self) -> str:
        """When this Redis first saw the cluster (server ms): a Redis restarted empty
        has a new one, and only holders re-claim during the grace after it."""
        return f"{self.prefix}epoch"

    @property
    def config(self) -> str:
        """The cluster's shape (a hash: ``total``, ``generation``; during a reshard
        also ``next_total``, ``next_generation``)."""
        return f"{self.prefix}config"

    def inbox(self, member: str) -> str:
        """Commands for the shards ``member`` holds (a capped stream)."""
        return f"{self.prefix}inbox:{member}"

    def __repr__(self) -> str:
        return f"Keys({self.app!r})"
