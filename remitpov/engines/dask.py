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

import uuid
from typing import Callable, Mapping, Sequence

import numpy as np
import pandas as pd

from ..core.quantile import normalise_rule, quantiles_sorted
from ..core.rank import sort_order
from ..design import InfluenceSums, critical_value, group_sum
from ..exceptions import InputError
from ..results import EstimateTable, make_table
from . import basis as bs
from .base import (ALL, LEVELS, DescribedDesign, UnitSums, collapse, domain_keys, finish_collapsed, finish_sums,
                   srs_variance)
from .memory import (CHUNK, compact_codes, design_problems, domain_codes, domain_frame, domain_values, expand_columns,
                     fpc_ranges, keys, merge_problems, numeric, raise_problems, row_basis, row_sums, validate)
from .tables import byname, check_covmat, compare_table, gini_table, mean_total, poverty_table, ratio_table

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


def _problems(parts) -> dict:
    probs: dict = {}
    for p in parts:
        if isinstance(p, dict):
            probs = merge_problems(probs, p.get("problems", {}))
    return probs


def _needed(ds, columns: Sequence[str]) -> list:
    cols = list(dict.fromkeys(c for c in columns if c is not None))
    have = set(map(str, ds.data.columns))
    missing = [c for c in cols if c not in have]
    if missing:
        raise InputError(f"column(s) {missing} not found; available: {sorted(have)[:40]}")
    return cols


def mapped(ds, columns: Sequence[str], fn: Callable, *args) -> list:
    """Delayed ``fn(partition, *args)`` of every partition of the columns needed, as ONE task per
    partition: ``map_partitions`` lets Dask fuse reading the partition (Parquet, a derived
    column) with ``fn``, so the partition's rows never become a task result of their own (no
    extra task per partition, nothing held between tasks; only ``fn``'s small result leaves
    the task). Delayed ``args`` (the :class:`Units`) are shipped once, not per task."""
    cols = tuple(_needed(ds, columns))
    frames = ds._cache.setdefault("frames", {})  # (the column selection of a DaskSurvey's data, built once)
    if cols not in frames:
        frames[cols] = ds.data[list(cols)]
    return frames[cols].map_partitions(fn, *args, meta=("partial", "object"), enforce_metadata=False,
                                align_dataframes=False).to_delayed()


def partitions(ds, columns: Sequence[str]):
    """The delayed partitions of the columns needed (each column read once; the graph of a
    column set is built once per DaskSurvey)."""
    cols = _needed(ds, columns)
    graphs = ds._cache.setdefault("partitions", {})
    if tuple(cols) not in graphs:
        graphs[tuple(cols)] = ds.data[cols].to_delayed()
    return graphs[tuple(cols)]


def _check_common(ds, level, by):
    ds.spec.check(ds.data.columns)
    if level != "person":
        raise InputError(f"level={level!r} is not available for a DaskSurvey: its rows are persons (weight x size "
                         "if a size column is given); load the data into memory with remitpov.Survey for "
                         "household-level estimates")
    if by is not None and not isinstance(by, str):
        raise InputError(f"by={by!r}: a DaskSurvey takes one domain column name (combine several into one column "
                         "with DaskSurvey.assign)")


# ---------------------------------------------------------------------- the sampled units, found once
#: largest dense lookup table (entries) from unit labels to unit codes; beyond it a hash index
LUT_MAX = 1 << 23
#: largest lookup table kept multiplied by a number of domains (int64 entries)
LUT_SCALED_MAX = 1 << 20


