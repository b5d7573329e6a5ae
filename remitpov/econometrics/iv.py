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
  (Sargan for 2SLS/LIML with ``"unadjusted"``, Wooldridge's robust score test for the HC
  types and its cluster-robust version for the CR types, Hansen's J for GMM), the control-function
  (Wu-Hausman) endogeneity test under the chosen covariance (estimatr's
  ``diagnostic_endogeneity_test``);
* a :class:`~remitpov.exceptions.WeakInstrumentWarning` when a partial F is below
  ``weak_threshold`` (10, the Staiger-Stock rule of thumb). The F used is the one of
  the chosen covariance (robust/clustered Wald statistic divided by the number of
  excluded instruments; classical F with ``cov_type="unadjusted"``).

Covariances (``fit(cov_type=...)``, the registry of :mod:`remitpov.econometrics.covariance`)
---------------------------------------------------------------------------------------------
* ``"unadjusted"``: the classical IV covariance ``s^2 (X'P_Z X)^-1`` with ``s^2 = RSS/(n-k)``
  when ``debiased=True`` (R ``AER::ivreg``; estimatr ``"classical"``), ``RSS/n`` otherwise
  (linearmodels).
* ``"HC0"``, ``"HC1"``, ``"HC2"``, ``"HC3"``: heteroskedasticity-robust, equal to
  ``estimatr::iv_robust(se_type=...)`` (HC0/HC1 also to ``sandwich::vcovHC`` on ``ivreg``);
  leverages from the first-stage fitted regressors.
* ``"CR0"``, ``"CR1"`` (Stata's ``G/(G-1) (n-1)/(n-k)``), ``"CR2"`` (Bell--McCaffrey,
  estimatr's default with clusters): one-way clusters (the PSUs). Strata and fpc are not
  used (a with-replacement, cluster-robust approximation to the design variance).
* ``"kernel"``: linearmodels' HAC estimator.
* ``"design"`` (2SLS, ``fit(design=...)``): design-based linearised covariance with strata,
  PSUs and fpc, R ``survey::svyivreg`` (survey strata respected).
* Old spellings ``"robust"``/``"clustered"``/``"homoskedastic"``/``"heteroskedastic"`` still
  work with a ``FutureWarning``: ``"robust"`` is HC0 (HC1 with ``debiased=True``),
  ``"clustered"`` is CR0 (CR1 with ``debiased=True``).
* HC2, HC3 and CR2 are available for 2SLS; LIML and GMM take the others.
* Default: ``"CR0"`` when clusters were given, else ``"HC0"`` (``CR1``/``HC1`` with
  ``debiased=True``), as before the registry existed; estimatr's defaults are HC2/CR2.
* ``debiased=True``: t and F reference distributions, with estimatr's degrees of freedom
  (``n - k``; ``G - 1`` for CR0/CR1; Bell--McCaffrey per coefficient for CR2).
* First-stage partial F: the Wald statistic of the excluded instruments in the first-stage
  regression under the SAME covariance type, divided by their number (estimatr's
  ``diagnostic_first_stage_fstatistic``), p-value from ``F(q, n - k_Z)`` (``G - 1`` with
  clusters); ``f_stat_classical`` is the homoskedastic F. :attr:`IVResults.first_stage_f`
  gives the F under every covariance type the data allow.
* Weak-instrument-robust inference (one endogenous regressor): ``first_stage["f_eff"]`` is
  the Montiel Olea--Pflueger effective F under the chosen covariance, and
  :meth:`IVResults.anderson_rubin` the Anderson--Rubin confidence set (heteroskedasticity- or
  cluster-robust), see :mod:`remitpov.econometrics.weakiv`.
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
from .covariance import (COV_TYPES, cluster_codes, design_df, design_vcov, linear_vcov, resolve_cov_type,
                         wald_f)
from .ols import inference, regression_weights

__all__ = ["RemittanceIV", "IVResults"]

ESTIMATORS = ("2sls", "liml", "gmm")
_LM_COV = {"unadjusted": ("unadjusted", None), "HC0": ("robust", False), "HC1": ("robust", True),
           "HC2": ("robust", False), "HC3": ("robust", False), "CR0": ("clustered", False),
           "CR1": ("clustered", True), "CR2": ("clustered", False), "kernel": ("kernel", None),
           "design": ("robust", False)}
_TWO_SLS_ONLY = ("HC2", "HC3", "CR2")


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
        ``f_pvalue``, ``f_stat_classical``, ``f_eff`` (Montiel Olea--Pflueger effective F
        under the chosen covariance; one endogenous regressor only), ``weak`` (F below the
        threshold).
    first_stage_f : DataFrame
        The first-stage partial F under every covariance type of the registry (columns
        ``unadjusted``, ``HC0`` ... ``HC3`` and, with clusters, ``CR0``, ``CR1``, ``CR2``;
        CR2 only when chosen if a cluster has more than 2,000 rows).
    overid : dict or None
        ``{"test", "stat", "pvalue", "df"}`` of the over-identification test (None if
        exactly identified): Sargan (``"unadjusted"``), Wooldridge's robust score test (HC
        types), its cluster-robust version (CR types, :func:`score_overid_test`), Hansen's
        J (GMM).
    exogeneity : dict or None
        Endogeneity test (``{"test", "stat", "pvalue", "df"}``): the control-function
        (regression-based Wu-Hausman) F under the chosen covariance, robust or
        cluster-robust (:func:`control_function_test`); linearmodels' Wu-Hausman for
        ``"kernel"``.
    """

    lm: Any = field(default=None, repr=False)
    first_stage: pd.DataFrame = field(default=None, repr=False)
    overid: dict | None = None
    exogeneity: dict | None = None
    estimator: str = "2sls"
    first_stage_f: pd.DataFrame = field(default=None, repr=False)
    arrays: Any = field(default=None, repr=False)  # IVArrays of the estimation rows
    cluster_codes: Any = field(default=None, repr=False)

    def anderson_rubin(self, level: float = 0.95, *, beta0=None, cov_type: str | None = None, dist: str | None = None):
        """Anderson--Rubin confidence set (and tests at ``beta0``) for the one endogenous
        regressor, robust to weak instruments (see :mod:`remitpov.econometrics.weakiv`).

        Parameters
        ----------
        level : float
        beta0 : float or array, optional
            Hypothesised values to test (e.g. 0).
        cov_type : str, optional
            Registry covariance of the reduced form (default: the fit's; cluster-robust
            with the fit's clusters for the CR types).
        dist : {"F", "chi2"}, optional
            Default ``"F"`` when the fit used ``debiased=True``, else ``"chi2"``.

        Returns
        -------
        (ARConfidenceSet, DataFrame or None)
        """
        from .covariance import resolve_cov_type as _resolve
        from .weakiv import anderson_rubin

        a = self.arrays
        if a is None or a.X.shape[1] - a.n_exog != 1:
            raise InputError("the Anderson-Rubin set is for exactly one endogenous regressor")
        ct = _resolve(cov_type if cov_type is not None else self.cov_type)
        if COV_TYPES[ct].clustered and self.cluster_codes is None:
            raise InputError(f"cov_type={ct!r} needs the model's clusters=")
        k0 = a.n_exog
        return anderson_rubin(a.y, a.X[:, k0], a.Z[:, :k0], a.Z[:, k0:], w=a.w, cov_type=ct,
                              clusters=self.cluster_codes if COV_TYPES[ct].clustered else None, level=level,
                              dist=dist or ("F" if self.dist == "t" else "chi2"), beta0=beta0)

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
        PSU (cluster) labels used by the CR covariance types (``"CR0"`` is the default
        when given).
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
        self.weights = regression_weights(data, weights)
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
            weak_threshold: float = 10.0, design=None, **fit_kwargs) -> IVResults:
        """Estimate.

        Parameters
        ----------
        estimator : {"2sls", "liml", "gmm"}
        cov_type : str, optional
            A name of the covariance registry (``"unadjusted"``, ``"HC0"`` ... ``"HC3"``,
            ``"CR0"``, ``"CR1"``, ``"CR2"``) or ``"kernel"``; see the module docstring.
            Default: ``"CR0"`` when clusters were given, else ``"HC0"`` (``"CR1"``/``"HC1"``
            with ``debiased=True``).
        debiased : bool
            t/F reference distributions; ``s^2`` on ``n - k`` for ``"unadjusted"``; selects
            HC1/CR1 for the deprecated spellings and the default.
        weak_threshold : float
            WeakInstrumentWarning if a first-stage partial F is below it.
        design : remitpov.design.Design, optional
            For ``cov_type="design"`` (2SLS): the survey design of the data's rows; the
            design-based linearised covariance of R ``survey::svyivreg`` (strata, PSUs,
            fpc; the weights must be the design's). The first-stage F and the endogeneity
            test are design-based Wald tests too (``F(q, design df)``); t reference with
            ``df + 1 - k`` degrees of freedom when ``debiased=True`` (``df``: the design
            degrees of freedom of the estimation rows, as svyglm/svyivreg).
        **fit_kwargs
            Passed to linearmodels' ``fit`` (e.g. ``iter_limit`` for GMM, ``kernel`` options).
        """
        estimator = estimator.lower()
        if estimator not in ESTIMATORS:
            raise InputError(f"estimator={estimator!r}: use one of {ESTIMATORS}")
        if cov_type is None:
            cov_type = ("CR1" if debiased else "CR0") if self.clusters is not None else ("HC1" if debiased else "HC0")
        allowed = tuple(COV_TYPES) if estimator == "2sls" else tuple(c for c in COV_TYPES if c not in _TWO_SLS_ONLY)
        cov_type = resolve_cov_type(cov_type, debiased=debiased, allowed=allowed,
                                    extra=("kernel", "design") if estimator == "2sls" else ("kernel",))
        clustered = cov_type in COV_TYPES and COV_TYPES[cov_type].clustered
        if clustered and self.clusters is None:
            raise InputError(f"cov_type={cov_type!r} needs clusters= (the PSU column) in the constructor")
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
        lm_cov, lm_debiased = _LM_COV[cov_type]
        kw = dict(fit_kwargs)
        kw["cov_type"] = lm_cov
        kw["debiased"] = debiased if lm_debiased is None else lm_debiased
        codes = None
        if self.clusters is not None:
            codes = cluster_codes(pd.Series(self.clusters)[keep], int(keep.sum()), data.index[keep])
        if clustered:
            kw["clusters"] = pd.Series(codes, index=data.index[keep])
        try:
            res = model.fit(**kw)
        except np.linalg.LinAlgError as exc:
            raise EstimationError(f"singular IV design ({exc}): collinear regressors or instruments") from exc
        arrays = iv_arrays(model, None if w is None else w[keep])
        params = res.params
        cov = res.cov
        dv = DesignVcov(design, keep) if cov_type == "design" else None
        if cov_type == "design":
            V = dv(arrays.Xhat, arrays.y - arrays.X @ params.to_numpy(), arrays.w, params.to_numpy())
            cov = pd.DataFrame(V, index=params.index, columns=params.index)
        elif estimator == "2sls" and cov_type != "kernel":
            V = linear_vcov(arrays.Xhat, arrays.y - arrays.X @ params.to_numpy(), arrays.w, cov_type,
                            codes if clustered else None)
            if cov_type == "unadjusted" and not debiased:  # linearmodels' RSS/n
                V *= (arrays.n - arrays.X.shape[1]) / arrays.n
            cov = pd.DataFrame(V, index=params.index, columns=params.index)
        fs, f_all = first_stage_table(res, arrays, cov_type, codes, weak_threshold, design=dv)
        overid, exog = self._tests(res, estimator, cov_type)
        if cov_type in COV_TYPES or cov_type == "design":
            exog = control_function_test(arrays, cov_type, codes if clustered else None, design=dv)
        if clustered and estimator != "gmm":
            overid = score_overid_test(arrays, params.to_numpy(), codes)
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
        cov_label = "kernel (HAC)" if cov_type == "kernel" else cov_type
        info = {"Endogenous": ", ".join(map(str, res.model.endog.cols)),
                "Instruments": ", ".join(map(str, res.model.instruments.cols)),
                "Min. first-stage F": float(fs["f_stat"].min())}
        if self.clusters is not None:
            info["Clusters"] = int(pd.Series(self.clusters)[keep].nunique())
        return IVResults(
            params=params, cov=cov, nobs=int(res.nobs), model_name=f"Remittance IV ({estimator.upper()})",
            dep_var=str(res.model.dependent.cols[0]), cov_type=cov_label, method=estimator.upper(),
            dist="t" if debiased else "normal",
            df_resid=self._df(cov_type, dv, arrays, codes, res) if debiased else None,
            info=info, notes=tuple(notes), lm=res, first_stage=fs, overid=overid, exogeneity=exog,
            estimator=estimator, first_stage_f=f_all, arrays=arrays, cluster_codes=codes)

    @staticmethod
    def _df(cov_type, dv, arrays, codes, res):
        """t degrees of freedom (``debiased=True``), as estimatr: ``n - k``; ``G - 1`` for
        CR0/CR1; Bell--McCaffrey per coefficient for CR2; design df + 1 - k for the design."""
        if cov_type == "design":
            return float(dv.df + 1 - arrays.X.shape[1])
        if cov_type in COV_TYPES and COV_TYPES[cov_type].clustered:
            return inference(cov_type, arrays.Xhat, arrays.w, codes)[0]
        return float(res.df_resid)

    @staticmethod
    def _tests(res, estimator, cov_type):
        overid = exog = None
        try:
            if estimator == "gmm":
                t = res.j_stat
                name = "Hansen J"
            elif cov_type == "unadjusted":
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


@dataclass(frozen=True)
class IVArrays:
    """The estimation rows of a linearmodels IV model as arrays: ``y``, ``X = [exog, endog]``,
    ``Z = [exog, instruments]``, ``Xhat`` (first-stage fitted ``X``), weights ``w`` or None."""

    y: np.ndarray
    X: np.ndarray
    Z: np.ndarray
    Xhat: np.ndarray
    w: np.ndarray | None
    n_exog: int

    @property
    def n(self) -> int:
        return self.y.size


def iv_arrays(model, w) -> IVArrays:
    """:class:`IVArrays` of a linearmodels ``IV2SLS``/``IVLIML``/``IVGMM`` model (kept rows)."""
    y = np.asarray(model.dependent.ndarray, dtype=float).ravel()
    exog = np.asarray(model.exog.ndarray, dtype=float)
    X = np.column_stack([exog, np.asarray(model.endog.ndarray, dtype=float)])
    Z = np.column_stack([exog, np.asarray(model.instruments.ndarray, dtype=float)])
    sw = np.ones(y.size) if w is None else np.sqrt(w)
    Xhat = Z @ np.linalg.lstsq(Z * sw[:, None], X * sw[:, None], rcond=None)[0]
    return IVArrays(y, X, Z, Xhat, w, exog.shape[1])


@dataclass(frozen=True)
class DesignVcov:
    """``cov_type="design"``: the design-based covariance of a linear fit on the kept rows."""

    design: Any
    rows: np.ndarray

    def __call__(self, X, e, w, estimate) -> np.ndarray:
        return design_vcov(X, e, w, self.design, estimate, rows=self.rows)

    @property
    def df(self) -> int:
        return design_df(self.design, self.rows)


def first_stage_table(res, arrays: IVArrays, cov_type: str, codes, weak_threshold: float, design=None):
    """First-stage diagnostics (see the module docstring): the table of the chosen covariance
    and the partial F under every registry type the data allow (rows: endogenous
    regressors; columns: covariance types). A ``cov_type`` outside the registry (``"kernel"``,
    the panel covariances) takes the F of linearmodels' first-stage diagnostics of ``res``."""
    from scipy import stats

    diag = res.first_stage.diagnostics
    Z, k0 = arrays.Z, arrays.n_exog
    q = Z.shape[1] - k0
    endog = arrays.X[:, k0:]
    coef, resid = _first_stage_fit(arrays)
    types = [c for c in COV_TYPES if codes is not None or not COV_TYPES[c].clustered]
    if codes is not None and cov_type != "CR2" and np.bincount(codes).max() > 2000:
        types.remove("CR2")  # O(sum n_g^3): only computed for large clusters when asked for
    F = {}
    for j, name in enumerate(diag.index):  # one first-stage regression per endogenous regressor
        F[name] = {c: wald_f(coef[k0:, j], linear_vcov(Z, resid[:, j], arrays.w, c, codes)[k0:, k0:])
                   for c in types}
    f_all = pd.DataFrame.from_dict(F, orient="index")
    f_all.index.name = "endogenous"
    if cov_type == "design":
        dendf = design.df
    elif cov_type in COV_TYPES and COV_TYPES[cov_type].clustered:
        dendf = int(codes.max())
    else:
        dendf = arrays.n - Z.shape[1]
    rows = {}
    for name, r in diag.iterrows():
        if cov_type == "design":
            j = list(diag.index).index(name)
            Vd = design(Z, resid[:, j], arrays.w, coef[:, j])
            f = wald_f(coef[k0:, j], Vd[k0:, k0:])
        elif cov_type not in COV_TYPES:  # "kernel" (HAC) or a panel covariance: linearmodels' Wald statistic
            f = float(r["f.stat"]) / (q if str(r["f.dist"]).startswith("chi2") else 1)
        else:
            f = float(f_all.loc[name, cov_type])
        rows[name] = {"rsquared": float(r["rsquared"]), "partial_rsquared": float(r["partial.rsquared"]),
                      "shea_rsquared": float(r["shea.rsquared"]), "f_stat": f,
                      "f_pvalue": float(stats.f.sf(f, q, dendf)), "f_df": f"F({q},{dendf})",
                      "f_stat_classical": float(f_all.loc[name, "unadjusted"])}
    out = pd.DataFrame.from_dict(rows, orient="index")
    if endog.shape[1] == 1 and cov_type in COV_TYPES:
        from .weakiv import effective_f

        cl = codes if COV_TYPES[cov_type].clustered else None
        out["f_eff"] = effective_f(endog[:, 0], Z[:, :k0], Z[:, k0:], w=arrays.w, cov_type=cov_type, clusters=cl)
    out["weak"] = out["f_stat"] < weak_threshold
    out.index.name = "endogenous"
    return out, f_all


def _first_stage_fit(arrays: IVArrays):
    """(W)LS of the endogenous regressors on all instruments: coefficients and residuals."""
    Z = arrays.Z
    ww = np.ones(arrays.n) if arrays.w is None else arrays.w
    endog = arrays.X[:, arrays.n_exog:]
    coef = np.linalg.solve((Z * ww[:, None]).T @ Z, (Z * ww[:, None]).T @ endog)
    return coef, endog - Z @ coef


def control_function_test(arrays: IVArrays, cov_type: str, codes, design=None) -> dict:
    """Endogeneity test by control function (regression-based Durbin-Wu-Hausman): add the
    first-stage residuals to the structural equation, estimate by (W)LS and Wald-test their
    coefficients under ``cov_type`` (heteroskedasticity- or cluster-robust; with
    ``"unadjusted"`` it is the classical Wu-Hausman F). F reference ``F(p, n - k - p)``
    (``G - 1`` with clusters), as ``estimatr::iv_robust``'s ``diagnostic_endogeneity_test``.
    """
    from scipy import stats

    _, V_hat = _first_stage_fit(arrays)
    Xa = np.column_stack([arrays.X, V_hat])
    ww = np.ones(arrays.n) if arrays.w is None else arrays.w
    b = np.linalg.solve((Xa * ww[:, None]).T @ Xa, (Xa * ww[:, None]).T @ arrays.y)
    if cov_type == "design":
        V = design(Xa, arrays.y - Xa @ b, arrays.w, b)
        dendf = design.df
    else:
        V = linear_vcov(Xa, arrays.y - Xa @ b, arrays.w, cov_type, codes)
        dendf = int(codes.max()) if codes is not None else arrays.n - Xa.shape[1]
    p = V_hat.shape[1]
    F = wald_f(b[-p:], V[-p:, -p:])
    return {"test": f"Control-function (Wu-Hausman) endogeneity, {cov_type}", "stat": F,
            "pvalue": float(stats.f.sf(F, p, dendf)), "df": f"F({p},{dendf})"}


def score_overid_test(arrays: IVArrays, params: np.ndarray, codes=None) -> dict | None:
    """Wooldridge's (1995) score test of over-identifying restrictions, heteroskedasticity-
    robust or, with cluster ``codes``, cluster-robust.

    With ``r`` the residuals of the first ``q - p`` excluded instruments on the exogenous
    regressors and the fitted endogenous ones, and ``k_i = w_i r_i e_i`` (``e`` the 2SLS
    residuals), the statistic is ``S' (sum_g k_g k_g')^-1 S`` with ``S = sum_i k_i`` and
    ``k_g`` the cluster sums (``k_i`` without clusters: then it is ``n R^2`` of the
    regression of 1 on ``k_i``, linearmodels' ``wooldridge_overid``), chi-squared with
    ``q - p`` degrees of freedom. None when exactly identified.
    """
    from scipy import stats

    k0, p = arrays.n_exog, arrays.X.shape[1] - arrays.n_exog
    extra = arrays.Z.shape[1] - arrays.X.shape[1]
    if extra <= 0:
        return None
    sw = np.ones(arrays.n) if arrays.w is None else np.sqrt(arrays.w)
    R = np.column_stack([arrays.Z[:, :k0], arrays.Xhat[:, k0:]]) * sw[:, None]
    Q = arrays.Z[:, k0:k0 + extra] * sw[:, None]
    r = Q - R @ np.linalg.lstsq(R, Q, rcond=None)[0]
    k = r * (sw * (arrays.y - arrays.X @ params))[:, None]
    if codes is not None:
        K = np.zeros((int(codes.max()) + 1, extra))
        np.add.at(K, codes, k)
    else:
        K = k
    S = k.sum(axis=0)
    stat = float(S @ np.linalg.solve(K.T @ K, S))
    label = "cluster-robust" if codes is not None else "robust"
    return {"test": f"Wooldridge score ({label} overid)", "stat": stat, "pvalue": float(stats.chi2.sf(stat, extra)),
            "df": f"chi2({extra})"}
