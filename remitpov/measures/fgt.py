"""FGT family: the per-unit contributions ``g_i`` and their derivative with respect to the line.

``P_a = sum_i w_i g_i / sum_i w_i`` with ``g_i = 1[y_i < z_i] ((z_i - y_i)/z_i)^a`` (FGT),
``1[y_i < z_i] log(z_i / y_i)`` (Watts) or ``1`` (the population, for decompositions).
``strict=False`` uses ``y <= z``. The estimators (:func:`remitpov.fgt`,
:func:`remitpov.watts`, :func:`remitpov.compare`, and the Dask engine
:mod:`remitpov.distributed`) all build their contributions here, so both engines share
one definition.
"""
from __future__ import annotations

import numpy as np

from .registry import Measure, register

register(Measure("fgt", "poverty", "fgt", options=("alpha",), rank=10,
                 summary="Foster-Greer-Thorbecke P_a (headcount, gap, severity)"))


def contribution(y, z, alpha: float | str, strict: bool = True) -> np.ndarray:
    """Per-unit poverty contribution: FGT ``1[y<z]((z-y)/z)^a``, Watts ``1[y<z] log(z/y)``
    (``alpha="watts"``) or ``1`` (``alpha="one"``)."""
    if alpha == "one":
        return np.ones(np.broadcast(y, z).shape)
    poor = (y < z) if strict else (y <= z)
    if alpha == "watts":
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(poor, np.log(z / y), 0.0)
    if alpha == 0:
        return poor.astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        gap = (z - y) / z
        return np.where(poor, np.maximum(gap, 0.0) ** alpha, 0.0)


def line_derivative(y, z, alpha: float | str, strict: bool = True) -> np.ndarray:
    """Derivative of :func:`contribution` with respect to the line ``z`` (``alpha > 0`` or Watts)."""
    if alpha == "one":
        return np.zeros(np.broadcast(y, z).shape)
    poor = (y < z) if strict else (y <= z)
    with np.errstate(divide="ignore", invalid="ignore"):
        if alpha == "watts":
            return np.where(poor, 1.0 / z, 0.0)
        gap = (z - y) / z
        d = alpha * np.where(gap > 0, gap, 0.0) ** (alpha - 1) * y / (z * z) if alpha != 1 else y / (z * z)
        return np.where(poor & np.isfinite(d), d, 0.0)
