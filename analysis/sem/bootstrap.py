"""Nonparametric bootstrap of a fitted model: percentile and bias-corrected confidence intervals.

Rows are resampled with replacement within each group (lavaan's
``bootstrapLavaan(type="ordinary")``) - or, for a fit with ``cluster=``, whole
clusters are (the cluster bootstrap: cases of one cluster are not independent,
so the cluster is the unit that is drawn). Each replicate draws from its own
``numpy.random.SeedSequence`` child, so the results depend on ``seed`` only - not
on the number of workers or their scheduling.

How replicates are refitted (issue 13). A resample is the fitted rows with integer
weights, so :mod:`analysis.sem.batch_refit` refits :data:`CHUNK` of them at once
(warm-started at the full-sample estimates, BFGS from the full sample's Hessian);
chunks are fixed by draw number and run on :func:`worker_threads` threads (numpy
releases the GIL in its loops; no worker processes to start; by default only as many
threads as the machine has idle cores). A replicate it cannot finish - and every replicate of a fit with fixed.x
covariates, whose moments change with each resample - goes through the standard
refit path (:func:`analysis.sem.fit.refit`; such fits use joblib worker processes
when they would take long).

Intervals (``level`` = 0.95 by default):

* percentile: the ``(1-level)/2`` and ``(1+level)/2`` quantiles of the draws;
* bias-corrected (lavaan's ``bca.simple``): with ``z0 = Phi^-1(share of draws
  below the estimate)``, the quantiles at ``Phi(2 z0 +/- z_(1-alpha/2))``.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import pandas as pd
from joblib import Parallel, delayed, parallel_config
from scipy import special

from analysis.sem import batch_refit
from analysis.sem.constants import ROW_KEY
from analysis.sem.defined import compile_definitions, evaluate_definitions
from analysis.sem.estimation import Estimation, label_values
from analysis.sem.fit import FitResult, refit
from analysis.sem.threads import fit_threads
from smecore.errors import OptionError

#: projected in-process seconds below which the bootstrap does not start worker processes
#: (the standard refit path only)
IN_PROCESS_SECONDS = 10.0
#: replicates refitted together by :mod:`analysis.sem.batch_refit`; the chunks are fixed by draw
#: number, so that the draws do not depend on the number of threads
CHUNK = 32


@dataclass(frozen=True)
class BootstrapResult:
    """Bootstrap draws and intervals for the free and defined parameters of a fit.

    ``draws`` has one row per successful replicate and one column per
    parameter (named ``"lhs op rhs"`` plus ``" [g]"`` in multi-group models);
    ``table`` holds ``lhs, op, rhs, group, label, est, boot.se, ci.lower,
    ci.upper`` (percentile) and ``ci.lower.bc, ci.upper.bc``.
    """

    draws: pd.DataFrame
    table: pd.DataFrame
    n_requested: int
    n_failed: int
    seed: int
    level: float


def _interest(result: FitResult) -> tuple[pd.DataFrame, Callable[[np.ndarray], np.ndarray]]:
    """Rows reported (first row of each free parameter, then defined ones) and theta -> values."""
    t = result.partable.table
    p = result.parameters
    free = t["free"].to_numpy()
    first = np.flatnonzero((free > 0) & ~pd.Series(free).duplicated().to_numpy())
    rows = p.iloc[first][[*ROW_KEY, "label", "est"]]
    defs = []
    if result.partable.definitions:
        labels = [x for x in t["label"] if x] + list(t["plabel"])
        defs = compile_definitions(result.partable.definitions, list(dict.fromkeys(labels)))
        rows = pd.concat([rows, p[p["op"] == ":="][[*ROW_KEY, "label", "est"]]])
    fixed = p["est"].to_numpy()[: len(t)]
    idx = free[first] - 1
    # the table row each label of the definitions reads (label_values' rule), found once
    row_of = {k: int(v) for k, v in label_values(t, np.arange(len(t), dtype=float)).items()}
    used = list(dict.fromkeys(n for d in defs for n in d.names if n in row_of))
    used_rows = np.array([row_of[n] for n in used], dtype=int)
    used_free = free[used_rows] if len(used) else np.zeros(0, dtype=int)

    def values(theta: np.ndarray) -> np.ndarray:
        out = theta[idx]
        if defs:
            vals = np.where(used_free > 0, theta[np.maximum(used_free - 1, 0)], fixed[used_rows])
            ev = evaluate_definitions(defs, dict(zip(used, vals.tolist())))
            out = np.concatenate([out, [ev[d.name] for d in defs]])
        return out

    return rows.reset_index(drop=True), values


def _draw(rng: np.random.Generator, x: np.ndarray, members: list[np.ndarray] | None) -> np.ndarray:
    """One resample of a group's rows: rows with replacement, or clusters with replacement."""
    if members is None:
        return x[rng.integers(0, len(x), len(x))]
    picked = rng.integers(0, len(members), len(members))
    return x[np.concatenate([members[k] for k in picked])]


