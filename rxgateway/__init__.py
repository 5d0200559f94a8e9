"""rxgateway: Discord gateway connections as ReactiveX observables.

Example::

    from rxgateway import Config, Intents, EventTypeFlags, create_recommended, ops

    config = Config(token, Intents.GUILD_MESSAGES | Intents.MESSAGE_CONTENT)
    shards = await create_recommended(config)
    shards.pipe(ops.on(EventTypeFlags.MESSAGE_CREATE)).subscribe(print)
    async with shards:
        await shards.closed()

rxgateway ships a pytest plugin (:mod:`rxgateway.testing.plugin`), so pytest rewrites
the asserts of every rxgateway module it imports; this one is left alone
(PYTEST_DONT_REWRITE), so that ``dir(rxgateway)`` stays exactly the public API.
"""

from . import ops
from .config import DEFAULT_API_URL, DEFAULT_GATEWAY_URL, Config
from .errors import (
    AuthenticationError,
    CommandsNotSentError,
    CompressionError,
    ConnectError,
    DeserializationError,
    DisallowedIntentsError,
    FatalCloseError,
    GatewayError,
    HTTPError,
    IdentifyQueueError,
    PayloadTooLargeError,
    SendError,
    SessionStoreError,
    ShardClosedError,
    UnauthorizedError,
)
from .group import ShardGroup, bucket, create_iterator, create_range, create_recommended
from .http import GatewayBot, SessionStartLimit, get_gateway_bot
from .machine import Latency, Session, ShardState, StateKind
from .protocol import (
    CloseCode,
    CloseFrame,
    EventType,
    EventTypeFlags,
    Intents,
    OpCode,
    ShardId,
    shard_for_guild,
)
from .protocol.commands import (
    Activity,
    ActivityType,
    Command,
    RequestChannelInfo,
    RequestGuildMembers,
    RequestSoundboardSounds,
    Status,
    UpdatePresence,
    UpdateVoiceState,
)
from .audit import SequenceAudit
from .queue import InMemoryQueue, SessionQueue
from .record import Recorder, Recording, RecordingError, record
from .replay import Replay, replay
from .runner import Bot, run, run_async
from .sender import GroupSender, ShardSender
from .shard import Shard
from .stream import EventStream

from .store import FileSessionStore, MemorySessionStore, SessionRecord, SessionStore
from .cluster import Member, MemberSender, RedisQueue, RedisSessionStore
from .version import __version__

__all__ = [
    "DEFAULT_API_URL",
    "DEFAULT_GATEWAY_URL",
    "Activity",
    "ActivityType",
    "AuthenticationError",
    "Bot",
    "CloseCode",
    "CloseFrame",
    "Command",
    "CommandsNotSentError",
    "CompressionError",
    "Config",
    "ConnectError",
    "DeserializationError",
    "DisallowedIntentsError",
    "EventStream",
    "EventType",
    "EventTypeFlags",
    "FatalCloseError",
    "FileSessionStore",
    "GatewayBot",
    "GatewayError",
    "GroupSender",
    "HTTPError",
    "IdentifyQueueError",
    "InMemoryQueue",
    "Intents",
    "Latency",
    "Member",
    "MemberSender",
    "MemorySessionStore",
    "OpCode",
    "PayloadTooLargeError",
    "Recorder",
    "Recording",
    "RecordingError",
    "RedisQueue",
    "RedisSessionStore",
    "Replay",
    "RequestChannelInfo",
    "RequestGuildMembers",
    "RequestSoundboardSounds",
    "SendError",
    "SequenceAudit",
    "Session",
    "SessionQueue",
    "SessionRecord",
    "SessionStartLimit",
    "SessionStore",
    "SessionStoreError",
    "Shard",
    "ShardClosedError",
    "ShardGroup",
    "ShardId",
    "ShardSender",
    "ShardState",
    "StateKind",
    "Status",
    "UnauthorizedError",
    "UpdatePresence",
    "UpdateVoiceState",
    "bucket",
    "create_iterator",
    "create_range",
    "create_recommended",
    "get_gateway_bot",
    "ops",
    "record",
    "replay",
    "run",
    "run_async",
    "shard_for_guild",
]
