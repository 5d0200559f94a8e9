"""A dispatch the server sends, ready to deliver (:class:`OutgoingDispatch`): its ``d``
serialised once, its routing key, the intents it needs and whether its message content
is blanked for some sessions. (What a client receives is
:class:`rxgateway.events.Dispatch`.)

Delivery to a session only wraps the pre-serialised ``d`` in an envelope with that
session's sequence number, so one event costs one ``orjson.dumps`` however many
sessions receive it.

* Routing key (GATEWAY.md §6.1): ``d.guild_id``, or ``d.id`` for GUILD_CREATE/UPDATE/
  DELETE; ``None`` (shard 0 only) for guild-less events and for every ENTITLEMENT_* and
  SUBSCRIPTION_* event.
* Intents (§8.1, §10.11): the intents whose event list names ``t``; for the names that
  guild and DM events share, the GUILD_* intents when the event has a guild and the
  DIRECT_* ones when it has none. Zero means "always delivered". A GUILD_MEMBER_UPDATE
  about the bot itself needs no intent (§8.1 special cases).
* Content (§8.3): MESSAGE_CREATE/UPDATE in a guild, unless the receiving bot wrote or is
  mentioned in it, and AUTO_MODERATION_ACTION_EXECUTION, lose their content for a
  session without MESSAGE_CONTENT.

Example::

    >>> dm = OutgoingDispatch.build("MESSAGE_CREATE", {"id": "1", "channel_id": "2", "content": "hi"})
    >>> dm.guild_id is None, dm.intents == Intents.DIRECT_MESSAGES
    (True, True)
"""

from __future__ import annotations

import functools
from typing import Any

import orjson

from ..protocol import EventTypeFlags, Intents

#: Events the docs deliver to shard 0 even when they carry a guild id (§6.1, §13.24).
SHARD_ZERO_PREFIXES = ("ENTITLEMENT_", "SUBSCRIPTION_")
#: Events routed by ``d.id`` rather than ``d.guild_id``.
GUILD_ITSELF = frozenset({"GUILD_CREATE", "GUILD_UPDATE", "GUILD_DELETE"})
#: Messages whose content MESSAGE_CONTENT gates (§8.3).
MESSAGE_EVENTS = frozenset({"MESSAGE_CREATE", "MESSAGE_UPDATE"})
#: The key of the optional send timestamp in a generated dispatch's ``d``.
STAMP_KEY = b"emu_sent_ns"


class OutgoingDispatch:
    """One event, serialised once, delivered to any number of sessions.

    Formerly ``Dispatch`` (still importable as ``rxgateway.emulator.Dispatch``).
    """

    __slots__ = (
        "_blanked", "content_exempt", "data", "guild_id", "intents", "obj", "self_member", "stamp_ns", "t", "t_bytes",
    )  # fmt: skip

    def __init__(
        self,
        t: str,
        obj: dict[str, Any],
        data: bytes,
        guild_id: int | None,
        intents: int,
        content_exempt: frozenset[int] | None,
        self_member: int | None,
        stamp_ns: int | None = None,
    ) -> None:
        self.t = t
        self.t_bytes = t.encode()
        self.obj = obj
        #: The serialised ``d``.
        self.data = data
        #: The routing key; ``None`` routes to shard 0.
        self.guild_id = guild_id
        #: The intents of which a session needs one (0: none needed).
        self.intents = intents
        #: ``None``: content never blanked; else the user ids who still see it.
        self.content_exempt = content_exempt
        #: For GUILD_MEMBER_UPDATE: the member's user id (bots see their own without intents).
        self.self_member = self_member
        #: The send timestamp added to ``d`` (``None``: not stamped).
        self.stamp_ns = stamp_ns
        self._blanked: bytes | None = None

    @classmethod
    def build(cls, t: str, d: dict[str, Any]) -> OutgoingDispatch:
        """Serialise ``d`` and work out routing, intents and content rules for it."""
        in_guild = d.get("guild_id") is not None
        key = d.get("id") if t in GUILD_ITSELF else d.get("guild_id")
        guild_id = None if key is None or t.startswith(SHARD_ZERO_PREFIXES) else int(key)
        self_member = None
        if t == "GUILD_MEMBER_UPDATE":
            self_member = int(d.get("user", {}).get("id", 0))
        return cls(
            t,
            d,
            orjson.dumps(d),
            guild_id,
            required_intents(t, in_guild or t in GUILD_ITSELF),
            _content_exempt(t, d, in_guild),
            self_member,
        )

    def with_stamp(self, ns: int) -> OutgoingDispatch:
        """A copy whose ``d`` ends with ``"emu_sent_ns": ns`` (for latency benchmarks)."""
        return OutgoingDispatch(
            self.t, self.obj, _stamp(self.data, ns), self.guild_id, self.intents, self.content_exempt,
            self.self_member, ns,
        )  # fmt: skip

    def blanked(self) -> bytes:
        """``d`` as a session without MESSAGE_CONTENT sees it (made once, on first use)."""
        if self._blanked is None:
            blank = dict(self.obj)
            if self.t in MESSAGE_EVENTS:
                _blank_message(blank)
            else:
                blank.update(content="", matched_content=None)
            data = orjson.dumps(blank)
            self._blanked = data if self.stamp_ns is None else _stamp(data, self.stamp_ns)
        return self._blanked


@functools.cache
def required_intents(t: str, in_guild: bool) -> int:
    """The intents of which a session needs one to receive ``t`` (0: always sent)."""
    flag = EventTypeFlags.from_dispatch_name(t)
    matching: list[tuple[str, int]] = []
    for intent in Intents:
        group = EventTypeFlags.__members__.get(intent.name or "")
        if group is not None and flag & group:
            matching.append((intent.name or "", int(intent)))
    sided = [value for name, value in matching if name.startswith("DIRECT_") != in_guild]
    return sum(sided or [value for _, value in matching])


def _content_exempt(t: str, d: dict[str, Any], in_guild: bool) -> frozenset[int] | None:
    if t == "AUTO_MODERATION_ACTION_EXECUTION":
        return frozenset()
    if t not in MESSAGE_EVENTS or not in_guild:
        return None
    exempt = {int(m["id"]) for m in d.get("mentions", ())}
    author = d.get("author")
    if author is not None:
        exempt.add(int(author["id"]))
    return frozenset(exempt)


def _blank_message(message: dict[str, Any]) -> None:
    message.update(content="", embeds=[], attachments=[], components=[])
    message.pop("poll", None)
    referenced = message.get("referenced_message")
    if isinstance(referenced, dict):
        message["referenced_message"] = referenced = dict(referenced)
        _blank_message(referenced)


def _stamp(data: bytes, ns: int) -> bytes:
    """``data`` (a serialised object) with ``"emu_sent_ns": ns`` added as its last key."""
    field = b'"%b":%d}' % (STAMP_KEY, ns)
    return data[:-1] + (field if data == b"{}" else b"," + field)
