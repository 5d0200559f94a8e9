"""Realistic ``d`` payloads for every dispatch the world produces on its own
(GATEWAY.md §10.2-§10.10), grouped into the traffic categories: the builders the
traffic generator draws from (the typed views a *client* reads them with are
:mod:`rxgateway.events`).

Each builder takes a :class:`Scene` (a guild, a channel, a member, fresh ids, a clock,
all drawn from the generator's seeded random source) and returns the ``d`` object.

Dispatches that only answer a client (READY, RESUMED, RATE_LIMITED,
GUILD_MEMBERS_CHUNK, SOUNDBOARD_SOUNDS, CHANNEL_INFO, VOICE_SERVER_UPDATE) and the
guild lifecycle at start-up (GUILD_CREATE, GUILD_DELETE) are not traffic: the
connection and the command handlers make those.

Example::

    >>> sorted(CATEGORIES)[:3]
    ['application_commands', 'auto_moderation', 'channels']
    >>> "MESSAGE_CREATE" in BUILDERS
    True
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass

from ..protocol import snowflake_from_time_ms
from . import shapes
from .shapes import JSON
from .world import Guild, GuildChannel, Person

#: Share of message, reaction, typing and poll events that happen in DMs (routed to shard 0).
DM_SHARE = 0.1
#: Words messages are made of.
WORDS = ("hello", "gateway", "shard", "resume", "ping", "pong", "zlib", "zstd", "event", "guild", "rx", "ok")
#: Reactions drawn for MESSAGE_REACTION_*.
EMOJIS = ("🔥", "👍", "🎉", "😂", "👀")
#: One in this many guild messages mentions the bot (so it keeps its content, §8.3).
MENTION_ONE_IN = 10


@dataclass(slots=True)
class Scene:
    """Where and when the next event happens."""

    rng: random.Random
    bot: Person
    guild: Guild
    channel: GuildChannel
    person: Person
    now_ms: int
    next_increment: int = 0

    def new_id(self) -> int:
        """A fresh snowflake at the scene's time."""
        self.next_increment = (self.next_increment + 1) % 4096
        return snowflake_from_time_ms(self.now_ms, increment=self.next_increment)

    def in_dm(self) -> bool:
        return self.rng.random() < DM_SHARE

    def text(self, words: int = 6) -> str:
        return " ".join(self.rng.choice(WORDS) for _ in range(words))

    def voice_channel(self) -> GuildChannel:
        return self.rng.choice(self.guild.voice_channels)

    def ids(self, guild: bool = True, channel: GuildChannel | None = None) -> JSON:
        """``channel_id`` and, unless in a DM, ``guild_id``."""
        ch = channel or self.channel
        shape = {"channel_id": str(ch.id if guild else self.dm_channel_id())}
        if guild:
            shape["guild_id"] = str(self.guild.id)
        return shape

    def dm_channel_id(self) -> int:
        """The DM channel between the bot and the scene's person (stable per person)."""
        return self.person.id + 1


Builder = Callable[[Scene], JSON]


def message_create(s: Scene) -> JSON:
    if s.in_dm():
        return shapes.message(s.new_id(), s.dm_channel_id(), s.person, s.text(), s.now_ms)
    mentions = (s.bot,) if s.rng.randrange(MENTION_ONE_IN) == 0 else ()
    content = s.text() if not mentions else f"<@{s.bot.id}> {s.text()}"
    return shapes.message(s.new_id(), s.channel.id, s.person, content, s.now_ms, s.guild.id, mentions)


def message_update(s: Scene) -> JSON:
    shape = message_create(s)
    shape["edited_timestamp"] = shapes.iso(s.now_ms)
    return shape


def message_delete(s: Scene) -> JSON:
    return {"id": str(s.new_id()), **s.ids(not s.in_dm())}


def message_delete_bulk(s: Scene) -> JSON:
    return {"ids": [str(s.new_id()) for _ in range(s.rng.randint(2, 20))], **s.ids()}


def _reaction(s: Scene) -> JSON:
    guild = not s.in_dm()
    shape = {"user_id": str(s.person.id), "message_id": str(s.new_id()), **s.ids(guild)}
    if guild:
        shape["member"] = shapes.member(s.person)
    return shape


def reaction_add(s: Scene) -> JSON:
    shape = _reaction(s)
    shape.update(
        emoji={"id": None, "name": s.rng.choice(EMOJIS)},
        message_author_id=str(s.bot.id),
        burst=False,
        burst_colors=[],
        type=0,
    )
    return shape


