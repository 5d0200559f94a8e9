"""A session store in a JSON file: one process on one machine, restarted, resumes every
shard.

Example::

    config = Config(token, intents, session_store=FileSessionStore("sessions.json"))
    # ... the process stops (shards closed with CloseFrame.RESUME, or killed) and
    # starts again with the same line: every shard resumes its session.

The file holds every shard's record::

    {"format": "rxgateway.sessions", "version": 1,
     "sessions": {"0": {"shard": [0, 4], "session_id": "...", "sequence": 812,
                        "resume_url": "wss://...", "saved_at": 1700000000.0, "owner": "host:pid"}}}

It is rewritten whole, atomically: the new text goes to ``<path>.tmp``, is flushed to
disk, and replaces the file with ``os.replace``, so a crash at any moment leaves the
old file or the new one, never half of one (a leftover ``.tmp`` is ignored and
overwritten by the next write). Writes are batched (at most one per ``interval``
seconds, see :class:`~rxgateway.store.batching.BatchingStore`) and run in a thread,
off the event loop. The file is created readable by its owner only (0600).

One store object per file, in one process: the file is read once, at the first load,
and this store's writes are the only ones expected. A file that is not a session
store (another JSON, not JSON at all) is never overwritten: loading and saving raise
:class:`~rxgateway.errors.SessionStoreError` until it is moved away. Records older
than ``max_age`` are dropped when the file is next written.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Any, Final

import orjson

from ..errors import SessionStoreError
from .batching import Batch, BatchingStore
from .session_store import SAVE_INTERVAL, SESSION_MAX_AGE, SessionRecord, supersedes

__all__ = ["FILE_FORMAT", "FILE_VERSION", "FileSessionStore"]

#: The ``format`` marker of a session file: a file without it is not ours to overwrite.
FILE_FORMAT: Final = "rxgateway.sessions"
#: The layout version written (and the only one read).
FILE_VERSION: Final = 1


class FileSessionStore(BatchingStore):
    """Session records in one JSON file (see the module).

    Args:
        path: the file; its directory must exist. Created on the first write.
        interval: seconds between two writes of the file (default 1 s).
        max_age: seconds a record stays resumable (default 10 min).
    """

    def __init__(
        self, path: str | os.PathLike[str], *, interval: float = SAVE_INTERVAL, max_age: float = SESSION_MAX_AGE
    ) -> None:
        super().__init__(interval=interval, max_age=max_age)
        self.path = Path(path)
        #: The file's records (shard number -> record, or what did not parse as one),
        #: read at the first use and kept up to date by each write.
        self._entries: dict[int, SessionRecord | _Unusable] | None = None

    @property
    def temp_path(self) -> Path:
        """Where a new version of the file is written before it replaces the file."""
        return self.path.with_name(self.path.name + ".tmp")

    async def _read(self, number: int) -> SessionRecord | None:
        entry = (await self._loaded()).get(number)
        if entry is None or isinstance(entry, SessionRecord):
            return entry
        raise SessionStoreError(f"{self!r}: the record of shard {number} is unusable: {entry.problem}")

    async def _write(self, batch: Batch) -> None:
        entries = dict(await self._loaded())
        for number, record in batch.items():
            if record is None:
                entries.pop(number, None)
            else:
                old = entries.get(number)
                if supersedes(record, old if isinstance(old, SessionRecord) else None):
                    entries[number] = record
        # Records too old to resume go; unusable ones stay, for their shard to report.
        entries = {n: e for n, e in entries.items() if not isinstance(e, SessionRecord) or e.age() < self.max_age}
        document = {
            "format": FILE_FORMAT,
            "version": FILE_VERSION,
            "sessions": {str(n): _as_json(entries[n]) for n in sorted(entries)},
        }
        data = orjson.dumps(document, option=orjson.OPT_INDENT_2) + b"\n"
        try:
            await asyncio.to_thread(self._write_file, data)
        except OSError as exc:
            raise SessionStoreError(f"{self!r}: writing the file failed: {exc}") from exc
        self._entries = entries

    def _write_file(self, data: bytes) -> None:
        """Replace the file with ``data`` atomically (runs in a worker thread)."""
        temp = self.temp_path
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            with os.fdopen(fd, "wb") as file:
                file.write(data)
                file.flush()
                os.fsync(file.fileno())
            os.replace(temp, self.path)
        except BaseException:
            try:
                temp.unlink()
            except OSError:
                pass
            raise
        _sync_directory(self.path.parent)

    async def _loaded(self) -> dict[int, SessionRecord | _Unusable]:
        """The file's records, read once."""
        if self._entries is None:
            self._entries = await asyncio.to_thread(self._read_file)
        return self._entries

    def _read_file(self) -> dict[int, SessionRecord | _Unusable]:
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            return {}
        except OSError as exc:
            raise SessionStoreError(f"{self!r}: reading the file failed: {exc}") from exc
        if not data.strip():
            return {}  # created empty (touch): nothing saved yet
        refusal = f"{self!r}: the file is not a session store written by rxgateway; move it away or use another path"
        try:
            document = orjson.loads(data)
        except orjson.JSONDecodeError:
            raise SessionStoreError(f"{refusal} (it is not JSON)") from None
        if not isinstance(document, dict) or document.get("format") != FILE_FORMAT:
            raise SessionStoreError(refusal)
        if document.get("version") != FILE_VERSION:
            raise SessionStoreError(f"{self!r}: the file has version {document.get('version')!r}; this rxgateway reads {FILE_VERSION}")
        sessions = document.get("sessions")
        if not isinstance(sessions, dict):
            raise SessionStoreError(f"{refusal} ('sessions' is not an object)")
        entries: dict[int, SessionRecord | _Unusable] = {}
        for key, entry in sessions.items():
            if not key.isdigit():
                continue
            try:
                entries[int(key)] = SessionRecord.from_dict(entry)
            except ValueError as exc:
                entries[int(key)] = _Unusable(entry, str(exc))
        return entries

    def __repr__(self) -> str:
        return f"FileSessionStore({str(self.path)!r})"


class _Unusable:
    """An entry of the file that is not a valid record: kept as it was, and reported
    when its shard loads (a new record of that shard replaces it)."""

    __slots__ = ("problem", "raw")

    def __init__(self, raw: Any, problem: str) -> None:
        self.raw = raw
        self.problem = problem


def _as_json(entry: SessionRecord | _Unusable) -> Any:
    return entry.to_dict() if isinstance(entry, SessionRecord) else entry.raw


def _sync_directory(directory: Path) -> None:
    """Make the rename durable (POSIX); a platform that cannot open a directory skips it."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
