"""The backend protocol: what every engine produces, and the one way it becomes a table.

An *engine* (in memory on a pandas frame, :mod:`remitpov.engines.memory`; on Dask,
:mod:`remitpov.engines.dask`; inside DuckDB, :mod:`remitpov.engines.duckdb`) reads the
rows wherever they are and returns :class:`UnitSums`: for every (stratum, PSU,
second-stage unit, domain) the sums of ``w b`` of the measure's row-level basis ``b``
(:mod:`remitpov.engines.basis`), plus per domain the Gram matrix ``sum w b b'``, the
rows with positive weight and the sum of weights (design effects), the fpc values per
stratum / PSU, and the row counts. Nothing else about the rows is needed: the
linearised variance depends on the data only through the PSU (and SSU) totals of
``w z``, and ``z`` is linear in ``b`` with coefficients that depend on the domain only.

Then, engine-independent (``sums -> finalise``):

1. :func:`collapse` turns :class:`UnitSums` into a :class:`~remitpov.design.Design` whose
   rows are the sampled units (weights 1, the same strata / PSU / SSU labels, fpc and
   lonely-PSU policy, and -- if asked -- the same generated replicate weights: replicate
   factors are per PSU) and a :class:`~remitpov.design.InfluenceSums` on it;
2. :func:`finish_linear` evaluates ratios / totals and their factored influence
   coefficients as a :class:`~remitpov.core.statistic.Statistic` and hands it to the ONE
   finaliser (:func:`remitpov.core.statistic.finalise`: the factored variance, or the
   replicate path with the PSU totals); design effects from the Gram matrices with the
   rows' (not the units') sample size and population.

``finish_linear`` is kept here (not in :mod:`remitpov.poverty`) so that the engines
import nothing from the estimator modules.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
import pandas as pd

from ..design import Design, InfluenceSums, group_sum, srs_variance_from_moments
from ..exceptions import InputError
from ..core.domains import total_label as _core_total_label
from ..core.statistic import Statistic, finalise
from ..results import EstimateTable

__all__ = ["DesignSpec", "UnitSums", "combine", "collapse", "Cells", "finish_linear", "DescribedDesign",
           "domain_keys", "finish_sums", "finish_collapsed", "ALL"]

#: domain label of the whole sample when there is no ``by``
ALL = "__all__"
#: level names of :attr:`UnitSums.unit`'s index: stratum, PSU, second-stage unit, domain
LEVELS = ("s", "u", "v", "d")


@dataclass(frozen=True)
class DesignSpec:
    """The design columns of an out-of-memory survey (no data: shipped to workers).

    ``replicates``: ``(kind, R, seed, rho, mse)`` for replicate weights generated from the
    design (as :meth:`remitpov.survey.Survey.with_replicates`), or None.
    """

    weight: str
    strata: str | None = None
    psu: str | None = None
    fpc: str | None = None
    ssu: str | None = None
    fpc2: str | None = None
    size: str | None = None
    nest: bool = False
    lonely_psu: str = "error"
    replicates: tuple | None = None

    @property
    def columns(self) -> list[str]:
        return [c for c in (self.weight, self.strata, self.psu, self.fpc, self.ssu, self.fpc2, self.size)
                if c is not None]

    @property
    def two_stage(self) -> bool:
        return self.ssu is not None or self.fpc2 is not None

    def check(self, available) -> None:
        cols = set(map(str, available))
        for role in ("weight", "strata", "psu", "fpc", "ssu", "fpc2", "size"):
            c = getattr(self, role)
            if c is not None and c not in cols:
                raise InputError(f"{role} column {c!r} not found; available: {sorted(cols)[:40]}")
        if self.psu is None:
            raise InputError("out-of-memory estimators need a psu column: the PSU is the unit of the reduction "
                             "(an unclustered design would keep one row per person on the driver); use the "
                             "in-memory estimators, or pass a cluster column")
        if self.two_stage and (self.ssu is None or self.fpc2 is None):
            raise InputError("two-stage fpc needs both ssu (second-stage unit labels) and fpc2")
        if self.replicates is not None and self.replicates[0] == "mrbbootstrap" and self.two_stage:
            raise InputError("mrbbootstrap replicates with a two-stage fpc are per row, not per PSU: use the "
                             "in-memory Survey, or another replicate kind")


@dataclass(frozen=True, eq=False)
class UnitSums:
    """What an engine produces for a set of basis variables (``m`` columns).

    Attributes
    ----------
    unit : DataFrame
        Index (stratum, PSU, SSU, domain) (levels ``s, u, v, d``; ``s``/``v`` are 0 without
        strata / second stage); columns ``b0..b{m-1}``: sums of ``w b``.
    dom : DataFrame
        Index: domain label; columns ``g0..g{m*m-1}`` (Gram matrix ``sum w b b'``, only if
        asked), ``n_pos`` (rows with positive weight) and ``wsum`` (sum of weights).
    fpc : DataFrame or None
        Index stratum; columns ``min``, ``max`` of the fpc column (must be equal).
    fpc2 : DataFrame or None
        Index (stratum, PSU); columns ``min``, ``max`` of the fpc2 column.
    n_rows : int
        Rows read (all of them, including zero-weight ones).
    """

    unit: pd.DataFrame
    dom: pd.DataFrame
    fpc: pd.DataFrame | None
    fpc2: pd.DataFrame | None
    n_rows: int

    @property
    def m(self) -> int:
        return self.unit.shape[1]


def _minmax(frames):
    fr = [f for f in frames if f is not None]
    if not fr:
        return None
    lv = list(range(fr[0].index.nlevels))
    return pd.concat(fr).groupby(level=lv).agg({"min": "min", "max": "max"})


def combine(parts: Sequence[UnitSums]) -> UnitSums:
    """Add partial :class:`UnitSums` (partitions of the rows): sums add, fpc ranges merge."""
    parts = list(parts)
    if len(parts) == 1:
        return parts[0]
    unit = pd.concat([p.unit for p in parts]).groupby(level=[0, 1, 2, 3], sort=False).sum()
    dom = pd.concat([p.dom for p in parts]).groupby(level=0, sort=False).sum()
    return UnitSums(unit, dom, _minmax([p.fpc for p in parts]), _minmax([p.fpc2 for p in parts]),
                    sum(p.n_rows for p in parts))


def _factorize_units(ukey: pd.MultiIndex):
    """``pd.factorize(ukey)`` (codes in order of first appearance, and the distinct keys) from
    the level codes, without building a tuple per row."""
    sizes = [len(lv) + 1 for lv in ukey.levels]
    if float(np.prod(np.asarray(sizes, dtype=float))) >= 2.0**62:
        return pd.factorize(ukey)
    combined = np.zeros(len(ukey), dtype=np.int64)
    for c, size in zip(ukey.codes, sizes):
        combined *= size
        combined += np.asarray(c, dtype=np.int64) + 1  # missing labels are coded -1
    codes, uniq = pd.factorize(combined)
    first = np.empty(len(uniq), dtype=np.int64)
    first[codes[::-1]] = np.arange(len(codes) - 1, -1, -1)
    return codes, ukey[first]


def collapse(us: UnitSums, spec: DesignSpec, *, gram: bool = False) -> tuple[Design, InfluenceSums, np.ndarray]:
    """The design on the sampled units and the influence sums of the basis on it.

    Returns ``(design, sums, domain labels)``; domains sorted by label (as the in-memory
    estimators), ``sums`` with ``n_domains = len(labels)``.
    """
    idx = us.unit.index
    s, u, v, d = (idx.get_level_values(i) for i in range(4))
    dcodes, dlabels = pd.factorize(pd.Series(np.asarray(d, dtype=object)), sort=True)
    ukey = pd.MultiIndex.from_arrays([s, u, v])
    rcodes, runits = _factorize_units(ukey)
    rs, ru, rv = (runits.get_level_values(i) for i in range(3))
    R = len(runits)
    fpc = fpc2 = None
    if spec.fpc is not None:
        if us.fpc is None or (us.fpc["min"] != us.fpc["max"]).any():
            raise InputError(f"fpc column {spec.fpc!r} must be constant within each stratum")
        fpc = us.fpc["min"].reindex(pd.Index(rs)).to_numpy(dtype=float)
    if spec.two_stage:
        if us.fpc2 is None or (us.fpc2["min"] != us.fpc2["max"]).any():
            raise InputError(f"fpc2 column {spec.fpc2!r} must be constant within each PSU")
        fpc2 = us.fpc2["min"].reindex(pd.MultiIndex.from_arrays([rs, ru])).to_numpy(dtype=float)
    design = Design.from_arrays(np.ones(R), strata=None if spec.strata is None else np.asarray(rs),
                                psu=np.asarray(ru), fpc=fpc, ssu=None if fpc2 is None else np.asarray(rv),
                                fpc2=fpc2, nest=spec.nest, lonely_psu=spec.lonely_psu)
    if spec.replicates is not None:
        kind, n_rep, seed, rho, mse = spec.replicates
        design = design.with_replicates(kind, n_rep, seed, rho=rho, mse=mse)
    D, m = len(dlabels), us.m
    S = us.unit.to_numpy(dtype=float)
    P = design.n_psu
    psu = group_sum(design.psu[rcodes] * D + dcodes, S, P * D).reshape(P, D * m)
    ssu = None
    if design.fpc1 is not None and design.ssu is not None:
        n_ssu = int(design.ssu.max()) + 1
        ssu = group_sum(design.ssu[rcodes] * D + dcodes, S, n_ssu * D).reshape(n_ssu, D * m)
    dom = us.dom.reindex(pd.Index(np.asarray(dlabels, dtype=object)))
    g = None
    if gram:
        g = dom[[f"g{j}" for j in range(m * m)]].to_numpy(dtype=float).reshape(D, m, m)
    sums = InfluenceSums(n_domains=D, m=m, psu=psu, ssu=ssu, gram=g, n_pos=dom["n_pos"].to_numpy(dtype=float),
                         wsum=dom["wsum"].to_numpy(dtype=float))
    return design, sums, np.asarray(dlabels, dtype=object)


def finish_sums(res, spec, by, *, deff, total, engine):
    """Collapse engine output to the units' design; prepend the whole sample if ``total``."""
    design, sums, dl = collapse(res, spec, gram=bool(deff))
    info = {"n": int(res.n_rows), "n_pos": int(res.dom["n_pos"].sum()), "sum_weights": float(res.dom["wsum"].sum()),
            "engine": engine}
    return finish_collapsed(design, sums, dl, info, by, total=total)


