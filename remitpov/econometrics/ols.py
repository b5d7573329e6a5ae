"""Linear regression (OLS/WLS) with the covariance registry: R ``estimatr::lm_robust`` in Python.

``RobustOLS.from_formula("log(gini) ~ log(rm) + gov_e", data, weights=None, clusters="country")
.fit(cov_type="HC2")`` returns :class:`OLSResults` (``params``, ``std_errors``, ``conf_int()``,
``summary``, ``to_frame()``, ``rsquared``).

Conventions
-----------
* ``cov_type`` is a name of :data:`remitpov.econometrics.covariance.COV_TYPES`
  (``"unadjusted"``, ``"HC0"`` ... ``"HC3"``, ``"CR0"``, ``"CR1"``, ``"CR2"``); the default
  is estimatr's: ``"HC2"``, or ``"CR2"`` when clusters are given. Formulas are in
  :mod:`remitpov.econometrics.covariance`.
* Weights are regression (WLS) weights ``w_i`` in ``sum w_i (y_i - x_i'b)^2``, as R's
  ``lm(weights=)``; estimates do not depend on their scale. They must be finite and > 0.
* Inference uses the t distribution with estimatr's degrees of freedom: ``n - k``; ``G - 1``
  for CR0/CR1; for CR2 the Bell--McCaffrey degrees of freedom of each coefficient
  (``df_resid`` is then an array, one per coefficient).
* ``cov_type="design"`` with ``fit(design=...)``: the design-based (linearised) covariance
  of R ``survey::svyglm`` (strata, PSUs, fpc), see
  :func:`remitpov.econometrics.covariance.design_vcov`.
* Rows with a missing model variable raise :class:`~remitpov.exceptions.InputError`
  unless ``missing="drop"`` (complete cases, counted in the notes).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..core.validate import check_positive
from ..exceptions import EstimationError, InputError, describe_rows
from ._base import ModelResults, data_column
from .covariance import COV_TYPES, cluster_codes, cr2_dof, design_df, design_vcov, linear_vcov, resolve_cov_type

__all__ = ["RobustOLS", "OLSResults", "regression_weights"]


def regression_weights(data: pd.DataFrame, weights) -> np.ndarray | None:
    """Regression weights from a column name or an array: finite and > 0, else InputError."""
    w = data_column(data, weights, "weights")
    if w is None:
        return None
    w = pd.to_numeric(pd.Series(w), errors="coerce").to_numpy(dtype=float)
    return check_positive(w, "regression weights", data.index, "weights must be finite and > 0 in regressions: "
                          "drop zero-weight rows explicitly")


def default_cov_type(cov_type, has_clusters: bool) -> str:
    """estimatr's defaults: ``"CR2"`` with clusters, else ``"HC2"``."""
    return cov_type if cov_type is not None else ("CR2" if has_clusters else "HC2")


def inference(cov_type: str, X: np.ndarray, w, codes) -> tuple:
    """Degrees of freedom of the t reference, as estimatr: ``n - k``; ``G - 1`` for CR0/CR1;
    one Bell--McCaffrey value per coefficient for CR2 (an array). Plus header info."""
    n, k = X.shape
    if COV_TYPES[cov_type].clustered:
        G = int(codes.max()) + 1
        if cov_type == "CR2":
            return cr2_dof(X, w, codes), {"Clusters": G}
        return float(G - 1), {"Clusters": G}
    return float(n - k), {}


@dataclass(frozen=True, eq=False, repr=False)
class OLSResults(ModelResults):
    """Results of :meth:`RobustOLS.fit` (immutable).

    Attributes (beyond :class:`~remitpov.econometrics._base.ModelResults`)
    ----------------------------------------------------------------------
    resid : Series
        Residuals ``y - X b`` of the estimation rows.
    rsquared, rsquared_adj : float
        (Weighted) R² about the (weighted) mean when the model has an intercept, about 0
        otherwise (as R's ``summary.lm``).
    """

    resid: pd.Series = None
    rsquared: float = np.nan
    rsquared_adj: float = np.nan


