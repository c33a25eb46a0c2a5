"""Power-study speed: CPU time per replication per hypothesis model, the default grid's time, scaling.

Run: ``python -m benchmarks.power_speed [--ns 100,500,1000,1500] [--reps 4] [--scaling [--scaling-reps 20]]``.

1. Per replication (one synthetic study of N firms, all 16 hypotheses, theory world), measured in this
   process after the per-process templates are built: CPU seconds per hypothesis - its share of the
   data (generation, screening, scoring and model building, shared out equally) plus its own model
   fit (a model shared by H2-H4 is fitted once, counted under H2) and decision tests. CPU time, not
   wall time: on a shared machine wall time measures the other processes too.
2. The default grid (16 hypotheses x N = 100..1500 by 100 x 500 replications, theory world): the
   measured CPU per study, interpolated linearly in N over the 15 sizes, times 500, divided by the
   cores (2 here) - the wall time on an otherwise idle machine, plus the start-up of the workers
   (each builds its templates once: measured here too).
3. ``--scaling``: the same small grid (16 hypotheses or ``--scaling-hypotheses``, N = 200 and 300,
   ``--scaling-reps`` replications, default 20: blocks of 10) with 1 and 2 local workers and on a Dask
   ``LocalCluster`` of 2 worker processes; wall time from a cold start (fresh workers start and build
   their templates, ~4 s each, so a small grid understates what 2 workers gain on a long run), the
   speed-up over 1 worker, and whether the results are identical.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

GRID_NS = tuple(range(100, 1501, 100))
GRID_REPS = 500


def per_replication(ns, reps: int) -> pd.DataFrame:
    from analysis.power.replicate import Block, _template_specs, context, run_block, template

    hyps = tuple(h.id for h in context()[1].hypotheses)
    c0 = time.process_time()
    for key in _template_specs("theory", ()):
        template("theory", (), key)
    run_block(Block("theory", 200, (0,), hyps, 1))  # restricted-model templates and first-call costs
    startup = time.process_time() - c0
    rows = []
    for n in ns:
        c0 = time.process_time()
        f = run_block(Block("theory", n, tuple(range(1, reps + 1)), hyps, 1))
        total = (time.process_time() - c0) / reps
        per = f.drop_duplicates(["rep", "hypothesis"]).groupby("hypothesis", sort=False)["cpu.seconds"].mean()
        rows.append({"n": n, **per.to_dict(), "study": total})
    out = pd.DataFrame(rows).set_index("n")
    out.attrs["startup"] = startup
    return out


def grid_estimate(table: pd.DataFrame, cores: int = 2) -> dict:
    per_study = np.interp(GRID_NS, table.index.to_numpy(float), table["study"].to_numpy())
    cpu = float(per_study.sum() * GRID_REPS)
    return {"cpu_seconds": cpu, "wall_minutes_idle": cpu / cores / 60 + table.attrs.get("startup", 0) / 60,
            "studies": len(GRID_NS) * GRID_REPS}


def scaling(tmp: Path, hypotheses: str | None = None, reps: int = 20) -> pd.DataFrame:
    from analysis.power import power

    grid = {"hypotheses": hypotheses, "ns": "200,300", "reps": reps, "seed": 3, "recovery": False}
    rows, ref = [], None
    runs = [("1 local worker", {"workers": 1}), ("2 local workers", {"workers": 2}),
            ("Dask LocalCluster, 2 workers", {"cluster": True})]
    for label, how in runs:
        t0 = time.perf_counter()
        if how.get("cluster"):
            from distributed import LocalCluster

            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as c:
                    res = power(out=tmp / label.replace(" ", "_"), scheduler=c.scheduler_address, **grid)
        else:
            res = power(out=tmp / label.replace(" ", "_"), **how, **grid)
        wall = time.perf_counter() - t0
        cols = [c for c in res.replications.columns if c not in ("seconds", "cpu.seconds")]
        frame = res.replications.sort_values(["n", "rep", "hypothesis", "test"])[cols].reset_index(drop=True)
        same = True if ref is None else frame.equals(ref)
        ref = frame if ref is None else ref
        rows.append({"run": label, "wall seconds": round(wall, 1), "identical to 1 worker": same})
    table = pd.DataFrame(rows)
    table.insert(2, "speed-up", (table["wall seconds"].iloc[0] / table["wall seconds"]).round(2))
    return table


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ns", default="100,500,1000,1500")
    parser.add_argument("--reps", type=int, default=4)
    parser.add_argument("--scaling", action="store_true")
    parser.add_argument("--scaling-hypotheses", default=None, help="e.g. H5,H14 (default: all 16)")
    parser.add_argument("--scaling-reps", type=int, default=20, help="replications per N of the scaling grid")
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore")
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    table = per_replication([int(x) for x in args.ns.split(",")], args.reps)
    with pd.option_context("display.width", 250, "display.max_columns", 30):
        print("CPU seconds per replication and hypothesis (columns), by N (rows); 'study' = all 16 together:")
        print(table.round(3).to_string())
    est = grid_estimate(table)
    print(f"per-process start-up (templates): {table.attrs['startup']:.1f} s CPU")
    print(f"default grid ({est['studies']:,} studies): {est['cpu_seconds'] / 60:.0f} CPU minutes -> "
          f"about {est['wall_minutes_idle']:.0f} minutes on 2 idle cores")
    if args.scaling:
        with tempfile.TemporaryDirectory() as tmp:
            print(f"scaling grid: N = 200, 300 x {args.scaling_reps} replications")
            print(scaling(Path(tmp), args.scaling_hypotheses, args.scaling_reps).to_string(index=False))


if __name__ == "__main__":
    main()
