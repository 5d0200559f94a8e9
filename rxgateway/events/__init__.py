"""Typed events: the gateway-level events, one class per dispatch name of GATEWAY.md
§10.1, views of the objects nested in them, and the registry from ``t`` to class.

Every dispatch class is a thin view over the parsed ``d`` (``raw``): building one fills
four slots, and each field is read from the dict when asked for (see ``fields.py`` for
the rules: required keys raise :class:`MissingFieldError`, optional ones read ``None``,
snowflakes are ints, timestamps ISO strings).

Example::

    >>> cls = event_class("MESSAGE_CREATE")
    >>> e = cls(ShardId(0, 1), 42, "MESSAGE_CREATE", d, cls.type)
    >>> e.content, e.author.id, e.guild_id
    ('hi', 1063970773401731072, 981346340044931072)
"""

from __future__ import annotations

from .base import (
    Dispatch,
    Event,
    GatewayClose,
    GatewayErrorEvent,
    GatewayHeartbeat,
    GatewayHeartbeatAck,
    GatewayHello,
    GatewayInvalidateSession,
    GatewayReconnect,
    ShardStateChanged,
)
from .fields import MissingFieldError
from .view import (
    TypedDispatch,
    UnknownDispatch,
    View,
)
from .objects import (
    Activity,
    ActivityTimestamps,
    ClientStatus,
    Emoji,
    Member,
    PartialUser,
    Presence,
    Role,
    RoleColors,
    User,
    VoiceState,
)
from .session_events import (
    Application,
    RateLimitMeta,
    RateLimited,
    Ready,
    Resumed,
    UnavailableGuild,
)
from .channels import (
    Channel,
    ChannelCreate,
    ChannelDelete,
    ChannelInfo,
    ChannelInfoEntry,
    ChannelPinsUpdate,
    ChannelUpdate,
    PermissionOverwrite,
    ThreadMember,
    ThreadMetadata,
)
from .threads import (
    ThreadCreate,
    ThreadDelete,
    ThreadListSync,
    ThreadMemberUpdate,
    ThreadMembersUpdate,
    ThreadUpdate,
)
from .messages import (
    Message,
    MessageCreate,
    MessageDelete,
    MessageDeleteBulk,
    MessageUpdate,
)
from .reactions import (
    MessageReactionAdd,
    MessageReactionRemove,
    MessageReactionRemoveAll,
    MessageReactionRemoveEmoji,
)
from .polls import (
    MessagePollVoteAdd,
    MessagePollVoteRemove,
)
from .guilds import (
    GuildCreate,
    GuildDelete,
    GuildUpdate,
)
from .members import (
    GuildMemberAdd,
    GuildMemberRemove,
    GuildMemberUpdate,
    GuildMembersChunk,
)
from .roles import (
    GuildRoleCreate,
    GuildRoleDelete,
    GuildRoleUpdate,
)
from .moderation import (
    GuildAuditLogEntryCreate,
    GuildBanAdd,
    GuildBanRemove,
)
from .automod import (
    AutoModerationAction,
    AutoModerationActionExecution,
    AutoModerationRuleCreate,
    AutoModerationRuleDelete,
    AutoModerationRuleUpdate,
)
from .expressions import (
    GuildEmojisUpdate,
    GuildSoundboardSoundCreate,
    GuildSoundboardSoundDelete,
    GuildSoundboardSoundUpdate,
    GuildSoundboardSoundsUpdate,
    GuildStickersUpdate,
    SoundboardSound,
    SoundboardSounds,
    Sticker,
)
from .scheduled_events import (
    GuildScheduledEventCreate,
    GuildScheduledEventDelete,
    GuildScheduledEventUpdate,
    GuildScheduledEventUserAdd,
    GuildScheduledEventUserRemove,
    ScheduledEvent,
)
from .stage import (
    StageInstance,
    StageInstanceCreate,
    StageInstanceDelete,
    StageInstanceUpdate,
)
from .integrations import (
    GuildIntegrationsUpdate,
    IntegrationAccount,
    IntegrationCreate,
    IntegrationDelete,
    IntegrationUpdate,
    WebhooksUpdate,
)
from .invites import (
    InviteCreate,
    InviteDelete,
)
from .interactions import (
    ApplicationCommandPermissionsUpdate,
    CommandOption,
    CommandPermission,
    InteractionCreate,
    InteractionData,
    PartialGuild,
)
from .presence import (
    PresenceUpdate,
    TypingStart,
    UserUpdate,
)
from .voice import (
    VoiceChannelEffectSend,
    VoiceChannelStartTimeUpdate,
    VoiceChannelStatusUpdate,
    VoiceServerUpdate,
    VoiceStateUpdate,
)
from .monetization import (
    Entitlement,
    EntitlementCreate,
    EntitlementDelete,
    EntitlementUpdate,
    SubscriptionCreate,
    SubscriptionDelete,
    SubscriptionUpdate,
)
from .registry import DISPATCH_CLASSES, event_class

