"""The log of changed cells (``cells.csv``), kept compact until it is written.

A choice-text export of 200,000 respondents has every answer written as a label, so every answer is
recoded and logged: 31 million cells.csv lines. Held as a data frame of Python strings that log alone
took more memory than the goal for the whole ingest (2 GB). :class:`CellLog` keeps each part as small
per-value tables (the distinct labels of one column, say) and which entry each line takes: a
:class:`ColumnPart` (one column's cells: the column's factorize codes, one byte per row, and which
distinct values are logged) or a :class:`CellPart` (the rows it concerns and an index per line, for the
few lines of out-of-range codes, formulas...). :meth:`CellLog.write_csv` streams ``cells.csv`` chunk by
chunk of rows straight from them: each table entry is formatted once as the end of a CSV line
(``variable,original,new,reason``), each row's ``source_row,`` once, and a chunk's lines are put in
order and joined once; :meth:`CellLog.frame` builds the full frame for callers that want it (tests,
small files), and ``pipeline.csv_text`` of the frame is the reference the written bytes equal.

Order of the lines: by ``source_row``, then ``variable``; lines with both equal keep the order in
which their parts were added (a stable sort, as ``DataFrame.sort_values(kind="stable")`` gives),
within each chunk of :data:`WRITE_CHUNK_ROWS` frame rows (the chunks follow each other; ingest's
``source_row`` ascends with the frame rows, so the file is sorted as a whole).
"""

from __future__ import annotations

import csv
import io
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

    def select(self, lo: int, hi: int) -> tuple[np.ndarray, np.ndarray]:
        """``(rows, pick)`` of this part's lines whose rows are in ``[lo, hi)``, rows ascending."""
        a, b = np.searchsorted(self.rows, [lo, hi])
        return self.rows[a:b], self.pick[a:b]

    def used(self) -> np.ndarray:
        """Lines per table entry."""
        return np.bincount(self.pick, minlength=len(self.reason))

    def slice_frame(self, lo: int, hi: int, source_row: np.ndarray) -> pd.DataFrame:
        """This part's lines whose rows are in ``[lo, hi)``, as a frame of :data:`CELL_COLUMNS`."""
        return _slice_frame(self, lo, hi, source_row)


@dataclass(frozen=True)
class ColumnPart:
    """The log lines of one column: row ``k`` of the frame has a line when ``logged[codes[k]]``, and its
    ``variable``, ``original``, ``new``, ``reason`` are the tables' entry ``codes[k]`` (one entry per
    distinct value of the column, as ``pandas.factorize`` numbers them). Holds one small integer per row
    instead of a row number and an index per line."""

    codes: np.ndarray
    logged: np.ndarray
    variable: np.ndarray
    original: np.ndarray
    new: np.ndarray
    reason: np.ndarray
    lines: int

    @classmethod
    def make(cls, codes, variable, original, new, reason) -> ColumnPart:
        """A part from a column's codes and per-value tables; entries whose ``reason`` is ``None`` are not
        logged (a scalar ``variable`` is the same for every entry)."""
        reason = np.asarray(reason, dtype=object)
        width = len(reason)
        codes = np.asarray(codes)
        codes = codes.astype(np.min_scalar_type(max(width - 1, 0)), copy=False)
        logged = np.array([r is not None for r in reason], dtype=bool)
        lines = int(logged[codes].sum()) if codes.size else 0
        tables = [np.full(width, x, dtype=object) if isinstance(x, str) else np.asarray(x, dtype=object)
                  for x in (variable, original, new)]
        return cls(codes, logged, *tables, reason, lines)

    def __len__(self) -> int:
        return self.lines

    def select(self, lo: int, hi: int) -> tuple[np.ndarray, np.ndarray]:
        """``(rows, pick)`` of this part's lines whose rows are in ``[lo, hi)``, rows ascending."""
        codes = self.codes[lo:hi]
        at = np.flatnonzero(self.logged[codes])
        return at + lo, codes[at].astype(np.int64)

    def used(self) -> np.ndarray:
        """Lines per table entry."""
        return np.bincount(self.codes, minlength=len(self.reason)) * self.logged

    def slice_frame(self, lo: int, hi: int, source_row: np.ndarray) -> pd.DataFrame:
        """This part's lines whose rows are in ``[lo, hi)``, as a frame of :data:`CELL_COLUMNS`."""
        return _slice_frame(self, lo, hi, source_row)


