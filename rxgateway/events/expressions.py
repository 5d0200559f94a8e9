"""Guild expressions (GATEWAY.md §9.2, §10.5, §10.10): emoji and sticker lists, and the
soundboard: GUILD_EMOJIS_UPDATE, GUILD_STICKERS_UPDATE, GUILD_SOUNDBOARD_SOUND_*,
GUILD_SOUNDBOARD_SOUNDS_UPDATE and SOUNDBOARD_SOUNDS (the answer to op 31).

A soundboard sound is GUILD_SOUNDBOARD_SOUND_CREATE/UPDATE's ``d``; its ``name`` is
``sound_name`` on those events.

Example::

    >>> e = GuildEmojisUpdate(ShardId(0, 1), 44, "GUILD_EMOJIS_UPDATE",
    ...     {"guild_id": "1", "emojis": [{"id": "8", "name": "blobwave"}]}, EventType.GUILD_EMOJIS_UPDATE)
    >>> [emoji.name for emoji in e.emojis]
    ['blobwave']
"""

from __future__ import annotations

from ..protocol.event_type import EventType
from .fields import BOOL, FLOAT, INT, SNOWFLAKE, TEXT, list_of, opt, req, view
from .objects import Emoji, User
from .view import Display, TypedDispatch, View


class Sticker(View):
    """A guild sticker.

    Example::

        >>> Sticker({"id": "4", "name": "wave", "tags": "wave", "type": 2, "format_type": 1}).format_type
        1
    """

    __slots__ = ()

    id = req(SNOWFLAKE)
    name = req(TEXT)
    description = opt(TEXT)
    #: Autocomplete keywords, comma separated.
    tags = req(TEXT)
    #: 1 STANDARD, 2 GUILD.
    type = req(INT)
    #: 1 PNG, 2 APNG, 3 LOTTIE, 4 GIF.
    format_type = req(INT)
    available = opt(BOOL)
    guild_id = opt(SNOWFLAKE)
    user = opt(view(User))

    _repr_keys = "id name"
    _label_key = "name"


class SoundboardSoundFields(Display):
    """A soundboard sound (§10.10)."""

    __slots__ = ()

    sound_id = req(SNOWFLAKE)
    sound_name = req(TEXT, "name")
    #: 0 to 1.
    volume = req(FLOAT)
    emoji_id = opt(SNOWFLAKE)
    emoji_name = opt(TEXT)
    guild_id = opt(SNOWFLAKE)
    available = req(BOOL)
    user = opt(view(User))

    _repr_keys = "sound_id sound_name"
    _label_key = "sound_name"


class SoundboardSound(SoundboardSoundFields, View):
    """A soundboard sound; ``name`` is also readable as ``sound_name``.

    Example::

        >>> SoundboardSound({"sound_id": "3", "name": "quack", "volume": 1, "available": True}).volume
        1.0
    """

    __slots__ = ()

    name = req(TEXT)


class SoundboardSoundList(Display):
    """A guild's whole soundboard."""

    __slots__ = ()

    guild_id = req(SNOWFLAKE)
    soundboard_sounds = req(list_of(view(SoundboardSound)))

    _repr_keys = "guild_id soundboard_sounds"


class GuildEmojisUpdate(TypedDispatch):
    """GUILD_EMOJIS_UPDATE: a guild's emoji changed; ``emojis`` is the full new list."""

    __slots__ = ()
    type = EventType.GUILD_EMOJIS_UPDATE

    guild_id = req(SNOWFLAKE)
    emojis = req(list_of(view(Emoji)))

    _repr_keys = "guild_id emojis"


class GuildStickersUpdate(TypedDispatch):
    """GUILD_STICKERS_UPDATE: a guild's stickers changed; ``stickers`` is the full list.

    Example::

        >>> GuildStickersUpdate(ShardId(0, 1), 45, "GUILD_STICKERS_UPDATE", {"guild_id": "1", "stickers": []},
        ...                     EventType.GUILD_STICKERS_UPDATE).stickers
        []
    """

    __slots__ = ()
    type = EventType.GUILD_STICKERS_UPDATE

    guild_id = req(SNOWFLAKE)
    stickers = req(list_of(view(Sticker)))

    _repr_keys = "guild_id stickers"


class GuildSoundboardSoundCreate(SoundboardSoundFields, TypedDispatch):
    """GUILD_SOUNDBOARD_SOUND_CREATE: a sound was added; ``d`` is the sound."""

    __slots__ = ()
    type = EventType.GUILD_SOUNDBOARD_SOUND_CREATE


class GuildSoundboardSoundUpdate(SoundboardSoundFields, TypedDispatch):
    """GUILD_SOUNDBOARD_SOUND_UPDATE: a sound changed; ``d`` is the sound."""

    __slots__ = ()
    type = EventType.GUILD_SOUNDBOARD_SOUND_UPDATE


class GuildSoundboardSoundDelete(TypedDispatch):
    """GUILD_SOUNDBOARD_SOUND_DELETE: a sound was removed.

    Example::

        >>> GuildSoundboardSoundDelete(ShardId(0, 1), 46, "GUILD_SOUNDBOARD_SOUND_DELETE",
        ...     {"sound_id": "3", "guild_id": "1"}, EventType.GUILD_SOUNDBOARD_SOUND_DELETE).sound_id
        3
    """

    __slots__ = ()
    type = EventType.GUILD_SOUNDBOARD_SOUND_DELETE

    sound_id = req(SNOWFLAKE)
    guild_id = req(SNOWFLAKE)

    _repr_keys = "guild_id sound_id"


class GuildSoundboardSoundsUpdate(SoundboardSoundList, TypedDispatch):
    """GUILD_SOUNDBOARD_SOUNDS_UPDATE: several sounds of a guild changed at once."""

    __slots__ = ()
    type = EventType.GUILD_SOUNDBOARD_SOUNDS_UPDATE


class SoundboardSounds(SoundboardSoundList, TypedDispatch):
    """SOUNDBOARD_SOUNDS: one guild's sounds, answering Request Soundboard Sounds (op 31)."""

    __slots__ = ()
    type = EventType.SOUNDBOARD_SOUNDS
