"""A gateway session: what a shard needs to Resume (twilight.md §1.10, §2.14).

The id comes from READY's ``session_id``; the sequence is the ``s`` of the last
dispatch received. Both go into Resume (op 6). A :class:`Session` is an immutable
value, so a process can save it (:meth:`Session.to_json`) before it stops, and
restore it (:meth:`Session.from_json`) to resume instead of identifying again.
The JSON form is twilight's: ``{"id": "...", "sequence": N}``.

Example::

    >>> session = Session("9f1c2d", 42)
    >>> session.to_json()
    '{"id":"9f1c2d","sequence":42}'
    >>> Session.from_json(session.to_json()) == session
    True
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import orjson

__all__ = ["Session"]


def _problem(session_id: object, sequence: object) -> tuple[type[Exception], str] | None:
    """What is wrong with these fields, if anything: (exception type, message)."""
    if not isinstance(session_id, str):
        return TypeError, f"session 'id' must be a string, got {type(session_id).__name__}"
    if not session_id:
        return ValueError, "session 'id' must not be empty"
    if isinstance(sequence, bool) or not isinstance(sequence, int):
        return TypeError, f"session 'sequence' must be an integer, got {type(sequence).__name__}"
    if sequence < 0:
        return ValueError, f"session 'sequence' must be >= 0, got {sequence}"
    return None


@dataclass(frozen=True, slots=True)
class Session:
    """A resumable session: its id and the last sequence number received.

    Example::

        >>> Session("9f1c2d", 7).with_sequence(8)
        Session(id='9f1c2d', sequence=8)
    """

    id: str
    sequence: int

    def __post_init__(self) -> None:
        problem = _problem(self.id, self.sequence)
        if problem is not None:
            raise problem[0](problem[1])

    def with_sequence(self, sequence: int) -> Session:
        """The same session at another sequence (skips and repeats are allowed).

        Example::

            >>> Session("a", 1).with_sequence(5).sequence
            5
        """
        return Session(self.id, sequence)

    def to_dict(self) -> dict[str, Any]:
        """``{"id": ..., "sequence": ...}``.

        Example::

            >>> Session("a", 1).to_dict()
            {'id': 'a', 'sequence': 1}
        """
        return {"id": self.id, "sequence": self.sequence}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Session:
        """Rebuild a session from :meth:`to_dict`'s form; other keys are ignored.

        Any problem raises ``ValueError`` naming the field.

        Example::

            >>> Session.from_dict({"id": "a", "sequence": 3})
            Session(id='a', sequence=3)
            >>> Session.from_dict({"id": "a", "sequence": "3"})
            Traceback (most recent call last):
            ...
            ValueError: invalid session: session 'sequence' must be an integer, got str
        """
        if not isinstance(data, Mapping):
            raise ValueError(f"invalid session: expected an object, got {type(data).__name__}")
        missing = [key for key in ("id", "sequence") if key not in data]
        if missing:
            raise ValueError(f"invalid session: missing {', '.join(repr(key) for key in missing)}")
        session_id, sequence = data["id"], data["sequence"]
        problem = _problem(session_id, sequence)
        if problem is not None:
            raise ValueError(f"invalid session: {problem[1]}")
        return cls(session_id, sequence)

    def to_json(self) -> str:
        """The JSON text of :meth:`to_dict`.

        Example::

            >>> Session("a", 1).to_json()
            '{"id":"a","sequence":1}'
        """
        return orjson.dumps(self.to_dict()).decode()

    @classmethod
    def from_json(cls, text: str | bytes) -> Session:
        """Parse :meth:`to_json`'s output; any problem raises ``ValueError``.

        Example::

            >>> Session.from_json('{"id": "a", "sequence": 9}').sequence
            9
        """
        try:
            data = orjson.loads(text)
        except orjson.JSONDecodeError as exc:
            raise ValueError(f"invalid session: not JSON ({exc})") from exc
        return cls.from_dict(data)
