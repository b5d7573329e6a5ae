"""Inverse probability weighting (normalised, Hajek) and augmented IPW (doubly robust),
with the M-estimation sandwich of the stacked estimating equations (:mod:`remitpov.econometrics.treatment` states the
estimators and their standard errors).

Conventions: the meat of the sandwich is :meth:`remitpov.design.Design.vcov` of the
influence values (PSUs, strata); without a design every row is its own PSU.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from ..design import Design
from ..exceptions import EstimationError, InputError, describe_rows
from .treatment_base import ESTIMANDS, TreatmentEffectResults, TreatmentModel, effect_results
from .treatment_score import balance_table, check_overlap

__all__ = ["InverseProbabilityWeighting", "AugmentedIPW"]


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


class _WeightingModel(TreatmentModel):
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
        check_overlap(e_all[keep], t[keep], estimand, overlap_tol, w[keep])
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
        return effect_results(
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
