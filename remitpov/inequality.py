"""Inequality measures with design-based standard errors.

Quantiles, the Gini coefficient, generalised entropy (Theil, MLD), Atkinson indices,
quantile shares and ratios (S80/S20, Palma), Lorenz and concentration curves and the
Lerman--Yitzhaki decomposition of the Gini by income source.

This module is the public face: each measure lives in its own file of
:mod:`remitpov.measures` (:mod:`~remitpov.measures.quantile`, :mod:`~remitpov.measures.gini`,
:mod:`~remitpov.measures.entropy`, :mod:`~remitpov.measures.atkinson`,
:mod:`~remitpov.measures.shares` (shares, Palma, S80/S20), :mod:`~remitpov.measures.lorenz`
(Lorenz and concentration curves), :mod:`~remitpov.measures.gini_decomposition`), on top of
the ranks of :mod:`remitpov.core.ranked`; the conventions below hold for all of them.

Every estimator returns a point estimate and influence (linearised) values ``z_i`` such
that ``theta_hat - theta ~ sum_i w_i z_i`` and hands them to the one variance engine
:meth:`remitpov.design.Design.vcov`; on replicate-weight designs the statistic is
re-evaluated under every replicate weight column instead (vectorised: one sort, then
cumulative sums over a ``(n, r)`` weight matrix).

Conventions
-----------
Units and weights
    Incomes are analysed at person level by default (``level="person"``): household
    rows are weighted by ``weight x size`` (:meth:`Survey.design`). Use
    ``level="household"`` for household-level measures.
Domains
    ``by=`` domains are zero weights on the FULL design (never subsets): a domain Gini
    uses only the domain's units, but its variance keeps every PSU and stratum (R
    survey's ``svyby``).
Missing values
    A missing (NaN) income raises :class:`~remitpov.exceptions.InputError` naming the
    rows, unless ``na_rm=True``, in which case those rows are treated as outside every
    domain (zero weight, design kept).
Ranks and ties
    The cumulative distribution at a unit is the weighted *mid-rank*
    ``F_i = (W_{<y_i} + W_{=y_i} / 2) / N`` (weight strictly below plus half the weight
    tied with it). With it the Gini is ``G = 2 sum w_i y_i F_i / (N mu) - 1``, which
    equals laeken's ``(2 sum w x cumsum(w) - sum w^2 x) / (sum(w) sum(w x)) - 1`` and is
    invariant to the order of tied incomes. Every estimate in this module is
    tie-order invariant.
Scale
    The Gini and every other index is returned on the 0--1 scale (laeken reports
    percent: multiply by 100).
Quantiles
    ``rule="hf7"`` (default): R survey's weighted Hyndman--Fan type 7 (linear
    interpolation of the sorted incomes at ``p_k = W_{<k} / (W - w_last)``; equals R's
    ``quantile(type = 7)`` for equal weights). ``rule="math"`` / ``"hf1"``: the inverse
    of the weighted cdf, the smallest ``y`` with ``F(y) >= p`` (R survey's default).
    ``rule="school"`` / ``"hf2"``: as math but averaging at an exact jump.
    ``rule="laeken"``: laeken's ``weightedQuantile``, the smallest ``y`` with
    ``cumsum(w)/sum(w) > p`` (strict).
Standard errors (all linearised; every measure also supports replicate designs)
    * Gini, concentration coefficients, Lerman--Yitzhaki components: exact derivative
      of the mid-rank estimator with respect to the weights (Langel & Tillé 2013).
    * GE / Theil / MLD / Atkinson: smooth functions of weighted totals; gradient by
      complex-step differentiation (exact to rounding).
    * Quantiles: ``-(1[y <= q] - F(q)) / (N f(q))`` with ``f`` from Woodruff's interval
      (default; reproduces R survey's ``svyquantile``) or a Gaussian kernel.
    * Shares, Lorenz ordinates, Palma, S80/S20: density-free influence of the income
      below a quantile, ``y 1[y <= q_p] - q_p (1[y <= q_p] - p)`` (Osier 2009).
    * Concentration curves: as shares, with ``E[v | rank = q]`` by kernel regression.
Several income concepts
    :func:`compare_inequality` estimates a measure for several incomes of the same units
    (e.g. with and without remittances) jointly: the concepts' influence values (or
    replicate estimates) are stacked, so the joint vcov gives the difference FIRST minus
    each other concept its SE, ``V1 + V2 - 2 C12`` (difference of the influence values /
    of the replicate estimates). :func:`remitpov.poverty.compare` dispatches to it for
    inequality measures.
Negative incomes
    Allowed in the Gini, quantiles, shares and curves (the mean must be positive). With
    negative incomes the Gini is no longer bounded by 1 and the Lorenz curve dips below
    zero. Generalised entropy and Atkinson indices need positive (or, where the formula
    allows, non-negative) incomes and raise otherwise.
"""
from __future__ import annotations

import numpy as np

from . import measures
from .core.quantile import QUANTILE_RULES
from .core.rank import sort_order
from .core.ranked import Ranked
from .measures.atkinson import atkinson
from .measures.compare_inequality import INEQUALITY_MEASURES, compare_inequality
from .measures.entropy import generalized_entropy, mld, theil
from .measures.gini import gini
from .measures.gini_decomposition import COMPONENTS, GiniDecomposition, gini_decomposition  # noqa: F401
from .measures.lorenz import concentration_curve, lorenz
from .measures.quantile import QUANTILE_SE, quantile  # noqa: F401
from .measures.rmir import rmir
from .measures.shares import income_shares, palma, quantile_share_ratio
from .measures.zenga import zenga

#: the ranking class behind every rank-based statistic (kept under its old name for tests and users)
_Ranked = Ranked


def _sort_order(y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """An order that sorts the float64 ``y`` ascending EXACTLY (ties in any order), and ``y[order]``.

    :func:`remitpov.core.rank.sort_order`: one SIMD sort of uint64 keys ``(order-preserving
    bits of y, lowest bits replaced by the row index)`` and an exact repair of values that
    differ only in those bits. Equal values (true ties) may be in any order: every
    statistic here uses tie blocks (weighted mid-ranks), which are invariant to it.
    """
    return sort_order(y)


if set(measures.names("inequality", joint=True)) - set(measures.statistics()):  # pragma: no cover - a slip
    raise ImportError(f"inequality measures without a registered statistic: "
                      f"{sorted(set(measures.names('inequality', joint=True)) - set(measures.statistics()))}")


__all__ = ["compare_inequality", "INEQUALITY_MEASURES", "quantile", "gini", "generalized_entropy", "theil", "mld", "atkinson", "income_shares", "palma",
           "quantile_share_ratio", "lorenz", "concentration_curve", "gini_decomposition", "GiniDecomposition",
           "QUANTILE_RULES", "rmir", "zenga"]
