"""Outgoing commands: every validation rule, the exact wire shape, the size limit,
and that a token never shows."""

from __future__ import annotations

import dataclasses
import sys
from typing import Any

import orjson
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from rxgateway.errors import PayloadTooLargeError, SendError
from rxgateway.protocol import Intents, OpCode, ShardId
from rxgateway.protocol.intents import ALL_INTENTS
from rxgateway.protocol.commands import (
    CHANNEL_INFO_FIELDS,
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


# --- fuzzing, 1: valid input encodes to the expected JSON ---------------------------
#
# Each strategy draws constructor arguments that are valid by the documented rules,
# with the frame the gateway must decode from them, computed here independently of
# the code (snowflakes as strings, "Bot " dropped, defaults filled in). The frame is
# sent, or, only when its JSON is over 4096 bytes, refused with PayloadTooLargeError.

#: Any code point but a lone surrogate (which is not valid Unicode, so not sendable).
CHARS = st.characters(exclude_categories=["Cs"])
SURROGATE = st.integers(0xD800, 0xDFFF).map(chr)
MAX_INT64 = 2**63 - 1


def text_of(min_size: int = 0, max_size: int = 40) -> st.SearchStrategy[str]:
    return st.text(CHARS, min_size=min_size, max_size=max_size)


@dataclasses.dataclass(frozen=True)
class Valid:
    """Valid arguments of ``cls`` and the ``d`` the gateway must receive."""

    cls: type[Any]
    kwargs: dict[str, Any]
    d: Any


#: An argument left to its default.
MISSING: Any = object()


def optional(draw: st.DrawFn, kwargs: dict[str, Any], name: str, values: st.SearchStrategy[Any]) -> Any:
    """Pass ``name`` or leave it to its default (``MISSING``): both must work."""
    if draw(st.booleans()):
        kwargs[name] = draw(values)
        return kwargs[name]
    return MISSING


@st.composite
def valid_snowflakes(draw: st.DrawFn) -> tuple[int | str, str]:
    """A snowflake as a user may give it, and as it is sent."""
    number = draw(st.integers(0, 2**64 - 1) | st.sampled_from([0, 1, 2**64 - 1]))
    form = draw(st.sampled_from(["int", "str", "zero-padded str"]))
    value: int | str = number if form == "int" else str(number) if form == "str" else "00" + str(number)
    return value, str(number)


@st.composite
def valid_tokens(draw: st.DrawFn) -> tuple[str, str]:
    """A token as given (maybe with "Bot " and blanks around it), and as sent."""
    bare = draw(st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=1, max_size=80))
    prefix = draw(st.sampled_from(["", "Bot ", "bot ", "BOT "]))
    lead, trail = draw(st.sampled_from(["", " ", "  "])), draw(st.sampled_from(["", " ", "\n", "\t "]))
    return lead + prefix + bare + trail, bare


@st.composite
def valid_activities(draw: st.DrawFn) -> Valid:
    kwargs: dict[str, Any] = {"name": draw(text_of(1))}
    kind = optional(draw, kwargs, "type", st.integers(0, 5) | st.sampled_from(list(ActivityType)))
    d: dict[str, Any] = {"name": kwargs["name"], "type": 0 if kind is MISSING else int(kind)}
    if d["type"] == ActivityType.STREAMING:
        url = optional(draw, kwargs, "url", st.none() | st.sampled_from(["https://", "http://"]).flatmap(
            lambda scheme: text_of(0, 30).map(lambda rest: scheme + rest)))  # fmt: skip
        if url not in (None, MISSING):
            d["url"] = url
    state = optional(draw, kwargs, "state", st.none() | text_of())
    if state not in (None, MISSING):
        d["state"] = state
    return Valid(Activity, kwargs, d)


