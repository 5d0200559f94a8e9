"""The compiled dispatch probe, event maker and machine lane (``_cprobe.c``):
optional, see :mod:`rxgateway.protocol.envelope`,
:func:`rxgateway.events.base.dispatch_maker` and :mod:`rxgateway.machine.shard_machine`."""

from collections.abc import Callable
from types import NotImplementedType
from typing import Any, Generic, TypeVar

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

class Lane:
    """The shard machine's dispatch lane in one call (see
    ``rxgateway.machine.shard_machine._read_lane``): ``slots`` names the machine's
    sequence, wanted set, accepted count, duplicate count and tap, in that order."""

    def __init__(self, probe: DispatchProbe[Any], cls: type, slots: tuple[str, str, str, str, str], loads: Callable[[bytes], Any]) -> None: ...
    def read(self, machine: object, payload: bytes, /) -> tuple[int, Any, Any] | None | NotImplementedType:
        """``(sequence, value, d)`` for a wanted dispatch, ``None`` for an unwanted or
        duplicate one (the state moved as the Python lane moves it), ``NotImplemented``
        for anything else."""
