"""The log of changed cells (``cells.csv``), kept compact until it is written.

A choice-text export of 200,000 respondents has every answer written as a label, so every answer is
recoded and logged: tens of millions of cells.csv lines. Held as a data frame of Python strings that
log alone took more memory than the goal for the whole ingest (2 GB). :class:`CellLog` keeps each
part as the rows it concerns plus small per-value tables (the distinct labels of one column, say) and
an index into them, and writes ``cells.csv`` in chunks of rows; :meth:`CellLog.frame` builds the full
frame for callers that want it (tests, small files).

Order of the lines: by ``source_row``, then ``variable``; lines with both equal keep the order in
which their parts were added (a stable sort, as ``DataFrame.sort_values(kind="stable")`` gives).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

CELL_COLUMNS = ("source_row", "variable", "original", "new", "reason")
#: Rows of the input written per chunk of cells.csv (bounds the memory of one chunk's frame).
WRITE_CHUNK_ROWS = 10_000


@dataclass(frozen=True)
class CellPart:
    """Log lines ``k``: row ``rows[k]`` (a position in the frame read, ascending), and ``variable``,
    ``original``, ``new``, ``reason`` each ``table[pick[k]]`` (the tables are per distinct value)."""

    rows: np.ndarray
    pick: np.ndarray
    variable: np.ndarray
    original: np.ndarray
    new: np.ndarray
    reason: np.ndarray

    @classmethod
    def make(cls, rows, pick, variable, original, new, reason) -> CellPart:
        """A part from arrays or scalars (a scalar is the same for every line), sorted by row (stable)."""
        rows = np.asarray(rows, dtype=np.int64)
        pick = np.asarray(pick, dtype=np.int64)
        tables = [x for x in (variable, original, new, reason) if not isinstance(x, str)]
        width = max([len(x) for x in tables] + [int(pick.max()) + 1 if pick.size else 0])

        def table(x) -> np.ndarray:
            if isinstance(x, str):
                return np.full(width, x, dtype=object)
            return np.asarray(x, dtype=object)

        order = np.argsort(rows, kind="stable")
        return cls(rows[order], pick[order], table(variable), table(original), table(new), table(reason))

    @classmethod
    def lines(cls, rows, variable, original, new, reason) -> CellPart:
        """A part with one table entry per line (for the few lines of out-of-range codes, formulas...)."""
        n = len(rows)
        return cls.make(rows, np.arange(n), _per_line(variable, n), _per_line(original, n), _per_line(new, n),
                        _per_line(reason, n))

    def __len__(self) -> int:
        return len(self.rows)

    def slice_frame(self, lo: int, hi: int, source_row: np.ndarray) -> pd.DataFrame:
        """This part's lines whose rows are in ``[lo, hi)``, as a frame of :data:`CELL_COLUMNS`."""
        a, b = np.searchsorted(self.rows, [lo, hi])
        rows, pick = self.rows[a:b], self.pick[a:b]
        return pd.DataFrame({"source_row": source_row[rows], "variable": self.variable[pick],
                             "original": self.original[pick], "new": self.new[pick],
                             "reason": self.reason[pick]}, columns=list(CELL_COLUMNS))


def _per_line(x, n: int) -> np.ndarray:
    if isinstance(x, str):
        return np.full(n, x, dtype=object)
    return np.asarray(x, dtype=object)


@dataclass(frozen=True)
class CellLog:
    """Every changed cell of one ingest: ``parts`` over the frame's rows, ``source_row`` per frame row."""

    parts: tuple[CellPart, ...]
    source_row: np.ndarray

    def __len__(self) -> int:
        return sum(len(p) for p in self.parts)

    def _chunk(self, lo: int, hi: int) -> pd.DataFrame:
        frames = [f for p in self.parts if len(f := p.slice_frame(lo, hi, self.source_row))]
        if not frames:
            return pd.DataFrame(columns=list(CELL_COLUMNS))
        frame = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
        return frame.sort_values(["source_row", "variable"], kind="stable").reset_index(drop=True)

    def frame(self) -> pd.DataFrame:
        """All lines as one frame of :data:`CELL_COLUMNS`, in cells.csv order."""
        return self._chunk(0, len(self.source_row))

    def counts(self) -> pd.DataFrame:
        """``reason, cells, variables`` per reason (sorted by reason), without building the lines."""
        cells: dict[str, int] = {}
        variables: dict[str, set] = {}
        for p in self.parts:
            if not len(p):
                continue
            used = np.bincount(p.pick, minlength=len(p.reason))
            for k in np.flatnonzero(used):
                r = str(p.reason[k])
                cells[r] = cells.get(r, 0) + int(used[k])
                variables.setdefault(r, set()).add(str(p.variable[k]))
        return pd.DataFrame([(r, cells[r], len(variables[r])) for r in sorted(cells)],
                            columns=["reason", "cells", "variables"])

    def head(self, n: int) -> pd.DataFrame:
        """The first ``n`` lines in cells.csv order (reads only as many rows as needed)."""
        lo, step, total = 0, 256, len(self.source_row)
        out = []
        have = 0
        while lo < total and have < n:
            chunk = self._chunk(lo, min(lo + step, total))
            out.append(chunk)
            have += len(chunk)
            lo += step
            step *= 2
        frame = pd.concat(out, ignore_index=True) if out else pd.DataFrame(columns=list(CELL_COLUMNS))
        return frame.head(n).reset_index(drop=True)

    def write_csv(self, path: str | Path, to_text) -> Path:
        """Write cells.csv to ``path`` chunk by chunk of :data:`WRITE_CHUNK_ROWS` rows.

        ``to_text(frame) -> str`` formats one chunk as CSV with its header line (``pipeline.csv_text``);
        the header is written once. The bytes equal ``to_text(self.frame())``.
        """
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        total = len(self.source_row)
        with path.open("w", encoding="utf-8", newline="\n") as fh:
            fh.write(to_text(pd.DataFrame(columns=list(CELL_COLUMNS))))
            for lo in range(0, total, WRITE_CHUNK_ROWS):
                chunk = self._chunk(lo, min(lo + WRITE_CHUNK_ROWS, total))
                if len(chunk):
                    text = to_text(chunk)
                    fh.write(text[text.index("\n") + 1:])
        return path