@st.composite
def valid_presences(draw: st.DrawFn) -> Valid:
    kwargs: dict[str, Any] = {}
    status = optional(draw, kwargs, "status", st.sampled_from([*Status, *(s.value for s in Status)]))
    activities = draw(st.lists(valid_activities(), max_size=4))
    given = optional(draw, kwargs, "activities", st.sampled_from([list, tuple]).map(
        lambda kind: kind(Activity(**a.kwargs) for a in activities)))  # fmt: skip
    since = optional(draw, kwargs, "since", st.none() | st.integers(0, MAX_INT64))
    afk = optional(draw, kwargs, "afk", st.booleans())
    d = {
        "since": None if since is MISSING else since,
        "activities": [] if given is MISSING else [a.d for a in activities],
        "status": "online" if status is MISSING else str(status),
        "afk": False if afk is MISSING else afk,
    }
    return Valid(UpdatePresence, kwargs, d)


@st.composite
def valid_identifies(draw: st.DrawFn) -> Valid:
    token, bare = draw(valid_tokens())
    intents = draw(
        st.integers(0, ALL_INTENTS).map(lambda bits: bits & ALL_INTENTS)
        | st.sets(st.sampled_from(list(Intents))).map(lambda flags: sum(flags, Intents(0)))
    )
    kwargs: dict[str, Any] = {"token": token, "intents": intents}
    required = st.fixed_dictionaries({key: text_of(1, 30) for key in ("os", "browser", "device")})
    extra = st.dictionaries(text_of(1, 10), text_of(1, 10), max_size=2)
    properties = optional(draw, kwargs, "properties", st.tuples(extra, required).map(lambda p: {**p[0], **p[1]}))
    compress = optional(draw, kwargs, "compress", st.booleans())
    threshold = optional(draw, kwargs, "large_threshold", st.integers(50, 250))
    total = draw(st.integers(1, 2**32))  # see test_identify_refuses_a_shard_total_json_cannot_carry
    number = draw(st.integers(0, total - 1))
    shard = optional(draw, kwargs, "shard", st.sampled_from([None, ShardId(number, total), (number, total),
                                                             [number, total]]))  # fmt: skip
    presence = draw(st.none() | valid_presences())
    given_presence = optional(draw, kwargs, "presence", st.just(None if presence is None else
                                                                UpdatePresence(**presence.kwargs)))  # fmt: skip
    d: dict[str, Any] = {
        "token": bare,
        "properties": default_properties() if properties is MISSING else properties,
        "compress": False if compress is MISSING else compress,
        "large_threshold": 50 if threshold is MISSING else threshold,
        "intents": int(intents),
    }
    if shard not in (None, MISSING):
        d["shard"] = [number, total]
    if given_presence not in (None, MISSING):
        assert presence is not None
        d["presence"] = presence.d
    return Valid(Identify, kwargs, d)


@st.composite
def valid_resumes(draw: st.DrawFn) -> Valid:
    token, bare = draw(valid_tokens())
    session_id, seq = draw(text_of(1, 60)), draw(st.integers(0, MAX_INT64))
    return Valid(Resume, {"token": token, "session_id": session_id, "seq": seq},
                 {"token": bare, "session_id": session_id, "seq": seq})  # fmt: skip


@st.composite
def valid_heartbeats(draw: st.DrawFn) -> Valid:
    kwargs: dict[str, Any] = {}
    seq = optional(draw, kwargs, "seq", st.none() | st.integers(0, MAX_INT64))
    return Valid(Heartbeat, kwargs, None if seq is MISSING else seq)


#: Nonces of at most 32 bytes of UTF-8.
valid_nonces = st.text(st.characters(max_codepoint=0x7F), max_size=32) | text_of(0, 8)


@st.composite
def valid_member_requests(draw: st.DrawFn) -> Valid:
    guild, guild_sent = draw(valid_snowflakes())
    kwargs: dict[str, Any] = {"guild_id": guild}
    d: dict[str, Any] = {"guild_id": guild_sent}
    if draw(st.booleans()):
        kwargs["query"] = d["query"] = draw(text_of())
        kwargs["limit"] = d["limit"] = draw(st.integers(0, 100))
    else:
        ids = draw(st.lists(valid_snowflakes(), min_size=1, max_size=100))
        given = draw(st.sampled_from(["list", "tuple", "single"])) if len(ids) == 1 else "list"
        values = [value for value, _ in ids]
        kwargs["user_ids"] = values[0] if given == "single" else tuple(values) if given == "tuple" else values
        d["user_ids"] = [sent for _, sent in ids]
    presences = optional(draw, kwargs, "presences", st.booleans())
    d["presences"] = False if presences is MISSING else presences
    nonce = optional(draw, kwargs, "nonce", st.none() | valid_nonces)
    if nonce not in (None, MISSING):
        d["nonce"] = nonce
    return Valid(RequestGuildMembers, kwargs, d)


