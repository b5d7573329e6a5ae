"""Treatment effects of receiving remittances: propensity-score matching, IPW and AIPW.

The treatment is a 0/1 indicator (e.g. "the household receives remittances"); the
outcome any numeric variable (poverty status 0/1, income per capita, school attendance...).
Three estimators share one propensity-score model (logit or probit, fitted with
statsmodels, optionally with survey weights):

* :class:`PropensityScoreMatching` -- nearest-neighbour matching on the propensity score
  (or its linear predictor), with or without replacement, ``k`` neighbours, caliper.

  - Without replacement: MatchIt's greedy algorithm (``matchit(method="nearest")``):
    treated units are matched in decreasing order of the score (``order="largest"``),
    each takes the closest still-available control; with ``k > 1`` the matching runs in
    ``k`` rounds (every treated unit gets its first control, then its second...).
    Control weights are ``sum over its treated of 1/k_t`` as in MatchIt. Only ATT.
  - With replacement: the Abadie--Imbens estimator of R's ``Matching::Match``: every
    unit of the group to be matched is paired with its ``k`` nearest units of the other
    group; ties (distances within ``distance_tolerance`` of the k-th smallest one) are all
    used with equal weights (``ties=True``). As in ``Match`` (default inverse-variance
    weight), distances are squared differences of the score divided by its variance, and
    units within ``distance_tolerance`` (1e-5) of the k-th smallest squared distance are
    ties -- on the probability scale this is a wide band (|difference| up to about
    0.001 when the score's SD is 0.3). ATT, ATC or ATE.

  - Mahalanobis distance (``distance="mahalanobis"``), Mahalanobis within a caliper on the
    score (``mahvars=``), caliper on the linear score (``distance="linear"``), k:1 with
    replacement and exactly ``k`` distinct controls (``replace=True, ties=False``): MatchIt
    4.5.1's algorithms, see :mod:`remitpov.econometrics.matching` (which also lists where
    MatchIt 4.5.1 itself deviates and what ``matchit_compat`` reproduces).

* :class:`PropensityScoreSubclassification` -- subclasses at score quantiles with MatchIt's
  ATT/ATC/ATE weights (``method="subclass"``); HC3 SE as the MatchIt vignette.
* ``trim=`` on every estimator: propensity-score trimming at a fixed alpha or the Crump et
  al. (2009) optimal alpha (:mod:`remitpov.robustness`, which also has Rosenbaum bounds).
* :class:`InverseProbabilityWeighting` -- normalised (Hajek) IPW.
* :class:`AugmentedIPW` -- doubly robust AIPW with linear outcome regressions fitted
  separately for treated and controls (normalised augmentation terms).

Standard errors
---------------
* Matching with replacement, no survey design: Abadie & Imbens (2006) variance, exactly
  as ``Matching::Match`` (``Var.calc=0``: homoskedastic; ``var_matches=J>0``:
  heteroskedastic with J within-group matches). This treats the propensity score as
  **known**: the Abadie--Imbens (2016) adjustment for the estimated score is *not*
  applied (for the ATT it can go either way; for the ATE it would reduce the SE).
* Matching without replacement: the matched-pair cluster SE, i.e. the SE of the
  treatment coefficient of a weighted regression ``y ~ treat`` on the matched sample with
  CR1 cluster-robust variance by matched set (what MatchIt's vignette recommends,
  ``vcovCL(cluster=~subclass)``).
* ``se="design"`` (any matching, and the default when ``weights``/``psu`` are given):
  the weighted difference in means with the matching weights held fixed, linearised and
  passed to :meth:`remitpov.design.Design.vcov` (PSU clusters, strata). It does not
  include the uncertainty of the matching itself.
* IPW/AIPW: M-estimation sandwich of the stacked estimating equations (propensity-score
  score equations, outcome regressions, the means), so the estimation of the score is
  accounted for; the meat is computed by :meth:`Design.vcov` from the influence values,
  so PSU clustering and strata are honoured. Without a design every row is its own PSU
  (variance ``n/(n-1)`` times the HC0 sandwich).
* ``bootstrap=B`` on IPW/AIPW: nonparametric bootstrap (resampling PSUs within strata
  when a design is given) as an alternative, seeded.

Weights: ``weights`` are sampling (expansion) weights; they enter the propensity model
(weighted likelihood), the means and the matching (a control's contribution is its
weight share inside a treated unit's matched set).
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any, Mapping

import numpy as np
import pandas as pd
from scipy import stats

from ..design import Design
from ..exceptions import EstimationError, InputError, OverlapWarning, describe_rows
from ._base import ModelResults, data_column, validated_weights
from .matching import greedy_general, k_nearest_with_replacement, mahalanobis_coordinates, wls_difference_hc3

__all__ = [
    "PropensityScore", "PropensityScoreResults", "PropensityScoreMatching", "InverseProbabilityWeighting",
    "AugmentedIPW", "TreatmentEffectResults", "MatchingResults", "balance_table",
    "PropensityScoreSubclassification",
]

ESTIMANDS = ("ATT", "ATE", "ATC")


# ----------------------------------------------------------------------------- helpers
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


def _outcome(data: pd.DataFrame, outcome) -> tuple[str, np.ndarray]:
    if outcome is None:
        raise InputError("give the outcome: outcome='re78' (a column name) or an array")
    name = outcome if isinstance(outcome, str) else "y"
    y = pd.to_numeric(pd.Series(data_column(data, outcome, "outcome")), errors="coerce").to_numpy(dtype=float)
    bad = ~np.isfinite(y)
    if bad.any():
        raise InputError(f"outcome {name!r} is missing or non-finite in {describe_rows(bad)}; "
                         "drop or impute those rows explicitly")
    return name, y


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


# ----------------------------------------------------------------------------- propensity score
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


def _check_overlap(ps, t, estimand, tol, w):
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


# ----------------------------------------------------------------------------- results
@dataclass(frozen=True, eq=False)
class TreatmentEffectResults(ModelResults):
    """Results of a treatment-effect estimator.

    ``params`` holds the effect (``"ATT"``, ``"ATE"`` or ``"ATC"``) and the two potential
    outcome means (``"E[Y(1)]"``, ``"E[Y(0)]"`` over the target population).
    Extra attributes: ``estimand``, ``pscore`` (fitted scores), ``treatment`` (0/1),
    ``unit_weights`` (matching or IPW weights, base weights included), ``balance``
    (see :func:`balance_table`), ``ps_results`` (:class:`PropensityScoreResults`).
    """

    estimand: str = "ATT"
    pscore: np.ndarray = field(default=None, repr=False)
    treatment: np.ndarray = field(default=None, repr=False)
    unit_weights: np.ndarray = field(default=None, repr=False)
    balance: pd.DataFrame = field(default=None, repr=False)
    ps_results: PropensityScoreResults = field(default=None, repr=False)
    extra: Mapping[str, Any] = field(default_factory=dict, repr=False)

    @property
    def effect(self) -> float:
        return float(self.params[self.estimand])

    @property
    def std_error(self) -> float:
        return float(self.std_errors[self.estimand])

    def overlap(self, bins: int = 20) -> pd.DataFrame:
        """Data for an overlap plot: histogram of the propensity score by group.

        Returns a DataFrame with ``bin_left``, ``bin_right``, ``treated`` and ``control``
        (weighted shares of each group in the bin, base weights).
        """
        edges = np.linspace(0, 1, bins + 1)
        base = self.extra.get("base_weights")
        w = np.ones_like(self.pscore) if base is None else base
        out = {"bin_left": edges[:-1], "bin_right": edges[1:]}
        for lab, g in (("treated", 1), ("control", 0)):
            m = self.treatment == g
            h, _ = np.histogram(self.pscore[m], bins=edges, weights=w[m])
            out[lab] = h / h.sum()
        return pd.DataFrame(out)

    def overlap_data(self) -> pd.DataFrame:
        """One row per unit: ``pscore`` and ``group`` ("treated"/"control") for plotting."""
        return pd.DataFrame({"pscore": self.pscore,
                             "group": np.where(self.treatment == 1, "treated", "control")})


@dataclass(frozen=True, eq=False)
class MatchingResults(TreatmentEffectResults):
    """Matching results; ``pairs`` lists (treated row, control row, weight) of every match,
    ``matched`` flags the rows in the matched sample (row positions of the input data)."""

    pairs: pd.DataFrame = field(default=None, repr=False)
    matched: np.ndarray = field(default=None, repr=False)

    def matched_data(self, data: pd.DataFrame) -> pd.DataFrame:
        """The matched sample (rows of ``data`` with positive weight) with ``weights`` and
        ``subclass`` (matched-set id; only for matching without replacement)."""
        out = data.iloc[np.flatnonzero(self.matched)].copy()
        out["weights"] = self.unit_weights[self.matched]
        if "subclass" in self.extra:
            out["subclass"] = self.extra["subclass"][self.matched]
        return out


    def regression_adjusted(self, data: pd.DataFrame, covariates: str, *, interact: bool = False,
                            level: float = 0.95) -> pd.Series:
        """Regression-adjusted effect on the matched sample (MatchIt vignette).

        ``interact=False``: coefficient of the treatment in the weighted regression
        ``y ~ treat + covariates`` on the matched data (MatchIt <= 4.4 vignette).
        ``interact=True``: g-computation with ``y ~ treat * (covariates)``: mean over the
        matched treated (weighted) of predicted(treat=1) - predicted(treat=0) (what
        ``marginaleffects::avg_comparisons`` gives in the MatchIt >= 4.5 vignette).
        SEs are CR1 cluster-robust by matched set (``subclass``; by unit when matching
        with replacement), the delta method for the g-computation.
        Returns a Series with ``estimate``, ``std_error``, ``ci_lower``, ``ci_upper``.
        """
        import statsmodels.api as sm
        from formulaic import model_matrix

        md = self.matched_data(data)
        y = md[self.dep_var].to_numpy(dtype=float) if self.dep_var in md else None
        if y is None:
            raise InputError(f"outcome {self.dep_var!r} not in data")
        tr = self.treatment[self.matched].astype(float)
        from ..formula import check_formula
        check_formula(covariates.split("~")[-1], md.columns)  # remitpov.formula
        Q = model_matrix(covariates.split("~")[-1], md, na_action="raise")
        Q = np.asarray(Q.drop(columns=[c for c in Q.columns if c == "Intercept"]), dtype=float)
        n = len(y)
        if interact:
            Qc = Q
            X = np.column_stack([np.ones(n), tr, Qc, tr[:, None] * Qc])
        else:
            X = np.column_stack([np.ones(n), tr, Q])
        groups = md["subclass"].to_numpy() if "subclass" in md else np.flatnonzero(self.matched)
        res = sm.WLS(y, X, weights=md["weights"].to_numpy()).fit(cov_type="cluster", cov_kwds={"groups": groups})
        if not interact:
            est, se = float(res.params[1]), float(res.bse[1])
        else:
            t1 = tr == 1
            w1 = md["weights"].to_numpy()[t1]
            # d/dbeta of mean_w[x1'b - x0'b] over matched treated
            X1 = np.column_stack([np.ones(t1.sum()), np.ones(t1.sum()), Q[t1], Q[t1]])
            X0 = np.column_stack([np.ones(t1.sum()), np.zeros(t1.sum()), Q[t1], np.zeros_like(Q[t1])])
            g = w1 @ (X1 - X0) / w1.sum()
            est = float(g @ res.params)
            se = float(np.sqrt(g @ res.cov_params() @ g))
        c = stats.norm.ppf(0.5 + level / 2)
        return pd.Series({"estimate": est, "std_error": se, "ci_lower": est - c * se, "ci_upper": est + c * se})


#: old spellings of the matching SEs -> registry names (the same numbers)
MATCHING_SE_LEGACY = {"robust": "HC3", "pairs": "CR1"}


def _matching_se(se, allowed, extra) -> str:
    """Registry name of a matching ``se=`` (old ``"robust"``/``"pairs"``: a ``FutureWarning``)."""
    from .covariance import resolve_cov_type

    return resolve_cov_type(se, allowed=allowed, extra=extra, legacy=MATCHING_SE_LEGACY, stacklevel=4, param="se")


def _effect_results(cls, estimand, mu1, mu0, V3, *, nobs, model_name, dep_var, cov_type, method, df, notes,
                    **kw):
    """params (effect, E[Y1], E[Y0]) from the two means and their 2x2 vcov."""
    C = np.array([[1.0, -1.0], [1.0, 0.0], [0.0, 1.0]])
    est = C @ np.array([mu1, mu0])
    V = C @ V3 @ C.T
    names = [estimand, "E[Y(1)]", "E[Y(0)]"]
    return cls(params=pd.Series(est, index=names), cov=pd.DataFrame(V, index=names, columns=names), nobs=nobs,
               model_name=model_name, dep_var=dep_var, cov_type=cov_type, method=method,
               dist="t" if df is not None else "normal", df_resid=df, notes=tuple(notes), estimand=estimand,
               equations={"Effect": (estimand,), "Potential-outcome means": ("E[Y(1)]", "E[Y(0)]")}, **kw)


class _TreatmentModel:
    """Common constructor: formula for the propensity score, outcome separately."""

    def __init__(self, formula: str, data: pd.DataFrame, outcome, *, weights=None, psu=None, strata=None,
                 link: str = "logit"):
        self.formula, self.data = formula, data
        self.ps_model = PropensityScore(formula, data, weights=weights, link=link)
        self.t = self.ps_model.t
        self.X = self.ps_model.X
        self.outcome_name, self.y = _outcome(data, outcome)
        self.w_given = self.ps_model.w is not None
        self.w = self.ps_model.w if self.ps_model.w is not None else np.ones(len(data))
        self.psu = data_column(data, psu, "psu")
        self.strata = data_column(data, strata, "strata")
        self.link = link

    @classmethod
    def from_formula(cls, formula: str, data: pd.DataFrame, outcome, **kwargs):
        """Same as the constructor (linearmodels-style alias)."""
        return cls(formula, data, outcome, **kwargs)

    @property
    def has_design(self) -> bool:
        return self.w_given or self.psu is not None or self.strata is not None

    def design(self) -> Design:
        return Design.from_arrays(self.w, strata=self.strata, psu=self.psu)

    def _weighted_means(self, W, se, subclass=None):
        """Difference of W-weighted means; SE by matched-set clusters or the design."""
        t, y = self.t, self.y
        m1, m0 = (t == 1) & (W > 0), (t == 0) & (W > 0)
        S1, S0 = W[m1].sum(), W[m0].sum()
        mu1 = float(W[m1] @ y[m1] / S1)
        mu0 = float(W[m0] @ y[m0] / S0)
        if se == "none":
            return mu1, mu0, np.full((2, 2), np.nan), "none", None
        # influence values for (mu1, mu0) with W fixed: sum_i W_i z_i
        Z = np.zeros((len(t), 2))
        Z[m1, 0] = (y[m1] - mu1) / S1
        Z[m0, 1] = (y[m0] - mu0) / S0
        if se == "HC3":
            mu1, mu0, V = wls_difference_hc3(y, t.astype(float), W)
            return mu1, mu0, V, "HC3 (matching weights fixed)", None
        if se == "CR1":
            if subclass is None:
                raise InputError("se='CR1' (clustered by matched pair) needs matched pairs (matching without "
                                 "replacement); use 'HC3'")
            # CR1 cluster-robust by matched set = vcovCL(lm(y ~ treat, weights), cluster=~subclass)
            keep = W > 0
            g = subclass[keep]
            G = int(np.unique(g).size)
            U = np.zeros((G, 2))
            Wz = W[keep, None] * Z[keep]
            for j in range(2):
                U[:, j] = np.bincount(pd.factorize(g)[0], weights=Wz[:, j], minlength=G)
            nk = int(keep.sum())
            V = (G / (G - 1)) * ((nk - 1) / (nk - 2)) * (U.T @ U)
            return mu1, mu0, V, "matched-set cluster (CR1)", G - 1
        # design: replace base weights by matching weights, keep PSUs/strata
        d = Design.from_arrays(W, strata=self.strata, psu=self.psu, lonely_psu="adjust")
        V = d.vcov(np.array([mu1, mu0]), Z)
        return mu1, mu0, V, "design (matching weights fixed)", d.df

    def _covariate_matrix(self, rhs: str) -> np.ndarray:
        """Model matrix (no intercept) of a right-hand side, no silent row drops."""
        from formulaic import model_matrix

        try:
            Q = model_matrix(rhs.split("~")[-1], self.data, na_action="ignore")
        except Exception as exc:  # formulaic errors: unknown column, syntax
            raise InputError(f"cannot build covariates from {rhs!r}: {exc}") from exc
        Q = Q.drop(columns=[c for c in Q.columns if c == "Intercept"])
        Q = np.asarray(Q, dtype=float)
        bad = ~np.isfinite(Q).all(axis=1)
        if bad.any():
            raise InputError(f"covariates {rhs!r} are missing or non-finite in {describe_rows(bad)}; impute or "
                             "drop those rows explicitly")
        return Q

    def _trim(self, ps, trim):
        """(keep mask, info dict or None) for the ``trim=`` option (see fit)."""
        if trim is None:
            return np.ones(len(ps), dtype=bool), None
        from ..robustness import trim_mask

        keep, alpha = trim_mask(ps, trim, self.w if self.w_given else None)
        t = self.t
        d1, d0 = int(np.sum(~keep & (t == 1))), int(np.sum(~keep & (t == 0)))
        if not (np.any(keep & (t == 1)) and np.any(keep & (t == 0))):
            raise EstimationError(f"trimming at alpha={alpha:.4g} leaves no treated or no control unit")
        rule = "Crump et al. (2009) optimal rule" if isinstance(trim, str) else "fixed threshold"
        note = (f"trimmed to propensity scores in [{alpha:.4g}, {1 - alpha:.4g}] ({rule}): {d1} treated and {d0} "
                "controls dropped; the estimand is the effect in the retained population (alpha held fixed)")
        return keep, {"alpha": alpha, "rule": rule, "dropped_treated": d1, "dropped_controls": d0, "keep": keep,
                      "note": note}


# ----------------------------------------------------------------------------- matching
class PropensityScoreMatching(_TreatmentModel):
    """Nearest-neighbour matching on the propensity score.

    Parameters
    ----------
    formula : str
        Propensity-score model, ``"treat ~ age + educ + race + ..."``.
    data : DataFrame
    outcome : str or array
        Outcome column (poverty status, income...), given separately from the formula.
    weights, psu, strata : str or array, optional
        Survey design (sampling weights, PSU and stratum labels).
    link : {"logit", "probit"}

    Examples
    --------
    >>> m = PropensityScoreMatching("treat ~ age + educ + race + married + nodegree + re74 + re75",
    ...                             lalonde, outcome="re78")                       # doctest: +SKIP
    >>> res = m.fit()            # MatchIt's default: 1:1 greedy, no replacement  # doctest: +SKIP
    >>> res.params["ATT"], res.std_errors["ATT"]                                   # doctest: +SKIP
    """

    def fit(self, *, estimand: str = "ATT", k: int = 1, replace: bool = False, caliper: float | None = None,
            distance: str = "pscore", order: str | None = None, ties: bool = True,
            distance_tolerance: float = 1e-5, se: str | None = None, var_matches: int = 0,
            overlap_tol: float = 0.01, matchit_compat: bool = False, mahvars: str | None = None,
            trim: float | str | None = None) -> MatchingResults:
        """Match and estimate.

        Parameters
        ----------
        estimand : {"ATT", "ATE", "ATC"}
            ATE/ATC need ``replace=True``.
        k : int
            Number of neighbours (MatchIt ``ratio`` / Matching ``M``).
        replace : bool
            Matching with replacement (Abadie--Imbens / ``Matching::Match``) or greedy
            without replacement (MatchIt).
        caliper : float, optional
            Maximum distance in standard deviations of the score (the probability, or the
            linear predictor with ``distance="linear"``; SD over all units, ``ddof=1``, as
            MatchIt's ``std.caliper=TRUE``); units without a match within the caliper are
            dropped from the estimand (reported in ``extra``). With ``mahvars`` the
            caliper is on the score and the match on the Mahalanobis distance.
        distance : {"pscore", "linear", "mahalanobis"}
            Match on the probability (MatchIt default), on the linear predictor (MatchIt
            ``link="linear.logit"``) or on the Mahalanobis distance of the propensity-score
            covariates (MatchIt ``distance="mahalanobis"``: pooled within-group covariance,
            see :func:`remitpov.econometrics.matching.mahalanobis_coordinates`; treated
            units choose in data order; no caliper, no Abadie--Imbens SE).
        order : {"largest", "smallest", "data"}, optional
            Order in which treated units pick controls (without replacement). Default
            ``"largest"`` score first, ``"data"`` for ``distance="mahalanobis"`` (MatchIt).
        ties : bool
            With replacement: use all tied controls (Matching's default) or exactly ``k``
            distinct nearest controls, ties broken in data order (``ties=False``: MatchIt's
            k:1 matching with replacement; forced with Mahalanobis distances). Without
            replacement, the first in data order wins.
        distance_tolerance : float
            Ties tolerance (Matching's ``distance.tolerance``), on the standardised scale.
        se : {"ai", "CR1", "HC3", "design", "none"}, optional
            Default: ``"ai"`` (with replacement on a score), ``"HC3"`` (with replacement
            on a Mahalanobis distance) or ``"CR1"`` (without: clustered by matched pair),
            or ``"design"`` when a survey design was given. ``"HC3"``: HC3 SE of the
            treatment coefficient of the weighted regression ``y ~ treat`` on the matched
            sample (the MatchIt vignette's choice after matching with replacement). Names
            of the covariance registry (:mod:`remitpov.econometrics.covariance`); the old
            ``"robust"`` (= ``"HC3"``) and ``"pairs"`` (= ``"CR1"``) work for one release
            with a ``FutureWarning``. See the module docstring.
        var_matches : int
            0: homoskedastic AI variance (``Var.calc=0``); J > 0: heteroskedastic with J
            within-group matches (``Var.calc=J``).
        overlap_tol : float
            OverlapWarning when relevant scores lie within ``overlap_tol`` of 0 or 1.
        matchit_compat : bool
            Reproduce MatchIt 4.5.1 exactly (without replacement). That version compares
            the left and right candidate distances with C ``abs()`` on integers, so for
            scores in (0, 1) it always takes the nearest available control with a *lower*
            score when there is one (a caliper is likewise applied to the whole-number part
            of the distance: on the linear score a caliper below 1 acts as a caliper of 1).
            The default (False) takes the truly nearest control. On LaLonde the two differ
            in 6 of 185 pairs. Not needed with ``mahvars`` or Mahalanobis distances
            (MatchIt's general routine compares distances correctly).
        mahvars : str, optional
            Right-hand side of covariates (``"age + educ + C(race)"``) for Mahalanobis
            matching within the score's caliper, treated units in ``order`` of the score
            (MatchIt's ``mahvars``).
        trim : float or "crump", optional
            Drop units whose propensity score lies outside ``[alpha, 1 - alpha]`` before
            matching (``"crump"``: the optimal alpha of Crump, Hotz, Imbens and Mitnik 2009,
            see :func:`remitpov.robustness.crump_trimming`). The estimand becomes the effect
            in the trimmed population; the rule and the numbers dropped are in ``notes``
            and ``extra["trim"]``.
        """
        estimand = estimand.upper()
        if estimand not in ESTIMANDS:
            raise InputError(f"estimand={estimand!r}: use one of {ESTIMANDS}")
        if int(k) != k or k < 1:
            raise InputError(f"k={k!r} must be a positive integer")
        k = int(k)
        if not replace and estimand != "ATT":
            raise InputError("matching without replacement estimates the ATT only; use replace=True for "
                             f"{estimand}")
        if distance not in ("pscore", "linear", "mahalanobis"):
            raise InputError(f"distance={distance!r}: use 'pscore', 'linear' or 'mahalanobis'")
        full_mah = distance == "mahalanobis"
        if full_mah and mahvars is not None:
            raise InputError("give either distance='mahalanobis' or mahvars= (Mahalanobis matching within a "
                             "caliper on the score), not both")
        if full_mah and caliper is not None:
            raise InputError("distance='mahalanobis' has no score to put a caliper on; use mahvars='...' with "
                             "distance='pscore' or 'linear' for Mahalanobis matching within a score caliper")
        if order is None:
            order = "data" if full_mah else "largest"
        elif full_mah and order != "data":
            raise InputError(f"order={order!r}: with distance='mahalanobis' treated units choose in data order")
        use_mah = full_mah or mahvars is not None
        if matchit_compat and replace:
            raise InputError(
                "matchit_compat is for matching without replacement. With replace=True MatchIt 4.5.1 takes the "
                "nearest control with a lower score (integer abs()) and, for ratio=k, repeats that one control k "
                "times (an indexing slip), i.e. 1:1 matching; use replace=True, ties=False for the k distinct "
                "nearest controls (MatchIt's general routine, used with a distance matrix)")
        if se is None:
            se = "design" if self.has_design else (("HC3" if use_mah else "ai") if replace else "CR1")
        se = _matching_se(se, ("HC3", "CR1"), ("ai", "design", "none"))
        if se == "ai" and not replace:
            raise InputError("the Abadie-Imbens SE is for matching with replacement; use se='CR1' or 'design'")
        if se == "ai" and use_mah:
            raise InputError("the Abadie-Imbens SE is implemented for matching on a score; with Mahalanobis "
                             "distances use se='HC3' or 'design'")
        if se == "ai" and self.w_given:
            raise InputError("the Abadie-Imbens SE is unweighted; with survey weights use se='design'")
        psr = self.ps_model.fit()
        ps = psr.pscore
        keep, trim_info = self._trim(ps, trim)
        _check_overlap(ps[keep], self.t[keep], estimand, overlap_tol, self.w[keep])
        dist = psr.linear if distance == "linear" else ps
        cal = None if caliper is None else float(caliper) * np.std(dist[keep], ddof=1)
        what = {"pscore": "the probability", "linear": "the linear predictor",
                "mahalanobis": "the Mahalanobis distance of the covariates"}[distance]
        notes = [f"propensity score: {self.link} on {list(self.X.columns)}; matching on {what}"]
        coords = None
        if use_mah:
            Q = self.X.drop(columns=[c for c in self.X.columns if c == "Intercept"]).to_numpy() if mahvars is None \
                else self._covariate_matrix(mahvars)
            ck = mahalanobis_coordinates(Q[keep], self.t[keep], self.w[keep] if self.w_given else None)
            coords = np.zeros((len(keep), ck.shape[1]))
            coords[keep] = ck
            if mahvars is not None:
                notes.append(f"Mahalanobis distance on {mahvars!r} (pooled within-group covariance)"
                             + (f" within a caliper of {caliper:g} SD of the score" if caliper is not None else ""))
        if trim_info is not None:
            notes.append(trim_info["note"])
        if replace:
            out = self._fit_replace(dist, estimand, k, cal, ties, distance_tolerance, se, var_matches, notes,
                                    coords, keep)
        else:
            out = self._fit_greedy(dist, k, cal, order, se, notes, matchit_compat, coords, keep)
        mu1, mu0, V, W, pairs, extra, cov_type, df = out
        matched = W > 0
        bal = balance_table(self.X[keep], self.t[keep], self.w[keep], W[keep], estimand)
        extra["base_weights"] = self.w
        extra["outcome"] = self.y
        if trim_info is not None:
            extra["trim"] = trim_info
        method = (f"NN matching {k}:1 {'with' if replace else 'without'} replacement"
                  + (", Mahalanobis" if use_mah else "") + (f", caliper {caliper:g} sd" if caliper is not None else ""))
        return _effect_results(
            MatchingResults, estimand, mu1, mu0, V, nobs=int(matched.sum()), model_name="Propensity-score matching",
            dep_var=self.outcome_name, cov_type=cov_type, method=method, df=df, notes=notes,
            info={"Treated": int((self.t == 1).sum()), "Controls": int((self.t == 0).sum()),
                  "Matched treated": int((matched & (self.t == 1)).sum()),
                  "Matched controls": int((matched & (self.t == 0)).sum())},
            pscore=ps, treatment=self.t, unit_weights=W, balance=bal, ps_results=psr, extra=extra,
            pairs=pairs, matched=matched)

    # ------------------------------------------------------------------ greedy, no replacement
    def _fit_greedy(self, dist, k, cal, order, se, notes, matchit_compat=False, coords=None, keep=None):
        t, y, w = self.t, self.y, self.w
        keep = np.ones(len(t), dtype=bool) if keep is None else keep
        tr = np.flatnonzero((t == 1) & keep)
        co = np.flatnonzero((t == 0) & keep)
        if order == "largest":
            ordr = tr[np.argsort(-dist[tr], kind="stable")]
        elif order == "smallest":
            ordr = tr[np.argsort(dist[tr], kind="stable")]
        elif order == "data":
            ordr = tr
        else:
            raise InputError(f"order={order!r}: use 'largest', 'smallest' or 'data'")
        if coords is not None:
            match_t, match_c = greedy_general(ordr, co, coords, k, dist, cal)
        else:
            match_t, match_c = self._greedy_score(dist, k, cal, ordr, co, matchit_compat)
        pairs = pd.DataFrame({"treated": np.asarray(match_t, dtype=np.int64),
                              "control": np.asarray(match_c, dtype=np.int64)})
        return self._pairs_weights(pairs, tr, se, notes)

    @staticmethod
    def _greedy_score(dist, k, cal, ordr, co, matchit_compat):
        """Greedy matching without replacement on a score (sorted controls, union-find)."""
        srt = co[np.argsort(dist[co], kind="stable")]
        d_c = dist[srt]
        nC = len(srt)
        # union-find "next available control" to the right (pr) and to the left (pl, shifted by 1)
        pr = np.arange(nC + 1)
        pl = np.arange(nC + 1)

        def find(par, i):
            r = i
            while par[r] != r:
                r = par[r]
            while par[i] != r:  # path compression
                par[i], i = r, par[i]
            return r

        match_t, match_c = [], []
        n_left = nC
        floor = np.floor
        # greedy: k rounds; in each, every treated unit (in `order`) takes its nearest available
        # control. The loop over treated units is inherent to greedy matching (each choice
        # depends on the previous ones); every step is O(log n).
        for _ in range(k):
            for i in ordr:
                if n_left == 0:
                    break
                pos = int(np.searchsorted(d_c, dist[i], side="left"))
                r = find(pr, pos)
                l = find(pl, pos) - 1  # control index <= pos - 1
                dr = abs(d_c[r] - dist[i]) if r < nC else np.inf
                dl = abs(d_c[l] - dist[i]) if l >= 0 else np.inf
                if matchit_compat:
                    # MatchIt 4.5.1 (nn_matchC_vec) compares int(|d|): the caliper check and the
                    # left/right choice see only the whole-number part of the distance
                    okl = l >= 0 and (cal is None or floor(dl) <= cal)
                    okr = r < nC and (cal is None or floor(dr) <= cal)
                    if okl and (not okr or floor(dl) <= floor(dr)):
                        j = l
                    elif okr:
                        j = r
                    else:
                        continue
                else:
                    j, dd = (r, dr) if dr < dl else (l, dl)  # equal distances: the lower score wins
                    if cal is not None and dd > cal:
                        continue
                pr[j] = j + 1
                pl[j + 1] = j
                n_left -= 1
                match_t.append(i)
                match_c.append(srt[j])
        return match_t, match_c

    def _pairs_weights(self, pairs, tr, se, notes):
        t, w = self.t, self.w
        n_tr = pairs.groupby("treated")["control"].transform("size").to_numpy()
        pairs["weight"] = 1.0 / n_tr
        n = len(t)
        W = np.zeros(n)
        mt = np.unique(pairs["treated"].to_numpy())
        W[mt] = w[mt]
        # control weight: sum over its treated of (treated base weight / k_t), times own base weight
        # share (one control per treated slot, so no further split)
        np.add.at(W, pairs["control"].to_numpy(), w[pairs["treated"].to_numpy()] * pairs["weight"].to_numpy())
        subclass = np.full(n, -1, dtype=np.int64)
        sub_codes = pd.factorize(pairs["treated"].to_numpy(), sort=True)[0]
        subclass[pairs["treated"].to_numpy()] = sub_codes
        subclass[pairs["control"].to_numpy()] = sub_codes
        unmatched = np.setdiff1d(tr, mt)
        extra = {"subclass": subclass, "unmatched_treated": unmatched}
        if unmatched.size:
            notes.append(f"{unmatched.size} treated units had no control within the caliper (or no control "
                         "left) and are excluded: the estimand is the ATT of the matched treated")
        mu1, mu0, V, cov_type, df = self._weighted_means(W, se, subclass)
        return mu1, mu0, V, W, pairs, extra, cov_type, df

    # ------------------------------------------------------------------ with replacement (Abadie-Imbens)
    def _fit_replace(self, dist, estimand, k, cal, ties, tol, se, var_matches, notes, coords=None, keep=None):
        t, y, w = self.t, self.y, self.w
        n = len(t)
        keep = np.ones(n, dtype=bool) if keep is None else keep
        sd = np.std(dist[keep], ddof=1)
        x = dist / sd  # Match(): inverse-variance weighted distance on the standardised score
        calz = None if cal is None else cal / sd
        rows, cols, wts = [], [], []
        groups = {"ATT": (1,), "ATC": (0,), "ATE": (1, 0)}[estimand]
        for g in groups:
            if coords is not None:  # Mahalanobis: exactly k distinct nearest (MatchIt), score caliper
                r, c = k_nearest_with_replacement(np.flatnonzero((t == g) & keep), np.flatnonzero((t != g) & keep),
                                                  coords, k, dist, cal)
                ww = _shares(r, c, w)
            else:
                r, c, ww = _nn_sets(x, (t == g) & keep, (t != g) & keep, k, ties, tol, calz, w)
            rows.append(r)
            cols.append(c)
            wts.append(ww)
        R, C, WW = np.concatenate(rows), np.concatenate(cols), np.concatenate(wts)
        pairs = pd.DataFrame({"unit": R, "match": C, "weight": WW})
        pairs["treated"] = np.where(t[R] == 1, R, C)
        pairs["control"] = np.where(t[R] == 1, C, R)
        # imputed missing potential outcome of every matched unit
        yhat = np.bincount(R, weights=WW * y[C], minlength=n)
        has = np.bincount(R, minlength=n) > 0
        target = np.isin(t, groups) & has
        dropped = np.isin(t, groups) & ~has & keep
        if dropped.any():
            notes.append(f"{int(dropped.sum())} units had no match within the caliper and are excluded")
        sign = np.where(t == 1, 1.0, -1.0)
        tau_i = sign * (y - yhat)  # unit-level effect (Y1 - Y0)
        wt = np.where(target, w, 0.0)
        N = wt.sum()
        # K_j: weighted number of times unit j is used as a match; KK: sum of squared shares
        K = np.bincount(C, weights=w[R] * WW, minlength=n) / np.where(w > 0, w, 1)
        KK = np.bincount(C, weights=w[R] * WW**2, minlength=n) / np.where(w > 0, w, 1)
        # matching weights: target units their own weight, matches weight share times target weight
        Wm = wt + np.bincount(C, weights=w[R] * WW, minlength=n)
        y1 = np.where(t == 1, y, yhat)
        y0 = np.where(t == 0, y, yhat)
        mu1 = float(wt @ y1 / N)
        mu0 = float(wt @ y0 / N)
        est = mu1 - mu0
        extra = {"K": K, "yhat": yhat, "dropped": np.flatnonzero(dropped)}
        if se == "ai":
            # Abadie-Imbens (2006) / Matching::Match population variance (SAMPLE=0)
            if var_matches > 0:
                sig2 = _within_group_sigma2(x, y, t, var_matches, ties, tol)
            else:
                # homoskedastic: half the mean squared deviation of the matched-pair differences
                pair_tau = sign[R] * (y[R] - y[C])
                sig2 = np.full(n, 0.5 * np.sum(WW * (pair_tau - est) ** 2) / np.sum(WW))
            Ksel = np.where(np.isin(t, groups), 0.0, 1.0) if estimand != "ATE" else np.ones(n)
            if estimand == "ATE":
                vK = sig2 * (K**2 + 2 * K - KK)
            else:
                vK = Ksel * sig2 * (K**2 - KK)
            var = (np.sum(vK) + np.sum(target * (tau_i - est) ** 2)) / N**2
            v1 = np.sum(target * (y1 - mu1) ** 2) / N**2
            v0 = var + v1  # any (v0, cov) with v1 + v0 - 2 cov = var; the effect's SE is what counts
            cov = (v1 + v0 - var) / 2
            V = np.array([[v1, cov], [cov, v0]])
            notes.append("SE: Abadie-Imbens (2006), propensity score treated as known (no AI 2016 adjustment); "
                         + ("homoskedastic (Var.calc=0)" if var_matches == 0 else
                            f"heteroskedastic, {var_matches} within-group matches"))
            notes.append("the SEs of E[Y(1)] and E[Y(0)] are not separately meaningful under se='ai'")
            return mu1, mu0, V, Wm, pairs, extra, "Abadie-Imbens", None
        if se == "none":
            return mu1, mu0, np.full((2, 2), np.nan), Wm, pairs, extra, "none", None
        if se == "CR1":
            raise InputError("se='CR1' (clustered by matched pair) is for matching without replacement; use 'ai', "
                             "'HC3' or 'design'")
        if se == "HC3":
            mu1, mu0, V = wls_difference_hc3(y, t.astype(float), Wm)
            return mu1, mu0, V, Wm, pairs, extra, "HC3 (matching weights fixed)", None
        # design: linearise sum_i wt_i (y1_i - mu1) and (y0_i - mu0) with the imputed values as
        # weighted sums of the matched units' outcomes (matching weights fixed)
        own1 = (wt * (t == 1) * (y - mu1))
        own0 = (wt * (t == 0) * (y - mu0))
        # imputed Y0 for treated targets come from controls (column 1), Y1 for control targets from treated
        tgt_t = t[R] == 1
        imp0 = np.bincount(C[tgt_t], weights=(w[R] * WW * (y[C] - mu0))[tgt_t], minlength=n)
        imp1 = np.bincount(C[~tgt_t], weights=(w[R] * WW * (y[C] - mu1))[~tgt_t], minlength=n)
        Z = np.column_stack([own1 + imp1, own0 + imp0]) / N
        wpos = np.where(w > 0, w, 1.0)
        Z = Z / wpos[:, None]
        d = Design.from_arrays(w, strata=self.strata, psu=self.psu, lonely_psu="adjust")
        V = d.vcov(np.array([mu1, mu0]), Z)
        notes.append("SE: design-based, matching weights held fixed (no matching uncertainty)")
        return mu1, mu0, V, Wm, pairs, extra, "design (matching weights fixed)", d.df


class PropensityScoreSubclassification(_TreatmentModel):
    """Subclassification on the propensity score (MatchIt ``method = "subclass"``).

    Units are grouped into subclasses at quantiles of the score and re-weighted so that
    each subclass has the treated (ATT), control (ATC) or overall (ATE) composition
    (marginal mean weighting through stratification; see
    :func:`remitpov.econometrics.matching.subclassify` and
    :func:`~remitpov.econometrics.matching.subclass_weights`). The effect is the
    difference of weighted means. Same constructor as :class:`PropensityScoreMatching`.
    """

    def fit(self, *, subclasses: int = 6, estimand: str = "ATT", distance: str = "pscore", se: str | None = None,
            overlap_tol: float = 0.01, trim: float | str | None = None) -> MatchingResults:
        """Subclassify and estimate.

        Parameters
        ----------
        subclasses : int
            Number of subclasses (MatchIt's default 6).
        estimand : {"ATT", "ATC", "ATE"}
            Also decides whose score quantiles are the cut points (treated, controls, all).
        distance : {"pscore", "linear"}
            Subclassify on the probability or the linear predictor (same subclasses up to
            ties, as the quantiles are order statistics).
        se : {"HC3", "design", "none"}, optional
            ``"HC3"`` (default without a design; ``"robust"`` is its deprecated spelling):
            HC3 SE of the treatment coefficient of
            ``lm(y ~ treat, weights)`` (MatchIt vignette); ``"design"`` (default with a
            design): linearised with the subclass weights held fixed.
        trim : float or "crump", optional
            As in :meth:`PropensityScoreMatching.fit`.
        """
        from .matching import subclass_weights, subclassify

        estimand = estimand.upper()
        if estimand not in ESTIMANDS:
            raise InputError(f"estimand={estimand!r}: use one of {ESTIMANDS}")
        if distance not in ("pscore", "linear"):
            raise InputError(f"distance={distance!r}: use 'pscore' or 'linear'")
        if se is None:
            se = "design" if self.has_design else "HC3"
        se = _matching_se(se, ("HC3",), ("design", "none"))
        psr = self.ps_model.fit()
        ps = psr.pscore
        keep, trim_info = self._trim(ps, trim)
        _check_overlap(ps[keep], self.t[keep], estimand, overlap_tol, self.w[keep])
        score = (psr.linear if distance == "linear" else ps)
        t = self.t
        sub_k, q = subclassify(score[keep], t[keep], subclasses, estimand)
        sub = np.full(len(t), -1, dtype=np.int64)
        sub[keep] = sub_k
        W = np.zeros(len(t))
        W[keep] = subclass_weights(sub_k, t[keep], self.w[keep], estimand)
        mu1, mu0, V, cov_type, df = self._weighted_means(W, se)
        S = int(sub_k.max() + 1)
        notes = [f"propensity score: {self.link} on {list(self.X.columns)}",
                 f"{S} subclasses at quantiles of the {'linear predictor' if distance == 'linear' else 'score'} "
                 f"of the {dict(ATT='treated', ATC='controls', ATE='whole sample')[estimand]}"]
        if S < subclasses:
            notes.append(f"{subclasses - S} subclasses were empty (ties in the score) and dropped")
        extra = {"stratum": sub, "q_cut": q, "base_weights": self.w, "outcome": self.y}
        if trim_info is not None:
            notes.append(trim_info["note"])
            extra["trim"] = trim_info
        bal = balance_table(self.X[keep], t[keep], self.w[keep], W[keep], estimand)
        matched = W > 0
        return _effect_results(
            MatchingResults, estimand, mu1, mu0, V, nobs=int(matched.sum()),
            model_name="Propensity-score subclassification", dep_var=self.outcome_name, cov_type=cov_type,
            method=f"subclassification, {S} subclasses", df=df, notes=notes,
            info={"Treated": int((t == 1).sum()), "Controls": int((t == 0).sum()), "Subclasses": S},
            pscore=ps, treatment=t, unit_weights=W, balance=bal, ps_results=psr, extra=extra, pairs=None,
            matched=matched)


def _nn_sets(x, is_from, is_to, k, ties, tol, cal, w):
    """k nearest neighbours (with ties) of every ``is_from`` unit among ``is_to`` units.

    Vectorised with one sort: the k nearest of a point lie within k positions on each side
    of its insertion point; the tie set is the contiguous sorted range within
    ``d_k + tol``. Returns (row, match, weight share) arrays; shares are proportional to
    the matches' base weights and sum to one per row.
    """
    fr = np.flatnonzero(is_from)
    to = np.flatnonzero(is_to)
    order = np.argsort(x[to], kind="stable")
    to_s = to[order]
    xs = x[to_s]
    nT = len(xs)
    kk = min(k, nT)
    xf = x[fr]
    pos = np.searchsorted(xs, xf)
    offs = np.arange(-kk, kk)
    idx = pos[:, None] + offs[None, :]
    valid = (idx >= 0) & (idx < nT)
    dd = np.where(valid, np.abs(xs[np.clip(idx, 0, nT - 1)] - xf[:, None]), np.inf)
    dk = np.sort(dd, axis=1)[:, kk - 1]
    if ties:
        # Match(): ties are units whose squared (standardised) distance is within `tol`
        # of the k-th smallest squared distance
        rad = np.sqrt(dk**2 + tol)
        lo = np.searchsorted(xs, xf - rad, side="left")
        hi = np.searchsorted(xs, xf + rad, side="right")
    else:
        # exactly k: the k nearest by distance (stable by sorted position)
        sel = np.argsort(dd, axis=1, kind="stable")[:, :kk]
        rows = np.repeat(fr, kk)
        cols = to_s[np.clip(np.take_along_axis(idx, sel, 1).ravel(), 0, nT - 1)]
        keep = np.ones(rows.size, dtype=bool)
        if cal is not None:
            keep = np.repeat(dk <= cal, kk) & (np.abs(x[rows] - x[cols]) <= cal)
        rows, cols = rows[keep], cols[keep]
        return rows, cols, _shares(rows, cols, w)
    if cal is not None:
        ok = dk <= cal
        lo = np.where(ok, np.maximum(lo, np.searchsorted(xs, xf - cal, side="left")), 0)
        hi = np.where(ok, np.minimum(hi, np.searchsorted(xs, xf + cal, side="right")), 0)
    m = hi - lo
    rows = np.repeat(fr, m)
    start = np.repeat(lo - np.concatenate([[0], np.cumsum(m)[:-1]]), m)
    cols = to_s[np.arange(m.sum()) + start]
    return rows, cols, _shares(rows, cols, w)


def _shares(rows, cols, w):
    tot = np.bincount(rows, weights=w[cols], minlength=rows.max() + 1 if rows.size else 0)
    return w[cols] / tot[rows]


def _within_group_sigma2(x, y, t, J, ties, tol):
    """Heteroskedastic conditional variances (AI 2006 eq. 14; Matching ``Var.calc=J``):
    the sample variance of y over unit i and its J nearest same-group units (all ties);
    with exactly J matches this is ``J/(J+1) (y_i - mean of the matches)^2``."""
    n = len(x)
    sig2 = np.zeros(n)
    for g in (0, 1):
        idx = np.flatnonzero(t == g)
        order = np.argsort(x[idx], kind="stable")
        s = idx[order]
        xs = x[s]
        m = len(s)
        # neighbours within the group excluding self: candidates at sorted offsets -J..J except 0
        offs = np.array([o for o in range(-J, J + 1) if o != 0])
        p = np.arange(m)
        cand = p[:, None] + offs[None, :]
        valid = (cand >= 0) & (cand < m)
        dd = np.where(valid, np.abs(xs[np.clip(cand, 0, m - 1)] - xs[:, None]), np.inf)
        dJ = np.sort(dd, axis=1)[:, min(J, m - 1) - 1]
        rad = np.sqrt(dJ**2 + (tol if ties else 0.0))
        lo = np.searchsorted(xs, xs - rad, side="left")
        hi = np.searchsorted(xs, xs + rad, side="right")
        # sample variance of y over the unit and its matches (VarCalcMatchC); the sorted
        # range [lo, hi) contains the unit itself. Centre y first for numerical accuracy.
        yc = y[s] - y[s].mean()
        c1 = np.concatenate([[0.0], np.cumsum(yc)])
        c2 = np.concatenate([[0.0], np.cumsum(yc**2)])
        m_ = (hi - lo).astype(float)
        s1, s2 = (c1[hi] - c1[lo]) / m_, (c2[hi] - c2[lo]) / m_
        sig2[s] = np.maximum(s2 - s1**2, 0.0) * m_ / (m_ - 1)
    return sig2


# ----------------------------------------------------------------------------- weighting
def _psi_ps(beta, X, t, link):
    eta = X @ beta
    if link == "logit":
        p = 1 / (1 + np.exp(-eta))
        return X * (t - p)[:, None], p
    p = stats.norm.cdf(eta)
    p = np.clip(p, 1e-300, 1 - 1e-16)
    return X * (stats.norm.pdf(eta) * (t - p) / (p * (1 - p)))[:, None], p


def _numeric_jacobian(fun, theta, w):
    """A = sum_i w_i d psi_i / d theta by central differences."""
    k = theta.size
    A = np.empty((k, k))
    for j in range(k):  # loop over parameters, not rows
        h = 1e-6 * max(1.0, abs(theta[j]))
        tp, tm = theta.copy(), theta.copy()
        tp[j] += h
        tm[j] -= h
        A[:, j] = (w @ fun(tp) - w @ fun(tm)) / (2 * h)
    return A


class _WeightingModel(_TreatmentModel):
    augmented = False

    def fit(self, *, estimand: str = "ATE", outcome_formula: str | None = None, overlap_tol: float = 0.01,
            bootstrap: int = 0, seed: int | None = 0, trim: float | str | None = None) -> TreatmentEffectResults:
        """Estimate the effect.

        Parameters
        ----------
        estimand : {"ATE", "ATT", "ATC"}
        outcome_formula : str, optional
            AIPW only: right-hand side of the outcome regressions (default: the
            propensity-score covariates), e.g. ``"age + educ"``.
        overlap_tol : float
            OverlapWarning threshold for scores near 0/1.
        bootstrap : int
            If > 0, replace the sandwich SE by a bootstrap SE with that many replicates
            (PSUs resampled within strata when a design is given), seeded by ``seed``.
        trim : float or "crump", optional
            Drop units with a propensity score outside ``[alpha, 1 - alpha]`` (``"crump"``:
            the optimal alpha of Crump et al. 2009, :func:`remitpov.robustness.crump_trimming`,
            from the full-sample score). The score is then re-estimated on the retained
            units and the effect is that of the retained population; trimmed units keep
            their PSUs with zero weight (a domain), and ``alpha`` is treated as fixed.
        """
        estimand = estimand.upper()
        if estimand not in ESTIMANDS:
            raise InputError(f"estimand={estimand!r}: use one of {ESTIMANDS}")
        psr = self.ps_model.fit()
        keep, trim_info = self._trim(psr.pscore, trim)
        X, t, y = self.X.to_numpy(), self.t, self.y
        w = self.w * keep
        beta = psr.params.to_numpy() if trim_info is None else self._ps_params(w)
        e_all = _psi_ps(beta, X, t, self.link)[1]
        _check_overlap(e_all[keep], t[keep], estimand, overlap_tol, w[keep])
        Q = None
        if self.augmented:
            Q = X if outcome_formula is None else self._outcome_design(outcome_formula)
        theta, psi = self._estimating(beta, X, t, y, w, Q, estimand)
        A = _numeric_jacobian(psi, theta, w)
        try:
            Ainv = np.linalg.inv(A)
        except np.linalg.LinAlgError as exc:
            raise EstimationError("singular Jacobian of the estimating equations (collinear outcome "
                                  "covariates within a treatment group?)") from exc
        Z = -psi(theta) @ Ainv.T
        design = Design.from_arrays(w, strata=self.strata, psu=self.psu)
        V_full = design.vcov(theta, Z)
        mu1, mu0 = theta[-2], theta[-1]
        V = V_full[-2:, -2:]
        notes = [f"propensity score: {self.link} on {list(self.X.columns)}",
                 "normalised (Hajek) weights" + ("; outcome regressions by treatment group (doubly robust)"
                                                  if self.augmented else "")]
        cov_type = "sandwich (M-estimation, estimated score)"
        if bootstrap:
            V = self._bootstrap(int(bootstrap), seed, beta, Q, estimand, w)
            cov_type = f"bootstrap ({int(bootstrap)} replicates, seed {seed})"
        e = e_all
        if trim_info is not None:
            notes.append(trim_info["note"])
        wts = {"ATE": np.where(t == 1, 1 / e, 1 / (1 - e)), "ATT": np.where(t == 1, 1.0, e / (1 - e)),
               "ATC": np.where(t == 1, (1 - e) / e, 1.0)}[estimand] * w
        bal = balance_table(self.X[keep], t[keep], w[keep], wts[keep], estimand)
        df = design.df if self.has_design else None
        name = "Augmented IPW (doubly robust)" if self.augmented else "Inverse probability weighting"
        return _effect_results(
            TreatmentEffectResults, estimand, mu1, mu0, V, nobs=len(t), model_name=name, dep_var=self.outcome_name,
            cov_type=cov_type, method="AIPW" if self.augmented else "IPW (Hajek)", df=df, notes=notes,
            info={"Treated": int((t == 1).sum()), "Controls": int((t == 0).sum())},
            pscore=e, treatment=t, unit_weights=wts, balance=bal, ps_results=psr,
            extra={"base_weights": w, "theta": theta, "vcov_full": V_full, **({"trim": trim_info} if trim_info else {})})

    def _outcome_design(self, rhs):
        from formulaic import model_matrix

        rhs = rhs.split("~")[-1]
        from ..formula import check_formula
        check_formula(rhs, self.data.columns)  # remitpov.formula
        Q = model_matrix(rhs, self.data, na_action="ignore")
        Q = np.asarray(Q, dtype=float)
        bad = ~np.isfinite(Q).all(axis=1)
        if bad.any():
            raise InputError(f"outcome covariates are missing in {describe_rows(bad)}")
        return Q

    def _estimating(self, beta, X, t, y, w, Q, estimand):
        """Point estimates theta and the stacked psi(theta) (n, dim)."""
        p = X.shape[1]
        link = self.link
        if Q is not None:
            q = Q.shape[1]
            g1 = _wls(Q[t == 1], y[t == 1], w[t == 1])
            g0 = _wls(Q[t == 0], y[t == 0], w[t == 0])
        else:
            q = 0

        def parts(theta):
            b = theta[:p]
            s_ps, e = _psi_ps(b, X, t, link)
            cols = [s_ps]
            if Q is not None:
                c1, c0 = theta[p:p + q], theta[p + q:p + 2 * q]
                r1, r0 = y - Q @ c1, y - Q @ c0
                cols += [Q * (t * r1)[:, None], Q * ((1 - t) * r0)[:, None]]
            else:
                r1 = r0 = y
            return e, cols, r1, r0

        def weights_ab(e):
            if estimand == "ATE":
                a1, a0 = t / e, (1 - t) / (1 - e)
            elif estimand == "ATT":
                a1, a0 = t.astype(float), (1 - t) * e / (1 - e)
            else:
                a1, a0 = t * (1 - e) / e, (1 - t).astype(float)
            b = {"ATE": np.ones_like(t, dtype=float), "ATT": t.astype(float), "ATC": (1 - t).astype(float)}[estimand]
            return a1, a0, b

        if Q is None:
            def psi(theta):
                e, cols, _, _ = parts(theta)
                a1, a0, _ = weights_ab(e)
                return np.column_stack(cols + [a1 * (y - theta[-2]), a0 * (y - theta[-1])])

            a1, a0, _ = weights_ab(_psi_ps(beta, X, t, link)[1])
            mu1 = np.sum(w * a1 * y) / np.sum(w * a1)
            mu0 = np.sum(w * a0 * y) / np.sum(w * a0)
            return np.concatenate([beta, [mu1, mu0]]), psi

        # AIPW: theta = (beta, g1, g0, k1, k0, mu1, mu0) with k = sum b / sum a
        def psi(theta):
            e, cols, r1, r0 = parts(theta)
            a1, a0, b = weights_ab(e)
            c1, c0 = theta[p:p + q], theta[p + q:p + 2 * q]
            k1, k0, mu1, mu0 = theta[-4:]
            m1, m0 = Q @ c1, Q @ c0
            return np.column_stack(cols + [a1 * k1 - b, a0 * k0 - b,
                                           b * (m1 - mu1) + k1 * a1 * r1, b * (m0 - mu0) + k0 * a0 * r0])

        e = _psi_ps(beta, X, t, link)[1]
        a1, a0, b = weights_ab(e)
        k1 = np.sum(w * b) / np.sum(w * a1)
        k0 = np.sum(w * b) / np.sum(w * a0)
        m1, m0 = Q @ g1, Q @ g0
        r1, r0 = y - m1, y - m0
        mu1 = (np.sum(w * b * m1) + k1 * np.sum(w * a1 * r1)) / np.sum(w * b)
        mu0 = (np.sum(w * b * m0) + k0 * np.sum(w * a0 * r0)) / np.sum(w * b)
        return np.concatenate([beta, g1, g0, [k1, k0, mu1, mu0]]), psi

    def _bootstrap(self, B, seed, beta0, Q, estimand, w_base=None):
        rng = np.random.default_rng(seed)
        n = len(self.t)
        psu = np.arange(n) if self.psu is None else pd.factorize(self.psu)[0]
        strata = np.zeros(n, dtype=int) if self.strata is None else pd.factorize(self.strata)[0]
        est = np.empty((B, 2))
        for b in range(B):  # loop over replicates
            mult = np.zeros(n)
            for h in np.unique(strata):
                ps_h = np.unique(psu[strata == h])
                draw = rng.choice(ps_h, size=ps_h.size, replace=True)
                cnt = pd.Series(draw).value_counts()
                f = np.zeros(psu.max() + 1)
                f[cnt.index.to_numpy()] = cnt.to_numpy()
                mult += np.where(strata == h, f[psu], 0.0)
            wb = (self.w if w_base is None else w_base) * mult
            est[b] = self._point(wb, Q, estimand)
        return np.cov(est, rowvar=False)

    def _ps_params(self, w):
        """Propensity-score coefficients refitted with weights ``w`` (rows with w = 0 left out)."""
        import statsmodels.api as sm

        X, t = self.X.to_numpy(), self.t
        link = sm.families.links.Logit() if self.link == "logit" else sm.families.links.Probit()
        keep = w > 0
        res = sm.GLM(t[keep], X[keep], family=sm.families.Binomial(link=link), var_weights=w[keep]).fit()
        return np.asarray(res.params)

    def _point(self, w, Q, estimand):
        theta, _ = self._estimating(self._ps_params(w), self.X.to_numpy(), self.t, self.y, w, Q, estimand)
        return theta[-2:]


def _wls(Q, y, w):
    sw = np.sqrt(w)
    coef, *_ = np.linalg.lstsq(Q * sw[:, None], y * sw, rcond=None)
    return coef


class InverseProbabilityWeighting(_WeightingModel):
    """Normalised (Hajek) inverse probability weighting.

    ``E[Y(1)]`` and ``E[Y(0)]`` are weighted means with weights ``a_1 = T/e``,
    ``a_0 = (1-T)/(1-e)`` (ATE), ``1`` and ``e/(1-e)`` (ATT) or ``(1-e)/e`` and ``1`` (ATC),
    times the sampling weights. The point estimate equals the coefficient of the
    treatment in a WLS regression ``y ~ 1 + treat`` with those weights. SEs: M-estimation
    sandwich including the estimation of the propensity score (see module docstring).
    Same constructor as :class:`PropensityScoreMatching`.
    """

    augmented = False


class AugmentedIPW(_WeightingModel):
    """Augmented IPW (doubly robust).

    Linear outcome regressions ``m_1(X)``, ``m_0(X)`` are fitted (WLS with the sampling
    weights) on treated and controls; with target weights ``b`` (1 for ATE, T for ATT,
    1-T for ATC) and the IPW weights ``a`` of :class:`InverseProbabilityWeighting`::

        mu_d = sum b m_d(X) / sum b  +  sum a_d (Y - m_d(X)) / sum a_d

    (regression prediction plus the normalised IPW mean of the residuals). Consistent if
    either the propensity model or the outcome model is correct.
    """

    augmented = True
