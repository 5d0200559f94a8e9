"""What the test environment can build: shared by the extension's and the package's tests."""

from __future__ import annotations

import os
import shutil
import sysconfig

#: Whether this machine can compile the optional C extension (``hatch_build.py``): the
#: C compiler the build would use, and this Python's headers.
HAVE_COMPILER = bool(shutil.which((sysconfig.get_config_var("CC") or "cc").split()[0])) and os.path.exists(
    os.path.join(sysconfig.get_paths()["include"], "Python.h")
)