@st.composite
def valid_voice_states(draw: st.DrawFn) -> Valid:
    guild, guild_sent = draw(valid_snowflakes())
    channel = draw(st.none() | valid_snowflakes())
    kwargs: dict[str, Any] = {"guild_id": guild, "channel_id": None if channel is None else channel[0]}
    mute = optional(draw, kwargs, "self_mute", st.booleans())
    deaf = optional(draw, kwargs, "self_deaf", st.booleans())
    d = {
        "guild_id": guild_sent,
        "channel_id": None if channel is None else channel[1],
        "self_mute": mute is not MISSING and mute,
        "self_deaf": deaf is not MISSING and deaf,
    }
    return Valid(UpdateVoiceState, kwargs, d)


@st.composite
def valid_soundboard_requests(draw: st.DrawFn) -> Valid:
    ids = draw(st.lists(valid_snowflakes(), min_size=1, max_size=200))  # 200 ids pass 4096 bytes
    kind = draw(st.sampled_from([list, tuple]))
    return Valid(RequestSoundboardSounds, {"guild_ids": kind(v for v, _ in ids)},
                 {"guild_ids": [sent for _, sent in ids]})  # fmt: skip


@st.composite
def valid_channel_info_requests(draw: st.DrawFn) -> Valid:
    guild, guild_sent = draw(valid_snowflakes())
    kwargs: dict[str, Any] = {"guild_id": guild}
    names = st.lists(st.sampled_from(["status", "voice_start_time"]), min_size=1, max_size=4)
    fields = optional(draw, kwargs, "fields", names | names.map(tuple) | names.map(set))
    sent = ["status", "voice_start_time"] if fields is MISSING else list(dict.fromkeys(fields))
    return Valid(RequestChannelInfo, kwargs, {"guild_id": guild_sent, "fields": sent})


VALID: dict[str, st.SearchStrategy[Valid]] = {
    "Heartbeat": valid_heartbeats(),
    "Identify": valid_identifies(),
    "Resume": valid_resumes(),
    "RequestGuildMembers": valid_member_requests(),
    "UpdatePresence": valid_presences(),
    "UpdateVoiceState": valid_voice_states(),
    "RequestSoundboardSounds": valid_soundboard_requests(),
    "RequestChannelInfo": valid_channel_info_requests(),
}


def test_the_valid_strategies_cover_every_command() -> None:
    assert set(VALID) == {cls.__name__ for cls in ALL_COMMANDS}


@pytest.mark.parametrize("name", sorted(VALID))
@settings(max_examples=100, deadline=None)
@given(data=st.data())
def test_valid_commands_encode_to_the_expected_json(name: str, data: st.DataObject) -> None:
    case = data.draw(VALID[name])
    command = case.cls(**case.kwargs)
    frame = {"op": int(case.cls.op), "d": case.d}
    if len(orjson.dumps(frame)) > MAX_PAYLOAD_BYTES:  # the same JSON, keys perhaps in another order
        with pytest.raises(PayloadTooLargeError, match=name):
            command.to_bytes()
        return
    sent = command.to_bytes()
    assert len(sent) <= MAX_PAYLOAD_BYTES
    assert orjson.loads(sent) == frame
    assert sent.startswith(b'{"op":%d,"d":' % case.cls.op)


@settings(max_examples=150, deadline=None)
@given(case=valid_activities())
def test_valid_activities_give_the_expected_object(case: Valid) -> None:
    assert orjson.loads(orjson.dumps(Activity(**case.kwargs).to_payload())) == case.d


def test_identify_refuses_a_shard_total_json_cannot_carry() -> None:
    with pytest.raises(ValueError, match="shard"):
        Identify(TOKEN, 1, shard=(0, 2**64)).to_bytes()


