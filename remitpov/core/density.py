"""Kernel densities and their bandwidths (linearised SEs of quantiles and relative lines).

* :func:`convey_bandwidth` -- convey's ``h_fun``: weighted population SD over ``N^(1/5)``;
* :func:`silverman_bandwidth` -- Silverman's rule of thumb (weighted SD and IQR);
* :func:`kernel_density` -- Gaussian-kernel density at a point (convey's ``densfun``);
* :func:`positive_rows` -- the rows with positive weight (no copy when all are).
"""
from __future__ import annotations

import numpy as np

from .quantile import quantiles_sorted


def convey_bandwidth(y, w) -> float:
    """convey's ``h_fun``: weighted population SD of ``y`` divided by ``(sum w)^(1/5)``."""
    y = np.asarray(y, dtype=float)
    w = np.asarray(w, dtype=float)
    N = w.sum()
    wy = w * y
    sy = wy.sum()
    wy *= y  # w y^2, as (w y) y
    var = (wy.sum() - sy * sy / N) / N
    return float(np.sqrt(max(var, 0.0)) / np.exp(0.2 * np.log(N)))


#: ``np.exp`` takes a slow scalar path (10-100x its cost) for every vector of arguments with
#: a result below the smallest normal double (``x < -708.4``: ``exp(x) < 2.3e-308``, 0
#: below -745.13); such kernel terms are set to 0 directly. A term of ``w_i exp(-u_i^2/2)``
#: thus changes by less than ``2.3e-308 w_i``: nothing, unless the whole density is below
#: ~1e-290 (the sum absorbs it otherwise).
_EXP_TINY = -708.0


def kernel_density(y, w, at: float, h: float | None = None) -> float:
    """Gaussian-kernel estimate of the density of ``y`` at ``at`` (convey ``densfun``):
    ``sum_i w_i exp(-u_i^2/2) / (sqrt(2 pi) N h)`` with ``u_i = (at - y_i)/h``."""
    y = np.asarray(y, dtype=float)
    w = np.asarray(w, dtype=float)
    N = w.sum()
    if h is None:
        h = convey_bandwidth(y, w)
    if not (h > 0):
        return 0.0
    u = np.subtract(at, y)
    u /= h
    u *= u
    u *= -0.5  # -u^2/2 (the same number as (-0.5 u) u: multiplying by 0.5 is exact)
    tiny = u < _EXP_TINY
    k = np.where(tiny, 0.0, u)
    np.exp(k, out=k)
    k *= ~tiny
    k *= w
    return float(k.sum() / (np.sqrt(2 * np.pi) * N * h))


def positive_rows(y: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(y[w > 0], w[w > 0])``; the arrays themselves (no copies) when every weight is positive."""
    pos = w > 0
    if pos.all():
        return y, w
    return y[pos], w[pos]


def silverman_bandwidth(x: np.ndarray, w: np.ndarray) -> float:
    """Silverman's rule of thumb ``0.9 min(sd, IQR/1.34) n^(-1/5)`` (weighted sd and IQR)."""
    pos = w > 0
    xs, ws = x[pos], w[pos]
    o = np.argsort(xs, kind="stable")
    q = quantiles_sorted(xs[o], ws[o][:, None], np.array([0.25, 0.75]), "math")[:, 0]
    m = ws @ xs / ws.sum()
    sd = np.sqrt(ws @ (xs - m) ** 2 / ws.sum())
    s = min(sd, (q[1] - q[0]) / 1.34) if q[1] > q[0] else sd
    return float(0.9 * s * pos.sum() ** (-0.2))
