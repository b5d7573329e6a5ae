"""The Dask engine: the estimators on a Dask DataFrame / Parquet dataset, from per-PSU sums.

Every partition computes :class:`~remitpov.engines.base.UnitSums` with the in-memory
engine (:func:`remitpov.engines.memory.unit_sums`: the same basis definitions), the
partial results are added in one tree reduction, and the driver -- holding one row per
(stratum, PSU, SSU, domain), never one per person -- finishes the table with
:func:`remitpov.engines.base.finish_linear` (the one variance engine on the design of
the sampled units). Gini and quantiles need ranks: an exact bucketed scheme (module
docstring of :mod:`remitpov.distributed`).

The functions take the in-memory estimators' signatures (``rp.fgt(dask_survey, ...)``
lands here with the same arguments); an option the engine cannot honour raises
:class:`~remitpov.exceptions.InputError` saying so, never silently changes a number.
"""
from __future__ import annotations

from typing import Callable, Mapping, Sequence

import numpy as np
import pandas as pd

from ..core.quantile import normalise_rule, quantiles_sorted
from ..design import critical_value
from ..exceptions import InputError
from ..results import EstimateTable, make_table
from . import basis as bs
from .base import DescribedDesign, combine, domain_keys, finish_sums, srs_variance
from .tables import byname, check_covmat, compare_table, gini_table, mean_total, poverty_table, ratio_table
from .memory import domain_values, frame_sums, merge_problems, numeric, raise_problems, unit_sums, validate

try:  # optional dependency: pip install "remitpov[dask]"
    import dask
    from dask import delayed

    HAVE_DASK = True
except ImportError:  # pragma: no cover - exercised only without dask
    dask = delayed = None
    HAVE_DASK = False

SPLIT_EVERY = 8  # fan-in of the tree reductions
ENGINE = "dask (PSU sufficient statistics, exact)"

__all__ = ["mean", "total", "ratio", "fgt", "compare", "gini", "quantile", "SPLIT_EVERY"]


# ====================================================================== reductions
def tree_reduce(parts: list, combine_fn: Callable):
    """Combine a list of delayed partial results by a tree of fan-in :data:`SPLIT_EVERY`."""
    if not parts:
        raise InputError("the dataset has no partitions")
    while len(parts) > 1:
        parts = [delayed(combine_fn)(parts[i:i + SPLIT_EVERY]) for i in range(0, len(parts), SPLIT_EVERY)]
    return parts[0]


def _combine(parts):
    probs: dict = {}
    for p in parts:
        if isinstance(p, dict):
            probs = merge_problems(probs, p.get("problems", {}))
    if probs:
        return {"problems": probs}
    return combine(parts)


def partitions(ds, columns: Sequence[str]):
    """The delayed partitions of the columns needed (each column read once)."""
    cols = list(dict.fromkeys(c for c in columns if c is not None))
    have = set(map(str, ds.data.columns))
    missing = [c for c in cols if c not in have]
    if missing:
        raise InputError(f"column(s) {missing} not found; available: {sorted(have)[:40]}")
    return ds.data[cols].to_delayed()


def _check_common(ds, level, by):
    ds.spec.check(ds.data.columns)
    if level != "person":
        raise InputError(f"level={level!r} is not available for a DaskSurvey: its rows are persons (weight x size "
                         "if a size column is given); load the data into memory with remitpov.Survey for "
                         "household-level estimates")
    if by is not None and not isinstance(by, str):
        raise InputError(f"by={by!r}: a DaskSurvey takes one domain column name (combine several into one column "
                         "with DaskSurvey.assign)")


def linear_sums(ds, terms, by, *, na_rm, deff, total=False, level="person"):
    """Reduce the rows to the units' influence sums: ``(design, sums, domain labels, info)``."""
    _check_common(ds, level, by)
    spec = ds.spec
    cols = spec.columns + [c for t in terms for c in t.columns] + ([by] if by is not None else [])
    parts = [delayed(unit_sums)(p, spec, terms, by, na_rm=na_rm, gram=bool(deff), level=level)
             for p in partitions(ds, cols)]
    res = dask.compute(tree_reduce(parts, _combine))[0]
    if isinstance(res, dict):
        raise_problems(res["problems"], spec)
    return finish_sums(res, spec, by, deff=deff, total=total, engine=ENGINE)


