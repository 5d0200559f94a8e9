"""Polls (GATEWAY.md §10.6): MESSAGE_POLL_VOTE_ADD/REMOVE, one event per answer.

Example::

    >>> e = MessagePollVoteAdd(ShardId(0, 1), 53, "MESSAGE_POLL_VOTE_ADD",
    ...     {"user_id": "3", "channel_id": "6", "message_id": "5", "answer_id": 1}, EventType.MESSAGE_POLL_VOTE_ADD)
    >>> e.answer_id, e.message_id
    (1, 5)
"""

from __future__ import annotations

from ..protocol.event_type import EventType
from .fields import INT, SNOWFLAKE, req
from .reactions import MessageRef
from .view import TypedDispatch


class PollVoteFields(MessageRef):
    """A vote for one answer of a message's poll."""

    __slots__ = ()

    user_id = req(SNOWFLAKE)
    answer_id = req(INT)

    _repr_keys = "message_id user_id answer_id"


class MessagePollVoteAdd(PollVoteFields, TypedDispatch):
    """MESSAGE_POLL_VOTE_ADD: a user voted for an answer."""

    __slots__ = ()
    type = EventType.MESSAGE_POLL_VOTE_ADD


class MessagePollVoteRemove(PollVoteFields, TypedDispatch):
    """MESSAGE_POLL_VOTE_REMOVE: a user took a vote back."""

    __slots__ = ()
    type = EventType.MESSAGE_POLL_VOTE_REMOVE
