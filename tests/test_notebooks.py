"""The teaching notebooks run top to bottom (nbclient, a python3 kernel of this
interpreter) in a few minutes each, and are committed without outputs."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("*.ipynb"))
BUDGET_S = 300  # each notebook should take ~3 minutes at most on a 2-core machine; margin for load


def test_notebooks_exist_and_are_committed_without_outputs():
    names = [p.name for p in NOTEBOOKS]
    assert names == ["01_two_regimes.ipynb", "02_levers_and_tipping_points.ipynb",
                     "03_sensitivity_for_researchers.ipynb"]
    for path in NOTEBOOKS:
        nb = json.loads(path.read_text(encoding="utf-8"))
        for cell in nb["cells"]:
            if cell["cell_type"] == "code":
                assert cell["outputs"] == [] and cell["execution_count"] is None, f"{path.name} has outputs"


@pytest.fixture(scope="module")
def kernel_dir(tmp_path_factory):
    """A 'python3' kernel spec that runs this interpreter (the project's venv)."""
    root = tmp_path_factory.mktemp("jupyter")
    spec = root / "kernels" / "python3"
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Python 3 (ecosystem_sim)", "language": "python"}))
    return root


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs(path, kernel_dir, monkeypatch):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    monkeypatch.setenv("JUPYTER_PATH", str(kernel_dir))
    monkeypatch.setenv("MPLBACKEND", "Agg")
    nb = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(nb, kernel_name="python3", timeout=BUDGET_S,
                                     resources={"metadata": {"path": str(path.parent)}})
    start = time.monotonic()
    client.execute()
    took = time.monotonic() - start
    assert took < BUDGET_S, f"{path.name} took {took:.0f} s"
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])
              if o.get("output_type") == "error"]
    assert not errors
    print(f"{path.name}: {took:.0f} s")
