"""Shared machinery of the Eurostat/convey measures (ARPT, RMPG, median of the poor, RMIR, Zenga).

Each of these measures is a non-smooth function of the weights. It is written once as a
*statistic*: a function ``stat(y, w, w_full, *cols) -> (value, lin)`` returning the
estimate on the weights ``w`` (zero outside the domain) and its linearised (influence)
values ``lin`` (``theta_hat - theta ~ sum_i w_i lin_i``, R convey's ``attr(, "lin")``);
``w_full`` are the weights of the whole sample (the at-risk-of-poverty threshold of the
RMPG and of the median of the poor is national, as in convey's ``full_design``).
:func:`estimate` turns a statistic into an :class:`~remitpov.EstimateTable`:

* the variance of the linearised values through :meth:`remitpov.Design.vcov` (strata,
  PSUs, fpc, lonely-PSU rule: R survey's ``svyrecvar``, which convey calls), or, on a
  replicate design, by recomputing the statistic with every replicate weight column;
* domains (``by=``) as zero weights outside the domain on the full design (R's
  ``svyby``); design effects (SRS without replacement within the domain) in ``deff``; a
  domain without a unit of positive weight is NaN with an
  :class:`~remitpov.core.statistic.EmptyDomainWarning` (the finaliser's rule);
* missing incomes raise, or with ``na_rm=True`` their rows get zero weight (design kept).

Building blocks (convey 1.0.1, ``R/all_funs.R``; Osier 2009, Deville 1999):

* :func:`quantile_influence` -- ``q`` = smallest ``y`` with weighted cdf ``>= p`` (the
  ``"math"`` rule: convey's ``oldsvyquantile(method="constant")``) and
  ``lin = -(1[y <= q] - p) / (N f(q))`` with the Gaussian kernel density ``f`` and
  convey's bandwidth ``h = sd / N^(1/5)`` (:mod:`remitpov.core.density`);
* :func:`arpt_influence` -- the at-risk-of-poverty threshold ``percent x q``;
* :func:`arpr_influence` -- the at-risk-of-poverty rate ``sum w 1[y <= t] / N`` at an
  estimated threshold ``t`` (convey ``svyarpr``: non-strict ``<=``).
"""
from __future__ import annotations

from typing import Callable, Sequence

import numpy as np
import pandas as pd

from ..core.density import convey_bandwidth, kernel_density, positive_rows
from ..core.domains import domain_masks
from ..core.inputs import by_codes, usable_columns
from ..core.quantile import weighted_quantile
from ..exceptions import InputError
from ..core.statistic import Statistic, finalise, legacy_deff
from ..results import EstimateTable

#: a statistic function: ``(y, w, w_full, *extra columns) -> (value, lin (n,))``
StatFunction = Callable[..., tuple]


def check_order(p, name: str) -> float:
    """A probability strictly between 0 and 1 (quantile orders)."""
    ok = isinstance(p, (int, float, np.integer, np.floating)) and not isinstance(p, (bool, np.bool_))
    if not ok or not 0 < float(p) < 1:
        raise InputError(f"{name}={p!r}: give a number strictly between 0 and 1 (0.5 = the median)")
    return float(p)


def check_positive(x, name: str) -> float:
    ok = isinstance(x, (int, float, np.integer, np.floating)) and not isinstance(x, (bool, np.bool_))
    if not ok or not (np.isfinite(x) and x > 0):
        raise InputError(f"{name}={x!r}: give a positive number (0.6 = 60 % of the median)")
    return float(x)


def quantile_influence(y: np.ndarray, w: np.ndarray, p: float, h: float | None = None) -> tuple[float, np.ndarray]:
    """Weighted ``p``-quantile (``"math"`` rule) on the units with ``w > 0`` and its influence values.

    ``lin = -1[w > 0] (1[y <= q] - p) / (N f(q))``, ``N = sum w``, ``f`` the Gaussian kernel
    density of ``y`` (weights ``w``) at ``q`` with bandwidth ``h`` (default convey's
    ``h_fun`` on the same units). Zero outside the units with positive weight.
    """
    pos = w > 0
    yp, wp = positive_rows(y, w)
    q = float(weighted_quantile(yp, wp, p, rule="math"))
    if h is None:
        h = convey_bandwidth(yp, wp)
    f = kernel_density(yp, wp, q, h)
    if not f > 0:
        raise InputError(f"the kernel density of the income at its {p:g}-quantile {q:g} is zero (all incomes "
                         "equal?): the quantile cannot be linearised")
    return q, np.where(pos, -((y <= q) - p) / (w.sum() * f), 0.0)