class Units:
    """The sampled units (stratum, PSU, SSU) of a DaskSurvey, found by ONE pass over its design
    columns and cached on it: their labels, the fpc ranges, and a lookup from a row's labels
    to its integer unit code (a dense table for integer labels in a compact range, else a
    hash index). Every estimator's partition task then computes one integer code per row
    (a range check and a gather; with domains, from the table times the number of domains,
    plus the domain code: the (unit, domain) key in one gather and one addition) instead of
    factorising the design columns on every call. The design on the units is built once too
    (:func:`unit_design`).
    """

    def __init__(self, table: pd.DataFrame, fpc, fpc2, n_rows: int, spec):
        self.token = uuid.uuid4().hex  # Dask names the (shipped once) object by it instead of hashing the table
        self.s, self.u, self.v = (table[c].to_numpy() for c in ("s", "u", "v"))
        self.n = len(table)
        self.fpc, self.fpc2, self.n_rows = fpc, fpc2, int(n_rows)
        self.levels = self._key_levels(table, spec)
        cols = [table[c].to_numpy() for c, _, _ in self.levels]
        key = self._combined(cols)
        self.lut = self.index = None
        self._scaled: dict = {}  # D -> the lookup table times D (int64; small tables only)
        if key is not None and self.size <= max(LUT_MAX, 4 * self.n):
            self.lut = np.full(int(self.size), -1, dtype=np.int32 if self.n < 2**31 else np.int64)
            self.lut[key] = np.arange(self.n)
            self.lut_full = bool(self.n == self.lut.size)  # every label in the range is a unit: no -1 entry
        elif key is not None:
            self.index = pd.Index(key)
        else:
            self.index = pd.MultiIndex.from_arrays(cols)

    def __dask_tokenize__(self):
        return self.token

    def _key_levels(self, table, spec):
        """(level, offset, range) of the labels that identify a unit: the PSU alone when its
        labels are unique in the table (one stage, not nested), else every design level."""
        names = ["u"] if (not spec.two_stage and not spec.nest and table["u"].is_unique) else \
            [c for c, on in (("s", spec.strata is not None), ("u", True), ("v", spec.two_stage)) if on]
        out = []
        for c in names:
            a = table[c].to_numpy()
            if a.dtype.kind in "iu" and a.size:
                lo, hi = int(a.min()), int(a.max())
                out.append((c, lo, hi - lo + 1))
            else:
                out.append((c, None, None))
        return out

    @property
    def size(self) -> float:
        return float(np.prod([r for _, _, r in self.levels], dtype=float)) if all(
            r is not None for _, _, r in self.levels) else np.inf

    def _combined(self, cols):
        """Mixed-radix integer key of integer labels (None if a level is not integer or too wide)."""
        if not np.isfinite(self.size) or self.size >= 2.0**62:
            return None
        key = None
        for (c, lo, r), a in zip(self.levels, cols):
            k = a.astype(np.int64, copy=False)
            if lo or len(self.levels) > 1:  # (a single level of labels from 0: the labels are the key)
                k = k - lo
            if k.size and (k.min() < 0 or k.max() >= r):
                return np.full(len(cols[0]), -1, dtype=np.int64)  # a label outside the table's range
            if key is None:
                key = k
            else:
                key *= r
                key += k
        return key

    def codes(self, pdf: pd.DataFrame, spec, D: int = 1, dcode: np.ndarray | None = None) -> np.ndarray:
        """Unit code of every row of a partition (an error for labels not in the table); with
        domain codes ``dcode`` (``0..D-1``), the (unit, domain) key ``unit * D + dcode`` (int64)."""
        col = {"s": spec.strata, "u": spec.psu, "v": spec.ssu}
        cols = [pdf[col[c]].to_numpy() for c, _, _ in self.levels]
        checked = False
        if self.lut is not None:
            key = self._combined(cols)  # all -1 when a label lies outside the table's range
            if key.size and key[0] < 0:
                codes = key
            elif dcode is None:
                codes, checked = self.lut[key], self.lut_full
            else:  # one gather from the table times D (a copy of it when it is small), then the domain
                codes = self._lut_times(D)[key] if self.lut.size <= LUT_SCALED_MAX else self.lut[key] * np.int64(D)
                codes += dcode
                checked = self.lut_full
        else:
            key = self._combined(cols) if isinstance(self.index, pd.Index) and not isinstance(
                self.index, pd.MultiIndex) else pd.MultiIndex.from_arrays(cols)
            codes = self.index.get_indexer(key)
        # (a -1 entry of the table, times D, plus a domain code < D, stays negative)
        if not checked and codes.size and codes.min() < 0:
            raise InputError("design labels that were not in the data when the DaskSurvey first read them: the "
                             "data changed under the DaskSurvey; build a new DaskSurvey")
        if dcode is not None and self.lut is None:
            codes = codes.astype(np.int64) * D + dcode
        return codes

    def _lut_times(self, D: int) -> np.ndarray:
        if D not in self._scaled:
            self._scaled[D] = self.lut.astype(np.int64) * D
        return self._scaled[D]

    def unit_sums(self, part: dict) -> UnitSums:
        """A reduced partial (:func:`_combine_parts`) as the engines' :class:`UnitSums`."""
        u, dl = part["unit"], np.asarray(part["dl"], dtype=object)
        idx = pd.MultiIndex.from_arrays([self.s[u], self.u[u], self.v[u], dl[part["dom"]]], names=list(LEVELS))
        unit = pd.DataFrame(part["S"], index=idx, columns=[f"b{j}" for j in range(part["S"].shape[1])])
        return UnitSums(unit, domain_frame(dl, part["G"], part["n_pos"], part["wsum"]), self.fpc, self.fpc2,
                        int(part["n"]))


