"""Write the malformed-file corpus under corpus/ (run: python tests/data/ingest/make_corpus.py).

Each file is small and written byte by byte here so that it can be reviewed;
tests/analysis/ingest/test_corpus.py asserts the outcome of each.
"""

from __future__ import annotations

import gzip
from pathlib import Path

HERE = Path(__file__).resolve().parent / "corpus"
GOOD = "respondent_id,tk_1,tk_2\nr1,1,2\nr2,3,4\n"

FILES: dict[str, bytes] = {
    "empty.csv": b"",
    "header_only.csv": b"respondent_id,tk_1,tk_2\n",
    "truncated_last_line.csv": b"respondent_id,tk_1,tk_2\nr1,1,2\nr2,3",
    "semicolon.csv": GOOD.replace(",", ";").encode(),
    "tab.tsv": GOOD.replace(",", "\t").encode(),
    "pipe.txt": GOOD.replace(",", "|").encode(),
    "bom.csv": b"\xef\xbb\xbf" + GOOD.encode(),
    "utf16.csv": GOOD.encode("utf-16"),
    "latin1.csv": "respondent_id,tk_1,firm_cluster_org\nr1,1,Caf\xe9 Verband\n".encode("latin-1"),
    "binary_garbage.csv": bytes(range(256)) * 4,
    "duplicated_header.csv": b"respondent_id,tk_1,tk_1\nr1,1,2\n",
    "title_row.csv": b"Export of 2 December\n" + GOOD.encode(),
    "bad_values.csv": b"respondent_id,tk_1\nr1,N/A\nr2,seven\nr3,8\nr4,99\nr5,0\nr6,7\n",
    "formula.csv": b'respondent_id,tk_1,firm_cluster_org\nr1,1,"=HYPERLINK(""http://x"",""y"")"\nr2,2,@SUM(A1)\n',
    "wide_2000_columns.csv": (",".join(["respondent_id", "tk_1"] + [f"x{i}" for i in range(1998)]) + "\n"
                              + ",".join(["r1", "5"] + ["0"] * 1998) + "\n").encode(),
    "duplicate_ids.csv": b"respondent_id,tk_1\nr1,1\nr1,2\nr2,3\n",
    "empty_rows.csv": b"respondent_id,tk_1\nr1,1\n\n,\nr2,2\n",
    "crlf.csv": GOOD.replace("\n", "\r\n").encode(),
    "not_codebook.csv": b"a,b,c\n1,2,3\n",
    "zip_with_csv_suffix.csv": b"PK\x03\x04" + b"\x00" * 40,
    "broken.xlsx": b"this is not a workbook",
    "data.json": b"{}",
}


def main() -> None:
    HERE.mkdir(exist_ok=True)
    for name, content in FILES.items():
        (HERE / name).write_bytes(content)
    (HERE / "gzip.csv.gz").write_bytes(gzip.compress(GOOD.encode(), mtime=0))
    (HERE / "a_folder").mkdir(exist_ok=True)
    (HERE / "a_folder" / "README").write_text("a folder given instead of a file\n")


if __name__ == "__main__":
    main()
