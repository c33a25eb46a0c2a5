"""Fit speed (issue 13): every target side by side, with ratios against baselines run in this process.

Run: ``python -m benchmarks.fit_speed`` (all cases; ``--cases`` picks some, ``--repeat`` sets the
repetitions of the fast ones). Prints one table: the median wall time of our fits, the same
process's semopy baseline and the ratio ``ours / baseline`` (below 1 = faster), the target, and
lavaan 0.6.14's time for the same model and options when ``benchmarks/results/lavaan_speed.csv``
exists (``Rscript benchmarks/lavaan_speed.R DIR`` after ``python -m benchmarks.fit_speed --export
DIR``; R and lavaan are not requirements of the package).

Cases (data made here, deterministic):

* ``cfa16x4`` - 16-factor x 4-item CFA, N = 500, 5-point items, complete: ``fit()`` ML and MLR
  against semopy's ``Model.fit`` + ``inspect()`` (robust: ``inspect(se_robust=True)``);
* ``fiml16x4`` - the same with 10% of the answers missing completely at random (nearly one
  pattern per respondent), FIML ML and MLR (target < 2 s each). semopy's FIML takes 39 s for 4
  of the 16 factors, so the baseline is its complete-data fit of the whole model - a fixed
  reference workload that makes the ratio comparable across machines and loads;
* ``instrument`` - the instrument's full measurement model (135 items, 40 first-order and 3
  second-order factors), N = 3,000 theory-world firms with the generator's default
  missingness, MLR + FIML (target < 30 s); baseline as for ``fiml16x4``;
* ``hs`` - the 3-factor CFA on HolzingerSwineford1939 (9 items, N = 301): a full ``fit()``
  (target < 8 ms) and a lean ``refit()`` of a bootstrap resample, warm-started (target < 2 ms),
  against semopy's ``Model.fit`` of the same data;
* ``bootstrap`` - 1,000 bootstrap draws of the PoliticalDemocracy mediation model (indirect
  effect ``a*b``), in one process and on all cores; compare lavaan's ``se = "bootstrap"``.

Our full fits include everything ``fit()`` returns (standard errors, tests, baseline model,
every fit index, the standardized solution).
"""

from __future__ import annotations

import statistics
import time
from pathlib import Path

import numpy as np
import pandas as pd

from benchmarks.speed_cli import run_cases_main

N_FACTORS, N_ITEMS, N = 16, 4, 500
RESULTS = Path(__file__).resolve().parent / "results"
REFERENCE = Path(__file__).resolve().parents[1] / "tests" / "results" / "lavaan"
HS_MODEL = "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nspeed =~ x7 + x8 + x9\n"
MEDIATION_MODEL = """
ind60 =~ x1 + x2 + x3
dem60 =~ y1 + y2 + y3 + y4
dem65 =~ y5 + y6 + y7 + y8
dem60 ~ a*ind60
dem65 ~ c*ind60 + b*dem60
y1 ~~ y5
y2 ~~ y4 + y6
y3 ~~ y7
y4 ~~ y8
y6 ~~ y8
indirect := a*b
"""
CASES = ("cfa16x4", "fiml16x4", "instrument", "hs", "bootstrap")


def make_data(seed: int = 20261123) -> tuple[str, pd.DataFrame]:
    """Population CFA with loadings 0.6-0.8, factor correlations 0.3, cut into 5 skewed categories."""
    rng = np.random.default_rng(seed)
    phi = np.full((N_FACTORS, N_FACTORS), 0.3) + 0.7 * np.eye(N_FACTORS)
    f = rng.multivariate_normal(np.zeros(N_FACTORS), phi, size=N)
    cols, lines = {}, []
    cuts = np.array([-1.2, -0.3, 0.5, 1.4])
    for k in range(N_FACTORS):
        names = []
        for j in range(N_ITEMS):
            lam = rng.uniform(0.6, 0.8)
            y = lam * f[:, k] + np.sqrt(1 - lam ** 2) * rng.normal(size=N)
            name = f"f{k + 1}_{j + 1}"
            cols[name] = np.searchsorted(cuts, y) + 1
            names.append(name)
        lines.append(f"F{k + 1} =~ " + " + ".join(names))
    return "\n".join(lines), pd.DataFrame(cols)


