"""EventType and EventTypeFlags against GATEWAY.md §8.1 and §10.1, copied here by hand
(the tests must not depend on where the spec lives)."""

from __future__ import annotations

from functools import reduce
from operator import or_

import pytest

from rxgateway.protocol import EventType, EventTypeFlags, Intents
from rxgateway.protocol.event_type import DISPATCH_BITS, OPCODE_BITS

#: GATEWAY.md §10.1: the 79 dispatch names.
DISPATCH_NAMES = [
    "READY", "RESUMED", "RATE_LIMITED",
    "APPLICATION_COMMAND_PERMISSIONS_UPDATE",
    "AUTO_MODERATION_RULE_CREATE", "AUTO_MODERATION_RULE_UPDATE", "AUTO_MODERATION_RULE_DELETE",
    "AUTO_MODERATION_ACTION_EXECUTION",
    "CHANNEL_CREATE", "CHANNEL_UPDATE", "CHANNEL_DELETE", "CHANNEL_PINS_UPDATE", "CHANNEL_INFO",
    "THREAD_CREATE", "THREAD_UPDATE", "THREAD_DELETE", "THREAD_LIST_SYNC", "THREAD_MEMBER_UPDATE",
    "THREAD_MEMBERS_UPDATE",
    "ENTITLEMENT_CREATE", "ENTITLEMENT_UPDATE", "ENTITLEMENT_DELETE",
    "GUILD_CREATE", "GUILD_UPDATE", "GUILD_DELETE", "GUILD_AUDIT_LOG_ENTRY_CREATE", "GUILD_BAN_ADD",
    "GUILD_BAN_REMOVE", "GUILD_EMOJIS_UPDATE", "GUILD_STICKERS_UPDATE", "GUILD_INTEGRATIONS_UPDATE",
    "GUILD_MEMBER_ADD", "GUILD_MEMBER_REMOVE", "GUILD_MEMBER_UPDATE", "GUILD_MEMBERS_CHUNK",
    "GUILD_ROLE_CREATE", "GUILD_ROLE_UPDATE", "GUILD_ROLE_DELETE",
    "GUILD_SCHEDULED_EVENT_CREATE", "GUILD_SCHEDULED_EVENT_UPDATE", "GUILD_SCHEDULED_EVENT_DELETE",
    "GUILD_SCHEDULED_EVENT_USER_ADD", "GUILD_SCHEDULED_EVENT_USER_REMOVE",
    "GUILD_SOUNDBOARD_SOUND_CREATE", "GUILD_SOUNDBOARD_SOUND_UPDATE", "GUILD_SOUNDBOARD_SOUND_DELETE",
    "GUILD_SOUNDBOARD_SOUNDS_UPDATE", "SOUNDBOARD_SOUNDS",
    "INTEGRATION_CREATE", "INTEGRATION_UPDATE", "INTEGRATION_DELETE",
    "INTERACTION_CREATE",
    "INVITE_CREATE", "INVITE_DELETE",
    "MESSAGE_CREATE", "MESSAGE_UPDATE", "MESSAGE_DELETE", "MESSAGE_DELETE_BULK",
    "MESSAGE_REACTION_ADD", "MESSAGE_REACTION_REMOVE", "MESSAGE_REACTION_REMOVE_ALL",
    "MESSAGE_REACTION_REMOVE_EMOJI",
    "MESSAGE_POLL_VOTE_ADD", "MESSAGE_POLL_VOTE_REMOVE",
    "PRESENCE_UPDATE", "TYPING_START", "USER_UPDATE",
    "STAGE_INSTANCE_CREATE", "STAGE_INSTANCE_UPDATE", "STAGE_INSTANCE_DELETE",
    "SUBSCRIPTION_CREATE", "SUBSCRIPTION_UPDATE", "SUBSCRIPTION_DELETE",
    "VOICE_CHANNEL_EFFECT_SEND", "VOICE_CHANNEL_STATUS_UPDATE", "VOICE_CHANNEL_START_TIME_UPDATE",
    "VOICE_STATE_UPDATE", "VOICE_SERVER_UPDATE",
    "WEBHOOKS_UPDATE",
]  # fmt: skip

