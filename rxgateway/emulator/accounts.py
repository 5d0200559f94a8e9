"""Bot accounts: one per configured token, each with its own bot user, identify
buckets and daily session-start budget (GATEWAY.md §5.2, §5.3).

A token is accepted bare or as ``Bot <token>`` (§13.18: the docs' examples send it
bare; accepting the prefix too is this emulator's choice, recorded per Identify).

Example::

    >>> accounts = Accounts(EmulatorConfig(tokens=("abc",)))
    >>> accounts.find("Bot abc").token
    'abc'
    >>> accounts.find("nope") is None
    True
"""

from __future__ import annotations

import base64
import binascii
import hashlib

from ..protocol import snowflake_from_time_ms
from .limits import IdentifyGate, SessionStartBudget
from .settings import EmulatorConfig
from .world import Person

#: The prefix of an ``Authorization`` header, also tolerated inside Identify.
BOT_PREFIX = "Bot "
#: When the emulated bots joined their guilds (2022-06-02T09:30:00Z, as in §10.3).
BOT_JOINED_MS = 1_654_162_200_000
#: Time span bot ids are drawn from when a token does not name its bot id.
BOT_ID_BASE_MS = 1_600_000_000_000


class BotAccount:
    """A bot: its token, its user, and the limits that apply to all its shards."""

    def __init__(self, token: str, index: int, config: EmulatorConfig) -> None:
        self.token = token
        self.user = Person(
            id=_bot_id(token),
            username=f"emulated-bot-{index}",
            global_name=None,
            joined_ms=BOT_JOINED_MS,
            status="online",
            bot=True,
            discriminator=f"{4821 + index:04d}",
        )
        self.application_flags = config.application_flags
        self.gate = IdentifyGate(config.max_concurrency, config.identify_window_s)
        self.budget = SessionStartBudget(config.session_start_total, config.session_start_window_s)
        #: Set when the daily budget ran out: the token is "reset" and refused from then on.
        self.revoked = False
        #: Guild id -> time of the last accepted all-members request (§5.4).
        self.members_requests: dict[int, float] = {}


class Accounts:
    """The configured bot accounts, looked up by token."""

    def __init__(self, config: EmulatorConfig) -> None:
        self.all = [BotAccount(token, i, config) for i, token in enumerate(config.tokens)]
        self._by_token = {a.token: a for a in self.all}

    def find(self, token: str) -> BotAccount | None:
        """The live account for ``token`` (bare or ``Bot``-prefixed), else ``None``."""
        account = self._by_token.get(token.removeprefix(BOT_PREFIX))
        return None if account is None or account.revoked else account


def _bot_id(token: str) -> int:
    """The bot id a token names (``base64(id).…``, like real tokens), or one derived from it."""
    head = token.split(".", 1)[0]
    try:
        decoded = base64.b64decode(head + "=" * (-len(head) % 4), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        decoded = ""
    if decoded.isdigit() and int(decoded) < 1 << 63:
        return int(decoded)
    digest = int.from_bytes(hashlib.sha256(token.encode()).digest()[:4], "big")
    return snowflake_from_time_ms(BOT_ID_BASE_MS + digest)
