"""Outgoing gateway commands (GATEWAY.md §3.3, §3.4, §3.6, §9).

Each command is a small frozen class that checks its fields when built, so a bad
command fails where it is written, with a ``ValueError`` or ``TypeError`` naming
the field and the rule, instead of as a close code (4001/4002) on the live socket.
``to_bytes()`` gives the exact frame, and refuses one over the gateway's size limit.

Example::

    >>> UpdateVoiceState(981346340044931072, None).to_bytes()
    b'{"op":4,"d":{"guild_id":"981346340044931072","channel_id":null,"self_mute":false,"self_deaf":false}}'
    >>> RequestGuildMembers(981346340044931072, query="ab", limit=10).to_payload()["limit"]
    10

Snowflakes are accepted as ``int`` or as a string of digits, and sent as strings
(GATEWAY.md §11.1). A token is never shown by ``repr`` nor put in an error message.
"""

from __future__ import annotations

import enum
import sys
from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields
from types import MappingProxyType
from typing import Any, ClassVar, TypeGuard

import orjson

from ..errors import PayloadTooLargeError
from .intents import Intents, validate_intents
from .opcode import OpCode
from .shard_id import ShardId

__all__ = [
    "MAX_PAYLOAD_BYTES",
    "USER_COMMANDS",
    "Activity",
    "ActivityType",
    "Command",
    "Heartbeat",
    "Identify",
    "RequestChannelInfo",
    "RequestGuildMembers",
    "RequestSoundboardSounds",
    "Resume",
    "Status",
    "UpdatePresence",
    "UpdateVoiceState",
    "default_properties",
    "encode_raw",
]

#: A client payload larger than this is closed with 4002 (GATEWAY.md §11.3).
MAX_PAYLOAD_BYTES = 4096
#: ``large_threshold`` bounds (GATEWAY.md §3.4).
LARGE_THRESHOLD_MIN = 50
LARGE_THRESHOLD_MAX = 250
#: A ``query`` returns at most 100 members, and ``user_ids`` asks for at most 100 (§9.1).
MAX_MEMBERS_PER_REQUEST = 100
#: The gateway ignores a longer ``nonce`` (§9.1); we refuse it instead.
MAX_NONCE_BYTES = 32
#: Snowflakes are unsigned 64-bit integers (§11.4).
SNOWFLAKE_LIMIT = 1 << 64
#: The largest sequence or timestamp orjson can write (a signed 64-bit integer);
#: Discord's own values are far smaller.
MAX_INT64 = (1 << 63) - 1
#: What Request Channel Info may ask for (§9.3).
CHANNEL_INFO_FIELDS = frozenset({"status", "voice_start_time"})


class ActivityType(enum.IntEnum):
    """Activity types a bot may set (GATEWAY.md §9.4).

    Example::

        >>> Activity("the rain", ActivityType.LISTENING).to_payload()["type"]
        2
    """

    PLAYING = 0
    STREAMING = 1
    LISTENING = 2
    WATCHING = 3
    CUSTOM = 4
    COMPETING = 5


class Status(enum.StrEnum):
    """Statuses a bot may send (GATEWAY.md §9.4); plain strings work as well.

    Example::

        >>> UpdatePresence(status=Status.INVISIBLE).to_payload()["status"]
        'invisible'
    """

    ONLINE = "online"
    DND = "dnd"
    IDLE = "idle"
    INVISIBLE = "invisible"
    OFFLINE = "offline"


_STATUSES = frozenset(status.value for status in Status)


def default_properties() -> dict[str, str]:
    """The Identify ``properties`` sent when none are given.

    Example::

        >>> default_properties()["browser"]
        'rxgateway'
    """
    return {"os": sys.platform, "browser": "rxgateway", "device": "rxgateway"}