# ====================================================================== means, totals, ratios
def mean(ds, variables, by=None, *, level: str = "person", na_rm: bool = False, ci_level: float = 0.95,
         dist: str = "t", deff: bool | str = False, covmat: bool | None = None) -> EstimateTable:
    """Weighted (Hajek) means with linearised SEs, as :func:`remitpov.estimation.mean`."""
    return mean_total("mean", ds, variables, by, level=level, na_rm=na_rm, ci_level=ci_level, dist=dist,
                       deff=deff, covmat=covmat, sums_fn=linear_sums)


def total(ds, variables, by=None, *, level: str = "person", na_rm: bool = False, ci_level: float = 0.95,
          dist: str = "t", deff: bool | str = False, covmat: bool | None = None) -> EstimateTable:
    """Weighted totals with linearised SEs, as :func:`remitpov.estimation.total`."""
    return mean_total("total", ds, variables, by, level=level, na_rm=na_rm, ci_level=ci_level, dist=dist,
                       deff=deff, covmat=covmat, sums_fn=linear_sums)


def ratio(ds, numerator, denominator, by=None, *, level: str = "person", na_rm: bool = False,
          ci_level: float = 0.95, dist: str = "t", deff: bool | str = False, covmat: bool | None = None) -> EstimateTable:
    """Ratio of totals ``sum w y / sum w x`` with linearised SEs (R's ``svyratio``)."""
    return ratio_table(ds, numerator, denominator, by, level=level, na_rm=na_rm, ci_level=ci_level, dist=dist,
                       deff=deff, covmat=covmat, sums_fn=linear_sums)


# ====================================================================== poverty
def fgt(ds, income, line, alpha=(0, 1, 2), by=None, *, level: str = "person", strict: bool = True,
        ci_level: float = 0.95, dist: str = "t", na_rm: bool = False, headcount_total: bool = True,
        concept: str | None = None, total: bool | str = False, deff: bool | str = False,
        covmat: bool | None = None) -> EstimateTable:
    """FGT indices with linearised SEs, as :func:`remitpov.poverty.fgt` (same keys, values and defaults).

    ``line``: a positive number or a column with one line per row. The covariance is
    always joint across domains (``covmat`` accepted for the signature; SEs are the same).
    """
    check_covmat(covmat)
    return poverty_table(ds, {concept or income: income}, line, alpha, by, strict=strict, na_rm=na_rm,
                         headcount_total=headcount_total, contrast=None, ci_level=ci_level, dist=dist,
                         title="FGT poverty indices", deff=deff, total=total, level=level, sums_fn=linear_sums)


def compare(ds, incomes: Mapping[str, str] = None, line=None, alpha=None, by=None, *, measure: str = "fgt",
            level: str = "person", strict: bool | None = None, ci_level: float = 0.95, dist: str = "t",
            na_rm: bool = False, headcount_total: bool | None = None, label: str | None = None,
            total: bool | str = False, deff: bool | str = False, covmat: bool | None = None) -> EstimateTable:
    """FGT under two income concepts and their difference, as :func:`remitpov.poverty.compare`.

    ``incomes = {"with": "income", "without": "income_norem"}`` (column names). The
    difference is FIRST minus SECOND, its SE from the joint variance (same sample).
    Only ``measure="fgt"`` (other measures raise: use :func:`gini` / :func:`quantile` per concept).
    """
    return compare_table(ds, incomes, line, alpha, by, measure=measure, level=level, strict=strict,
                         ci_level=ci_level, dist=dist, na_rm=na_rm, headcount_total=headcount_total, label=label,
                         total=total, deff=deff, covmat=covmat, sums_fn=linear_sums)


# ====================================================================== ranks: buckets
def _no_replicates(ds, what):
    if ds.spec.replicates is not None:
        raise InputError(f"{what} on a DaskSurvey with replicate weights is not available (replicate ranks are not "
                         "implemented out of core): use the linearised design, or the in-memory Survey")


def _sample_partition(pdf, spec, income, by, na_rm, k, seed):
    w, ok, probs = validate(pdf, spec, [income], na_rm)
    dom, dp = domain_values(pdf, by)
    probs.update(dp)
    if probs:
        return {"problems": probs}
    y = numeric(pdf, income)[ok]
    rng = np.random.default_rng(seed + len(pdf))
    samp = y if y.size <= k else rng.choice(y, size=k, replace=False)
    # per domain: the largest income and the largest weight at it (hf7's last tie block)
    top = pd.DataFrame({"d": dom[ok], "y": y, "w": w[ok]})
    top = top[top["y"] == top.groupby("d")["y"].transform("max")].groupby("d").agg(y=("y", "max"), w=("w", "max"))
    return {"sample": np.sort(samp), "top": top, "n": len(pdf), "problems": {}}


