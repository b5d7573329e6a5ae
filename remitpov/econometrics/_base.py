"""Shared machinery for econometric results: immutable results and summary tables.

Every model in :mod:`remitpov.econometrics` follows the linearmodels pattern: a model
object holds the data, ``model.fit(...)`` returns an immutable results object. The
results classes derive from :class:`ModelResults`, which provides

* ``params``, ``std_errors``, ``tstats``, ``pvalues`` (pandas Series indexed by
  parameter name), ``cov`` (DataFrame), ``conf_int(level)``;
* ``summary`` -- a :class:`Summary` (statsmodels-like text table) with ``as_text()``,
  ``as_latex()``, ``as_html()``;
* ``to_frame()`` -- tidy coefficient table.

Parameters can be grouped into *equations* (e.g. ``"outcome"`` and ``"selection"`` for a
Heckman model, ``"first stage"`` for IV): the summary prints one coefficient block per
equation. :func:`compare` puts several results side by side (coefficients with SEs in
parentheses, as in a paper's regression table).

Inference: ``dist="normal"`` (z statistics, the default for ML/two-step estimators) or
``dist="t"`` with ``df_resid`` degrees of freedom.
"""
from __future__ import annotations

import html as _html
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import stats

from ..exceptions import InputError, describe_rows

__all__ = ["ModelResults", "Summary", "SummaryTable", "Comparison", "compare", "coefficient_frame", "fmt_value"]


def fmt_value(v: Any, digits: int = 4) -> str:
    if v is None:
        return ""
    if isinstance(v, (float, np.floating)):
        if not np.isfinite(v):
            return "nan" if np.isnan(v) else ("inf" if v > 0 else "-inf")
        a = abs(v)
        if a != 0 and (a >= 1e6 or a < 10 ** (-digits)):
            return f"{v:.{digits}e}"
        return f"{v:.{digits}f}"
    if isinstance(v, (int, np.integer)):
        return f"{int(v):,}" if abs(int(v)) >= 10000 else str(int(v))
    return str(v)


def _latex_escape(s: str) -> str:
    rep = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_",
           "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}"}
    return "".join(rep.get(c, c) for c in str(s))


@dataclass(frozen=True)
class SummaryTable:
    """One block of a summary: a title, column headers and string cells."""

    title: str | None
    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    stub: bool = True  # first column is a row label

    def widths(self) -> list[int]:
        cols = [self.header] + list(self.rows)
        return [max(len(r[j]) for r in cols) for j in range(len(self.header))]


