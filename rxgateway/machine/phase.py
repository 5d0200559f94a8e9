"""The phase of a shard's connection: where its socket stands, and the moves allowed.

:class:`~.state.ShardState` is what users see; the phase is the machine's own, finer
view of the socket, which decides what each input may do (read a frame, send, open
the next connection). :class:`~.shard_machine.ShardMachine` moves it only along
:data:`PHASE_MOVES`, so its transitions read as a table rather than as flags.

Example::

    >>> Phase.CLOSING in PHASE_MOVES[Phase.OPEN], Phase.CONNECTING in PHASE_MOVES[Phase.CLOSING]
    (True, False)
"""

from __future__ import annotations

import enum

__all__ = ["PHASE_MOVES", "RECEIVING", "WITH_SOCKET", "Phase"]


class Phase(enum.Enum):
    """Where the current connection stands: the machine's own view of the socket,
    finer than the :class:`~.state.ShardState` users see. Each input moves it only
    along :data:`PHASE_MOVES`."""

    #: Not started yet.
    NEW = "new"
    #: No socket: waiting to reconnect, or the shard is over.
    IDLE = "idle"
    #: ``Connect`` was handed to the driver; ``on_connected`` or ``on_connect_failed`` comes next.
    CONNECTING = "connecting"
    #: The socket is open and read; Hello has not come yet.
    AWAITING_HELLO = "awaiting hello"
    #: Hello came: heartbeats run, the handshake and user commands may be sent.
    OPEN = "open"
    #: We ended the socket (``Close`` or ``Drop``); ``on_closed`` follows, and only then
    #: may the next connection open, so two sockets of one shard never overlap.
    CLOSING = "closing"


#: The phase moves each input may make; any other is a bug (and asserted).
#:
#: =============== ============================================== =====================
#: from            to                                             on
#: =============== ============================================== =====================
#: NEW             CONNECTING, IDLE                               start / close
#: IDLE            CONNECTING                                     the reconnect timer
#: CONNECTING      AWAITING_HELLO, IDLE                           on_connected / on_connect_failed
#: AWAITING_HELLO  OPEN, CLOSING, IDLE                            Hello / we end it / it ends
#: OPEN            CLOSING, IDLE                                  we end it / it ends
#: CLOSING         IDLE                                           on_closed
#: =============== ============================================== =====================
PHASE_MOVES: dict[Phase, frozenset[Phase]] = {
    Phase.NEW: frozenset({Phase.CONNECTING, Phase.IDLE}),
    Phase.IDLE: frozenset({Phase.CONNECTING}),
    Phase.CONNECTING: frozenset({Phase.AWAITING_HELLO, Phase.IDLE}),
    Phase.AWAITING_HELLO: frozenset({Phase.OPEN, Phase.CLOSING, Phase.IDLE}),
    Phase.OPEN: frozenset({Phase.CLOSING, Phase.IDLE}),
    Phase.CLOSING: frozenset({Phase.IDLE}),
}
#: The phases in which frames are read.
RECEIVING = frozenset({Phase.AWAITING_HELLO, Phase.OPEN})
#: The phases with a socket (``on_closed`` is expected).
WITH_SOCKET = frozenset({Phase.AWAITING_HELLO, Phase.OPEN, Phase.CLOSING})
