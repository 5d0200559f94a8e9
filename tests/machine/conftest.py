"""The machine's receive lane under each implementation this environment has.

``ShardMachine.on_message`` reads the gateway's usual layout with the compiled lane
(``shard_machine._read_lane``, one C call) where the optional C extension was built,
else in Python with :data:`~rxgateway.protocol.envelope.compiled_probe_dispatch` or the
pure :func:`~rxgateway.protocol.envelope.probe_dispatch`. Modules that drive the
receive lane use ``dispatch_probe`` to run every test under each, so the fallbacks
stay as tested as the default.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from rxgateway.machine import shard_machine
from rxgateway.protocol.envelope import compiled_probe_dispatch, probe_dispatch

#: name -> (the probe of the Python lane, the compiled lane or None).
LANES: dict[str, tuple[Callable[[bytes], Any], Callable[..., Any] | None]] = {"pure-probe": (probe_dispatch, None)}
if compiled_probe_dispatch is not None:
    LANES["compiled-probe"] = (compiled_probe_dispatch, None)
if shard_machine._read_lane is not None:
    LANES["compiled-lane"] = (shard_machine.dispatch_probe, shard_machine._read_lane)


@pytest.fixture(scope="module", params=sorted(LANES))
def dispatch_probe(request: pytest.FixtureRequest) -> Iterator[str]:
    """The machine module's lane set to each of :data:`LANES` in turn (module scope:
    hypothesis's tests keep working; restored afterwards)."""
    saved = shard_machine.dispatch_probe, shard_machine._read_lane
    shard_machine.dispatch_probe, shard_machine._read_lane = LANES[request.param]
    try:
        yield request.param
    finally:
        shard_machine.dispatch_probe, shard_machine._read_lane = saved