def _units_partition(pdf, spec):
    """Labels of the units present in one partition, the fpc ranges and the row count."""
    probs = design_problems(pdf, spec)
    if probs:
        return {"problems": probs}
    _, idx, _, _ = keys(pdf, spec, None)
    table = pd.DataFrame({c: idx.get_level_values(c) for c in ("s", "u", "v")})
    fpc, fpc2 = fpc_ranges(pdf, spec)
    return {"table": table, "fpc": fpc, "fpc2": fpc2, "n": len(pdf)}


def _minmax(frames):
    fr = [f for f in frames if f is not None]
    if not fr:
        return None
    return pd.concat(fr).groupby(level=list(range(fr[0].index.nlevels))).agg({"min": "min", "max": "max"})


def _combine_units(parts):
    probs = _problems(parts)
    if probs:
        return {"problems": probs}
    return {"table": pd.concat([p["table"] for p in parts], ignore_index=True).drop_duplicates(ignore_index=True),
            "fpc": _minmax([p["fpc"] for p in parts]), "fpc2": _minmax([p["fpc2"] for p in parts]),
            "n": sum(p["n"] for p in parts)}


def units(ds) -> Units:
    """The :class:`Units` of a DaskSurvey (one pass over its design columns on first use, then cached)."""
    spec = ds.spec
    cache = ds._cache
    ukey = (spec.strata, spec.psu, spec.ssu, spec.fpc, spec.fpc2, spec.nest)
    if cache.get("units_key") == ukey and "units" in cache:
        return cache["units"]
    cols = [c for c in (spec.strata, spec.psu, spec.ssu, spec.fpc, spec.fpc2) if c is not None]
    res = dask.compute(tree_reduce(mapped(ds, cols, _units_partition, spec), _combine_units))[0]
    if res.get("problems"):
        raise_problems(res["problems"], spec)
    table = res["table"]
    try:
        table = table.sort_values(["s", "u", "v"], ignore_index=True)
    except TypeError:  # labels of mixed types: any fixed order will do
        pass
    out = Units(table, res["fpc"], res["fpc2"], res["n"], spec)
    cache.update(units=out, units_key=ukey)
    return out


# ---------------------------------------------------------------------- partial unit sums
def _grid(K: int, m: int, n: int) -> bool:
    """Sum a partition's ``n`` rows on the full grid of ``K`` (unit, domain) cells x ``m`` terms
    (at most about one number per row: no more memory than a column of the partition)?"""
    return K * max(m, 1) <= n + CHUNK


def _part(key, n_units, dcode, dl, basis, m, we, gram, n, ones=()):
    """Partial sums of ``w b`` by (unit, domain) present -- ``unit``/``dom``/``S`` -- per-domain
    Gram matrices, counts and weight sums: what one partition adds to the reduction.

    The (unit, domain) key ``unit * D + domain`` indexes the sums directly when the full grid
    is small (at most one cell per row: ``K m <= n``, a partition of a survey with fewer PSUs
    than rows) and the cells holding rows are kept at the end; otherwise the keys present are
    compacted first. Either way every cell adds its rows in row order: the same sums.
    ``key``: ``unit * D + domain`` of every row (:meth:`Units.codes`)."""
    D = len(dl)
    K = n_units * D
    key = np.asarray(key, dtype=np.int64)
    by_cell = bool(len(ones)) and not gram  # the domains' sums of weights from the constant's cells
    if _grid(K, m, key.size):
        S, G, n_pos, wsum = row_sums(basis, m, key, K, we, dcode, D, gram, ones, wsum=not by_cell)
        if len(ones) and (not we.size or we.min() > 0):  # sums of positive weights: > 0 exactly where rows are
            present = np.flatnonzero(S[:, ones[0]])
        else:
            present = np.flatnonzero(np.bincount(key, minlength=K))
        S = S[present]
    else:
        key, present = compact_codes(key, K)
        S, G, n_pos, wsum = row_sums(basis, m, key, present.size, we, dcode, D, gram, ones, wsum=not by_cell)
    dom = present % D
    if wsum is None:  # (only for the table's description and counts: design effects take the rows' sums)
        wsum = np.bincount(dom, weights=S[:, ones[0]], minlength=D)
    return {"dl": np.asarray(dl, dtype=object), "unit": present // D, "dom": dom, "S": S, "G": G,
            "n_pos": n_pos, "wsum": wsum, "n": n}


