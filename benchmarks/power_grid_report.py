"""Summarise finished power studies as text (what ``benchmarks/results/power_grid.txt`` holds).

    python -m benchmarks.power_grid_report OUT [OUT ...]

OUT is a folder written by ``smesurvey power``. For each: the power table (share supported after
Holm; in the null world the false-positive rate, ``FAMILY`` = any supported), the N for 80% and 90%
power with its interval, recovery at a few N, the non-convergence / improper / skipped rates, and
the CPU seconds per study measured inside the workers (``replications.parquet``).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pandas as pd

ORDER = [f"H{i}" for i in range(1, 17)] + ["FAMILY"]


def _ordered(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.reindex([h for h in ORDER if h in frame.index])


def report(out: Path) -> str:
    prov = json.loads((out / "provenance.json").read_text(encoding="utf-8"))
    power = pd.read_csv(out / "power.csv", keep_default_na=False, na_values=[""])  # world "null" is no NaN
    lines = [f"== {out}: worlds {'/'.join(prov['worlds'])}, N = {prov['ns'][0]}..{prov['ns'][-1]}, "
             f"{prov['reps']} replications, seed {prov['seed']} =="]
    for world, p in power.groupby("world", sort=False):
        what = "power (share supported after Holm)" if world == "theory" else \
            "false-positive rate after Holm (FAMILY: any hypothesis supported = family-wise error rate)"
        lines += [f"-- {world} world: {what} --",
                  _ordered(p.pivot(index="hypothesis", columns="n", values="power")).round(3).to_string(), ""]
        lines += ["same without the Holm step (unadjusted one-sided p < alpha):",
                  _ordered(p[p.hypothesis != "FAMILY"].pivot(index="hypothesis", columns="n",
                                                               values="power.unadjusted")).round(3).to_string(), ""]
        rates = p[p.hypothesis != "FAMILY"].groupby("hypothesis")[["nonconverged", "improper", "skipped"]].mean()
        lines += ["non-convergence, improper-solution and skipped rates (mean over N):",
                  _ordered(rates).round(4).to_string(), ""]
    sizes = pd.read_csv(out / "sample_size.csv", keep_default_na=False, na_values=[""])
    theory = sizes[sizes.world == "theory"]
    if len(theory):
        wide = theory.pivot(index="hypothesis", columns="target", values=["n.required", "n.lower", "n.upper"])
        wide.columns = [f"{a} {b:.0%}" for a, b in wide.columns]
        lines += ["-- theory world: smallest N for 80% / 90% power (interpolated; interval where the Wilson "
                  "bounds cross) --", _ordered(wide).round(0).to_string(), ""]
    rec_path = out / "recovery.csv"
    if rec_path.exists():
        rec = pd.read_csv(rec_path, keep_default_na=False, na_values=[""])
        ns = [n for n in (300, 1000, 1500) if n in set(rec.n)]
        cols = ["hypothesis", "test", "n", "true", "bias", "relative.bias", "rmse", "coverage.95",
                "coverage.simultaneous", "se.ratio"]
        lines += [f"-- recovery (standardized) at N = {', '.join(map(str, ns))} --",
                  rec[rec.n.isin(ns)].sort_values(["n"], kind="stable")[cols].round(3).to_string(index=False), ""]
    reps = pd.read_parquet(out / "replications.parquet", columns=["world", "n", "rep", "hypothesis", "cpu.seconds"])
    per_study = reps.drop_duplicates(["world", "n", "rep", "hypothesis"]).groupby(["world", "n", "rep"])["cpu.seconds"].sum()
    by_n = per_study.groupby(level=["world", "n"]).agg(["mean", "median", "max"]).round(3)
    lines += ["-- CPU seconds per study inside the workers (all hypotheses of one replication) --",
              by_n.unstack("n").to_string(), f"total: {per_study.sum() / 60:.1f} CPU minutes", ""]
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out", nargs="+", type=Path)
    for out in ap.parse_args().out:
        print(report(out))


if __name__ == "__main__":
    main()
