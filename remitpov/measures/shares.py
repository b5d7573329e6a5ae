"""Income shares of population quantile groups, the Palma ratio and the quantile share
ratio (S80/S20): functions of the income below population shares (fractional cut) with
density-free linearised SEs (Osier 2009)."""
from __future__ import annotations

from typing import Callable

import numpy as np

from ..core.jacobian import complex_step_rows
from ..core.quantile import quantiles_sorted as _quantile_sorted
from ..core.ranked import Ranked, partial_if, partial_sorted
from ..core.statistic import Statistic
from ..core.validate import checked
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

register(Measure("palma", "inequality", "palma", rank=80, summary="Palma ratio (top 10 % / bottom 40 %)"))
register(Measure("qsr", "inequality", "quantile_share_ratio", aliases=("quantile_share_ratio",),
                 options=("lower", "upper", "definition"), rank=90, summary="quantile share ratio S80/S20"))
register(Measure("income_shares", "inequality", "income_shares", aliases=("shares",), options=("groups",), rank=100,
                 summary="income shares of population quantile groups"))


def share_checks(p: _Prep, what: str):
    """Domain masks (checked: usable rows, positive total income) and the ranking."""
    masks = _domain_masks(p)
    _check_domains(p, masks, what)
    for d in range(masks.shape[1]):
        if not (p.design.weights * masks[:, d]) @ p.y > 0:
            raise InputError(f"{what}: total income of {p.label!r} is <= 0 in {p.byname}={p.dlabels[d]!r}")
    return masks, Ranked(p.y)


def partial_statistic(p, masks, rk, probs, g: Callable, keys, *, title, notes) -> Statistic:
    """A statistic ``g(S(p_1..p_k), T)`` of partial sums of income below population shares.

    Influence: chain rule over the partial sums' influence values (:func:`remitpov.core.ranked.partial_if`)
    and the total's (``y_i``); gradient of ``g`` by complex step.
    """
    y, w = p.y, p.design.weights
    D = masks.shape[1]
    probs = np.asarray(probs, dtype=float)
    ests, Zs = [], []
    for d in range(D):
        wd = w * masks[:, d]
        S, Zp = partial_if(rk, y, wd, probs)
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
            S = partial_sorted(rk, y[rk.order], Ws, probs)  # (k, r)
            T = (Ws * y[rk.order][:, None]).sum(0)
            out.append(np.real(g(np.vstack([S, T]).T.astype(complex))))
        return np.hstack(out)

    return _part(p, keys, est, np.hstack(Zs), replicate=rep, title=title, notes=tuple(notes),
                 n_obs=np.repeat(masks.sum(0), len(est) // D))


@checked
def income_shares(survey, income, groups=5, by=None, *, level: str = "person", na_rm: bool = False,
                  ci_level: float = 0.95, dist: str = "t", deff: bool | str | None = None) -> EstimateTable:
    """Income shares of population quantile groups (quintiles by default) with SEs.

    ``groups`` is the number of equal groups or a sequence of cut points in (0, 1). The
    share of the group between population shares ``a`` and ``b`` is
    ``(S(b) - S(a)) / T`` with ``S(p)`` the income of the poorest ``p`` of the population
    (fractional cut, see :func:`remitpov.core.ranked.partial_sorted`) and ``T`` total income. Influence values
    from ``z(S(p)) = y 1[y <= q_p] - q_p (1[y <= q_p] - p)`` (density-free).
    """
    p, _ = _prep(survey, income, level, by, na_rm)
    return _finish(p, shares_statistic(p, groups), ci_level, dist, legacy_deff(deff, "income_shares"))


@skips_empty_domains
def shares_statistic(p: _Prep, groups=5) -> Statistic:
    cuts = (np.linspace(0, 1, int(groups) + 1)[1:-1] if np.isscalar(groups)
            else np.asarray(groups, dtype=float))
    if cuts.size and (np.any(cuts <= 0) or np.any(cuts >= 1) or np.any(np.diff(cuts) <= 0)):
        raise InputError(f"income_shares: cut points must be increasing in (0, 1), got {list(cuts)}")
    masks, rk = share_checks(p, "income_shares")
    edges = np.concatenate([[0.0], cuts, [1.0]])
    k = len(cuts)

    def g(a):
        S, T = a[:, :k], a[:, k:k + 1]
        full = np.hstack([np.zeros_like(T), S, T])
        return (full[:, 1:] - full[:, :-1]) / T

    labels = [{"group": i + 1, "p_lower": float(edges[i]), "p_upper": float(edges[i + 1])} for i in range(k + 1)]
    return partial_statistic(p, masks, rk, cuts, g, _keys(p, "income_share", labels), title="Income shares",
                              notes=["shares of population quantile groups (fractional cut at the boundaries)"])


@checked
def palma(survey, income, by=None, *, level: str = "person", na_rm: bool = False, ci_level: float = 0.95,
          dist: str = "t", deff: bool | str | None = None) -> EstimateTable:
    """Palma ratio: income share of the richest 10 % over that of the poorest 40 %.

    ``(T - S(0.9)) / S(0.4)`` with population shares cut fractionally (as
    :func:`income_shares`); linearised SE by the chain rule.
    """
    p, _ = _prep(survey, income, level, by, na_rm)
    return _finish(p, palma_statistic(p), ci_level, dist, legacy_deff(deff, "palma"))


@skips_empty_domains
def palma_statistic(p: _Prep) -> Statistic:
    masks, rk = share_checks(p, "palma")

    def g(a):
        return ((a[:, 2] - a[:, 1]) / a[:, 0])[:, None]

    return partial_statistic(p, masks, rk, [0.4, 0.9], g, _keys(p, "palma"), title="Palma ratio",
                              notes=["top 10 % share / bottom 40 % share"])


@checked
def quantile_share_ratio(survey, income, by=None, *, lower: float = 0.2, upper: float = 0.8,
                         definition: str = "laeken", level: str = "person", na_rm: bool = False,
                         ci_level: float = 0.95, dist: str = "t", deff: bool | str | None = None) -> EstimateTable:
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
    return _finish(p, qsr_statistic(p, lower=lower, upper=upper, definition=definition), ci_level, dist,
                   legacy_deff(deff, "quantile_share_ratio"))


@skips_empty_domains
def qsr_statistic(p: _Prep, *, lower: float = 0.2, upper: float = 0.8, definition: str = "laeken") -> Statistic:
    if not 0 < lower < upper < 1:
        raise InputError(f"quantile_share_ratio needs 0 < lower < upper < 1, got {lower}, {upper}")
    masks, rk = share_checks(p, "quantile_share_ratio")
    keys = _keys(p, "qsr", [{"lower": lower, "upper": upper}])
    notes = [f"S{round(100 * upper)}/S{round(100 - 100 * upper)} over S{round(100 * lower)}"]
    if definition == "shares":
        def g(a):
            return ((a[:, 2] - a[:, 1]) / a[:, 0])[:, None]
        return partial_statistic(p, masks, rk, [lower, upper], g, keys, title="Quantile share ratio",
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



register_statistic("palma", palma_statistic)
register_statistic("qsr", qsr_statistic)
register_statistic("income_shares", shares_statistic)

__all__ = ["income_shares", "palma", "quantile_share_ratio", "shares_statistic", "palma_statistic", "qsr_statistic",
           "share_checks", "partial_statistic"]
