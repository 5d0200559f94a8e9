"""Stage instances (GATEWAY.md §10.10): the view and STAGE_INSTANCE_CREATE/UPDATE/DELETE,
whose ``d`` is a stage instance.

Example::

    >>> e = StageInstanceCreate(ShardId(0, 1), 90, "STAGE_INSTANCE_CREATE", {"id": "9", "guild_id": "1",
    ...     "channel_id": "5", "topic": "AMA", "privacy_level": 2, "discoverable_disabled": False},
    ...     EventType.STAGE_INSTANCE_CREATE)
    >>> e.topic, e.channel_id
    ('AMA', 5)
"""

from __future__ import annotations

from ..protocol.event_type import EventType
from .fields import BOOL, INT, SNOWFLAKE, TEXT, opt, req
from .view import Display, TypedDispatch, View


class StageInstanceFields(Display):
    """A live stage (§10.10)."""

    __slots__ = ()

    id = req(SNOWFLAKE)
    guild_id = req(SNOWFLAKE)
    channel_id = req(SNOWFLAKE)
    topic = req(TEXT)
    #: 1 PUBLIC (deprecated), 2 GUILD_ONLY.
    privacy_level = req(INT)
    discoverable_disabled = req(BOOL)
    guild_scheduled_event_id = opt(SNOWFLAKE)

    _repr_keys = "id channel_id topic"
    _label_key = "topic"


class StageInstance(StageInstanceFields, View):
    """A live stage in a stage channel (GUILD_CREATE's ``stage_instances``)."""

    __slots__ = ()


class StageInstanceCreate(StageInstanceFields, TypedDispatch):
    """STAGE_INSTANCE_CREATE: a stage went live."""

    __slots__ = ()
    type = EventType.STAGE_INSTANCE_CREATE


class StageInstanceUpdate(StageInstanceFields, TypedDispatch):
    """STAGE_INSTANCE_UPDATE: a stage changed (its topic, say)."""

    __slots__ = ()
    type = EventType.STAGE_INSTANCE_UPDATE


class StageInstanceDelete(StageInstanceFields, TypedDispatch):
    """STAGE_INSTANCE_DELETE: a stage ended."""

    __slots__ = ()
    type = EventType.STAGE_INSTANCE_DELETE
