"""Shard ids (GATEWAY.md §6) and snowflakes (§11.4).

Example::

    >>> ShardId(0, 2)
    ShardId(0, 2)
    >>> shard_for_guild(981346340049125376, 2)
    1
    >>> snowflake_time_ms(175928847299117063)
    1462015105796
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

#: Discord's epoch, 2015-01-01T00:00:00Z, in unix milliseconds.
DISCORD_EPOCH_MS = 1420070400000

#: The largest shard count: the largest integer every JSON reader holds exactly
#: (RFC 8259 §6: IEEE 754 doubles), far above any real bot's.
MAX_TOTAL = 2**53


@dataclass(frozen=True, slots=True, order=False)
class ShardId:
    """``[number, total]`` as sent in Identify; ``0 <= number < total``.

    Example::

        >>> ShardId(3, 4).to_list()
        [3, 4]
    """

    number: int
    total: int

    ONE: ClassVar[ShardId]

    def __post_init__(self) -> None:
        for name in ("number", "total"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int):
                raise TypeError(f"ShardId.{name} must be an int, got {type(value).__name__}")
        if self.total < 1:
            raise ValueError(f"ShardId total must be at least 1, got {self.total}")
        if self.total > MAX_TOTAL:
            raise ValueError(f"ShardId total (the shard count) must be at most 2**53, got {self.total}")
        if not 0 <= self.number < self.total:
            raise ValueError(f"ShardId number must be in 0..{self.total - 1}, got {self.number}")

    def __repr__(self) -> str:
        return f"ShardId({self.number}, {self.total})"

    def __str__(self) -> str:
        return f"[{self.number}, {self.total}]"

    def to_list(self) -> list[int]:
        """The ``shard`` array of Identify."""
        return [self.number, self.total]

    def bucket(self, max_concurrency: int) -> int:
        """The identify rate-limit key ``number % max_concurrency`` (GATEWAY.md §5.3)."""
        if max_concurrency < 1:
            raise ValueError("max_concurrency must be at least 1")
        return self.number % max_concurrency

    def owns_guild(self, guild_id: int | str) -> bool:
        """Whether guild events for ``guild_id`` are routed to this shard."""
        return shard_for_guild(guild_id, self.total) == self.number


ShardId.ONE = ShardId(0, 1)


def shard_for_guild(guild_id: int | str, total: int) -> int:
    """The shard number that receives events of ``guild_id``: ``(guild_id >> 22) % total``."""
    if total < 1:
        raise ValueError(f"total must be at least 1, got {total}")
    return (int(guild_id) >> 22) % total


def snowflake_time_ms(snowflake: int | str) -> int:
    """The unix time in milliseconds at which ``snowflake`` was made."""
    return (int(snowflake) >> 22) + DISCORD_EPOCH_MS


def snowflake_from_time_ms(unix_ms: int, *, worker: int = 0, process: int = 0, increment: int = 0) -> int:
    """A snowflake for ``unix_ms`` (e.g. a pagination bound or an emulator id)."""
    if unix_ms < DISCORD_EPOCH_MS:
        raise ValueError("a snowflake cannot predate the Discord epoch (2015-01-01)")
    if not (0 <= worker < 32 and 0 <= process < 32 and 0 <= increment < 4096):
        raise ValueError("worker and process are 0..31, increment 0..4095")
    return ((unix_ms - DISCORD_EPOCH_MS) << 22) | (worker << 17) | (process << 12) | increment
