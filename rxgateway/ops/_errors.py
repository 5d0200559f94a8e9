"""The error stream of ``spawn`` and ``route``: what a failing handler becomes.

A handler's exception never reaches the source (the shard goes on) nor the
downstream ``on_error`` (the stream goes on). It is wrapped in a
:class:`HandlerError` that says which handler failed on which event, and reported:
``on_next`` on the ``errors`` Observer when one was given (a ``Subject`` to
subscribe to, say), otherwise logged at ERROR with its traceback on the
``rxgateway.ops`` logger.

Example::

    errors = Subject()
    errors.subscribe(lambda e: print(e.event, e.error))
    shard.pipe(spawn(handle, errors=errors)).subscribe()
"""

from __future__ import annotations

import logging

from reactivex import abc

log = logging.getLogger("rxgateway.ops")


class HandlerError(Exception):
    """A user handler failed.

    Attributes:
        error: what the handler raised (the ``__cause__`` too).
        event: the value the handler was given (``None`` when the failure is not tied
            to one value, e.g. a routed pipeline that errored).
        handler: the handler that failed.
        key: the ``route`` table key the handler was under (``None`` for ``spawn``).
    """

    def __init__(self, error: BaseException, event: object, handler: object, key: object = None) -> None:
        super().__init__(error, event, handler, key)
        self.error = error
        self.event = event
        self.handler = handler
        self.key = key
        self.__cause__ = error

    def __str__(self) -> str:
        name = getattr(self.handler, "__qualname__", None) or repr(self.handler)
        where = f" (route key {_describe(self.key)})" if self.key is not None else ""
        return f"handler {name}{where} failed on {self.event!r}: {self.error!r}"


ErrorSink = abc.ObserverBase[HandlerError]


def report(errors: ErrorSink | None, failure: HandlerError) -> None:
    """Send ``failure`` to ``errors`` (or log it when there is no error stream).

    Never raises: an error stream that itself raises is logged.
    """
    if errors is None:
        err = failure.error
        log.error("%s", failure, exc_info=(type(err), err, err.__traceback__))
        return
    log.debug("%s", failure)
    try:
        errors.on_next(failure)
    except Exception:
        log.exception("the error stream raised while reporting: %s", failure)


def _describe(key: object) -> str:
    if isinstance(key, type):
        return key.__qualname__
    name = getattr(key, "__qualname__", None)
    return name if isinstance(name, str) else repr(key)
