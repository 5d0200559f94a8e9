"""One check for commands from the bus (:func:`~rxgateway.bus.bus_event.command_problem`),
run by both brokers: what it refuses and why, and that a NATS and a Redis sender
refuse a bad command with the very same reason (a real nats-server and redis-server).
The gateway sides' refusals (logged, answered, never forwarded) are in
test_nats_broker.py and test_redis_broker.py."""

from __future__ import annotations

import asyncio

import orjson
import pytest

from rxgateway.bus import BusCommand, JetStreamBroker, RedisStreamsBroker
from rxgateway.bus import nats_jetstream, redis_streams
from rxgateway.bus.bus_event import MAX_COMMAND_BYTES, REFUSED_OPS, command_problem
from rxgateway.errors import CommandsNotSentError
from rxgateway.protocol.opcode import OpCode
from rxgateway.tools.nats_server import NatsServer
from rxgateway.tools.redis_server import RedisServer

PRESENCE = b'{"op":3,"d":{"since":null,"activities":[],"status":"idle","afk":false}}'
SECRET = "SECRET-CONTENT"

#: (command id, shard, data, what the reason says)
BAD: list[tuple[object, object, bytes, str]] = [
    ("bad id", 0, PRESENCE, "command id"),
    ("", 0, PRESENCE, "command id"),
    ("x" * 129, 0, PRESENCE, "command id"),
    (None, 0, PRESENCE, "command id"),
    ("c", -1, PRESENCE, "shard must be an integer >= 0"),
    ("c", True, PRESENCE, "shard must be an integer >= 0"),
    ("c", "3", PRESENCE, "shard must be an integer >= 0"),
    ("c", 0, orjson.dumps({"op": 3, "d": SECRET * 400}), f"bytes is over the gateway's {MAX_COMMAND_BYTES}-byte limit"),
    ("c", 0, f"not json {SECRET}".encode(), "not JSON"),
    ("c", 0, b"[3]", "not a JSON object"),
    ("c", 0, b'{"op":"3","d":{}}', "without an integer op and a d"),
    ("c", 0, b'{"op":true,"d":{}}', "without an integer op and a d"),
    ("c", 0, b'{"op":3}', "without an integer op and a d"),
    ("c", 0, orjson.dumps({"op": 2, "d": {"token": SECRET}}), "op 2, which only the shard or the gateway sends"),
    ("c", 0, b'{"op":6,"d":{}}', "op 6, which only"),
    ("c", 0, b'{"op":1,"d":null}', "op 1, which only"),
]


@pytest.mark.parametrize(("command_id", "shard", "data", "reason"), BAD)
def test_a_bad_command_is_refused_with_its_reason_and_never_its_content(
    command_id: object, shard: object, data: bytes, reason: str
) -> None:
    problem = command_problem(command_id, shard, data)
    assert problem is not None and reason in problem
    assert SECRET not in problem


def test_gateway_commands_pass() -> None:
    for data in (PRESENCE, b'{"op":8,"d":{"guild_id":"1","query":"","limit":0}}', b'{"op":4,"d":{}}', b'{"op":99,"d":1}'):
        assert command_problem("cmd-1:a.b_c", 7, data) is None
    at_limit = b'{"op":3,"d":"' + b"x" * (MAX_COMMAND_BYTES - 15) + b'"}'
    assert len(at_limit) == MAX_COMMAND_BYTES and command_problem("c", 0, at_limit) is None
    assert command_problem("c", 0, at_limit[:-2] + b'x"}') is not None  # one byte more


def test_the_refused_opcodes_are_the_shards_own_and_the_gateways() -> None:
    shards_own = {OpCode.HEARTBEAT, OpCode.IDENTIFY, OpCode.RESUME}
    gateways = {OpCode.DISPATCH, OpCode.RECONNECT, OpCode.INVALID_SESSION, OpCode.HELLO, OpCode.HEARTBEAT_ACK}
    assert REFUSED_OPS == {int(op) for op in shards_own | gateways}
    # both brokers refuse exactly these (one set, not two copies)
    assert nats_jetstream.REFUSED_OPS is REFUSED_OPS is redis_streams.REFUSED_OPS


async def test_both_brokers_refuse_a_bad_command_with_the_same_reason(
    nats_server: NatsServer, redis_server: RedisServer, app: str
) -> None:
    brokers = [JetStreamBroker(nats_server.url, app=app), RedisStreamsBroker(redis_server.url, app=app)]
    try:
        for command_id, shard, data, _reason in BAD:
            if not isinstance(command_id, str) or not isinstance(shard, int):
                continue  # a BusCommand is typed: its id a str, its shard an int
            reasons = []
            for broker in brokers:
                with pytest.raises(CommandsNotSentError) as refused:
                    await asyncio.wait_for(broker.send_command(BusCommand(command_id, shard, data), timeout=1.0), 5)
                assert refused.value.payloads == (data,)
                reasons.append(str(refused.value))
            problem = command_problem(command_id, shard, data)
            assert problem is not None and all(problem in reason for reason in reasons), reasons
    finally:
        for broker in brokers:
            await broker.aclose()