def finish_collapsed(design, sums, dl, info, by, *, total):
    """:func:`finish_sums` after :func:`collapse` (an engine that builds the units' design itself)."""
    tl = total_label(total, by)
    if tl is not None:
        if (pd.Series(dl).astype(object) == tl).any():
            raise InputError(f"total={tl!r} is also a value of the domain variable {by!r}; give another label, "
                             "e.g. total='(total)'")
        sums = sums.with_total()
    return design, sums, domain_keys(dl, by, tl), info


# ---------------------------------------------------------------------- finalise
@dataclass(frozen=True)
class Cells:
    """Estimates per domain: ``num[k]`` / ``den[k]`` basis columns (``den[k] = -1``: a total)."""

    num: tuple[int, ...]
    den: tuple[int, ...]

    @property
    def k(self) -> int:
        return len(self.num)


class DescribedDesign:
    """Adapter so :func:`make_table` reports the row-level design, not the units' one."""

    def __init__(self, design: Design | None, info: dict, df: float | None = None):
        self.df = design.df if design is not None else df
        self._d = dict(info)
        if design is not None:
            d = design.describe()
            self._d.update({"n_psu": design.n_psu, "n_strata": d["n_strata"], "df": d["df"], "fpc": d["fpc"],
                            "two_stage_fpc": d["two_stage_fpc"], "lonely_psu": d["lonely_psu"],
                            "variance": d["variance"]})
            if "replicates" in d:
                self._d["replicates"] = d["replicates"]

    def describe(self) -> dict:
        return self._d


