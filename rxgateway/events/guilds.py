"""Guilds (GATEWAY.md §3.5, §10.3): GUILD_CREATE, GUILD_UPDATE and GUILD_DELETE.

GUILD_CREATE and GUILD_UPDATE carry the guild itself, so its fields are on the event;
the guild's ``name`` is ``guild_name`` (a dispatch's ``name`` is its ``t``), and
``guild_id`` is the guild's ``id``. An unavailable GUILD_CREATE (an outage) has only
``id`` and ``unavailable``: check ``unavailable`` before reading other fields, which
raise :class:`~rxgateway.events.fields.MissingFieldError` then.

Example::

    >>> e = GuildCreate(ShardId(0, 1), 2, "GUILD_CREATE", payload, EventType.GUILD_CREATE)
    >>> e.guild_name, e.member_count, [c.name for c in e.channels]
    ('Emulator Test Guild', 2, ['general', 'Voice'])
"""

from __future__ import annotations

from ..protocol.event_type import EventType
from .channels import Channel
from .expressions import SoundboardSound, Sticker
from .fields import BOOL, INT, SNOWFLAKE, STRINGS, TEXT, list_of, opt, req, view
from .objects import Emoji, Member, Presence, Role, VoiceState
from .scheduled_events import ScheduledEvent
from .stage import StageInstance
from .view import Display, TypedDispatch


class GuildFields(Display):
    """A guild (§10.3): the fields of GUILD_UPDATE, and of an available GUILD_CREATE."""

    __slots__ = ()

    id = req(SNOWFLAKE)
    #: The guild's ``id``.
    guild_id = req(SNOWFLAKE, "id")
    guild_name = req(TEXT, "name")
    icon = opt(TEXT)
    splash = opt(TEXT)
    discovery_splash = opt(TEXT)
    owner_id = req(SNOWFLAKE)
    afk_channel_id = opt(SNOWFLAKE)
    #: Seconds.
    afk_timeout = req(INT)
    verification_level = req(INT)
    default_message_notifications = req(INT)
    explicit_content_filter = req(INT)
    mfa_level = req(INT)
    application_id = opt(SNOWFLAKE)
    system_channel_id = opt(SNOWFLAKE)
    system_channel_flags = req(INT)
    rules_channel_id = opt(SNOWFLAKE)
    vanity_url_code = opt(TEXT)
    description = opt(TEXT)
    banner = opt(TEXT)
    premium_tier = req(INT)
    premium_subscription_count = opt(INT)
    preferred_locale = req(TEXT)
    public_updates_channel_id = opt(SNOWFLAKE)
    nsfw_level = req(INT)
    premium_progress_bar_enabled = req(BOOL)
    safety_alerts_channel_id = opt(SNOWFLAKE)
    max_members = opt(INT)
    features = req(STRINGS)
    emojis = req(list_of(view(Emoji)))
    stickers = opt(list_of(view(Sticker)))
    roles = req(list_of(view(Role)))

    _repr_keys = "id guild_name"
    _label_key = "guild_name"


class GuildCreate(GuildFields, TypedDispatch):
    """GUILD_CREATE: a guild became available (after READY, or the bot joined it), with
    its members, channels, presences and voice states. ``unavailable`` is True for an
    outage, and then only ``id`` is sent."""

    __slots__ = ()
    type = EventType.GUILD_CREATE

    joined_at = req(TEXT)
    #: True when ``member_count`` exceeds the ``large_threshold`` of Identify.
    large = req(BOOL)
    unavailable = opt(BOOL)
    member_count = req(INT)
    voice_states = req(list_of(view(VoiceState)))
    members = req(list_of(view(Member)))
    channels = req(list_of(view(Channel)))
    #: Active threads the bot can view.
    threads = req(list_of(view(Channel)))
    presences = req(list_of(view(Presence)))
    stage_instances = req(list_of(view(StageInstance)))
    guild_scheduled_events = req(list_of(view(ScheduledEvent)))
    soundboard_sounds = req(list_of(view(SoundboardSound)))

    _repr_keys = "id guild_name member_count unavailable"


class GuildUpdate(GuildFields, TypedDispatch):
    """GUILD_UPDATE: a guild's settings changed; ``d`` is the guild (no GUILD_CREATE
    extras)."""

    __slots__ = ()
    type = EventType.GUILD_UPDATE


class GuildDelete(TypedDispatch):
    """GUILD_DELETE: a guild became unavailable (``unavailable`` True: an outage) or the
    bot left or was removed (``unavailable`` absent, read as ``None``).

    Example::

        >>> e = GuildDelete(ShardId(0, 1), 90, "GUILD_DELETE", {"id": "1"}, EventType.GUILD_DELETE)
        >>> e.guild_id, e.removed
        (1, True)
    """

    __slots__ = ()
    type = EventType.GUILD_DELETE

    id = req(SNOWFLAKE)
    #: The guild's ``id``.
    guild_id = req(SNOWFLAKE, "id")
    unavailable = opt(BOOL)

    _repr_keys = "id unavailable"

    @property
    def removed(self) -> bool:
        """True when the bot left or was removed, False for an outage."""
        return not self.unavailable
