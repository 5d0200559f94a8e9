"""Receipts: how a source learns that the work an event started has ended.

A broker-backed source (the bus) must acknowledge an event only once it was handled,
so that a consumer killed mid-handler gets the event again from another member of
its group. A plain ``on_next`` returns long before an async handler finishes, so the
source hands each event down inside a :class:`Receipt`:

* the source calls :func:`deliver` with a receipt: the receipt is *current* while
  ``on_next`` runs (synchronously, through every operator of the pipeline);
* whatever moves work off that call takes a hold on the current receipt and releases
  it when the work ends, saying whether it succeeded. ``ops.spawn`` and ``ops.route``'s
  async handlers do this for every task they run or queue; code of your own can do
  the same with :func:`current_receipt` (``hold()`` then ``release(ok)``);
* when ``on_next`` has returned and the last hold is released, the receipt settles
  once: ``settle(True)`` if every hold succeeded, ``settle(False)`` if one failed, or
  if the work was cancelled (the subscription disposed before it ran).

Work handed on by other means (``observe_on``, a buffer, a queue of your own) takes no
hold: for it the event counts as handled when ``on_next`` returned. A task pool that
emits a result re-enters the receipt while it does, so a chain of handlers
(``spawn(a)`` then ``spawn(b)``) holds it until the last one finished.

Nothing here costs a local shard anything: no receipt is current outside
:func:`deliver`, and a task pool only looks.

Example::

    receipt = Receipt(lambda ok: print("ack" if ok else "retry"))
    deliver(receipt, observer.on_next, event)   # prints when every handler ended
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

__all__ = ["Receipt", "current_receipt", "deliver"]

_T = TypeVar("_T")

_current: Receipt | None = None


class Receipt:
    """Counts the work an event started; calls ``settle(ok)`` once it all ended.

    Args:
        settle: called exactly once, with ``True`` when every hold was released as a
            success, ``False`` when one was not.
    """

    __slots__ = ("_settle", "_holds", "_ok", "_sealed", "_settled")

    def __init__(self, settle: Callable[[bool], None]) -> None:
        self._settle = settle
        self._holds = 0
        self._ok = True
        self._sealed = False
        self._settled = False

    @property
    def holds(self) -> int:
        """Holds taken and not yet released."""
        return self._holds

    @property
    def settled(self) -> bool:
        """True once ``settle`` was called."""
        return self._settled

    def hold(self) -> None:
        """Work on the event started: the receipt waits for a matching :meth:`release`."""
        if self._settled:
            raise RuntimeError("this receipt is already settled: a hold must be taken while the event is delivered")
        self._holds += 1

    def release(self, ok: bool) -> None:
        """A piece of work ended: ``ok`` says whether it succeeded."""
        if self._holds <= 0:
            raise RuntimeError("release() without a matching hold()")
        self._holds -= 1
        if not ok:
            self._ok = False
        if self._sealed and not self._holds:
            self._finish()

    def seal(self, ok: bool = True) -> None:
        """The delivery ended (``on_next`` returned, or raised when ``ok`` is False): no
        hold can be taken from now on except by work already holding it."""
        self._sealed = True
        if not ok:
            self._ok = False
        if not self._holds:
            self._finish()

    def _finish(self) -> None:
        if not self._settled:
            self._settled = True
            self._settle(self._ok)

    def __repr__(self) -> str:
        state = "settled" if self._settled else "sealed" if self._sealed else "open"
        return f"Receipt({state}, holds={self._holds}, ok={self._ok})"


def current_receipt() -> Receipt | None:
    """The receipt of the event being delivered now, or ``None`` (a local source, or
    outside a delivery)."""
    return _current


def enter(receipt: Receipt | None) -> Receipt | None:
    """Make ``receipt`` current; returns the one it replaces (give it to :func:`leave`)."""
    global _current
    previous, _current = _current, receipt
    return previous


def leave(previous: Receipt | None) -> None:
    """Restore the receipt :func:`enter` replaced."""
    global _current
    _current = previous


def deliver(receipt: Receipt, on_next: Callable[[_T], Any], value: _T) -> None:
    """Call ``on_next(value)`` with ``receipt`` current, then seal it. An exception
    from ``on_next`` propagates, and the receipt settles as failed."""
    previous = enter(receipt)
    ok = False
    try:
        on_next(value)
        ok = True
    finally:
        leave(previous)
        receipt.seal(ok)
