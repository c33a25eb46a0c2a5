"""Ingest speed: a Qualtrics export of N = 200,000 respondents x the full questionnaire (goal: under 60 s
and under 2 GB peak memory on the 2-core reference machine).

Run: ``python -m benchmarks.ingest_speed [--n 200000] [--profile]``. Generates the export with the
synthetic-data generator (``write_data(fmt="qualtrics")``, in chunks of ``--chunk`` respondents appended
to one file), then runs :func:`analysis.ingest.pipeline.ingest` on it in a child process, so that its peak
memory is the child's own (``resource.getrusage(RUSAGE_CHILDREN).ru_maxrss``, read after the child ends;
nothing else runs as a child before it). Prints the ingest time, the child's peak memory and the ratio
against a baseline run in this process: ``pandas.read_csv`` of the same file (all cells as text) - the
least any reader of this file must spend. ``--profile`` also prints the child's cProfile top entries.

Measured on the 2-core reference machine (200,000 respondents x 189 columns, outputs written; other
jobs running alongside - "load" is the 1-minute load average - so +-20 % and more):

=============================================  ========  ==========  ==================
version                                        ingest()  peak (RSS)  vs pandas.read_csv
=============================================  ========  ==========  ==================
numeric-values export (96 MB)
before (a Python loop over every cell), 2 Dec   148.2 s     2.94 GB  ~70x
one decision per distinct value, 2 Dec           27.2 s     1.76 GB  13.2x (2.06 s)
the same, 3 Dec (pyarrow in the venv), load 3    25.4 s     1.96 GB  6.6x (3.84 s)
text freed as read, streamed logs, load 3         9.4 s     0.97 GB  2.8x (3.31 s)
choice-text export (``--labels``, 567 MB)
one decision per distinct value, load 7           210 s     6.64 GB
the same, load 3.5                              155.2 s     6.64 GB  13.1x (11.87 s)
text freed as read, streamed logs, load 7        37.3 s     1.37 GB  3.7x (10.03 s)
the same, load 3                                 27.6 s     1.37 GB  2.7x (10.16 s)
=============================================  ========  ==========  ==================

The choice-text export has every answer as a label, recoded to its code and logged: 30.9 million
lines of cells.csv (1.43 GB).

Where the time went (cProfile, 20,000 rows before / 200,000 rows after): before the distinct-value
design, 83 % in the per-cell loop of ``_clean_cells`` (``recode_value`` / ``_norm`` 3 million calls each)
and, at 200,000 rows, 35 s in ``DataFrame.to_csv`` formatting every float; with it, reading the text file
into cells (``tables.read_text_table``, csv.reader + DataFrame, ~9 s) and the Qualtrics mapping (~5 s)
led, then factorizing the columns (~6 s over all steps), cleaning (~6 s) and writing the CSVs (~6 s).

The choice-text export (every cell a label of 10-40 characters, where the numeric export's mostly
one-character codes are shared Python objects) then took 6.64 GB and 155-210 s. Profile of 20,000 rows
(57 MB, 3.1 million logged cells; 15.5 s, peak 1.12 GB): reading 3.8 s and 0.6 GB - ``csv.reader`` made
a Python list of 3.8 million Python strings (~75 bytes each), padded into a second list of lists, which
pandas turned into a 2-D object array and then into Arrow string columns; writing cells.csv 8.7 s and
the peak - a data frame per chunk of 10,000 rows built from object arrays (under cProfile: pandas
converting them to Arrow strings 4.2 s, ``sort_values`` 2.2 s, ``csv.writer`` over the frame 5.7 s); the cells log
itself held a row number and a table index per logged cell (16 bytes x 30.9 million = 0.5 GB at 200,000
rows), and responses.csv was formatted into one string (~0.7 GB with its per-cell arrays). Now: the file
is read by pyarrow's CSV reader straight into Arrow string columns (~4 s, ~1 GB of text for 567 MB;
``tables.read_text_table`` falls back to csv.reader where the two readers could differ), each column is
factorized once and its text dropped and returned to the system as it is (``pipeline._factorize_columns``:
the peak is the read), the cells log keeps one byte per row and column (``cell_log.ColumnPart``) and
writes cells.csv (1.43 GB) chunk by chunk from per-value line tails without a frame or a sort (~7 s, of
which ~4 s is writing the bytes), and the other CSVs are written in 20,000-row chunks joined by pyarrow
(~3.4 s). At 200,000 rows (cProfile, load 3, 22 s in all): writing cells.csv 6.9 s, reading 4.1 s, responses.csv + rows.csv
3.4 s, factorizing 2.1 s, the Qualtrics mapping 1.6 s, cleaning 1.5 s (pandera's checks 1.4 s).
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

GOAL_SECONDS = 60.0
GOAL_GB = 2.0

#: Run in the child: ingest the file, print the seconds spent in ingest() (imports not counted) as JSON.
_CHILD = """
import cProfile, io, json, pstats, sys, time
from analysis.ingest.pipeline import ingest
from instrument import load_instrument
path, out, profile = sys.argv[1], sys.argv[2], sys.argv[3] == "1"
inst = load_instrument()
prof = cProfile.Profile() if profile else None
t0 = time.perf_counter()
if prof:
    prof.enable()
