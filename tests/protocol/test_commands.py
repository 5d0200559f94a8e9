"""Outgoing commands: every validation rule, the exact wire shape, the size limit,
and that a token never shows."""

from __future__ import annotations

import dataclasses
import sys
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rxgateway.errors import PayloadTooLargeError, SendError
from rxgateway.protocol import Intents, OpCode, ShardId
from rxgateway.protocol.commands import (
    MAX_PAYLOAD_BYTES,
    USER_COMMANDS,
    Activity,
    ActivityType,
    Command,
    Heartbeat,
    Identify,
    RequestChannelInfo,
    RequestGuildMembers,
    RequestSoundboardSounds,
    Resume,
    Status,
    UpdatePresence,
    UpdateVoiceState,
    default_properties,
    encode_raw,
)

TOKEN = "MTE4NDk0NzQ3NDk5NTU3Njk2.GxYz12.abcdefghijklmnopqrstuvwxyz0123456789AB"
GUILD = 981346340044931072


def wire(command: Command) -> dict[str, Any]:
    """The frame as the gateway decodes it."""
    frame = orjson.loads(command.to_bytes())
    assert isinstance(frame, dict)
    return frame


# --- Heartbeat -----------------------------------------------------------------------


def test_heartbeat_wire() -> None:
    assert Heartbeat(251).to_bytes() == b'{"op":1,"d":251}'
    assert Heartbeat(None).to_bytes() == b'{"op":1,"d":null}'
    assert Heartbeat().to_bytes() == b'{"op":1,"d":null}'
    assert Heartbeat(0).to_payload() == 0


@pytest.mark.parametrize(("seq", "error"), [(-1, ValueError), (True, TypeError), (1.0, TypeError), ("1", TypeError)])
def test_heartbeat_seq_rules(seq: Any, error: type[Exception]) -> None:
    with pytest.raises(error, match="Heartbeat.seq"):
        Heartbeat(seq)


# --- Identify ------------------------------------------------------------------------


def test_identify_minimal_wire() -> None:
    frame = wire(Identify(TOKEN, 513))
    assert frame["op"] == 2
    assert frame["d"] == {
        "token": TOKEN,
        "properties": {"os": sys.platform, "browser": "rxgateway", "device": "rxgateway"},
        "compress": False,
        "large_threshold": 50,
        "intents": 513,
    }


def test_identify_full_wire_matches_the_docs_example() -> None:
    # GATEWAY.md §3.4 "Full"
    identify = Identify(
        "my_token",
        Intents.GUILDS | Intents.GUILD_MODERATION,
        properties={"os": "linux", "browser": "disco", "device": "disco"},
        compress=True,
        large_threshold=250,
        shard=ShardId(0, 1),
        presence=UpdatePresence(
            since=91879201, activities=[Activity("Cards Against Humanity", 0)], status="dnd", afk=False
        ),
    )
    assert wire(identify) == {
        "op": 2,
        "d": {
            "token": "my_token",
            "properties": {"os": "linux", "browser": "disco", "device": "disco"},
            "compress": True,
            "large_threshold": 250,
            "shard": [0, 1],
            "presence": {
                "since": 91879201,
                "activities": [{"name": "Cards Against Humanity", "type": 0}],
                "status": "dnd",
                "afk": False,
            },
            "intents": 5,
        },
    }


@pytest.mark.parametrize("given_token", [TOKEN, "Bot " + TOKEN, "  Bot " + TOKEN + "\n", "bot " + TOKEN])
def test_identify_and_resume_send_the_bare_token(given_token: str) -> None:
    assert Identify(given_token, 1).token == TOKEN
    assert wire(Identify(given_token, 1))["d"]["token"] == TOKEN
    assert wire(Resume(given_token, "abc", 1))["d"]["token"] == TOKEN


@pytest.mark.parametrize(
    ("token", "error"),
    [("", ValueError), ("   ", ValueError), ("Bot ", ValueError), ("Bot  ", ValueError), (None, TypeError),
     (b"abc", TypeError), ("abc def", ValueError), ("abc\x00", ValueError), ("tökén", ValueError)],
)
def test_token_rules(token: Any, error: type[Exception]) -> None:
    with pytest.raises(error, match="Identify.token"):
        Identify(token, 1)
    with pytest.raises(error, match="Resume.token"):
        Resume(token, "abc", 1)


