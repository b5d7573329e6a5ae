"""Immutable result objects returned by every estimator.

An :class:`EstimateTable` holds one or more estimates (rows labelled by key columns such
as ``measure``, ``concept``, ``domain``), their variance-covariance matrix, confidence
intervals and the design that produced them. ``to_frame()`` gives the tidy table,
``summary()`` a readable report, ``get(...)`` a single :class:`Estimate`.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from scipy import sparse
from scipy.sparse import csgraph

from .design import critical_value
from .exceptions import InputError

VALUE_COLUMNS = ("estimate", "se", "ci_lower", "ci_upper", "df")


@dataclass(frozen=True)
class Estimate:
    """One estimate with its standard error and confidence interval."""

    estimate: float
    se: float
    ci_lower: float
    ci_upper: float
    df: float
    level: float = 0.95
    labels: Mapping[str, Any] = field(default_factory=dict)

    @property
    def var(self) -> float:
        return self.se**2

    def __float__(self) -> float:
        return float(self.estimate)

    def __repr__(self) -> str:
        lab = ", ".join(f"{k}={v}" for k, v in self.labels.items())
        return (f"Estimate({lab}{': ' if lab else ''}{self.estimate:.6g} (SE {self.se:.4g}), "
                f"{self.level:.0%} CI [{self.ci_lower:.6g}, {self.ci_upper:.6g}])")


@dataclass(frozen=True, eq=False)
class EstimateTable:
    """A set of estimates with their joint variance and the design used.

    Attributes
    ----------
    keys : DataFrame
        One row per estimate: the labelling columns (measure, concept, domain, ...).
    estimates, vcov : ndarray
        Point estimates (k,) and their variance-covariance matrix (k, k). For estimates by
        many domains ``vcov`` is a sparse matrix holding the within-domain covariances
        only (see :attr:`covariance_blocks`); ``contrast`` refuses combinations across
        blocks.
    df : float or ndarray
        Degrees of freedom used for t intervals: the design's (a scalar), or one per estimate
        (an array of length k, e.g. Barnard--Rubin degrees of freedom after multiple
        imputation, :func:`remitpov.econometrics.counterfactual.rubin`): each row's interval
        then uses its own df, and a contrast the smallest df of the rows it combines.
    level : float
        Confidence level.
    dist : {"t", "normal"}
        Distribution of the confidence intervals.
    design : dict
        Summary of the design (``Design.describe()``).
    title : str
    notes : tuple of str
        Conventions used (strict/weak inequality, line, quantile rule, ...).
    extra : DataFrame, optional
        Extra per-estimate columns (e.g. ``deff``, ``n_obs``) joined in ``to_frame``.
    """

    keys: pd.DataFrame
    estimates: np.ndarray
    vcov: np.ndarray
    df: float
    level: float = 0.95
    dist: str = "t"
    design: Mapping[str, Any] = field(default_factory=dict)
    title: str = "Estimates"
    notes: tuple[str, ...] = ()
    extra: pd.DataFrame | None = None

    def __post_init__(self):
        est = np.atleast_1d(np.asarray(self.estimates, dtype=float)).copy()
        if sparse.issparse(self.vcov):  # covariance blocks only (many domains): see `covariance_blocks`
            V = sparse.csr_array(self.vcov, dtype=float, copy=True)
        else:
            V = np.atleast_2d(np.asarray(self.vcov, dtype=float)).copy()
            V.setflags(write=False)
        est.setflags(write=False)
        if np.ndim(self.df) > 0:  # one df per estimate
            d = np.asarray(self.df, dtype=float).ravel().copy()
            if d.size != est.size:
                raise ValueError(f"df has {d.size} values for {est.size} estimates: give one df or one per estimate")
            d.setflags(write=False)
            object.__setattr__(self, "df", d)
        object.__setattr__(self, "estimates", est)
        object.__setattr__(self, "vcov", V)
        object.__setattr__(self, "keys", self.keys.reset_index(drop=True).copy())
        if len(self.keys) != est.size or V.shape != (est.size, est.size):
            raise ValueError(f"keys ({len(self.keys)} rows), estimates ({est.size}) and vcov {V.shape} sizes "
                             f"disagree: give one key row per estimate and a ({est.size}, {est.size}) vcov")

    # ---------------------------------------------------------------- accessors
    @property
    def se(self) -> np.ndarray:
        d = self.vcov.diagonal() if sparse.issparse(self.vcov) else np.diag(self.vcov)
        return np.sqrt(np.clip(d, 0, None))

    @property
    def covariance_blocks(self) -> np.ndarray | None:
        """Block of every estimate when only within-block covariances were computed (a sparse
        ``vcov``: many domains, as R's ``svyby`` without ``covmat=TRUE``), else None (the
        joint covariance of all estimates is known)."""
        if not sparse.issparse(self.vcov):
            return None
        return csgraph.connected_components(self.vcov, directed=False)[1]

    def conf_int(self, level: float | None = None) -> np.ndarray:
        """(k, 2) confidence limits at ``level`` (default: the table's level)."""
        c = _critical_values(self.level if level is None else level, self.df, self.dist)
        return np.column_stack([self.estimates - c * self.se, self.estimates + c * self.se])

    def to_frame(self) -> pd.DataFrame:
        """Tidy table: key columns, estimate, se, ci_lower, ci_upper, df (+ extras)."""
        ci = self.conf_int()
        out = self.keys.copy()
        out["estimate"] = self.estimates
        out["se"] = self.se
        out["ci_lower"] = ci[:, 0]
        out["ci_upper"] = ci[:, 1]
        out["df"] = self.df
        if self.extra is not None:
            for c in self.extra.columns:
                out[c] = self.extra[c].to_numpy()
        return out

    def __len__(self) -> int:
        return self.estimates.size

    def _select(self, **labels) -> np.ndarray:
        mask = np.ones(len(self.keys), dtype=bool)
        for k, v in labels.items():
            if k not in self.keys.columns:
                raise KeyError(f"no key column {k!r}; available: {list(self.keys.columns)}")
            mask &= (self.keys[k] == v).to_numpy()
        return np.flatnonzero(mask)

    def get(self, **labels) -> Estimate:
        """The single estimate whose keys equal ``labels``, e.g. ``get(measure="fgt0")``."""
        idx = self._select(**labels)
        if idx.size != 1:
            raise KeyError(f"{idx.size} estimates match {labels}; give more labels")
        i = int(idx[0])
        ci = self.conf_int()[i]
        return Estimate(float(self.estimates[i]), float(self.se[i]), float(ci[0]), float(ci[1]),
                        float(np.broadcast_to(self.df, self.estimates.shape)[i]), self.level, dict(self.keys.iloc[i]))

    def subset(self, **labels) -> "EstimateTable":
        idx = self._select(**labels)
        extra = None if self.extra is None else self.extra.iloc[idx].reset_index(drop=True)
        V = self.vcov[idx][:, idx] if sparse.issparse(self.vcov) else self.vcov[np.ix_(idx, idx)]
        df = self.df if np.ndim(self.df) == 0 else self.df[idx]
        return EstimateTable(self.keys.iloc[idx], self.estimates[idx], V, df,
                             self.level, self.dist, self.design, self.title, self.notes, extra)

    def contrast(self, weights: Sequence[float], label: str = "contrast") -> Estimate:
        """A linear combination ``sum c_k theta_k`` with its SE from the joint vcov."""
        c = np.asarray(weights, dtype=float)
        blocks = self.covariance_blocks
        if blocks is not None and np.unique(blocks[c != 0]).size > 1:
            raise InputError("this contrast combines estimates whose covariance was not computed (estimates by many "
                             "domains keep only within-domain covariances); re-estimate with covmat=True")
        est = float(c @ self.estimates)
        se = float(np.sqrt(max(c @ (self.vcov @ c), 0.0)))
        df = self.df if np.ndim(self.df) == 0 else float(np.min(self.df[c != 0], initial=np.inf))  # conservative
        cv = critical_value(self.level, df, self.dist)
        return Estimate(est, se, est - cv * se, est + cv * se, float(df), self.level, {"contrast": label})

    # ---------------------------------------------------------------- display
    def summary(self, digits: int = 4) -> str:
        frame = self.to_frame()
        d = self.design
        lines = [self.title, "=" * max(len(self.title), 20)]
        if d:
            des = (f"design: n={d.get('n')}, PSUs={d.get('n_psu')}, strata={d.get('n_strata')}, "
                   f"df={d.get('df')}, variance={d.get('variance')}")
            if d.get("replicates"):
                des += f" [{d['replicates']}]"
            lines.append(des)
        per_row = np.ndim(self.df) > 0
        lines.append(f"{self.level:.0%} CI: {self.dist}" + (
            (" with each row's df (column df)" if per_row else f" with {self.df:g} df") if self.dist == "t" else ""))
        with pd.option_context("display.width", 140, "display.max_columns", 30, "display.max_rows", 200):
            shown = frame if per_row and self.dist == "t" else frame.drop(columns=["df"])
            lines.append(shown.to_string(index=False, float_format=lambda v: f"{v:.{digits}g}"))
        for n in self.notes:
            lines.append(f"note: {n}")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return self.summary()

    def _repr_html_(self) -> str:  # notebooks
        return f"<b>{self.title}</b>" + self.to_frame().to_html(index=False)


def _critical_values(level: float, df, dist: str):
    """:func:`~remitpov.design.critical_value` for a scalar ``df``, or one per row for an array."""
    if np.ndim(df) == 0:
        return critical_value(level, df, dist)
    from scipy import stats

    z = critical_value(level, None, "normal")
    d = np.asarray(df, dtype=float)
    if dist == "normal":
        return np.full(d.shape, z)
    ok = np.isfinite(d) & (d > 0)
    return np.where(ok, stats.t.ppf((1 + level) / 2, np.where(ok, d, 1.0)), z)


def make_table(keys: pd.DataFrame | Sequence[Mapping[str, Any]], estimates, vcov, design, *,
               level: float = 0.95, dist: str = "t", title: str = "Estimates",
               notes: Sequence[str] = (), extra: pd.DataFrame | None = None) -> EstimateTable:
    """Build an :class:`EstimateTable` from a :class:`~remitpov.design.Design`."""
    if not isinstance(keys, pd.DataFrame):
        keys = pd.DataFrame(list(keys))
    return EstimateTable(keys, estimates, vcov, float(design.df), level, dist, design.describe(), title,
                         tuple(notes), extra)


def concat_tables(tables: Sequence[EstimateTable], title: str | None = None) -> EstimateTable:
    """Stack tables estimated on the SAME design (block-diagonal vcov unless joint)."""
    from scipy.linalg import block_diag

    if not tables:
        raise ValueError("concat_tables needs at least one EstimateTable")
    t0 = tables[0]
    per_row = any(np.ndim(t.df) > 0 for t in tables)  # per-row df travel with their rows
    for i, t in enumerate(tables[1:], start=1):
        if (t.level, t.dist) != (t0.level, t0.dist) or (not per_row and t.df != t0.df):
            raise ValueError(f"concat_tables: table {i} has df={t.df}, level={t.level}, dist={t.dist!r} but table 0 "
                             f"has df={t0.df}, level={t0.level}, dist={t0.dist!r}; stack only tables estimated on "
                             "the same design (their intervals would otherwise be silently recomputed)")
    keys = pd.concat([t.keys for t in tables], ignore_index=True)
    extra = None
    if all(t.extra is not None for t in tables):
        extra = pd.concat([t.extra for t in tables], ignore_index=True)
    if any(sparse.issparse(t.vcov) for t in tables):
        V = sparse.block_diag([sparse.csr_array(t.vcov) for t in tables], format="csr")
    else:
        V = block_diag(*[t.vcov for t in tables])
    df = (np.concatenate([np.broadcast_to(np.asarray(t.df, dtype=float), (len(t),)) for t in tables]) if per_row
          else t0.df)
    return EstimateTable(keys, np.concatenate([t.estimates for t in tables]), V, df, t0.level, t0.dist, t0.design,
                         title or t0.title, tuple(dict.fromkeys(n for t in tables for n in t.notes)), extra)
