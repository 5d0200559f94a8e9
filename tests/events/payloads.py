"""Realistic ``d`` payloads for every dispatch name of GATEWAY.md §10.1.

Where GATEWAY.md prints an example (``doc_frames.py``) that example is used, sometimes
with the optional keys the example leaves out added (``*_FULL``); the other payloads are
written from the field tables of §9-§10.10 with the ids of the document's examples.
``PAYLOADS[name]`` lists the payloads of a dispatch name; tests expect their values in
``test_dispatch_fields.py``.
"""

from __future__ import annotations

import copy
from typing import Any

from .doc_frames import d

Json = dict[str, Any]

GUILD = "981346340044931072"
TEXT_CHANNEL = "981346340044931073"
VOICE_CHANNEL = "981346340044931074"
BOT = "815735085465731072"
ALICE = "1063970773401731072"
BOB = "1236467397427331079"
MESSAGE = "1389395076710531072"
THREAD = "1389395076710531300"
ROLE = "1236467397427331072"
APPLICATION = BOT
TS = "2025-07-01T12:00:00.000000+00:00"
LATER = "2025-07-02T12:00:00.000000+00:00"

ALICE_USER: Json = {"id": ALICE, "username": "alice", "discriminator": "0", "global_name": "Alice", "avatar": None}

#: The bot's own user with every optional key (USER_UPDATE).
BOT_USER_FULL: Json = {
    "id": BOT, "username": "test-bot", "discriminator": "4821", "global_name": "Test Bot",
    "avatar": "a_1269e74af4df7417b13759eae50c83dc", "bot": True, "system": False, "public_flags": 65536,
    "banner": "06c16474723fe537c283b8efa61a30c8", "accent_color": 16711680,
    "avatar_decoration_data": {"asset": "a_fed43ab12698df65902ba06727e20c0e", "sku_id": "1144058522808614923"},
    "collectibles": {"nameplate": {"sku_id": "2247558840304243311", "asset": "nameplates/nameplates/twilight/",
                                   "label": "", "palette": "cobalt"}},
    "primary_guild": {"identity_guild_id": GUILD, "identity_enabled": True, "tag": "EMU"},
    "verified": True, "email": "test-bot@example.invalid", "flags": 0, "mfa_enabled": True, "locale": "en-US",
}  # fmt: skip

#: A guild member with every optional key (inside INTERACTION_CREATE, so with
#: ``permissions``).
MEMBER_FULL: Json = {
    "user": {**ALICE_USER, "public_flags": 0}, "nick": "Ally", "avatar": "f91f2d6a43a8f9e1c1d9b0b3a7e4d5c6",
    "banner": "b5e0b0c6f2a1d3e4f5a6b7c8d9e0f1a2", "roles": [ROLE], "joined_at": "2023-01-15T10:00:00.000000+00:00",
    "premium_since": "2024-03-01T08:00:00.000000+00:00", "deaf": False, "mute": True, "flags": 2, "pending": False,
    "permissions": "2248473465835073", "communication_disabled_until": LATER,
    "avatar_decoration_data": {"asset": "a_fed43ab12698df65902ba06727e20c0e", "sku_id": "1144058522808614923"},
    "collectibles": {"nameplate": {"sku_id": "2247558840304243311"}},
}  # fmt: skip

ROLE_FULL: Json = {
    "id": ROLE, "name": "Moderators", "color": 3447003,
    "colors": {"primary_color": 3447003, "secondary_color": 15277667, "tertiary_color": 16777215},
    "hoist": True, "icon": "2a6d9d0e8f3b4c5d6e7f8a9b0c1d2e3f", "unicode_emoji": "🛡️", "position": 3,
    "permissions": "1099511627775", "managed": False, "mentionable": True, "tags": {"premium_subscriber": None},
    "flags": 1,
}  # fmt: skip

EMOJI_FULL: Json = {
    "id": "41771983429993937", "name": "LUL", "roles": [ROLE], "user": {**ALICE_USER},
    "require_colons": True, "managed": False, "animated": True, "available": True,
}  # fmt: skip

STICKER_FULL: Json = {
    "id": "749054660769218631", "name": "Wave", "description": "Wumpus waves hello", "tags": "wumpus,hello",
    "type": 2, "format_type": 3, "available": True, "guild_id": GUILD, "user": {**ALICE_USER},
}  # fmt: skip

