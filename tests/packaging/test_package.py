"""The package as people get it: ``python -m build`` makes an sdist and a wheel that
``twine check`` passes, that carry what they should (``py.typed``, the licence, the
changelog) and nothing from the work tree that they should not (tests in the wheel,
virtualenvs, caches), and a wheel installed into a fresh virtualenv runs the demo.

Two wheels are built and each is checked in full: the default build, which compiles
the optional C extension (``rxgateway.protocol._cprobe``, see ``hatch_build.py``) and
is tagged for this interpreter, and a build with ``RXGATEWAY_NO_EXTENSIONS=1``, pure
Python (``py3-none-any``): what a machine without a compiler gets. Both run the demo.

The build uses hatchling from the test environment when it is there (``--no-isolation``,
about a second) and an isolated build otherwise. The fresh virtualenv gets the wheel's
dependencies from the package index through pip's own cache; nothing of the work tree
is importable there (the commands run outside it, without ``PYTHONPATH``).
"""

from __future__ import annotations

import email.parser
import importlib.util
import os
import re
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

from ..build_support import HAVE_COMPILER

ROOT = Path(__file__).resolve().parents[2]
#: Generous bounds for a loaded machine: the build takes ~1 s, the install ~5 s.
BUILD_TIMEOUT = 300
DEMO_SECONDS = 4

pytestmark = pytest.mark.timeout(600)


def package_version() -> str:
    """``__version__`` as rxgateway/version.py states it (the metadata's source)."""
    match = re.search(r'^__version__ = "([^"]+)"$', (ROOT / "rxgateway" / "version.py").read_text(), re.M)
    assert match, "rxgateway/version.py has no __version__ line"
    return match.group(1)


def clean_env() -> dict[str, str]:
    """The environment without anything that points Python at the work tree, nor a
    setting of the extension's switch from outside."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME", "RXGATEWAY_NO_EXTENSIONS")
    }
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    env["PYTHONUNBUFFERED"] = "1"
    return env


def run(
    args: list[str], cwd: Path, timeout: float = BUILD_TIMEOUT, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(args, cwd=cwd, env=clean_env() | (env or {}), capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, f"{args[:4]} exited {done.returncode}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done


@pytest.fixture(scope="module", params=["compiled", "pure"])
def dist(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The sdist and the wheel, built from the work tree into a temporary folder: by
    default (the extension compiled), or with ``RXGATEWAY_NO_EXTENSIONS=1``."""
    out = tmp_path_factory.mktemp("dist")
    # With hatchling here, no isolated environment to set up; else pip fetches it.
    isolation = ["--no-isolation"] if importlib.util.find_spec("hatchling") else []
    env = {"RXGATEWAY_NO_EXTENSIONS": "1"} if request.param == "pure" else {}
    run([sys.executable, "-m", "build", *isolation, "--outdir", str(out), str(ROOT)], cwd=out, env=env)
    (sdist,) = out.glob("rxgateway-*.tar.gz")
    (wheel,) = out.glob("rxgateway-*.whl")
    return {"sdist": sdist, "wheel": wheel, "kind": Path(request.param)}


def compiled(dist: dict[str, Path]) -> bool:
    """Whether this build should carry the extension: the default build, where the
    machine has a compiler (without one, the default build is pure too, and says so)."""
    return dist["kind"].name == "compiled" and HAVE_COMPILER