def reaction_remove(s: Scene) -> JSON:
    shape = _reaction(s)
    shape.pop("member", None)
    shape.update(emoji={"id": None, "name": s.rng.choice(EMOJIS)}, burst=False, type=0)
    return shape


def reaction_remove_all(s: Scene) -> JSON:
    return {"message_id": str(s.new_id()), **s.ids(not s.in_dm())}


def reaction_remove_emoji(s: Scene) -> JSON:
    return {**reaction_remove_all(s), "emoji": {"id": None, "name": s.rng.choice(EMOJIS)}}


def poll_vote(s: Scene) -> JSON:
    return {
        "user_id": str(s.person.id),
        "message_id": str(s.new_id()),
        **s.ids(not s.in_dm()),
        "answer_id": s.rng.randint(1, 4),
    }


def presence_update(s: Scene) -> JSON:
    status = s.rng.choice(("online", "idle", "dnd", "offline"))
    activities = [] if status == "offline" else [
        {"name": "Rocket League", "type": 0, "created_at": s.now_ms, "timestamps": {"start": s.now_ms - 60_000}}
    ]  # fmt: skip
    return {
        "user": {"id": str(s.person.id)},
        "guild_id": str(s.guild.id),
        "status": status,
        "activities": activities,
        "client_status": {} if status == "offline" else {"desktop": status},
    }


