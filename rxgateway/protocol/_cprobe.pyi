"""The compiled dispatch probe and event maker (``_cprobe.c``): optional, see
:mod:`rxgateway.protocol.envelope` and :func:`rxgateway.events.base.dispatch_maker`."""

from typing import Generic, TypeVar

_V = TypeVar("_V")

class DispatchProbe(Generic[_V]):
    """A snapshot of ``names`` (raw dispatch name → value) and a probe over it."""

    def __init__(self, names: dict[bytes, _V]) -> None: ...
    def probe(self, data: bytes, /) -> tuple[_V, int] | None:
        """``(value, sequence)`` for a dispatch in the gateway's own layout whose name is
        known, else ``None``."""
    def __len__(self) -> int: ...

class EventMaker:
    """Builds an instance of ``cls`` from ``len(names)`` positional arguments, each
    stored in the slot of that name, without calling ``__init__``."""

    def __init__(self, cls: type, names: tuple[str, ...]) -> None: ...
    def __call__(self, *args: object) -> object: ...
    @property
    def cls(self) -> type: ...
