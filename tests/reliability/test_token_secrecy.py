"""The token never appears in a log record, a repr, an exception message or output."""

from __future__ import annotations

import logging
import ssl

import pytest

from rxgateway import Config, Intents, create_recommended, errors, get_gateway_bot
from rxgateway.emulator import Fault
from rxgateway.protocol import CloseFrame, ShardId
from rxgateway.protocol.commands import Identify, Resume
from rxgateway.shard import Shard

from ..shard.test_shard_emulator import Collector, emulator, wait_until

TOKEN = "MTIzNDU2Nzg5MDEyMzQ1Njc4.secret-part.do-not-leak"


async def test_whole_lifecycle_at_debug_never_shows_the_token(
    caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    caplog.set_level(logging.DEBUG)
    seen_text: list[str] = []
    async with emulator(tokens=(TOKEN,), shards=2) as emu:
        config = Config(TOKEN, Intents.all(), gateway_url=emu.url, api_url=emu.api_url)
        seen_text.append(repr(config))
        info = await get_gateway_bot(TOKEN, api_url=emu.api_url)
        seen_text.append(repr(info))
        group = await create_recommended(config)
        events = Collector(group)
        async with group:
            await group.ready(timeout=10)
            seen_text += [repr(group), group._repr_html_()]
            for n, fault in enumerate((Fault.reconnect(), Fault.invalid_session(True), Fault.drop(), Fault.invalid_json())):
                emu.inject(fault, shard=0)
                await wait_until(lambda: len(emu.record.connections) >= 3 + n, 30)
                await wait_until(lambda: all(s.state.kind.value == "active" for s in group), 30)
            shard = group.shard(0)
            seen_text += [repr(shard), shard._repr_html_(), repr(shard.session)]
            shard.close(CloseFrame.RESUME)
        seen_text += [repr(e) for e in events.events]
        # A refused token: the error must not carry it either.
        bad = Shard(ShardId(0, 1), Config(TOKEN + "x", Intents.GUILDS, gateway_url=emu.url))
        await bad.start()
        with pytest.raises(errors.AuthenticationError) as info_bad:
            await bad.closed()
        seen_text += [str(info_bad.value), repr(info_bad.value)]
        with pytest.raises(errors.UnauthorizedError) as info_http:
            await get_gateway_bot(TOKEN + "x", api_url=emu.api_url)
        seen_text += [str(info_http.value), repr(info_http.value)]
    seen_text.append(repr(Identify(token=TOKEN, intents=1)))
    seen_text.append(repr(Resume(token=TOKEN, session_id="s", seq=1)))
    out = capsys.readouterr()
    records = [r.getMessage() for r in caplog.records] + [str(r.args) for r in caplog.records]
    haystack = "\n".join(seen_text + records + [out.out, out.err])
    assert len(caplog.records) > 20  # the lifecycle really was logged
    for secret in (TOKEN, TOKEN.split(".", 1)[1], "secret-part"):
        assert secret not in haystack


def test_tls_verification_is_on_by_default() -> None:
    config = Config(TOKEN, Intents.GUILDS)
    context = config.ssl_context()
    assert config.gateway_url.startswith("wss://")
    assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname
