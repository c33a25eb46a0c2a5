"""Write qualtrics_choice_text_300.csv.gz (run: python tests/data/ingest/make_choice_text_300.py).

A Qualtrics choice-text export (answers as labels) of N = 300 generated respondents with every realism
knob on (missingness, careless responders, straight-liners, attention failures, partials, durations,
page timers), with a handful of cells and rows planted so that every kind of cells.csv and rows.csv
line appears: missing markers, the platform missing code, text in a numeric item, out-of-range codes,
an impossible founding year, a formula and a line break in a text answer, labels written in other
forms, a survey preview, a repeated respondent id, an empty line and a duplicate submission.

tests/analysis/ingest/test_ingest_bytes.py pins the SHA-256 of ingest's outputs on this file. The
file (not this script) is the test input: a change to the generator does not change it.
"""

from __future__ import annotations

import csv
import gzip
import io
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
TARGET = HERE / "qualtrics_choice_text_300.csv.gz"

#: (data row, 1-based; column; new cell)
PLANTED = [
    (5, "tk_1", "N/A"), (5, "tk_2", " n/a "), (6, "tk_2", "-99"), (7, "tk_3", "seven"), (8, "tk_4", "9"),
    (8, "firm_employees", "12000"), (9, "firm_founded", "2015"), (9, "firm_first_foreign_sale", "1999"),
    (10, "firm_cluster_org", '=HYPERLINK("http://example.org","x")'), (11, "mk_1", "  strongly AGREE  "),
    (12, "mk_2", "7 - Strongly agree"), (12, "mk_3", "2 - Strongly agree"), (14, "Status", "1"),
    (16, "firm_cluster_org", "Cluster, line one\nline two"), (17, "firm_export_ratio", "12,5"),
]


def build() -> bytes:
    from synthetic_data.generate import generate
    from synthetic_data.knobs import Knobs
    from synthetic_data.writers import write_data

    knobs = Knobs(mcar=0.05, mar=0.05, careless=0.1, straightliners=0.05, acquiescence_sd=0.3,
                  attention_fail=0.1, partial=0.15, durations=True, page_durations=True)
    gen = generate(n=300, seed=20261203, knobs=knobs)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "q.csv"
        write_data(gen, path, "qualtrics", labels=True)
        rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"), newline="")))
    names, header, data = rows[0], rows[:3], rows[3:]
    col = {name: k for k, name in enumerate(names)}
    for row, name, value in PLANTED:
        data[row - 1][col[name]] = value
    data[15][col["ExternalReference"]] = data[14][col["ExternalReference"]]  # row 16 repeats row 15's id
    twin = list(data[19])  # row 21 onwards: a duplicate submission of row 20 under another id
    twin[col["ExternalReference"]] = "b9999999"
    twin[col["ResponseId"]] = "R_duplicateSubmission1"
    data.insert(20, twin)
    data.insert(30, [""] * len(names))  # an empty line (all delimiters)
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(header + data)
    return buf.getvalue().encode("utf-8")


if __name__ == "__main__":
    TARGET.write_bytes(gzip.compress(build(), compresslevel=9, mtime=0))
    print(f"wrote {TARGET} ({TARGET.stat().st_size:,} bytes)")
