"""Inequality measures with design-based standard errors.

Quantiles, the Gini coefficient, generalised entropy (Theil, MLD), Atkinson indices,
quantile shares and ratios (S80/S20, Palma), Lorenz and concentration curves and the
Lerman--Yitzhaki decomposition of the Gini by income source.

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

import warnings
from dataclasses import dataclass, field
from typing import Callable, Mapping, Sequence

import numpy as np
import pandas as pd

from . import measures
from .core.density import kernel_density
from .core.density import silverman_bandwidth as _silverman
from .core.quantile import QUANTILE_RULES
from .core.quantile import normalise_rule
from .core.quantile import quantiles_sorted as _quantile_sorted
from .core.validate import checked
from .core.jacobian import complex_step_rows
from .core.statistic import Statistic
from .design import critical_value
from .core.inputs import is_dask as _is_dask
from .exceptions import DataWarning, InputError
from .measures.atkinson import atkinson
from .measures.compare_inequality import INEQUALITY_MEASURES, compare_inequality
from .measures.entropy import generalized_entropy, mld, theil
from .measures.inequality_base import Prep as _Prep
from .measures.inequality_base import check_usable as _check_domains
from .measures.inequality_base import finish as _finish
from .measures.inequality_base import keys_frame as _keys
from .measures.inequality_base import part as _part
from .measures.inequality_base import prep as _prep
from .measures.inequality_base import usable_masks as _domain_masks
from .results import EstimateTable

QUANTILE_SE = ("woodruff", "kernel", "replicate")


# =====================================================================================
# ranks: sort once, tie blocks, weighted mid-ranks
# =====================================================================================
def _sort_order(y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """An order that sorts the float64 ``y`` ascending EXACTLY (ties in any order), and ``y[order]``.

    :func:`remitpov.core.rank.sort_order`: one SIMD sort of uint64 keys ``(order-preserving
    bits of y, lowest bits replaced by the row index)`` and an exact repair of values that
    differ only in those bits. Equal values (true ties) may be in any order: every
    statistic here uses tie blocks (weighted mid-ranks), which are invariant to it.
    """
    from .core.rank import sort_order  # (imported here: the rest of this module is another helper's)

    return sort_order(y)


class _Ranked:
    """Sort order and tie blocks of a ranking variable (the one O(n log n) step)."""

    def __init__(self, y: np.ndarray, order: np.ndarray | None = None):
        self.y = y
        # every statistic here uses tie blocks (mid-ranks), so the order inside ties is
        # irrelevant (see _sort_order)
        if order is None:
            self.order, ys = _sort_order(y)
        else:
            self.order = order
            ys = y[order]
        self.sorted = ys
        n = ys.shape[0]
        eq = ys[1:] == ys[:-1]  # row i+1 ties with row i
        self._start = np.ones(n, dtype=bool)
        self._start[1:] = ~eq
        self._starts = self._block = None
        # rows in tie blocks of two or more: the only rows whose mid value is not cs - x/2
        self.any_tie = bool(eq.any())
        if self.any_tie:
            tied = np.zeros(n, dtype=bool)
            tied[1:] |= eq
            tied[:-1] |= eq
            end = np.ones(n, dtype=bool)
            end[:-1] = ~eq
            self._tied = np.flatnonzero(tied)
            self._tb_start = np.flatnonzero(tied & self._start)
            self._tb_end = np.flatnonzero(tied & end)
            self._tied_blk = np.cumsum(self._start[self._tied]) - 1

    @property
    def starts(self) -> np.ndarray:
        """First sorted position of every tie block (computed on first use)."""
        if self._starts is None:
            self._starts = np.flatnonzero(self._start)
        return self._starts

    @property
    def block(self) -> np.ndarray:
        """Block id of every sorted position (computed on first use)."""
        if self._block is None:
            start = np.zeros(self.sorted.shape[0], dtype=np.int64)
            start[self.starts] = 1
            self._block = np.cumsum(start) - 1
        return self._block

    def block_sums(self, Xs: np.ndarray) -> np.ndarray:
        """Sums of sorted rows within tie blocks, (B, r)."""
        if Xs.shape[0] == 0:
            return Xs
        return np.add.reduceat(Xs, self.starts, axis=0)

    def mid(self, Xs: np.ndarray) -> np.ndarray:
        """Mid cumulative sums (sum strictly below + half the tied sum), sorted order, (n, r).

        One cumulative sum: with ``C`` the inclusive cumulative sum at the last row of a
        tie block and ``C0`` the one before the block, the mid value is ``(C0 + C)/2``."""
        n = Xs.shape[0]
        if n == 0:
            return Xs
        cs = np.cumsum(Xs, axis=0)
        # untied rows: C0 = C - x; rows in tie blocks: (C before the block + C at its end)/2
        tied = self._tied if self.any_tie else None
        if tied is not None:
            s0, e0 = self._tb_start, self._tb_end
            c_before = cs[np.maximum(s0 - 1, 0)]  # a new array; s0 ascending: only s0[0] may be 0
            if s0[0] == 0:
                c_before[0] = 0.0
            fix = ((c_before + cs[e0]) / 2.0)[self._tied_blk]
        half = Xs * 0.5
        cs -= half
        if tied is not None:
            cs[tied] = fix
        return cs

    def restrict(self, mask: np.ndarray) -> "_Ranked":
        """The same ranking restricted to the rows in ``mask`` (no new sort: O(n))."""
        if mask.all():
            return self
        return _Ranked(self.y, self.order[mask[self.order]])

    def unsort(self, Xs: np.ndarray) -> np.ndarray:
        """Back to the original row order, full length; rows not ranked get 0."""
        out = np.zeros((self.y.shape[0],) + Xs.shape[1:], dtype=Xs.dtype)
        out[self.order] = Xs
        return out


def _col(a: np.ndarray) -> np.ndarray:
    return a.reshape(a.shape[0], -1)


def _concentration_point(rk: _Ranked, v: np.ndarray, y: np.ndarray, W: np.ndarray) -> np.ndarray:
    """``C = 2 sum w v F_y / T_y - T_v / T_y`` for every weight column of W (n, r).

    ``F_y`` is the weighted mid-rank in the order of ``y`` (the ranking of ``rk``). With
    ``v = y`` this is the Gini; with ``v`` an income source it is the source's
    contribution ``S_k G_k R_k`` to the Gini of ``y``.
    """
    Ws = _col(W)[rk.order]
    vs, ys = v[rk.order], y[rk.order]
    N = Ws.sum(0)
    with np.errstate(divide="ignore", invalid="ignore"):
        F = rk.mid(Ws) / N
        Ty = (Ws * ys[:, None]).sum(0)
        Tv = (Ws * vs[:, None]).sum(0)
        A = (Ws * vs[:, None] * F).sum(0)
        return 2 * A / Ty - Tv / Ty


def _concentration_if(rk: _Ranked, v: np.ndarray, y: np.ndarray, w: np.ndarray, check: list | None = None):
    """Point value and influence values of ``C`` (see :func:`_concentration_point`).

    Exact derivative of the estimator with respect to the weights:
    ``dA/dw_i = v_i F_i + (T_v - L_i)/N - A/N`` with ``A = sum w v F`` and ``L_i`` the
    mid cumulative sum of ``w v`` in the order of ``y``; then
    ``z_i = 2 dA/T_y - 2 A y_i / T_y^2 - v_i / T_y + T_v y_i / T_y^2``.
    For ``v = y`` this is Langel & Tillé's (2013) linearised Gini
    ``z_i = [2 N_i (y_i - Y_i/N_i) + T - N y_i - G (T + N y_i)] / (N T)`` written with
    mid-ranks (``N_i``, ``Y_i`` cumulative weight and income up to ``y_i``).
    """
    o = rk.order
    ws = w[o]
    ys = rk.sorted if y is rk.y else y[o]  # the ranking variable is already sorted
    vs = ys if v is y else v[o]
    N = ws.sum()
    wv = ws * vs
    # np.einsum, not "@": long BLAS dot products are multi-threaded in OpenBLAS and its
    # idle threads then spin, slowing the rest down on small machines
    Ty = wv.sum() if v is y else np.einsum("i,i->", ws, ys)
    Tv = wv.sum()
    if check is not None:  # the caller checks T_y > 0 (no second pass)
        check.append(Ty)
    F = rk.mid(ws)
    F /= N
    L = rk.mid(wv)  # 1-D cumulative sums (contiguous)
    A = np.einsum("i,i->", wv, F)
    C = 2 * A / Ty - Tv / Ty
    # z = 2 dA/Ty - 2 A y/Ty^2 - v/Ty + Tv y/Ty^2 with dA = v F + (Tv - L)/N - A/N, in place
    zs = F
    zs *= 2.0
    zs -= 1.0
    zs *= vs
    zs /= Ty
    zs -= L * (2.0 / (N * Ty))
    zs += ys * ((Tv - 2 * A) / Ty**2)
    zs += 2 * (Tv - A) / (N * Ty)
    return C, rk.unsort(zs)


# =====================================================================================
# quantiles
# =====================================================================================
@checked
def quantile(survey, income, probs=(0.5,), by=None, *, level: str = "person", rule: str = "hf7",
             se_method: str | None = None, na_rm: bool = False, ci_level: float = 0.95, dist: str = "t",
             bandwidth: float | None = None) -> EstimateTable:
    """Weighted quantiles with design-based standard errors.

    Parameters
    ----------
    survey : Survey or Design
    income : str or array
    probs : sequence of float in [0, 1]
    by : str or array, optional
        Domains (zero weights on the full design).
    level : {"person", "household"}
    rule : {"hf7", "math", "hf1", "school", "hf2", "laeken"}
        Quantile rule (module docstring). Default ``"hf7"`` (R survey's ``qrule="hf7"``);
        ``"laeken"`` is laeken's ``weightedQuantile`` (Eurostat's EU-SILC rule).
    se_method : {"woodruff", "kernel", "replicate"}, optional
        Default ``"woodruff"``, or ``"replicate"`` on a replicate-weight design.
        ``"woodruff"``: Woodruff's (1952) method exactly as R survey 4.1's
        ``svyquantile(interval.type="mean")``: a ``ci_level`` interval for
        ``F(q_hat)`` is mapped back through the quantile rule and ``SE = (U - L)/(2 t)``.
        It is implemented as an influence function ``z_i = -(1[y_i <= q] - F(q))/(N f)``
        with the density estimated by ``f = 2 t se_F / (U - L)``, which reproduces the
        Woodruff SE and gives the joint covariance of several quantiles and domains.
        ``"kernel"``: the same influence function with a Gaussian kernel density at ``q``
        (Silverman bandwidth, or ``bandwidth``).
        On replicate-weight designs ``se_f`` is the replicate SE of the cdf at ``q_hat``
        (Woodruff is then R's ``svyquantile(interval.type="mean")`` on an ``svyrep.design``,
        with the design's ``df``), and ``"replicate"`` (their default) re-evaluates the
        quantile under every replicate, R's ``interval.type="quantile"`` (not valid with
        jackknife replicates: R warns).
    na_rm : bool
    ci_level : float
    dist : {"t", "normal"}
    bandwidth : float, optional
        Kernel bandwidth for ``se_method="kernel"``.

    Returns
    -------
    EstimateTable
        Keys ``measure="quantile"``, ``variable``, domain, ``p``.
    """
    if _is_dask(survey):  # out of core: the same estimator on a DaskSurvey (remitpov.distributed)
        from . import distributed as _rd
        return _rd.from_memory_call("quantile", quantile, survey, (income, probs, by), dict(
            level=level, rule=rule, se_method=se_method, na_rm=na_rm, ci_level=ci_level, dist=dist,
            bandwidth=bandwidth))
    p, _ = _prep(survey, income, level, by, na_rm)
    return _finish(p, _quantile_part(p, probs, rule=rule, se_method=se_method, bandwidth=bandwidth,
                                          ci_level=ci_level, dist=dist), ci_level, dist)


def _quantile_part(p: _Prep, probs=(0.5,), *, rule: str = "hf7", se_method: str | None = None,
                   bandwidth: float | None = None, ci_level: float = 0.95, dist: str = "t") -> Statistic:
    rule = normalise_rule(rule)
    reps = p.design.replicates is not None
    se_method = se_method if se_method is not None else ("replicate" if reps else "woodruff")
    if se_method not in QUANTILE_SE:
        raise InputError(f"se_method={se_method!r} is not one of {QUANTILE_SE}")
    P = np.atleast_1d(np.asarray(probs, dtype=float))
    if P.size == 0 or not np.all((P >= 0) & (P <= 1)):
        raise InputError(f"probs must lie in [0, 1], got {list(P)}")
    masks = _domain_masks(p)
    _check_domains(p, masks, "quantile")
    design, y = p.design, p.y
    rk = _Ranked(y)
    xs = y[rk.order]
    Wd = design.weights[:, None] * masks  # (n, D)
    Q = _quantile_sorted(xs, Wd[rk.order], P, rule)  # (k, D)
    est = Q.T.ravel()  # domain-major
    D, k = masks.shape[1], P.size
    # influence values of the cdf at the estimated quantiles
    Nd = Wd.sum(0)
    Z = np.empty((design.n, D * k))
    Fq = np.empty(D * k)
    for d in range(D):
        ind = y[:, None] <= Q[:, d][None, :]  # (n, k)
        Fq[d * k:(d + 1) * k] = Wd[:, d] @ ind / Nd[d]
        Z[:, d * k:(d + 1) * k] = masks[:, d][:, None] * (ind - Fq[d * k:(d + 1) * k]) / Nd[d]
    notes = [f"quantile rule {rule!r}", "incomes at the quantile counted as y <= q in the cdf"]
    keys = _keys(p, "quantile", [{"p": float(q)} for q in P])
    n_obs = np.repeat(masks.sum(0), k)
    if se_method == "replicate":
        if not reps:
            raise InputError("se_method='replicate' re-evaluates the quantile under replicate weights, but the "
                             "design has none: use 'woodruff' or 'kernel', or Survey.with_replicates(...)")

        def rep(W):
            Ws = W[rk.order]
            return np.concatenate([_quantile_sorted(xs, Ws * masks[rk.order, d][:, None], P, rule).T
                                   for d in range(D)], axis=1)
        notes.append("SE: quantile re-evaluated under every replicate (R survey interval.type='quantile')")
        return _part(p, keys, est, None, replicate=rep, title="Quantiles", notes=tuple(notes), n_obs=n_obs)
    if reps:  # the cdf at q_hat as a ratio of totals: (1[y <= q] in domain d, domain d)
        Ycdf = np.hstack([masks[:, d][:, None] * (y[:, None] <= Q[:, d][None, :]) for d in range(D)] + [masks])

        def cdf(T):
            T = np.atleast_2d(T)
            return T[:, :D * k] / np.repeat(T[:, D * k:], k, axis=1)
        Vf = design.vcov(Fq, totals=(Ycdf, cdf))
    else:
        Vf = design.vcov(Fq, Z)
    se_f = np.sqrt(np.clip(np.diag(Vf), 0, None))
    if se_method == "woodruff":
        t = critical_value(ci_level, design.df, dist)
        lo_p, hi_p = Fq - t * se_f, Fq + t * se_f
        dens = np.empty(D * k)
        for d in range(D):
            sl = slice(d * k, (d + 1) * k)
            Ws = Wd[rk.order, d][:, None]
            L = np.array([_quantile_sorted(xs, Ws, np.array([a]), rule)[0, 0] if 0 <= a <= 1 else np.nan
                          for a in lo_p[sl]])
            U = np.array([_quantile_sorted(xs, Ws, np.array([b]), rule)[0, 0] if 0 <= b <= 1 else np.nan
                          for b in hi_p[sl]])
            with np.errstate(divide="ignore", invalid="ignore"):  # a limit outside [0, 1]: NaN, as R
                d_ = np.where(U > L, 2 * t * se_f[sl] / (U - L), np.inf)
                dens[sl] = np.where(np.isnan(U) | np.isnan(L), np.nan, d_)
        notes.append(f"SE: Woodruff interval for F(q) at level {ci_level} (R survey interval.type='mean'), "
                     "SE = (U - L)/(2 t)")
    else:
        dens = np.empty(D * k)
        for d in range(D):
            yd, wd = y[masks[:, d]], Wd[masks[:, d], d]
            h = bandwidth if bandwidth is not None else _silverman(yd, wd)
            dens[d * k:(d + 1) * k] = [kernel_density(yd, wd, q, h) for q in Q[:, d]]
        notes.append("SE: influence function with Gaussian kernel density (Silverman bandwidth)")
    with np.errstate(divide="ignore", invalid="ignore"):
        scale = np.where(np.isinf(dens), 0.0, 1.0 / dens)
    if reps:  # replicate quantiles linearised through the density: variance Vf / f^2
        return _part(p, keys, est, None, totals=(Ycdf, lambda T: est - (cdf(T) - Fq) * scale), title="Quantiles",
                     notes=tuple(notes), n_obs=n_obs)
    Zq = -Z * scale[None, :]
    V = Vf * np.outer(scale, scale)
    V[np.isnan(scale), :] = np.nan
    V[:, np.isnan(scale)] = np.nan
    return _part(p, keys, est, Zq, vcov=V, title="Quantiles", notes=tuple(notes), n_obs=n_obs)


# =====================================================================================
# Gini
# =====================================================================================
def _gini_replicate(rks: Sequence[_Ranked], y: np.ndarray):
    def rep(W):
        return np.column_stack([_concentration_point(r, y, y, W) for r in rks])
    return rep


@checked
def gini(survey, income, by=None, *, level: str = "person", na_rm: bool = False, ci_level: float = 0.95,
         dist: str = "t") -> EstimateTable:
    """Weighted Gini coefficient (0--1 scale) with a linearised standard error.

    ``G = 2 sum_i w_i y_i F_i / (N mu) - 1`` with ``F_i`` the weighted mid-rank (module
    docstring): identical to laeken's ``gini`` (which reports ``100 G``) and to the
    weighted covariance formula ``G = 2 cov(y, F) / mu``. Incomes are sorted once
    (O(n log n)).

    The variance uses the exact derivative of the estimator with respect to the weights
    (Langel & Tillé 2013; Osier 2009; R convey's ``svygini``), see
    :func:`_concentration_if`. Domains (``by``) use only the domain's units for the
    estimate, zero influence outside the domain, and the full design for the variance.
    Replicate designs: the Gini is recomputed for every replicate column with one
    cumulative sum over the sorted ``(n, r)`` weight matrix.

    Negative incomes are allowed (the mean must be positive); the Gini may then exceed 1.
    Equal incomes give 0. A domain with a single observation has ``G = 0``.
    """
    if _is_dask(survey):  # out of core: the same estimator on a DaskSurvey (remitpov.distributed)
        from . import distributed as _rd
        return _rd.from_memory_call("gini", gini, survey, (income, by), dict(
            level=level, na_rm=na_rm, ci_level=ci_level, dist=dist))
    p, _ = _prep(survey, income, level, by, na_rm)
    return _finish(p, _gini_part(p), ci_level, dist)


def _gini_part(p: _Prep) -> Statistic:
    masks = _domain_masks(p)
    _check_domains(p, masks, "gini")
    y, w = p.y, p.design.weights
    rk = _Ranked(y)
    D = masks.shape[1]
    rks = [rk.restrict(masks[:, d]) for d in range(D)]  # domain rows in the one sorted order
    est = np.empty(D)
    Z = None
    for d in range(D):
        Ty = []
        est[d], z = _concentration_if(rks[d], y, y, w, check=Ty)
        if not Ty[0] > 0:
            raise InputError(f"gini: the weighted mean income of {p.label!r} is <= 0 in "
                             f"{p.byname}={p.dlabels[d]!r}; the Gini is undefined")
        if D == 1:
            Z = z[:, None]
        else:
            if Z is None:
                Z = np.zeros((p.design.n, D))
            Z[:, d] = z
    return _part(p, _keys(p, "gini"), est, Z, replicate=_gini_replicate(rks, y), title="Gini coefficient",
                 n_obs=masks.sum(0),
                 notes=("Gini on the 0-1 scale (laeken reports percent)", "weighted mid-ranks, tie-order invariant"))


# =====================================================================================
# partial sums below a population share: Lorenz, shares, S80/S20, Palma
# =====================================================================================
def _partial_sorted(rk: _Ranked, vs: np.ndarray, Ws: np.ndarray, probs: np.ndarray) -> np.ndarray:
    """``sum of w v`` over the poorest share ``p`` of the (weighted) population, (k, r).

    Fractional cut: the tie block that straddles ``p W`` contributes the fraction
    ``(p W - W_before) / W_block`` of its ``sum w v`` (so the result is continuous in p
    and tie-order invariant).
    """
    Wb = rk.block_sums(Ws)
    Vb = rk.block_sums(Ws * vs[:, None])
    before = np.cumsum(Wb, axis=0) - Wb
    W = Wb.sum(0)
    out = np.empty((len(probs), Ws.shape[1]))
    for j, pr in enumerate(probs):
        with np.errstate(divide="ignore", invalid="ignore"):
            frac = np.clip(np.where(Wb > 0, (pr * W - before) / Wb, 0.0), 0.0, 1.0)
        out[j] = (frac * Vb).sum(0)
    return out


def _partial_if(rk: _Ranked, v: np.ndarray, w: np.ndarray, probs: np.ndarray, m_at_cut=None):
    """Partial sums ``S(p)`` (k,) and influence values (n, k).

    ``z_i = v_i 1[r_i <= q_p] - m(q_p) (1[r_i <= q_p] - p)`` with ``q_p`` the ranking
    variable's p-quantile and ``m(q)`` the mean of ``v`` among units ranked at ``q``
    (``= q`` for a Lorenz curve, where ``v`` is the ranking variable). The density of
    the ranking variable cancels (Osier 2009, rules for the total below a quantile).
    """
    o = rk.order
    ws, vs = w[o], v[o]
    S = _partial_sorted(rk, vs, ws[:, None], probs)[:, 0]
    W = ws.sum()
    bw = rk.block_sums(ws[:, None])[:, 0]
    cw_before_block = np.cumsum(bw) - bw
    ys = rk.sorted
    Z = np.zeros((w.shape[0], len(probs)))
    for j, pr in enumerate(probs):
        if pr <= 0:
            continue
        # cut block: last positive-weight block that starts below p W
        cand = np.flatnonzero((cw_before_block < pr * W) & (bw > 0))
        b = cand[-1] if cand.size else 0
        q = ys[rk.starts[b]]
        below = (rk.block <= b).astype(float)
        m = q if m_at_cut is None else m_at_cut(j, q)
        Z[o, j] = vs * below - m * (below - pr)
    return S, Z


def _share_prep(survey, income, by, level, na_rm, what):
    p, _ = _prep(survey, income, level, by, na_rm)
    return (p,) + _share_checks(p, what)


def _share_checks(p: _Prep, what: str):
    """Domain masks (checked: usable rows, positive total income) and the ranking."""
    masks = _domain_masks(p)
    _check_domains(p, masks, what)
    for d in range(masks.shape[1]):
        if not (p.design.weights * masks[:, d]) @ p.y > 0:
            raise InputError(f"{what}: total income of {p.label!r} is <= 0 in {p.byname}={p.dlabels[d]!r}")
    return masks, _Ranked(p.y)


def _partial_statistic(p, masks, rk, probs, g: Callable, keys, *, title, notes) -> Statistic:
    """A statistic ``g(S(p_1..p_k), T)`` of partial sums of income below population shares.

    Influence: chain rule over the partial sums' influence values (:func:`_partial_if`)
    and the total's (``y_i``); gradient of ``g`` by complex step.
    """
    y, w = p.y, p.design.weights
    D = masks.shape[1]
    probs = np.asarray(probs, dtype=float)
    ests, Zs = [], []
    for d in range(D):
        wd = w * masks[:, d]
        S, Zp = _partial_if(rk, y, wd, probs)
        T = wd @ y
        arg = np.concatenate([S, [T]])
        e = np.real(g(arg[None, :].astype(complex))[0])
        J = complex_step_rows(g, arg, relative=True)  # (k_out, k+1)
        Zfull = np.column_stack([Zp, y]) * masks[:, d][:, None]
        ests.append(e)
        Zs.append(Zfull @ J.T)
    est = np.concatenate(ests)

    def rep(W):
        out = []
        for d in range(D):
            Wd = W * masks[:, d][:, None]
            Ws = Wd[rk.order]
            S = _partial_sorted(rk, y[rk.order], Ws, probs)  # (k, r)
            T = (Ws * y[rk.order][:, None]).sum(0)
            out.append(np.real(g(np.vstack([S, T]).T.astype(complex))))
        return np.hstack(out)

    return _part(p, keys, est, np.hstack(Zs), replicate=rep, title=title, notes=tuple(notes),
                 n_obs=np.repeat(masks.sum(0), len(est) // D))


@checked
def income_shares(survey, income, groups=5, by=None, *, level: str = "person", na_rm: bool = False,
                  ci_level: float = 0.95, dist: str = "t") -> EstimateTable:
    """Income shares of population quantile groups (quintiles by default) with SEs.

    ``groups`` is the number of equal groups or a sequence of cut points in (0, 1). The
    share of the group between population shares ``a`` and ``b`` is
    ``(S(b) - S(a)) / T`` with ``S(p)`` the income of the poorest ``p`` of the population
    (fractional cut, see :func:`_partial_sorted`) and ``T`` total income. Influence values
    from ``z(S(p)) = y 1[y <= q_p] - q_p (1[y <= q_p] - p)`` (density-free).
    """
    p, _ = _prep(survey, income, level, by, na_rm)
    return _finish(p, _shares_part(p, groups), ci_level, dist)


def _shares_part(p: _Prep, groups=5) -> Statistic:
    cuts = (np.linspace(0, 1, int(groups) + 1)[1:-1] if np.isscalar(groups)
            else np.asarray(groups, dtype=float))
    if cuts.size and (np.any(cuts <= 0) or np.any(cuts >= 1) or np.any(np.diff(cuts) <= 0)):
        raise InputError(f"income_shares: cut points must be increasing in (0, 1), got {list(cuts)}")
    masks, rk = _share_checks(p, "income_shares")
    edges = np.concatenate([[0.0], cuts, [1.0]])
    k = len(cuts)

    def g(a):
        S, T = a[:, :k], a[:, k:k + 1]
        full = np.hstack([np.zeros_like(T), S, T])
        return (full[:, 1:] - full[:, :-1]) / T

    labels = [{"group": i + 1, "p_lower": float(edges[i]), "p_upper": float(edges[i + 1])} for i in range(k + 1)]
    return _partial_statistic(p, masks, rk, cuts, g, _keys(p, "income_share", labels), title="Income shares",
                              notes=["shares of population quantile groups (fractional cut at the boundaries)"])


@checked
def palma(survey, income, by=None, *, level: str = "person", na_rm: bool = False, ci_level: float = 0.95,
          dist: str = "t") -> EstimateTable:
    """Palma ratio: income share of the richest 10 % over that of the poorest 40 %.

    ``(T - S(0.9)) / S(0.4)`` with population shares cut fractionally (as
    :func:`income_shares`); linearised SE by the chain rule.
    """
    p, _ = _prep(survey, income, level, by, na_rm)
    return _finish(p, _palma_part(p), ci_level, dist)


def _palma_part(p: _Prep) -> Statistic:
    masks, rk = _share_checks(p, "palma")

    def g(a):
        return ((a[:, 2] - a[:, 1]) / a[:, 0])[:, None]

    return _partial_statistic(p, masks, rk, [0.4, 0.9], g, _keys(p, "palma"), title="Palma ratio",
                              notes=["top 10 % share / bottom 40 % share"])


@checked
def quantile_share_ratio(survey, income, by=None, *, lower: float = 0.2, upper: float = 0.8,
                         definition: str = "laeken", level: str = "person", na_rm: bool = False,
                         ci_level: float = 0.95, dist: str = "t") -> EstimateTable:
    """Quantile share ratio (S80/S20 by default) with a linearised SE.

    definition : {"laeken", "shares"}
        ``"laeken"`` (default, Eurostat / laeken's ``qsr``):
        ``sum w y 1[y > q_upper] / sum w y 1[y <= q_lower]`` with the quantiles by laeken's
        rule. ``"shares"``: ratio of the income of the richest ``1 - upper`` to that of
        the poorest ``lower`` of the population, cut fractionally (:func:`income_shares`).

    The influence values of a total above/below a quantile are density-free:
    ``z(sum w y 1[y <= q_p]) = y 1[y <= q_p] - q_p (1[y <= q_p] - p)`` (Osier 2009;
    Langel & Tillé 2011); the ratio by the chain rule. Replicate designs recompute the
    ratio (quantiles included) under every replicate.
    """
    p, _ = _prep(survey, income, level, by, na_rm)
    return _finish(p, _qsr_part(p, lower=lower, upper=upper, definition=definition), ci_level, dist)


def _qsr_part(p: _Prep, *, lower: float = 0.2, upper: float = 0.8, definition: str = "laeken") -> Statistic:
    if not 0 < lower < upper < 1:
        raise InputError(f"quantile_share_ratio needs 0 < lower < upper < 1, got {lower}, {upper}")
    masks, rk = _share_checks(p, "quantile_share_ratio")
    keys = _keys(p, "qsr", [{"lower": lower, "upper": upper}])
    notes = [f"S{round(100 * upper)}/S{round(100 - 100 * upper)} over S{round(100 * lower)}"]
    if definition == "shares":
        def g(a):
            return ((a[:, 2] - a[:, 1]) / a[:, 0])[:, None]
        return _partial_statistic(p, masks, rk, [lower, upper], g, keys, title="Quantile share ratio",
                                  notes=notes + ["population shares cut fractionally"])
    if definition != "laeken":
        raise InputError(f"definition={definition!r} is not 'laeken' or 'shares'")
    y, w = p.y, p.design.weights
    xs = y[rk.order]
    D = masks.shape[1]
    est, Z = np.empty(D), np.zeros((p.design.n, D))
    for d in range(D):
        wd = w * masks[:, d]
        q = _quantile_sorted(xs, wd[rk.order][:, None], np.array([lower, upper]), "laeken")[:, 0]
        lo = (y <= q[0]).astype(float)
        hi = (y > q[1]).astype(float)
        B, Tt = wd @ (y * lo), wd @ (y * hi)
        if not B > 0:
            raise InputError(f"quantile_share_ratio: income of the bottom group is <= 0 in {p.byname}={p.dlabels[d]!r}")
        zb = y * lo - q[0] * (lo - lower)
        zt = y * hi + q[1] * ((1 - hi) - upper)
        est[d] = Tt / B
        Z[:, d] = masks[:, d] * (zt - est[d] * zb) / B

    def rep(W):
        out = []
        for d in range(D):
            Ws = (W * masks[:, d][:, None])[rk.order]
            q = _quantile_sorted(xs, Ws, np.array([lower, upper]), "laeken")  # (2, r)
            B = (Ws * (xs[:, None] * (xs[:, None] <= q[0][None, :]))).sum(0)
            Tt = (Ws * (xs[:, None] * (xs[:, None] > q[1][None, :]))).sum(0)
            out.append((Tt / B)[:, None])
        return np.hstack(out)

    return _part(p, keys, est, Z, replicate=rep, title="Quantile share ratio",
                 notes=tuple(notes) + ("laeken qsr: sum y[y > q80] / sum y[y <= q20], quantiles by laeken's rule",),
                 n_obs=masks.sum(0))


def _points(points) -> np.ndarray:
    P = np.linspace(0, 1, int(points) + 1) if np.isscalar(points) else np.asarray(points, dtype=float)
    if P.size == 0 or np.any((P < 0) | (P > 1)):
        raise InputError(f"curve points must lie in [0, 1], got {list(P)}")
    return P


@checked
def lorenz(survey, income, points=20, by=None, *, generalized: bool = False, se: bool = True,
           level: str = "person", na_rm: bool = False, ci_level: float = 0.95, dist: str = "t") -> pd.DataFrame:
    """Lorenz curve (or generalised Lorenz curve) ordinates as a tidy frame.

    ``L(p) = S(p) / T``: the share of income held by the poorest ``p`` of the population
    (fractional cut, tie-order invariant); ``GL(p) = S(p) / N = p x mean income of the
    poorest p``. ``points`` is the number of equal intervals or a sequence of ``p``.
    With ``se=True`` the frame has linearised ``se``, ``ci_lower``, ``ci_upper``
    (influence of ``S(p)`` as in :func:`income_shares`).

    Returns
    -------
    DataFrame with columns domain, ``p``, ``estimate`` (and ``se``, ``ci_lower``,
    ``ci_upper``, ``df``), ``measure`` = ``"lorenz"`` or ``"generalized_lorenz"``.
    """
    P = _points(points)
    p, masks, rk = _share_prep(survey, income, by, level, na_rm, "lorenz")
    k = P.size
    measure = "generalized_lorenz" if generalized else "lorenz"
    if generalized:
        one = np.ones_like(p.y)
        y, w = p.y, p.design.weights
        D = masks.shape[1]
        ests, Zs = [], []
        for d in range(D):
            wd = w * masks[:, d]
            S, Zp = _partial_if(rk, y, wd, P)
            N = wd.sum()
            ests.append(S / N)
            Zs.append(masks[:, d][:, None] * (Zp - (S / N)[None, :] * one[:, None]) / N)

        def rep(W):
            out = []
            for d in range(D):
                Ws = (W * masks[:, d][:, None])[rk.order]
                out.append((_partial_sorted(rk, y[rk.order], Ws, P) / Ws.sum(0)).T)
            return np.hstack(out)

        tab = _finish(p, _part(p, _keys(p, measure, [{"p": float(x)} for x in P]), np.concatenate(ests),
                               np.hstack(Zs), replicate=rep if se else None, title="Generalised Lorenz curve",
                               vcov=None if se else np.zeros((k * D, k * D))), ci_level, dist)
    else:
        def g(a):
            return a[:, :k] / a[:, k:k + 1]
        if se:
            tab = _finish(p, _partial_statistic(p, masks, rk, P, g, _keys(p, measure, [{"p": float(x)} for x in P]),
                                                     title="Lorenz curve", notes=()), ci_level, dist)
        else:
            y, w = p.y, p.design.weights
            est = np.concatenate([_partial_sorted(rk, y[rk.order], (w * masks[:, d])[rk.order][:, None], P)[:, 0]
                                  / ((w * masks[:, d]) @ y) for d in range(masks.shape[1])])
            tab = _finish(p, _part(p, _keys(p, measure, [{"p": float(x)} for x in P]), est, None,
                                   vcov=np.zeros((est.size, est.size)), title="Lorenz curve"), ci_level, dist)
    out = tab.to_frame()
    if not se:
        out = out.drop(columns=[c for c in ("se", "ci_lower", "ci_upper", "df", "deff") if c in out.columns])
    return out


@checked
def concentration_curve(survey, income, rank_by, points=20, by=None, *, se: bool = True, level: str = "person",
                        na_rm: bool = False, ci_level: float = 0.95, dist: str = "t",
                        bandwidth: float | None = None) -> pd.DataFrame:
    """Concentration curve of ``income`` against the ranking of ``rank_by``.

    ``C(p)``: share of total ``income`` held by the poorest ``p`` of the population ranked
    by ``rank_by`` (e.g. the share of remittances received by the poorest p of persons
    ranked by income without remittances). Units tied in ``rank_by`` are cut fractionally
    with their block's mean ``income`` (tie-order invariant).

    SEs (``se=True``): influence values
    ``z_i = v_i 1[r_i <= q] - m(q) (1[r_i <= q] - p)`` minus ``C(p) v_i``, over ``T_v``,
    where ``m(q) = E[v | r = q]`` is estimated by a Nadaraya--Watson (Gaussian kernel)
    regression of ``v`` on the mid-rank ``F(r)`` at ``p`` with bandwidth
    ``0.9 sd(F) n^(-1/5)`` (or ``bandwidth``, on the 0--1 rank scale). Replicate designs
    recompute the curve.
    """
    P = _points(points)
    p, (r,) = _prep(survey, income, level, by, na_rm, extra=[rank_by])
    masks = _domain_masks(p)
    _check_domains(p, masks, "concentration_curve")
    v, w = p.y, p.design.weights
    rk = _Ranked(r)
    o = rk.order
    D, k = masks.shape[1], P.size
    ests, Zs = [], []
    for d in range(D):
        wd = w * masks[:, d]
        Tv = wd @ v
        if Tv == 0:
            raise InputError(f"concentration_curve: total of {p.label!r} is 0 in {p.byname}={p.dlabels[d]!r}")
        ws = wd[o]
        Fs = rk.mid(ws[:, None])[:, 0] / ws.sum()
        h = bandwidth if bandwidth is not None else 0.9 * np.sqrt(np.cov(Fs[ws > 0], aweights=ws[ws > 0])) * \
            max((ws > 0).sum(), 2) ** (-0.2)

        def m_at(j, q, Fs=Fs, ws=ws):
            K = ws * np.exp(-0.5 * ((Fs - P[j]) / h) ** 2)
            return float(K @ v[o] / K.sum()) if K.sum() > 0 else 0.0

        S, Zp = _partial_if(rk, v, wd, P, m_at_cut=m_at)
        C = S / Tv
        ests.append(C)
        Zs.append(masks[:, d][:, None] * (Zp - C[None, :] * v[:, None]) / Tv)

    def rep(W):
        out = []
        for d in range(D):
            Ws = (W * masks[:, d][:, None])[o]
            S = _partial_sorted(rk, v[o], Ws, P)
            out.append((S / (Ws * v[o][:, None]).sum(0)).T)
        return np.hstack(out)

    keys = _keys(p, "concentration", [{"p": float(x), "rank_by": rank_by if isinstance(rank_by, str) else "rank"}
                                      for x in P])
    tab = _finish(p, _part(p, keys, np.concatenate(ests), np.hstack(Zs), replicate=rep if se else None,
                           vcov=None if se else np.zeros((D * k, D * k)), title="Concentration curve"),
                  ci_level, dist)
    out = tab.to_frame()
    if not se:
        out = out.drop(columns=[c for c in ("se", "ci_lower", "ci_upper", "df", "deff") if c in out.columns])
    return out


# =====================================================================================
# Lerman--Yitzhaki decomposition
# =====================================================================================
COMPONENTS = ("share", "gini", "correlation", "contribution", "contribution_share", "marginal_effect")


@dataclass(frozen=True, eq=False)
class GiniDecomposition:
    """Lerman--Yitzhaki decomposition of the Gini by income source (immutable).

    Attributes
    ----------
    table : EstimateTable
        All components with their joint covariance. Keys: ``measure`` (``"gini"`` for
        the total, else one of ``share`` (S_k), ``gini`` (G_k), ``correlation`` (R_k),
        ``contribution`` (S_k G_k R_k), ``contribution_share`` (S_k G_k R_k / G),
        ``marginal_effect`` (S_k G_k R_k / G - S_k)), ``source`` and the domain column.
    sources : tuple of str
    byname : str
    """

    table: EstimateTable
    sources: tuple[str, ...]
    byname: str
    notes: tuple[str, ...] = field(default_factory=tuple)

    def to_frame(self) -> pd.DataFrame:
        """Tidy long frame: domain, source, measure, estimate, se, ci_lower, ci_upper, df."""
        return self.table.to_frame()

    def wide(self, value: str = "estimate") -> pd.DataFrame:
        """One row per (domain, source), one column per component (``value`` column)."""
        f = self.to_frame()
        f = f[f["source"] != "total"]
        return f.pivot_table(index=[self.byname, "source"], columns="measure", values=value, sort=False)[
            list(COMPONENTS)].reset_index()

    @property
    def gini(self) -> pd.DataFrame:
        return self.to_frame().query("source == 'total'")

    def summary(self, digits: int = 4) -> str:
        lines = ["Lerman-Yitzhaki decomposition of the Gini", "=" * 42]
        f = self.to_frame()
        for dom, g in f.groupby(self.byname, sort=False):
            tot = g[g["source"] == "total"].iloc[0]
            lines.append(f"{self.byname}={dom}: Gini {tot['estimate']:.{digits}f} (SE {tot['se']:.{digits}f})")
            w = self.wide().query(f"`{self.byname}` == @dom").drop(columns=[self.byname])
            with pd.option_context("display.width", 140, "display.max_columns", 30):
                lines.append(w.to_string(index=False, float_format=lambda v: f"{v:.{digits}f}"))
        for n in self.notes + self.table.notes:
            lines.append(f"note: {n}")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return self.summary()


@checked
def gini_decomposition(survey, sources: Mapping[str, object], total=None, by=None, *, level: str = "person",
                       na_rm: bool = False, ci_level: float = 0.95, dist: str = "t",
                       residual_tol: float = 1e-9) -> GiniDecomposition:
    """Lerman--Yitzhaki (1985) decomposition of the Gini by income source.

    ``G = sum_k S_k G_k R_k`` with ``S_k = mu_k / mu`` (share of total income), ``G_k``
    the Gini of source k (ranked by itself), ``R_k = cov(y_k, F(y)) / cov(y_k, F(y_k))``
    (Gini correlation), contribution ``S_k G_k R_k = 2 cov(y_k, F(y)) / mu``, its share
    of the Gini, and the relative marginal effect of a 1 % increase in source k,
    ``dG/de / G = S_k G_k R_k / G - S_k`` (Stark, Taylor & Yitzhaki 1986).

    All ranks are weighted mid-ranks (tied incomes share the average rank), the same
    rule as :func:`gini`, so the contributions sum to the total Gini up to rounding and
    everything is tie-order invariant.

    Parameters
    ----------
    sources : dict name -> column (or array)
    total : str or array, optional
        Total income. Default: the sum of the sources. If given and it differs from the
        sum of the sources by more than ``residual_tol`` (relative), a source
        ``"residual"`` = total - sum of sources is added so the decomposition is exact.

    Standard errors: linearisation through influence values of each component (the
    contribution's is the exact weight-derivative of ``2 cov(y_k, F(y)) / mu``, the
    other components follow by the chain rule), or replicate weights (every component
    recomputed, sources re-ranked, under each replicate).
    """
    if not sources:
        raise InputError("gini_decomposition needs at least one income source")
    names = list(sources)
    cols = [sources[k] for k in names]
    first = total if total is not None else cols[0]
    extra = cols if total is not None else cols[1:]
    p, X = _prep(survey, first, level, by, na_rm, extra=extra)
    if total is not None:
        y, Yk = p.y, list(X)
    else:
        Yk = [p.y] + list(X)
        y = np.sum(Yk, axis=0)
        p = _Prep(p.design, p.survey, y, p.ok, p.codes, p.dlabels, p.byname, "total")
    notes = ["Lerman-Yitzhaki decomposition with weighted mid-ranks"]
    if total is not None:
        resid = y - np.sum(Yk, axis=0)
        if np.abs(resid).max() > residual_tol * max(np.abs(y).max(), 1.0):
            names.append("residual")
            Yk.append(resid)
            notes.append("total differs from the sum of the sources: a 'residual' source was added")
        else:
            # make the sources add up exactly to the total used for ranking
            y = np.sum(Yk, axis=0)
            p = _Prep(p.design, p.survey, y, p.ok, p.codes, p.dlabels, p.byname, p.label)
    masks = _domain_masks(p)
    _check_domains(p, masks, "gini_decomposition")
    w = p.design.weights
    K = len(Yk)
    rk = _Ranked(y)
    rks = [_Ranked(v) for v in Yk]
    D = masks.shape[1]
    per = 1 + K * len(COMPONENTS)
    est = np.empty(D * per)
    Z = np.zeros((p.design.n, D * per))
    rk_d = [rk.restrict(masks[:, d]) for d in range(D)]
    rks_d = [[rv.restrict(masks[:, d]) for rv in rks] for d in range(D)]
    zero: list[str] = []  # (source, domain) pairs where the source is zero for every unit
    for d in range(D):
        wd = w * masks[:, d]
        T = wd @ y
        if not T > 0:
            raise InputError(f"gini_decomposition: total income is <= 0 in {p.byname}={p.dlabels[d]!r}")
        G, zG = _concentration_if(rk_d[d], y, y, w)
        base = d * per
        est[base], Z[:, base] = G, zG
        with np.errstate(divide="ignore", invalid="ignore"):
            for k, (v, rv) in enumerate(zip(Yk, rks_d[d])):
                Tk = wd @ v
                if not (wd * v != 0).any():  # the source is zero for everyone in the domain
                    zero.append(f"{names[k]!r} ({p.byname}={p.dlabels[d]!r})")
                S = Tk / T
                zS = (v - S * y) / T
                Gk, zGk = _concentration_if(rv, v, v, w)
                C, zC = _concentration_if(rk_d[d], v, y, w)
                R = C / (S * Gk)
                zR = R * (zC / C - zS / S - zGk / Gk)
                sh = C / G
                zsh = (zC - sh * zG) / G
                me = sh - S
                zme = zsh - zS
                j = base + 1 + k * len(COMPONENTS)
                est[j:j + 6] = [S, Gk, R, C, sh, me]
                Z[:, j:j + 6] = np.column_stack([zS, zGk, zR, zC, zsh, zme])
        Z[:, base:base + per] *= masks[:, d][:, None]

    def rep(W):
        out = []
        with np.errstate(divide="ignore", invalid="ignore"):
            for d in range(D):
                Wd = W * masks[:, d][:, None]
                G = _concentration_point(rk_d[d], y, y, W)
                T = Wd.T @ y
                cols_ = [G]
                for v, rv in zip(Yk, rks_d[d]):
                    S = (Wd.T @ v) / T
                    Gk = _concentration_point(rv, v, v, W)
                    C = _concentration_point(rk_d[d], v, y, W)
                    cols_ += [S, Gk, C / (S * Gk), C, C / G, C / G - S]
                out.append(np.column_stack(cols_))
        return np.hstack(out)

    if zero:
        msg = (f"gini_decomposition: source {', '.join(zero[:5])}{' ...' if len(zero) > 5 else ''} is zero for every "
               "unit: its share, contribution and marginal effect are 0 but its Gini and Gini correlation are "
               "undefined (NaN, with NaN SEs); drop the source or the domain to avoid them")
        warnings.warn(msg, DataWarning, stacklevel=3)
        notes.append(msg)
    rows = []
    for dl in p.dlabels:
        rows.append({"measure": "gini", "source": "total", p.byname: dl})
        for nm in names:
            for c in COMPONENTS:
                rows.append({"measure": c, "source": nm, p.byname: dl})
    tab = _finish(p, _part(p, pd.DataFrame(rows), est, Z, replicate=rep, title="Lerman-Yitzhaki Gini decomposition",
                           notes=notes, n_obs=np.repeat(masks.sum(0), per)), ci_level, dist)
    return GiniDecomposition(tab, tuple(names), p.byname, ())


# =====================================================================================
# the statistic of every measure compare_inequality estimates jointly, in the one registry
# =====================================================================================
for _name, _builder in {"gini": _gini_part, "palma": _palma_part, "qsr": _qsr_part, "income_shares": _shares_part,
                        "quantile": _quantile_part}.items():
    measures.register_statistic(_name, _builder)
del _name, _builder
if set(measures.names("inequality", joint=True)) - set(measures.statistics()):  # pragma: no cover - a slip
    raise ImportError(f"inequality measures without a registered statistic: "
                      f"{sorted(set(measures.names('inequality', joint=True)) - set(measures.statistics()))}")


__all__ = ["compare_inequality", "INEQUALITY_MEASURES", "quantile", "gini", "generalized_entropy", "theil", "mld", "atkinson", "income_shares", "palma",
           "quantile_share_ratio", "lorenz", "concentration_curve", "gini_decomposition", "GiniDecomposition",
           "QUANTILE_RULES"]
