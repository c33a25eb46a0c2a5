"""Fit speed: a 16-factor x 4-item CFA (N = 500, 5-point items), ML and MLR, against plain semopy.

Run: ``python -m benchmarks.fit_speed [--repeat 5]``. Prints the median wall time of
each fit and the ratio ``ours / semopy`` (below 1 = faster), both measured in
this process on the same data. The semopy baseline is what a user would write:
``Model(desc).fit(data)`` followed by ``inspect()`` for the estimates and standard
errors (``inspect(se_robust=True)`` for the robust counterpart of MLR - semopy's
sandwich is the MLM kind, the nearest it has). Our fits include everything
``fit()`` returns: standard errors, test statistics, the baseline model, fit
indices and the standardized solution.
"""

from __future__ import annotations

import argparse
import statistics
import time
import warnings

import numpy as np
import pandas as pd

N_FACTORS, N_ITEMS, N = 16, 4, 500


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


def timed(fn, repeat: int) -> tuple[float, object]:
    times, out = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    import semopy

    from analysis.sem.fit import fit

    model, data = make_data()
    data_float = data.astype(float)  # semopy's robust SEs fail on integer columns under numpy 2

    def semopy_ml():
        m = semopy.Model(model)
        m.fit(data_float)
        return m.inspect()

    def semopy_robust():
        m = semopy.Model(model)
        m.fit(data_float)
        return m.inspect(se_robust=True)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rows = []
        for label, ours, base in (
            ("ML ", lambda: fit(model, data), semopy_ml),
            ("MLR", lambda: fit(model, data, estimator="MLR"), semopy_robust),
        ):
            t_ours, res = timed(ours, args.repeat)
            t_base, _ = timed(base, args.repeat)
            rows.append((label, t_ours, t_base, res))
    print(f"fit speed: {N_FACTORS}-factor x {N_ITEMS}-item CFA, N = {N}, 5-point items, "
          f"median of {args.repeat} runs")
    print(f"{'':4}{'ours (s)':>10}{'semopy (s)':>12}{'ratio':>8}   chisq       df")
    for label, t_ours, t_base, res in rows:
        fm = res.fit_measures
        print(f"{label:4}{t_ours:10.3f}{t_base:12.3f}{t_ours / t_base:8.2f}   {fm['chisq']:<10.3f}  {int(fm['df'])}")
    print("ratio = ours / semopy (below 1: faster). semopy: Model.fit (SLSQP) + inspect().")


if __name__ == "__main__":
    main()
