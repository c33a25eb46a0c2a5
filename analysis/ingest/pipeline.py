"""``ingest``: any supported response file -> the codebook layout, with a log of every row and changed cell.

Steps (each a small function below):
0. options checked, input hashed;  1. read by its platform module (:mod:`.detect`); a construct only
partly present is an error (:func:`_check_constructs`); each column factorized once, the text cells
dropped as it is (:func:`_factorize_columns`);  2. rows (:func:`_row_reasons`): rows the
platform marks as not real responses (previews, tests, spam), empty rows and repeated respondent ids
excluded;  3. cells (:func:`_clean_cells`): labels recoded, missing markers ("N/A", "-", ...), platform
missing codes and codes declared missing for one variable, text and codes the codebook does not allow
(:mod:`.schema`) set missing, impossible profile answers;  4. duplicate submissions (the same answers as
an earlier row under another id) excluded (:func:`_duplicate_submissions`);  5. privacy: identifier
columns dropped, ids pseudonymised;  6. formula-looking text escaped;  7. page times (when the export has page timers, see
:attr:`RawResponses.pages`) of the kept rows, ids pseudonymised as in the responses.
``strict=True`` raises :class:`DataError` at the first problem instead (file, row, column, value).

Cells are classified per distinct value of a column, not per cell (``pandas.factorize``, then one
decision per distinct value looked up for every cell): survey columns hold a handful of distinct
values, so a 200,000-respondent export costs a few hundred decisions per column instead of 200,000.
Memory stays near the size of the codes and the float frame (benchmarks/ingest_speed.py): the text
cells are freed column by column once factorized, the cells log keeps one small integer per row and
column (:class:`~analysis.ingest.cell_log.ColumnPart`), and every CSV is written in chunks of rows.
"""

from __future__ import annotations

import csv
import hashlib
import io
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.ingest.cell_log import CELL_COLUMNS, CellLog, CellPart, ColumnPart  # noqa: F401 (CELL_COLUMNS re-exported)
from analysis.ingest.detect import read_raw
from analysis.ingest.privacy import load_key, pseudonymise
from analysis.ingest.recode import label_map, recode_value
from analysis.ingest.schema import failures
from instrument.model import MISSING_CODE, MISSING_MARKERS, Instrument
from instrument.platforms.base import EXCLUDE_META, RawResponses
from instrument.platforms.tables import release_unused_memory
from smecore import jsonio
from smecore.csvsafe import is_formula, safe_frame
from smecore.errors import DataError
from smecore.files import write_text
from smecore.provenance import package_versions

ROW_COLUMNS = ("source_row", "respondent", "status", "reasons")
DEFAULT_MISSING = (str(MISSING_CODE),)
#: A row whose answers equal an earlier row's is a duplicate submission only when it answered at least
#: this many questionnaire items (fewer equal answers are too likely by chance, e.g. two early drop-outs).
DUPLICATE_MIN_ANSWERED = 10
_MARKERS = frozenset(m.casefold() for m in MISSING_MARKERS)
#: cells.csv reasons that are problems (``strict=True`` stops at them); "label recoded" is not
_PROBLEM = frozenset({"platform missing code", "declared missing code", "missing marker", "text in numeric item"})
#: Columns converted between returns of freed Arrow memory to the system (:func:`_clean_cells`).
RELEASE_EVERY = 16
#: Rows per chunk when a frame is written as CSV (:func:`write_csv`).
WRITE_CHUNK_ROWS = 20_000


