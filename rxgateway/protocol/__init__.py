"""Pure protocol data: opcodes, close codes, intents, event types and flags, shard ids,
snowflakes, outgoing commands and the envelope reader. Nothing here does I/O."""

from .close import FATAL_CLOSE_CODES, CloseAction, CloseCode, CloseFrame, close_action
from .commands import (
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
from .envelope import Envelope, event_bit, read_envelope
from .event_type import EventType, EventTypeFlags
from .intents import ALL_INTENTS, PRIVILEGED_INTENTS, Intents, validate_intents
from .opcode import SENDABLE_OPCODES, OpCode
from .shard_id import (
    DISCORD_EPOCH_MS,
    ShardId,
    shard_for_guild,
    snowflake_from_time_ms,
    snowflake_time_ms,
)

__all__ = [
    "ALL_INTENTS",
    "DISCORD_EPOCH_MS",
    "FATAL_CLOSE_CODES",
    "PRIVILEGED_INTENTS",
    "SENDABLE_OPCODES",
    "CloseAction",
    "CloseCode",
    "CloseFrame",
    "EventType",
    "EventTypeFlags",
    "Intents",
    "OpCode",
    "ShardId",
    "close_action",
    "shard_for_guild",
    "snowflake_from_time_ms",
    "snowflake_time_ms",
    "validate_intents",
    # outgoing commands
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
    # the envelope reader
    "Envelope",
    "event_bit",
    "read_envelope",
]
