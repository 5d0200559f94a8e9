"""A session store in Redis: any number of processes, on any number of machines, save
and resume the sessions of the shards they hold (reference/scaling.md §3.3).

Each shard's record is a hash ``{app}:session:N`` (see
:class:`~rxgateway.cluster.redis_link.Keys`) with the fields ``shard``, ``total``,
``session_id``, ``sequence``, ``resume_url``, ``saved_at`` and ``owner`` (empty when
none), and a TTL of ``max_age`` (default :data:`~rxgateway.store.SESSION_MAX_AGE`, ten
minutes) renewed by each save: a record nobody refreshes goes away once Discord would
refuse to resume it anyway. No token is stored.

Writes are batched (:class:`~rxgateway.store.batching.BatchingStore`): a save only
buffers the record; the pending records go in one pipeline, one round trip, at most
once per ``interval`` (default 1 s) and on :meth:`~RedisSessionStore.flush`. A
thousand shards beating every 41 s make about 25 saves a second: one pipeline a
second, not one write per event (the discord.js hook pattern would be thousands).

Each record is written by a small Lua script (``HSET`` + ``PEXPIRE``), which keeps the
store's rule: a save never moves a session's sequence backwards. A process that held a
shard before another took it over may save its stale copy late; that changes nothing.

When Redis is down the batch stays pending, is logged and retried with backoff, and
:meth:`~RedisSessionStore.flush` raises :class:`~rxgateway.errors.SessionStoreError`;
once Redis answers again (even restarted empty) the pending records are written.

Example::

    store = RedisSessionStore("redis://:secret@redis.internal:6379/0", app="mybot")
    config = Config(token, intents, session_store=store)
    ...
    await store.aclose()
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

from ..errors import SessionStoreError
from ..store.batching import Batch, BatchingStore
from ..store.session_store import SAVE_INTERVAL, SESSION_MAX_AGE, SessionRecord
from .redis_link import DEFAULT_APP, Keys, connect, redact_url

if TYPE_CHECKING:
    from redis.asyncio import Redis

__all__ = ["RedisSessionStore"]

#: Milliseconds per second, for PEXPIRE.
_MS: Final = 1000

_SAVE = """
-- KEYS: the session hash
-- ARGV: session_id, sequence, resume_url, shard, total, saved_at, owner, ttl_ms
local stored = redis.call('HGET', KEYS[1], 'session_id')
if stored == ARGV[1] then
  local seq = tonumber(redis.call('HGET', KEYS[1], 'sequence'))
  if seq and seq > tonumber(ARGV[2]) then
    return 0
  end
end
redis.call('HSET', KEYS[1], 'session_id', ARGV[1], 'sequence', ARGV[2], 'resume_url', ARGV[3],
  'shard', ARGV[4], 'total', ARGV[5], 'saved_at', ARGV[6], 'owner', ARGV[7])
redis.call('PEXPIRE', KEYS[1], ARGV[8])
return 1
"""


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


class RedisSessionStore(BatchingStore):
    """Session records in Redis (see the module).

    Args:
        redis: a Redis URL (``redis://``, ``rediss://``, ``unix://``; a password is
            never shown) or a redis-py asyncio client. A client made from a URL is
            closed by :meth:`aclose`; one handed in is left open.
        app: the key prefix (two bots on one Redis use two names).
        owner: written as every record's ``owner`` (a cluster member's id, say);
            default the record's own (``host:pid`` of the process that saved it).
        interval: seconds between two batched writes (default 1 s).
        max_age: the records' TTL in seconds (default 10 min).
        generation: the shard generation whose sessions these are (resharding: two
            generations run side by side, each with its own records; 0 keeps the
            plain key names).
    """

    def __init__(
        self,
        redis: str | Redis,
        *,
        app: str = DEFAULT_APP,
        owner: str | None = None,
        interval: float = SAVE_INTERVAL,
        max_age: float = SESSION_MAX_AGE,
        generation: int = 0,
    ) -> None:
        super().__init__(interval=interval, max_age=max_age)
        self.keys = Keys(app)
        self.generation = generation
        self.owner = owner
        self._url = redis if isinstance(redis, str) else None
        self._redis: Redis = connect(redis) if isinstance(redis, str) else redis
        self._script = self._redis.register_script(_SAVE)

    async def _read(self, number: int) -> SessionRecord | None:
        try:
            raw: Any = await self._redis.hgetall(self.keys.session(number, self.generation))
        except Exception as exc:
            raise SessionStoreError(f"{self!r}: reading the session of shard {number} failed: {exc!r}") from exc
        if not raw:
            return None
        fields = {_text(k): _text(v) for k, v in raw.items()}
        try:
            data: dict[str, Any] = {
                "shard": [int(fields["shard"]), int(fields["total"])],
                "session_id": fields["session_id"],
                "sequence": int(fields["sequence"]),
                "resume_url": fields.get("resume_url") or None,
                "saved_at": float(fields["saved_at"]),
                "owner": fields.get("owner") or None,
            }
            return SessionRecord.from_dict(data)
        except (KeyError, ValueError) as exc:
            raise SessionStoreError(f"{self!r}: the session of shard {number} is unusable: {exc!r}") from None

    async def _write(self, batch: Batch) -> None:
        ttl_ms = int(self.max_age * _MS)
        try:
            async with self._redis.pipeline(transaction=False) as pipe:
                for number, record in batch.items():
                    key = self.keys.session(number, self.generation)
                    if record is None:
                        pipe.delete(key)
                        continue
                    owner = self.owner if self.owner is not None else record.owner
                    args: list[str | int | float] = [
                        record.session.id,
                        record.session.sequence,
                        record.resume_url or "",
                        record.shard.number,
                        record.shard.total,
                        repr(record.saved_at),
                        owner or "",
                        ttl_ms,
                    ]
                    await self._script(keys=[key], args=args, client=pipe)
                await pipe.execute()
        except Exception as exc:
            raise SessionStoreError(f"{self!r}: writing {len(batch)} session record(s) failed: {exc!r}") from exc

    async def _release(self) -> None:
        if self._url is not None:
            await self._redis.aclose()

    def __repr__(self) -> str:
        where = redact_url(self._url) if self._url is not None else "a client"
        return f"RedisSessionStore({where}, app={self.keys.app!r})"