@dataclass(frozen=True)
class IngestResult:
    """``responses``: codebook layout (codes, NaN missing), one row per kept respondent; ``rows``:
    :data:`ROW_COLUMNS` per data row read; ``cell_log``: every changed cell, compact
    (:class:`~analysis.ingest.cell_log.CellLog`; :attr:`cells` is it as a frame of :data:`CELL_COLUMNS`);
    ``provenance``: input hash, format, options, versions, dropped identifiers, ``page_timers``;
    ``pages``: seconds per kept respondent (the rows of ``responses``, ``respondent_id`` pseudonymised as
    there) and page (one column per page id), ``None`` when the export has no page timers."""

    responses: pd.DataFrame
    rows: pd.DataFrame
    cell_log: CellLog
    provenance: dict
    pages: pd.DataFrame | None = None

    @cached_property
    def cells(self) -> pd.DataFrame:
        """:data:`CELL_COLUMNS` per changed cell, in cells.csv order (built on first use: a choice-text
        export of 200,000 respondents has tens of millions; :attr:`cell_log` counts and writes them
        without this frame)."""
        return self.cell_log.frame()

    def write(self, out: str | Path) -> list[Path]:
        """Write responses.csv, rows.csv, cells.csv, provenance.json and (when the export has page timers)
        pages.csv into ``out``; return the paths."""
        out = Path(out)
        paths = [write_csv(self.responses, out / "responses.csv"),
                 write_csv(safe_frame(self.rows), out / "rows.csv"),  # ids kept by --keep-identifiers
                 self.cell_log.write_csv(out / "cells.csv"),
                 write_text(out / "provenance.json", jsonio.dumps(self.provenance))]
        if self.pages is not None:
            paths.append(write_csv(self.pages, out / "pages.csv"))
        return paths


def _formatted_values(col: pd.Series) -> tuple[np.ndarray, list[str]]:
    """``(codes, texts)``: ``col``'s distinct values as ``DataFrame.to_csv`` writes them (floats as numpy
    prints them, ``7.0``), then ``""`` for missing cells, and each cell's index into them."""
    codes, values = _factorize(col)
    if pd.api.types.is_float_dtype(col.dtype):
        texts = np.asarray(values, dtype=np.float64).astype(str).tolist() if values else []
    else:
        texts = [str(x) for x in values]
    return codes, texts + [""]


def _formatted(col: pd.Series) -> np.ndarray:
    """``col``'s cells as ``DataFrame.to_csv`` writes them (floats as numpy prints them, ``7.0``; missing
    as ``""``), formatted once per distinct value and looked up for every cell."""
    codes, texts = _formatted_values(col)
    return np.array(texts, dtype=object)[codes]


def csv_text(frame: pd.DataFrame) -> str:
    """``frame.to_csv(index=False, lineterminator="\\n")``, byte for byte, in a fraction of its time.

    Hand-written because pandas formats every float cell on its own (numpy's ``astype(str)`` over the whole
    block), which takes tens of seconds for a 200,000-respondent file; here each column's distinct values
    are formatted once and the rows go through the same ``csv.writer`` (minimal quoting) pandas uses.
    Columns must be float, integer, bool or object/str (what ingest writes).
    """
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow([str(c) for c in frame.columns])
    if len(frame):
        writer.writerows(zip(*(_formatted(frame[c]) for c in frame.columns)))
    return buf.getvalue()


class _Fields:
    """A text as ``csv.writer`` (minimal quoting) writes it as one field of a row (quoted when it holds a
    delimiter, quote or line break; the writer itself decides those)."""

    _SPECIAL = frozenset(',"\r\n')

    def __init__(self) -> None:
        self._buf = io.StringIO()
        self._writer = csv.writer(self._buf, lineterminator="\n", quoting=csv.QUOTE_MINIMAL)

    def __call__(self, text: str) -> str:
        if self._SPECIAL.isdisjoint(text):
            return text
        self._buf.seek(0)
        self._buf.truncate()
        self._writer.writerow([text, ""])  # a second field: a lone empty field would be written '""'
        return self._buf.getvalue()[:-2]