def _combine_sample(parts):
    probs: dict = {}
    for p in parts:
        probs = merge_problems(probs, p.get("problems", {}))
    if probs:
        return {"problems": probs}
    top = pd.concat([p["top"] for p in parts])
    top = top[top["y"] == top.groupby(level=0)["y"].transform("max")].groupby(level=0).agg({"y": "max", "w": "max"})
    return {"sample": np.sort(np.concatenate([p["sample"] for p in parts])), "top": top,
            "n": sum(p["n"] for p in parts), "problems": {}}


def _bucket(y, bounds):
    """Bucket of every value: equal values always share a bucket."""
    return np.searchsorted(bounds, y, side="right")


def _bucket_partition(pdf, spec, income, by, na_rm, bounds, dlabels):
    w, ok, _ = validate(pdf, spec, [income], na_rm)
    y = numeric(pdf, income)
    d = pd.Index(dlabels).get_indexer(domain_values(pdf, by)[0])
    we = np.where(ok, w, 0.0)
    yy = np.where(ok, y, 0.0)
    B = len(bounds) + 1
    key = _bucket(yy, bounds) * len(dlabels) + d
    out = np.column_stack([np.bincount(key, weights=we, minlength=B * len(dlabels)),
                           np.bincount(key, weights=we * yy, minlength=B * len(dlabels)),
                           np.bincount(key, weights=(we > 0).astype(float), minlength=B * len(dlabels))])
    return out.reshape(B, len(dlabels), 3)  # weight, weight*y, count of positive-weight rows


def _add(parts):
    return np.sum(parts, axis=0)


def prepare_ranks(ds, income: str, by, na_rm: bool, buckets: int | None, level="person", seed: int = 12345):
    """Pass 1 (sample -> bucket bounds, domains, top incomes) and pass 2 (bucket sums)."""
    _check_common(ds, level, by)
    spec = ds.spec
    cols = spec.columns + [income] + ([by] if by is not None else [])
    parts = partitions(ds, cols)
    samp = dask.compute(tree_reduce([delayed(_sample_partition)(p, spec, income, by, na_rm, 2000, seed)
                                     for p in parts], _combine_sample))[0]
    if samp.get("problems"):
        raise_problems(samp["problems"], spec)
    dlabels = np.asarray(sorted(samp["top"].index), dtype=object)
    nb = buckets or max(4 * len(parts), 8)
    s = samp["sample"]
    bounds = np.unique(np.quantile(s, np.linspace(0, 1, nb + 1)[1:-1])) if s.size else np.zeros(0)
    tot = dask.compute(tree_reduce([delayed(_bucket_partition)(p, spec, income, by, na_rm, bounds, dlabels)
                                    for p in parts], _add))[0]
    return parts, dlabels, bounds, tot, cols, samp


# ---------------------------------------------------------------------- quantiles
def _collect_partition(pdf, spec, income, by, na_rm, bounds, dlabels, wanted):
    w, ok, _ = validate(pdf, spec, [income], na_rm)
    y = numeric(pdf, income)
    d = pd.Index(dlabels).get_indexer(domain_values(pdf, by)[0])
    keep = ok & (w > 0) & np.isin(_bucket(np.where(ok, y, 0.0), bounds) * len(dlabels) + d, wanted)
    return pd.DataFrame({"y": y[keep], "w": w[keep], "d": d[keep]})


