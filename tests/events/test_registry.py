"""The registry: every dispatch name of GATEWAY.md §10.1 has its own class, unknown
names become UnknownDispatch, and building an event reads nothing."""

from __future__ import annotations

import pytest

import rxgateway.events as events
from rxgateway.events import DISPATCH_CLASSES, Dispatch, TypedDispatch, UnknownDispatch, event_class
from rxgateway.protocol.event_type import EventType

from .helpers import SHARD, VIEW_CLASSES, build

#: GATEWAY.md §10.1, copied literally (79 names).
SECTION_10_1 = """
READY RESUMED RATE_LIMITED
APPLICATION_COMMAND_PERMISSIONS_UPDATE
AUTO_MODERATION_RULE_CREATE AUTO_MODERATION_RULE_UPDATE AUTO_MODERATION_RULE_DELETE AUTO_MODERATION_ACTION_EXECUTION
CHANNEL_CREATE CHANNEL_UPDATE CHANNEL_DELETE CHANNEL_PINS_UPDATE CHANNEL_INFO
THREAD_CREATE THREAD_UPDATE THREAD_DELETE THREAD_LIST_SYNC THREAD_MEMBER_UPDATE THREAD_MEMBERS_UPDATE
ENTITLEMENT_CREATE ENTITLEMENT_UPDATE ENTITLEMENT_DELETE
GUILD_CREATE GUILD_UPDATE GUILD_DELETE GUILD_AUDIT_LOG_ENTRY_CREATE GUILD_BAN_ADD GUILD_BAN_REMOVE
GUILD_EMOJIS_UPDATE GUILD_STICKERS_UPDATE GUILD_INTEGRATIONS_UPDATE
GUILD_MEMBER_ADD GUILD_MEMBER_REMOVE GUILD_MEMBER_UPDATE GUILD_MEMBERS_CHUNK
GUILD_ROLE_CREATE GUILD_ROLE_UPDATE GUILD_ROLE_DELETE
GUILD_SCHEDULED_EVENT_CREATE GUILD_SCHEDULED_EVENT_UPDATE GUILD_SCHEDULED_EVENT_DELETE
GUILD_SCHEDULED_EVENT_USER_ADD GUILD_SCHEDULED_EVENT_USER_REMOVE
GUILD_SOUNDBOARD_SOUND_CREATE GUILD_SOUNDBOARD_SOUND_UPDATE GUILD_SOUNDBOARD_SOUND_DELETE
GUILD_SOUNDBOARD_SOUNDS_UPDATE SOUNDBOARD_SOUNDS
INTEGRATION_CREATE INTEGRATION_UPDATE INTEGRATION_DELETE
INTERACTION_CREATE
INVITE_CREATE INVITE_DELETE
MESSAGE_CREATE MESSAGE_UPDATE MESSAGE_DELETE MESSAGE_DELETE_BULK
MESSAGE_REACTION_ADD MESSAGE_REACTION_REMOVE MESSAGE_REACTION_REMOVE_ALL MESSAGE_REACTION_REMOVE_EMOJI
MESSAGE_POLL_VOTE_ADD MESSAGE_POLL_VOTE_REMOVE
PRESENCE_UPDATE TYPING_START USER_UPDATE
STAGE_INSTANCE_CREATE STAGE_INSTANCE_UPDATE STAGE_INSTANCE_DELETE
SUBSCRIPTION_CREATE SUBSCRIPTION_UPDATE SUBSCRIPTION_DELETE
VOICE_CHANNEL_EFFECT_SEND VOICE_CHANNEL_STATUS_UPDATE VOICE_CHANNEL_START_TIME_UPDATE VOICE_STATE_UPDATE
VOICE_SERVER_UPDATE
WEBHOOKS_UPDATE
""".split()

DISPATCH_CLASS_LIST = [DISPATCH_CLASSES[name] for name in SECTION_10_1]


def camel(name: str) -> str:
    return "".join(part.capitalize() for part in name.split("_"))


def test_section_10_1_has_79_distinct_names() -> None:
    assert len(SECTION_10_1) == len(set(SECTION_10_1)) == 79


def test_registry_covers_exactly_section_10_1() -> None:
    assert set(DISPATCH_CLASSES) == set(SECTION_10_1)
    assert {t.value for t in EventType if t.is_dispatch} == set(SECTION_10_1)


@pytest.mark.parametrize("name", SECTION_10_1)
def test_each_name_has_its_own_class(name: str) -> None:
    cls = event_class(name)
    assert cls is DISPATCH_CLASSES[name]
    assert cls.__name__ == camel(name)
    assert issubclass(cls, TypedDispatch) and issubclass(cls, Dispatch)
    assert cls.type is EventType(name)
    assert "__slots__" in vars(cls) and cls.__slots__ == ()
    assert getattr(events, cls.__name__) is cls
    assert cls.__doc__ and name in cls.__doc__


def test_no_two_names_share_a_class() -> None:
    assert len(set(DISPATCH_CLASS_LIST)) == 79


@pytest.mark.parametrize("name", SECTION_10_1)
def test_event_type_matches_the_type_passed_in(name: str) -> None:
    event = build(name, {})
    assert event.type is EventType(name) is event._type
    assert event.name == name and event.sequence == 7 and event.shard == SHARD


@pytest.mark.parametrize("name", ["SOMETHING_NEW", "", "message_create", "GUILD_CREATE "])
def test_unknown_names_become_unknown_dispatch(name: str) -> None:
    assert event_class(name) is UnknownDispatch
    raw = {"guild_id": "981346340044931072", "whatever": [1, 2]}
    event = event_class(name)(SHARD, 9, name, raw, EventType.UNKNOWN_DISPATCH)
    assert isinstance(event, UnknownDispatch)
    assert event.name == name and event.raw is raw and event.sequence == 9
    assert event.type is EventType.UNKNOWN_DISPATCH
    assert event.guild_id == 981346340044931072


def test_unknown_dispatch_keeps_a_non_object_d() -> None:
    event = UnknownDispatch(SHARD, 3, "NEW", [1, 2], EventType.UNKNOWN_DISPATCH)
    assert event.raw == [1, 2]
    assert "NEW" in repr(event)
    with pytest.raises(TypeError):
        event.guild_id


@pytest.mark.parametrize("cls", [*DISPATCH_CLASS_LIST, UnknownDispatch], ids=lambda c: c.__name__)
def test_construction_reads_nothing(cls: type[Dispatch]) -> None:
    # A ``raw`` that is not a dict fails on the first read, so building must not read.
    sentinel = object()
    event = cls(SHARD, 1, "X", sentinel, EventType.UNKNOWN_DISPATCH)
    assert event.raw is sentinel
    assert not hasattr(event, "__dict__")


@pytest.mark.parametrize("cls", VIEW_CLASSES, ids=lambda c: c.__name__)
def test_every_class_is_slotted(cls: type) -> None:
    for klass in cls.__mro__[:-1]:
        assert "__slots__" in vars(klass), klass
    assert cls.__doc__


def test_exports() -> None:
    names = set(events.__all__)
    assert {"DISPATCH_CLASSES", "event_class", "UnknownDispatch", "MissingFieldError", "View"} <= names
    for base_name in ["Event", "Dispatch", "GatewayHello", "GatewayHeartbeat", "GatewayHeartbeatAck",
                      "GatewayReconnect", "GatewayInvalidateSession", "GatewayClose", "ShardStateChanged",
                      "GatewayErrorEvent"]:  # fmt: skip
        assert base_name in names
    assert all(hasattr(events, name) for name in names)