@dataclass(frozen=True)
class Summary:
    """A statsmodels-like summary: a header block (key/value pairs) + coefficient tables.

    ``str(summary)`` / :meth:`as_text` give fixed-width text, :meth:`as_latex` a LaTeX
    ``tabular`` (booktabs), :meth:`as_html` an HTML table (also used by notebooks).
    """

    title: str
    info: tuple[tuple[str, str], ...]
    tables: tuple[SummaryTable, ...]
    notes: tuple[str, ...] = ()

    # ------------------------------------------------------------ text
    def as_text(self) -> str:
        widths = [t.widths() for t in self.tables]
        # common column widths for blocks with the same number of columns (aligned blocks)
        for ncol in {len(w) for w in widths}:
            same = [w for w in widths if len(w) == ncol]
            common = [max(w[j] for w in same) for j in range(ncol)]
            widths = [common if len(w) == ncol else w for w in widths]
        body_w = max([sum(w) + 2 * (len(w) - 1) for w in widths] + [60])
        # header: two columns of key/value pairs
        pairs = [f"{k}:" for k, _ in self.info]
        kw = max([len(p) for p in pairs] + [0])
        cells = [f"{k + ':':<{kw}} {v}" for k, v in self.info]
        half = (len(cells) + 1) // 2
        left, right = cells[:half], cells[half:]
        colw = max([len(c) for c in left] + [0])
        body_w = max(body_w, colw + 4 + max([len(c) for c in right] + [0]))
        out = [self.title.center(body_w).rstrip()]
        if left:
            out.append("=" * body_w)
        for i, l in enumerate(left):
            r = right[i] if i < len(right) else ""
            out.append(f"{l:<{colw}}    {r}".rstrip())
        for t, w in zip(self.tables, widths):
            out.append("=" * body_w)
            if t.title:
                out.append(t.title.center(body_w).rstrip())
                out.append("-" * body_w)
            extra = body_w - (sum(w) + 2 * (len(w) - 1))
            w = list(w)
            w[0] += extra

            def line(r, w=w, stub=t.stub):
                return "  ".join((c.ljust(w[j]) if (j == 0 and stub) else c.rjust(w[j])) for j, c in enumerate(r))

            out.append(line(t.header))
            out.append("-" * body_w)
            out.extend(line(r) for r in t.rows)
        out.append("=" * body_w)
        out.extend(f"Note: {n}" for n in self.notes)
        return "\n".join(out)

    def __str__(self) -> str:
        return self.as_text()

    def __repr__(self) -> str:
        return self.as_text()

    # ------------------------------------------------------------ LaTeX
    def as_latex(self) -> str:
        ncol = max([len(t.header) for t in self.tables] + [2])
        out = [r"\begin{table}[!htbp]", r"\centering", rf"\caption{{{_latex_escape(self.title)}}}",
               rf"\begin{{tabular}}{{l{'r' * (ncol - 1)}}}", r"\toprule"]
        info = list(self.info)
        for i in range(0, len(info), 2):
            row = r" \quad ".join(f"{_latex_escape(k)}: {_latex_escape(v)}" for k, v in info[i:i + 2])
            out.append(rf"\multicolumn{{{ncol}}}{{l}}{{{row}}} \\")
        for t in self.tables:
            out.append(r"\midrule")
            if t.title:
                out.append(rf"\multicolumn{{{ncol}}}{{c}}{{\textit{{{_latex_escape(t.title)}}}}} \\")
                out.append(r"\midrule")
            hdr = list(t.header) + [""] * (ncol - len(t.header))
            out.append(" & ".join(_latex_escape(h) for h in hdr) + r" \\")
            out.append(r"\midrule")
            for r in t.rows:
                rr = list(r) + [""] * (ncol - len(r))
                out.append(" & ".join(_latex_escape(c) for c in rr) + r" \\")
        out.append(r"\bottomrule")
        out.append(r"\end{tabular}")
        for n in self.notes:
            out.append(rf"\par\footnotesize{{Note: {_latex_escape(n)}}}")
        out.append(r"\end{table}")
        return "\n".join(out)

    # ------------------------------------------------------------ HTML
    def as_html(self) -> str:
        e = _html.escape
        out = [f"<table class='remitpov-summary'><caption>{e(self.title)}</caption>"]
        for i in range(0, len(self.info), 2):
            cells = "".join(f"<th>{e(k)}:</th><td>{e(v)}</td>" for k, v in self.info[i:i + 2])
            out.append(f"<tr>{cells}</tr>")
        out.append("</table>")
        for t in self.tables:
            out.append("<table class='remitpov-coefs'>")
            if t.title:
                out.append(f"<caption>{e(t.title)}</caption>")
            out.append("<tr>" + "".join(f"<th>{e(h)}</th>" for h in t.header) + "</tr>")
            for r in t.rows:
                out.append("<tr>" + "".join(
                    (f"<th>{e(c)}</th>" if j == 0 and t.stub else f"<td>{e(c)}</td>") for j, c in enumerate(r)) + "</tr>")
            out.append("</table>")
        for n in self.notes:
            out.append(f"<p>Note: {e(n)}</p>")
        return "\n".join(out)

    def _repr_html_(self) -> str:
        return self.as_html()


