"""The DuckDB engine: per-unit sufficient statistics computed inside an embedded DuckDB.

For data larger than memory on one machine (as R survey's database-backed designs,
``svydesign(..., dbtype=...)``): the rows stay in a Parquet dataset (or a DuckDB table)
and ONE SQL ``GROUP BY`` per table -- out of core and multi-threaded inside DuckDB --
returns the sums of ``w b`` of the measure's row basis per (stratum, PSU, SSU, domain),
the same :class:`~remitpov.engines.base.UnitSums` the in-memory and Dask engines
produce; the basis is the SQL of the same :class:`~remitpov.engines.basis.Term`
definitions (``Term.sql()`` next to ``Term.values()``, tested to agree). The driver then
finishes exactly as the other engines (:func:`remitpov.engines.base.finish_linear`):
same estimates, SEs, design effects, ``total=``, two-stage fpc and generated replicate
weights as the in-memory estimators (tested to 1e-10).

Measures: :func:`mean`, :func:`total`, :func:`ratio`, :func:`fgt`, :func:`compare`
(FGT table) and :func:`gini` (exact mid-ranks by SQL window sums). Quantiles: use
:mod:`remitpov.distributed` or the in-memory path.

Example
-------
>>> from remitpov.engines import duckdb as rdb                     # doctest: +SKIP
>>> s = rdb.survey("census/*.parquet", weight="w", strata="strata", psu="psu")
>>> rdb.compare(s, {"with": "income", "without": "y_norem"}, 600.0, by="urban", total=True)

Needs ``pip install "remitpov[duckdb]"``. ``memory_limit`` / ``threads`` are passed to
DuckDB (``SET memory_limit``): the driver itself holds one row per unit only.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from ..exceptions import InputError
from ..results import EstimateTable
from .base import ALL, LEVELS, DesignSpec, UnitSums, finish_sums
from .basis import Term, quote
from .memory import raise_problems
from .tables import byname, check_covmat, compare_table, gini_table, mean_total, poverty_table, ratio_table

try:  # optional dependency: pip install "remitpov[duckdb]"
    import duckdb as _duckdb

    HAVE_DUCKDB = True
except ImportError:  # pragma: no cover - exercised only without duckdb
    _duckdb = None
    HAVE_DUCKDB = False

__all__ = ["DuckDBSurvey", "survey", "mean", "total", "ratio", "fgt", "compare", "gini", "ENGINE"]

ENGINE = "duckdb (SQL GROUP BY of PSU sufficient statistics, exact)"


@dataclass(frozen=True, eq=False)
class DuckDBSurvey:
    """A survey whose rows live in DuckDB: a Parquet file / glob / directory, or a table.

    Build it with :func:`survey`. ``relation`` is the SQL the rows are read from
    (``read_parquet('...')`` or a quoted table name); ``con`` the DuckDB connection;
    ``spec`` the design roles (as :class:`remitpov.distributed.DaskSurvey`; ``psu`` required).
    """

    con: Any
    relation: str
    spec: DesignSpec

    @property
    def columns(self) -> list[str]:
        return [r[0] for r in self.con.execute(f"DESCRIBE SELECT * FROM {self.relation}").fetchall()]

    def with_replicates(self, kind: str = "bootstrap", replicates: int = 500, seed: int | None = 0,
                        rho: float = 0.5, mse: bool = False) -> "DuckDBSurvey":
        """Replicate weights generated from the design (per-PSU factors), as
        :meth:`remitpov.survey.Survey.with_replicates`."""
        return replace(self, spec=replace(self.spec, replicates=(kind, int(replicates), seed, rho, mse)))


def survey(source, table: str | None = None, *, weight: str, strata: str | None = None, psu: str | None = None,
           fpc: str | None = None, ssu: str | None = None, fpc2: str | None = None, size: str | None = None,
           nest: bool = False, lonely_psu: str = "error", memory_limit: str | None = None,
           threads: int | None = None, temp_directory: str | None = None) -> DuckDBSurvey:
    """A :class:`DuckDBSurvey` on a Parquet dataset or a DuckDB table.

    Parameters
    ----------
    source : str, Path or duckdb connection
        A Parquet file, a directory of Parquet files (read recursively) or a glob; or an
        open DuckDB connection (then ``table`` names the table or view), or the path of a
        DuckDB database file with ``table``.
    table : str, optional
        Table (or view) name when ``source`` is a connection or a database file.
    weight, strata, psu, fpc, ssu, fpc2, size, nest, lonely_psu
        Design roles, as :class:`remitpov.survey.Survey`.
    memory_limit, threads, temp_directory : optional
        DuckDB settings (e.g. ``"4GB"``): bound the memory DuckDB uses; it spills to
        ``temp_directory`` beyond it.
    """
    if not HAVE_DUCKDB:
        raise ImportError("remitpov.engines.duckdb needs duckdb: pip install 'remitpov[duckdb]'")
    if table is None:
        if not isinstance(source, (str, Path)):
            raise InputError("survey(source) without table= needs a Parquet path, directory or glob")
        p = Path(source)
        if p.is_dir():
            pattern = str(p / "**" / "*.parquet")
        elif p.exists() or any(ch in str(source) for ch in "*?["):
            pattern = str(source)
        else:
            raise InputError(f"Parquet source {str(source)!r} not found; give a file, a directory or a glob")
        con = _duckdb.connect()
        relation = f"read_parquet('{pattern.replace(chr(39), chr(39) * 2)}')"
    else:
        con = source if not isinstance(source, (str, Path)) else _duckdb.connect(str(source), read_only=True)
        relation = quote(table)
    for key, val in (("memory_limit", memory_limit), ("threads", threads), ("temp_directory", temp_directory)):
        if val is not None:
            con.execute(f"SET {key} = '{val}'")
    s = DuckDBSurvey(con, relation, DesignSpec(weight, strata, psu, fpc, ssu, fpc2, size, nest, lonely_psu))
    try:
        cols = s.columns
    except Exception as e:  # duckdb.Error: a clear InputError naming the source
        raise InputError(f"cannot read {relation} with DuckDB: {e}") from None
    s.spec.check(cols)
    return s


# ====================================================================== SQL
def _num(col: str) -> str:
    return f"TRY_CAST({quote(col)} AS DOUBLE)"


def _bad_number(col: str) -> str:
    return f"({_num(col)} IS NULL OR NOT isfinite({_num(col)}))"


def _problems(ds: DuckDBSurvey, value_cols, line_cols, by, na_rm: bool, level: str) -> tuple[dict, int]:
    """Counts of the input problems the in-memory engine reports, and the rows (one scan)."""
    spec = ds.spec
    checks = {"weight": f"{_bad_number(spec.weight)} OR {_num(spec.weight)} <= 0"}
    if spec.size is not None:
        checks["size"] = f"{_bad_number(spec.size)} OR {_num(spec.size)} <= 0"
    for c in (spec.strata, spec.psu, spec.fpc, spec.ssu, spec.fpc2):
        if c is not None:
            checks[c] = f"{quote(c)} IS NULL"
    ok = _ok(value_cols)
    if not na_rm:
        for c in value_cols:
            checks[f"value:{c}"] = _bad_number(c)
    if by is not None:
        checks[f"domain:{by}"] = f"{quote(by)} IS NULL"
    for c in line_cols:
        checks[f"line:{c}"] = f"({ok}) AND ({_bad_number(c)} OR {_num(c)} <= 0)"
    sql = ("SELECT count(*), " + ", ".join(f"count(*) FILTER (WHERE {v})" for v in checks.values())
           + f" FROM {ds.relation}")
    n_rows, *counts = ds.con.execute(sql).fetchone()
    return {k: (int(n), []) for k, n in zip(checks, counts) if n}, int(n_rows)


def _ok(value_cols) -> str:
    return " AND ".join(f"NOT {_bad_number(c)}" for c in value_cols) or "TRUE"


def _rows_view(ds: DuckDBSurvey, cols, line_cols, by, *, na_rm: bool, level: str) -> tuple[list[str], int]:
    """Check the rows (raise like the in-memory engine) and create the temp view ``__rp_rows``:
    labels ``s, u, v, d``, weight ``__w`` (0 outside the usable rows), the analysis columns
    (replaced by 0 -- lines by 1 -- outside the usable rows: no NaN meets a zero weight) and the
    fpc columns. Returns the fpc columns carried and the number of rows."""
    spec = ds.spec
    value_cols = [c for c in cols if c not in line_cols]
    probs, n_rows = _problems(ds, value_cols, line_cols, by, na_rm, level)
    if probs:
        raise_problems(probs, spec)
    ok = _ok(value_cols)
    w = _num(spec.weight) + (f" * {_num(spec.size)}" if spec.size is not None and level == "person" else "")
    lab = {"s": quote(spec.strata) if spec.strata else "0", "u": quote(spec.psu),
           "v": quote(spec.ssu) if spec.two_stage else "0", "d": quote(by) if by is not None else f"'{ALL}'"}
    proj = [f"{e} AS {k}" for k, e in lab.items()]
    proj.append(f"CASE WHEN {ok} THEN {w} ELSE 0.0 END AS __w")
    for c in cols:
        proj.append(f"CASE WHEN {ok} THEN {_num(c)} ELSE {'1.0' if c in line_cols else '0.0'} END AS {quote(c)}")
    extra = [c for c in (spec.fpc, spec.fpc2) if c is not None]
    proj += [f"{_num(c)} AS {quote(c)}" for c in extra if c not in cols]
    ds.con.execute(f"CREATE OR REPLACE TEMP VIEW __rp_rows AS SELECT {', '.join(proj)} FROM {ds.relation}")
    return extra, n_rows


def _collect(ds: DuckDBSurvey, view: str, m: int, n_rows: int, *, gram: bool) -> UnitSums:
    """The GROUP BYs of a basis view (``s, u, v, d, __w, b0..b{m-1}`` and the fpc columns):
    one scan for the unit sums (their counts and weights give the domains' too), one more
    for the domains' Gram matrices (design effects) and one per fpc column."""
    spec, con = ds.spec, ds.con
    unit = con.execute("SELECT s, u, v, d, " + ", ".join(f"sum(__w * b{j}) AS b{j}" for j in range(m))
                       + ", count(*) FILTER (WHERE __w > 0) AS n_pos, sum(__w) AS wsum"
                       + f" FROM {view} GROUP BY s, u, v, d").df().set_index(list(LEVELS))
    dom = unit[["n_pos", "wsum"]].groupby(level="d", sort=False).sum().astype(float)
    unit = unit.drop(columns=["n_pos", "wsum"])
    if gram:
        gsum = ", ".join(f"sum(__w * b{i} * b{j}) AS g{i * m + j}" for i in range(m) for j in range(m))
        g = con.execute(f"SELECT d, {gsum} FROM {view} GROUP BY d").df().set_index("d")
        dom = pd.concat([g.reindex(dom.index), dom], axis=1)
    fpc = fpc2 = None
    if spec.fpc is not None:
        fpc = con.execute(f"SELECT s, min({quote(spec.fpc)}) AS min, max({quote(spec.fpc)}) AS max FROM __rp_rows "
                          "GROUP BY s").df().set_index("s")
    if spec.two_stage:
        fpc2 = con.execute(f"SELECT s, u, min({quote(spec.fpc2)}) AS min, max({quote(spec.fpc2)}) AS max "
                           "FROM __rp_rows GROUP BY s, u").df().set_index(["s", "u"])
    return UnitSums(unit, dom, fpc, fpc2, n_rows)


def unit_sums_sql(ds: DuckDBSurvey, terms: Sequence[Term], by, *, na_rm: bool, gram: bool,
                  level: str = "person") -> UnitSums:
    """:class:`UnitSums` of the ``terms`` by SQL: GROUP BYs inside DuckDB."""
    cols = list(dict.fromkeys(c for t in terms for c in t.columns))
    line_cols = list(dict.fromkeys(t.line for t in terms if isinstance(t.line, str) and t.kind == "fgt"))
    extra, n_rows = _rows_view(ds, cols, line_cols, by, na_rm=na_rm, level=level)
    ds.con.execute("CREATE OR REPLACE TEMP VIEW __rp_basis AS SELECT s, u, v, d, __w, "
                   + ", ".join(f"{t.sql()} AS b{j}" for j, t in enumerate(terms))
                   + "".join(f", {quote(c)}" for c in extra) + " FROM __rp_rows")
    return _collect(ds, "__rp_basis", len(terms), n_rows, gram=gram)


def _check(ds: DuckDBSurvey, columns, by, level):
    if level != "person":
        raise InputError(f"level={level!r} is not available for a DuckDBSurvey: its rows are persons (weight x "
                         "size if a size column is given)")
    if by is not None and not isinstance(by, str):
        raise InputError(f"by={by!r}: a DuckDBSurvey takes one domain column name")
    have = ds.columns
    ds.spec.check(have)
    missing = [c for c in dict.fromkeys(list(columns) + ([by] if by else [])) if c not in set(have)]
    if missing:
        raise InputError(f"column(s) {missing} not found; available: {sorted(have)[:40]}")


def linear_sums(ds: DuckDBSurvey, terms, by, *, na_rm, deff, total=False, level="person"):
    """The DuckDB engine's ``sums_fn`` (see :mod:`remitpov.engines.tables`)."""
    _check(ds, [c for t in terms for c in t.columns], by, level)
    res = unit_sums_sql(ds, terms, by, na_rm=na_rm, gram=bool(deff), level=level)
    return finish_sums(res, ds.spec, by, deff=deff, total=total, engine=ENGINE)


# ====================================================================== estimators
def mean(ds: DuckDBSurvey, variables, by=None, *, level: str = "person", na_rm: bool = False,
         ci_level: float = 0.95, dist: str = "t", deff: bool | str = False, covmat: bool | None = None) -> EstimateTable:
    """Weighted means with linearised SEs, as :func:`remitpov.estimation.mean`."""
    return mean_total("mean", ds, variables, by, level=level, na_rm=na_rm, ci_level=ci_level, dist=dist, deff=deff,
                      covmat=covmat, sums_fn=linear_sums)


def total(ds: DuckDBSurvey, variables, by=None, *, level: str = "person", na_rm: bool = False,
          ci_level: float = 0.95, dist: str = "t", deff: bool | str = False, covmat: bool | None = None) -> EstimateTable:
    """Weighted totals with linearised SEs, as :func:`remitpov.estimation.total`."""
    return mean_total("total", ds, variables, by, level=level, na_rm=na_rm, ci_level=ci_level, dist=dist,
                      deff=deff, covmat=covmat, sums_fn=linear_sums)


def ratio(ds: DuckDBSurvey, numerator, denominator, by=None, *, level: str = "person", na_rm: bool = False,
          ci_level: float = 0.95, dist: str = "t", deff: bool | str = False, covmat: bool | None = None) -> EstimateTable:
    """Ratio of totals with linearised SEs, as :func:`remitpov.estimation.ratio`."""
    return ratio_table(ds, numerator, denominator, by, level=level, na_rm=na_rm, ci_level=ci_level, dist=dist,
                       deff=deff, covmat=covmat, sums_fn=linear_sums)


def fgt(ds: DuckDBSurvey, income, line, alpha=(0, 1, 2), by=None, *, level: str = "person", strict: bool = True,
        ci_level: float = 0.95, dist: str = "t", na_rm: bool = False, headcount_total: bool = True,
        concept: str | None = None, total: bool | str = False, deff: bool | str = False,
        covmat: bool | None = None) -> EstimateTable:
    """FGT indices with linearised SEs, as :func:`remitpov.poverty.fgt` (same keys, values, defaults)."""
    check_covmat(covmat)
    return poverty_table(ds, {concept or income: income}, line, alpha, by, strict=strict, na_rm=na_rm,
                         headcount_total=headcount_total, contrast=None, ci_level=ci_level, dist=dist,
                         title="FGT poverty indices", deff=deff, total=total, level=level, sums_fn=linear_sums)


def compare(ds: DuckDBSurvey, incomes: Mapping[str, str] = None, line=None, alpha=None, by=None, *,
            measure: str = "fgt", level: str = "person", strict: bool | None = None, ci_level: float = 0.95,
            dist: str = "t", na_rm: bool = False, headcount_total: bool | None = None, label: str | None = None,
            total: bool | str = False, deff: bool | str = False, covmat: bool | None = None) -> EstimateTable:
    """The with/without FGT table and its differences, as :func:`remitpov.poverty.compare`."""
    return compare_table(ds, incomes, line, alpha, by, measure=measure, level=level, strict=strict,
                         ci_level=ci_level, dist=dist, na_rm=na_rm, headcount_total=headcount_total, label=label,
                         total=total, deff=deff, covmat=covmat, sums_fn=linear_sums)


def gini(ds: DuckDBSurvey, income, by=None, *, level: str = "person", na_rm: bool = False, ci_level: float = 0.95,
         dist: str = "t") -> EstimateTable:
    """Exact weighted Gini with its linearised SE, as :func:`remitpov.inequality.gini`.

    Weighted mid-ranks by SQL window sums (``PARTITION BY`` domain ``ORDER BY`` income,
    ``RANGE`` frames: tie blocks are peers, so the ranks are tie-order invariant): the
    cumulative weight and income up to and including the tie block minus half the block.
    One sort inside DuckDB (out of core), then the GROUP BY of the Gini's linear basis
    (:func:`remitpov.engines.tables.gini_table`).
    """
    if ds.spec.replicates is not None:
        raise InputError("gini on a DuckDBSurvey with replicate weights is not available: use the linearised "
                         "design, or the in-memory Survey")
    _check(ds, [income], by, level)
    extra, n_rows = _rows_view(ds, [income], [], by, na_rm=na_rm, level=level)
    con, y = ds.con, quote(income)
    tot = con.execute("SELECT d, sum(__w) AS wsum, sum(__w * " + y + ") AS wy, count(*) FILTER (WHERE __w > 0) AS cnt "
                      "FROM __rp_rows GROUP BY d ORDER BY d").df().set_index("d")
    dl = np.asarray(sorted(tot.index), dtype=object)
    tot = tot.reindex(pd.Index(dl))
    if (tot["cnt"] < 1).any():
        raise InputError(f"gini: a domain of {by!r} has no usable observation")
    if not (tot["wy"] > 0).all():
        bad = dl[~(tot["wy"] > 0).to_numpy()][0]
        raise InputError(f"gini: the weighted mean income of {income!r} is <= 0 in {byname(by)}={bad!r}; "
                         "the Gini is undefined")
    con.execute(
        "CREATE OR REPLACE TEMP VIEW __rp_ranks AS SELECT r.*, "
        f"(sum(__w) OVER wc - sum(__w) OVER wp / 2) / t.N AS __F, "
        f"t.T AS __T, t.N AS __N, sum(__w * {y}) OVER wc - sum(__w * {y}) OVER wp / 2 AS __L "
        "FROM __rp_rows r JOIN (SELECT d, sum(__w) AS N, sum(__w * " + y + ") AS T FROM __rp_rows GROUP BY d) t "
        "USING (d) WINDOW wc AS (PARTITION BY d ORDER BY " + y + " RANGE BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW), "
        "wp AS (PARTITION BY d ORDER BY " + y + " RANGE BETWEEN CURRENT ROW AND CURRENT ROW)")
    con.execute(f"CREATE OR REPLACE TEMP VIEW __rp_basis AS SELECT s, u, v, d, __w, 1.0 AS b0, {y} AS b1, "
                f"{y} * __F + (__T - __L) / __N AS b2, {y} * __F AS b3" + "".join(f", {quote(c)}" for c in extra)
                + " FROM __rp_ranks")
    res = _collect(ds, "__rp_basis", 4, n_rows, gram=True)
    design, sums, dk, info = finish_sums(res, ds.spec, by, deff=True, total=False,
                                         engine="duckdb, exact mid-ranks by window sums")
    N, Ty = tot["wsum"].to_numpy(float), tot["wy"].to_numpy(float)
    return gini_table(design, sums, dk, info, income, by, N, Ty, tot["cnt"].to_numpy(float), ci_level=ci_level,
                      dist=dist)


def sql_matches_numpy(terms: Sequence[Term], frame: pd.DataFrame) -> np.ndarray:
    """Evaluate every term's SQL on ``frame`` in DuckDB (rows in order): (n, m), for tests."""
    con = _duckdb.connect()
    con.register("__rp_frame", frame)
    sql = "SELECT " + ", ".join(f"{t.sql()} AS b{j}" for j, t in enumerate(terms)) + " FROM __rp_frame"
    return con.execute(sql).df().to_numpy(dtype=float)