def _exact_quantiles(parts, spec, income, by, na_rm, bounds, dlabels, tot, top, targets, rule):
    """Exact weighted quantiles ``targets`` (D, k) (probabilities per domain) by the rule.

    For every target the bucket holding it and the next bucket with rows are read back
    (a filter, no shuffle); :func:`remitpov.core.quantile.quantiles_sorted` -- the one
    implementation -- runs on those rows framed by pseudo-rows carrying the weight below
    and above them (and, for ``hf7``, the weight of the heaviest unit at the largest
    income, which fixes its positions), so the result equals the full-data quantile.
    """
    D, k = targets.shape
    Wb, cnt = tot[:, :, 0], tot[:, :, 2]
    cum = np.cumsum(Wb, axis=0)
    W = cum[-1]
    nonempty = cnt > 0
    sel = {}  # (d, j) -> buckets read
    wanted = set()
    for d in range(D):
        rows_b = np.flatnonzero(nonempty[:, d])
        if rows_b.size == 0:
            continue
        wtop = float(top.loc[dlabels[d], "w"])
        for j in range(k):
            p = targets[d, j]
            if not np.isfinite(p):
                continue
            # the bucket whose cumulative weight first reaches the target (any rule: a margin of one bucket)
            share = cum[:, d] / W[d] if rule != "hf7" else cum[:, d] / max(W[d] - wtop, np.finfo(float).tiny)
            hit = nonempty[:, d] & (share >= p)
            b = int(np.argmax(hit)) if hit.any() else int(rows_b[-1])
            prev = rows_b[rows_b < b][-1:] if rule == "hf7" else rows_b[:0]  # hf7: positions are 'before' weights
            bs_ = list(prev) + [b] + list(rows_b[rows_b > b][:2])
            sel[d, j] = bs_
            wanted.update(x * D + d for x in bs_)
    got = pd.concat(dask.compute(*[delayed(_collect_partition)(p, spec, income, by, na_rm, bounds, dlabels,
                                                                np.array(sorted(wanted))) for p in parts]),
                    ignore_index=True) if wanted else pd.DataFrame({"y": [], "w": [], "d": []})
    gy, gw, gd = got["y"].to_numpy(), got["w"].to_numpy(), got["d"].to_numpy()
    gb = _bucket(gy, bounds)
    out = np.full((D, k), np.nan)
    for (d, j), bl in sel.items():
        m = (gd == d) & np.isin(gb, bl)
        ys, ws = gy[m], gw[m]
        o = np.argsort(ys, kind="stable")
        ys, ws = ys[o], ws[o]
        before = cum[bl[0], d] - Wb[bl[0], d]
        rest = W[d] - before - ws.sum()
        lo, hi = (ys[0] - 1.0, ys[-1] + 1.0) if ys.size else (0.0, 1.0)
        xs, wx = [lo], [before]
        if rest > 0 and ys.size and float(top.loc[dlabels[d], "y"]) > ys[-1]:
            wtop = float(top.loc[dlabels[d], "w"])
            xs_t, w_t = [hi, hi + 1.0], [max(rest - wtop, 0.0), wtop]
        else:
            xs_t, w_t = [], []
        xx = np.concatenate([xs, ys, xs_t])
        ww = np.concatenate([wx, ws, w_t])
        out[d, j] = quantiles_sorted(xx, ww[:, None], np.array([targets[d, j]]), rule)[0, 0]
    return out