def write_csv(frame: pd.DataFrame, path: str | Path) -> Path:
    """Write ``csv_text(frame)`` to ``path`` (UTF-8, creating the folder), :data:`WRITE_CHUNK_ROWS` rows at
    a time, without a Python string per cell.

    Per chunk and column, each distinct value is formatted once (:func:`_formatted_values`) as its CSV
    field (:class:`_Fields`, the last column's with the line end), taken for every row into an Arrow
    string array, and the columns joined row by row with ``,`` (``pyarrow.compute.binary_join_element_wise``);
    the joined lines' bytes are written as they are. A row's text does not depend on the other rows, so
    the bytes equal ``csv_text(frame)`` (tests/analysis/ingest/test_ingest_bytes.py); a frame of fewer
    than two columns goes through :func:`csv_text` (a lone empty field is written ``""``).
    """
    path = Path(path)
    if frame.shape[1] < 2:
        return write_text(path, csv_text(frame))
    import pyarrow as pa
    import pyarrow.compute as pc

    path.parent.mkdir(parents=True, exist_ok=True)
    field = _Fields()
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n", quoting=csv.QUOTE_MINIMAL).writerow([str(c) for c in frame.columns])
    last = frame.shape[1] - 1
    with path.open("wb") as fh:
        fh.write(buf.getvalue().encode("utf-8"))
        for lo in range(0, len(frame), WRITE_CHUNK_ROWS):
            chunk = frame.iloc[lo:lo + WRITE_CHUNK_ROWS]
            columns = []
            for j in range(chunk.shape[1]):
                codes, texts = _formatted_values(chunk.iloc[:, j])
                fields = [field(t) + "\n" if j == last else field(t) for t in texts]
                columns.append(pa.array(fields, type=pa.large_string()).take(pa.array(codes)))
            lines = pc.binary_join_element_wise(*columns, pa.scalar(",", type=pa.large_string()))
            del columns
            offsets = np.frombuffer(lines.buffers()[1], dtype=np.int64, count=len(lines) + 1, offset=8 * lines.offset)
            fh.write(memoryview(lines.buffers()[2])[offsets[0]:offsets[-1]])
    return path


def _problem(strict: bool, path: Path, row: int, column: str, value, what: str) -> None:
    if strict:
        raise DataError(f"{path}: row {row}: column '{column}': value {value!r}: {what}; fix the file or "
                        "run without --strict to set it missing and log it")


def _factorize(col: pd.Series) -> tuple[np.ndarray, list]:
    """``(codes, distinct values)`` of ``col``; missing cells get code ``len(values)`` (one past the end),
    so per-value arrays with one extra last entry for "missing" can be indexed by ``codes`` directly."""
    codes, uniques = pd.factorize(col, use_na_sentinel=True)
    values = list(uniques)
    codes = np.where(codes < 0, len(values), codes)
    return codes, values


def _cell_text(x) -> str:
    """A cell as written: whole floats (sav / dta numbers) without ``.0``, surrounding whitespace off."""
    if pd.isna(x):
        return ""
    return (str(int(x)) if isinstance(x, float) and float(x).is_integer() else str(x)).strip()


def _check_constructs(raw: RawResponses, instrument: Instrument, path: Path) -> None:
    """Step 1b: :class:`DataError` when some but not all items of a construct are columns of the file
    (its scores would silently rest on fewer items); a construct with none is simply not fielded."""
    for cid, present, absent in instrument.partial_constructs(raw.data.columns):
        if absent:
            raise DataError(f"{path}: construct {cid} is only partly in the file: columns {', '.join(absent)} "
                            f"missing (found {', '.join(present)}); add the missing columns (empty where not "
                            f"asked) or remove all of {cid}'s columns so that it counts as not fielded")


def _factorize_columns(data: pd.DataFrame) -> dict[str, tuple[np.ndarray, list]]:
    """Step 1c: each column of ``data`` as :func:`_factorize` gives it, codes in the smallest unsigned
    integer type (steps 2 and 3 work on these). Empties ``data`` (its index stays): each column is dropped
    once factorized and the freed Arrow memory returned, so the text cells (about 1 GB for a
    200,000-respondent choice-text export) are not held beside the codes and the frame made of them."""
    out: dict[str, tuple[np.ndarray, list]] = {}
    for k, c in enumerate(list(data.columns)):
        codes, values = _factorize(data.pop(c))
        out[c] = (codes.astype(np.min_scalar_type(len(values)), copy=False), values)
        if k % RELEASE_EVERY == RELEASE_EVERY - 1:
            release_unused_memory()
    release_unused_memory()
    return out


