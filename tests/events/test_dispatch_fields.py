"""Every property of every class, read from realistic payloads (``payloads.py``) and
compared with values written by hand (``expected.py``)."""

from __future__ import annotations

import inspect
from typing import Any

import pytest

from rxgateway.events import DISPATCH_CLASSES
from rxgateway.events.view import Display

from .expected import EXPECTED
from .helpers import VIEW_CLASSES, build, fields, properties
from .payloads import PAYLOADS

CASES = [(name, i) for name in PAYLOADS for i in range(len(PAYLOADS[name]))]


def check(obj: Any, expected: dict[str, Any], path: str, asserted: set[int]) -> None:
    """Compare ``obj``'s attributes with ``expected``; note each property that was
    asserted with a value other than None."""
    for attr, want in expected.items():
        descriptor = inspect.getattr_static(type(obj), attr)
        assert isinstance(descriptor, property), f"{path}.{attr} is not a property"
        if want is not None:
            asserted.add(id(descriptor))
        compare(getattr(obj, attr), want, f"{path}.{attr}", asserted)


def compare(got: Any, want: Any, path: str, asserted: set[int]) -> None:
    if isinstance(got, Display):
        assert isinstance(want, dict), f"{path}: a view, expected {want!r}"
        check(got, want, path, asserted)
    elif isinstance(got, list) and got and isinstance(got[0], Display):
        assert isinstance(want, list) and len(got) == len(want), f"{path}: {got!r} vs {want!r}"
        for i, (item, wanted) in enumerate(zip(got, want)):
            compare(item, wanted, f"{path}[{i}]", asserted)
    else:
        assert got == want, f"{path}: {got!r} != {want!r}"
        assert type(got) is type(want), f"{path}: {type(got).__name__} is not {type(want).__name__}"


def plain(value: Any) -> Any:
    """Views replaced by their dicts, for comparing two reads."""
    if isinstance(value, list):
        return [plain(item) for item in value]
    return value.raw if isinstance(value, Display) else value


def read_everything(obj: Display, path: str, depth: int = 0) -> None:
    """Read every property of ``obj`` and of the views inside it."""
    for attr in properties(type(obj)):
        value = getattr(obj, attr)
        items = value if isinstance(value, list) else [value]
        for item in items:
            if isinstance(item, Display) and depth < 4:
                read_everything(item, f"{path}.{attr}", depth + 1)


def test_every_name_has_payloads_and_expectations() -> None:
    assert set(PAYLOADS) == set(EXPECTED) == set(DISPATCH_CLASSES)
    assert all(len(PAYLOADS[name]) == len(EXPECTED[name]) for name in PAYLOADS)


@pytest.mark.parametrize(("name", "index"), CASES)
def test_fields_read_the_expected_values(name: str, index: int) -> None:
    event = build(name, PAYLOADS[name][index])
    check(event, EXPECTED[name][index], name, set())


@pytest.mark.parametrize(("name", "index"), CASES)
def test_every_property_reads_on_realistic_payloads(name: str, index: int) -> None:
    read_everything(build(name, PAYLOADS[name][index]), name)


def test_every_property_of_every_class_is_asserted_with_a_value() -> None:
    asserted: set[int] = set()
    for name, index in CASES:
        check(build(name, PAYLOADS[name][index]), EXPECTED[name][index], name, asserted)
    missing = [
        f"{cls.__name__}.{attr}"
        for cls in VIEW_CLASSES
        for attr, descriptor in properties(cls).items()
        if id(descriptor) not in asserted
    ]
    assert not missing, missing


@pytest.mark.parametrize(("name", "index"), CASES)
def test_absent_optional_keys_read_none(name: str, index: int) -> None:
    full = PAYLOADS[name][index]
    cls = DISPATCH_CLASSES[name]
    required = {field.key for field in fields(cls).values() if field.required}
    minimal = {key: value for key, value in full.items() if key in required}
    event, complete = build(name, minimal), build(name, full)
    for attr, field in fields(cls).items():
        if field.required:
            assert plain(getattr(event, attr)) == plain(getattr(complete, attr)), attr
        else:
            assert getattr(event, attr) is None, attr
    read_everything(event, name)


def test_snowflakes_are_ints_whether_sent_as_strings_or_numbers() -> None:
    as_str = build("MESSAGE_DELETE", {"id": "1389395076710531072", "channel_id": "5", "guild_id": "6"})
    as_int = build("MESSAGE_DELETE", {"id": 1389395076710531072, "channel_id": 5, "guild_id": 6})
    for event in (as_str, as_int):
        assert (event.id, event.channel_id, event.guild_id) == (1389395076710531072, 5, 6)
        assert type(event.id) is int
    chunk = build("GUILD_MEMBERS_CHUNK", {"not_found": [123, "456"]})
    assert chunk.not_found == [123, 456]


def test_lists_are_fresh_on_each_read() -> None:
    event = build("MESSAGE_DELETE_BULK", {"ids": ["1", "2"], "channel_id": "3"})
    first = event.ids
    first.append(99)
    assert event.ids == [1, 2]
    assert event.raw["ids"] == ["1", "2"]


def test_views_share_the_payload() -> None:
    raw = PAYLOADS["MESSAGE_CREATE"][0]
    event = build("MESSAGE_CREATE", raw)
    assert event.author.raw is raw["author"]
    assert event.message.raw is raw
    assert event.message.type == event.message_type == 0