def test_token_never_in_repr_str_or_errors() -> None:
    commands: list[Command] = [Identify(TOKEN, 1), Resume(TOKEN, "session", 5), Identify("Bot " + TOKEN, 1)]
    for command in commands:
        assert TOKEN not in repr(command)
        assert TOKEN not in str(command)
        assert "token=<redacted>" in repr(command)
    assert repr(Resume(TOKEN, "session", 5)) == "Resume(token=<redacted>, session_id='session', seq=5)"
    bad: list[dict[str, Any]] = [
        {"intents": -1}, {"intents": "x"}, {"large_threshold": 10}, {"properties": {}},
        {"compress": "yes"}, {"shard": (3, 2)}, {"presence": "online"},
    ]
    for kwargs in bad:
        with pytest.raises((TypeError, ValueError)) as info:
            Identify(TOKEN, **{"intents": 1, **kwargs})
        assert TOKEN not in str(info.value)
    with pytest.raises(ValueError) as info:
        Identify(TOKEN + " x", 1)
    assert TOKEN not in str(info.value)


def test_token_not_in_the_too_large_error() -> None:
    presence = UpdatePresence(activities=[Activity("x" * 1000, state="y" * 1000) for _ in range(3)])
    with pytest.raises(PayloadTooLargeError) as info:
        Identify(TOKEN, 1, presence=presence).to_bytes()
    assert TOKEN not in str(info.value)
    assert "4096" in str(info.value)


@pytest.mark.parametrize(
    ("intents", "error"),
    [(-1, ValueError), (1 << 17, ValueError), (1 << 40, ValueError),
     (True, TypeError), ("513", TypeError), (None, TypeError)],
)
def test_identify_intents_rules(intents: Any, error: type[Exception]) -> None:
    with pytest.raises(error, match="Identify.intents"):
        Identify(TOKEN, intents)


def test_identify_intents_become_intents() -> None:
    identify = Identify(TOKEN, 53608447)
    assert identify.intents == Intents.all()
    assert isinstance(identify.intents, Intents)


@pytest.mark.parametrize(("value", "ok"), [(49, False), (50, True), (100, True), (250, True), (251, False)])
def test_identify_large_threshold_range(value: int, ok: bool) -> None:
    if ok:
        assert wire(Identify(TOKEN, 1, large_threshold=value))["d"]["large_threshold"] == value
    else:
        with pytest.raises(ValueError, match="Identify.large_threshold must be in 50..250"):
            Identify(TOKEN, 1, large_threshold=value)


def test_identify_large_threshold_type() -> None:
    with pytest.raises(TypeError, match="large_threshold"):
        Identify(TOKEN, 1, large_threshold=True)
    with pytest.raises(TypeError, match="large_threshold"):
        Identify(TOKEN, 1, large_threshold=50.0)  # type: ignore[arg-type]


def test_identify_properties_rules() -> None:
    with pytest.raises(ValueError, match="lacks 'device'"):
        Identify(TOKEN, 1, properties={"os": "linux", "browser": "x"})
    with pytest.raises(TypeError, match="properties"):
        Identify(TOKEN, 1, properties={"os": "linux", "browser": "x", "device": 3})  # type: ignore[dict-item]
    with pytest.raises(TypeError, match="properties"):
        Identify(TOKEN, 1, properties=[("os", "linux")])  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="properties"):
        Identify(TOKEN, 1, properties={"os": "", "browser": "x", "device": "x"})


def test_identify_properties_are_copied_and_read_only() -> None:
    properties = {"os": "linux", "browser": "b", "device": "d"}
    identify = Identify(TOKEN, 1, properties=properties)
    properties["os"] = "changed"
    assert identify.properties["os"] == "linux"
    with pytest.raises(TypeError):
        identify.properties["os"] = "x"  # type: ignore[index]
    assert default_properties() == {"os": sys.platform, "browser": "rxgateway", "device": "rxgateway"}


