"""Write the malformed-file corpus under corpus/ (run: python tests/data/ingest/make_corpus.py).

Each text file is small and written byte by byte here so that it can be reviewed;
the binary ones (xlsx, sav, dta) are written with openpyxl / pyreadstat with their
time stamps fixed, so running this again gives the same bytes.
tests/analysis/ingest/test_corpus.py asserts the outcome of each.

Files that hold construct items hold every item of the construct (TK: tk_1..tk_4),
since a construct only partly present is refused (partly_missing_construct.csv).
"""

from __future__ import annotations

import gzip
from pathlib import Path

import pandas as pd

HERE = Path(__file__).resolve().parent / "corpus"
TK = "tk_1,tk_2,tk_3,tk_4"
GOOD = f"respondent_id,{TK}\nr1,1,2,3,4\nr2,3,4,5,6\n"
#: items of three whole constructs (TK, MK, IK): 12 items, enough for the duplicate-submission rule
ITEMS12 = [f"{c}_{k}" for c in ("tk", "mk", "ik") for k in range(1, 5)]


def _qualtrics_preview_spam() -> bytes:
    """A Qualtrics numeric export (three header rows) whose Status column holds 0 IP Address, 1 Survey Preview,
    8 Spam, 2 Survey Test and 16 Offline."""
    meta = ["StartDate", "EndDate", "Status", "Progress", "Duration (in seconds)", "Finished", "ResponseId",
            "ExternalReference"]
    items = TK.split(",")
    lines = [",".join(meta + items),
             ",".join(meta[:6] + ["Response ID", "External Data Reference"] + [f"TK item {k}" for k in range(1, 5)]),
             ",".join(f'"{{""ImportId"":""{c}""}}"' for c in meta + [f"QID_{i}" for i in items])]
    for k, status in enumerate(("0", "1", "8", "2", "16"), start=1):
        lines.append(f"2026-03-0{k} 10:00:00,2026-03-0{k} 10:10:00,{status},100,600,1,R_{k:015d},f{k},"
                     f"{k},2,3,4")
    return ("\n".join(lines) + "\n").encode()


def _duplicate_submission() -> bytes:
    """r2 repeats r1's 12 answers under another id (excluded); r4 repeats r3's answers but answered only
    4 items (kept: too few answers to call it a duplicate); r5 differs from r1 in one item (kept)."""
    a = ["1", "2", "3", "4", "5", "6", "7", "1", "2", "3", "4", "5"]
    few = ["3", "3", "3", "3"] + [""] * 8
    other = a[:-1] + ["6"]
    rows = [["r1", *a], ["r2", *a], ["r3", *few], ["r4", *few], ["r5", *other]]
    return ("\n".join(",".join(r) for r in [["respondent_id", *ITEMS12], *rows]) + "\n").encode()


def _cover_sheet_xlsx(path: Path) -> None:
    """A workbook whose first sheet is a cover page (no codebook variables) and whose data are on the second."""
    from openpyxl import Workbook

    from smecore.files import save_workbook

    wb = Workbook()
    cover = wb.active
    cover.title = "About"
    for row in (["Survey of internationalising firms"], ["Exported 2 December 2026"], ["Data on the next sheet"]):
        cover.append(row)
    data = wb.create_sheet("responses")
    data.append(["respondent_id", *TK.split(","), "firm_employees"])
    data.append(["r1", 1, 2, 3, 4, 10])
    data.append(["r2", 7, 6, 5, 4, 200])
    save_workbook(wb, path)


def _frame() -> pd.DataFrame:
    return pd.DataFrame({"respondent_id": ["r1", "r2", "r3"], "tk_1": [1.0, 99.0, 7.0], "tk_2": [2.0, 3.0, 4.0],
                         "tk_3": [3.0, 4.0, 5.0], "tk_4": [4.0, 5.0, 6.0], "firm_employees": [12.0, 99.0, 40.0]})


def _sav(path: Path, missing_ranges: dict | None) -> None:
    import pyreadstat

    from smecore.files import fix_sav_timestamp

    pyreadstat.write_sav(_frame(), str(path), missing_ranges=missing_ranges)
    fix_sav_timestamp(path)