def _combine_parts(parts):
    """Add partial unit sums (domain labels aligned by value)."""
    probs = _problems(parts)
    if probs:
        return {"problems": probs}
    if len(parts) == 1:
        return parts[0]
    labels = pd.Index(np.concatenate([p["dl"] for p in parts])).unique()
    D, m = len(labels), parts[0]["S"].shape[1]
    n_pos, wsum = np.zeros(D), np.zeros(D)
    G = np.zeros((D, m, m)) if parts[0]["G"] is not None else None
    keys_, S = [], []
    for p in parts:
        r = labels.get_indexer(p["dl"])
        keys_.append(p["unit"] * D + r[p["dom"]])
        S.append(p["S"])
        np.add.at(n_pos, r, p["n_pos"])
        np.add.at(wsum, r, p["wsum"])
        if G is not None:
            np.add.at(G, r, p["G"])
    code, uniq = pd.factorize(np.concatenate(keys_))
    return {"dl": np.asarray(labels, dtype=object), "unit": uniq // D, "dom": uniq % D,
            "S": group_sum(code, np.vstack(S), len(uniq)), "G": G, "n_pos": n_pos, "wsum": wsum,
            "n": sum(p["n"] for p in parts)}


def _linear_partition(pdf, un, spec, terms, by, na_rm, gram, level):
    rb = row_basis(pdf, spec, terms, by, na_rm=na_rm, level=level, design=False)
    if isinstance(rb, dict):
        return rb
    w, dom, basis, k, expand, ones = rb
    dcode, dl = domain_codes(dom, len(pdf))
    out = _part(un.codes(pdf, spec, len(dl), dcode), un.n, dcode, dl, basis, k, w, gram, len(pdf), ones)
    out["S"], out["G"] = expand_columns(out["S"], out["G"], expand)
    return out


def reduce_units(ds, un, res) -> UnitSums:
    if isinstance(res, dict) and "problems" in res:
        raise_problems(res["problems"], ds.spec)
    return un.unit_sums(res)


def unit_design(ds, un):
    """The design on the sampled units of ``un`` (weights 1, in the units' order), built once per
    DaskSurvey and design: :func:`~remitpov.engines.base.collapse` of one zero row per unit."""
    key = (un.token, ds.spec)
    got = ds._cache.get("units_design")  # ("units...": carried over by DaskSurvey.assign with the units)
    if got is not None and got[0] == key:
        return got[1]
    idx = pd.MultiIndex.from_arrays([un.s, un.u, un.v, np.full(un.n, ALL, dtype=object)], names=list(LEVELS))
    us = UnitSums(pd.DataFrame({"b0": np.zeros(un.n)}, index=idx), domain_frame([ALL], None, np.zeros(1), np.zeros(1)),
                  un.fpc, un.fpc2, un.n_rows)
    design = collapse(us, ds.spec)[0]
    ds._cache["units_design"] = (key, design)
    return design


