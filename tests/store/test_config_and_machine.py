"""The two small hooks the stores need outside their package: ``Config.session_store``
(validated, shared by copies) and ``ShardMachine.restore`` (a saved session resumed on
the first connection, only before start)."""

from __future__ import annotations

import orjson
import pytest

from rxgateway.config import Config
from rxgateway.machine import Connect, Send, Session, ShardMachine, ShardState
from rxgateway.protocol import Intents, ShardId
from rxgateway.store import MemorySessionStore

TOKEN = "MTIzNDU2Nzg5MDEyMzQ1Njc4.Gabcde.secret-part"
HELLO = b'{"op":10,"d":{"heartbeat_interval":41250}}'


def test_config_takes_a_session_store_and_copies_share_it() -> None:
    store = MemorySessionStore()
    config = Config(TOKEN, Intents.GUILDS, session_store=store)
    assert config.replace(large_threshold=100).session_store is store
    assert Config(TOKEN, Intents.GUILDS).session_store is None
    assert "secret-part" not in repr(config) and "MemorySessionStore" in repr(config)


def test_config_refuses_what_is_not_a_session_store() -> None:
    with pytest.raises(TypeError, match="SessionStore"):
        Config(TOKEN, Intents.GUILDS, session_store=object())  # type: ignore[arg-type]


def test_a_restored_session_is_resumed_on_the_first_connection() -> None:
    machine = ShardMachine(ShardId(0, 1), Config(TOKEN, Intents.GUILDS, compression=None))
    machine.restore(Session("abc", 7), "wss://resume.example")
    (connect,) = machine.start(0.0)
    assert isinstance(connect, Connect) and connect.to_resume_url
    assert connect.url.startswith("wss://resume.example/?v=10")
    machine.on_connected(0.0)
    out = machine.on_frame(0.0, HELLO)
    (resume,) = [o for o in out if isinstance(o, Send)]
    assert resume.kind == "resume"
    assert orjson.loads(resume.data)["d"] == {"token": TOKEN, "session_id": "abc", "seq": 7}
    assert machine.state == ShardState.RESUMING


def test_restore_is_only_allowed_before_start() -> None:
    machine = ShardMachine(ShardId(0, 1), Config(TOKEN, Intents.GUILDS))
    machine.start(0.0)
    with pytest.raises(RuntimeError):
        machine.restore(Session("abc", 7))
    closed = ShardMachine(ShardId(0, 1), Config(TOKEN, Intents.GUILDS))
    closed.close(0.0)
    with pytest.raises(RuntimeError):
        closed.restore(Session("abc", 7))
