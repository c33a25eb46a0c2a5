"""lavaan's ``vech`` order, in one place: the lower triangle of a symmetric matrix stacked column
by column (``(0,0), (1,0), ..., (p-1,0), (1,1), ...``), as in ``WLS.obs``, ``Delta`` and the
saturated (h1) parameters of every moment-based computation."""

from __future__ import annotations

import numpy as np


def vech_indices(p: int) -> tuple[np.ndarray, np.ndarray]:
    """Row and column indices of the ``p (p + 1) / 2`` elements of ``vech`` of a p x p matrix."""
    cols, rows = np.triu_indices(p)  # upper triangle row by row = lower triangle column by column
    return rows, cols


def vech(matrix: np.ndarray) -> np.ndarray:
    """The elements of a symmetric matrix in :func:`vech_indices` order."""
    r, c = vech_indices(matrix.shape[0])
    return matrix[r, c]


def kron_vech(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``K[k, l] = tr(A E_k B E_l)`` for symmetric ``A``, ``B`` and the ``vech`` directions
    ``E_k = e_i e_j' + e_j e_i'`` (``e_i e_i'`` on the diagonal) of ``k = (i, j)``.

    The symmetrised Kronecker product ``D'(A (x) B)D`` in lavaan's ``vech`` order
    without forming ``A (x) B``: row ``k`` is ``vech`` of ``a_i b_j' + a_j b_i'`` and its
    transpose (``a_i`` = row i of A), built for a block of rows at a time.
    """
    p = a.shape[0]
    r, c = vech_indices(p)
    h = np.where(r == c, 0.5, 1.0)
    q = len(r)
    rc, cr = r * p + c, c * p + r  # flat positions: one-axis takes are several times faster than 2-d fancy indexing
    out = np.empty((q, q))
    step = max(1, 2_000_000 // (p * p))
    for s in range(0, q, step):
        k = slice(s, s + step)
        m = (a[r[k]][:, :, None] * b[c[k]][:, None, :] + a[c[k]][:, :, None] * b[r[k]][:, None, :]).reshape(-1, p * p)
        out[k] = np.take(m, rc, axis=1)
        out[k] += np.take(m, cr, axis=1)
    out *= h[:, None]
    out *= h[None, :]
    return out
