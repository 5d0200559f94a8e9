"""The sans-I/O machine, driven with a fake clock and no network.

One test per row of reference/twilight.md §2.2 (state machine) and §2.7 (close codes
and control ops) and GATEWAY.md §3.10 (client decision table), plus heartbeat jitter,
zombie timing, backoff, rate limiting and sequence tracking.
"""

from __future__ import annotations

import zlib
from typing import Any

import orjson
import pytest

from rxgateway.config import Config
from rxgateway.errors import AuthenticationError, DisallowedIntentsError, FatalCloseError, PayloadTooLargeError
from rxgateway.errors import ShardClosedError
from rxgateway.machine import (
    HEARTBEAT_PHASES,
    HELLO_TIMEOUT,
    CancelIdentify,
    Close,
    Closed,
    Connect,
    Drop,
    Fatal,
    Received,
    ReceiveError,
    RequestIdentify,
    Send,
    Session,
    ShardMachine,
    ShardState,
    StateChanged,
    StateKind,
)
from rxgateway.machine.ratelimiter import MARGIN
from rxgateway.protocol import CloseFrame, Intents, ShardId

#: Every test under each dispatch probe (tests/machine/conftest.py).
pytestmark = pytest.mark.usefixtures("dispatch_probe")

GATEWAY = "wss://gateway.test"
RESUME = "wss://resume.test"


def make(rng: float = 0.5, **config: Any) -> ShardMachine:
    config.setdefault("compression", None)
    cfg = Config("secret-token", Intents.GUILDS | Intents.GUILD_MESSAGES, gateway_url=GATEWAY, **config)
    return ShardMachine(ShardId(0, 2), cfg, rng=lambda: rng)


def payload(op: int, d: Any = None, s: int | None = None, t: str | None = None) -> bytes:
    return orjson.dumps({"op": op, "d": d, "s": s, "t": t})


def hello(interval_ms: int = 10_000) -> bytes:
    return payload(10, {"heartbeat_interval": interval_ms})


def ready(seq: int = 1, session_id: str = "sess-1", resume_url: str = RESUME) -> bytes:
    return payload(0, {"session_id": session_id, "resume_gateway_url": resume_url, "v": 10}, seq, "READY")


def dispatch(seq: int, t: str = "MESSAGE_CREATE", d: Any = None) -> bytes:
    return payload(0, d or {"id": str(seq)}, seq, t)


def of(outputs: list[Any], kind: type) -> list[Any]:
    return [o for o in outputs if isinstance(o, kind)]


def sent(outputs: list[Any], kind: str | None = None) -> list[dict[str, Any]]:
    return [orjson.loads(o.data) for o in of(outputs, Send) if kind is None or o.kind == kind]


def active(m: ShardMachine, now: float = 0.0, interval_ms: int = 10_000) -> list[Any]:
    """Drive a fresh machine to Active through Identify."""
    out = m.start(now)
    out += m.on_connected(now)
    out += m.on_frame(now, hello(interval_ms))
    out += m.on_identify_granted(now)
    out += m.on_frame(now, ready())
    assert m.state == ShardState.ACTIVE
    return out


def reconnect_url(m: ShardMachine, now: float) -> str:
    """Fire the reconnect timer and return the URL connected to."""
    assert m.deadline is not None
    out = m.on_timeout(max(now, m.deadline))
    connects = of(out, Connect)
    assert len(connects) == 1, out
    return str(connects[0].url)


# --------------------------------------------------------------- §2.2 table


def test_new_shard_is_disconnected_with_config_session() -> None:
    m = make(session=Session("abc", 42), resume_url=RESUME)
    assert m.state == ShardState.disconnected(0)
    assert m.session == Session("abc", 42)
    assert m.resume_url == RESUME


def test_start_connects_at_once_with_query_and_compression() -> None:
    m = make(compression="zlib-stream")
    out = m.start(0.0)
    assert out == [Connect(GATEWAY + "/?v=10&encoding=json&compress=zlib-stream")]
    with pytest.raises(RuntimeError):
        m.start(0.0)


