"""BLAS threads in the fit core (issue 13).

The choice:

* Inside :func:`analysis.sem.fit.fit` and :func:`analysis.sem.fit.refit`, BLAS runs on **one
  thread** (:func:`fit_threads`). A fit's matrices are small (tens to a few hundred rows):
  OpenBLAS's threads give nothing there, and its spinning worker threads made single fits
  10-40x slower on a busy machine, where the cores they wait for are taken by other processes.
* That includes the only large dense algebra, the Cholesky factor of the saturated (h1)
  information of the robust statistics (q x q, q = number of moments: 2,144 for 64 items).
  Measured on the 2-core development machine while other jobs ran: that factorisation took
  0.10-0.14 s on one thread and 1.2 s on two (LAPACK's ``potrf`` synchronises its threads at
  every panel, and a thread whose core is taken stalls the others); on an idle machine two
  threads would save at most half. The analysis pipeline's models (30-50 items, q <= 1,325)
  are far below that size. Who fits one very large model (100+ items) on an otherwise idle
  machine can let these factorisations use more threads with the environment variable
  ``SMESURVEY_H1_BLAS_THREADS`` (:func:`large_threads`, matrices of at least :data:`LARGE`
  rows; never more than the threads in effect outside the fit: OpenBLAS's default,
  ``OPENBLAS_NUM_THREADS`` or an outer ``threadpoolctl`` limit).
* The analysis pipeline (:func:`analysis.propositions.pipeline.analyze`) runs on one thread
  throughout, for the same reason: its Monte Carlo draws, regressions and mixed model had
  multi-threaded BLAS (an ``eigh`` of a 125 x 125 covariance matrix took 0.45 s on a busy
  machine), and the batched bootstrap's threads are its parallelism.
* Process-parallel work (the bootstrap's joblib workers) runs with one BLAS thread per
  worker (``inner_max_num_threads=1``): several workers each starting a thread per core
  oversubscribe the machine.

The limits are process-wide while they last (BLAS has no per-call setting) and are restored
on exit; they change how the work is scheduled, not the statistics (at most the last bits of
floating-point rounding). ``threadpoolctl``'s
controller is created once (creating one scans the loaded libraries: ~5 ms, too much for a
2 ms refit), then each limit costs about 10 microseconds.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import cache

from threadpoolctl import ThreadpoolController

#: size (rows) of a dense matrix from which its factorisation and solves may use several BLAS threads
LARGE = 1000

_outer: ContextVar[int | None] = ContextVar("sem_blas_outer", default=None)


@cache
def _controller() -> ThreadpoolController:
    import scipy.linalg  # noqa: F401 - load scipy's BLAS before the controller looks for libraries

    return ThreadpoolController()


def _current() -> int:
    threads = [lib["num_threads"] for lib in _controller().info() if lib["user_api"] == "blas"]
    return max(threads, default=1)


@contextmanager
def fit_threads() -> Iterator[None]:
    """BLAS on one thread inside; the number in effect outside is remembered for :func:`large_threads`."""
    outer = _outer.get()
    token = _outer.set(_current() if outer is None else outer)  # nested fits keep the outermost setting
    try:
        with _controller().limit(limits=1, user_api="blas"):
            yield
    finally:
        _outer.reset(token)


@contextmanager
def large_threads(size: int) -> Iterator[None]:
    """Inside :func:`fit_threads`, for dense factorisations of matrices of at least :data:`LARGE`
    rows (``size``): ``SMESURVEY_H1_BLAS_THREADS`` threads (default 1), at most the number in
    effect outside the fit; otherwise nothing changes."""
    wanted = int(os.environ.get("SMESURVEY_H1_BLAS_THREADS", "1") or 1)
    outer = _outer.get()
    if outer is None or min(wanted, outer) <= 1 or size < LARGE:
        yield
        return
    with _controller().limit(limits=min(wanted, outer), user_api="blas"):
        yield
