"""The one place that decides whether the optional compiled module is used.

``rxgateway.protocol._cprobe`` (one C file, ``_cprobe.c``) is compiled by the build
wherever a C compiler is at hand. It is used when it was built and the environment
variable ``RXGATEWAY_NO_EXTENSIONS`` is unset or empty; :func:`load` answers once per
caller, at its import, and every compiled part (the dispatch probe, the event maker)
asks here, so one switch turns all of them off together.
"""

from __future__ import annotations

import os
from types import ModuleType


def load() -> ModuleType | None:
    """The compiled module, or ``None`` where it was not built or is switched off."""
    if os.environ.get("RXGATEWAY_NO_EXTENSIONS"):
        return None
    try:
        from . import _cprobe
    except ImportError:  # the optional extension was not built here
        return None
    return _cprobe
