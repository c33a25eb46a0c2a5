"""A response file as cells, before any platform's layout is applied.

:func:`read_table` opens a file once (never writing to it) and returns a
:class:`Table`: for text files (CSV / TSV, any delimiter, UTF-8 with or
without BOM, UTF-16, cp1252) and XLSX every cell as ``str`` (``""`` when
empty) with no header interpretation, so a platform module can see header
rows such as Qualtrics' three. Every line is a row, wholly empty ones
included (an empty line between data lines, a line of only delimiters, an
empty worksheet row between data rows); only empty lines after the last
line with content (the final newline, trailing blank lines; trailing empty
worksheet rows) are not rows; for SPSS ``.sav`` and Stata ``.dta`` the typed
frame and its value labels (pyreadstat). Platform modules decide where the
header is and which rows are data.

Hand-written sniffing (encoding by BOM then strict decoding, delimiter by
``csv.Sniffer`` over the first lines) because pandas' own detection guesses
silently; every guess is recorded in the table so provenance can state it.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from smecore.errors import DataError

TEXT_SUFFIXES = (".csv", ".tsv", ".txt")
ENCODINGS = ("utf-8", "cp1252")  # tried in order after the BOM check; latin-1 never fails, so it is last
DELIMITERS = ",;\t|"


@dataclass(frozen=True)
class Table:
    """Cells of one response file. ``kind``: ``text``, ``xlsx``, ``sav`` or ``dta``."""

    path: Path
    kind: str
    cells: pd.DataFrame | None = None  # text / xlsx: str cells, positional columns, file row 0 first
    frame: pd.DataFrame | None = None  # sav / dta: named, typed columns
    value_labels: dict[str, dict] = field(default_factory=dict)  # sav / dta: {column: {code: label}}
    # sav: SPSS user-missing values per column, as pyreadstat's ``missing_ranges`` ({column: [{"lo", "hi"}]});
    # the values themselves stay in ``frame`` (read with ``user_missing=True``) so ingest can log them
    missing_ranges: dict[str, list] = field(default_factory=dict)
    encoding: str | None = None
    delimiter: str | None = None
    sheet: str | None = None

    def row(self, k: int) -> list[str]:
        """File row ``k`` (0-based) of a text / xlsx table; the column names of a sav / dta table for ``k=0``."""
        if self.cells is None:
            return [str(c) for c in self.frame.columns] if k == 0 else []
        if k >= len(self.cells):
            return []
        return [str(x) for x in self.cells.iloc[k].tolist()]

    def body(self, header_rows: int, header_row: int = 0) -> pd.DataFrame:
        """Data rows after ``header_rows`` header rows, columns named by file row ``header_row``
        (sav / dta: the typed frame itself)."""
        if self.cells is None:
            return self.frame
        names = self.row(header_row)
        out = self.cells.iloc[header_rows:].reset_index(drop=True)
        out.columns = names
        return out


def _decode(raw: bytes, path: Path) -> tuple[str, str]:
    if raw.startswith(b"\x1f\x8b"):
        raise DataError(f"{path}: is a gzip-compressed file; decompress it first (gunzip)")
    if raw.startswith(b"PK\x03\x04"):
        raise DataError(f"{path}: is a ZIP or XLSX file with a text suffix; rename it to .xlsx or unzip it")
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return raw.decode("utf-16"), "utf-16"
    if raw.startswith(b"\xef\xbb\xbf"):
        return raw[3:].decode("utf-8", errors="strict"), "utf-8-sig"
    if b"\x00" in raw[:4096]:
        raise DataError(f"{path}: looks like a binary file, not a CSV text file; export the responses as CSV")
    for enc in ENCODINGS:
        try:
            return raw.decode(enc), enc
        except UnicodeDecodeError:
            continue
    return raw.decode("latin-1"), "latin-1"


def _delimiter(text: str) -> str:
    # Hand-written rather than csv.Sniffer alone: a title row above the header (no delimiter) makes the
    # Sniffer guess ','. Each candidate splits the first lines quote-aware; the one giving the most fields
    # on the median line wins; on a tie, the one whose lines all have that many fields (';' over ',' for
    # "a;b / 1,5;2": the decimal comma splits only some lines); then DELIMITERS order.
    lines = [ln for ln in text.splitlines()[:20] if ln.strip()]
    if not lines:
        return ","
    best, best_score = ",", (1, 0.0)
    for d in DELIMITERS:
        widths = sorted(len(r) for r in csv.reader(lines, delimiter=d))
        median = widths[len(widths) // 2]
        score = (median, sum(w == median for w in widths) / len(widths))
        if median > 1 and score > best_score:
            best, best_score = d, score
    return best


def read_text_table(path: Path) -> Table:
    raw = path.read_bytes()
    if not raw.strip():
        raise DataError(f"{path}: the file is empty")
    text, enc = _decode(raw, path)
    sep = _delimiter(text)
    # csv.reader rather than pandas.read_csv: rows of different length (a title row, a truncated last
    # line) are padded with "" instead of failing the whole file
    try:
        rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=sep))
    except csv.Error as exc:
        raise DataError(f"{path}: cannot be read as a {sep!r}-separated text file ({exc})") from exc
    while rows and not rows[-1]:  # zero-length lines after the last line with content are not rows
        rows.pop()
    width = max((len(r) for r in rows), default=0)
    # an empty line between data lines (csv gives []) and a line of only delimiters stay rows of "" cells,
    # so ingest can log them as excluded "empty row" and source_row keeps counting data lines
    cells = pd.DataFrame([r + [""] * (width - len(r)) for r in rows], columns=range(width), dtype=str)
    return Table(path, "text", cells=cells.fillna(""), encoding=enc, delimiter=sep)


def read_xlsx_table(path: Path, prefer: Callable[[list[str]], bool] | None = None) -> Table:
    """The first sheet whose first rows ``prefer`` accepts (default: the first sheet)."""
    try:
        sheets = pd.read_excel(path, sheet_name=None, header=None, dtype=str)
    except Exception as exc:  # openpyxl raises many types (BadZipFile, KeyError, InvalidFileException)
        raise DataError(f"{path}: cannot be read as an Excel workbook ({type(exc).__name__}: {exc})") from exc
    if not sheets:
        raise DataError(f"{path}: the workbook has no sheets")
    chosen = next(iter(sheets))
    if prefer is not None:
        for name, frame in sheets.items():
            head = [str(x) for r in frame.head(5).itertuples(index=False) for x in r if isinstance(x, str)]
            if prefer(head):
                chosen = name
                break
    cells = sheets[chosen].fillna("").astype(str)
    cells.columns = range(cells.shape[1])
    return Table(path, "xlsx", cells=cells, sheet=str(chosen))


def read_stat_table(path: Path) -> Table:
    import pyreadstat

    sav = path.suffix.lower() == ".sav"
    reader = pyreadstat.read_sav if sav else pyreadstat.read_dta
    try:
        # sav: user-missing values kept as values (else pyreadstat blanks them without a trace); dta: Stata's
        # extended missing values (.a-.z) stay NaN
        frame, meta = reader(str(path), user_missing=sav)
    except pyreadstat.ReadstatError as exc:
        raise DataError(f"{path}: cannot be read as {path.suffix.lower()} ({exc})") from exc
    return Table(path, path.suffix.lower()[1:], frame=frame, value_labels=dict(meta.variable_value_labels),
                 encoding=getattr(meta, "file_encoding", None),
                 missing_ranges=dict(getattr(meta, "missing_ranges", None) or {}) if sav else {})


def read_table(path: str | Path, prefer_sheet: Callable[[list[str]], bool] | None = None) -> Table:
    """Read ``path`` by its suffix; :class:`~smecore.errors.DataError` naming the file on failure."""
    path = Path(path)
    if not path.exists():
        raise DataError(f"{path}: no such file")
    if path.is_dir():
        raise DataError(f"{path}: is a folder; give the response file itself")
    suffix = path.suffix.lower()
    if suffix in TEXT_SUFFIXES:
        return read_text_table(path)
    if suffix in (".xlsx", ".xlsm"):
        return read_xlsx_table(path, prefer_sheet)
    if suffix in (".sav", ".dta"):
        return read_stat_table(path)
    if suffix == ".gz":
        raise DataError(f"{path}: is a gzip-compressed file; decompress it first (gunzip)")
    raise DataError(f"{path}: unsupported file type '{suffix}'; use .csv, .tsv, .xlsx, .sav or .dta")
