"""Quality-report speed: N = 200,000 firms, all modules, default knobs (goal: well under 60 s).

Run: ``python -m benchmarks.quality_speed [--n 200000]``. The responses come straight from the
generator as an :class:`~analysis.ingest.pipeline.IngestResult` (every row kept, no cell changed), so
only :func:`analysis.report.quality.quality_report` and :func:`write_quality` are timed, not ingest.
Prints the time of each and the peak resident memory of the process.
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=200_000)
    args = parser.parse_args(argv)
    from analysis.ingest.cell_log import CellLog
    from analysis.ingest.pipeline import IngestResult
    from analysis.report.quality import quality_report, write_quality
    from instrument import load_instrument
    from synthetic_data.generate import generate

    inst = load_instrument()
    gen = generate(n=args.n, seed=1)
    data = gen.data.reset_index(drop=True)
    rows = pd.DataFrame({"source_row": np.arange(1, len(data) + 1), "respondent": data["respondent_id"],
                         "status": "kept", "reasons": ""})
    result = IngestResult(data, rows, CellLog((), rows["source_row"].to_numpy()),
                          {"input": "generated", "format": "csv", "detected_by": "generator", "rows_read": len(data)})
    t0 = time.perf_counter()
    report = quality_report(result, inst)
    t_report = time.perf_counter() - t0
    with tempfile.TemporaryDirectory() as tmp:
        t1 = time.perf_counter()
        paths = write_quality(report, Path(tmp))
        t_write = time.perf_counter() - t1
        sizes = ", ".join(f"{p.name} {p.stat().st_size / 1e6:.2f} MB" for p in paths)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"quality report: N = {args.n:,} firms, all modules ({data.shape[1]} columns)")
    print(f"  quality_report {t_report:6.2f} s   write_quality {t_write:6.2f} s   total {t_report + t_write:6.2f} s")
    print(f"  {sizes}; peak RSS {peak:,.0f} MB (generator included)")
    for note in report.notes:
        print(f"  note: {note}")


if __name__ == "__main__":
    main()
