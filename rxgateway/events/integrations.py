"""Integrations and webhooks (GATEWAY.md §10.5): GUILD_INTEGRATIONS_UPDATE,
INTEGRATION_CREATE/UPDATE/DELETE (an integration's ``name`` and ``type`` are
``integration_name`` and ``integration_type`` on events) and WEBHOOKS_UPDATE.

Example::

    >>> e = WebhooksUpdate(ShardId(0, 1), 46, "WEBHOOKS_UPDATE", {"guild_id": "1", "channel_id": "5"},
    ...                    EventType.WEBHOOKS_UPDATE)
    >>> e.channel_id
    5
"""

from __future__ import annotations

from ..protocol.event_type import EventType
from .fields import BOOL, INT, OBJECT, SNOWFLAKE, STRINGS, TEXT, opt, req, view
from .view import Display, TypedDispatch, View


class IntegrationAccount(View):
    """The account behind an integration; its ``id`` is the service's, a string."""

    __slots__ = ()

    id = req(TEXT)
    name = req(TEXT)

    _repr_keys = "id name"
    _label_key = "name"


class IntegrationFields(Display):
    """An integration (without ``user``) and its guild (§10.5)."""

    __slots__ = ()

    id = req(SNOWFLAKE)
    guild_id = req(SNOWFLAKE)
    integration_name = req(TEXT, "name")
    #: ``twitch``, ``youtube``, ``discord`` or ``guild_subscription``.
    integration_type = req(TEXT, "type")
    enabled = req(BOOL)
    account = req(view(IntegrationAccount))
    syncing = opt(BOOL)
    role_id = opt(SNOWFLAKE)
    enable_emoticons = opt(BOOL)
    expire_behavior = opt(INT)
    expire_grace_period = opt(INT)
    synced_at = opt(TEXT)
    subscriber_count = opt(INT)
    revoked = opt(BOOL)
    application = opt(OBJECT)
    scopes = opt(STRINGS)

    _repr_keys = "id integration_name integration_type"


class IntegrationCreate(IntegrationFields, TypedDispatch):
    """INTEGRATION_CREATE: an integration was added to a guild.

    Example::

        >>> e = IntegrationCreate(ShardId(0, 1), 47, "INTEGRATION_CREATE", {"id": "2", "guild_id": "1",
        ...     "name": "bot", "type": "discord", "enabled": True, "account": {"id": "2", "name": "bot"}},
        ...     EventType.INTEGRATION_CREATE)
        >>> e.integration_type, e.account.name
        ('discord', 'bot')
    """

    __slots__ = ()
    type = EventType.INTEGRATION_CREATE


class IntegrationUpdate(IntegrationFields, TypedDispatch):
    """INTEGRATION_UPDATE: an integration changed."""

    __slots__ = ()
    type = EventType.INTEGRATION_UPDATE


class IntegrationDelete(TypedDispatch):
    """INTEGRATION_DELETE: an integration was removed."""

    __slots__ = ()
    type = EventType.INTEGRATION_DELETE

    id = req(SNOWFLAKE)
    guild_id = req(SNOWFLAKE)
    #: The bot's application, for a bot integration.
    application_id = opt(SNOWFLAKE)

    _repr_keys = "id guild_id application_id"


class GuildIntegrationsUpdate(TypedDispatch):
    """GUILD_INTEGRATIONS_UPDATE: a guild's integrations changed (fetch them again)."""

    __slots__ = ()
    type = EventType.GUILD_INTEGRATIONS_UPDATE

    guild_id = req(SNOWFLAKE)

    _repr_keys = "guild_id"


class WebhooksUpdate(TypedDispatch):
    """WEBHOOKS_UPDATE: a channel's webhooks changed (fetch them again)."""

    __slots__ = ()
    type = EventType.WEBHOOKS_UPDATE

    guild_id = req(SNOWFLAKE)
    channel_id = req(SNOWFLAKE)

    _repr_keys = "guild_id channel_id"
