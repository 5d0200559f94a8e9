"""Rx operators for gateway events, and reactivex's own, in one namespace.

``from rxgateway import ops`` gives every ``reactivex.operators`` operator
(``ops.filter``, ``ops.map`` ...) plus the gateway ones:

* :func:`on` – keep some event types, and ask the shard to parse only those.
* :func:`of_type` – keep instances of event classes, typed as them.
* :func:`with_shard`, :func:`by_shard` – pair events with, or group them by, shard.
* :func:`merge` – merge shards, groups and Observables, keeping demand push-down
  (also usable as the ``merge`` operator).
* :func:`spawn` – run an async handler per event as bounded, owned tasks.
* :func:`route`, :func:`pipeline` – a table from event keys to handlers, subscribed as
  one, with failures on an error stream (:class:`HandlerError`).
* :func:`publish` – forward a shard source's dispatches to the bus, unparsed, and
  take commands from it (given anything but a bus or broker, reactivex's ``publish``).

Example::

    pings = shards.pipe(
        ops.on(EventTypeFlags.MESSAGE_CREATE),           # only these get parsed
        ops.filter(lambda e: e.raw["content"] == "!ping"),
    )

Every operator works on any Observable. On a flag-aware source (a ``Shard``, a
``ShardGroup``, or the result of ``on``, ``of_type``, ``merge``) the event types
wanted are pushed down, so put ``on``/``of_type`` first: an ordinary operator in
front of them hides the shard from them.
"""

from . import _rx
from ._byshard import by_shard
from ._demand import FlagAware, FlagObservable
from ._errors import HandlerError
from ._merge import Merged, merge
from ._oftype import of_type
from ._on import on
from ._pipeline import Pipeline, pipeline
from ._route import Handler, RouteKey, RouteTable, Routing, route
from ._rx import *  # noqa: F403 (reactivex's operators, less the merge ours replaces; listed in _rx)
from ._publish import publish
from ._spawn import Spawn, spawn
from ._tasks import DEFAULT_MAX_CONCURRENCY
from ._withshard import with_shard

__all__ = [
    "publish",
    "DEFAULT_MAX_CONCURRENCY",
    "FlagAware",
    "FlagObservable",
    "Handler",
    "HandlerError",
    "Merged",
    "Pipeline",
    "RouteKey",
    "RouteTable",
    "Routing",
    "Spawn",
    "by_shard",
    "merge",
    "of_type",
    "on",
    "pipeline",
    "route",
    "spawn",
    "with_shard",
]
__all__ += _rx.__all__
