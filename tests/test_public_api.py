"""The package exposes exactly the names listed here, and each one is documented.

The rule for ``dir(rxgateway)``: a public name (no leading underscore) is either in
``__all__`` or is one of the package's own submodules, bound as an attribute by
Python's import system when that submodule was imported (``rxgateway.config`` once
anything imported it). Nothing else: no helper, no re-exported third-party object,
no module imported from outside the package. Changing the public API means changing
``PUBLIC`` below, on purpose.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import types

import pytest

import rxgateway

#: The documented public API of ``rxgateway``.
PUBLIC = frozenset({
    # configuration and entry points
    "Config", "DEFAULT_API_URL", "DEFAULT_GATEWAY_URL",
    "Shard", "ShardGroup", "ShardSender", "GroupSender", "EventStream",
    "bucket", "create_iterator", "create_range", "create_recommended",
    "GatewayBot", "SessionStartLimit", "get_gateway_bot",
    "run", "run_async", "Bot",
    # state
    "Latency", "Session", "ShardState", "StateKind", "SequenceAudit",
    # protocol
    "CloseCode", "CloseFrame", "EventType", "EventTypeFlags", "Intents", "OpCode", "ShardId",
    "shard_for_guild",
    # commands
    "Activity", "ActivityType", "Command", "RequestChannelInfo", "RequestGuildMembers",
    "RequestSoundboardSounds", "Status", "UpdatePresence", "UpdateVoiceState",
    # identify queues, session stores, the cluster on Redis
    "InMemoryQueue", "SessionQueue", "RedisQueue",
    "SessionStore", "SessionRecord", "MemorySessionStore", "FileSessionStore", "RedisSessionStore",
    "Member", "MemberSender",
    # record and replay
    "Recorder", "Recording", "RecordingError", "record", "Replay", "replay",
    # operators
    "ops",
    # errors
    "GatewayError", "AuthenticationError", "CommandsNotSentError", "CompressionError", "ConnectError",
    "DeserializationError", "DisallowedIntentsError", "FatalCloseError", "HTTPError",
    "IdentifyQueueError", "PayloadTooLargeError", "SendError", "SessionStoreError", "ShardClosedError",
    "UnauthorizedError",
})  # fmt: skip

#: Names in ``PUBLIC`` that are modules rather than objects.
PUBLIC_MODULES = frozenset({"ops"})


def own_submodules() -> set[str]:
    return {info.name for info in pkgutil.iter_modules(rxgateway.__path__)}


def test_all_is_exactly_the_documented_list() -> None:
    assert len(rxgateway.__all__) == len(set(rxgateway.__all__)), "__all__ lists a name twice"
    assert set(rxgateway.__all__) - PUBLIC == set(), "exported but not documented here"
    assert PUBLIC - set(rxgateway.__all__) == set(), "documented here but not exported"


@pytest.mark.parametrize("name", sorted(PUBLIC))
def test_every_public_name_resolves_to_something_of_ours(name: str) -> None:
    assert hasattr(rxgateway, name), f"rxgateway.{name} is listed but does not exist"
    obj = getattr(rxgateway, name)
    if name in PUBLIC_MODULES:
        assert isinstance(obj, types.ModuleType) and obj.__name__ == f"rxgateway.{name}"
    elif inspect.isclass(obj) or inspect.isfunction(obj):
        assert obj.__module__.startswith("rxgateway."), f"rxgateway.{name} comes from {obj.__module__}"
    else:
        assert isinstance(obj, (str, int)), f"rxgateway.{name} is a {type(obj).__name__}"


def test_star_import_gives_exactly_the_public_names() -> None:
    namespace: dict[str, object] = {}
    exec("from rxgateway import *", namespace)  # noqa: S102
    assert set(namespace) - {"__builtins__"} == PUBLIC


def test_no_public_name_beyond_all_except_own_submodules() -> None:
    submodules = own_submodules()
    for name in dir(rxgateway):
        # "@py_builtins" and "@pytest_ar": pytest's assertion rewriting adds them to every
        # module of a distribution that registers a pytest plugin (ours does).
        if name.startswith(("_", "@")) or name in rxgateway.__all__:
            continue
        value = getattr(rxgateway, name)
        assert isinstance(value, types.ModuleType), f"rxgateway.{name} is public but not in __all__"
        assert value.__name__ == f"rxgateway.{name}", f"rxgateway.{name} is the foreign module {value.__name__}"
        assert name in submodules


def test_the_rule_holds_with_every_submodule_imported() -> None:
    # Importing more of the package binds more submodule attributes, never other names.
    for name in sorted(own_submodules() - {"__main__"}):
        importlib.import_module(f"rxgateway.{name}")
    test_no_public_name_beyond_all_except_own_submodules()


@pytest.mark.parametrize("name", sorted(PUBLIC))
def test_public_name_is_documented(name: str) -> None:
    obj = getattr(rxgateway, name)
    if isinstance(obj, (str, int)):  # constants: documented where defined
        return
    doc = inspect.getdoc(obj)
    assert doc and len(doc) > 20, f"rxgateway.{name} has no real docstring"


def test_the_package_imports_without_redis_and_says_what_to_install() -> None:
    """The cluster is an extra: ``import rxgateway`` never needs redis-py, and using
    Redis without it is one clear error."""
    import subprocess
    import sys

    code = (
        "import sys; sys.modules['redis'] = None\n"
        "import rxgateway\n"
        "from rxgateway.cluster.redis_link import connect\n"
        "try:\n"
        "    connect('redis://127.0.0.1:1/0')\n"
        "except RuntimeError as exc:\n"
        "    print(exc)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "pip install 'rxgateway[redis]'" in done.stdout
