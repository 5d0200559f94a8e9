"""The `rxgateway` command: the demo's screen, plain progress output, help texts, and
one-line errors for the mistakes a user can make."""

from __future__ import annotations

import io
import os
import re
import socket
import subprocess
import sys

import pytest
from rich.console import Console

from rxgateway.emulator import GatewayEmulator
from rxgateway.tools.cli import build_parser, main
from rxgateway.tools.demo import run_demo

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


async def test_demo_dashboard_shows_active_shards_resumes_and_no_gaps() -> None:
    out = io.StringIO()
    console = Console(file=out, record=True, force_terminal=True, width=140, color_system=None)
    summary = await run_demo(shards=3, seconds=6, rate=300, out=out, console=console, live=True)
    screen = console.export_text()
    assert "rxgateway demo" in screen
    assert screen.count("Active") >= 3
    assert "sequence gaps: 0" in screen and "duplicates: 0" in screen
    # The final table: one row per shard, resumes counted for the faulted shards.
    rows = re.findall(r"│\s*(\d)\s*│\s*(\w+)\s*│.*?│\s*(\d+)\s*│\s*[\d.]+\s*│\s*(\d+)\s*│", screen)
    assert {r[0] for r in rows} >= {"0", "1", "2"}
    assert sum(int(r[3]) for r in rows[-3:]) >= 1
    text = out.getvalue()
    assert "sequence gaps: 0, duplicates: 0, rule violations: 0" in text
    assert "result: OK" in text
    assert summary.ok and summary.resumes >= 1 and summary.gaps == 0


def test_demo_prints_plain_progress_lines_when_not_a_terminal() -> None:
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    proc = subprocess.run(
        [sys.executable, "-m", "rxgateway", "demo", "--shards", "2", "--seconds", "5", "--rate", "200"],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert any(re.match(r"\[\s*\d+\.\ds\] events \d+ \|", line) for line in lines)
    assert "\x1b[" not in proc.stdout  # no escape codes for a pipe
    assert "result: OK" in proc.stdout


def test_demo_in_a_pseudo_terminal_draws_the_live_table() -> None:
    pty = pytest.importorskip("pty")
    master, slave = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "rxgateway", "demo", "--shards", "2", "--seconds", "4", "--rate", "200"],
        stdin=slave,
        stdout=slave,
        stderr=slave,
        env=dict(os.environ, COLUMNS="120", LINES="40", TERM="xterm"),
    )
    os.close(slave)
    chunks = []
    try:
        while True:
            try:
                data = os.read(master, 65536)
            except OSError:
                break
            if not data:
                break
            chunks.append(data)
    finally:
        proc.wait(timeout=120)
        os.close(master)
    screen = ANSI.sub("", b"".join(chunks).decode(errors="replace"))
    assert proc.returncode == 0
    assert "events by type" in screen and "Active" in screen
    assert "sequence gaps: 0" in screen


def test_help_lists_every_subcommand_and_option() -> None:
    parser = build_parser()
    top = parser.format_help()
    for command in ("demo", "run", "emulate"):
        assert command in top
    sub = {a.dest: a for a in parser._subparsers._group_actions}["command"].choices  # type: ignore[union-attr]
    demo_help = sub["demo"].format_help()
    for option in ("--shards", "--seconds", "--rate", "--compression"):
        assert option in demo_help
    run_help = sub["run"].format_help()
    for option in ("--gateway-url", "--events", "--intents", "DISCORD_TOKEN"):
        assert option in run_help
    emulate_help = sub["emulate"].format_help()
    for fault in ("drop", "zombie", "reconnect", "invalid_session", "corrupt_frame", "invalid_json", "slow_link"):
        assert fault in emulate_help
    for option in ("--host", "--port", "--token", "--shards", "--max-concurrency", "--heartbeat-interval",
                   "--rate", "--mix", "--seed", "--guilds"):  # fmt: skip
        assert option in emulate_help


def test_run_without_a_token_is_one_clear_line(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DISCORD_TOKEN", raising=False)
    assert main(["run"]) == 2
    err = capsys.readouterr().err
    assert err.strip() == "rxgateway: no token: set DISCORD_TOKEN to your bot token"


async def _emulator_url(**changes: object) -> tuple[GatewayEmulator, str]:
    emu = GatewayEmulator(**changes)  # type: ignore[arg-type]
    await emu.start()
    return emu, emu.url


def _run_cli(args: list[str], token: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, DISCORD_TOKEN=token)
    return subprocess.run([sys.executable, "-m", "rxgateway", *args], capture_output=True, text=True, timeout=60, env=env)


def _emulator_process(*args: str) -> tuple[subprocess.Popen[str], int]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(
        [sys.executable, "-m", "rxgateway", "emulate", "--port", str(port), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert proc.stdout is not None
    for _ in range(100):
        line = proc.stdout.readline()
        if "ws://" in line or not line:
            break
    return proc, port


def test_run_errors_are_one_line_each() -> None:
    from rxgateway.emulator import DEFAULT_TOKEN

    proc, port = _emulator_process("--no-privileged")
    try:
        api = f"http://127.0.0.1:{port}/api/v10"
        gw = f"ws://127.0.0.1:{port}"
        bad = _run_cli(["run", "--gateway-url", gw, "--api-url", api, "--seconds", "5"], "wrong-token")
        assert bad.returncode == 1 and len(bad.stderr.strip().splitlines()) == 1, bad.stderr
        assert "token" in bad.stderr and "wrong-token" not in bad.stderr + bad.stdout
        intents = _run_cli(
            ["run", "--gateway-url", gw, "--api-url", api, "--intents", "GUILDS,GUILD_MEMBERS", "--seconds", "5"],
            DEFAULT_TOKEN,
        )
        assert intents.returncode == 1 and "disallowed intents (GUILD_MEMBERS)" in intents.stderr, intents.stderr
        assert len(intents.stderr.strip().splitlines()) == 1
        busy = subprocess.run(
            [sys.executable, "-m", "rxgateway", "emulate", "--port", str(port)],
            capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert busy.returncode == 1 and busy.stderr.strip().startswith("rxgateway: port in use"), busy.stderr
        assert len(busy.stderr.strip().splitlines()) == 1
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    unreachable = _run_cli(
        ["run", "--gateway-url", f"ws://127.0.0.1:{port}", "--api-url", f"http://127.0.0.1:{port}/api/v10"], "x"
    )
    assert unreachable.returncode == 1 and "cannot reach" in unreachable.stderr
    assert len(unreachable.stderr.strip().splitlines()) == 1
