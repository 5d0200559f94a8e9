"""One live session, recorded once for the module's tests that only read it."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from .support import LiveSession, record_live_session


@pytest.fixture(scope="package")
def session(tmp_path_factory: pytest.TempPathFactory) -> LiveSession:
    """A recorded live session (three shards, traffic, four faults)."""
    path = tmp_path_factory.mktemp("replay") / "live.jsonl.zst"
    return asyncio.run(record_live_session(path))
