"""The tutorial's code runs as written: its ``bot.py`` and ``try_bot.py`` are taken from
docs/tutorial.md, saved in a temporary directory and run against the emulator they
start, in a process of their own; the bot must have answered ``!ping`` over REST."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from .conftest import ROOT

TUTORIAL = ROOT / "docs" / "tutorial.md"
#: A fenced Python block right after the line that says "Save this as `NAME` ...".
BLOCK = re.compile(r"Save\s+this\s+as\s+`(?P<name>[\w.]+)`[^\n]*\n\s*```python\n(?P<code>.*?)```", re.S)


def saved_files() -> dict[str, str]:
    return {m.group("name"): m.group("code") for m in BLOCK.finditer(TUTORIAL.read_text())}


def test_the_tutorial_bot_answers_ping_on_the_emulator(tmp_path: Path) -> None:
    files = saved_files()
    assert set(files) == {"bot.py", "try_bot.py"}, sorted(files)
    for name, code in files.items():
        (tmp_path / name).write_text(code)
    done = subprocess.run(
        [sys.executable, "try_bot.py"], cwd=tmp_path, capture_output=True, text=True, timeout=90
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "content='pong!'" in done.stdout, done.stdout
    assert done.stdout.count("SentMessage(") == 1, done.stdout