def _row_reasons(raw: RawResponses, columns: dict[str, tuple[np.ndarray, list]], path: Path, strict: bool
                 ) -> list[list[str]]:
    """Step 2: per row, the reasons to exclude it known before its cells are read: the platform's own
    (``meta["exclude"]``: previews, tests, spam), an empty row, a respondent id seen in an earlier row.
    ``columns``: the data's columns factorized (:func:`_factorize_columns`)."""
    n = len(raw.data)
    reasons: list[list[str]] = [[] for _ in range(n)]
    blank = np.ones(n, dtype=bool)
    for codes, values in columns.values():  # a row is empty when every cell is missing or whitespace
        blank &= np.array([_cell_text(x) == "" for x in values] + [True])[codes]
    platform = (raw.meta[EXCLUDE_META].fillna("").astype(str).tolist() if EXCLUDE_META in raw.meta.columns
                else [""] * n)
    ids = raw.meta["respondent"].fillna("").astype(str).tolist()
    sources = [int(s) for s in raw.source_row]
    seen: dict[str, int] = {}
    for i in range(n):
        src, rid = sources[i], ids[i]
        if platform[i]:
            _problem(strict, path, src, "(row)", rid, platform[i])
            reasons[i].append(platform[i])
        if blank[i] and not rid:
            _problem(strict, path, src, "(all)", "", "empty row")
            reasons[i].append("empty row")
        elif rid and rid in seen:
            _problem(strict, path, src, "respondent_id", rid, f"repeats source row {seen[rid]}")
            reasons[i].append(f"duplicate respondent id (first in source row {seen[rid]})")
        elif rid and not reasons[i]:
            seen[rid] = src
    return reasons


def _classify(text: str, labels: dict[str, int], missing: set[str], declared: set[str]
              ) -> tuple[float, str | None, str]:
    """One written value of a numeric item -> ``(code or NaN, cells.csv reason or None, new text)``."""
    if text == "":
        return np.nan, None, ""
    if text in missing:
        return np.nan, "platform missing code", ""
    if text in declared:
        return np.nan, "declared missing code", ""
    if text.casefold() in _MARKERS:
        return np.nan, "missing marker", ""
    code, was_label = (recode_value(text, labels) if labels else (None, False))
    if code is None and not labels:
        num = pd.to_numeric(text.replace(",", "."), errors="coerce")  # decimal comma in numbers
        code = None if pd.isna(num) else float(num)
    if code is None:
        return np.nan, "text in numeric item", ""
    if was_label:
        return float(code), "label recoded", str(code)
    return float(code), None, ""


def _clean_cells(raw: RawResponses, columns: dict[str, tuple[np.ndarray, list]], instrument: Instrument,
                 path: Path, strict: bool) -> tuple[pd.DataFrame, list[CellPart | ColumnPart]]:
    """Step 3: numeric questionnaire variables to float codes; text variables as str.

    ``columns``: the data's columns factorized (:func:`_factorize_columns`; those converted are removed
    from it). Returns the frame and the cells log as parts (in the order: one per variable, then
    out-of-range cells, then impossible profile answers); a variable's part holds its distinct values
    once and the column's codes. The numeric codes go straight into the frame's one float block (filled
    row by row; no copy when the frame is made).
    """
    missing = set(DEFAULT_MISSING) | set(raw.missing_codes)
    source_row = np.asarray(raw.source_row).astype(int)
    variables = [v for v in instrument.variables(paradata=False) if v.name in columns]
    numeric = [v.name for v in variables if v.type != "text"]
    index = raw.data.index
    block = np.empty((len(numeric), len(index)), dtype=float)  # row k: the codes of numeric[k]
    row_of = {name: k for k, name in enumerate(numeric)}
    text_columns: dict[str, pd.Series] = {}
    log: list[CellPart | ColumnPart] = []
    for v in variables:
        codes, values = columns.pop(v.name)
        if v.type == "text":
            texts = [np.nan if _cell_text(x) == "" else str(x) for x in values] + [np.nan]
            text_columns[v.name] = pd.Series(np.array(texts, dtype=object)[codes], index=index, dtype=object)
            continue
        labels = label_map(instrument, v)
        declared = set(raw.missing_by_variable.get(v.name, ()))
        texts = [_cell_text(x) for x in values]
        decided = [_classify(t, labels, missing, declared) for t in texts] + [(np.nan, None, "")]
        block[row_of[v.name]] = np.array([d[0] for d in decided], dtype=float)[codes]
        reason_u = np.array([d[1] for d in decided], dtype=object)
        if not any(r is not None for r in reason_u):
            continue
        if strict:
            bad = np.array([r in _PROBLEM for r in reason_u])[codes]
            if bad.any():
                first = int(np.flatnonzero(bad)[0])
                _problem(strict, path, int(source_row[first]), v.name, texts[codes[first]], reason_u[codes[first]])
        log.append(ColumnPart.make(codes, v.name, texts + [""], [d[2] for d in decided], reason_u))
    frame = pd.DataFrame(block.T, index=index, columns=numeric, copy=False)
    del block
    for k, v in enumerate(variables):  # text variables in their places (their own blocks; no copy)
        if v.name in text_columns:
            frame.insert(k, v.name, text_columns.pop(v.name))
    fails = failures(frame[numeric], instrument)
    if len(fails):
        idx = fails["index"].to_numpy(dtype=int)
        first = fails.iloc[0]
        _problem(strict, path, int(source_row[idx[0]]), first["variable"], first["value"],
                 f"out of range ({first['check']})")
        log.append(CellPart.lines(idx, fails["variable"].to_numpy(), [f"{x:g}" for x in fails["value"]], "",
                                  [f"out of range set missing ({c})" for c in fails["check"]]))
        for var, group in fails.groupby("variable", sort=False):
            frame.loc[group["index"].to_numpy(dtype=int), var] = np.nan
    if {"firm_founded", "firm_first_foreign_sale"} <= set(frame.columns):
        bad = np.flatnonzero((frame["firm_first_foreign_sale"] < frame["firm_founded"]).to_numpy())
        if bad.size:
            vals = frame["firm_first_foreign_sale"].to_numpy()[bad]
            _problem(strict, path, int(source_row[bad[0]]), "firm_first_foreign_sale", vals[0],
                     "first foreign sale before founding")
            log.append(CellPart.lines(bad, "firm_first_foreign_sale", [f"{x:g}" for x in vals], "",
                                      "impossible: first foreign sale before the firm was founded"))
            frame.iloc[bad, frame.columns.get_loc("firm_first_foreign_sale")] = np.nan
    return frame, log


