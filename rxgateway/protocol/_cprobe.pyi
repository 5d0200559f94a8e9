"""The compiled dispatch probe (``_cprobe.c``): optional, see :mod:`rxgateway.protocol.envelope`."""

from typing import Generic, TypeVar

_V = TypeVar("_V")

class DispatchProbe(Generic[_V]):
    """A snapshot of ``names`` (raw dispatch name → value) and a probe over it."""

    def __init__(self, names: dict[bytes, _V]) -> None: ...
    def probe(self, data: bytes, /) -> tuple[_V, int] | None:
        """``(value, sequence)`` for a dispatch in the gateway's own layout whose name is
        known, else ``None``."""
    def __len__(self) -> int: ...
