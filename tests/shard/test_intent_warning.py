"""A subscription that wants events the config's intents will not bring is warned
about once (logger ``rxgateway``), at subscription time, naming the event type and the
intent to add; never when the intents are there, never per event.

The table behind it is checked against ``EventTypeFlags.from_intents``, and the end-to-
end test against the emulator shows the warnings are true: the events named do not
arrive, and message content does arrive blanked.
"""

from __future__ import annotations

import logging

import pytest

from rxgateway import Config, EventType, EventTypeFlags, Intents, Shard, ShardId, create_recommended, ops
from rxgateway.emulator import DEFAULT_TOKEN
from rxgateway.events.base import Dispatch, Event
from rxgateway.intent_check import CONTENT_INTENT_FOR, DELIVERED_BY, missing_intents, warn_missing_intents
from rxgateway.queue import InMemoryQueue

from .test_shard_emulator import IDENTIFY_WINDOW, emulator, wait_until

F = EventTypeFlags


def intent_warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "rxgateway" and r.levelno == logging.WARNING]


def config(intents: Intents) -> Config:
    """A config of its own (its own identify queue): warnings are remembered per config."""
    return Config(DEFAULT_TOKEN, intents, queue=InMemoryQueue())


# ------------------------------------------------------------------ the table


def test_the_table_agrees_with_what_each_intent_receives() -> None:
    ungated = F.UNGATED | F.GATEWAY
    for event_type in F.DISPATCHES.types():
        flag = EventTypeFlags[event_type.name]
        for intent in Intents:
            receives = bool(F.from_intents(intent) & flag)
            by_table = bool(flag & ungated) or bool(DELIVERED_BY.get(event_type, Intents(0)) & intent)
            assert receives == by_table, (event_type, intent)
        assert (event_type in DELIVERED_BY) != bool(flag & F.UNGATED), event_type


@pytest.mark.parametrize(
    ("flags", "intents", "event_type", "needs"),
    [
        (F.PRESENCE_UPDATE, Intents.GUILDS, EventType.PRESENCE_UPDATE, Intents.GUILD_PRESENCES),
        (F.GUILD_MEMBER_ADD, Intents.GUILDS, EventType.GUILD_MEMBER_ADD, Intents.GUILD_MEMBERS),
        (F.GUILD_MEMBER_REMOVE, Intents.GUILDS, EventType.GUILD_MEMBER_REMOVE, Intents.GUILD_MEMBERS),
        (F.MESSAGE_CREATE, Intents.GUILDS, EventType.MESSAGE_CREATE, Intents.GUILD_MESSAGES | Intents.DIRECT_MESSAGES),
        (F.MESSAGE_DELETE_BULK, Intents.DIRECT_MESSAGES, EventType.MESSAGE_DELETE_BULK, Intents.GUILD_MESSAGES),
        (F.TYPING_START, Intents.GUILDS, EventType.TYPING_START, Intents.GUILD_MESSAGE_TYPING | Intents.DIRECT_MESSAGE_TYPING),
        (F.GUILD_BAN_ADD, Intents.GUILDS, EventType.GUILD_BAN_ADD, Intents.GUILD_MODERATION),
        (F.VOICE_STATE_UPDATE, Intents.GUILDS, EventType.VOICE_STATE_UPDATE, Intents.GUILD_VOICE_STATES),
    ],
)  # fmt: skip
def test_an_event_no_intent_of_the_config_delivers(
    flags: EventTypeFlags, intents: Intents, event_type: EventType, needs: Intents
) -> None:
    (missing,) = missing_intents(flags, intents)
    assert missing.event_type is event_type and missing.needs == needs and not missing.content
    text = missing.message()
    assert event_type.name in text
    assert all(i.name and i.name in text for i in needs)


def test_message_content_is_needed_for_guild_messages_only() -> None:
    (missing,) = missing_intents(F.MESSAGE_CREATE, Intents.GUILD_MESSAGES)
    assert missing.content and missing.needs == Intents.MESSAGE_CONTENT
    assert "MESSAGE_CREATE" in missing.message() and "MESSAGE_CONTENT" in missing.message()
    assert "empty" in missing.message()
    # DMs keep their content; with the intent, nothing is missing.
    assert missing_intents(F.MESSAGE_CREATE, Intents.DIRECT_MESSAGES) == []
    assert missing_intents(F.MESSAGE_CREATE | F.MESSAGE_UPDATE, Intents.GUILD_MESSAGES | Intents.MESSAGE_CONTENT) == []
    # Every content-gated type, and only those, when its guild intent is there.
    wanted = F.DISPATCHES & ~F.READY
    found = missing_intents(wanted, Intents.GUILD_MESSAGES | Intents.AUTO_MODERATION_EXECUTION)
    assert {m.event_type for m in found if m.content} == set(CONTENT_INTENT_FOR)


@pytest.mark.parametrize(
    "flags",
    [F.all(), F.DISPATCHES, F.GATEWAY, F.READY | F.INTERACTION_CREATE | F.GUILD_MEMBERS_CHUNK, F.SHARD_STATE_CHANGED, 0],
)
def test_nothing_is_missing_for_everything_ungated_or_gateway_level(flags: EventTypeFlags | int) -> None:
    # Subscribing to every dispatch asks for nothing in particular: no warning.
    assert missing_intents(flags, Intents(0)) == []


