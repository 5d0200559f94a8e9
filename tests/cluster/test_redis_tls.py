"""``rediss://``: the cluster reaches Redis over TLS, verifying the server.

The redis-server from PyPI is built without TLS, so a small TLS terminator on
loopback stands in front of it (what stunnel or a cloud proxy does): the client
side, which is ours, speaks real TLS with certificate verification."""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import AsyncIterator

import pytest
import trustme

from rxgateway.cluster.redis_link import connect, redact_url
from rxgateway.tools.redis_server import RedisServer

PASSWORD = "tls-pw-0451"


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except (ConnectionError, asyncio.CancelledError):
        pass
    finally:
        writer.close()


@pytest.fixture
async def tls_redis() -> AsyncIterator[tuple[str, trustme.CA]]:
    """``rediss://:PASSWORD@localhost:PORT/0`` through a TLS terminator, and its CA."""
    ca = trustme.CA()
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("localhost").configure_cert(server_ctx)
    with RedisServer(password=PASSWORD) as redis:
        tasks: set[asyncio.Task[None]] = set()

        async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", redis.port)
            for pair in ((reader, up_writer), (up_reader, writer)):
                task = asyncio.create_task(_pipe(*pair))
                tasks.add(task)
                task.add_done_callback(tasks.discard)

        server = await asyncio.start_server(handle, "127.0.0.1", 0, ssl=server_ctx)
        port = server.sockets[0].getsockname()[1]
        try:
            yield f"rediss://:{PASSWORD}@localhost:{port}/0", ca
        finally:
            server.close()
            for task in list(tasks):
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await server.wait_closed()


async def test_a_rediss_url_with_a_password_works_and_verifies_the_server(
    tls_redis: tuple[str, trustme.CA], tmp_path: object
) -> None:
    url, ca = tls_redis
    with ca.cert_pem.tempfile() as ca_file:
        client = connect(url, ssl_ca_certs=ca_file)
        try:
            assert await client.ping() is True
            await client.set("k", "v")
            assert await client.get("k") == b"v"
            assert PASSWORD not in repr(client) and PASSWORD not in redact_url(url)
        finally:
            await client.aclose()


async def test_a_server_the_client_does_not_trust_is_refused(tls_redis: tuple[str, trustme.CA]) -> None:
    url, _ca = tls_redis
    client = connect(url)  # the system's trust store: it does not know our test CA
    try:
        with pytest.raises(Exception) as caught:
            await client.ping()
        assert "certificate" in str(caught.value).lower() or "ssl" in str(caught.value).lower()
        assert PASSWORD not in str(caught.value)
    finally:
        await client.aclose()
