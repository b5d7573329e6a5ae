"""A statistic before its variance, and the ONE finaliser that turns it into an :class:`EstimateTable`.

Every measure (poverty, inequality, the convey measures) produces a frozen
:class:`Statistic`: key rows, point estimates, the influence (linearised) values in
factored or row-level form and a replicate rule. :func:`finalise` owns everything that
happens after that, with one set of rules:

Variance path
    1. ``vcov`` given by the measure (its own linearised variance, e.g. Woodruff
       quantiles, or zeros for curves without SEs): used as is.
    2. Linearisation designs (no replicate weights): within-domain blocks of factored
       influence values (:meth:`Design.vcov_blocks`, many domains) when ``blocks``;
       else factored influence values ``z_i = B_i A[d_i]`` (``sums`` of the basis ``B``
       and coefficients ``coef = A``) through :meth:`Design.vcov_factored`; else row-level
       ``z`` through :meth:`Design.vcov` (an estimate whose influence values are not all
       finite gets NaN variances and covariances).
    3. Replicate designs: whichever replicate rule the measure gives (``psu_totals``,
       ``totals`` or ``replicate``, see :meth:`Design.vcov`), centred (``mse``) at the
       estimates with empty domains at 0.
Delta method
    ``transform=(h, J)`` maps the estimates (R, k) -> (R, m) row-wise (smooth); ``J`` is
    its (m, k) Jacobian at the estimate (None: complex step,
    :func:`remitpov.core.jacobian.complex_step_rows`). Influence values become ``Z J^T``,
    replicate estimates ``h`` of the statistic's.
Design effects (``deff``)
    Computed iff ``deff`` is truthy and the design is linearised (replicate designs never
    have them). The denominator is R survey's SRS variance of the same influence values:
    without replacement (``deff=True``, R's ``deff=TRUE``) or with replacement
    (``deff="replace"``). An estimate whose influence values lie in ONE domain uses that
    domain's units, sample size and population (R's ``svyby(..., deff=TRUE)``); estimates
    spanning domains (the whole sample, a relative line estimated on everyone, a
    decomposition) use the whole sample's. Row-level ``z`` gives the moments directly
    (:meth:`Design.srs_variance` with the statistic's domain ``codes``); factored
    statistics need their Gram matrices (built with ``gram=bool(deff)``). The ONE default
    is ``deff=False`` (opt-in, as R survey): FGT/Watts/compare and means already; the
    estimators holding row-level influence values (Sen/SST, inequality, convey measures)
    take ``deff=None`` for one release, meaning "computed, with a FutureWarning that the
    default becomes False" (:func:`legacy_deff`).
Empty domains
    Estimates flagged ``empty`` (a domain without a unit of positive weight) are NaN, with
    NaN variances and covariances, and an :class:`EmptyDomainWarning`; replicate rules
    see them as 0 so they do not poison the other estimates.
Single-PSU domains
    ``n_psu`` (PSUs with positive weight in every domain of ``domains``): a domain in a
    single PSU gets a :class:`SinglePSUDomainWarning` (its SE of a ratio is zero).
"""
from __future__ import annotations

import sys
import warnings
from dataclasses import dataclass, replace
from typing import Any, Callable, Sequence

import numpy as np
import pandas as pd
from scipy import sparse

from ..design import Design, srs_variance_from_moments
from ..exceptions import RemitpovWarning
from ..results import EstimateTable, make_table
from .jacobian import complex_step_rows

#: with more domains than this, ``covmat=None`` gives within-domain covariance blocks only (the
#: joint covariance of D x K estimates grows as D^2: 10,000 domains would need gigabytes)
JOINT_MAX_DOMAINS = 64


class EmptyDomainWarning(RemitpovWarning):
    """A domain has no unit with positive weight: its estimates are NaN."""


class SinglePSUDomainWarning(RemitpovWarning):
    """A domain lies in a single PSU: the SE of a ratio (FGT) in it is zero by construction."""


