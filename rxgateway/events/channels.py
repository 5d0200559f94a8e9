"""Channels (GATEWAY.md §10.2, §10.4): the channel view and its parts, thread members,
and the CHANNEL_* dispatches.

A channel is CHANNEL_CREATE/UPDATE/DELETE's ``d`` (and THREAD_CREATE/UPDATE's), so those
events expose the channel's fields directly. Two keys are renamed on events, because a
dispatch's ``name`` and ``type`` are its ``t``: the channel's ``name`` is
``channel_name`` and its ``type`` is ``channel_type`` (the :class:`Channel` view has both
spellings).

Example::

    >>> e = ChannelCreate(ShardId(0, 1), 30, "CHANNEL_CREATE",
    ...                   {"id": "5", "type": 0, "name": "general", "guild_id": "1"}, EventType.CHANNEL_CREATE)
    >>> e.channel_name, e.channel_type, e.guild_id, e.channel.name
    ('general', 0, 1, 'general')
"""

from __future__ import annotations

from ..protocol.event_type import EventType
from .fields import BITSET, BOOL, INT, SNOWFLAKE, TEXT, list_of, opt, req, view
from .objects import Member, Presence, User
from .view import Display, TypedDispatch, View


class PermissionOverwrite(View):
    """A channel permission overwrite: ``type`` 0 role, 1 member; bitsets as ints."""

    __slots__ = ()

    id = req(SNOWFLAKE)
    type = req(INT)
    allow = req(BITSET)
    deny = req(BITSET)

    _repr_keys = "id type allow deny"


class ThreadMetadata(View):
    """A thread's ``thread_metadata``.

    Example::

        >>> ThreadMetadata({"archived": False, "auto_archive_duration": 1440}).auto_archive_duration
        1440
    """

    __slots__ = ()

    archived = req(BOOL)
    #: Minutes: 60, 1440, 4320 or 10080.
    auto_archive_duration = req(INT)
    archive_timestamp = req(TEXT)
    locked = req(BOOL)
    invitable = opt(BOOL)
    create_timestamp = opt(TEXT)

    _repr_keys = "archived locked"


class ThreadMemberFields(Display):
    """A thread member (§10.4): ``id`` is the thread, ``user_id`` the user."""

    __slots__ = ()

    id = opt(SNOWFLAKE)
    user_id = opt(SNOWFLAKE)
    join_timestamp = req(TEXT)
    flags = req(INT)
    member = opt(view(Member))
    #: Only in THREAD_MEMBERS_UPDATE's ``added_members``.
    presence = opt(view(Presence))

    _repr_keys = "id user_id"
    _label_key = "user_id"


class ThreadMember(ThreadMemberFields, View):
    """A user's membership of a thread.

    Example::

        >>> ThreadMember({"user_id": "3", "join_timestamp": "2025-07-01T12:00:00+00:00", "flags": 0}).user_id
        3
    """

    __slots__ = ()


class ChannelFields(Display):
    """A channel of any type (§10.2); keys that a type lacks read as ``None``."""

    __slots__ = ()

    id = req(SNOWFLAKE)
    #: 0 GUILD_TEXT, 1 DM, 2 GUILD_VOICE, 4 GUILD_CATEGORY, 11 PUBLIC_THREAD, ...
    channel_type = req(INT, "type")
    channel_name = opt(TEXT, "name")
    guild_id = opt(SNOWFLAKE)
    position = opt(INT)
    permission_overwrites = opt(list_of(view(PermissionOverwrite)))
    topic = opt(TEXT)
    nsfw = opt(BOOL)
    last_message_id = opt(SNOWFLAKE)
    bitrate = opt(INT)
    user_limit = opt(INT)
    rate_limit_per_user = opt(INT)
    #: DM recipients.
    recipients = opt(list_of(view(User)))
    parent_id = opt(SNOWFLAKE)
    last_pin_timestamp = opt(TEXT)
    rtc_region = opt(TEXT)
    flags = opt(INT)
    #: The bot's permissions in the channel; only inside interactions.
    permissions = opt(BITSET)
    # Threads.
    owner_id = opt(SNOWFLAKE)
    message_count = opt(INT)
    member_count = opt(INT)
    thread_metadata = opt(view(ThreadMetadata))
    total_message_sent = opt(INT)
    #: The bot's thread membership (THREAD_CREATE, GUILD_CREATE's ``threads``).
    member = opt(view(ThreadMember))
    #: True when THREAD_CREATE is for a thread just created.
    newly_created = opt(BOOL)

    _repr_keys = "id channel_name channel_type"
    _label_key = "channel_name"

    @property
    def channel(self) -> Channel:
        """The same payload as a :class:`Channel` view (with ``name`` and ``type``)."""
        return Channel(self.raw)


class Channel(ChannelFields, View):
    """A guild channel, thread or DM. ``name`` and ``type`` are also readable here
    (they are ``channel_name``/``channel_type`` on events).

    Example::

        >>> Channel({"id": "5", "type": 2, "name": "Voice", "bitrate": 64000}).bitrate
        64000
    """

    __slots__ = ()

    name = opt(TEXT)
    type = req(INT)

    _repr_keys = "id name type"


class ChannelCreate(ChannelFields, TypedDispatch):
    """CHANNEL_CREATE: a guild channel was created; ``d`` is the channel."""

    __slots__ = ()
    type = EventType.CHANNEL_CREATE


class ChannelUpdate(ChannelFields, TypedDispatch):
    """CHANNEL_UPDATE: a channel changed (not sent for ``last_message_id`` alone)."""

    __slots__ = ()
    type = EventType.CHANNEL_UPDATE


class ChannelDelete(ChannelFields, TypedDispatch):
    """CHANNEL_DELETE: a channel was deleted; ``d`` is the channel as it was."""

    __slots__ = ()
    type = EventType.CHANNEL_DELETE


class ChannelPinsUpdate(TypedDispatch):
    """CHANNEL_PINS_UPDATE: a message was pinned or unpinned.

    Example::

        >>> e = ChannelPinsUpdate(ShardId(0, 1), 3, "CHANNEL_PINS_UPDATE", {"channel_id": "6"},
        ...                       EventType.CHANNEL_PINS_UPDATE)
        >>> e.channel_id, e.last_pin_timestamp
        (6, None)
    """

    __slots__ = ()
    type = EventType.CHANNEL_PINS_UPDATE

    channel_id = req(SNOWFLAKE)
    last_pin_timestamp = opt(TEXT)

    _repr_keys = "channel_id last_pin_timestamp"


class ChannelInfoEntry(View):
    """One channel of CHANNEL_INFO: its voice ``status`` and ``voice_start_time``
    (unix seconds), each ``None`` when not asked for or unset."""

    __slots__ = ()

    id = req(SNOWFLAKE)
    status = opt(TEXT)
    voice_start_time = opt(INT)

    _repr_keys = "id status voice_start_time"


class ChannelInfo(TypedDispatch):
    """CHANNEL_INFO: the answer to Request Channel Info (op 43, §9.3).

    Example::

        >>> e = ChannelInfo(ShardId(0, 1), 4, "CHANNEL_INFO",
        ...                 {"guild_id": "1", "channels": [{"id": "5", "status": "live"}]}, EventType.CHANNEL_INFO)
        >>> e.channels[0].status
        'live'
    """

    __slots__ = ()
    type = EventType.CHANNEL_INFO

    guild_id = req(SNOWFLAKE)
    channels = req(list_of(view(ChannelInfoEntry)))

    _repr_keys = "guild_id channels"
