"""The package's version, in a module of its own so that any module may read it
without importing the package's ``__init__``.

This line is the one place the version is written: the build reads it for the
package metadata (``[tool.hatch.version]`` in pyproject.toml), so
``rxgateway.__version__`` and ``importlib.metadata.version("rxgateway")`` agree
(tests/packaging checks both on an installed wheel)."""

__version__ = "0.1.0"
