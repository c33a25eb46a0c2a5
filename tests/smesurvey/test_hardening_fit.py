"""``smesurvey fit`` on bad or awkward inputs derived from a valid file (Holzinger & Swineford 1939, the CSV
lavaan's reference output was made from): each case gets exit 0 with every changed cell and excluded row
logged, or exit 2 with one line naming the file, row, column or option and what to do - never a
traceback - and the input files are byte-identical afterwards. Nothing is written when the fit is refused.

``python -m tests.smesurvey.test_hardening_fit`` prints the corpus table (case, what it gets).
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pytest

from smesurvey.cli import main
from tests.analysis.conftest import HS_MODEL, REFERENCE

HS = REFERENCE / "HolzingerSwineford1939.csv"
QUALTRICS = Path(__file__).resolve().parents[1] / "data" / "platforms" / "qualtrics" / "numeric_values.csv"


def _rows() -> list[list[str]]:
    return list(csv.reader(io.StringIO(HS.read_text(encoding="utf-8"), newline="")))


def _csv(rows: list[list[str]], sep: str = ",") -> str:
    buf = io.StringIO()
    csv.writer(buf, delimiter=sep, lineterminator="\n").writerows(rows)
    return buf.getvalue()


def _set(rows: list[list[str]], column: str, data_rows: list[int], value: str) -> list[list[str]]:
    k = rows[0].index(column)
    for r in data_rows:
        rows[r][k] = value
    return rows


def _write(text: str | bytes, name: str = "data.csv") -> Callable[[Path], Path]:
    def build(folder: Path) -> Path:
        p = folder / name
        if isinstance(text, bytes):
            p.write_bytes(text)
        else:
            p.write_text(text, encoding="utf-8")
        return p
    return build


def _edited(column: str, rows: list[int], value: str) -> Callable[[Path], Path]:
    return _write(_csv(_set(_rows(), column, rows, value)))


def _decimal_comma(folder: Path) -> Path:
    rows = [[c.replace(".", ",") if k >= 6 and i else c for k, c in enumerate(r)] for i, r in enumerate(_rows())]
    p = folder / "semicolon.csv"
    p.write_text(_csv(rows, ";"), encoding="utf-8")
    return p


def _encoded(encoding: str, bom: bool = False) -> Callable[[Path], Path]:
    def build(folder: Path) -> Path:
        rows = _rows()
        k = rows[0].index("school")
        for r in rows[1:]:
            r[k] = "Grant-White \u00e9cole" if r[k] == "Grant-White" else r[k]
        p = folder / f"{encoding}.csv"
        p.write_bytes((b"\xef\xbb\xbf" if bom else b"") + _csv(rows).encode(encoding))
        return p
    return build


def _title_row(folder: Path) -> Path:
    p = folder / "title.csv"
    p.write_text("Holzinger & Swineford 1939 - exported 2026-03-01\n" + HS.read_text(encoding="utf-8"),
                 encoding="utf-8")
    return p


def _second_sheet(folder: Path) -> Path:
    p = folder / "book.xlsx"
    with pd.ExcelWriter(p) as xw:
        pd.DataFrame({"About": ["Holzinger & Swineford data", "see sheet 'data'"]}).to_excel(
            xw, sheet_name="notes", index=False)
        pd.read_csv(HS).to_excel(xw, sheet_name="data", index=False)
    return p


def _duplicate_header(folder: Path) -> Path:
    rows = _rows()
    rows[0][rows[0].index("x9")] = "x4"
    return _write(_csv(rows))(folder)


def _renamed(old: str, new: str) -> Callable[[Path], Path]:
    def build(folder: Path) -> Path:
        rows = _rows()
        rows[0][rows[0].index(old)] = new
        return _write(_csv(rows))(folder)
    return build


def _head(n: int) -> Callable[[Path], Path]:
    return lambda folder: _write(_csv(_rows()[: n + 1]))(folder)


def _constant(folder: Path) -> Path:
    return _write(_csv(_set(_rows(), "x5", list(range(1, 302)), "3")))(folder)


def _collinear(folder: Path) -> Path:
    rows = _rows()
    a, b = rows[0].index("x1"), rows[0].index("x2")
    for r in rows[1:]:
        r[b] = r[a]
    return _write(_csv(rows))(folder)


def _folder(folder: Path) -> Path:
    p = folder / "adir"
    p.mkdir()
    return p


def _out_is_file(folder: Path) -> Path:
    (folder / "out").write_text("not a folder", encoding="utf-8")
    return _write(HS.read_text(encoding="utf-8"))(folder)


@dataclass(frozen=True)
class Case:
    """One run of ``fit MODEL DATA --out OUT ARGS``: rc 0 or 2 and a pattern for the one stderr line (rc 2)."""

    name: str
    build: Callable[[Path], Path]
    rc: int
    error: str = ""
    args: tuple[str, ...] = ()
    model: str = HS_MODEL
    check: Callable[[Path], None] | None = field(default=None, compare=False)
    gets: str = ""  # for the corpus table


def _cells_logged(n: int, reason: str) -> Callable[[Path], None]:
    def check(out: Path) -> None:
        cells = pd.read_csv(out / "cells.csv")
        assert len(cells) == n and (cells["reason"] == reason).all(), cells
    return check


def _estimates_equal_clean(out: Path) -> None:
    params = pd.read_csv(out / "parameters.csv", keep_default_na=False, na_values=[""])
    ref = pd.read_csv(REFERENCE / "hs1939_cfa_ML_parameters.csv", keep_default_na=False, na_values=[""])
    merged = params.merge(ref, on=["lhs", "op", "rhs"], suffixes=("", "_ref"))
    assert len(merged) == len(ref) and (merged["est"] - merged["est_ref"]).abs().max() < 1e-4


def _sheet_named(out: Path) -> None:
    prov = json.loads((out / "provenance.json").read_text(encoding="utf-8"))
    assert prov["data_read"]["sheet"] == "data"
    _estimates_equal_clean(out)


CASES = [
    Case("missing code -99 undeclared", _edited("x2", [3, 50], "-99"), 2,
         r"column 'x2' holds -99 in 2 row\(s\) \(3, 50\), far outside its other values .*--missing-codes -99",
         gets="exit 2 naming column, rows and --missing-codes"),
    Case("missing code -99 declared", _edited("x2", [3, 50], "-99"), 0, args=("--missing-codes=-99",),
         check=_cells_logged(2, "missing code (--missing-codes)"),
         gets="exit 0; 2 cells in cells.csv, rows in excluded.csv"),
    Case("missing code 99 undeclared", _edited("x5", [7], "99"), 2, r"column 'x5' holds 99 in 1 row\(s\) \(7\)",
         gets="exit 2 naming column and row"),
    Case("missing code -9 undeclared", _edited("x7", [1, 2, 3], "-9"), 2, r"column 'x7' holds -9 in 3 row",
         gets="exit 2 naming column and rows"),
    Case("missing code -999 declared with -9", _edited("x7", [4], "-999"), 0, args=("--missing-codes", "-9,-999"),
         check=_cells_logged(1, "missing code (--missing-codes)"), gets="exit 0; cell logged"),
    Case("missing codes not a number", _write(HS.read_text(encoding="utf-8")), 2,
         r"--missing-codes: 'minus99' is not a number", args=("--missing-codes", "minus99"),
         gets="exit 2 naming the option"),
    Case("text 'seven' in an item", _edited("x3", [12], "seven"), 2,
         r"column 'x3' has 1 non-numeric value\(s\) \(e.g. 'seven' in row 12\)", gets="exit 2 naming column, row, value"),
    Case("blank cell ' ' in an item", _edited("x3", [12], " "), 0,
         check=lambda out: None if 12 in set(pd.read_csv(out / "excluded.csv")["row"]) else pytest.fail("row 12"),
         gets="exit 0; the row in excluded.csv (missing value in x3)"),
    Case("N/A markers", _edited("x4", [5, 6], "N/A"), 0, check=_cells_logged(2, "missing marker"),
         gets="exit 0; 2 cells in cells.csv"),
    Case("infinite value", _edited("x6", [9], "inf"), 2, r"column 'x6' has 1 infinite or huge value\(s\).*row 9",
         gets="exit 2 naming column and row"),
    Case("huge value", _edited("x6", [9], "1e300"), 2, r"column 'x6' has 1 infinite or huge value",
         gets="exit 2 naming column and row"),
    Case("duplicated column name", _duplicate_header, 2, r"row 1: column 'x4' appears twice \(columns 10 and 15\)",
         gets="exit 2 naming the column and both positions"),
    Case("renamed column, case", _renamed("x3", "X3"), 2, r"'x3' \(did you mean 'X3'\?\)",
         gets="exit 2 with the close name"),
    Case("missing column, no false hint", _renamed("x3", "age"), 2, r"not in the data: 'x3'; rename",
         gets="exit 2 naming the column, no suggestion"),
    Case("blank column", _edited("x6", list(range(1, 302)), ""), 2, r"column\(s\) 'x6' have no observed values",
         gets="exit 2 naming the column"),
    Case("constant column", _constant, 2, r"column 'x5' is constant", gets="exit 2 naming the column"),
    Case("collinear items", _collinear, 2, r"variables x\d, x\d are \(nearly\) linearly dependent",
         gets="exit 2 naming the items"),
    Case("fewer rows than variables", _head(6), 2, r"only 6 usable row\(s\) \(6 complete\) for 9 variables",
         gets="exit 2 with the counts"),
    Case("semicolon and decimal comma", _decimal_comma, 0, check=_estimates_equal_clean,
         gets="exit 0; lavaan's estimates"),
    Case("Latin-1 text column", _encoded("latin-1"), 0, check=_estimates_equal_clean, gets="exit 0"),
    Case("UTF-16 with BOM", _encoded("utf-16"), 0, check=_estimates_equal_clean, gets="exit 0"),
    Case("UTF-8 BOM", _encoded("utf-8", bom=True), 0, check=_estimates_equal_clean, gets="exit 0"),
    Case("title row above the header", _title_row, 0, check=_estimates_equal_clean,
         gets="exit 0; header row 2 recorded"),
    Case("data on the second sheet", _second_sheet, 0, check=_sheet_named, gets="exit 0; sheet 'data' named"),
    Case("gzip file named .csv", _write(gzip.compress(HS.read_bytes(), mtime=0)), 2, r"is a gzip-compressed file",
         gets="exit 2: decompress it first"),
    Case("empty file", _write(""), 2, r"the file is empty", gets="exit 2"),
    Case("header only", _head(0), 2, r"has a header row but no data rows", gets="exit 2"),
    Case("binary garbage", _write(bytes(range(256)) * 8), 2, r"looks like a binary file", gets="exit 2"),
    Case("Qualtrics export", lambda folder: _write(QUALTRICS.read_bytes(), "qualtrics.csv")(folder), 2,
         r"is a Qualtrics response export .*run `smesurvey ingest", gets="exit 2 pointing to ingest"),
    Case("a folder as data", _folder, 2, r"is a folder", gets="exit 2"),
    Case("no such data file", lambda folder: folder / "absent.csv", 2, r"absent.csv: no such file", gets="exit 2"),
    Case("=> in the model", _write(HS.read_text(encoding="utf-8")), 2, r"'=>' is not a lavaan operator",
         model="visual => x1 + x2 + x3", gets="exit 2 with the lavaan operators"),
    Case("--bootstrap -1", _write(HS.read_text(encoding="utf-8")), 2, r"--bootstrap", args=("--bootstrap", "-1"),
         gets="exit 2 before any work"),
    Case("--jobs 0", _write(HS.read_text(encoding="utf-8")), 2, r"--jobs: 0 workers", args=("--jobs", "0"),
         gets="exit 2 before any work"),
    Case("--estimator WLS", _write(HS.read_text(encoding="utf-8")), 2, r"--estimator: 'WLS' is not one of ML, MLR",
         args=("--estimator", "WLS"), gets="exit 2 before any work"),
    Case("--out is a file", _out_is_file, 2, r"--out .*out: is a file, not a folder",
         gets="exit 2; the file untouched"),
    Case("group column absent", _write(HS.read_text(encoding="utf-8")), 2, r"group column 'schol' is not in the data",
         args=("--group", "schol"), gets="exit 2 naming the column"),
]


def test_corpus_size():
    assert len(CASES) >= 30 and len({c.name for c in CASES}) == len(CASES)


def _digests(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def run_case(case: Case, folder: Path, capsys) -> tuple[int, str]:
    data = case.build(folder)
    model = folder / "model.lav"
    model.write_text(case.model, encoding="utf-8")
    before = _digests(folder)
    out = folder / "out"
    rc = main(["fit", str(model), str(data), "--out", str(out), "--quiet", *case.args])
    err = capsys.readouterr().err
    after = _digests(folder)
    assert {k: v for k, v in after.items() if k in before} == before  # inputs (and an --out file) untouched
    return rc, err


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_fit_on_bad_input(case, tmp_path, capsys):
    rc, err = run_case(case, tmp_path, capsys)
    assert "Traceback" not in err
    assert rc == case.rc, err
    out = tmp_path / "out"
    if case.rc == 2:
        lines = [ln for ln in err.splitlines() if ln.strip()]
        assert len(lines) == 1 and re.search(case.error, lines[0]), lines
        assert not out.is_dir() or not any(out.iterdir())  # nothing written
    else:
        excluded = pd.read_csv(out / "excluded.csv")
        prov = json.loads((out / "provenance.json").read_text(encoding="utf-8"))
        # every data row read is used or in excluded.csv (HS has 301 rows)
        assert len(excluded) == prov["excluded_rows"] and prov["nobs"][0] + len(excluded) == 301
        if case.check:
            case.check(out)


def corpus_table() -> str:
    """Markdown table of the corpus for the issue note: case, command, what it gets."""
    lines = ["| case | command | gets |", "|---|---|---|"]
    for c in CASES:
        lines.append(f"| {c.name} | fit {' '.join(c.args)} | {c.gets} |")
    return "\n".join(lines)


if __name__ == "__main__":  # pragma: no cover - prints the corpus table for the issue note
    print(corpus_table())
