from __future__ import annotations

from collections.abc import Callable
from typing import Any

from reactivex import Observable, abc

#: What a routed pipeline's sink may be: a function of each value, or an Observer.
Sink = Callable[[Any], object] | abc.ObserverBase[Any]


class Pipeline:
    """Operators a ``route`` table applies to the events of one key, and where their
    output goes. Build it with :func:`pipeline`."""

    __slots__ = ("operators", "sink")

    def __init__(self, operators: tuple[Callable[[Any], Any], ...], sink: Sink | None) -> None:
        if not operators and sink is None:
            raise TypeError("pipeline() needs at least one operator or a sink")
        for op in operators:
            if not callable(op):
                raise TypeError(f"pipeline() takes operators (callables), got {op!r}")
        if sink is not None and not callable(sink) and not callable(getattr(sink, "on_next", None)):
            raise TypeError(f"a pipeline's sink is a function or an Observer, got {sink!r}")
        self.operators = operators
        self.sink = sink

    def apply(self, branch: Observable[Any]) -> Observable[Any] | abc.DisposableBase:
        """Apply the operators to ``branch``: the result is an Observable (route
        subscribes to it) or, when the last step subscribed itself, a Disposable."""
        result: Any = branch
        for index, op in enumerate(self.operators):
            if not isinstance(result, Observable):
                raise TypeError(
                    f"pipeline step {index} got {type(result).__name__}, not an Observable: "
                    "only the last step may subscribe (return a Disposable)"
                )
            result = op(result)
        if isinstance(result, Observable):
            return result
        if callable(getattr(result, "dispose", None)):
            disposable: abc.DisposableBase = result
            if self.sink is not None:
                raise TypeError("a pipeline that subscribes itself (returns a Disposable) cannot also have a sink")
            return disposable
        raise TypeError(f"a pipeline must end in an Observable or a Disposable, got {type(result).__name__}")

    def __repr__(self) -> str:
        names = ", ".join(getattr(op, "__qualname__", repr(op)) for op in self.operators)
        return f"pipeline({names}{', sink=' + repr(self.sink) if self.sink is not None else ''})"


def pipeline(*operators: Callable[[Any], Any], sink: Sink | None = None) -> Pipeline:
    """Mark a ``route`` handler as an operator pipeline over the key's events.

    A route handler that is a plain function is called with each event; wrapped in
    ``pipeline`` it is called once, with the Observable of the key's events, and
    what it builds is subscribed for the life of the route. A function cannot be
    told apart from an operator by looking at it, hence the explicit wrapper.

    The operators are applied in order (like ``pipe``). The result must be an
    Observable (its values go to ``sink`` when there is one, and are dropped
    otherwise) or, when the last step subscribes itself (``lambda s:
    s.subscribe(...)``), a Disposable. A pipeline that errors is reported on the
    route's error stream and stays stopped (Rx semantics: put ``ops.retry()`` or
    ``ops.catch(...)`` inside it to carry on past errors); the other handlers and
    the source are not affected.

    Example::

        >>> route({
        ...     MessageCreate: pipeline(
        ...         ops.filter(lambda m: m.content.startswith("!")),
        ...         ops.map(lambda m: m.content[1:]),
        ...         sink=print,
        ...     ),
        ...     EventTypeFlags.READY: pipeline(lambda s: s.pipe(ops.take(1)).subscribe(print)),
        ... })

    Args:
        operators: Observable -> Observable callables; the last may return a Disposable.
        sink: a function called with each output value, or an Observer of them.

    Returns:
        A :class:`Pipeline` to use as a ``route`` table value.
    """
    return Pipeline(operators, sink)


__all__ = ["Pipeline", "pipeline"]