@dataclass(frozen=True, eq=False)
class Statistic:
    """Estimates of one measure with what their variance needs (immutable).

    Attributes
    ----------
    keys : DataFrame
        One row per estimate (measure, concept, domain, ...).
    estimates : ndarray (k,)
        Point estimates (read-only copy).
    z : ndarray (n, k), optional
        Row-level influence values (``theta_hat - theta ~ sum_i w_i z_i``).
    sums, coef : optional
        Factored influence values ``z_i = B_i A[d_i]``: ``sums`` the
        :class:`~remitpov.design.InfluenceSums` of the basis ``B`` and ``coef`` the
        coefficients ``A`` (D*m, k); with ``blocks`` the
        :class:`~remitpov.design.PairSums` and ``A`` (D, m, K) per-domain coefficients
        (within-domain covariance blocks only).
    vcov : ndarray (k, k), optional
        The measure's own variance (used as is on every design).
    replicate : callable, optional
        Replicate rule ``W (n, r) -> (r, k)``: the estimates recomputed from replicate
        weights.
    totals, psu_totals : tuple (Y, f), optional
        Replicate rule for smooth functions of totals: ``f`` maps totals (R, m) -> (R, k),
        ``Y`` row-level values (n, m) or PSU totals of ``w Y`` (P, m).
    empty : ndarray of bool (k,), optional
        Estimates in domains without a unit of positive weight.
    codes : ndarray of int (n,), optional
        Domain code of every row (within-domain design effects of row-level ``z``).
    domains, n_psu : optional
        Domain keys and PSUs with positive weight per domain (single-PSU warning).
    title, notes : str, tuple of str
    variance_note : str, optional
        If given, a note ``"variance: <this>"`` (or ``"variance: replicate weights"``) is
        added to the table.
    n_obs : ndarray (k,), optional
        Observations behind every estimate (column ``n_obs``).
    blocks_note : str, optional
        With ``blocks``: the note saying that covariances between domains were not computed
        (default: "more than :data:`JOINT_MAX_DOMAINS` domains").
    srs : ndarray (k,), optional
        The measure's own design-effect denominator (SRS variances), used as is when design
        effects are asked (the engines: the rows' sample size and population, not the
        collapsed units').
    """

    keys: pd.DataFrame
    estimates: np.ndarray
    z: np.ndarray | None = None
    sums: Any = None
    coef: Any = None
    blocks: bool = False
    vcov: np.ndarray | None = None
    replicate: Callable | None = None
    totals: tuple | None = None
    psu_totals: tuple | None = None
    empty: np.ndarray | None = None
    codes: np.ndarray | None = None
    domains: pd.DataFrame | None = None
    n_psu: np.ndarray | None = None
    title: str = ""
    notes: tuple = ()
    variance_note: str | None = None
    n_obs: np.ndarray | None = None
    blocks_note: str | None = None
    srs: np.ndarray | None = None

    def __post_init__(self):
        est = np.array(self.estimates, dtype=float).ravel()
        est.setflags(write=False)
        object.__setattr__(self, "estimates", est)
        empty = np.zeros(est.size, dtype=bool) if self.empty is None else np.asarray(self.empty, dtype=bool)
        empty = empty.copy()
        empty.setflags(write=False)
        object.__setattr__(self, "empty", empty)
        object.__setattr__(self, "notes", tuple(self.notes))
        if len(self.keys) != est.size:
            raise ValueError(f"Statistic: {len(self.keys)} key rows for {est.size} estimates")

    def replace(self, **changes) -> "Statistic":
        """A copy with some attributes changed (the statistic itself never changes)."""
        return replace(self, **changes)


def legacy_deff(deff, name: str):
    """``deff`` of an estimator whose design effects were always computed (inequality,
    convey measures, Sen/SST): ``None`` (not given) keeps them (``True``) with a
    :class:`FutureWarning` that the default becomes ``False`` (as FGT, means and R survey)
    in the next release; given values are returned as they are."""
    if deff is not None:
        return deff
    frame, level = sys._getframe(1), 2  # the warning points at the first caller outside the package
    while frame.f_back is not None and str(frame.f_globals.get("__name__", "")).startswith("remitpov."):
        frame, level = frame.f_back, level + 1
    warnings.warn(f"{name}(): design effects (column 'deff') are computed by default now, but the default becomes "
                  "deff=False in the next release (as fgt, mean and R survey); pass deff=True to keep them or "
                  "deff=False to skip them", FutureWarning, stacklevel=level)
    return True


def check_single_psu(domains: pd.DataFrame, n_psu: np.ndarray, stacklevel: int = 3) -> None:
    """Warn about domains inside a single PSU; ``n_psu`` (D,): PSUs with positive weight in each domain."""
    one = np.flatnonzero(np.asarray(n_psu) == 1)
    bad = [domains.iloc[d].to_dict() for d in one[:3]]
    if bad:
        warnings.warn(f"{one.size} domain(s) lie in a single PSU (e.g. {bad[0]}): the design-based SE of a "
                      "ratio such as an FGT index is zero there (all its variation is within one PSU); "
                      "do not publish those SEs -- merge domains", SinglePSUDomainWarning, stacklevel=stacklevel)


