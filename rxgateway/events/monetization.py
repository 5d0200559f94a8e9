"""Monetization (GATEWAY.md §10.10): ENTITLEMENT_CREATE/UPDATE/DELETE (``d`` is the
entitlement; its ``type`` is ``entitlement_type`` there) and SUBSCRIPTION_CREATE/UPDATE/
DELETE. These have no guild routing: they arrive on shard 0.

Example::

    >>> e = EntitlementCreate(ShardId(0, 1), 96, "ENTITLEMENT_CREATE", payload, EventType.ENTITLEMENT_CREATE)
    >>> e.entitlement_type, e.sku_id, e.ends_at
    (8, 1324165260902531200, None)
"""

from __future__ import annotations

from ..protocol.event_type import EventType
from .fields import BOOL, INT, SNOWFLAKE, SNOWFLAKES, TEXT, opt, req
from .view import Display, TypedDispatch, View


class EntitlementFields(Display):
    """An entitlement: a user's or guild's access to a SKU (§10.10)."""

    __slots__ = ()

    id = req(SNOWFLAKE)
    sku_id = req(SNOWFLAKE)
    application_id = req(SNOWFLAKE)
    user_id = opt(SNOWFLAKE)
    #: 1..8; 8 APPLICATION_SUBSCRIPTION.
    entitlement_type = req(INT, "type")
    deleted = req(BOOL)
    starts_at = opt(TEXT)
    ends_at = opt(TEXT)
    guild_id = opt(SNOWFLAKE)
    consumed = opt(BOOL)

    _repr_keys = "id sku_id user_id entitlement_type"


class Entitlement(EntitlementFields, View):
    """An entitlement (an interaction's ``entitlements``); ``type`` is also readable
    as ``entitlement_type``.

    Example::

        >>> Entitlement({"id": "1", "sku_id": "2", "type": 8}).type
        8
    """

    __slots__ = ()

    type = req(INT)


class EntitlementCreate(EntitlementFields, TypedDispatch):
    """ENTITLEMENT_CREATE: a user or guild gained access to a SKU."""

    __slots__ = ()
    type = EventType.ENTITLEMENT_CREATE


class EntitlementUpdate(EntitlementFields, TypedDispatch):
    """ENTITLEMENT_UPDATE: an entitlement changed (it was renewed or ended)."""

    __slots__ = ()
    type = EventType.ENTITLEMENT_UPDATE


class EntitlementDelete(EntitlementFields, TypedDispatch):
    """ENTITLEMENT_DELETE: an entitlement was deleted (refund, test entitlement removed)."""

    __slots__ = ()
    type = EventType.ENTITLEMENT_DELETE


class SubscriptionFields(Display):
    """A user's subscription to SKUs (§10.10)."""

    __slots__ = ()

    id = req(SNOWFLAKE)
    user_id = req(SNOWFLAKE)
    sku_ids = req(SNOWFLAKES)
    entitlement_ids = req(SNOWFLAKES)
    renewal_sku_ids = opt(SNOWFLAKES)
    current_period_start = req(TEXT)
    current_period_end = req(TEXT)
    #: 0 ACTIVE, 1 INACTIVE, 2 ENDING.
    status = req(INT)
    canceled_at = opt(TEXT)
    country = opt(TEXT)

    _repr_keys = "id user_id status"


class SubscriptionCreate(SubscriptionFields, TypedDispatch):
    """SUBSCRIPTION_CREATE: a user subscribed.

    Example::

        >>> e = SubscriptionCreate(ShardId(0, 1), 97, "SUBSCRIPTION_CREATE", {"id": "1", "user_id": "3",
        ...     "sku_ids": ["2"], "entitlement_ids": [], "status": 0}, EventType.SUBSCRIPTION_CREATE)
        >>> e.sku_ids, e.canceled_at
        ([2], None)
    """

    __slots__ = ()
    type = EventType.SUBSCRIPTION_CREATE


class SubscriptionUpdate(SubscriptionFields, TypedDispatch):
    """SUBSCRIPTION_UPDATE: a subscription changed (renewed, canceled ...)."""

    __slots__ = ()
    type = EventType.SUBSCRIPTION_UPDATE


class SubscriptionDelete(SubscriptionFields, TypedDispatch):
    """SUBSCRIPTION_DELETE: a subscription was deleted."""

    __slots__ = ()
    type = EventType.SUBSCRIPTION_DELETE
