"""The weighted Gini coefficient of a vector and its influence values, by one sort.

``G = sum_ij w_i w_j |x_i - x_j| / (2 N^2 mean)`` (laeken's formula, tie-invariant):

* :func:`gini_influence` -- ``G`` and ``dG/dw_k`` for every unit (Sen and SST indices:
  the Gini of the poverty gap ratios);
* :func:`gini_columns` -- ``G`` of sorted values under every column of a weight matrix
  (replicate weights).

(The Gini of :func:`remitpov.gini` uses weighted mid-ranks with the same value; see
:mod:`remitpov.inequality`.)
"""
from __future__ import annotations

import numpy as np


def gini_influence(x: np.ndarray, w: np.ndarray) -> tuple[float, np.ndarray]:
    """Weighted Gini ``sum_ij w_i w_j |x_i - x_j| / (2 N^2 mean)`` and ``dG/dw_k`` for all k.

    Tie-invariant (laeken's formula). ``dG/dw_k = (sum_j w_j |x_k - x_j| - G (T + N x_k)) / (N T)``
    with ``T = sum w x``; computed with one sort and ``searchsorted``.
    """
    order = np.argsort(x, kind="stable")
    xs, ws = x[order], w[order]
    N, T = ws.sum(), (ws * xs).sum()
    if not (N > 0) or T == 0:
        return np.nan, np.zeros_like(x)
    cw = np.concatenate([[0.0], np.cumsum(ws)])
    cwx = np.concatenate([[0.0], np.cumsum(ws * xs)])
    A = 2 * (ws * xs * cw[1:]).sum() - (ws * ws * xs).sum() - N * T  # = sum_ij w_i w_j |x_i - x_j| / 2
    G = A / (N * T)
    lo = np.searchsorted(xs, x, side="left")
    hi = np.searchsorted(xs, x, side="right")
    L, TL = cw[lo], cwx[lo]
    U, TU = N - cw[hi], T - cwx[hi]
    mad = x * L - TL + TU - x * U
    return float(G), (mad - G * (T + N * x)) / (N * T)


def gini_columns(xs: np.ndarray, Ws: np.ndarray) -> np.ndarray:
    """Gini of sorted ``xs`` (n,) or (n, r) under every weight column of ``Ws`` (n, r)."""
    C = np.cumsum(Ws, axis=0)
    N = C[-1]
    xs2 = xs if xs.ndim == 2 else xs[:, None]
    T = (Ws * xs2).sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        G = (2 * (Ws * xs2 * C).sum(axis=0) - (Ws * Ws * xs2).sum(axis=0)) / (N * T) - 1
    return G
