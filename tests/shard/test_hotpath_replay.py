"""The receive loop over a replayed stream (benchmarks/hotpath.py, the harness the
instruction counts come from): every path of it delivers exactly the events of the
stream, compressed or not, so the counts measure a working path."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))

import hotpath  # noqa: E402

EVENTS = 300


@pytest.mark.parametrize("compression", ["zstd-stream", "zlib-stream", "none"])
def test_every_path_delivers_every_event_of_the_stream(compression: str) -> None:
    for path in hotpath.PATHS:
        seen, cpu = asyncio.run(hotpath.replay(path, compression, EVENTS))
        assert seen == EVENTS, (path, compression, seen)
        assert cpu >= 0.0
