"""Identify queues: who may send Identify, and when (GATEWAY.md §5.2, §5.3).

Example::

    >>> queue = InMemoryQueue(max_concurrency=1)
    >>> isinstance(queue, SessionQueue), IDENTIFY_INTERVAL, LIMIT_PERIOD
    (True, 5.0, 86400.0)
"""

from .session_queue import IDENTIFY_INTERVAL, IDENTIFY_MARGIN, LIMIT_PERIOD, SessionQueue
from .memory import InMemoryQueue

__all__ = ["IDENTIFY_INTERVAL", "IDENTIFY_MARGIN", "LIMIT_PERIOD", "InMemoryQueue", "SessionQueue"]
