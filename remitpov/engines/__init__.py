"""Backends: where the rows are read and reduced to per-unit sufficient statistics.

* :mod:`remitpov.engines.base` -- the protocol (:class:`~remitpov.engines.base.UnitSums`:
  per (stratum, PSU, SSU, domain) sums of a measure's row basis, unit counts, fpc) and
  the engine-independent finish (sums -> design of the units -> variance -> table).
* :mod:`remitpov.engines.basis` -- the row bases (means, totals, ratios, FGT, cdf) in
  numpy and in SQL, from the one FGT definition (:mod:`remitpov.measures.fgt`).
* :mod:`remitpov.engines.memory` -- a pandas frame (also every Dask partition).
* :mod:`remitpov.engines.dask` -- Dask DataFrames / Parquet datasets on any Dask
  scheduler (front end :class:`remitpov.distributed.DaskSurvey`).
* :mod:`remitpov.engines.duckdb` -- SQL GROUP BY inside DuckDB over a Parquet dataset or
  a table, out of core (front end :func:`remitpov.engines.duckdb.survey`).

Supported by the out-of-memory engines (same numbers as the in-memory estimators to
1e-10, same defaults): Dask -- ``mean``, ``total``, ``ratio``, ``fgt``, ``compare``
(FGT), ``gini``, ``quantile``; DuckDB -- ``mean``, ``total``, ``ratio``, ``fgt``,
``compare`` (FGT).
"""
from __future__ import annotations

__all__ = ["SUPPORTED"]

#: measures each out-of-memory engine estimates
SUPPORTED = {
    "dask": ("mean", "total", "ratio", "fgt", "compare", "gini", "quantile"),
    "duckdb": ("mean", "total", "ratio", "fgt", "compare"),
}