SOUND_FULL: Json = {
    "name": "quack", "sound_id": "1106714396018884649", "volume": 0.75, "emoji_id": "41771983429993937",
    "emoji_name": "LUL", "guild_id": GUILD, "available": True, "user": {**ALICE_USER},
}  # fmt: skip

ACTIVITY_FULL: Json = {
    "name": "Twitch", "type": 1, "created_at": 1751371200000, "url": "https://twitch.tv/alice",
    "timestamps": {"start": 1751371100000, "end": 1751374700000}, "application_id": "383226320970055681",
    "details": "Speedrunning", "state": "Any% glitchless", "emoji": {"id": None, "name": "🔥"},
}  # fmt: skip

PRESENCE_FULL: Json = {
    "user": {"id": ALICE, "username": "alice", "discriminator": "0"}, "guild_id": GUILD, "status": "online",
    "activities": [ACTIVITY_FULL],
    "client_status": {"desktop": "online", "mobile": "idle", "web": "dnd", "vr": "online"},
}  # fmt: skip

VOICE_STATE_FULL: Json = {
    **d("VOICE_STATE_UPDATE"), "self_stream": True, "request_to_speak_timestamp": TS,
}

THREAD_MEMBER_FULL: Json = {
    "id": THREAD, "user_id": ALICE, "join_timestamp": TS, "flags": 1,
    "member": {"user": ALICE_USER, "roles": [], "joined_at": TS, "deaf": False, "mute": False, "flags": 0},
    "presence": {"user": {"id": ALICE}, "status": "online", "activities": [], "client_status": {"web": "online"}},
}  # fmt: skip

#: A voice channel with every optional channel key.
CHANNEL_FULL: Json = {
    "id": VOICE_CHANNEL, "type": 2, "guild_id": GUILD, "position": 1,
    "permission_overwrites": [{"id": ROLE, "type": 0, "allow": "1024", "deny": "2048"}],
    "name": "Voice", "topic": "talk here", "nsfw": False, "last_message_id": MESSAGE, "bitrate": 64000,
    "user_limit": 10, "rate_limit_per_user": 5, "recipients": [ALICE_USER], "parent_id": "981346340044931070",
    "last_pin_timestamp": TS, "rtc_region": "us-east", "flags": 0, "permissions": "2248473465835073",
}  # fmt: skip

#: THREAD_CREATE of §10.4 plus the bot's thread membership.
THREAD_FULL: Json = {**d("THREAD_CREATE"), "member": THREAD_MEMBER_FULL}
THREAD_FULL["thread_metadata"] = {**THREAD_FULL["thread_metadata"], "invitable": True}

SCHEDULED_EVENT_FULL: Json = {
    "id": "1389395076710531400", "guild_id": GUILD, "channel_id": VOICE_CHANNEL, "creator_id": ALICE,
    "name": "Game night", "description": "Bring snacks", "scheduled_start_time": TS, "scheduled_end_time": LATER,
    "privacy_level": 2, "status": 1, "entity_type": 2, "entity_id": VOICE_CHANNEL,
    "entity_metadata": {"location": "Voice"}, "creator": ALICE_USER, "user_count": 12,
    "image": "4b0f4ad1a9c5e8e0d6c3b2a1f0e9d8c7", "recurrence_rule": {"start": TS, "frequency": 2, "interval": 1},
}  # fmt: skip

STAGE_FULL: Json = {
    "id": "1389395076710531450", "guild_id": GUILD, "channel_id": "981346340044931075", "topic": "AMA",
    "privacy_level": 2, "discoverable_disabled": False, "guild_scheduled_event_id": "1389395076710531400",
}  # fmt: skip

ENTITLEMENT_FULL: Json = {
    **d("ENTITLEMENT_CREATE"), "ends_at": LATER, "guild_id": GUILD, "consumed": False,
}

