"""Notebook chores: ``python tools/notebooks.py docs OUT`` executes every notebook with its default
parameters (papermill) and writes the executed notebooks and their HTML into OUT;
``python tools/notebooks.py strip`` removes outputs and execution counts from the notebooks in git.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import nbformat

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"


def strip() -> list[Path]:
    changed = []
    for path in sorted(NOTEBOOKS.glob("*.ipynb")):
        book = nbformat.read(path, as_version=4)
        dirty = False
        for cell in book.cells:
            if cell.cell_type == "code" and (cell.outputs or cell.execution_count is not None):
                cell.outputs, cell.execution_count, dirty = [], None, True
        if dirty:
            nbformat.write(book, path)
            changed.append(path)
    return changed


def docs(out: Path) -> list[Path]:
    import papermill as pm
    from nbconvert import HTMLExporter

    out.mkdir(parents=True, exist_ok=True)
    exporter = HTMLExporter()
    written = []
    for path in sorted(NOTEBOOKS.glob("*.ipynb")):
        t0 = time.perf_counter()
        executed = out / path.name
        pm.execute_notebook(str(path), str(executed), kernel_name="python3", cwd=str(out), progress_bar=False,
                            parameters={"OUT_DIR": str(out / path.stem)})
        body, _ = exporter.from_notebook_node(nbformat.read(executed, as_version=4))
        html = out / f"{path.stem}.html"
        html.write_text(body, encoding="utf-8")
        written += [executed, html]
        print(f"{path.name}: {time.perf_counter() - t0:.0f} s -> {html}", flush=True)
    return written


if __name__ == "__main__":
    if len(sys.argv) >= 2 and sys.argv[1] == "strip":
        for p in strip():
            print(f"stripped {p}")
    elif len(sys.argv) == 3 and sys.argv[1] == "docs":
        docs(Path(sys.argv[2]))
    else:
        sys.exit(__doc__)
