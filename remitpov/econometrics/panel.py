"""Cross-country panel regressions of poverty or inequality on remittances (Adams & Page 2005 style).

``RemittancePanel.from_formula("pov_gap ~ 1 + personal_rm + gov_cons_exp", data,
entity="country", time="year").fit(effects="entity", cov_type="clustered")``

* ``effects="pooled"``: pooled OLS (``linearmodels.PooledOLS``);
* ``effects="entity"`` / ``"time"`` / ``"twoways"``: country and/or year fixed effects
  (``linearmodels.PanelOLS`` with ``EntityEffects``/``TimeEffects``);
* IV with lagged (or other) instruments: write the endogenous block in the formula,
  ``"log(gini) ~ 1 + gov_e + [log(rm) ~ log(rm_lag1) + log(rm_lag3)]"``. The model is
  estimated by ``linearmodels.IV2SLS`` with country (and year) dummies for the fixed
  effects (FE-2SLS; the dummies are estimated but not reported).

Covariances (``cov_type``)
--------------------------
* ``"clustered"`` (default): clustered by country (``cluster="entity"``; ``"time"`` or
  ``"both"`` for two-way, ``vcovDC``). With ``debiased=False`` (default) no small-sample
  factor: R ``plm::vcovHC(method="arellano", type="HC0", cluster="group")``, computed
  as the cluster sandwich of the dummy-variable regression (by the Frisch-Waugh-Lovell
  theorem the slope block does not depend on whether the effects are removed by
  demeaning or dummies). linearmodels' own clustered covariance differs for effects not
  nested in the clusters (it adds a degrees-of-freedom factor for year effects with
  country clusters); it is used with ``debiased=True``, together with its
  ``(n-1)/(n-k)`` correction. For FE models the intercept is not reported (as plm).
* ``"robust"``: White heteroskedasticity-robust; ``"unadjusted"``: classical, with the
  residual degrees of freedom net of the absorbed effects (plm's ``vcov``).

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

from ..exceptions import EstimationError, InputError, describe_rows
from ._base import ModelResults

__all__ = ["RemittancePanel", "PanelResults"]

EFFECTS = ("pooled", "entity", "time", "twoways")
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
            if w.shape[0] != len(self.data) or not np.all(np.isfinite(w)) or (w <= 0).any():
                raise InputError("weights must be finite and > 0, one per row")
            self.weights = w
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
    def fit(self, effects: str = "entity", cov_type: str = "clustered", *, cluster: str = "entity",
            debiased: bool = False) -> PanelResults:
        """Estimate.

        Parameters
        ----------
        effects : {"pooled", "entity", "time", "twoways"}
        cov_type : {"clustered", "robust", "unadjusted"}
        cluster : {"entity", "time", "both"}
            Clustering dimension(s) for ``cov_type="clustered"``.
        debiased : bool
            linearmodels' small-sample corrections (see module docstring).
        """
        if effects not in EFFECTS:
            raise InputError(f"effects={effects!r}: use one of {EFFECTS}")
        if cov_type not in ("clustered", "robust", "unadjusted"):
            raise InputError(f"cov_type={cov_type!r}: use 'clustered', 'robust' or 'unadjusted'")
        if cluster not in ("entity", "time", "both"):
            raise InputError(f"cluster={cluster!r}: use 'entity', 'time' or 'both'")
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
        clabel = cov_type if cov_type != "clustered" else f"clustered by {cluster}"
        info = {"Entities": int(data[self.entity].nunique()), "Periods": int(data[self.time].nunique()),
                "Rows dropped (missing)": dropped}
        if fs is not None:
            info["Min. first-stage F"] = float(fs["f_stat"].min())
        out = PanelResults(params=params, cov=cov, nobs=int(len(data)), model_name="Remittances panel",
                           dep_var=dep, cov_type=clabel, method=method, dist="t" if debiased else "normal",
                           df_resid=float(res.df_resid) if debiased else None, info=info, notes=tuple(notes), lm=res,
                           effects=effects, dep_name=dep, means=means, remittances=tuple(rem), first_stage=fs)
        return out

    def _cov_kwargs(self, cov_type, cluster, data, debiased):
        kw: dict = {"cov_type": cov_type, "debiased": debiased}
        if cov_type == "clustered":
            if cluster in ("entity", "both"):
                kw["cluster_entity"] = True
            if cluster in ("time", "both"):
                kw["cluster_time"] = True
        return kw

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
            kw = self._cov_kwargs(cov_type, cluster, data, debiased)
            if cov_type == "unadjusted":
                kw["debiased"] = True  # classical s^2 on n - N - k df (plm's vcov)
            res = model.fit(**kw)
        except np.linalg.LinAlgError as exc:
            raise EstimationError(f"singular panel design: {exc}") from exc
        except ValueError as exc:
            raise EstimationError(f"cannot estimate the panel model: {exc}") from exc
        params, cov = res.params, res.cov
        if effects != "pooled":  # the intercept of PanelOLS is only the mean of the effects
            keep = [p for p in params.index if p != "Intercept"]
            params, cov = params[keep], cov.loc[keep, keep]
        if cov_type == "clustered" and not debiased:
            cov = self._arellano(data, w, effects, cluster, params.index)
        return res, params, cov

    def _arellano(self, data, w, effects, cluster, names):
        """plm's ``vcovHC(method="arellano", type="HC0")`` (``vcovDC`` for two-way
        clustering) for the slope coefficients: the cluster sandwich of the dummy-variable
        regression, computed through the Frisch-Waugh-Lovell partialled-out regressors
        (linearmodels adds a degrees-of-freedom factor for effects not nested in the
        clusters, e.g. year effects with country clusters; plm does not)."""
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
        A = np.linalg.inv(Xt.T @ Xt)
        e = yt - Xt @ (A @ (Xt.T @ yt))
        S = Xt * e[:, None]

        def meat(groups):
            codes = pd.factorize(groups)[0]
            G = np.zeros((codes.max() + 1, S.shape[1]))
            for j in range(S.shape[1]):
                G[:, j] = np.bincount(codes, weights=S[:, j], minlength=G.shape[0])
            return G.T @ G

        if cluster == "entity":
            M = meat(data[self.entity].to_numpy())
        elif cluster == "time":
            M = meat(data[self.time].to_numpy())
        else:
            M = meat(data[self.entity].to_numpy()) + meat(data[self.time].to_numpy()) - S.T @ S
        V = A @ M @ A
        return pd.DataFrame(V, index=names, columns=names)

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
        kw: dict = {"cov_type": cov_type if cov_type != "unadjusted" else "unadjusted", "debiased": debiased}
        if cov_type == "clustered":
            if cluster == "entity":
                kw["clusters"] = d["_entity_"]
            elif cluster == "time":
                kw["clusters"] = d["_time_"]
            else:
                kw["clusters"] = d[["_entity_", "_time_"]]
        if cov_type == "unadjusted":
            kw["debiased"] = True  # classical s^2 with n - k (k includes the dummies), as plm
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
