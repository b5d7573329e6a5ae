"""What every inequality measure shares: input preparation, domains, key rows and the finaliser call.

* :func:`prep` -- design, income (and extra columns), the missing-value rule and domains as a
  :class:`Prep`;
* :func:`usable_masks`, :func:`check_usable` -- domain membership of usable rows;
* :func:`part` -- a measure's :class:`~remitpov.core.statistic.Statistic` (row-level influence
  values, replicate rule); :func:`finish` -- its table through the one finaliser;
* :func:`skips_empty_domains` -- decorator of a statistic builder: domains without a usable
  unit of positive weight are left out of the computation and come back flagged
  ``Statistic.empty`` (NaN estimates and variances, an
  :class:`~remitpov.core.statistic.EmptyDomainWarning` from the finaliser), as poverty and
  means;
* :func:`smooth_statistic` -- a smooth function of weighted totals with its exact
  complex-step gradient (generalised entropy, Atkinson);
* :func:`require_income` -- refuse non-positive (or negative) incomes naming the rows.

Conventions in :mod:`remitpov.inequality`.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass, replace
from typing import Callable, Mapping, Sequence

import numpy as np
import pandas as pd

from ..core.domains import check_domains, domain_masks
from ..core.inputs import by_codes as _by
from ..core.inputs import usable_columns
from ..core.jacobian import complex_step_rows
from ..core.statistic import Statistic, finalise, legacy_deff
from ..design import Design
from ..exceptions import InputError, describe_rows
from ..results import EstimateTable


@dataclass(frozen=True)
class Prep:
    design: Design
    survey: object
    y: np.ndarray  # (n,) income, NaN rows replaced by 0 (weight 0)
    ok: np.ndarray  # (n,) usable rows
    codes: np.ndarray
    dlabels: np.ndarray
    byname: str
    label: str


def prep(obj, income, level: str, by, na_rm: bool, extra: Sequence = ()) -> tuple[Prep, list[np.ndarray]]:
    """Resolve design, income (and extra columns), NaN policy and domains."""
    design, survey, label, cols, miss = usable_columns(obj, level, income, na_rm, extra)
    codes, dlabels, byname = _by(survey, by, design.n)
    p = Prep(design, survey, cols[0], ~miss, np.asarray(codes), np.asarray(dlabels, dtype=object),
              byname, label)
    return p, cols[1:]


def usable_masks(p: Prep) -> np.ndarray:
    """(n, D) boolean membership: domain code and usable row and positive weight."""
    return domain_masks(p.codes, len(p.dlabels), p.ok & (p.design.weights > 0))


def check_usable(p: Prep, masks: np.ndarray, what: str, min_n: int = 1):
    check_domains(masks, p.dlabels, p.byname, what, min_n)


def skips_empty_domains(build: Callable) -> Callable:
    """Decorate a statistic builder ``build(p, *args, **kwargs) -> Statistic`` so that empty domains are NaN.

    A domain of ``p`` without a usable row of positive weight (e.g. all its incomes missing
    with ``na_rm=True``, or a zero-weight category) is taken out of ``p`` before ``build``
    runs (its rows then belong to no domain), and its rows of the statistic come back
    flagged ``empty``: estimate and influence values 0, replicate estimates 0, which the
    finaliser (:func:`remitpov.core.statistic.finalise`) reports as NaN with NaN variances
    and an :class:`~remitpov.core.statistic.EmptyDomainWarning`. The other domains'
    numbers are unchanged (domains are zero weights on the full design). Estimates are
    domain-major with the same number per domain. No usable row at all is an
    :class:`InputError`.
    """
    @functools.wraps(build)
    def wrapped(p: Prep, *args, **kwargs) -> Statistic:
        D = len(p.dlabels)
        usable = p.ok & (p.design.weights > 0)
        if D == 1:  # every code is 0: no count needed (a bincount costs ~3 ms at 10^6 rows)
            keep = np.flatnonzero([usable.any()])
        else:
            keep = np.flatnonzero(np.bincount(p.codes[usable], minlength=D) > 0)
        if keep.size == D:
            return build(p, *args, **kwargs)
        if keep.size == 0:
            raise InputError(f"{build.__name__.removesuffix('_statistic')}: no usable observation with a positive "
                             f"weight in any domain of {p.byname!r} (every {p.label!r} missing?); check the data "
                             "and na_rm")
        new = np.full(D, -1, dtype=np.int64)
        new[keep] = np.arange(keep.size)
        stat = build(replace(p, codes=new[p.codes], dlabels=p.dlabels[keep]), *args, **kwargs)
        return expand_domains(stat, p, keep)
    return wrapped


def expand_domains(stat: Statistic, p: Prep, keep: np.ndarray) -> Statistic:
    """``stat`` computed on the domains ``keep`` of ``p`` with the other domains' rows added, flagged empty."""
    D, k = len(p.dlabels), stat.estimates.size // keep.size
    idx = (keep[:, None] * k + np.arange(k)[None, :]).ravel()  # kept rows in the full domain-major order
    K = D * k

    def put(a):  # a (..., kept) -> (..., K) with zeros in the empty domains' positions
        a = np.asarray(a, dtype=float)
        out = np.zeros(a.shape[:-1] + (K,))
        out[..., idx] = a
        return out

    pos = np.zeros(D, dtype=np.int64)
    pos[keep] = np.arange(keep.size)  # empty domains copy the first kept domain's key rows
    keys = stat.keys.iloc[(pos[:, None] * k + np.arange(k)[None, :]).ravel()].reset_index(drop=True)
    keys[p.byname] = np.repeat(p.dlabels, k)
    empty = np.ones(K, dtype=bool)
    empty[idx] = stat.empty
    V = None
    if stat.vcov is not None:
        V = np.zeros((K, K))
        V[np.ix_(idx, idx)] = stat.vcov
    rep = None if stat.replicate is None else (lambda W, f=stat.replicate: put(f(W)))
    tot = None if stat.totals is None else (stat.totals[0], lambda T, f=stat.totals[1]: put(f(T)))
    return stat.replace(keys=keys, estimates=put(stat.estimates), z=None if stat.z is None else put(stat.z),
                        vcov=V, replicate=rep, totals=tot, empty=empty, codes=p.codes,
                        n_obs=None if stat.n_obs is None else put(stat.n_obs).astype(np.int64))


