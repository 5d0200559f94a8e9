"""Intents against GATEWAY.md §8."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rxgateway.protocol import ALL_INTENTS, PRIVILEGED_INTENTS, Intents, validate_intents

#: GATEWAY.md §8.1: name -> bit.
BITS = {
    "GUILDS": 0, "GUILD_MEMBERS": 1, "GUILD_MODERATION": 2, "GUILD_EXPRESSIONS": 3, "GUILD_INTEGRATIONS": 4,
    "GUILD_WEBHOOKS": 5, "GUILD_INVITES": 6, "GUILD_VOICE_STATES": 7, "GUILD_PRESENCES": 8, "GUILD_MESSAGES": 9,
    "GUILD_MESSAGE_REACTIONS": 10, "GUILD_MESSAGE_TYPING": 11, "DIRECT_MESSAGES": 12,
    "DIRECT_MESSAGE_REACTIONS": 13, "DIRECT_MESSAGE_TYPING": 14, "MESSAGE_CONTENT": 15,
    "GUILD_SCHEDULED_EVENTS": 16, "AUTO_MODERATION_CONFIGURATION": 20, "AUTO_MODERATION_EXECUTION": 21,
    "GUILD_MESSAGE_POLLS": 24, "DIRECT_MESSAGE_POLLS": 25,
}  # fmt: skip


@pytest.mark.parametrize(("name", "bit"), sorted(BITS.items()))
def test_bits(name: str, bit: int) -> None:
    assert Intents[name] == 1 << bit


def test_totals() -> None:
    assert ALL_INTENTS == int(Intents.all()) == 53608447 == sum(1 << b for b in BITS.values())
    assert int(Intents.non_privileged()) == 53575421
    assert PRIVILEGED_INTENTS == 2 | 256 | 32768
    assert set(Intents) == {Intents[n] for n in BITS}


def test_privileged() -> None:
    assert (Intents.GUILD_MEMBERS | Intents.GUILDS).privileged == Intents.GUILD_MEMBERS
    assert Intents.all().privileged == Intents.GUILD_MEMBERS | Intents.GUILD_PRESENCES | Intents.MESSAGE_CONTENT
    assert Intents.non_privileged().privileged == Intents(0)


def test_old_names_are_aliases() -> None:
    assert Intents["GUILD_BANS"] is Intents.GUILD_MODERATION
    assert Intents["GUILD_EMOJIS_AND_STICKERS"] is Intents.GUILD_EXPRESSIONS


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("GUILDS", 1),
        ("GUILDS|GUILD_MESSAGES", 513),
        ("guilds, guild_messages", 513),
        (" GUILDS | GUILD_BANS ", 5),
        ("513", 513),
        ("53608447", ALL_INTENTS),
        ("", 0),
    ],
)
def test_parse(text: str, value: int) -> None:
    assert Intents.parse(text) == value
    assert isinstance(Intents.parse(text), Intents)


@pytest.mark.parametrize(
    ("text", "match"), [("GUILDZ", "GUILDZ"), ("GUILDS|NOPE", "NOPE"), ("131072", "outside"), ("-1", "-1")]
)
def test_parse_rejects(text: str, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        Intents.parse(text)


def test_validate_intents() -> None:
    assert validate_intents(513) == Intents.GUILDS | Intents.GUILD_MESSAGES
    assert validate_intents(Intents.GUILDS) is Intents.GUILDS
    for bad in (-1, 1 << 17, 1 << 18, 1 << 19, 1 << 22, 1 << 23, 1 << 26, ALL_INTENTS + 1):
        with pytest.raises(ValueError, match="outside the documented set"):
            validate_intents(bad)
    for wrong in (True, "1", 1.0, None):
        with pytest.raises(TypeError):
            validate_intents(wrong)  # type: ignore[arg-type]


@given(st.integers(0, 2**27))
def test_validate_intents_accepts_exactly_the_documented_bits(value: int) -> None:
    if value & ~ALL_INTENTS:
        with pytest.raises(ValueError):
            validate_intents(value)
    else:
        assert int(validate_intents(value)) == value