# --- fuzzing, 2: input invalid by construction gets the documented error ------------
#
# A valid case with exactly one argument made invalid: a wrong type must raise
# TypeError, a wrong value ValueError, at construction, and the message must name
# the field (commands.py's promise), never both kinds and never anything else.

DROP: Any = object()


@dataclasses.dataclass(frozen=True)
class Bad:
    """Replace argument ``field`` by ``value`` (or leave it out: ``DROP``)."""

    field: str
    value: Any
    error: type[Exception]
    says: str


def bad(field: str, values: st.SearchStrategy[Any], error: type[Exception], says: str) -> st.SearchStrategy[Bad]:
    return values.map(lambda value: Bad(field, value, error, says))


NOT_INT = (
    st.none() | st.booleans() | st.floats() | st.text(max_size=3) | st.binary(max_size=3)
    | st.lists(st.integers(), max_size=2)
)  # fmt: skip
NOT_INT_OR_NONE = NOT_INT.filter(lambda value: value is not None)
NOT_BOOL = st.none() | st.integers() | st.floats() | st.text(max_size=3)
NOT_STR = st.none() | st.booleans() | st.integers() | st.floats() | st.binary(max_size=3)
NOT_STR_OR_NONE = NOT_STR.filter(lambda value: value is not None)
WITH_SURROGATE = st.tuples(text_of(0, 5), SURROGATE, text_of(0, 5)).map("".join)
NOT_SNOWFLAKE_TYPE = (
    st.none() | st.booleans() | st.floats() | st.binary(max_size=5) | st.lists(st.integers(0, 9), max_size=2)
)
BAD_SNOWFLAKE = (
    st.integers(max_value=-1) | st.integers(min_value=2**64) | st.integers(min_value=2**64).map(str)
    | text_of().filter(lambda text: not (text.isascii() and text.isdigit()))
)  # fmt: skip
UNDOCUMENTED_INTENT_BITS = [1 << bit for bit in range(64) if not ALL_INTENTS >> bit & 1]
BAD_TOKENS = (
    st.sampled_from(["", " ", "   ", "\n", "Bot ", "bot  ", " Bot \t"])
    | st.tuples(valid_tokens(), st.sampled_from([" ", "\x00", "\x7f", "\u00e9", "\u0442", "\u00a0"]), valid_tokens())
    .map(lambda parts: parts[0][1] + parts[1] + parts[2][1])
)  # fmt: skip


def snowflake_field(cls: str, field: str, *, optional: bool = False) -> list[st.SearchStrategy[Bad]]:
    types_ = NOT_SNOWFLAKE_TYPE.filter(lambda value: value is not None) if optional else NOT_SNOWFLAKE_TYPE
    return [bad(field, types_, TypeError, f"{cls}.{field}"), bad(field, BAD_SNOWFLAKE, ValueError, f"{cls}.{field}")]


def token_field(cls: str) -> list[st.SearchStrategy[Bad]]:
    return [bad("token", NOT_STR, TypeError, f"{cls}.token"), bad("token", BAD_TOKENS, ValueError, f"{cls}.token")]


def property_corruptions(case: Valid) -> list[st.SearchStrategy[Bad]]:
    properties = dict(case.kwargs.get("properties", default_properties()))
    keys = st.sampled_from(["os", "browser", "device"])
    says = "Identify.properties"
    return [
        bad("properties", st.none() | st.text(max_size=3) | st.integers()
            | st.just([("os", "x"), ("browser", "x"), ("device", "x")]), TypeError, says),
        keys.map(lambda key: Bad("properties", {k: v for k, v in properties.items() if k != key}, ValueError,
                                 f"lacks {key!r}")),
        st.tuples(keys, NOT_STR).map(lambda kv: Bad("properties", {**properties, kv[0]: kv[1]}, TypeError, says)),
        st.tuples(keys, st.just("") | WITH_SURROGATE).map(
            lambda kv: Bad("properties", {**properties, kv[0]: kv[1]}, ValueError, says)),
        st.integers().map(lambda key: Bad("properties", {**properties, key: "x"}, TypeError, says)),
    ]  # fmt: skip


