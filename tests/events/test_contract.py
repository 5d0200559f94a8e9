"""The field contract (``rxgateway/events/fields.py``): what a read returns or raises
for absent, null, wrongly typed or odd values, checked by example and, for every class
and any JSON object, by hypothesis.

The contract: a required key absent or null raises ``MissingFieldError`` (a
``KeyError``); an optional one reads ``None``; a value of the wrong JSON type raises
``TypeError``; a snowflake string that is not a number raises ``ValueError``; a ``raw``
that is not a dict raises ``TypeError``. Nothing else escapes a read.
"""

from __future__ import annotations

import functools
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rxgateway.errors import GatewayError
from rxgateway.events import Member, MessageCreate, MissingFieldError, User
from rxgateway.events.fields import (
    BITSET,
    BOOL,
    FLOAT,
    INT,
    NONCE,
    OBJECT,
    SCALAR,
    SNOWFLAKE,
    TEXT,
    Field,
    Kind,
    list_of,
    view,
)
from rxgateway.events.view import Display, TypedDispatch
from rxgateway.protocol.event_type import EventType

from .helpers import SHARD, VIEW_CLASSES, build, fields, properties

READ_ERRORS = (KeyError, TypeError, ValueError)

#: The Python type a value of each scalar kind must have.
SCALAR_TYPES: dict[int, tuple[type, ...]] = {
    id(TEXT): (str,), id(INT): (int,), id(FLOAT): (float,), id(BOOL): (bool,), id(SNOWFLAKE): (int,),
    id(BITSET): (int,), id(NONCE): (str, int), id(SCALAR): (str, int, float, bool), id(OBJECT): (dict,),
}  # fmt: skip


def make(cls: type, raw: Any) -> Any:
    if issubclass(cls, TypedDispatch):
        return cls(SHARD, 1, "X", raw, EventType.UNKNOWN_DISPATCH)
    return cls(raw)


def test_missing_required_key_raises_missing_field_error() -> None:
    event = build("MESSAGE_CREATE", {"content": None})
    with pytest.raises(MissingFieldError) as caught:
        event.content
    assert isinstance(caught.value, KeyError) and isinstance(caught.value, GatewayError)
    assert str(caught.value) == "MessageCreate.content: required key 'content' is missing or null"
    with pytest.raises(MissingFieldError, match=r"MessageCreate\.message_type: required key 'type'"):
        event.message_type


def test_missing_optional_key_reads_none() -> None:
    event = build("MESSAGE_CREATE", {"guild_id": None})
    assert event.guild_id is None and event.member is None and event.nonce is None


@pytest.mark.parametrize(
    ("raw", "attr", "error", "message"),
    [
        ({"content": 5}, "content", TypeError, r"MessageCreate\.content \('content'\): expected a string, got int"),
        ({"tts": 1}, "tts", TypeError, "expected a boolean, got int"),
        ({"flags": True}, "flags", TypeError, "expected an integer, got bool"),
        ({"flags": 1.0}, "flags", TypeError, "expected an integer, got float"),
        ({"id": True}, "id", TypeError, "expected an integer or a numeric string, got bool"),
        ({"id": 1.5}, "id", TypeError, "got float"),
        ({"id": "12a"}, "id", ValueError, r"MessageCreate\.id \('id'\): invalid literal"),
        ({"author": "alice"}, "author", TypeError, "expected User, got str"),
        ({"mentions": {}}, "mentions", TypeError, "expected a list of \\(User\\), got dict"),
        ({"mentions": [None]}, "mentions", TypeError, r"MessageCreate\.mentions \('mentions'\): expected User, got NoneType"),
        ({"mention_roles": ["1", "x"]}, "mention_roles", ValueError, "invalid literal"),
        ({"nonce": 1.5}, "nonce", TypeError, "got float"),
        ({"poll": []}, "poll", TypeError, "expected an object, got list"),
    ],
)  # fmt: skip
def test_wrong_types_raise_with_the_field_named(raw: dict[str, Any], attr: str, error: type, message: str) -> None:
    with pytest.raises(error, match=message):
        getattr(build("MESSAGE_CREATE", raw), attr)


def test_accepted_alternatives() -> None:
    assert build("RATE_LIMITED", {"retry_after": 3}).retry_after == 3.0
    assert type(build("RATE_LIMITED", {"retry_after": 3}).retry_after) is float
    assert build("MESSAGE_CREATE", {"nonce": 7}).nonce == 7
    assert build("MESSAGE_CREATE", {"nonce": "7"}).nonce == "7"
    assert build("VOICE_CHANNEL_EFFECT_SEND", {"sound_id": 1}).sound_id == 1
    assert Member({"permissions": "8"}).permissions == 8


