"""Checking the promise "nothing lost, nothing repeated" (DESIGN.md principle 6).

:class:`SequenceAudit` watches dispatches and counts, per shard and session, the
sequence numbers that were skipped (gaps) or delivered again (duplicates). A READY
starts a new session, whose count starts over: after op 9 d=false the old session's
missing events are gone by Discord's design, not lost by the client.

Example::

    audit = SequenceAudit()
    shards.subscribe(audit.observe)
    ...
    assert audit.gaps == 0 and audit.duplicates == 0
"""

from __future__ import annotations

from reactivex import abc

from .events.base import Dispatch, Event


class SequenceAudit(abc.ObserverBase[Event]):
    """Counts gaps and duplicates in each shard's dispatch sequence."""

    def __init__(self) -> None:
        self._last: dict[int, int] = {}
        #: Sequence numbers never delivered, summed over shards and sessions.
        self.gaps = 0
        #: Dispatches delivered with a sequence already seen in their session.
        self.duplicates = 0
        #: Sessions started (READY) across shards.
        self.sessions = 0
        #: Dispatches with a sequence number seen.
        self.delivered = 0

    def observe(self, event: Event) -> None:
        """Account for one event (anything but a sequenced dispatch is ignored)."""
        if not isinstance(event, Dispatch) or event.sequence is None:
            return
        seq = event.sequence
        shard = event.shard.number
        self.delivered += 1
        if event.name == "READY":
            self.sessions += 1
            self._last[shard] = seq
            return
        last = self._last.get(shard)
        if last is None:  # resumed from a saved session: the first number sets the base
            self._last[shard] = seq
        elif seq <= last:
            self.duplicates += 1
        else:
            self.gaps += seq - last - 1
            self._last[shard] = seq

    def on_next(self, value: Event) -> None:
        """As an Observer: ``source.subscribe(audit)`` works."""
        self.observe(value)

    def on_error(self, error: Exception) -> None:
        """Ignore: the audit only counts."""

    def on_completed(self) -> None:
        """Ignore: the audit only counts."""