def test_identify_shard_rules() -> None:
    assert wire(Identify(TOKEN, 1, shard=ShardId(1, 2)))["d"]["shard"] == [1, 2]
    assert Identify(TOKEN, 1, shard=(1, 2)).shard == ShardId(1, 2)
    assert "shard" not in wire(Identify(TOKEN, 1))["d"]
    with pytest.raises(ValueError, match="ShardId"):
        Identify(TOKEN, 1, shard=(2, 2))
    with pytest.raises(TypeError, match="Identify.shard"):
        Identify(TOKEN, 1, shard="0,1")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="Identify.shard"):
        Identify(TOKEN, 1, shard=(0, 1, 2))  # type: ignore[arg-type]


def test_identify_compress_and_presence_types() -> None:
    with pytest.raises(TypeError, match="Identify.compress"):
        Identify(TOKEN, 1, compress=1)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="Identify.presence"):
        Identify(TOKEN, 1, presence={"status": "online"})  # type: ignore[arg-type]


def test_identify_is_frozen_comparable_and_hashable() -> None:
    a = Identify("Bot " + TOKEN, 1)
    assert a == Identify(TOKEN, Intents.GUILDS)
    assert hash(a) == hash(Identify(TOKEN, Intents.GUILDS))
    with pytest.raises(dataclasses.FrozenInstanceError):
        a.token = "x"  # type: ignore[misc]


# --- Resume --------------------------------------------------------------------------


def test_resume_wire_matches_the_docs_example() -> None:
    # GATEWAY.md §3.6
    resume = Resume("my_token", "3f1c9a7e2b5d4e6f8a0b1c2d3e4f5a6b", 1337)
    assert resume.to_bytes() == (
        b'{"op":6,"d":{"token":"my_token","session_id":"3f1c9a7e2b5d4e6f8a0b1c2d3e4f5a6b","seq":1337}}'
    )


@pytest.mark.parametrize(
    ("kwargs", "error", "field"),
    [
        ({"session_id": ""}, ValueError, "session_id"),
        ({"session_id": 5}, TypeError, "session_id"),
        ({"seq": -1}, ValueError, "seq"),
        ({"seq": None}, TypeError, "seq"),
        ({"seq": False}, TypeError, "seq"),
    ],
)
def test_resume_rules(kwargs: dict[str, Any], error: type[Exception], field: str) -> None:
    with pytest.raises(error, match=f"Resume.{field}"):
        Resume(**{"token": TOKEN, "session_id": "abc", "seq": 1, **kwargs})


# --- RequestGuildMembers -------------------------------------------------------------


def test_request_guild_members_docs_examples() -> None:
    # GATEWAY.md §9.1
    assert wire(RequestGuildMembers(GUILD, query="", limit=0)) == {
        "op": 8,
        "d": {"guild_id": "981346340044931072", "query": "", "limit": 0, "presences": False},
    }
    assert wire(RequestGuildMembers(GUILD, query="ab", limit=10, presences=True, nonce="q1"))["d"] == {
        "guild_id": "981346340044931072", "query": "ab", "limit": 10, "presences": True, "nonce": "q1",
    }
    assert wire(RequestGuildMembers(str(GUILD), user_ids=["1063970773401731072", "123"], nonce="q2"))["d"] == {
        "guild_id": "981346340044931072", "user_ids": ["1063970773401731072", "123"], "presences": False,
        "nonce": "q2",
    }


def test_request_guild_members_exactly_one_of_query_and_user_ids() -> None:
    with pytest.raises(ValueError, match="exactly one of query and user_ids"):
        RequestGuildMembers(GUILD)
    with pytest.raises(ValueError, match="exactly one of query and user_ids"):
        RequestGuildMembers(GUILD, query="a", limit=1, user_ids=[1])


def test_request_guild_members_limit_rules() -> None:
    with pytest.raises(ValueError, match="limit is required with query"):
        RequestGuildMembers(GUILD, query="a")
    with pytest.raises(ValueError, match=r"limit must be in 0..100"):
        RequestGuildMembers(GUILD, query="a", limit=101)
    with pytest.raises(ValueError, match=r"limit must be in 0..100"):
        RequestGuildMembers(GUILD, query="", limit=-1)
    with pytest.raises(TypeError, match="limit"):
        RequestGuildMembers(GUILD, query="a", limit="10")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="limit is only used with query"):
        RequestGuildMembers(GUILD, user_ids=[1], limit=1)
    assert wire(RequestGuildMembers(GUILD, query="a", limit=100))["d"]["limit"] == 100


