"""Cross-country panel regressions of poverty or inequality on remittances (Adams & Page 2005 style).

``RemittancePanel.from_formula("pov_gap ~ 1 + personal_rm + gov_cons_exp", data,
entity="country", time="year").fit(effects="entity", cov_type="CR0")``

* ``effects="pooled"``: pooled OLS (``linearmodels.PooledOLS``);
* ``effects="entity"`` / ``"time"`` / ``"twoways"``: country and/or year fixed effects
  (``linearmodels.PanelOLS`` with ``EntityEffects``/``TimeEffects``);
* IV with lagged (or other) instruments: write the endogenous block in the formula,
  ``"log(gini) ~ 1 + gov_e + [log(rm) ~ log(rm_lag1) + log(rm_lag3)]"``. The model is
  estimated by ``linearmodels.IV2SLS`` with country (and year) dummies for the fixed
  effects (FE-2SLS; the dummies are estimated but not reported).

Covariances (``cov_type``, registry names of :mod:`remitpov.econometrics.covariance`)
-----------------------------------------------------------------------------------
The sandwiches are those of the dummy-variable regression, computed through the
Frisch-Waugh-Lovell partialled-out regressors (the slope block does not depend on whether
the effects are removed by demeaning or by dummies), with plm's conventions: NO
degrees-of-freedom factor for the absorbed effects, ``k`` = number of slope coefficients.

* ``"CR0"`` (default): clustered by country (``cluster="entity"``; ``"time"``, or
  ``"both"`` for two-way clustering, plm ``vcovDC``): R ``plm::vcovHC(method="arellano",
  type="HC0")``. ``"CR1"``: times Stata's ``G/(G-1) (n-1)/(n-k)`` (plm's own arellano
  ``"HC1"`` is ``n/(n-k)`` instead).
* ``"HC0"`` / ``"HC1"``: heteroskedasticity-robust, R ``plm::vcovHC(method="white1",
  type="HC0"/"HC1")`` (HC1 = HC0 x ``n/(n-k)``).
* ``"unadjusted"``: classical, with the residual degrees of freedom net of the absorbed
  effects (plm's ``vcov``).
* Deprecated, for one release: ``"clustered"`` (= ``"CR0"``; with ``debiased=True``
  linearmodels' debiased clustered covariance, which adds ``(n-1)/(n-k)``, ``G/(G-1)`` and a
  factor for effects not nested in the clusters) and ``"robust"``, which is linearmodels'
  convention, NOT plm's: HC0 x ``n/(n - a)`` in variance, ``a`` = absorbed effect dummies
  beyond the intercept (``N - 1`` country, ``T - 1`` year, ``N + T - 2`` two-way effects;
  +2.4 %, +3.3 %, +6.0 % in the SEs of the Gini panel).
* FE-2SLS takes ``"CR0"``, ``"HC0"`` and ``"unadjusted"`` (the 2SLS sandwich of the
  dummy-variable IV regression; linearmodels).

Other estimators (plm's, computed here and checked against plm to 1e-9)
----------------------------------------------------------------------
:meth:`RemittancePanel.random_effects` (Swamy--Arora, plm's default, balanced or
unbalanced), :meth:`~RemittancePanel.first_difference` (with an intercept, as plm),
:meth:`~RemittancePanel.between` and :meth:`~RemittancePanel.hausman` (plm ``phtest``).
They take ``"unadjusted"`` (default, plm's ``vcov``), ``"HC0"``, ``"HC1"`` (``vcovHC``
white1 on the transformed data), ``"CR0"``, ``"CR1"``. linearmodels' ``RandomEffects``
agrees with plm only on balanced panels (its variance components differ when
unbalanced) and its ``FirstDifferenceOLS`` has no intercept, so these are computed here.

Elasticities
------------
:meth:`PanelResults.elasticities` reports, for every regressor named in
``remittances=`` (default: regressors whose name contains ``rm`` or ``remit``):

* log-log (``log(y) ~ log(x)``): the coefficient itself is the elasticity;
* level-level: ``b * mean(x) / mean(y)`` over the estimation sample;
* log-level: ``b * mean(x)``; level-log: ``b / mean(y)``;

with delta-method SEs that treat the sample means as fixed.

Rows with a missing model variable are dropped (complete cases, as R's ``plm``/``lm``
do) and the number dropped is reported in the notes and the summary header; pass
``missing="raise"`` to refuse them.
"""
from __future__ import annotations