def _single_domain(A3: np.ndarray, total_first: bool) -> np.ndarray:
    nz = (A3 != 0).any(axis=1)
    dom = np.where(nz.sum(axis=0) == 1, nz.argmax(axis=0), -1)
    return np.where(dom == 0, -1, dom) if total_first else dom


def srs_variance(sums: InfluenceSums, A2: np.ndarray, n_all: float, w_all: float, *,
                 replace: bool = False) -> np.ndarray:
    """R survey's deff denominator of ``z_i = b_i A[d_i]`` from the Gram matrices, as
    :meth:`~remitpov.design.Design.srs_variance_factored` with ``within=True`` but with the
    whole sample's size and population of the ROWS (``n_all``, ``w_all``), not of the units."""
    A3 = A2.reshape(sums.n_domains, sums.m, -1)
    s1 = sums.psu.sum(axis=0) @ A2
    gram, Ae = sums.gram, A3
    if sums.total_first:
        Ae, gram = A3[1:] + A3[:1], gram[1:]
    s2 = (Ae * np.matmul(gram, Ae)).sum(axis=(0, 1))
    nk, Wk = np.full(s1.size, float(n_all)), np.full(s1.size, float(w_all))
    one = np.flatnonzero(_single_domain(A3, sums.total_first) >= 0)
    if one.size:
        d = _single_domain(A3, sums.total_first)[one]
        a = A3[d, :, one]
        s1[one] = np.einsum("km,km->k", sums.totals[d], a)
        s2[one] = np.einsum("km,kmj,kj->k", a, sums.gram[d], a)
        nk[one], Wk[one] = sums.n_pos[d], sums.wsum[d]
    return srs_variance_from_moments(s1, s2, nk, Wk, replace=replace)


