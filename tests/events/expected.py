"""The values the typed events must read from ``payloads.PAYLOADS``, written by hand.

``EXPECTED[name][i]`` goes with ``PAYLOADS[name][i]``: attribute name → value. A dict
where the attribute is a view lists the view's attributes (checked recursively); a list
of dicts does the same for a list of views. Anything else is compared with ``==`` and
must have the same type (snowflakes are ``int``).
"""

from __future__ import annotations

from typing import Any

from rxgateway.protocol.shard_id import ShardId

Expect = dict[str, Any]

G = 981346340044931072
TC = 981346340044931073
VC = 981346340044931074
BOT = 815735085465731072
A = 1063970773401731072
B = 1236467397427331079
M = 1389395076710531072
TH = 1389395076710531300
R = 1236467397427331072
OWNER = 661720242585731072
TS = "2025-07-01T12:00:00.000000+00:00"
LATER = "2025-07-02T12:00:00.000000+00:00"
ALICE_JOINED = "2023-01-15T10:00:00.000000+00:00"
BOT_JOINED = "2022-06-02T09:30:00.000000+00:00"

ALICE: Expect = {"id": A, "username": "alice", "discriminator": "0", "global_name": "Alice", "avatar": None}
BOB: Expect = {"id": B, "username": "bob", "discriminator": "0", "global_name": "Bob", "avatar": None}
BOT_USER: Expect = {"id": BOT, "username": "test-bot", "discriminator": "4821", "global_name": None, "bot": True}
ALICE_MEMBER: Expect = {
    "user": ALICE, "nick": None, "roles": [], "joined_at": ALICE_JOINED, "deaf": False, "mute": False, "flags": 0,
}  # fmt: skip
BOT_USER_FULL: Expect = {
    "id": BOT, "username": "test-bot", "discriminator": "4821", "global_name": "Test Bot",
    "avatar": "a_1269e74af4df7417b13759eae50c83dc", "bot": True, "system": False, "public_flags": 65536,
    "banner": "06c16474723fe537c283b8efa61a30c8", "accent_color": 16711680,
    "avatar_decoration_data": {"asset": "a_fed43ab12698df65902ba06727e20c0e", "sku_id": "1144058522808614923"},
    "collectibles": {"nameplate": {"sku_id": "2247558840304243311", "asset": "nameplates/nameplates/twilight/",
                                   "label": "", "palette": "cobalt"}},
    "primary_guild": {"identity_guild_id": "981346340044931072", "identity_enabled": True, "tag": "EMU"},
    "verified": True, "email": "test-bot@example.invalid", "flags": 0, "mfa_enabled": True, "locale": "en-US",
    "member": None, "guild_id": None,
}  # fmt: skip
MEMBER_FULL: Expect = {
    "user": {**ALICE, "public_flags": 0}, "nick": "Ally", "avatar": "f91f2d6a43a8f9e1c1d9b0b3a7e4d5c6",
    "banner": "b5e0b0c6f2a1d3e4f5a6b7c8d9e0f1a2", "roles": [R], "joined_at": ALICE_JOINED,
    "premium_since": "2024-03-01T08:00:00.000000+00:00", "deaf": False, "mute": True, "flags": 2, "pending": False,
    "permissions": 2248473465835073, "communication_disabled_until": LATER,
    "avatar_decoration_data": {"asset": "a_fed43ab12698df65902ba06727e20c0e", "sku_id": "1144058522808614923"},
    "collectibles": {"nameplate": {"sku_id": "2247558840304243311"}},
}  # fmt: skip
ROLE_FULL: Expect = {
    "id": R, "name": "Moderators", "color": 3447003,
    "colors": {"primary_color": 3447003, "secondary_color": 15277667, "tertiary_color": 16777215},
    "hoist": True, "icon": "2a6d9d0e8f3b4c5d6e7f8a9b0c1d2e3f", "unicode_emoji": "🛡️", "position": 3,
    "permissions": 1099511627775, "managed": False, "mentionable": True, "tags": {"premium_subscriber": None},
    "flags": 1,
}  # fmt: skip
EMOJI_FULL: Expect = {
    "id": 41771983429993937, "name": "LUL", "roles": [R], "user": ALICE, "require_colons": True, "managed": False,
    "animated": True, "available": True,
}  # fmt: skip
FIRE: Expect = {"id": None, "name": "🔥", "animated": None, "roles": None}
STICKER_FULL: Expect = {
    "id": 749054660769218631, "name": "Wave", "description": "Wumpus waves hello", "tags": "wumpus,hello",
    "type": 2, "format_type": 3, "available": True, "guild_id": G, "user": ALICE,
}  # fmt: skip
SOUND: Expect = {
    "sound_id": 1106714396018884649, "sound_name": "quack", "volume": 0.75, "emoji_id": 41771983429993937,
    "emoji_name": "LUL", "guild_id": G, "available": True, "user": ALICE,
}  # fmt: skip
ACTIVITY_FULL: Expect = {
    "name": "Twitch", "type": 1, "created_at": 1751371200000, "url": "https://twitch.tv/alice",
    "timestamps": {"start": 1751371100000, "end": 1751374700000}, "application_id": 383226320970055681,
    "details": "Speedrunning", "state": "Any% glitchless", "emoji": FIRE,
}  # fmt: skip
PRESENCE_FULL: Expect = {
    "user": {"id": A, "username": "alice", "discriminator": "0", "global_name": None}, "guild_id": G,
    "status": "online", "activities": [ACTIVITY_FULL],
    "client_status": {"desktop": "online", "mobile": "idle", "web": "dnd", "vr": "online"},
}  # fmt: skip
VOICE_STATE: Expect = {
    "guild_id": G, "channel_id": VC, "user_id": BOT, "session_id": "90326bd25d71d39b9ef95b299e3872ff",
    "deaf": False, "mute": False, "self_deaf": False, "self_mute": False, "self_video": False, "suppress": False,
    "request_to_speak_timestamp": None, "self_stream": None,
    "member": {"user": BOT_USER, "nick": None, "roles": [], "joined_at": BOT_JOINED, "deaf": False, "mute": False,
               "flags": 0},
}  # fmt: skip
VOICE_STATE_FULL: Expect = {**VOICE_STATE, "self_stream": True, "request_to_speak_timestamp": TS}
THREAD_MEMBER_FULL: Expect = {
    "id": TH, "user_id": A, "join_timestamp": TS, "flags": 1,
    "member": {"user": ALICE, "roles": [], "joined_at": TS, "deaf": False, "mute": False, "flags": 0, "nick": None},
    "presence": {"user": {"id": A, "username": None}, "status": "online", "activities": [],
                 "client_status": {"web": "online", "desktop": None}, "guild_id": None},
}  # fmt: skip
THREAD: Expect = {
    "id": TH, "guild_id": G, "parent_id": TC, "owner_id": A, "channel_name": "bug triage", "channel_type": 11,
    "last_message_id": None, "message_count": 0, "member_count": 1, "rate_limit_per_user": 0, "flags": 0,
    "thread_metadata": {"archived": False, "auto_archive_duration": 1440, "archive_timestamp": TS,
                        "locked": False, "create_timestamp": TS, "invitable": None},
    "total_message_sent": 0, "newly_created": True, "member": None, "topic": None,
}  # fmt: skip
THREAD_FULL: Expect = {
    **THREAD, "thread_metadata": {**THREAD["thread_metadata"], "invitable": True}, "member": THREAD_MEMBER_FULL,
}
THREAD_VIEW: Expect = {"id": TH, "name": "bug triage", "type": 11, "member": THREAD_MEMBER_FULL}
CHANNEL_FULL: Expect = {
    "id": VC, "channel_type": 2, "channel_name": "Voice", "guild_id": G, "position": 1,
    "permission_overwrites": [{"id": R, "type": 0, "allow": 1024, "deny": 2048}], "topic": "talk here",
    "nsfw": False, "last_message_id": M, "bitrate": 64000, "user_limit": 10, "rate_limit_per_user": 5,
    "recipients": [ALICE], "parent_id": 981346340044931070, "last_pin_timestamp": TS, "rtc_region": "us-east",
    "flags": 0, "permissions": 2248473465835073, "owner_id": None, "message_count": None, "member_count": None,
    "thread_metadata": None, "total_message_sent": None, "member": None, "newly_created": None,
    "channel": {"id": VC, "name": "Voice", "type": 2},
}  # fmt: skip
ENTITLEMENT: Expect = {
    "id": 1389395076710531500, "sku_id": 1324165260902531200, "application_id": BOT, "user_id": A,
    "entitlement_type": 8, "deleted": False, "starts_at": TS, "ends_at": None, "guild_id": None, "consumed": None,
}  # fmt: skip
ENTITLEMENT_FULL: Expect = {**ENTITLEMENT, "ends_at": LATER, "guild_id": G, "consumed": False}
SCHEDULED_EVENT: Expect = {
    "id": 1389395076710531400, "guild_id": G, "channel_id": VC, "creator_id": A,
    "scheduled_event_name": "Game night", "description": "Bring snacks", "scheduled_start_time": TS,
    "scheduled_end_time": LATER, "privacy_level": 2, "status": 1, "entity_type": 2, "entity_id": VC,
    "entity_metadata": {"location": "Voice"}, "creator": ALICE, "user_count": 12,
    "image": "4b0f4ad1a9c5e8e0d6c3b2a1f0e9d8c7",
    "recurrence_rule": {"start": TS, "frequency": 2, "interval": 1},
}  # fmt: skip
STAGE: Expect = {
    "id": 1389395076710531450, "guild_id": G, "channel_id": 981346340044931075, "topic": "AMA", "privacy_level": 2,
    "discoverable_disabled": False, "guild_scheduled_event_id": 1389395076710531400,
}  # fmt: skip
AUTOMOD_RULE: Expect = {
    "id": 969707018069872670, "guild_id": G, "rule_name": "Keyword Filter 1", "creator_id": A, "event_type": 1,
    "trigger_type": 1, "trigger_metadata": {"keyword_filter": ["cat*", "*dog"]},
    "actions": [{"type": 1, "metadata": {"custom_message": "Please keep it civil"}},
                {"type": 2, "metadata": {"channel_id": "981346340044931073"}}],
    "enabled": True, "exempt_roles": [R], "exempt_channels": [TC],
}  # fmt: skip
AUTOMOD_EXECUTION: Expect = {
    "guild_id": G, "rule_id": 1324165260902531100, "rule_trigger_type": 1,
    "action": {"type": 1, "metadata": {"custom_message": "Not allowed here"}}, "user_id": A, "channel_id": TC,
    "content": "buy cheap stuff", "matched_keyword": "cheap*", "matched_content": "cheap", "message_id": None,
    "alert_system_message_id": None,
}  # fmt: skip
SUBSCRIPTION: Expect = {
    "id": 1278078770116427839, "user_id": A, "sku_ids": [1158857122189168803], "entitlement_ids": [1389395076710531500],
    "renewal_sku_ids": [1158857122189168803], "current_period_start": TS,
    "current_period_end": "2025-08-01T12:00:00.000000+00:00", "status": 0, "canceled_at": LATER, "country": "US",
    "guild_id": None,
}  # fmt: skip
INTEGRATION: Expect = {
    "id": 1389395076710532100, "guild_id": G, "integration_name": "test-bot", "integration_type": "discord",
    "enabled": True, "account": {"id": "815735085465731072", "name": "test-bot"}, "syncing": False, "role_id": R,
    "enable_emoticons": False, "expire_behavior": 0, "expire_grace_period": 1, "synced_at": TS,
    "subscriber_count": 0, "revoked": False, "application": {"id": "815735085465731072", "name": "test-bot"},
    "scopes": ["bot", "applications.commands"],
}  # fmt: skip
MESSAGE: Expect = {
    "id": M, "channel_id": TC, "guild_id": G, "channel_type": 0, "author": {**ALICE, "public_flags": 0},
    "member": {"nick": None, "avatar": None, "banner": None, "roles": [], "joined_at": ALICE_JOINED,
               "premium_since": None, "deaf": False, "mute": False, "flags": 0, "user": None},
    "content": "hello <@815735085465731072>", "timestamp": TS, "edited_timestamp": None, "tts": False,
    "mention_everyone": False,
    "mentions": [{**BOT_USER, "member": {"nick": None, "roles": [], "joined_at": BOT_JOINED, "deaf": False,
                                         "mute": False, "flags": 0}}],
    "mention_roles": [], "attachments": [], "embeds": [], "components": [], "pinned": False, "message_type": 0,
    "flags": 0, "nonce": "1389395075000000000", "referenced_message": None, "thread": None, "poll": None,
    "webhook_id": None, "message": {"id": M, "type": 0},
}  # fmt: skip
MESSAGE_FULL: Expect = {
    **MESSAGE, "message_type": 19, "edited_timestamp": LATER, "webhook_id": 1389395076710531600,
    "reactions": [{"count": 1, "me": False, "emoji": {"id": None, "name": "🔥"}}],
    "message_reference": {"type": 0, "message_id": "1389395076710531000", "channel_id": "981346340044931073"},
    "referenced_message": {"id": 1389395076710531000, "type": 0, "content": "first!", "author": ALICE,
                           "mentions": [], "member": None, "guild_id": None},
    "sticker_items": [{"id": "749054660769218631", "name": "Wave", "format_type": 3}],
    "poll": {"question": {"text": "Lunch?"}, "answers": [{"answer_id": 1, "poll_media": {"text": "Pizza"}}]},
    "interaction_metadata": {"id": "1389395076710531200", "type": 2, "user": {
        "id": "1063970773401731072", "username": "alice", "discriminator": "0", "global_name": "Alice",
        "avatar": None}},
    "thread": {"id": TH, "type": 11, "name": "bug triage", "guild_id": G},
    "application_id": BOT, "position": 4,
    "attachments": [{"id": "1389395076710531700", "filename": "log.txt", "size": 12,
                     "url": "https://cdn.example/log.txt"}],
    "embeds": [{"title": "Build", "description": "green"}],
    "components": [{"type": 1, "components": [{"type": 2, "style": 1, "label": "OK", "custom_id": "ok"}]}],
    "message": {"id": M, "type": 19},
}  # fmt: skip
MESSAGE_DM: Expect = {
    "id": 1389395076710531800, "channel_id": 1389395076710531801, "channel_type": 1, "guild_id": None,
    "member": None, "author": ALICE, "content": "hi bot", "message_type": 0, "nonce": 1389395075000000000,
}  # fmt: skip
INTERACTION: Expect = {
    "id": 1389395076710531200, "application_id": BOT, "interaction_type": 2, "token": "A_UNIQUE_TOKEN", "version": 1,
    "guild_id": G, "channel_id": TC, "guild": {"id": G, "locale": "en-US", "features": []},
    "channel": {"id": TC, "type": 0, "name": "general", "guild_id": G, "permissions": 2248473465835073,
                "nsfw": False, "parent_id": None, "last_message_id": None, "flags": 0, "rate_limit_per_user": 0,
                "topic": None, "position": 0},
    "member": {"user": {**ALICE, "public_flags": 0}, "roles": [], "nick": None, "avatar": None, "banner": None,
               "premium_since": None, "joined_at": ALICE_JOINED, "pending": False, "deaf": False, "mute": False,
               "flags": 0, "permissions": 2248473465835073},
    "user": None, "app_permissions": 442368, "locale": "en-US", "guild_locale": "en-US", "entitlements": [],
    "authorizing_integration_owners": {0: G}, "context": 0, "attachment_size_limit": 10485760,
    "data": {"id": 1324165260902531072, "name": "cardsearch", "type": 1, "custom_id": None, "resolved": None,
             "options": [{"name": "cardname", "type": 3, "value": "The Gitrog Monster", "focused": None,
                          "options": None}]},
    "message": None, "author": {"id": A, "username": "alice"},
}  # fmt: skip
INTERACTION_COMMAND_FULL: Expect = {
    **INTERACTION, "member": MEMBER_FULL, "author": {"id": A, "username": "alice"},
    "data": {"id": 1324165260902531072, "name": "cards", "type": 1, "guild_id": G, "target_id": A,
             "resolved": {"users": {"1063970773401731072": {
                 "id": "1063970773401731072", "username": "alice", "discriminator": "0", "global_name": "Alice",
                 "avatar": None}}},
             "options": [{"name": "search", "type": 1, "value": None, "options": [
                 {"name": "cardname", "type": 3, "value": "The Gitrog Monster", "focused": True}]}]},
}  # fmt: skip
INTERACTION_COMPONENT: Expect = {
    "id": 1389395076710531210, "interaction_type": 3, "token": "ANOTHER_TOKEN", "channel_id": 1389395076710531801,
    "guild_id": None, "guild": None, "channel": None, "member": None, "user": ALICE, "author": {"id": A},
    "message": {"id": 1389395076710531800, "type": 0, "content": "hi bot", "nonce": 1389395075000000000,
                "channel_type": 1, "guild_id": None},
    "app_permissions": 442368, "locale": "en-GB", "guild_locale": None,
    "entitlements": [{**ENTITLEMENT_FULL, "type": 8}], "authorizing_integration_owners": {1: A}, "context": 1,
    "attachment_size_limit": 10485760,
    "data": {"custom_id": "confirm", "component_type": 3, "values": ["a", "b"], "resolved": {"users": {}},
             "components": [{"type": 1}], "name": None, "id": None, "options": None},
}  # fmt: skip
GUILD_OBJECT: Expect = {
    "id": G, "guild_id": G, "guild_name": "Emulator Test Guild", "icon": None, "splash": None,
    "discovery_splash": None, "owner_id": OWNER, "afk_channel_id": None, "afk_timeout": 300, "verification_level": 1,
    "default_message_notifications": 1, "explicit_content_filter": 0, "mfa_level": 0, "application_id": None,
    "system_channel_id": TC, "system_channel_flags": 0, "rules_channel_id": None, "vanity_url_code": None,
    "description": None, "banner": None, "premium_tier": 0, "premium_subscription_count": 0,
    "preferred_locale": "en-US", "public_updates_channel_id": None, "nsfw_level": 0,
    "premium_progress_bar_enabled": False, "safety_alerts_channel_id": None, "max_members": 500000,
    "features": [], "emojis": [], "stickers": [],
    "roles": [{"id": G, "name": "@everyone", "color": 0,
               "colors": {"primary_color": 0, "secondary_color": None, "tertiary_color": None}, "hoist": False,
               "position": 0, "permissions": 1071698660929, "managed": False, "mentionable": False, "flags": 0,
               "icon": None, "unicode_emoji": None, "tags": None}],
}  # fmt: skip
GUILD_CREATE: Expect = {
    **GUILD_OBJECT, "joined_at": BOT_JOINED, "large": False, "unavailable": False, "member_count": 2,
    "members": [
        {"user": BOT_USER, "nick": None, "avatar": None, "banner": None, "roles": [], "joined_at": BOT_JOINED,
         "premium_since": None, "deaf": False, "mute": False, "flags": 0, "pending": False},
        {"user": {"id": OWNER, "username": "owner", "discriminator": "0", "global_name": "Owner", "avatar": None},
         "nick": None, "roles": [], "joined_at": "2022-06-01T00:00:00.000000+00:00", "flags": 0, "pending": False}],
    "channels": [
        {"id": TC, "type": 0, "name": "general", "position": 0, "parent_id": None, "permission_overwrites": [],
         "topic": None, "nsfw": False, "last_message_id": None, "rate_limit_per_user": 0, "flags": 0,
         "guild_id": None},
        {"id": VC, "type": 2, "name": "Voice", "position": 1, "bitrate": 64000, "user_limit": 0, "rtc_region": None}],
    "threads": [],
    "presences": [{"user": {"id": OWNER, "username": None}, "status": "online", "activities": [],
                   "client_status": {"desktop": "online", "mobile": None}, "guild_id": None}],
    "voice_states": [], "stage_instances": [], "guild_scheduled_events": [], "soundboard_sounds": [],
}  # fmt: skip
GUILD_CREATE_FULL: Expect = {
    **GUILD_CREATE, "threads": [THREAD_VIEW], "voice_states": [VOICE_STATE_FULL], "stage_instances": [STAGE],
    "guild_scheduled_events": [{**SCHEDULED_EVENT, "name": "Game night"}],
    "soundboard_sounds": [{**SOUND, "name": "quack"}], "presences": [PRESENCE_FULL],
}  # fmt: skip
GUILD_UPDATE: Expect = {
    **GUILD_OBJECT, "icon": "1f2e3d4c5b6a79881f2e3d4c5b6a7988", "splash": "2a2b2c2d", "discovery_splash": "3a3b3c3d",
    "afk_channel_id": VC, "application_id": 1389395076710531900, "rules_channel_id": TC, "vanity_url_code": "emu",
    "description": "A test guild", "banner": "4a4b4c4d", "public_updates_channel_id": TC,
    "safety_alerts_channel_id": TC, "premium_subscription_count": 3, "features": ["COMMUNITY", "NEWS"],
    "emojis": [EMOJI_FULL], "stickers": [STICKER_FULL], "roles": [ROLE_FULL],
}  # fmt: skip

