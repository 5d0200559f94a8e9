"""What a client may send, and the close code each mistake earns (GATEWAY.md §4.2, §9).

This file decides; it does no I/O. Every check either returns the parsed command or
raises :class:`Refusal`, which carries the close code and the violation to record.

The order of the checks on every payload:

1. larger than 4096 bytes, not JSON, or not an object → 4002;
2. before Identify/Resume, anything but op 1, 2 or 6 → 4003 (§4.1 note; an unknown op
   sent before identifying also gets 4003: "anything but");
3. an op a client may not send → 4001;
4. a ``d`` of the wrong shape for its op → 4001 (Identify's ``shard`` → 4010 and its
   ``intents`` → 4013 instead, as §4.2 says).

Example::

    >>> decode(b'{"op": 1, "d": null}')
    (1, None)
    >>> try:
    ...     decode(b"[1]")
    ... except Refusal as refusal:
    ...     refusal.code
    4002
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypeGuard

import orjson

from ..protocol import ALL_INTENTS, SENDABLE_OPCODES, CloseCode, Intents, OpCode, ShardId
from . import settings as cfg
from .journal import ViolationKind

#: The largest client payload (§11.3).
MAX_PAYLOAD_BYTES = 4096
#: Ops allowed before a session exists (§4.1 note).
UNAUTHENTICATED_OPS = frozenset({OpCode.HEARTBEAT, OpCode.IDENTIFY, OpCode.RESUME})
#: ``large_threshold`` bounds and default (§3.4).
LARGE_THRESHOLD_MIN = 50
LARGE_THRESHOLD_MAX = 250
LARGE_THRESHOLD_DEFAULT = 50
#: Statuses a client may set (§9.4).
PRESENCE_STATUSES = frozenset({"online", "dnd", "idle", "invisible", "offline"})
#: Fields Request Channel Info may ask for (§9.3).
CHANNEL_INFO_FIELDS = frozenset({"status", "voice_start_time"})
#: A Request Guild Members nonce longer than this is ignored (§9.1).
MAX_NONCE_BYTES = 32
#: Each privileged intent and the application flags that allow it (§3.5, §8.2).
PRIVILEGED_FLAGS = {
    Intents.GUILD_PRESENCES: cfg.GATEWAY_PRESENCE | cfg.GATEWAY_PRESENCE_LIMITED,
    Intents.GUILD_MEMBERS: cfg.GATEWAY_GUILD_MEMBERS | cfg.GATEWAY_GUILD_MEMBERS_LIMITED,
    Intents.MESSAGE_CONTENT: cfg.GATEWAY_MESSAGE_CONTENT | cfg.GATEWAY_MESSAGE_CONTENT_LIMITED,
}
#: The largest snowflake (64 bits, unsigned).
MAX_SNOWFLAKE = (1 << 64) - 1


class Refusal(Exception):
    """A payload broke a rule: close with ``code`` and record a ``kind`` violation."""

    def __init__(self, code: CloseCode, kind: ViolationKind, detail: str) -> None:
        super().__init__(detail)
        self.code = int(code)
        self.kind = kind
        self.detail = detail


def _invalid(detail: str) -> Refusal:
    return Refusal(CloseCode.UNKNOWN_OPCODE, ViolationKind.INVALID_PAYLOAD, detail)


@dataclass(frozen=True, slots=True)
class ParsedIdentify:
    """An Identify (op 2) that passed every check (§3.4)."""

    token: str
    intents: int
    shard: ShardId
    shard_sent: bool
    large_threshold: int
    compress: bool
    presence: dict[str, Any] | None
    #: What was accepted leniently (see :func:`parse_presence`), for the record.
    notes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ParsedResume:
    """A Resume (op 6) that passed every check (§3.6)."""

    token: str
    session_id: str
    seq: int


@dataclass(frozen=True, slots=True)
class RequestMembers:
    """A Request Guild Members (op 8) that passed every check (§9.1)."""

    guild_id: int
    query: str | None
    limit: int
    user_ids: tuple[str, ...] | None
    presences: bool
    nonce: str | None

    @property
    def wants_all(self) -> bool:
        """``query: ""`` with ``limit: 0``: every member (needs GUILD_MEMBERS, 1 per 30 s)."""
        return self.query == "" and self.limit == 0


@dataclass(frozen=True, slots=True)
class ParsedVoiceState:
    """An Update Voice State (op 4) that passed every check (§9.5)."""

    guild_id: int
    channel_id: int | None
    self_mute: bool
    self_deaf: bool


def decode(frame: bytes) -> tuple[int, Any]:
    """``(op, d)`` of a client frame, or :class:`Refusal` 4002 / 4001."""
    if len(frame) > MAX_PAYLOAD_BYTES:
        raise Refusal(CloseCode.DECODE_ERROR, ViolationKind.OVERSIZED_PAYLOAD, f"{len(frame)} bytes > 4096")
    try:
        payload = orjson.loads(frame)
    except orjson.JSONDecodeError as exc:
        raise Refusal(CloseCode.DECODE_ERROR, ViolationKind.DECODE_ERROR, f"not JSON: {exc}") from None
    if not isinstance(payload, dict):
        raise Refusal(CloseCode.DECODE_ERROR, ViolationKind.DECODE_ERROR, "payload is not an object")
    op = payload.get("op")
    if not _is_int(op):
        raise Refusal(CloseCode.UNKNOWN_OPCODE, ViolationKind.UNKNOWN_OPCODE, f"op {op!r} is not an integer")
    return op, payload.get("d")


def check_op(op: int, authenticated: bool) -> None:
    """Refuse an op sent before identifying (4003) or one clients may not send (4001)."""
    if not authenticated and op not in UNAUTHENTICATED_OPS:
        raise Refusal(CloseCode.NOT_AUTHENTICATED, ViolationKind.NOT_AUTHENTICATED, f"op {op} before Identify")
    if op not in SENDABLE_OPCODES:
        raise Refusal(CloseCode.UNKNOWN_OPCODE, ViolationKind.UNKNOWN_OPCODE, f"op {op} is not sendable")


def parse_heartbeat(d: Any) -> int | None:
    """The heartbeat's sequence: an integer or null."""
    if d is not None and not _is_int(d):
        raise _invalid(f"heartbeat d {d!r} is neither an integer nor null")
    return d