def data_column(data: pd.DataFrame, col, name: str) -> np.ndarray | None:
    """A column of ``data`` by name, or an array of ``len(data)`` values passed through.

    ``None`` gives ``None``. Raises :class:`~remitpov.exceptions.InputError` naming the
    column (and the available columns) when it is absent, or the lengths when an array
    does not match the data.
    """
    if col is None:
        return None
    if isinstance(col, str):
        if col not in data.columns:
            raise InputError(f"{name} column {col!r} is not in the data; available columns: "
                             f"{sorted(map(str, data.columns))[:40]}")
        return data[col].to_numpy()
    a = np.asarray(col)
    if a.ndim == 0 or a.shape[0] != len(data):
        raise InputError(f"{name} has {a.shape[0] if a.ndim else 'a scalar, not'} values for {len(data)} rows; "
                         "pass a column name or one value per row")
    return a


def validated_weights(weights, n: int, ids=None) -> np.ndarray:
    """Observation weights as a float array of length ``n``: finite, >= 0, not all zero.

    Raises :class:`~remitpov.exceptions.InputError` naming the offending rows (count and
    example ids) and what to do. Zero weights are allowed (they drop a row from the fit
    without deleting it, as a domain does).
    """
    w = np.asarray(pd.to_numeric(pd.Series(np.asarray(weights).ravel()), errors="coerce"), dtype=float)
    if w.size != n:
        raise InputError(f"weights have {w.size} rows, the data {n}; pass one weight per row")
    bad = ~np.isfinite(w) | (w < 0)
    if bad.any():
        raise InputError(f"weights missing, non-numeric or negative in {describe_rows(bad, ids)}; weights must be "
                         "finite and >= 0 (drop those rows explicitly or fix the weights)")
    if not (w > 0).any():
        raise InputError("all weights are zero: nothing to estimate")
    return w


def model_weights(weights, n: int) -> tuple[np.ndarray, bool]:
    """``(w, weighted)``: ones and False when ``weights`` is None, else the
    :func:`validated_weights` and True (the set-up of every weighted selection model)."""
    if weights is None:
        return np.ones(n), False
    return validated_weights(weights, n), True


