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

Text files are split into cells as :func:`csv.reader` splits them (rows of different length padded
with ``""``). A UTF-8 file is read by pyarrow's multithreaded CSV reader straight into pandas' Arrow
string columns (:func:`_arrow_cells`; a choice-text export of 200,000 respondents is 567 MB and 38
million cells, which as Python strings took over 6 GB), whenever pyarrow's result is the same as
csv.reader's: rows of different length, a value holding a carriage return (pyarrow can drop the
``\n`` of a quoted ``\r\n`` at a block boundary), a field longer than csv's field size limit, a NUL
character or a first row that does not fit in the scanned head make it fall back to csv.reader, streamed
in batches of :data:`BATCH_ROWS` rows (:func:`_reader_cells`). Both give the same frame
(tests/instrument/platforms/test_text_table.py checks them against the reading they replaced).
"""

from __future__ import annotations

import codecs
import csv
import io
import itertools
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from smecore.errors import DataError

TEXT_SUFFIXES = (".csv", ".tsv", ".txt")
ENCODINGS = ("utf-8", "cp1252")  # tried in order after the BOM check; latin-1 never fails, so it is last
DELIMITERS = ",;\t|"
#: Bytes read at a time when a text file is scanned (encoding, line breaks) without holding all of it.
SCAN_BYTES = 1 << 24
#: pyarrow's CSV block size (bytes parsed per task; also the pieces of each column).
ARROW_BLOCK_BYTES = 1 << 23
#: Rows per batch when csv.reader's rows become columns (bounds the Python strings held at once).
BATCH_ROWS = 20_000
#: Lines the delimiter is guessed from (:func:`_delimiter`).
SNIFF_LINES = 20
_BYTES_WHITESPACE = b" \t\n\r\x0b\x0c"  # what bytes.strip() strips


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
    # ``text`` may be the start of the file only, if it holds more than SNIFF_LINES lines (_Utf8Scan.head).
    lines = [ln for ln in text.splitlines()[:SNIFF_LINES] if ln.strip()]
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


@dataclass(frozen=True)
class _Utf8Scan:
    """What one pass over a UTF-8 text file found (:func:`_scan_utf8`)."""

    encoding: str  # "utf-8" or "utf-8-sig", as _decode names them
    head: str  # the decoded start: more than SNIFF_LINES lines, or the whole file (complete)
    complete: bool
    has_cr: bool
    has_nul: bool
    trailing_breaks: int  # line breaks (\r\n, \r or \n) after the last character that is neither


def _scan_utf8(path: Path) -> _Utf8Scan | None:
    """``path`` read once in :data:`SCAN_BYTES` pieces (never whole): ``None`` unless :func:`_decode` would
    decode it as UTF-8 (with or without BOM) and it is not all whitespace; every other case (empty,
    compressed, binary, UTF-16, cp1252, broken UTF-8 after a BOM) is read whole by the rules of
    :func:`_decode`, which also gives its errors."""
    decoder = codecs.getincrementaldecoder("utf-8")("strict")
    head: list[str] = []
    head_done = False
    has_cr = has_nul = content = False
    trailing = b""  # the file's last bytes that are \r or \n
    first = True
    encoding = "utf-8"
    with path.open("rb") as fh:
        while True:
            piece = fh.read(SCAN_BYTES)
            final = not piece
            if first:
                if piece.startswith((b"\x1f\x8b", b"PK\x03\x04", b"\xff\xfe", b"\xfe\xff")):
                    return None
                if piece.startswith(b"\xef\xbb\xbf"):
                    encoding = "utf-8-sig"
                    piece = piece[3:]
                elif b"\x00" in piece[:4096]:
                    return None
                first = False
            try:
                text = decoder.decode(piece, final=final)
            except UnicodeDecodeError:
                return None
            if not head_done:
                head.append(text)
                joined = "".join(head)
                head = [joined]
                head_done = len(joined.splitlines()) > SNIFF_LINES
            if final:
                break
            has_cr = has_cr or b"\r" in piece
            has_nul = has_nul or b"\x00" in piece
            content = content or bool(piece.strip(_BYTES_WHITESPACE))
            stripped = piece.rstrip(b"\r\n")
            trailing = piece[len(stripped):] if stripped else trailing + piece
    if not content:
        return None  # all whitespace: _decode's path says the file is empty
    tail = trailing.decode("ascii")
    breaks = len(tail) - tail.count("\r\n")
    return _Utf8Scan(encoding, head[0], not head_done, has_cr, has_nul, breaks)


def _str_frame(columns: list) -> pd.DataFrame:
    """Positional columns (pyarrow ``large_string`` chunked arrays) as pandas' ``str`` columns, zero-copy."""
    dtype = pd.StringDtype("pyarrow", na_value=np.nan)
    frame = pd.DataFrame({k: pd.arrays.ArrowStringArray(c, dtype=dtype) for k, c in enumerate(columns)})
    frame.columns = pd.RangeIndex(len(columns))
    return frame


