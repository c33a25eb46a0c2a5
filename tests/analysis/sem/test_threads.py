"""BLAS threads in the fit core (issue 13): one thread inside fit() and refit(), restored after."""

from __future__ import annotations

import analysis.sem.fit as fitmod
from analysis.sem import threads
from analysis.sem.fit import fit, refit
from tests.analysis.conftest import HS_MODEL, read_reference


def _blas_threads() -> int:
    return threads._current()


def test_fit_and_refit_run_blas_on_one_thread_and_restore_it(monkeypatch):
    seen = []
    original = fitmod.step06_estimate

    def spy(*args, **kwargs):
        seen.append(_blas_threads())
        return original(*args, **kwargs)

    monkeypatch.setattr(fitmod, "step06_estimate", spy)
    data = read_reference("HolzingerSwineford1939.csv")
    with threads._controller().limit(limits=2, user_api="blas"):
        before = _blas_threads()
        res = fit(HS_MODEL, data)
        refit(res.estimation, [data[list(res.partable.variables.ov)].to_numpy(float)], fiml=False)
        after = _blas_threads()
    assert seen and set(seen) == {1}
    assert after == before


def test_large_threads_is_opt_in_and_bounded_by_the_outer_setting(monkeypatch):
    with threads._controller().limit(limits=2, user_api="blas"):
        outer = _blas_threads()
        with threads.fit_threads():
            with threads.large_threads(5000):
                assert _blas_threads() == 1  # default: one thread
            monkeypatch.setenv("SMESURVEY_H1_BLAS_THREADS", "8")
            with threads.large_threads(5000):
                assert _blas_threads() == outer  # never more than outside the fit
            with threads.large_threads(10):
                assert _blas_threads() == 1  # small matrices stay on one thread