#: GATEWAY.md §8.1: the events each intent gates.
INTENT_EVENTS = {
    "GUILDS": "GUILD_CREATE GUILD_UPDATE GUILD_DELETE GUILD_ROLE_CREATE GUILD_ROLE_UPDATE GUILD_ROLE_DELETE "
    "CHANNEL_CREATE CHANNEL_UPDATE CHANNEL_DELETE CHANNEL_PINS_UPDATE THREAD_CREATE THREAD_UPDATE THREAD_DELETE "
    "THREAD_LIST_SYNC THREAD_MEMBER_UPDATE THREAD_MEMBERS_UPDATE STAGE_INSTANCE_CREATE STAGE_INSTANCE_UPDATE "
    "STAGE_INSTANCE_DELETE VOICE_CHANNEL_STATUS_UPDATE VOICE_CHANNEL_START_TIME_UPDATE",
    "GUILD_MEMBERS": "GUILD_MEMBER_ADD GUILD_MEMBER_UPDATE GUILD_MEMBER_REMOVE THREAD_MEMBERS_UPDATE",
    "GUILD_MODERATION": "GUILD_AUDIT_LOG_ENTRY_CREATE GUILD_BAN_ADD GUILD_BAN_REMOVE",
    "GUILD_EXPRESSIONS": "GUILD_EMOJIS_UPDATE GUILD_STICKERS_UPDATE GUILD_SOUNDBOARD_SOUND_CREATE "
    "GUILD_SOUNDBOARD_SOUND_UPDATE GUILD_SOUNDBOARD_SOUND_DELETE GUILD_SOUNDBOARD_SOUNDS_UPDATE",
    "GUILD_INTEGRATIONS": "GUILD_INTEGRATIONS_UPDATE INTEGRATION_CREATE INTEGRATION_UPDATE INTEGRATION_DELETE",
    "GUILD_WEBHOOKS": "WEBHOOKS_UPDATE",
    "GUILD_INVITES": "INVITE_CREATE INVITE_DELETE",
    "GUILD_VOICE_STATES": "VOICE_CHANNEL_EFFECT_SEND VOICE_STATE_UPDATE",
    "GUILD_PRESENCES": "PRESENCE_UPDATE",
    "GUILD_MESSAGES": "MESSAGE_CREATE MESSAGE_UPDATE MESSAGE_DELETE MESSAGE_DELETE_BULK",
    "GUILD_MESSAGE_REACTIONS": "MESSAGE_REACTION_ADD MESSAGE_REACTION_REMOVE MESSAGE_REACTION_REMOVE_ALL "
    "MESSAGE_REACTION_REMOVE_EMOJI",
    "GUILD_MESSAGE_TYPING": "TYPING_START",
    "DIRECT_MESSAGES": "MESSAGE_CREATE MESSAGE_UPDATE MESSAGE_DELETE CHANNEL_PINS_UPDATE",
    "DIRECT_MESSAGE_REACTIONS": "MESSAGE_REACTION_ADD MESSAGE_REACTION_REMOVE MESSAGE_REACTION_REMOVE_ALL "
    "MESSAGE_REACTION_REMOVE_EMOJI",
    "DIRECT_MESSAGE_TYPING": "TYPING_START",
    "MESSAGE_CONTENT": "",
    "GUILD_SCHEDULED_EVENTS": "GUILD_SCHEDULED_EVENT_CREATE GUILD_SCHEDULED_EVENT_UPDATE "
    "GUILD_SCHEDULED_EVENT_DELETE GUILD_SCHEDULED_EVENT_USER_ADD GUILD_SCHEDULED_EVENT_USER_REMOVE",
    "AUTO_MODERATION_CONFIGURATION": "AUTO_MODERATION_RULE_CREATE AUTO_MODERATION_RULE_UPDATE "
    "AUTO_MODERATION_RULE_DELETE",
    "AUTO_MODERATION_EXECUTION": "AUTO_MODERATION_ACTION_EXECUTION",
    "GUILD_MESSAGE_POLLS": "MESSAGE_POLL_VOTE_ADD MESSAGE_POLL_VOTE_REMOVE",
    "DIRECT_MESSAGE_POLLS": "MESSAGE_POLL_VOTE_ADD MESSAGE_POLL_VOTE_REMOVE",
}

#: GATEWAY.md §8.1: events no intent gates.
UNGATED = (
    "READY RESUMED RATE_LIMITED APPLICATION_COMMAND_PERMISSIONS_UPDATE ENTITLEMENT_CREATE ENTITLEMENT_UPDATE "
    "ENTITLEMENT_DELETE SUBSCRIPTION_CREATE SUBSCRIPTION_UPDATE SUBSCRIPTION_DELETE GUILD_MEMBERS_CHUNK "
    "SOUNDBOARD_SOUNDS CHANNEL_INFO INTERACTION_CREATE USER_UPDATE VOICE_SERVER_UPDATE"
).split()


def flags_of(names: list[str]) -> EventTypeFlags:
    return reduce(or_, (EventTypeFlags[n] for n in names), EventTypeFlags(0))


def test_the_list_has_79_distinct_names() -> None:
    assert len(DISPATCH_NAMES) == len(set(DISPATCH_NAMES)) == 79


@pytest.mark.parametrize("name", DISPATCH_NAMES)
def test_every_dispatch_name_has_a_type_and_its_own_bit(name: str) -> None:
    event_type = EventType(name)
    assert event_type.is_dispatch
    assert event_type.dispatch_name == name
    flag = event_type.flag
    assert int(flag) > 0 and int(flag) & (int(flag) - 1) == 0  # exactly one bit
    assert EventTypeFlags.from_dispatch_name(name) == flag
    assert EventTypeFlags.from_op(0, name) == flag
    assert DISPATCH_BITS[name.encode()] == int(flag)
    assert flag in EventTypeFlags.DISPATCHES


def test_the_dispatch_types_are_exactly_the_list() -> None:
    assert {t.value for t in EventType if t.is_dispatch} == set(DISPATCH_NAMES)
    assert set(DISPATCH_BITS) == {n.encode() for n in DISPATCH_NAMES}
    assert EventTypeFlags.DISPATCHES == flags_of(DISPATCH_NAMES)