def test_request_guild_members_user_ids_rules() -> None:
    assert wire(RequestGuildMembers(GUILD, user_ids=5))["d"]["user_ids"] == ["5"]
    assert wire(RequestGuildMembers(GUILD, user_ids="5"))["d"]["user_ids"] == ["5"]
    assert len(wire(RequestGuildMembers(GUILD, user_ids=range(1, 101)))["d"]["user_ids"]) == 100
    with pytest.raises(ValueError, match="at most 100"):
        RequestGuildMembers(GUILD, user_ids=range(1, 102))
    with pytest.raises(ValueError, match="user_ids must not be empty"):
        RequestGuildMembers(GUILD, user_ids=[])
    with pytest.raises(ValueError, match=r"user_ids\[1\]"):
        RequestGuildMembers(GUILD, user_ids=[1, "x"])
    with pytest.raises(TypeError, match="user_ids"):
        RequestGuildMembers(GUILD, user_ids=True)


def test_request_guild_members_nonce_rules() -> None:
    assert wire(RequestGuildMembers(GUILD, query="", limit=0, nonce="n" * 32))["d"]["nonce"] == "n" * 32
    with pytest.raises(ValueError, match="nonce is at most 32 bytes"):
        RequestGuildMembers(GUILD, query="", limit=0, nonce="n" * 33)
    with pytest.raises(ValueError, match="nonce is at most 32 bytes"):
        RequestGuildMembers(GUILD, query="", limit=0, nonce="\u20ac" * 11)  # 33 bytes of UTF-8
    with pytest.raises(TypeError, match="nonce"):
        RequestGuildMembers(GUILD, query="", limit=0, nonce=5)  # type: ignore[arg-type]


def test_request_guild_members_presences_and_query_types() -> None:
    with pytest.raises(TypeError, match="presences"):
        RequestGuildMembers(GUILD, query="", limit=0, presences=None)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="query"):
        RequestGuildMembers(GUILD, query=5, limit=0)  # type: ignore[arg-type]


# --- snowflakes ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "sent"),
    [(GUILD, str(GUILD)), (str(GUILD), str(GUILD)), ("0123", "123"), (0, "0"), (2**64 - 1, str(2**64 - 1))],
)
def test_snowflakes_are_sent_as_strings(value: Any, sent: str) -> None:
    assert wire(UpdateVoiceState(value, value))["d"]["guild_id"] == sent
    assert wire(UpdateVoiceState(value, value))["d"]["channel_id"] == sent


@pytest.mark.parametrize(
    ("value", "error"),
    [(-1, ValueError), (2**64, ValueError), ("", ValueError), ("12a", ValueError), ("-5", ValueError),
     (" 5", ValueError), ("\u0661\u0662", ValueError), (1.0, TypeError), (None, TypeError), (True, TypeError),
     (b"5", TypeError)],
)
def test_snowflake_rules(value: Any, error: type[Exception]) -> None:
    with pytest.raises(error, match="UpdateVoiceState.guild_id"):
        UpdateVoiceState(value, None)


def test_snowflake_spellings_are_equal() -> None:
    assert UpdateVoiceState(GUILD, None) == UpdateVoiceState(str(GUILD), None)


# --- UpdatePresence and Activity -----------------------------------------------------


def test_update_presence_docs_examples() -> None:
    # GATEWAY.md §9.4
    assert wire(UpdatePresence(activities=[Activity("Save the Oxford Comma", ActivityType.PLAYING)])) == {
        "op": 3,
        "d": {"since": None, "activities": [{"name": "Save the Oxford Comma", "type": 0}], "status": "online",
              "afk": False},
    }
    custom = UpdatePresence(activities=[Activity("Custom Status", ActivityType.CUSTOM, state="Running tests")])
    assert wire(custom)["d"]["activities"] == [{"name": "Custom Status", "type": 4, "state": "Running tests"}]