def make_mcar(rate: float = 0.10, seed: int = 1) -> tuple[str, pd.DataFrame]:
    """:func:`make_data` with ``rate`` of the answers missing completely at random."""
    model, data = make_data()
    data = data.astype(float)
    return model, data.mask(np.random.default_rng(seed).random(data.shape) < rate)


def make_instrument(n: int = 3000, seed: int = 20261123) -> tuple[str, pd.DataFrame]:
    """The instrument's measurement model (all modules) and theory-world data with the default knobs."""
    from instrument import load_instrument
    from synthetic_data.generate import generate

    inst = load_instrument()
    syntax = inst.lavaan_syntax([m for m in ("M1", "M2", "M3", "M4", "M5")])
    items = []
    for line in syntax.splitlines():
        rhs = line.split("#")[0].split("=~")
        if len(rhs) == 2:
            items += [t.strip() for t in rhs[1].split("+") if t.strip()[:1].islower()]
    data = generate(world="theory", n=n, seed=seed).data
    return syntax, data[items].apply(pd.to_numeric, errors="coerce")


def timed(fn, repeat: int) -> tuple[float, object]:
    """Median wall time of ``repeat`` calls and the last result."""
    times, out = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), out


def _semopy_fit(model: str, data: pd.DataFrame, robust: bool = False):
    """semopy as a user would write it, on one BLAS thread like our fit core (with its default
    threads it ran 10-20x slower on the busy 2-core machine these figures come from)."""
    import semopy
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1, user_api="blas"):
        m = semopy.Model(model)
        m.fit(data)
        return m.inspect(se_robust=robust) if robust else m.inspect()