def finalise(stat: Statistic, design: Design, *, ci_level: float = 0.95, dist: str = "t",
             deff: bool | str = False, transform=None, keys: pd.DataFrame | None = None, title: str | None = None,
             notes: Sequence[str] = (), described=None) -> EstimateTable:
    """The :class:`EstimateTable` of a :class:`Statistic` (rules in the module docstring).

    Parameters
    ----------
    stat : Statistic
    design : Design
        The design the statistic was computed on (domains as zero weights, ``na_rm`` rows
        outside every domain).
    ci_level, dist : float, {"t", "normal"}
        Confidence intervals.
    deff : {False, True, "replace"}
        Design effects (column ``deff``; linearisation designs only).
    transform : tuple (h, J), optional
        Delta method: report ``h(estimates)`` (rows of ``keys``) instead.
    keys, title, notes
        Key rows of the transformed estimates, the title (default the statistic's) and
        notes added after the statistic's.
    described : object with ``df`` and ``describe()``, optional
        What the table reports as its design (default ``design``; the engines report the
        row-level design, not the collapsed units').
    """
    if stat.n_psu is not None and stat.domains is not None:
        check_single_psu(stat.domains, stat.n_psu, stacklevel=4)
    keys = stat.keys if keys is None else keys
    title = stat.title if title is None else title
    est, empty_rows = stat.estimates, stat.empty
    A, z = stat.coef, stat.z
    rep, tot, ptot = stat.replicate, stat.totals, stat.psu_totals
    est0 = np.where(empty_rows, 0.0, est)
    J = None
    if transform is not None:
        h, J = transform
        if J is None:
            J = complex_step_rows(h, est0)
        est_all = np.asarray(h(est0[None, :]), dtype=float).ravel()
        if not stat.blocks:
            A = None if A is None else A @ J.T
            z = None if z is None else z @ J.T
        empty_all = (np.abs(J[:, empty_rows]).sum(1) > 0) if empty_rows.any() else np.zeros(len(est_all), bool)
        rep, tot, ptot = (_compose(rep, lambda E: h(np.nan_to_num(E))), _compose_totals(tot, h),
                          _compose_totals(ptot, h))
    else:
        est_all, empty_all = est, empty_rows
        if empty_rows.any():
            rep, tot, ptot = (_compose(rep, np.nan_to_num), _compose_totals(tot, None),
                              _compose_totals(ptot, None))
    if empty_rows.any():
        bad = stat.keys.iloc[np.flatnonzero(empty_rows)[:3]].to_dict("records")
        warnings.warn(f"{int(empty_rows.sum())} estimates are in domains with no unit of positive weight "
                      f"(e.g. {bad}); they are NaN (with NaN SEs): drop or merge the empty categories, or check "
                      "why no row there has a usable value (all missing with na_rm=True, zero weights)",
                      EmptyDomainWarning, stacklevel=3)
    notes = stat.notes + tuple(notes)
    if stat.variance_note is not None:
        notes += ("variance: " + ("replicate weights" if design.replicates is not None else stat.variance_note),)
    if stat.blocks:
        return _block_table(stat, design, keys, J, np.where(empty_all, np.nan, est_all), empty_all,
                            ci_level=ci_level, dist=dist, title=title, notes=notes, deff=deff)
    if stat.vcov is not None:
        V = np.asarray(stat.vcov, dtype=float)
    elif design.replicates is not None:
        centre = np.where(empty_all, 0.0, est_all)
        if ptot is not None:
            V = design.vcov(centre, psu_totals=ptot)
        else:
            V = design.vcov(centre, totals=tot, replicate=rep)
    elif A is not None:
        V = design.vcov_factored(stat.sums, A)
    else:
        zf = np.asarray(z, dtype=float)
        bad = ~np.isfinite(zf).all(axis=0)
        zf = np.nan_to_num(zf) if bad.any() else zf  # no copy in the usual all-finite case
        V = design.vcov(est_all, zf)
        if bad.any():
            V[bad, :] = np.nan
            V[:, bad] = np.nan
    est_all = np.where(empty_all, np.nan, est_all)
    if empty_all.any():
        V = V.copy()
        V[empty_all, :] = np.nan
        V[:, empty_all] = np.nan
    extra = {}
    if deff and design.replicates is None and (z is not None or stat.sums is not None):
        replace_ = deff == "replace"
        if stat.srs is not None:
            vs = np.asarray(stat.srs, dtype=float)
        elif z is not None:
            zz = np.asarray(z, dtype=float).reshape(design.n, -1)
            if not np.isfinite(zz).all():
                zz = np.nan_to_num(zz)
            vs = design.srs_variance(zz, stat.codes, replace=replace_)
        else:
            vs = design.srs_variance_factored(stat.sums, A, within=True, replace=replace_)
        with np.errstate(divide="ignore", invalid="ignore"):
            extra["deff"] = np.diag(V) / vs
    if stat.n_obs is not None:
        extra["n_obs"] = np.asarray(stat.n_obs)
    return make_table(keys, est_all, V, design if described is None else described, level=ci_level, dist=dist,
                      title=title, notes=notes, extra=pd.DataFrame(extra) if extra else None)