def parse_identify(d: Any, shard_multiple: int) -> ParsedIdentify:
    """An Identify's fields, checked as §3.4 and §4.2 say."""
    obj = _object(d, "identify")
    token = obj.get("token")
    if not isinstance(token, str):
        raise _invalid("identify token is not a string")
    if not isinstance(obj.get("properties"), dict):
        raise _invalid("identify properties is not an object")
    large_threshold = obj.get("large_threshold", LARGE_THRESHOLD_DEFAULT)
    if not _is_int(large_threshold) or not LARGE_THRESHOLD_MIN <= large_threshold <= LARGE_THRESHOLD_MAX:
        raise _invalid(f"large_threshold {large_threshold!r} is not in 50..250")
    compress = obj.get("compress", False)
    if not isinstance(compress, bool):
        raise _invalid("identify compress is not a boolean")
    presence = obj.get("presence")
    notes: list[str] = []
    if presence is not None:
        presence = parse_presence(presence, notes)
    return ParsedIdentify(
        token=token,
        intents=_intents(obj.get("intents")),
        shard=_shard(obj.get("shard", [0, 1]), shard_multiple),
        shard_sent="shard" in obj,
        large_threshold=large_threshold,
        compress=compress,
        presence=presence,
        notes=tuple(notes),
    )


def check_privileged(intents: int, application_flags: int) -> None:
    """4014 if a privileged intent is asked for without its application flag."""
    for intent, flags in PRIVILEGED_FLAGS.items():
        if intents & intent and not application_flags & flags:
            raise Refusal(
                CloseCode.DISALLOWED_INTENTS, ViolationKind.DISALLOWED_INTENTS, f"{intent.name} is not enabled"
            )


def parse_resume(d: Any) -> ParsedResume:
    obj = _object(d, "resume")
    token, session_id, seq = obj.get("token"), obj.get("session_id"), obj.get("seq")
    if not isinstance(token, str) or not isinstance(session_id, str):
        raise _invalid("resume token and session_id must be strings")
    if not _is_int(seq) or seq < 0:
        raise _invalid(f"resume seq {seq!r} is not a non-negative integer")
    return ParsedResume(token, session_id, seq)


def parse_presence(d: Any, notes: list[str] | None = None) -> dict[str, Any]:
    """An Update Presence (§9.4): ``since``, ``activities``, ``status``, ``afk``.

    Returns the presence as the emulator reads it. What Discord accepts but §9.4 does
    not describe is accepted and explained in ``notes`` (when given) instead of being
    refused: the legacy ``game`` key (one activity or ``null``; hikari always sends it,
    discord.py in Identify), no ``activities`` at all (none), a ``null`` status
    (discord.py with an activity and no status: ``online``) and a ``since`` that is a
    whole float (discord.py's ``0.0``). Shapes §9.4 does describe stay refused (4001).
    """
    obj = _object(d, "presence")
    said = notes if notes is not None else []
    since = obj.get("since")
    if isinstance(since, float) and since.is_integer() and since >= 0:
        said.append(f"presence since {since!r} is a float; read as {int(since)}")
        since = int(since)
    if since is not None and not _is_int(since):
        raise _invalid("presence since is neither an integer nor null")
    activities = obj.get("activities")
    if "game" in obj:
        game = obj["game"]
        if game is not None and not _is_activity(game):
            raise _invalid("presence game must be null or a {name, type} object")
        if activities is None:
            activities = [] if game is None else [game]
            said.append("presence uses the legacy 'game' key; read as its activities")
        else:
            said.append("presence sends both 'game' and 'activities'; 'game' ignored")
    elif activities is None and "activities" not in obj:
        activities = []
        said.append("presence has no 'activities'; read as none")
    if not isinstance(activities, list) or not all(_is_activity(a) for a in activities):
        raise _invalid("presence activities must be a list of {name, type} objects")
    status = obj.get("status")
    if status is None:
        status = "online"
        said.append("presence status is null; read as 'online'")
    if status not in PRESENCE_STATUSES:
        raise _invalid(f"presence status {status!r} is unknown")
    if not isinstance(obj.get("afk"), bool):
        raise _invalid("presence afk is not a boolean")
    return {**obj, "since": since, "activities": activities, "status": status}