def run(cases: tuple[str, ...], repeat: int) -> list[dict]:
    """Time the cases; one row per measurement (seconds)."""
    from analysis.sem.fit import fit, refit

    rows: list[dict] = []
    model, data = make_data()
    data_float = data.astype(float)  # semopy's robust SEs fail on integer columns under numpy 2
    reference = None

    def reference_time() -> float:  # semopy ML on the complete 16x4 CFA: the fixed reference workload
        nonlocal reference
        if reference is None:
            reference = timed(lambda: _semopy_fit(model, data_float), repeat)[0]
        return reference

    if "cfa16x4" in cases:
        for est, robust in (("ML", False), ("MLR", True)):
            t, _ = timed(lambda est=est: fit(model, data, estimator=est), repeat)
            b, _ = timed(lambda robust=robust: _semopy_fit(model, data_float, robust), repeat)
            rows.append(dict(case=f"16x4 CFA N=500 complete, {est}", ours=t, baseline=b,
                             base_name="semopy fit+inspect", target=None, lavaan_key=None))
    if "fiml16x4" in cases:
        m_model, m_data = make_mcar()
        for est in ("ML", "MLR"):
            t, _ = timed(lambda est=est: fit(m_model, m_data, estimator=est, missing="fiml"),
                         max(1, repeat // 2))
            rows.append(dict(case=f"16x4 CFA N=500 10% MCAR, FIML {est}", ours=t, baseline=reference_time(),
                             base_name="semopy ML complete 16x4", target=2.0, lavaan_key=f"fiml16x4_{est}"))
    if "instrument" in cases:
        i_model, i_data = make_instrument()
        t, _ = timed(lambda: fit(i_model, i_data, estimator="MLR", missing="fiml"), 1)
        rows.append(dict(case="instrument 135 items/43 factors N=3000, MLR FIML", ours=t,
                         baseline=reference_time(), base_name="semopy ML complete 16x4", target=30.0,
                         lavaan_key="instrument_MLR"))
    if "hs" in cases:
        hs = pd.read_csv(REFERENCE / "HolzingerSwineford1939.csv")
        n_rep = max(50, 20 * repeat)
        t_fit, res = timed(lambda: fit(HS_MODEL, hs), n_rep)
        x = hs[list(res.partable.variables.ov)].to_numpy(dtype=float)
        rng = np.random.default_rng(1)
        samples = [x[rng.integers(0, len(x), len(x))] for _ in range(4 * n_rep)]
        it = iter(samples)
        t_refit, _ = timed(lambda: refit(res.estimation, [next(it)], fiml=False), 4 * n_rep)
        hs_cols = [f"x{i}" for i in range(1, 10)]
        b, _ = timed(lambda: _semopy_fit(HS_MODEL, hs[hs_cols]), n_rep)
        rows.append(dict(case="HS 3-factor CFA N=301, full fit()", ours=t_fit, baseline=b,
                         base_name="semopy fit+inspect", target=0.008, lavaan_key="hs_fit"))
        rows.append(dict(case="HS 3-factor CFA, lean refit (resample)", ours=t_refit, baseline=b,
                         base_name="semopy fit+inspect", target=0.002, lavaan_key=None))
    if "bootstrap" in cases:
        from analysis.sem.bootstrap import bootstrap

        pdem = pd.read_csv(REFERENCE / "PoliticalDemocracy.csv")
        res = fit(MEDIATION_MODEL, pdem)
        for jobs in (1, -1):
            t, _ = timed(lambda jobs=jobs: bootstrap(res, 1000, seed=1, n_jobs=jobs), 1)
            rows.append(dict(case=f"PoliticalDemocracy mediation, bootstrap 1000 (n_jobs={jobs})", ours=t,
                             baseline=reference_time(), base_name="semopy ML complete 16x4", target=None,
                             lavaan_key="bootstrap_1000"))
    return rows


def _lavaan_times() -> dict[str, str]:
    path = RESULTS / "lavaan_speed.csv"
    if not path.exists():
        return {}
    frame = pd.read_csv(path)
    out = {}
    for r in frame.itertuples():
        out[r.case] = f"{r.seconds:.3g} s" if r.status == "ok" else f"> {r.seconds:.0f} s ({r.status})"
    return out


def _seconds(x: float) -> str:
    return f"{x * 1000:.2f} ms" if x < 0.1 else f"{x:.3g} s"


def report(rows: list[dict]) -> str:
    """The table: ours, baseline, ratio, target, lavaan."""
    lav = _lavaan_times()
    head = f"{'case':<58}{'ours':>11}{'baseline':>11}{'ratio':>8}{'target':>10}{'lavaan':>16}   baseline is"
    lines = [head, "-" * len(head)]
    for r in rows:
        target = "" if r["target"] is None else ("< " + _seconds(r["target"]))
        lines.append(f"{r['case']:<58}{_seconds(r['ours']):>11}{_seconds(r['baseline']):>11}"
                     f"{r['ours'] / r['baseline']:>8.2f}{target:>10}{lav.get(r['lavaan_key'], ''):>16}"
                     f"   {r['base_name']}")
    lines.append("times: median wall seconds in this process; ratio = ours / baseline (below 1: faster).")
    return "\n".join(lines)


def export(folder: Path) -> None:
    """Write the cases' data and models for ``benchmarks/lavaan_speed.R``."""
    folder.mkdir(parents=True, exist_ok=True)
    m_model, m_data = make_mcar()
    m_data.to_csv(folder / "fiml16x4.csv", index=False, na_rep="NA")
    (folder / "fiml16x4.lav").write_text(m_model + "\n")
    i_model, i_data = make_instrument()
    i_data.to_csv(folder / "instrument.csv", index=False, na_rep="NA")
    (folder / "instrument.lav").write_text(i_model)
    (folder / "hs.lav").write_text(HS_MODEL)
    (folder / "mediation.lav").write_text(MEDIATION_MODEL)


def main(argv: list[str] | None = None) -> None:
    run_cases_main(argv, description=__doc__.splitlines()[0], cases=CASES,
                   repeat_help="repetitions of the fast cases (median)", r_script="lavaan_speed.R",
                   title="fit speed (issue 13)", run=run, report=report, export=export)


if __name__ == "__main__":
    main()
