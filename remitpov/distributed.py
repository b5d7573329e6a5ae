"""Out-of-core and distributed estimation on Dask (a Dask DataFrame or a Parquet dataset).

The same estimates and standard errors as the in-memory estimators, for data that do
not fit in one machine's memory (census microdata, tens of millions of person records),
computed partition by partition on a Dask cluster -- a local one or a multi-machine one
(``distributed.Client("tcp://scheduler:8786")``): every function here runs on whatever
Dask scheduler is active. ``rp.fgt(dask_survey, ...)`` (and ``compare``, ``mean``,
``total``, ``ratio``, ``gini``, ``quantile``) run these functions with the same
arguments and defaults.

How it works
------------
This module is the front end of the Dask engine (:mod:`remitpov.engines.dask`), one of
the backends of :mod:`remitpov.engines`. Linear statistics (means, totals, ratios, FGT
indices, headcount totals, differences between income concepts; overall, by domain and
with the whole sample first, ``total=``) are exact functions of **sufficient
statistics**: for every (stratum, PSU, second-stage unit, domain) the sums of ``w b``
of the measure's row-level basis ``b`` (:mod:`remitpov.engines.basis`: the FGT
contributions of :mod:`remitpov.measures.fgt`, the constant, the columns), plus per
domain the Gram matrix of ``b`` for design effects. Every partition computes them with
the in-memory engine (one vectorised group-by), the partial results are added in one
tree reduction, and the driver -- holding one row per unit, never one per person --
evaluates the estimates and hands the factored influence values to the ONE variance
engine (:meth:`remitpov.design.Design.vcov_factored`) on a design whose rows are the
sampled units (weights 1): the stratified formula, lonely-PSU policies, one- and
two-stage fpc and replicate weights generated from the design (their factors are per
PSU) are reused, not re-implemented. The collapse is exact because the linearised
variance depends on the data only through the PSU (SSU) totals of ``w z``.

Gini and quantiles need ranks. They use an **exact bucketed scheme**:

1. pass 1 (one reduction) draws a small sample from every partition; its quantiles are
   bucket boundaries (they only balance the work: any boundaries give the same result);
   pass 2 sums ``w`` and ``w y`` per (bucket, domain) -- equal incomes always fall in the
   same bucket, so the cumulative weight *below* every bucket is exact;
2. quantiles: the buckets holding the target cumulative weight are read back (a filter,
   no shuffle) and the exact order statistic (any rule of :mod:`remitpov.core.quantile`,
   default ``"hf7"``) is found in them on the driver; Woodruff SEs come from one more
   linear reduction (the cdf at the estimate) and two more exact quantiles;
   Gini: a distributed sort by range partitioning -- every row travels once, as four
   numbers (income, weight, unit code, domain code), to the output partition that holds
   its income bucket (whole buckets per output partition; in memory on the workers, spilled
   to disk by a distributed cluster beyond their memory limit); every output partition
   sorts its rows, computes the exact weighted mid-ranks ``F_i`` and mid cumulative
   incomes ``L_i`` (adding the weight and income of the buckets below it: prefix sums of
   the bucket sums) and the unit sums of the Gini's linear basis in the same pass.
   No approximation (no t-digest, no histogram interpolation) is involved.

The sampled units are found once per :class:`DaskSurvey` (one pass over the design columns
on the first call, cached): later calls map every row to an integer unit code by a lookup
table (:class:`remitpov.engines.dask.Units`) instead of factorising the design columns.

The numbers equal the in-memory path (:func:`remitpov.estimation.mean`,
:func:`remitpov.poverty.fgt` / ``compare``, :func:`remitpov.inequality.gini` /
``quantile``) up to floating-point summation order (tested to 1e-10).

Conventions
-----------
Same as the in-memory estimators: person-level rows with expansion weights (optionally
times a household ``size``), poor if ``y < z`` (``strict=True``) or ``y <= z``; domains
are zero weights on the full design (R survey's ``svyby``); the Gini uses weighted
mid-ranks (tie-order invariant, equal to laeken's formula) and Langel & Tille's
linearisation. Missing values in an analysis variable raise
:class:`~remitpov.exceptions.InputError` naming the count and example row labels,
unless ``na_rm=True`` (rows outside every domain, design kept).

Limits: a PSU column is required (clusters are the unit of reduction); one domain
column (``by=``); scalar or per-row poverty lines (not :class:`~remitpov.RelativeLine`);
``level="person"`` only; replicate weights generated from the design
(:meth:`DaskSurvey.with_replicates`) for the linear statistics, not for Gini and
quantiles; quantile SEs by Woodruff's method only; ``compare`` for the FGT table only.
Each limit raises :class:`~remitpov.exceptions.InputError` saying so.

Example
-------
>>> from distributed import Client, LocalCluster            # doctest: +SKIP
>>> client = Client(LocalCluster(n_workers=2, threads_per_worker=1, memory_limit="3GiB"))
>>> ds = DaskSurvey("census.parquet", weight="w", strata="strata", psu="psu")
>>> ds = ds.assign(y_norem=lambda df: df["income"] - df["remit"])
>>> compare(ds, {"with": "income", "without": "y_norem"}, line=600.0, by="urban")
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pandas as pd

from .engines import dask as _engine
from .engines.base import DesignSpec
from .engines.dask import HAVE_DASK, compare, fgt, gini, mean, ratio, total
from .exceptions import InputError

__all__ = ["DaskSurvey", "mean", "total", "ratio", "fgt", "compare", "gini", "quantile", "HAVE_DASK"]


def _need_dask():
    if not HAVE_DASK:
        raise ImportError("remitpov.distributed needs dask: pip install 'dask[dataframe]' distributed "
                          "(or the 'dask' extra of remitpov)")


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
    ssu, fpc2 : str, optional
        Second-stage units and their population size (or fraction) per PSU: the
        two-stage fpc, as :class:`remitpov.survey.Survey`.
    size : str, optional
        Multiply the weight by this column (household rows at person level).
    nest : bool
        PSU labels are unique only within strata.
    lonely_psu : str
        Singleton-PSU policy, as :class:`remitpov.design.Design`.
    npartitions : int
        Partitions when ``data`` is a pandas DataFrame.
    replicates : tuple, optional
        ``(kind, R, seed, rho, mse)``: set by :meth:`with_replicates`.
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
    ssu: str | None = None
    fpc2: str | None = None
    replicates: tuple | None = None
    #: what is found once and reused by every estimator call (the sampled units: see
    #: :class:`remitpov.engines.dask.Units`); carried over by :meth:`assign` and
    #: :meth:`with_replicates` when the design columns are untouched
    _cache: dict = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self):
        _need_dask()
        import dask.dataframe as dd

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
        for role in ("weight", "strata", "psu", "fpc", "ssu", "fpc2", "size"):
            c = getattr(self, role)
            if c is not None and c not in cols:
                raise InputError(f"{role} column {c!r} not found; available: {sorted(cols)[:40]}")

    @classmethod
    def from_parquet(cls, path, weight: str, **kwargs) -> "DaskSurvey":
        """Read a Parquet file or dataset directory lazily."""
        _need_dask()
        import dask.dataframe as dd

        return cls(dd.read_parquet(str(path)), weight, **kwargs)

    def assign(self, **columns) -> "DaskSurvey":
        """New DaskSurvey with lazily computed columns (``DataFrame.assign``)."""
        out = replace(self, data=self.data.assign(**columns))
        if not set(columns) & set(self.design_columns):  # same rows, same design: the units found stay valid
            out._cache.update({k: v for k, v in self._cache.items() if k.startswith("units")})
        return out

    def with_replicates(self, kind: str = "bootstrap", replicates: int = 500, seed: int | None = 0,
                        rho: float = 0.5, mse: bool = False) -> "DaskSurvey":
        """Replicate weights generated from the design, as :meth:`remitpov.survey.Survey.with_replicates`
        (the same factors for the same design and seed: they are drawn per PSU)."""
        out = replace(self, replicates=(kind, int(replicates), seed, rho, mse))
        out._cache.update(self._cache)
        return out

    @property
    def spec(self) -> DesignSpec:
        """The design columns (shipped to the workers, no data)."""
        return DesignSpec(self.weight, self.strata, self.psu, self.fpc, self.ssu, self.fpc2, self.size, self.nest,
                          self.lonely_psu, self.replicates)

    @property
    def design_columns(self) -> list[str]:
        return self.spec.columns


def quantile(ds: DaskSurvey, income: str, probs=(0.5,), by: str | None = None, *, rule: str = "math",
             **kwargs):
    """Exact weighted quantiles with Woodruff SEs (:func:`remitpov.engines.dask.quantile`).

    This module's function keeps its historical default ``rule="math"`` (smallest ``y``
    with ``F(y) >= p``, R survey's ``qrule="math"``); ``rp.quantile(dask_survey, ...)``
    uses the in-memory default ``"hf7"``. Every rule of :mod:`remitpov.core.quantile`
    is available.
    """
    return _engine.quantile(ds, income, probs, by, rule=rule, **kwargs)


# ====================================================================== entry from the in-memory API
def is_dask_survey(obj) -> bool:
    """True for a :class:`DaskSurvey` (without importing dask)."""
    return isinstance(obj, DaskSurvey)


def from_memory_call(name: str, memory_fn, ds: DaskSurvey, args: tuple, kwargs: dict):
    """Run the Dask engine's ``name`` for an in-memory estimator called on a DaskSurvey.

    A plain lookup: the engine's functions take the in-memory estimators' signatures and
    defaults, and refuse (InputError) any option they cannot honour. ``memory_fn`` is
    not used (kept for the callers' signature).
    """
    return getattr(_engine, name)(ds, *args, **kwargs)
