"""The traffic generator: a deterministic stream of realistic dispatches for a seed,
drawn from a mix of categories (see :data:`~rxgateway.emulator.payloads.CATEGORIES`).

A mix is ``"category=weight,…"``; ``"all"`` weighs every category equally. Within a
category, events follow the category's own weights (MESSAGE_CREATE is more common than
MESSAGE_DELETE_BULK). Same seed, same mix, same world → the same bytes.

Example::

    >>> world = World(seed=7, guild_count=2, members_per_guild=5)
    >>> bot = Person(1, "bot", None, 0, "online", bot=True)
    >>> a = TrafficGenerator(world, bot, seed=7, mix="messages=1")
    >>> b = TrafficGenerator(world, bot, seed=7, mix="messages=1")
    >>> [d.data for d in a.take(3)] == [d.data for d in b.take(3)]
    True
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Mapping, Sequence

from ..protocol import snowflake_from_time_ms
from .dispatch import GUILD_ITSELF, OutgoingDispatch
from .payloads import BUILDERS, CATEGORIES, Scene
from .world import Guild, Person, World

#: The default mix, close to what a busy bot with presences sees (peers.md §5.5b).
DEFAULT_MIX = "messages=50,presences=30,typing=20"
#: Traffic starts at 2025-07-01T12:00:00Z and the clock moves 1-20 ms per event.
TRAFFIC_START_MS = 1_751_371_200_000
MAX_STEP_MS = 20
#: :meth:`TrafficGenerator.make_in` redraws a DM event this often before accepting one
#: (10 % of messages are DMs, so 32 draws all being DMs is a 1e-32 chance).
GUILD_DRAWS = 32


def parse_mix(mix: str | Mapping[str, float]) -> dict[str, float]:
    """``"messages=50,typing=20"`` (or a mapping, or ``"all"``) as category → weight.

    Raises ``ValueError`` for an unknown category or a weight that is not positive.
    """
    if isinstance(mix, str):
        if mix.strip() == "all":
            return dict.fromkeys(CATEGORIES, 1.0)
        pairs = [part.split("=", 1) for part in mix.split(",") if part.strip()]
        try:
            mix = {name.strip(): float(weight) for name, weight in pairs}
        except ValueError:
            raise ValueError(f"a mix is 'category=weight,…', got {mix!r}") from None
    unknown = set(mix) - set(CATEGORIES)
    if unknown:
        raise ValueError(f"unknown traffic categories {sorted(unknown)}; known: {sorted(CATEGORIES)}")
    if not mix or any(w <= 0 for w in mix.values()):
        raise ValueError("a mix needs at least one category, every weight above 0")
    return dict(mix)


class TrafficGenerator:
    """Realistic dispatches for ``world``, deterministic for ``seed`` and ``mix``."""

    def __init__(self, world: World, bot: Person, seed: int, mix: str | Mapping[str, float] = DEFAULT_MIX) -> None:
        self._world = world
        self._bot = bot
        self._rng = random.Random(f"traffic-{seed}")
        self._now_ms = TRAFFIC_START_MS
        self._increment = 0
        self.mix = parse_mix(mix)
        names: list[str] = []
        weights: list[float] = []
        for category, weight in self.mix.items():
            events = CATEGORIES[category]
            total = sum(events.values())
            for name, share in events.items():
                names.append(name)
                weights.append(weight * share / total)
        self._names = names
        self._cum_weights = list(itertools.accumulate(weights))

    def next(self) -> OutgoingDispatch:
        """The next event of the mix."""
        name = self._rng.choices(self._names, cum_weights=self._cum_weights)[0]
        return self.make(name)

    def take(self, count: int) -> list[OutgoingDispatch]:
        """The next ``count`` events."""
        return [self.next() for _ in range(count)]

    def make(self, t: str, guilds: Sequence[Guild] | None = None) -> OutgoingDispatch:
        """One event named ``t`` (any name in :data:`~rxgateway.emulator.payloads.BUILDERS`),
        in one of ``guilds`` (default: any guild of the world) unless it happens in a DM."""
        rng = self._rng
        self._now_ms += rng.randint(1, MAX_STEP_MS)
        guild = rng.choice(guilds or self._world.guilds)
        members = self._world.members(guild)
        scene = Scene(
            rng=rng,
            bot=self._bot,
            guild=guild,
            channel=rng.choice(guild.text_channels),
            person=rng.choice(members) if members else self._bot,
            now_ms=self._now_ms,
            next_increment=self._increment,
        )
        d = BUILDERS[t](scene)
        self._increment = scene.next_increment
        return OutgoingDispatch.build(t, d)

    def make_in(self, t: str, guilds: Sequence[Guild]) -> OutgoingDispatch:
        """One event named ``t`` in one of ``guilds``: DM variants are redrawn (up to
        :data:`GUILD_DRAWS` times), so a guild-capable event always carries a
        ``guild_id``; events that never have a guild (USER_UPDATE, ...) come as they are."""
        dispatch = self.make(t, guilds)
        for _ in range(GUILD_DRAWS):
            if dispatch.obj.get("guild_id") is not None or t in GUILD_ITSELF:
                break
            dispatch = self.make(t, guilds)
        return dispatch

    def renew(self, dispatch: OutgoingDispatch) -> OutgoingDispatch:
        """A copy of ``dispatch`` whose top-level ``id`` is a fresh snowflake (the
        generator's clock moves 1 ms per 4096 ids), for cheap distinct events: ``*_CREATE``
        events other than GUILD_CREATE only; any other dispatch is returned as is."""
        t = dispatch.t
        if not t.endswith("_CREATE") or t in GUILD_ITSELF or "id" not in dispatch.obj:
            return dispatch
        self._increment = (self._increment + 1) % 4096
        if self._increment == 0:
            self._now_ms += 1
        fresh_id = snowflake_from_time_ms(self._now_ms, increment=self._increment)
        return OutgoingDispatch.build(t, {**dispatch.obj, "id": str(fresh_id)})