def _counts(rng: np.random.Generator, n: int, members: list[np.ndarray] | None,
            cluster_of: np.ndarray | None) -> np.ndarray:
    """How often each row is in the resample that :func:`_draw` makes from the same generator state."""
    if members is None:
        return np.bincount(rng.integers(0, n, n), minlength=n)
    picked = np.bincount(rng.integers(0, len(members), len(members)), minlength=len(members))
    return picked[cluster_of]


def idle_cores() -> int:
    """The cores this process may use that other work leaves idle: the usable cores minus the one-minute
    load average, rounded (at least 1; all usable cores where the load average is unknown).

    On a busy machine more threads than idle cores made the bootstrap slower, not faster (measured
    on the 2-core development machine at load 3-4, the demo's analysis: 12.5-15.8 s on one thread,
    17-25 s with two or three): the threads wait for cores and for each other's Python interpreter lock."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    try:
        load = os.getloadavg()[0]
    except (AttributeError, OSError):  # not on every platform
        return cores
    return max(1, min(cores, int(cores - load + 0.5)))


def worker_threads(n_jobs: int) -> int:
    """Threads of the batched bootstrap: ``n_jobs``, or for ``-1`` the idle cores (:func:`idle_cores`;
    ``-2``: one fewer, ...). The draws do not depend on it."""
    return max(1, n_jobs if n_jobs > 0 else idle_cores() + 1 + n_jobs)


def _batched(est: Estimation, arrays, fiml: bool, children: Sequence[np.random.SeedSequence], values,
             members, n_jobs: int, progress: Callable[[int, int], None] | None) -> list[np.ndarray | None]:
    """Every replicate through :func:`analysis.sem.batch_refit.refit_weighted`, :data:`CHUNK` at a time;
    those it hands back through :func:`analysis.sem.fit.refit` on the resampled rows."""
    n_boot = len(children)
    cluster_of = None
    if members is not None:  # cluster of each row
        cluster_of = []
        for m in members:
            lab = np.empty(sum(len(x) for x in m), dtype=int)
            for c, rows in enumerate(m):
                lab[rows] = c
            cluster_of.append(lab)
    with fit_threads():
        hinv0 = batch_refit.start_hessian_inverse(est)
    chunks = [np.arange(s, min(s + CHUNK, n_boot)) for s in range(0, n_boot, CHUNK)]
    out: list[np.ndarray | None] = [None] * n_boot
    failed: list[int] = []

    def run(chunk: np.ndarray, ev) -> tuple[np.ndarray, list[int]]:
        weights = [np.empty((len(chunk), len(x))) for x in arrays]
        for j, i in enumerate(chunk):
            rng = np.random.default_rng(children[i])
            for g, x in enumerate(arrays):
                weights[g][j] = _counts(rng, len(x), None if members is None else members[g],
                                        None if cluster_of is None else cluster_of[g])
        theta, ok = batch_refit.refit_weighted(est, weights, hessian_inverse=hinv0, evaluator=ev)
        for j, i in enumerate(chunk):
            if ok[j]:
                out[i] = values(theta[j])
        return chunk, [int(i) for i, good in zip(chunk, ok) if not good]

    threads = min(worker_threads(n_jobs), len(chunks))
    done = 0
    with fit_threads():  # BLAS on one thread in every thread: the threads are the parallelism
        if threads <= 1:
            ev = batch_refit.evaluator(est)
            for chunk in chunks:
                failed += run(chunk, ev)[1]
                done += len(chunk)
                if progress:
                    progress(done, n_boot)
        else:
            # one evaluator (work buffers) per thread; each chunk's result depends on its draws only
            import threading

            local = threading.local()

            def task(chunk):
                if not hasattr(local, "ev"):
                    local.ev = batch_refit.evaluator(est)
                return run(chunk, local.ev)

            with ThreadPoolExecutor(threads) as pool:
                for chunk, bad in pool.map(task, chunks):
                    failed += bad
                    done += len(chunk)
                    if progress:
                        progress(done, n_boot)
        for i in sorted(failed):  # the standard path, on the resample itself
            out[i] = _replicates(est, arrays, fiml, [children[i]], values, members)[0]
    return out


def _replicates(est: Estimation, arrays, fiml: bool, seeds: Sequence[np.random.SeedSequence],
                values, members=None) -> list[np.ndarray | None]:
    out = []
    members = members or [None] * len(arrays)
    for ss in seeds:
        rng = np.random.default_rng(ss)
        sample = [_draw(rng, x, m) for x, m in zip(arrays, members)]
        fitted = refit(est, sample, fiml=fiml)
        out.append(None if fitted is None else values(fitted.theta))
    return out


def bootstrap(result: FitResult, n_boot: int = 1000, *, seed: int = 0, level: float = 0.95,
              n_jobs: int = -1, progress: Callable[[int, int], None] | None = None) -> BootstrapResult:
    """Bootstrap a fitted model.

    Parameters
    ----------
    result : FitResult
    n_boot : int
        Number of resamples (issue 5 uses 2,000 for indirect effects).
    seed : int
        Seed of the resampling; same seed -> identical draws for any ``n_jobs``.
    level : float
        Confidence level of the intervals.
    n_jobs : int
        Threads of the batched refits (-1 = the idle cores, :func:`idle_cores`; 1 = none); on the
        standard refit path
        (fits with fixed.x covariates) joblib worker processes, started only when the draws
        would take more than :data:`IN_PROCESS_SECONDS` in this process (timed on the first
        batch). The draws are the same either way.
    progress : callable, optional
        Called as ``progress(done, total)`` after each batch (the CLI draws a bar).

    Returns
    -------
    BootstrapResult
    """
    if n_boot < 2:
        raise OptionError(f"n_boot must be at least 2 (got {n_boot}); 1,000 or more is usual")
    if result.options.ordered:
        raise OptionError("the bootstrap is not available for ordinal (WLSMV) fits: each resample would need "
                          "its own thresholds and polychoric correlations, which refit() does not compute. "
                          "Use the robust (robust.sem) standard errors and the delta method, as lavaan does by "
                          "default for WLSMV, or a Monte Carlo interval for a function such as an indirect effect "
                          "(analysis.sem.effects.monte_carlo_ci, as analyze --ordinal does)")
    est = result.estimation
    fiml = result.options.missing == "fiml"
    arrays = [gd.data for gd in est.groups]
    members = None
    if any(gd.cluster is not None for gd in est.groups):
        members = [[np.flatnonzero(gd.cluster == c) for c in range(int(gd.cluster.max()) + 1)]
                   for gd in est.groups]
    rows, values = _interest(result)
    children = np.random.SeedSequence(seed).spawn(n_boot)
    if batch_refit.supported(est):
        collected = _batched(est, arrays, fiml, children, values, members, n_jobs, progress)
        return _summarise(result, rows, collected, n_boot, seed, level)
    n_batches = min(n_boot, max(1, 8 * (1 if n_jobs == 1 else abs(n_jobs) * 4)))
    batches = [list(b) for b in np.array_split(np.arange(n_boot), n_batches) if len(b)]
    collected: list[np.ndarray | None] = []

    def in_process(todo) -> None:
        for b in todo:
            collected.extend(_replicates(est, arrays, fiml, [children[i] for i in b], values, members))
            if progress:
                progress(len(collected), n_boot)

    if n_jobs == 1:
        in_process(batches)
    else:
        # the first batch runs here; when the rest would take less than IN_PROCESS_SECONDS in this
        # process it stays here too - starting worker processes (importing numpy, scipy, pandas and
        # this package in each) costs seconds, more than small bootstraps take (1,000 draws of the
        # mediation model: 1.8 s in process, 5 s with two fresh workers on two busy cores)
        start = time.perf_counter()
        in_process(batches[:1])
        rest = batches[1:]
        if (time.perf_counter() - start) * len(rest) < IN_PROCESS_SECONDS:
            in_process(rest)
        else:
            # one BLAS thread per worker process: workers x threads would oversubscribe the cores
            with parallel_config(backend="loky", inner_max_num_threads=1):
                runner = Parallel(n_jobs=n_jobs, return_as="generator")
                jobs = (delayed(_replicates)(est, arrays, fiml, [children[i] for i in b], values, members)
                        for b in rest)
                for part in runner(jobs):
                    collected.extend(part)
                    if progress:
                        progress(len(collected), n_boot)
    return _summarise(result, rows, collected, n_boot, seed, level)


def _summarise(result: FitResult, rows: pd.DataFrame, collected: list[np.ndarray | None], n_boot: int,
               seed: int, level: float) -> BootstrapResult:
    """Draws (successful replicates, in draw order) and the percentile and bias-corrected intervals."""
    ok = [c for c in collected if c is not None and np.all(np.isfinite(c))]
    names = [f"{r.lhs} {r.op} {r.rhs}" + (f" [{r.group}]" if result.partable.ngroups > 1 and r.group else "")
             for r in rows.itertuples()]
    draws = pd.DataFrame(np.array(ok).reshape(len(ok), len(names)), columns=names)
    table = rows.copy()
    est_vals = rows["est"].to_numpy()
    d = draws.to_numpy()
    alpha = 1 - level
    table["boot.se"] = d.std(axis=0, ddof=1) if len(d) > 1 else np.nan
    table["ci.lower"] = np.quantile(d, alpha / 2, axis=0) if len(d) else np.nan
    table["ci.upper"] = np.quantile(d, 1 - alpha / 2, axis=0) if len(d) else np.nan
    lo, hi = [], []
    for j in range(d.shape[1]):
        share = np.mean(d[:, j] < est_vals[j]) if len(d) else np.nan
        share = min(max(share, 0.5 / max(len(d), 1)), 1 - 0.5 / max(len(d), 1))
        z0 = special.ndtri(share)  # stats.norm.ppf / cdf, without scipy.stats' per-call overhead
        zc = special.ndtri(1 - alpha / 2)
        lo.append(np.quantile(d[:, j], special.ndtr(2 * z0 - zc)))
        hi.append(np.quantile(d[:, j], special.ndtr(2 * z0 + zc)))
    table["ci.lower.bc"] = lo
    table["ci.upper.bc"] = hi
    return BootstrapResult(draws, table, n_boot, n_boot - len(ok), seed, level)