def finish_units(ds, un, res, by, *, deff, total, engine):
    """:func:`~remitpov.engines.base.finish_sums` of a reduced partial: ``(design, sums, domain
    keys, info)``.

    When every sampled unit holds rows (always, unless the data changed) and the design has no
    replicate weights, the units' design is the cached :func:`unit_design` and the PSU totals
    are one grouped sum of the partial's (unit, domain) sums: what
    :func:`~remitpov.engines.base.collapse` computes from :class:`UnitSums` (domains sorted by
    label; the same cells added), without indexing the units by their labels on every call."""
    spec = ds.spec
    if isinstance(res, dict) and "problems" in res:
        raise_problems(res["problems"], spec)
    u = np.asarray(res["unit"], dtype=np.int64)
    if spec.replicates is not None or u.size < un.n or np.bincount(u, minlength=un.n).min() == 0:
        return finish_sums(un.unit_sums(res), spec, by, deff=deff, total=total, engine=engine)
    design = unit_design(ds, un)
    # the domain labels as collapse() reads them back from a level of the units' MultiIndex (whose
    # values pandas infers as a Categorical's categories), then sorted as there
    cat = pd.Categorical(np.asarray(res["dl"], dtype=object))
    order, dlabels = pd.factorize(pd.Series(np.asarray(cat.categories, dtype=object)[cat.codes]), sort=True)
    D, S = len(dlabels), np.asarray(res["S"], dtype=float)
    m, P = S.shape[1], design.n_psu
    dcode = order[res["dom"]]  # the partial's domain code -> its sorted position
    psu = group_sum(design.psu[u] * D + dcode, S, P * D).reshape(P, D * m)
    ssu = None
    if design.fpc1 is not None and design.ssu is not None:
        n_ssu = int(design.ssu.max()) + 1
        ssu = group_sum(design.ssu[u] * D + dcode, S, n_ssu * D).reshape(n_ssu, D * m)
    back = np.argsort(order)  # sorted position -> the partial's domain
    G = None if not deff or res["G"] is None else np.asarray(res["G"], dtype=float)[back]
    sums = InfluenceSums(n_domains=D, m=m, psu=psu, ssu=ssu, gram=G, n_pos=np.asarray(res["n_pos"], dtype=float)[back],
                         wsum=np.asarray(res["wsum"], dtype=float)[back])
    info = {"n": int(res["n"]), "n_pos": int(pd.Series(res["n_pos"]).sum()),
            "sum_weights": float(pd.Series(res["wsum"]).sum()), "engine": engine}
    return finish_collapsed(design, sums, np.asarray(dlabels, dtype=object), info, by, total=total)


def linear_partial(ds, terms, by, *, na_rm, deff, level="person"):
    """The rows reduced to the (unit, domain) sums of the ``terms``: ``(units, partial)``."""
    _check_common(ds, level, by)
    spec = ds.spec
    un = units(ds)
    cols = [spec.weight, spec.size, spec.strata, spec.psu, spec.ssu] + [c for t in terms for c in t.columns] + \
        ([by] if by is not None else [])
    du = delayed(un, pure=True)
    parts = mapped(ds, cols, _linear_partition, du, spec, terms, by, na_rm, bool(deff), level)
    return un, dask.compute(tree_reduce(parts, _combine_parts))[0]


def linear_sums(ds, terms, by, *, na_rm, deff, total=False, level="person"):
    """Reduce the rows to the units' influence sums: ``(design, sums, domain labels, info)``."""
    un, res = linear_partial(ds, terms, by, na_rm=na_rm, deff=deff, level=level)
    return finish_units(ds, un, res, by, deff=deff, total=total, engine=ENGINE)


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


def _sample_partition(pdf, spec, income, by, na_rm, k, seed, top=True):
    """A sample of ``k`` usable incomes, the domains, and (``top``) per domain the largest income
    and the largest weight at it (hf7's last tie block; quantiles only)."""
    w, ok, probs = validate(pdf, spec, [income], na_rm, design=False)  # (design columns: checked by units())
    dom, dp = domain_values(pdf, by)
    probs.update(dp)
    if probs:
        return {"problems": probs}
    y = numeric(pdf, income)[ok]
    rng = np.random.default_rng(seed + len(pdf))
    samp = y if y.size <= k else rng.choice(y, size=k, replace=False)
    if not top:  # the domains only (every row's, usable or not: a domain without usable rows is an error later)
        labels = pd.Index([ALL] if by is None else pd.unique(dom))
        return {"sample": np.sort(samp), "top": pd.DataFrame({"y": 0.0, "w": 0.0}, index=labels), "n": len(pdf),
                "problems": {}}
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
    w, ok, _ = validate(pdf, spec, [income], na_rm, design=False)
    we = np.where(ok, w, 0.0)
    yy = np.where(ok, numeric(pdf, income), 0.0)
    # weight, weight*y, count of positive-weight rows per (bucket, domain)
    return _bucket_sums(_bucket(yy, bounds), _domain_index(pdf, by, dlabels), we, yy, len(bounds) + 1, len(dlabels))


