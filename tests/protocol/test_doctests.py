"""The examples in the protocol modules' docstrings run and are right."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = ["close", "commands", "envelope", "event_type", "intents", "opcode", "shard_id"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    module = importlib.import_module(f"rxgateway.protocol.{name}")
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0
    assert result.attempted > 0
