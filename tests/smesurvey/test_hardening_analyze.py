"""``smesurvey analyze`` (and ``generate``, ``instrument``, ``export-r``) on bad or awkward inputs derived
from a valid file (module M4 of the theory world, N = 300): each case gets exit 0 with every row read kept
or in excluded.csv and every changed cell in cells.csv with its reason, or exit 2 with one line naming the
file, row, column or option and what to do - never a traceback - and the inputs are byte-identical
afterwards.

``python -m tests.smesurvey.test_hardening_analyze`` prints the corpus table (case, command, what it gets).
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

N = 300


@pytest.fixture(scope="module")
def valid(tmp_path_factory) -> Path:
    """The valid file every case is derived from (codebook layout, every realism knob as by default)."""
    from synthetic_data.generate import generate
    from synthetic_data.writers import write_data

    path = tmp_path_factory.mktemp("valid") / "m4.csv"
    write_data(generate(world="theory", n=N, seed=2, modules=["M4"]), path)
    return path


def _rows(valid: Path) -> list[list[str]]:
    return list(csv.reader(io.StringIO(valid.read_text(encoding="utf-8"), newline="")))


def _csv(rows: list[list[str]], sep: str = ",") -> str:
    buf = io.StringIO()
    csv.writer(buf, delimiter=sep, lineterminator="\n").writerows(rows)
    return buf.getvalue()


Build = Callable[[Path, Path], Path]  # (valid file, folder) -> the case's data file


def _edited(column: str, data_rows: list[int], value: str, name: str = "data.csv") -> Build:
    def build(valid: Path, folder: Path) -> Path:
        rows = _rows(valid)
        k = rows[0].index(column)
        for r in data_rows:
            rows[r][k] = value
        p = folder / name
        p.write_text(_csv(rows), encoding="utf-8")
        return p
    return build


def _header(old: str, new: str) -> Build:
    def build(valid: Path, folder: Path) -> Path:
        rows = _rows(valid)
        rows[0][rows[0].index(old)] = new
        p = folder / "data.csv"
        p.write_text(_csv(rows), encoding="utf-8")
        return p
    return build


def _without(*columns: str) -> Build:
    def build(valid: Path, folder: Path) -> Path:
        rows = _rows(valid)
        keep = [k for k, c in enumerate(rows[0]) if c not in columns]
        p = folder / "data.csv"
        p.write_text(_csv([[r[k] for k in keep] for r in rows]), encoding="utf-8")
        return p
    return build


def _collinear(valid: Path, folder: Path) -> Path:
    rows = _rows(valid)
    a, b = rows[0].index("cbc_1"), rows[0].index("cbc_2")
    for r in rows[1:]:
        r[b] = r[a]
    p = folder / "data.csv"
    p.write_text(_csv(rows), encoding="utf-8")
    return p


def _head(n: int) -> Build:
    def build(valid: Path, folder: Path) -> Path:
        p = folder / "data.csv"
        p.write_text(_csv(_rows(valid)[: n + 1]), encoding="utf-8")
        return p
    return build


def _semicolon_decimal_comma(valid: Path, folder: Path) -> Path:
    rows = _rows(valid)
    k = rows[0].index("firm_export_ratio")
    for r in rows[1:]:
        r[k] = r[k] + ",5" if r[k] else r[k]  # 45 -> 45,5: a decimal comma in a profile number
    p = folder / "semicolon.csv"
    p.write_text(_csv(rows, ";"), encoding="utf-8")
    return p


def _encoded(encoding: str) -> Build:
    def build(valid: Path, folder: Path) -> Path:
        rows = _rows(valid)
        k = rows[0].index("firm_cluster_org")
        for r in rows[1:]:
            r[k] = r[k].replace("Skane", "Sk\u00e5ne")
        p = folder / f"{encoding}.csv"
        p.write_bytes(_csv(rows).encode(encoding))
        return p
    return build


def _title_row(valid: Path, folder: Path) -> Path:
    p = folder / "title.csv"
    p.write_text("Survey of SMEs - export of 2026-03-01\n" + valid.read_text(encoding="utf-8"), encoding="utf-8")
    return p


def _second_sheet(valid: Path, folder: Path) -> Path:
    p = folder / "book.xlsx"
    with pd.ExcelWriter(p) as xw:
        pd.DataFrame({"About": ["SME survey, wave 1", "data on the next sheet"]}).to_excel(xw, sheet_name="notes",
                                                                                       index=False)
        pd.read_csv(valid, dtype=str).to_excel(xw, sheet_name="responses", index=False)
    return p


def _write(content: bytes | str, name: str) -> Build:
    def build(valid: Path, folder: Path) -> Path:
        p = folder / name
        p.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
        return p
    return build


def _gzip(valid: Path, folder: Path) -> Path:
    p = folder / "data.csv"
    p.write_bytes(gzip.compress(valid.read_bytes(), mtime=0))
    return p


def _folder(valid: Path, folder: Path) -> Path:
    p = folder / "adir"
    p.mkdir()
    return p


def _formula_id(valid: Path, folder: Path) -> Path:
    """Row 5's id is a spreadsheet formula and the row fails the attention check (so it is in excluded.csv)."""
    rows = _rows(valid)
    rows[5][rows[0].index("respondent_id")] = '=HYPERLINK("http://evil.example","x")'
    rows[5][rows[0].index("attn_1")] = "1" if rows[5][rows[0].index("attn_1")] != "1" else "2"
    p = folder / "data.csv"
    p.write_text(_csv(rows), encoding="utf-8")
    return p


