"""What the treatment-effect estimators of :mod:`remitpov.econometrics.treatment` share:
their results (:class:`~remitpov.econometrics.treatment.TreatmentEffectResults`,
:class:`~remitpov.econometrics.treatment.MatchingResults`), the common model constructor
(:class:`TreatmentModel`: propensity formula, outcome, survey design, the difference of
weighted means with its SE, trimming) and the ``se=`` names of matching.

Conventions: ``params`` = (effect, ``E[Y(1)]``, ``E[Y(0)]``) from the two potential-outcome
means and their 2x2 covariance; weighted means hold the matching/subclass weights fixed.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

import numpy as np
import pandas as pd
from scipy import stats

from ..design import Design
from ..exceptions import EstimationError, InputError, describe_rows
from ._base import ModelResults, data_column
from .matching import wls_difference_hc3
from .treatment_score import PropensityScore, PropensityScoreResults

__all__ = ["TreatmentEffectResults", "MatchingResults", "TreatmentModel", "effect_results", "matching_se_name",
           "MATCHING_SE_LEGACY", "ESTIMANDS"]

ESTIMANDS = ("ATT", "ATE", "ATC")


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


def matching_se_name(se, allowed, extra) -> str:
    """Registry name of a matching ``se=`` (old ``"robust"``/``"pairs"``: a ``FutureWarning``)."""
    from .covariance import resolve_cov_type

    return resolve_cov_type(se, allowed=allowed, extra=extra, legacy=MATCHING_SE_LEGACY, stacklevel=4, param="se")


def effect_results(cls, estimand, mu1, mu0, V3, *, nobs, model_name, dep_var, cov_type, method, df, notes,
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


class TreatmentModel:
    """Common constructor of the treatment-effect estimators: formula for the propensity
    score, outcome separately, optional survey design (its parameters are those of
    :class:`~remitpov.econometrics.treatment.PropensityScoreMatching`)."""

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