def test_connect_ok_goes_identifying() -> None:
    m = make()
    m.start(0.0)
    out = m.on_connected(0.0)
    assert out == [StateChanged(ShardState.disconnected(0), ShardState.IDENTIFYING)]


def test_connect_failure_counts_attempts_and_clears_resume_url() -> None:
    m = make(session=Session("abc", 5), resume_url=RESUME)
    assert m.start(0.0)[0].url.startswith(RESUME)
    out = m.on_connect_failed(0.0, OSError("refused"))
    assert of(out, StateChanged)[-1].new == ShardState.disconnected(1)
    assert m.resume_url is None
    assert m.session == Session("abc", 5)  # kept: resume is tried on the gateway URL
    assert reconnect_url(m, 0.0).startswith(GATEWAY)


def test_hello_with_session_resumes() -> None:
    m = make(session=Session("abc", 7), resume_url=RESUME)
    m.start(0.0)
    m.on_connected(0.0)
    out = m.on_frame(0.0, hello())
    assert of(out, StateChanged)[-1].new == ShardState.RESUMING
    (resume,) = sent(out, "resume")
    assert resume == {"op": 6, "d": {"token": "secret-token", "session_id": "abc", "seq": 7}}
    assert not of(out, RequestIdentify)
    assert m.deadline is not None  # heartbeat armed


def test_hello_without_session_asks_the_queue_then_identifies() -> None:
    m = make()
    m.start(0.0)
    m.on_connected(0.0)
    out = m.on_frame(0.0, hello())
    assert of(out, RequestIdentify) and not of(out, Send)
    assert m.state == ShardState.IDENTIFYING
    out = m.on_identify_granted(1.0)
    (identify,) = sent(out, "identify")
    assert identify["op"] == 2
    d = identify["d"]
    assert d["token"] == "secret-token"  # no "Bot " prefix on the wire
    assert d["intents"] == int(Intents.GUILDS | Intents.GUILD_MESSAGES)
    assert d["shard"] == [0, 2]
    assert d["large_threshold"] == 50


def test_ready_makes_active_and_stores_session() -> None:
    m = make()
    out = active(m)
    assert m.session == Session("sess-1", 1)
    assert m.resume_url == RESUME
    assert of(out, StateChanged)[-1].new == ShardState.ACTIVE
    (ready_out,) = [o for o in of(out, Received) if o.name == "READY"]
    assert ready_out.data is not None  # parsed once, handed on


def test_resumed_makes_active() -> None:
    m = make(session=Session("abc", 7), resume_url=RESUME)
    m.start(0.0)
    m.on_connected(0.0)
    m.on_frame(0.0, hello())
    m.on_frame(0.0, dispatch(8))
    out = m.on_frame(0.0, payload(0, {}, 9, "RESUMED"))
    assert m.state == ShardState.ACTIVE
    assert m.session == Session("abc", 9)
    assert [o.name for o in of(out, Received)] == ["RESUMED"]


def test_reconnect_op7_closes_4000_keeps_session_and_resumes_at_once() -> None:
    m = make()
    active(m)
    out = m.on_frame(5.0, payload(7))
    assert of(out, Close) == [Close(4000, "resuming connection")]
    assert m.state == ShardState.disconnected(0)
    assert m.session is not None
    m.on_closed(5.0, None)
    assert m.deadline == 5.0  # at once
    assert reconnect_url(m, 5.0).startswith(RESUME)


def test_invalid_session_resumable_closes_4000_and_resumes() -> None:
    m = make()
    active(m)
    out = m.on_frame(5.0, payload(9, True))
    assert of(out, Close) == [Close(4000, "resuming connection")]
    assert m.session is not None
    m.on_closed(5.0, None)
    assert reconnect_url(m, 5.0).startswith(RESUME)


