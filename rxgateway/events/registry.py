"""Which class each dispatch name becomes: :data:`DISPATCH_CLASSES` and
:func:`event_class`.

The shard builds every dispatch as ``event_class(t)(shard, sequence, t, d, type_)``;
a ``t`` not in GATEWAY.md §10.1 becomes an :class:`UnknownDispatch`, never dropped.

Example::

    >>> event_class("MESSAGE_CREATE")
    <class 'rxgateway.events.messages.MessageCreate'>
    >>> event_class("SOMETHING_NEW")
    <class 'rxgateway.events.view.UnknownDispatch'>
"""

from __future__ import annotations

from ..protocol.event_type import EventType
from . import (
    automod,
    channels,
    expressions,
    guilds,
    integrations,
    interactions,
    invites,
    members,
    messages,
    moderation,
    monetization,
    polls,
    presence,
    reactions,
    roles,
    scheduled_events,
    session_events,
    stage,
    threads,
    voice,
)
from .view import TypedDispatch, UnknownDispatch

_TYPED: tuple[type[TypedDispatch], ...] = (
    # Session
    session_events.Ready, session_events.Resumed, session_events.RateLimited,
    # Application commands
    interactions.ApplicationCommandPermissionsUpdate,
    # Auto moderation
    automod.AutoModerationRuleCreate, automod.AutoModerationRuleUpdate, automod.AutoModerationRuleDelete,
    automod.AutoModerationActionExecution,
    # Channels
    channels.ChannelCreate, channels.ChannelUpdate, channels.ChannelDelete, channels.ChannelPinsUpdate,
    channels.ChannelInfo,
    # Threads
    threads.ThreadCreate, threads.ThreadUpdate, threads.ThreadDelete, threads.ThreadListSync,
    threads.ThreadMemberUpdate, threads.ThreadMembersUpdate,
    # Entitlements
    monetization.EntitlementCreate, monetization.EntitlementUpdate, monetization.EntitlementDelete,
    # Guilds
    guilds.GuildCreate, guilds.GuildUpdate, guilds.GuildDelete, moderation.GuildAuditLogEntryCreate,
    moderation.GuildBanAdd, moderation.GuildBanRemove,
    expressions.GuildEmojisUpdate, expressions.GuildStickersUpdate, integrations.GuildIntegrationsUpdate,
    # Guild members
    members.GuildMemberAdd, members.GuildMemberRemove, members.GuildMemberUpdate, members.GuildMembersChunk,
    # Roles
    roles.GuildRoleCreate, roles.GuildRoleUpdate, roles.GuildRoleDelete,
    # Scheduled events
    scheduled_events.GuildScheduledEventCreate, scheduled_events.GuildScheduledEventUpdate,
    scheduled_events.GuildScheduledEventDelete,
    scheduled_events.GuildScheduledEventUserAdd, scheduled_events.GuildScheduledEventUserRemove,
    # Soundboard
    expressions.GuildSoundboardSoundCreate, expressions.GuildSoundboardSoundUpdate,
    expressions.GuildSoundboardSoundDelete,
    expressions.GuildSoundboardSoundsUpdate, expressions.SoundboardSounds,
    # Integrations
    integrations.IntegrationCreate, integrations.IntegrationUpdate, integrations.IntegrationDelete,
    # Interactions
    interactions.InteractionCreate,
    # Invites
    invites.InviteCreate, invites.InviteDelete,
    # Messages
    messages.MessageCreate, messages.MessageUpdate, messages.MessageDelete, messages.MessageDeleteBulk,
    # Reactions
    reactions.MessageReactionAdd, reactions.MessageReactionRemove, reactions.MessageReactionRemoveAll,
    reactions.MessageReactionRemoveEmoji,
    # Polls
    polls.MessagePollVoteAdd, polls.MessagePollVoteRemove,
    # Presence / users
    presence.PresenceUpdate, presence.TypingStart, presence.UserUpdate,
    # Stage instances
    stage.StageInstanceCreate, stage.StageInstanceUpdate, stage.StageInstanceDelete,
    # Subscriptions
    monetization.SubscriptionCreate, monetization.SubscriptionUpdate, monetization.SubscriptionDelete,
    # Voice
    voice.VoiceChannelEffectSend, voice.VoiceChannelStatusUpdate, voice.VoiceChannelStartTimeUpdate,
    voice.VoiceStateUpdate,
    voice.VoiceServerUpdate,
    # Webhooks
    integrations.WebhooksUpdate,
)  # fmt: skip

#: The class of every dispatch name of GATEWAY.md §10.1, keyed by ``t``.
DISPATCH_CLASSES: dict[str, type[TypedDispatch]] = {cls.type.value: cls for cls in _TYPED}

_missing = sorted(t.value for t in EventType if t.is_dispatch and t.value not in DISPATCH_CLASSES)
if _missing or len(DISPATCH_CLASSES) != len(_TYPED):  # pragma: no cover - a wiring mistake in this file
    raise RuntimeError(f"dispatch classes do not match EventType: missing {_missing}")


def event_class(name: str) -> type[TypedDispatch]:
    """The class of dispatch ``name`` (a ``t``); :class:`UnknownDispatch` for a name this
    library does not know.

    Example::

        >>> cls = event_class("READY")
        >>> cls.__name__, cls.type
        ('Ready', <EventType.READY: 'READY'>)
    """
    return DISPATCH_CLASSES.get(name, UnknownDispatch)
