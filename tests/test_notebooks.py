"""Every notebook, executed top to bottom on a real Jupyter kernel, then checked by its
outputs.

The kernel is this interpreter's: a kernelspec written to a temporary directory names
``sys.executable`` explicitly, so the notebooks import the rxgateway under test
whatever kernelspecs the machine has installed. Each notebook ends with a cell of
``assert``s (a failing one fails the execution); the test then reads the outputs the
notebook's user would see: the shard's HTML table, the plot, the marble diagrams.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")
from jupyter_client.kernelspec import KernelSpecManager  # noqa: E402
from jupyter_client.manager import AsyncKernelManager  # noqa: E402

from .examples_support import NOTEBOOKS  # noqa: E402

KERNEL_NAME = "rxgateway-tests"
#: Seconds one cell may take; every notebook is built to finish in well under this.
CELL_TIMEOUT = 60
NOTEBOOK_NAMES = ["01_getting_started", "02_operators_and_routing", "03_live_traffic", "04_faults_and_resumes", "05_bus"]


@pytest.fixture(scope="module")
def kernel_specs(tmp_path_factory: pytest.TempPathFactory) -> KernelSpecManager:
    """A kernelspec manager that knows one kernel: this interpreter running ipykernel."""
    root = tmp_path_factory.mktemp("kernels")
    spec_dir = root / KERNEL_NAME
    spec_dir.mkdir()
    spec = {
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "rxgateway tests",
        "language": "python",
    }
    (spec_dir / "kernel.json").write_text(json.dumps(spec))
    manager = KernelSpecManager(kernel_dirs=[str(root)], ensure_native_kernel=False)
    assert manager.get_kernel_spec(KERNEL_NAME).argv[0] == sys.executable
    return manager


def execute(name: str, kernel_specs: KernelSpecManager, tmp_path: Path) -> nbformat.NotebookNode:
    """Run ``notebooks/<name>.ipynb`` top to bottom in the notebooks folder, after a
    first cell (added here) that prints the kernel's interpreter."""
    notebook = nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)
    probe = nbformat.v4.new_code_cell("import sys; print(sys.executable)", id="interpreter-probe")
    probe.metadata["tags"] = ["interpreter"]
    notebook.cells.insert(0, probe)
    manager = AsyncKernelManager(
        kernel_name=KERNEL_NAME,
        kernel_spec_manager=kernel_specs,
        connection_file=str(tmp_path / "kernel-connection.json"),
    )
    client = nbclient.NotebookClient(
        notebook,
        km=manager,
        timeout=CELL_TIMEOUT,
        startup_timeout=60,
        resources={"metadata": {"path": str(NOTEBOOKS)}},
    )
    client.execute(cleanup_kc=True)  # the manager is ours: shut the kernel down afterwards too
    assert not manager.has_kernel
    return notebook


def tagged(notebook: nbformat.NotebookNode, tag: str) -> list[nbformat.NotebookNode]:
    return [c for c in notebook.cells if tag in c.get("metadata", {}).get("tags", [])]


def text_of(cell: nbformat.NotebookNode) -> str:
    """Everything a code cell printed or displayed as text."""
    parts = []
    for output in cell.get("outputs", []):
        if output.output_type == "stream":
            parts.append(output.text)
        elif output.output_type in ("display_data", "execute_result"):
            parts.append(output.data.get("text/plain", ""))
    return "".join(parts)


def assert_clean_run(notebook: nbformat.NotebookNode) -> None:
    """The kernel was this interpreter; every code cell ran, in order, without an error
    output; the checks passed."""
    (probe,) = tagged(notebook, "interpreter")
    assert text_of(probe).strip() == sys.executable
    code_cells = [c for c in notebook.cells if c.cell_type == "code"]
    assert [c.execution_count for c in code_cells] == list(range(1, len(code_cells) + 1))
    for cell in code_cells:
        assert all(o.output_type != "error" for o in cell.outputs), cell.source
    (checks,) = tagged(notebook, "checks")
    assert "checks passed" in text_of(checks)


