"""The wheel's build hook: compile the optional C extension where a compiler is at hand.

rxgateway is pure Python; one module has a compiled twin, ``rxgateway.protocol._cprobe``
(the dispatch probe of the receive path, ``rxgateway/protocol/_cprobe.c``). This hook
compiles it with setuptools' ``build_ext`` when a wheel is built:

* a regular wheel carries the compiled module and is tagged for this interpreter and
  platform; an editable install gets it beside its source, where it is imported from;
* with ``RXGATEWAY_NO_EXTENSIONS`` set (non-empty), or where compiling fails (no
  compiler, no headers, no setuptools), the wheel is pure Python (``py3-none-any``)
  and says why in the build's output. The package then uses the pure-Python probe,
  which answers alike (``rxgateway.protocol.envelope.compiled_probe_dispatch`` is
  ``None``).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

#: The extension: its import name and its one source file, relative to the project.
MODULE = "rxgateway.protocol._cprobe"
SOURCE = "rxgateway/protocol/_cprobe.c"


class CompileExtension(BuildHookInterface):  # type: ignore[type-arg]
    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        if self.target_name != "wheel":
            return
        if os.environ.get("RXGATEWAY_NO_EXTENSIONS"):
            self.app.display_info("RXGATEWAY_NO_EXTENSIONS is set: building a pure-Python wheel")
            return
        self._scratch = tempfile.mkdtemp(prefix="rxgateway-ext-")
        try:
            built = self._compile(Path(self._scratch))
        except Exception as exc:  # any failure leaves the pure-Python wheel, which works
            self.app.display_warning(
                f"the optional C extension {MODULE} was not built ({type(exc).__name__}: {exc}); "
                "rxgateway will use its pure-Python dispatch probe"
            )
            return
        target = f"{SOURCE.rsplit('/', 1)[0]}/{built.name}"
        if version == "editable":  # imported from the source tree: put it there
            # By rename: a process that has the old one loaded keeps its own copy.
            placed = Path(self.root) / target
            staged = placed.with_name(placed.name + ".new")
            shutil.copy2(built, staged)
            os.replace(staged, placed)
        else:
            build_data["force_include"][str(built)] = target
        build_data["pure_python"] = False
        build_data["infer_tag"] = True
        self.app.display_info(f"built the optional C extension {MODULE}")

    def finalize(self, version: str, build_data: dict[str, Any], artifact_path: str) -> None:
        scratch = getattr(self, "_scratch", None)
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)

    def _compile(self, scratch: Path) -> Path:
        from setuptools import Distribution, Extension
        from setuptools.command.build_ext import build_ext

        source = str(Path(self.root) / SOURCE)
        dist = Distribution({"name": "rxgateway", "ext_modules": [Extension(MODULE, [source])]})
        command = build_ext(dist)
        command.build_lib = str(scratch / "lib")
        command.build_temp = str(scratch / "temp")
        command.ensure_finalized()
        command.run()
        (output,) = command.get_outputs()
        return Path(output)
