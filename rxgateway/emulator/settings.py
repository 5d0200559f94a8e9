"""The emulator's settings: every number it uses, named, with the reason beside it.

Defaults are Discord's documented values (GATEWAY.md) where there is one, and the
**[EMU]** choices of GATEWAY.md where there is not. Tests shrink the windows. The
default fault cycle lives with the faults (:data:`.faults.DEFAULT_DISPATCH_FAULTS`).
A *client's* settings are :class:`rxgateway.Config`.

Example::

    >>> fast = EmulatorConfig(heartbeat_interval_ms=200, identify_window_s=0.2)
    >>> fast.heartbeat_timeout_s
    0.3
"""

from __future__ import annotations

import base64
import os
from dataclasses import dataclass

from ..protocol import CloseCode
from .faults import DEFAULT_DISPATCH_FAULTS, Fault

#: Bind to loopback only unless told otherwise: the control API injects faults.
LOOPBACK = "127.0.0.1"
#: Port 0 asks the OS for a free port.
ANY_FREE_PORT = 0
#: The bot user id behind the default token (a snowflake from 2021-03-01).
DEFAULT_BOT_ID = 815735085465731072
#: A token that *looks* real (``base64(bot id).timestamp.hmac``): hikari's GatewayBot
#: parses the bot id out of the first part (peers.md §3).
DEFAULT_TOKEN = base64.b64encode(str(DEFAULT_BOT_ID).encode()).decode().rstrip("=") + ".emulator.token"
#: Commonly observed real interval (GATEWAY.md §3.2); tests use a few hundred ms.
DEFAULT_HEARTBEAT_INTERVAL_MS = 41_250
#: A client is late once ``interval x 1.5`` passed without a heartbeat (§3.3 [EMU]):
#: the first beat comes after ``interval x jitter`` with jitter < 1, so 1.5 leaves half
#: an interval of grace.
HEARTBEAT_TIMEOUT_FACTOR = 1.5
#: Gateway versions the real gateway still serves (§1.2: 9 and 10 are available).
SUPPORTED_VERSIONS = frozenset({9, 10})
#: The version used when ``v`` is absent (§1.2: the docs still name 6, which is deprecated).
DEFAULT_GATEWAY_VERSION = 6
#: How long a dropped session can be resumed (§3.9 [EMU]: "a few minutes", default 120 s).
RESUME_WINDOW_S = 120.0
#: Dispatches kept per session for replay. Bounded so a 1M-event burst does not hold
#: gigabytes; a Resume from further back gets op 9 d:false. Large enough for the
#: backlog of a long outage (tens of thousands of events); ``None`` keeps everything.
REPLAY_BUFFER_LENGTH = 50_000
#: 120 client payloads per 60 s per connection, heartbeats included (§5.1).
PAYLOAD_LIMIT = 120
PAYLOAD_WINDOW_S = 60.0
#: Each ``shard_id % max_concurrency`` key may identify once per 5 s (§5.3).
IDENTIFY_WINDOW_S = 5.0
#: Session starts per day (§5.2) and the length of that day.
SESSION_START_TOTAL = 1000
SESSION_START_WINDOW_S = 86_400.0
#: Guilds one shard may hold before Identify is closed with 4011 (§6.1).
MAX_GUILDS_PER_SHARD = 2500
#: Application flags of the emulated app (§3.5): all three privileged intents enabled,
#: so a bot asking for them works unless a test takes the flags away.
GATEWAY_PRESENCE = 1 << 12
GATEWAY_PRESENCE_LIMITED = 1 << 13
GATEWAY_GUILD_MEMBERS = 1 << 14
GATEWAY_GUILD_MEMBERS_LIMITED = 1 << 15
GATEWAY_MESSAGE_CONTENT = 1 << 18
GATEWAY_MESSAGE_CONTENT_LIMITED = 1 << 19
DEFAULT_APPLICATION_FLAGS = GATEWAY_PRESENCE | GATEWAY_GUILD_MEMBERS | GATEWAY_MESSAGE_CONTENT
#: After op 7 the server closes "a few seconds" later (§3.7 [EMU]: 2 s, then 4000).
RECONNECT_CLOSE_DELAY_S = 2.0
#: After op 9 the socket stays open briefly (§3.8 [EMU]) so a client may still Identify.
INVALID_SESSION_CLOSE_DELAY_S = 2.0
#: The close code used after op 7 / op 9 and for a late heartbeat: resumable (§4.1).
SERVER_CLOSE_CODE = int(CloseCode.UNKNOWN_ERROR)
#: Request Guild Members for all members: once per guild per 30 s (§5.4).
MEMBERS_REQUEST_WINDOW_S = 30.0
#: Presence updates: 5 per 20 s (§5.4); the emulator ignores and records the extra ones.
PRESENCE_LIMIT = 5
PRESENCE_WINDOW_S = 20.0
#: zlib level 1: the emulator must outrun the client (peers.md §8); a client's inflate
#: cost barely depends on the level, the deflate cost halves from level 6.
ZLIB_LEVEL = 1
#: zstd level 1 with a 256 KiB window: ~0.1 ms to set up per connection instead of
#: ~3.5 ms at level 3 (measured), and a 256 KiB rather than 2 MiB client window.
ZSTD_LEVEL = 1
ZSTD_WINDOW_LOG = 18
#: The emulated world: guild count and members per guild (GUILD_CREATE sizes).
DEFAULT_GUILDS = 10
DEFAULT_MEMBERS_PER_GUILD = 25
#: Members of each "large" guild: about 3-4 MB of GUILD_CREATE with presences on.
LARGE_GUILD_MEMBERS = 10_000
#: Payloads over 1 KiB are zlib-compressed for a client that sent ``compress: true`` (§7.3).
PAYLOAD_COMPRESSION_THRESHOLD = 1024
#: A replayed recording goes at its recorded pace unless told otherwise.
DEFAULT_REPLAY_SPEED = 1.0
#: Replay routing: by recorded shard when the shard counts match, else by guild.
DEFAULT_REPLAY_ROUTE = "auto"