def _dta(path: Path) -> None:
    """Stata file of the codebook layout; pyreadstat stamps the current time into the header's
    ``<timestamp>`` (a length byte, then 17 characters), overwritten here with a fixed one."""
    import pyreadstat

    frame = _frame()
    frame.loc[1, "tk_1"] = 2.0
    pyreadstat.write_dta(frame, str(path))
    data = bytearray(path.read_bytes())
    tag = data.find(b"<timestamp>")
    assert tag >= 0 and data[tag + 11] == 17, "unexpected Stata header"
    data[tag + 12:tag + 29] = b"01 Jan 2026 00:00"
    path.write_bytes(bytes(data))

FILES: dict[str, bytes] = {
    "empty.csv": b"",
    "header_only.csv": f"respondent_id,{TK}\n".encode(),
    "truncated_last_line.csv": f"respondent_id,{TK}\nr1,1,2,3,4\nr2,3".encode(),
    "semicolon.csv": GOOD.replace(",", ";").encode(),
    "tab.tsv": GOOD.replace(",", "\t").encode(),
    "pipe.txt": GOOD.replace(",", "|").encode(),
    "bom.csv": b"\xef\xbb\xbf" + GOOD.encode(),
    "utf16.csv": GOOD.encode("utf-16"),
    "latin1.csv": "respondent_id,firm_employees,firm_cluster_org\nr1,1,Caf\xe9 Verband\n".encode("latin-1"),
    "binary_garbage.csv": bytes(range(256)) * 4,
    "duplicated_header.csv": b"respondent_id,tk_1,tk_1\nr1,1,2\n",
    "title_row.csv": b"Export of 2 December\n" + GOOD.encode(),
    "bad_values.csv": f"respondent_id,{TK}\nr1,N/A,1,1,1\nr2,seven,1,1,1\nr3,8,1,1,1\nr4,99,1,1,1\nr5,0,1,1,1\n"
                      "r6,7,1,1,1\n".encode(),
    "formula.csv": b'respondent_id,firm_employees,firm_cluster_org\nr1,1,"=HYPERLINK(""http://x"",""y"")"\nr2,2,@SUM(A1)\n',
    "wide_2000_columns.csv": (",".join(["respondent_id", "firm_employees"] + [f"x{i}" for i in range(1998)]) + "\n"
                              + ",".join(["r1", "5"] + ["0"] * 1998) + "\n").encode(),
    "duplicate_ids.csv": b"respondent_id,firm_employees\nr1,1\nr1,2\nr2,3\n",
    "empty_rows.csv": b"respondent_id,firm_employees\nr1,1\n\n,\nr2,2\n",
    "crlf.csv": GOOD.replace("\n", "\r\n").encode(),
    "not_codebook.csv": b"a,b,c\n1,2,3\n",
    "zip_with_csv_suffix.csv": b"PK\x03\x04" + b"\x00" * 40,
    "broken.xlsx": b"this is not a workbook",
    "data.json": b"{}",
    "decimal_comma.csv": b"respondent_id;firm_employees;firm_export_ratio\nr1;12;3,5\nr2;40;12,25\n",
    "na_markers.csv": b"respondent_id,firm_employees\nr1,N/A\nr2,n/a\nr3,NA\nr4,#N/A\nr5,-\nr6,.\nr7,-99\nr8,5\n",
    "qualtrics_preview_spam.csv": _qualtrics_preview_spam(),
    "duplicate_submission.csv": _duplicate_submission(),
    "blank_line_middle.csv": b"respondent_id,firm_employees\nr1,5\n\nr2,7\n",
    "partly_missing_construct.csv": b"respondent_id,tk_1,tk_2,firm_employees\nr1,1,2,10\n",
}


def main() -> None:
    HERE.mkdir(exist_ok=True)
    for name, content in FILES.items():
        (HERE / name).write_bytes(content)
    (HERE / "gzip.csv.gz").write_bytes(gzip.compress(GOOD.encode(), mtime=0))
    (HERE / "a_folder").mkdir(exist_ok=True)
    (HERE / "a_folder" / "README").write_text("a folder given instead of a file\n")
    _cover_sheet_xlsx(HERE / "cover_sheet.xlsx")
    _sav(HERE / "codebook.sav", None)
    _sav(HERE / "sav_missing_99.sav", {"tk_1": [99]})  # 99 is user-missing in tk_1 only
    _dta(HERE / "codebook.dta")


if __name__ == "__main__":
    main()
