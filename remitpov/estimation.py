"""Design-based means, totals and ratios, overall and by domain.

These are the building blocks of every other estimator (an FGT index is the mean of
``g_i = 1[y_i < z] ((z - y_i)/z)^alpha``). Domains are handled as zero weights on the
full design, so a domain estimate's SE matches R survey's ``svyby`` (all PSUs kept).

Missing values: an analysis variable with missing values raises, unless
``na_rm=True``, in which case the rows are treated as outside the domain (zero weight,
design kept), exactly as R survey's ``na.rm=TRUE``; the same rule applies to the
linearised and the replicate paths.

Covariance between domains (``covmat``, R survey's ``svyby(covmat=)``): by default the
joint covariance of every estimate is computed up to
:data:`remitpov.poverty.JOINT_MAX_DOMAINS` domains; beyond, only the covariances within
each domain (between the variables of one domain), as R's ``svyby`` without
``covmat=TRUE``, so that a tabulation by thousands of domains (municipalities, census
country x origin x sex) costs time and memory linear in the number of domains. The
within-domain path sums the basis ``B`` (the variables, and the denominator of a mean or
ratio) over the (PSU, domain) pairs that have rows (:meth:`Design.pair_sums`: never a
dense PSU x domain array), applies each domain's coefficients (``1`` for a total;
``1/X_d`` on ``y`` and ``-R_d/X_d`` on ``x`` for a ratio ``R_d = Y_d/X_d``) and writes the
stratified variance formula on those pairs (:meth:`Design.vcov_blocks`); ``vcov`` is
then a sparse block-diagonal matrix. Estimates, SEs and design effects are the joint
path's (the same sums in another order).
"""
from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import sparse

from .core.inputs import by_codes, column_values, resolve_design
from .core.statistic import Statistic, block_diagonal, finalise
from .core.validate import checked, renamed_arguments
from .design import Design, PairSums, ratio_linearization
from .exceptions import InputError, describe_rows
from .poverty import JOINT_MAX_DOMAINS
from .results import EstimateTable

def _is_dask(obj) -> bool:
    """A :class:`remitpov.distributed.DaskSurvey` (checked by name: dask is not imported)."""
    return type(obj).__name__ == "DaskSurvey" and type(obj).__module__ == "remitpov.distributed"


_resolve_design, _values, _by = resolve_design, column_values, by_codes


def domain_ratio(design: Design, num: np.ndarray, den: np.ndarray, codes: np.ndarray, n_dom: int):
    """Ratio ``sum w num / sum w den`` in every domain, jointly.

    Returns ``(estimate (D*k,), z (n, D*k), totals)`` ordered domain-major.
    """
    num = num.reshape(num.shape[0], -1)
    k = num.shape[1]
    den = den.reshape(den.shape[0], -1)
    if den.shape[1] == 1:
        den = np.repeat(den, k, axis=1)
    if n_dom == 1:
        return ratio_linearization(design.weights, num, den)
    ind = (codes[:, None] == np.arange(n_dom)[None, :]).astype(float)  # (n, D)
    N = (ind[:, :, None] * num[:, None, :]).reshape(num.shape[0], n_dom * k)
    Dn = (ind[:, :, None] * den[:, None, :]).reshape(num.shape[0], n_dom * k)
    return ratio_linearization(design.weights, N, Dn)


def _table(design, keys, est, z, totals, *, level, dist, title, empty=None):
    """Row-level influence values ``z`` and a totals replicate rule (user replicate weights)."""
    return finalise(Statistic(keys, est, z=z, totals=totals, title=title, empty=empty), design, ci_level=level,
                    dist=dist)


def _empty_domains(design: Design, codes: np.ndarray, D: int) -> np.ndarray:
    """(D,) domains without a row of positive weight (NaN estimates: the finaliser's rule)."""
    return np.bincount(codes[design.weights > 0], minlength=D) == 0


def _use_blocks(design: Design, D: int, covmat: bool | None) -> bool:
    """Within-domain covariance blocks (``covmat=False``, or ``None`` beyond
    :data:`JOINT_MAX_DOMAINS` domains) where the design allows them (linearisation, no
    second-stage fpc, lonely-PSU policy other than "average"); else the joint covariance."""
    if covmat not in (None, True, False):
        raise InputError(f"covmat must be True, False or None (joint up to {JOINT_MAX_DOMAINS} domains), "
                         f"got {covmat!r}")
    return D > 1 and design.supports_blocks and (covmat is False or (covmat is None and D > JOINT_MAX_DOMAINS))


