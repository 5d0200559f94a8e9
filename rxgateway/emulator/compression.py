"""Server-side encoders: how each payload becomes websocket frames (GATEWAY.md §7).

One encoder per connection, made when the socket opens; its state lives as long as
the connection.

* plain: one text frame per payload;
* ``zlib-stream``: one deflate stream, ``Z_SYNC_FLUSH`` after every payload (so each
  ends with ``00 00 ff ff``), optionally split over several binary frames (§7.1);
* ``zstd-stream``: one zstd frame for the whole connection, ``FLUSH_BLOCK`` after every
  payload, exactly one binary frame per payload (§7.2);
* payload compression (Identify ``compress: true``, no transport compression): a
  standalone zlib stream, binary, for payloads above a size; text otherwise (§7.3).

Every connection gets its own ``ZstdCompressor``: the ``compressobj()`` objects of one
compressor share its context, and interleaving two of them corrupts both streams
(checked with zstandard 0.25). Level 1 and a 256 KiB window keep the set-up at about
0.1 ms per connection.

Example::

    >>> encoder = make_encoder("zlib-stream", EmulatorConfig())
    >>> [frame[-4:] for _, frame in encoder.encode(b'{"op":11}')]
    [b'\\x00\\x00\\xff\\xff']
"""

from __future__ import annotations

import functools
import zlib
from typing import Protocol

import zstandard
from aiohttp import WSMsgType

from .settings import EmulatorConfig

ZLIB_STREAM = "zlib-stream"
ZSTD_STREAM = "zstd-stream"
#: The ``compress`` query values the gateway accepts (§1.2); ``None`` = absent.
COMPRESSIONS = (None, ZLIB_STREAM, ZSTD_STREAM)
#: A websocket frame: its opcode (text or binary) and its bytes.
Frame = tuple[WSMsgType, bytes]
TEXT = WSMsgType.TEXT
BINARY = WSMsgType.BINARY
#: Garbage that ends like a complete zlib-stream message, so the client inflates it
#: and fails (the corrupt-frame fault).
CORRUPT_ZLIB = b"\xde\xad\xbe\xef\xde\xad\xbe\xef\x00\x00\xff\xff"
#: Not a valid zstd block header sequence (the corrupt-frame fault).
CORRUPT_ZSTD = b"\xff\xff\xff\xff\xde\xad\xbe\xef"


class Encoder(Protocol):
    """Turns payloads into websocket frames for one connection."""

    def encode(self, payload: bytes) -> list[Frame]:
        """The frames carrying ``payload``, in order."""

    def corrupt(self) -> Frame:
        """One frame the client cannot decode."""


class PlainEncoder:
    """No compression: JSON in text frames (§11.1)."""

    def encode(self, payload: bytes) -> list[Frame]:
        return [(TEXT, payload)]

    def corrupt(self) -> Frame:
        return BINARY, CORRUPT_ZLIB


class ZlibStreamEncoder:
    """``zlib-stream``: one deflate context per connection, sync-flushed per payload."""

    def __init__(self, level: int, split_bytes: int | None) -> None:
        self._deflater = zlib.compressobj(level)
        #: Frames are at most this long (``None``: one frame per payload); settable at
        #: run time by the slow-link fault.
        self.split_bytes = split_bytes

    def encode(self, payload: bytes) -> list[Frame]:
        data = self._deflater.compress(payload) + self._deflater.flush(zlib.Z_SYNC_FLUSH)
        size = self.split_bytes
        if size is None or len(data) <= size:
            return [(BINARY, data)]
        return [(BINARY, data[i : i + size]) for i in range(0, len(data), size)]

    def corrupt(self) -> Frame:
        return BINARY, CORRUPT_ZLIB


class ZstdStreamEncoder:
    """``zstd-stream``: one long zstd frame, a flushed block per payload."""

    def __init__(self, params: zstandard.ZstdCompressionParameters) -> None:
        self._stream = zstandard.ZstdCompressor(compression_params=params).compressobj()

    def encode(self, payload: bytes) -> list[Frame]:
        stream = self._stream
        return [(BINARY, stream.compress(payload) + stream.flush(zstandard.COMPRESSOBJ_FLUSH_BLOCK))]

    def corrupt(self) -> Frame:
        return BINARY, CORRUPT_ZSTD


class PayloadZlibEncoder:
    """Payload compression (§7.3): large payloads as standalone zlib, binary."""

    def __init__(self, level: int, threshold: int) -> None:
        self._level = level
        self._threshold = threshold

    def encode(self, payload: bytes) -> list[Frame]:
        if len(payload) <= self._threshold:
            return [(TEXT, payload)]
        return [(BINARY, zlib.compress(payload, self._level))]

    def corrupt(self) -> Frame:
        return BINARY, CORRUPT_ZLIB


def make_encoder(compression: str | None, config: EmulatorConfig) -> Encoder:
    """The encoder for a ``compress`` query value (one of :data:`COMPRESSIONS`)."""
    if compression == ZLIB_STREAM:
        return ZlibStreamEncoder(config.zlib_level, config.zlib_split_bytes)
    if compression == ZSTD_STREAM:
        return ZstdStreamEncoder(_zstd_params(config.zstd_level, config.zstd_window_log))
    return PlainEncoder()


@functools.cache
def _zstd_params(level: int, window_log: int) -> zstandard.ZstdCompressionParameters:
    return zstandard.ZstdCompressionParameters.from_level(level, window_log=window_log)
