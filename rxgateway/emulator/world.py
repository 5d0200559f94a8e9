"""The emulated bot's world: its guilds, their channels, roles and members.

Everything is derived from a seed, so two emulators with the same seed hold the same
guild ids and the same members. Members of a guild are made the first time they are
needed (a 10,000-member guild costs nothing until a GUILD_CREATE or a member request).

Example::

    >>> world = World(seed=1, guild_count=3, members_per_guild=5)
    >>> [g.id for g in world.guilds] == [g.id for g in World(seed=1, guild_count=3, members_per_guild=5).guilds]
    True
    >>> len(world.members(world.guilds[0]))
    5
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from ..protocol import ShardId, shard_for_guild, snowflake_from_time_ms

#: Guilds, members and roles are made at random times in [2016-01-01, 2024-01-01):
#: the time bits of a snowflake decide its shard, so this spreads guilds over shards.
WORLD_START_MS = 1_451_606_400_000
WORLD_SPAN_MS = 8 * 365 * 86_400_000
#: Names users are made from (with a number appended): prefixes for member queries.
FIRST_NAMES = (
    "alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy",
    "mallory", "niaj", "olivia", "peggy", "rupert", "sybil", "trent", "victor", "walter", "zoe",
)  # fmt: skip
#: How a member's status is drawn: most members are offline, as on a real server.
STATUSES = ("online", "idle", "dnd", "offline")
STATUS_WEIGHTS = (30, 10, 5, 55)
#: Channel layout of every guild: (name, channel type) - text, text, voice, stage.
CHANNEL_LAYOUT = (("general", 0), ("random", 0), ("Voice", 2), ("Stage", 13))
#: Roles besides @everyone.
ROLE_NAMES = ("Moderator", "Member")


@dataclass(frozen=True, slots=True)
class Person:
    """A user who is a member of a guild."""

    id: int
    username: str
    global_name: str | None
    joined_ms: int
    status: str
    role_ids: tuple[int, ...] = ()
    bot: bool = False
    discriminator: str = "0"


@dataclass(frozen=True, slots=True)
class GuildChannel:
    """A channel of a guild of the world (one of :data:`CHANNEL_LAYOUT`)."""

    id: int
    type: int
    name: str
    position: int
    guild_id: int


@dataclass(slots=True)
class Guild:
    """A guild of the world. ``members`` is filled by :meth:`World.members`."""

    id: int
    name: str
    owner_id: int
    member_count: int
    channels: tuple[GuildChannel, ...]
    role_ids: tuple[int, ...]
    seed: int
    members: list[Person] | None = field(default=None, repr=False)
    text_channels: tuple[GuildChannel, ...] = field(init=False, repr=False)
    voice_channels: tuple[GuildChannel, ...] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.text_channels = tuple(c for c in self.channels if c.type == 0)
        self.voice_channels = tuple(c for c in self.channels if c.type in (2, 13))


class World:
    """The guilds every bot of the emulator is in, made from ``seed``."""

    def __init__(
        self,
        seed: int,
        guild_count: int,
        members_per_guild: int,
        large_guilds: int = 0,
        large_guild_members: int = 0,
    ) -> None:
        rng = random.Random(f"world-{seed}")
        self.guilds: list[Guild] = []
        taken: set[int] = set()
        for index in range(guild_count):
            guild_id = _snowflake(rng, taken)
            count = large_guild_members if index < large_guilds else members_per_guild
            channels = tuple(
                GuildChannel(_snowflake(rng, taken), kind, name, position, guild_id)
                for position, (name, kind) in enumerate(CHANNEL_LAYOUT)
            )
            roles = (guild_id, *(_snowflake(rng, taken) for _ in ROLE_NAMES))
            self.guilds.append(
                Guild(guild_id, f"Emulated Guild {index}", 0, count, channels, roles, rng.getrandbits(32))
            )
        self.by_id = {g.id: g for g in self.guilds}
        self.channels = {c.id: c for g in self.guilds for c in g.channels}
        for guild in self.guilds:
            # The owner is the first member made from the guild's seed (see _make_members).
            guild.owner_id = _make_person(_member_rng(guild), guild, 0, set()).id

    def guilds_of(self, shard: ShardId) -> list[Guild]:
        """The guilds whose events go to ``shard`` (§6.1)."""
        return [g for g in self.guilds if shard_for_guild(g.id, shard.total) == shard.number]

    def members(self, guild: Guild) -> list[Person]:
        """The human members of ``guild`` (the bot is not among them), made once."""
        if guild.members is None:
            guild.members = _make_members(guild)
        return guild.members


def _snowflake(rng: random.Random, taken: set[int]) -> int:
    while True:
        value = snowflake_from_time_ms(
            WORLD_START_MS + rng.randrange(WORLD_SPAN_MS), worker=rng.randrange(32), increment=rng.randrange(4096)
        )
        if value not in taken:
            taken.add(value)
            return value


def _member_rng(guild: Guild) -> random.Random:
    return random.Random(f"members-{guild.seed}")


def _make_person(rng: random.Random, guild: Guild, index: int, taken: set[int]) -> Person:
    name = rng.choice(FIRST_NAMES)
    roles = tuple(r for r in guild.role_ids[1:] if rng.random() < 0.3)
    return Person(
        id=_snowflake(rng, taken),
        username=f"{name}{index}",
        global_name=name.title() if rng.random() < 0.8 else None,
        joined_ms=WORLD_START_MS + rng.randrange(WORLD_SPAN_MS),
        status=rng.choices(STATUSES, STATUS_WEIGHTS)[0],
        role_ids=roles,
    )


def _make_members(guild: Guild) -> list[Person]:
    rng = _member_rng(guild)
    taken: set[int] = set()
    return [_make_person(rng, guild, index, taken) for index in range(guild.member_count)]
