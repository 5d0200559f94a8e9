"""Config: copies made with ``replace`` share the TLS context only when they share the
trust, whichever of the two builds its context first."""

from __future__ import annotations

import ssl

import pytest

from rxgateway.config import Config
from rxgateway.protocol import Intents

TOKEN = "MTIzNDU2Nzg5MDEyMzQ1Njc4.Gabcde.secret-part"


def custom_context() -> ssl.SSLContext:
    context = ssl.create_default_context()
    context.set_ciphers("ECDHE+AESGCM")
    return context


@pytest.mark.parametrize("first", ["original", "copy"])
def test_a_copy_with_other_tls_gets_its_own_context(first: str) -> None:
    mine = custom_context()
    original = Config(TOKEN, Intents.GUILDS)
    copy = original.replace(tls=mine)
    if first == "original":
        built_original = original.ssl_context()
        built_copy = copy.ssl_context()
    else:
        built_copy = copy.ssl_context()
        built_original = original.ssl_context()
    assert built_copy is mine
    assert built_original is not mine and built_original.verify_mode == ssl.CERT_REQUIRED


@pytest.mark.parametrize("first", ["original", "copy"])
def test_a_copy_with_the_same_tls_shares_the_context(first: str) -> None:
    original = Config(TOKEN, Intents.GUILDS)
    copy = original.replace(large_threshold=100)
    contexts = [original.ssl_context(), copy.ssl_context()] if first == "original" else [copy.ssl_context(), original.ssl_context()]
    assert contexts[0] is contexts[1]  # built once for both


def test_replacing_tls_with_the_same_value_builds_a_fresh_context() -> None:
    original = Config(TOKEN, Intents.GUILDS)
    context = original.ssl_context()
    assert original.replace(tls="default").ssl_context() is not context