@pytest.mark.parametrize("status", ["online", "dnd", "idle", "invisible", "offline", Status.IDLE])
def test_update_presence_statuses(status: str) -> None:
    assert wire(UpdatePresence(status=status))["d"]["status"] == str(status)


def test_update_presence_rules() -> None:
    with pytest.raises(ValueError, match="UpdatePresence.status must be one of"):
        UpdatePresence(status="away")
    with pytest.raises(TypeError, match="UpdatePresence.status"):
        UpdatePresence(status=1)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="UpdatePresence.since"):
        UpdatePresence(since=-1)
    with pytest.raises(TypeError, match="UpdatePresence.since"):
        UpdatePresence(since=1.5)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="UpdatePresence.afk"):
        UpdatePresence(afk=None)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="UpdatePresence.activities"):
        UpdatePresence(activities=Activity("x"))  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="UpdatePresence.activities"):
        UpdatePresence(activities=[{"name": "x", "type": 0}])  # type: ignore[list-item]
    assert wire(UpdatePresence(since=1700000000000, afk=True, status="idle"))["d"]["since"] == 1700000000000
    assert UpdatePresence(activities=[Activity("a")]).activities == (Activity("a"),)


def test_activity_rules() -> None:
    assert Activity("x", 5).type is ActivityType.COMPETING
    with pytest.raises(ValueError, match=r"Activity.type must be in 0..5"):
        Activity("x", 6)
    with pytest.raises(TypeError, match="Activity.type"):
        Activity("x", "0")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="Activity.name must not be empty"):
        Activity("")
    with pytest.raises(TypeError, match="Activity.name"):
        Activity(None)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="only allowed for type STREAMING"):
        Activity("x", ActivityType.PLAYING, url="https://twitch.tv/x")
    with pytest.raises(ValueError, match="http"):
        Activity("x", ActivityType.STREAMING, url="ftp://twitch.tv/x")
    with pytest.raises(TypeError, match="Activity.state"):
        Activity("x", state=5)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="lone surrogate"):
        Activity("\ud800")
    streaming = Activity("Live", ActivityType.STREAMING, url="https://twitch.tv/x")
    assert streaming.to_payload() == {"name": "Live", "type": 1, "url": "https://twitch.tv/x"}


# --- UpdateVoiceState, RequestSoundboardSounds, RequestChannelInfo -------------------


def test_update_voice_state_docs_example_and_rules() -> None:
    # GATEWAY.md §9.5
    assert wire(UpdateVoiceState(GUILD, 981346340044931074)) == {
        "op": 4,
        "d": {"guild_id": "981346340044931072", "channel_id": "981346340044931074", "self_mute": False,
              "self_deaf": False},
    }
    assert wire(UpdateVoiceState(GUILD, None, self_mute=True))["d"]["channel_id"] is None
    with pytest.raises(TypeError, match="self_mute"):
        UpdateVoiceState(GUILD, None, self_mute=0)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="self_deaf"):
        UpdateVoiceState(GUILD, None, self_deaf="no")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="channel_id"):
        UpdateVoiceState(GUILD, "general")


def test_request_soundboard_sounds() -> None:
    # GATEWAY.md §9.2
    assert RequestSoundboardSounds([613425648685547541, "81384788765712384"]).to_bytes() == (
        b'{"op":31,"d":{"guild_ids":["613425648685547541","81384788765712384"]}}'
    )
    with pytest.raises(ValueError, match="guild_ids must not be empty"):
        RequestSoundboardSounds([])
    with pytest.raises(TypeError, match="guild_ids"):
        RequestSoundboardSounds("613425648685547541")
    with pytest.raises(TypeError, match="guild_ids"):
        RequestSoundboardSounds(613425648685547541)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"guild_ids\[0\]"):
        RequestSoundboardSounds(["x"])


