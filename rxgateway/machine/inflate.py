"""Transport decompression: one streaming inflater per connection (GATEWAY.md §7).

With ``?compress=zlib-stream`` or ``?compress=zstd-stream`` the gateway compresses
everything it sends through **one** context that lives as long as the connection.
An :class:`Inflater` is the client half of that context. Rules:

* make one per connection, and call :meth:`Inflater.reset` on every new connection
  (never otherwise: the context carries the window shared by all later messages);
* feed it every binary websocket message, in order; it returns one complete
  decompressed payload, or ``None`` while a payload is still incomplete;
* a failure raises :class:`~rxgateway.errors.CompressionError` with the cause
  chained. The context is then corrupt: the shard closes (4000), resumes on a new
  connection and resets the inflater.

Output is returned as ``bytes`` without a UTF-8 check (twilight checks it): the
envelope reader and orjson validate what they read, and an extra pass over every
frame would cost more than the decompression of a small one.

Example::

    >>> import zlib
    >>> deflater = zlib.compressobj()
    >>> inflater = make_inflater("zlib-stream")
    >>> frame = deflater.compress(b'{"op":11}') + deflater.flush(zlib.Z_SYNC_FLUSH)
    >>> inflater.feed(frame[:3]) is None, inflater.feed(frame[3:])
    (True, b'{"op":11}')
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from typing import Final, Protocol

import zstandard

from rxgateway.errors import CompressionError

__all__ = [
    "COMPRESSIONS",
    "MAX_PENDING_BYTES",
    "ZLIB_SUFFIX",
    "Inflater",
    "NoInflater",
    "ZlibStreamInflater",
    "ZstdStreamInflater",
    "make_inflater",
    "zstd_error",
]

#: The four bytes a ``Z_SYNC_FLUSH`` ends with: an empty stored block. The gateway
#: flushes after every payload, so a zlib-stream payload is complete exactly when
#: the bytes received so far end with them (GATEWAY.md §7.1).
ZLIB_SUFFIX: Final = b"\x00\x00\xff\xff"

#: Compressed zlib-stream bytes held while waiting for :data:`ZLIB_SUFFIX`. The
#: largest real payloads (GUILD_CREATE of a huge guild, READY of a large bot) are a
#: few MiB compressed, so 64 MiB is far above anything genuine, while a server that
#: never flushes cannot make the client buffer without bound.
MAX_PENDING_BYTES: Final = 64 * 1024 * 1024

#: The names :func:`make_inflater` accepts (``None`` also means ``"none"``). The two
#: stream names are the gateway's ``compress`` query values.
COMPRESSIONS: Final = ("zstd-stream", "zlib-stream", "none")


class Inflater(Protocol):
    """A per-connection transport decompressor.

    Example::

        >>> inflater: Inflater = ZstdStreamInflater()
        >>> inflater.reset()  # on every new connection
    """

    def feed(self, data: bytes) -> bytes | None:
        """Take one binary websocket message; return a complete payload or ``None``.

        Raises :class:`~rxgateway.errors.CompressionError` on corrupt input.
        """
        ...

    def reset(self) -> None:
        """Forget all stream state: call on every new connection."""
        ...


class ZlibStreamInflater:
    """``zlib-stream``: one ``zlib.decompressobj`` per connection (GATEWAY.md §7.1).

    Fragments are buffered until the **combined** bytes end with ``00 00 FF FF``, so
    a suffix split over two messages is still found (twilight only looks at the
    last fragment and would miss it). A whole message with no fragment pending is
    decompressed straight from the caller's buffer, without a copy.

    Memory: the 32 KiB window plus zlib's state, about 40 KiB per connection.

    Example::

        >>> import zlib
        >>> deflater, inflater = zlib.compressobj(), ZlibStreamInflater()
        >>> inflater.feed(deflater.compress(b"{}") + deflater.flush(zlib.Z_SYNC_FLUSH))
        b'{}'
    """

    __slots__ = ("_context", "_decompress", "_pending")

    def __init__(self) -> None:
        self._context = zlib.decompressobj()
        self._decompress = self._context.decompress
        self._pending = bytearray()

    @property
    def pending(self) -> int:
        """Compressed bytes held while waiting for the end of a payload.

        Example::

            >>> ZlibStreamInflater().pending
            0
        """
        return len(self._pending)

    def feed(self, data: bytes) -> bytes | None:
        """Decompress a complete payload, or buffer ``data`` and return ``None``.

        An empty result (a bare flush marker) is also ``None``: there is no payload.

        Example::

            >>> ZlibStreamInflater().feed(b"") is None
            True
        """
        pending = self._pending
        if not pending and data[-4:] == ZLIB_SUFFIX:
            source: bytes | bytearray = data
        else:
            pending += data
            if pending[-4:] != ZLIB_SUFFIX:
                if len(pending) > MAX_PENDING_BYTES:
                    self._pending = bytearray()
                    raise CompressionError(
                        f"zlib-stream: {len(pending)} bytes without a sync flush "
                        f"(limit {MAX_PENDING_BYTES})"
                    )
                return None
            source = pending
            # A fresh buffer releases the memory of a multi-MiB payload at once.
            self._pending = bytearray()
        try:
            out = self._decompress(source)
        except zlib.error as exc:
            raise CompressionError(f"zlib-stream: message could not be decompressed: {exc}") from exc
        if not out and self._context.eof:
            # The server ended the stream (Z_FINISH): what follows is not decoded.
            raise CompressionError("zlib-stream: the stream ended; later data cannot be decompressed")
        return out or None

    def reset(self) -> None:
        """Start a new stream: a fresh context and no pending fragments.

        Example::

            >>> inflater = ZlibStreamInflater()
            >>> inflater.feed(b"\\x78") is None, inflater.pending
            (True, 1)
            >>> inflater.reset(); inflater.pending
            0
        """
        self._context = zlib.decompressobj()
        self._decompress = self._context.decompress
        self._pending = bytearray()


class ZstdStreamInflater:
    """``zstd-stream``: one zstandard decompression context per connection (GATEWAY.md §7.2).

    The connection is one long zstd frame that never ends; each websocket message is
    one flushed block holding exactly one payload, so no buffering or suffix check is
    needed: ``decompressobj().decompress`` returns every byte the message decodes to.

    Memory: the context keeps the frame's window, allocated as traffic fills it. At
    the usual levels the window is 2 MiB; measured RSS per context was ~66 KiB after
    50 messages of ~1 KB and ~2.2 MiB after ~2.7 MB of traffic (8 MiB windows at
    level 19 grow further). 1000 connected shards therefore hold about 2 GiB of zstd
    windows, against ~40 MiB with zlib-stream. :meth:`reset` drops the old context.

    Example::

        >>> import zstandard
        >>> deflater = zstandard.ZstdCompressor().compressobj()
        >>> frame = deflater.compress(b"{}") + deflater.flush(zstandard.COMPRESSOBJ_FLUSH_BLOCK)
        >>> ZstdStreamInflater().feed(frame)
        b'{}'
    """

    __slots__ = ("_decompress",)

    def __init__(self) -> None:
        self._decompress = zstandard.ZstdDecompressor().decompressobj().decompress

    @property
    def decompress(self) -> Callable[[bytes], bytes]:
        """The context's own ``decompress`` (a C function), for a receive loop that
        calls it without :meth:`feed`'s Python frame: it returns ``b""`` where ``feed``
        returns ``None`` and raises ``zstandard.ZstdError`` where ``feed`` raises
        :class:`~rxgateway.errors.CompressionError` (:func:`zstd_error` converts it).
        A new one after every :meth:`reset`.

        Example::

            >>> ZstdStreamInflater().decompress(b"")
            b''
        """
        return self._decompress

    def feed(self, data: bytes) -> bytes | None:
        """Decompress one message; ``None`` if it decoded to nothing (e.g. empty input).

        Example::

            >>> ZstdStreamInflater().feed(b"") is None
            True
        """
        try:
            return self._decompress(data) or None
        except zstandard.ZstdError as exc:
            raise zstd_error(exc) from exc

    def reset(self) -> None:
        """Start a new stream with a fresh context (the old window is freed).

        Example::

            >>> ZstdStreamInflater().reset()
        """
        self._decompress = zstandard.ZstdDecompressor().decompressobj().decompress


def zstd_error(exc: Exception) -> CompressionError:
    """The :class:`~rxgateway.errors.CompressionError` a zstd-stream context's error
    stands for (the caller chains ``exc`` as its cause).

    Example::

        >>> zstd_error(zstandard.ZstdError("bad frame"))
        CompressionError('zstd-stream: message could not be decompressed: bad frame')
    """
    return CompressionError(f"zstd-stream: message could not be decompressed: {exc}")


class NoInflater:
    """No transport compression: binary messages pass through unchanged.

    The driver can equally skip inflation when :func:`make_inflater` returns ``None``;
    this class exists for code that prefers one object shape for every setting.

    Example::

        >>> NoInflater().feed(b'{"op":11}')
        b'{"op":11}'
    """

    __slots__ = ()

    def feed(self, data: bytes) -> bytes | None:
        """Return ``data`` itself (``None`` when empty).

        Example::

            >>> NoInflater().feed(b"") is None
            True
        """
        return data or None

    def reset(self) -> None:
        """Nothing to forget.

        Example::

            >>> NoInflater().reset()
        """


def make_inflater(compression: str | None) -> Inflater | None:
    """The inflater for a ``compress`` setting, or ``None`` for no compression.

    Raises ``ValueError`` for names not in :data:`COMPRESSIONS`.

    Example::

        >>> type(make_inflater("zstd-stream")).__name__
        'ZstdStreamInflater'
        >>> make_inflater(None) is None and make_inflater("none") is None
        True
    """
    if compression == "zstd-stream":
        return ZstdStreamInflater()
    if compression == "zlib-stream":
        return ZlibStreamInflater()
    if compression is None or compression == "none":
        return None
    raise ValueError(f"unknown compression {compression!r}; expected one of {COMPRESSIONS} or None")