def encode_raw(payload: Mapping[str, Any]) -> bytes:
    """Encode an arbitrary payload for sending, with the same checks as a command.

    ``payload`` needs an integer ``op`` and a ``d`` key. Raises ``TypeError`` or
    ``ValueError`` for a malformed payload and :class:`PayloadTooLargeError` past
    :data:`MAX_PAYLOAD_BYTES`.

    Example::

        >>> encode_raw({"op": 1, "d": None})
        b'{"op":1,"d":null}'
    """
    if not isinstance(payload, Mapping):
        raise TypeError(f"payload must be a mapping, got {type(payload).__name__}")
    op = payload.get("op")
    if isinstance(op, bool) or not isinstance(op, int):
        raise ValueError("payload must have an integer 'op'")
    if "d" not in payload:
        raise ValueError("payload must have a 'd' key (null is allowed)")
    return _dumps(dict(payload), f"op {op} payload")


def _dumps(payload: dict[str, Any], what: str) -> bytes:
    try:
        data = orjson.dumps(payload)
    except orjson.JSONEncodeError as exc:
        raise TypeError(f"{what} is not JSON-serialisable: {exc}") from None
    if len(data) > MAX_PAYLOAD_BYTES:
        raise PayloadTooLargeError(
            f"{what} is {len(data)} bytes; the gateway closes with 4002 past {MAX_PAYLOAD_BYTES} (GATEWAY.md §11.3)"
        )
    return data


class Command(ABC):
    """An outgoing gateway command: ``{"op": op, "d": to_payload()}``.

    Subclasses are frozen dataclasses; fields marked ``metadata={"secret": True}``
    show as ``<redacted>`` in ``repr``.

    Example::

        >>> command = RequestChannelInfo(613425648685547541, ["status"])
        >>> command.op, command.to_bytes()
        (<OpCode.REQUEST_CHANNEL_INFO: 43>, b'{"op":43,"d":{"guild_id":"613425648685547541","fields":["status"]}}')
    """

    __slots__ = ()
    op: ClassVar[OpCode]

    @abstractmethod
    def to_payload(self) -> dict[str, Any] | int | None:
        """The ``d`` of this command, as JSON-ready Python values."""

    def to_bytes(self) -> bytes:
        """The frame to send, encoded with orjson.

        Raises :class:`PayloadTooLargeError` over :data:`MAX_PAYLOAD_BYTES`.
        """
        return _dumps({"op": int(self.op), "d": self.to_payload()}, type(self).__name__)

    def __repr__(self) -> str:
        parts = []
        for f in fields(self):  # type: ignore[arg-type]  # every subclass is a dataclass
            value = "<redacted>" if f.metadata.get("secret") else repr(getattr(self, f.name))
            parts.append(f"{f.name}={value}")
        return f"{type(self).__name__}({', '.join(parts)})"


# --- field checks: each raises TypeError for a wrong type, ValueError for a wrong value


def _set(obj: object, name: str, value: object) -> None:
    object.__setattr__(obj, name, value)  # normalise a field of a frozen dataclass


