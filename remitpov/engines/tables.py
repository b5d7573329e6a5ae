"""Engine-independent tables of the linear measures: keys, basis terms, cells, contrasts.

Every out-of-memory engine supplies a ``sums_fn(source, terms, by, *, na_rm, deff,
total, level) -> (design, InfluenceSums, domain keys, info)``; the functions here build
the measure's basis (:mod:`remitpov.engines.basis`) and its table on top of it with
:func:`remitpov.engines.base.finish_linear`, so the Dask and the DuckDB engines produce
the same keys, estimates and variances as the in-memory estimators.
"""
from __future__ import annotations

import dataclasses
from typing import Mapping

import numpy as np
import pandas as pd

from ..core.statistic import Statistic, finalise
from ..core.validate import check_alphas
from ..design import PairSums
from ..exceptions import InputError
from . import basis as bs
from ..results import EstimateTable, make_table
from .base import Cells, DescribedDesign, finish_linear, srs_variance

__all__ = ["byname", "mean_total", "ratio_table", "poverty_table", "line_spec", "check_covmat", "compare_table",
           "gini_table"]


def byname(by):
    return by if by is not None else "domain"


def as_list(v) -> list[str]:
    return [v] if isinstance(v, str) else list(v)


def names_of(variables) -> list[str]:
    names = as_list(variables)
    bad = [v for v in names if not isinstance(v, str)]
    if bad:
        raise InputError("an out-of-memory survey takes column names as variables (build derived columns with "
                         f"assign), got {type(bad[0]).__name__}")
    return names


def mean_total(kind, ds, variables, by, *, level, na_rm, ci_level, dist, deff, sums_fn, covmat=None):
    check_covmat(covmat)
    names = names_of(variables)
    k = len(names)
    terms = [bs.one()] + [bs.column(c) for c in names]
    design, sums, dk, info = sums_fn(ds, terms, by, na_rm=na_rm, deff=deff, level=level)
    cells = Cells(tuple(range(1, k + 1)), (0,) * k if kind == "mean" else (-1,) * k)
    keys = pd.DataFrame([{"measure": kind, "variable": v, byname(by): d} for d in dk for v in names])
    return _finish(design, sums, cells, keys, info=info, deff=deff, ci_level=ci_level, dist=dist,
                   title=kind.capitalize(), covmat=covmat)


def ratio_table(ds, numerator, denominator, by, *, level, na_rm, ci_level, dist, deff, sums_fn, covmat=None):
    check_covmat(covmat)
    num, den = names_of([numerator, denominator])
    design, sums, dk, info = sums_fn(ds, [bs.one(), bs.column(num), bs.column(den)], by, na_rm=na_rm, deff=deff,
                                     level=level)
    keys = pd.DataFrame([{"measure": "ratio", "variable": f"{num}/{den}", byname(by): d} for d in dk])
    return _finish(design, sums, Cells((1,), (2,)), keys, info=info, deff=deff, ci_level=ci_level, dist=dist,
                   title="Ratio", covmat=covmat)


def _finish(design, sums, cells, keys, *, info, deff, ci_level, dist, title, covmat) -> EstimateTable:
    """:func:`finish_linear` (joint covariance), or within-domain blocks with ``covmat=False``
    as the in-memory estimators (:func:`remitpov.estimation.mean`)."""
    if covmat is False and sums.n_domains > 1 and not sums.total_first and design.supports_blocks:
        return finish_blocks(design, sums, cells, keys, info=info, deff=deff, ci_level=ci_level, dist=dist,
                             title=title)
    return finish_linear(design, sums, cells, keys, info=info, deff=deff, ci_level=ci_level, dist=dist, title=title)


