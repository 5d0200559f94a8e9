"""The examples in the docstrings of ``rxgateway.events`` run and print what they say.

Module examples that name a ``payload`` get the GATEWAY.md example of that module's
main dispatch."""

from __future__ import annotations

import doctest
import importlib
from typing import Any

import pytest

import rxgateway.events as events
from rxgateway.events import fields
from rxgateway.protocol import EventType, ShardId

from .doc_frames import d

MODULES = [
    "", "fields", "view", "objects", "session_events", "channels", "threads", "messages", "reactions", "polls", "guilds",
    "members", "roles", "moderation", "automod", "expressions", "scheduled_events", "stage", "integrations",
    "invites", "interactions", "presence", "voice", "monetization", "registry",
]  # fmt: skip

#: The ``payload`` a module's examples read.
PAYLOAD_OF = {
    "session_events": "READY", "reactions": "MESSAGE_REACTION_ADD", "guilds": "GUILD_CREATE",
    "automod": "AUTO_MODERATION_ACTION_EXECUTION", "monetization": "ENTITLEMENT_CREATE",
    "interactions": "INTERACTION_CREATE", "presence": "PRESENCE_UPDATE",
}  # fmt: skip


def namespace(module: str) -> dict[str, Any]:
    names: dict[str, Any] = {name: getattr(events, name) for name in events.__all__}
    names.update({name: getattr(fields, name) for name in fields.__all__})
    names.update(ShardId=ShardId, EventType=EventType)
    message = d("MESSAGE_CREATE")
    names["payload"] = d(PAYLOAD_OF[module]) if module in PAYLOAD_OF else dict(message, content="hi")
    names["d"] = dict(message, content="hi")
    return names


@pytest.mark.parametrize("module", MODULES, ids=lambda m: m or "__init__")
def test_docstring_examples(module: str) -> None:
    mod = importlib.import_module(f"rxgateway.events.{module}" if module else "rxgateway.events")
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    tests = [t for t in doctest.DocTestFinder().find(mod, globs=namespace(module)) if t.examples]
    assert tests, module
    for test in tests:
        if test.name.startswith(mod.__name__):
            runner.run(test)
    assert runner.summarize(verbose=False).failed == 0