import re
import warnings
from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np
import pandas as pd

from ..core.validate import check_positive
from ..exceptions import EstimationError, InputError, describe_rows
from ._base import ModelResults
from .covariance import cluster_codes, linear_vcov, resolve_cov_type

__all__ = ["RemittancePanel", "PanelResults"]

EFFECTS = ("pooled", "entity", "time", "twoways")
PANEL_COV = ("CR0", "CR1", "HC0", "HC1", "unadjusted")


def _panel_cov_type(cov_type, debiased: bool, allowed) -> str:
    """Registry name, or a legacy linearmodels convention (``"robust-lm"``, ``"clustered-lm"``)
    for the deprecated spellings whose numbers are not a registry type."""
    key = str(cov_type).strip().lower()
    if key in ("robust", "heteroskedastic"):
        warnings.warn(f"cov_type={cov_type!r} is deprecated: in panels it is linearmodels' convention, "
                      "HC0 x n/(n - absorbed effects) in variance; write 'HC0' for plm's vcovHC(method='white1', "
                      "type='HC0') or 'HC1'", FutureWarning, stacklevel=3)
        return "robust-lm"
    if key in ("clustered", "cluster") and debiased:
        warnings.warn(f"cov_type={cov_type!r} with debiased=True is deprecated (linearmodels' debiased "
                      "clustered covariance); write 'CR1' (Stata's G/(G-1) (n-1)/(n-k)) or 'CR0' (plm)",
                      FutureWarning, stacklevel=3)
        return "clustered-lm"
    return resolve_cov_type(cov_type, allowed=allowed, stacklevel=4)
_LOG = re.compile(r"^(?:np\.)?log\((.+)\)$")


def _flatten_formula(formula: str) -> str:
    """'y ~ 1 + x + [e ~ z1 + z2]' -> 'y ~ 1 + x + e + z1 + z2' (all variables used)."""
    m = re.search(r"\[(.*)\]", formula)
    if not m:
        return formula
    inner = m.group(1).replace("~", "+")
    return formula[:m.start()] + inner + formula[m.end():]


@dataclass(frozen=True, eq=False)
class PanelResults(ModelResults):
    """Panel regression results.

    Attributes
    ----------
    lm : linearmodels results (``PanelEffectsResults``, ``PanelResults`` or ``IVResults``)
    effects : str
    sample : DataFrame
        The estimation sample (entity, time and the model variables' values).
    remittances : tuple of str
        Parameters reported by :meth:`elasticities`.
    first_stage : DataFrame or None
        IV only: first-stage partial F etc. (see :mod:`remitpov.econometrics.iv`).
    """

    lm: Any = field(default=None, repr=False)
    effects: str = "entity"
    dep_name: str = ""
    means: dict = field(default_factory=dict, repr=False)
    remittances: tuple = ()
    first_stage: pd.DataFrame | None = field(default=None, repr=False)

    def elasticities(self, level: float = 0.95) -> pd.DataFrame:
        """Elasticity of the dependent variable with respect to each remittance regressor."""
        from scipy import stats

        c = stats.norm.ppf(0.5 + level / 2)
        ylog = _LOG.match(self.dep_name)
        rows = []
        for p in self.remittances:
            b, se = float(self.params[p]), float(self.std_errors[p])
            xlog = _LOG.match(p)
            mx = self.means.get(p, np.nan)
            my = self.means.get(self.dep_name, np.nan)
            if ylog and xlog:
                f, kind = 1.0, "log-log: coefficient"
            elif not ylog and not xlog:
                f, kind = mx / my, "level-level: b*mean(x)/mean(y)"
            elif ylog:
                f, kind = mx, "log-level: b*mean(x)"
            else:
                f, kind = 1.0 / my, "level-log: b/mean(y)"
            e, s = b * f, abs(f) * se
            rows.append({"parameter": p, "kind": kind, "elasticity": e, "std_error": s,
                         "ci_lower": e - c * s, "ci_upper": e + c * s})
        return pd.DataFrame(rows).set_index("parameter")


