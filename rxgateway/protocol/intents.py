"""Gateway intents (GATEWAY.md §8).

Example::

    >>> Intents.GUILDS | Intents.GUILD_MESSAGES
    <Intents.GUILDS|GUILD_MESSAGES: 513>
    >>> (Intents.GUILD_MEMBERS | Intents.GUILDS).privileged
    <Intents.GUILD_MEMBERS: 2>
"""

from __future__ import annotations

import enum


class Intents(enum.IntFlag):
    """The ``intents`` bitfield of Identify. Bits 17-19, 22 and 23 are undocumented."""

    GUILDS = 1 << 0
    GUILD_MEMBERS = 1 << 1  # privileged
    GUILD_MODERATION = 1 << 2
    GUILD_EXPRESSIONS = 1 << 3
    GUILD_INTEGRATIONS = 1 << 4
    GUILD_WEBHOOKS = 1 << 5
    GUILD_INVITES = 1 << 6
    GUILD_VOICE_STATES = 1 << 7
    GUILD_PRESENCES = 1 << 8  # privileged
    GUILD_MESSAGES = 1 << 9
    GUILD_MESSAGE_REACTIONS = 1 << 10
    GUILD_MESSAGE_TYPING = 1 << 11
    DIRECT_MESSAGES = 1 << 12
    DIRECT_MESSAGE_REACTIONS = 1 << 13
    DIRECT_MESSAGE_TYPING = 1 << 14
    MESSAGE_CONTENT = 1 << 15  # privileged
    GUILD_SCHEDULED_EVENTS = 1 << 16
    AUTO_MODERATION_CONFIGURATION = 1 << 20
    AUTO_MODERATION_EXECUTION = 1 << 21
    GUILD_MESSAGE_POLLS = 1 << 24
    DIRECT_MESSAGE_POLLS = 1 << 25

    # Older names of the same bits (accepted as aliases).
    GUILD_BANS = GUILD_MODERATION
    GUILD_EMOJIS_AND_STICKERS = GUILD_EXPRESSIONS

    @classmethod
    def all(cls) -> Intents:
        """Every documented intent (53608447)."""
        return cls(ALL_INTENTS)

    @classmethod
    def non_privileged(cls) -> Intents:
        """Every documented intent that needs no approval (53575421)."""
        return cls(ALL_INTENTS & ~PRIVILEGED_INTENTS)

    @classmethod
    def parse(cls, text: str) -> Intents:
        """Intents from ``"GUILDS|GUILD_MESSAGES"``, ``"GUILDS,GUILD_MESSAGES"`` or a number.

        Raises ``ValueError`` naming the unknown intent.
        """
        text = text.strip()
        if text.isdigit():
            return validate_intents(int(text))
        value = cls(0)
        for part in text.replace(",", "|").split("|"):
            name = part.strip().upper()
            if not name:
                continue
            try:
                value |= cls[name]
            except KeyError:
                raise ValueError(f"unknown intent {part.strip()!r}") from None
        return value

    @property
    def privileged(self) -> Intents:
        """The privileged intents among these (GUILD_MEMBERS, GUILD_PRESENCES, MESSAGE_CONTENT)."""
        return Intents(int(self) & PRIVILEGED_INTENTS)


#: Every documented intent bit OR'ed (GATEWAY.md §8.1).
ALL_INTENTS = 53608447
#: The privileged bits (GATEWAY.md §8.2).
PRIVILEGED_INTENTS = int(Intents.GUILD_MEMBERS | Intents.GUILD_PRESENCES | Intents.MESSAGE_CONTENT)


def validate_intents(value: int | Intents) -> Intents:
    """Return ``value`` as :class:`Intents`, or raise ``ValueError`` if it has bits
    outside the documented set (the gateway would close with 4013)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"intents must be an int or Intents, got {type(value).__name__}")
    if value < 0 or value & ~ALL_INTENTS:
        raise ValueError(
            f"intents {value} has bits outside the documented set (undocumented: {value & ~ALL_INTENTS:#x})"
        )
    return Intents(value)
