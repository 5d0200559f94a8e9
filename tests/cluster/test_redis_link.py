"""The Redis plumbing: the throwaway server, a client from a URL, redaction, key names."""

from __future__ import annotations

import pytest

from rxgateway.cluster.redis_link import Keys, connect, redact_url
from rxgateway.tools.redis_server import RedisServer


async def test_a_client_from_the_url_talks_to_the_server(redis: object) -> None:
    assert await redis.ping() is True  # type: ignore[attr-defined]


async def test_a_password_url_works_and_is_never_shown() -> None:
    with RedisServer(password="s3cret-pw") as server:
        client = connect(server.url)
        try:
            assert await client.ping() is True
            assert "s3cret-pw" not in redact_url(server.url)
            assert "s3cret-pw" not in repr(client)
        finally:
            await client.aclose()
        wrong = connect(server.url.replace("s3cret-pw", "wrong"))
        try:
            with pytest.raises(Exception) as caught:
                await wrong.ping()
            assert "s3cret-pw" not in str(caught.value)
        finally:
            await wrong.aclose()


def test_the_server_restarts_empty_on_the_same_port() -> None:
    import socket

    with RedisServer() as server:
        port = server.port
        server.stop()
        with pytest.raises(OSError):
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
        server.start()
        assert server.port == port and server.running


def test_redaction_keeps_user_host_port_and_path() -> None:
    assert redact_url("rediss://bot:hunter2@redis.example:6380/2") == "rediss://bot:***@redis.example:6380/2"
    assert redact_url("redis://localhost") == "redis://localhost"


def test_bad_urls_and_app_names_are_refused_without_the_password() -> None:
    with pytest.raises(ValueError) as caught:
        connect("http://:pw123@host/0")
    assert "pw123" not in str(caught.value)
    for bad in ("", "has space", "x" * 65, "{brace}"):
        with pytest.raises(ValueError):
            Keys(bad)


def test_keys_of_two_apps_never_collide() -> None:
    a, b = Keys("a"), Keys("b")
    assert a.lease(1) != b.lease(1) and a.bucket(0).startswith("{a}:") and b.session(3).startswith("{b}:")