def _arrow_cells(path: Path, scan: _Utf8Scan, sep: str) -> pd.DataFrame | None:
    """Cells of a UTF-8 file by pyarrow's CSV reader, or ``None`` where its result could differ from
    csv.reader's (the module docstring lists when)."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.csv as pcsv

    if scan.has_nul:
        return None
    records = list(itertools.islice(csv.reader(io.StringIO(scan.head, newline=""), delimiter=sep), 2))
    if not records or (len(records) < 2 and not scan.complete):
        return None  # the first record does not end in the head (a quoted field of many megabytes)
    width = len(records[0])  # pyarrow takes the number of columns from the first row
    if width == 0:
        return None
    try:
        table = pcsv.read_csv(
            path, read_options=pcsv.ReadOptions(autogenerate_column_names=True, block_size=ARROW_BLOCK_BYTES),
            parse_options=pcsv.ParseOptions(delimiter=sep, quote_char='"', double_quote=True, escape_char=False,
                                            newlines_in_values=True, ignore_empty_lines=False),
            convert_options=pcsv.ConvertOptions(column_types={f"f{k}": pa.large_string() for k in range(width)},
                                                strings_can_be_null=False, quoted_strings_can_be_null=False))
    except (pa.ArrowException, OSError):
        return None  # rows of different length, mostly: csv.reader pads them
    if table.num_columns != width:
        return None
    columns = list(table.columns)
    del table
    if scan.has_cr and any(pc.any(pc.match_substring(c, "\r")).as_py() for c in columns):
        return None
    limit = csv.field_size_limit()  # csv.reader refuses longer fields (DataError from _reader_cells)
    if any((pc.max(pc.binary_length(c)).as_py() or 0) > limit for c in columns):
        return None
    # pyarrow makes every empty line a row of "" cells; csv.reader an empty row, dropped at the end of the
    # file: the empty lines after the last line with content (breaks - 1) go
    drop = scan.trailing_breaks - 1
    if drop > 0:
        n = len(columns[0])
        if n < drop or any(pc.any(pc.not_equal(c.slice(n - drop), "")).as_py() for c in columns):
            return None  # the breaks are not empty lines (a quoted field open at the end of the file)
        columns = [c.slice(0, n - drop) for c in columns]
    return _str_frame(columns)


def _reader_cells(lines: Iterable[str], sep: str, path: Path) -> pd.DataFrame:
    """Cells as csv.reader splits ``lines``, rows padded with ``""`` to the longest, the zero-length rows
    at the end dropped; converted to Arrow strings :data:`BATCH_ROWS` rows at a time."""
    import pyarrow as pa

    reader = csv.reader(lines, delimiter=sep)
    columns: list[list] = []  # per column, its pieces
    lengths: list[np.ndarray] = []
    done = 0
    try:
        while batch := list(itertools.islice(reader, BATCH_ROWS)):
            sizes = np.fromiter(map(len, batch), dtype=np.int64, count=len(batch))
            width = int(sizes.max())
            if width > len(columns):  # a wider row: earlier rows get "" in the new columns
                columns += [[pa.repeat(pa.scalar("", pa.large_string()), done)] for _ in range(width - len(columns))]
            if (sizes < width).any():
                batch = [r if len(r) == width else r + [""] * (width - len(r)) for r in batch]
            for k, values in enumerate(zip(*batch)):
                columns[k].append(pa.array(values, type=pa.large_string()))
            for k in range(width, len(columns)):
                columns[k].append(pa.repeat(pa.scalar("", pa.large_string()), len(batch)))
            lengths.append(sizes)
            done += len(batch)
            del batch
    except csv.Error as exc:
        raise DataError(f"{path}: cannot be read as a {sep!r}-separated text file ({exc})") from exc
    sizes = np.concatenate(lengths) if lengths else np.zeros(0, dtype=np.int64)
    # zero-length lines after the last line with content are not rows
    keep = int(np.flatnonzero(sizes)[-1]) + 1 if sizes.any() else 0
    return _str_frame([pa.chunked_array(pieces, type=pa.large_string()).slice(0, keep) for pieces in columns])


def release_unused_memory() -> None:
    """Return the Arrow memory freed so far to the operating system (pyarrow's default pool, mimalloc,
    keeps it for reuse otherwise; ingest drops a table's columns one by one as it converts them)."""
    import pyarrow as pa

    pa.default_memory_pool().release_unused()


def read_text_table(path: Path) -> Table:
    scan = _scan_utf8(path)
    if scan is not None:
        sep = _delimiter(scan.head)
        cells = _arrow_cells(path, scan, sep)
        if cells is None:
            with path.open(encoding=scan.encoding, newline="") as fh:
                cells = _reader_cells(fh, sep, path)
        return Table(path, "text", cells=cells, encoding=scan.encoding, delimiter=sep)
    raw = path.read_bytes()
    if not raw.strip():
        raise DataError(f"{path}: the file is empty")
    text, enc = _decode(raw, path)
    del raw
    sep = _delimiter(text)
    # csv.reader rather than pandas.read_csv: rows of different length (a title row, a truncated last
    # line) are padded with "" instead of failing the whole file; an empty line between data lines (csv
    # gives []) and a line of only delimiters stay rows of "" cells, so ingest can log them as excluded
    # "empty row" and source_row keeps counting data lines
    cells = _reader_cells(io.StringIO(text, newline=""), sep, path)
    return Table(path, "text", cells=cells, encoding=enc, delimiter=sep)


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
