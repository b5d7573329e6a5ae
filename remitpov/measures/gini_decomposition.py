"""Lerman--Yitzhaki (1985) decomposition of the Gini by income source, with SEs."""
from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Mapping

import numpy as np
import pandas as pd

from ..core.ranked import Ranked, concentration_if, concentration_point
from ..core.statistic import Statistic
from ..core.validate import checked
from ..exceptions import DataWarning, InputError
from ..results import EstimateTable
from .inequality_base import Prep as _Prep
from .inequality_base import check_usable as _check_domains
from .inequality_base import finish as _finish
from .inequality_base import legacy_deff
from .inequality_base import part as _part
from .inequality_base import prep as _prep
from .inequality_base import skips_empty_domains
from .inequality_base import usable_masks as _domain_masks

COMPONENTS = ("share", "gini", "correlation", "contribution", "contribution_share", "marginal_effect")


@dataclass(frozen=True, eq=False)
class GiniDecomposition:
    """Lerman--Yitzhaki decomposition of the Gini by income source (immutable).

    Attributes
    ----------
    table : EstimateTable
        All components with their joint covariance. Keys: ``measure`` (``"gini"`` for
        the total, else one of ``share`` (S_k), ``gini`` (G_k), ``correlation`` (R_k),
        ``contribution`` (S_k G_k R_k), ``contribution_share`` (S_k G_k R_k / G),
        ``marginal_effect`` (S_k G_k R_k / G - S_k)), ``source`` and the domain column.
    sources : tuple of str
    byname : str
    """

    table: EstimateTable
    sources: tuple[str, ...]
    byname: str
    notes: tuple[str, ...] = field(default_factory=tuple)

    def to_frame(self) -> pd.DataFrame:
        """Tidy long frame: domain, source, measure, estimate, se, ci_lower, ci_upper, df."""
        return self.table.to_frame()

    def wide(self, value: str = "estimate") -> pd.DataFrame:
        """One row per (domain, source), one column per component (``value`` column)."""
        f = self.to_frame()
        f = f[f["source"] != "total"]
        return f.pivot_table(index=[self.byname, "source"], columns="measure", values=value, sort=False)[
            list(COMPONENTS)].reset_index()

    @property
    def gini(self) -> pd.DataFrame:
        return self.to_frame().query("source == 'total'")

    def summary(self, digits: int = 4) -> str:
        lines = ["Lerman-Yitzhaki decomposition of the Gini", "=" * 42]
        f = self.to_frame()
        for dom, g in f.groupby(self.byname, sort=False):
            tot = g[g["source"] == "total"].iloc[0]
            lines.append(f"{self.byname}={dom}: Gini {tot['estimate']:.{digits}f} (SE {tot['se']:.{digits}f})")
            w = self.wide().query(f"`{self.byname}` == @dom").drop(columns=[self.byname])
            with pd.option_context("display.width", 140, "display.max_columns", 30):
                lines.append(w.to_string(index=False, float_format=lambda v: f"{v:.{digits}f}"))
        for n in self.notes + self.table.notes:
            lines.append(f"note: {n}")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return self.summary()


@checked
def gini_decomposition(survey, sources: Mapping[str, object], total=None, by=None, *, level: str = "person",
                       na_rm: bool = False, ci_level: float = 0.95, dist: str = "t",
                       residual_tol: float = 1e-9, deff: bool | str | None = None) -> GiniDecomposition:
    """Lerman--Yitzhaki (1985) decomposition of the Gini by income source.

    ``G = sum_k S_k G_k R_k`` with ``S_k = mu_k / mu`` (share of total income), ``G_k``
    the Gini of source k (ranked by itself), ``R_k = cov(y_k, F(y)) / cov(y_k, F(y_k))``
    (Gini correlation), contribution ``S_k G_k R_k = 2 cov(y_k, F(y)) / mu``, its share
    of the Gini, and the relative marginal effect of a 1 % increase in source k,
    ``dG/de / G = S_k G_k R_k / G - S_k`` (Stark, Taylor & Yitzhaki 1986).

    All ranks are weighted mid-ranks (tied incomes share the average rank), the same
    rule as :func:`gini`, so the contributions sum to the total Gini up to rounding and
    everything is tie-order invariant.

    Parameters
    ----------
    sources : dict name -> column (or array)
    total : str or array, optional
        Total income. Default: the sum of the sources. If given and it differs from the
        sum of the sources by more than ``residual_tol`` (relative), a source
        ``"residual"`` = total - sum of sources is added so the decomposition is exact.

    deff : None, False, True or "replace"
        Design effects (column ``deff``) as :func:`remitpov.gini`: None (default) computes
        them with a FutureWarning that the default becomes False.

    Standard errors: linearisation through influence values of each component (the
    contribution's is the exact weight-derivative of ``2 cov(y_k, F(y)) / mu``, the
    other components follow by the chain rule), or replicate weights (every component
    recomputed, sources re-ranked, under each replicate). A domain without a usable unit
    of positive weight has NaN components (an
    :class:`~remitpov.core.statistic.EmptyDomainWarning`).
    """
    if not sources:
        raise InputError("gini_decomposition needs at least one income source")
    names = list(sources)
    cols = [sources[k] for k in names]
    first = total if total is not None else cols[0]
    extra = cols if total is not None else cols[1:]
    p, X = _prep(survey, first, level, by, na_rm, extra=extra)
    if total is not None:
        y, Yk = p.y, list(X)
    else:
        Yk = [p.y] + list(X)
        y = np.sum(Yk, axis=0)
        p = _Prep(p.design, p.survey, y, p.ok, p.codes, p.dlabels, p.byname, "total")
    notes = ["Lerman-Yitzhaki decomposition with weighted mid-ranks"]
    if total is not None:
        resid = y - np.sum(Yk, axis=0)
        if np.abs(resid).max() > residual_tol * max(np.abs(y).max(), 1.0):
            names.append("residual")
            Yk.append(resid)
            notes.append("total differs from the sum of the sources: a 'residual' source was added")
        else:
            # make the sources add up exactly to the total used for ranking
            y = np.sum(Yk, axis=0)
            p = _Prep(p.design, p.survey, y, p.ok, p.codes, p.dlabels, p.byname, p.label)
    stat = decomposition_statistic(p, Yk, tuple(names), tuple(notes))
    tab = _finish(p, stat, ci_level, dist, legacy_deff(deff, "gini_decomposition"))
    return GiniDecomposition(tab, tuple(names), p.byname, ())