@pytest.mark.parametrize("rng", [0.0, 0.999])
def test_invalid_session_not_resumable_drops_session_waits_1_to_5s_and_identifies(rng: float) -> None:
    m = make(rng=rng)
    active(m)
    out = m.on_frame(5.0, payload(9, False))
    assert of(out, Close) == [Close(1000, "closing connection")]
    assert m.session is None and m.resume_url is None
    m.on_closed(5.0, None)
    assert m.deadline is not None and 6.0 <= m.deadline < 10.0
    assert reconnect_url(m, 5.0).startswith(GATEWAY)
    m.on_connected(11.0)
    out = m.on_frame(11.0, hello())
    assert of(out, RequestIdentify)


def test_user_close_normal_drops_session_and_ends() -> None:
    m = make()
    active(m)
    out = m.close(3.0, CloseFrame.NORMAL)
    assert of(out, Close) == [Close(1000, "closing connection")]
    assert m.state == ShardState.CLOSED and m.session is None
    assert m.on_closed(3.1, None) == []
    assert m.deadline is None  # no reconnect


def test_user_close_resume_keeps_session_for_persistence() -> None:
    m = make()
    active(m)
    m.on_frame(1.0, dispatch(2))
    out = m.close(3.0, CloseFrame.RESUME)
    assert of(out, Close) == [Close(4000, "resuming connection")]
    assert m.session == Session("sess-1", 2) and m.resume_url == RESUME
    restored = Session.from_json(m.session.to_json())
    m2 = make(session=restored, resume_url=m.resume_url)
    assert m2.start(4.0)[0].url.startswith(RESUME)
    m2.on_connected(4.0)
    out = m2.on_frame(4.0, hello())
    assert sent(out, "resume")[0]["d"]["seq"] == 2
    assert not of(out, RequestIdentify)


def test_zombie_drops_socket_keeps_session_and_resumes() -> None:
    m = make(rng=0.0)
    active(m, interval_ms=1000)
    # A jitter of 0 is now, which is not later than now: the same point of the
    # phase grid one interval on.
    assert m.deadline == 1.0
    out = m.on_timeout(1.0)
    assert sent(out, "heartbeat") == [{"op": 1, "d": 1}]
    assert m.deadline == 2.0
    out = m.on_timeout(2.0)  # no ACK came: zombie
    assert of(out, Drop) and not of(out, Send)
    assert of(out, Closed) == [Closed(None, "no heartbeat ACK since the last beat", "client")]
    assert m.session is not None
    m.on_closed(2.0, None)
    assert reconnect_url(m, 2.0).startswith(RESUME)


def test_decompression_error_closes_4000_reports_and_resumes() -> None:
    m = make(compression="zlib-stream")
    active_outputs = m.start(0.0)
    m.on_connected(0.0)
    deflate = zlib.compressobj()
    frame = deflate.compress(hello()) + deflate.flush(zlib.Z_SYNC_FLUSH)
    m.on_frame(0.0, frame)
    m.on_identify_granted(0.0)
    frame = deflate.compress(ready()) + deflate.flush(zlib.Z_SYNC_FLUSH)
    m.on_frame(0.0, frame)
    assert m.state == ShardState.ACTIVE and active_outputs
    out = m.on_frame(1.0, b"\xff\xfe garbage \x00\x00\xff\xff")
    assert of(out, ReceiveError) and of(out, Close)[0].code == 4000
    assert m.session is not None
    m.on_closed(1.0, None)
    assert reconnect_url(m, 1.0).startswith(RESUME)


@pytest.mark.parametrize(
    ("code", "error_type"),
    [
        (4004, AuthenticationError),
        (4010, FatalCloseError),
        (4011, FatalCloseError),
        (4012, FatalCloseError),
        (4013, FatalCloseError),
        (4014, DisallowedIntentsError),
    ],
)
def test_fatal_close_codes_end_the_shard(code: int, error_type: type) -> None:
    m = make()
    active(m)
    out = m.on_closed(2.0, code, "nope")
    assert m.state == ShardState.FATALLY_CLOSED
    (fatal,) = of(out, Fatal)
    assert type(fatal.error) is error_type and fatal.error.code == code
    assert m.deadline is None
    with pytest.raises(ShardClosedError):
        m.send(3.0, b'{"op":3,"d":{}}')


