"""A running emulator with the helpers a bot's tests need: say things as a user,
inject faults, read what the bot sent (gateway commands and REST calls), move the
emulator's clock. The pytest fixtures of :mod:`rxgateway.testing.plugin` hand one out;
:func:`running_gateway` gives the same without pytest.

Any library's bot can be tested against it: an rxgateway bot takes
:meth:`Gateway.config`, a hikari ``GatewayBot`` takes ``rest_url=gateway.api_url``, a
discord.py ``Client`` is pointed at it by :func:`rxgateway.testing.wire_discord_py`.

Example::

    async with running_gateway() as gateway:
        shard = Shard(ShardId(0, 1), gateway.config())
        ...                                             # the bot subscribes
        async with shard:
            await gateway.say("!ping")
            reply = await gateway.wait_for_rest("POST", "/channels/*/messages")
            assert reply.json["content"] == "pong!"
        gateway.assert_no_violations()
"""

from __future__ import annotations

import asyncio
import contextlib
import fnmatch
import itertools
import time
from collections.abc import AsyncIterator, Callable, Iterable
from typing import TYPE_CHECKING, Any, TypeVar

from ..config import Config
from ..emulator import (
    CommandRecord,
    ConnectionRecord,
    Fault,
    GatewayEmulator,
    IdentifyRecord,
    Note,
    RestCall,
    SentMessage,
    Violation,
)
from ..emulator.settings import DEFAULT_TOKEN
from ..emulator.shapes import message
from ..emulator.world import Guild, GuildChannel, Person
from ..protocol import Intents, shard_for_guild, snowflake_from_time_ms
from ..queue import InMemoryQueue

if TYPE_CHECKING:
    from ..runner import Bot

__all__ = ["DEFAULT_INTENTS", "DEFAULT_TIMEOUT", "TEST_SETTINGS", "Gateway", "NotSeenError", "running_gateway"]

T = TypeVar("T")

#: Test-sized settings of the emulator a :class:`Gateway` runs (any
#: :class:`~rxgateway.emulator.EmulatorConfig` field can be changed): heartbeats every
#: second, a 0.2 s identify window (the :meth:`Gateway.config` queue is told the same),
#: short close delays after op 7 / op 9, and four guilds.
TEST_SETTINGS: dict[str, Any] = {
    "heartbeat_interval_ms": 1000,
    "identify_window_s": 0.2,
    "reconnect_close_delay_s": 0.1,
    "invalid_session_close_delay_s": 0.1,
    "guilds": 4,
}
#: The intents :meth:`Gateway.config` asks for unless told: guilds, guild messages
#: and their content (what a command bot needs).
DEFAULT_INTENTS = Intents.GUILDS | Intents.GUILD_MESSAGES | Intents.MESSAGE_CONTENT
#: Seconds every ``wait_*`` helper waits unless told.
DEFAULT_TIMEOUT = 5.0
#: Seconds a bot run by :meth:`Gateway.run` may take to stop (its handlers are
#: drained for at most the ``timeout`` of the run, then cancelled).
STOP_MARGIN = 5.0
#: How many recorded items a failure message lists at most.
SHOWN = 5

_increments = itertools.count()


class NotSeenError(AssertionError):
    """What a test waited for did not happen in time. An ``AssertionError``, so pytest
    reports it as a failed expectation; the message says what was awaited and what the
    emulator saw instead."""


