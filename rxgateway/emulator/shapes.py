"""JSON shapes of Discord objects (GATEWAY.md §10.2, §10.3): users, members, roles,
channels, presences and the GUILD_CREATE of a guild as one session sees it.

Snowflakes are strings and timestamps ISO 8601, as on the wire.

Example::

    >>> iso(1751371200000)
    '2025-07-01T12:00:00.000000+00:00'
"""

from __future__ import annotations

import functools
from datetime import UTC, datetime
from typing import Any

from ..protocol import Intents
from .world import ROLE_NAMES, Guild, GuildChannel, Person

JSON = dict[str, Any]

#: Without GUILD_PRESENCES, or above this many members, GUILD_CREATE lists only the bot
#: and users in voice (§10.3).
PRESENCE_MEMBER_CAP = 75_000
#: Permissions of every role, those of @everyone in GATEWAY.md §10.2.
ROLE_PERMISSIONS = "1071698660929"
#: Default bitrate of a voice channel (64 kbps), as in §10.3.
VOICE_BITRATE = 64_000


@functools.lru_cache(maxsize=4096)
def iso(unix_ms: int) -> str:
    """An ISO 8601 timestamp with microseconds and ``+00:00``, Discord's format."""
    return datetime.fromtimestamp(unix_ms / 1000, UTC).isoformat(timespec="microseconds")


def user(person: Person) -> JSON:
    """A user object (§10.2)."""
    shape: JSON = {
        "id": str(person.id),
        "username": person.username,
        "discriminator": person.discriminator,
        "global_name": person.global_name,
        "avatar": None,
    }
    if person.bot:
        shape["bot"] = True
    else:
        shape["public_flags"] = 0
    return shape


def member(person: Person, *, with_user: bool = True) -> JSON:
    """A guild member object; ``with_user=False`` for ``MESSAGE_CREATE.member`` (§10.6)."""
    shape: JSON = {"user": user(person)} if with_user else {}
    shape.update(
        nick=None,
        avatar=None,
        banner=None,
        roles=[str(r) for r in person.role_ids],
        joined_at=iso(person.joined_ms),
        premium_since=None,
        deaf=False,
        mute=False,
        flags=0,
        pending=False,
    )
    return shape


def presence(person: Person, guild_id: int | None = None) -> JSON:
    """A presence (§10.7): only ``user.id`` is guaranteed."""
    shape: JSON = {"user": {"id": str(person.id)}, "status": person.status, "activities": []}
    if guild_id is not None:
        shape["guild_id"] = str(guild_id)
    shape["client_status"] = {} if person.status == "offline" else {"desktop": person.status}
    return shape


def role(role_id: int, name: str, position: int) -> JSON:
    """A role object (§10.2); the @everyone role has the guild's id."""
    return {
        "id": str(role_id),
        "name": name,
        "color": 0,
        "colors": {"primary_color": 0, "secondary_color": None, "tertiary_color": None},
        "hoist": False,
        "icon": None,
        "unicode_emoji": None,
        "position": position,
        "permissions": ROLE_PERMISSIONS,
        "managed": False,
        "mentionable": False,
        "flags": 0,
    }


def channel(ch: GuildChannel, *, with_guild_id: bool = True) -> JSON:
    """A guild channel object (§10.2); inside GUILD_CREATE without ``guild_id``."""
    shape: JSON = {"id": str(ch.id), "type": ch.type}
    if with_guild_id:
        shape["guild_id"] = str(ch.guild_id)
    shape.update(name=ch.name, position=ch.position, parent_id=None, permission_overwrites=[], flags=0)
    if ch.type in (2, 13):
        shape.update(bitrate=VOICE_BITRATE, user_limit=0, rtc_region=None)
    else:
        shape.update(topic=None, nsfw=False, last_message_id=None, rate_limit_per_user=0)
    return shape


