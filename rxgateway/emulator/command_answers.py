"""The emulator's answers to gateway commands (GATEWAY.md §9, §12.10).

* op 3 Update Presence: stored on the session;
* op 4 Update Voice State: VOICE_STATE_UPDATE (routed like any guild event) and, when
  joining a channel, VOICE_SERVER_UPDATE to the sender;
* op 8 Request Guild Members: GUILD_MEMBERS_CHUNK dispatches of at most 1000 members,
  ``nonce`` echoed, ``not_found`` for unknown ids, presences only with GUILD_PRESENCES,
  at most 100 members for a query or an id list, and RATE_LIMITED for a second
  all-members request of a guild within 30 s;
* op 31 Request Soundboard Sounds: one SOUNDBOARD_SOUNDS per guild;
* op 43 Request Channel Info: one CHANNEL_INFO with the guild's voice channels.

A guild request is answered only on a session whose shard owns the guild; one sent on
another shard is recorded as a ``WRONG_SHARD`` violation and left unanswered.

Example::

    commands = Commands(world, sessions, config)
    commands.request_members(session, rules.parse_request_members(d), now, violate)
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import Any

from ..protocol import Intents, shard_for_guild
from . import shapes
from .dispatch import OutgoingDispatch
from .journal import ViolationKind
from .rules import ParsedVoiceState, RequestMembers
from .sessions import ServerSession, SessionStore
from .settings import EmulatorConfig
from .world import Guild, Person, World

#: Members per GUILD_MEMBERS_CHUNK (§9.1).
CHUNK_SIZE = 1000
#: Most members a query or an id list returns (§9.1).
QUERY_CAP = 100
#: Ids sent below 2**53 are echoed as JSON integers, not strings (§11.4 quirk).
BIGINT_MIN = 1 << 53
#: Where VOICE_SERVER_UPDATE sends the bot (no voice server runs there).
VOICE_ENDPOINT = "emulated-voice.discord.media:443"

Violate = Callable[[ViolationKind, str], None]


class Commands:
    """Answers ops 3, 4, 8, 31 and 43 for a session."""

    def __init__(self, world: World, sessions: SessionStore, config: EmulatorConfig) -> None:
        self._world = world
        self._sessions = sessions
        self._config = config

    def presence(self, session: ServerSession, presence: dict[str, Any]) -> None:
        session.presence = presence

    def voice_state(self, session: ServerSession, request: ParsedVoiceState, violate: Violate) -> None:
        guild = self._owned_guild(session, request.guild_id, violate)
        if guild is None:
            return
        if request.channel_id is not None and request.channel_id not in {c.id for c in guild.voice_channels}:
            return  # no such voice channel: nothing happens
        bot = session.account.user
        state = shapes.voice_state(
            guild.id, request.channel_id, bot, secrets.token_hex(16), request.self_mute, request.self_deaf
        )
        self._sessions.route(OutgoingDispatch.build("VOICE_STATE_UPDATE", state))
        if request.channel_id is not None:
            server = {"token": secrets.token_hex(8), "guild_id": str(guild.id), "endpoint": VOICE_ENDPOINT}
            session.push(OutgoingDispatch.build("VOICE_SERVER_UPDATE", server))

    def request_members(self, session: ServerSession, request: RequestMembers, now: float, violate: Violate) -> None:
        guild = self._owned_guild(session, request.guild_id, violate)
        if guild is None:
            return
        people = [session.account.user, *self._world.members(guild)]
        not_found: list[int | str] | None = None
        if request.wants_all:
            if not session.intents & Intents.GUILD_MEMBERS:
                violate(ViolationKind.MEMBERS_INTENT_MISSING, "all members requested without GUILD_MEMBERS")
                return
            if self._rate_limited(session, guild, request, now, violate):
                return
            found = people
        elif request.query is not None:
            prefix = request.query.lower()
            limit = min(request.limit or QUERY_CAP, QUERY_CAP)
            found = [p for p in people if p.username.startswith(prefix)][:limit]
        else:
            wanted = (request.user_ids or ())[:QUERY_CAP]
            by_id = {str(p.id): p for p in people}
            found = [by_id[uid] for uid in wanted if uid in by_id]
            not_found = [uid if int(uid) >= BIGINT_MIN else int(uid) for uid in wanted if uid not in by_id]
        with_presences = request.presences and bool(session.intents & Intents.GUILD_PRESENCES)
        for chunk in self._chunks(guild, found, not_found, with_presences, request.nonce):
            session.push(OutgoingDispatch.build("GUILD_MEMBERS_CHUNK", chunk))

    def soundboard(self, session: ServerSession, guild_ids: list[int], violate: Violate) -> None:
        for guild_id in guild_ids:
            guild = self._owned_guild(session, guild_id, violate)
            if guild is not None:
                sounds = [shapes.soundboard_sound(guild.role_ids[-1] + 1, guild.id, session.account.user)]
                d = {"guild_id": str(guild.id), "soundboard_sounds": sounds}
                session.push(OutgoingDispatch.build("SOUNDBOARD_SOUNDS", d))

    def channel_info(self, session: ServerSession, guild_id: int, fields: list[str], violate: Violate) -> None:
        guild = self._owned_guild(session, guild_id, violate)
        if guild is None:
            return
        channels = [{"id": str(c.id), **dict.fromkeys(fields)} for c in guild.voice_channels]
        session.push(OutgoingDispatch.build("CHANNEL_INFO", {"guild_id": str(guild.id), "channels": channels}))

    def _owned_guild(self, session: ServerSession, guild_id: int, violate: Violate) -> Guild | None:
        """The guild if it exists and ``session``'s shard owns it; else ``None``."""
        guild = self._world.by_id.get(guild_id)
        if guild is None:
            return None
        if shard_for_guild(guild_id, session.shard.total) != session.shard.number:
            violate(ViolationKind.WRONG_SHARD, f"guild {guild_id} is not on shard {session.shard}")
            return None
        return guild

    def _rate_limited(
        self, session: ServerSession, guild: Guild, request: RequestMembers, now: float, violate: Violate
    ) -> bool:
        """Answer RATE_LIMITED if this bot asked for all of ``guild`` within 30 s (§5.4)."""
        window = self._config.members_request_window_s
        last = session.account.members_requests.get(guild.id)
        if last is not None and now - last < window:
            meta: dict[str, Any] = {"guild_id": str(guild.id)}
            if request.nonce is not None:
                meta["nonce"] = request.nonce
            limited = {"opcode": 8, "retry_after": round(window - (now - last), 3), "meta": meta}
            session.push(OutgoingDispatch.build("RATE_LIMITED", limited))
            violate(ViolationKind.MEMBERS_RATE_LIMITED, f"all members of {guild.id} again within {window} s")
            return True
        session.account.members_requests[guild.id] = now
        return False

    @staticmethod
    def _chunks(
        guild: Guild, found: list[Person], not_found: list[int | str] | None, presences: bool, nonce: str | None
    ) -> list[dict[str, Any]]:
        groups = [found[i : i + CHUNK_SIZE] for i in range(0, len(found), CHUNK_SIZE)] or [[]]
        chunks = []
        for index, group in enumerate(groups):
            chunk: dict[str, Any] = {
                "guild_id": str(guild.id),
                "members": [shapes.member(p) for p in group],
                "chunk_index": index,
                "chunk_count": len(groups),
            }
            if not_found is not None:
                chunk["not_found"] = not_found
            if presences:
                chunk["presences"] = [shapes.presence(p) for p in group]
            if nonce is not None:
                chunk["nonce"] = nonce
            chunks.append(chunk)
        return chunks