@pytest.mark.parametrize("raw", [None, [], "d", 5])
def test_raw_that_is_not_an_object_raises_type_error(raw: Any) -> None:
    event = build("MESSAGE_CREATE", raw)
    for attr in ("content", "guild_id", "author"):
        with pytest.raises(TypeError):
            getattr(event, attr)
    with pytest.raises(TypeError):
        User(raw).id


def test_fields_are_read_only() -> None:
    event = build("MESSAGE_CREATE", {"content": "hi"})
    with pytest.raises(AttributeError):
        event.content = "changed"  # type: ignore[misc]
    with pytest.raises(AttributeError):
        User({}).id = 5  # type: ignore[misc]
    assert event.raw == {"content": "hi"}


def test_fields_document_themselves() -> None:
    content = MessageCreate.content
    assert isinstance(content, Field) and content.key == "content" and content.required
    assert content.__doc__ == "``content``: a string (required)."
    message_type = MessageCreate.message_type
    assert message_type.key == "type" and message_type.attr == "message_type"
    assert MessageCreate.guild_id.__doc__ == "``guild_id``: a snowflake (``None`` when absent or null)."


def test_kind_coerce_and_list_of() -> None:
    assert SNOWFLAKE.coerce("42") == SNOWFLAKE.coerce(42) == 42
    assert list_of(SNOWFLAKE).coerce(["1", 2]) == [1, 2]
    assert view(User).coerce({"id": "1"}).id == 1
    assert repr(TEXT) == "Kind('a string')"
    with pytest.raises(TypeError):
        INT.coerce("1")
    with pytest.raises(TypeError):
        list_of(TEXT).coerce(["a", 1])


def test_unavailable_guild_create() -> None:
    event = build("GUILD_CREATE", {"id": "981346340044931072", "unavailable": True})
    assert event.unavailable is True and event.guild_id == event.id == 981346340044931072
    with pytest.raises(MissingFieldError, match="guild_name"):
        event.guild_name


def expected_types(field: Field[Any]) -> tuple[type, ...]:
    kind: Kind[Any] = field.kind
    if id(kind) in SCALAR_TYPES:
        return SCALAR_TYPES[id(kind)]
    return (list,) if kind.json_type is list else (object,)


def read_all(obj: Any, depth: int = 0) -> int:
    """Read every property of ``obj`` (and of views inside it); check each value has its
    field's type, and that only the contract's errors are raised. Returns the reads."""
    reads = 0
    for attr, descriptor in properties(type(obj)).items():
        reads += 1
        try:
            value = getattr(obj, attr)
        except MissingFieldError:
            assert isinstance(descriptor, Field) and descriptor.required or not isinstance(descriptor, Field)
            continue
        except READ_ERRORS:
            continue
        if isinstance(descriptor, Field):
            assert value is not None or not descriptor.required
            if value is not None:
                assert isinstance(value, expected_types(descriptor)), (attr, value)
                assert not (isinstance(value, bool) and bool not in expected_types(descriptor)), (attr, value)
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, Display) and depth < 3:
                reads += read_all(item, depth + 1)
    return reads


json_scalars = st.none() | st.booleans() | st.integers(-(2**64), 2**64) | st.floats(allow_nan=False) | st.text(
    max_size=6
) | st.sampled_from(["0", "981346340044931072", "-1", " 7 ", "1e3", "x"])
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=4),
    max_leaves=12,
)


@functools.cache
def objects_for(cls: type, depth: int = 0) -> st.SearchStrategy[dict[str, Any]]:
    """JSON objects whose keys are the fields of ``cls`` (each present or not), with
    values of any JSON type, or, for nested views, objects shaped like the nested view."""
    values: dict[str, st.SearchStrategy[Any]] = {}
    for field in fields(cls).values():
        values[field.key] = json_values
        nested = field.kind.convert
        if depth < 2 and isinstance(nested, type) and issubclass(nested, Display):
            values[field.key] = json_values | objects_for(nested, depth + 1)
    return st.fixed_dictionaries({}, optional=values)


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(data=st.data())
def test_any_object_reads_values_or_contract_errors(data: st.DataObject) -> None:
    cls = data.draw(st.sampled_from(VIEW_CLASSES))
    read_all(make(cls, data.draw(objects_for(cls))))


@pytest.mark.parametrize("cls", VIEW_CLASSES, ids=lambda c: c.__name__)
def test_every_class_on_random_objects(cls: type) -> None:
    @settings(max_examples=10, suppress_health_check=[HealthCheck.too_slow], deadline=None)
    @given(raw=objects_for(cls))
    def run(raw: dict[str, Any]) -> None:
        read_all(make(cls, raw))

    run()