@pytest.fixture(scope="module")
def installed(dist: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtualenv (no pip of its own: this environment's pip installs into it)
    with the wheel and its dependencies installed; returns its ``bin`` folder."""
    home = tmp_path_factory.mktemp("fresh")
    venv = home / "venv"
    run([sys.executable, "-m", "venv", "--without-pip", str(venv)], cwd=home)
    python = venv / "bin" / "python"
    run([sys.executable, "-m", "pip", "--python", str(python), "install", "-q", str(dist["wheel"])], cwd=home)
    return venv / "bin"


# ------------------------------------------------------------------ the files


def test_twine_check_passes(dist: dict[str, Path]) -> None:
    done = run([sys.executable, "-m", "twine", "check", "--strict", str(dist["sdist"]), str(dist["wheel"])], cwd=ROOT)
    assert done.stdout.count("PASSED") == 2, done.stdout


def test_the_wheel_has_the_package_py_typed_and_nothing_else(dist: dict[str, Path]) -> None:
    with zipfile.ZipFile(dist["wheel"]) as wheel:
        names = wheel.namelist()
    version = package_version()
    dist_info = f"rxgateway-{version}.dist-info/"
    assert "rxgateway/py.typed" in names
    assert f"{dist_info}licenses/LICENSE" in names
    assert all(n.startswith(("rxgateway/", dist_info)) for n in names), [
        n for n in names if not n.startswith(("rxgateway/", dist_info))
    ]
    for junk in ("tests/", "benchmarks/", ".venv", ".cache", "__pycache__", ".pyc", ".ipynb"):
        assert not [n for n in names if junk in n], junk
    assert not [n for n in names if n.endswith(".c")], "C sources belong to the sdist"
    # The extension: in the default build (and a wheel tagged for this interpreter and
    # platform), in no other; never a stale one from the source tree.
    extensions = [n for n in names if n.endswith((".so", ".pyd"))]
    tag = dist["wheel"].name.split("-", 2)[2]
    if compiled(dist):
        assert [n.split(".", 1)[0] for n in extensions] == ["rxgateway/protocol/_cprobe"], extensions
        assert not tag.startswith("py3-none-any"), tag
    else:
        assert extensions == [], extensions
        assert tag == "py3-none-any.whl", tag
    # Every module of the package is there.
    on_disk = {
        p.relative_to(ROOT).as_posix() for p in (ROOT / "rxgateway").rglob("*.py") if "__pycache__" not in p.parts
    }
    assert on_disk - set(names) == set()


def test_the_sdist_has_the_project_files_and_no_work_tree_junk(dist: dict[str, Path]) -> None:
    with tarfile.open(dist["sdist"]) as sdist:
        names = sdist.getnames()
    top = f"rxgateway-{package_version()}/"
    assert all(n.startswith(top) for n in names)
    inside = {n[len(top):] for n in names}
    for required in ("LICENSE", "README.md", "CHANGELOG.md", "pyproject.toml", "PKG-INFO", "rxgateway/py.typed"):
        assert required in inside, required
    # What a wheel built from the sdist compiles: the hook and the C source.
    assert {"hatch_build.py", "rxgateway/protocol/_cprobe.c"} <= inside
    assert not [n for n in inside if n.endswith((".so", ".pyd"))]
    assert any(n.startswith("tests/") for n in inside)  # a source release can be tested
    for junk in (".venv/", "benchmarks/.cache/", "benchmarks/results/", ".git/", ".ci/", ".hypothesis/", ".mypy_cache/"):
        assert not [n for n in inside if n.startswith(junk)], junk
    assert not [n for n in inside if "__pycache__" in n or n.endswith(".pyc")]


def test_the_metadata(dist: dict[str, Path]) -> None:
    with zipfile.ZipFile(dist["wheel"]) as wheel:
        raw = wheel.read(f"rxgateway-{package_version()}.dist-info/METADATA").decode()
    meta = email.parser.Parser().parsestr(raw)
    assert meta["Name"] == "rxgateway"
    assert meta["Version"] == package_version()
    assert meta["License-Expression"] == "MIT" and meta["License-File"] == "LICENSE"
    classifiers = set(meta.get_all("Classifier") or [])
    for wanted in (
        "Framework :: AsyncIO",
        "Operating System :: OS Independent",
        "Programming Language :: Python :: 3.11",
        "Programming Language :: Python :: 3.12",
        "Programming Language :: Python :: 3.13",
        "Typing :: Typed",
        "Topic :: Communications :: Chat",
    ):
        assert wanted in classifiers, wanted
    assert any(c.startswith("Development Status :: ") for c in classifiers)
    urls = {u.split(",", 1)[0] for u in meta.get_all("Project-URL") or []}
    assert urls >= {"Homepage", "Documentation", "Changelog", "Issues"}
    assert meta["Keywords"] and meta["Author"]
    licence = (ROOT / "LICENSE").read_text()
    assert licence.startswith("MIT License") and "the rxgateway authors" in licence


# ------------------------------------------------------------ installed


def test_the_installed_wheel_has_the_version_and_types(
    dist: dict[str, Path], installed: Path, tmp_path: Path
) -> None:
    code = (
        "import importlib.metadata, pathlib, rxgateway\n"
        "from rxgateway.protocol.envelope import compiled_probe_dispatch\n"
        "print(rxgateway.__file__)\n"
        "print(rxgateway.__version__)\n"
        "print(importlib.metadata.version('rxgateway'))\n"
        "print((pathlib.Path(rxgateway.__file__).parent / 'py.typed').exists())\n"
        "print(compiled_probe_dispatch is not None)\n"
    )
    out = run([str(installed / "python"), "-c", code], cwd=tmp_path).stdout.split()
    where, version, metadata_version, typed, has_extension = out
    assert Path(where).is_relative_to(installed.parent), f"imported from {where}, not the fresh virtualenv"
    assert version == metadata_version == package_version()
    assert typed == "True"
    assert has_extension == str(compiled(dist))


def test_the_installed_wheel_runs_the_demo(installed: Path, tmp_path: Path) -> None:
    """``pip install rxgateway`` then ``rxgateway demo``: shards on the embedded
    emulator, faults injected, every shard resumed, no gap, no duplicate."""
    command = [str(installed / "rxgateway"), "demo", "--shards", "2", "--seconds", str(DEMO_SECONDS), "--rate", "200"]
    done = run(command, cwd=tmp_path, timeout=120)
    out = done.stdout
    assert re.search(r"demo finished after [\d.]+ s with 2 shards", out), out[-2000:]
    events = re.search(r"^events: (\d+) ", out, re.M)
    assert events and int(events.group(1)) > 0, out[-2000:]
    resumes = re.search(r"^resumes: (\d+), reconnections: (\d+)", out, re.M)
    assert resumes and int(resumes.group(1)) >= 1, out[-2000:]
    assert "sequence gaps: 0, duplicates: 0, rule violations: 0" in out
    assert "result: OK" in out
