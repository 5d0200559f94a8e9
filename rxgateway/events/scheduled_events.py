"""Guild scheduled events (GATEWAY.md §10.10): the view, GUILD_SCHEDULED_EVENT_CREATE/
UPDATE/DELETE (``d`` is the scheduled event; its ``name`` is ``scheduled_event_name``
there) and GUILD_SCHEDULED_EVENT_USER_ADD/REMOVE.

Example::

    >>> e = GuildScheduledEventUserAdd(ShardId(0, 1), 91, "GUILD_SCHEDULED_EVENT_USER_ADD",
    ...     {"guild_scheduled_event_id": "4", "user_id": "3", "guild_id": "1"},
    ...     EventType.GUILD_SCHEDULED_EVENT_USER_ADD)
    >>> e.guild_scheduled_event_id, e.user_id
    (4, 3)
"""

from __future__ import annotations

from ..protocol.event_type import EventType
from .fields import INT, OBJECT, SNOWFLAKE, TEXT, opt, req, view
from .objects import User
from .view import Display, TypedDispatch, View


class ScheduledEventFields(Display):
    """A guild scheduled event (§10.10)."""

    __slots__ = ()

    id = req(SNOWFLAKE)
    guild_id = req(SNOWFLAKE)
    channel_id = opt(SNOWFLAKE)
    creator_id = opt(SNOWFLAKE)
    scheduled_event_name = req(TEXT, "name")
    description = opt(TEXT)
    scheduled_start_time = req(TEXT)
    scheduled_end_time = opt(TEXT)
    #: 2 GUILD_ONLY.
    privacy_level = req(INT)
    #: 1 SCHEDULED, 2 ACTIVE, 3 COMPLETED, 4 CANCELED.
    status = req(INT)
    #: 1 STAGE_INSTANCE, 2 VOICE, 3 EXTERNAL.
    entity_type = req(INT)
    entity_id = opt(SNOWFLAKE)
    entity_metadata = opt(OBJECT)
    creator = opt(view(User))
    user_count = opt(INT)
    image = opt(TEXT)
    recurrence_rule = opt(OBJECT)

    _repr_keys = "id scheduled_event_name status"
    _label_key = "scheduled_event_name"


class ScheduledEvent(ScheduledEventFields, View):
    """A scheduled event (GUILD_CREATE's ``guild_scheduled_events``); ``name`` is also
    readable as ``scheduled_event_name``.

    Example::

        >>> ScheduledEvent({"id": "4", "name": "Game night", "status": 1}).name
        'Game night'
    """

    __slots__ = ()

    name = req(TEXT)


class GuildScheduledEventCreate(ScheduledEventFields, TypedDispatch):
    """GUILD_SCHEDULED_EVENT_CREATE: an event was scheduled."""

    __slots__ = ()
    type = EventType.GUILD_SCHEDULED_EVENT_CREATE


class GuildScheduledEventUpdate(ScheduledEventFields, TypedDispatch):
    """GUILD_SCHEDULED_EVENT_UPDATE: a scheduled event changed (or started, or ended)."""

    __slots__ = ()
    type = EventType.GUILD_SCHEDULED_EVENT_UPDATE


class GuildScheduledEventDelete(ScheduledEventFields, TypedDispatch):
    """GUILD_SCHEDULED_EVENT_DELETE: a scheduled event was deleted."""

    __slots__ = ()
    type = EventType.GUILD_SCHEDULED_EVENT_DELETE


class ScheduledEventUserFields(Display):
    """A user's interest in a scheduled event."""

    __slots__ = ()

    guild_scheduled_event_id = req(SNOWFLAKE)
    user_id = req(SNOWFLAKE)
    guild_id = req(SNOWFLAKE)

    _repr_keys = "guild_scheduled_event_id user_id"


class GuildScheduledEventUserAdd(ScheduledEventUserFields, TypedDispatch):
    """GUILD_SCHEDULED_EVENT_USER_ADD: a user said they are interested."""

    __slots__ = ()
    type = EventType.GUILD_SCHEDULED_EVENT_USER_ADD


class GuildScheduledEventUserRemove(ScheduledEventUserFields, TypedDispatch):
    """GUILD_SCHEDULED_EVENT_USER_REMOVE: a user is no longer interested."""

    __slots__ = ()
    type = EventType.GUILD_SCHEDULED_EVENT_USER_REMOVE
