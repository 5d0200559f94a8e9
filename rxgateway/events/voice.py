"""Voice (GATEWAY.md §10.8): VOICE_STATE_UPDATE (``d`` is a voice state),
VOICE_SERVER_UPDATE, VOICE_CHANNEL_EFFECT_SEND, VOICE_CHANNEL_STATUS_UPDATE and
VOICE_CHANNEL_START_TIME_UPDATE. The :class:`~rxgateway.events.objects.VoiceState` view
is in ``objects.py``.

Example::

    >>> e = VoiceServerUpdate(ShardId(0, 1), 71, "VOICE_SERVER_UPDATE",
    ...     {"token": "t", "guild_id": "1", "endpoint": None}, EventType.VOICE_SERVER_UPDATE)
    >>> e.endpoint is None     # the voice server is gone: disconnect and wait
    True
"""

from __future__ import annotations

from ..protocol.event_type import EventType
from .fields import FLOAT, INT, SNOWFLAKE, TEXT, opt, req, view
from .objects import Emoji, VoiceStateFields
from .view import Display, TypedDispatch


class VoiceStateUpdate(VoiceStateFields, TypedDispatch):
    """VOICE_STATE_UPDATE: a user joined, left or moved voice, or muted; ``d`` is the
    voice state (with ``guild_id`` and ``member``)."""

    __slots__ = ()
    type = EventType.VOICE_STATE_UPDATE


class VoiceServerUpdate(TypedDispatch):
    """VOICE_SERVER_UPDATE: where to connect the voice websocket."""

    __slots__ = ()
    type = EventType.VOICE_SERVER_UPDATE

    token = req(TEXT)
    guild_id = req(SNOWFLAKE)
    #: ``None``: the server is gone; disconnect and wait for a new one.
    endpoint = opt(TEXT)

    _repr_keys = "guild_id endpoint"


class VoiceChannelEffectSend(TypedDispatch):
    """VOICE_CHANNEL_EFFECT_SEND: someone sent an emoji reaction or a soundboard sound
    in a voice channel.

    Example::

        >>> e = VoiceChannelEffectSend(ShardId(0, 1), 72, "VOICE_CHANNEL_EFFECT_SEND", {"channel_id": "4",
        ...     "guild_id": "1", "user_id": "3", "sound_id": 7, "sound_volume": 0.5},
        ...     EventType.VOICE_CHANNEL_EFFECT_SEND)
        >>> e.sound_id, e.sound_volume, e.emoji
        (7, 0.5, None)
    """

    __slots__ = ()
    type = EventType.VOICE_CHANNEL_EFFECT_SEND

    channel_id = req(SNOWFLAKE)
    guild_id = req(SNOWFLAKE)
    user_id = req(SNOWFLAKE)
    emoji = opt(view(Emoji))
    #: 0 PREMIUM, 1 BASIC.
    animation_type = opt(INT)
    animation_id = opt(INT)
    #: A snowflake, or an integer for default sounds.
    sound_id = opt(SNOWFLAKE)
    #: 0 to 1.
    sound_volume = opt(FLOAT)

    _repr_keys = "channel_id user_id emoji sound_id"


class VoiceChannelFields(Display):
    """A voice channel (``id``) of a guild."""

    __slots__ = ()

    #: The channel.
    id = req(SNOWFLAKE)
    guild_id = req(SNOWFLAKE)


class VoiceChannelStatusUpdate(VoiceChannelFields, TypedDispatch):
    """VOICE_CHANNEL_STATUS_UPDATE: a voice channel's status text changed."""

    __slots__ = ()
    type = EventType.VOICE_CHANNEL_STATUS_UPDATE

    status = opt(TEXT)

    _repr_keys = "id status"


class VoiceChannelStartTimeUpdate(VoiceChannelFields, TypedDispatch):
    """VOICE_CHANNEL_START_TIME_UPDATE: a voice session started or ended in a channel."""

    __slots__ = ()
    type = EventType.VOICE_CHANNEL_START_TIME_UPDATE

    #: Unix seconds; ``None`` when the channel emptied.
    voice_start_time = opt(INT)

    _repr_keys = "id voice_start_time"