def activity_corruptions(case: Valid) -> list[st.SearchStrategy[Bad]]:
    streaming = case.d["type"] == ActivityType.STREAMING
    url_values = (
        text_of(1).filter(lambda url: not url.startswith(("http://", "https://"))) if streaming
        else st.sampled_from(["https://twitch.tv/x", "http://youtube.com/y"]) | text_of(1)
    )  # fmt: skip
    return [
        bad("name", NOT_STR, TypeError, "Activity.name"),
        bad("name", st.just("") | WITH_SURROGATE, ValueError, "Activity.name"),
        bad("type", NOT_INT, TypeError, "Activity.type"),
        bad("type", st.integers(max_value=-1) | st.integers(min_value=6), ValueError, "Activity.type"),
        bad("url", NOT_STR_OR_NONE, TypeError, "Activity.url"),
        bad("url", url_values | st.just(""), ValueError, "Activity.url"),
        bad("state", NOT_STR_OR_NONE, TypeError, "Activity.state"),
        bad("state", WITH_SURROGATE, ValueError, "Activity.state"),
    ]


def presence_corruptions(case: Valid) -> list[st.SearchStrategy[Bad]]:
    not_activities = st.just({"name": "x", "type": 0}) | st.text(max_size=2) | st.none()
    return [
        bad("status", NOT_STR, TypeError, "UpdatePresence.status"),
        bad("status", text_of().filter(lambda s: s not in {x.value for x in Status}), ValueError,
            "UpdatePresence.status"),
        bad("activities", st.none() | st.integers() | st.text(max_size=3) | st.binary(max_size=3)
            | st.just(Activity("x")), TypeError, "UpdatePresence.activities"),
        bad("activities", st.lists(st.just(Activity("x")) | not_activities, min_size=1, max_size=3).filter(
            lambda xs: any(not isinstance(x, Activity) for x in xs)), TypeError, "UpdatePresence.activities"),
        bad("since", NOT_INT_OR_NONE, TypeError, "UpdatePresence.since"),
        bad("since", st.integers(max_value=-1) | st.integers(min_value=MAX_INT64 + 1), ValueError,
            "UpdatePresence.since"),
        bad("afk", NOT_BOOL, TypeError, "UpdatePresence.afk"),
    ]  # fmt: skip


def identify_corruptions(case: Valid) -> list[st.SearchStrategy[Bad]]:
    pairs = st.tuples(st.integers(-3, 5), st.integers(-3, 5))
    return [
        *token_field("Identify"),
        bad("intents", NOT_INT, TypeError, "Identify.intents"),
        bad("intents", st.integers(max_value=-1) | st.tuples(st.integers(0, ALL_INTENTS), st.sampled_from(
            UNDOCUMENTED_INTENT_BITS)).map(lambda p: p[0] | p[1]), ValueError, "Identify.intents"),
        *property_corruptions(case),
        bad("compress", NOT_BOOL, TypeError, "Identify.compress"),
        bad("large_threshold", NOT_INT, TypeError, "Identify.large_threshold"),
        bad("large_threshold", st.integers(max_value=49) | st.integers(min_value=251), ValueError,
            "Identify.large_threshold"),
        bad("shard", st.text(max_size=3) | st.integers() | st.just({"number": 0, "total": 1}) | st.sampled_from(
            [(), (0,), (0, 1, 2), [0], [0, 1, 2]]), TypeError, "Identify.shard"),
        bad("shard", pairs.filter(lambda p: not 0 <= p[0] < p[1]), ValueError, "ShardId"),
        bad("shard", st.tuples(st.integers(0, 3), NOT_INT) | st.tuples(NOT_INT, st.integers(1, 3)), TypeError,
            "ShardId"),
        bad("presence", st.just({"status": "online"}) | st.text(max_size=3) | st.integers() | st.just(Activity("x")),
            TypeError, "Identify.presence"),
    ]  # fmt: skip


def resume_corruptions(case: Valid) -> list[st.SearchStrategy[Bad]]:
    return [
        *token_field("Resume"),
        bad("session_id", NOT_STR, TypeError, "Resume.session_id"),
        bad("session_id", st.just("") | WITH_SURROGATE, ValueError, "Resume.session_id"),
        bad("seq", NOT_INT, TypeError, "Resume.seq"),
        bad("seq", st.integers(max_value=-1) | st.integers(min_value=MAX_INT64 + 1), ValueError, "Resume.seq"),
    ]


