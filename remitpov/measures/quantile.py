"""Weighted quantiles with design-based SEs (Woodruff, kernel density or replicate weights).

Rules and conventions: :mod:`remitpov.inequality` (module docstring) and
:mod:`remitpov.core.quantile`.
"""
from __future__ import annotations

import numpy as np

from ..core.density import kernel_density
from ..core.density import silverman_bandwidth as _silverman
from ..core.inputs import is_dask as _is_dask
from ..core.quantile import QUANTILE_RULES, normalise_rule
from ..core.quantile import quantiles_sorted as _quantile_sorted
from ..core.ranked import Ranked
from ..core.statistic import Statistic
from ..core.validate import checked
from ..design import critical_value
from ..exceptions import InputError
from ..results import EstimateTable
from .registry import Measure, register, register_statistic
from .inequality_base import Prep as _Prep
from .inequality_base import check_usable as _check_domains
from .inequality_base import finish as _finish
from .inequality_base import legacy_deff
from .inequality_base import keys_frame as _keys
from .inequality_base import part as _part
from .inequality_base import prep as _prep
from .inequality_base import skips_empty_domains
from .inequality_base import usable_masks as _domain_masks

register(Measure("quantile", "inequality", "quantile", options=("probs", "rule", "se_method", "bandwidth"), rank=110,
                 summary="weighted quantiles"))

QUANTILE_SE = ("woodruff", "kernel", "replicate")


@checked
def quantile(survey, income, probs=(0.5,), by=None, *, level: str = "person", rule: str = "hf7",
             se_method: str | None = None, na_rm: bool = False, ci_level: float = 0.95, dist: str = "t",
             deff: bool | str | None = None, bandwidth: float | None = None) -> EstimateTable:
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
        if deff not in (None, True):
            raise InputError("deff= other than True is not available on a DaskSurvey (its engine always computes "
                             "design effects); drop it or load the data in memory")
        from .. import distributed as _rd
        return _rd.from_memory_call("quantile", quantile, survey, (income, probs, by), dict(
            level=level, rule=rule, se_method=se_method, na_rm=na_rm, ci_level=ci_level, dist=dist,
            bandwidth=bandwidth))
    p, _ = _prep(survey, income, level, by, na_rm)
    return _finish(p, quantile_statistic(p, probs, rule=rule, se_method=se_method, bandwidth=bandwidth,
                                          ci_level=ci_level, dist=dist), ci_level, dist, legacy_deff(deff, "quantile"))


@skips_empty_domains
def quantile_statistic(p: _Prep, probs=(0.5,), *, rule: str = "hf7", se_method: str | None = None,
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
    rk = Ranked(y)
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



register_statistic("quantile", quantile_statistic)

__all__ = ["quantile", "quantile_statistic", "QUANTILE_SE", "QUANTILE_RULES"]
