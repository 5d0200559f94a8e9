"""Reliability rules of the machine, on a fake clock: progress resets the backoff, an
overdue heartbeat gets its full ACK time, a failing identify queue is retried, commands
are never dropped silently, and an unreadable dispatch is replayed rather than lost.
"""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rxgateway.config import Config
from rxgateway.errors import CommandsNotSentError, DeserializationError, IdentifyQueueError
from rxgateway.machine import (
    Close,
    Connect,
    Drop,
    Pending,
    Problem,
    RequestIdentify,
    Send,
    ShardMachine,
    ShardState,
    StateKind,
)
from rxgateway.machine.backoff import backoff_delay
from rxgateway.machine.heartbeat import HEARTBEAT_PHASES
from rxgateway.machine.phase import Phase
from rxgateway.machine.shard_machine import MAX_CORRUPT_REPLAYS
from rxgateway.protocol import EventTypeFlags, Intents, ShardId

#: Every test under each dispatch probe (tests/machine/conftest.py).
pytestmark = pytest.mark.usefixtures("dispatch_probe")

GATEWAY = "wss://gateway.test"
RESUME = "wss://resume.test"
INTERVAL_MS = 10_000


def make(**config: Any) -> ShardMachine:
    cfg = Config("secret-token", Intents.GUILDS, gateway_url=GATEWAY, compression=None, **config)
    m = ShardMachine(ShardId(0, 1), cfg, rng=lambda: 0.5)
    m.wanted = int(EventTypeFlags.MESSAGE_CREATE)
    return m


def payload(op: int, d: Any = None, s: int | None = None, t: str | None = None) -> bytes:
    # The gateway's own key order, so on_message takes its fast lane.
    return b'{"t":%b,"s":%b,"op":%d,"d":%b}' % (orjson.dumps(t), orjson.dumps(s), op, orjson.dumps(d))


HELLO = payload(10, {"heartbeat_interval": INTERVAL_MS})


def dispatch(seq: int) -> bytes:
    return payload(0, {"id": str(seq)}, seq, "MESSAGE_CREATE")


def broken(seq: int) -> bytes:
    return b'{"t":"MESSAGE_CREATE","s":%d,"op":0,"d":{"id":"' % seq


def finish(m: ShardMachine, now: float, data: bytes) -> list[Any]:
    """A frame on_message cannot finish without the time (here: one that does not
    read): handed to on_pending at ``now``, as the receive loop does."""
    pending = m.on_message(data)
    assert isinstance(pending, Pending)
    return m.on_pending(now, pending)


def of(outputs: list[Any], kind: type) -> list[Any]:
    return [o for o in outputs if isinstance(o, kind)]


def sent(outputs: list[Any], kind: str) -> list[dict[str, Any]]:
    return [orjson.loads(o.data) for o in of(outputs, Send) if o.kind == kind]


def active(m: ShardMachine, now: float = 0.0) -> None:
    m.start(now)
    m.on_connected(now)
    m.on_frame(now, HELLO)
    m.on_identify_granted(now)
    m.on_frame(now, payload(0, {"session_id": "s1", "resume_gateway_url": RESUME}, 1, "READY"))
    assert m.state == ShardState.ACTIVE


def reconnect(m: ShardMachine, now: float) -> list[Any]:
    """Fire the reconnect timer, open the socket, get Hello: the machine resumes."""
    assert m.deadline is not None and m.deadline <= now
    out = m.on_timeout(now)
    assert of(out, Connect)
    out += m.on_connected(now)
    out += m.on_frame(now, HELLO)
    return out


# ------------------------------------------------------------------ progress


@pytest.mark.parametrize(
    "cut",
    ["op7", "op9-resumable", "server-4000", "drop"],
)
def test_a_replay_cut_short_again_and_again_never_backs_off(cut: str) -> None:
    """A resume whose replay is cut before RESUMED still moved the session forward:
    eight cuts in a row, and every next connection is made at once."""
    m = make()
    active(m)
    now = 1.0
    m.on_closed(now, None)  # a long outage begins: the link drops
    seq = 1
    for _ in range(8):
        out = reconnect(m, now)
        assert sent(out, "resume")[0]["d"]["seq"] == seq
        for _ in range(1500):  # part of the backlog arrives, RESUMED never does
            seq += 1
            assert m.on_message(dispatch(seq)) == (seq, "MESSAGE_CREATE", {"id": str(seq)})
        if cut == "op7":
            m.on_frame(now, payload(7))
            m.on_closed(now, 4000)
        elif cut == "op9-resumable":
            m.on_frame(now, payload(9, True))
            m.on_closed(now, 4000)
        elif cut == "server-4000":
            m.on_closed(now, 4000, "node going away")
        else:
            m.on_closed(now, None)
        assert m.state == ShardState.disconnected(0)
        assert m.deadline == now  # at once: no backoff after progress
        now += 0.5
    assert m.session is not None and m.session.sequence == seq == 1 + 8 * 1500