def coefficient_frame(params: pd.Series, se: pd.Series, dist: str = "normal", df: float | None = None,
                      level: float = 0.95) -> pd.DataFrame:
    """Coefficient table: estimate, std_error, stat, pvalue, ci_lower, ci_upper."""
    p = params.to_numpy(dtype=float)
    s = se.to_numpy(dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        t = p / s
    if dist == "t" and df is not None and np.all(np.isfinite(df)):  # df: scalar or one per parameter
        pv = 2 * stats.t.sf(np.abs(t), df)
        c = stats.t.ppf(0.5 + level / 2, df)
    else:
        pv = 2 * stats.norm.sf(np.abs(t))
        c = stats.norm.ppf(0.5 + level / 2)
    return pd.DataFrame({"estimate": p, "std_error": s, "stat": t, "pvalue": pv,
                         "ci_lower": p - c * s, "ci_upper": p + c * s}, index=params.index)


@dataclass(frozen=True, eq=False)
class ModelResults:
    """Base class of immutable estimation results.

    Attributes
    ----------
    params : Series
        Estimates, indexed by parameter name (unique names; see ``equations``).
    cov : DataFrame
        Variance-covariance matrix of ``params``.
    nobs : int
        Observations used.
    model_name : str
        Shown as the summary title.
    dep_var : str
    cov_type : str
        Label of the covariance estimator (``"heckman"``, ``"robust"``, ``"cluster"`` ...).
    method : str
        Estimation method (``"two-step"``, ``"ML"``, ``"2SLS"`` ...).
    dist : {"normal", "t"}
        Reference distribution for tests and intervals.
    df_resid : float or array, optional
        Residual degrees of freedom when ``dist="t"`` (an array: one per parameter, e.g.
        Bell--McCaffrey degrees of freedom of CR2).
    equations : mapping, optional
        Equation label -> tuple of parameter names, in display order. Parameters not in any
        equation are shown in a final block named ``"Other parameters"``. Display names
        inside an equation drop an ``"<equation>:"`` prefix if present.
    info : mapping
        Extra header lines for the summary (e.g. log-likelihood, number censored).
    notes : tuple of str
        Printed below the summary.
    """

    params: pd.Series
    cov: pd.DataFrame
    nobs: int
    model_name: str = "Model"
    dep_var: str = "y"
    cov_type: str = "unadjusted"
    method: str = ""
    dist: str = "normal"
    df_resid: float | None = None
    equations: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    info: Mapping[str, Any] = field(default_factory=dict)
    notes: tuple[str, ...] = ()

    def __post_init__(self):
        a = np.array(self.params, dtype=float)
        a.setflags(write=False)  # read-only buffers: in-place edits of params/cov raise
        p = pd.Series(a, index=pd.Index(self.params.index, dtype=object), name="params", copy=False)
        if not p.index.is_unique:
            raise ValueError("parameter names must be unique")
        c = np.array(self.cov, dtype=float)
        c.setflags(write=False)
        V = pd.DataFrame(c, index=p.index, columns=p.index, copy=False)
        object.__setattr__(self, "params", p)
        object.__setattr__(self, "cov", V)
        object.__setattr__(self, "equations", {k: tuple(v) for k, v in dict(self.equations).items()})
        object.__setattr__(self, "info", dict(self.info))
        object.__setattr__(self, "notes", tuple(self.notes))

    # ------------------------------------------------------------ inference
    @property
    def std_errors(self) -> pd.Series:
        return pd.Series(np.sqrt(np.clip(np.diag(self.cov.to_numpy()), 0, None)), index=self.params.index,
                         name="std_error")

    @property
    def tstats(self) -> pd.Series:
        with np.errstate(divide="ignore", invalid="ignore"):
            return pd.Series(self.params.to_numpy() / self.std_errors.to_numpy(), index=self.params.index,
                             name="tstat")

    @property
    def pvalues(self) -> pd.Series:
        t = np.abs(self.tstats.to_numpy())
        if self.dist == "t" and self.df_resid is not None:
            pv = 2 * stats.t.sf(t, self.df_resid)
        else:
            pv = 2 * stats.norm.sf(t)
        return pd.Series(pv, index=self.params.index, name="pvalue")

    def conf_int(self, level: float = 0.95) -> pd.DataFrame:
        """Confidence intervals ``estimate -/+ c * se`` (columns ``lower``, ``upper``)."""
        f = coefficient_frame(self.params, self.std_errors, self.dist, self.df_resid, level)
        return pd.DataFrame({"lower": f["ci_lower"], "upper": f["ci_upper"]})

    def to_frame(self, level: float = 0.95) -> pd.DataFrame:
        """Tidy coefficient table with an ``equation`` column."""
        f = coefficient_frame(self.params, self.std_errors, self.dist, self.df_resid, level)
        eq = pd.Series("", index=f.index, dtype=object)
        for k, names in self.equations.items():
            eq[list(names)] = k
        f.insert(0, "equation", eq.to_numpy())
        f.index.name = "parameter"
        return f

    # ------------------------------------------------------------ display
    def _blocks(self) -> list[tuple[str | None, list[str]]]:
        seen: set[str] = set()
        blocks: list[tuple[str | None, list[str]]] = []
        for k, names in self.equations.items():
            blocks.append((k, list(names)))
            seen.update(names)
        rest = [n for n in self.params.index if n not in seen]
        if rest:
            blocks.append(("Other parameters" if blocks else None, rest))
        return blocks

    def _header(self) -> list[tuple[str, str]]:
        h = [("Dep. variable", str(self.dep_var)), ("Method", self.method or ""),
             ("No. observations", fmt_value(self.nobs)),
             ("Cov. estimator", self.cov_type)]
        h += [(k, fmt_value(v)) for k, v in self.info.items()]
        return h

    def summary_table(self, digits: int = 4, level: float = 0.95) -> Summary:
        f = coefficient_frame(self.params, self.std_errors, self.dist, self.df_resid, level)
        stat = "t-stat" if self.dist == "t" else "z-stat"
        lo, hi = f"[{(1 - level) / 2:.3g}", f"{1 - (1 - level) / 2:.3g}]"
        header = ("", "coef", "std err", stat, "P>|" + stat[0] + "|", lo, hi)
        tables = []
        for title, names in self._blocks():
            rows = []
            for n in names:
                r = f.loc[n]
                label = n[len(title) + 1:] if title and n.startswith(f"{title}:") else n
                cells = [fmt_value(float(r[c]), digits) for c in ("estimate", "std_error", "stat")]
                cells.append(f"{float(r['pvalue']):.{digits}f}")
                cells += [fmt_value(float(r[c]), digits) for c in ("ci_lower", "ci_upper")]
                rows.append((label,) + tuple(cells))
            tables.append(SummaryTable(title, header, tuple(rows)))
        return Summary(f"{self.model_name} Estimation Summary", tuple(self._header()), tuple(tables), self.notes)

    @property
    def summary(self) -> Summary:
        """Summary table; ``str()`` it, or call ``.as_latex()`` / ``.as_html()``."""
        return self.summary_table()

    def __str__(self) -> str:
        return self.summary.as_text()

    def __repr__(self) -> str:
        return (f"{type(self).__name__}({self.model_name}, method={self.method!r}, nobs={self.nobs}, "
                f"cov_type={self.cov_type!r}, {len(self.params)} parameters)")

    def _repr_html_(self) -> str:
        return self.summary.as_html()


@dataclass(frozen=True)
class Comparison:
    """Several results side by side (see :func:`compare`)."""

    results: Mapping[str, ModelResults]
    stars: bool = False
    digits: int = 4

    @property
    def params(self) -> pd.DataFrame:
        return pd.DataFrame({k: r.params for k, r in self.results.items()})

    @property
    def std_errors(self) -> pd.DataFrame:
        return pd.DataFrame({k: r.std_errors for k, r in self.results.items()})

    @property
    def pvalues(self) -> pd.DataFrame:
        return pd.DataFrame({k: r.pvalues for k, r in self.results.items()})

    def _rows(self):
        names: list[str] = []
        for r in self.results.values():
            names += [n for n in r.params.index if n not in names]
        P, S, PV = self.params.reindex(names), self.std_errors.reindex(names), self.pvalues.reindex(names)
        rows = []
        for n in names:
            cells, ses = [n], [""]
            for k in self.results:
                p, s, pv = P.at[n, k], S.at[n, k], PV.at[n, k]
                if np.isnan(p):
                    cells.append("")
                    ses.append("")
                    continue
                st = ""
                if self.stars:
                    st = "***" if pv < 0.01 else "**" if pv < 0.05 else "*" if pv < 0.1 else ""
                cells.append(fmt_value(float(p), self.digits) + st)
                ses.append(f"({fmt_value(float(s), self.digits)})")
            rows.append(tuple(cells))
            rows.append(tuple(ses))
        foot = [("No. observations",) + tuple(fmt_value(r.nobs) for r in self.results.values()),
                ("Method",) + tuple(r.method for r in self.results.values()),
                ("Cov. estimator",) + tuple(r.cov_type for r in self.results.values())]
        return rows, foot

    @property
    def summary(self) -> Summary:
        rows, foot = self._rows()
        header = ("",) + tuple(self.results)
        notes = ("Standard errors in parentheses.",) + (("* p<0.1, ** p<0.05, *** p<0.01",) if self.stars else ())
        return Summary("Model Comparison", (), (SummaryTable(None, header, tuple(rows)),
                                                SummaryTable(None, header, tuple(foot))), notes)

    def __str__(self) -> str:
        return self.summary.as_text()

    __repr__ = __str__

    def _repr_html_(self) -> str:
        return self.summary.as_html()


def compare(results: Mapping[str, ModelResults] | Sequence[ModelResults], *, stars: bool = False,
            digits: int = 4) -> Comparison:
    """Compare several results: coefficients (SEs in parentheses) side by side.

    Parameters
    ----------
    results : dict name -> results, or a list (named ``Model 0``, ``Model 1``, ...)
    stars : bool
        Add significance stars (10/5/1 %).
    """
    if not isinstance(results, Mapping):
        results = {f"Model {i}": r for i, r in enumerate(results)}
    return Comparison(dict(results), stars, digits)