def _pair_sums(design: Design, Y: np.ndarray, den: np.ndarray | None, codes: np.ndarray, D: int, *,
               gram: bool) -> PairSums:
    """Sparse (PSU, domain) totals of ``w B``, ``B = (Y, den)`` (:class:`~remitpov.design.PairSums`,
    as :meth:`Design.pair_sums`, without stacking ``B``).

    The pairs present are found by counting the combined codes ``psu * D + d`` when the
    PSU x domain grid has at most two cells per row (one ``bincount``, no sort), else by
    ``np.unique``; the totals are one weighted ``bincount`` per basis column, the Gram
    matrices (design effects) one per pair of columns, grouped by domain."""
    w, n, P = design.weights, design.n, design.n_psu
    key = design.psu * D + codes
    if P * D <= max(2 * n, 1 << 22):  # a grid of at most 2 cells per row (or 4M cells): count
        present = np.bincount(key, minlength=P * D).astype(bool)
        pairs = np.flatnonzero(present)
        rank = np.cumsum(present, dtype=np.int64)
        del present
        rank -= 1
        inv = rank[key]
        del rank
    else:
        pairs, inv = np.unique(key, return_inverse=True)
    del key
    Q, k = pairs.size, Y.shape[1]
    m = k + (den is not None)
    cols = [Y[:, j] for j in range(k)] + ([] if den is None else [den])
    S = np.empty((Q, m))
    for j, c in enumerate(cols):
        S[:, j] = np.bincount(inv, weights=w * c, minlength=Q)
    G = None
    if gram:
        G = np.empty((D, m, m))
        for a in range(m):
            wa = w * cols[a]
            for b in range(a, m):
                G[:, a, b] = G[:, b, a] = np.bincount(codes, weights=wa * cols[b], minlength=D)
    return PairSums(D, m, pairs // D, pairs % D, S, G, np.bincount(codes[w > 0], minlength=D).astype(float),
                    np.bincount(codes, weights=w, minlength=D))


def _block_table(design: Design, keys, Y: np.ndarray, den: np.ndarray | None, codes: np.ndarray, D: int, *,
                 level, dist, title, deff: bool | str = False) -> EstimateTable:
    """Totals (``den`` None) or means/ratios of the columns of ``Y`` in every domain with
    within-domain covariance blocks only: sparse (PSU, domain) sums of the basis
    ``B = (Y, den)`` (:func:`_pair_sums`), coefficients ``A`` (D, m, k) of every domain's own
    k estimates, the stratified formula on the pairs (:meth:`Design.vcov_blocks`) and, for
    design effects, each domain's own SRS variance (:meth:`Design.srs_variance_blocks`, R's
    ``svyby(..., deff=TRUE)``). Time and memory linear in the number of pairs."""
    k = Y.shape[1]
    empty = _empty_domains(design, codes, D)
    ps = _pair_sums(design, Y, den, codes, D, gram=bool(deff))
    m = ps.m
    T = ps.totals  # (D, m)
    A = np.zeros((D, m, k))
    j = np.arange(k)
    with np.errstate(invalid="ignore", divide="ignore"):
        if den is None:
            E = T[:, :k]
            A[:, j, j] = 1.0
        else:
            Td = T[:, k:]
            E = T[:, :k] / Td
            A[:, j, j] = 1.0 / Td
            A[:, k, :] = -E / Td
    A[empty] = 0.0  # no unit there: its (NaN) estimates get no influence values
    note = (f"covariances between the {D} domains not computed (covariance blocks within each domain, as R's "
            "svyby without covmat=TRUE): contrasts across domains need covmat=True")
    stat = Statistic(keys, E.ravel(), sums=ps, coef=A, blocks=True, title=title, blocks_note=note,
                     empty=np.repeat(empty, k))
    return finalise(stat, design, ci_level=level, dist=dist, deff=deff)


