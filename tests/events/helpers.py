"""Introspection shared by the event tests: the public properties of a view class, and
the view classes the package exports."""

from __future__ import annotations

import inspect
from typing import Any

import rxgateway.events as events
from rxgateway.events.base import Dispatch
from rxgateway.events.fields import Field
from rxgateway.events.view import TypedDispatch, View
from rxgateway.protocol.shard_id import ShardId

SHARD = ShardId(0, 1)

#: Properties that ``base.py`` defines for every dispatch (not payload fields).
BASE_PROPERTIES = {name: inspect.getattr_static(Dispatch, name) for name in ("type", "sequence")}


def properties(cls: type) -> dict[str, property]:
    """Every public property of ``cls`` (fields and computed ones), as found on ``cls``."""
    found = {}
    for name in dir(cls):
        attr = inspect.getattr_static(cls, name)
        if isinstance(attr, property) and not name.startswith("_") and attr is not BASE_PROPERTIES.get(name):
            found[name] = attr
    return found


def fields(cls: type) -> dict[str, Field[Any]]:
    """The :class:`Field` properties of ``cls``."""
    return {name: attr for name, attr in properties(cls).items() if isinstance(attr, Field)}


#: Every view and typed dispatch class that ``rxgateway.events`` exports.
VIEW_CLASSES: tuple[type, ...] = tuple(
    cls
    for cls in (getattr(events, name) for name in events.__all__)
    if isinstance(cls, type) and issubclass(cls, (View, TypedDispatch)) and cls is not TypedDispatch
)


def build(name: str, raw: Any, sequence: int | None = 7) -> Dispatch:
    """The typed event the shard would build for dispatch ``name``."""
    cls = events.event_class(name)
    return cls(SHARD, sequence, name, raw, cls.type)