def typing_start(s: Scene) -> JSON:
    guild = not s.in_dm()
    shape = {**s.ids(guild), "user_id": str(s.person.id), "timestamp": s.now_ms // 1000}
    if guild:
        shape["member"] = shapes.member(s.person)
    return shape


def user_update(s: Scene) -> JSON:
    bot = shapes.user(s.bot)
    bot.update(verified=True, email=None, flags=0, mfa_enabled=False)
    return bot


def member_add(s: Scene) -> JSON:
    newcomer = Person(s.new_id(), f"newcomer{s.rng.randrange(10_000)}", None, s.now_ms, "online")
    return {"guild_id": str(s.guild.id), **shapes.member(newcomer), "communication_disabled_until": None}


def member_update(s: Scene) -> JSON:
    shape = {"guild_id": str(s.guild.id), **shapes.member(s.person)}
    shape["nick"] = s.rng.choice((None, f"{s.person.username}-nick"))
    return shape


def member_remove(s: Scene) -> JSON:
    return {"guild_id": str(s.guild.id), "user": shapes.user(s.person)}


def role_create(s: Scene) -> JSON:
    return {"guild_id": str(s.guild.id), "role": shapes.role(s.new_id(), "new role", len(s.guild.role_ids))}


def role_update(s: Scene) -> JSON:
    return {"guild_id": str(s.guild.id), "role": shapes.role(s.rng.choice(s.guild.role_ids[1:]), "renamed", 1)}


def role_delete(s: Scene) -> JSON:
    return {"guild_id": str(s.guild.id), "role_id": str(s.new_id())}


def guild_update(s: Scene) -> JSON:
    return shapes.guild(s.guild)


def guild_ban(s: Scene) -> JSON:
    return {"guild_id": str(s.guild.id), "user": shapes.user(s.person)}


def audit_log_entry(s: Scene) -> JSON:
    return {
        "guild_id": str(s.guild.id),
        "id": str(s.new_id()),
        "user_id": str(s.guild.owner_id),
        "target_id": str(s.person.id),
        "action_type": 24,  # MEMBER_UPDATE
        "changes": [{"key": "nick", "old_value": None, "new_value": "renamed"}],
        "reason": None,
    }


def emojis_update(s: Scene) -> JSON:
    emoji = {"id": str(s.new_id()), "name": "blobwave", "roles": [], "require_colons": True, "managed": False,
             "animated": False, "available": True}  # fmt: skip
    return {"guild_id": str(s.guild.id), "emojis": [emoji]}


def stickers_update(s: Scene) -> JSON:
    sticker = {"id": str(s.new_id()), "name": "wave", "description": "a wave", "tags": "wave", "type": 2,
               "format_type": 1, "available": True, "guild_id": str(s.guild.id)}  # fmt: skip
    return {"guild_id": str(s.guild.id), "stickers": [sticker]}


def guild_only(s: Scene) -> JSON:
    return {"guild_id": str(s.guild.id)}


def integration(s: Scene) -> JSON:
    return {
        "id": str(s.new_id()),
        "name": "Twitch",
        "type": "twitch",
        "enabled": True,
        "account": {"id": str(s.new_id()), "name": "streamer"},
        "guild_id": str(s.guild.id),
    }


def integration_delete(s: Scene) -> JSON:
    return {"id": str(s.new_id()), "guild_id": str(s.guild.id), "application_id": str(s.new_id())}


def webhooks_update(s: Scene) -> JSON:
    return s.ids()


def invite_create(s: Scene) -> JSON:
    return {
        **s.ids(),
        "code": f"emu{s.rng.randrange(36**5):x}",
        "created_at": shapes.iso(s.now_ms),
        "inviter": shapes.user(s.person),
        "max_age": 86_400,
        "max_uses": 0,
        "temporary": False,
        "uses": 0,
        "expires_at": shapes.iso(s.now_ms + 86_400_000),
    }


def invite_delete(s: Scene) -> JSON:
    return {**s.ids(), "code": f"emu{s.rng.randrange(36**5):x}"}


def channel_event(s: Scene) -> JSON:
    return shapes.channel(s.channel)


def channel_pins_update(s: Scene) -> JSON:
    return {**s.ids(not s.in_dm()), "last_pin_timestamp": shapes.iso(s.now_ms)}


def _thread(s: Scene) -> JSON:
    return {
        "id": str(s.new_id()),
        "guild_id": str(s.guild.id),
        "parent_id": str(s.channel.id),
        "owner_id": str(s.person.id),
        "name": s.text(2),
        "type": 11,
        "last_message_id": None,
        "message_count": 0,
        "member_count": 1,
        "rate_limit_per_user": 0,
        "flags": 0,
        "thread_metadata": {
            "archived": False,
            "auto_archive_duration": 1440,
            "archive_timestamp": shapes.iso(s.now_ms),
            "locked": False,
            "create_timestamp": shapes.iso(s.now_ms),
        },
        "total_message_sent": 0,
    }


def thread_create(s: Scene) -> JSON:
    return {**_thread(s), "newly_created": True}


def thread_delete(s: Scene) -> JSON:
    return {"id": str(s.new_id()), "guild_id": str(s.guild.id), "parent_id": str(s.channel.id), "type": 11}


def thread_list_sync(s: Scene) -> JSON:
    return {"guild_id": str(s.guild.id), "channel_ids": [str(s.channel.id)], "threads": [_thread(s)], "members": []}


def _thread_member(s: Scene, thread_id: int, person: Person) -> JSON:
    return {"id": str(thread_id), "user_id": str(person.id), "join_timestamp": shapes.iso(s.now_ms), "flags": 0}


def thread_member_update(s: Scene) -> JSON:
    return {**_thread_member(s, s.new_id(), s.bot), "guild_id": str(s.guild.id)}


def thread_members_update(s: Scene) -> JSON:
    thread_id = s.new_id()
    added = {**_thread_member(s, thread_id, s.person), "member": shapes.member(s.person), "presence": None}
    return {"id": str(thread_id), "guild_id": str(s.guild.id), "member_count": 2, "added_members": [added]}


def voice_state_update(s: Scene) -> JSON:
    channel = s.voice_channel()
    return shapes.voice_state(s.guild.id, channel.id, s.person, f"{s.rng.getrandbits(128):032x}")


def voice_effect(s: Scene) -> JSON:
    return {
        **s.ids(channel=s.voice_channel()),
        "user_id": str(s.person.id),
        "emoji": {"id": None, "name": s.rng.choice(EMOJIS)},
        "animation_type": 1,
        "animation_id": s.rng.randrange(20),
    }


def voice_status(s: Scene) -> JSON:
    return {"id": str(s.voice_channel().id), "guild_id": str(s.guild.id), "status": s.text(3)}


def voice_start_time(s: Scene) -> JSON:
    return {"id": str(s.voice_channel().id), "guild_id": str(s.guild.id), "voice_start_time": s.now_ms // 1000}


def interaction_create(s: Scene) -> JSON:
    member = {**shapes.member(s.person), "permissions": "2248473465835073"}
    channel = {**shapes.channel(s.channel), "permissions": "2248473465835073"}
    return {
        "id": str(s.new_id()),
        "application_id": str(s.bot.id),
        "type": 2,
        "token": f"interaction-token-{s.rng.getrandbits(64):x}",
        "version": 1,
        "guild_id": str(s.guild.id),
        "channel_id": str(s.channel.id),
        "guild": {"id": str(s.guild.id), "locale": "en-US", "features": []},
        "channel": channel,
        "member": member,
        "app_permissions": "442368",
        "locale": "en-US",
        "guild_locale": "en-US",
        "entitlements": [],
        "authorizing_integration_owners": {"0": str(s.guild.id)},
        "context": 0,
        "attachment_size_limit": 10_485_760,
        "data": {"id": str(s.new_id()), "name": "ping", "type": 1, "options": []},
    }


def automod_rule(s: Scene) -> JSON:
    return {
        "id": str(s.new_id()),
        "guild_id": str(s.guild.id),
        "name": "no spam",
        "creator_id": str(s.guild.owner_id),
        "event_type": 1,
        "trigger_type": 1,
        "trigger_metadata": {"keyword_filter": ["cheap*"]},
        "actions": [{"type": 1, "metadata": {"custom_message": "Not allowed here"}}],
        "enabled": True,
        "exempt_roles": [],
        "exempt_channels": [],
    }


def automod_execution(s: Scene) -> JSON:
    return {
        "guild_id": str(s.guild.id),
        "rule_id": str(s.new_id()),
        "rule_trigger_type": 1,
        "action": {"type": 1, "metadata": {"custom_message": "Not allowed here"}},
        "user_id": str(s.person.id),
        "channel_id": str(s.channel.id),
        "content": "buy cheap stuff",
        "matched_keyword": "cheap*",
        "matched_content": "cheap",
    }


def scheduled_event(s: Scene) -> JSON:
    channel = s.voice_channel()
    return {
        "id": str(s.new_id()),
        "guild_id": str(s.guild.id),
        "channel_id": str(channel.id),
        "creator_id": str(s.guild.owner_id),
        "name": "community night",
        "description": None,
        "scheduled_start_time": shapes.iso(s.now_ms + 86_400_000),
        "scheduled_end_time": None,
        "privacy_level": 2,
        "status": 1,
        "entity_type": 2,
        "entity_id": None,
        "entity_metadata": None,
        "user_count": s.rng.randrange(50),
        "image": None,
        "recurrence_rule": None,
    }


def scheduled_event_user(s: Scene) -> JSON:
    return {"guild_scheduled_event_id": str(s.new_id()), "user_id": str(s.person.id), "guild_id": str(s.guild.id)}


def stage_instance(s: Scene) -> JSON:
    return {
        "id": str(s.new_id()),
        "guild_id": str(s.guild.id),
        "channel_id": str(s.guild.voice_channels[-1].id),
        "topic": s.text(3),
        "privacy_level": 2,
        "discoverable_disabled": False,
        "guild_scheduled_event_id": None,
    }


def soundboard_sound(s: Scene) -> JSON:
    return shapes.soundboard_sound(s.new_id(), s.guild.id, s.person)


def soundboard_sound_delete(s: Scene) -> JSON:
    return {"sound_id": str(s.new_id()), "guild_id": str(s.guild.id)}


def soundboard_sounds_update(s: Scene) -> JSON:
    return {"guild_id": str(s.guild.id), "soundboard_sounds": [soundboard_sound(s)]}


def command_permissions(s: Scene) -> JSON:
    return {
        "id": str(s.bot.id),
        "application_id": str(s.bot.id),
        "guild_id": str(s.guild.id),
        "permissions": [{"id": str(s.guild.role_ids[1]), "type": 1, "permission": True}],
    }


def entitlement(s: Scene) -> JSON:
    return {
        "id": str(s.new_id()),
        "sku_id": str(s.new_id()),
        "application_id": str(s.bot.id),
        "user_id": str(s.person.id),
        "type": 8,
        "deleted": False,
        "starts_at": shapes.iso(s.now_ms),
        "ends_at": None,
    }


def subscription(s: Scene) -> JSON:
    return {
        "id": str(s.new_id()),
        "user_id": str(s.person.id),
        "sku_ids": [str(s.new_id())],
        "entitlement_ids": [str(s.new_id())],
        "renewal_sku_ids": None,
        "current_period_start": shapes.iso(s.now_ms),
        "current_period_end": shapes.iso(s.now_ms + 30 * 86_400_000),
        "status": 0,
        "canceled_at": None,
    }


#: Traffic categories (GATEWAY.md §10.1's, with "Presence / users" split in three) and
#: the event names each produces, with their relative weights inside the category.
CATEGORIES: dict[str, dict[str, int]] = {
    "messages": {"MESSAGE_CREATE": 70, "MESSAGE_UPDATE": 15, "MESSAGE_DELETE": 13, "MESSAGE_DELETE_BULK": 2},
    "reactions": {"MESSAGE_REACTION_ADD": 70, "MESSAGE_REACTION_REMOVE": 25, "MESSAGE_REACTION_REMOVE_ALL": 3,
                  "MESSAGE_REACTION_REMOVE_EMOJI": 2},
    "polls": {"MESSAGE_POLL_VOTE_ADD": 80, "MESSAGE_POLL_VOTE_REMOVE": 20},
    "presences": {"PRESENCE_UPDATE": 1},
    "typing": {"TYPING_START": 1},
    "users": {"USER_UPDATE": 1},
    "members": {"GUILD_MEMBER_ADD": 30, "GUILD_MEMBER_UPDATE": 50, "GUILD_MEMBER_REMOVE": 20},
    "roles": {"GUILD_ROLE_CREATE": 20, "GUILD_ROLE_UPDATE": 60, "GUILD_ROLE_DELETE": 20},
    "guilds": {"GUILD_UPDATE": 30, "GUILD_BAN_ADD": 10, "GUILD_BAN_REMOVE": 5, "GUILD_AUDIT_LOG_ENTRY_CREATE": 35,
               "GUILD_EMOJIS_UPDATE": 8, "GUILD_STICKERS_UPDATE": 4, "GUILD_INTEGRATIONS_UPDATE": 8},
    "integrations": {"INTEGRATION_CREATE": 30, "INTEGRATION_UPDATE": 50, "INTEGRATION_DELETE": 20},
    "webhooks": {"WEBHOOKS_UPDATE": 1},
    "invites": {"INVITE_CREATE": 70, "INVITE_DELETE": 30},
    "channels": {"CHANNEL_CREATE": 15, "CHANNEL_UPDATE": 50, "CHANNEL_DELETE": 10, "CHANNEL_PINS_UPDATE": 25},
    "threads": {"THREAD_CREATE": 20, "THREAD_UPDATE": 30, "THREAD_DELETE": 10, "THREAD_LIST_SYNC": 5,
                "THREAD_MEMBER_UPDATE": 10, "THREAD_MEMBERS_UPDATE": 25},
    "voice": {"VOICE_STATE_UPDATE": 70, "VOICE_CHANNEL_EFFECT_SEND": 10, "VOICE_CHANNEL_STATUS_UPDATE": 10,
              "VOICE_CHANNEL_START_TIME_UPDATE": 10},
    "interactions": {"INTERACTION_CREATE": 1},
    "auto_moderation": {"AUTO_MODERATION_RULE_CREATE": 10, "AUTO_MODERATION_RULE_UPDATE": 10,
                        "AUTO_MODERATION_RULE_DELETE": 5, "AUTO_MODERATION_ACTION_EXECUTION": 75},
    "scheduled_events": {"GUILD_SCHEDULED_EVENT_CREATE": 15, "GUILD_SCHEDULED_EVENT_UPDATE": 25,
                         "GUILD_SCHEDULED_EVENT_DELETE": 10, "GUILD_SCHEDULED_EVENT_USER_ADD": 35,
                         "GUILD_SCHEDULED_EVENT_USER_REMOVE": 15},
    "stage_instances": {"STAGE_INSTANCE_CREATE": 30, "STAGE_INSTANCE_UPDATE": 40, "STAGE_INSTANCE_DELETE": 30},
    "soundboard": {"GUILD_SOUNDBOARD_SOUND_CREATE": 30, "GUILD_SOUNDBOARD_SOUND_UPDATE": 30,
                   "GUILD_SOUNDBOARD_SOUND_DELETE": 20, "GUILD_SOUNDBOARD_SOUNDS_UPDATE": 20},
    "application_commands": {"APPLICATION_COMMAND_PERMISSIONS_UPDATE": 1},
    "entitlements": {"ENTITLEMENT_CREATE": 50, "ENTITLEMENT_UPDATE": 30, "ENTITLEMENT_DELETE": 20},
    "subscriptions": {"SUBSCRIPTION_CREATE": 50, "SUBSCRIPTION_UPDATE": 30, "SUBSCRIPTION_DELETE": 20},
}  # fmt: skip

#: The builder of every event name the traffic produces.
BUILDERS: dict[str, Builder] = {
    "MESSAGE_CREATE": message_create,
    "MESSAGE_UPDATE": message_update,
    "MESSAGE_DELETE": message_delete,
    "MESSAGE_DELETE_BULK": message_delete_bulk,
    "MESSAGE_REACTION_ADD": reaction_add,
    "MESSAGE_REACTION_REMOVE": reaction_remove,
    "MESSAGE_REACTION_REMOVE_ALL": reaction_remove_all,
    "MESSAGE_REACTION_REMOVE_EMOJI": reaction_remove_emoji,
    "MESSAGE_POLL_VOTE_ADD": poll_vote,
    "MESSAGE_POLL_VOTE_REMOVE": poll_vote,
    "PRESENCE_UPDATE": presence_update,
    "TYPING_START": typing_start,
    "USER_UPDATE": user_update,
    "GUILD_MEMBER_ADD": member_add,
    "GUILD_MEMBER_UPDATE": member_update,
    "GUILD_MEMBER_REMOVE": member_remove,
    "GUILD_ROLE_CREATE": role_create,
    "GUILD_ROLE_UPDATE": role_update,
    "GUILD_ROLE_DELETE": role_delete,
    "GUILD_UPDATE": guild_update,
    "GUILD_BAN_ADD": guild_ban,
    "GUILD_BAN_REMOVE": guild_ban,
    "GUILD_AUDIT_LOG_ENTRY_CREATE": audit_log_entry,
    "GUILD_EMOJIS_UPDATE": emojis_update,
    "GUILD_STICKERS_UPDATE": stickers_update,
    "GUILD_INTEGRATIONS_UPDATE": guild_only,
    "INTEGRATION_CREATE": integration,
    "INTEGRATION_UPDATE": integration,
    "INTEGRATION_DELETE": integration_delete,
    "WEBHOOKS_UPDATE": webhooks_update,
    "INVITE_CREATE": invite_create,
    "INVITE_DELETE": invite_delete,
    "CHANNEL_CREATE": channel_event,
    "CHANNEL_UPDATE": channel_event,
    "CHANNEL_DELETE": channel_event,
    "CHANNEL_PINS_UPDATE": channel_pins_update,
    "THREAD_CREATE": thread_create,
    "THREAD_UPDATE": _thread,
    "THREAD_DELETE": thread_delete,
    "THREAD_LIST_SYNC": thread_list_sync,
    "THREAD_MEMBER_UPDATE": thread_member_update,
    "THREAD_MEMBERS_UPDATE": thread_members_update,
    "VOICE_STATE_UPDATE": voice_state_update,
    "VOICE_CHANNEL_EFFECT_SEND": voice_effect,
    "VOICE_CHANNEL_STATUS_UPDATE": voice_status,
    "VOICE_CHANNEL_START_TIME_UPDATE": voice_start_time,
    "INTERACTION_CREATE": interaction_create,
    "AUTO_MODERATION_RULE_CREATE": automod_rule,
    "AUTO_MODERATION_RULE_UPDATE": automod_rule,
    "AUTO_MODERATION_RULE_DELETE": automod_rule,
    "AUTO_MODERATION_ACTION_EXECUTION": automod_execution,
    "GUILD_SCHEDULED_EVENT_CREATE": scheduled_event,
    "GUILD_SCHEDULED_EVENT_UPDATE": scheduled_event,
    "GUILD_SCHEDULED_EVENT_DELETE": scheduled_event,
    "GUILD_SCHEDULED_EVENT_USER_ADD": scheduled_event_user,
    "GUILD_SCHEDULED_EVENT_USER_REMOVE": scheduled_event_user,
    "STAGE_INSTANCE_CREATE": stage_instance,
    "STAGE_INSTANCE_UPDATE": stage_instance,
    "STAGE_INSTANCE_DELETE": stage_instance,
    "GUILD_SOUNDBOARD_SOUND_CREATE": soundboard_sound,
    "GUILD_SOUNDBOARD_SOUND_UPDATE": soundboard_sound,
    "GUILD_SOUNDBOARD_SOUND_DELETE": soundboard_sound_delete,
    "GUILD_SOUNDBOARD_SOUNDS_UPDATE": soundboard_sounds_update,
    "APPLICATION_COMMAND_PERMISSIONS_UPDATE": command_permissions,
    "ENTITLEMENT_CREATE": entitlement,
    "ENTITLEMENT_UPDATE": entitlement,
    "ENTITLEMENT_DELETE": entitlement,
    "SUBSCRIPTION_CREATE": subscription,
    "SUBSCRIPTION_UPDATE": subscription,
    "SUBSCRIPTION_DELETE": subscription,
}