def _all_fail_attention(valid: Path, folder: Path) -> Path:
    rows = _rows(valid)
    k = rows[0].index("attn_1")
    for r in rows[1:]:
        r[k] = "1"
    p = folder / "data.csv"
    p.write_text(_csv(rows), encoding="utf-8")
    return p


def _profile_only(valid: Path, folder: Path) -> Path:
    frame = pd.read_csv(valid, dtype=str)
    p = folder / "data.csv"
    frame[[c for c in frame.columns if c.startswith("firm_") or c == "respondent_id"]].to_csv(p, index=False)
    return p


def _valid(valid: Path, folder: Path) -> Path:
    p = folder / "data.csv"
    p.write_bytes(valid.read_bytes())
    return p


@dataclass(frozen=True)
class Case:
    """One command on a data file built from the valid one: exit 0 (then ``check`` the outputs) or exit 2 with
    one stderr line matching ``error``. ``args``: the command line; ``{data}`` and ``{out}`` are filled in."""

    name: str
    build: Build
    rc: int
    error: str = ""
    args: tuple[str, ...] = ("analyze", "{data}", "--out", "{out}", "--bootstrap", "20", "--jobs", "1")
    check: Callable[[Path], None] | None = field(default=None, compare=False)
    gets: str = ""  # for the corpus table


def _cells(variable: str, rows: list[int], reason: str) -> Callable[[Path], None]:
    """cells.csv logs exactly these rows of ``variable`` (1-based data rows of the file) with ``reason``."""
    def check(out: Path) -> None:
        cells = pd.read_csv(out / "cells.csv", keep_default_na=False)
        hit = cells[cells["variable"] == variable]
        assert hit["row"].tolist() == rows and set(hit["reason"]) == {reason}, hit
    return check


def _ingested(check: Callable[[Path], None] | None = None) -> Callable[[Path], None]:
    def inner(out: Path) -> None:
        rows = pd.read_csv(out / "rows.csv")
        assert len(rows) == N and set(rows["status"]) <= {"kept", "excluded"}
        if check:
            check(out)
    return inner


def _sheet_named(out: Path) -> None:
    prov = json.loads((out / "ingest_provenance.json").read_text(encoding="utf-8"))
    assert "responses" in json.dumps(prov)


def _formula_escaped(out: Path) -> None:
    text = (out / "excluded.csv").read_text(encoding="utf-8")
    assert "'=HYPERLINK(" in text and not re.search(r'(^|,)"?=HYPERLINK', text, re.M)


def _improper_reported(out: Path) -> None:
    verdicts = pd.read_csv(out / "verdicts.csv", keep_default_na=False)
    skipped = pd.read_csv(out / "skipped.csv")
    reasons = " ".join(skipped["reason"])
    # every M4 hypothesis is either tested (an improper solution flagged) or skipped with a reason naming the cause
    assert set(verdicts["hypothesis"]) | set(skipped["hypothesis"]) >= {"H11", "H12", "H13"}
    assert "usable row(s)" in reasons or "not positive definite" in reasons
    assert all("improper solution" in f for f in verdicts["flag"] if "Heywood" in f)


GEN = ("generate", "--n", "5", "--out", "{out}.csv")

