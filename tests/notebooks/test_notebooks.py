"""Every notebook executes top to bottom in its small mode (papermill parameters), and is stored
without outputs."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

pytestmark = pytest.mark.slow  # about 90 s: runs after the fast tests (make test)

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"
SMALL = {
    "01_instrument": {},
    "02_synthetic_data": {"N": 1500, "SMALL": True},
    "03_measurement": {"N": 400, "SMALL": True},
    "04_propositions": {"N": 400, "N_BOOT": 50, "SMALL": True, "N_TRUTH": 20_000},
    "05_bring_your_own_data": {"N_BOOT": 30, "MODULES": "M4", "SMALL": True},
}


def test_every_notebook_has_a_small_mode():
    assert sorted(p.stem for p in NOTEBOOKS.glob("*.ipynb")) == sorted(SMALL)


@pytest.mark.parametrize("name", sorted(SMALL))
def test_notebook_is_stored_without_outputs_and_has_a_parameters_cell(name):
    book = nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)
    code = [c for c in book.cells if c.cell_type == "code"]
    assert all(not c.outputs and c.execution_count is None for c in code), "strip the outputs (make strip)"
    assert "parameters" in code[0].metadata.get("tags", []), "the first code cell must be the parameters cell"
    assert book.cells[0].cell_type == "markdown"


@pytest.mark.parametrize("name", sorted(SMALL))
def test_notebook_executes(name, tmp_path):
    import papermill as pm

    params = {**SMALL[name], "OUT_DIR": str(tmp_path / "out")}
    pm.execute_notebook(str(NOTEBOOKS / f"{name}.ipynb"), str(tmp_path / f"{name}.ipynb"), parameters=params,
                        kernel_name="python3", cwd=str(tmp_path), progress_bar=False)
    done = nbformat.read(tmp_path / f"{name}.ipynb", as_version=4)
    errors = [o for c in done.cells if c.cell_type == "code" for o in c.get("outputs", [])
              if o.get("output_type") == "error"]
    assert errors == []
