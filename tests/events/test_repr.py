"""repr, Jupyter HTML and IPython pretty output: key fields, never the whole payload."""

from __future__ import annotations

from typing import Any

import pytest

from rxgateway.events import Channel, Member, Message, User
from rxgateway.protocol.event_type import EventType

from .helpers import SHARD, VIEW_CLASSES, build
from .payloads import PAYLOADS

CASES = [(name, payloads[0]) for name, payloads in PAYLOADS.items()]


class Printer:
    """The part of IPython's pretty printer ``_repr_pretty_`` uses."""

    def __init__(self) -> None:
        self.out = ""

    def text(self, text: str) -> None:
        self.out += text


def test_message_create_repr() -> None:
    event = build("MESSAGE_CREATE", PAYLOADS["MESSAGE_CREATE"][0], sequence=50)
    assert repr(event) == (
        "MessageCreate(shard=0, seq=50, id=1389395076710531072, author=alice, content='hello <@815735085465731072>')"
    )


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("READY", "Ready(shard=0, seq=7, user=test-bot, session_id='3f1c9a7e2b5d4e6f8a0b1c2d3e4f5a6b', guilds=[2 items])"),
        ("RATE_LIMITED", "RateLimited(shard=0, seq=7, opcode=8, retry_after=23.41, guild_id=981346340044931072)"),
        ("GUILD_MEMBER_ADD", "GuildMemberAdd(shard=0, seq=7, guild_id=981346340044931072, user=bob, nick=None, roles=[0 items])"),
        ("MESSAGE_REACTION_ADD", "MessageReactionAdd(shard=0, seq=7, message_id=1389395076710531072, user_id=1063970773401731072, emoji=🔥)"),
        ("PRESENCE_UPDATE", "PresenceUpdate(shard=0, seq=7, user=1063970773401731072, status='idle')"),
        ("INTERACTION_CREATE", "InteractionCreate(shard=0, seq=7, id=1389395076710531200, interaction_type=2, data=cardsearch, author=alice)"),
        ("RESUMED", "Resumed(shard=0, seq=7)"),
    ],
)  # fmt: skip
def test_reprs_show_key_fields(name: str, expected: str) -> None:
    assert repr(build(name, PAYLOADS[name][0])) == expected


@pytest.mark.parametrize(("name", "raw"), CASES, ids=[name for name, _ in CASES])
def test_every_repr_is_short_and_names_the_event(name: str, raw: dict[str, Any]) -> None:
    event = build(name, raw, sequence=1234)
    text = repr(event)
    assert text.startswith(f"{type(event).__name__}(shard=0, seq=1234")
    assert len(text) < 200
    html = event._repr_html_()
    assert html.startswith("<table>") and type(event).__name__ in html and "1234" in html
    assert len(html) < 1000
    printer = Printer()
    event._repr_pretty_(printer, False)
    assert printer.out == text
    assert event._fields()["seq"] == "1234"


def test_a_huge_payload_gives_a_small_repr() -> None:
    raw = dict(PAYLOADS["MESSAGE_CREATE"][0], content="x" * 100_000, mentions=[PAYLOADS["USER_UPDATE"][0]] * 1000)
    event = build("MESSAGE_CREATE", raw)
    assert len(repr(event)) < 200 and "…" in repr(event)
    assert len(event._repr_html_()) < 1000


def test_html_escapes_values() -> None:
    event = build("MESSAGE_CREATE", dict(PAYLOADS["MESSAGE_CREATE"][0], content="<script>alert(1)</script>"))
    html = event._repr_html_()
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "<th>author</th><td>alice</td>" in html


def test_repr_never_raises_on_broken_payloads() -> None:
    assert repr(build("MESSAGE_CREATE", {})) == "MessageCreate(shard=0, seq=7, id=?, author=?, content=?)"
    assert repr(build("MESSAGE_CREATE", {"author": {"id": "5"}})).count("author=5") == 1
    assert "?" in repr(build("GUILD_CREATE", {"id": "x"}))
    assert "NEW" in repr(build("NEW", None))


@pytest.mark.parametrize("cls", VIEW_CLASSES, ids=lambda c: c.__name__)
def test_every_class_has_a_repr_that_survives_any_payload(cls: type) -> None:
    for raw in ({}, {"id": "1", "name": 5, "type": "x"}, None):
        obj = cls(SHARD, 1, "X", raw, EventType.UNKNOWN_DISPATCH) if hasattr(cls, "shard") else cls(raw)
        assert repr(obj).startswith(cls.__name__ + "(")
        assert obj._repr_html_().startswith("<table>")


def test_view_reprs() -> None:
    alice = {"id": "1063970773401731072", "username": "alice", "discriminator": "0"}
    assert repr(User(alice)) == "User(id=1063970773401731072, username='alice')"
    assert repr(Member({"user": alice, "nick": "Ally", "roles": ["1", "2"]})) == "Member(user=alice, nick='Ally', roles=[2 items])"
    assert repr(Channel({"id": "5", "type": 0, "name": "general"})) == "Channel(id=5, name='general', type=0)"
    assert repr(Message({"id": "9", "author": alice, "content": "hi"})) == "Message(id=9, author=alice, content='hi')"
    # Inside another repr a member shows its nick, else its user.
    assert Member({"user": alice, "nick": "Ally"})._label() == "Ally"
    assert Member({"user": alice})._label() == "alice"
    assert Member({})._label() == "Member"