def _duplicate_submissions(frame: pd.DataFrame, reasons: list[list[str]], source_row: np.ndarray, path: Path,
                           strict: bool) -> None:
    """Step 4: a row not yet excluded whose answers to every questionnaire item (codes after step 3,
    missing equal to missing) equal an earlier such row's and that answered at least
    :data:`DUPLICATE_MIN_ANSWERED` items: excluded naming that earlier row (``reasons`` updated in place).

    Rows are compared through a hash of their values (``pandas.util.hash_pandas_object``) and a hash match
    is confirmed value by value, so a hash collision cannot exclude a row.
    """
    if frame.shape[1] == 0 or len(frame) == 0:
        return
    eligible = np.array([not r for r in reasons]) & (frame.notna().sum(axis=1).to_numpy() >= DUPLICATE_MIN_ANSWERED)
    if not eligible.any():
        return
    hashes = pd.util.hash_pandas_object(frame, index=False).to_numpy()
    first: dict[int, int] = {}
    for i in np.flatnonzero(eligible):
        j = first.setdefault(int(hashes[i]), int(i))
        if j == i:
            continue
        a, b = frame.iloc[i], frame.iloc[j]
        if not ((a == b) | (a.isna() & b.isna())).all():
            continue
        src, orig = int(source_row[i]), int(source_row[j])
        _problem(strict, path, src, "(all)", f"same answers as source row {orig}", "duplicate submission")
        reasons[i].append(f"duplicate submission (same answers as source row {orig})")


def _escape_formulas(frame: pd.DataFrame) -> list[CellPart]:
    """Step 6: text a spreadsheet would run as a formula gets a leading ``'`` (in place); their log."""
    logs = []
    for c in frame.columns:
        if pd.api.types.is_numeric_dtype(frame[c]):
            continue
        codes, values = _factorize(frame[c])
        hit = np.array([is_formula(x) for x in values] + [False])
        rows = np.flatnonzero(hit[codes])
        if rows.size == 0:
            continue
        original = np.array(values + [""], dtype=object)[codes[rows]]
        escaped = np.array(["'" + x for x in original], dtype=object)
        logs.append(CellPart.lines(rows, c, original, escaped, "formula escaped"))
        col = frame[c].to_numpy(dtype=object).copy()
        col[rows] = escaped
        frame[c] = col
    return logs


