"""BLAS threads in the fit core (issue 13).

The choice:

* Inside :func:`analysis.sem.fit.fit` and :func:`analysis.sem.fit.refit`, BLAS runs on **one
  thread** (:func:`fit_threads`). A fit's matrices are small (tens to a few hundred rows):
  OpenBLAS's threads give nothing there, and its spinning worker threads made single fits
  10-40x slower on a busy machine, where the cores they wait for are taken by other processes.
* The only large dense algebra - factorising and solving with the saturated (h1) information
  of the robust statistics, q x q with q = number of moments (2,144 for 64 items, 9,315 for
  135) - gets back the number of threads that was in effect when the fit was called
  (:func:`large_threads`, for q >= :data:`LARGE`). That is the process's setting: OpenBLAS's
  default, or ``OPENBLAS_NUM_THREADS``, or an outer ``threadpoolctl`` limit, which is
  respected, never raised.
* Process-parallel work (the bootstrap's joblib workers) runs with one BLAS thread per
  worker (``inner_max_num_threads=1``): several workers each starting a thread per core
  oversubscribe the machine.

The limits are process-wide while they last (BLAS has no per-call setting) and are restored
on exit; they change no number, only how the work is scheduled. ``threadpoolctl``'s
controller is created once (creating one scans the loaded libraries: ~5 ms, too much for a
2 ms refit), then each limit costs about 10 microseconds.
"""

from __future__ import annotations

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
    """Inside :func:`fit_threads`: the outer number of BLAS threads again, for dense algebra on
    matrices of at least :data:`LARGE` rows (``size``); otherwise nothing changes."""
    outer = _outer.get()
    if outer is None or outer <= 1 or size < LARGE:
        yield
        return
    with _controller().limit(limits=outer, user_api="blas"):
        yield