class RemittancePanel:
    """Cross-country panel model of poverty/inequality on remittances.

    Parameters
    ----------
    formula : str
        ``"pov_gap ~ 1 + personal_rm + gov_cons_exp"``; ``log(x)``/``np.log(x)`` allowed;
        an endogenous block ``[x ~ z1 + z2]`` makes it an IV model. Do not write the
        fixed effects: choose them in :meth:`fit`.
    data : DataFrame
        Long format with ``entity`` and ``time`` columns.
    entity, time : str
        Column names (default ``"country"``, ``"year"``).
    weights : str or array, optional
        Regression weights (e.g. population).
    remittances : sequence of str, optional
        Regressors whose elasticities are reported (default: names containing ``rm`` or
        ``remit``).
    missing : {"drop", "raise"}
    """

    def __init__(self, formula: str, data: pd.DataFrame, *, entity: str = "country", time: str = "year",
                 weights=None, remittances: Sequence[str] | None = None, missing: str = "drop"):
        if not isinstance(data, pd.DataFrame):
            raise InputError("data must be a pandas DataFrame")
        for c, role in ((entity, "entity"), (time, "time")):
            if c not in data.columns:
                raise InputError(f"{role} column {c!r} is not in the data")
        if missing not in ("drop", "raise"):
            raise InputError("missing must be 'drop' or 'raise'")
        if re.search(r"EntityEffects|TimeEffects|C\(", formula):
            raise InputError("do not put fixed effects in the formula: use fit(effects='entity'|'time'|'twoways')")
        if data.duplicated([entity, time]).any():
            dup = data.duplicated([entity, time], keep=False).to_numpy()
            raise InputError(f"duplicated {entity}-{time} pairs in {describe_rows(dup)}")
        from ..formula import check_formula
        check_formula(formula, data.columns)  # remitpov.formula: only columns and allowed functions
        self.formula, self.entity, self.time, self.missing = formula, entity, time, missing
        self.iv = "[" in formula
        self.data = data.reset_index(drop=True)
        if weights is not None:
            w = self.data[weights].to_numpy(dtype=float) if isinstance(weights, str) else np.asarray(weights, float)
            if w.shape[0] != len(self.data):
                raise InputError(f"weights have {w.shape[0]} rows, the data {len(self.data)}: pass one weight per row")
            self.weights = check_positive(w, "panel weights", self.data[entity].astype(str) + "/"
                                          + self.data[time].astype(str),
                                          "weights must be finite and > 0: drop those rows explicitly")
        else:
            self.weights = None
        self.remittances = None if remittances is None else tuple(remittances)

    @classmethod
    def from_formula(cls, formula: str, data: pd.DataFrame, **kwargs) -> "RemittancePanel":
        """Same as the constructor (linearmodels-style)."""
        return cls(formula, data, **kwargs)

    # ------------------------------------------------------------------ sample
    def _sample(self) -> tuple[pd.DataFrame, np.ndarray, int, pd.DataFrame]:
        from formulaic import model_matrix

        flat = _flatten_formula(self.formula)
        try:
            mm = model_matrix(flat, self.data, na_action="ignore")
        except Exception as exc:
            raise InputError(f"cannot build the panel model from {self.formula!r}: {exc}") from exc
        vals = pd.concat([mm.lhs, mm.rhs], axis=1)
        ok = np.isfinite(vals.to_numpy(dtype=float)).all(axis=1)
        dropped = int((~ok).sum())
        if dropped and self.missing == "raise":
            cols = [c for c in vals.columns if not np.isfinite(vals[c].to_numpy(dtype=float)).all()]
            ids = (self.data[self.entity].astype(str) + " " + self.data[self.time].astype(str)).to_numpy()
            raise InputError(f"model variables {cols} are missing or non-finite in {describe_rows(~ok, ids)}; "
                             "pass missing='drop' to use complete cases")
        return self.data.loc[ok].reset_index(drop=True), ok, dropped, vals.loc[ok]

    # ------------------------------------------------------------------ fit
    def fit(self, effects: str = "entity", cov_type: str = "CR0", *, cluster: str = "entity",
            debiased: bool = False) -> PanelResults:
        """Estimate (pooled OLS or fixed effects; FE-2SLS with an endogenous block).

        Parameters
        ----------
        effects : {"pooled", "entity", "time", "twoways"}
        cov_type : {"CR0", "CR1", "HC0", "HC1", "unadjusted"}
            See the module docstring (``"CR0"``/``"HC0"``/``"unadjusted"`` only for IV).
            Deprecated: ``"clustered"`` (= ``"CR0"``; with ``debiased=True`` linearmodels'
            debiased clustered covariance) and ``"robust"`` (linearmodels' convention, NOT
            plm's HC0: it is larger by ``n/(n - absorbed effects)``).
        cluster : {"entity", "time", "both"}
            Clustering dimension(s) for the CR types (``"both"``: CR0 only, plm ``vcovDC``).
        debiased : bool
            t reference distribution with the residual degrees of freedom.
        """
        if effects not in EFFECTS:
            raise InputError(f"effects={effects!r}: use one of {EFFECTS}")
        if cluster not in ("entity", "time", "both"):
            raise InputError(f"cluster={cluster!r}: use 'entity', 'time' or 'both'")
        cov_type = _panel_cov_type(cov_type, debiased, ("unadjusted", "HC0", "CR0") if self.iv else PANEL_COV)
        if cov_type == "CR1" and cluster == "both":
            raise InputError("cov_type='CR1' with cluster='both' is not defined; use 'CR0' (plm's vcovDC)")
        data, ok, dropped, vals = self._sample()
        w = None if self.weights is None else self.weights[ok]
        notes = []
        if dropped:
            notes.append(f"{dropped} of {len(ok)} rows dropped for missing model variables (complete cases)")
        if self.iv:
            res, params, cov, fs = self._fit_iv(data, w, effects, cov_type, cluster, debiased)
        else:
            res, params, cov = self._fit_ols(data, w, effects, cov_type, cluster, debiased)
            fs = None
        dep = str(vals.columns[0])
        means = {c: float(vals[c].mean()) for c in vals.columns}
        rem = self.remittances
        if rem is None:
            rem = tuple(p for p in params.index if re.search(r"rm|remit", str(p), re.I))
        missing_rem = [p for p in rem if p not in params.index]
        if missing_rem:
            raise InputError(f"remittances={missing_rem} are not parameters of the model: {list(params.index)}")
        method = {"pooled": "Pooled", "entity": "Country FE", "time": "Year FE", "twoways": "Country + year FE"}[effects]
        method += " 2SLS" if self.iv else " OLS"
        clabel = (f"{cov_type} clustered by {cluster}" if cov_type in ("CR0", "CR1", "clustered-lm")
                  else cov_type)
        info = {"Entities": int(data[self.entity].nunique()), "Periods": int(data[self.time].nunique()),
                "Rows dropped (missing)": dropped}
        if fs is not None:
            info["Min. first-stage F"] = float(fs["f_stat"].min())
        out = PanelResults(params=params, cov=cov, nobs=int(len(data)), model_name="Remittances panel",
                           dep_var=dep, cov_type=clabel, method=method, dist="t" if debiased else "normal",
                           df_resid=float(res.df_resid) if debiased else None, info=info, notes=tuple(notes), lm=res,
                           effects=effects, dep_name=dep, means=means, remittances=tuple(rem), first_stage=fs)
        return out

    # ------------------------------------------------------------------ RE / FD / BE
    def _plain_design(self, what: str):
        """Complete-case rows sorted by entity and time, ``y``, ``X`` (with the intercept),
        slope names and entity codes, for the estimators computed here (not linearmodels)."""
        if self.iv:
            raise InputError(f"{what} is not available with an endogenous block; use fit() for FE-2SLS")
        if self.weights is not None:
            raise InputError(f"{what} does not take weights (plm's estimators are unweighted); drop weights=")
        data, ok, dropped, vals = self._sample()
        order = np.lexsort((data[self.time].to_numpy(), pd.factorize(data[self.entity], sort=True)[0]))
        data, vals = data.iloc[order].reset_index(drop=True), vals.iloc[order].reset_index(drop=True)
        names = [str(c) for c in vals.columns[1:]]
        if "Intercept" not in names:
            raise InputError(f"{what} needs an intercept in the formula ('y ~ 1 + x')")
        y = vals.iloc[:, 0].to_numpy(dtype=float)
        X = vals.iloc[:, 1:].to_numpy(dtype=float)
        codes = pd.factorize(data[self.entity], sort=True)[0]
        notes = [f"{dropped} of {len(ok)} rows dropped for missing model variables (complete cases)"] if dropped else []
        return data, y, X, names, codes, notes, str(vals.columns[0])

    def _plain_results(self, what, data, y, X, names, codes, cov_type, cluster, notes, dep, nobs=None, info=None):
        """OLS of the transformed ``y`` on ``X`` with a registry covariance (plm's
        ``vcov`` for ``"unadjusted"``; ``vcovHC`` white1/arellano on the transformed data)."""
        cov_type = resolve_cov_type(cov_type, allowed=("unadjusted", "HC0", "HC1", "CR0", "CR1"), stacklevel=4)
        b, *_ = np.linalg.lstsq(X, y, rcond=None)
        e = y - X @ b
        cl = None
        if cov_type in ("CR0", "CR1"):
            if cluster not in ("entity", "time"):
                raise InputError(f"cluster={cluster!r}: use 'entity' or 'time' with {what}")
            cl = cluster_codes(data[self.entity if cluster == "entity" else self.time], len(y))
        V = linear_vcov(X, e, None, cov_type, cl)
        params = pd.Series(b, index=names)
        means = {n: float(v) for n, v in zip(names, X.mean(axis=0))}
        rem = self.remittances or tuple(p for p in names if re.search(r"rm|remit", p, re.I))
        head = {"Entities": int(data[self.entity].nunique()), "Periods": int(data[self.time].nunique())}
        head.update(info or {})
        return PanelResults(params=params, cov=V, nobs=int(len(y) if nobs is None else nobs),
                            model_name="Remittances panel", dep_var=dep,
                            cov_type=cov_type if cl is None else f"{cov_type} clustered by {cluster}",
                            method=what, dist="t", df_resid=float(len(y) - X.shape[1]), info=head,
                            notes=tuple(notes), effects=what, dep_name=dep, means=means, remittances=tuple(rem))

    def random_effects(self, cov_type: str = "unadjusted", *, cluster: str = "entity") -> PanelResults:
        """Random (country) effects by feasible GLS with Swamy--Arora variance components
        (plm's ``model="random"`` default, balanced or unbalanced).

        ``sigma2_idios = e_W'e_W / (n - N - K)`` from the within regression; the individual
        variance from the between regression on the group means repeated ``T_i`` times
        (plm's ``"Between"``): ``sigma2_id = (e_B'e_B - (N - K - 1) sigma2_idios) / (n -
        tr((Z_B'Z_B)^-1 Z_S'Z))`` with ``Z_B``/``Z_S`` the group means/sums of ``Z = [1, X]``
        (plm's ``ercomp``; a negative value is set to 0 with a note). Then OLS of
        ``y - theta_i ybar_i`` on ``Z - theta_i Zbar_i`` with ``theta_i = 1 - sqrt(sigma2_idios /
        (T_i sigma2_id + sigma2_idios))``. ``info`` has both variances (and ``theta`` when balanced).
        """
        data, y, X, names, codes, notes, dep = self._plain_design("random effects")
        n, N = y.size, int(codes.max()) + 1
        T = np.bincount(codes).astype(float)
        Zsum = np.column_stack([np.bincount(codes, weights=X[:, j], minlength=N) for j in range(X.shape[1])])
        Zbar = (Zsum / T[:, None])[codes]
        ybar = (np.bincount(codes, weights=y) / T)[codes]
        slopes = [j for j, c in enumerate(names) if c != "Intercept"]
        K = len(slopes)
        Xw, yw = X[:, slopes] - Zbar[:, slopes], y - ybar
        ew = yw - Xw @ np.linalg.lstsq(Xw, yw, rcond=None)[0]
        s2_idios = float(ew @ ew) / (n - N - np.linalg.matrix_rank(Xw))
        eb = ybar - Zbar @ np.linalg.lstsq(Zbar, ybar, rcond=None)[0]
        m_eta = n - np.trace(np.linalg.solve(Zbar.T @ Zbar, (Zsum[codes]).T @ X))
        s2_id = (float(eb @ eb) - (N - K - 1) * s2_idios) / m_eta
        if s2_id < 0:
            notes.append(f"Swamy-Arora individual variance negative ({s2_id:.4g}); set to 0 (pooled OLS)")
            s2_id = 0.0
        theta = (1 - np.sqrt(s2_idios / (T * s2_id + s2_idios)))[codes]
        info = {"sigma2 (idiosyncratic)": s2_idios, "sigma2 (individual)": s2_id}
        if np.ptp(T) == 0:
            info["theta"] = float(theta[0])
        return self._plain_results("Random effects (Swamy-Arora)", data, y - theta * ybar, X - theta[:, None] * Zbar,
                                   names, codes, cov_type, cluster, notes, dep, info=info)

    def first_difference(self, cov_type: str = "unadjusted", *, cluster: str = "entity") -> PanelResults:
        """First differences with an intercept (plm's ``model="fd"``): OLS of ``y_it - y_i,t-1``
        on ``x_it - x_i,t-1`` and a constant (a common trend in levels), differencing
        consecutive available rows of each country (plm's row shift: a gap in the years is
        differenced across; countries with one row drop out)."""
        data, y, X, names, codes, notes, dep = self._plain_design("first differences")
        same = np.r_[False, codes[1:] == codes[:-1]]
        dX = np.diff(X, axis=0, prepend=np.nan)[same]
        dX[:, names.index("Intercept")] = 1.0
        dy = np.diff(y, prepend=np.nan)[same]
        notes.append(f"{int((~same).sum())} first rows of countries lost to differencing")
        return self._plain_results("First differences", data.loc[same].reset_index(drop=True), dy, dX, names,
                                   codes[same], cov_type, cluster, notes, dep)

    def between(self, cov_type: str = "unadjusted") -> PanelResults:
        """Between estimator (plm's ``model="between"``): OLS on the country means, one row
        per country (``nobs`` = number of countries)."""
        data, y, X, names, codes, notes, dep = self._plain_design("between")
        T = np.bincount(codes).astype(float)
        Xb = np.column_stack([np.bincount(codes, weights=X[:, j]) for j in range(X.shape[1])]) / T[:, None]
        yb = np.bincount(codes, weights=y) / T
        first = np.r_[True, codes[1:] != codes[:-1]]
        return self._plain_results("Between", data.loc[first].reset_index(drop=True), yb, Xb, names,
                                   np.arange(yb.size), cov_type, "entity", notes, dep)

    def hausman(self) -> dict:
        """Hausman test of random against fixed (country) effects: plm's ``phtest(within, random)``.

        ``H = d' (V_FE - V_RE)^-1 d`` with ``d`` the difference of the slope estimates and the
        classical covariances, chi-squared with as many degrees of freedom as slopes. A
        small p-value rejects the random-effects assumption (effects uncorrelated with the
        regressors). Returns ``{"test", "stat", "df", "pvalue", "fixed", "random"}``.
        """
        from scipy import stats

        fe = self.fit("entity", cov_type="unadjusted")
        re_ = self.random_effects()
        common = [p for p in fe.params.index if p in re_.params.index]
        d = (fe.params[common] - re_.params[common]).to_numpy()
        V = (fe.cov.loc[common, common] - re_.cov.loc[common, common]).to_numpy()
        stat = float(d @ np.linalg.solve(V, d))
        return {"test": "Hausman (FE vs RE)", "stat": stat, "df": len(common),
                "pvalue": float(stats.chi2.sf(stat, len(common))), "fixed": fe, "random": re_}

    def _lm_cov_kwargs(self, cov_type, cluster, debiased):
        """linearmodels ``fit`` arguments: legacy conventions, or the classical fit whose
        covariance is replaced by remitpov's (plm's) sandwich."""
        if cov_type == "robust-lm":
            return {"cov_type": "robust", "debiased": debiased}
        if cov_type in ("clustered-lm", "CR0") and self.iv:
            kw = {"cov_type": "clustered", "debiased": cov_type == "clustered-lm"}
            if cluster in ("entity", "both"):
                kw["cluster_entity"] = True
            if cluster in ("time", "both"):
                kw["cluster_time"] = True
            return kw
        if cov_type == "clustered-lm":
            return {"cov_type": "clustered", "debiased": True, "cluster_entity": cluster in ("entity", "both"),
                    "cluster_time": cluster in ("time", "both")}
        return {"cov_type": "unadjusted", "debiased": True}  # classical s^2 on n - N - k df (plm's vcov)

    def _fit_ols(self, data, w, effects, cov_type, cluster, debiased):
        from linearmodels import PanelOLS, PooledOLS

        pdata = data.set_index([self.entity, self.time])
        wts = None if w is None else pd.Series(w, index=pdata.index)
        f = self.formula
        if effects in ("entity", "twoways"):
            f += " + EntityEffects"
        if effects in ("time", "twoways"):
            f += " + TimeEffects"
        try:
            if effects == "pooled":
                model = PooledOLS.from_formula(f, pdata, weights=wts)
            else:
                # an intercept with absorbed effects is kept by linearmodels as the mean effect
                model = PanelOLS.from_formula(f, pdata, weights=wts, drop_absorbed=False)
            res = model.fit(**self._lm_cov_kwargs(cov_type, cluster, debiased))
        except np.linalg.LinAlgError as exc:
            raise EstimationError(f"singular panel design: {exc}") from exc
        except ValueError as exc:
            raise EstimationError(f"cannot estimate the panel model: {exc}") from exc
        params, cov = res.params, res.cov
        if effects != "pooled":  # the intercept of PanelOLS is only the mean of the effects
            keep = [p for p in params.index if p != "Intercept"]
            params, cov = params[keep], cov.loc[keep, keep]
        if cov_type in ("HC0", "HC1", "CR0", "CR1"):
            Xt, e = self._partialled(data, w, effects, params.index)
            V = self._sandwich(Xt, e, cov_type, cluster, data)
            cov = pd.DataFrame(V, index=params.index, columns=params.index)
        return res, params, cov

    def _sandwich(self, Xt, e, cov_type, cluster, data) -> np.ndarray:
        """Registry covariance of the partialled-out regression (plm's ``vcovHC``: white1
        for HC, arellano for CR; ``vcovDC`` for two-way clusters)."""
        if cov_type in ("HC0", "HC1"):
            return linear_vcov(Xt, e, None, cov_type)
        n = Xt.shape[0]
        ent = cluster_codes(data[self.entity], n)
        tim = cluster_codes(data[self.time], n)
        if cluster == "entity":
            return linear_vcov(Xt, e, None, cov_type, ent)
        if cluster == "time":
            return linear_vcov(Xt, e, None, cov_type, tim)
        return linear_vcov(Xt, e, None, "CR0", ent) + linear_vcov(Xt, e, None, "CR0", tim) - linear_vcov(
            Xt, e, None, "HC0")

    def _partialled(self, data, w, effects, names):
        """The slope regressors and the residuals of the dummy-variable regression, with
        the effects partialled out (Frisch-Waugh-Lovell) and the weights absorbed
        (``sqrt(w)`` scaling): plm's sandwiches are those of this regression (linearmodels
        adds a degrees-of-freedom factor for the absorbed effects; plm does not)."""
        from formulaic import model_matrix

        mm = model_matrix(self.formula, data, na_action="raise")
        y = np.asarray(mm.lhs, dtype=float).ravel()
        X = mm.rhs
        X = X[[c for c in X.columns if c in set(names)]].reindex(columns=list(names))
        X = X.to_numpy(dtype=float)
        D = [np.ones((len(y), 1))]
        if effects in ("entity", "twoways"):
            D.append(pd.get_dummies(data[self.entity], drop_first=True).to_numpy(dtype=float))
        if effects in ("time", "twoways"):
            D.append(pd.get_dummies(data[self.time], drop_first=True).to_numpy(dtype=float))
        if effects == "pooled":
            D = []
        sw = np.ones(len(y)) if w is None else np.sqrt(w)
        Xw, yw = X * sw[:, None], y * sw
        if D:
            Dw = np.column_stack(D) * sw[:, None]
            Xt = Xw - Dw @ np.linalg.lstsq(Dw, Xw, rcond=None)[0]
            yt = yw - Dw @ np.linalg.lstsq(Dw, yw, rcond=None)[0]
        else:
            Xt, yt = Xw, yw
        e = yt - Xt @ np.linalg.solve(Xt.T @ Xt, Xt.T @ yt)
        return Xt, e

    def _fit_iv(self, data, w, effects, cov_type, cluster, debiased):
        from linearmodels.iv import IV2SLS

        from .iv import first_stage_table, iv_arrays

        d = data.copy()
        d["_entity_"] = pd.factorize(d[self.entity], sort=True)[0]
        d["_time_"] = pd.factorize(d[self.time], sort=True)[0]
        extra = ""
        if effects in ("entity", "twoways"):
            extra += " + C(_entity_)"
        if effects in ("time", "twoways"):
            extra += " + C(_time_)"
        f = self.formula
        m = re.search(r"\[", f)
        f = f[:m.start()] + extra.lstrip(" +") + " + " + f[m.start():] if extra else f
        if extra and not re.search(r"~\s*1\b|\+\s*1\b", f.split("[")[0]):
            f = f.replace("~", "~ 1 +", 1)
        try:
            model = IV2SLS.from_formula(f, d, weights=w)
        except Exception as exc:
            raise InputError(f"cannot build the panel IV model from {self.formula!r}: {exc}") from exc
        kw = self._lm_cov_kwargs(cov_type, cluster, debiased)
        if kw["cov_type"] == "clustered":
            c = {"entity": "_entity_", "time": "_time_"}
            kw = {"cov_type": "clustered", "debiased": kw["debiased"],
                  "clusters": d[c[cluster]] if cluster in c else d[["_entity_", "_time_"]]}
        elif cov_type == "HC0":
            kw = {"cov_type": "robust", "debiased": False}
        # "unadjusted": classical s^2 with n - k (k includes the dummies), as plm
        try:
            res = model.fit(**kw)
        except np.linalg.LinAlgError as exc:
            raise EstimationError(f"singular panel IV design: {exc}") from exc
        keep = [p for p in res.params.index if not str(p).startswith(("C(_entity_)", "C(_time_)"))]
        if effects != "pooled":
            keep = [p for p in keep if p != "Intercept"]
        fs, _ = first_stage_table(res, iv_arrays(model, w), "linearmodels", None, 10.0)
        if fs["weak"].any():
            from ..exceptions import WeakInstrumentWarning

            warnings.warn(f"weak instruments: first-stage partial F below 10 for {fs.index[fs['weak']].tolist()}",
                          WeakInstrumentWarning, stacklevel=3)
        return res, res.params[keep], res.cov.loc[keep, keep], fs