def finish_blocks(design, sums, cells: Cells, keys: pd.DataFrame, *, info: dict, deff: bool | str = False,
                  ci_level: float = 0.95, dist: str = "t", title: str = "Estimates") -> EstimateTable:
    """The estimates of :func:`finish_linear` with the covariances within each domain only
    (``covmat=False``: R's ``svyby`` without ``covmat=TRUE``; a sparse block-diagonal ``vcov``).

    The PSU x domain totals of the basis are kept on the (PSU, domain) pairs with a nonzero
    total (:class:`~remitpov.design.PairSums`; a pair of zeros adds what an absent pair adds)
    and :meth:`Design.vcov_blocks <remitpov.design.Design.vcov_blocks>` applies the stratified
    formula to each domain's ``K`` estimates: no ``P x D K`` product and no ``D K x D K``
    covariance. Same estimates and SEs as the joint path and as the in-memory estimators.
    """
    D, m, K = sums.n_domains, sums.m, cells.k
    PS = sums.psu.reshape(-1, D, m)
    p, d = np.nonzero((PS != 0).any(axis=2))
    ps = PairSums(D, m, p, d, PS[p, d], sums.gram, sums.n_pos, sums.wsum)
    num, den = np.asarray(cells.num), np.asarray(cells.den)
    tot = den < 0
    T = ps.totals  # (D, m)
    A = np.zeros((D, m, K))  # coefficients of every domain's own K estimates
    with np.errstate(divide="ignore", invalid="ignore"):
        Yd = np.where(tot[None, :], 1.0, T[:, np.where(tot, 0, den)])
        E = T[:, num] / Yd  # (D, K)
        for k in range(K):  # over the K cells (columns), not rows
            A[:, num[k], k] += 1.0 / Yd[:, k]
            if not tot[k]:
                A[:, den[k], k] -= E[:, k] / Yd[:, k]
    note = (f"covariances between the {D} domains not computed (covariance blocks within each domain, as R's "
            "svyby without covmat=TRUE): contrasts across domains need covmat=True")
    stat = Statistic(keys, E.ravel(), sums=ps, coef=A, blocks=True, title=title, blocks_note=note)
    tab = finalise(stat, design, ci_level=ci_level, dist=dist, deff=deff)
    return dataclasses.replace(tab, design=DescribedDesign(design, info).describe())


def line_spec(line):
    """``(label in the table, line for the basis)``: a positive number or a line column."""
    if isinstance(line, str):
        return line, line
    if isinstance(line, (int, float, np.number)) and not isinstance(line, bool):
        zv = float(line)
        if not (np.isfinite(zv) and zv > 0):
            raise InputError(f"poverty line must be a finite positive number, got {line!r}")
        return (int(zv) if zv.is_integer() else zv), zv
    raise InputError("an out-of-memory survey takes a scalar poverty line or the name of a line column "
                     f"(got {type(line).__name__}); relative lines: estimate the quantile first "
                     "(quantile(...)) and pass the value -- its variability is then not in the SE")


def poverty_table(ds, incomes: Mapping[str, str], line, alpha, by, *, strict, na_rm, headcount_total, contrast,
                  ci_level, dist, title, deff, total, level, sums_fn):
    """FGT cells of every concept (and with-minus-without differences): one reduction."""
    names = list(incomes)
    cols = names_of([incomes[k] for k in names])
    label, z = line_spec(line)
    alphas = check_alphas(alpha)
    bad = [a for a in alphas if isinstance(a, str)]
    if bad:
        raise InputError(f"alpha={bad[0]!r}: the out-of-memory engines estimate FGT indices (numeric alpha)")
    cells = []  # (concept index, alpha, headcount total?)
    for ci in range(len(names)):
        cells += [(ci, a, False) for a in alphas]
        if headcount_total:
            cells.append((ci, 0.0, True))
    terms = [bs.one()] + [bs.fgt(cols[ci], z, a, strict) for ci, a, _ in cells]
    design, sums, dk, info = sums_fn(ds, terms, by, na_rm=na_rm, deff=deff, total=total, level=level)
    rows = [{"measure": "headcount_total" if tot else f"fgt{a:g}", "concept": names[ci], "line": label,
             byname(by): d} for d in dk for ci, a, tot in cells]
    keys = pd.DataFrame(rows)
    K = len(cells)
    cellspec = Cells(tuple(range(1, K + 1)), tuple(-1 if c[2] else 0 for c in cells))
    notes = ["poor if income " + ("< line (strict)" if strict else "<= line (weak)"), f"engine: {info['engine']}"]
    C = None
    if contrast is not None:
        first = [i for i, r in enumerate(rows) if r["concept"] == names[0]]
        per = K // 2
        Cd = np.zeros((len(first), len(rows)))
        Cd[np.arange(len(first)), first] = 1.0
        Cd[np.arange(len(first)), np.asarray(first) + per] = -1.0
        C = np.vstack([np.eye(len(rows)), Cd])
        ck = keys.iloc[first].copy()
        ck["concept"] = contrast
        keys = pd.concat([keys, ck], ignore_index=True)
        notes.append(f"difference = {names[0]} minus {names[1]} (same sample, joint vcov)")
    return finish_linear(design, sums, cellspec, keys, info=info, C=C, deff=deff, ci_level=ci_level, dist=dist,
                         title=title, notes=notes)