CASES = [
    # -- cells set missing and logged (exit 0)
    Case("text 'seven' in a Likert item", _edited("cbc_2", [3, 9], "seven"), 0,
         check=_cells("cbc_2", [3, 9], "not a number"), gets="exit 0; 2 cells in cells.csv (rows 3, 9)"),
    Case("a cell of spaces in a Likert item", _edited("cbc_2", [3], " "), 0,
         check=_cells("cbc_2", [3], "blank text (only spaces)"), gets="exit 0; the cell in cells.csv"),
    Case("declared missing code -99", _edited("lock_2", [4, 8], "-99"), 0,
         check=_cells("lock_2", [4, 8], "missing code -99"), gets="exit 0; 2 cells in cells.csv"),
    Case("undeclared code 99", _edited("lock_2", [4], "99"), 0,
         check=_cells("lock_2", [4], "not a code of scale 'agree7' (1-7)"), gets="exit 0; the cell in cells.csv"),
    Case("undeclared code -9", _edited("gm_1", [10, 11], "-9"), 0,
         check=_cells("gm_1", [10, 11], "not a code of scale 'agree7' (1-7)"), gets="exit 0; 2 cells logged"),
    Case("inf in a Likert item", _edited("dual_1", [5], "inf"), 0,
         check=_cells("dual_1", [5], "not a finite number"), gets="exit 0; the cell logged"),
    Case("huge value in a Likert item", _edited("dual_1", [5], "1e300"), 0,
         check=_cells("dual_1", [5], "not a code of scale 'agree7' (1-7)"), gets="exit 0; the cell logged"),
    Case("inf in a profile number", _edited("firm_employees", [7], "inf"), 0,
         check=_cells("firm_employees", [7], "not a finite number"), gets="exit 0; the cell logged"),
    Case("fractional employee count", _edited("firm_employees", [7], "12.5"), 0,
         check=_cells("firm_employees", [7], "not a code of range 1-249, whole numbers"), gets="exit 0; logged"),
    Case("N/A marker in an item", _edited("inn_1", [2], "N/A"), 0,
         check=_cells("inn_1", [2], "missing marker"), gets="exit 0; the cell logged as a missing marker"),
    Case("formula as respondent id", _formula_id, 0, check=_formula_escaped,
         gets="exit 0; the id written as text ('=...) in excluded.csv"),
    # -- read through ingest (exit 0)
    Case("semicolon and decimal comma", _semicolon_decimal_comma, 0, check=_ingested(),
         gets="exit 0; ingested first, rows.csv"),
    Case("Latin-1 text", _encoded("latin-1"), 0, check=_ingested(), gets="exit 0; ingested first"),
    Case("UTF-16", _encoded("utf-16"), 0, check=_ingested(), gets="exit 0; ingested first"),
    Case("title row above the header", _title_row, 0, check=_ingested(), gets="exit 0; ingested first"),
    Case("data on the second sheet", _second_sheet, 0, check=_ingested(_sheet_named),
         gets="exit 0; sheet 'responses' read and named"),
    # -- models that cannot be estimated: skipped with the reason, or refused
    Case("fewer rows than variables", _head(15), 0, check=_improper_reported,
         gets="exit 0; failed models skipped with the counts, improper solutions flagged"),
    Case("two perfectly collinear items", _collinear, 2,
         r"no hypothesis could be tested \(.*cbc_1, cbc_2 are \(nearly\) linearly dependent",
         gets="exit 2 naming the items"),
    # -- refused (exit 2, one line)
    Case("duplicated column name", _header("gm_3", "gm_2"), 2,
         r"row 1: column 'gm_2' appears twice \(columns 27 and 28\)", gets="exit 2 naming column and positions"),
    Case("renamed item", _header("inn_2", "inn2"), 2,
         r"construct INN is only partly in the data: column\(s\) 'inn_2' \(did you mean 'inn2'\?\) missing",
         gets="exit 2 naming the column and the close name"),
    Case("missing item, no false hint", _without("mkr_2"), 2,
         r"construct MKR is only partly in the data: column\(s\) 'mkr_2' missing \(found mkr_1, mkr_3\)",
         gets="exit 2 naming the column"),
    Case("a whole construct missing", _without("inn_1", "inn_2", "inn_3", "inn_4"), 2,
         r"module M4 is only partly in the data: no column of INN \('inn_1'", gets="exit 2 naming construct, columns"),
    Case("constant item", _edited("lock_1", list(range(1, N + 1)), "4"), 2,
         r"column 'lock_1' \(construct LOCK\) has the same answer \(4\)", gets="exit 2 naming the column"),
    Case("blank item", _edited("lock_1", list(range(1, N + 1)), ""), 2,
         r"column 'lock_1' \(construct LOCK\) has no answer", gets="exit 2 naming the column"),
    Case("every row fails the attention check", _all_fail_attention, 2, r"no row is left after screening",
         gets="exit 2"),
    Case("no questionnaire items", _profile_only, 2, r"no questionnaire items found", gets="exit 2"),
    Case("gzip file named .csv", _gzip, 2, r"is a gzip-compressed file; decompress it first", gets="exit 2"),
    Case("empty file", _write("", "empty.csv"), 2, r"empty.csv: the file is empty", gets="exit 2"),
    Case("header only", _head(0), 2, r"data.csv: .*(no rows|no data rows)", gets="exit 2"),
    Case("binary garbage", _write(bytes(range(256)) * 8, "garbage.csv"), 2, r"garbage.csv: .*binary",
         gets="exit 2"),
    Case("a folder as data", _folder, 2, r"adir", gets="exit 2"),
    Case("no such file", lambda valid, folder: folder / "absent.csv", 2, r"absent.csv: no such data file",
         gets="exit 2"),
    Case("--survey-year before a founding year", _valid, 2, r"--survey-year 1800 is before firm_founded",
         args=("analyze", "{data}", "--out", "{out}", "--survey-year", "1800"), gets="exit 2 naming the column, row"),
    Case("--modules unknown", _valid, 2, r"unknown module\(s\) \['M9'\]",
         args=("analyze", "{data}", "--out", "{out}", "--modules", "M9"), gets="exit 2 listing the modules"),
    Case("--format unknown", _valid, 2, r"--format must be one of",
         args=("analyze", "{data}", "--out", "{out}", "--format", "spss"), gets="exit 2"),
    # -- the other commands
    Case("generate --seed -1", _valid, 2, r"--seed", args=("generate", "--n", "5", "--seed", "-1", "--out",
                                                            "{out}.csv"), gets="exit 2 before any work"),
    Case("generate --n 0", _valid, 2, r"--n", args=("generate", "--n", "0", "--out", "{out}.csv"),
         gets="exit 2 before any work"),
    Case("generate into data.json", _valid, 2, r"suffix '.json' names no data format",
         args=("generate", "--n", "5", "--out", "{out}.json"), gets="exit 2: give a data suffix or --format"),
    Case("generate --knob careless=2", _valid, 2, r"knob 'careless' = 2.0: must be between 0 and 1",
         args=(*GEN[:-2], "--knob", "careless=2", *GEN[-2:]), gets="exit 2 naming the knob"),
    Case("generate --knob typo", _valid, 2, r"unknown knob\(s\) \['carless'\]",
         args=(*GEN[:-2], "--knob", "carless=0.1", *GEN[-2:]), gets="exit 2 listing the knobs"),
    Case("generate --world unknown", _valid, 2, r"'world' parameter must be one of",
         args=(*GEN[:-2], "--world", "alternative", *GEN[-2:]), gets="exit 2"),
    Case("instrument export --format unknown", _valid, 2, r"unknown export format 'spss'",
         args=("instrument", "export", "--format", "spss", "--out", "{out}.txt"), gets="exit 2 listing formats"),
    Case("instrument export --modules unknown", _valid, 2, r"unknown module\(s\) \['M7'\]",
         args=("instrument", "export", "--format", "markdown", "--modules", "M7", "--out", "{out}.md"),
         gets="exit 2"),
    Case("export-r on a duplicated header", _header("gm_3", "gm_2"), 2, r"column 'gm_2' appears twice",
         args=("export-r", "--data", "{data}", "--out", "{out}"), gets="exit 2 naming the column"),
    Case("export-r on a missing file", lambda valid, folder: folder / "absent.csv", 2, r"absent.csv: no such data",
         args=("export-r", "--data", "{data}", "--out", "{out}"), gets="exit 2"),
]