#: §10.6 MESSAGE_CREATE with every optional message key.
MESSAGE_FULL: Json = {
    **d("MESSAGE_CREATE"), "type": 19, "edited_timestamp": LATER, "webhook_id": "1389395076710531600",
    "reactions": [{"count": 1, "me": False, "emoji": {"id": None, "name": "🔥"}}],
    "message_reference": {"type": 0, "message_id": "1389395076710531000", "channel_id": TEXT_CHANNEL},
    "referenced_message": {
        "id": "1389395076710531000", "channel_id": TEXT_CHANNEL, "author": {**ALICE_USER}, "content": "first!",
        "timestamp": TS, "edited_timestamp": None, "tts": False, "mention_everyone": False, "mentions": [],
        "mention_roles": [], "attachments": [], "embeds": [], "pinned": False, "type": 0},
    "sticker_items": [{"id": "749054660769218631", "name": "Wave", "format_type": 3}],
    "poll": {"question": {"text": "Lunch?"}, "answers": [{"answer_id": 1, "poll_media": {"text": "Pizza"}}]},
    "interaction_metadata": {"id": "1389395076710531200", "type": 2, "user": ALICE_USER},
    "thread": {"id": THREAD, "type": 11, "name": "bug triage", "guild_id": GUILD},
    "application_id": APPLICATION, "position": 4,
    "attachments": [{"id": "1389395076710531700", "filename": "log.txt", "size": 12, "url": "https://cdn.example/log.txt"}],
    "embeds": [{"title": "Build", "description": "green"}],
    "components": [{"type": 1, "components": [{"type": 2, "style": 1, "label": "OK", "custom_id": "ok"}]}],
}  # fmt: skip

#: A DM message: no ``guild_id``, no ``member``, ``channel_type`` 1 (§10.6).
MESSAGE_DM: Json = {
    "id": "1389395076710531800", "channel_id": "1389395076710531801", "channel_type": 1,
    "author": {**ALICE_USER}, "content": "hi bot", "timestamp": TS, "edited_timestamp": None, "tts": False,
    "mention_everyone": False, "mentions": [], "mention_roles": [], "attachments": [], "embeds": [],
    "components": [], "pinned": False, "type": 0, "flags": 0, "nonce": 1389395075000000000,
}  # fmt: skip

#: A button click in a DM (§10.9): ``user`` instead of ``member``, the ``message``.
INTERACTION_COMPONENT: Json = {
    "id": "1389395076710531210", "application_id": APPLICATION, "type": 3, "token": "ANOTHER_TOKEN", "version": 1,
    "channel_id": "1389395076710531801", "user": {**ALICE_USER, "public_flags": 0}, "message": MESSAGE_DM,
    "app_permissions": "442368", "locale": "en-GB", "entitlements": [ENTITLEMENT_FULL],
    "authorizing_integration_owners": {"1": ALICE}, "context": 1, "attachment_size_limit": 10485760,
    "data": {"custom_id": "confirm", "component_type": 3, "values": ["a", "b"],
             "resolved": {"users": {}}, "components": [{"type": 1}]},
}  # fmt: skip

#: §10.9's command with a sub-command, a focused autocomplete option and the full member.
INTERACTION_COMMAND_FULL: Json = copy.deepcopy(d("INTERACTION_CREATE"))
INTERACTION_COMMAND_FULL["member"] = MEMBER_FULL
INTERACTION_COMMAND_FULL["data"] = {
    "id": "1324165260902531072", "name": "cards", "type": 1, "guild_id": GUILD, "target_id": ALICE,
    "resolved": {"users": {ALICE: ALICE_USER}},
    "options": [{"name": "search", "type": 1, "options": [
        {"name": "cardname", "type": 3, "value": "The Gitrog Monster", "focused": True}]}],
}  # fmt: skip

GUILD_UPDATE_D: Json = {k: v for k, v in d("GUILD_CREATE").items() if k not in {
    "joined_at", "large", "unavailable", "member_count", "voice_states", "members", "channels", "threads",
    "presences", "stage_instances", "guild_scheduled_events", "soundboard_sounds"}}  # fmt: skip
GUILD_UPDATE_D.update({
    "icon": "1f2e3d4c5b6a79881f2e3d4c5b6a7988", "splash": "2a2b2c2d", "discovery_splash": "3a3b3c3d",
    "afk_channel_id": VOICE_CHANNEL, "application_id": "1389395076710531900", "rules_channel_id": TEXT_CHANNEL,
    "vanity_url_code": "emu", "description": "A test guild", "banner": "4a4b4c4d",
    "public_updates_channel_id": TEXT_CHANNEL, "safety_alerts_channel_id": TEXT_CHANNEL,
    "premium_subscription_count": 3, "features": ["COMMUNITY", "NEWS"], "emojis": [EMOJI_FULL],
    "stickers": [STICKER_FULL], "roles": [ROLE_FULL],
})  # fmt: skip

#: §10.3 GUILD_CREATE with a thread, a voice state, a stage, an event and a sound.
GUILD_CREATE_FULL: Json = {
    **d("GUILD_CREATE"), "threads": [THREAD_FULL], "voice_states": [VOICE_STATE_FULL],
    "stage_instances": [STAGE_FULL], "guild_scheduled_events": [SCHEDULED_EVENT_FULL],
    "soundboard_sounds": [SOUND_FULL], "presences": [PRESENCE_FULL],
}  # fmt: skip

