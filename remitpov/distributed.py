"""Out-of-core and distributed estimation on Dask (a Dask DataFrame or a Parquet dataset).

The same estimates and standard errors as the in-memory estimators, for data that do
not fit in one machine's memory (census microdata, tens of millions of person records),
computed partition by partition on a Dask cluster -- a local one or a multi-machine one
(``distributed.Client("tcp://scheduler:8786")``): every function here runs on whatever
Dask scheduler is active.

How it works
------------
Linear statistics (means, totals, ratios, FGT indices, differences between income
concepts; overall and by domain) are exact functions of **sufficient statistics**: for
every (stratum, PSU, domain) the sums of ``w * g`` (one column per indicator) and of
``w``, plus per domain the first and second moments used by the design effect. Every
partition computes them with one vectorised group-by, the partial results are combined
in one tree reduction, and the driver -- holding one row per PSU, never one per person --
evaluates the estimate, the PSU totals of the influence values and hands them to the
ONE variance engine, :meth:`remitpov.design.Design.vcov`, on a design whose rows are the
PSUs (weights 1): the stratified with-replacement formula (``Design._stage1``, lonely-PSU
policies, fpc) is reused, not re-implemented. This collapse is exact because the
linearised variance depends on the data only through the PSU totals of ``w z``.

Gini and quantiles need ranks. They use an **exact bucketed two-pass scheme**:

1. pass 1 (one reduction) draws a small sample from every partition; its quantiles are
   bucket boundaries (they only balance the work: any boundaries give the same result);
   pass 2 sums ``w`` and ``w y`` per (bucket, domain) -- equal incomes always fall in the
   same bucket, so the cumulative weight *below* every bucket is exact;
2. quantiles: the bucket holding the target cumulative weight is read back (a filter, no
   shuffle) and the exact order statistic is found in it on the driver;
   Gini: the rows are shuffled by bucket (``DataFrame.shuffle``, disk-backed on a
   distributed cluster, so memory stays bounded), every partition then holds whole
   buckets and computes the exact weighted mid-ranks ``F_i`` and mid cumulative incomes
   ``L_i`` of its rows (bucket offsets from pass 2 + within-bucket cumulative sums), and
   the PSU totals of the Gini's influence values in the same pass (a third reduction).
   No approximation (no t-digest, no histogram interpolation) is involved.

The numbers equal the in-memory path (:func:`remitpov.estimation.mean`,
:func:`remitpov.poverty.fgt` / ``compare``, :func:`remitpov.inequality.gini` /
``quantile``) up to floating-point summation order (tested to 1e-10).

Conventions
-----------
Same as the in-memory estimators: person-level rows with expansion weights (optionally
times a household ``size``), poor if ``y < z`` (``strict=True``) or ``y <= z``; domains
are zero weights on the full design (R survey's ``svyby``); the Gini uses weighted
mid-ranks (tie-order invariant, equal to laeken's formula) and Langel & Tille's
linearisation; quantile rules ``"math"`` (smallest ``y`` with ``F(y) >= p``, R survey's
default) and ``"laeken"`` (smallest ``y`` with ``F(y) > p``). Missing values in an
analysis variable raise :class:`~remitpov.exceptions.InputError` naming the count and
example row labels, unless ``na_rm=True`` (rows outside every domain, design kept).

Limits: a PSU column is required (clusters are the unit of reduction: an unclustered
design would keep one row per person on the driver); two-stage fpc and replicate
weights are not supported here (use the in-memory path); quantiles are point
estimates (no SE).

Example
-------
>>> from distributed import Client, LocalCluster            # doctest: +SKIP
>>> client = Client(LocalCluster(n_workers=2, threads_per_worker=1, memory_limit="3GiB"))
>>> ds = DaskSurvey("census.parquet", weight="w", strata="strata", psu="psu")
>>> ds = ds.assign(y_norem=lambda df: df["income"] - df["remit"])
>>> compare(ds, {"with": "income", "without": "y_norem"}, line=600.0, by="urban")
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import numpy as np
import pandas as pd

from .core.validate import check_alphas as _alphas
from .design import Design, group_sum as _group_sum, srs_variance_from_moments
from .exceptions import InputError
from .measures.fgt import contribution as _g  # FGT contributions: one definition with the in-memory engine
from .results import EstimateTable, make_table

try:  # optional dependency: pip install "remitpov[dask]"
    import dask
    import dask.dataframe as dd
    from dask import delayed

    HAVE_DASK = True
except ImportError:  # pragma: no cover - exercised only without dask
    dask = dd = delayed = None
    HAVE_DASK = False

__all__ = ["DaskSurvey", "mean", "total", "ratio", "fgt", "compare", "gini", "quantile", "HAVE_DASK"]

SPLIT_EVERY = 8  # fan-in of the tree reductions
_ALL = "__all__"


def _need_dask():
    if not HAVE_DASK:
        raise ImportError("remitpov.distributed needs dask: pip install 'dask[dataframe]' distributed "
                          "(or the 'dask' extra of remitpov)")


# ====================================================================== the survey
@dataclass(frozen=True)
class _Cfg:
    """The design columns of a :class:`DaskSurvey`, shipped to the workers (no data)."""

    weight: str
    strata: str | None
    psu: str | None
    fpc: str | None
    size: str | None
    nest: bool
    lonely_psu: str


@dataclass(frozen=True, eq=False)
class DaskSurvey:
    """A person-level survey (or census sample) held in a Dask DataFrame.

    Parameters
    ----------
    data : dask DataFrame, pandas DataFrame, or str / Path
        The rows. A path is read lazily as a Parquet dataset (``dd.read_parquet``,
        only the columns an estimator needs are read); a pandas DataFrame is split into
        ``npartitions`` partitions.
    weight : str
        Expansion weight column (finite and > 0, as :class:`remitpov.survey.Survey`).
    strata, psu, fpc : str, optional
        Design columns. ``psu`` is required by the estimators (see module docstring).
        ``fpc``: number of PSUs in the stratum population, or the sampling fraction.
    size : str, optional
        Multiply the weight by this column (household rows at person level).
    nest : bool
        PSU labels are unique only within strata.
    lonely_psu : str
        Singleton-PSU policy, as :class:`remitpov.design.Design`.
    npartitions : int
        Partitions when ``data`` is a pandas DataFrame.
    """

    data: Any
    weight: str
    strata: str | None = None
    psu: str | None = None
    fpc: str | None = None
    size: str | None = None
    nest: bool = False
    lonely_psu: str = "error"
    npartitions: int = 8

    def __post_init__(self):
        _need_dask()
        data = self.data
        if isinstance(data, (str, Path)):
            data = dd.read_parquet(str(data))
        elif isinstance(data, pd.DataFrame):
            data = dd.from_pandas(data, npartitions=self.npartitions, sort=False)
        elif not isinstance(data, dd.DataFrame):
            raise InputError(f"DaskSurvey data must be a dask DataFrame, a pandas DataFrame or a Parquet path, "
                             f"got {type(data).__name__}")
        object.__setattr__(self, "data", data)
        cols = set(map(str, data.columns))
        for role in ("weight", "strata", "psu", "fpc", "size"):
            c = getattr(self, role)
            if c is not None and c not in cols:
                raise InputError(f"{role} column {c!r} not found; available: {sorted(cols)[:40]}")

    @classmethod
    def from_parquet(cls, path, weight: str, **kwargs) -> "DaskSurvey":
        """Read a Parquet file or dataset directory lazily."""
        _need_dask()
        return cls(dd.read_parquet(str(path)), weight, **kwargs)

    def assign(self, **columns) -> "DaskSurvey":
        """New DaskSurvey with lazily computed columns (``DataFrame.assign``)."""
        return replace(self, data=self.data.assign(**columns))

    @property
    def cfg(self) -> _Cfg:
        return _Cfg(self.weight, self.strata, self.psu, self.fpc, self.size, self.nest, self.lonely_psu)

    @property
    def design_columns(self) -> list[str]:
        return [c for c in (self.weight, self.strata, self.psu, self.fpc, self.size) if c is not None]

    def _check(self):
        if self.psu is None:
            raise InputError("distributed estimators need a psu column: the PSU is the unit of the reduction "
                             "(an unclustered design would keep one row per person on the driver); use the "
                             "in-memory estimators, or pass a cluster column")


# ====================================================================== reductions
def _tree_reduce(parts: list, combine: Callable):
    """Combine a list of delayed partial results by a tree of fan-in ``SPLIT_EVERY``."""
    if not parts:
        raise InputError("the dataset has no partitions")
    while len(parts) > 1:
        parts = [delayed(combine)(parts[i:i + SPLIT_EVERY]) for i in range(0, len(parts), SPLIT_EVERY)]
    return parts[0]


def _partitions(ds: DaskSurvey, columns: Sequence[str]):
    cols = list(dict.fromkeys(c for c in columns if c is not None))
    missing = [c for c in cols if c not in set(map(str, ds.data.columns))]
    if missing:
        raise InputError(f"column(s) {missing} not found; available: {sorted(map(str, ds.data.columns))[:40]}")
    return ds.data[cols].to_delayed()


def _examples(index, mask, k=3) -> list:
    return [str(v) for v in np.asarray(index)[np.flatnonzero(mask)[:k]]]


def _validate(pdf: pd.DataFrame, ds: DaskSurvey, numeric: Sequence[str], na_rm: bool):
    """Weights and design columns of one partition; returns (w, ok) and problems found."""
    probs = {}
    w = pd.to_numeric(pdf[ds.weight], errors="coerce").to_numpy(dtype=float)
    bad = ~np.isfinite(w) | (w <= 0)
    if bad.any():
        probs["weight"] = (int(bad.sum()), _examples(pdf.index, bad))
    if ds.size is not None:
        sz = pd.to_numeric(pdf[ds.size], errors="coerce").to_numpy(dtype=float)
        b2 = ~np.isfinite(sz) | (sz <= 0)
        if b2.any():
            probs["size"] = (int(b2.sum()), _examples(pdf.index, b2))
        w = w * sz
    for c in (ds.strata, ds.psu, ds.fpc):
        if c is not None:
            m = pdf[c].isna().to_numpy()
            if m.any():
                probs[c] = (int(m.sum()), _examples(pdf.index, m))
    ok = np.ones(len(pdf), dtype=bool)
    for c in numeric:
        v = pd.to_numeric(pdf[c], errors="coerce").to_numpy(dtype=float)
        m = ~np.isfinite(v)
        if m.any():
            ok &= ~m
            if not na_rm:
                probs[f"value:{c}"] = (int(m.sum()), _examples(pdf.index, m))
    return w, ok, probs


def _merge_problems(a: dict, b: dict) -> dict:
    out = dict(a)
    for k, (n, ex) in b.items():
        n0, ex0 = out.get(k, (0, []))
        out[k] = (n0 + n, (ex0 + ex)[:3])
    return out


def _raise_problems(probs: dict, ds: DaskSurvey):
    for k, (n, ex) in probs.items():
        e = f" (e.g. rows labelled {', '.join(ex)})" if ex else ""
        if k == "weight":
            raise InputError(f"weight column {ds.weight!r} is missing, zero or negative in {n} rows{e}; weights must "
                             "be > 0: fix them or drop out-of-scope rows explicitly")
        if k == "size":
            raise InputError(f"size column {ds.size!r} is missing, zero or negative in {n} rows{e}")
        if k.startswith("value:"):
            raise InputError(f"{k[6:]!r} is missing or not finite in {n} rows{e}; pass na_rm=True to treat those "
                             "rows as outside every domain (design kept), or impute them")
        raise InputError(f"design column {k!r} is missing in {n} rows{e}")


def _domain_values(pdf, by):
    if by is None:
        return np.full(len(pdf), _ALL, dtype=object)
    v = pdf[by]
    if v.isna().any():
        m = v.isna().to_numpy()
        raise InputError(f"domain variable {by!r} is missing in {int(m.sum())} rows "
                         f"(e.g. rows labelled {', '.join(_examples(pdf.index, m))}); recode missing values "
                         "to an explicit category")
    return v.to_numpy()


# ---------------------------------------------------------------------- linear statistics
@dataclass(frozen=True)
class _Linear:
    """What one partition contributes to linear statistics.

    ``values(pdf) -> (n_p, m)`` columns ``v``; every cell is ``sum w v[num] / sum w v[den]``
    (``den`` index) or a total ``sum w v[num]`` (``den = -1``). Column 0 is ones.
    """

    values: Callable
    numeric: tuple  # columns checked for missing values
    cells_num: tuple
    cells_den: tuple


def _keys3(s, u, d):
    """Codes of the (stratum, psu, domain) combinations present, without building tuples.

    Returns (row codes, MultiIndex of the combinations, domain codes, domain labels)."""
    sc, sl = pd.factorize(s)
    uc, ul = pd.factorize(u)
    dc, dl = pd.factorize(d)
    key = (sc.astype(np.int64) * len(ul) + uc) * max(len(dl), 1) + dc
    codes, first = pd.factorize(key)
    first = np.asarray(first)
    dd = first % max(len(dl), 1)
    rest = first // max(len(dl), 1)
    idx = pd.MultiIndex.from_arrays([np.asarray(sl)[rest // len(ul)], np.asarray(ul)[rest % len(ul)],
                                     np.asarray(dl, dtype=object)[dd]], names=["s", "u", "d"])
    return codes, idx, dc, dl


def _linear_partition(pdf: pd.DataFrame, ds: DaskSurvey, spec: _Linear, by, na_rm: bool):
    w, ok, probs = _validate(pdf, ds, spec.numeric, na_rm)
    dom = _domain_values(pdf, by)
    if probs:
        return {"problems": probs}
    V = np.asarray(spec.values(pdf, ok), dtype=float)
    if not ok.all():
        V = np.where(ok[:, None], V, 0.0)
    we = np.where(ok, w, 0.0)  # rows outside every domain: zero weight, design kept
    m = V.shape[1]
    strata = pdf[ds.strata].to_numpy() if ds.strata is not None else np.zeros(len(pdf), dtype=np.int64)
    # (stratum, psu, domain) sums of w v: one sparse product for all columns
    codes, uniq, dcodes, dlab = _keys3(strata, pdf[ds.psu].to_numpy(), dom)
    sums = _group_sum(codes, V, len(uniq), we)
    unit = pd.DataFrame(sums, index=uniq, columns=[f"v{j}" for j in range(m)])
    # per domain first and second moments (design effects) and counts
    D = len(dlab)
    M = _group_sum(dcodes, V, D, we)
    Q = np.stack([(V.T * (we * (dcodes == d))) @ V for d in range(D)]) if D else np.zeros((0, m, m))
    npos = np.bincount(dcodes[we > 0], minlength=D).astype(float)[:, None]  # sample size per domain
    mom = pd.DataFrame(np.hstack([M, Q.reshape(D, m * m), npos]), index=pd.Index(dlab, name="d"))
    # strata of every psu row is already in the key; fpc per stratum (min, max)
    fpc = None
    if ds.fpc is not None:
        fpc = pd.DataFrame({"f": pd.to_numeric(pdf[ds.fpc]).to_numpy(float), "s": strata}) \
            .groupby("s")["f"].agg(["min", "max"])
    counts = np.array([len(pdf), int(((w > 0) & ok).sum()), float(we.sum())])
    return {"unit": unit, "mom": mom, "fpc": fpc, "counts": counts, "problems": {}}


def _combine_linear(parts: list) -> dict:
    probs: dict = {}
    for p in parts:
        probs = _merge_problems(probs, p.get("problems", {}))
    if probs:
        return {"problems": probs}
    unit = pd.concat([p["unit"] for p in parts]).groupby(level=[0, 1, 2], sort=False).sum()
    mom = pd.concat([p["mom"] for p in parts]).groupby(level=0, sort=False).sum()
    fp = [p["fpc"] for p in parts if p["fpc"] is not None]
    fpc = pd.concat(fp).groupby(level=0).agg({"min": "min", "max": "max"}) if fp else None
    counts = np.sum([p["counts"] for p in parts], axis=0)
    return {"unit": unit, "mom": mom, "fpc": fpc, "counts": counts, "problems": {}}


@dataclass(frozen=True)
class _Units:
    """The design collapsed to its PSUs (rows = PSUs, weights 1), and label bookkeeping."""

    design: Design  # unit-level design (vcov engine)
    n: int  # rows of the data
    n_pos: int
    sum_w: float
    n_psu: int


def _unit_design(ds: DaskSurvey, unit_index: pd.MultiIndex, fpc, counts) -> tuple[_Units, np.ndarray]:
    """Factorise (stratum, psu) exactly as :meth:`Design.from_arrays` and build the PSU design.

    Returns the units and the code of every row of ``unit_index`` (one per (s, u, d))."""
    s = unit_index.get_level_values(0)
    u = unit_index.get_level_values(1)
    pairs = pd.MultiIndex.from_arrays([s, u]).drop_duplicates()
    ps, pu = pairs.get_level_values(0), pairs.get_level_values(1)
    s_codes_pairs, s_labels = pd.factorize(pd.Series(ps), sort=True)
    if ds.nest:
        key = pd.MultiIndex.from_arrays([s_codes_pairs, np.asarray(pu)])
        ucode_pairs, ulab = pd.factorize(key, sort=True)
    else:
        ucode_pairs, ulab = pd.factorize(pd.Series(pu), sort=True)
        if len(ulab) != len(pairs):
            dup = pd.Series(pu).duplicated(keep=False).to_numpy()
            ex = ", ".join(map(str, pd.unique(np.asarray(pu)[dup])[:3]))
            raise InputError(f"PSU labels repeat across strata (e.g. psu {ex}); pass nest=True if PSU ids are "
                             "only unique within strata")
    U = len(ulab)
    unit_stratum = np.empty(U, dtype=object)
    unit_stratum[ucode_pairs] = np.asarray(ps, dtype=object)
    fpc_u = None
    if fpc is not None:
        if (fpc["min"] != fpc["max"]).any():
            raise InputError(f"fpc column {ds.fpc!r} must be constant within each stratum")
        fpc_u = fpc["min"].reindex(pd.Index(unit_stratum)).to_numpy(dtype=float)
    strata_arg = None if ds.strata is None else unit_stratum
    d = Design.from_arrays(np.ones(U), strata=strata_arg, psu=np.arange(U), fpc=fpc_u, lonely_psu=ds.lonely_psu)
    # code of every (s, u, d) row
    m = pd.MultiIndex.from_arrays([s, u])
    row_codes = ucode_pairs[pairs.get_indexer(m)]
    units = _Units(d, int(counts[0]), int(counts[1]), float(counts[2]), U)
    return units, np.asarray(row_codes, dtype=np.int64)


def _describe(units: _Units) -> dict:
    d = units.design
    return {"n": units.n, "n_psu": units.n_psu, "n_strata": d.n_strata, "df": d.df, "sum_weights": units.sum_w,
            "fpc": d.fpc1 is not None, "two_stage_fpc": False, "lonely_psu": d.lonely_psu,
            "variance": "linearisation", "engine": "dask (PSU sufficient statistics)"}


class _DescribedDesign:
    """Adapter so :func:`make_table` reports the row-level design, not the PSU one."""

    def __init__(self, units: _Units | None, info: dict | None = None, df: float | None = None):
        self.df = units.design.df if units is not None else df
        self._d = _describe(units) if units is not None else dict(info)

    def describe(self) -> dict:
        return self._d


def _linear_estimate(ds: DaskSurvey, spec: _Linear, by, na_rm: bool, extra_cols=()):
    """Run the reduction; return (est (D*K,), V, srs (D*K,D*K) gram, units, domain labels, K)."""
    ds._check()
    cols = ds.design_columns + list(spec.numeric) + list(extra_cols) + ([by] if by is not None else [])
    parts = [delayed(_linear_partition)(p, ds.cfg, spec, by, na_rm) for p in _partitions(ds, cols)]
    res = dask.compute(_tree_reduce(parts, _combine_linear))[0]
    if res.get("problems"):
        _raise_problems(res["problems"], ds)
    unit = res["unit"]
    units, rcodes = _unit_design(ds, unit.index, res["fpc"], res["counts"])
    dlab_all = unit.index.get_level_values(2)
    dcodes, dlabels = pd.factorize(pd.Series(dlab_all), sort=True)
    D, U = len(dlabels), units.n_psu
    m = unit.shape[1]
    S = np.zeros((U, D, m))
    np.add.at(S, (rcodes, dcodes), unit.to_numpy())
    num = np.asarray(spec.cells_num)
    den = np.asarray(spec.cells_den)
    K = num.size
    is_tot = den < 0
    Yn = S[:, :, num].sum(0)  # (D, K)
    Yd = np.where(is_tot[None, :], 1.0, S[:, :, np.where(is_tot, 0, den)].sum(0))
    with np.errstate(divide="ignore", invalid="ignore"):
        est = np.where(is_tot[None, :], Yn, Yn / Yd)  # (D, K)
        Sd = np.where(is_tot[None, None, :], 0.0, S[:, :, np.where(is_tot, 0, den)])
        T = (S[:, :, num] - est[None] * Sd) / Yd[None]  # (U, D, K)
    est = est.ravel()
    V = units.design.vcov(est, T.reshape(U, D * K))
    # Gram matrix of the influence values: z_c = a_c' v within its domain
    mom = res["mom"].reindex(pd.Index(dlabels))
    M = mom.to_numpy()[:, :m]
    Q = mom.to_numpy()[:, m:m + m * m].reshape(D, m, m)
    npos = mom.to_numpy()[:, m + m * m]  # rows with positive weight per domain; M[:, 0] its population
    A = np.zeros((D, K, m))
    G = np.zeros((D * K, D * K))
    s1 = np.zeros(D * K)
    # an empty domain (zero denominator) has NaN coefficients: its estimate and design
    # effect are NaN, as on the in-memory path, without a numpy warning
    with np.errstate(divide="ignore", invalid="ignore"):
        for c in range(K):
            A[:, c, num[c]] += 1.0 / Yd[:, c]
            if not is_tot[c]:
                A[:, c, den[c]] -= est.reshape(D, K)[:, c] / Yd[:, c]
        for d in range(D):
            sl = slice(d * K, (d + 1) * K)
            G[sl, sl] = A[d] @ Q[d] @ A[d].T
            s1[sl] = A[d] @ M[d]
    return est, V, (G, s1, np.repeat(np.arange(D), K), npos, M[:, 0]), units, np.asarray(dlabels, dtype=object), K


def _srs_diag(units: _Units, gram, C=None, replace: bool = False) -> np.ndarray:
    """R survey's deff denominator from the Gram matrix of influence values (as
    :meth:`Design.srs_variance`): an estimate within one domain uses the domain's sample
    size and population (R's ``svyby(..., deff=TRUE)``), others the whole sample's.

    ``gram = (G, s1)`` (whole sample) or ``(G, s1, domain of every column, n_d, W_d)``."""
    G, s1 = gram[:2]
    nk = np.full(s1.size, float(units.n_pos))
    Wk = np.full(s1.size, float(units.sum_w))
    if len(gram) == 5:
        col_dom, nd, Wd = gram[2:]
        dom = col_dom
        if C is not None:  # a transformed estimate is within a domain if all its terms are
            nzd = [np.unique(col_dom[np.flatnonzero(row)]) for row in C]
            dom = np.array([u[0] if u.size == 1 else -1 for u in nzd], dtype=np.int64)
        one = dom >= 0
        nk = np.where(one, nd[np.maximum(dom, 0)], units.n_pos)
        Wk = np.where(one, Wd[np.maximum(dom, 0)], units.sum_w)
    if C is not None:
        G, s1 = C @ G @ C.T, C @ s1
    return srs_variance_from_moments(s1, np.diag(G), nk, Wk, replace=replace)


def _table(units, keys, est, V, gram, *, C=None, title, notes, ci_level=0.95, dist="t",
           deff: bool | str = False) -> EstimateTable:
    if C is not None:
        est, V = C @ est, C @ V @ C.T
    extra = None
    if deff:  # design effects on request, as the in-memory estimators (R survey's default)
        vs = _srs_diag(units, gram, C, replace=deff == "replace")
        with np.errstate(divide="ignore", invalid="ignore"):
            extra = pd.DataFrame({"deff": np.diag(V) / vs})
    return make_table(keys, est, V, _DescribedDesign(units), level=ci_level, dist=dist, title=title,
                      notes=tuple(notes) + ("engine: dask, PSU sufficient statistics (exact)",), extra=extra)


def _byname(by):
    return by if by is not None else "domain"


def _dlabels(dlabels, by):
    return ["all" if (by is None and d == _ALL) else d for d in dlabels]


# ====================================================================== public: means, totals
def _as_list(v) -> list[str]:
    return [v] if isinstance(v, str) else list(v)


def mean(ds: DaskSurvey, variables, by: str | None = None, *, na_rm: bool = False, ci_level: float = 0.95,
         dist: str = "t", deff: bool | str = False) -> EstimateTable:
    """Weighted (Hajek) means with linearised SEs, as :func:`remitpov.estimation.mean`."""
    names = _as_list(variables)
    k = len(names)
    spec = _Linear(values=lambda pdf, ok: np.column_stack([np.ones(len(pdf))] + [
        pd.to_numeric(pdf[c], errors="coerce").to_numpy(float) for c in names]),
        numeric=tuple(names), cells_num=tuple(range(1, k + 1)), cells_den=(0,) * k)
    est, V, gram, units, dl, K = _linear_estimate(ds, spec, by, na_rm)
    keys = pd.DataFrame([{"measure": "mean", "variable": v, _byname(by): d} for d in _dlabels(dl, by) for v in names])
    return _table(units, keys, est, V, gram, title="Mean", notes=(), ci_level=ci_level, dist=dist,
                  deff=deff)


def total(ds: DaskSurvey, variables, by: str | None = None, *, na_rm: bool = False, ci_level: float = 0.95,
          dist: str = "t", deff: bool | str = False) -> EstimateTable:
    """Weighted totals with linearised SEs, as :func:`remitpov.estimation.total`."""
    names = _as_list(variables)
    k = len(names)
    spec = _Linear(values=lambda pdf, ok: np.column_stack([np.ones(len(pdf))] + [
        pd.to_numeric(pdf[c], errors="coerce").to_numpy(float) for c in names]),
        numeric=tuple(names), cells_num=tuple(range(1, k + 1)), cells_den=(-1,) * k)
    est, V, gram, units, dl, K = _linear_estimate(ds, spec, by, na_rm)
    keys = pd.DataFrame([{"measure": "total", "variable": v, _byname(by): d} for d in _dlabels(dl, by) for v in names])
    return _table(units, keys, est, V, gram, title="Total", notes=(), ci_level=ci_level, dist=dist,
                  deff=deff)


def ratio(ds: DaskSurvey, numerator: str, denominator: str, by: str | None = None, *, na_rm: bool = False,
          ci_level: float = 0.95, dist: str = "t", deff: bool | str = False) -> EstimateTable:
    """Ratio of totals ``sum w y / sum w x`` with linearised SEs (R's ``svyratio``)."""
    spec = _Linear(values=lambda pdf, ok: np.column_stack([np.ones(len(pdf))] + [
        pd.to_numeric(pdf[c], errors="coerce").to_numpy(float) for c in (numerator, denominator)]),
        numeric=(numerator, denominator), cells_num=(1,), cells_den=(2,))
    est, V, gram, units, dl, K = _linear_estimate(ds, spec, by, na_rm)
    keys = pd.DataFrame([{"measure": "ratio", "variable": f"{numerator}/{denominator}", _byname(by): d}
                         for d in _dlabels(dl, by)])
    return _table(units, keys, est, V, gram, title="Ratio", notes=(), ci_level=ci_level, dist=dist,
                  deff=deff)


# ====================================================================== public: poverty
def _line_spec(line):
    if isinstance(line, str):
        return line, line
    if np.ndim(line) == 0:
        zv = float(line)
        if not (np.isfinite(zv) and zv > 0):
            raise InputError(f"poverty line must be a finite positive number, got {line!r}")
        return (int(zv) if zv.is_integer() else zv), None
    raise InputError("distributed fgt takes a scalar line or the name of a line column "
                     "(relative lines: compute the quantile first with remitpov.distributed.quantile)")


def _poverty(ds, incomes: Mapping[str, str], line, alphas, by, *, strict, na_rm, headcount_total, contrast,
             ci_level, dist, title, deff=False):
    names = list(incomes)
    cols = [incomes[k] for k in names]
    label, line_col = _line_spec(line)
    cells = []  # (concept index, alpha or 'total')
    for ci in range(len(names)):
        for a in alphas:
            cells.append((ci, a, False))
        if headcount_total:
            cells.append((ci, 0.0, True))

    def values(pdf, ok):
        n = len(pdf)
        z = (np.full(n, float(label)) if line_col is None
             else np.where(ok, pd.to_numeric(pdf[line_col], errors="coerce").to_numpy(float), 1.0))
        if line_col is not None:
            bad = ok & ~(np.isfinite(z) & (z > 0))
            if bad.any():
                raise InputError(f"poverty line {line_col!r} is missing, zero or negative in {int(bad.sum())} rows "
                                 f"(e.g. rows labelled {', '.join(_examples(pdf.index, bad))}); every unit needs a "
                                 "positive line")
        out = np.empty((n, len(cells) + 1))
        out[:, 0] = 1.0
        Y = [pd.to_numeric(pdf[c], errors="coerce").to_numpy(float) for c in cols]
        allok = ok.all()
        for j, (ci, a, tot) in enumerate(cells):
            out[:, j + 1] = _g(Y[ci] if allok else np.where(ok, Y[ci], 0.0), z, a, strict)
        return out

    K = len(cells)
    spec = _Linear(values=values, numeric=tuple(cols), cells_num=tuple(range(1, K + 1)),
                   cells_den=tuple(-1 if c[2] else 0 for c in cells))
    est, V, gram, units, dl, _ = _linear_estimate(ds, spec, by, na_rm, extra_cols=[line_col] if line_col else [])
    rows = []
    for d in _dlabels(dl, by):
        for ci, a, tot in cells:
            rows.append({"measure": "headcount_total" if tot else f"fgt{a:g}", "concept": names[ci], "line": label,
                         _byname(by): d})
    keys = pd.DataFrame(rows)
    C = None
    notes = ["poor if income " + ("< line (strict)" if strict else "<= line (weak)")]
    if contrast is not None:
        first = [i for i, r in enumerate(rows) if r["concept"] == names[0]]
        Cd = np.zeros((len(first), len(rows)))
        per = len(cells) // 2
        for j, i in enumerate(first):
            Cd[j, i] = 1.0
            Cd[j, i + per] = -1.0
        C = np.vstack([np.eye(len(rows)), Cd])
        ck = keys.iloc[first].copy()
        ck["concept"] = contrast
        keys = pd.concat([keys, ck], ignore_index=True)
        notes.append(f"difference = {names[0]} minus {names[1]} (same sample, joint vcov)")
    return _table(units, keys, est, V, gram, C=C, title=title, notes=notes, ci_level=ci_level, dist=dist, deff=deff)


def fgt(ds: DaskSurvey, income: str, line, alpha=(0, 1, 2), by: str | None = None, *, strict: bool = True,
        na_rm: bool = False, headcount_total: bool = True, concept: str | None = None, ci_level: float = 0.95,
        dist: str = "t", deff: bool | str = False) -> EstimateTable:
    """FGT indices with linearised SEs, as :func:`remitpov.poverty.fgt` (same keys and values).

    Parameters
    ----------
    ds : DaskSurvey
    income : str
        Income column (per person).
    line : float or str
        A scalar line or a column with one line per row. Relative lines: compute the
        quantile with :func:`quantile` and pass the value (its variability is then not
        in the SE).
    alpha, by, strict, na_rm, headcount_total, concept, deff
        As :func:`remitpov.poverty.fgt`.
    """
    return _poverty(ds, {concept or income: income}, line, _alphas(alpha), by, strict=strict, na_rm=na_rm,
                    headcount_total=headcount_total, contrast=None, ci_level=ci_level, dist=dist,
                    title="FGT poverty indices", deff=deff)


def compare(ds: DaskSurvey, incomes: Mapping[str, str], line, alpha=(0, 1, 2), by: str | None = None, *,
            strict: bool = True, na_rm: bool = False, headcount_total: bool = False, label: str | None = None,
            ci_level: float = 0.95, dist: str = "t", deff: bool | str = False) -> EstimateTable:
    """FGT under two income concepts and their difference, as :func:`remitpov.poverty.compare`.

    ``incomes = {"with": "income", "without": "income_norem"}`` (column names; build a
    counterfactual column with :meth:`DaskSurvey.assign`). The difference is FIRST minus
    SECOND, its SE from the joint variance (same sample).
    """
    if incomes is None or len(incomes) != 2:
        raise InputError("compare needs exactly two income concepts, e.g. {'with': 'y', 'without': 'y_norem'}")
    names = list(incomes)
    return _poverty(ds, dict(incomes), line, _alphas(alpha), by, strict=strict, na_rm=na_rm,
                    headcount_total=headcount_total, contrast=label or f"{names[0]} - {names[1]}",
                    ci_level=ci_level, dist=dist, title=f"Poverty: {names[0]} vs {names[1]}", deff=deff)


# ====================================================================== ranks: buckets
def _sample_partition(pdf, ds, income, by, na_rm, k, seed):
    w, ok, probs = _validate(pdf, ds, [income], na_rm)
    dom = _domain_values(pdf, by)
    if probs:
        return {"problems": probs}
    y = pd.to_numeric(pdf[income], errors="coerce").to_numpy(float)[ok]
    rng = np.random.default_rng(seed + len(pdf))
    samp = y if y.size <= k else rng.choice(y, size=k, replace=False)
    return {"sample": np.sort(samp), "domains": pd.unique(dom), "n": len(pdf), "problems": {}}


def _combine_sample(parts):
    probs: dict = {}
    for p in parts:
        probs = _merge_problems(probs, p.get("problems", {}))
    if probs:
        return {"problems": probs}
    return {"sample": np.sort(np.concatenate([p["sample"] for p in parts])),
            "domains": pd.unique(np.concatenate([np.asarray(p["domains"], dtype=object) for p in parts])),
            "n": sum(p["n"] for p in parts), "problems": {}}


def _bucket(y, bounds):
    """Bucket of every value: equal values always share a bucket."""
    return np.searchsorted(bounds, y, side="right")


def _bucket_partition(pdf, ds, income, by, na_rm, bounds, dlabels):
    w, ok, _ = _validate(pdf, ds, [income], na_rm)
    y = pd.to_numeric(pdf[income], errors="coerce").to_numpy(float)
    d = pd.Index(dlabels).get_indexer(_domain_values(pdf, by))
    we = np.where(ok, w, 0.0)
    yy = np.where(ok, y, 0.0)
    B = len(bounds) + 1
    key = _bucket(yy, bounds) * len(dlabels) + d
    out = _group_sum(key, np.column_stack([np.ones_like(yy), yy]), B * len(dlabels), we)
    out = np.column_stack([out, np.bincount(key, weights=(we > 0).astype(float), minlength=B * len(dlabels))])
    return out.reshape(B, len(dlabels), 3)  # weight, weight*y, count of positive-weight rows


def _add(parts):
    return np.sum(parts, axis=0)


def _prepare_ranks(ds: DaskSurvey, income: str, by, na_rm: bool, buckets: int | None, seed: int = 12345):
    ds._check()
    cols = ds.design_columns + [income] + ([by] if by is not None else [])
    parts = _partitions(ds, cols)
    k = 2000
    samp = dask.compute(_tree_reduce([delayed(_sample_partition)(p, ds.cfg, income, by, na_rm, k, seed) for p in parts],
                                     _combine_sample))[0]
    if samp.get("problems"):
        _raise_problems(samp["problems"], ds)
    dlabels = np.asarray(sorted(samp["domains"]), dtype=object)
    nb = buckets or max(4 * len(parts), 8)
    s = samp["sample"]
    bounds = np.unique(np.quantile(s, np.linspace(0, 1, nb + 1)[1:-1])) if s.size else np.zeros(0)
    tot = dask.compute(_tree_reduce([delayed(_bucket_partition)(p, ds.cfg, income, by, na_rm, bounds, dlabels)
                                     for p in parts], _add))[0]
    return parts, dlabels, bounds, tot, cols, samp["n"]


# ---------------------------------------------------------------------- quantiles
def _collect_partition(pdf, ds, income, by, na_rm, bounds, dlabels, wanted):
    w, ok, _ = _validate(pdf, ds, [income], na_rm)
    y = pd.to_numeric(pdf[income], errors="coerce").to_numpy(float)
    d = pd.Index(dlabels).get_indexer(_domain_values(pdf, by))
    keep = ok & (w > 0) & np.isin(_bucket(np.where(ok, y, 0.0), bounds) * len(dlabels) + d, wanted)
    return pd.DataFrame({"y": y[keep], "w": w[keep], "d": d[keep]})


def quantile(ds: DaskSurvey, income: str, probs=(0.5,), by: str | None = None, *, rule: str = "math",
             na_rm: bool = False, buckets: int | None = None) -> EstimateTable:
    """Exact weighted quantiles (point estimates) by the bucketed two-pass scheme.

    ``rule="math"``: smallest ``y`` with ``F(y) >= p`` (R survey's default, equal to
    :func:`remitpov.inequality.quantile` with ``rule="math"``); ``rule="laeken"``: smallest
    ``y`` with ``F(y) > p`` (laeken's ``weightedQuantile``). Rows with zero weight are
    ignored. The result has NaN standard errors (point estimates only).
    """
    if rule not in ("math", "laeken"):
        raise InputError(f"distributed quantile supports rule='math' or 'laeken', got {rule!r}")
    pr = np.atleast_1d(np.asarray(probs, dtype=float))
    if ((pr <= 0) | (pr >= 1)).any():
        raise InputError(f"quantile orders must be strictly between 0 and 1, got {list(pr)}")
    parts, dlabels, bounds, tot, _, n_rows = _prepare_ranks(ds, income, by, na_rm, buckets)
    D = len(dlabels)
    Wb = tot[:, :, 0]  # (B, D)
    cum = np.cumsum(Wb, axis=0)
    W = cum[-1]
    target = {}  # (j, d) -> (bucket, weight before bucket)
    wanted = set()
    for d in range(D):
        for j, p in enumerate(pr):
            hit = (cum[:, d] >= p * W[d]) if rule == "math" else (cum[:, d] / W[d] > p)
            hit &= tot[:, d, 2] > 0
            b = int(np.argmax(hit)) if hit.any() else int(np.flatnonzero(tot[:, d, 2] > 0)[-1])
            target[j, d] = (b, cum[b, d] - Wb[b, d])
            wanted.add(b * D + d)
    wanted = np.array(sorted(wanted))
    rows = dask.compute(*[delayed(_collect_partition)(p, ds.cfg, income, by, na_rm, bounds, dlabels, wanted)
                          for p in parts])
    got = pd.concat(rows, ignore_index=True)
    bk = _bucket(got["y"].to_numpy(), bounds)
    est = np.empty(D * len(pr))
    for d in range(D):
        for j, p in enumerate(pr):
            b, before = target[j, d]
            sel = (bk == b) & (got["d"].to_numpy() == d)
            ys, ws = got["y"].to_numpy()[sel], got["w"].to_numpy()[sel]
            o = np.argsort(ys, kind="stable")
            ys, cw = ys[o], before + np.cumsum(ws[o])
            hit = (cw >= p * W[d]) if rule == "math" else (cw / W[d] > p)
            est[d * len(pr) + j] = ys[np.argmax(hit)] if hit.any() else ys[-1]
    keys = pd.DataFrame([{"measure": "quantile", "variable": income, "p": p, _byname(by): dl}
                         for dl in _dlabels(dlabels, by) for p in pr])
    k = len(est)
    design = _DescribedDesign(None, {"n": int(n_rows), "variance": "none (point estimates)",
                                     "engine": "dask, exact bucketed two-pass"}, df=np.nan)
    return make_table(keys, est, np.full((k, k), np.nan), design, title="Quantiles",
                      notes=(f"quantile rule {rule!r}; exact (bucketed two-pass); point estimates only",))


# ---------------------------------------------------------------------- Gini
def _gini_partition(pdf, ds, income, by, na_rm, bounds, dlabels, offW, offY, N, Ty):
    """Per (stratum, psu, domain): sums of w, w y, w (y F + (Ty - L)/N), and sum w y F."""
    w, ok, _ = _validate(pdf, ds, [income], na_rm)
    y = np.where(ok, pd.to_numeric(pdf[income], errors="coerce").to_numpy(float), 0.0)
    w = np.where(ok, w, 0.0)
    d = pd.Index(dlabels).get_indexer(_domain_values(pdf, by))
    b = _bucket(y, bounds)
    n = len(pdf)
    # sort by (domain, bucket, y): tie blocks are (domain, y); buckets are whole here
    o = np.lexsort((y, b, d))
    ys, ws, bs, ds_ = y[o], w[o], b[o], d[o]
    start = np.ones(n, dtype=bool)
    if n > 1:
        start[1:] = (ys[1:] != ys[:-1]) | (ds_[1:] != ds_[:-1])
    st = np.flatnonzero(start)
    blk = np.cumsum(start) - 1
    X = np.column_stack([ws, ws * ys])
    bsum = np.add.reduceat(X, st, axis=0) if n else np.zeros((0, 2))
    cs = np.cumsum(bsum, axis=0) - bsum  # sum strictly before the block, within this partition
    # subtract what lies before the block's (domain, bucket) group in this partition
    gstart = np.ones(len(st), dtype=bool)
    if len(st) > 1:
        gstart[1:] = (bs[st][1:] != bs[st][:-1]) | (ds_[st][1:] != ds_[st][:-1])
    g_id = np.cumsum(gstart) - 1
    g_first = np.flatnonzero(gstart)
    cs = cs - cs[g_first][g_id]
    mid = (cs + bsum / 2.0)[blk]  # within-bucket mid cumulative sums (sorted order)
    Fw = offW[bs, ds_] + mid[:, 0]
    L = offY[bs, ds_] + mid[:, 1]
    Nd, Td = N[ds_], Ty[ds_]
    with np.errstate(divide="ignore", invalid="ignore"):
        F = Fw / Nd
        a1 = ys * F + (Td - L) / Nd
    vals = np.column_stack([np.ones(n), ys, a1, ys * F, a1 * a1, a1 * ys, ys * ys])
    strata = pdf[ds.strata].to_numpy()[o] if ds.strata is not None else np.zeros(n, dtype=np.int64)
    codes, uniq, _, _ = _keys3(strata, pdf[ds.psu].to_numpy()[o], np.asarray(dlabels, dtype=object)[ds_])
    sums = _group_sum(codes, vals, len(uniq), ws)
    return pd.DataFrame(sums, index=uniq, columns=["w", "wy", "a1", "A", "a1a1", "a1y", "yy"])


def _combine_frames(parts):
    return pd.concat(parts).groupby(level=[0, 1, 2], sort=False).sum()


def gini(ds: DaskSurvey, income: str, by: str | None = None, *, na_rm: bool = False, buckets: int | None = None,
         ci_level: float = 0.95, dist: str = "t", shuffle_method: str | None = None) -> EstimateTable:
    """Exact weighted Gini with its linearised SE, as :func:`remitpov.inequality.gini`.

    ``G = 2 sum w y F / (N mu) - 1`` with weighted mid-ranks ``F`` (tie-order invariant;
    laeken's formula on the 0--1 scale); influence values (Langel & Tille 2013)
    ``z_i = 2 (y_i F_i + (T - L_i)/N - A/N) / T - 2 A y_i / T^2`` (``A = sum w y F``,
    ``T = sum w y``, ``L_i`` the mid cumulative sum of ``w y``). Exact, in three passes
    over the data plus one shuffle by income bucket (module docstring). Domains use only
    their units for ``F``, zero influence outside, the full design for the variance.
    """
    parts, dlabels, bounds, tot, cols, n_rows = _prepare_ranks(ds, income, by, na_rm, buckets)
    D = len(dlabels)
    Wb, Yb = tot[:, :, 0], tot[:, :, 1]
    offW = np.cumsum(Wb, axis=0) - Wb
    offY = np.cumsum(Yb, axis=0) - Yb
    N, Ty = Wb.sum(0), Yb.sum(0)
    if (tot[:, :, 2].sum(0) < 1).any():
        raise InputError(f"gini: a domain of {by!r} has no usable observation")
    if not (Ty > 0).all():
        bad = np.asarray(dlabels)[~(Ty > 0)][0]
        raise InputError(f"gini: the weighted mean income of {income!r} is <= 0 in {_byname(by)}={bad!r}; "
                         "the Gini is undefined")
    # shuffle rows so that every bucket is whole in one partition
    data = ds.data[list(dict.fromkeys(cols))]
    bcol = "__rp_bucket__"
    yv = data[income]
    data = data.assign(**{bcol: yv.map_partitions(lambda s: pd.Series(
        _bucket(np.nan_to_num(pd.to_numeric(s, errors="coerce").to_numpy(float), nan=0.0), bounds), index=s.index),
        meta=(bcol, "int64"))})
    kw = {} if shuffle_method is None else {"shuffle_method": shuffle_method}
    shuffled = data.shuffle(on=bcol, npartitions=data.npartitions, **kw)
    sp = shuffled.to_delayed()
    frames = [delayed(_gini_partition)(p, ds.cfg, income, by, na_rm, bounds, dlabels, offW, offY, N, Ty)
              for p in sp]
    unit = dask.compute(_tree_reduce(frames, _combine_frames))[0]
    fpc = None
    if ds.fpc is not None:
        fpc = dask.compute(_tree_reduce([delayed(_fpc_partition)(p, ds.cfg) for p in _partitions(ds, [ds.strata, ds.fpc])],
                                        _combine_fpc))[0]
    counts = np.array([n_rows, tot[:, :, 2].sum(), N.sum()])
    units, rcodes = _unit_design(ds, unit.index, fpc, counts)
    dcodes = pd.Index(dlabels).get_indexer(unit.index.get_level_values(2))
    U = units.n_psu
    S = np.zeros((U, D, 7))
    np.add.at(S, (rcodes, dcodes), unit.to_numpy())
    A = S[:, :, 3].sum(0)  # (D,)
    est = 2 * A / Ty - 1
    T = 2 * S[:, :, 2] / Ty - (2 * A / Ty) * (S[:, :, 0] / N + S[:, :, 1] / Ty)  # (U, D)
    V = units.design.vcov(est, T)
    # design effect: z = al a1 + be + ga y in the domain, Gram matrix from the moments
    Sm = S.sum(0)  # (D, 7)
    al, be, ga = 2 / Ty, -2 * A / (Ty * N), -2 * A / Ty**2
    zz = (al**2 * Sm[:, 4] + be**2 * Sm[:, 0] + ga**2 * Sm[:, 6] + 2 * al * be * Sm[:, 2]
          + 2 * al * ga * Sm[:, 5] + 2 * be * ga * Sm[:, 1])
    z1 = al * Sm[:, 2] + be * Sm[:, 0] + ga * Sm[:, 1]
    # every estimate is within its domain: the domain's sample size and population (R's svyby)
    vs = _srs_diag(units, (np.diag(zz), z1, np.arange(D), tot[:, :, 2].sum(0).astype(float), np.asarray(N, float)))
    keys = pd.DataFrame([{"measure": "gini", "variable": income, _byname(by): d} for d in _dlabels(dlabels, by)])
    return make_table(keys, est, V, _DescribedDesign(units), level=ci_level, dist=dist, title="Gini coefficient",
                      notes=("Gini on the 0-1 scale (laeken reports percent)", "weighted mid-ranks, tie-order invariant",
                             "engine: dask, exact bucketed ranks (shuffle by income bucket)"),
                      extra=pd.DataFrame({"deff": np.diag(V) / vs, "n_obs": tot[:, :, 2].sum(0)}))


def _fpc_partition(pdf, ds):
    return pd.DataFrame({"f": pd.to_numeric(pdf[ds.fpc]).to_numpy(float), "s": pdf[ds.strata].to_numpy()}) \
        .groupby("s")["f"].agg(["min", "max"])


def _combine_fpc(parts):
    return pd.concat(parts).groupby(level=0).agg({"min": "min", "max": "max"})


# ====================================================================== entry from the in-memory API
def is_dask_survey(obj) -> bool:
    """True for a :class:`DaskSurvey` (without importing dask)."""
    return isinstance(obj, DaskSurvey)


def from_memory_call(name: str, memory_fn: Callable, ds: DaskSurvey, args: tuple, kwargs: Mapping[str, Any]):
    """Run ``remitpov.distributed.<name>`` for an in-memory estimator called on a DaskSurvey.

    ``remitpov.fgt(dask_survey, ...)`` (and ``compare``, ``mean``, ``total``, ``ratio``,
    ``gini``, ``quantile``) land here: options both functions know are passed on as given
    (so e.g. a quantile rule the Dask path lacks raises there, never silently changes);
    options only the in-memory function has are dropped when left at their default and
    refused otherwise, with the reason.
    """
    import inspect

    fn = globals()[name]
    dask_params = inspect.signature(fn).parameters
    mem_params = inspect.signature(memory_fn).parameters
    call = {}
    for k, v in kwargs.items():
        if k in dask_params:
            call[k] = v
            continue
        default = mem_params[k].default if k in mem_params else inspect.Parameter.empty
        same = v is default
        if not same:
            try:
                same = bool(v == default)
            except (TypeError, ValueError):
                same = False
        if not same:
            raise InputError(f"{name}(): option {k}={v!r} is not available for a DaskSurvey "
                             f"(remitpov.distributed.{name} supports {sorted(p for p in dask_params if p != 'ds')}); "
                             "drop it, or load the data into memory with remitpov.Survey")
    return fn(ds, *args, **call)
