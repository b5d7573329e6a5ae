"""The propensity-score model shared by the treatment-effect estimators of
:mod:`remitpov.econometrics.treatment`, the overlap check and the covariate balance table.

Conventions: the treatment is 0/1 with no missing value and the covariates are finite on
every row (nothing is dropped silently); ``weights`` are sampling weights entering the
likelihood; balance statistics follow MatchIt/cobalt (standardised by the unmatched
sample's base-weighted SD, ``sum(w) - sum(w^2)/sum(w)`` variance denominator).
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..exceptions import EstimationError, InputError, OverlapWarning, describe_rows
from ._base import ModelResults, data_column, validated_weights

__all__ = ["PropensityScore", "PropensityScoreResults", "balance_table", "check_overlap"]


def _model_matrices(formula: str, data: pd.DataFrame):
    """(treatment vector, covariate DataFrame incl. intercept) with no silent row drops."""
    from formulaic import model_matrix

    if not isinstance(data, pd.DataFrame):
        raise InputError("data must be a pandas DataFrame")
    if "~" not in formula:
        raise InputError(f"formula {formula!r} must look like 'treat ~ x1 + x2'")
    lhs_name = formula.split("~")[0].strip()
    if lhs_name not in data.columns:
        raise InputError(f"treatment column {lhs_name!r} is not in the data")
    from ..formula import check_formula
    check_formula(formula, data.columns)  # remitpov.formula: only columns and allowed functions
    try:
        mm = model_matrix(formula, data, na_action="ignore")
    except Exception as exc:  # formulaic errors: unknown column, syntax
        raise InputError(f"cannot build the propensity-score design from {formula!r}: {exc}") from exc
    X = mm.rhs
    X = pd.DataFrame(np.asarray(X, dtype=float), columns=list(X.columns), index=data.index)
    t = pd.to_numeric(data[lhs_name], errors="coerce").to_numpy(dtype=float)
    bad = ~np.isfinite(X.to_numpy()).all(axis=1)
    if bad.any():
        cols = [c for c in X.columns if not np.isfinite(X[c].to_numpy()).all()]
        raise InputError(
            f"covariates {cols} are missing or non-finite in {describe_rows(bad)}; impute or drop "
            "those rows explicitly before estimating (rows are never dropped silently)")
    badt = ~np.isin(t, (0.0, 1.0))
    if badt.any():
        raise InputError(f"treatment {lhs_name!r} must be 0/1 (no missing): {describe_rows(badt)} are not")
    if t.min() == t.max():
        raise InputError(f"treatment {lhs_name!r} has a single value ({int(t[0])}): no treated or no controls")
    return lhs_name, t, X


def _weights(data, weights) -> np.ndarray | None:
    if weights is None:
        return None
    return validated_weights(data_column(data, weights, "weights"), len(data))


def _wmean(x, w):
    return np.sum(w * x, axis=0) / np.sum(w)


def _wvar(x, w):
    """Weighted variance with the 'reliability' correction used by MatchIt/cobalt."""
    sw = w.sum()
    m = np.sum(w * x, axis=0) / sw
    denom = sw - np.sum(w**2) / sw
    return np.sum(w * (x - m) ** 2, axis=0) / denom if denom > 0 else np.full(np.shape(m), np.nan)


@dataclass(frozen=True, eq=False)
class PropensityScoreResults(ModelResults):
    """Fitted propensity-score model (logit/probit coefficients with ML SEs).

    ``pscore`` are fitted probabilities, ``linear`` the linear predictor.
    """

    pscore: np.ndarray = field(default=None, repr=False)
    linear: np.ndarray = field(default=None, repr=False)
    link: str = "logit"
    exog: pd.DataFrame = field(default=None, repr=False)


class PropensityScore:
    """Propensity-score model ``P(T=1 | X)`` (logit or probit via statsmodels).

    Parameters
    ----------
    formula : str
        ``"treat ~ age + educ + C(region)"`` (formulaic syntax; an intercept is added).
    data : DataFrame
    weights : str or array, optional
        Sampling weights (weighted likelihood).
    link : {"logit", "probit"}
    """

    def __init__(self, formula: str, data: pd.DataFrame, *, weights=None, link: str = "logit"):
        if link not in ("logit", "probit"):
            raise InputError(f"link={link!r}: use 'logit' or 'probit'")
        self.formula, self.data, self.link = formula, data, link
        self.treatment, self.t, self.X = _model_matrices(formula, data)
        self.w = _weights(data, weights)

    def fit(self, *, separation_tol: float = 1e-12, maxiter: int = 100) -> PropensityScoreResults:
        """Fit by (weighted) maximum likelihood.

        Raises
        ------
        EstimationError
            On perfect or quasi-perfect prediction (separation): fitted probabilities
            within ``separation_tol`` of 0 or 1, or a non-converged fit. The message names
            covariates that separate the groups on their own.
        """
        import statsmodels.api as sm
        from statsmodels.tools.sm_exceptions import ConvergenceWarning, PerfectSeparationWarning

        X, t = self.X.to_numpy(), self.t
        w = np.ones_like(t) if self.w is None else self.w
        rank = np.linalg.matrix_rank(X * np.sqrt(w)[:, None])
        if rank < X.shape[1]:
            raise EstimationError(
                f"the propensity-score covariates are collinear (rank {rank} < {X.shape[1]} columns "
                f"{list(self.X.columns)}); drop a redundant covariate or category")
        sep = self._separating_columns()
        if sep:
            raise EstimationError(self._separation_message(f"covariates {sep} separate treated and controls"))
        link = sm.families.links.Logit() if self.link == "logit" else sm.families.links.Probit()
        fam = sm.families.Binomial(link=link)
        msgs = []
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                res = sm.GLM(t, X, family=fam, var_weights=w * len(w) / w.sum()).fit(maxiter=maxiter)
            except Exception as exc:  # older statsmodels raise PerfectSeparationError
                raise EstimationError(self._separation_message(str(exc))) from exc
        for c in caught:
            if issubclass(c.category, (PerfectSeparationWarning, ConvergenceWarning)):
                msgs.append(str(c.message))
        eta = X @ res.params
        p = np.asarray(res.fittedvalues, dtype=float)
        extreme = ((p < separation_tol) | (p > 1 - separation_tol)) & (w > 0)
        if msgs or extreme.any() or not np.all(np.isfinite(res.bse)):
            raise EstimationError(self._separation_message(
                f"{describe_rows(extreme)} have fitted probabilities within {separation_tol:g} of 0 or 1"
                + (f"; statsmodels: {msgs[0]}" if msgs else "")))
        names = list(self.X.columns)
        return PropensityScoreResults(
            params=pd.Series(res.params, index=names), cov=pd.DataFrame(res.cov_params(), index=names, columns=names),
            nobs=len(t), model_name=f"Propensity score ({self.link})", dep_var=self.treatment, cov_type="ML",
            method=self.link, info={"Log-likelihood": float(res.llf)}, pscore=p, linear=eta, link=self.link,
            exog=self.X)

    def _separating_columns(self) -> list[str]:
        """Covariates that alone predict the treatment perfectly (complete separation by a
        threshold, or a 0/1 dummy whose 1s (or 0s) are all treated or all controls)."""
        sep = []
        for c in self.X.columns:
            x = self.X[c].to_numpy()
            if np.ptp(x) == 0:
                continue
            x1, x0 = x[self.t == 1], x[self.t == 0]
            if x1.min() >= x0.max() or x1.max() <= x0.min():
                sep.append(c)
                continue
            if np.unique(x).size == 2:  # a category present in one group only
                hi = x == x.max()
                if self.t[hi].min() == self.t[hi].max() or self.t[~hi].min() == self.t[~hi].max():
                    sep.append(c)
        return sep

    def _separation_message(self, detail: str) -> str:
        sep = self._separating_columns()
        who = f" Covariates that predict the treatment perfectly on their own: {sep}." if sep else ""
        return (f"perfect prediction (separation) in the propensity-score model for {self.treatment!r}: "
                f"{detail}.{who} Drop or recode those covariates (merge sparse categories), or restrict "
                "the sample to the region of common support.")


def check_overlap(ps, t, estimand, tol, w):
    """OverlapWarning for scores near 0/1 where they matter; EstimationError if no overlap at all."""
    pt, pc = ps[t == 1], ps[t == 0]
    if pt.min() > pc.max() or pt.max() < pc.min():
        raise EstimationError(
            f"no overlap: propensity scores of treated [{pt.min():.4g}, {pt.max():.4g}] and controls "
            f"[{pc.min():.4g}, {pc.max():.4g}] do not intersect; the effect is not identified")
    probs = []
    if estimand in ("ATT", "ATE"):
        hi = (ps > 1 - tol) & (t == 1)
        if hi.any():
            probs.append(f"{describe_rows(hi)} treated have a propensity score above {1 - tol:g}")
    if estimand in ("ATC", "ATE"):
        lo = (ps < tol) & (t == 0)
        if lo.any():
            probs.append(f"{describe_rows(lo)} controls have a propensity score below {tol:g}")
    if probs:
        warnings.warn("weak overlap: " + "; ".join(probs) + ". Estimates rest on few comparable units "
                      "(consider trimming or a caliper).", OverlapWarning, stacklevel=3)


def balance_table(X: pd.DataFrame, t: np.ndarray, w_before: np.ndarray, w_after: np.ndarray | None = None,
                  estimand: str = "ATT") -> pd.DataFrame:
    """Covariate balance: standardised mean differences and variance ratios.

    SMD = (mean_treated - mean_control) / s, with s the standard deviation of the
    treated (ATT), of the controls (ATC) or ``sqrt((s_t^2 + s_c^2)/2)`` (ATE), computed
    on the *unmatched* sample with the base weights and kept fixed after matching or
    weighting (MatchIt/cobalt convention). Binary 0/1 covariates use
    ``sqrt(p(1-p))`` and have no variance ratio. Weighted variances use the
    ``sum(w) - sum(w^2)/sum(w)`` denominator.
    """
    cols = [c for c in X.columns if np.ptp(X[c].to_numpy()) > 0]
    A = X[cols].to_numpy()
    binary = np.array([np.isin(np.unique(A[:, j]), (0.0, 1.0)).all() for j in range(A.shape[1])])
    t1, t0 = t == 1, t == 0

    def stats_(w):
        m1, m0 = _wmean(A[t1], w[t1][:, None]), _wmean(A[t0], w[t0][:, None])
        v1, v0 = _wvar(A[t1], w[t1][:, None]), _wvar(A[t0], w[t0][:, None])
        return m1, m0, v1, v0

    m1, m0, v1, v0 = stats_(w_before)
    p1, p0 = m1, m0
    bv1 = np.where(binary, p1 * (1 - p1), v1)
    bv0 = np.where(binary, p0 * (1 - p0), v0)
    s = {"ATT": np.sqrt(bv1), "ATC": np.sqrt(bv0), "ATE": np.sqrt((bv1 + bv0) / 2)}[estimand]
    with np.errstate(divide="ignore", invalid="ignore"):
        out = pd.DataFrame({"mean_treated": m1, "mean_control": m0, "smd": (m1 - m0) / s,
                            "var_ratio": np.where(binary, np.nan, v1 / v0)}, index=cols)
        if w_after is not None:
            a1, a0, u1, u0 = stats_(w_after)
            out["mean_treated_adj"] = a1
            out["mean_control_adj"] = a0
            out["smd_adj"] = (a1 - a0) / s
            out["var_ratio_adj"] = np.where(binary, np.nan, u1 / u0)
    out.index.name = "covariate"
    return out