def quantile(ds, income, probs=(0.5,), by=None, *, level: str = "person", rule: str = "hf7",
             se_method: str | None = None, na_rm: bool = False, ci_level: float = 0.95, dist: str = "t",
             bandwidth: float | None = None, buckets: int | None = None) -> EstimateTable:
    """Exact weighted quantiles with Woodruff SEs, as :func:`remitpov.inequality.quantile`.

    Every rule of :mod:`remitpov.core.quantile` (default ``"hf7"``, as in memory). The
    SE (``se_method="woodruff"``, the default) is R survey's ``interval.type="mean"``:
    the linearised SE of the cdf at the estimate (one reduction of ``1[y <= q]``) mapped
    back through the quantile rule (two more exact quantiles). ``se_method=None`` and
    ``"woodruff"`` only; ``"kernel"``/``"replicate"`` need the in-memory path.
    """
    rule = normalise_rule(rule)
    se_method = "woodruff" if se_method is None else se_method
    if se_method != "woodruff":
        raise InputError(f"se_method={se_method!r} is not available for a DaskSurvey (only 'woodruff'); load the "
                         "data into memory for kernel or replicate quantile SEs")
    if bandwidth is not None:
        raise InputError("bandwidth= is for se_method='kernel', which a DaskSurvey does not offer")
    _no_replicates(ds, "quantile")
    P = np.atleast_1d(np.asarray(probs, dtype=float))
    if P.size == 0 or not np.all((P >= 0) & (P <= 1)):
        raise InputError(f"probs must lie in [0, 1], got {list(P)}")
    parts, dlabels, bounds, tot, cols, samp = prepare_ranks(ds, income, by, na_rm, buckets, level)
    D, k = len(dlabels), P.size
    spec, top = ds.spec, samp["top"]
    args = (parts, spec, income, by, na_rm, bounds, dlabels, tot, top)
    Q = _exact_quantiles(*args, np.tile(P, (D, 1)), rule)  # (D, k)
    est = Q.ravel()
    # Woodruff: the linearised variance of the cdf at every estimate (one linear reduction)
    terms = [bs.one()] + [bs.cdf(income, q) for q in est]
    design, sums, dk, info = linear_sums(ds, terms, by, na_rm=na_rm, deff=True, level=level)
    if len(dk) != D:
        raise InputError("the domains changed between passes over the data")
    m = 1 + D * k
    A = np.zeros((D, m, D * k))
    TOT = sums.totals
    Fq = np.empty(D * k)
    for d in range(D):
        for j in range(k):
            c = d * k + j
            Fq[c] = TOT[d, 1 + c] / TOT[d, 0]
            A[d, 1 + c, c] = 1.0 / TOT[d, 0]
            A[d, 0, c] = -Fq[c] / TOT[d, 0]
    Vf = design.vcov_factored(sums, A.reshape(D * m, D * k))
    se_f = np.sqrt(np.clip(np.diag(Vf), 0, None))
    t = critical_value(ci_level, design.df, dist)
    lo_p, hi_p = Fq - t * se_f, Fq + t * se_f
    inside = lambda a: np.where((a >= 0) & (a <= 1), a, np.nan)  # noqa: E731 - a limit outside [0, 1]: NaN, as R
    L = _exact_quantiles(*args, inside(lo_p).reshape(D, k), rule).ravel()
    U = _exact_quantiles(*args, inside(hi_p).reshape(D, k), rule).ravel()
    with np.errstate(divide="ignore", invalid="ignore"):
        dens = np.where(U > L, 2 * t * se_f / (U - L), np.inf)
        dens = np.where(np.isnan(U) | np.isnan(L), np.nan, dens)
        scale = np.where(np.isinf(dens), 0.0, 1.0 / dens)
    V = Vf * np.outer(scale, scale)
    V[np.isnan(scale), :] = np.nan
    V[:, np.isnan(scale)] = np.nan
    # design effect of the quantile's influence values z = -scale (1[y <= q] - F)/N within its domain
    vs = srs_variance(sums, A.reshape(D * m, D * k) * np.nan_to_num(-scale)[None, :], info["n_pos"],
                      info["sum_weights"])
    keys = pd.DataFrame([{"measure": "quantile", "variable": income, byname(by): d, "p": float(q)}
                         for d in domain_keys(dlabels, by) for q in P])
    n_obs = np.repeat(tot[:, :, 2].sum(0), k)
    with np.errstate(divide="ignore", invalid="ignore"):
        deff = np.diag(V) / vs
    return make_table(keys, est, V, DescribedDesign(design, info), level=ci_level, dist=dist, title="Quantiles",
                      notes=(f"quantile rule {rule!r}", "incomes at the quantile counted as y <= q in the cdf",
                             f"SE: Woodruff interval for F(q) at level {ci_level} (R survey interval.type='mean'), "
                             "SE = (U - L)/(2 t)", "engine: dask, exact bucketed quantiles"),
                      extra=pd.DataFrame({"deff": deff, "n_obs": n_obs}))