def test_request_channel_info() -> None:
    # GATEWAY.md §9.3
    assert RequestChannelInfo(613425648685547541).to_bytes() == (
        b'{"op":43,"d":{"guild_id":"613425648685547541","fields":["status","voice_start_time"]}}'
    )
    assert wire(RequestChannelInfo(1, {"voice_start_time"}))["d"]["fields"] == ["voice_start_time"]
    assert wire(RequestChannelInfo(1, ["status", "status"]))["d"]["fields"] == ["status"]
    with pytest.raises(ValueError, match="at least one"):
        RequestChannelInfo(1, [])
    with pytest.raises(ValueError, match="may only hold"):
        RequestChannelInfo(1, ["status", "topic"])
    with pytest.raises(TypeError, match="not a single string"):
        RequestChannelInfo(1, "status")


# --- the common base, encode_raw and the size limit ----------------------------------

ALL_COMMANDS: list[type[Command]] = [
    Heartbeat, Identify, Resume, RequestGuildMembers, UpdatePresence, UpdateVoiceState,
    RequestSoundboardSounds, RequestChannelInfo,
]  # fmt: skip


def test_every_command_has_a_sendable_opcode() -> None:
    assert {cls.op for cls in ALL_COMMANDS} == {op for op in OpCode if op.is_sent}
    assert set(USER_COMMANDS) == set(ALL_COMMANDS) - {Heartbeat, Identify, Resume}
    for cls in ALL_COMMANDS:
        assert issubclass(cls, Command)
        assert dataclasses.is_dataclass(cls)
        assert cls.__doc__ and ">>>" in cls.__doc__


def test_frames_start_with_op_then_d() -> None:
    assert UpdateVoiceState(1, None).to_bytes().startswith(b'{"op":4,"d":{')


def test_encode_raw() -> None:
    assert encode_raw({"op": 1, "d": None}) == b'{"op":1,"d":null}'
    assert encode_raw({"op": 99, "d": {"x": [1, "y"]}}) == b'{"op":99,"d":{"x":[1,"y"]}}'
    with pytest.raises(ValueError, match="integer 'op'"):
        encode_raw({"d": None})
    with pytest.raises(ValueError, match="integer 'op'"):
        encode_raw({"op": True, "d": None})
    with pytest.raises(ValueError, match="integer 'op'"):
        encode_raw({"op": "1", "d": None})
    with pytest.raises(ValueError, match="'d'"):
        encode_raw({"op": 1})
    with pytest.raises(TypeError, match="mapping"):
        encode_raw([1, None])  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="JSON"):
        encode_raw({"op": 1, "d": {1, 2}})
    with pytest.raises(TypeError, match="JSON"):
        encode_raw({"op": 1, "d": {"x": 2**64}})


def test_size_limit_is_exactly_4096_bytes() -> None:
    overhead = len(encode_raw({"op": 1, "d": ""}))
    assert len(encode_raw({"op": 1, "d": "x" * (MAX_PAYLOAD_BYTES - overhead)})) == MAX_PAYLOAD_BYTES
    with pytest.raises(PayloadTooLargeError, match="4097 bytes"):
        encode_raw({"op": 1, "d": "x" * (MAX_PAYLOAD_BYTES - overhead + 1)})
    assert issubclass(PayloadTooLargeError, SendError)


def test_commands_refuse_oversized_frames() -> None:
    presence = UpdatePresence(activities=[Activity("n" * 900, state="s" * 900) for _ in range(3)])
    with pytest.raises(PayloadTooLargeError, match="UpdatePresence"):
        presence.to_bytes()
    with pytest.raises(PayloadTooLargeError, match="RequestGuildMembers"):
        RequestGuildMembers(GUILD, query="q" * 5000, limit=1).to_bytes()


# --- fuzzing: any input builds a frame of at most 4096 bytes, or fails cleanly -------

anything = (
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats()
    | st.text(max_size=40)
    | st.binary(max_size=8)
    | st.lists(st.integers(-5, 2**65) | st.text(max_size=5), max_size=120)
    | st.dictionaries(st.text(max_size=8), st.text(max_size=8) | st.integers(), max_size=4)
)