def test_a_connection_that_delivers_nothing_new_still_backs_off() -> None:
    """Accept, Hello, resume ... then close before anything new: a failed attempt,
    even when it replayed dispatches the shard had already seen."""
    m = make()
    active(m)
    m.on_message(dispatch(2))
    m.on_closed(0.0, None)
    now = 0.0
    waits = []
    for attempt in range(1, 6):
        out = reconnect(m, now)
        assert of(out, Send)
        assert m.on_message(dispatch(2)) is None  # a duplicate is no progress
        m.on_closed(now, 4000)
        assert m.state == ShardState.disconnected(attempt)
        assert m.deadline is not None
        waits.append(m.deadline - now)
        now = m.deadline
    assert waits == [backoff_delay(n, lambda: 0.5) for n in range(5)]
    assert waits[-1] > waits[1] > 0


def test_progress_after_failures_resets_the_backoff() -> None:
    m = make()
    active(m)
    m.on_closed(0.0, None)
    now = 0.0
    for _ in range(3):  # three failures: the exponent grows
        reconnect(m, now)
        m.on_closed(now, 4000)
        now = m.deadline or now
    assert m.state == ShardState.disconnected(3)
    reconnect(m, now)
    m.on_message(dispatch(2))
    m.on_closed(now, 4000)
    assert m.state == ShardState.disconnected(0)
    assert m.deadline == now


# ------------------------------------------------------------- heartbeats


def test_an_overdue_heartbeat_gives_its_ack_most_of_an_interval() -> None:
    m = make()
    active(m)
    interval = INTERVAL_MS / 1000
    first = m.deadline
    assert first is not None
    out = m.on_timeout(first)
    assert sent(out, "heartbeat")
    m.on_frame(first + 0.1, payload(11))
    # The event loop stalls for three intervals; the timer fires late.
    late = first + 3 * interval + 0.3
    out = m.on_timeout(late)
    assert sent(out, "heartbeat")
    # The next beat is the last point of the phase grid within one interval: never
    # later than that after this beat, and the ACK has all of it but one step.
    step = interval / HEARTBEAT_PHASES
    assert m.deadline is not None and late + interval - step < m.deadline <= late + interval
    # The ACK arrives a healthy 0.2 s later, and the connection stays.
    m.on_frame(late + 0.2, payload(11))
    out = m.on_timeout(late + interval)
    assert not of(out, Drop) and sent(out, "heartbeat")
    assert m.state == ShardState.ACTIVE


def test_a_beat_that_is_never_acked_is_still_a_zombie() -> None:
    m = make()
    active(m)
    first = m.deadline
    assert first is not None
    m.on_timeout(first)
    out = m.on_timeout(first + 5 * INTERVAL_MS / 1000)  # overdue, and unacknowledged
    assert of(out, Drop)


# --------------------------------------------------------- identify queue


def test_a_failing_identify_queue_is_reported_and_retried_with_backoff() -> None:
    m = make()
    m.start(0.0)
    m.on_connected(0.0)
    out = m.on_frame(0.0, HELLO)
    assert of(out, RequestIdentify)
    now = 0.0
    for attempt in range(3):
        out = m.on_identify_failed(now, ConnectionError("redis is down"))
        problems = of(out, Problem)
        assert len(problems) == 1 and isinstance(problems[0].error, IdentifyQueueError)
        assert isinstance(problems[0].error.__cause__, ConnectionError)
        assert m.state.kind is StateKind.IDENTIFYING
        assert m.deadline is not None
        assert m.deadline - now == pytest.approx(backoff_delay(attempt, lambda: 0.5))
        now = m.deadline
        out = m.on_timeout(now)
        assert of(out, RequestIdentify)
    out = m.on_identify_granted(now)
    assert sent(out, "identify")


def test_an_identify_failure_after_the_connection_ended_is_ignored() -> None:
    m = make()
    m.start(0.0)
    m.on_connected(0.0)
    m.on_frame(0.0, HELLO)
    m.on_closed(0.0, None)
    assert m.on_identify_failed(0.0, ConnectionError("late")) == []


# --------------------------------------------------------------- commands