def finish_linear(design: Design, sums: InfluenceSums, cells: Cells, keys: pd.DataFrame, *, info: dict,
                  C=None, deff: bool | str = False, ci_level: float = 0.95, dist: str = "t",
                  title: str = "Estimates", notes: Sequence[str] = ()) -> EstimateTable:
    """Ratios / totals of every (domain, cell), optionally transformed by ``C``, as a table.

    Estimates ``E[d, k] = T[d, num_k] / T[d, den_k]`` (or ``T[d, num_k]``) from the domain
    totals ``T`` of the basis; influence coefficients ``A[d, num_k] = 1/T[d, den_k]``,
    ``A[d, den_k] = -E[d, k]/T[d, den_k]``; estimates are domain-major (``d * K + k``).
    ``C`` (K', D*K): linear transforms (e.g. with-minus-without differences) taken jointly.
    """
    D, m, K = sums.n_domains, sums.m, cells.k
    num, den = np.asarray(cells.num), np.asarray(cells.den)
    tot = den < 0
    TOT = sums.totals
    with np.errstate(divide="ignore", invalid="ignore"):
        Yd = np.where(tot[None, :], 1.0, TOT[:, np.where(tot, 0, den)])
        E = np.where(tot[None, :], TOT[:, num], TOT[:, num] / Yd)  # (D, K)
        A = np.zeros((D, m, D * K))
        dd = np.repeat(np.arange(D), K)
        kk = np.tile(np.arange(K), D)
        col = np.arange(D * K)
        np.add.at(A, (dd, num[kk], col), 1.0 / Yd[dd, kk])
        rat = ~tot[kk]
        np.add.at(A, (dd[rat], den[kk][rat], col[rat]), -E[dd, kk][rat] / Yd[dd, kk][rat])
    A2 = A.reshape(D * m, D * K)
    est = E.ravel()

    def estimates(T):  # (R, D*m) totals -> (R, D*K) estimates
        T3 = np.asarray(T, dtype=float).reshape(-1, D, m)
        with np.errstate(divide="ignore", invalid="ignore"):
            den_r = np.where(tot[None, None, :], 1.0, T3[:, :, np.where(tot, 0, den)])
            out = (T3[:, :, num] / den_r).reshape(T3.shape[0], D * K)
        return out if C is None else out @ np.asarray(C).T

    if C is not None:
        C = np.asarray(C, dtype=float)
        est, A2 = C @ est, A2 @ C.T
    ptot = None if design.replicates is None else (sums.psu, estimates)
    vs = None
    if deff and design.replicates is None:
        vs = srs_variance(sums, A2, info["n_pos"], info["sum_weights"], replace=deff == "replace")
    stat = Statistic(keys, est, sums=sums, coef=A2, psu_totals=ptot, srs=vs, title=title, notes=tuple(notes))
    return finalise(stat, design, ci_level=ci_level, dist=dist, deff=deff, described=DescribedDesign(design, info))


def domain_keys(dlabels, by, total_label=None) -> list:
    """Domain labels as they appear in tables (``"all"`` without ``by``; the total first)."""
    out = ["all" if (by is None and d == ALL) else d for d in dlabels]
    return ([total_label] if total_label is not None else []) + out


def total_label(total, by):
    """``total=`` -> label of the whole-sample domain (None: none, or no ``by``), as the in-memory
    estimators (:func:`remitpov.core.domains.total_label`, whose errors it raises)."""
    lab = _core_total_label(total)
    return None if by is None else lab
