"""WLSMV fit speed (issue 14): ordinal fits side by side with a baseline run in this process, and lavaan.

Run: ``python -m benchmarks.wlsmv_speed`` (``--cases`` picks some, ``--repeat`` sets the repetitions
of the small case). Prints one table: the median wall time of our WLSMV fit, the same process's
baseline - our ML fit of the same model and data (items as continuous), a fixed reference workload
that makes the ratio comparable across machines and loads - and lavaan 0.6.14's time for the same
model, data and options when ``benchmarks/results/wlsmv_lavaan_speed.csv`` exists (``python -m
benchmarks.wlsmv_speed --export DIR`` then ``Rscript benchmarks/wlsmv_speed.R DIR``; R and lavaan are
not requirements of the package). The target is a tenth of lavaan's time.

Cases (data made here, deterministic):

* ``ord16x4`` - the 16-factor x 4-item CFA of :mod:`benchmarks.fit_speed` (N = 500, 5 categories,
  complete), ``ordered=True`` (WLSMV);
* ``instrument`` - the instrument's full measurement model (135 items, 40 first-order and 3
  second-order factors) on N = 3,000 theory-world firms with the generator's default missingness,
  7-point items as ordinal, WLSMV with ``missing="pairwise"`` (listwise deletion would leave few
  firms).

Our times include everything ``fit()`` returns: thresholds, polychoric correlations and their
asymptotic covariance matrix, estimates, robust standard errors, the scaled-shifted test, the
baseline model, every fit index (the robust ones need the catML statistics), the standardized
solution.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from benchmarks.fit_speed import RESULTS, make_data, make_instrument, timed
from benchmarks.speed_cli import run_cases_main

CASES = ("ord16x4", "instrument")
LAVAAN_FILE = RESULTS / "wlsmv_lavaan_speed.csv"


def run(cases: tuple[str, ...], repeat: int) -> list[dict]:
    from analysis.sem.fit import fit

    rows = []
    if "ord16x4" in cases:
        model, data = make_data()
        t, res = timed(lambda: fit(model, data, ordered=True), repeat)
        b, _ = timed(lambda: fit(model, data), repeat)
        rows.append(dict(case="16x4 CFA N=500, 5 categories, WLSMV", ours=t, baseline=b,
                         base_name="our ML fit, same data", lavaan_key="ord16x4_WLSMV",
                         note=f"chisq.scaled {res.fit_measures['chisq.scaled']:.3f}"))
    if "instrument" in cases:
        model, data = make_instrument()
        t, res = timed(lambda: fit(model, data, ordered=True, missing="pairwise"), 1)
        # listwise deletion leaves too few complete firms for an ML fit of 135 items (and FIML takes
        # minutes): the baseline is the fixed workload of the small case, our ML fit of the 16x4 CFA
        small_model, small_data = make_data()
        b, _ = timed(lambda: fit(small_model, small_data), repeat)
        rows.append(dict(case="instrument 135 items/43 factors N=3000, WLSMV pairwise", ours=t, baseline=b,
                         base_name="our ML fit of the 16x4 CFA", lavaan_key="instrument_WLSMV",
                         note=f"chisq.scaled {res.fit_measures['chisq.scaled']:.3f}"))
    return rows


def _lavaan_times() -> dict[str, tuple[float, str]]:
    if not LAVAAN_FILE.exists():
        return {}
    frame = pd.read_csv(LAVAAN_FILE)
    return {r.case: (float(r.seconds), str(r.status)) for r in frame.itertuples()}


def _seconds(x: float) -> str:
    return f"{x * 1000:.1f} ms" if x < 0.1 else f"{x:.3g} s"


def report(rows: list[dict]) -> str:
    lav = _lavaan_times()
    head = (f"{'case':<56}{'ours':>10}{'baseline':>10}{'ratio':>8}{'lavaan':>12}{'ours/lavaan':>13}"
            "   baseline is")
    lines = [head, "-" * len(head)]
    for r in rows:
        secs, status = lav.get(r["lavaan_key"], (float("nan"), ""))
        shown = "" if not status else (f"{secs:.3g} s" if status == "ok" else f"> {secs:.0f} s")
        ratio = f"{r['ours'] / secs:.3f}" if status == "ok" else ""
        lines.append(f"{r['case']:<56}{_seconds(r['ours']):>10}{_seconds(r['baseline']):>10}"
                     f"{r['ours'] / r['baseline']:>8.2f}{shown:>12}{ratio:>13}   {r['base_name']}")
    lines.append("times: median wall seconds in this process; ratio = ours / baseline; target: ours / lavaan "
                 "<= 0.1.")
    lines += [f"  {r['case']}: {r['note']}" for r in rows]
    return "\n".join(lines)


def export(folder: Path) -> None:
    """Write the cases' data and models for ``benchmarks/wlsmv_speed.R``."""
    folder.mkdir(parents=True, exist_ok=True)
    model, data = make_data()
    data.to_csv(folder / "ord16x4.csv", index=False)
    (folder / "ord16x4.lav").write_text(model + "\n")
    model, data = make_instrument()
    data.to_csv(folder / "instrument.csv", index=False, na_rep="NA")
    (folder / "instrument.lav").write_text(model)


def main(argv: list[str] | None = None) -> None:
    run_cases_main(argv, description=__doc__.splitlines()[0], cases=CASES,
                   repeat_help="repetitions of the small case (median)", r_script="wlsmv_speed.R",
                   title="WLSMV fit speed (issue 14)", run=run, report=report, export=export)


if __name__ == "__main__":
    main()