def test_commands_a_dead_connection_never_wrote_are_sent_on_the_next_one_in_order() -> None:
    m = make()
    active(m)
    out: list[Any] = []
    for i in range(5):
        out += m.send(0.0, orjson.dumps({"op": 3, "d": i}))
    handed = [o.data for o in of(out, Send) if o.kind == "command"]
    assert len(handed) == 5
    m.on_closed(1.0, None)  # the writer had written only the first two
    m.send(1.0, orjson.dumps({"op": 3, "d": 5}))
    assert m.on_unsent(1.0, handed[2:]) == []  # disconnected: queued, nothing to send yet
    assert m.queued_commands == 4
    out = reconnect(m, 1.0)
    out += m.on_frame(1.0, payload(0, {}, 1, "RESUMED"))
    assert [c["d"] for c in sent(out, "command")] == [2, 3, 4, 5]


def test_queued_commands_are_reported_when_the_shard_closes() -> None:
    m = make()
    m.start(0.0)
    m.send(0.0, b'{"op":3,"d":1}')
    m.send(0.0, b'{"op":3,"d":2}')
    out = m.close(0.0)
    problems = of(out, Problem)
    assert len(problems) == 1 and isinstance(problems[0].error, CommandsNotSentError)
    assert problems[0].error.payloads == (b'{"op":3,"d":1}', b'{"op":3,"d":2}')
    assert m.queued_commands == 0


def test_unsent_commands_of_a_closed_shard_are_reported() -> None:
    m = make()
    active(m)
    m.close(0.0)
    out = m.on_unsent(0.0, [b'{"op":3,"d":9}'])
    assert [type(p.error) for p in of(out, Problem)] == [CommandsNotSentError]


def test_queued_commands_are_reported_on_a_fatal_close() -> None:
    m = make()
    active(m)
    m.on_closed(0.0, None)
    m.send(0.0, b'{"op":3,"d":1}')
    m.on_timeout(0.0)
    m.on_connected(0.0)  # closed before Hello: the command is still queued
    out = m.on_closed(0.0, 4004, "bad token")
    assert [type(p.error) for p in of(out, Problem)] == [CommandsNotSentError]
    assert m.state == ShardState.FATALLY_CLOSED


# ------------------------------------------------------ unreadable dispatches


@pytest.mark.parametrize("lane", ["probe", "parse-all", "general"])
def test_an_unreadable_wanted_dispatch_is_resumed_and_replayed(lane: str) -> None:
    m = make()
    if lane == "parse-all":
        m.wanted = int(EventTypeFlags.DISPATCHES)
    active(m)
    bad = broken(2) if lane != "general" else b'{"op":0,"s":2,"t":"MESSAGE_CREATE","d":{"id":"'
    out = finish(m, 1.0, bad)
    assert isinstance(out, list)
    assert [type(p.error) for p in of(out, Problem)] == [DeserializationError]
    assert [c.code for c in of(out, Close)] == [4000]
    assert m.sequence == 1  # not advanced: a resume brings dispatch 2 back
    m.on_closed(1.0, 4000)
    out = reconnect(m, 1.0)
    assert sent(out, "resume")[0]["d"]["seq"] == 1
    assert m.on_message(dispatch(2)) == (2, "MESSAGE_CREATE", {"id": "2"})


def test_an_unwanted_unreadable_dispatch_is_never_parsed() -> None:
    m = make()
    active(m)
    assert m.on_message(b'{"t":"TYPING_START","s":2,"op":0,"d":{"x') is None
    assert m.sequence == 2


def test_the_same_dispatch_unreadable_again_and_again_gives_the_session_up() -> None:
    m = make()
    active(m)
    now = 1.0
    for attempt in range(1, MAX_CORRUPT_REPLAYS + 1):
        out = finish(m, now, broken(2))
        assert isinstance(out, list)
        closes = of(out, Close)
        m.on_closed(now, None)
        if attempt < MAX_CORRUPT_REPLAYS:
            assert [c.code for c in closes] == [4000]
            assert m.session is not None
            out = reconnect(m, now)
            assert sent(out, "resume")
        else:
            assert [c.code for c in closes] == [1000]  # the session is ended ...
            messages = [str(p.error) for p in of(out, Problem)]
            assert any("given up" in text for text in messages)  # ... and that is said
            assert m.session is None
        now = m.deadline or now
    out = m.on_timeout(now)
    out += m.on_connected(now)
    out += m.on_frame(now, HELLO)
    assert of(out, RequestIdentify)  # a new session


