"""Which intents deliver which event types, and one warning when a subscription asks for
events that the config's intents will never bring.

The gateway does not complain about a bot that listens for PRESENCE_UPDATE without the
GUILD_PRESENCES intent: it just never sends one, and the bot waits in silence. Nor does
it say that guild messages reach a bot without MESSAGE_CONTENT with ``content`` blanked
(GATEWAY.md §8.3). :func:`warn_missing_intents` turns that silence into a log line on
the ``rxgateway`` logger, once per config and event type, when a subscription is made:
never on the receive path.

The table is not written twice: :data:`DELIVERED_BY` is read off the intent groups of
:class:`~rxgateway.protocol.EventTypeFlags` (GATEWAY.md §8.1), which the protocol tests
check against the gateway's own table.

Example::

    >>> [str(m) for m in missing_intents(EventTypeFlags.PRESENCE_UPDATE, Intents.GUILDS)]
    ['PRESENCE_UPDATE needs GUILD_PRESENCES']
    >>> missing_intents(EventTypeFlags.MESSAGE_CREATE, Intents.DIRECT_MESSAGES)
    []
"""

from __future__ import annotations

import functools
import logging
import weakref
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from .config import Config
from .protocol.event_type import EventType, EventTypeFlags
from .protocol.intents import PRIVILEGED_INTENTS, Intents

__all__ = ["CONTENT_INTENT_FOR", "DELIVERED_BY", "MissingIntent", "missing_intents", "warn_missing_intents"]

log = logging.getLogger("rxgateway")


def _delivered_by() -> dict[EventType, Intents]:
    """Each gated dispatch type and the intents any one of which delivers it."""
    table: dict[EventType, Intents] = {}
    for intent in Intents:
        group = EventTypeFlags.__members__.get(intent.name or "")
        if group is None:  # MESSAGE_CONTENT: no events of its own
            continue
        for event_type in group.types():
            table[event_type] = table.get(event_type, Intents(0)) | intent
    return table


#: Every dispatch type an intent gates, and the intents that deliver it (any one is
#: enough: MESSAGE_CREATE comes with GUILD_MESSAGES for guilds, DIRECT_MESSAGES for
#: DMs). Types not in the table are not gated by any intent.
DELIVERED_BY: Mapping[EventType, Intents] = MappingProxyType(_delivered_by())

#: Dispatch types whose content fields are blanked without MESSAGE_CONTENT (GATEWAY.md
#: §8.3), and the intent that brings them from guilds, where the blanking applies (DMs
#: keep their content).
CONTENT_INTENT_FOR: Mapping[EventType, Intents] = MappingProxyType({
    EventType.MESSAGE_CREATE: Intents.GUILD_MESSAGES,
    EventType.MESSAGE_UPDATE: Intents.GUILD_MESSAGES,
    EventType.AUTO_MODERATION_ACTION_EXECUTION: Intents.AUTO_MODERATION_EXECUTION,
})  # fmt: skip

#: What still arrives without the intent, where the gateway makes an exception.
_EXCEPTIONS: Mapping[EventType, str] = {
    EventType.GUILD_MEMBER_UPDATE: "only the bot's own member updates arrive without it",
}

_DISPATCHES = int(EventTypeFlags.DISPATCHES)
_ALL_INTENTS = int(Intents.all())


@dataclass(frozen=True, slots=True)
class MissingIntent:
    """An event type wanted by a subscription, and what the intents lack for it.

    ``needs`` holds the intents any one of which would deliver the event; with
    ``content`` set, the event is delivered but its content fields are blanked in guilds
    (``needs`` is then MESSAGE_CONTENT).
    """

    event_type: EventType
    needs: Intents
    content: bool = False

    def __str__(self) -> str:
        names = " or ".join(i.name or str(int(i)) for i in self.needs)
        return f"{self.event_type.name} {'content needs' if self.content else 'needs'} {names}"

    def message(self) -> str:
        """The warning for this event type, naming the intent(s) to add."""
        names = " or ".join(i.name or str(int(i)) for i in self.needs)
        add = " or ".join(f"Intents.{i.name}" for i in self.needs)
        privileged = " (privileged: enable it in the Developer Portal too)" if self.needs & PRIVILEGED_INTENTS else ""
        if self.content:
            return (
                f"a subscription wants {self.event_type.name} but the config's intents lack "
                f"MESSAGE_CONTENT: content, embeds, attachments and components will be empty "
                f"in guild messages that do not mention the bot; add {add} to Config(intents=...){privileged}"
            )
        expect = _EXCEPTIONS.get(self.event_type) or "the gateway will not send it"
        return (
            f"a subscription wants {self.event_type.name} but the config's intents lack "
            f"{names}, which deliver{'s' if len(self.needs) == 1 else ''} it: {expect}; "
            f"add {add} to Config(intents=...){privileged}"
        )


def missing_intents(flags: EventTypeFlags | int, intents: Intents | int) -> list[MissingIntent]:
    """What ``intents`` lack for the dispatch types in ``flags``, in bit order.

    A subscription to every dispatch (the shard itself, ``EventTypeFlags.all()``,
    ``DISPATCHES``) asks for nothing in particular and lacks nothing; gateway-level and
    ungated types never lack anything.
    """
    wanted = int(flags) & _DISPATCHES
    if not wanted or wanted == _DISPATCHES:
        return []
    return list(_missing(wanted, int(intents) & _ALL_INTENTS))


@functools.lru_cache(maxsize=256)
def _missing(wanted: int, intents: int) -> tuple[MissingIntent, ...]:
    """:func:`missing_intents` on plain ints, remembered: a program subscribes with a
    few flag sets, often (``next_event`` in a loop)."""
    have = Intents(intents)
    found: list[MissingIntent] = []
    for event_type in EventTypeFlags(wanted).types():
        needs = DELIVERED_BY.get(event_type)
        if needs is not None and not needs & have:
            found.append(MissingIntent(event_type, needs))
            continue
        content_from = CONTENT_INTENT_FOR.get(event_type)
        if content_from is not None and content_from & have and not have & Intents.MESSAGE_CONTENT:
            found.append(MissingIntent(event_type, Intents.MESSAGE_CONTENT, content=True))
    return tuple(found)


#: What has been warned, per identify queue: every shard built from one config (or
#: its ``replace``d copies: a ShardGroup, a cluster member's shards) shares the queue,
#: so a group of a thousand shards warns once, and a new config warns afresh.
_warned: weakref.WeakKeyDictionary[object, set[tuple[int, EventType, bool]]] = weakref.WeakKeyDictionary()
#: The same, for a queue that cannot be weakly referenced: once per process.
_warned_fallback: set[tuple[int, EventType, bool]] = set()


def warn_missing_intents(flags: EventTypeFlags | int, config: Config) -> list[MissingIntent]:
    """Log a warning (logger ``rxgateway``) for each event type in ``flags`` that
    ``config.intents`` will not deliver, or deliver blanked, unless one was logged for
    this config and event type before. Returns what it warned about now.

    Called when a subscription is made (:meth:`rxgateway.Shard.subscribe_flags`),
    never per event.
    """
    missing = missing_intents(flags, config.intents)
    if not missing:
        return []
    try:
        warned = _warned.setdefault(config.queue, set())
    except TypeError:  # a queue without weak references
        warned = _warned_fallback
    intents = int(config.intents)
    fresh = [m for m in missing if (intents, m.event_type, m.content) not in warned]
    for m in fresh:
        warned.add((intents, m.event_type, m.content))
        log.warning("%s", m.message())
    return fresh