@pytest.mark.parametrize("code", [4000, 4001, 4002, 4005, 4008, 1000, 1001, 1011, 4999, None])
def test_resumable_closes_keep_session(code: int | None) -> None:
    m = make()
    active(m)
    out = m.on_closed(2.0, code)
    assert of(out, Closed)[0].initiator == ("transport" if code is None else "server")
    assert m.state == ShardState.disconnected(0)
    assert m.session is not None
    assert reconnect_url(m, 2.0).startswith(RESUME)


@pytest.mark.parametrize("code", [4003, 4007, 4009])
def test_session_ending_closes_drop_session_and_identify(code: int) -> None:
    m = make()
    active(m)
    m.on_closed(2.0, code)
    assert m.session is None and m.resume_url is None
    assert reconnect_url(m, 2.0).startswith(GATEWAY)
    m.on_connected(2.0)
    assert of(m.on_frame(2.0, hello()), RequestIdentify)


def test_rate_limited_close_backs_off_first() -> None:
    m = make(rng=0.0)
    active(m)
    m.on_closed(2.0, 4008)
    assert m.deadline is not None and m.deadline >= 3.0  # at least 1 s, GATEWAY.md §3.10


# ------------------------------------------------------------ heartbeats


STEP = 2.0 / HEARTBEAT_PHASES  # the phase grid's step at a 2 s interval


@pytest.mark.parametrize(("rng", "expected"), [(0.0, 2.0), (0.25, 0.5), (0.6, 1.0), (0.999, 2.0 - STEP)])
def test_first_heartbeat_is_jittered_then_every_interval(rng: float, expected: float) -> None:
    # The jittered time moved to the phase grid: the point at or before it, or that
    # point one interval on if it is not later than now.
    m = make(rng=rng)
    m.start(0.0)
    m.on_connected(0.0)
    m.on_frame(0.0, hello(2000))
    first = m.deadline
    assert first == expected
    out = m.on_timeout(first)
    assert sent(out, "heartbeat") == [{"op": 1, "d": None}]  # no sequence yet
    m.on_frame(first + 0.01, payload(11))
    assert m.latency.recent == pytest.approx((0.01,))
    assert m.deadline == pytest.approx(first + 2.0)
    out = m.on_timeout(first + 2.0)
    assert len(sent(out, "heartbeat")) == 1


def test_server_requested_heartbeat_is_sent_at_once_outside_the_limiter() -> None:
    m = make()
    active(m)
    out = m.on_frame(3.0, payload(1))
    assert sent(out, "heartbeat") == [{"op": 1, "d": 1}]


def test_no_zombie_check_before_the_first_beat() -> None:
    m = make(rng=0.9)
    active(m, interval_ms=1000)
    out = m.on_timeout(0.9)
    assert of(out, Send) and not of(out, Drop)


def test_hello_timeout_drops_and_retries() -> None:
    m = make()
    m.start(0.0)
    m.on_connected(0.0)
    assert m.deadline == HELLO_TIMEOUT
    out = m.on_timeout(HELLO_TIMEOUT)
    assert of(out, Drop)
    m.on_closed(HELLO_TIMEOUT, None)
    assert m.state == ShardState.disconnected(1)


@pytest.mark.parametrize("interval", [0, -5, "x", None])
def test_bad_hello_interval_is_reported_and_the_connection_retried(interval: Any) -> None:
    m = make()
    m.start(0.0)
    m.on_connected(0.0)
    out = m.on_frame(0.0, payload(10, {"heartbeat_interval": interval}))
    assert of(out, ReceiveError) and of(out, Close)


# --------------------------------------------------------------- backoff