def mostly(valid: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """``valid`` nine times in ten, anything at all otherwise."""
    # (one_of would flatten both unions into equal branches, so pick by a number)
    return st.integers(0, 9).flatmap(lambda n: anything if n == 5 else valid)


snowflakes = mostly(st.integers(0, 2**64 - 1) | st.integers(0, 2**64 - 1).map(str) | st.integers(-1, 2**64 + 1))
texts = st.text(max_size=300)
#: Around the size limit, to land on both sides of it.
huge_texts = st.text(st.characters(max_codepoint=0x7F), min_size=4000, max_size=4100)
intents = st.lists(st.sampled_from(list(Intents))).map(lambda xs: sum(set(xs))) | st.integers(-1, 2**27)
activities = st.builds(
    Activity,
    name=mostly(st.text(min_size=1, max_size=300)),
    type=mostly(st.integers(0, 5) | st.integers(-1, 6)),
    url=mostly(st.none() | st.just("https://twitch.tv/x")),
    state=st.none() | texts,
)
presences = st.builds(
    UpdatePresence,
    status=mostly(st.sampled_from(["online", "dnd", "idle", "invisible", "offline", "away"])),
    activities=mostly(st.lists(activities, max_size=8)),
    since=mostly(st.none() | st.integers(-1, 2**64)),
    afk=mostly(st.booleans()),
)
properties = st.fixed_dictionaries(
    {"os": st.text(min_size=1, max_size=600), "browser": st.text(min_size=1, max_size=600),
     "device": st.text(min_size=1, max_size=600)},
    optional={"x": st.text(min_size=1, max_size=50)},
)


@st.composite
def guild_member_requests(draw: st.DrawFn) -> RequestGuildMembers:
    mode = draw(st.sampled_from(["query"] * 4 + ["ids"] * 4 + ["both", "neither"]))
    return RequestGuildMembers(
        draw(snowflakes),
        query=draw(mostly(st.text(max_size=50) | huge_texts)) if mode in ("query", "both") else None,
        limit=draw(mostly(st.integers(-1, 101)) if mode != "ids" else st.none()),
        user_ids=draw(mostly(st.lists(snowflakes, max_size=105)) | snowflakes) if mode in ("ids", "both") else None,
        presences=draw(mostly(st.booleans())),
        nonce=draw(st.none() | mostly(st.text(max_size=40))),
    )


FUZZ = {
    "Heartbeat": st.builds(Heartbeat, mostly(st.none() | st.integers(-1, 2**64))),
    "Identify": st.builds(
        Identify,
        token=mostly(st.from_regex(r"(Bot )?[A-Za-z0-9._-]{1,80}", fullmatch=True)),
        intents=mostly(intents),
        properties=mostly(properties),
        compress=mostly(st.booleans()),
        large_threshold=mostly(st.integers(50, 250)),
        shard=mostly(st.none() | st.tuples(st.integers(-1, 3), st.integers(-1, 3))),
        presence=mostly(st.none() | presences),
    ),
    "Resume": st.builds(
        Resume,
        token=mostly(st.from_regex(r"[A-Za-z0-9._-]{1,80}", fullmatch=True)),
        session_id=mostly(st.text(max_size=50) | huge_texts),
        seq=mostly(st.integers(-1, 2**64)),
    ),
    "RequestGuildMembers": guild_member_requests(),
    "UpdatePresence": presences,
    "UpdateVoiceState": st.builds(
        UpdateVoiceState, snowflakes, st.none() | snowflakes, mostly(st.booleans()), mostly(st.booleans())
    ),
    "RequestSoundboardSounds": st.builds(RequestSoundboardSounds, mostly(st.lists(snowflakes, max_size=300))),
    "RequestChannelInfo": st.builds(
        RequestChannelInfo,
        snowflakes,
        mostly(st.lists(st.sampled_from(["status", "voice_start_time", "topic"]), min_size=1, max_size=3)),
    ),
}


@pytest.mark.parametrize("name", sorted(FUZZ))
@settings(max_examples=200, deadline=None)
@given(data=st.data())
def test_fuzzed_inputs_build_a_valid_frame_or_fail_cleanly(name: str, data: st.DataObject) -> None:
    try:
        command = data.draw(FUZZ[name])
        frame = command.to_bytes()
    except (ValueError, TypeError, PayloadTooLargeError):
        return
    assert len(frame) <= MAX_PAYLOAD_BYTES
    decoded = orjson.loads(frame)
    assert decoded == {"op": int(type(command).op), "d": command.to_payload()}
