"""Interactions and commands (GATEWAY.md §10.9, §10.10): INTERACTION_CREATE with its
``data``, and APPLICATION_COMMAND_PERMISSIONS_UPDATE.

An interaction's ``type`` (1 PING, 2 APPLICATION_COMMAND, 3 MESSAGE_COMPONENT,
4 APPLICATION_COMMAND_AUTOCOMPLETE, 5 MODAL_SUBMIT) is ``interaction_type``.

Example::

    >>> e = InteractionCreate(ShardId(0, 1), 80, "INTERACTION_CREATE", payload, EventType.INTERACTION_CREATE)
    >>> e.data.name, e.data.options[0].value, e.author.username
    ('cardsearch', 'The Gitrog Monster', 'alice')
"""

from __future__ import annotations

from typing import Any

from ..protocol.event_type import EventType
from .channels import Channel
from .fields import BITSET, BOOL, INT, OBJECT, OBJECTS, SCALAR, SNOWFLAKE, STRINGS, TEXT, Kind, list_of, opt, req, view
from .messages import Message
from .monetization import Entitlement
from .objects import Member, User
from .view import TypedDispatch, View


def _owners(raw: dict[str, Any]) -> dict[int, int]:
    return {int(kind): SNOWFLAKE.coerce(owner) for kind, owner in raw.items()}


#: ``authorizing_integration_owners``: installation type (0 guild, 1 user) to the id
#: of the guild or user that installed the app (``0`` for a guild install used in DMs).
_OWNERS: Kind[dict[int, int]] = Kind("an object of snowflakes", dict, _owners)


class CommandOption(View):
    """One option of a command invocation; sub-commands nest ``options``.

    Example::

        >>> CommandOption({"name": "cardname", "type": 3, "value": "Gitrog"}).value
        'Gitrog'
    """

    __slots__ = ()

    name = req(TEXT)
    #: 1 SUB_COMMAND, 2 SUB_COMMAND_GROUP, 3 STRING, 4 INTEGER, 5 BOOLEAN ... 11 ATTACHMENT.
    type = req(INT)
    value = opt(SCALAR)
    options = opt(list_of(view(lambda raw: CommandOption(raw), "CommandOption")))
    #: True for the option being typed, in autocomplete.
    focused = opt(BOOL)

    _repr_keys = "name type value"
    _label_key = "name"


class InteractionData(View):
    """An interaction's ``data``. Commands have ``id``, ``name``, ``type``; components
    have ``custom_id`` and ``component_type``; modals ``custom_id`` and ``components``.
    What a kind does not have reads as ``None``.

    Example::

        >>> InteractionData({"custom_id": "confirm", "component_type": 2}).custom_id
        'confirm'
    """

    __slots__ = ()

    id = opt(SNOWFLAKE)
    name = opt(TEXT)
    #: 1 CHAT_INPUT, 2 USER, 3 MESSAGE, 4 PRIMARY_ENTRY_POINT.
    type = opt(INT)
    resolved = opt(OBJECT)
    options = opt(list_of(view(CommandOption)))
    guild_id = opt(SNOWFLAKE)
    target_id = opt(SNOWFLAKE)
    custom_id = opt(TEXT)
    component_type = opt(INT)
    values = opt(STRINGS)
    components = opt(OBJECTS)

    _repr_keys = "name custom_id"
    _label_key = "name"


class PartialGuild(View):
    """The partial guild of an interaction."""

    __slots__ = ()

    id = req(SNOWFLAKE)
    locale = opt(TEXT)
    features = opt(STRINGS)

    _repr_keys = "id locale"


class InteractionCreate(TypedDispatch):
    """INTERACTION_CREATE: a user ran a command, clicked a component or submitted a
    modal (only when the app has no interactions endpoint URL)."""

    __slots__ = ()
    type = EventType.INTERACTION_CREATE

    id = req(SNOWFLAKE)
    application_id = req(SNOWFLAKE)
    interaction_type = req(INT, "type")
    data = opt(view(InteractionData))
    guild = opt(view(PartialGuild))
    channel = opt(view(Channel))
    channel_id = opt(SNOWFLAKE)
    #: The invoking member, in guilds (with ``permissions``).
    member = opt(view(Member))
    #: The invoking user, in DMs.
    user = opt(view(User))
    #: Answer with this token.
    token = req(TEXT)
    #: Always 1.
    version = req(INT)
    #: The message a component is on.
    message = opt(view(Message))
    app_permissions = req(BITSET)
    locale = opt(TEXT)
    guild_locale = opt(TEXT)
    entitlements = req(list_of(view(Entitlement)))
    authorizing_integration_owners = req(_OWNERS)
    #: 0 GUILD, 1 BOT_DM, 2 PRIVATE_CHANNEL.
    context = opt(INT)
    attachment_size_limit = req(INT)

    _repr_keys = "id interaction_type data author"

    @property
    def author(self) -> User | None:
        """Who invoked it: the member's user in guilds, ``user`` in DMs."""
        member = self.member
        return member.user if member is not None else self.user


class CommandPermission(View):
    """One permission of a command: ``type`` 1 ROLE, 2 USER, 3 CHANNEL; ``permission``
    allows or denies."""

    __slots__ = ()

    id = req(SNOWFLAKE)
    type = req(INT)
    permission = req(BOOL)

    _repr_keys = "id type permission"


class ApplicationCommandPermissionsUpdate(TypedDispatch):
    """APPLICATION_COMMAND_PERMISSIONS_UPDATE: a command's permissions changed in a
    guild. ``id`` is the command, or the application for the default of all commands.

    Example::

        >>> e = ApplicationCommandPermissionsUpdate(ShardId(0, 1), 98, "APPLICATION_COMMAND_PERMISSIONS_UPDATE",
        ...     {"id": "7", "application_id": "2", "guild_id": "1", "permissions": [{"id": "1", "type": 1,
        ...     "permission": False}]}, EventType.APPLICATION_COMMAND_PERMISSIONS_UPDATE)
        >>> e.permissions[0].permission
        False
    """

    __slots__ = ()
    type = EventType.APPLICATION_COMMAND_PERMISSIONS_UPDATE

    id = req(SNOWFLAKE)
    application_id = req(SNOWFLAKE)
    guild_id = req(SNOWFLAKE)
    permissions = req(list_of(view(CommandPermission)))

    _repr_keys = "id guild_id permissions"
