"""The two bases of every typed class: :class:`View` for an object nested in a payload
(a user, a member, a role ...) and :class:`TypedDispatch` for a dispatch event, plus
:class:`UnknownDispatch` for a ``t`` this library does not know yet.

Both hold the parsed dict as ``raw`` and nothing else; their fields are
:class:`~rxgateway.events.fields.Field` descriptors. Both show a short ``repr`` (a few
key fields, never the whole dict) and a small HTML table in Jupyter.

Objects that are sometimes a whole dispatch and sometimes nested (a channel is
CHANNEL_CREATE's ``d`` and an element of GUILD_CREATE's ``channels``) declare their
fields once, in a ``...Fields`` mixin used by both the view and the events.
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING, Any, ClassVar

from ..protocol.event_type import EventType
from .base import Dispatch
from .fields import SNOWFLAKE, opt

#: Longest string shown in a repr before it is cut.
_REPR_TEXT = 40
#: Errors a field read may raise (see fields.py); a repr shows them as ``?``.
FIELD_ERRORS = (KeyError, TypeError, ValueError)


def _cut(text: str) -> str:
    return text if len(text) <= _REPR_TEXT else text[: _REPR_TEXT - 1] + "…"


def brief(value: Any) -> str:
    """A short display form of a field value: a view's label, a cut string, a list's
    length, never a whole dict."""
    if isinstance(value, Display):
        return value._label()
    if isinstance(value, str):
        return repr(_cut(value))
    if isinstance(value, list):
        return f"[{len(value)} item{'' if len(value) == 1 else 's'}]"
    if isinstance(value, dict):
        return "{…}"
    return repr(value)


class Display:
    """repr and Jupyter display from a few key fields (``_repr_keys``)."""

    __slots__ = ()

    #: The parsed JSON object (a slot of the concrete classes).
    raw: Any
    #: The fields a repr shows, in order, separated by spaces.
    _repr_keys: ClassVar[str] = ""
    #: The field that names this object inside another one's repr.
    _label_key: ClassVar[str] = "id"

    def _head(self) -> list[tuple[str, str]]:
        return []

    def _get(self, key: str) -> Any:
        """Field ``key``, or ``None`` where reading it fails."""
        try:
            return getattr(self, key)
        except FIELD_ERRORS:
            return None

    def _read(self, key: str) -> str:
        try:
            return brief(getattr(self, key))
        except FIELD_ERRORS:
            return "?"

    def _pairs(self) -> list[tuple[str, str]]:
        return self._head() + [(key, self._read(key)) for key in self._repr_keys.split()]

    def _label(self) -> str:
        """How this object appears inside another's repr (``author=alice``)."""
        value = self._get(self._label_key)
        if value is None:
            return type(self).__name__
        return _cut(value) if isinstance(value, str) else brief(value)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({', '.join(f'{k}={v}' for k, v in self._pairs())})"

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(repr(self))

    def _repr_html_(self) -> str:
        rows = "".join(f"<tr><th>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>" for k, v in self._pairs())
        return f'<table><tr><th colspan="2">{type(self).__name__}</th></tr>{rows}</table>'


class View(Display):
    """A JSON object nested in a payload, read on demand. ``raw`` is the dict.

    Example::

        >>> user = User({"id": "1", "username": "alice", "discriminator": "0"})
        >>> user.id, user.username, user.global_name
        (1, 'alice', None)
    """

    __slots__ = ("raw",)

    def __init__(self, raw: Any) -> None:
        self.raw = raw


class TypedDispatch(Display, Dispatch):
    """Base of every typed dispatch: ``Dispatch`` plus a ``guild_id`` (``None`` for
    events without one) and a short repr. Built like any dispatch,
    ``cls(shard, sequence, name, d, type_)``; construction only fills the slots.

    Example::

        >>> e = MessageDelete(ShardId(0, 1), 51, "MESSAGE_DELETE", {"id": "5", "channel_id": "6"},
        ...                   EventType.MESSAGE_DELETE)
        >>> e
        MessageDelete(shard=0, seq=51, id=5, channel_id=6)
        >>> e.guild_id is None
        True
    """

    __slots__ = ()

    #: The class's event type (every typed class sets it; it equals the ``type_`` the
    #: shard passes).
    type: ClassVar[EventType]

    if TYPE_CHECKING:
        # A read-only property for type checkers, so that events and mixins may narrow
        # it to ``int``; at run time the plain field below.

        @property
        def guild_id(self) -> int | None:
            """The guild the event belongs to: ``None`` for DMs and guild-less events."""

    else:
        guild_id = opt(SNOWFLAKE)

    def _head(self) -> list[tuple[str, str]]:
        return [("shard", str(self.shard.number)), ("seq", str(self._sequence))]

    def _fields(self) -> dict[str, Any]:
        return dict(self._pairs())


class UnknownDispatch(TypedDispatch):
    """A dispatch whose ``t`` this library does not know (Discord adds events over
    time). Never dropped: ``name`` is the ``t``, ``raw`` the ``d``; ``guild_id`` is
    read when present.

    Example::

        >>> e = UnknownDispatch(ShardId(0, 1), 9, "NEW_THING", {"a": 1}, EventType.UNKNOWN_DISPATCH)
        >>> e
        UnknownDispatch(shard=0, seq=9, name='NEW_THING', keys=['a'])
    """

    __slots__ = ()

    type = EventType.UNKNOWN_DISPATCH

    def _pairs(self) -> list[tuple[str, str]]:
        keys = list(self.raw)[:8] if isinstance(self.raw, dict) else type(self.raw).__name__
        return self._head() + [("name", repr(self.name)), ("keys", repr(keys))]