def heartbeat_corruptions(case: Valid) -> list[st.SearchStrategy[Bad]]:
    return [
        bad("seq", NOT_INT_OR_NONE, TypeError, "Heartbeat.seq"),
        bad("seq", st.integers(max_value=-1) | st.integers(min_value=MAX_INT64 + 1), ValueError, "Heartbeat.seq"),
    ]


def member_request_corruptions(case: Valid) -> list[st.SearchStrategy[Bad]]:
    cls = "RequestGuildMembers"
    common = [
        *snowflake_field(cls, "guild_id"),
        bad("presences", NOT_BOOL, TypeError, f"{cls}.presences"),
        bad("nonce", NOT_STR_OR_NONE, TypeError, f"{cls}.nonce"),
        bad("nonce", text_of(33, 40) | st.just("\u20ac" * 11) | WITH_SURROGATE, ValueError, f"{cls}.nonce"),
    ]
    if "query" in case.kwargs:
        return [
            *common,
            bad("user_ids", st.just([1]) | st.just("5"), ValueError, "exactly one of query and user_ids"),
            bad("query", st.just(DROP), ValueError, "exactly one of query and user_ids"),
            bad("query", NOT_STR_OR_NONE, TypeError, f"{cls}.query"),
            bad("query", WITH_SURROGATE, ValueError, f"{cls}.query"),
            bad("limit", st.just(DROP) | st.none(), ValueError, "limit is required"),
            bad("limit", NOT_INT_OR_NONE, TypeError, f"{cls}.limit"),
            bad("limit", st.integers(max_value=-1) | st.integers(min_value=101), ValueError, f"{cls}.limit"),
        ]
    flakes = st.integers(0, 2**64 - 1)
    return [
        *common,
        bad("query", text_of(), ValueError, "exactly one of query and user_ids"),
        bad("user_ids", st.just(DROP) | st.none(), ValueError, "exactly one of query and user_ids"),
        bad("limit", st.integers(0, 100), ValueError, "limit is only used with query"),
        bad("user_ids", st.booleans() | st.floats() | st.binary(max_size=3), TypeError, f"{cls}.user_ids"),
        bad("user_ids", st.just([]) | st.just(()), ValueError, f"{cls}.user_ids must not be empty"),
        bad("user_ids", st.lists(flakes, min_size=101, max_size=110), ValueError, "at most 100"),
        bad("user_ids", BAD_SNOWFLAKE, ValueError, f"{cls}.user_ids[0]"),
        bad("user_ids", st.tuples(st.lists(flakes, max_size=5), BAD_SNOWFLAKE).map(lambda p: [*p[0], p[1]]),
            ValueError, f"{cls}.user_ids["),
        bad("user_ids", st.tuples(st.lists(flakes, max_size=5), NOT_SNOWFLAKE_TYPE).map(lambda p: [*p[0], p[1]]),
            TypeError, f"{cls}.user_ids["),
    ]  # fmt: skip


def voice_state_corruptions(case: Valid) -> list[st.SearchStrategy[Bad]]:
    cls = "UpdateVoiceState"
    return [
        *snowflake_field(cls, "guild_id"),
        *snowflake_field(cls, "channel_id", optional=True),
        bad("self_mute", NOT_BOOL, TypeError, f"{cls}.self_mute"),
        bad("self_deaf", NOT_BOOL, TypeError, f"{cls}.self_deaf"),
    ]


def soundboard_corruptions(case: Valid) -> list[st.SearchStrategy[Bad]]:
    cls = "RequestSoundboardSounds"
    flakes = st.lists(st.integers(0, 2**64 - 1), max_size=5)
    return [
        bad("guild_ids", st.none() | st.integers() | st.floats() | text_of() | st.binary(max_size=3), TypeError,
            f"{cls}.guild_ids"),
        bad("guild_ids", st.just([]) | st.just(()), ValueError, f"{cls}.guild_ids must not be empty"),
        bad("guild_ids", st.tuples(flakes, BAD_SNOWFLAKE).map(lambda p: [*p[0], p[1]]), ValueError,
            f"{cls}.guild_ids["),
        bad("guild_ids", st.tuples(flakes, NOT_SNOWFLAKE_TYPE).map(lambda p: [*p[0], p[1]]), TypeError,
            f"{cls}.guild_ids["),
    ]  # fmt: skip


