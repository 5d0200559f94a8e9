"""The HTTP control API: drive a running emulator from outside Python (curl, a bot's
own test suite in another language).

=========================  ==========================================================
``POST /_emulator/faults``   ``{"fault": KIND, "code"?, "resumable"?, "chunk_bytes"?,
                             "shard"?, "connection"?, "session"?}`` → ``{"connections":
                             [ids]}`` (kinds: see ``rxgateway emulate --help``)
``POST /_emulator/dispatch-faults``  ``{"every": N, "faults"?: ["reconnect", "close:4000", ...]}``:
                             on every connection, the next fault each time N more
                             dispatches were written (default cycle: reconnect,
                             invalid_session:true, close:4000, drop); ``every`` 0 or
                             null stops it → ``{"every": N, "faults": ["KIND[:ARG]"]}``
``POST /_emulator/dispatch`` ``{"t": NAME, "d": {...}}`` → routed like a real event
``POST /_emulator/push``     ``{"count": N, "t"?: "MESSAGE_CREATE", "shard"?, "session"?}``
                             → pushed into those sessions now (buffered for Resume if
                             detached) → ``{"pushed": dispatches received}``
``POST /_emulator/burst``    ``{"count": N, "mix"?: "messages=1"}`` → sent in the background
``POST /_emulator/traffic``  ``{"rate": EVENTS_PER_S, "mix"?: …}``; rate 0 stops it
``GET /_emulator/record``    connections (shard, path, identifies, resumes, close codes,
                             payload and heartbeat counts), violations, notes (what
                             was accepted leniently) and replays served (``--replay``),
                             as JSON
=========================  ==========================================================

Errors are ``400 {"error": "..."}``.

Example::

    curl -X POST localhost:8765/_emulator/faults -d '{"fault": "reconnect", "shard": 0}'
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Protocol

import orjson
from aiohttp import web

from .faults import DEFAULT_DISPATCH_FAULTS, DispatchFaultPlan, Fault
from .journal import Record
from .rest import add_routes, json_response
from .traffic import DEFAULT_MIX, TrafficGenerator

CONTROL_PREFIX = "/_emulator"


class Controllable(Protocol):
    """What the control API drives: the methods of
    :class:`~rxgateway.emulator.server.GatewayEmulator` each route calls (see there)."""

    @property
    def record(self) -> Record: ...

    def inject(
        self, fault: Fault, *, shard: int | None = None, connection: int | None = None, session: str | None = None
    ) -> list[int]: ...

    def schedule_dispatch_faults(
        self, every: int, faults: Iterable[Fault | str] = DEFAULT_DISPATCH_FAULTS
    ) -> DispatchFaultPlan: ...

    def stop_dispatch_faults(self) -> None: ...

    def dispatch(self, t: str, d: dict[str, Any]) -> None: ...

    def push(
        self, count: int, t: str = "MESSAGE_CREATE", *, shard: int | None = None, session: str | None = None
    ) -> int: ...

    def traffic(self, mix: str | Mapping[str, float] = DEFAULT_MIX) -> TrafficGenerator: ...

    def start_burst(self, count: int, mix: str | Mapping[str, float] = DEFAULT_MIX) -> None: ...

    def start_traffic(self, rate: float, mix: str | Mapping[str, float] = DEFAULT_MIX) -> None: ...

    def stop_traffic(self) -> None: ...


class ControlApi:
    """The control handlers of one emulator."""

    def __init__(self, emulator: Controllable) -> None:
        self._emulator = emulator

    def install(self, app: web.Application) -> None:
        add_routes(app, f"{CONTROL_PREFIX}/faults", "POST", self.faults)
        add_routes(app, f"{CONTROL_PREFIX}/dispatch-faults", "POST", self.dispatch_faults)
        add_routes(app, f"{CONTROL_PREFIX}/dispatch", "POST", self.dispatch)
        add_routes(app, f"{CONTROL_PREFIX}/push", "POST", self.push)
        add_routes(app, f"{CONTROL_PREFIX}/burst", "POST", self.burst)
        add_routes(app, f"{CONTROL_PREFIX}/traffic", "POST", self.traffic)
        add_routes(app, f"{CONTROL_PREFIX}/record", "GET", self.record)

    async def faults(self, request: web.Request) -> web.Response:
        try:
            body = await _body(request)
            fault = Fault.from_json(body)
            shard, connection, session = body.get("shard"), body.get("connection"), body.get("session")
            if not (_optional(shard, int) and _optional(connection, int) and _optional(session, str)):
                raise ValueError("shard and connection are integers, session a string")
        except ValueError as exc:
            return _error(exc)
        hit = self._emulator.inject(fault, shard=shard, connection=connection, session=session)
        return json_response({"connections": hit})

    async def dispatch_faults(self, request: web.Request) -> web.Response:
        """``POST /_emulator/dispatch-faults``: set or stop the faults by dispatch count."""
        try:
            body = await _body(request)
            every, faults = body.get("every"), body.get("faults", list(DEFAULT_DISPATCH_FAULTS))
            if not _optional(every, int) or not isinstance(faults, list):
                raise ValueError('dispatch faults are {"every": N, "faults": ["KIND[:ARG]" or {"fault": KIND, ...}]}')
            if not every:
                self._emulator.stop_dispatch_faults()
                return json_response({"every": None, "faults": []})
            parsed = [f if isinstance(f, str) else Fault.from_json(_object(f)) for f in faults]
            plan = self._emulator.schedule_dispatch_faults(every, parsed)
        except ValueError as exc:
            return _error(exc)
        return json_response({"every": plan.every, "faults": [f.to_text() for f in plan.faults]})

    async def push(self, request: web.Request) -> web.Response:
        """``POST /_emulator/push``: see :meth:`GatewayEmulator.push`."""
        try:
            body = await _body(request)
            count, t = body.get("count"), body.get("t", "MESSAGE_CREATE")
            shard, session = body.get("shard"), body.get("session")
            if not (_optional(shard, int) and _optional(session, str) and isinstance(t, str)):
                raise ValueError("t and session are strings, shard an integer")
            if not isinstance(count, int) or isinstance(count, bool):
                raise ValueError("count must be a non-negative integer")
            pushed = self._emulator.push(count, t, shard=shard, session=session)
        except ValueError as exc:
            return _error(exc)
        return json_response({"pushed": pushed})

    async def dispatch(self, request: web.Request) -> web.Response:
        try:
            body = await _body(request)
            t, d = body.get("t"), body.get("d")
            if not isinstance(t, str) or not isinstance(d, dict):
                raise ValueError('a dispatch is {"t": NAME, "d": {...}}')
        except ValueError as exc:
            return _error(exc)
        self._emulator.dispatch(t, d)
        return json_response({"ok": True})

    async def burst(self, request: web.Request) -> web.Response:
        try:
            body = await _body(request)
            count, mix = body.get("count"), body.get("mix", DEFAULT_MIX)
            if not isinstance(count, int) or count < 0:
                raise ValueError("count must be a non-negative integer")
            self._emulator.traffic(mix)  # raises ValueError for a bad mix
        except ValueError as exc:
            return _error(exc)
        self._emulator.start_burst(count, mix)
        return json_response({"ok": True}, 202)

    async def traffic(self, request: web.Request) -> web.Response:
        try:
            body = await _body(request)
            rate, mix = body.get("rate"), body.get("mix", DEFAULT_MIX)
            if not isinstance(rate, int | float) or rate < 0:
                raise ValueError("rate must be a non-negative number")
            self._emulator.traffic(mix)
        except ValueError as exc:
            return _error(exc)
        if rate:
            self._emulator.start_traffic(rate, mix)
        else:
            self._emulator.stop_traffic()
        return json_response({"ok": True})

    async def record(self, request: web.Request) -> web.Response:
        record = self._emulator.record
        connections = [
            {
                "id": c.id,
                "path": c.path,
                "compression": c.compression,
                "shard": None if c.shard is None else c.shard.to_list(),
                "session_id": c.session_id,
                "opened_at": c.opened_at,
                "closed_at": c.closed_at,
                "close_sent": c.close_sent,
                "close_received": c.close_received,
                "dropped": c.dropped,
                "identifies": [{"time": i.time, "bucket": i.bucket, "accepted": i.accepted} for i in c.identifies],
                "resumes": [{"time": r.time, "seq": r.seq, "accepted": r.accepted, "replayed": r.replayed}
                            for r in c.resumes],  # fmt: skip
                "payloads": len(c.payloads),
                "heartbeats": len(c.heartbeats),
                "dispatches_sent": len(c.sequences),
                "last_sequence": c.sequences[-1] if c.sequences else None,
                "dispatch_faults": [{"time": f.time, "fault": f.fault.to_text(), "written": f.written, "seq": f.seq}
                                    for f in c.dispatch_faults],  # fmt: skip
                "corrupted": c.corrupted,
            }
            for c in record.connections
        ]
        violations = [
            {"kind": v.kind.value, "connection": v.connection_id, "time": v.time, "detail": v.detail,
             "close_code": v.close_code}
            for v in record.violations
        ]  # fmt: skip
        replays = [
            {"session_id": r.session_id, "shard": r.shard.to_list(), "route": r.route, "scheduled": r.scheduled,
             "sent": r.sent, "started_at": r.started_at, "finished_at": r.finished_at, "ended": r.ended}
            for r in record.replays
        ]  # fmt: skip
        notes = [
            {"connection": n.connection_id, "time": n.time, "op": int(n.op), "detail": n.detail}
            for n in record.notes
        ]
        return json_response(
            {"connections": connections, "violations": violations, "notes": notes, "replays": replays}
        )


async def _body(request: web.Request) -> dict[str, Any]:
    try:
        body = orjson.loads(await request.read())
    except orjson.JSONDecodeError:
        raise ValueError("the body must be a JSON object") from None
    if not isinstance(body, dict):
        raise ValueError("the body must be a JSON object")
    return body


def _object(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ValueError("a fault is a string KIND[:ARG] or an object {\"fault\": KIND, ...}")
    return value


def _optional(value: Any, kind: type) -> bool:
    return value is None or (isinstance(value, kind) and not isinstance(value, bool))


def _error(exc: Exception) -> web.Response:
    return json_response({"error": str(exc)}, 400)