def test_the_notebooks_are_built_from_build_py_with_outputs_cleared() -> None:
    result = subprocess.run(
        [sys.executable, str(NOTEBOOKS / "build.py"), "--check"], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert sorted(p.stem for p in NOTEBOOKS.glob("*.ipynb")) == NOTEBOOK_NAMES  # each one has a test below
    for name in NOTEBOOK_NAMES:
        notebook = nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)
        nbformat.validate(notebook)
        for cell in notebook.cells:
            if cell.cell_type == "code":
                assert cell.outputs == [] and cell.execution_count is None


def test_01_getting_started(kernel_specs: KernelSpecManager, tmp_path: Path) -> None:
    notebook = execute("01_getting_started", kernel_specs, tmp_path)
    assert_clean_run(notebook)
    # display(shard) once active: the HTML table of its state.
    (cell,) = tagged(notebook, "display-shard")
    html = "".join(o.data.get("text/html", "") for o in cell.outputs if o.output_type == "display_data")
    assert html.startswith("<table>") and ">state</th><td>Active</td>" in html
    # The shard's last display, after close, says Closed.
    texts = [
        o.data.get("text/html", "")
        for c in notebook.cells
        for o in c.get("outputs", [])
        if o.output_type == "display_data"
    ]
    assert "<td>Closed</td>" in texts[-1]
    printed = "".join(text_of(c) for c in notebook.cells if c.cell_type == "code")
    assert "this shard parses: GUILD_CREATE|MESSAGE_CREATE" in printed


def test_02_operators_and_routing(kernel_specs: KernelSpecManager, tmp_path: Path) -> None:
    notebook = execute("02_operators_and_routing", kernel_specs, tmp_path)
    assert_clean_run(notebook)
    printed = "".join(text_of(c) for c in notebook.cells if c.cell_type == "code")
    # The marble diagrams, as a reader sees them.
    assert "on(MESSAGE_CREATE)  --m---p-n-|" in printed
    assert "source  g-m-t-p-n-t-|" in printed
    assert "errors  ----!-----!" in printed
    assert "route ended with its source: True" in printed


def test_03_live_traffic(kernel_specs: KernelSpecManager, tmp_path: Path) -> None:
    notebook = execute("03_live_traffic", kernel_specs, tmp_path)
    assert_clean_run(notebook)
    (plot,) = tagged(notebook, "plot")
    images = [o for o in plot.outputs if o.output_type == "display_data" and "image/png" in o.data]
    assert len(images) == 1
    assert len(images[0].data["image/png"]) > 10_000  # a base64 PNG with two plots in it
    printed = "".join(text_of(c) for c in notebook.cells if c.cell_type == "code")
    assert "MESSAGE_CREATE" in printed and "average round trip" in printed


def test_04_faults_and_resumes(kernel_specs: KernelSpecManager, tmp_path: Path) -> None:
    notebook = execute("04_faults_and_resumes", kernel_specs, tmp_path)
    assert_clean_run(notebook)
    printed = "".join(text_of(c) for c in notebook.cells if c.cell_type == "code")
    assert "gaps 0, duplicates 0" in printed
    for label in ("op 7: reconnect", "dropped TCP connection", "zombie", "op 9"):
        assert label in printed
    assert "Resuming" in printed and "Active" in printed


def test_05_bus(kernel_specs: KernelSpecManager, tmp_path: Path) -> None:
    pytest.importorskip("nats")
    from rxgateway.tools.nats_server import find_nats_server

    if find_nats_server() is None:
        pytest.skip("no nats-server")
    notebook = execute("05_bus", kernel_specs, tmp_path)
    assert_clean_run(notebook)
    printed = "".join(text_of(c) for c in notebook.cells if c.cell_type == "code")
    assert "Bus(JetStreamBroker(" in printed and "group='moderation'" in printed
    assert "said '!members'" in printed and "said 'hello from " in printed
    assert "the emulator got op 8 on shard" in printed and "'nonce': 'moderation'" in printed
    assert "'GUILD_MEMBERS_CHUNK'" in printed
    assert "stopped; nats-server running: False" in printed