class Gateway:
    """A running :class:`~rxgateway.emulator.GatewayEmulator` and the helpers a bot's
    tests need. Made by the ``gateway`` fixture or :func:`running_gateway`.

    The token bots must use is :attr:`token` (a test token the emulator accepts); it
    is never shown in a ``repr`` or a failure message.
    """

    def __init__(self, emulator: GatewayEmulator) -> None:
        self._emulator = emulator

    def __repr__(self) -> str:
        return f"Gateway(url={self.url!r}, api_url={self.api_url!r}, shards={self._emulator.config.shards})"

    # -- where it is -------------------------------------------------------------

    @property
    def emulator(self) -> GatewayEmulator:
        """The emulator itself, for everything the helpers do not cover."""
        return self._emulator

    @property
    def url(self) -> str:
        """The gateway URL, ``ws://127.0.0.1:PORT``."""
        return self._emulator.url

    @property
    def api_url(self) -> str:
        """The REST base, ``http://127.0.0.1:PORT/api/v10`` (hikari's ``rest_url``)."""
        return self._emulator.api_url

    @property
    def token(self) -> str:
        """The bot token the emulator accepts (without ``Bot ``). A test token: it
        opens nothing but this emulator."""
        return self._emulator.config.tokens[0] if self._emulator.config.tokens else DEFAULT_TOKEN

    def config(self, intents: Intents | int = DEFAULT_INTENTS, **changes: Any) -> Config:
        """A :class:`~rxgateway.Config` pointed at this emulator: its token, gateway and
        REST URLs, and an identify queue spaced by the emulator's identify window.
        ``changes`` are any other ``Config`` fields (``compression``, ``presence``, ...).

        Example::

            shards = await create_recommended(gateway.config(Intents.GUILD_MESSAGES))
        """
        changes.setdefault("gateway_url", self.url)
        changes.setdefault("api_url", self.api_url)
        changes.setdefault("queue", InMemoryQueue(identify_interval=self._emulator.config.identify_window_s))
        return Config(self.token, Intents(intents), **changes)

    @contextlib.asynccontextmanager
    async def run(
        self,
        setup: Callable[[Bot], Any],
        intents: Intents | int = DEFAULT_INTENTS,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        **options: Any,
    ) -> AsyncIterator[Bot]:
        """``async with gateway.run(setup, intents) as bot``: run a bot written for
        :func:`rxgateway.run` (its ``setup`` function) against this emulator for the
        block, with :meth:`config`; ``options`` go to :func:`rxgateway.run_async`
        (``parser=`` for the script's own options; no command line is read).

        The block starts once every recommended shard has a session (at most
        ``timeout`` seconds; :class:`NotSeenError` if the bot ended or stalled first),
        and gets the bot's :class:`~rxgateway.Bot`. At the end the bot is
        stopped as Ctrl-C would stop it (handlers drained for up to ``timeout``);
        an exit status other than 0 fails the test (``AssertionError``), and an
        exception of the bot is raised here.

        Example::

            async with gateway.run(setup, Intents.GUILD_MESSAGES | Intents.MESSAGE_CONTENT):
                await gateway.say("!ping")
                await gateway.wait_for_message("pong!")
        """
        from ..runner import run_async

        made: list[Bot] = []

        def wired(bot: Bot) -> Any:
            made.append(bot)
            return setup(bot)

        stop = asyncio.Event()
        options.setdefault("argv", [])
        options.setdefault("drain_timeout", timeout)
        expected = self._emulator.config.shards
        task = asyncio.create_task(run_async(wired, config=self.config(intents), stop=stop, **options))
        try:
            await self._wait(
                lambda: task.done() or (bool(made) and len(self.sessions()) >= expected),
                timeout,
                lambda: f"the bot has {self._describe_sessions()} session(s) of {expected}; "
                f"closes: {self._describe_closes()}",
            )
            if task.done():
                ended = "raised" if not task.cancelled() and task.exception() else "exited"
                raise NotSeenError(f"the bot {ended} before its {expected} shard(s) had sessions: {_outcome(task)}")
            yield made[0]
        finally:
            stop.set()
            await asyncio.wait({task}, timeout=options["drain_timeout"] + STOP_MARGIN)
            if not task.done():
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
        if task.cancelled():
            raise NotSeenError(f"the bot did not stop within {options['drain_timeout'] + STOP_MARGIN} s")
        status = task.result()
        if status != 0:
            raise AssertionError(f"the bot exited with status {status} (1: the gateway ended a shard)")

    # -- the world ---------------------------------------------------------------

    @property
    def guilds(self) -> list[Guild]:
        """The guilds of the emulated world (every bot is in all of them)."""
        return self._emulator.state.world.guilds

    def guild(self, index: int = 0, *, shard: int | None = None, shards: int | None = None) -> Guild:
        """Guild ``index`` of the world; with ``shard``, the ``index``-th guild whose
        events go to shard ``shard`` of ``shards`` (default: the recommended count).
        Raises ``LookupError`` if there is none."""
        guilds = self.guilds
        if shard is not None:
            total = shards or self._emulator.config.shards
            guilds = [g for g in guilds if shard_for_guild(g.id, total) == shard]
        if not 0 <= index < len(guilds):
            where = "" if shard is None else f" on shard {shard}"
            raise LookupError(f"the world has {len(guilds)} guild(s){where}; no guild {index}")
        return guilds[index]

    def channel(self, guild: Guild | int | None = None, index: int = 0) -> GuildChannel:
        """Text channel ``index`` of ``guild`` (a guild or its id; default the first guild)."""
        return self._guild(guild).text_channels[index]

    def member(self, guild: Guild | int | None = None, index: int = 0) -> Person:
        """Member ``index`` of ``guild`` (a user who is not the bot)."""
        return self._emulator.state.world.members(self._guild(guild))[index]

    @property
    def bot_id(self) -> int:
        """The user id of the bot behind :attr:`token`."""
        return self._emulator.state.accounts.all[0].user.id

    # -- saying things -----------------------------------------------------------

    async def say(
        self,
        content: str,
        *,
        channel: GuildChannel | int | None = None,
        guild: Guild | int | None = None,
        author: Person | None = None,
        mentions_bot: bool = False,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> dict[str, Any]:
        """A member says ``content`` in ``channel`` (default: the first text channel of
        ``guild``, default the first guild): a MESSAGE_CREATE dispatched to the
        session of the shard that owns the guild, filtered by its intents as Discord
        does (without MESSAGE_CONTENT the bot sees an empty ``content`` unless
        ``mentions_bot``). Waits up to ``timeout`` for the bot to have that session,
        then returns the message ``d``. Raises :class:`NotSeenError` if no session of
        the bot owns the guild by then (the bot is not connected).

        Example::

            await gateway.say("!ping", guild=gateway.guild(shard=1, shards=2))
        """
        if channel is not None:
            channel_id = channel.id if isinstance(channel, GuildChannel) else int(channel)
            known = self._emulator.state.world.channels.get(channel_id)
            if known is None:
                raise LookupError(f"channel {channel_id} is not a channel of the emulated world")
            place = self._guild(known.guild_id if guild is None else guild)
            if place.id != known.guild_id:
                raise ValueError(f"channel {channel_id} is in guild {known.guild_id}, not in guild {place.id}")
        else:
            place = self._guild(guild)
            channel_id = place.text_channels[0].id
        person = author if author is not None else self.member(place)
        now_ms = int(time.time() * 1000)
        message_id = snowflake_from_time_ms(now_ms, increment=next(_increments) % 4096)
        if mentions_bot:
            content = f"<@{self.bot_id}> {content}"
        bot = self._emulator.state.accounts.all[0].user
        d = message(message_id, channel_id, person, content, now_ms, place.id, (bot,) if mentions_bot else ())
        await self.dispatch("MESSAGE_CREATE", d, timeout=timeout)
        return d

    async def dispatch(self, event: str, data: dict[str, Any], *, timeout: float = DEFAULT_TIMEOUT) -> None:
        """Send dispatch ``event`` with ``d`` = ``data`` to the sessions it is routed to
        (by ``data["guild_id"]``; shard 0 without one), once the bot has one there.
        Raises :class:`NotSeenError` if it has none within ``timeout`` seconds.

        Example::

            await gateway.dispatch("TYPING_START", {"channel_id": "1", "user_id": "2", "timestamp": 0})
        """
        guild_id = data.get("guild_id")
        target = None if guild_id is None else int(guild_id)
        await self._wait(
            lambda: self._routable(target),
            timeout,
            lambda: f"no session of the bot receives {event} "
            f"({'shard 0' if target is None else f'guild {target}'}): is the bot connected? "
            f"sessions: {self._describe_sessions()}",
        )
        self._emulator.dispatch(event, data)

    # -- faults and time ---------------------------------------------------------

    def inject(self, fault: Fault | str, *, shard: int | None = None) -> list[int]:
        """Inject ``fault`` (a :class:`~rxgateway.emulator.Fault` or its text, e.g.
        ``"reconnect"``, ``"close:4000"``, ``"invalid_session:true"``, ``"zombie"``,
        ``"drop"``) into the open connections of ``shard`` (every open connection if
        ``None``). Returns the ids of the connections hit. Raises ``LookupError`` when
        none was (``reconnect_before_hello`` and ``bad_hello`` arm the next connection
        instead and return ``[]``).

        Example::

            gateway.inject("reconnect", shard=0)
        """
        chosen = Fault.parse(fault) if isinstance(fault, str) else fault
        hit = self._emulator.inject(chosen, shard=shard)
        if not hit and chosen.kind.value not in ("reconnect_before_hello", "bad_hello"):
            where = "any connection" if shard is None else f"a connection of shard {shard}"
            raise LookupError(f"fault {chosen.to_text()} hit no connection: {where} must be open")
        return hit

    def fault_every(self, dispatches: int, faults: Iterable[Fault | str] = ("reconnect",)) -> None:
        """From now on, on every connection, the next of ``faults`` each time
        ``dispatches`` more dispatches were written (see
        :meth:`~rxgateway.emulator.GatewayEmulator.schedule_dispatch_faults`)."""
        self._emulator.schedule_dispatch_faults(dispatches, list(faults))

    def advance(self, seconds: float) -> None:
        """Move the emulator's clock ``seconds`` forward, so its windows pass at once:
        the identify window, the daily session starts, the resume window of a
        detached session, the payload, presence and member-request rate limits.
        Heartbeat timeouts and the close delays after op 7 / op 9 keep real time
        (make them short with the ``rxgateway`` marker instead); so does the bot.

        Example::

            gateway.advance(gateway.emulator.config.resume_window_s)  # Resume now fails
        """
        self._emulator.advance(seconds)

    # -- what the bot did --------------------------------------------------------

    def sessions(self) -> list[ConnectionRecord]:
        """The open connections that have a session (identified or resumed)."""
        return [c for c in self._emulator.connections if c.session_id is not None]

    async def wait_ready(self, shards: int = 1, *, timeout: float = DEFAULT_TIMEOUT) -> list[ConnectionRecord]:
        """Wait until ``shards`` connections of the bot have a session (READY or
        RESUMED sent) and return them. Raises :class:`NotSeenError` after ``timeout``."""
        return await self._wait_count(
            self.sessions,
            shards,
            timeout,
            lambda: f"{shards} session(s) expected, the bot has {self._describe_sessions()}; "
            f"closes: {self._describe_closes()}",
        )

    def identifies(self, *, shard: int | None = None) -> list[IdentifyRecord]:
        """Every Identify (op 2) the bot sent, in time order, of ``shard`` if given."""
        return [i for i in self._emulator.record.identifies() if shard is None or i.shard.number == shard]

    def commands(self, op: int | None = None, *, shard: int | None = None) -> list[CommandRecord]:
        """The gateway commands the bot sent (op 3 presence, 4 voice state, 8 request
        guild members, 31 soundboard sounds, 43 channel info), in order, filtered by
        ``op`` and ``shard``. Identify, Resume and heartbeats are in
        :meth:`identifies` and the connection records."""
        return [c for c in self._emulator.record.commands if _command_matches(c, op, shard)]

    async def wait_for_command(
        self,
        op: int,
        *,
        shard: int | None = None,
        where: Callable[[dict[str, Any]], bool] | None = None,
        count: int = 1,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> CommandRecord:
        """Wait until the bot has sent ``count`` commands ``op`` (of ``shard``, with a
        ``d`` for which ``where`` is true) and return the ``count``-th. Commands sent
        before the call count too. Raises :class:`NotSeenError` after ``timeout``.

        Example::

            join = await gateway.wait_for_command(4, where=lambda d: d["channel_id"] is not None)
        """

        def matching() -> list[CommandRecord]:
            return [c for c in self.commands(op, shard=shard) if where is None or where(c.data)]

        found = await self._wait_count(
            matching,
            count,
            timeout,
            lambda: f"command op {op}{'' if shard is None else f' on shard {shard}'} x{count} not sent; "
            f"the bot sent {_last([f'op {c.op} {c.data}' for c in self.commands()])}",
        )
        return found[count - 1]

    def rest_calls(self, method: str | None = None, path: str | None = None) -> list[RestCall]:
        """The REST requests the bot made, in order: ``method`` (``"POST"``) and
        ``path`` relative to ``/api/v10``, where ``*`` matches any run of characters
        (``"/channels/*/messages"``). Never holds the token."""
        return [c for c in self._emulator.rest_calls if _call_matches(c, method, path)]

    async def wait_for_rest(
        self,
        method: str | None = None,
        path: str | None = None,
        *,
        where: Callable[[Any], bool] | None = None,
        count: int = 1,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> RestCall:
        """Wait until the bot has made ``count`` REST calls matching ``method``,
        ``path`` (see :meth:`rest_calls`) and ``where`` (given the JSON body), and
        return the ``count``-th. Calls made before count too. Raises
        :class:`NotSeenError` after ``timeout``, listing the calls that were made.

        Example::

            call = await gateway.wait_for_rest("POST", "/channels/*/messages")
            assert call.json["content"] == "pong!"
        """

        def matching() -> list[RestCall]:
            return [c for c in self.rest_calls(method, path) if where is None or where(c.json)]

        found = await self._wait_count(
            matching,
            count,
            timeout,
            lambda: f"REST {method or '*'} {path or '*'} x{count} not called; the bot called "
            f"{_last([f'{c.method} {c.path} -> {c.status}' for c in self._emulator.rest_calls])}",
        )
        return found[count - 1]

    @property
    def messages(self) -> list[SentMessage]:
        """Messages the bot created (``POST /channels/{id}/messages``), in order."""
        return self._emulator.messages_sent

    async def wait_for_message(
        self,
        content: str | None = None,
        *,
        channel: GuildChannel | int | None = None,
        count: int = 1,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> SentMessage:
        """Wait until the bot has created ``count`` messages (with exactly ``content``,
        in ``channel``, when given) and return the ``count``-th. Raises
        :class:`NotSeenError` after ``timeout``, listing what the bot did send.

        Example::

            await gateway.say("!ping")
            await gateway.wait_for_message("pong!")
        """
        channel_id = None if channel is None else channel.id if isinstance(channel, GuildChannel) else int(channel)

        def matching() -> list[SentMessage]:
            return [
                m
                for m in self.messages
                if (content is None or m.content == content) and (channel_id is None or m.channel_id == channel_id)
            ]

        found = await self._wait_count(
            matching,
            count,
            timeout,
            lambda: f"message {content!r} x{count} not sent; the bot sent "
            f"{_last([f'{m.content!r} in {m.channel_id}' for m in self.messages])}",
        )
        return found[count - 1]

    @property
    def violations(self) -> list[Violation]:
        """Every gateway rule the bot broke (empty when it behaved)."""
        return self._emulator.violations

    @property
    def notes(self) -> list[Note]:
        """What the bot sent that Discord accepts but GATEWAY.md does not describe
        (the legacy presence ``game`` key, ...), accepted and noted."""
        return self._emulator.notes

    def assert_no_violations(self) -> None:
        """Fail (``AssertionError``) if the bot broke any gateway rule, listing them."""
        violations = self.violations
        assert not violations, f"the bot broke {len(violations)} gateway rule(s): " + "; ".join(
            f"{v.kind.value} ({v.detail}, close {v.close_code})" for v in violations[:SHOWN]
        )

    # -- inside ------------------------------------------------------------------

    def _guild(self, guild: Guild | int | None) -> Guild:
        if guild is None:
            return self.guilds[0]
        if isinstance(guild, Guild):
            return guild
        found = self._emulator.state.world.by_id.get(int(guild))
        if found is None:
            raise LookupError(f"guild {guild} is not a guild of the emulated world")
        return found

    def _routable(self, guild_id: int | None) -> bool:
        for session in self._emulator.state.sessions:
            number = 0 if guild_id is None else shard_for_guild(guild_id, session.shard.total)
            if session.shard.number == number:
                return True
        return False

    def _describe_sessions(self) -> str:
        shards = [str(c.shard) for c in self.sessions()]
        return f"{len(shards)} ({', '.join(shards)})" if shards else "none"

    def _describe_closes(self) -> str:
        closed = [c for c in self._emulator.record.connections if c.close_sent is not None]
        return _last([f"connection {c.id} closed {c.close_sent}" for c in closed])

    async def _wait_count(
        self, find: Callable[[], list[T]], count: int, timeout: float, describe: Callable[[], str]
    ) -> list[T]:
        """Wait until ``find()`` holds ``count`` items or more and return them."""

        def enough() -> list[T]:
            found = find()
            return found if len(found) >= count else []

        return await self._wait(enough, timeout, describe)

    async def _wait(self, predicate: Callable[[], T], timeout: float, describe: Callable[[], str]) -> T:
        try:
            return await self._emulator.wait_for(predicate, timeout)
        except TimeoutError:
            raise NotSeenError(f"within {timeout} s: {describe()}") from None


@contextlib.asynccontextmanager
async def running_gateway(**settings: Any) -> AsyncIterator[Gateway]:
    """``async with running_gateway(**settings) as gateway``: an emulator on a free
    loopback port with :data:`TEST_SETTINGS` changed by ``settings`` (any
    :class:`~rxgateway.emulator.EmulatorConfig` field), stopped on exit.

    Example::

        async with running_gateway(shards=2) as gateway:
            ...
    """
    async with GatewayEmulator(**{**TEST_SETTINGS, **settings}) as emulator:
        yield Gateway(emulator)


def _command_matches(command: CommandRecord, op: int | None, shard: int | None) -> bool:
    if op is not None and command.op != op:
        return False
    return shard is None or (command.shard is not None and command.shard.number == shard)


def _call_matches(call: RestCall, method: str | None, path: str | None) -> bool:
    if method is not None and call.method != method.upper():
        return False
    return path is None or fnmatch.fnmatchcase(call.path.rstrip("/") or "/", path.rstrip("/") or "/")


def _outcome(task: asyncio.Task[int]) -> str:
    """How a finished run ended: its exit status or its exception."""
    if task.cancelled():
        return "cancelled"
    error = task.exception()
    return f"exit status {task.result()}" if error is None else f"{type(error).__name__}: {error}"


def _last(items: list[str]) -> str:
    """The last few ``items`` for a failure message, or ``nothing``."""
    if not items:
        return "nothing"
    shown = items[-SHOWN:]
    more = f"... ({len(items) - SHOWN} earlier), " if len(items) > SHOWN else ""
    return more + "; ".join(shown)
