"""Checked by mypy in test_ops_of_type.py (not a test module): the revealed types of
typed narrowing."""

from __future__ import annotations

from reactivex import Observable
from reactivex.subject import Subject

from rxgateway.events import messages
from rxgateway.events.base import Dispatch, Event, GatewayClose
from rxgateway.ops import merge, of_type, on, route, spawn
from rxgateway.protocol.event_type import EventTypeFlags


class MessageCreate(Dispatch):
    """A local typed dispatch (the real ones are written in rxgateway/events/)."""

    __slots__ = ()

    @property
    def content(self) -> str:
        return str(self.raw["content"])


def check(source: Observable[Event]) -> None:
    created = source.pipe(of_type(MessageCreate))
    reveal_type(created)
    reveal_type(source.pipe(of_type(MessageCreate, GatewayClose)))
    reveal_type(source.pipe(on(EventTypeFlags.READY)))
    reveal_type(created.pipe(on(EventTypeFlags.MESSAGE_CREATE)))
    created.subscribe(lambda m: print(m.content.upper()))
    real = source.pipe(of_type(messages.MessageCreate))
    reveal_type(real)
    real.subscribe(lambda m: print(m.content.upper(), m.channel_id + 1))


async def reply(m: messages.MessageCreate) -> int:
    return len(m.content)


def check_the_rest(source: Observable[Event]) -> None:
    reveal_type(source.pipe(of_type(messages.MessageCreate), spawn(reply)))
    routing = source.pipe(
        route(
            {
                messages.MessageCreate: reply,
                EventTypeFlags.GUILD_CREATE | EventTypeFlags.GUILD_DELETE: Subject[Event](),
                lambda e: e.guild_id == 42: print,
            }
        )
    )
    reveal_type(routing)
    merge(source, source).pipe(on(EventTypeFlags.READY)).subscribe(print)
