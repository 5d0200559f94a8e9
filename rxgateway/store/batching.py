"""What the file and Redis stores share: a buffer of pending writes, written in one
batch at most once per interval, and retried when a write fails.

A save or delete replaces what the same shard had pending (the last word wins: a
record saved then deleted is deleted). A background task of the store writes the
batch ``interval`` seconds after the first pending change; :meth:`flush` writes at
once. A batch that fails to be written goes back into the buffer (under anything
newer saved meanwhile), is logged, and is tried again after a backoff (the
interval, doubling up to :data:`RETRY_CAP`); :meth:`flush` raises
:class:`~rxgateway.errors.SessionStoreError`, and :meth:`save` raises it once per
shard until a write succeeds again, so every shard whose session is at risk reports
it as an error event.

A subclass implements :meth:`BatchingStore._read` (one shard's stored record) and
:meth:`BatchingStore._write` (a batch: shard number -> record, or ``None`` to delete).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Final

from ..errors import SessionStoreError
from ..protocol.shard_id import ShardId
from .session_store import SAVE_INTERVAL, SESSION_MAX_AGE, SessionRecord, supersedes

__all__ = ["RETRY_CAP", "BatchingStore"]

log = logging.getLogger("rxgateway.store")

#: The longest wait, in seconds, between two tries of a batch that keeps failing.
RETRY_CAP: Final = 30.0

#: shard number -> the record to write, or None to delete it.
Batch = dict[int, SessionRecord | None]


class BatchingStore:
    """A session store that buffers saves and writes them in batches (see the module).

    Args:
        interval: seconds between two batched writes (and the first retry's delay).
        max_age: seconds a record stays resumable; older ones are not loaded.
    """

    def __init__(self, *, interval: float = SAVE_INTERVAL, max_age: float = SESSION_MAX_AGE) -> None:
        if not interval >= 0:
            raise ValueError(f"interval must be >= 0 seconds, got {interval!r}")
        if not max_age > 0:
            raise ValueError(f"max_age must be > 0 seconds, got {max_age!r}")
        self.interval = float(interval)
        self.max_age = float(max_age)
        #: Batches written so far (each one file write, or one Redis round trip).
        self.writes = 0
        self._pending: Batch = {}
        self._inflight: Batch = {}
        #: The writer while it sleeps; every task of the store, sleeping or writing.
        self._timer: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._lock: asyncio.Lock | None = None
        self._lock_loop: asyncio.AbstractEventLoop | None = None
        #: The error of the last write while writes are failing, and the shards that
        #: were told of it (each is told once per outage).
        self._failing: SessionStoreError | None = None
        self._told: set[int] = set()
        self._retries = 0
        self._closed = False

    # ------------------------------------------------------------- the contract

    async def load(self, shard: ShardId) -> SessionRecord | None:
        """The record of ``shard``: a pending one first, else the stored one; ``None``
        when there is none, it is of another total, or older than ``max_age``."""
        number = shard.number
        if number in self._pending:
            record = self._pending[number]
        elif number in self._inflight:
            record = self._inflight[number]
        else:
            record = await self._read(number)
        if record is None or not record.resumable_by(shard, self.max_age):
            return None
        return record

    async def save(self, record: SessionRecord) -> None:
        """Buffer ``record``; written within ``interval``. Raises
        :class:`~rxgateway.errors.SessionStoreError` (once per shard) while writes fail;
        the record is kept and retried all the same."""
        self._change(record.shard.number, record)

    async def delete(self, shard: ShardId) -> None:
        """Buffer the deletion of ``shard``'s record."""
        self._change(shard.number, None)

    async def flush(self) -> None:
        """Write every pending change now (after a write under way, if any). Raises
        :class:`~rxgateway.errors.SessionStoreError` if the write fails."""
        self._cancel_timer()  # it would only write what this writes now
        async with self._loop_lock():
            batch, self._pending = self._pending, {}
            if not batch:
                return
            self._inflight = batch
            try:
                await self._write(batch)
            except BaseException as exc:
                for number, record in batch.items():  # back, under anything newer
                    self._pending.setdefault(number, record)
                if isinstance(exc, asyncio.CancelledError):
                    raise
                if isinstance(exc, SessionStoreError):
                    error = exc
                else:
                    error = SessionStoreError(f"{self!r}: writing {len(batch)} session record(s) failed: {exc!r}")
                    error.__cause__ = exc
                self._failed(error)
                raise error
            finally:
                self._inflight = {}
            self.writes += 1
            if self._failing is not None:
                log.info("%r: writing sessions works again", self)
            self._failing, self._retries = None, 0
            self._told.clear()

    async def aclose(self) -> None:
        """Flush, then stop the background writer and release the store. Raises
        :class:`~rxgateway.errors.SessionStoreError` if the last flush failed (what
        was pending is then lost, and said to be)."""
        try:
            await self.flush()
        finally:
            self._closed = True
            self._cancel_timer()
            tasks = [t for t in self._tasks if t.get_loop() is asyncio.get_running_loop()]
            if tasks:
                await asyncio.gather(*tasks, return_exceptions=True)
            if self._pending:
                log.error("%r: closed with %d session record(s) never written", self, len(self._pending))
            await self._release()

    @property
    def pending(self) -> int:
        """How many shards have a change not written yet."""
        return len(self._pending)

    # ----------------------------------------------------------- for subclasses

    async def _read(self, number: int) -> SessionRecord | None:
        """The stored record of shard ``number`` (any total), or ``None``."""
        raise NotImplementedError

    async def _write(self, batch: Batch) -> None:
        """Write ``batch`` (shard number -> record, or ``None`` to delete) in one go."""
        raise NotImplementedError

    async def _release(self) -> None:
        """Release what the store holds (called once, by :meth:`aclose`)."""

    # ---------------------------------------------------------------- internals

    def _change(self, number: int, record: SessionRecord | None) -> None:
        if self._closed:
            raise SessionStoreError(f"{self!r} is closed")
        if record is None or supersedes(record, self._pending.get(number)):
            self._pending[number] = record
        if self._timer is None:
            self._schedule(self.interval)
        failing = self._failing
        if failing is not None and number not in self._told:
            self._told.add(number)
            raise SessionStoreError(f"{failing} (the record of shard {number} is kept and retried)")

    def _schedule(self, delay: float) -> None:
        """Write the pending batch ``delay`` seconds from now."""
        task = asyncio.get_running_loop().create_task(self._write_later(delay), name=f"{type(self).__name__} writer")
        self._timer = task
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _cancel_timer(self) -> None:
        """Cancel the writer while it sleeps (never while it writes: a write cut short
        in a thread would go on regardless)."""
        timer, self._timer = self._timer, None
        if timer is not None and timer.get_loop() is asyncio.get_running_loop():
            timer.cancel()

    async def _write_later(self, delay: float) -> None:
        await asyncio.sleep(delay)
        if self._timer is asyncio.current_task():
            self._timer = None  # writing now: saves from here on schedule the next batch
        try:
            await self.flush()
        except SessionStoreError:
            pass  # logged by _failed, which scheduled the retry

    def _failed(self, error: SessionStoreError) -> None:
        """A write failed: log it (never a secret: records hold none), and try again
        after a backoff."""
        self._failing = error
        self._retries += 1
        delay = min(max(self.interval, 0.1) * 2 ** (self._retries - 1), RETRY_CAP)
        log.warning("%s; %d record(s) pending, retrying in %.1f s", error, len(self._pending), delay)
        if not self._closed and self._timer is None:
            self._schedule(delay)

    def _loop_lock(self) -> asyncio.Lock:
        """The write lock, one per event loop (a store may outlive a loop)."""
        loop = asyncio.get_running_loop()
        if self._lock is None or self._lock_loop is not loop:
            self._lock, self._lock_loop = asyncio.Lock(), loop
        return self._lock