def test_no_two_event_types_share_a_bit() -> None:
    bits = [int(t.flag) for t in EventType]
    assert len(bits) == len(set(bits)) == len(EventType)
    assert all(b & (b - 1) == 0 for b in bits)
    assert reduce(or_, bits) == int(EventTypeFlags.all())


def test_twilight_shared_bit_quirk_is_gone() -> None:
    # twilight gives MESSAGE_POLL_VOTE_ADD READY's bit and MESSAGE_POLL_VOTE_REMOVE RESUMED's.
    assert EventTypeFlags.READY not in EventTypeFlags.MESSAGE_POLL_VOTE_ADD
    assert EventTypeFlags.RESUMED not in EventTypeFlags.MESSAGE_POLL_VOTE_REMOVE
    assert EventTypeFlags.READY not in EventTypeFlags.GUILD_MESSAGE_POLLS


def test_gateway_level_types() -> None:
    gateway = [t for t in EventType if not t.is_dispatch]
    assert len(gateway) == 9
    assert all(t.dispatch_name is None for t in gateway)
    assert EventTypeFlags.GATEWAY == reduce(or_, (t.flag for t in gateway))
    assert not EventTypeFlags.GATEWAY & EventTypeFlags.DISPATCHES


@pytest.mark.parametrize("intent", sorted(INTENT_EVENTS))
def test_intent_groups_match_the_spec(intent: str) -> None:
    names = INTENT_EVENTS[intent].split()
    if intent == "MESSAGE_CONTENT":
        assert "MESSAGE_CONTENT" not in EventTypeFlags.__members__
    else:
        assert EventTypeFlags[intent] == flags_of(names)
    always = EventTypeFlags.UNGATED | EventTypeFlags.GATEWAY
    assert EventTypeFlags.from_intents(Intents[intent]) == flags_of(names) | always


def test_every_dispatch_is_gated_or_ungated() -> None:
    assert EventTypeFlags.UNGATED == flags_of(UNGATED)
    gated = flags_of([n for names in INTENT_EVENTS.values() for n in names.split()])
    assert gated | EventTypeFlags.UNGATED == EventTypeFlags.DISPATCHES
    assert not gated & EventTypeFlags.UNGATED


def test_from_intents() -> None:
    assert EventTypeFlags.from_intents(Intents.all()) == EventTypeFlags.all()
    assert EventTypeFlags.from_intents(0) == EventTypeFlags.UNGATED | EventTypeFlags.GATEWAY
    assert EventTypeFlags.from_intents(Intents.MESSAGE_CONTENT) == EventTypeFlags.from_intents(0)
    guilds = EventTypeFlags.from_intents(Intents.GUILDS)
    assert EventTypeFlags.GUILD_CREATE in guilds
    assert EventTypeFlags.INTERACTION_CREATE in guilds
    assert EventTypeFlags.MESSAGE_CREATE not in guilds
    both = EventTypeFlags.from_intents(Intents.GUILDS | Intents.DIRECT_MESSAGES)
    assert both == guilds | EventTypeFlags.DIRECT_MESSAGES
    assert EventTypeFlags.from_intents(513) == EventTypeFlags.from_intents(Intents.GUILDS | Intents.GUILD_MESSAGES)


def test_from_op() -> None:
    assert EventTypeFlags.from_op(1) == EventTypeFlags.GATEWAY_HEARTBEAT
    assert EventTypeFlags.from_op(7) == EventTypeFlags.GATEWAY_RECONNECT
    assert EventTypeFlags.from_op(9) == EventTypeFlags.GATEWAY_INVALIDATE_SESSION
    assert EventTypeFlags.from_op(10) == EventTypeFlags.GATEWAY_HELLO
    assert EventTypeFlags.from_op(11, "ignored") == EventTypeFlags.GATEWAY_HEARTBEAT_ACK
    assert EventTypeFlags.from_op(0, "MESSAGE_CREATE") == EventTypeFlags.MESSAGE_CREATE
    assert EventTypeFlags.from_op(0, "SOMETHING_NEW") == EventTypeFlags.UNKNOWN_DISPATCH
    assert EventTypeFlags.from_op(0, None) == EventTypeFlags.UNKNOWN_DISPATCH
    for op in (2, 3, 4, 5, 6, 8, 12, 31, 43):
        assert EventTypeFlags.from_op(op) is None
    assert OPCODE_BITS == {op: int(EventTypeFlags.from_op(op) or 0) for op in (1, 7, 9, 10, 11)}


def test_types_lists_the_set_bits() -> None:
    flags = EventTypeFlags.READY | EventTypeFlags.GATEWAY_HELLO | EventTypeFlags.WEBHOOKS_UPDATE
    assert flags.types() == [EventType.GATEWAY_HELLO, EventType.READY, EventType.WEBHOOKS_UPDATE]
    assert EventTypeFlags(0).types() == []
    assert len(EventTypeFlags.all().types()) == len(EventType) == 88