#: Dispatch name → the expectations of each of its payloads, in order.
EXPECTED: dict[str, list[Expect]] = {
    "READY": [{
        "version": 10, "session_id": "3f1c9a7e2b5d4e6f8a0b1c2d3e4f5a6b",
        "resume_gateway_url": "wss://gateway-us-east1-b.discord.gg", "shard_id": ShardId(0, 1), "guild_id": None,
        "user": {**BOT_USER, "avatar": None, "verified": True, "email": None, "flags": 0, "mfa_enabled": False},
        "guilds": [{"id": G, "unavailable": True}, {"id": 981346340049125376, "unavailable": True}],
        "application": {"id": BOT, "flags": 565248}}],
    "RESUMED": [{"guild_id": None}],
    "RATE_LIMITED": [{"opcode": 8, "retry_after": 23.41, "meta": {"guild_id": G, "nonce": "req-1"}, "guild_id": G}],
    "APPLICATION_COMMAND_PERMISSIONS_UPDATE": [{
        "id": 1324165260902531072, "application_id": BOT, "guild_id": G,
        "permissions": [{"id": R, "type": 1, "permission": True}, {"id": A, "type": 2, "permission": False}]}],
    "AUTO_MODERATION_RULE_CREATE": [AUTOMOD_RULE],
    "AUTO_MODERATION_RULE_UPDATE": [AUTOMOD_RULE],
    "AUTO_MODERATION_RULE_DELETE": [AUTOMOD_RULE],
    "AUTO_MODERATION_ACTION_EXECUTION": [
        AUTOMOD_EXECUTION, {**AUTOMOD_EXECUTION, "message_id": M, "alert_system_message_id": 1389395076710532000}],
    "CHANNEL_CREATE": [CHANNEL_FULL],
    "CHANNEL_UPDATE": [CHANNEL_FULL],
    "CHANNEL_DELETE": [CHANNEL_FULL],
    "CHANNEL_PINS_UPDATE": [{"guild_id": G, "channel_id": TC, "last_pin_timestamp": TS}],
    "CHANNEL_INFO": [{"guild_id": G, "channels": [
        {"id": VC, "status": "Raid night", "voice_start_time": 1751371200},
        {"id": TC, "status": None, "voice_start_time": None}]}],
    "THREAD_CREATE": [THREAD, THREAD_FULL],
    "THREAD_UPDATE": [THREAD_FULL],
    "THREAD_DELETE": [{"id": TH, "guild_id": G, "parent_id": TC, "channel_type": 11, "channel_name": None}],
    "THREAD_LIST_SYNC": [{
        "guild_id": G, "channel_ids": [TC], "threads": [THREAD_VIEW],
        "members": [{"id": TH, "user_id": BOT, "join_timestamp": TS, "flags": 0, "member": None, "presence": None}]}],
    "THREAD_MEMBER_UPDATE": [{"id": TH, "user_id": BOT, "join_timestamp": TS, "flags": 0, "guild_id": G,
                              "member": None}],
    "THREAD_MEMBERS_UPDATE": [{"id": TH, "guild_id": G, "member_count": 3, "added_members": [THREAD_MEMBER_FULL],
                               "removed_member_ids": [B]}],
    "ENTITLEMENT_CREATE": [ENTITLEMENT, ENTITLEMENT_FULL],
    "ENTITLEMENT_UPDATE": [ENTITLEMENT_FULL],
    "ENTITLEMENT_DELETE": [ENTITLEMENT_FULL],
    "GUILD_CREATE": [GUILD_CREATE, GUILD_CREATE_FULL],
    "GUILD_UPDATE": [GUILD_UPDATE],
    "GUILD_DELETE": [{"id": G, "guild_id": G, "unavailable": None, "removed": True},
                     {"id": G, "unavailable": True, "removed": False}],
    "GUILD_AUDIT_LOG_ENTRY_CREATE": [{
        "id": 1389395076710532200, "guild_id": G, "user_id": A, "target_id": B, "action_type": 22,
        "changes": [{"key": "nick", "old_value": "b", "new_value": "bob"}],
        "options": {"delete_member_days": "1", "members_removed": "1"}, "reason": "spam"}],
    "GUILD_BAN_ADD": [{"guild_id": G, "user": BOB}],
    "GUILD_BAN_REMOVE": [{"guild_id": G, "user": BOB}],
    "GUILD_EMOJIS_UPDATE": [{"guild_id": G, "emojis": [
        EMOJI_FULL, {"id": 41771983429993938, "name": "wave", "animated": None, "user": None}]}],
    "GUILD_STICKERS_UPDATE": [{"guild_id": G, "stickers": [STICKER_FULL]}],
    "GUILD_INTEGRATIONS_UPDATE": [{"guild_id": G}],
    "GUILD_MEMBER_ADD": [{
        "guild_id": G, "user": BOB, "nick": None, "avatar": None, "banner": None, "roles": [], "joined_at": TS,
        "premium_since": None, "deaf": False, "mute": False, "flags": 0, "pending": False,
        "communication_disabled_until": None, "permissions": None, "member": {"user": BOB, "flags": 0}}],
    "GUILD_MEMBER_REMOVE": [{"guild_id": G, "user": BOB}],
    "GUILD_MEMBER_UPDATE": [{
        "guild_id": G, "roles": [R], "user": BOB, "nick": "bobby", "avatar": None, "banner": None, "joined_at": TS,
        "premium_since": None, "deaf": True, "mute": False, "pending": False, "communication_disabled_until": LATER,
        "flags": 0}],
    "GUILD_MEMBERS_CHUNK": [
        {"guild_id": G, "chunk_index": 0, "chunk_count": 1, "nonce": "q2", "not_found": [123], "presences": None,
         "is_last": True,
         "members": [{"user": ALICE, "nick": None, "avatar": None, "banner": None, "roles": [],
                      "joined_at": ALICE_JOINED, "premium_since": None, "deaf": False, "mute": False, "flags": 0,
                      "pending": False}]},
        {"guild_id": G, "chunk_index": 1, "chunk_count": 3, "members": [], "presences": [PRESENCE_FULL],
         "not_found": None, "nonce": None, "is_last": False}],
    "GUILD_ROLE_CREATE": [{"guild_id": G, "role": ROLE_FULL}],
    "GUILD_ROLE_UPDATE": [{"guild_id": G, "role": ROLE_FULL}],
    "GUILD_ROLE_DELETE": [{"guild_id": G, "role_id": R}],
    "GUILD_SCHEDULED_EVENT_CREATE": [SCHEDULED_EVENT],
    "GUILD_SCHEDULED_EVENT_UPDATE": [SCHEDULED_EVENT],
    "GUILD_SCHEDULED_EVENT_DELETE": [SCHEDULED_EVENT],
    "GUILD_SCHEDULED_EVENT_USER_ADD": [{"guild_scheduled_event_id": 1389395076710531400, "user_id": A, "guild_id": G}],
    "GUILD_SCHEDULED_EVENT_USER_REMOVE": [
        {"guild_scheduled_event_id": 1389395076710531400, "user_id": A, "guild_id": G}],
    "GUILD_SOUNDBOARD_SOUND_CREATE": [SOUND],
    "GUILD_SOUNDBOARD_SOUND_UPDATE": [SOUND],
    "GUILD_SOUNDBOARD_SOUND_DELETE": [{"sound_id": 1106714396018884649, "guild_id": G}],
    "GUILD_SOUNDBOARD_SOUNDS_UPDATE": [{"guild_id": G, "soundboard_sounds": [{**SOUND, "name": "quack"}]}],
    "SOUNDBOARD_SOUNDS": [{"guild_id": G, "soundboard_sounds": [{**SOUND, "name": "quack"}]}],
    "INTEGRATION_CREATE": [INTEGRATION],
    "INTEGRATION_UPDATE": [INTEGRATION],
    "INTEGRATION_DELETE": [{"id": 1389395076710532100, "guild_id": G, "application_id": BOT}],
    "INTERACTION_CREATE": [INTERACTION, INTERACTION_COMMAND_FULL, INTERACTION_COMPONENT],
    "INVITE_CREATE": [{
        "channel_id": TC, "code": "emu123", "created_at": TS, "guild_id": G, "inviter": ALICE, "max_age": 86400,
        "max_uses": 10, "target_type": 1, "target_user": ALICE,
        "target_application": {"id": "815735085465731072", "name": "test-bot"}, "temporary": False, "uses": 0,
        "expires_at": LATER, "role_ids": [R]}],
    "INVITE_DELETE": [{"channel_id": TC, "guild_id": G, "code": "emu123"}],
    "MESSAGE_CREATE": [MESSAGE, MESSAGE_FULL, MESSAGE_DM],
    "MESSAGE_UPDATE": [MESSAGE_FULL],
    "MESSAGE_DELETE": [{"id": M, "channel_id": TC, "guild_id": G}],
    "MESSAGE_DELETE_BULK": [{"ids": [M, 1389395076710531000], "channel_id": TC, "guild_id": G}],
    "MESSAGE_REACTION_ADD": [
        {"user_id": A, "channel_id": TC, "message_id": M, "guild_id": G, "member": ALICE_MEMBER, "emoji": FIRE,
         "message_author_id": BOT, "burst": False, "burst_colors": [], "reaction_type": 0},
        {"emoji": {"id": 41771983429993937, "name": "LUL", "animated": True}, "burst": True,
         "burst_colors": ["#ff0000", "#00ff00"], "reaction_type": 1}],
    "MESSAGE_REACTION_REMOVE": [{"user_id": A, "channel_id": TC, "message_id": M, "guild_id": G, "emoji": FIRE,
                                 "burst": False, "reaction_type": 0}],
    "MESSAGE_REACTION_REMOVE_ALL": [{"channel_id": TC, "message_id": M, "guild_id": G}],
    "MESSAGE_REACTION_REMOVE_EMOJI": [{"channel_id": TC, "message_id": M, "guild_id": G, "emoji": FIRE}],
    "MESSAGE_POLL_VOTE_ADD": [{"user_id": A, "channel_id": TC, "message_id": M, "guild_id": G, "answer_id": 1}],
    "MESSAGE_POLL_VOTE_REMOVE": [{"user_id": A, "channel_id": TC, "message_id": M, "guild_id": G, "answer_id": 1}],
    "PRESENCE_UPDATE": [
        {"user": {"id": A, "username": None, "global_name": None}, "guild_id": G, "status": "idle",
         "activities": [{"name": "Rocket League", "type": 0, "created_at": 1751371200000, "url": None,
                         "timestamps": {"start": 1751371100000, "end": None}}],
         "client_status": {"desktop": "idle", "mobile": None, "web": None, "vr": None}},
        PRESENCE_FULL],
    "TYPING_START": [{"channel_id": TC, "guild_id": G, "user_id": A, "timestamp": 1751371200,
                      "member": ALICE_MEMBER}],
    "USER_UPDATE": [BOT_USER_FULL],
    "STAGE_INSTANCE_CREATE": [STAGE],
    "STAGE_INSTANCE_UPDATE": [STAGE],
    "STAGE_INSTANCE_DELETE": [STAGE],
    "SUBSCRIPTION_CREATE": [SUBSCRIPTION],
    "SUBSCRIPTION_UPDATE": [SUBSCRIPTION],
    "SUBSCRIPTION_DELETE": [SUBSCRIPTION],
    "VOICE_CHANNEL_EFFECT_SEND": [{
        "channel_id": VC, "guild_id": G, "user_id": A, "emoji": {"id": None, "name": "🎉"}, "animation_type": 1,
        "animation_id": 3, "sound_id": 1106714396018884649, "sound_volume": 0.5}],
    "VOICE_CHANNEL_STATUS_UPDATE": [{"id": VC, "guild_id": G, "status": "Raid night"}],
    "VOICE_CHANNEL_START_TIME_UPDATE": [{"id": VC, "guild_id": G, "voice_start_time": 1751371200}],
    "VOICE_STATE_UPDATE": [VOICE_STATE, VOICE_STATE_FULL],
    "VOICE_SERVER_UPDATE": [{"token": "my_voice_token", "guild_id": G,
                             "endpoint": "sweetwater-12345.discord.media:2048"}],
    "WEBHOOKS_UPDATE": [{"guild_id": G, "channel_id": TC}],
}  # fmt: skip