def test_a_later_unreadable_dispatch_starts_a_new_count() -> None:
    m = make()
    active(m)
    for seq in (2, 3, 4, 5):  # each one breaks once, then arrives whole
        out = finish(m, 1.0, broken(seq))
        assert [c.code for c in of(out, Close)] == [4000]  # type: ignore[arg-type]
        m.on_closed(1.0, None)
        reconnect(m, 1.0)
        assert m.on_message(dispatch(seq)) is not None
    assert m.session is not None and m.session.sequence == 5


# ------------------------------------------------------------------- phases


def test_the_next_connection_opens_only_once_the_old_socket_is_gone() -> None:
    m = make()
    active(m)
    out = m.on_frame(1.0, payload(7))  # Reconnect: we close, and will resume at once
    assert of(out, Close) and m.phase is Phase.CLOSING
    assert m.deadline is None  # no Connect while the old socket is still closing
    m.on_closed(1.25, 4000)
    assert m.phase is Phase.IDLE and m.deadline == 1.25
    assert of(m.on_timeout(1.25), Connect)


def test_a_backoff_counts_from_when_the_socket_is_gone() -> None:
    m = make()
    active(m)
    m.on_frame(1.0, payload(9, False))  # op 9 d=false: wait 1-5 s, then identify
    assert m.phase is Phase.CLOSING and m.deadline is None
    m.on_closed(3.0, 1000)
    assert m.deadline is not None and 3.0 + 1.0 <= m.deadline < 3.0 + 5.0


INPUTS = st.lists(
    st.sampled_from(
        ["connected", "connect_failed", "closed", "closed_4000", "closed_4004", "hello", "ready", "dispatch", "op7",
         "op9", "ack", "granted", "identify_failed", "timeout", "send", "close", "unsent"]
    ),
    max_size=60,
)


@settings(max_examples=300, deadline=None)
@given(INPUTS)
def test_any_sequence_of_inputs_keeps_the_phase_table(inputs: list[str]) -> None:
    """Drive the machine as a driver would (on_connected only after Connect, on_closed
    only with a socket), in any order: every phase move is one of PHASE_MOVES (the
    machine asserts it), and the phase agrees with the state."""
    m = make()
    now, seq = 0.0, 1
    pending_connect = bool(of(m.start(now), Connect))
    for name in inputs:
        now += 0.5
        out: list[Any] = []
        if name == "connected" and pending_connect:
            pending_connect = False
            out = m.on_connected(now)
        elif name == "connect_failed" and pending_connect:
            pending_connect = False
            out = m.on_connect_failed(now, OSError("refused"))
        elif name.startswith("closed"):
            code = {"closed": None, "closed_4000": 4000, "closed_4004": 4004}[name]
            out = m.on_closed(now, code)
        elif name == "hello":
            out = m.on_frame(now, HELLO)
        elif name == "ready":
            out = m.on_frame(now, payload(0, {"session_id": "s", "resume_gateway_url": RESUME}, seq, "READY"))
        elif name == "dispatch":
            seq += 1
            out = m.on_frame(now, dispatch(seq))
        elif name == "op7":
            out = m.on_frame(now, payload(7))
        elif name == "op9":
            out = m.on_frame(now, payload(9, False))
        elif name == "ack":
            out = m.on_frame(now, payload(11))
        elif name == "granted":
            out = m.on_identify_granted(now)
        elif name == "identify_failed":
            out = m.on_identify_failed(now, ConnectionError("down"))
        elif name == "timeout" and m.deadline is not None:
            now = max(now, m.deadline)
            out = m.on_timeout(now)
        elif name == "send" and not m.state.is_terminal:
            out = m.send(now, b'{"op":3,"d":null}')
        elif name == "close":
            out = m.close(now)
        elif name == "unsent":
            out = m.on_unsent(now, [b'{"op":3,"d":1}'])
        if of(out, Connect):
            assert not pending_connect and m.phase is Phase.CONNECTING
            pending_connect = True
        if m.phase is Phase.OPEN:
            assert m.state.kind in (StateKind.IDENTIFYING, StateKind.RESUMING, StateKind.ACTIVE)
        if m.phase in (Phase.IDLE, Phase.CONNECTING) and not m.state.is_terminal:
            assert m.state.kind is StateKind.DISCONNECTED
        if m.state.is_terminal:
            assert m.queued_commands == 0  # reported, never left behind


def test_the_phase_module_examples_run() -> None:
    import doctest

    from rxgateway.machine import phase

    result = doctest.testmod(phase)
    assert result.failed == 0 and result.attempted > 0