res = ingest(path, out, instrument=inst)
if prof:
    prof.disable()
seconds = time.perf_counter() - t0
top = ""
if prof:
    buf = io.StringIO()
    pstats.Stats(prof, stream=buf).sort_stats("cumulative").print_stats(18)
    top = buf.getvalue()
print(json.dumps({"seconds": seconds, "rows": len(res.rows), "kept": int((res.rows["status"] == "kept").sum()),
                  "cells": len(res.cell_log), "top": top}))
"""


def write_export(n: int, chunk: int, path: Path, labels: bool = False) -> int:
    """Write a Qualtrics CSV export of ``n`` generated respondents to ``path``; returns the number of columns.

    Chunks are generated with different seeds; each chunk's three header rows are dropped after the
    first, and respondent ids (``ExternalReference``) are renumbered so that they stay unique."""
    from synthetic_data.generate import generate
    from synthetic_data.writers import write_data

    ncols = 0
    with open(path, "w", encoding="utf-8", newline="\n") as fh, tempfile.TemporaryDirectory() as tmp:
        done = 0
        while done < n:
            size = min(chunk, n - done)
            gen = generate(n=size, seed=1 + done // chunk)
            gen.data["respondent_id"] = [f"b{done + i + 1:07d}" for i in range(size)]
            part = Path(tmp) / "part.csv"
            write_data(gen, part, fmt="qualtrics", labels=labels)
            lines = part.read_text(encoding="utf-8").splitlines(keepends=True)
            ncols = len(lines[0].split(","))
            fh.writelines(lines if done == 0 else lines[3:])
            done += size
    return ncols


def baseline(path: Path) -> float:
    """Seconds for ``pandas.read_csv`` to read the export's data rows, every cell as text."""
    t0 = time.perf_counter()
    pd.read_csv(path, skiprows=[1, 2], dtype=str, keep_default_na=False)
    return time.perf_counter() - t0


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=200_000)
    parser.add_argument("--chunk", type=int, default=50_000)
    parser.add_argument("--profile", action="store_true", help="print the child's cProfile top entries")
    parser.add_argument("--labels", action="store_true", help="the choice-text export (answers as labels, every "
                        "answer recoded and logged in cells.csv) instead of numeric values")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "qualtrics.csv"
        t0 = time.perf_counter()
        ncols = write_export(args.n, args.chunk, path, args.labels)
        t_write = time.perf_counter() - t0
        size_mb = path.stat().st_size / 1e6
        t1 = time.perf_counter()
        proc = subprocess.run([sys.executable, "-c", _CHILD, str(path), str(Path(tmp) / "out"),
                               "1" if args.profile else "0"], capture_output=True, text=True, check=False)
        t_child = time.perf_counter() - t1
        if proc.returncode != 0:
            raise SystemExit(f"ingest child failed:\n{proc.stderr}")
        child = json.loads(proc.stdout.strip().splitlines()[-1])
        peak_gb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024 / 1e9  # Linux: kilobytes
        t_base = baseline(path)
    print(f"ingest speed: Qualtrics {'choice-text' if args.labels else 'numeric-values'} export, N = {args.n:,} respondents x {ncols} columns ({size_mb:.0f} MB; "
          f"written in {t_write:.1f} s)")
    print(f"  ingest() {child['seconds']:6.2f} s (child process {t_child:.2f} s with imports)   "
          f"peak memory {peak_gb:.2f} GB   (goal < {GOAL_SECONDS:.0f} s, < {GOAL_GB:.0f} GB)")
    print(f"  rows {child['rows']:,} ({child['kept']:,} kept), cells logged {child['cells']:,}")
    print(f"  baseline (pandas.read_csv, all cells as text) {t_base:6.2f} s; ratio {child['seconds'] / t_base:.2f}")
    if args.profile:
        print(child["top"])


if __name__ == "__main__":
    main()