def test_backoff_none_on_first_retry_then_growing() -> None:
    m = make(rng=0.999)
    m.start(0.0)
    now = 0.0
    delays = []
    for _ in range(9):
        m.on_connect_failed(now, OSError())
        assert m.deadline is not None
        delays.append(m.deadline - now)
        now = m.deadline
        m.on_timeout(now)
    assert delays[0] == 0.0
    bases = [1, 2, 4, 8, 16, 32, 64, 64]
    for delay, base in zip(delays[1:], bases, strict=True):
        assert base / 2 <= delay <= base
    assert m.state == ShardState.disconnected(9)


def test_connection_that_never_reaches_a_session_counts_as_failure() -> None:
    m = make(rng=0.999)
    m.start(0.0)
    now = 0.0
    for expected in (1, 2, 3):
        m.on_connected(now)
        m.on_closed(now, 4000)  # accepted, then closed at once
        assert m.state == ShardState.disconnected(expected)
        now = m.deadline or now
        m.on_timeout(now)
    assert now > 1.0  # backed off rather than a tight loop
    m.on_connected(now)
    m.on_frame(now, hello())
    m.on_identify_granted(now)
    m.on_frame(now, ready())
    m.on_closed(now, 4000)
    assert m.state == ShardState.disconnected(0)  # a session resets the count


# ------------------------------------------------------- commands & limits


def test_commands_wait_for_identify_and_survive_reconnects_in_order() -> None:
    m = make()
    m.start(0.0)
    m.on_connected(0.0)
    assert m.send(0.0, b'{"op":3,"d":1}') == []  # before Hello: nothing
    out = m.on_frame(0.0, hello())
    assert not of(out, Send)
    m.on_identify_granted(0.0)
    out = m.on_frame(0.0, ready())
    assert sent(out, "command") == [{"op": 3, "d": 1}]
    m.on_closed(1.0, None)  # link dropped
    m.send(1.0, b'{"op":3,"d":2}')
    m.send(1.0, b'{"op":3,"d":3}')
    m.on_timeout(1.0)
    m.on_connected(1.0)
    out = m.on_frame(1.0, hello())
    kinds = [o.kind for o in of(out, Send)]
    # Resuming counts as identified (twilight #2264): the Resume goes first, then the
    # queued commands, in order.
    assert kinds == ["resume", "command", "command"]
    assert [c["d"] for c in sent(out, "command")] == [2, 3]
    assert m.queued_commands == 0


def test_stale_frames_never_precede_hello_on_a_new_connection() -> None:
    m = make()
    active(m)
    m.on_closed(1.0, None)
    m.send(1.0, b'{"op":3,"d":9}')
    m.on_timeout(1.0)
    out = m.on_connected(1.0)
    assert not of(out, Send)
    out = m.on_frame(1.0, hello())
    assert [o.kind for o in of(out, Send)][0] == "resume"


def test_ratelimiter_holds_commands_past_the_limit_and_releases_them() -> None:
    m = make()
    active(m, interval_ms=41_250)
    limiter = m.ratelimiter
    assert limiter is not None and limiter.max == 117
    out = []
    for i in range(130):
        out += m.send(0.0, orjson.dumps({"op": 3, "d": i}))
    # Identify took one permit on this connection already.
    assert len(sent(out, "command")) == 116
    assert m.queued_commands == 14
    assert m.deadline is not None and m.deadline <= 60.0
    # Not at 60 s after the first were decided: the gateway counts from receipt, so the
    # limiter holds each permit a margin longer (GATEWAY.md §5.1, the 4008 trap).
    out = m.on_timeout(60.0)
    assert len(sent(out, "command")) == 0
    out = m.on_timeout(60.0 + MARGIN)
    assert len(sent(out, "command")) == 14


def test_ratelimit_can_be_disabled() -> None:
    m = make(ratelimit_messages=False)
    active(m)
    out = []
    for i in range(200):
        out += m.send(0.0, orjson.dumps({"op": 3, "d": i}))
    assert len(sent(out, "command")) == 200


