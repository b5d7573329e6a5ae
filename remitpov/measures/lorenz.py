"""Lorenz, generalised Lorenz and concentration curves as tidy frames with linearised SEs."""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..core.ranked import Ranked, partial_if, partial_sorted
from ..core.statistic import Statistic
from ..core.validate import checked
from ..exceptions import InputError
from .shares import partial_statistic, share_checks
from .inequality_base import Prep as _Prep
from .inequality_base import check_usable as _check_domains
from .inequality_base import finish as _finish
from .inequality_base import keys_frame as _keys
from .inequality_base import legacy_deff
from .inequality_base import part as _part
from .inequality_base import prep as _prep
from .inequality_base import skips_empty_domains
from .inequality_base import usable_masks as _domain_masks


def _points(points) -> np.ndarray:
    P = np.linspace(0, 1, int(points) + 1) if np.isscalar(points) else np.asarray(points, dtype=float)
    if P.size == 0 or np.any((P < 0) | (P > 1)):
        raise InputError(f"curve points must lie in [0, 1], got {list(P)}")
    return P


@checked
def lorenz(survey, income, points=20, by=None, *, generalized: bool = False, se: bool = True,
           level: str = "person", na_rm: bool = False, ci_level: float = 0.95, dist: str = "t",
           deff: bool | str | None = None) -> pd.DataFrame:
    """Lorenz curve (or generalised Lorenz curve) ordinates as a tidy frame.

    ``L(p) = S(p) / T``: the share of income held by the poorest ``p`` of the population
    (fractional cut, tie-order invariant); ``GL(p) = S(p) / N = p x mean income of the
    poorest p``. ``points`` is the number of equal intervals or a sequence of ``p``.
    With ``se=True`` the frame has linearised ``se``, ``ci_lower``, ``ci_upper``
    (influence of ``S(p)`` as in :func:`income_shares`).

    ``deff`` : None (default: design effects computed, with a FutureWarning that the default
    becomes False), False, True or "replace" (as :func:`remitpov.gini`); only with ``se=True``.
    A domain without a usable unit of positive weight has NaN ordinates (an
    :class:`~remitpov.core.statistic.EmptyDomainWarning`).

    Returns
    -------
    DataFrame with columns domain, ``p``, ``estimate`` (and ``se``, ``ci_lower``,
    ``ci_upper``, ``df``, ``deff``), ``measure`` = ``"lorenz"`` or ``"generalized_lorenz"``.
    """
    P = _points(points)
    p, _ = _prep(survey, income, level, by, na_rm)
    tab = _finish(p, lorenz_statistic(p, P, generalized=generalized, se=se), ci_level, dist,
                  legacy_deff(deff, "lorenz") if se else False)
    out = tab.to_frame()
    if not se:
        out = out.drop(columns=[c for c in ("se", "ci_lower", "ci_upper", "df", "deff") if c in out.columns])
    return out


@skips_empty_domains
def lorenz_statistic(p: _Prep, P: np.ndarray, *, generalized: bool = False, se: bool = True) -> Statistic:
    """The (generalised) Lorenz ordinates at population shares ``P`` in every domain of ``p``."""
    masks, rk = share_checks(p, "lorenz")
    k = P.size
    measure = "generalized_lorenz" if generalized else "lorenz"
    keys = _keys(p, measure, [{"p": float(x)} for x in P])
    y, w = p.y, p.design.weights
    D = masks.shape[1]
    if generalized:
        one = np.ones_like(y)
        ests, Zs = [], []
        for d in range(D):
            wd = w * masks[:, d]
            S, Zp = partial_if(rk, y, wd, P)
            N = wd.sum()
            ests.append(S / N)
            Zs.append(masks[:, d][:, None] * (Zp - (S / N)[None, :] * one[:, None]) / N)

        def rep(W):
            out = []
            for d in range(D):
                Ws = (W * masks[:, d][:, None])[rk.order]
                out.append((partial_sorted(rk, y[rk.order], Ws, P) / Ws.sum(0)).T)
            return np.hstack(out)

        return _part(p, keys, np.concatenate(ests), np.hstack(Zs), replicate=rep if se else None,
                     title="Generalised Lorenz curve", vcov=None if se else np.zeros((k * D, k * D)))

    def g(a):
        return a[:, :k] / a[:, k:k + 1]
    if se:
        return partial_statistic(p, masks, rk, P, g, keys, title="Lorenz curve", notes=())
    est = np.concatenate([partial_sorted(rk, y[rk.order], (w * masks[:, d])[rk.order][:, None], P)[:, 0]
                          / ((w * masks[:, d]) @ y) for d in range(D)])
    return _part(p, keys, est, None, vcov=np.zeros((est.size, est.size)), title="Lorenz curve")


@checked
def concentration_curve(survey, income, rank_by, points=20, by=None, *, se: bool = True, level: str = "person",
                        na_rm: bool = False, ci_level: float = 0.95, dist: str = "t",
                        bandwidth: float | None = None, deff: bool | str | None = None) -> pd.DataFrame:
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

    ``deff`` and empty domains: as :func:`lorenz`.
    """
    P = _points(points)
    p, (r,) = _prep(survey, income, level, by, na_rm, extra=[rank_by])
    stat = concentration_statistic(p, r, P, se=se, bandwidth=bandwidth,
                                   rank_by=rank_by if isinstance(rank_by, str) else "rank")
    tab = _finish(p, stat, ci_level, dist, legacy_deff(deff, "concentration_curve") if se else False)
    out = tab.to_frame()
    if not se:
        out = out.drop(columns=[c for c in ("se", "ci_lower", "ci_upper", "df", "deff") if c in out.columns])
    return out


@skips_empty_domains
def concentration_statistic(p: _Prep, r: np.ndarray, P: np.ndarray, *, se: bool = True,
                            bandwidth: float | None = None, rank_by: str = "rank") -> Statistic:
    """Concentration ordinates of ``p.y`` ranked by ``r`` at population shares ``P`` (see
    :func:`concentration_curve`) in every domain of ``p``."""
    masks = _domain_masks(p)
    _check_domains(p, masks, "concentration_curve")
    v, w = p.y, p.design.weights
    rk = Ranked(r)
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

        S, Zp = partial_if(rk, v, wd, P, m_at_cut=m_at)
        C = S / Tv
        ests.append(C)
        Zs.append(masks[:, d][:, None] * (Zp - C[None, :] * v[:, None]) / Tv)

    def rep(W):
        out = []
        for d in range(D):
            Ws = (W * masks[:, d][:, None])[o]
            S = partial_sorted(rk, v[o], Ws, P)
            out.append((S / (Ws * v[o][:, None]).sum(0)).T)
        return np.hstack(out)

    keys = _keys(p, "concentration", [{"p": float(x), "rank_by": rank_by} for x in P])
    return _part(p, keys, np.concatenate(ests), np.hstack(Zs), replicate=rep if se else None,
                 vcov=None if se else np.zeros((D * k, D * k)), title="Concentration curve")


__all__ = ["lorenz", "concentration_curve", "lorenz_statistic", "concentration_statistic"]