def _slice_frame(part: CellPart | ColumnPart, lo: int, hi: int, source_row: np.ndarray) -> pd.DataFrame:
    rows, pick = part.select(lo, hi)
    return pd.DataFrame({"source_row": source_row[rows], "variable": part.variable[pick],
                         "original": part.original[pick], "new": part.new[pick],
                         "reason": part.reason[pick]}, columns=list(CELL_COLUMNS))


def _per_line(x, n: int) -> np.ndarray:
    if isinstance(x, str):
        return np.full(n, x, dtype=object)
    return np.asarray(x, dtype=object)


@dataclass(frozen=True)
class CellLog:
    """Every changed cell of one ingest: ``parts`` over the frame's rows, ``source_row`` per frame row."""

    parts: tuple[CellPart | ColumnPart, ...]
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
            used = p.used()
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

    def write_csv(self, path: str | Path) -> Path:
        """Write cells.csv to ``path`` chunk by chunk of :data:`WRITE_CHUNK_ROWS` frame rows: the bytes of
        ``pipeline.csv_text`` of each chunk's frame, header once (``csv.writer``, minimal quoting, ``"\\n"``;
        missing as empty) - those of ``pipeline.csv_text(self.frame())`` when ``source_row`` ascends.

        Each table entry of each part is formatted once, as the tail of its lines
        (``variable,original,new,reason\\n``), each row's ``source_row,`` once per chunk; a chunk's lines
        are those pieces in cells.csv order, joined into one string. The order: when ``source_row``
        ascends with the rows (as ingest's does), the column parts' lines come out in order from a rows x
        parts grid of their codes (parts sorted by variable, then by their order) and the other parts'
        few lines are merged in by key; otherwise one stable ``numpy.lexsort`` by ``(source_row,
        variable)`` over the parts' lines in order.
        """
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        parts = [p for p in self.parts if len(p)]
        tails = [_tails(p) for p in parts]
        offsets = np.cumsum([0] + [len(t) for t in tails])
        tails = np.concatenate(tails) if tails else np.zeros(0, dtype=object)
        names = sorted({str(v) for p in parts for v, n in zip(p.variable, p.used()) if n and not _missing(v)})
        rank = {v: k for k, v in enumerate(names)}
        ranks = [np.array([len(names) if _missing(v) else rank.get(str(v), len(names)) for v in p.variable],
                          dtype=np.int64) for p in parts]
        total = len(self.source_row)
        ascending = total < 2 or bool((np.diff(self.source_row) > 0).all())
        layout = _Layout.make(parts, ranks, len(names)) if ascending else None
        with path.open("w", encoding="utf-8", newline="\n") as fh:
            fh.write(",".join(CELL_COLUMNS) + "\n")
            for lo in range(0, total, WRITE_CHUNK_ROWS):
                hi = min(lo + WRITE_CHUNK_ROWS, total)
                if layout is not None:
                    at, entry = layout.lines(parts, ranks, offsets, lo, hi)
                else:
                    at, entry = _sorted_lines(parts, ranks, offsets, self.source_row, lo, hi)
                if not at.size:
                    continue
                heads = _texts(self.source_row[lo:hi])
                pieces = np.empty(2 * len(at), dtype=object)
                pieces[0::2] = heads[at - lo]
                pieces[1::2] = tails[entry]
                fh.write("".join(pieces.tolist()))  # (bytes.join of small pieces is 4x slower)
        return path


def _sorted_lines(parts, ranks, offsets, source_row, lo: int, hi: int) -> tuple[np.ndarray, np.ndarray]:
    """``(rows, global table entries)`` of the lines of rows ``[lo, hi)`` in cells.csv order: a stable
    sort by ``(source_row, variable)`` of the parts' lines, parts in order."""
    rows, keys, entries = [], [], []
    for p, r, off in zip(parts, ranks, offsets):
        at, pick = p.select(lo, hi)
        if at.size:
            rows.append(at)
            keys.append(r[pick])
            entries.append(pick + off)
    if not rows:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    at = np.concatenate(rows)
    order = np.lexsort((np.concatenate(keys), source_row[at]))  # stable: ties keep the parts' order
    return at[order], np.concatenate(entries)[order]