def _factored_table(design: Design, keys, Y: np.ndarray, den: np.ndarray | None, codes: np.ndarray, D: int, *,
                    level, dist, title, deff: bool = False, covmat: bool | None = None):
    """Means/ratios (``den`` given) or totals (``den`` None) of the columns of ``Y`` in every
    domain, through factored influence values (:meth:`Design.influence_sums`; no ``n x D k``
    matrices): basis ``B = (Y, den)``; a ratio ``R_dj = Y_dj / X_d`` has coefficients
    ``1/X_d`` on ``y_j`` and ``-R_dj/X_d`` on ``den`` in domain ``d``, a total ``1`` on ``y_j``.
    Estimates come from the same PSU x domain sums. User-supplied replicate weights go
    through the row-level totals. ``covmat``: see :func:`_use_blocks`."""
    if _use_blocks(design, D, covmat):
        return _block_table(design, keys, Y, den, codes, D, level=level, dist=dist, title=title, deff=deff)
    k = Y.shape[1]
    reps = design.replicates
    empty = _empty_domains(design, codes, D)
    if reps is not None and reps.factors is None:
        if den is None:
            ind = (codes[:, None] == np.arange(D)[None, :]).astype(float)
            Z = (ind[:, :, None] * Y[:, None, :]).reshape(design.n, -1)
            est, z, tot = (design.weights[:, None] * Z).sum(0), Z, (Z, lambda T: T)
        else:
            est, z, tot = domain_ratio(design, Y, den, codes, D)
        return _table(design, keys, est, z, tot, level=level, dist=dist, title=title, empty=np.repeat(empty, k))
    B = Y if den is None else np.column_stack([Y, den])
    m = B.shape[1]
    sums = design.influence_sums(B, codes, D, gram=deff and reps is None)
    T = sums.totals  # (D, m)
    A = np.zeros((D, m, D * k))
    dd, jj = np.meshgrid(np.arange(D), np.arange(k), indexing="ij")
    cols = dd * k + jj
    with np.errstate(invalid="ignore", divide="ignore"):
        if den is None:
            E = T[:, :k]
            A[dd, jj, cols] = 1.0
        else:
            Td = T[:, k][:, None]
            E = T[:, :k] / Td
            A[dd, jj, cols] = 1.0 / Td
            A[dd, k, cols] = -E / Td
    A[empty] = 0.0  # no unit there: its (NaN) estimates get no influence values
    est = E.ravel()
    A = A.reshape(D * m, D * k)
    ptot = None
    if reps is not None:
        PS = sums.psu.reshape(design.n_psu, D, m)
        num = PS[:, :, :k].reshape(design.n_psu, D * k)
        if den is None:
            ptot = (num, lambda R: R)
        else:
            Tps = np.hstack([num, np.repeat(PS[:, :, k], k, axis=1)])

            def f(R, n_=D * k):
                with np.errstate(invalid="ignore", divide="ignore"):
                    return R[:, :n_] / R[:, n_:]
            ptot = (Tps, f)
    stat = Statistic(keys, est, sums=sums, coef=A, psu_totals=ptot, title=title, empty=np.repeat(empty, k))
    return finalise(stat, design, ci_level=level, dist=dist, deff=deff)


def _na(y: np.ndarray, names: Sequence[str], na_rm: bool, survey) -> np.ndarray:
    """Row mask of usable values; raise on missing unless ``na_rm``."""
    miss = ~np.isfinite(y).all(axis=1)
    if miss.any() and not na_rm:
        raise InputError(
            f"{', '.join(map(repr, names))} missing in {describe_rows(miss, None if survey is None else survey.id_values)}; "
            "pass na_rm=True to treat those rows as outside the domain (design kept), or impute them"
        )
    return ~miss


def _prep(obj, variables, level, by, na_rm):
    design, survey = _resolve_design(obj, level)
    # (a list is checked first: np.ndim of a list of columns would copy them into one array)
    names = ([variables] if isinstance(variables, str) or not isinstance(variables, (list, tuple))
             and np.ndim(variables) == 1 else list(variables))
    labels = [v if isinstance(v, str) else f"x{i}" for i, v in enumerate(names)]
    Y = np.empty((design.n, len(names)), order="F")  # contiguous columns
    for j, (v, l) in enumerate(zip(names, labels)):
        col = np.asarray(_values(survey, v, l, coerce=na_rm == "coerce"), dtype=float)
        if col.shape != (design.n,):
            raise InputError(f"variable {l!r} has shape {col.shape}; give one value per row of the design "
                             f"({design.n} rows)")
        Y[:, j] = col
    ok = _na(Y, labels, na_rm, survey)
    if not ok.all():
        design = design.domain(ok)
        Y[~ok] = 0.0
    codes, dlabels, byname = _by(survey, by, design.n)
    return design, survey, Y, labels, codes, dlabels, byname


def _keys(labels, dlabels, byname, measure):
    return pd.DataFrame([{"measure": measure, "variable": l, byname: d} for d in dlabels for l in labels])


