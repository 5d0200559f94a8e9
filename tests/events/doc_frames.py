"""Dispatch frames copied verbatim from GATEWAY.md (§3.5, §3.6, §5.4, §9.1, §10.3-§10.10).

Each is the whole frame as the document prints it; ``frame(name)`` parses a fresh copy.
Hand-written payloads for the other dispatches, and complete variants, are in
``payloads.py``.
"""

from __future__ import annotations

import json
from typing import Any

_FRAMES: dict[str, str] = {
    "AUTO_MODERATION_ACTION_EXECUTION": """
{ "op": 0, "s": 95, "t": "AUTO_MODERATION_ACTION_EXECUTION",
  "d": { "guild_id": "981346340044931072", "rule_id": "1324165260902531100", "rule_trigger_type": 1,
         "action": { "type": 1, "metadata": { "custom_message": "Not allowed here" } },
         "user_id": "1063970773401731072", "channel_id": "981346340044931073",
         "content": "buy cheap stuff", "matched_keyword": "cheap*", "matched_content": "cheap" } }
""",
    "ENTITLEMENT_CREATE": """
{ "op": 0, "s": 96, "t": "ENTITLEMENT_CREATE",
  "d": { "id": "1389395076710531500", "sku_id": "1324165260902531200", "application_id": "815735085465731072",
         "user_id": "1063970773401731072", "type": 8, "deleted": false,
         "starts_at": "2025-07-01T12:00:00.000000+00:00", "ends_at": null } }
""",
    "GUILD_CREATE": """
{ "op": 0, "s": 2, "t": "GUILD_CREATE",
  "d": {
    "id": "981346340044931072", "name": "Emulator Test Guild", "icon": null, "splash": null,
    "discovery_splash": null, "owner_id": "661720242585731072", "afk_channel_id": null,
    "afk_timeout": 300, "verification_level": 1, "default_message_notifications": 1,
    "explicit_content_filter": 0, "mfa_level": 0, "application_id": null,
    "system_channel_id": "981346340044931073", "system_channel_flags": 0, "rules_channel_id": null,
    "vanity_url_code": null, "description": null, "banner": null, "premium_tier": 0,
    "premium_subscription_count": 0, "preferred_locale": "en-US", "public_updates_channel_id": null,
    "nsfw_level": 0, "premium_progress_bar_enabled": false, "safety_alerts_channel_id": null,
    "max_members": 500000, "features": [], "emojis": [], "stickers": [],
    "roles": [ { "id": "981346340044931072", "name": "@everyone", "color": 0,
                 "colors": { "primary_color": 0, "secondary_color": null, "tertiary_color": null },
                 "hoist": false, "position": 0, "permissions": "1071698660929",
                 "managed": false, "mentionable": false, "flags": 0 } ],
    "joined_at": "2022-06-02T09:30:00.000000+00:00", "large": false, "unavailable": false,
    "member_count": 2,
    "members": [
      { "user": { "id": "815735085465731072", "username": "test-bot", "discriminator": "4821",
                  "global_name": null, "avatar": null, "bot": true },
        "nick": null, "avatar": null, "banner": null, "roles": [], "joined_at": "2022-06-02T09:30:00.000000+00:00",
        "premium_since": null, "deaf": false, "mute": false, "flags": 0, "pending": false },
      { "user": { "id": "661720242585731072", "username": "owner", "discriminator": "0",
                  "global_name": "Owner", "avatar": null },
        "nick": null, "avatar": null, "banner": null, "roles": [], "joined_at": "2022-06-01T00:00:00.000000+00:00",
        "premium_since": null, "deaf": false, "mute": false, "flags": 0, "pending": false } ],
    "channels": [
      { "id": "981346340044931073", "type": 0, "name": "general", "position": 0, "parent_id": null,
        "permission_overwrites": [], "topic": null, "nsfw": false, "last_message_id": null,
        "rate_limit_per_user": 0, "flags": 0 },
      { "id": "981346340044931074", "type": 2, "name": "Voice", "position": 1, "parent_id": null,
        "permission_overwrites": [], "bitrate": 64000, "user_limit": 0, "rtc_region": null, "flags": 0 } ],
    "threads": [],
    "presences": [ { "user": { "id": "661720242585731072" }, "status": "online",
                     "activities": [], "client_status": { "desktop": "online" } } ],
    "voice_states": [], "stage_instances": [], "guild_scheduled_events": [], "soundboard_sounds": []
  } }
""",
    "GUILD_DELETE": """
{ "op": 0, "s": 90, "t": "GUILD_DELETE", "d": { "id": "981346340044931072" } }
""",
    "GUILD_MEMBERS_CHUNK": """
{ "op": 0, "s": 12, "t": "GUILD_MEMBERS_CHUNK",
  "d": { "guild_id": "981346340044931072", "chunk_index": 0, "chunk_count": 1, "nonce": "q2",
         "not_found": [123],
         "members": [ { "user": { "id": "1063970773401731072", "username": "alice", "discriminator": "0",
                                   "global_name": "Alice", "avatar": null },
                        "nick": null, "avatar": null, "banner": null, "roles": [], "joined_at": "2023-01-15T10:00:00.000000+00:00",
                        "premium_since": null, "deaf": false, "mute": false, "flags": 0, "pending": false } ] } }
""",
    "GUILD_MEMBER_ADD": """
{ "op": 0, "s": 40, "t": "GUILD_MEMBER_ADD",
  "d": { "guild_id": "981346340044931072",
         "user": { "id": "1236467397427331079", "username": "bob", "discriminator": "0", "global_name": "Bob", "avatar": null },
         "nick": null, "avatar": null, "banner": null, "roles": [], "joined_at": "2025-07-01T12:00:00.000000+00:00",
         "premium_since": null, "deaf": false, "mute": false, "flags": 0, "pending": false,
         "communication_disabled_until": null } }
""",
    "GUILD_MEMBER_REMOVE": """
{ "op": 0, "s": 41, "t": "GUILD_MEMBER_REMOVE",
  "d": { "guild_id": "981346340044931072",
         "user": { "id": "1236467397427331079", "username": "bob", "discriminator": "0", "global_name": "Bob", "avatar": null } } }
""",
    "GUILD_ROLE_DELETE": """
{ "op": 0, "s": 42, "t": "GUILD_ROLE_DELETE", "d": { "guild_id": "981346340044931072", "role_id": "1236467397427331072" } }
""",
    "INTERACTION_CREATE": """
{ "op": 0, "s": 80, "t": "INTERACTION_CREATE",
  "d": { "id": "1389395076710531200", "application_id": "815735085465731072", "type": 2,
         "token": "A_UNIQUE_TOKEN", "version": 1,
         "guild_id": "981346340044931072", "channel_id": "981346340044931073",
         "guild": { "id": "981346340044931072", "locale": "en-US", "features": [] },
         "channel": { "id": "981346340044931073", "type": 0, "name": "general", "guild_id": "981346340044931072",
                      "permissions": "2248473465835073", "nsfw": false, "parent_id": null,
                      "last_message_id": null, "flags": 0, "rate_limit_per_user": 0, "topic": null, "position": 0 },
         "member": { "user": { "id": "1063970773401731072", "username": "alice", "discriminator": "0",
                               "global_name": "Alice", "avatar": null, "public_flags": 0 },
                     "roles": [], "nick": null, "avatar": null, "banner": null, "premium_since": null,
                     "joined_at": "2023-01-15T10:00:00.000000+00:00", "pending": false,
                     "deaf": false, "mute": false, "flags": 0, "permissions": "2248473465835073" },
         "app_permissions": "442368", "locale": "en-US", "guild_locale": "en-US",
         "entitlements": [], "authorizing_integration_owners": { "0": "981346340044931072" },
         "context": 0, "attachment_size_limit": 10485760,
         "data": { "id": "1324165260902531072", "name": "cardsearch", "type": 1,
                   "options": [ { "name": "cardname", "type": 3, "value": "The Gitrog Monster" } ] } } }
""",
    "MESSAGE_CREATE": """
{ "op": 0, "s": 50, "t": "MESSAGE_CREATE",
  "d": { "id": "1389395076710531072", "channel_id": "981346340044931073", "guild_id": "981346340044931072",
         "channel_type": 0,
         "author": { "id": "1063970773401731072", "username": "alice", "discriminator": "0",
                     "global_name": "Alice", "avatar": null, "public_flags": 0 },
         "member": { "nick": null, "avatar": null, "banner": null, "roles": [], "joined_at": "2023-01-15T10:00:00.000000+00:00",
                     "premium_since": null, "deaf": false, "mute": false, "flags": 0 },
         "content": "hello <@815735085465731072>", "timestamp": "2025-07-01T12:00:00.000000+00:00",
         "edited_timestamp": null, "tts": false, "mention_everyone": false,
         "mentions": [ { "id": "815735085465731072", "username": "test-bot", "discriminator": "4821",
                         "global_name": null, "avatar": null, "bot": true,
                         "member": { "nick": null, "roles": [], "joined_at": "2022-06-02T09:30:00.000000+00:00",
                                     "deaf": false, "mute": false, "flags": 0 } } ],
         "mention_roles": [], "attachments": [], "embeds": [], "components": [],
         "pinned": false, "type": 0, "flags": 0, "nonce": "1389395075000000000" } }
""",
    "MESSAGE_DELETE": """
{ "op": 0, "s": 51, "t": "MESSAGE_DELETE",
  "d": { "id": "1389395076710531072", "channel_id": "981346340044931073", "guild_id": "981346340044931072" } }
""",
    "MESSAGE_POLL_VOTE_ADD": """
{ "op": 0, "s": 53, "t": "MESSAGE_POLL_VOTE_ADD",
  "d": { "user_id": "1063970773401731072", "channel_id": "981346340044931073",
         "message_id": "1389395076710531072", "guild_id": "981346340044931072", "answer_id": 1 } }
""",
    "MESSAGE_REACTION_ADD": """
{ "op": 0, "s": 52, "t": "MESSAGE_REACTION_ADD",
  "d": { "user_id": "1063970773401731072", "channel_id": "981346340044931073",
         "message_id": "1389395076710531072", "guild_id": "981346340044931072",
         "member": { "user": { "id": "1063970773401731072", "username": "alice", "discriminator": "0",
                               "global_name": "Alice", "avatar": null },
                     "nick": null, "roles": [], "joined_at": "2023-01-15T10:00:00.000000+00:00",
                     "deaf": false, "mute": false, "flags": 0 },
         "emoji": { "id": null, "name": "🔥" }, "message_author_id": "815735085465731072",
         "burst": false, "burst_colors": [], "type": 0 } }
""",
    "PRESENCE_UPDATE": """
{ "op": 0, "s": 60, "t": "PRESENCE_UPDATE",
  "d": { "user": { "id": "1063970773401731072" }, "guild_id": "981346340044931072", "status": "idle",
         "activities": [ { "name": "Rocket League", "type": 0, "created_at": 1751371200000,
                           "timestamps": { "start": 1751371100000 } } ],
         "client_status": { "desktop": "idle" } } }
""",
    "RATE_LIMITED": """
{ "op": 0, "s": 57, "t": "RATE_LIMITED",
  "d": { "opcode": 8, "retry_after": 23.41, "meta": { "guild_id": "981346340044931072", "nonce": "req-1" } } }
""",
    "READY": """
{
  "op": 0, "s": 1, "t": "READY",
  "d": {
    "v": 10,
    "user": { "id": "815735085465731072", "username": "test-bot", "discriminator": "4821",
              "global_name": null, "avatar": null, "bot": true, "verified": true,
              "email": null, "flags": 0, "mfa_enabled": false },
    "guilds": [
      { "id": "981346340044931072", "unavailable": true },
      { "id": "981346340049125376", "unavailable": true }
    ],
    "session_id": "3f1c9a7e2b5d4e6f8a0b1c2d3e4f5a6b",
    "resume_gateway_url": "wss://gateway-us-east1-b.discord.gg",
    "shard": [0, 1],
    "application": { "id": "815735085465731072", "flags": 565248 }
  }
}
""",
    "RESUMED": """
{ "op": 0, "s": 1338, "t": "RESUMED", "d": {} }
""",
    "THREAD_CREATE": """
{ "op": 0, "s": 31, "t": "THREAD_CREATE",
  "d": { "id": "1389395076710531300", "guild_id": "981346340044931072", "parent_id": "981346340044931073",
         "owner_id": "1063970773401731072", "name": "bug triage", "type": 11, "last_message_id": null,
         "message_count": 0, "member_count": 1, "rate_limit_per_user": 0, "flags": 0,
         "thread_metadata": { "archived": false, "auto_archive_duration": 1440,
                              "archive_timestamp": "2025-07-01T12:00:00.000000+00:00", "locked": false,
                              "create_timestamp": "2025-07-01T12:00:00.000000+00:00" },
         "total_message_sent": 0, "newly_created": true } }
""",
    "TYPING_START": """
{ "op": 0, "s": 61, "t": "TYPING_START",
  "d": { "channel_id": "981346340044931073", "guild_id": "981346340044931072",
         "user_id": "1063970773401731072", "timestamp": 1751371200,
         "member": { "user": { "id": "1063970773401731072", "username": "alice", "discriminator": "0",
                               "global_name": "Alice", "avatar": null },
                     "nick": null, "roles": [], "joined_at": "2023-01-15T10:00:00.000000+00:00",
                     "deaf": false, "mute": false, "flags": 0 } } }
""",
    "VOICE_SERVER_UPDATE": """
{ "op": 0, "s": 71, "t": "VOICE_SERVER_UPDATE",
  "d": { "token": "my_voice_token", "guild_id": "981346340044931072", "endpoint": "sweetwater-12345.discord.media:2048" } }
""",
    "VOICE_STATE_UPDATE": """
{ "op": 0, "s": 70, "t": "VOICE_STATE_UPDATE",
  "d": { "guild_id": "981346340044931072", "channel_id": "981346340044931074",
         "user_id": "815735085465731072", "session_id": "90326bd25d71d39b9ef95b299e3872ff",
         "deaf": false, "mute": false, "self_deaf": false, "self_mute": false, "self_video": false,
         "suppress": false, "request_to_speak_timestamp": null,
         "member": { "user": { "id": "815735085465731072", "username": "test-bot", "discriminator": "4821",
                               "global_name": null, "avatar": null, "bot": true },
                     "nick": null, "roles": [], "joined_at": "2022-06-02T09:30:00.000000+00:00",
                     "deaf": false, "mute": false, "flags": 0 } } }
""",
}

#: The dispatch names GATEWAY.md shows an example of.
DOC_NAMES = tuple(_FRAMES)


def frame(name: str) -> dict[str, Any]:
    """A fresh parse of the documented frame of dispatch ``name``."""
    parsed: dict[str, Any] = json.loads(_FRAMES[name])
    return parsed


def d(name: str) -> dict[str, Any]:
    """The ``d`` of the documented frame of dispatch ``name``."""
    data: dict[str, Any] = frame(name)["d"]
    return data
