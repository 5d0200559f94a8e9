"""Session stores: where shards keep their sessions so that a restarted process
resumes them instead of identifying (reference/scaling.md §3.3).

``Config(session_store=...)`` is all it takes; the shard loads, saves and deletes.

- :class:`MemorySessionStore`: in memory, for tests and restarts within a process.
- :class:`FileSessionStore`: a JSON file, for one process on one machine.
- :class:`~rxgateway.cluster.redis_store.RedisSessionStore`: Redis, for many.

Example::

    >>> store = MemorySessionStore()
    >>> isinstance(store, SessionStore), SESSION_MAX_AGE, SAVE_INTERVAL
    (True, 600.0, 1.0)
"""

from .session_store import SAVE_INTERVAL, SESSION_MAX_AGE, SessionRecord, SessionStore, default_owner, supersedes
from .batching import BatchingStore
from .file import FileSessionStore
from .memory import MemorySessionStore

__all__ = [
    "SAVE_INTERVAL",
    "SESSION_MAX_AGE",
    "BatchingStore",
    "FileSessionStore",
    "MemorySessionStore",
    "SessionRecord",
    "SessionStore",
    "default_owner",
    "supersedes",
]
