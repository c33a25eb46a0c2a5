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