def _page_timers(raw: RawResponses) -> dict:
    """Provenance of the page times: ``{"columns": {page: export column}}`` or ``{"note": why none}``."""
    if raw.pages is not None:
        return {"columns": dict(raw.details.get("page_timers", {}))}
    return {"note": str(raw.details.get("page_timers_note", f"the {raw.format} reader reads no page timers"))}


def ingest(path: str | Path, out: str | Path | None = None, *, format: str = "auto", strict: bool = False,
           key: str | Path | None = None, keep_identifiers: bool = False,
           instrument: Instrument | None = None) -> IngestResult:
    """Read ``path`` (never modified) into the codebook layout; write the outputs into ``out`` when given.

    ``key``: a key file for the pseudonyms (default: a random key, never stored).
    """
    if instrument is None:
        from instrument import load_instrument

        instrument = load_instrument()
    path = Path(path)
    raw = read_raw(path, instrument, format)  # step 1 (also checks the path and format)
    with path.open("rb") as fh:
        sha = hashlib.file_digest(fh, "sha256").hexdigest()
    secret = load_key(key)
    _check_constructs(raw, instrument, path)  # step 1b
    n = len(raw.data)
    fielded = set(raw.data.columns)
    columns = _factorize_columns(raw.data)  # step 1c (empties raw.data)
    reasons = _row_reasons(raw, columns, path, strict)  # step 2
    source_row = np.asarray(raw.source_row).astype(int)
    ids = raw.meta["respondent"].fillna("").astype(str)
    frame, log = _clean_cells(raw, columns, instrument, path, strict)  # step 3
    _duplicate_submissions(frame, reasons, source_row, path, strict)  # step 4
    pseudo = ids if keep_identifiers else pseudonymise(ids, secret)  # step 5
    frame.insert(0, "respondent_id", pseudo)
    if raw.meta["duration_sec"].notna().any():
        frame["duration_sec"] = raw.meta["duration_sec"].to_numpy()
    if keep_identifiers:
        frame = pd.concat([frame, raw.identifying.reset_index(drop=True)], axis=1)
    log += _escape_formulas(frame)  # step 6
    kept = np.array([not r for r in reasons])
    rows = pd.DataFrame({"source_row": raw.source_row, "respondent": pseudo.to_numpy(),
                         "status": np.where(kept, "kept", "excluded"), "reasons": ["; ".join(r) for r in reasons]},
                        columns=list(ROW_COLUMNS))
    cells = CellLog(tuple(log), source_row)
    provenance = {"input": str(path), "input_sha256": sha, "format": raw.format, "detected_by": raw.detected_by,
                  "details": raw.details, "options": {"format": format, "strict": strict, "key_file": bool(key),
                                                      "keep_identifiers": keep_identifiers},
                  "rows_read": n, "rows_kept": int(kept.sum()), "unknown_columns": list(raw.unknown),
                  "missing_codes": sorted(set(DEFAULT_MISSING) | set(raw.missing_codes)),
                  "missing_markers": list(MISSING_MARKERS),
                  "declared_missing_codes": {k: list(v) for k, v in sorted(raw.missing_by_variable.items())},
                  "dropped_identifier_columns": [] if keep_identifiers else list(raw.identifiers),
                  # a module is fielded when the file has one of its scale items (an attention check
                  # placed in a module's page is not one)
                  "modules_not_fielded": [m for m in instrument.module_ids if m != "M0" and not any(
                      v.name in fielded for v in instrument.variables(paradata=False)
                      if v.module == m and v.kind in ("likert", "matrix"))],
                  "page_timers": _page_timers(raw),
                  "versions": package_versions()}
    pages = None
    if raw.pages is not None:  # step 7
        pages = raw.pages.reset_index(drop=True).astype(float)
        pages.insert(0, "respondent_id", pseudo.to_numpy())
        pages = pages[kept].reset_index(drop=True)
    responses = (frame if kept.all() else frame[kept]).reset_index(drop=True)
    del frame  # not to hold the excluded rows' copy while writing
    result = IngestResult(responses, rows, cells, provenance, pages)
    if out is not None:
        result.write(out)
    return result
