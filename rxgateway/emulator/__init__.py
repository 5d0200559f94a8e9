"""A local Discord gateway: the real protocol on a loopback socket, with REST, faults,
traffic and a record of everything each client did.

Example::

    from rxgateway.emulator import GatewayEmulator, Fault

    async with GatewayEmulator(shards=2, heartbeat_interval_ms=1000) as emu:
        print(emu.url, emu.api_url)          # ws://127.0.0.1:PORT, http://127.0.0.1:PORT/api/v10
        ...                                  # connect a bot
        emu.inject(Fault.reconnect(), shard=1)
        assert not emu.violations

    # A flaky node: a fault every 1000 dispatches written, cycling through four kinds.
    async with GatewayEmulator(fault_every_dispatches=1000,
                               dispatch_faults=("reconnect", "invalid_session:true", "close:4000", "drop")) as emu:
        ...
        emu.push(30_000, "MESSAGE_CREATE", shard=0)   # a backlog for shard 0's Resume
"""

from .dispatch import OutgoingDispatch
from .faults import CLOSING_FAULTS, DEFAULT_DISPATCH_FAULTS, FAULT_HELP, DispatchFaultPlan, Fault, FaultKind
from .journal import (
    CommandRecord,
    ConnectionRecord,
    DispatchFaultRecord,
    HeartbeatRecord,
    IdentifyRecord,
    Note,
    PayloadRecord,
    Record,
    ReplayRecord,
    RestCall,
    ResumeRecord,
    SentMessage,
    Violation,
    ViolationKind,
)
from .payloads import CATEGORIES
from .playback import ReplaySource
from .server import GatewayEmulator
from .settings import DEFAULT_TOKEN, EmulatorConfig
from .traffic import DEFAULT_MIX, TrafficGenerator, parse_mix

#: The former name of :class:`OutgoingDispatch` (renamed so that
#: :class:`rxgateway.events.Dispatch`, the typed event a client receives, is the only
#: ``Dispatch`` in the package); kept importable from here.
Dispatch = OutgoingDispatch

__all__ = [
    "CATEGORIES",
    "CLOSING_FAULTS",
    "DEFAULT_DISPATCH_FAULTS",
    "DEFAULT_MIX",
    "DEFAULT_TOKEN",
    "FAULT_HELP",
    "CommandRecord",
    "ConnectionRecord",
    "Dispatch",
    "DispatchFaultPlan",
    "DispatchFaultRecord",
    "EmulatorConfig",
    "Fault",
    "FaultKind",
    "GatewayEmulator",
    "HeartbeatRecord",
    "IdentifyRecord",
    "Note",
    "OutgoingDispatch",
    "PayloadRecord",
    "Record",
    "ReplayRecord",
    "ReplaySource",
    "RestCall",
    "ResumeRecord",
    "SentMessage",
    "TrafficGenerator",
    "Violation",
    "ViolationKind",
    "parse_mix",
]