@dataclass(frozen=True)
class _Layout:
    """How the lines of a chunk come out in order without a sort (``source_row`` ascending with the rows):
    ``grid`` the column parts of one variable each, in line order (by variable rank, then part order),
    ``keys`` their ``rank * len(parts) + part``; ``others`` every other part. A line's key is
    ``row * span + rank * len(parts) + part``: lines sort by row, variable, part as cells.csv wants."""

    grid: tuple[int, ...]
    keys: np.ndarray
    others: tuple[int, ...]
    span: int

    @classmethod
    def make(cls, parts, ranks, n_names: int) -> _Layout:
        grid, others = [], []
        for i, p in enumerate(parts):
            used = ranks[i][p.used() > 0] if isinstance(p, ColumnPart) else None
            if used is not None and len(set(used.tolist())) == 1:
                grid.append((int(used[0]) * len(parts) + i, i))
            else:
                others.append(i)
        grid.sort()
        return cls(tuple(i for _, i in grid), np.array([key for key, _ in grid], dtype=np.int64), tuple(others),
                   (n_names + 1) * max(len(parts), 1))

    def lines(self, parts, ranks, offsets, lo: int, hi: int) -> tuple[np.ndarray, np.ndarray]:
        """``(rows, global table entries)`` of the lines of rows ``[lo, hi)`` in cells.csv order."""
        if self.grid:
            entries = np.empty((hi - lo, len(self.grid)), dtype=np.int64)
            logged = np.empty((hi - lo, len(self.grid)), dtype=bool)
            for k, i in enumerate(self.grid):
                codes = parts[i].codes[lo:hi]
                entries[:, k] = codes
                entries[:, k] += offsets[i]
                logged[:, k] = parts[i].logged[codes]
            row, k = np.nonzero(logged)  # row by row, the parts in line order within a row
            at, entry = row + lo, entries[row, k]
        else:
            row = k = at = entry = np.zeros(0, dtype=np.int64)
        if not self.others:
            return at, entry
        rows, keys, more = [], [], []
        for i in self.others:
            a, pick = parts[i].select(lo, hi)
            rows.append(a)
            keys.append((a - lo) * self.span + ranks[i][pick] * len(parts) + i)
            more.append(pick + offsets[i])
        key = np.concatenate(keys)
        if not key.size:
            return at, entry
        order = np.argsort(key, kind="stable")  # a part's lines of one row and variable keep their order
        where = np.searchsorted(row * self.span + self.keys[k], key[order])  # keys of two parts never tie
        return (np.insert(at, where, np.concatenate(rows)[order]),
                np.insert(entry, where, np.concatenate(more)[order]))


def _missing(x) -> bool:
    """Whether a table entry is missing (written empty, as ``pandas.factorize`` leaves it out)."""
    return x is None or (pd.api.types.is_scalar(x) and bool(pd.isna(x)))


def _texts(values: np.ndarray) -> np.ndarray:
    """``values`` as ``pipeline.csv_text`` writes a column of them (floats as numpy prints them), each
    followed by the field separator."""
    values = np.asarray(values)
    if values.dtype.kind == "f":
        texts = ["" if np.isnan(x) else t for x, t in zip(values, values.astype(str), strict=True)]
    else:
        texts = [str(x) for x in values]
    out = np.empty(len(texts), dtype=object)
    out[:] = [t + "," for t in texts]
    return out


def _tails(part: CellPart | ColumnPart) -> np.ndarray:
    """Per table entry of ``part``: ``variable,original,new,reason`` and the line end, as ``csv.writer``
    (minimal quoting) writes those fields; a missing entry (``None``, NaN) is empty."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
    out = []
    for entry in zip(part.variable, part.original, part.new, part.reason):
        buf.seek(0)
        buf.truncate()
        writer.writerow(["" if _missing(x) else str(x) for x in entry])
        out.append(buf.getvalue())
    tails = np.empty(len(out), dtype=object)
    tails[:] = out
    return tails