def channel_info_corruptions(case: Valid) -> list[st.SearchStrategy[Bad]]:
    cls = "RequestChannelInfo"
    names = st.sampled_from(["status", "voice_start_time"])
    return [
        *snowflake_field(cls, "guild_id"),
        bad("fields", st.none() | st.integers() | st.floats() | text_of() | st.binary(max_size=3), TypeError,
            f"{cls}.fields"),
        bad("fields", st.just([]) | st.just(()), ValueError, f"{cls}.fields must name at least one"),
        bad("fields", st.tuples(st.lists(names, max_size=2), text_of().filter(lambda s: s not in CHANNEL_INFO_FIELDS))
            .map(lambda p: [*p[0], p[1]]), ValueError, f"{cls}.fields may only hold"),
    ]  # fmt: skip


CORRUPTIONS: dict[str, tuple[st.SearchStrategy[Valid], Any]] = {
    "Activity": (valid_activities(), activity_corruptions),
    "Heartbeat": (VALID["Heartbeat"], heartbeat_corruptions),
    "Identify": (VALID["Identify"], identify_corruptions),
    "Resume": (VALID["Resume"], resume_corruptions),
    "RequestGuildMembers": (VALID["RequestGuildMembers"], member_request_corruptions),
    "UpdatePresence": (VALID["UpdatePresence"], presence_corruptions),
    "UpdateVoiceState": (VALID["UpdateVoiceState"], voice_state_corruptions),
    "RequestSoundboardSounds": (VALID["RequestSoundboardSounds"], soundboard_corruptions),
    "RequestChannelInfo": (VALID["RequestChannelInfo"], channel_info_corruptions),
}


@pytest.mark.parametrize("name", sorted(CORRUPTIONS))
@settings(max_examples=100, deadline=None)
@given(data=st.data())
def test_invalid_arguments_raise_the_documented_error_naming_the_field(name: str, data: st.DataObject) -> None:
    valid, corruptions = CORRUPTIONS[name]
    case = data.draw(valid)
    wrong = data.draw(st.one_of(corruptions(case)))
    kwargs = dict(case.kwargs)
    if wrong.value is DROP:
        kwargs.pop(wrong.field, None)
    else:
        kwargs[wrong.field] = wrong.value
    with pytest.raises((TypeError, ValueError)) as info:
        case.cls(**kwargs)
    assert type(info.value) is wrong.error, f"{wrong.field}={wrong.value!r}: {info.value!r}"
    assert wrong.says in str(info.value)
    if "token" in kwargs and isinstance(kwargs["token"], str) and len(kwargs["token"].strip()) >= 12:
        assert kwargs["token"].strip() not in str(info.value)  # a token never shows


# --- fuzzing, 3: any input at all is refused at construction, or sent ---------------
#
# Arbitrary values ("mostly" valid ones) in every argument: construction may refuse
# them with TypeError or ValueError only; once built, a command must encode, to the
# JSON of its own to_payload(), unless that JSON is over 4096 bytes.


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
@settings(max_examples=100, deadline=None)
@given(data=st.data())
def test_any_input_is_refused_when_built_or_sent_as_its_payload(name: str, data: st.DataObject) -> None:
    try:
        command = data.draw(FUZZ[name])
    except (TypeError, ValueError):
        return  # refused where it was written, with a documented error type
    shard = getattr(command, "shard", None)
    frame = {"op": int(type(command).op), "d": command.to_payload()}
    if len(orjson.dumps(frame)) > MAX_PAYLOAD_BYTES:
        with pytest.raises(PayloadTooLargeError):
            command.to_bytes()
        return
    sent = command.to_bytes()  # no TypeError, no ValueError: it was accepted when built
    assert len(sent) <= MAX_PAYLOAD_BYTES
    assert orjson.loads(sent) == frame
