"""The machine's receive lane under each dispatch probe this environment has.

``ShardMachine.on_message`` reads the gateway's usual layout with
:data:`~rxgateway.protocol.envelope.compiled_probe_dispatch` where the optional C
extension was built, else with the pure :func:`~rxgateway.protocol.envelope.probe_dispatch`.
Modules that drive the receive lane use ``dispatch_probe`` to run every test under
both, so the fallback stays as tested as the default.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from rxgateway.machine import shard_machine
from rxgateway.protocol.envelope import compiled_probe_dispatch, probe_dispatch

PROBES = {"pure-probe": probe_dispatch}
if compiled_probe_dispatch is not None:
    PROBES["compiled-probe"] = compiled_probe_dispatch


@pytest.fixture(scope="module", params=sorted(PROBES))
def dispatch_probe(request: pytest.FixtureRequest) -> Iterator[str]:
    """The machine module's probe set to each of :data:`PROBES` in turn (module scope:
    hypothesis's tests keep working; restored afterwards)."""
    saved = shard_machine.dispatch_probe
    shard_machine.dispatch_probe = PROBES[request.param]
    try:
        yield request.param
    finally:
        shard_machine.dispatch_probe = saved