def _compose(fn, g):
    return None if fn is None else (lambda W: g(fn(W)))


def _compose_totals(tot, h):
    """``(Y, f)`` with ``f`` followed by NaN -> 0 and then ``h`` (if given)."""
    if tot is None:
        return None
    Y, f = tot
    if h is None:
        return Y, lambda T: np.nan_to_num(f(T))
    return Y, lambda T: h(np.nan_to_num(f(T)))


def block_diagonal(Vb: np.ndarray) -> sparse.csr_array:
    """Sparse block-diagonal ``(D K, D K)`` matrix of ``D`` dense ``(K, K)`` blocks (domain-major)."""
    D, K = Vb.shape[0], Vb.shape[1]
    dd, ii, jj = np.meshgrid(np.arange(D), np.arange(K), np.arange(K), indexing="ij")
    return sparse.csr_array((Vb.ravel(), ((dd * K + ii).ravel(), (dd * K + jj).ravel())), shape=(D * K, D * K))


def _block_table(stat: Statistic, design: Design, keys: pd.DataFrame, J, est: np.ndarray, empty: np.ndarray, *,
                 ci_level, dist, title, notes, deff) -> EstimateTable:
    """The table of a many-domain statistic: within-domain covariance blocks only (sparse vcov).

    ``J`` (sparse, optional): a linear transform whose every row combines estimates of ONE
    domain (with-minus-without differences). Design effects use each domain's own SRS
    variance (as :meth:`Design.srs_variance_blocks`)."""
    ps, Ab = stat.sums, stat.coef
    D, m, K = Ab.shape
    Vb = design.vcov_blocks(ps, Ab)  # (D, K, K)
    V = block_diagonal(Vb)
    Jc = sparse.identity(D * K, format="csr") if J is None else sparse.csr_array(J)
    V = (V if J is None else Jc @ V @ Jc.T).tocoo()
    data = V.data.copy()
    data[empty[V.row] | empty[V.col]] = np.nan
    e = np.flatnonzero(empty)  # (NaN diagonal entries also where the product left no entry)
    V = sparse.csr_array((np.r_[data, np.full(e.size, np.nan)], (np.r_[V.row, e], np.r_[V.col, e])), shape=V.shape)
    extra = None
    if deff and ps.gram is not None:  # design effects: the output's coefficients in its (single) domain
        Jo = Jc.tocoo()
        dom, k = Jo.col // K, Jo.col % K
        n_out = Jc.shape[0]
        lo = np.full(n_out, D)
        hi = np.full(n_out, -1)
        np.minimum.at(lo, Jo.row, dom)
        np.maximum.at(hi, Jo.row, dom)
        a = np.zeros((n_out, m))
        np.add.at(a, Jo.row, Jo.data[:, None] * Ab[dom, :, k])
        d = np.clip(lo, 0, D - 1)
        s1 = np.einsum("om,om->o", ps.totals[d], a)
        s2 = np.einsum("om,omj,oj->o", a, ps.gram[d], a)
        vs = srs_variance_from_moments(s1, s2, ps.n_pos[d], ps.wsum[d], replace=deff == "replace")
        vs = np.where(lo == hi, vs, np.nan)
        with np.errstate(divide="ignore", invalid="ignore"):
            extra = pd.DataFrame({"deff": V.diagonal() / vs})
    note = stat.blocks_note or (f"covariances between the {D} domains not computed (more than {JOINT_MAX_DOMAINS} "
                                "domains; as R's svyby without covmat=TRUE): contrasts across domains need covmat=True")
    return make_table(keys, est, V, design, level=ci_level, dist=dist, title=title, notes=tuple(notes) + (note,),
                      extra=extra)


__all__ = ["Statistic", "finalise", "block_diagonal", "legacy_deff", "check_single_psu", "EmptyDomainWarning",
           "SinglePSUDomainWarning",
           "JOINT_MAX_DOMAINS"]