def guild(g: Guild) -> JSON:
    """A guild object without the GUILD_CREATE extras (GUILD_UPDATE, §10.3)."""
    names = ("@everyone", *ROLE_NAMES)
    return {
        "id": str(g.id),
        "name": g.name,
        "icon": None,
        "splash": None,
        "discovery_splash": None,
        "owner_id": str(g.owner_id),
        "afk_channel_id": None,
        "afk_timeout": 300,
        "verification_level": 1,
        "default_message_notifications": 1,
        "explicit_content_filter": 0,
        "mfa_level": 0,
        "application_id": None,
        "system_channel_id": str(g.channels[0].id),
        "system_channel_flags": 0,
        "rules_channel_id": None,
        "vanity_url_code": None,
        "description": None,
        "banner": None,
        "premium_tier": 0,
        "premium_subscription_count": 0,
        "preferred_locale": "en-US",
        "public_updates_channel_id": None,
        "nsfw_level": 0,
        "premium_progress_bar_enabled": False,
        "safety_alerts_channel_id": None,
        "max_members": 500_000,
        "features": [],
        "emojis": [],
        "stickers": [],
        "roles": [role(rid, names[i], i) for i, rid in enumerate(g.role_ids)],
    }


def guild_create(g: Guild, members: list[Person], bot: Person, intents: int, large_threshold: int) -> JSON:
    """The GUILD_CREATE ``d`` of ``g`` for a session with ``intents`` (§10.3 rules).

    Without GUILD_PRESENCES (or above 75,000 members) only the bot is listed; else, in
    a guild larger than ``large_threshold``, only members who are not offline; else all.
    """
    member_count = len(members) + 1
    if not intents & Intents.GUILD_PRESENCES or member_count > PRESENCE_MEMBER_CAP:
        listed: list[Person] = []
    elif member_count > large_threshold:
        listed = [p for p in members if p.status != "offline"]
    else:
        listed = members
    shape = guild(g)
    shape.update(
        joined_at=iso(bot.joined_ms),
        large=member_count > large_threshold,
        unavailable=False,
        member_count=member_count,
        members=[member(bot), *(member(p) for p in listed)],
        channels=[channel(c, with_guild_id=False) for c in g.channels],
        threads=[],
        presences=[presence(p) for p in listed if p.status != "offline"],
        voice_states=[],
        stage_instances=[],
        guild_scheduled_events=[],
        soundboard_sounds=[],
    )
    return shape


def message(
    message_id: int,
    channel_id: int,
    author: Person,
    content: str,
    sent_ms: int,
    guild_id: int | None = None,
    mentions: tuple[Person, ...] = (),
) -> JSON:
    """A MESSAGE_CREATE ``d`` (§10.6): with ``guild_id``, ``member`` and
    ``channel_type`` 0 in a guild; ``channel_type`` 1 and neither key in a DM."""
    shape: JSON = {"id": str(message_id), "channel_id": str(channel_id)}
    if guild_id is not None:
        shape["guild_id"] = str(guild_id)
        shape["member"] = member(author, with_user=False)
    shape.update(
        channel_type=0 if guild_id is not None else 1,
        author=user(author),
        content=content,
        timestamp=iso(sent_ms),
        edited_timestamp=None,
        tts=False,
        mention_everyone=False,
        mentions=[user(p) for p in mentions],
        mention_roles=[],
        attachments=[],
        embeds=[],
        components=[],
        pinned=False,
        type=0,
        flags=0,
        nonce=str(message_id),
    )
    return shape


def voice_state(
    guild_id: int, channel_id: int | None, person: Person, session_id: str, self_mute: bool = False, self_deaf: bool = False
) -> JSON:
    """A VOICE_STATE_UPDATE ``d`` (§10.8)."""
    return {
        "guild_id": str(guild_id),
        "channel_id": None if channel_id is None else str(channel_id),
        "user_id": str(person.id),
        "session_id": session_id,
        "deaf": False,
        "mute": False,
        "self_deaf": self_deaf,
        "self_mute": self_mute,
        "self_video": False,
        "suppress": False,
        "request_to_speak_timestamp": None,
        "member": member(person),
    }


def soundboard_sound(sound_id: int, guild_id: int, person: Person) -> JSON:
    """A soundboard sound (§10.10)."""
    return {
        "name": "airhorn",
        "sound_id": str(sound_id),
        "volume": 1.0,
        "emoji_id": None,
        "emoji_name": "📯",
        "guild_id": str(guild_id),
        "available": True,
        "user": user(person),
    }