def test_oversized_payload_is_refused_before_the_socket() -> None:
    m = make()
    with pytest.raises(PayloadTooLargeError):
        m.send(0.0, b"x" * 4097)


def test_closing_while_disconnected_ends_without_connecting() -> None:
    m = make()
    active(m)
    m.on_closed(1.0, None)
    out = m.close(1.0)
    assert not of(out, Close) and m.state == ShardState.CLOSED and m.deadline is None


def test_close_during_connect_closes_once_connected() -> None:
    m = make()
    m.start(0.0)
    m.close(0.0, CloseFrame.RESUME)
    out = m.on_connected(0.1)
    assert of(out, Close) == [Close(4000, "resuming connection")]
    assert m.state.kind is StateKind.CLOSED


def test_pending_identify_is_cancelled_when_the_connection_ends() -> None:
    m = make()
    m.start(0.0)
    m.on_connected(0.0)
    m.on_frame(0.0, hello())
    out = m.on_closed(1.0, None)
    assert of(out, CancelIdentify)
    assert m.on_identify_granted(1.0) == []  # a late grant is ignored


# -------------------------------------------------------------- sequence


def test_sequence_tracks_dispatches_and_drops_duplicates() -> None:
    m = make()
    active(m)
    names = []
    for seq in (2, 3, 3, 2, 4):
        names += [o.sequence for o in of(m.on_frame(1.0, dispatch(seq)), Received)]
    assert names == [2, 3, 4]
    assert m.duplicates_dropped == 2
    assert m.sequence == 4


def test_heartbeat_carries_the_last_sequence() -> None:
    m = make(rng=0.0)
    active(m)
    m.on_frame(0.0, dispatch(2))
    assert m.deadline is not None
    assert sent(m.on_timeout(m.deadline), "heartbeat") == [{"op": 1, "d": 2}]


def test_unknown_opcode_is_reported_not_fatal() -> None:
    m = make()
    active(m)
    out = m.on_frame(1.0, payload(42))
    assert of(out, ReceiveError) and not of(out, Close)
    assert m.state == ShardState.ACTIVE


def test_invalid_json_is_reported_and_resumed() -> None:
    m = make()
    active(m)
    out = m.on_frame(1.0, b"{not json")
    assert of(out, ReceiveError) and of(out, Close)[0].code == 4000
    assert m.session is not None


def test_frames_after_we_closed_are_ignored() -> None:
    m = make()
    active(m)
    m.on_frame(1.0, payload(7))
    assert m.on_frame(1.0, dispatch(5)) == []
    assert m.sequence == 1  # the resume will replay it


@pytest.mark.parametrize("t", ["READY", None])
def test_a_control_payload_with_a_broken_d_is_reported_not_raised(t: str | None) -> None:
    # Long enough for the envelope's fast path, which does not check ``d``.
    op = 0 if t else 10
    head = b'{"op":%d,"s":%s,"t":%s,"d":{"x":"' % (op, b"1" if t else b"null", b'"READY"' if t else b"null")
    frame = head + b"a" * 300 + b'"' + b"}"  # d's object is never closed
    m = make()
    m.start(0.0)
    m.on_connected(0.0)
    if t:
        m.on_frame(0.0, hello())
        m.on_identify_granted(0.0)
    out = m.on_frame(0.0, frame)
    assert of(out, ReceiveError) and of(out, Close)[0].code == 4000


def test_a_machine_keeps_its_state_in_slots() -> None:
    """A thousand idle shards each hold one machine: no per-instance dict (~1 KiB)."""
    m = ShardMachine(ShardId(0, 1), Config("secret-token", Intents.GUILDS))
    assert not hasattr(m, "__dict__")
    with pytest.raises(AttributeError):
        m.not_an_attribute = 1  # type: ignore[attr-defined]
    # The timer attributes still live in slots and still mark the deadline stale.
    assert m.deadline is None
    m._reconnect_at = 5.0
    assert m.deadline == 5.0
    m._reconnect_at = None
    assert m.deadline is None
