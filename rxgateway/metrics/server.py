"""``GET /metrics`` over HTTP, on the running event loop (aiohttp, already a
dependency).

Why not prometheus_client's ``start_http_server``: it serves from its own thread, so
every scrape would read the shards' counters, the member's shard table and the
queues from a thread that owns none of them (DESIGN.md principle 2), and it has no
clean way to stop. Here the collection runs on the loop that owns them, between two
callbacks; only the rendering of the text (pure string work on a copy) is handed to
a worker thread, so a large exposition does not hold the loop. :meth:`MetricsServer.aclose`
stops listening and waits for a scrape under way.

The response is the Prometheus text format, or OpenMetrics when the scraper asks for
it (``Accept``), gzipped when it accepts gzip. Other paths answer 404.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import TYPE_CHECKING

from aiohttp import web

if TYPE_CHECKING:
    from prometheus_client.metrics_core import Metric
    from prometheus_client.registry import Collector

__all__ = ["MetricsServer", "start_server"]


class _Collected:
    """Families already collected, in the shape an encoder takes (a ``collect()``)."""

    def __init__(self, families: list[Metric]) -> None:
        self._families = families

    def collect(self) -> Iterator[Metric]:
        return iter(self._families)


class MetricsServer:
    """A running ``/metrics`` endpoint; ``await server.aclose()`` (or ``async with``)
    stops it.

    Example::

        server = await metrics.serve(9464, host="0.0.0.0")
        print(server.url)             # http://0.0.0.0:9464/metrics
        ...
        await server.aclose()
    """

    def __init__(self, runner: web.AppRunner, host: str, port: int) -> None:
        self._runner = runner
        self.host = host
        #: The port listened on (the one the system chose, for port 0).
        self.port = port
        self._closed = False

    @property
    def url(self) -> str:
        """``http://host:port/metrics``."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}/metrics"

    async def aclose(self) -> None:
        """Stop listening; returns once the server is down."""
        if self._closed:
            return
        self._closed = True
        await self._runner.cleanup()

    async def __aenter__(self) -> MetricsServer:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    def __repr__(self) -> str:
        return f"MetricsServer({self.url!r}{', closed' if self._closed else ''})"


async def start_server(registry: Collector, port: int, host: str = "127.0.0.1") -> MetricsServer:
    """Serve ``registry`` at ``http://host:port/metrics`` on the running loop."""
    from prometheus_client.exposition import choose_encoder

    async def metrics(request: web.Request) -> web.StreamResponse:
        families = list(registry.collect())  # on the loop: it owns what is read
        encoder, content_type = choose_encoder(request.headers.get("Accept", ""))
        loop = asyncio.get_running_loop()
        body = await loop.run_in_executor(None, encoder, _Collected(families))
        response = web.Response(body=body, headers={"Content-Type": content_type})
        if "gzip" in request.headers.get("Accept-Encoding", ""):
            response.enable_compression(web.ContentCoding.gzip)
        return response

    app = web.Application()
    app.router.add_get("/metrics", metrics)
    runner = web.AppRunner(app, access_log=None, handle_signals=False)
    await runner.setup()
    try:
        site = web.TCPSite(runner, host, port)
        await site.start()
    except BaseException:
        await runner.cleanup()
        raise
    bound = runner.addresses[0][1] if runner.addresses else port
    return MetricsServer(runner, host, int(bound))
