"""The compact cells.csv log: the same lines, order and bytes as one sorted data frame.

Both kinds of part (per-line :class:`CellPart`, per-column :class:`ColumnPart`) and both orders of the
writer (``source_row`` ascending: the rows x parts grid; otherwise a lexsort) are checked against the
frame built the way ingest built it before the log was compact."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.ingest import cell_log
from analysis.ingest.cell_log import CELL_COLUMNS, CellLog, CellPart, ColumnPart
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


def reference_csv(log: CellLog) -> str:
    """cells.csv as the writer before the streamed one wrote it: a frame per chunk of rows, stable-sorted
    by (source_row, variable), through ``csv_text``."""
    text = csv_text(pd.DataFrame(columns=list(CELL_COLUMNS)))
    for lo in range(0, len(log.source_row), cell_log.WRITE_CHUNK_ROWS):
        chunk = log._chunk(lo, min(lo + cell_log.WRITE_CHUNK_ROWS, len(log.source_row)))
        if len(chunk):
            part = csv_text(chunk)
            text += part[part.index("\n") + 1:]
    return text


def _column_parts_and_expected(n_rows: int = 3_000, seed: int = 5, ascending: bool = True):
    """Column parts as ingest makes them (a column's codes; entries without a reason not logged), two of
    one variable (a recode and a later fix of the same cells), one whose variable differs per entry, in a
    variable order that is not sorted, with per-line parts (repeated rows, awkward text) among them; and
    the frame the log must equal."""
    rng = np.random.default_rng(seed)
    source_row = np.arange(n_rows) + 4 if ascending else rng.permutation(n_rows) + 4
    labels = np.array(["Agree", 'Say "yes", twice', "Strongly\nagree", "", "N/A"], dtype=object)
    parts, frames = [], []

    def add_column(variable, reason, new):
        codes = rng.integers(0, len(labels), size=n_rows)
        parts.append(ColumnPart.make(codes, variable, labels, new, reason))
        var = np.full(len(labels), variable, dtype=object) if isinstance(variable, str) else np.asarray(variable)
        rows = np.flatnonzero(np.array([r is not None for r in reason])[codes])
        frames.append(pd.DataFrame({"source_row": source_row[rows], "variable": var[codes[rows]],
                                    "original": labels[codes[rows]], "new": np.asarray(new, dtype=object)[codes[rows]],
                                    "reason": np.asarray(reason, dtype=object)[codes[rows]]}))

    recoded = ["label recoded", "label recoded", "label recoded", None, "missing marker"]
    add_column("tk_2", recoded, ["5", "3", "7", "", ""])
    add_column("mk_1", recoded, ["5", "3", "7", "", ""])
    rows = rng.choice(n_rows, size=60, replace=True)  # per-line part between the column parts
    variables = rng.choice(["tk_2", "firm_founded", "zz"], size=60)
    originals = [f"{k}" if k % 3 else f'="{k}",x' for k in range(60)]
    parts.append(CellPart.lines(rows, variables, originals, "", "out of range set missing"))
    frames.append(pd.DataFrame({"source_row": source_row[rows], "variable": variables, "original": originals,
                                "new": "", "reason": "out of range set missing"}))
    add_column("tk_2", [None, "text in numeric item", None, None, None], ["", "", "", "", ""])
    add_column(np.array(["aa", "tk_2", "aa", "b", "b"], dtype=object), recoded, [np.nan, "3", None, "", "x"])
    add_column("b_1", [None] * 5, [""] * 5)  # nothing logged
    expected = pd.concat(frames, ignore_index=True).sort_values(["source_row", "variable"], kind="stable")
    return CellLog(tuple(parts), source_row), expected.reset_index(drop=True)[list(CELL_COLUMNS)]


@pytest.mark.parametrize("ascending", [True, False])
@pytest.mark.parametrize("chunk", [10_000, 257])
def test_column_parts_write_the_frames_bytes(tmp_path, monkeypatch, ascending, chunk):
    log, expected = _column_parts_and_expected(ascending=ascending)
    monkeypatch.setattr(cell_log, "WRITE_CHUNK_ROWS", chunk)
    got = log.frame()
    assert len(log) == len(expected) == len(got)
    if ascending or chunk >= len(log.source_row):  # chunks are sorted one by one, as before
        pd.testing.assert_frame_equal(got.astype(str), expected.astype(str))
    path = log.write_csv(tmp_path / "cells.csv")
    assert path.read_bytes() == reference_csv(log).encode("utf-8")
    if ascending:
        assert path.read_bytes() == csv_text(got).encode("utf-8")
    counts = log.counts().set_index("reason")
    g = expected.groupby("reason")
    assert counts["cells"].to_dict() == g.size().to_dict()
    assert counts["variables"].to_dict() == g["variable"].nunique().to_dict()


def test_a_column_part_holds_a_small_integer_per_row():
    part = ColumnPart.make(np.array([0, 2, 1, 2, 3]), "tk_1", ["a", "b", "c", ""], ["1", "2", "3", ""],
                           ["label recoded", None, "label recoded", None])
    assert part.codes.dtype == np.uint8 and len(part) == 3  # rows 0, 1, 3: codes 0, 2, 2
    rows, pick = part.select(1, 5)
    assert rows.tolist() == [1, 3] and pick.tolist() == [2, 2]
    assert part.used().tolist() == [1, 0, 2, 0]


def test_frame_equals_every_line_sorted_stably():
    log, expected = _parts_and_expected()
    got = log.frame()
    assert len(log) == len(expected) == len(got)
    pd.testing.assert_frame_equal(got.astype(str), expected.astype(str))


def test_written_csv_equals_the_whole_frame_across_chunk_boundaries(tmp_path, monkeypatch):
    log, expected = _parts_and_expected()
    monkeypatch.setattr(cell_log, "WRITE_CHUNK_ROWS", 333)  # chunks end inside runs of one row's lines
    path = log.write_csv(tmp_path / "cells.csv")
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
    path = log.write_csv(tmp_path / "cells.csv")
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