#: the variance note of every inequality table (linearised designs)
LINEARISED = "Taylor linearisation (influence functions)"


def part(p: Prep, keys, est, Z, *, replicate: Callable | None = None, totals=None, vcov=None, title: str = "",
          notes=(), n_obs=None, empty=None) -> Statistic:
    """One measure of one income before the variance (rows domain-major, ``len(p.dlabels)`` domains).

    ``Z`` (n, k) influence values (None when only replicates apply); ``replicate``
    (``W (n, r) -> (r, k)``) and/or ``totals`` (``(Y, f)``) for replicate designs; ``vcov``
    overrides the linearised variance of a single-income table (quantiles: Woodruff;
    it always equals ``Design.vcov`` of ``Z``, which joint estimation uses); ``empty`` flags
    estimates in empty domains (:func:`skips_empty_domains`).
    """
    return Statistic(keys, est, z=Z, replicate=replicate, totals=totals, vcov=vcov, codes=p.codes, title=title,
                     notes=notes, variance_note=LINEARISED, n_obs=n_obs, empty=empty)


def finish(p: Prep, stat: Statistic, ci_level: float, dist: str, deff: bool | str = True) -> EstimateTable:
    """The table of an inequality statistic (design effects unless ``deff=False``)."""
    return finalise(stat, p.design, ci_level=ci_level, dist=dist, deff=deff)


def keys_frame(p: Prep, measure: str, inner: Sequence[Mapping] = ({},)) -> pd.DataFrame:
    rows = []
    for d in p.dlabels:
        for extra in inner:
            r = {"measure": measure, "variable": p.label, p.byname: d}
            r.update(extra)
            rows.append(r)
    return pd.DataFrame(rows)


def smooth_statistic(p: Prep, masks: np.ndarray, Y: np.ndarray, f: Callable, keys, *, title, notes) -> Statistic:
    """Estimate ``f(totals of Y)`` in every domain with influence ``z = Y grad f``."""
    D, m = masks.shape[1], Y.shape[1]
    w = p.design.weights
    est, Zs, Ys = [], [], []
    for d in range(D):
        Yd = Y * masks[:, d][:, None]
        T = w @ Yd
        e = np.real(np.asarray(f(T[None, :].astype(complex)))[0])
        J = complex_step_rows(f, T, relative=True)
        est.append(e)
        Zs.append(Yd @ J.T)
        Ys.append(Yd)
    k = len(est[0])
    Yall = np.hstack(Ys)

    def fall(Tm):
        return np.hstack([np.real(f(Tm[:, d * m:(d + 1) * m].astype(complex))) for d in range(D)]).reshape(len(Tm), D * k)

    return part(p, keys, np.concatenate(est), np.hstack(Zs), totals=(Yall, fall), title=title, notes=tuple(notes),
                 n_obs=np.repeat(masks.sum(0), k))


def require_income(p: Prep, masks, positive: bool, what: str):
    y = p.y
    inside = masks.any(1)
    bad = inside & ((y <= 0) if positive else (y < 0))
    if bad.any():
        ids = None if p.survey is None else p.survey.id_values
        raise InputError(
            f"{what} needs {'positive' if positive else 'non-negative'} incomes but {p.label!r} is "
            f"{'<= 0' if positive else '< 0'} in {describe_rows(bad, ids)}; use a measure that allows "
            f"{'zero or ' if positive else ''}negative incomes (gini), or recode/exclude those rows explicitly"
        )


__all__ = ["legacy_deff", "Prep", "prep", "usable_masks", "check_usable", "part", "finish", "keys_frame", "smooth_statistic",
           "require_income", "LINEARISED", "skips_empty_domains", "expand_domains"]
