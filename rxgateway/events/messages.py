"""Messages (GATEWAY.md §10.6): the message view and MESSAGE_CREATE/UPDATE/DELETE/
DELETE_BULK.

MESSAGE_CREATE and MESSAGE_UPDATE carry a whole message, so they expose its fields
directly; the message's ``type`` is ``message_type`` on events (a dispatch's ``type``
is its ``t``).

Example::

    >>> e = MessageCreate(ShardId(0, 1), 50, "MESSAGE_CREATE", payload, EventType.MESSAGE_CREATE)
    >>> e.content, e.author.username, e.guild_id, e.member.roles
    ('hi', 'alice', 981346340044931072, [])
"""

from __future__ import annotations

from ..protocol.event_type import EventType
from .channels import Channel
from .fields import BOOL, INT, NONCE, OBJECT, OBJECTS, SNOWFLAKE, SNOWFLAKES, TEXT, list_of, opt, req, view
from .objects import Member, User
from .view import Display, TypedDispatch, View


class MessageFields(Display):
    """A message (§10.2) with the gateway extras ``guild_id``, ``member`` and
    ``channel_type``."""

    __slots__ = ()

    id = req(SNOWFLAKE)
    channel_id = req(SNOWFLAKE)
    #: For a webhook message, the webhook's id, name and avatar.
    author = req(view(User))
    #: ``""`` without the MESSAGE_CONTENT intent (unless the bot is mentioned).
    content = req(TEXT)
    timestamp = req(TEXT)
    edited_timestamp = opt(TEXT)
    tts = req(BOOL)
    mention_everyone = req(BOOL)
    #: Mentioned users, each with a partial ``member`` in guilds.
    mentions = req(list_of(view(User)))
    mention_roles = req(SNOWFLAKES)
    attachments = req(OBJECTS)
    embeds = req(OBJECTS)
    pinned = req(BOOL)
    #: 0 DEFAULT, 7 USER_JOIN, 19 REPLY, 20 CHAT_INPUT_COMMAND, 23 CONTEXT_MENU_COMMAND ...
    message_type = req(INT, "type")
    nonce = opt(NONCE)
    webhook_id = opt(SNOWFLAKE)
    flags = opt(INT)
    reactions = opt(OBJECTS)
    message_reference = opt(OBJECT)
    #: The replied-to message; ``None`` both when deleted and when not sent (check
    #: ``"referenced_message" in raw`` to tell them apart).
    referenced_message = opt(view(lambda raw: Message(raw), "Message"))
    components = opt(OBJECTS)
    sticker_items = opt(OBJECTS)
    poll = opt(OBJECT)
    interaction_metadata = opt(OBJECT)
    #: The thread started from this message.
    thread = opt(view(Channel))
    application_id = opt(SNOWFLAKE)
    position = opt(INT)
    #: ``None`` for DMs and ephemeral messages.
    guild_id = opt(SNOWFLAKE)
    #: The author's partial member (no ``user``); ``None`` in DMs and for webhooks.
    member = opt(view(Member))
    channel_type = opt(INT)

    _repr_keys = "id author content"

    @property
    def message(self) -> Message:
        """The same payload as a :class:`Message` view (with ``type``)."""
        return Message(self.raw)


class Message(MessageFields, View):
    """A message: inside an interaction, a reply, or a MESSAGE_* event.

    Example::

        >>> Message({"id": "1", "type": 19, "content": "hi"}).type
        19
    """

    __slots__ = ()

    type = req(INT)


class MessageCreate(MessageFields, TypedDispatch):
    """MESSAGE_CREATE: a message was sent.

    Example::

        shard.pipe(on(EventTypeFlags.MESSAGE_CREATE)).subscribe(lambda e: print(e.author.username, e.content))
    """

    __slots__ = ()
    type = EventType.MESSAGE_CREATE


class MessageUpdate(MessageFields, TypedDispatch):
    """MESSAGE_UPDATE: a message was edited; ``d`` is the whole message (``tts`` is
    always false)."""

    __slots__ = ()
    type = EventType.MESSAGE_UPDATE


class MessageDelete(TypedDispatch):
    """MESSAGE_DELETE: a message was deleted.

    Example::

        >>> MessageDelete(ShardId(0, 1), 51, "MESSAGE_DELETE", {"id": "5", "channel_id": "6"},
        ...               EventType.MESSAGE_DELETE).id
        5
    """

    __slots__ = ()
    type = EventType.MESSAGE_DELETE

    id = req(SNOWFLAKE)
    channel_id = req(SNOWFLAKE)

    _repr_keys = "id channel_id"


class MessageDeleteBulk(TypedDispatch):
    """MESSAGE_DELETE_BULK: several messages of a channel were deleted at once.

    Example::

        >>> MessageDeleteBulk(ShardId(0, 1), 52, "MESSAGE_DELETE_BULK", {"ids": ["5", "6"], "channel_id": "7"},
        ...                   EventType.MESSAGE_DELETE_BULK).ids
        [5, 6]
    """

    __slots__ = ()
    type = EventType.MESSAGE_DELETE_BULK

    ids = req(SNOWFLAKES)
    channel_id = req(SNOWFLAKE)

    _repr_keys = "ids channel_id"