AUTOMOD_RULE: Json = {
    "id": "969707018069872670", "guild_id": GUILD, "name": "Keyword Filter 1", "creator_id": ALICE,
    "event_type": 1, "trigger_type": 1, "trigger_metadata": {"keyword_filter": ["cat*", "*dog"]},
    "actions": [{"type": 1, "metadata": {"custom_message": "Please keep it civil"}},
                {"type": 2, "metadata": {"channel_id": TEXT_CHANNEL}}],
    "enabled": True, "exempt_roles": [ROLE], "exempt_channels": [TEXT_CHANNEL],
}  # fmt: skip

AUTOMOD_EXECUTION_FULL: Json = {
    **d("AUTO_MODERATION_ACTION_EXECUTION"), "message_id": MESSAGE, "alert_system_message_id": "1389395076710532000",
}

SUBSCRIPTION: Json = {
    "id": "1278078770116427839", "user_id": ALICE, "sku_ids": ["1158857122189168803"],
    "entitlement_ids": ["1389395076710531500"], "renewal_sku_ids": ["1158857122189168803"],
    "current_period_start": TS, "current_period_end": "2025-08-01T12:00:00.000000+00:00", "status": 0,
    "canceled_at": LATER, "country": "US",
}  # fmt: skip

INTEGRATION: Json = {
    "id": "1389395076710532100", "guild_id": GUILD, "name": "test-bot", "type": "discord", "enabled": True,
    "account": {"id": "815735085465731072", "name": "test-bot"}, "syncing": False, "role_id": ROLE,
    "enable_emoticons": False, "expire_behavior": 0, "expire_grace_period": 1, "synced_at": TS,
    "subscriber_count": 0, "revoked": False, "application": {"id": APPLICATION, "name": "test-bot"},
    "scopes": ["bot", "applications.commands"],
}  # fmt: skip

INVITE_CREATE_D: Json = {
    "channel_id": TEXT_CHANNEL, "code": "emu123", "created_at": TS, "guild_id": GUILD, "inviter": ALICE_USER,
    "max_age": 86400, "max_uses": 10, "target_type": 1, "target_user": {**ALICE_USER},
    "target_application": {"id": APPLICATION, "name": "test-bot"}, "temporary": False, "uses": 0,
    "expires_at": LATER, "role_ids": [ROLE],
}  # fmt: skip

REACTION_ADD_FULL: Json = {**d("MESSAGE_REACTION_ADD"), "burst": True, "burst_colors": ["#ff0000", "#00ff00"], "type": 1}
REACTION_ADD_FULL["emoji"] = {"id": "41771983429993937", "name": "LUL", "animated": True}