@dataclass(frozen=True, slots=True)
class EmulatorConfig:
    """Everything a :class:`~rxgateway.emulator.GatewayEmulator` can be told.

    Times are seconds unless the name says ``_ms``. Change one field with
    ``dataclasses.replace`` or pass keywords to ``GatewayEmulator(...)``.

    Example::

        config = EmulatorConfig(tokens=("a", "b"), shards=4, max_concurrency=2)
    """

    host: str = LOOPBACK
    port: int = ANY_FREE_PORT
    #: Valid bot tokens; each is its own bot with its own session-start budget.
    tokens: tuple[str, ...] = (DEFAULT_TOKEN,)
    #: The recommended shard count returned by ``GET /gateway/bot``.
    shards: int = 1
    max_concurrency: int = 1
    heartbeat_interval_ms: int = DEFAULT_HEARTBEAT_INTERVAL_MS
    #: False: never ACK a heartbeat (every connection is a zombie, peers.md §5.8).
    ack_heartbeats: bool = True
    #: ``None`` disables closing connections that stop heartbeating.
    heartbeat_timeout_factor: float | None = HEARTBEAT_TIMEOUT_FACTOR
    heartbeat_timeout_close_code: int = SERVER_CLOSE_CODE
    versions: frozenset[int] = SUPPORTED_VERSIONS
    resume_window_s: float = RESUME_WINDOW_S
    #: Dispatches each session keeps for Resume; ``None``: unbounded.
    replay_buffer_length: int | None = REPLAY_BUFFER_LENGTH
    payload_limit: int = PAYLOAD_LIMIT
    payload_window_s: float = PAYLOAD_WINDOW_S
    identify_window_s: float = IDENTIFY_WINDOW_S
    session_start_total: int = SESSION_START_TOTAL
    session_start_window_s: float = SESSION_START_WINDOW_S
    max_guilds_per_shard: int = MAX_GUILDS_PER_SHARD
    #: Large-bot sharding (§6.3): ``num_shards`` must be a multiple of this (else 4010).
    shard_multiple: int = 1
    application_flags: int = DEFAULT_APPLICATION_FLAGS
    reconnect_close_delay_s: float = RECONNECT_CLOSE_DELAY_S
    invalid_session_close_delay_s: float = INVALID_SESSION_CLOSE_DELAY_S
    server_close_code: int = SERVER_CLOSE_CODE
    members_request_window_s: float = MEMBERS_REQUEST_WINDOW_S
    presence_limit: int = PRESENCE_LIMIT
    presence_window_s: float = PRESENCE_WINDOW_S
    #: Seed of the world (guild ids, members) and of the traffic.
    seed: int = 0
    guilds: int = DEFAULT_GUILDS
    members_per_guild: int = DEFAULT_MEMBERS_PER_GUILD
    #: The first ``large_guilds`` guilds get ``large_guild_members`` members each.
    large_guilds: int = 0
    large_guild_members: int = LARGE_GUILD_MEMBERS
    zlib_level: int = ZLIB_LEVEL
    #: Split every zlib-stream message longer than this over several websocket frames
    #: (tests the client's buffering, §7.1); ``None`` sends one frame per payload.
    zlib_split_bytes: int | None = None
    zstd_level: int = ZSTD_LEVEL
    zstd_window_log: int = ZSTD_WINDOW_LOG
    payload_compression_threshold: int = PAYLOAD_COMPRESSION_THRESHOLD
    #: Chaos: the probability that a generated or injected dispatch is delivered twice.
    duplicate_rate: float = 0.0
    #: Faults by dispatch count: on every connection, each time this many more dispatch
    #: frames have been written to its socket, apply the next of ``dispatch_faults``
    #: (see :class:`~rxgateway.emulator.faults.DispatchFaultPlan`); ``None``: off.
    fault_every_dispatches: int | None = None
    #: The faults ``fault_every_dispatches`` cycles through, as :class:`Fault` objects or
    #: ``KIND[:ARG]`` strings (``"close:4000"``, ``"invalid_session:true"``).
    dispatch_faults: tuple[Fault | str, ...] = DEFAULT_DISPATCH_FAULTS
    #: Add ``"emu_sent_ns": time.perf_counter_ns()`` to every generated dispatch ``d``.
    stamp: bool = False
    #: A recording (``rxgateway run --record``) to serve to every session after its
    #: READY (see :mod:`.playback`); ``None``: no replay.
    replay: str | os.PathLike[str] | None = None
    #: The replay's pace: 1.0 as recorded, 2.0 twice as fast, ``None`` as fast as
    #: the client reads.
    replay_speed: float | None = DEFAULT_REPLAY_SPEED
    #: ``"auto"``, ``"shard"`` or ``"guild"``: which recorded dispatches a session gets.
    replay_route: str = DEFAULT_REPLAY_ROUTE

    @property
    def heartbeat_interval_s(self) -> float:
        return self.heartbeat_interval_ms / 1000

    @property
    def heartbeat_timeout_s(self) -> float | None:
        """How long a connection may go without a heartbeat, or ``None`` for ever."""
        if self.heartbeat_timeout_factor is None:
            return None
        return round(self.heartbeat_interval_s * self.heartbeat_timeout_factor, 9)
