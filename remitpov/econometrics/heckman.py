"""Heckman (1979) sample-selection model: two-step and full maximum likelihood.

Model
-----
Outcome (observed only when ``s = 1``) and selection equations::

    y* = X beta + e,        s = 1[Z gamma + u > 0],
    (e, u) ~ bivariate normal, Var(u) = 1, Var(e) = sigma^2, Corr(e, u) = rho.

so that ``E[y | X, s=1] = X beta + lambda_ * imr(Z gamma)`` with ``imr = phi/Phi`` the
inverse Mills ratio and ``lambda_ = rho * sigma``.

Estimators
----------
``fit(method="twostep")``
    Probit of ``s`` on ``Z`` (Newton--Raphson, observed information), then OLS of ``y`` on
    ``[X, imr]`` over the selected rows. ``sigma^2 = e'e/n1 + lambda_^2 mean(delta)`` with
    ``delta = imr (imr + Z gamma)`` and ``rho = lambda_/sigma`` (Greene 2003, eq. 22-21;
    Stata ``heckman, twostep``; truncated to [-1, 1] with a warning). The default covariance
    (``cov_type="unadjusted"``) is Heckman's (1979) / Greene's (2003, eq. 22-22)::

        V = sigma^2 (X*'X*)^-1 [X*'(I - rho^2 Delta) X* + Q] (X*'X*)^-1,
        Q = rho^2 (X*' Delta Z) V_probit (Z' Delta X*),

    which accounts both for the heteroskedasticity induced by selection and for the
    estimated probit coefficients. In the two-step fit ``rho`` and ``sigma`` are reported
    without standard errors (as Stata does); ``lambda_`` is the IMR coefficient with its SE.
``fit(method="ml")``
    Maximises the bivariate-normal log-likelihood (Heckman 1979; Stata ``heckman``)::

        s=0:  log Phi(-Z gamma)
        s=1:  log phi(r) - log sigma + log Phi((Z gamma + rho r)/sqrt(1 - rho^2)),  r = (y - X beta)/sigma

    over ``(beta, gamma, atanh rho, log sigma)`` with the analytic gradient and the
    analytic Hessian (:meth:`Heckman._ml_hessian`), by Newton--Raphson with step halving
    from the two-step estimates (BFGS fallback). Default covariance: inverse of the
    observed information (Stata's OIM), exact to rounding whatever the scale of the
    regressors (a finite-difference Hessian with a fixed step is not: with ``exper^2`` up
    to ~2,000 in Mroz it was off by 2-3e-6 relative). ``rho = tanh(.)``, ``sigma = exp(.)``, ``lambda_ = rho sigma``
    get delta-method SEs.

Survey weights
--------------
``weights`` turns both estimators into pseudo-(weighted) estimators: weighted probit,
weighted least squares, weighted log-likelihood. With sampling weights the model-based
covariances are not valid, so for weighted fits the default ``cov_type`` is ``"HC1"``:
a sandwich built from per-observation influence values (for the two-step estimator the
stacked probit + outcome estimating equations, i.e. Murphy--Topel). ``cov_type="CR1"``
(``clusters=``) sums influence values within clusters (PSUs);  ``cov_type="design"``
(``design=`` a :class:`remitpov.design.Design`, e.g. ``survey.design("household")``) hands
them to the survey variance engine (strata, PSUs, fpc, replicates). HC1/CR1 use the
small-sample factor ``G/(G-1)`` (G = observations or clusters), as Stata does; HC0/CR0 omit
it. The names are those of the covariance registry
(:mod:`remitpov.econometrics.covariance`); the old spellings ``"robust"`` (= ``"HC1"``) and
``"cluster"`` (= ``"CR1"``) work for one release with a ``FutureWarning``.

Conventions: weights are treated as sampling (probability) weights, normalised to mean 1
for the optimiser only (estimates do not depend on the scale). Exogenous variables must be
finite on ALL rows (they are needed to predict); ``endog`` only on selected rows (values
on non-selected rows are ignored: NaN, 0 or -inf after a log are all fine).
"""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from scipy import optimize, special, stats

