"""The record (connections, violations), the control API and the command line."""

from __future__ import annotations

import argparse

import aiohttp
import pytest

from rxgateway.emulator import FAULT_HELP, CATEGORIES, GatewayEmulator
from rxgateway.tools.emulate import EPILOG, add_emulate_arguments, config_from_args

from .client import ready_client


async def test_a_well_behaved_client_leaves_a_full_record_and_no_violations(
    emu: GatewayEmulator, http: aiohttp.ClientSession
) -> None:
    client, ready = await ready_client(http, emu.url, compress="zstd-stream", shard=[0, 1])
    for seq in range(3):
        await client.heartbeat(seq or None)
        await client.until(11)
    await client.close(4000)
    await emu.wait_for(lambda: not emu.connections)
    (conn,) = emu.record.connections
    assert (conn.path, conn.compression, conn.query["v"]) == ("/", "zstd-stream", "10")
    assert conn.shard is not None and conn.shard.to_list() == [0, 1]
    assert conn.session_id == ready["d"]["session_id"]
    assert [p.op for p in conn.payloads] == [2, 1, 1, 1]
    assert conn.payloads_per_minute() == [4] and conn.max_payloads_in(60) == 4
    (identify,) = conn.identifies
    assert identify.accepted and identify.bucket == 0 and identify.intents == 513
    assert [op for _, op in conn.ops_sent] == [10, 11, 11, 11]
    assert list(conn.sequences) == list(range(1, 2 + len(emu.state.world.guilds)))
    assert (conn.close_received, conn.close_sent, conn.dropped) == (4000, None, False)
    assert conn.closed_at is not None and conn.closed_at >= conn.opened_at
    assert emu.violations == []


async def test_control_api_dispatch_burst_traffic_and_record(emu: GatewayEmulator, http: aiohttp.ClientSession) -> None:
    client, _ = await ready_client(http, emu.url, intents=513 | 4096)
    control = f"{emu.http_url}/_emulator"
    async with http.post(f"{control}/dispatch", json={"t": "USER_UPDATE", "d": {"id": "9"}}) as r:
        assert r.status == 200
    assert (await client.dispatch("USER_UPDATE"))["d"] == {"id": "9"}
    async with http.post(f"{control}/burst", json={"count": 5, "mix": "typing=1"}) as r:
        assert r.status == 202
    async with http.post(f"{control}/traffic", json={"rate": 0}) as r:
        assert r.status == 200
    for body, path in (({"count": -1}, "burst"), ({"rate": 5, "mix": "bogus=1"}, "traffic"), ({"t": 1}, "dispatch")):
        async with http.post(f"{control}/{path}", json=body) as r:
            assert r.status == 400
    async with http.get(f"{control}/record") as r:
        record = await r.json()
    (conn,) = record["connections"]
    assert conn["shard"] == [0, 1] and conn["identifies"][0]["accepted"] is True
    assert record["violations"] == []
    await client.close()


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_emulate_arguments(p)
    return p


def test_help_explains_every_fault_the_control_api_and_the_categories() -> None:
    text = parser().format_help()
    for kind in FAULT_HELP:
        assert kind.value in text
    assert "POST /_emulator/faults" in text and "--fault-every" in text
    assert all(category in text for category in CATEGORIES)


def test_command_line_flags_become_the_config() -> None:
    args = parser().parse_args(
        "--host 127.0.0.1 --port 0 --token a --token b --shards 4 --max-concurrency 2 --heartbeat-interval 500 "
        "--rate 2000 --mix messages=50,presences=30,typing=20 --seed 9 --guilds 40 --no-privileged "
        "--fault close:4009 --fault-every 30".split()
    )
    config = config_from_args(args)
    assert (config.port, config.tokens, config.shards, config.max_concurrency) == (0, ("a", "b"), 4, 2)
    assert (config.heartbeat_interval_ms, config.seed, config.guilds, config.application_flags) == (500, 9, 40, 0)
    assert args.rate == 2000 and args.faults[0].code == 4009


@pytest.mark.parametrize("argv", [["--mix", "nope=1"], ["--fault", "explode"]])
def test_bad_flags_are_usage_errors(argv: list[str]) -> None:
    with pytest.raises(SystemExit):
        parser().parse_args(argv)