# ---------------------------------------------------------------------- Gini
def _gini_partition(pdf, spec, income, by, na_rm, bounds, dlabels, offW, offY, N, Ty, deff):
    """Basis ``(1, y, a1, y F)`` per row (exact mid-ranks within whole buckets) -> UnitSums."""
    w, ok, _ = validate(pdf, spec, [income], na_rm)
    y = np.where(ok, numeric(pdf, income), 0.0)
    w = np.where(ok, w, 0.0)
    d = pd.Index(dlabels).get_indexer(domain_values(pdf, by)[0])
    b = _bucket(y, bounds)
    n = len(pdf)
    o = np.lexsort((y, b, d))  # sort by (domain, bucket, y): tie blocks are (domain, y)
    ys, ws, bs_, ds_ = y[o], w[o], b[o], d[o]
    start = np.ones(n, dtype=bool)
    if n > 1:
        start[1:] = (ys[1:] != ys[:-1]) | (ds_[1:] != ds_[:-1])
    st = np.flatnonzero(start)
    blk = np.cumsum(start) - 1
    X = np.column_stack([ws, ws * ys])
    bsum = np.add.reduceat(X, st, axis=0) if n else np.zeros((0, 2))
    cs = np.cumsum(bsum, axis=0) - bsum  # before the block, within this partition
    gstart = np.ones(len(st), dtype=bool)
    if len(st) > 1:
        gstart[1:] = (bs_[st][1:] != bs_[st][:-1]) | (ds_[st][1:] != ds_[st][:-1])
    g_id = np.cumsum(gstart) - 1
    cs = cs - cs[np.flatnonzero(gstart)][g_id]  # before the block within its (domain, bucket)
    mid = (cs + bsum / 2.0)[blk]
    Nd, Td = N[ds_], Ty[ds_]
    with np.errstate(divide="ignore", invalid="ignore"):
        F = (offW[bs_, ds_] + mid[:, 0]) / Nd
        a1 = ys * F + (Td - (offY[bs_, ds_] + mid[:, 1])) / Nd
    B = np.column_stack([np.ones(n), ys, a1, ys * F])
    return frame_sums(pdf.iloc[o], spec, B, ws, np.asarray(dlabels, dtype=object)[ds_], gram=deff)


def gini(ds, income, by=None, *, level: str = "person", na_rm: bool = False, ci_level: float = 0.95,
         dist: str = "t", buckets: int | None = None, shuffle_method: str | None = None) -> EstimateTable:
    """Exact weighted Gini with its linearised SE, as :func:`remitpov.inequality.gini`.

    ``G = 2 sum w y F / (N mu) - 1`` with weighted mid-ranks ``F`` (tie-order invariant;
    laeken's formula on the 0--1 scale); influence values (Langel & Tille 2013)
    ``z_i = 2 (y_i F_i + (T - L_i)/N - A/N) / T - 2 A y_i / T^2`` (``A = sum w y F``,
    ``T = sum w y``, ``L_i`` the mid cumulative sum of ``w y``): linear in the row basis
    ``(1, y, a1 = y F + (T - L)/N)``, so the variance comes from its unit sums as every
    linear measure's. Three passes over the data plus one shuffle by income bucket.
    """
    _no_replicates(ds, "gini")
    parts, dlabels, bounds, tot, cols, samp = prepare_ranks(ds, income, by, na_rm, buckets, level)
    D = len(dlabels)
    Wb, Yb = tot[:, :, 0], tot[:, :, 1]
    offW = np.cumsum(Wb, axis=0) - Wb
    offY = np.cumsum(Yb, axis=0) - Yb
    N, Ty = Wb.sum(0), Yb.sum(0)
    if (tot[:, :, 2].sum(0) < 1).any():
        raise InputError(f"gini: a domain of {by!r} has no usable observation")
    if not (Ty > 0).all():
        bad = np.asarray(dlabels)[~(Ty > 0)][0]
        raise InputError(f"gini: the weighted mean income of {income!r} is <= 0 in {byname(by)}={bad!r}; "
                         "the Gini is undefined")
    data = ds.data[list(dict.fromkeys(cols))]
    bcol = "__rp_bucket__"
    data = data.assign(**{bcol: data[income].map_partitions(lambda s: pd.Series(
        _bucket(np.nan_to_num(pd.to_numeric(s, errors="coerce").to_numpy(float), nan=0.0), bounds), index=s.index),
        meta=(bcol, "int64"))})
    kw = {} if shuffle_method is None else {"shuffle_method": shuffle_method}
    sp = data.shuffle(on=bcol, npartitions=data.npartitions, **kw).to_delayed()
    res = dask.compute(tree_reduce([delayed(_gini_partition)(p, ds.spec, income, by, na_rm, bounds, dlabels, offW,
                                                             offY, N, Ty, True) for p in sp], _combine))[0]
    design, sums, dk, info = finish_sums(res, ds.spec, by, deff=True, total=False,
                                         engine="dask, exact bucketed ranks (shuffle by income bucket)")
    info["n"] = int(samp["n"])
    return gini_table(design, sums, dk, info, income, by, N, Ty, tot[:, :, 2].sum(0), ci_level=ci_level, dist=dist)