def arpt_influence(y: np.ndarray, w: np.ndarray, p: float = 0.5, percent: float = 0.6) -> tuple[float, np.ndarray]:
    """At-risk-of-poverty threshold ``percent x q_p`` and its influence values (convey ``svyarpt``)."""
    q, lin = quantile_influence(y, w, p)
    return percent * q, percent * lin


def arpr_influence(y: np.ndarray, w: np.ndarray, t: float, t_lin: np.ndarray) -> tuple[float, np.ndarray]:
    """At-risk-of-poverty rate at the estimated threshold ``t`` (influence ``t_lin``), convey ``svyarpr``.

    ``R = sum w 1[y <= t] / N``; ``lin = 1[w > 0] (1[y <= t] - R) / N + f(t) t_lin`` with
    ``f`` the kernel density on the units with ``w > 0`` (convey's bandwidth).
    """
    pos = w > 0
    N = w.sum()
    poor = y <= t
    rate = float(w[poor].sum() / N)
    f = kernel_density(*positive_rows(y, w), t)
    return rate, np.where(pos, (poor - rate) / N, 0.0) + f * t_lin


def estimate(survey, income, by, stat: StatFunction, *, measure: str, title: str, level: str, na_rm, ci_level: float,
             dist: str, extra: Sequence = (), notes: Sequence[str] = (), check: Callable | None = None,
             deff: bool | str | None = None) -> EstimateTable:
    """Estimate ``stat`` overall or by domain with its design-based variance (module docstring).

    ``check(y, w, label, where)`` may refuse the data of a domain (e.g. negative incomes).
    """
    design, sv, label, cols, _ = usable_columns(survey, level, income, na_rm, extra)
    y, more = cols[0], cols[1:]
    codes, dlabels, byname = by_codes(sv, by, design.n)
    w = design.weights
    D = len(dlabels)
    masks = domain_masks(codes, D, w > 0)
    empty = ~masks.any(axis=0)  # no unit of positive weight: NaN estimate (the finaliser's rule)
    if empty.all():
        raise InputError(f"{measure}: no observation with a positive weight{'' if by is None else ' in any domain'}"
                         f" (every {label!r} missing?); check the data and na_rm")
    full = np.flatnonzero(~empty)
    est, Z = np.zeros(D), np.zeros((design.n, D))
    for d in full:
        where = "" if by is None else f" in {byname}={dlabels[d]!r}"
        wd = np.where(masks[:, d], w, 0.0)
        if check is not None:
            check(y, wd, label, where)
        est[d], Z[:, d] = stat(y, wd, w, *more)

    def replicate(W):  # W (n, r): the statistic under every replicate weight column (empty domains: 0)
        out = np.zeros((W.shape[1], D))
        for j in range(W.shape[1]):
            for d in full:
                out[j, d] = stat(y, np.where(masks[:, d], W[:, j], 0.0), W[:, j], *more)[0]
        return out

    keys = pd.DataFrame({"measure": measure, "variable": label, byname: dlabels})
    out = Statistic(keys, est, z=Z, replicate=replicate if design.replicates is not None else None, codes=codes,
                    title=title, notes=tuple(notes), n_obs=masks.sum(0), empty=empty,
                    variance_note="Taylor linearisation (influence functions, as R convey)")
    return finalise(out, design, ci_level=ci_level, dist=dist, deff=legacy_deff(deff, measure))


def check_nonnegative(y: np.ndarray, w: np.ndarray, label: str, where: str) -> None:
    """Refuse negative incomes among the units with positive weight."""
    neg = (y < 0) & (w > 0)
    if neg.any():
        raise InputError(f"{label!r} has {int(neg.sum())} negative value(s){where} (e.g. {y[neg][0]:g}): the "
                         "measure is defined for non-negative incomes only; bottom-code them at 0 or drop them "
                         "(na_rm=True after setting them missing)")
