"""Auto moderation (GATEWAY.md §10.10): AUTO_MODERATION_RULE_CREATE/UPDATE/DELETE (``d``
is the rule; its ``name`` is ``rule_name``) and AUTO_MODERATION_ACTION_EXECUTION.

Example::

    >>> e = AutoModerationActionExecution(ShardId(0, 1), 95, "AUTO_MODERATION_ACTION_EXECUTION", payload,
    ...                                   EventType.AUTO_MODERATION_ACTION_EXECUTION)
    >>> e.action.type, e.matched_keyword
    (1, 'cheap*')
"""

from __future__ import annotations

from ..protocol.event_type import EventType
from .fields import BOOL, INT, OBJECT, SNOWFLAKE, SNOWFLAKES, TEXT, list_of, opt, req, view
from .view import Display, TypedDispatch, View


class AutoModerationAction(View):
    """What a rule does: ``type`` 1 BLOCK_MESSAGE, 2 SEND_ALERT_MESSAGE, 3 TIMEOUT,
    4 BLOCK_MEMBER_INTERACTION; ``metadata`` depends on it.

    Example::

        >>> AutoModerationAction({"type": 1, "metadata": {"custom_message": "no"}}).metadata
        {'custom_message': 'no'}
    """

    __slots__ = ()

    type = req(INT)
    metadata = opt(OBJECT)

    _repr_keys = "type"
    _label_key = "type"


class AutoModerationRuleFields(Display):
    """An auto moderation rule (§10.10)."""

    __slots__ = ()

    id = req(SNOWFLAKE)
    guild_id = req(SNOWFLAKE)
    rule_name = req(TEXT, "name")
    creator_id = req(SNOWFLAKE)
    #: 1 MESSAGE_SEND, 2 MEMBER_UPDATE.
    event_type = req(INT)
    #: 1 KEYWORD, 3 SPAM, 4 KEYWORD_PRESET, 5 MENTION_SPAM, 6 MEMBER_PROFILE.
    trigger_type = req(INT)
    trigger_metadata = req(OBJECT)
    actions = req(list_of(view(AutoModerationAction)))
    enabled = req(BOOL)
    exempt_roles = req(SNOWFLAKES)
    exempt_channels = req(SNOWFLAKES)

    _repr_keys = "id rule_name trigger_type enabled"


class AutoModerationRuleCreate(AutoModerationRuleFields, TypedDispatch):
    """AUTO_MODERATION_RULE_CREATE: a rule was created."""

    __slots__ = ()
    type = EventType.AUTO_MODERATION_RULE_CREATE


class AutoModerationRuleUpdate(AutoModerationRuleFields, TypedDispatch):
    """AUTO_MODERATION_RULE_UPDATE: a rule changed."""

    __slots__ = ()
    type = EventType.AUTO_MODERATION_RULE_UPDATE


class AutoModerationRuleDelete(AutoModerationRuleFields, TypedDispatch):
    """AUTO_MODERATION_RULE_DELETE: a rule was deleted."""

    __slots__ = ()
    type = EventType.AUTO_MODERATION_RULE_DELETE


class AutoModerationActionExecution(TypedDispatch):
    """AUTO_MODERATION_ACTION_EXECUTION: a rule fired and its action ran."""

    __slots__ = ()
    type = EventType.AUTO_MODERATION_ACTION_EXECUTION

    guild_id = req(SNOWFLAKE)
    action = req(view(AutoModerationAction))
    rule_id = req(SNOWFLAKE)
    rule_trigger_type = req(INT)
    user_id = req(SNOWFLAKE)
    channel_id = opt(SNOWFLAKE)
    #: ``None`` when the message was blocked.
    message_id = opt(SNOWFLAKE)
    #: Only for SEND_ALERT_MESSAGE actions.
    alert_system_message_id = opt(SNOWFLAKE)
    #: ``""`` without the MESSAGE_CONTENT intent.
    content = req(TEXT)
    matched_keyword = opt(TEXT)
    matched_content = opt(TEXT)

    _repr_keys = "rule_id user_id action matched_keyword"