def check_covmat(covmat):
    if covmat not in (None, True, False):
        raise InputError(f"covmat={covmat!r}: use None, True or False")
    # the out-of-memory engines always return the joint covariance (SEs are the same)




def compare_table(ds, incomes, line, alpha, by, *, measure, level, strict, ci_level, dist, na_rm, headcount_total,
                  label, total, deff, covmat, sums_fn):
    """:func:`remitpov.poverty.compare`'s FGT table (defaults resolved as there) on an engine."""
    check_covmat(covmat)
    if incomes is None or len(incomes) != 2:
        raise InputError("compare needs exactly two income concepts, e.g. {'with': 'y', 'without': 'y_norem'}")
    if measure != "fgt":
        raise InputError(f"compare(measure={measure!r}) is not available on an out-of-memory survey: it estimates "
                         "the FGT table (measure='fgt'); call gini()/quantile() per concept, or load the data into "
                         "memory for joint inequality comparisons")
    if line is None:
        raise InputError("compare(measure='fgt') needs a poverty line")
    names = list(incomes)
    return poverty_table(ds, dict(incomes), line, (0, 1, 2) if alpha is None else alpha, by,
                         strict=True if strict is None else strict, na_rm=na_rm,
                         headcount_total=bool(headcount_total), contrast=label or f"{names[0]} - {names[1]}",
                         ci_level=ci_level, dist=dist, title=f"Poverty: {names[0]} vs {names[1]}", deff=deff,
                         total=total, level=level, sums_fn=sums_fn)




def gini_table(design, sums, dk, info, income, by, N, Ty, n_obs, *, ci_level, dist) -> EstimateTable:
    """The Gini table from the unit sums of its row basis ``(1, y, a1, y F)`` per domain.

    ``G = 2 A / T - 1`` (``A = sum w y F``, ``T = sum w y``); influence values (Langel &
    Tille 2013) ``z = (2/T) a1 - 2A/(T N) - (2A/T^2) y`` with ``a1 = y F + (T - L)/N``:
    linear in the basis, so the variance is the factored one of every linear measure.
    """
    D = sums.n_domains
    A = sums.totals[:, 3]
    est = 2 * A / Ty - 1
    coef = np.zeros((D, 4, D))
    dd = np.arange(D)
    coef[dd, 0, dd] = -2 * A / (Ty * N)
    coef[dd, 1, dd] = -2 * A / Ty**2
    coef[dd, 2, dd] = 2 / Ty
    A2 = coef.reshape(D * 4, D)
    V = design.vcov_factored(sums, A2)
    vs = srs_variance(sums, A2, info["n_pos"], info["sum_weights"])
    keys = pd.DataFrame([{"measure": "gini", "variable": income, byname(by): d} for d in dk])
    with np.errstate(divide="ignore", invalid="ignore"):
        extra = pd.DataFrame({"deff": np.diag(V) / vs, "n_obs": np.asarray(n_obs, dtype=float)})
    return make_table(keys, est, V, DescribedDesign(design, info), level=ci_level, dist=dist, title="Gini coefficient",
                      notes=("Gini on the 0-1 scale (laeken reports percent)",
                             "weighted mid-ranks, tie-order invariant",
                             f"engine: {info['engine']}"), extra=extra)
