"""The compact cells.csv log: the same lines, order and bytes as one sorted data frame."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.ingest import cell_log
from analysis.ingest.cell_log import CELL_COLUMNS, CellLog, CellPart
from analysis.ingest.pipeline import csv_text


def _parts_and_expected(n_rows: int = 2_000, seed: int = 3):
    """Random parts, and the frame the log must equal: every line written out, concatenated in part
    order, stable-sorted by (source_row, variable) - what ingest built before the log was compact."""
    rng = np.random.default_rng(seed)
    source_row = np.arange(n_rows) + 5  # e.g. three header rows and a title row above the data
    parts, frames = [], []
    for var in ("tk_2", "tk_1", "mkt_1"):  # label recodes: distinct values in a table, an index per line
        labels = np.array(["Agree", "Disagree", "Strongly agree", ""], dtype=object)
        codes = np.array(["5", "3", "7", ""], dtype=object)
        reason = np.array(["label recoded", "label recoded", "label recoded", None], dtype=object)
        rows = np.sort(rng.choice(n_rows, size=n_rows // 2, replace=False))
        pick = rng.integers(0, 3, size=len(rows))
        parts.append(CellPart.make(rows, pick, var, labels, codes, reason))
        frames.append(pd.DataFrame({"source_row": source_row[rows], "variable": var, "original": labels[pick],
                                    "new": codes[pick], "reason": reason[pick]}))
    rows = rng.choice(n_rows, size=40, replace=True)  # unsorted rows, repeated rows, per-line variables
    variables = rng.choice(["tk_1", "firm_founded"], size=40)
    parts.append(CellPart.lines(rows, variables, [f"{k}" for k in range(40)], "", "out of range set missing"))
    frames.append(pd.DataFrame({"source_row": source_row[rows], "variable": variables,
                                "original": [f"{k}" for k in range(40)], "new": "",
                                "reason": "out of range set missing"}))
    expected = pd.concat(frames, ignore_index=True).sort_values(["source_row", "variable"], kind="stable")
    return CellLog(tuple(parts), source_row), expected.reset_index(drop=True)[list(CELL_COLUMNS)]


def test_frame_equals_every_line_sorted_stably():
    log, expected = _parts_and_expected()
    got = log.frame()
    assert len(log) == len(expected) == len(got)
    pd.testing.assert_frame_equal(got.astype(str), expected.astype(str))


def test_written_csv_equals_the_whole_frame_across_chunk_boundaries(tmp_path, monkeypatch):
    log, expected = _parts_and_expected()
    monkeypatch.setattr(cell_log, "WRITE_CHUNK_ROWS", 333)  # chunks end inside runs of one row's lines
    path = log.write_csv(tmp_path / "cells.csv", csv_text)
    assert path.read_text(encoding="utf-8") == csv_text(expected)


def test_counts_and_head_without_building_the_lines():
    log, expected = _parts_and_expected()
    counts = log.counts().set_index("reason")
    g = expected.groupby("reason")
    assert counts["cells"].to_dict() == g.size().to_dict()
    assert counts["variables"].to_dict() == g["variable"].nunique().to_dict()
    pd.testing.assert_frame_equal(log.head(25).astype(str), expected.head(25).astype(str))


def test_an_empty_log_writes_the_header_only(tmp_path):
    log = CellLog((), np.arange(1, 4))
    assert len(log) == 0 and log.counts().empty and log.frame().empty
    path = log.write_csv(tmp_path / "cells.csv", csv_text)
    assert path.read_text(encoding="utf-8") == ",".join(CELL_COLUMNS) + "\n"


@pytest.mark.parametrize("labels", [False, True])
def test_ingest_writes_cells_csv_equal_to_its_frame(tmp_path, labels):
    from analysis.ingest.pipeline import ingest
    from synthetic_data.generate import generate
    from synthetic_data.writers import write_data

    gen = generate(n=120, seed=9)
    raw = tmp_path / "qualtrics.csv"
    write_data(gen, raw, "qualtrics", labels=labels)
    res = ingest(raw, tmp_path / "out")
    written = (tmp_path / "out" / "cells.csv").read_text(encoding="utf-8")
    assert written == csv_text(res.cells)
    assert ("label recoded" in set(res.cells["reason"])) == labels