def _is_int(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_bool(owner: object, name: str, value: object) -> None:
    if not isinstance(value, bool):
        raise TypeError(f"{type(owner).__name__}.{name} must be a bool, got {type(value).__name__}")


def _check_int(owner: object, name: str, value: object, low: int, high: int) -> int:
    label = f"{type(owner).__name__}.{name}"
    if not _is_int(value):
        raise TypeError(f"{label} must be an int, got {type(value).__name__}")
    if not low <= value <= high:
        raise ValueError(f"{label} must be in {low}..{high}, got {value}")
    return int(value)


def _check_str(owner: object, name: str, value: object, *, empty: bool = False, show: bool = True) -> str:
    label = f"{type(owner).__name__}.{name}"
    if not isinstance(value, str):
        raise TypeError(f"{label} must be a str, got {type(value).__name__}")
    if not empty and not value:
        raise ValueError(f"{label} must not be empty")
    try:
        value.encode()
    except UnicodeEncodeError:
        raise ValueError(f"{label} must be valid Unicode (it holds a lone surrogate)") from None
    return str(value)


def _snowflake(owner: object, name: str, value: object) -> int:
    label = f"{type(owner).__name__}.{name}"
    if isinstance(value, str):
        if not (value.isascii() and value.isdigit()):
            raise ValueError(f"{label} must be a snowflake: an int or a string of digits, got {value[:40]!r}")
        number = int(value)
    elif _is_int(value):
        number = int(value)
    else:
        raise TypeError(f"{label} must be a snowflake (int or str), got {type(value).__name__}")
    if not 0 <= number < SNOWFLAKE_LIMIT:
        raise ValueError(f"{label} must be an unsigned 64-bit snowflake, got {number}")
    return number


def _snowflakes(owner: object, name: str, values: object, high: int | None = None) -> tuple[int, ...]:
    label = f"{type(owner).__name__}.{name}"
    if isinstance(values, (str, bytes)) or not isinstance(values, Iterable):
        raise TypeError(f"{label} must be a list of snowflakes, got {type(values).__name__}")
    ids = tuple(_snowflake(owner, f"{name}[{i}]", v) for i, v in enumerate(values))
    if not ids:
        raise ValueError(f"{label} must not be empty")
    if high is not None and len(ids) > high:
        raise ValueError(f"{label} holds at most {high} ids, got {len(ids)}")
    return ids


def _bare_token(owner: object, value: object) -> str:
    """Validate a token and drop a ``Bot `` prefix; never echoes the token."""
    label = f"{type(owner).__name__}.token"
    if not isinstance(value, str):
        raise TypeError(f"{label} must be a str, got {type(value).__name__}")
    token = value.lstrip()
    if token[:4].lower() == "bot ":
        token = token[4:]
    token = token.strip()
    if not token:
        raise ValueError(f"{label} must not be empty")
    if not token.isascii() or not token.isprintable() or " " in token:
        raise ValueError(f"{label} must be printable ASCII without spaces (a bot token is)")
    return token


# --- the commands


@dataclass(frozen=True, slots=True)
class Activity:
    """An activity a bot sets in its presence (GATEWAY.md §9.4).

    ``url`` is only for streaming; ``state`` is the text of a custom status.

    Example::

        >>> Activity("Custom Status", ActivityType.CUSTOM, state="Running tests").to_payload()
        {'name': 'Custom Status', 'type': 4, 'state': 'Running tests'}
    """

    name: str
    type: ActivityType | int = ActivityType.PLAYING
    url: str | None = None
    state: str | None = None

    def __post_init__(self) -> None:
        _check_str(self, "name", self.name)
        kind = _check_int(self, "type", self.type, int(min(ActivityType)), int(max(ActivityType)))
        _set(self, "type", ActivityType(kind))
        if self.url is not None:
            url = _check_str(self, "url", self.url)
            if kind != ActivityType.STREAMING:
                raise ValueError("Activity.url is only allowed for type STREAMING (1)")
            if not url.startswith(("https://", "http://")):
                raise ValueError("Activity.url must be an http(s) URL (twitch.tv or youtube.com)")
        if self.state is not None:
            _check_str(self, "state", self.state, empty=True)

    def to_payload(self) -> dict[str, Any]:
        """The activity object."""
        payload: dict[str, Any] = {"name": self.name, "type": int(self.type)}
        if self.url is not None:
            payload["url"] = self.url
        if self.state is not None:
            payload["state"] = self.state
        return payload


@dataclass(frozen=True, slots=True, repr=False)
class UpdatePresence(Command):
    """Op 3: change the bot's presence; also Identify's initial presence (§9.4).

    Example::

        >>> UpdatePresence(status="dnd", activities=[Activity("chess")]).to_payload()
        {'since': None, 'activities': [{'name': 'chess', 'type': 0}], 'status': 'dnd', 'afk': False}
    """

    op: ClassVar[OpCode] = OpCode.PRESENCE_UPDATE
    status: Status | str = Status.ONLINE
    activities: Iterable[Activity] = ()
    since: int | None = None
    afk: bool = False

    def __post_init__(self) -> None:
        if not isinstance(self.status, str):
            raise TypeError(f"UpdatePresence.status must be a str, got {type(self.status).__name__}")
        if self.status not in _STATUSES:
            raise ValueError(f"UpdatePresence.status must be one of {sorted(_STATUSES)}, got {self.status[:40]!r}")
        _set(self, "status", Status(self.status))
        if isinstance(self.activities, (str, bytes, Activity)) or not isinstance(self.activities, Iterable):
            raise TypeError("UpdatePresence.activities must be a list of Activity")
        activities = tuple(self.activities)
        for activity in activities:
            if not isinstance(activity, Activity):
                raise TypeError(f"UpdatePresence.activities holds a {type(activity).__name__}, not an Activity")
        _set(self, "activities", activities)
        if self.since is not None:
            _check_int(self, "since", self.since, 0, MAX_INT64)
        _check_bool(self, "afk", self.afk)

    def to_payload(self) -> dict[str, Any]:
        return {
            "since": self.since,
            "activities": [a.to_payload() for a in self.activities],
            "status": str(self.status),
            "afk": self.afk,
        }


@dataclass(frozen=True, slots=True, repr=False)
class Identify(Command):
    """Op 2: start a new session (GATEWAY.md §3.4). The shard sends it itself.

    Example::

        >>> identify = Identify("Bot abc.def", Intents.GUILDS | Intents.GUILD_MESSAGES, shard=ShardId(0, 2))
        >>> identify.to_payload()["token"], identify.to_payload()["intents"], identify.to_payload()["shard"]
        ('abc.def', 513, [0, 2])
        >>> "abc" in repr(identify)
        False
    """

    op: ClassVar[OpCode] = OpCode.IDENTIFY
    token: str = field(metadata={"secret": True})
    intents: Intents | int
    properties: Mapping[str, str] = field(default_factory=default_properties, hash=False)
    compress: bool = False
    large_threshold: int = LARGE_THRESHOLD_MIN
    shard: ShardId | tuple[int, int] | None = None
    presence: UpdatePresence | None = None

    def __post_init__(self) -> None:
        _set(self, "token", _bare_token(self, self.token))
        try:
            _set(self, "intents", validate_intents(self.intents))
        except (TypeError, ValueError) as exc:
            raise type(exc)(f"Identify.intents: {exc}") from None
        if not isinstance(self.properties, Mapping):
            raise TypeError(f"Identify.properties must be a mapping, got {type(self.properties).__name__}")
        properties = dict(self.properties)
        for key in ("os", "browser", "device"):
            if key not in properties:
                raise ValueError(f"Identify.properties lacks {key!r} (os, browser and device are required)")
        for key, value in properties.items():
            _check_str(self, f"properties[{key!r}]", key)
            _check_str(self, f"properties[{key!r}]", value)
        _set(self, "properties", MappingProxyType(properties))
        _check_bool(self, "compress", self.compress)
        _check_int(self, "large_threshold", self.large_threshold, LARGE_THRESHOLD_MIN, LARGE_THRESHOLD_MAX)
        if self.shard is not None and not isinstance(self.shard, ShardId):
            if not isinstance(self.shard, (tuple, list)) or len(self.shard) != 2:
                raise TypeError("Identify.shard must be a ShardId or a [number, total] pair")
            _set(self, "shard", ShardId(*self.shard))
        if self.presence is not None and not isinstance(self.presence, UpdatePresence):
            raise TypeError(f"Identify.presence must be an UpdatePresence, got {type(self.presence).__name__}")

    def to_payload(self) -> dict[str, Any]:
        payload: dict[str, Any] = {
            "token": self.token,
            "properties": dict(self.properties),
            "compress": self.compress,
            "large_threshold": self.large_threshold,
            "intents": int(self.intents),
        }
        if isinstance(self.shard, ShardId):
            payload["shard"] = self.shard.to_list()
        if self.presence is not None:
            payload["presence"] = self.presence.to_payload()
        return payload


@dataclass(frozen=True, slots=True, repr=False)
class Resume(Command):
    """Op 6: resume a dropped session (GATEWAY.md §3.6). The shard sends it itself.

    Example::

        >>> Resume("abc.def", "3f1c9a7e", 1337).to_payload()
        {'token': 'abc.def', 'session_id': '3f1c9a7e', 'seq': 1337}
    """

    op: ClassVar[OpCode] = OpCode.RESUME
    token: str = field(metadata={"secret": True})
    session_id: str
    seq: int

    def __post_init__(self) -> None:
        _set(self, "token", _bare_token(self, self.token))
        _check_str(self, "session_id", self.session_id)
        _check_int(self, "seq", self.seq, 0, MAX_INT64)

    def to_payload(self) -> dict[str, Any]:
        return {"token": self.token, "session_id": self.session_id, "seq": self.seq}


@dataclass(frozen=True, slots=True, repr=False)
class Heartbeat(Command):
    """Op 1: the keep-alive, carrying the last sequence received (§3.3).

    Example::

        >>> Heartbeat(251).to_bytes()
        b'{"op":1,"d":251}'
        >>> Heartbeat(None).to_bytes()
        b'{"op":1,"d":null}'
    """

    op: ClassVar[OpCode] = OpCode.HEARTBEAT
    seq: int | None = None

    def __post_init__(self) -> None:
        if self.seq is not None:
            _check_int(self, "seq", self.seq, 0, MAX_INT64)

    def to_payload(self) -> int | None:
        return self.seq


@dataclass(frozen=True, slots=True, repr=False)
class RequestGuildMembers(Command):
    """Op 8: ask for members of one guild, by name prefix or by id (§9.1).

    Give exactly one of ``query`` (with ``limit``; ``query=""`` and ``limit=0`` ask
    for every member) or ``user_ids`` (at most 100).

    Example::

        >>> RequestGuildMembers(981346340044931072, query="", limit=0).to_payload()
        {'guild_id': '981346340044931072', 'presences': False, 'query': '', 'limit': 0}
        >>> RequestGuildMembers("981346340044931072", user_ids=[123], nonce="q2").to_payload()["user_ids"]
        ['123']
    """

    op: ClassVar[OpCode] = OpCode.REQUEST_GUILD_MEMBERS
    guild_id: int | str
    query: str | None = None
    limit: int | None = None
    user_ids: Iterable[int | str] | int | str | None = None
    presences: bool = False
    nonce: str | None = None

    def __post_init__(self) -> None:
        _set(self, "guild_id", _snowflake(self, "guild_id", self.guild_id))
        if (self.query is None) == (self.user_ids is None):
            raise ValueError("RequestGuildMembers needs exactly one of query and user_ids")
        if self.query is not None:
            _check_str(self, "query", self.query, empty=True)
            if self.limit is None:
                raise ValueError("RequestGuildMembers.limit is required with query (0 with query='' means all)")
            _check_int(self, "limit", self.limit, 0, MAX_MEMBERS_PER_REQUEST)
        else:
            if self.limit is not None:
                raise ValueError("RequestGuildMembers.limit is only used with query, not with user_ids")
            ids = self.user_ids
            if isinstance(ids, (int, str)) and not isinstance(ids, bool):
                ids = [ids]
            _set(self, "user_ids", _snowflakes(self, "user_ids", ids, MAX_MEMBERS_PER_REQUEST))
        _check_bool(self, "presences", self.presences)
        if self.nonce is not None:
            nonce = _check_str(self, "nonce", self.nonce, empty=True)
            if len(nonce.encode()) > MAX_NONCE_BYTES:
                raise ValueError(f"RequestGuildMembers.nonce is at most {MAX_NONCE_BYTES} bytes of UTF-8")

    def to_payload(self) -> dict[str, Any]:
        payload: dict[str, Any] = {"guild_id": str(self.guild_id), "presences": self.presences}
        if self.query is not None:
            payload["query"] = self.query
            payload["limit"] = self.limit
        else:
            assert isinstance(self.user_ids, tuple)
            payload["user_ids"] = [str(i) for i in self.user_ids]
        if self.nonce is not None:
            payload["nonce"] = self.nonce
        return payload


@dataclass(frozen=True, slots=True, repr=False)
class UpdateVoiceState(Command):
    """Op 4: join, move between or leave (``channel_id=None``) voice channels (§9.5).

    Example::

        >>> UpdateVoiceState(1, 2, self_deaf=True).to_payload()
        {'guild_id': '1', 'channel_id': '2', 'self_mute': False, 'self_deaf': True}
    """

    op: ClassVar[OpCode] = OpCode.VOICE_STATE_UPDATE
    guild_id: int | str
    channel_id: int | str | None
    self_mute: bool = False
    self_deaf: bool = False

    def __post_init__(self) -> None:
        _set(self, "guild_id", _snowflake(self, "guild_id", self.guild_id))
        if self.channel_id is not None:
            _set(self, "channel_id", _snowflake(self, "channel_id", self.channel_id))
        _check_bool(self, "self_mute", self.self_mute)
        _check_bool(self, "self_deaf", self.self_deaf)

    def to_payload(self) -> dict[str, Any]:
        return {
            "guild_id": str(self.guild_id),
            "channel_id": None if self.channel_id is None else str(self.channel_id),
            "self_mute": self.self_mute,
            "self_deaf": self.self_deaf,
        }


@dataclass(frozen=True, slots=True, repr=False)
class RequestSoundboardSounds(Command):
    """Op 31: ask for the soundboard sounds of some guilds (§9.2).

    Example::

        >>> RequestSoundboardSounds([613425648685547541, "81384788765712384"]).to_payload()
        {'guild_ids': ['613425648685547541', '81384788765712384']}
    """

    op: ClassVar[OpCode] = OpCode.REQUEST_SOUNDBOARD_SOUNDS
    guild_ids: Iterable[int | str]

    def __post_init__(self) -> None:
        _set(self, "guild_ids", _snowflakes(self, "guild_ids", self.guild_ids))

    def to_payload(self) -> dict[str, Any]:
        return {"guild_ids": [str(i) for i in self.guild_ids]}


@dataclass(frozen=True, slots=True, repr=False)
class RequestChannelInfo(Command):
    """Op 43: ask for ephemeral channel data of a guild (§9.3).

    Example::

        >>> RequestChannelInfo(613425648685547541, ["status"]).to_payload()
        {'guild_id': '613425648685547541', 'fields': ['status']}
    """

    op: ClassVar[OpCode] = OpCode.REQUEST_CHANNEL_INFO
    guild_id: int | str
    fields: Iterable[str] = ("status", "voice_start_time")

    def __post_init__(self) -> None:
        _set(self, "guild_id", _snowflake(self, "guild_id", self.guild_id))
        if isinstance(self.fields, (str, bytes)) or not isinstance(self.fields, Iterable):
            raise TypeError("RequestChannelInfo.fields must be a list of field names, not a single string")
        wanted = tuple(dict.fromkeys(self.fields))  # unique, in order
        if not wanted:
            raise ValueError(f"RequestChannelInfo.fields must name at least one of {sorted(CHANNEL_INFO_FIELDS)}")
        for name in wanted:
            if name not in CHANNEL_INFO_FIELDS:
                raise ValueError(f"RequestChannelInfo.fields may only hold {sorted(CHANNEL_INFO_FIELDS)}, got {name!r}")
        _set(self, "fields", wanted)

    def to_payload(self) -> dict[str, Any]:
        return {"guild_id": str(self.guild_id), "fields": list(self.fields)}


#: The commands a user sends through a shard. Identify, Resume and Heartbeat are the
#: shard's own (twilight seals its ``Command`` trait the same way).
USER_COMMANDS: tuple[type[Command], ...] = (
    UpdatePresence,
    UpdateVoiceState,
    RequestGuildMembers,
    RequestSoundboardSounds,
    RequestChannelInfo,
)