def test_nothing_is_missing_with_every_intent() -> None:
    assert missing_intents(F.DISPATCHES & ~F.READY, Intents.all()) == []


# ------------------------------------------------------------- the warning


def test_a_shard_warns_once_naming_the_event_and_the_intent(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="rxgateway")
    shard = Shard(ShardId(0, 1), config(Intents.GUILDS | Intents.GUILD_MESSAGES))
    for _ in range(3):
        shard.pipe(ops.on(F.PRESENCE_UPDATE)).subscribe(lambda e: None)
    shard.pipe(ops.on(F.PRESENCE_UPDATE | F.GUILD_CREATE)).subscribe(lambda e: None)
    (warning,) = intent_warnings(caplog)
    assert "PRESENCE_UPDATE" in warning and "GUILD_PRESENCES" in warning
    assert "privileged" in warning
    assert DEFAULT_TOKEN not in warning
    # Another event type is its own warning, once too.
    shard.pipe(ops.on(F.MESSAGE_CREATE)).subscribe(lambda e: None)
    shard.pipe(ops.on(F.MESSAGE_CREATE)).subscribe(lambda e: None)
    first, second = intent_warnings(caplog)
    assert first == warning and "MESSAGE_CREATE" in second and "MESSAGE_CONTENT" in second


def test_no_warning_when_the_intents_are_there(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="rxgateway")
    intents = Intents.GUILDS | Intents.GUILD_MESSAGES | Intents.MESSAGE_CONTENT
    shard = Shard(ShardId(0, 1), config(intents | Intents.GUILD_PRESENCES | Intents.GUILD_MEMBERS))
    wanted = F.PRESENCE_UPDATE | F.MESSAGE_CREATE | F.GUILD_MEMBER_ADD | F.GUILD_CREATE
    shard.pipe(ops.on(wanted)).subscribe(lambda e: None)
    shard.subscribe(lambda e: None)  # everything: never a warning
    assert intent_warnings(caplog) == []


def test_subscribing_to_the_whole_shard_never_warns(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="rxgateway")
    shard = Shard(ShardId(0, 1), config(Intents.GUILDS))
    shard.subscribe(lambda e: None)
    shard.pipe(ops.on(F.DISPATCHES)).subscribe(lambda e: None)
    assert intent_warnings(caplog) == []


def test_once_per_config_a_replaced_copy_shares_it(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="rxgateway")
    first = config(Intents.GUILDS)
    assert [m.event_type for m in warn_missing_intents(F.GUILD_MEMBER_ADD, first)] == [EventType.GUILD_MEMBER_ADD]
    # The shards of a group are built from one config or its replaced copies.
    assert warn_missing_intents(F.GUILD_MEMBER_ADD, first.replace(large_threshold=100)) == []
    assert len(intent_warnings(caplog)) == 1
    # A config of its own warns afresh.
    assert len(warn_missing_intents(F.GUILD_MEMBER_ADD, config(Intents.GUILDS))) == 1
    assert len(intent_warnings(caplog)) == 2


async def test_a_group_warns_once_and_the_warnings_are_true(caplog: pytest.LogCaptureFixture) -> None:
    """Two shards, one config: one warning per missing intent however many shards and
    subscriptions, none per event. Against the emulator the warnings hold: presences
    never arrive, guild messages arrive with their content blanked."""
    caplog.set_level(logging.WARNING, logger="rxgateway")
    async with emulator(shards=2, max_concurrency=2, guilds=4) as emu:
        cfg = Config(
            DEFAULT_TOKEN, Intents.GUILDS | Intents.GUILD_MESSAGES, gateway_url=emu.url, api_url=emu.api_url,
            queue=InMemoryQueue(identify_interval=IDENTIFY_WINDOW),
        )  # fmt: skip
        group = await create_recommended(cfg)
        assert len(group) == 2
        messages: list[Event] = []
        presences: list[Event] = []
        group.pipe(ops.on(F.MESSAGE_CREATE)).subscribe(messages.append)
        group.pipe(ops.on(F.MESSAGE_CREATE | F.GUILD_CREATE)).subscribe(lambda e: None)
        group.pipe(ops.on(F.PRESENCE_UPDATE)).subscribe(presences.append)
        warnings = intent_warnings(caplog)
        assert len(warnings) == 2, warnings
        assert any("MESSAGE_CREATE" in w and "MESSAGE_CONTENT" in w for w in warnings)
        assert any("PRESENCE_UPDATE" in w and "GUILD_PRESENCES" in w for w in warnings)
        async with group:
            await group.ready(timeout=10)
            await emu.burst(300)  # messages, presences and typing
            await wait_until(lambda: len(messages) >= 50, 10)
        assert intent_warnings(caplog) == warnings  # nothing more, per event or per shard
        assert presences == []
        guild_messages = [m for m in messages if isinstance(m, Dispatch) and m.raw.get("guild_id") is not None]
        assert guild_messages and any(m.raw.get("content") == "" for m in guild_messages)
        assert emu.violations == []


def test_the_module_examples_run() -> None:
    import doctest

    import rxgateway.intent_check

    result = doctest.testmod(rxgateway.intent_check)
    assert result.failed == 0 and result.attempted > 0