@skips_empty_domains
def decomposition_statistic(p: _Prep, Yk, names: tuple, notes: tuple) -> Statistic:
    """The Lerman--Yitzhaki components of the sources ``Yk`` of ``p.y`` in every domain of ``p``
    (rows domain-major: the total Gini, then every source's :data:`COMPONENTS`)."""
    notes = list(notes)
    y = p.y
    masks = _domain_masks(p)
    _check_domains(p, masks, "gini_decomposition")
    w = p.design.weights
    K = len(Yk)
    rk = Ranked(y)
    rks = [Ranked(v) for v in Yk]
    D = masks.shape[1]
    per = 1 + K * len(COMPONENTS)
    est = np.empty(D * per)
    Z = np.zeros((p.design.n, D * per))
    rk_d = [rk.restrict(masks[:, d]) for d in range(D)]
    rks_d = [[rv.restrict(masks[:, d]) for rv in rks] for d in range(D)]
    zero: list[str] = []  # (source, domain) pairs where the source is zero for every unit
    for d in range(D):
        wd = w * masks[:, d]
        T = wd @ y
        if not T > 0:
            raise InputError(f"gini_decomposition: total income is <= 0 in {p.byname}={p.dlabels[d]!r}")
        G, zG = concentration_if(rk_d[d], y, y, w)
        base = d * per
        est[base], Z[:, base] = G, zG
        with np.errstate(divide="ignore", invalid="ignore"):
            for k, (v, rv) in enumerate(zip(Yk, rks_d[d])):
                Tk = wd @ v
                if not (wd * v != 0).any():  # the source is zero for everyone in the domain
                    zero.append(f"{names[k]!r} ({p.byname}={p.dlabels[d]!r})")
                S = Tk / T
                zS = (v - S * y) / T
                Gk, zGk = concentration_if(rv, v, v, w)
                C, zC = concentration_if(rk_d[d], v, y, w)
                R = C / (S * Gk)
                zR = R * (zC / C - zS / S - zGk / Gk)
                sh = C / G
                zsh = (zC - sh * zG) / G
                me = sh - S
                zme = zsh - zS
                j = base + 1 + k * len(COMPONENTS)
                est[j:j + 6] = [S, Gk, R, C, sh, me]
                Z[:, j:j + 6] = np.column_stack([zS, zGk, zR, zC, zsh, zme])
        Z[:, base:base + per] *= masks[:, d][:, None]

    def rep(W):
        out = []
        with np.errstate(divide="ignore", invalid="ignore"):
            for d in range(D):
                Wd = W * masks[:, d][:, None]
                G = concentration_point(rk_d[d], y, y, W)
                T = Wd.T @ y
                cols_ = [G]
                for v, rv in zip(Yk, rks_d[d]):
                    S = (Wd.T @ v) / T
                    Gk = concentration_point(rv, v, v, W)
                    C = concentration_point(rk_d[d], v, y, W)
                    cols_ += [S, Gk, C / (S * Gk), C, C / G, C / G - S]
                out.append(np.column_stack(cols_))
        return np.hstack(out)

    if zero:
        msg = (f"gini_decomposition: source {', '.join(zero[:5])}{' ...' if len(zero) > 5 else ''} is zero for every "
               "unit: its share, contribution and marginal effect are 0 but its Gini and Gini correlation are "
               "undefined (NaN, with NaN SEs); drop the source or the domain to avoid them")
        warnings.warn(msg, DataWarning, stacklevel=5)  # statistic, skips_empty_domains, gini_decomposition, checked
        notes.append(msg)
    rows = []
    for dl in p.dlabels:
        rows.append({"measure": "gini", "source": "total", p.byname: dl})
        for nm in names:
            for c in COMPONENTS:
                rows.append({"measure": c, "source": nm, p.byname: dl})
    return _part(p, pd.DataFrame(rows), est, Z, replicate=rep, title="Lerman-Yitzhaki Gini decomposition",
                 notes=notes, n_obs=np.repeat(masks.sum(0), per))


__all__ = ["gini_decomposition", "GiniDecomposition", "COMPONENTS", "decomposition_statistic"]
