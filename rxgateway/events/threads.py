"""Threads (GATEWAY.md §10.4): THREAD_* dispatches. Threads are channels; the
:class:`~rxgateway.events.channels.Channel` view and thread members live in
``channels.py``.

Example::

    >>> e = ThreadDelete(ShardId(0, 1), 32, "THREAD_DELETE",
    ...                  {"id": "7", "guild_id": "1", "parent_id": "5", "type": 11}, EventType.THREAD_DELETE)
    >>> e.id, e.parent_id, e.channel_type
    (7, 5, 11)
"""

from __future__ import annotations

from ..protocol.event_type import EventType
from .channels import Channel, ChannelFields, ThreadMember, ThreadMemberFields
from .fields import INT, SNOWFLAKE, SNOWFLAKES, list_of, opt, req, view
from .view import TypedDispatch


class ThreadCreate(ChannelFields, TypedDispatch):
    """THREAD_CREATE: a thread was created (``newly_created``), or the bot was added to
    a private thread (``member`` is its thread membership). ``d`` is the thread."""

    __slots__ = ()
    type = EventType.THREAD_CREATE


class ThreadUpdate(ChannelFields, TypedDispatch):
    """THREAD_UPDATE: a thread changed; ``d`` is the thread."""

    __slots__ = ()
    type = EventType.THREAD_UPDATE


class ThreadDelete(ChannelFields, TypedDispatch):
    """THREAD_DELETE: a thread was deleted. Only ``id``, ``guild_id``, ``parent_id`` and
    ``channel_type`` are sent; the other channel fields read as ``None``."""

    __slots__ = ()
    type = EventType.THREAD_DELETE

    _repr_keys = "id parent_id channel_type"


class ThreadListSync(TypedDispatch):
    """THREAD_LIST_SYNC: the active threads of some channels (``channel_ids``) or of the
    whole guild (``channel_ids`` is ``None``), sent when the bot gains access.

    Example::

        >>> e = ThreadListSync(ShardId(0, 1), 33, "THREAD_LIST_SYNC",
        ...                    {"guild_id": "1", "threads": [], "members": []}, EventType.THREAD_LIST_SYNC)
        >>> e.channel_ids is None, e.threads
        (True, [])
    """

    __slots__ = ()
    type = EventType.THREAD_LIST_SYNC

    guild_id = req(SNOWFLAKE)
    channel_ids = opt(SNOWFLAKES)
    threads = req(list_of(view(Channel)))
    #: The bot's memberships of those threads.
    members = req(list_of(view(ThreadMember)))

    _repr_keys = "guild_id channel_ids threads"


class ThreadMemberUpdate(ThreadMemberFields, TypedDispatch):
    """THREAD_MEMBER_UPDATE: the bot's own membership of a thread changed; ``d`` is the
    thread member plus ``guild_id``."""

    __slots__ = ()
    type = EventType.THREAD_MEMBER_UPDATE

    guild_id = req(SNOWFLAKE)


class ThreadMembersUpdate(TypedDispatch):
    """THREAD_MEMBERS_UPDATE: users joined or left a thread.

    Example::

        >>> e = ThreadMembersUpdate(ShardId(0, 1), 34, "THREAD_MEMBERS_UPDATE",
        ...     {"id": "7", "guild_id": "1", "member_count": 2, "removed_member_ids": ["3"]},
        ...     EventType.THREAD_MEMBERS_UPDATE)
        >>> e.removed_member_ids, e.added_members
        ([3], None)
    """

    __slots__ = ()
    type = EventType.THREAD_MEMBERS_UPDATE

    #: The thread.
    id = req(SNOWFLAKE)
    guild_id = req(SNOWFLAKE)
    #: Approximate, capped at 50.
    member_count = req(INT)
    added_members = opt(list_of(view(ThreadMember)))
    removed_member_ids = opt(SNOWFLAKES)

    _repr_keys = "id member_count added_members removed_member_ids"