#: Every dispatch name of §10.1 → its realistic ``d`` payloads.
PAYLOADS: dict[str, list[Json]] = {
    "READY": [d("READY")],
    "RESUMED": [d("RESUMED")],
    "RATE_LIMITED": [d("RATE_LIMITED")],
    "APPLICATION_COMMAND_PERMISSIONS_UPDATE": [{
        "id": "1324165260902531072", "application_id": APPLICATION, "guild_id": GUILD,
        "permissions": [{"id": ROLE, "type": 1, "permission": True}, {"id": ALICE, "type": 2, "permission": False}]}],
    "AUTO_MODERATION_RULE_CREATE": [AUTOMOD_RULE],
    "AUTO_MODERATION_RULE_UPDATE": [AUTOMOD_RULE],
    "AUTO_MODERATION_RULE_DELETE": [AUTOMOD_RULE],
    "AUTO_MODERATION_ACTION_EXECUTION": [d("AUTO_MODERATION_ACTION_EXECUTION"), AUTOMOD_EXECUTION_FULL],
    "CHANNEL_CREATE": [CHANNEL_FULL],
    "CHANNEL_UPDATE": [CHANNEL_FULL],
    "CHANNEL_DELETE": [CHANNEL_FULL],
    "CHANNEL_PINS_UPDATE": [{"guild_id": GUILD, "channel_id": TEXT_CHANNEL, "last_pin_timestamp": TS}],
    "CHANNEL_INFO": [{"guild_id": GUILD, "channels": [
        {"id": VOICE_CHANNEL, "status": "Raid night", "voice_start_time": 1751371200}, {"id": TEXT_CHANNEL}]}],
    "THREAD_CREATE": [d("THREAD_CREATE"), THREAD_FULL],
    "THREAD_UPDATE": [THREAD_FULL],
    "THREAD_DELETE": [{"id": THREAD, "guild_id": GUILD, "parent_id": TEXT_CHANNEL, "type": 11}],
    "THREAD_LIST_SYNC": [{"guild_id": GUILD, "channel_ids": [TEXT_CHANNEL], "threads": [THREAD_FULL],
                          "members": [{"id": THREAD, "user_id": BOT, "join_timestamp": TS, "flags": 0}]}],
    "THREAD_MEMBER_UPDATE": [{"id": THREAD, "user_id": BOT, "join_timestamp": TS, "flags": 0, "guild_id": GUILD}],
    "THREAD_MEMBERS_UPDATE": [{"id": THREAD, "guild_id": GUILD, "member_count": 3,
                               "added_members": [THREAD_MEMBER_FULL], "removed_member_ids": [BOB]}],
    "ENTITLEMENT_CREATE": [d("ENTITLEMENT_CREATE"), ENTITLEMENT_FULL],
    "ENTITLEMENT_UPDATE": [ENTITLEMENT_FULL],
    "ENTITLEMENT_DELETE": [ENTITLEMENT_FULL],
    "GUILD_CREATE": [d("GUILD_CREATE"), GUILD_CREATE_FULL],
    "GUILD_UPDATE": [GUILD_UPDATE_D],
    "GUILD_DELETE": [d("GUILD_DELETE"), {"id": GUILD, "unavailable": True}],
    "GUILD_AUDIT_LOG_ENTRY_CREATE": [{
        "id": "1389395076710532200", "guild_id": GUILD, "user_id": ALICE, "target_id": BOB, "action_type": 22,
        "changes": [{"key": "nick", "old_value": "b", "new_value": "bob"}],
        "options": {"delete_member_days": "1", "members_removed": "1"}, "reason": "spam"}],
    "GUILD_BAN_ADD": [{"guild_id": GUILD, "user": d("GUILD_MEMBER_REMOVE")["user"]}],
    "GUILD_BAN_REMOVE": [{"guild_id": GUILD, "user": d("GUILD_MEMBER_REMOVE")["user"]}],
    "GUILD_EMOJIS_UPDATE": [{"guild_id": GUILD, "emojis": [EMOJI_FULL, {"id": "41771983429993938", "name": "wave"}]}],
    "GUILD_STICKERS_UPDATE": [{"guild_id": GUILD, "stickers": [STICKER_FULL]}],
    "GUILD_INTEGRATIONS_UPDATE": [{"guild_id": GUILD}],
    "GUILD_MEMBER_ADD": [d("GUILD_MEMBER_ADD")],
    "GUILD_MEMBER_REMOVE": [d("GUILD_MEMBER_REMOVE")],
    "GUILD_MEMBER_UPDATE": [{
        "guild_id": GUILD, "roles": [ROLE], "user": d("GUILD_MEMBER_ADD")["user"], "nick": "bobby", "avatar": None,
        "banner": None, "joined_at": TS, "premium_since": None, "deaf": True, "mute": False, "pending": False,
        "communication_disabled_until": LATER, "flags": 0}],
    "GUILD_MEMBERS_CHUNK": [d("GUILD_MEMBERS_CHUNK"), {
        "guild_id": GUILD, "chunk_index": 1, "chunk_count": 3, "members": [], "presences": [PRESENCE_FULL]}],
    "GUILD_ROLE_CREATE": [{"guild_id": GUILD, "role": ROLE_FULL}],
    "GUILD_ROLE_UPDATE": [{"guild_id": GUILD, "role": ROLE_FULL}],
    "GUILD_ROLE_DELETE": [d("GUILD_ROLE_DELETE")],
    "GUILD_SCHEDULED_EVENT_CREATE": [SCHEDULED_EVENT_FULL],
    "GUILD_SCHEDULED_EVENT_UPDATE": [SCHEDULED_EVENT_FULL],
    "GUILD_SCHEDULED_EVENT_DELETE": [SCHEDULED_EVENT_FULL],
    "GUILD_SCHEDULED_EVENT_USER_ADD": [
        {"guild_scheduled_event_id": "1389395076710531400", "user_id": ALICE, "guild_id": GUILD}],
    "GUILD_SCHEDULED_EVENT_USER_REMOVE": [
        {"guild_scheduled_event_id": "1389395076710531400", "user_id": ALICE, "guild_id": GUILD}],
    "GUILD_SOUNDBOARD_SOUND_CREATE": [SOUND_FULL],
    "GUILD_SOUNDBOARD_SOUND_UPDATE": [SOUND_FULL],
    "GUILD_SOUNDBOARD_SOUND_DELETE": [{"sound_id": "1106714396018884649", "guild_id": GUILD}],
    "GUILD_SOUNDBOARD_SOUNDS_UPDATE": [{"guild_id": GUILD, "soundboard_sounds": [SOUND_FULL]}],
    "SOUNDBOARD_SOUNDS": [{"guild_id": GUILD, "soundboard_sounds": [SOUND_FULL]}],
    "INTEGRATION_CREATE": [INTEGRATION],
    "INTEGRATION_UPDATE": [INTEGRATION],
    "INTEGRATION_DELETE": [{"id": "1389395076710532100", "guild_id": GUILD, "application_id": APPLICATION}],
    "INTERACTION_CREATE": [d("INTERACTION_CREATE"), INTERACTION_COMMAND_FULL, INTERACTION_COMPONENT],
    "INVITE_CREATE": [INVITE_CREATE_D],
    "INVITE_DELETE": [{"channel_id": TEXT_CHANNEL, "guild_id": GUILD, "code": "emu123"}],
    "MESSAGE_CREATE": [d("MESSAGE_CREATE"), MESSAGE_FULL, MESSAGE_DM],
    "MESSAGE_UPDATE": [MESSAGE_FULL],
    "MESSAGE_DELETE": [d("MESSAGE_DELETE")],
    "MESSAGE_DELETE_BULK": [{"ids": [MESSAGE, "1389395076710531000"], "channel_id": TEXT_CHANNEL, "guild_id": GUILD}],
    "MESSAGE_REACTION_ADD": [d("MESSAGE_REACTION_ADD"), REACTION_ADD_FULL],
    "MESSAGE_REACTION_REMOVE": [{"user_id": ALICE, "channel_id": TEXT_CHANNEL, "message_id": MESSAGE,
                                 "guild_id": GUILD, "emoji": {"id": None, "name": "🔥"}, "burst": False, "type": 0}],
    "MESSAGE_REACTION_REMOVE_ALL": [{"channel_id": TEXT_CHANNEL, "message_id": MESSAGE, "guild_id": GUILD}],
    "MESSAGE_REACTION_REMOVE_EMOJI": [{"channel_id": TEXT_CHANNEL, "guild_id": GUILD, "message_id": MESSAGE,
                                       "emoji": {"id": None, "name": "🔥"}}],
    "MESSAGE_POLL_VOTE_ADD": [d("MESSAGE_POLL_VOTE_ADD")],
    "MESSAGE_POLL_VOTE_REMOVE": [d("MESSAGE_POLL_VOTE_ADD")],
    "PRESENCE_UPDATE": [d("PRESENCE_UPDATE"), PRESENCE_FULL],
    "TYPING_START": [d("TYPING_START")],
    "USER_UPDATE": [BOT_USER_FULL],
    "STAGE_INSTANCE_CREATE": [STAGE_FULL],
    "STAGE_INSTANCE_UPDATE": [STAGE_FULL],
    "STAGE_INSTANCE_DELETE": [STAGE_FULL],
    "SUBSCRIPTION_CREATE": [SUBSCRIPTION],
    "SUBSCRIPTION_UPDATE": [SUBSCRIPTION],
    "SUBSCRIPTION_DELETE": [SUBSCRIPTION],
    "VOICE_CHANNEL_EFFECT_SEND": [{
        "channel_id": VOICE_CHANNEL, "guild_id": GUILD, "user_id": ALICE, "emoji": {"id": None, "name": "🎉"},
        "animation_type": 1, "animation_id": 3, "sound_id": "1106714396018884649", "sound_volume": 0.5}],
    "VOICE_CHANNEL_STATUS_UPDATE": [{"id": VOICE_CHANNEL, "guild_id": GUILD, "status": "Raid night"}],
    "VOICE_CHANNEL_START_TIME_UPDATE": [{"id": VOICE_CHANNEL, "guild_id": GUILD, "voice_start_time": 1751371200}],
    "VOICE_STATE_UPDATE": [d("VOICE_STATE_UPDATE"), VOICE_STATE_FULL],
    "VOICE_SERVER_UPDATE": [d("VOICE_SERVER_UPDATE")],
    "WEBHOOKS_UPDATE": [{"guild_id": GUILD, "channel_id": TEXT_CHANNEL}],
}
