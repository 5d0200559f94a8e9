"""The door commands come back through: :class:`ShardSender` for one shard,
:class:`GroupSender` for a group (routing each command to the shard that owns its
guild). Both are Observers, so ``commands.subscribe(shard.sender)`` works.

Example::

    shard.sender.command(UpdatePresence(status=Status.IDLE))
    group.sender.command(RequestGuildMembers(guild_id, query="", limit=0))  # to its shard
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any, Protocol

from reactivex import abc

from .machine.state import ShardState
from .protocol.close import CloseFrame
from .protocol.commands import Command, RequestSoundboardSounds, encode_raw
from .protocol.shard_id import ShardId, shard_for_guild

__all__ = ["GroupSender", "ShardSender", "command_targets"]

log = logging.getLogger("rxgateway.shard")


def command_targets(command: Command, total: int) -> list[tuple[int, bytes]]:
    """Which shards of ``total`` a command goes to, and the bytes each gets: a guild
    command to the guild's shard (``(guild_id >> 22) % total``), a soundboard request
    split by shard, anything else (a presence) to every shard.

    Example::

        >>> from rxgateway.protocol.commands import RequestGuildMembers
        >>> [n for n, _ in command_targets(RequestGuildMembers(41771983423143937, query="", limit=0), 4)]
        [2]
    """
    guild_id = getattr(command, "guild_id", None)
    if guild_id is not None:
        return [(shard_for_guild(int(guild_id), total), command.to_bytes())]
    if isinstance(command, RequestSoundboardSounds):
        by_shard: dict[int, list[int]] = {}
        for gid in command.guild_ids:
            by_shard.setdefault(shard_for_guild(int(gid), total), []).append(int(gid))
        return [(n, RequestSoundboardSounds(guild_ids=ids).to_bytes()) for n, ids in by_shard.items()]
    data = command.to_bytes()
    return [(n, data) for n in range(total)]


class _Target(Protocol):
    """What a :class:`ShardSender` needs of its shard (a :class:`~rxgateway.shard.Shard`)."""

    @property
    def id(self) -> ShardId: ...

    @property
    def state(self) -> ShardState: ...

    def _send(self, data: bytes) -> None: ...

    def close(self, frame: CloseFrame = CloseFrame.NORMAL) -> None: ...


class _Shards(Protocol):
    """What a :class:`GroupSender` needs of its group (a :class:`~rxgateway.group.ShardGroup`)."""

    def __iter__(self) -> Iterator[Any]: ...

    def shard(self, shard: ShardId | int) -> Any: ...

    def shard_for_guild(self, guild_id: int) -> Any: ...


class ShardSender(abc.ObserverBase[Command | bytes | dict[str, Any]]):
    """The door commands come back through: an Observer, so
    ``commands.subscribe(shard.sender)`` works. Commands are queued while the shard is
    disconnected and sent in order once it is identified, within the rate limit.
    Errors and completion of a source do not close the shard."""

    def __init__(self, shard: _Target) -> None:
        self._shard = shard

    @property
    def shard_id(self) -> ShardId:
        """The shard this sender feeds."""
        return self._shard.id

    @property
    def is_closed(self) -> bool:
        """True once the shard has ended: sending would raise ``ShardClosedError``."""
        return self._shard.state.is_terminal

    def command(self, command: Command) -> None:
        """Queue a gateway command (``RequestGuildMembers``, ``UpdatePresence`` ...)."""
        if not isinstance(command, Command):
            raise TypeError(f"expected a gateway command, got {type(command).__name__}")
        self._shard._send(command.to_bytes())

    def send(self, payload: bytes | dict[str, Any]) -> None:
        """Queue a raw payload: a dict with ``op`` and ``d``, or its JSON bytes."""
        data = encode_raw(payload) if isinstance(payload, dict) else payload
        if not isinstance(data, bytes):
            raise TypeError("send() takes a dict or JSON bytes")
        self._shard._send(data)

    def close(self, frame: CloseFrame = CloseFrame.NORMAL) -> None:
        """Close the shard (see :meth:`Shard.close`)."""
        self._shard.close(frame)

    def on_next(self, value: Command | bytes | dict[str, Any]) -> None:
        if isinstance(value, Command):
            self.command(value)
        else:
            self.send(value)

    def on_error(self, error: Exception) -> None:
        log.warning("shard %s: a command source failed: %r (the shard goes on)", self._shard.id, error)

    def on_completed(self) -> None:
        pass


class GroupSender:
    """Commands for a group: guild commands go to the shard that owns the guild
    (``(guild_id >> 22) % total``); presence updates go to every shard;
    ``group.sender(shard_id)`` is one shard's sender. An Observer of commands."""

    def __init__(self, group: _Shards) -> None:
        self._group = group

    def __call__(self, shard: ShardId | int) -> ShardSender:
        """The sender of one shard."""
        sender: ShardSender = self._group.shard(shard).sender
        return sender

    def command(self, command: Command) -> None:
        """Route ``command`` to the shard(s) it concerns."""
        guild_id = getattr(command, "guild_id", None)
        if guild_id is not None:
            self._group.shard_for_guild(int(guild_id)).sender.command(command)
            return
        if isinstance(command, RequestSoundboardSounds):
            by_shard: dict[int, list[int]] = {}
            for gid in command.guild_ids:
                by_shard.setdefault(self._group.shard_for_guild(int(gid)).id.number, []).append(int(gid))
            for number, ids in by_shard.items():
                self._group.shard(number).sender.command(RequestSoundboardSounds(guild_ids=ids))
            return
        for shard in self._group:
            shard.sender.command(command)

    def on_next(self, value: Command) -> None:
        self.command(value)

    def on_error(self, error: Exception) -> None:
        pass  # a failing command source does not close the shards

    def on_completed(self) -> None:
        pass
