"""Kernel densities and their bandwidths (linearised SEs of quantiles and relative lines).

* :func:`convey_bandwidth` -- convey's ``h_fun``: weighted population SD over ``N^(1/5)``;
* :func:`silverman_bandwidth` -- Silverman's rule of thumb (weighted SD and IQR);
* :func:`kernel_density` -- Gaussian-kernel density at a point (convey's ``densfun``).
"""
from __future__ import annotations

import numpy as np

from .quantile import quantiles_sorted


def convey_bandwidth(y, w) -> float:
    """convey's ``h_fun``: weighted population SD of ``y`` divided by ``(sum w)^(1/5)``."""
    y = np.asarray(y, dtype=float)
    w = np.asarray(w, dtype=float)
    N = w.sum()
    sy = (w * y).sum()
    var = ((w * y * y).sum() - sy * sy / N) / N
    return float(np.sqrt(max(var, 0.0)) / np.exp(0.2 * np.log(N)))


def kernel_density(y, w, at: float, h: float | None = None) -> float:
    """Gaussian-kernel estimate of the density of ``y`` at ``at`` (convey ``densfun``)."""
    y = np.asarray(y, dtype=float)
    w = np.asarray(w, dtype=float)
    N = w.sum()
    if h is None:
        h = convey_bandwidth(y, w)
    if not (h > 0):
        return 0.0
    u = (at - y) / h
    return float((w * np.exp(-0.5 * u * u)).sum() / (np.sqrt(2 * np.pi) * N * h))


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