def parse_voice_state(d: Any) -> ParsedVoiceState:
    """An Update Voice State (§9.5)."""
    obj = _object(d, "voice state")
    channel_id = obj.get("channel_id")
    mute, deaf = obj.get("self_mute"), obj.get("self_deaf")
    if not isinstance(mute, bool) or not isinstance(deaf, bool):
        raise _invalid("self_mute and self_deaf must be booleans")
    return ParsedVoiceState(
        _snowflake(obj.get("guild_id"), "guild_id"),
        None if channel_id is None else _snowflake(channel_id, "channel_id"),
        mute,
        deaf,
    )


def parse_request_members(d: Any) -> RequestMembers:
    """A Request Guild Members (§9.1): one guild, ``query`` + ``limit`` or ``user_ids``."""
    obj = _object(d, "request guild members")
    guild_id = _snowflake(obj.get("guild_id"), "guild_id")
    query, limit, user_ids = obj.get("query"), obj.get("limit"), obj.get("user_ids")
    if (query is None) == (user_ids is None):
        raise _invalid("request guild members needs exactly one of query and user_ids")
    if query is not None and (not isinstance(query, str) or not _is_int(limit) or limit < 0):
        raise _invalid("query must be a string and limit a non-negative integer")
    ids: tuple[str, ...] | None = None
    if user_ids is not None:
        listed = user_ids if isinstance(user_ids, list) else [user_ids]
        for uid in listed:
            _snowflake(uid, "user_ids")
        ids = tuple(str(uid) for uid in listed)
    presences = obj.get("presences", False)
    if not isinstance(presences, bool):
        raise _invalid("presences is not a boolean")
    nonce = obj.get("nonce")
    if nonce is not None and not isinstance(nonce, str):
        raise _invalid("nonce is not a string")
    if nonce is not None and len(nonce.encode()) > MAX_NONCE_BYTES:
        nonce = None  # "an invalid nonce is ignored" (§9.1)
    return RequestMembers(guild_id, query, limit if _is_int(limit) else 0, ids, presences, nonce)


def parse_soundboard(d: Any) -> list[int]:
    """The guild ids of a Request Soundboard Sounds (§9.2)."""
    guild_ids = _object(d, "request soundboard sounds").get("guild_ids")
    if not isinstance(guild_ids, list):
        raise _invalid("guild_ids is not a list")
    return [_snowflake(g, "guild_ids") for g in guild_ids]


def parse_channel_info(d: Any) -> tuple[int, list[str]]:
    """The guild and fields of a Request Channel Info (§9.3)."""
    obj = _object(d, "request channel info")
    fields = obj.get("fields")
    if not isinstance(fields, list) or not set(fields) <= CHANNEL_INFO_FIELDS:
        raise _invalid(f"fields must be a list drawn from {sorted(CHANNEL_INFO_FIELDS)}")
    return _snowflake(obj.get("guild_id"), "guild_id"), fields


def _is_int(value: Any) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def _object(d: Any, what: str) -> dict[str, Any]:
    if not isinstance(d, dict):
        raise _invalid(f"{what} d is not an object")
    return d


def _is_activity(activity: Any) -> bool:
    return isinstance(activity, dict) and isinstance(activity.get("name"), str) and _is_int(activity.get("type"))


def _snowflake(value: Any, name: str) -> int:
    """A snowflake sent as a digit string (or, tolerated, an integer)."""
    if isinstance(value, str) and value.isdigit():
        number = int(value)
    elif _is_int(value):
        number = value
    else:
        raise _invalid(f"{name} {value!r} is not a snowflake")
    if not 0 <= number <= MAX_SNOWFLAKE:
        raise _invalid(f"{name} {value!r} is out of range")
    return number


def _intents(value: Any) -> int:
    """4013 for intents that are missing, not an integer, or have undocumented bits."""
    if not _is_int(value) or value < 0 or value & ~ALL_INTENTS:
        raise Refusal(CloseCode.INVALID_INTENTS, ViolationKind.INVALID_INTENTS, f"intents {value!r} are invalid")
    return int(value)


def _shard(value: Any, shard_multiple: int) -> ShardId:
    """4010 for a malformed shard, ``shard_id`` out of range, or a count not a multiple."""
    if not (isinstance(value, list) and len(value) == 2 and all(_is_int(v) for v in value)):
        raise Refusal(CloseCode.INVALID_SHARD, ViolationKind.INVALID_SHARD, f"shard {value!r} is malformed")
    number, total = value
    if total < 1 or not 0 <= number < total or total % shard_multiple:
        raise Refusal(CloseCode.INVALID_SHARD, ViolationKind.INVALID_SHARD, f"shard {value!r} is invalid")
    return ShardId(number, total)