@renamed_arguments(obj="survey")
@checked
def mean(survey, variables, by=None, *, level: str = "person", na_rm: bool = False, ci_level: float = 0.95,
         dist: str = "t", deff: bool | str = False, covmat: bool | None = None) -> EstimateTable:
    """Weighted (Hajek) mean ``sum w y / sum w`` of one or more variables, with design SEs.

    Parameters
    ----------
    survey : Survey, Design or DaskSurvey
        The sample (first argument of every estimator; the old keyword ``obj=`` still
        works for one release, with a :class:`FutureWarning`).
    variables : str, array or list of them
    by : str or array, optional
        Domain variable; domains are zero weights on the full design (R's ``svyby``).
    level : {"person", "household"}
        Weights at this level (household rows: person weight = weight x size).
    na_rm : bool
        Treat missing values as outside the domain instead of raising.
    ci_level, dist : float, {"t", "normal"}
        Confidence level and distribution (t with the design degrees of freedom by default).
    deff : {False, True, "replace"}, default False
        Add design effects (column ``deff``): the design variance over the variance under
        simple random sampling of the same size -- without replacement (``True``, R
        survey's ``deff=TRUE``) or with replacement (``"replace"``, R's
        ``deff="replace"``). A domain's SRS variance uses the domain's own units, sample
        size and population, as R's ``svyby(..., deff=TRUE)`` (which evaluates the
        statistic on ``subset(design, domain)``). Off by default, as in R survey, since
        they need a second-moment pass.
    covmat : bool, optional
        Covariances between domains (R's ``svyby(covmat=)``). ``None`` (default): the joint
        covariance of every estimate up to :data:`remitpov.poverty.JOINT_MAX_DOMAINS`
        domains; beyond, covariance blocks within each domain only (a sparse ``vcov``; time
        and memory linear in the number of domains, as R's ``svyby`` without
        ``covmat=TRUE``). ``True``: always joint (memory grows as the square of the number
        of estimates). ``False``: blocks whenever the design allows them (not with replicate
        weights, a second-stage fpc or ``lonely_psu="average"``, which take the joint path).
        Estimates, SEs and design effects are the same on both paths.
    """
    if _is_dask(survey):  # out of core: the same estimator on a DaskSurvey (remitpov.distributed)
        from . import distributed as _rd
        return _rd.from_memory_call("mean", mean, survey, (variables, by), dict(
            level=level, na_rm=na_rm, ci_level=ci_level, dist=dist, deff=deff, covmat=covmat))
    design, survey, Y, labels, codes, dl, bn = _prep(survey, variables, level, by, na_rm)
    return _factored_table(design, _keys(labels, dl, bn, "mean"), Y, np.ones(design.n), codes, len(dl),
                           level=ci_level, deff=deff, dist=dist, title="Mean", covmat=covmat)


@renamed_arguments(obj="survey")
@checked
def total(survey, variables, by=None, *, level: str = "person", na_rm: bool = False, ci_level: float = 0.95,
          dist: str = "t", deff: bool | str = False, covmat: bool | None = None) -> EstimateTable:
    """Weighted total ``sum w y`` with design SEs (domains as zero weights); ``deff`` and
    ``covmat`` as :func:`mean`."""
    if _is_dask(survey):  # out of core: the same estimator on a DaskSurvey (remitpov.distributed)
        from . import distributed as _rd
        return _rd.from_memory_call("total", total, survey, (variables, by), dict(
            level=level, na_rm=na_rm, ci_level=ci_level, dist=dist, deff=deff, covmat=covmat))
    design, survey, Y, labels, codes, dl, bn = _prep(survey, variables, level, by, na_rm)
    return _factored_table(design, _keys(labels, dl, bn, "total"), Y, None, codes, len(dl), level=ci_level, deff=deff,
                           dist=dist, title="Total", covmat=covmat)


@renamed_arguments(obj="survey")
@checked
def ratio(survey, numerator, denominator, by=None, *, level: str = "person", na_rm: bool = False,
          ci_level: float = 0.95, dist: str = "t", deff: bool | str = False,
          covmat: bool | None = None) -> EstimateTable:
    """Ratio of totals ``sum w y / sum w x`` (R's ``svyratio``), with design SEs; ``deff`` as :func:`mean`
    (the SRS variance of the ratio's influence values, as R's ``svyratio(..., deff=)``); ``covmat``
    as :func:`mean`."""
    if _is_dask(survey):  # out of core: the same estimator on a DaskSurvey (remitpov.distributed)
        from . import distributed as _rd
        return _rd.from_memory_call("ratio", ratio, survey, (numerator, denominator, by), dict(
            level=level, na_rm=na_rm, ci_level=ci_level, dist=dist, deff=deff, covmat=covmat))
    design, survey, Y, labels, codes, dl, bn = _prep(survey, [numerator, denominator], level, by, na_rm)
    keys = pd.DataFrame([{"measure": "ratio", "variable": f"{labels[0]}/{labels[1]}", bn: d} for d in dl])
    return _factored_table(design, keys, Y[:, :1], Y[:, 1], codes, len(dl), level=ci_level, deff=deff, dist=dist,
                           title="Ratio", covmat=covmat)
