"""reactivex's operators, less the ones this package replaces (``merge``), so that
``from rxgateway import ops`` is one namespace for both."""

from reactivex import operators as _operators
from reactivex.operators import *  # noqa: F403

__all__: list[str] = []
__all__ += _operators.__all__
__all__.remove("merge")  # ours (_merge.py) has the same operator form, plus push-down
