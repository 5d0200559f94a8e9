"""ShardId (GATEWAY.md §6) and snowflakes (§11.4)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rxgateway.protocol import (
    DISCORD_EPOCH_MS,
    ShardId,
    shard_for_guild,
    snowflake_from_time_ms,
    snowflake_time_ms,
)


def test_shard_id() -> None:
    shard = ShardId(3, 4)
    assert (shard.number, shard.total) == (3, 4)
    assert repr(shard) == "ShardId(3, 4)"
    assert str(shard) == "[3, 4]"
    assert shard.to_list() == [3, 4]
    assert ShardId.ONE == ShardId(0, 1)
    assert hash(ShardId(0, 2)) == hash(ShardId(0, 2))


@pytest.mark.parametrize(
    ("number", "total", "error"),
    [(1, 1, ValueError), (2, 2, ValueError), (-1, 2, ValueError), (0, 0, ValueError), (0, -1, ValueError),
     (True, 2, TypeError), (0, 2.0, TypeError), ("0", 1, TypeError), (None, 1, TypeError)],
)
def test_shard_id_rules(number: Any, total: Any, error: type[Exception]) -> None:
    with pytest.raises(error, match="ShardId"):
        ShardId(number, total)


def test_bucket() -> None:
    assert ShardId(5, 16).bucket(4) == 1
    assert ShardId(5, 16).bucket(1) == 0
    with pytest.raises(ValueError):
        ShardId(0, 1).bucket(0)


def test_shard_for_guild_examples() -> None:
    # GATEWAY.md §6.1
    assert shard_for_guild(981346340044931072, 2) == 0
    assert shard_for_guild(981346340049125376, 2) == 1
    assert shard_for_guild("981346340049125376", 2) == 1
    assert ShardId(1, 2).owns_guild(981346340049125376)
    assert not ShardId(0, 2).owns_guild(981346340049125376)
    assert shard_for_guild(981346340049125376, 1) == 0
    with pytest.raises(ValueError):
        shard_for_guild(1, 0)


@given(st.integers(0, 2**64 - 1), st.integers(1, 1000))
def test_exactly_one_shard_owns_each_guild(guild_id: int, total: int) -> None:
    owners = [n for n in range(min(total, 50)) if ShardId(n, total).owns_guild(guild_id)]
    number = shard_for_guild(guild_id, total)
    assert 0 <= number < total
    assert owners == ([number] if number < 50 else [])


def test_snowflake_example() -> None:
    # GATEWAY.md §11.4: 175928847299117063 -> 1462015105796, worker 1, process 0, increment 7
    assert snowflake_time_ms(175928847299117063) == 1462015105796
    assert snowflake_time_ms("175928847299117063") == 1462015105796
    assert snowflake_from_time_ms(1462015105796, worker=1, process=0, increment=7) == 175928847299117063
    assert DISCORD_EPOCH_MS == 1420070400000
    assert snowflake_from_time_ms(DISCORD_EPOCH_MS) == 0


def test_snowflake_from_time_rules() -> None:
    with pytest.raises(ValueError, match="epoch"):
        snowflake_from_time_ms(DISCORD_EPOCH_MS - 1)
    for kwargs in ({"worker": 32}, {"process": -1}, {"increment": 4096}):
        with pytest.raises(ValueError):
            snowflake_from_time_ms(DISCORD_EPOCH_MS, **kwargs)


@given(
    st.integers(DISCORD_EPOCH_MS, DISCORD_EPOCH_MS + 2**41), st.integers(0, 31), st.integers(0, 31), st.integers(0, 4095)
)
def test_snowflake_round_trip(unix_ms: int, worker: int, process: int, increment: int) -> None:
    snowflake = snowflake_from_time_ms(unix_ms, worker=worker, process=process, increment=increment)
    assert snowflake_time_ms(snowflake) == unix_ms
    assert (snowflake & 0x3E0000) >> 17 == worker
    assert (snowflake & 0x1F000) >> 12 == process
    assert snowflake & 0xFFF == increment
