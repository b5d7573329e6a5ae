"""The multinomial-logit selection model and its results
(:class:`~remitpov.econometrics.multinomial.MultinomialSelection`,
:class:`~remitpov.econometrics.multinomial.MultinomialSelectionResults`; the model, the
corrections and the standard errors are stated in :mod:`remitpov.econometrics.multinomial`).

Conventions: ``theta_hat - theta ~ sum_i w_i z_i`` with per-household influence values
``z_i`` of ``(beta, c, gamma)`` (Murphy--Topel two-step linearisation); the default
covariance is ``"HC1"``.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any, Mapping

import numpy as np
import pandas as pd
from scipy import stats

from ..exceptions import InputError, describe_rows
from ._base import ModelResults, model_weights
from .counterfactual import CounterfactualWarning
from .heckman import Heckman
from .multinomial_terms import METHODS, MNLogitFit, correction_terms, mnlogit, softmax, term_names
from .selection_common import as_frame, check_rank, cluster_sandwich, selection_cov_type, set_regressors

__all__ = ["MultinomialSelection", "MultinomialSelectionResults"]


@dataclass(frozen=True, eq=False, repr=False)
class MultinomialSelectionResults(ModelResults):
    """Results of :meth:`MultinomialSelection.fit` (immutable).

    ``params`` holds the outcome coefficients (plain names), the correction coefficients
    (``"<method>:<status>"`` or ``"lee"``; equation ``"correction"``) and the
    multinomial-logit coefficients (``"selection[<status>]:<name>"``, one equation per
    non-base status). ``cov`` is the two-step (Murphy--Topel) covariance of all of them.
    """

    model: Any = None
    extra: Mapping[str, Any] = None

    @property
    def outcome_params(self) -> pd.Series:
        return self.params[list(self.equations["outcome"])]

    @property
    def correction_params(self) -> pd.Series:
        return self.params[list(self.equations["correction"])]

    @property
    def selection_params(self) -> pd.DataFrame:
        """Multinomial-logit coefficients, (regressor x non-base status), like statsmodels."""
        mdl = self.model
        cats = [c for j, c in enumerate(mdl.categories) if j != 0]
        G = np.column_stack([self.params[[f"selection[{c}]:{z}" for z in mdl.selection_names]].to_numpy()
                             for c in cats])
        return pd.DataFrame(G, index=mdl.selection_names, columns=cats)

    @property
    def influence(self) -> np.ndarray:
        """(n, k) influence values, ``params_hat - params ~ sum_i w_i z_i``."""
        return self.extra["influence"]

    @property
    def first_stage(self) -> MNLogitFit:
        return self.extra["mnlogit"]

    @property
    def residuals(self) -> pd.Series:
        """Second-stage residuals (NaN outside the base status / zero-weight rows)."""
        return pd.Series(self.extra["residuals"], name="residual")

    def probabilities(self, selection_exog=None) -> pd.DataFrame:
        """Fitted status probabilities (columns = statuses, base first)."""
        _, Z = self.model._design_for(None, selection_exog)
        return pd.DataFrame(softmax(Z, self.selection_params.to_numpy()), columns=list(self.model.categories))

    def predict(self, exog=None, selection_exog=None, *, kind: str = "unconditional", status=None) -> pd.Series:
        """Predictions of the base-status outcome.

        Parameters
        ----------
        exog, selection_exog : array or DataFrame, optional
            New data (default: the estimation data). For formula models a DataFrame of the
            original variables may be passed as ``exog`` (both formulas are applied).
        kind : {"unconditional", "conditional", "index"}
            ``X b`` (the latent no-migration outcome); ``X b + E[u | status]`` using the
            correction terms evaluated for the status of each row; ``"index"`` = ``X b``.
        status : str, array of str, optional
            Status conditioned on for ``kind="conditional"`` (default: the observed status
            for the estimation data; required with new data).
        """
        X, Z = self.model._design_for(exog, selection_exog)
        b = self.outcome_params.to_numpy()
        xb = X @ b
        if kind in ("unconditional", "index"):
            return pd.Series(xb, name=kind)
        if kind != "conditional":
            raise InputError(f"kind must be 'unconditional', 'conditional' or 'index', got {kind!r}")
        cats = list(self.model.categories)
        if status is None:
            if exog is not None or selection_exog is not None:
                raise InputError("give status= (the status conditioned on) with new data")
            codes = self.model._d
        else:
            st = pd.Series(np.broadcast_to(np.asarray(status, dtype=object), (X.shape[0],)))
            bad = ~st.isin(cats)
            if bad.any():
                raise InputError(f"status values {sorted(set(st[bad].astype(str)))} not in {cats}")
            codes = st.map({c: j for j, c in enumerate(cats)}).to_numpy(dtype=int)
        P = softmax(Z, self.selection_params.to_numpy())
        C = correction_terms(P, self.model.method, codes)
        return pd.Series(xb + C @ self.correction_params.to_numpy(), name=kind)


# ----------------------------------------------------------------------------- model
class MultinomialSelection:
    """Outcome equation of one status with a multinomial-logit selection correction.

    Parameters
    ----------
    endog : array or Series (n,)
        Outcome (e.g. log income); used only on rows with ``status == base`` (others may
        be NaN).
    exog : array or DataFrame (n, k)
        Outcome regressors for all rows (include a constant; none is added).
    status : array or Series (n,)
        Status of every row (e.g. ``"none"``, ``"internal"``, ``"international"``).
    selection_exog : array or DataFrame (n, m)
        Multinomial-logit regressors for all rows (include a constant and, for
        identification other than by functional form, variables excluded from ``exog``).
    base : str
        The status whose outcome equation is estimated (reference category of the logit).
    categories : sequence, optional
        All statuses (default: those observed, base first then sorted). A listed status
        with no rows raises.
    method : {"bfg", "dmf", "dmf1", "lee"}
        Correction (module docstring).
    weights : array (n,), optional
        Sampling weights (pseudo-likelihood in both stages). Zero-weight rows take no part
        (a domain: the design is kept) and their outcome may be missing.

    Examples
    --------
    >>> res = MultinomialSelection.from_formula("np.log(y) ~ x", "~ x + z", df, status="status",
    ...                                         base="none").fit()      # doctest: +SKIP
    >>> print(res.summary)                                               # doctest: +SKIP
    """

    def __init__(self, endog, exog, status, selection_exog, *, base="none", categories=None,
                 method: str = "bfg", weights=None):
        self._formula = None
        if method not in METHODS:
            raise InputError(f"method must be one of {METHODS}, got {method!r}")
        self.method = method
        X = as_frame(exog, "exog")
        Z = as_frame(selection_exog, "selection_exog")
        n = len(X)
        y = np.asarray(pd.to_numeric(pd.Series(np.asarray(endog).ravel()), errors="coerce"), dtype=float)
        st = pd.Series(np.asarray(status, dtype=object).ravel())
        if len(y) != n or len(Z) != n or len(st) != n:
            raise InputError(f"endog ({len(y)}), exog ({n}), status ({len(st)}) and selection_exog ({len(Z)}) "
                             "must have the same number of rows")
        if st.isna().any():
            raise InputError(f"status is missing in {describe_rows(st.isna().to_numpy())}; every row needs a "
                             "status (recode unknowns explicitly or drop those rows before)")
        st = st.astype(str)
        observed = sorted(set(st))
        base = str(base)
        if categories is None:
            if base not in observed:
                raise InputError(f"base status {base!r} has no observations; statuses present: {observed}")
            cats = [base] + [c for c in observed if c != base]
        else:
            cats = [str(c) for c in categories]
            if len(set(cats)) != len(cats):
                raise InputError(f"categories contain duplicates: {cats}")
            if base not in cats:
                raise InputError(f"base status {base!r} is not among categories {cats}")
            extra = sorted(set(observed) - set(cats))
            if extra:
                raise InputError(f"status values {extra} are not among categories {cats} "
                                 f"({describe_rows(st.isin(extra).to_numpy())}); add or recode them")
            cats = [base] + [c for c in cats if c != base]
        self.categories = tuple(cats)
        if len(cats) < 2:
            raise InputError(f"need at least two statuses, got {cats}")
        d = st.map({c: j for j, c in enumerate(cats)}).to_numpy(dtype=int)
        self._w, self.weighted = model_weights(weights, n)
        counts = np.bincount(d[self._w > 0], minlength=len(cats))
        empty = [c for c, k in zip(cats, counts) if k == 0]
        if empty:
            raise InputError(f"status categor{'y' if len(empty) == 1 else 'ies'} {empty} ha"
                             f"{'s' if len(empty) == 1 else 've'} no observations (with positive weight): the "
                             "multinomial logit cannot be estimated; drop the category (categories=) or merge it")
        self.counts = dict(zip(cats, counts.tolist()))
        set_regressors(self, X, Z, "every status")
        self._d = d
        self._s = (d == 0)
        self.nobs = n
        ybad = self._s & ~np.isfinite(y) & (self._w > 0)
        if ybad.any():
            raise InputError(f"endog is missing or infinite for base-status ({base!r}) rows: {describe_rows(ybad)} "
                             "(log of 0?); give them zero weight or fix the outcome")
        self._y = np.where(self._s & np.isfinite(y), y, 0.0)
        self.endog_name = getattr(endog, "name", None) or "y"
        act = self._w > 0
        check_rank(self._X[self._s & act], self.exog_names, f"outcome design ({base!r} rows)")
        check_rank(self._Z[act], self.selection_names, "selection design")
        if not (set(self.selection_names) - set(self.exog_names)) and \
                self.selection_names != [f"selection_exog.{j}" for j in range(self._Z.shape[1])]:
            warnings.warn("no exclusion restriction: every selection regressor is also in the outcome equation; "
                          "identification rests on the non-linearity of the correction terms alone",
                          CounterfactualWarning, stacklevel=2)

    @classmethod
    def from_formula(cls, formula: str, selection_formula: str, data: pd.DataFrame, *, status: str,
                     base="none", categories=None, method: str = "bfg", weights=None) -> "MultinomialSelection":
        """Build the model from formulas (formulaic syntax).

        ``formula`` is ``"outcome ~ regressors"``; ``selection_formula`` the right-hand
        side of the multinomial logit (``"~ z1 + z2"`` or ``"z1 + z2"``); ``status`` the
        status column; ``weights`` an array or column name. Rows are never dropped.
        """
        import formulaic

        if not isinstance(data, pd.DataFrame):
            raise InputError("data must be a pandas DataFrame")
        if status not in data.columns:
            raise InputError(f"status column {status!r} not found in the data")
        data = data.reset_index(drop=True)
        from ..formula import check_formula
        check_formula(formula, data.columns), check_formula(selection_formula, data.columns)  # remitpov.formula
        mo = formulaic.model_matrix(formula, data, na_action="ignore")
        if not hasattr(mo, "lhs") or mo.lhs.shape[1] != 1:
            raise InputError("formula needs a single left-hand side: 'y ~ x...'")
        sf = selection_formula.strip()
        sf = sf.split("~", 1)[1] if "~" in sf else sf
        if "~" in selection_formula and selection_formula.split("~", 1)[0].strip():
            raise InputError("selection_formula is a right-hand side only ('~ z1 + z2'); the status is status=")
        ms = formulaic.model_matrix(sf, data, na_action="ignore")
        w = data[weights].to_numpy(dtype=float) if isinstance(weights, str) else weights
        y = mo.lhs.iloc[:, 0].rename(str(mo.lhs.columns[0]))
        model = cls(y, pd.DataFrame(mo.rhs), data[status], pd.DataFrame(ms), base=base, categories=categories,
                    method=method, weights=w)
        model._formula = (formula, sf, mo.rhs.model_spec, ms.model_spec)
        return model

    # new data for predictions: the same formula/array handling as the binary model
    _design_for = Heckman._design_for

    def fit(self, cov_type: str = "HC1", *, clusters=None, design=None) -> MultinomialSelectionResults:
        """Two-step estimation (multinomial logit, then least squares with correction terms).

        Parameters
        ----------
        cov_type : {"HC1", "HC0", "CR1", "CR0", "design"}
            Two-step (Murphy--Topel) sandwich from influence values (module docstring;
            ``"robust"``/``"cluster"`` are deprecated spellings of HC1/CR1).
        clusters : array (n,), optional
            Cluster (PSU) labels for ``"CR1"``/``"CR0"``.
        design : remitpov.design.Design, optional
            Survey design on the same rows for ``"design"`` (its weights should be the
            model weights).
        """
        cov_type = selection_cov_type(cov_type, unadjusted=False)
        if cov_type in ("CR0", "CR1") and clusters is None:
            raise InputError(f"cov_type={cov_type!r} needs clusters= (e.g. the PSU column)")
        if cov_type == "design" and design is None:
            raise InputError("cov_type='design' needs design= (e.g. survey.design('household'))")
        X, Z, d, y, w = self._X, self._Z, self._d, self._y, self._w
        n, k = X.shape
        mz = Z.shape[1]
        J = len(self.categories)
        wbar = w.mean()
        wn = w / wbar
        mf = mnlogit(d, Z, wn, names=self.selection_names, categories=self.categories)
        P = mf.probs
        C, dC = correction_terms(P, self.method, 0, derivative=True)
        q = C.shape[1]
        s = self._s & (w > 0)
        Xt = np.column_stack([X, C])
        check_rank(Xt[s], self.exog_names + term_names(self.method, self.categories, 0),
                    f"second stage ({self.categories[0]!r} rows with correction terms)")
        ws = wn * s
        A = (Xt * ws[:, None]).T @ Xt
        theta = np.linalg.solve(A, (Xt * ws[:, None]).T @ y)
        e = np.where(s, y - Xt @ theta, 0.0)
        c = theta[k:]
        # ---- derivative of the normal equations with respect to gamma (category-major)
        # dC_iq/dgamma_l = P_il (dC_iql - sum_k dC_iqk P_ik) Z_i  for l = 1..J-1
        Aq = P[:, None, 1:] * (dC[:, :, 1:] - np.einsum("iqk,ik->iq", dC, P)[:, :, None])  # (n, q, J-1)
        cdC = np.einsum("q,iql->il", c, Aq)  # (n, J-1): c' dC_i / d(eta_l)
        cdCZ = (cdC[:, :, None] * Z[:, None, :]).reshape(n, -1)  # (n, p)
        Gm = -(Xt * ws[:, None]).T @ cdCZ
        Gm[k:] += np.einsum("i,iql,ia->qla", ws * e, Aq, Z).reshape(q, -1)
        Ainv = np.linalg.inv(A)
        psi = mf.scores @ mf.cov  # gamma_hat - gamma ~ sum wn_i psi_i
        zth = (Xt * e[:, None]) @ Ainv + psi @ Gm.T @ Ainv
        zall = np.column_stack([zth, psi]) / wbar
        est = np.concatenate([theta, mf.params.T.ravel()])
        if cov_type in ("HC0", "HC1"):
            V = cluster_sandwich(zall, w, small_sample=cov_type == "HC1")
        elif cov_type in ("CR0", "CR1"):
            cl = np.asarray(clusters).ravel()
            if cl.size != n:
                raise InputError(f"clusters have {cl.size} rows, the data {n}")
            V = cluster_sandwich(zall, w, cl, small_sample=cov_type == "CR1")
        else:
            if design.n != n:
                raise InputError(f"design has {design.n} rows, the data {n}")
            V = design.vcov(est, zall)
        tn = term_names(self.method, self.categories, 0)
        sn = [f"selection[{cat}]:{z}" for cat in self.categories[1:] for z in self.selection_names]
        names = self.exog_names + tn + sn
        P_ser = pd.Series(est, index=names)
        eqs = {"outcome": tuple(self.exog_names), "correction": tuple(tn)}
        for cat in self.categories[1:]:
            eqs[f"selection[{cat}]"] = tuple(f"selection[{cat}]:{z}" for z in self.selection_names)
        # Wald test of no selection bias (all correction coefficients zero)
        Vc = V[k:k + q, k:k + q]
        try:
            wald = float(c @ np.linalg.solve(Vc, c))
        except np.linalg.LinAlgError:
            wald = np.nan
        info = {"Base status": self.categories[0],
                **{f"Obs. {cat}": self.counts[cat] for cat in self.categories},
                "Correction": self.method, "MNL log-lik.": mf.loglik * wbar,
                f"Wald no selection (chi2 {q})": wald, "p-value": float(stats.chi2.sf(wald, q)),
                "Weights": "sampling" if self.weighted else "none"}
        resid = np.where(s, e, np.nan)
        for a in (zall, resid, P):
            a.setflags(write=False)
        extra = {"influence": zall, "mnlogit": mf, "residuals": resid, "probs": P, "wald": wald}
        note = {"lee": "lee: coefficient = sigma * rho (Lee 1983)",
                "dmf": "dmf: coefficients = sigma * r_j, sum_j r_j = 0 (Dubin-McFadden 1984)",
                "dmf1": "dmf1: coefficients = sigma * r_j (BFG 2007 DMF variant 1)",
                "bfg": "bfg: coefficients = sigma * r*_j, r*_j = corr(u, Phi^-1(G(eps_j))) (BFG 2007 DMF variant 2)"}
        notes = (note[self.method], "two-step (Murphy-Topel) standard errors: first-stage uncertainty included")
        return MultinomialSelectionResults(P_ser, V, n, "Multinomial-Logit Selection", self.endog_name, cov_type,
                                           f"two-step ({self.method})", "normal", None, eqs, info, notes,
                                           model=self, extra=extra)