def _add(parts):
    return np.sum(parts, axis=0)


def sample_bounds(ds, income: str, by, na_rm: bool, buckets: int | None, level="person", seed: int = 12345,
                  top: bool = True):
    """Pass 1 (one reduction): a sample of every partition -> bucket bounds; domains, top incomes."""
    _check_common(ds, level, by)
    spec = ds.spec
    units(ds)  # the design columns, checked once per DaskSurvey: this pass reads only what it samples
    cols = [c for c in (spec.weight, spec.size, income, by) if c is not None]
    samp = dask.compute(tree_reduce(mapped(ds, cols, _sample_partition, spec, income, by, na_rm, 2000, seed, top),
                                    _combine_sample))[0]
    parts = partitions(ds, cols)  # (the later passes of the quantiles read them)
    if samp.get("problems"):
        raise_problems(samp["problems"], spec)
    dlabels = np.asarray(sorted(samp["top"].index), dtype=object)
    nb = buckets or max(4 * len(parts), 8)
    s = samp["sample"]
    bounds = np.unique(np.quantile(s, np.linspace(0, 1, nb + 1)[1:-1])) if s.size else np.zeros(0)
    return parts, dlabels, bounds, cols, samp


def prepare_ranks(ds, income: str, by, na_rm: bool, buckets: int | None, level="person", seed: int = 12345):
    """Pass 1 (sample -> bucket bounds, domains, top incomes) and pass 2 (bucket sums)."""
    parts, dlabels, bounds, cols, samp = sample_bounds(ds, income, by, na_rm, buckets, level, seed)
    spec = ds.spec
    tot = dask.compute(tree_reduce([delayed(_bucket_partition)(p, spec, income, by, na_rm, bounds, dlabels)
                                    for p in parts], _add))[0]
    return parts, dlabels, bounds, tot, cols, samp


# ---------------------------------------------------------------------- quantiles
def _collect_partition(pdf, spec, income, by, na_rm, bounds, dlabels, wanted):
    w, ok, _ = validate(pdf, spec, [income], na_rm, design=False)
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
def _domain_index(pdf, by, dlabels) -> np.ndarray:
    """Global domain code of every row (``dlabels``: every domain, found by pass 1)."""
    if by is None:
        return np.zeros(len(pdf), dtype=np.int64)
    return pd.Index(dlabels).get_indexer(domain_values(pdf, by)[0])


def _bucket_sums(b, d, we, yy, B, D):
    key = b * D + d
    return np.column_stack([np.bincount(key, weights=we, minlength=B * D),
                            np.bincount(key, weights=we * yy, minlength=B * D),
                            np.bincount(key, weights=(we > 0).astype(float), minlength=B * D)]).reshape(B, D, 3)