def test_corpus_size():
    assert len(CASES) >= 40 and len({c.name for c in CASES}) == len(CASES)


def _digests(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_bad_input(case, valid, tmp_path, capsys):
    inputs = tmp_path / "in"
    inputs.mkdir()
    data = case.build(valid, inputs)
    out = tmp_path / "out"
    before = _digests(inputs)
    capsys.readouterr()
    rc = main([a.format(data=data, out=out) for a in case.args])
    err = capsys.readouterr().err
    assert _digests(inputs) == before  # the inputs are never modified
    assert "Traceback" not in err
    assert rc == case.rc, err
    if case.rc == 2:
        lines = [ln for ln in err.splitlines() if ln.strip()]
        assert len(lines) == 1 and re.search(case.error, lines[0]), lines
        return
    if case.args[0] != "analyze":
        return
    # every row read is kept or in excluded.csv; every cell changed is in cells.csv (checked per case)
    prov = json.loads((out / "provenance.json").read_text(encoding="utf-8"))
    excluded = pd.read_csv(out / "excluded.csv")
    dropped = excluded.loc[excluded["excluded"].astype(bool), "row"].nunique()
    assert prov["rows.kept"] + dropped == prov["rows.read"]
    assert all(ln.startswith(("warning", "skipped")) or not ln.strip() for ln in err.splitlines()), err
    if case.check:
        case.check(out)


def corpus_table() -> str:
    """Markdown table of the corpus for the issue note: case, command, what it gets."""
    lines = ["| case | command | gets |", "|---|---|---|"]
    for c in CASES:
        cmd = " ".join(a for a in c.args if a not in ("{data}", "{out}", "{out}.csv", "--out"))
        lines.append(f"| {c.name} | {cmd} | {c.gets} |")
    return "\n".join(lines)


if __name__ == "__main__":  # pragma: no cover - prints the corpus table for the issue note
    print(corpus_table())