from ..exceptions import EstimationError, InputError, RemitpovWarning, describe_rows
from ..results import Estimate
from ._base import model_weights
from .heckman_results import HeckmanResults
from .probit import ProbitFit, inverse_mills, probit
from .selection_common import (SELECTION_LEGACY, as_frame, backtrack, check_rank, cluster_sandwich, numeric_array,
                               selection_cov_type, set_regressors)

# ProbitFit, probit, inverse_mills, backtrack, selection_cov_type and SELECTION_LEGACY keep their old
# import path (remitpov.econometrics.heckman) as re-exports

__all__ = ["Heckman", "HeckmanResults", "SelectionWarning", "probit", "ProbitFit", "inverse_mills"]

_LOG2PI = np.log(2 * np.pi)


class SelectionWarning(RemitpovWarning):
    """A Heckman model that is estimable but fragile (no exclusion restriction, ``|rho| > 1`` ...)."""


class Heckman:
    """Heckman sample-selection model (linearmodels-style: model -> ``fit()`` -> results).

    Parameters
    ----------
    endog : array or Series (n,)
        Outcome; only the selected rows are used (others may be NaN).
    exog : array or DataFrame (n, k)
        Outcome regressors for all rows, including a constant if wanted (no constant is
        added).
    selection : array or Series (n,)
        Selection indicator (0/1 or bool): 1 where ``endog`` is observed.
    selection_exog : array or DataFrame (n, m)
        Selection regressors for all rows (should include every column of ``exog`` plus at
        least one excluded variable; a warning is given when none is excluded).
    weights : array (n,), optional
        Sampling weights (pseudo-likelihood; see the module docstring). Rows with zero
        weight take no part in the estimation (a domain: the design is kept) and their
        outcome may be missing even where selected.
    """

    def __init__(self, endog, exog, selection, selection_exog, *, weights=None):
        self._formula = None
        X = as_frame(exog, "exog")
        Z = as_frame(selection_exog, "selection_exog")
        n = len(X)
        y = np.asarray(pd.to_numeric(pd.Series(np.asarray(endog).ravel()), errors="coerce"), dtype=float)
        s_raw = pd.Series(np.asarray(selection).ravel())
        if len(y) != n or len(Z) != n or len(s_raw) != n:
            raise InputError(f"endog ({len(y)}), exog ({n}), selection ({len(s_raw)}) and selection_exog "
                             f"({len(Z)}) must have the same number of rows")
        if s_raw.isna().any():
            raise InputError(f"selection indicator is missing in {describe_rows(s_raw.isna().to_numpy())}")
        s = pd.to_numeric(s_raw.astype(float) if s_raw.dtype == bool else s_raw, errors="coerce").to_numpy(float)
        bad = ~np.isin(s, (0.0, 1.0))
        if bad.any():
            raise InputError(f"selection indicator must be 0/1 (or bool); other values in {describe_rows(bad)} "
                             f"(e.g. {s_raw[bad].iloc[0]!r}); recode it, e.g. (participation == 'yes')")
        set_regressors(self, X, Z, "selected or not")
        self._s = s.astype(bool)
        self.nobs = n
        n1 = int(self._s.sum())
        if n1 == 0:
            raise EstimationError("no selected observations (selection is 0 everywhere): the outcome equation "
                                  "cannot be estimated")
        if n1 == n:
            raise EstimationError("every observation is selected (selection is 1 everywhere): there is no "
                                  "selection to model; use OLS")
        self._w, self.weighted = model_weights(weights, n)
        ybad = self._s & ~np.isfinite(y) & (self._w > 0)
        if ybad.any():
            raise InputError(f"endog is missing or infinite for selected rows: {describe_rows(ybad)}; the outcome "
                             "must be observed where selection == 1 (check the selection indicator, or log(0)); "
                             "rows with zero weight are ignored")
        self._y = np.where(self._s & np.isfinite(y), y, 0.0)
        self.endog_name = getattr(endog, "name", None) or "y"
        self.selection_name = getattr(selection, "name", None) or "selected"
        check_rank(self._X[self._s], self.exog_names, "outcome design (selected rows)")
        check_rank(self._Z, self.selection_names, "selection design")
        excluded = set(self.selection_names) - set(self.exog_names)
        if not excluded and self.selection_names != [f"selection_exog.{j}" for j in range(self._Z.shape[1])]:
            warnings.warn("no exclusion restriction: every selection regressor is also in the outcome equation; "
                          "identification rests on the normality (non-linearity of the IMR) alone",
                          SelectionWarning, stacklevel=2)

    # ---------------------------------------------------------------- formulas
    @classmethod
    def from_formula(cls, formula: str, selection_formula: str, data: pd.DataFrame, *, weights=None) -> "Heckman":
        """Build the model from two formulas (formulaic syntax), e.g.
        ``Heckman.from_formula("np.log(wage) ~ educ + exper + I(exper**2)",
        "inlf ~ nwifeinc + educ + exper + I(exper**2) + age + kidslt6 + kidsge6", data)``.

        Rows are never dropped: missing values on the right-hand sides raise; the outcome
        may be missing on non-selected rows. ``weights`` may be a column name.
        """
        import formulaic

        if not isinstance(data, pd.DataFrame):
            raise InputError("data must be a pandas DataFrame")
        data = data.reset_index(drop=True)
        from ..formula import check_formula
        check_formula(formula, data.columns), check_formula(selection_formula, data.columns)  # remitpov.formula
        mo = formulaic.model_matrix(formula, data, na_action="ignore")
        ms = formulaic.model_matrix(selection_formula, data, na_action="ignore")
        if not hasattr(mo, "lhs") or not hasattr(ms, "lhs"):
            raise InputError("both formulas need a left-hand side: 'y ~ x...' and 's ~ z...'")
        if mo.lhs.shape[1] != 1 or ms.lhs.shape[1] != 1:
            raise InputError("each left-hand side must be a single numeric column; for a yes/no factor write "
                             "e.g. I(participation == 'yes')")
        w = data[weights].to_numpy(dtype=float) if isinstance(weights, str) else weights
        y = mo.lhs.iloc[:, 0].rename(str(mo.lhs.columns[0]))
        s = ms.lhs.iloc[:, 0].rename(str(ms.lhs.columns[0]))
        model = cls(y, pd.DataFrame(mo.rhs), s, pd.DataFrame(ms.rhs), weights=w)
        model._formula = (formula, selection_formula, mo.rhs.model_spec, ms.rhs.model_spec)
        return model

    def _design_for(self, exog=None, selection_exog=None) -> tuple[np.ndarray, np.ndarray]:
        if exog is None and selection_exog is None:
            return self._X, self._Z
        if self._formula is not None and isinstance(exog, pd.DataFrame) and selection_exog is None:
            X = self._formula[2].get_model_matrix(exog, na_action="raise")
            Z = self._formula[3].get_model_matrix(exog, na_action="raise")
            return np.asarray(X, dtype=float), np.asarray(Z, dtype=float)
        X = self._X if exog is None else numeric_array(as_frame(exog, "exog"), "exog")
        Z = self._Z if selection_exog is None else numeric_array(as_frame(selection_exog, "selection_exog"),
                                                            "selection_exog")
        if X.shape[1] != self._X.shape[1] or Z.shape[1] != self._Z.shape[1] or X.shape[0] != Z.shape[0]:
            raise InputError(f"new exog must have {self._X.shape[1]} columns and selection_exog "
                             f"{self._Z.shape[1]} (same rows); got {X.shape} and {Z.shape}")
        return X, Z

    # ---------------------------------------------------------------- fitting
    def fit(self, method: str = "twostep", cov_type: str | None = None, *, clusters=None, design=None,
            start=None, maxiter: int = 200, tol: float = 1e-9) -> HeckmanResults:
        """Estimate the model.

        Parameters
        ----------
        method : {"twostep", "ml"}
        cov_type : {"unadjusted", "HC0", "HC1", "CR0", "CR1", "design"}, optional
            Default ``"unadjusted"`` (Heckman/Greene two-step covariance; ML inverse
            observed information) without weights, ``"HC1"`` with weights (see the module
            docstring; ``"robust"``/``"cluster"`` are deprecated spellings of HC1/CR1).
        clusters : array (n,), optional
            Cluster (PSU) labels for ``cov_type="CR0"``/``"CR1"``.
        design : remitpov.design.Design, optional
            Survey design (same rows) for ``cov_type="design"``; its weights should be the
            model weights.
        start : array, optional
            ML starting values ``(beta, gamma, atanh rho, log sigma)`` (default: two-step).
        """
        method = method.lower().replace("-", "").replace("_", "")
        if method not in ("twostep", "ml"):
            raise InputError(f"method must be 'twostep' or 'ml', got {method!r}")
        if cov_type is None:
            cov_type = "HC1" if self.weighted else "unadjusted"
        cov_type = selection_cov_type(cov_type)
        if cov_type in ("CR0", "CR1") and clusters is None:
            raise InputError(f"cov_type={cov_type!r} needs clusters= (e.g. the PSU column)")
        if cov_type == "design" and design is None:
            raise InputError("cov_type='design' needs design= (e.g. survey.design('household'))")
        if cov_type == "unadjusted" and self.weighted:
            warnings.warn("cov_type='unadjusted' with sampling weights treats them as frequency weights; "
                          "use 'HC1', 'CR1' or 'design'", SelectionWarning, stacklevel=2)
        two = self._twostep(cov_type, clusters, design)
        if method == "twostep":
            return two
        return self._ml(two, cov_type, clusters, design, start, maxiter, tol)

    def _names(self):
        return self.exog_names, [f"selection:{n}" for n in self.selection_names]

    def _finish_cov(self, cov_type, z, clusters, design, est):
        w = self._w
        if cov_type in ("HC0", "HC1"):
            return cluster_sandwich(z, w, small_sample=cov_type == "HC1")
        if cov_type in ("CR0", "CR1"):
            c = np.asarray(clusters).ravel()
            if c.size != self.nobs:
                raise InputError(f"clusters have {c.size} rows, the data {self.nobs}")
            return cluster_sandwich(z, w, c, small_sample=cov_type == "CR1")
        if design.n != self.nobs:
            raise InputError(f"design has {design.n} rows, the data {self.nobs}")
        return design.vcov(est, z)

    def _twostep(self, cov_type, clusters, design) -> HeckmanResults:
        X, Z, s, y, w = self._X, self._Z, self._s, self._y, self._w
        wn = w / w.mean()
        pf = probit(s, Z, wn, names=self.selection_names)
        g = pf.params
        q = Z @ g
        lam = inverse_mills(q)
        Xs = np.column_stack([X, lam])[s]
        ws = wn[s]
        A = (Xs * ws[:, None]).T @ Xs
        theta = np.linalg.solve(A, (Xs * ws[:, None]).T @ y[s])
        e = y[s] - Xs @ theta
        bl = theta[-1]
        delta = lam[s] * (lam[s] + q[s])
        sig2 = (ws @ e**2 + bl**2 * (ws @ delta)) / ws.sum()
        sig = np.sqrt(sig2)
        rho = bl / sig
        if abs(rho) > 1:
            warnings.warn(f"two-step rho = {rho:.4f} outside [-1, 1]; truncated to {np.sign(rho):+.0f} "
                          "(as Stata does); the sigma estimate is unreliable", SelectionWarning, stacklevel=3)
            rho = float(np.sign(rho))
            bl_used = rho * sig
        else:
            bl_used = bl
        k, m = X.shape[1], Z.shape[1]
        # influence values of (theta, gamma): stacked estimating equations (Murphy-Topel)
        Ainv = np.linalg.inv(A)
        psi_g = pf.scores @ pf.cov  # gamma_hat - gamma ~ sum wn_i psi_i
        # d(normal equations)/d(gamma): through the IMR in the fitted values and in the regressor
        C = (Xs * (ws * bl * delta)[:, None]).T @ Z[s]
        C[-1] -= (ws * e * delta) @ Z[s]
        ztheta = np.zeros((self.nobs, k + 1))
        ztheta[s] = (Xs * e[:, None]) @ Ainv
        ztheta += psi_g @ C.T @ Ainv
        zall = np.column_stack([ztheta, psi_g]) / w.mean()  # per unit of the original weights
        est = np.concatenate([theta, g])
        if cov_type == "unadjusted":
            # Heckman (1979) / Greene (2003, 22-22)
            D = delta * ws
            M = Xs.T @ (Xs * (ws - rho**2 * D)[:, None])
            XDZ = (Xs * D[:, None]).T @ Z[s]
            Q = rho**2 * XDZ @ pf.cov @ XDZ.T
            Vt = sig2 * Ainv @ (M + Q) @ Ainv
            V = np.zeros((k + 1 + m, k + 1 + m))
            V[: k + 1, : k + 1] = Vt
            V[k + 1:, k + 1:] = pf.cov
            # cross-covariance theta-gamma: the probit part of the influence
            V[: k + 1, k + 1:] = Ainv @ C @ pf.cov
            V[k + 1:, : k + 1] = V[: k + 1, k + 1:].T
        else:
            V = self._finish_cov(cov_type, zall, clusters, design, est)
        # reorder: outcome, selection, lambda
        on, sn = self._names()
        order = list(range(k)) + list(range(k + 1, k + 1 + m)) + [k]
        names = on + sn + ["lambda"]
        P = pd.Series(est[order], index=names)
        Vo = V[np.ix_(order, order)]
        lam_se = float(np.sqrt(Vo[-1, -1]))
        c = stats.norm.ppf(0.975)
        extra = {
            "rho": Estimate(float(rho), np.nan, np.nan, np.nan, np.inf, labels={"parameter": "rho"}),
            "sigma": Estimate(float(sig), np.nan, np.nan, np.nan, np.inf, labels={"parameter": "sigma"}),
            "lambda": Estimate(float(bl_used), lam_se, float(bl_used - c * lam_se), float(bl_used + c * lam_se),
                               np.inf, labels={"parameter": "lambda"}),
            "influence": zall[:, order],
            "probit": pf,
            "loglik": np.nan,
        }
        return self._results(P, Vo, "two-step", cov_type, extra, {"lambda": ("lambda",)})

    def _results(self, P, V, method, cov_type, extra, more_eq) -> HeckmanResults:
        on, sn = self._names()
        n1 = int(self._s.sum())
        info = {"Selected obs.": n1, "Non-selected obs.": self.nobs - n1}
        if np.isfinite(extra.get("loglik", np.nan)):
            info["Log-likelihood"] = float(extra["loglik"])
        info["Weights"] = "sampling" if self.weighted else "none"
        eqs = {"outcome": tuple(on), "selection": tuple(sn)}
        eqs.update(more_eq)
        notes = []
        if method == "two-step":
            notes.append("two-step: rho and sigma are reported without standard errors (as Stata)")
        return HeckmanResults(P, V, self.nobs, "Heckman Selection", self.endog_name, cov_type, method, "normal",
                              None, eqs, info, tuple(notes), model=self, extra=extra)

    # ---------------------------------------------------------------- ML
    def _loglik_parts(self, theta):
        X, Z, s, y = self._X, self._Z, self._s, self._y
        k, m = X.shape[1], Z.shape[1]
        b, g, tau, ls = theta[:k], theta[k:k + m], theta[k + m], theta[k + m + 1]
        rho = np.tanh(tau)
        sig = np.exp(ls)
        sq = np.sqrt(1 - rho**2)
        q = Z @ g
        r = (y - X @ b) / sig
        a = (q + rho * r) / sq
        ll = np.where(s, stats.norm.logpdf(r) - ls + special.log_ndtr(np.where(s, a, 0.0)),
                      special.log_ndtr(-q))
        # per-observation scores
        ma = inverse_mills(a)
        m0 = inverse_mills(-q)
        gb = np.where(s, r / sig - ma * rho / (sig * sq), 0.0)
        gq = np.where(s, ma / sq, -m0)
        gtau = np.where(s, ma * (r + rho * q) / sq, 0.0)
        gls = np.where(s, r**2 - 1 - ma * rho * r / sq, 0.0)
        S = np.column_stack([X * gb[:, None], Z * gq[:, None], gtau, gls])
        return ll, S

    def _ml_hessian(self, theta, w) -> np.ndarray:
        """Analytic Hessian of the weighted log-likelihood ``sum_i w_i l_i`` in
        ``theta = (beta, gamma, tau = atanh rho, ls = log sigma)``.

        With ``r = (y - X beta) e^-ls``, ``q = Z gamma`` and ``a = q cosh(tau) + r sinh(tau)``
        (= ``(q + rho r)/sqrt(1 - rho^2)``), a selected row contributes
        ``l = -r^2/2 - ls + log Phi(a)`` and a non-selected one ``log Phi(-q)``. With
        ``M(x) = phi(x)/Phi(x)`` and ``M'(x) = -M(x)(x + M(x))``::

            d2 l = -dr dr' - r d2r + M'(a) da da' + M(a) d2a        (selected)
            d2 l = M'(-q) Z Z'                                      (not selected)

        where ``dr = (-X/sigma, 0, 0, -r)``, ``da = (-sinh(tau) X/sigma, cosh(tau) Z,
        q sinh(tau) + r cosh(tau), -r sinh(tau))`` and the non-zero second derivatives are
        ``d2r/db dls = X/sigma``, ``d2r/dls2 = r``, ``d2a/db dtau = -cosh(tau) X/sigma``,
        ``d2a/db dls = sinh(tau) X/sigma``, ``d2a/dg dtau = sinh(tau) Z``,
        ``d2a/dtau2 = a``, ``d2a/dtau dls = -r cosh(tau)``, ``d2a/dls2 = r sinh(tau)``.
        """
        X, Z, s, y = self._X, self._Z, self._s, self._y
        k, m = X.shape[1], Z.shape[1]
        b, g, tau, ls = theta[:k], theta[k:k + m], theta[k + m], theta[k + m + 1]
        sig, ch, sh = np.exp(ls), np.cosh(tau), np.sinh(tau)
        q = Z @ g
        X1, Z1, w1, q1 = X[s], Z[s], w[s], q[s]
        r = (y[s] - X1 @ b) / sig
        a = q1 * ch + r * sh
        Ma = inverse_mills(a)
        dMa = -Ma * (a + Ma)
        n1 = r.size
        Dr = np.column_stack([-X1 / sig, np.zeros((n1, m)), np.zeros(n1), -r])
        Da = np.column_stack([-sh * X1 / sig, ch * Z1, q1 * sh + r * ch, -r * sh])
        H = -(Dr * w1[:, None]).T @ Dr + (Da * (w1 * dMa)[:, None]).T @ Da
        u, v = -w1 * r, w1 * Ma  # weights of d2r and d2a
        jt, jl = k + m, k + m + 1
        xb_ls = X1.T @ (u + v * sh) / sig
        xb_t = -ch * (X1.T @ v) / sig
        zg_t = sh * (Z1.T @ v)
        H[:k, jl] += xb_ls
        H[jl, :k] += xb_ls
        H[:k, jt] += xb_t
        H[jt, :k] += xb_t
        H[k:k + m, jt] += zg_t
        H[jt, k:k + m] += zg_t
        H[jt, jt] += v @ a
        H[jt, jl] += -ch * (v @ r)
        H[jl, jt] += -ch * (v @ r)
        H[jl, jl] += (u + v * sh) @ r
        q0 = -q[~s]
        M0 = inverse_mills(q0)
        Z0 = Z[~s]
        H[k:k + m, k:k + m] += (Z0 * (w[~s] * -M0 * (q0 + M0))[:, None]).T @ Z0
        return H

    def _ml(self, two, cov_type, clusters, design, start, maxiter, tol) -> HeckmanResults:
        k, m = self._X.shape[1], self._Z.shape[1]
        wn = self._w / self._w.mean()
        if start is None:
            rho0 = float(np.clip(float(two.rho), -0.95, 0.95))
            start = np.concatenate([two.params.iloc[:k].to_numpy(), two.params.iloc[k:k + m].to_numpy(),
                                    [np.arctanh(rho0), np.log(float(two.sigma))]])
        theta = np.asarray(start, dtype=float).copy()

        def f(t):
            ll, _ = self._loglik_parts(t)
            return -float(wn @ ll)

        def grad(t):
            _, S = self._loglik_parts(t)
            return -(S.T @ wn)

        def hess(t):
            return -self._ml_hessian(t, wn)

        cur = f(theta)
        converged = False
        for it in range(maxiter):
            gvec = grad(theta)
            H = hess(theta)
            try:
                step = -np.linalg.solve(H, gvec)
            except np.linalg.LinAlgError:
                break
            if not np.all(np.isfinite(step)) or gvec @ step > 0:  # not a descent direction
                break
            t = 1.0
            while t > 1e-10:
                new = f(theta + t * step)
                if np.isfinite(new) and new <= cur + 1e-12:
                    break
                t /= 2
            theta = theta + t * step
            dec = cur - new
            cur = new
            if abs(gvec @ step) < tol and dec < tol:
                converged = True
                break
        if not converged:
            res = optimize.minimize(f, theta, jac=grad, method="BFGS", options={"gtol": 1e-7, "maxiter": 5000})
            theta = res.x
            cur = res.fun
            if not res.success and np.max(np.abs(grad(theta))) > 1e-3:
                raise EstimationError(f"ML did not converge ({res.message}); |rho| may be at the boundary "
                                      "(try the two-step estimator or a better exclusion restriction)")
        H = hess(theta)  # Hessian of the NEGATIVE normalised log-likelihood
        try:
            Hinv = np.linalg.inv(H)
        except np.linalg.LinAlgError as exc:
            raise EstimationError("ML Hessian is singular at the optimum") from exc
        if np.any(np.diag(Hinv) <= 0):
            raise EstimationError("ML Hessian is not positive definite at the optimum (a boundary/flat "
                                  "likelihood, often |rho| -> 1); use the two-step estimator")
        _, S = self._loglik_parts(theta)
        z = S @ Hinv / self._w.mean()  # theta_hat - theta ~ sum_i w_i z_i
        if cov_type == "unadjusted":
            V = Hinv / self._w.mean()
        else:
            V = self._finish_cov(cov_type, z, clusters, design, theta)
        loglik = float(self._w @ self._loglik_parts(theta)[0])
        on, sn = self._names()
        names = on + sn + ["athrho", "lnsigma"]
        P = pd.Series(theta, index=names)
        tau, ls = theta[-2], theta[-1]
        rho, sig = float(np.tanh(tau)), float(np.exp(ls))
        Vtl = V[-2:, -2:]
        c = stats.norm.ppf(0.975)

        def est(name, val, gr, tr=None, j=None):
            # delta-method SE; intervals for rho and sigma transformed from those of atanh(rho)
            # and log(sigma) (as Stata), so they stay inside (-1, 1) and (0, inf)
            se = float(np.sqrt(gr @ Vtl @ gr))
            if tr is None:
                lo, hi = val - c * se, val + c * se
            else:
                sj = float(np.sqrt(Vtl[j, j]))
                lo, hi = tr(theta[-2 + j] - c * sj), tr(theta[-2 + j] + c * sj)
            return Estimate(val, se, float(lo), float(hi), np.inf, labels={"parameter": name})

        extra = {
            "rho": est("rho", rho, np.array([1 - rho**2, 0.0]), np.tanh, 0),
            "sigma": est("sigma", sig, np.array([0.0, sig]), np.exp, 1),
            "lambda": est("lambda", rho * sig, np.array([(1 - rho**2) * sig, rho * sig])),
            "influence": z,
            "loglik": loglik,
            "iterations": it + 1,
            "twostep": two,
        }
        return self._results(P, V, "ML", cov_type, extra, {"ancillary": ("athrho", "lnsigma")})
