"""The sans-I/O shard: state machine, heartbeats, ratelimiter, session, latency,
backoff and inflaters. Nothing here touches a socket, a task or a clock."""

from .backoff import BACKOFF_CAP, backoff_delay, invalid_session_delay
from .heartbeat import HEARTBEAT_PHASES, beat_time
from .inflate import COMPRESSIONS, Inflater, ZlibStreamInflater, ZstdStreamInflater, make_inflater
from .latency import Latency
from .outputs import (
    Action,
    CancelIdentify,
    Close,
    Closed,
    Connect,
    Drop,
    Fatal,
    Output,
    Problem,
    Received,
    ReceiveError,
    RequestIdentify,
    Send,
    StateChanged,
)
from .phase import PHASE_MOVES, Phase
from .ratelimiter import CommandRatelimiter
from .session import Session
from .shard_machine import HELLO_TIMEOUT, MAX_PAYLOAD_BYTES, Pending, ShardMachine
from .state import ShardState, StateKind

__all__ = [
    "BACKOFF_CAP",
    "COMPRESSIONS",
    "HEARTBEAT_PHASES",
    "HELLO_TIMEOUT",
    "MAX_PAYLOAD_BYTES",
    "PHASE_MOVES",
    "Action",
    "CancelIdentify",
    "Close",
    "Closed",
    "CommandRatelimiter",
    "Connect",
    "Drop",
    "Fatal",
    "Inflater",
    "Latency",
    "Output",
    "Pending",
    "Phase",
    "Problem",
    "Received",
    "ReceiveError",
    "RequestIdentify",
    "Send",
    "Session",
    "ShardMachine",
    "ShardState",
    "StateChanged",
    "StateKind",
    "ZlibStreamInflater",
    "ZstdStreamInflater",
    "backoff_delay",
    "beat_time",
    "invalid_session_delay",
]