def _gini_split(pdf, un, spec, income, by, na_rm, bounds, dlabels, per, nout):
    """Range partitioning of one input partition: the bucket sums (weight, weight x y, rows with
    positive weight per bucket and domain) and, for every output partition ``j`` (buckets
    ``j*per .. (j+1)*per - 1``), the compact rows ``(y, w, unit code, domain code)`` it receives."""
    w, ok, probs = validate(pdf, spec, [income], na_rm, design=False)
    if probs:
        raise_problems(probs, spec)
    y = np.where(ok, numeric(pdf, income), 0.0)  # (new arrays: the pieces must not hold the frame alive)
    we = np.where(ok, w, 0.0)
    dt = np.int8 if len(dlabels) < 128 else np.int64
    d = _domain_index(pdf, by, dlabels)
    b = _bucket(y, bounds)
    tot = _bucket_sums(b, d, we, y, len(bounds) + 1, len(dlabels))
    u = un.codes(pdf, spec)
    if nout == 1:  # every row goes to the one output partition: no gathers
        return tot, [(y, we, u, d.astype(dt))]
    j = (b // per).astype(np.int16 if nout < 2**15 else np.int64)  # (16-bit: numpy's stable sort is a radix sort)
    del b
    o = np.argsort(j, kind="stable")
    cuts = np.searchsorted(j[o], np.arange(nout + 1))
    pieces = [(y[o[a:c]], we[o[a:c]], u[o[a:c]], d[o[a:c]].astype(dt)) for a, c in zip(cuts[:-1], cuts[1:])]
    return tot, pieces


def _tie_end(ys: np.ndarray, b: int) -> int:
    """First position ``>= b`` of the sorted ``ys`` that starts a new tie block (``ys[b-1]``'s
    block may run past ``b``): a doubling window, O(block length), no Python loop over rows."""
    n, ref, k = ys.size, ys[b - 1], 256
    while b < n:
        e = min(b + k, n)
        diff = np.flatnonzero(ys[b:e] != ref)
        if diff.size:
            return b + int(diff[0])
        b, k = e, 2 * k
    return n


def _gini_out(pieces, j, per, tot, n_units, dlabels, deff):
    """One output partition (whole income buckets): exact weighted mid-ranks ``F`` and mid
    cumulative incomes ``L`` of its rows (the weight of the buckets below comes from the
    bucket sums), then the unit sums of the Gini's row basis ``(1, y, a1, y F)``.

    A chunked row basis: the rows are sorted by (domain, income) -- only the order and the
    sorted incomes are held for every row -- and walked in chunks of :data:`CHUNK` rows that
    never split a tie block; the running cumulative weight and income of the domain are
    carried from chunk to chunk, and each chunk's basis is summed to the (unit, domain)
    totals and Gram matrices at once (no per-row column of ``F``, ``L`` or the basis)."""
    if len(pieces) == 1:
        y, w, u, d = pieces[0]
    else:
        y, w, u, d = (np.concatenate([p[i] for p in pieces]) for i in range(4))
    D, n = len(dlabels), y.size
    Wb, Yb = tot[:, :, 0], tot[:, :, 1]
    N, Ty = Wb.sum(0), Yb.sum(0)
    offW, offY = Wb[: j * per].sum(0), Yb[: j * per].sum(0)  # per domain: the buckets below this partition
    K = n_units * D
    dense = K <= 4 * n + 4096  # (unit, domain) totals on the full grid, compacted at the end
    if dense:
        pres = np.zeros(K, dtype=bool)
    else:
        codes, present = compact_codes(u.astype(np.int64) * D + d, K)
        K = present.size
    S = np.zeros((K, 4))
    G = np.zeros((D, 4, 4)) if deff else None
    wsum = np.bincount(d, weights=w, minlength=D)
    n_pos = np.bincount(d if (not w.size or w.min() > 0) else d[w > 0], minlength=D).astype(float)
    if D == 1:
        groups, cuts = None, np.array([0, n])
    else:
        groups = np.argsort(d, kind="stable")  # rows grouped by domain (a counting sort of small codes)
        cuts = np.concatenate([[0], np.cumsum(np.bincount(d, minlength=D))])
    for k in range(D):
        rows = groups[cuts[k]:cuts[k + 1]] if groups is not None else None
        if rows is not None and rows.size == 0:
            continue
        o, ys = sort_order(y if rows is None else y[rows])
        if rows is not None:
            o = rows[o]
        del rows
        m = ys.size
        cW, cY = offW[k], offY[k]  # cumulative weight and income of the domain below the chunk
        a = 0
        while a < m:
            b = _tie_end(ys, min(a + CHUNK, m)) if a + CHUNK < m else m
            oc, yc = o[a:b], ys[a:b]
            wc = np.take(w, oc)
            start = np.ones(b - a, dtype=bool)
            np.not_equal(yc[1:], yc[:-1], out=start[1:])
            st = np.flatnonzero(start)
            ln = np.diff(np.append(st, b - a))
            bW = np.add.reduceat(wc, st)
            bY = np.add.reduceat(wc * yc, st)
            csW, csY = np.cumsum(bW), np.cumsum(bY)
            midW = cW + (csW - bW) + bW / 2.0  # mid cumulative sums: before the tie block + half of it
            midY = cY + (csY - bY) + bY / 2.0
            cW, cY = cW + csW[-1], cY + csY[-1]
            with np.errstate(divide="ignore", invalid="ignore"):
                F = np.repeat(midW / N[k], ln)
                B = np.empty((b - a, 4))
                B[:, 0] = 1.0
                B[:, 1] = yc
                np.multiply(yc, F, out=B[:, 3])
                np.add(B[:, 3], np.repeat((Ty[k] - midY) / N[k], ln), out=B[:, 2])
            key = np.take(u, oc).astype(np.int64) * D + k if dense else np.take(codes, oc)
            if dense:
                pres[key] = True
            group_sum(key, B, K, wc, out=S)
            if deff:
                G[k] += (B.T * wc) @ B
            a = b
    if dense:
        present = np.flatnonzero(pres)
        S = S[present]
    return {"dl": np.asarray(dlabels, dtype=object), "unit": present // D, "dom": present % D, "S": S, "G": G,
            "n_pos": n_pos, "wsum": wsum, "n": n}


def gini(ds, income, by=None, *, level: str = "person", na_rm: bool = False, ci_level: float = 0.95,
         dist: str = "t", buckets: int | None = None, shuffle_method: str | None = None) -> EstimateTable:
    """Exact weighted Gini with its linearised SE, as :func:`remitpov.inequality.gini`.

    ``G = 2 sum w y F / (N mu) - 1`` with weighted mid-ranks ``F`` (tie-order invariant;
    laeken's formula on the 0--1 scale); influence values (Langel & Tille 2013)
    ``z_i = 2 (y_i F_i + (T - L_i)/N - A/N) / T - 2 A y_i / T^2`` (``A = sum w y F``,
    ``T = sum w y``, ``L_i`` the mid cumulative sum of ``w y``): linear in the row basis
    ``(1, y, a1 = y F + (T - L)/N)``, so the variance comes from its unit sums as every
    linear measure's.

    A distributed sort by range partitioning: pass 1 samples every partition for bucket
    bounds (sample quantiles: they only balance the work); pass 2 sends every row, as four
    numbers (income, weight, unit code, domain code), to the output partition holding its
    income bucket (equal incomes share a bucket) and sums weight and income per bucket;
    every output partition sorts its rows and adds the weight of the buckets below it
    (prefix sums of the bucket sums) to get exact ranks. ``buckets``: number of buckets
    (default 4 per partition). ``shuffle_method`` is deprecated and ignored (there is no
    DataFrame shuffle any more); passing it warns (FutureWarning) and will be an error in the
    next release.
    """
    if shuffle_method is not None:
        import warnings

        warnings.warn("gini(..., shuffle_method=) is ignored: the Dask Gini no longer shuffles a DataFrame "
                      "(rows are range-partitioned); drop the argument", FutureWarning, stacklevel=2)
    _no_replicates(ds, "gini")
    parts, dlabels, bounds, cols, samp = sample_bounds(ds, income, by, na_rm, buckets, level, top=False)
    spec = ds.spec
    un = units(ds)
    nout = len(parts)
    per = -(-(len(bounds) + 1) // nout)  # buckets per output partition
    du = delayed(un, pure=True)
    pcols = [spec.weight, spec.size, spec.strata, spec.psu, spec.ssu, income] + ([by] if by is not None else [])
    splits = mapped(ds, pcols, _gini_split, du, spec, income, by, na_rm, bounds, dlabels, per, nout)
    tot = tree_reduce([sp[0] for sp in splits], _add)
    outs = [delayed(_gini_out)([sp[1][j] for sp in splits], j, per, tot, un.n, dlabels, True) for j in range(nout)]
    tot, res = dask.compute(tot, tree_reduce(outs, _combine_parts))
    Wb, Yb = tot[:, :, 0], tot[:, :, 1]
    N, Ty = Wb.sum(0), Yb.sum(0)
    if (tot[:, :, 2].sum(0) < 1).any():
        raise InputError(f"gini: a domain of {by!r} has no usable observation")
    if not (Ty > 0).all():
        bad = np.asarray(dlabels)[~(Ty > 0)][0]
        raise InputError(f"gini: the weighted mean income of {income!r} is <= 0 in {byname(by)}={bad!r}; "
                         "the Gini is undefined")
    design, sums, dk, info = finish_units(ds, un, res, by, deff=True, total=False,
                                          engine="dask, exact ranks (range-partitioned sort)")
    info["n"] = int(samp["n"])
    return gini_table(design, sums, dk, info, income, by, N, Ty, tot[:, :, 2].sum(0), ci_level=ci_level, dist=dist)