__all__ = [
    "DISPATCH_CLASSES",
    "Activity",
    "ActivityTimestamps",
    "Application",
    "ApplicationCommandPermissionsUpdate",
    "AutoModerationAction",
    "AutoModerationActionExecution",
    "AutoModerationRuleCreate",
    "AutoModerationRuleDelete",
    "AutoModerationRuleUpdate",
    "Channel",
    "ChannelCreate",
    "ChannelDelete",
    "ChannelInfo",
    "ChannelInfoEntry",
    "ChannelPinsUpdate",
    "ChannelUpdate",
    "ClientStatus",
    "CommandOption",
    "CommandPermission",
    "Dispatch",
    "Emoji",
    "Entitlement",
    "EntitlementCreate",
    "EntitlementDelete",
    "EntitlementUpdate",
    "Event",
    "GatewayClose",
    "GatewayErrorEvent",
    "GatewayHeartbeat",
    "GatewayHeartbeatAck",
    "GatewayHello",
    "GatewayInvalidateSession",
    "GatewayReconnect",
    "GuildAuditLogEntryCreate",
    "GuildBanAdd",
    "GuildBanRemove",
    "GuildCreate",
    "GuildDelete",
    "GuildEmojisUpdate",
    "GuildIntegrationsUpdate",
    "GuildMemberAdd",
    "GuildMemberRemove",
    "GuildMemberUpdate",
    "GuildMembersChunk",
    "GuildRoleCreate",
    "GuildRoleDelete",
    "GuildRoleUpdate",
    "GuildScheduledEventCreate",
    "GuildScheduledEventDelete",
    "GuildScheduledEventUpdate",
    "GuildScheduledEventUserAdd",
    "GuildScheduledEventUserRemove",
    "GuildSoundboardSoundCreate",
    "GuildSoundboardSoundDelete",
    "GuildSoundboardSoundUpdate",
    "GuildSoundboardSoundsUpdate",
    "GuildStickersUpdate",
    "GuildUpdate",
    "IntegrationAccount",
    "IntegrationCreate",
    "IntegrationDelete",
    "IntegrationUpdate",
    "InteractionCreate",
    "InteractionData",
    "InviteCreate",
    "InviteDelete",
    "Member",
    "Message",
    "MessageCreate",
    "MessageDelete",
    "MessageDeleteBulk",
    "MessagePollVoteAdd",
    "MessagePollVoteRemove",
    "MessageReactionAdd",
    "MessageReactionRemove",
    "MessageReactionRemoveAll",
    "MessageReactionRemoveEmoji",
    "MessageUpdate",
    "MissingFieldError",
    "PartialGuild",
    "PartialUser",
    "PermissionOverwrite",
    "Presence",
    "PresenceUpdate",
    "RateLimitMeta",
    "RateLimited",
    "Ready",
    "Resumed",
    "Role",
    "RoleColors",
    "ScheduledEvent",
    "ShardStateChanged",
    "SoundboardSound",
    "SoundboardSounds",
    "StageInstance",
    "StageInstanceCreate",
    "StageInstanceDelete",
    "StageInstanceUpdate",
    "Sticker",
    "SubscriptionCreate",
    "SubscriptionDelete",
    "SubscriptionUpdate",
    "ThreadCreate",
    "ThreadDelete",
    "ThreadListSync",
    "ThreadMember",
    "ThreadMemberUpdate",
    "ThreadMembersUpdate",
    "ThreadMetadata",
    "ThreadUpdate",
    "TypedDispatch",
    "TypingStart",
    "UnavailableGuild",
    "UnknownDispatch",
    "User",
    "UserUpdate",
    "View",
    "VoiceChannelEffectSend",
    "VoiceChannelStartTimeUpdate",
    "VoiceChannelStatusUpdate",
    "VoiceServerUpdate",
    "VoiceState",
    "VoiceStateUpdate",
    "WebhooksUpdate",
    "event_class",
]