class RobustOLS:
    """OLS/WLS regression with heteroskedasticity- and cluster-robust covariances.

    Parameters
    ----------
    formula : str
        ``"y ~ x1 + x2"`` (formulaic syntax; an intercept is added unless ``- 1`` / ``+ 0``).
    data : DataFrame
    weights : str or array, optional
        Regression weights (see the module docstring).
    clusters : str or array, optional
        Cluster labels (needed by the CR types; makes ``"CR2"`` the default).
    missing : {"raise", "drop"}
    """

    def __init__(self, formula: str, data: pd.DataFrame, *, weights=None, clusters=None, missing: str = "raise"):
        if not isinstance(data, pd.DataFrame):
            raise InputError("data must be a pandas DataFrame")
        if "~" not in formula:
            raise InputError(f"formula {formula!r} needs a left-hand side: 'y ~ x1 + x2'")
        if missing not in ("raise", "drop"):
            raise InputError("missing must be 'raise' or 'drop'")
        self.formula, self.data, self.missing = formula, data, missing
        self.weights = regression_weights(data, weights)
        self.clusters = data_column(data, clusters, "clusters")

    @classmethod
    def from_formula(cls, formula: str, data: pd.DataFrame, **kwargs) -> "RobustOLS":
        """Same as the constructor (linearmodels-style)."""
        return cls(formula, data, **kwargs)

    def _design(self):
        from formulaic import model_matrix

        try:
            mm = model_matrix(self.formula, self.data, na_action="ignore")
        except Exception as exc:
            raise InputError(f"cannot build the regression from {self.formula!r}: {exc}") from exc
        y, X = mm.lhs, mm.rhs
        if y.shape[1] != 1:
            raise InputError("the left-hand side must be one numeric column")
        vals = np.column_stack([np.asarray(y, float), np.asarray(X, float)])
        keep = np.isfinite(vals).all(axis=1)
        notes = []
        if not keep.all():
            if self.missing == "raise":
                cols = [c for c, ok in zip([y.columns[0], *X.columns], np.isfinite(vals).all(axis=0)) if not ok]
                raise InputError(f"model variables {cols} are missing or non-finite in "
                                 f"{describe_rows(~keep, self.data.index)}; drop or impute them, or pass "
                                 "missing='drop'")
            notes.append(f"{int((~keep).sum())} rows with missing model variables dropped (missing='drop')")
        return (np.asarray(y, float).ravel()[keep], np.asarray(X, float)[keep], [str(c) for c in X.columns],
                str(y.columns[0]), keep, notes)

    def fit(self, cov_type: str | None = None, *, clusters=None, design=None) -> OLSResults:
        """Estimate.

        Parameters
        ----------
        cov_type : str, optional
            A :data:`~remitpov.econometrics.covariance.COV_TYPES` name; default ``"HC2"``,
            ``"CR2"`` with clusters (estimatr's defaults).
        clusters : str or array, optional
            Cluster labels for this fit (overrides the constructor's).
        design : remitpov.design.Design, optional
            For ``cov_type="design"``: the survey design of the data's rows (linearised
            design-based covariance, R ``svyglm``; the weights must be the design's; t
            reference with ``df + 1 - k`` degrees of freedom, ``df`` the design degrees of
            freedom of the estimation rows, as svyglm).
        """
        cl = self.clusters if clusters is None else data_column(self.data, clusters, "clusters")
        cov_type = resolve_cov_type(default_cov_type(cov_type, cl is not None), extra=("design",))
        y, X, names, dep, keep, notes = self._design()
        n, k = X.shape
        if np.linalg.matrix_rank(X) < k:
            raise EstimationError(f"the regressors {names} are collinear (rank < {k}); drop one of them")
        w = None if self.weights is None else self.weights[keep]
        codes = None
        if cov_type != "design" and COV_TYPES[cov_type].clustered:
            if cl is None:
                raise InputError(f"cov_type={cov_type!r} needs clusters= (a column name or one label per row)")
            codes = cluster_codes(np.asarray(cl)[keep], n, self.data.index[keep])
        ww = np.ones(n) if w is None else w
        b = np.linalg.solve((X * ww[:, None]).T @ X, (X * ww[:, None]).T @ y)
        e = y - X @ b
        if cov_type == "design":
            V = design_vcov(X, e, w, design, b, rows=keep)
            ddf = design_df(design, keep)
            df, info = float(ddf + 1 - k), {"Design df": ddf}
        else:
            V = linear_vcov(X, e, w, cov_type, codes)
            df, info = inference(cov_type, X, w, codes)
        has_int = bool(np.any(np.all(X == 1.0, axis=0)))
        ybar = float(ww @ y / ww.sum()) if has_int else 0.0
        r2 = 1 - float(ww @ e**2) / float(ww @ (y - ybar) ** 2)
        r2a = 1 - (1 - r2) * (n - int(has_int)) / (n - k)
        info = {"R-squared": r2, **info}
        return OLSResults(params=pd.Series(b, index=names), cov=V, nobs=n, model_name="Linear regression",
                          dep_var=dep, cov_type=cov_type, method="WLS" if w is not None else "OLS", dist="t",
                          df_resid=df, info=info, notes=tuple(notes), resid=pd.Series(e, name="resid"),
                          rsquared=r2, rsquared_adj=r2a)
