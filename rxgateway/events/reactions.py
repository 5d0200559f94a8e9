"""Reactions (GATEWAY.md §10.6): MESSAGE_REACTION_ADD/REMOVE/REMOVE_ALL/REMOVE_EMOJI.

Every reaction event names a message by ``channel_id`` and ``message_id``; the
reaction's ``type`` (0 normal, 1 burst) is ``reaction_type``.

Example::

    >>> e = MessageReactionAdd(ShardId(0, 1), 52, "MESSAGE_REACTION_ADD", payload, EventType.MESSAGE_REACTION_ADD)
    >>> e.emoji.name, e.user_id, e.member.user.username
    ('🔥', 1063970773401731072, 'alice')
"""

from __future__ import annotations

from ..protocol.event_type import EventType
from .fields import BOOL, INT, SNOWFLAKE, STRINGS, opt, req, view
from .objects import Emoji, Member
from .view import Display, TypedDispatch


class MessageRef(Display):
    """The message an event is about: ``channel_id`` and ``message_id``."""

    __slots__ = ()

    channel_id = req(SNOWFLAKE)
    message_id = req(SNOWFLAKE)

    _repr_keys = "channel_id message_id"


class ReactionFields(MessageRef):
    """One user's reaction to a message."""

    __slots__ = ()

    user_id = req(SNOWFLAKE)
    emoji = req(view(Emoji))
    #: True for a super reaction.
    burst = req(BOOL)
    #: 0 normal, 1 burst.
    reaction_type = req(INT, "type")

    _repr_keys = "message_id user_id emoji"


class MessageReactionAdd(ReactionFields, TypedDispatch):
    """MESSAGE_REACTION_ADD: a user reacted to a message."""

    __slots__ = ()
    type = EventType.MESSAGE_REACTION_ADD

    #: The reacting member, in guilds.
    member = opt(view(Member))
    message_author_id = opt(SNOWFLAKE)
    #: ``"#rrggbb"`` colours of a super reaction.
    burst_colors = opt(STRINGS)


class MessageReactionRemove(ReactionFields, TypedDispatch):
    """MESSAGE_REACTION_REMOVE: a user removed a reaction."""

    __slots__ = ()
    type = EventType.MESSAGE_REACTION_REMOVE


class MessageReactionRemoveAll(MessageRef, TypedDispatch):
    """MESSAGE_REACTION_REMOVE_ALL: every reaction of a message was removed."""

    __slots__ = ()
    type = EventType.MESSAGE_REACTION_REMOVE_ALL


class MessageReactionRemoveEmoji(MessageRef, TypedDispatch):
    """MESSAGE_REACTION_REMOVE_EMOJI: every reaction with one emoji was removed."""

    __slots__ = ()
    type = EventType.MESSAGE_REACTION_REMOVE_EMOJI

    emoji = req(view(Emoji))

    _repr_keys = "message_id emoji"
