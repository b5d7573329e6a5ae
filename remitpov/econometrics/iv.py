"""Instrumental-variable estimates of remittance effects (a thin layer over linearmodels).

Remittance receipt or amount is endogenous to poverty (households with migrants differ);
the literature instruments it with historical migration networks (e.g. 1920s state
migration rates in Mexico, Woodruff & Zenteno 2007), distance to the border or to
railways, or exchange-rate shocks. This module does **not** re-implement IV: it wraps
:mod:`linearmodels.iv` (``IV2SLS``, ``IVLIML``, ``IVGMM``) and adds

* column names or arrays for survey weights and PSU clusters;
* a refusal to drop rows silently (missing values raise :class:`InputError` unless
  ``missing="drop"``, which records the count in the notes);
* first-stage diagnostics in one table (partial R², Shea partial R², partial F with its
  p-value under the chosen covariance, the classical F), the over-identification test
  (Sargan for 2SLS/LIML with homoskedastic errors, Wooldridge's score test when robust or
  clustered, Hansen's J for GMM), Wu-Hausman exogeneity test;
* a :class:`~remitpov.exceptions.WeakInstrumentWarning` when a partial F is below
  ``weak_threshold`` (10, the Staiger-Stock rule of thumb). The F used is the one of
  the chosen covariance (robust/clustered Wald statistic divided by the number of
  excluded instruments; classical F with ``cov_type="unadjusted"``).

Conventions (linearmodels)
--------------------------
* ``cov_type="unadjusted"`` with ``debiased=True`` is the classical IV covariance
  ``s² (X'P_Z X)^-1`` with ``s² = RSS/(n-k)`` (R ``AER::ivreg``).
* ``cov_type="robust"``: White HC0 (``debiased=False``) or HC1 (``debiased=True``:
  times ``n/(n-k)``), equal to ``sandwich::vcovHC(type="HC0"/"HC1")``.
* ``cov_type="clustered"``: one-way clusters (the PSUs); ``debiased=True`` applies
  ``(n-1)/(n-k) * G/(G-1)``. Strata and fpc are not used (a with-replacement,
  cluster-robust approximation to the design variance).
* Weights are sampling weights used as WLS weights (each moment weighted by ``w_i``):
  point estimates equal R's ``ivreg(weights=)``.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..exceptions import EstimationError, InputError, WeakInstrumentWarning, describe_rows
from ._base import ModelResults, data_column

__all__ = ["RemittanceIV", "IVResults"]

ESTIMATORS = ("2sls", "liml", "gmm")
COV_TYPES = ("unadjusted", "homoskedastic", "robust", "heteroskedastic", "clustered", "kernel")


@dataclass(frozen=True, eq=False)
class IVResults(ModelResults):
    """IV results: :class:`~remitpov.econometrics._base.ModelResults` plus diagnostics.

    Attributes
    ----------
    lm : linearmodels results
        The underlying ``IVResults``/``IVGMMResults`` (everything linearmodels offers).
    first_stage : DataFrame
        One row per endogenous regressor: ``rsquared``, ``partial_rsquared``,
        ``shea_rsquared``, ``f_stat`` (partial F under the chosen covariance),
        ``f_pvalue``, ``f_stat_classical``, ``weak`` (F below the threshold).
    overid : dict or None
        ``{"test", "stat", "pvalue", "df"}`` of the over-identification test (None if
        exactly identified).
    exogeneity : dict or None
        Wu-Hausman test (``{"test", "stat", "pvalue", "df"}``).
    """

    lm: Any = field(default=None, repr=False)
    first_stage: pd.DataFrame = field(default=None, repr=False)
    overid: dict | None = None
    exogeneity: dict | None = None
    estimator: str = "2sls"

    @property
    def weak_instruments(self) -> bool:
        return bool(self.first_stage["weak"].any())

    def diagnostics(self) -> pd.DataFrame:
        """First-stage table plus over-identification and exogeneity rows, tidy."""
        rows = [{"test": f"first-stage partial F ({k})", "stat": r["f_stat"], "pvalue": r["f_pvalue"],
                 "df": r["f_df"]} for k, r in self.first_stage.iterrows()]
        for t in (self.overid, self.exogeneity):
            if t is not None:
                rows.append(t)
        return pd.DataFrame(rows)


class RemittanceIV:
    """Linear IV regression with survey weights and PSU clusters.

    Parameters
    ----------
    dependent, exog, endog, instruments
        As in ``linearmodels.iv.IV2SLS`` (use :meth:`from_formula` normally).
    data : DataFrame
        Needed to resolve ``weights``/``clusters`` column names.
    weights : str or array, optional
        Sampling weights.
    clusters : str or array, optional
        PSU (cluster) labels used by ``cov_type="clustered"`` (the default when given).
    missing : {"raise", "drop"}
        Rows with a missing model variable raise InputError (default) or are dropped
        and counted in the notes.

    Examples
    --------
    >>> iv = RemittanceIV.from_formula("poor ~ 1 + hhsize + [remit ~ mig_rate_1920 + dist_border]",
    ...                                data, weights="factor", clusters="upm")   # doctest: +SKIP
    >>> res = iv.fit(estimator="2sls")                                        # doctest: +SKIP
    >>> res.first_stage, res.overid                                           # doctest: +SKIP
    """

    def __init__(self, formula: str, data: pd.DataFrame, *, weights=None, clusters=None, missing: str = "raise"):
        if not isinstance(data, pd.DataFrame):
            raise InputError("data must be a pandas DataFrame")
        if "[" not in formula or "~" not in formula.split("[", 1)[1]:
            raise InputError(f"formula {formula!r} needs an endogenous block: 'y ~ 1 + x + [remit ~ z1 + z2]'")
        if missing not in ("raise", "drop"):
            raise InputError("missing must be 'raise' or 'drop'")
        from ..formula import check_formula
        check_formula(formula, data.columns)  # remitpov.formula: only columns and allowed functions
        self.formula, self.data, self.missing = formula, data, missing
        w = data_column(data, weights, "weights")
        if w is not None:
            w = pd.to_numeric(pd.Series(w), errors="coerce").to_numpy(dtype=float)
            bad = ~np.isfinite(w) | (w <= 0)
            if bad.any():
                raise InputError(f"weights must be finite and > 0 in IV regressions: {describe_rows(bad)}; "
                                 "drop zero-weight rows explicitly")
        self.weights = w
        c = data_column(data, clusters, "clusters")
        if c is not None and pd.isna(pd.Series(c)).any():
            raise InputError(f"clusters have missing labels in {describe_rows(pd.isna(pd.Series(c)).to_numpy())}")
        self.clusters = c

    @classmethod
    def from_formula(cls, formula: str, data: pd.DataFrame, *, weights=None, clusters=None,
                     missing: str = "raise") -> "RemittanceIV":
        """``"y ~ 1 + x + [remit ~ z1 + z2]"`` (linearmodels/formulaic syntax)."""
        return cls(formula, data, weights=weights, clusters=clusters, missing=missing)

    def _model(self, estimator: str, data: pd.DataFrame, weights):
        from linearmodels.iv import IV2SLS, IVGMM, IVLIML

        cls = {"2sls": IV2SLS, "liml": IVLIML, "gmm": IVGMM}[estimator]
        try:
            with warnings.catch_warnings():  # missing values are handled (and reported) by fit()
                from linearmodels.shared.exceptions import MissingValueWarning

                warnings.simplefilter("ignore", MissingValueWarning)
                return cls.from_formula(self.formula, data, weights=weights)
        except Exception as exc:
            raise InputError(f"cannot build the IV model from {self.formula!r}: {exc}") from exc

    def fit(self, estimator: str = "2sls", cov_type: str | None = None, *, debiased: bool = False,
            weak_threshold: float = 10.0, **fit_kwargs) -> IVResults:
        """Estimate.

        Parameters
        ----------
        estimator : {"2sls", "liml", "gmm"}
        cov_type : {"unadjusted", "robust", "clustered", "kernel"}, optional
            Default: ``"clustered"`` when clusters were given, else ``"robust"``.
        debiased : bool
            Small-sample corrections (t/F reference distributions, ``n/(n-k)`` and
            ``G/(G-1)`` factors), see the module docstring.
        weak_threshold : float
            WeakInstrumentWarning if a first-stage partial F is below it.
        **fit_kwargs
            Passed to linearmodels' ``fit`` (e.g. ``iter_limit`` for GMM).
        """
        estimator = estimator.lower()
        if estimator not in ESTIMATORS:
            raise InputError(f"estimator={estimator!r}: use one of {ESTIMATORS}")
        if cov_type is None:
            cov_type = "clustered" if self.clusters is not None else "robust"
        if cov_type not in COV_TYPES:
            raise InputError(f"cov_type={cov_type!r}: use one of {COV_TYPES}")
        if cov_type == "clustered" and self.clusters is None:
            raise InputError("cov_type='clustered' needs clusters= (the PSU column) in the constructor")
        data = self.data
        w = self.weights
        model = self._model(estimator, data, w)
        notes = []
        keep = np.asarray(model.notnull, dtype=bool)
        if not keep.all():
            if self.missing == "raise":
                raise InputError(f"model variables are missing in {describe_rows(~keep, data.index)}; "
                                 "drop or impute them explicitly, or pass missing='drop'")
            notes.append(f"{int((~keep).sum())} rows with missing model variables dropped (missing='drop')")
        kw = dict(fit_kwargs)
        kw["cov_type"] = cov_type
        kw["debiased"] = debiased
        if cov_type == "clustered":
            kw["clusters"] = pd.Series(pd.factorize(pd.Series(self.clusters)[keep])[0], index=data.index[keep])
        try:
            res = model.fit(**kw)
        except np.linalg.LinAlgError as exc:
            raise EstimationError(f"singular IV design ({exc}): collinear regressors or instruments") from exc
        fs = self._first_stage(res, model, estimator, w, kw, weak_threshold)
        overid, exog = self._tests(res, estimator, cov_type)
        weak = fs.index[fs["weak"]].tolist()
        if weak:
            warnings.warn(
                f"weak instruments: first-stage partial F below {weak_threshold:g} for {weak} "
                f"(F = {', '.join(f'{v:.3g}' for v in fs.loc[weak, 'f_stat'])}); 2SLS is biased towards OLS and "
                "its tests over-reject; prefer LIML, report weak-IV-robust (Anderson-Rubin) inference, or find "
                "stronger instruments", WeakInstrumentWarning, stacklevel=2)
            notes.append(f"weak instruments (partial F < {weak_threshold:g}) for {weak}")
        if overid is not None:
            notes.append(f"{overid['test']}: {overid['stat']:.4g} (p = {overid['pvalue']:.4g})")
        cov_label = {"unadjusted": "unadjusted", "homoskedastic": "unadjusted", "robust": "robust (HC1)" if debiased
                     else "robust (HC0)", "heteroskedastic": "robust", "clustered": "clustered (PSU)",
                     "kernel": "kernel (HAC)"}[cov_type]
        params = res.params
        cov = res.cov
        info = {"Endogenous": ", ".join(map(str, res.model.endog.cols)),
                "Instruments": ", ".join(map(str, res.model.instruments.cols)),
                "Min. first-stage F": float(fs["f_stat"].min())}
        if self.clusters is not None:
            info["Clusters"] = int(pd.Series(self.clusters)[keep].nunique())
        return IVResults(
            params=params, cov=cov, nobs=int(res.nobs), model_name=f"Remittance IV ({estimator.upper()})",
            dep_var=str(res.model.dependent.cols[0]), cov_type=cov_label, method=estimator.upper(),
            dist="t" if debiased else "normal", df_resid=float(res.df_resid) if debiased else None,
            info=info, notes=tuple(notes), lm=res, first_stage=fs, overid=overid, exogeneity=exog,
            estimator=estimator)

    @staticmethod
    def _first_stage(res, model, estimator, w, kw, weak_threshold) -> pd.DataFrame:
        diag = res.first_stage.diagnostics
        q = res.model.instruments.shape[1]
        rows = {}
        for endog, r in diag.iterrows():
            dist = str(r["f.dist"])
            F = float(r["f.stat"])
            if dist.startswith("chi2"):
                F = F / q
            rows[endog] = {"rsquared": float(r["rsquared"]), "partial_rsquared": float(r["partial.rsquared"]),
                           "shea_rsquared": float(r["shea.rsquared"]), "f_stat": F, "f_pvalue": float(r["f.pval"]),
                           "f_df": dist if dist.startswith("F") else f"{dist}/{q}"}
        # classical F (homoskedastic) for reference, from an unadjusted fit of the same model
        if kw["cov_type"] not in ("unadjusted", "homoskedastic"):
            ures = model.fit(cov_type="unadjusted", debiased=True)
            ud = ures.first_stage.diagnostics
            for endog in rows:
                rows[endog]["f_stat_classical"] = float(ud.loc[endog, "f.stat"])
        else:
            for endog in rows:
                rows[endog]["f_stat_classical"] = rows[endog]["f_stat"] if kw.get("debiased") else float(
                    model.fit(cov_type="unadjusted", debiased=True).first_stage.diagnostics.loc[endog, "f.stat"])
        out = pd.DataFrame.from_dict(rows, orient="index")
        out["weak"] = out["f_stat"] < weak_threshold
        out.index.name = "endogenous"
        return out

    @staticmethod
    def _tests(res, estimator, cov_type):
        overid = exog = None
        try:
            if estimator == "gmm":
                t = res.j_stat
                name = "Hansen J"
            elif cov_type in ("unadjusted", "homoskedastic"):
                t = res.sargan
                name = "Sargan"
            else:
                t = res.wooldridge_overid
                name = "Wooldridge score (robust overid)"
            if np.isfinite(t.stat) and t.df > 0:
                overid = {"test": name, "stat": float(t.stat), "pvalue": float(t.pval), "df": str(t.dist_name)}
        except Exception:  # exactly identified: linearmodels returns an invalid test
            overid = None
        try:
            h = res.wu_hausman()
            exog = {"test": "Wu-Hausman", "stat": float(h.stat), "pvalue": float(h.pval), "df": str(h.dist_name)}
        except Exception:
            exog = None
        return overid, exog
