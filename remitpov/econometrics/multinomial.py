"""Selection correction based on the multinomial logit, and the multinomial counterfactual.

Households choose one of ``J`` migration statuses (e.g. ``"none"``, ``"internal"``,
``"international"``). The (log) income equation of the *base* status ``s`` (no migrants)
is observed only for households in ``s``::

    status = argmax_j (Z gamma_j + eps_j),   eps_j iid Gumbel (type-I extreme value)
    y_s    = X beta + u,                     observed iff status = s,

so that ``E[y_s | X, Z, status = s] = X beta + E[u | status = s]``. The first stage is a
multinomial logit (``gamma_s = 0``, the base status is the reference category); the
second stage is least squares of ``y_s`` on ``X`` and correction terms built from the
fitted probabilities ``P_1 .. P_J`` (Bourguignon, Fournier & Gurgand 2007, "BFG"):

``method="lee"`` -- Lee (1983)
    One term ``phi(Phi^-1(P_s)) / P_s`` (the inverse Mills ratio evaluated at
    ``Phi^-1(P_s)``); its coefficient is ``sigma rho`` with ``rho`` the correlation of
    ``u`` with the normal transform of the selection error. With two statuses and a
    binary logit this is Heckman's two-step with ``Phi^-1(Lambda(Z gamma))`` in place of
    the probit index.
``method="dmf"`` -- Dubin & McFadden (1984)
    ``E[u | eps] = sigma sqrt(6)/pi sum_j r_j (eps_j - E eps_j)`` with ``sum_j r_j = 0``:
    ``J - 1`` terms, one per non-base status ``j``,
    ``sqrt(6)/pi [P_j ln P_j / (1 - P_j) + ln P_s]`` (= ``sqrt(6)/pi E[eps_j - eps_s | s]``).
    The ``sqrt(6)/pi`` factor standardises the Gumbel errors, so each coefficient is
    ``sigma r_j`` (``r_j`` = correlation of ``u`` with ``eps_j``).
``method="dmf1"`` -- BFG's "DMF variant 1"
    The same without the restriction ``sum r_j = 0``: ``J`` terms,
    ``sqrt(6)/pi (-ln P_s)`` for the base and ``sqrt(6)/pi P_j ln P_j / (1 - P_j)`` for ``j != s``.
``method="bfg"`` -- BFG's "DMF variant 2" (the default; recommended by BFG's Monte Carlo)
    Linearity in the *normal transforms* ``eps*_j = Phi^-1(G(eps_j))`` (``G`` the Gumbel
    cdf): ``E[u | eps] = sigma sum_j r*_j eps*_j``. ``J`` terms, ``m(P_s)`` for the base and
    ``m(P_j) P_j / (P_j - 1)`` for ``j != s``, with
    ``m(P) = int Phi^-1(G(v - ln P)) g(v) dv = int_0^1 Phi^-1(t^P) dt``. Each coefficient is
    ``sigma r*_j``. (Stata's ``selmlog, dmf(2)``.)

All four rest on the fact that, with iid Gumbel errors, ``eps_s | status = s`` is Gumbel
shifted by ``-ln P_s`` and ``eps_j | status = s`` has the distribution of ``eps_j`` given
``status != j`` (IIA), so every conditional expectation is a closed form (``m`` by
quadrature) in the probabilities.

First stage
-----------
:func:`mnlogit` is a weighted multinomial logit (Newton--Raphson on the weighted
log-likelihood, step halving). Unweighted it is statsmodels' ``MNLogit`` (same
likelihood, same reference category; checked in the tests); with survey weights it is the
pseudo-maximum-likelihood estimator (weights normalised to mean 1: estimates do not depend
on their scale). statsmodels' ``MNLogit`` has no weights, and scaling weights as frequency
weights would give wrong SEs, hence the own implementation. Perfect prediction
(separation) raises :class:`~remitpov.exceptions.EstimationError` naming the regressor
when a single dummy is responsible.

Standard errors
---------------
Two-step (Murphy--Topel) sandwich: the first-stage influence values
``psi_i = I^-1 score_i`` are propagated through the derivative of the second-stage normal
equations with respect to ``gamma`` (analytic derivatives of the correction terms through
the softmax), giving per-household influence values ``z_i`` of ``(beta, c, gamma)`` with
``theta_hat - theta ~ sum_i w_i z_i``. ``cov_type="HC1"`` (default:
``n/(n-1) sum (w_i z_i)(w_i z_i)'``; ``"HC0"`` without the factor), ``"CR1"``/``"CR0"``
(sums within PSUs, with/without ``G/(G-1)``) or ``"design"``
(:meth:`remitpov.design.Design.vcov`: strata, PSUs, fpc, replicate weights). A bootstrap
over PSUs would re-estimate both stages and is not needed: the linearisation is exact to
first order and is checked against a numerically differentiated stacked-moment (GMM)
sandwich and against the Monte Carlo spread of the estimator in the tests.

Counterfactual
--------------
:func:`multinomial_counterfactual_income` predicts the no-migration income of households
in every non-base status (``kind="conditional"``, the default: ``X b + E[u | status = j]``,
the status-specific counterfactual that carries the household's expected unobservables
given its observed status; ``kind="unconditional"``: ``exp(X b)``, the Barham--Boucher /
Adams counterfactual, biased under selection on unobservables -- both are imputed with
the same draws) by proper multiple imputation: ``draws`` (default 20) joint draws of ALL
parameters (outcome, correction and multinomial-logit coefficients) from the two-step
covariance, the correction terms recomputed from each drawn logit, plus residuals resampled
weight-proportionally from the base group's second-stage residuals; it returns a
:class:`~remitpov.econometrics.counterfactual.CounterfactualIncome` that
:func:`~remitpov.econometrics.counterfactual.counterfactual_fgt` turns into FGT indices
with the same estimator and SEs as the static counterfactual (Rubin's rules over draws).
Its default correction is ``"dmf"``, not ``"bfg"``: in the Monte Carlo study
(``validation/RESULTS.md``) the ``J``-term BFG correction is nearly collinear in samples of
a few thousand households and its status-specific prediction is biased.

Data: the ENIGH concentrado has no internal-migration information (see
:mod:`remitpov.econometrics.counterfactual`); the variant needs a survey with a
3-category status, e.g. Mexico's MMP, Guatemala ENCOVI's migration module, or
:func:`remitpov.synthetic.synthetic_survey` with ``migration_types=True``.

References
----------
Bourguignon, F., Fournier, M. and Gurgand, M. (2007). Selection bias corrections based on
the multinomial logit: Monte Carlo comparisons. *Journal of Economic Surveys* 21(1), 174-205.
Dubin, J. A. and McFadden, D. L. (1984). An econometric analysis of residential electric
appliance holdings and consumption. *Econometrica* 52(2), 345-362.
Lee, L.-F. (1983). Generalized econometric models with selectivity. *Econometrica* 51(2), 507-512.
Murphy, K. M. and Topel, R. H. (1985). Estimation and inference in two-step econometric
models. *Journal of Business & Economic Statistics* 3(4), 370-379.
Barham, B. and Boucher, S. (1998). Migration, remittances, and inequality. *Journal of
Development Economics* 55(2), 307-331.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import interpolate, special, stats

from ..exceptions import EstimationError, InputError, describe_rows
from ..survey import Survey
from ._base import ModelResults, validated_weights
from .counterfactual import (ABSENT_MIGRANT_NOTE, DEFAULT_DRAWS, CounterfactualIncome, CounterfactualWarning,
                             _estimation_sample, _rhs, format_diagnostics, parameter_draws_from, resample_index,
                             wald_excluded)
from .heckman import (Heckman, _as_frame, backtrack, _check_rank, _numeric, _sandwich, _set_regressors,
                      selection_cov_type)

__all__ = ["MultinomialSelection", "MultinomialSelectionResults", "MNLogitFit", "mnlogit", "bfg_m",
           "correction_terms", "multinomial_counterfactual_income", "MultinomialCounterfactualIncome",
           "multinomial_counterfactual_table", "multinomial_rho_sensitivity", "METHODS"]

#: Correction methods (see the module docstring).
METHODS = ("lee", "dmf", "dmf1", "bfg")
_K = np.sqrt(6.0) / np.pi  # standard deviation of a Gumbel variable is pi / sqrt(6)
_PMIN = 1e-15


# ----------------------------------------------------------------------------- first stage
@dataclass(frozen=True)
class MNLogitFit:
    """A (weighted) multinomial-logit fit; category 0 is the reference.

    Attributes
    ----------
    params : ndarray (m, J-1)
        Coefficients of categories 1..J-1 (columns), as statsmodels' ``MNLogit.params``.
    cov : ndarray (p, p)
        Inverse of the (weighted) information, ``p = m (J-1)``, parameters ordered by
        category then regressor (statsmodels' order).
    scores : ndarray (n, p)
        Unweighted per-observation scores.
    probs : ndarray (n, J)
        Fitted probabilities.
    loglik : float
        Weighted log-likelihood (with the weights as given to :func:`mnlogit`).
    iterations : int
    """

    params: np.ndarray
    cov: np.ndarray
    scores: np.ndarray
    probs: np.ndarray
    loglik: float
    iterations: int


def _softmax(Z: np.ndarray, G: np.ndarray) -> np.ndarray:
    eta = np.column_stack([np.zeros(Z.shape[0]), Z @ G])
    return np.exp(eta - special.logsumexp(eta, axis=1, keepdims=True))


def _mnl_separation_message(d, Z, names, categories) -> str:
    culprits = []
    for j in range(Z.shape[1]):
        vals = np.unique(Z[:, j])
        if vals.size != 2:
            continue
        for v in vals:
            m = Z[:, j] == v
            present = np.unique(d[m])
            if present.size == 1:
                culprits.append(f"{names[j]}={v:g} only in {categories[present[0]]!r} ({int(m.sum())} rows)")
            else:
                for k in np.setdiff1d(np.arange(len(categories)), present):
                    culprits.append(f"{names[j]}={v:g} never in {categories[k]!r}")
    return "; ".join(culprits) if culprits else "a linear combination of the selection regressors"


def mnlogit(d, Z, weights=None, *, names=None, categories=None, maxiter: int = 100,
            tol: float = 1e-10) -> MNLogitFit:
    """Weighted multinomial logit by Newton--Raphson (category 0 = reference).

    Parameters
    ----------
    d : int array (n,)
        Category codes ``0 .. J-1`` (every category must occur).
    Z : ndarray (n, m)
        Regressors (include a constant).
    weights : array (n,), optional
        Sampling weights (pseudo-likelihood); zero weights drop a row from the estimation.
    names, categories : sequence of str, optional
        Used in error messages.

    Returns
    -------
    MNLogitFit

    Raises
    ------
    EstimationError
        Perfect prediction (a fitted log-odds beyond 30, i.e. a probability within about
        1e-13 of 0 or 1, or no convergence) or a singular information matrix.
    """
    d = np.asarray(d, dtype=int)
    Z = np.asarray(Z, dtype=float)
    n, m = Z.shape
    J = int(d.max()) + 1
    names = [f"z{j}" for j in range(m)] if names is None else list(names)
    categories = [str(c) for c in range(J)] if categories is None else [str(c) for c in categories]
    w = np.ones(n) if weights is None else np.asarray(weights, dtype=float)
    Y = np.zeros((n, J))
    Y[np.arange(n), d] = 1.0
    p = m * (J - 1)

    def loglik(G):
        eta = np.column_stack([np.zeros(n), Z @ G])
        return float(w @ (eta[np.arange(n), d] - special.logsumexp(eta, axis=1)))

    def info(P):
        Pn = P[:, 1:]
        Wm = (Pn[:, :, None] * (np.eye(J - 1)[None] - Pn[:, None, :])) * w[:, None, None]  # (n, J-1, J-1)
        H = np.einsum("ilk,ia,ib->lakb", Wm, Z, Z, optimize=True).reshape(p, p)
        return H  # information (minus the Hessian)

    G = np.zeros((m, J - 1))
    cur = loglik(G)
    it = 0
    diverged = False
    for it in range(1, maxiter + 1):
        P = _softmax(Z, G)
        grad = (Z.T @ ((Y - P)[:, 1:] * w[:, None])).T.ravel()  # category-major
        Info = info(P)
        try:
            step = np.linalg.solve(Info, grad)
        except np.linalg.LinAlgError as exc:
            raise EstimationError("multinomial-logit information matrix is singular: the selection regressors "
                                  "are collinear") from exc
        S = step.reshape(J - 1, m).T
        new, t = backtrack(loglik, G, S, cur)
        G = G + t * S
        done = abs(new - cur) < tol * (1 + abs(cur)) and np.max(np.abs(t * step)) < 1e-8
        cur = new
        if np.max(np.abs(Z @ G)) > 40:
            diverged = True
            break
        if done:
            break
    P = _softmax(Z, G)
    eta = np.column_stack([np.zeros(n), Z @ G])
    # log-odds of the observed category against the most likely other one
    other = np.where(np.arange(J)[None, :] == d[:, None], -np.inf, eta).max(axis=1)
    sep = (eta[np.arange(n), d] - other > 30) & (w > 0)
    if diverged or sep.any() or it >= maxiter:
        raise EstimationError(
            f"perfect prediction in the multinomial logit: {describe_rows(sep)} have a fitted probability of their "
            f"status within 1e-13 of 1 (separation by {_mnl_separation_message(d[w > 0], Z[w > 0], names, categories)}"
            "). Drop or merge the offending regressor or status category.")
    Info = info(P)
    try:
        cov = np.linalg.inv(Info)
    except np.linalg.LinAlgError as exc:
        raise EstimationError("multinomial-logit information matrix is singular at the optimum") from exc
    scores = ((Y - P)[:, 1:, None] * Z[:, None, :]).reshape(n, p)
    return MNLogitFit(G, cov, scores, P, cur, it)


# ----------------------------------------------------------------------------- correction terms
@lru_cache(maxsize=1)
def _m_spline():
    """Cubic Hermite interpolant of ``m`` as a function of ``t = -ln P`` on [0, 36].

    ``m(P) = int J(x) g(x + ln P) dx`` with ``J(x) = Phi^-1(G(x))``, ``G(x) = exp(-e^-x)``,
    ``g = G'``: the trapezoid rule on x in [-6, 90] (step 0.04) is exponentially accurate
    for this smooth, fast-decaying integrand; ``dm/dt`` is the same quadrature of the
    derivative of the density. Nodes t at step 0.02: Hermite interpolation error below 1e-9.
    """
    x = np.arange(-6.0, 90.0, 0.04)
    Jx = special.ndtri_exp(-np.exp(-x))  # Phi^-1(exp(-e^-x)), stable in both tails
    t = np.arange(0.0, 36.0 + 1e-9, 0.02)
    E = np.exp(t)[:, None] * np.exp(-x)[None, :]  # exp(-(x - t)) = exp(-(x + ln P))
    g = np.exp(t[:, None] - x[None, :] - E)  # g(x + ln P)
    m = 0.04 * (g @ Jx)
    dm = 0.04 * ((g * (1.0 - E)) @ Jx)  # d g(x - t) / dt = g (1 - exp(-(x - t)))
    return interpolate.CubicHermiteSpline(t, m, dm)


def bfg_m(P) -> tuple[np.ndarray, np.ndarray]:
    """BFG's ``m(P) = E[Phi^-1(G(eps - ln P))] = int_0^1 Phi^-1(t^P) dt`` and ``m'(P)``.

    ``eps`` is standard Gumbel, so ``eps - ln P`` is the distribution of a Gumbel error
    given that its alternative was chosen with probability ``P``; ``m(1) = 0`` and
    ``m(P) > 0`` for ``P < 1``. Probabilities are clipped to ``[1e-15, 1]``.
    """
    P = np.clip(np.asarray(P, dtype=float), _PMIN, 1.0)
    t = -np.log(P)
    sp = _m_spline()
    return sp(t), -sp(t, 1) / P


def _plogp(P):
    """``P ln P / (1 - P)`` (limit -1 at P = 1) and its derivative."""
    P = np.clip(P, _PMIN, 1.0)
    q = 1.0 - P
    ok = q > 1e-8
    qs = np.where(ok, q, 1.0)
    lp = np.log(P)
    f = np.where(ok, P * lp / qs, -1.0 + q / 2)
    df = np.where(ok, (lp + 1.0 - P) / qs**2, 0.5)
    return f, df


def correction_terms(P, method: str, chosen=0, *, base: int = 0, derivative: bool = False):
    """Selection-correction regressors ``E[.. | status = chosen]`` for each method.

    Parameters
    ----------
    P : array (n, J)
        Multinomial-logit probabilities.
    method : {"lee", "dmf", "dmf1", "bfg"}
    chosen : int or int array (n,)
        Status conditioned on: ``base`` for the estimation terms; another status gives the
        expected unobservables of the base outcome for households observed in ``chosen``
        (used by ``predict(kind="conditional")``).
    base : int
        Column of the base status.
    derivative : bool
        Also return ``dC/dP`` (n, q, J) (only for ``chosen == base``).

    Returns
    -------
    C : ndarray (n, q)
        ``q = 1`` (lee), ``J - 1`` (dmf, non-base statuses in column order) or ``J``
        (dmf1, bfg).
    dC : ndarray (n, q, J), if ``derivative``
    """
    P = np.clip(np.asarray(P, dtype=float), _PMIN, 1.0)
    n, J = P.shape
    ch = np.broadcast_to(np.asarray(chosen), (n,))
    others = [j for j in range(J) if j != base]
    if derivative and not np.all(ch == base):
        raise InputError("derivatives are only available for chosen == base")
    if method == "lee":
        Ps = P[:, base]
        c = special.ndtri(np.clip(Ps, _PMIN, 1 - 1e-16))
        phi = stats.norm.pdf(c)
        sel = ch == base
        C = np.where(sel, phi / Ps, -phi / np.clip(1 - Ps, _PMIN, None))[:, None]
        if derivative:
            dC = np.zeros((n, 1, J))
            dC[:, 0, base] = -c / Ps - phi / Ps**2
            return C, dC
        return C
    if method in ("dmf", "dmf1"):
        f, df = _plogp(P)
        E = np.where(np.arange(J)[None, :] == ch[:, None], -np.log(P), f)  # E[eps_j - gamma_E | chosen]
        if method == "dmf":
            C = _K * (E[:, others] - E[:, [base]])
        else:
            C = _K * E
        if derivative:
            if method == "dmf":
                dC = np.zeros((n, J - 1, J))
                for q, j in enumerate(others):
                    dC[:, q, j] = _K * df[:, j]
                    dC[:, q, base] = _K / P[:, base]
            else:
                dC = np.zeros((n, J, J))
                for j in range(J):
                    dC[:, j, j] = _K * (-1.0 / P[:, j] if j == base else df[:, j])
            return C, dC
        return C
    if method == "bfg":
        m, dm = bfg_m(P)
        q = np.where(1 - P > 1e-12, P - 1.0, -1e-12)
        Mnot = m * P / q  # E[eps*_j | j not chosen]
        C = np.where(np.arange(J)[None, :] == ch[:, None], m, Mnot)
        if derivative:
            dC = np.zeros((n, J, J))
            for j in range(J):
                dC[:, j, j] = dm[:, j] if j == base else dm[:, j] * P[:, j] / q[:, j] - m[:, j] / q[:, j] ** 2
            return C, dC
        return C
    raise InputError(f"method must be one of {METHODS}, got {method!r}")


def _term_names(method: str, categories: Sequence[str], base: int) -> list[str]:
    if method == "lee":
        return ["lee"]
    if method == "dmf":
        return [f"dmf:{c}" for j, c in enumerate(categories) if j != base]
    return [f"{method}:{c}" for c in categories]


# ----------------------------------------------------------------------------- results
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
        return pd.DataFrame(_softmax(Z, self.selection_params.to_numpy()), columns=list(self.model.categories))

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
        P = _softmax(Z, self.selection_params.to_numpy())
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
        X = _as_frame(exog, "exog")
        Z = _as_frame(selection_exog, "selection_exog")
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
        if weights is None:
            self._w = np.ones(n)
            self.weighted = False
        else:
            self._w = validated_weights(weights, n)
            self.weighted = True
        counts = np.bincount(d[self._w > 0], minlength=len(cats))
        empty = [c for c, k in zip(cats, counts) if k == 0]
        if empty:
            raise InputError(f"status categor{'y' if len(empty) == 1 else 'ies'} {empty} ha"
                             f"{'s' if len(empty) == 1 else 've'} no observations (with positive weight): the "
                             "multinomial logit cannot be estimated; drop the category (categories=) or merge it")
        self.counts = dict(zip(cats, counts.tolist()))
        _set_regressors(self, X, Z, "every status")
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
        _check_rank(self._X[self._s & act], self.exog_names, f"outcome design ({base!r} rows)")
        _check_rank(self._Z[act], self.selection_names, "selection design")
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
        _check_rank(Xt[s], self.exog_names + _term_names(self.method, self.categories, 0),
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
            V = _sandwich(zall, w, small_sample=cov_type == "HC1")
        elif cov_type in ("CR0", "CR1"):
            cl = np.asarray(clusters).ravel()
            if cl.size != n:
                raise InputError(f"clusters have {cl.size} rows, the data {n}")
            V = _sandwich(zall, w, cl, small_sample=cov_type == "CR1")
        else:
            if design.n != n:
                raise InputError(f"design has {design.n} rows, the data {n}")
            V = design.vcov(est, zall)
        tn = _term_names(self.method, self.categories, 0)
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


# ----------------------------------------------------------------------------- counterfactual
@dataclass(frozen=True, eq=False)
class MultinomialCounterfactualIncome(CounterfactualIncome):
    """Result of :func:`multinomial_counterfactual_income`.

    A :class:`~remitpov.econometrics.counterfactual.CounterfactualIncome` (so
    :func:`~remitpov.econometrics.counterfactual.counterfactual_fgt` and
    ``counterfactual_gini`` accept it); ``recipient`` holds the status column and
    ``model`` a :class:`MultinomialSelectionResults`. Extra attributes: ``status``,
    ``base``, ``method``.
    """

    status: str = "migration_status"
    base: str = "none"
    method: str = "bfg"

    def summary(self) -> str:
        st = self.survey.data[self.status].astype(str)
        counts = st.value_counts().reindex(list(self.model.model.categories)).fillna(0).astype(int)
        lines = ["Multinomial selection-corrected counterfactual income (no migration)",
                 f"income: {self.income!r}; statuses: " + ", ".join(f"{k} {v}" for k, v in counts.items())
                 + f"; base {self.base!r}; correction: {self.method}; prediction: {self.kind}; draws: {self.draws}; "
                   f"columns: {', '.join(self.columns[:3])}" + (" ..." if len(self.columns) > 3 else ""),
                 str(self.model.summary)]
        lines += ["diagnostics:"] + [f"  {line}" for line in format_diagnostics(self.diagnostics)]
        lines += [f"note: {n}" for n in self.notes]
        return "\n".join(lines)

    def __repr__(self) -> str:
        return (f"MultinomialCounterfactualIncome(output={self.output!r}, method={self.method!r}, draws={self.draws}, "
                f"kind={self.kind!r}, rows={self.survey.n})")


def multinomial_counterfactual_income(survey: Survey, income_formula: str, selection_formula: str, *,
                                      status: str = "migration_status", base="none", categories=None,
                                      income: str = "y_without", output: str = "y_mcf", method: str = "dmf",
                                      kind: str = "conditional", draws: int = DEFAULT_DRAWS, seed: int | None = 0,
                                      parameter_draws: bool = True, residuals: str = "empirical",
                                      weighted: bool = True, cov_type: str | None = None,
                                      nonpositive: str = "exclude") -> MultinomialCounterfactualIncome:
    """Counterfactual no-migration income for households in every non-base migration status.

    The multinomial analogue of
    :func:`~remitpov.econometrics.counterfactual.counterfactual_income`: a
    :class:`MultinomialSelection` model of ``log(income)`` on base-status households
    (``status == base``, e.g. no migrants) with a multinomial-logit correction, whose
    prediction replaces the income of internal- and international-migrant households.

    Parameters
    ----------
    survey : Survey
        Household rows with a status column and per-person income *without migrants'
        transfers* (``income``; for base households their observed income).
    income_formula, selection_formula : str
        Right-hand sides (formulaic) of the log-income equation and of the multinomial
        logit; the latter should contain variables excluded from the former (e.g.
        internal and international migration networks); their joint strength is reported.
    status, base, categories
        Status column, base status, optional full list of statuses (see
        :class:`MultinomialSelection`).
    income, output : str
        Input income column and name of the counterfactual column.
    method : {"dmf", "bfg", "dmf1", "lee"}
        Correction (module docstring). Default ``"dmf"`` (Dubin--McFadden, ``J - 1``
        terms): in the Monte Carlo study (``validation/``, 3,000 households, a DGP built on
        BFG's own assumption) the ``J``-term ``"bfg"`` and ``"dmf1"`` corrections are nearly
        collinear, their coefficients swing from sample to sample and the status-specific
        prediction is biased by about +7 points of FGT0 (SD 5.6); ``"dmf"`` is unbiased.
    kind : {"conditional", "unconditional"}
        ``"conditional"`` (default, status-specific): ``X b + E[u | status]``, the
        no-migration income of the migrant households themselves; ``"unconditional"``:
        ``X b`` (biased under selection on unobservables). The other kind is imputed too
        (``alt_columns``, same draws).
    draws : int
        M >= 2 (default 20, see :data:`~remitpov.econometrics.counterfactual.DEFAULT_DRAWS`)
        proper imputations ``output_1..output_M``: ALL parameters (outcome, correction and
        multinomial-logit coefficients) drawn jointly from ``N(theta_hat, V)`` (the two-step
        covariance), the correction terms recomputed from the drawn logit, plus a residual;
        0: deterministic ``exp(prediction)`` (SEs treat it as fixed).
    parameter_draws : bool
        False holds the parameters fixed (improper; for comparisons only).
    residuals : {"empirical", "normal"}
        ``"empirical"`` (default): the base group's second-stage residuals, resampled with
        probability proportional to the weight; ``"normal"``: ``N(0, s^2)`` with ``s^2``
        their weighted variance. Both have the variance ``Var(u | base)``, not
        ``Var(u | status)``; the difference (a function of the correlations) is not modelled.
    weighted : bool
        Household weights (pseudo-likelihood) and design-based model SEs
        (``cov_type="design"``) unless False (then ``"HC1"``).
    nonpositive : {"exclude", "error"}
        Base households with income <= 0: zero weight in the model (design kept; they keep
        their observed income), or raise.

    Returns
    -------
    MultinomialCounterfactualIncome
        Pass it to :func:`~remitpov.econometrics.counterfactual.counterfactual_fgt`, e.g.
        ``counterfactual_fgt(cf, line, concepts={"observed": "y_with", "static": "y_static"},
        concept="multinomial")``. ``diagnostics``: the joint Wald test of the excluded
        variables in the logit, the Wald test of no selection (all correction coefficients
        zero), the mean log gap between the two kinds, the zero-income shares.
    """
    if not isinstance(survey, Survey):
        raise InputError(f"expected a Survey, got {type(survey).__name__}")
    if kind not in ("unconditional", "conditional"):
        raise InputError(f"kind must be 'conditional' or 'unconditional', got {kind!r}")
    if nonpositive not in ("exclude", "error"):
        raise InputError(f"nonpositive must be 'exclude' or 'error', got {nonpositive!r}")
    if residuals not in ("empirical", "normal"):
        raise InputError(f"residuals must be 'empirical' or 'normal', got {residuals!r}")
    if method not in METHODS:
        raise InputError(f"method must be one of {METHODS}, got {method!r}")
    draws = int(draws)
    if draws < 0 or draws == 1:
        raise InputError(f"draws must be 0 (deterministic) or >= 2 (Rubin's rules need M >= 2), got {draws}")
    rf, sf = _rhs(income_formula, "income_formula"), _rhs(selection_formula, "selection_formula")
    df = survey.data
    if status not in df.columns:
        raise InputError(f"status column {status!r} not found; a 3-category migration status is needed "
                         "(e.g. synthetic_survey(..., migration_types=True))")
    ids = survey.id_values
    st = df[status]
    if st.isna().any():
        raise InputError(f"status column {status!r} is missing in {describe_rows(st.isna().to_numpy(), ids)}")
    isbase = st.astype(str).to_numpy() == str(base)
    y, logy, est_mask, notes, w, design, cov_type = _estimation_sample(
        survey, income, isbase, "base-status", nonpositive, weighted, cov_type)
    notes = [ABSENT_MIGRANT_NOTE] + notes
    nonpos = ~est_mask
    data = df.copy()
    data["__logy"] = logy
    cov_type = selection_cov_type(cov_type or "HC1", unadjusted=False)
    model = MultinomialSelection.from_formula(f"__logy ~ {rf}", sf, data, status=status, base=base,
                                              categories=categories, method=method, weights=w)
    fit_kw = {"design": design} if cov_type == "design" else {}
    if cov_type in ("CR0", "CR1"):
        if survey.psu is None:
            raise InputError(f"cov_type={cov_type!r} needs a survey with PSUs (survey.psu); use 'HC1' or 'design'")
        fit_kw = {"clusters": survey.column(survey.psu)}
    res = model.fit(cov_type, **fit_kw)
    from dataclasses import replace
    res = replace(res, dep_var=f"log {income} ({base!r} households)")
    mig = ~isbase
    alt = "unconditional" if kind == "conditional" else "conditional"
    X, Z, codes = model._X[mig], model._Z[mig], model._d[mig]
    names = list(res.params.index)
    ib = [names.index(c) for c in res.equations["outcome"]]
    ic = [names.index(c) for c in res.equations["correction"]]
    ig = [names.index(c) for c in names if c.startswith("selection[")]
    J = len(model.categories)
    m_sel = len(model.selection_names)

    def predict(theta):
        """(unconditional, conditional) log predictions of the non-base rows for parameters theta."""
        xb = X @ theta[ib]
        P = _softmax(Z, theta[ig].reshape(J - 1, m_sel).T)
        return xb, xb + correction_terms(P, method, codes) @ theta[ic]

    def fill(v):
        out = np.where(np.isfinite(y), y, np.nan)
        out[mig] = v
        return out

    theta = res.params.to_numpy()
    point = dict(zip(("unconditional", "conditional"), predict(theta)))
    new = {output: fill(np.exp(point[kind]))}
    wt = survey.weights("household")
    diag = _multinomial_diagnostics(res, model, mig, y, wt, income)
    diag["kind_gap_log"] = float(np.average(point["conditional"] - point["unconditional"], weights=wt[mig]))
    if draws:
        rng = np.random.default_rng(seed)
        T = parameter_draws_from(res, draws, rng, parameter_draws)
        logs = {"unconditional": np.empty((int(mig.sum()), draws)), "conditional": np.empty((int(mig.sum()), draws))}
        for m in range(draws):  # a loop over the M draws, not over rows
            logs["unconditional"][:, m], logs["conditional"][:, m] = predict(T[m])
        r = res.extra["residuals"]
        ok = np.isfinite(r)
        pw = model._w[ok]
        rr = r[ok] - np.average(r[ok], weights=pw)
        if residuals == "empirical":
            E = rr[resample_index(pw, logs[kind].shape, rng)]
        else:
            E = np.sqrt(np.average(rr**2, weights=pw)) * rng.standard_normal(logs[kind].shape)
        cols = [f"{output}_{m + 1}" for m in range(draws)]
        alt_cols = [f"{output}_{alt}_{m + 1}" for m in range(draws)]
        for m in range(draws):
            new[cols[m]] = fill(np.exp(logs[kind][:, m] + E[:, m]))
            new[alt_cols[m]] = fill(np.exp(logs[alt][:, m] + E[:, m]))
        diag["imputed_zero_share"] = 0.0  # exp(.) > 0: a log model never imputes zero income
        notes.append(f"{draws} proper imputations (seed {seed}): parameters "
                     f"{'drawn jointly from N(theta, V) (outcome, correction, multinomial logit)' if parameter_draws else 'FIXED (improper)'}"
                     f", residuals {residuals} (base group); prediction {kind} (also {alt}: {alt_cols[0]}, ...)")
    else:
        cols, alt_cols = [output], [f"{output}_{alt}"]
        new[alt_cols[0]] = fill(np.exp(point[alt]))
        diag["imputed_zero_share"] = 0.0
        notes.append(f"deterministic prediction ({kind}, draws=0) for non-base households: SEs treat it as fixed "
                     "and understate the uncertainty (the default is draws=20)")
    out = survey.with_columns(**new)
    out = out.with_report("counterfactual",
                          f"multinomial selection-corrected counterfactual income without migration for "
                          f"{int(mig.sum())} households not in status {base!r} ({method}; log {income} ~ {rf}; "
                          f"multinomial logit of {status} ~ {sf}; prediction {kind}; draws {draws}); "
                          f"{base!r} households keep their observed {income}", column=output, rows=int(mig.sum()))
    if nonpos.any():
        msg = next(n for n in notes if "excluded from the income equation" in n)
        out = out.with_report("excluded", msg, column=income, rows=int(nonpos.sum()),
                              examples=[] if ids is None else list(ids[nonpos][:3]))
    return MultinomialCounterfactualIncome(out, res, tuple(cols), output, income, status, draws, kind, est_mask,
                                           tuple(notes), tuple(alt_cols), alt, status, diag, status=status,
                                           base=str(base), method=method)


def _multinomial_diagnostics(res, model, mig, y, wt, income) -> dict:
    on = set(res.equations["outcome"])
    excluded = [z for z in model.selection_names if z not in on]
    sel = [f"selection[{c}]:{z}" for c in model.categories[1:] for z in excluded]
    diag = {"income": income, **wald_excluded(res, sel, excluded)}
    q = len(res.equations["correction"])
    wald = float(res.extra["wald"])
    diag.update(selection_test=f"Wald chi2({q}) of no selection (correction coefficients = 0)", selection_stat=wald,
                selection_p=float(stats.chi2.sf(wald, q)), rho=np.nan)
    yt = y[mig]
    diag["static_zero_share"] = float(np.average(~(yt > 0), weights=wt[mig])) if mig.any() else 0.0
    diag["n_imputed"] = int(mig.sum())
    return diag


def multinomial_counterfactual_table(survey: Survey, line, income_formula: str, selection_formula: str, *,
                                     binary_selection_formula: str | None = None, alpha=(0, 1, 2), by=None,
                                     observed: str = "y_with", static: str = "y_static",
                                     binary_income: str | None = None, recipient: str = "recipient",
                                     status: str = "migration_status", base="none", method: str = "dmf",
                                     kind: str = "conditional", draws: int = DEFAULT_DRAWS, seed: int | None = 0,
                                     level: str = "person", strict: bool = True,
                                     rho_grid: Sequence[float] | None = (-0.6, -0.4, -0.2, 0.0, 0.2, 0.4, 0.6),
                                     **kwargs) -> tuple[Any, MultinomialCounterfactualIncome]:
    """FGT indices under observed, static, binary-Heckman and multinomial counterfactuals, in one table.

    Key ``concept``: ``observed`` (``observed``), ``static`` (``static``: income without
    ALL migrants' transfers, international and internal), ``multinomial``
    (:func:`multinomial_counterfactual_income` on ``static``, main ``kind``, default
    status-specific) and ``multinomial_<other kind>``, and with ``binary_selection_formula``
    ``heckman``: the binary Heckman counterfactual
    (:func:`~remitpov.econometrics.counterfactual.counterfactual_income`) with selection on
    "any migrant" (``status != base``) on the SAME income concept (``static``) and the same
    imputation machinery (``draws`` proper imputations, recipient-specific prediction), so
    the rows differ only by the selection model. Estimated jointly by
    :func:`remitpov.poverty.fgt` (one vcov; Rubin's rules over the draws), so
    ``table.contrast`` gives SEs of differences between concepts; the diagnostics of
    :func:`~remitpov.econometrics.counterfactual.table_diagnostics` and the sensitivity band
    of :func:`multinomial_rho_sensitivity` over ``rho_grid`` (None to skip) go to
    ``cf.diagnostics`` and the table's notes.

    Example (synthetic data; ``static`` built by hand)::

        s = build_income(synthetic_survey(migration_types=True))
        d = s.data
        s = s.with_columns(y_static=np.maximum((d["y_hh"] - (d["remesas"] + d["internal_transfers"]) / 3)
                                               / d["eq_scale"], 0), rural=(d["area"] == "rural") * 1.0)
        rhs = "head_educ + head_age + head_female + rural + C(region)"
        table, cf = multinomial_counterfactual_table(s, "poverty_line", rhs, rhs + " + mig_network + int_network",
                                                     binary_selection_formula=rhs + " + mig_network")
        print(table.summary())

    ``binary_income`` (default: ``static``) must equal ``static`` when given: a binary row
    on another income concept (e.g. one still containing internal transfers) is not
    comparable. Other keyword arguments go to :func:`multinomial_counterfactual_income`.

    Returns
    -------
    (EstimateTable, MultinomialCounterfactualIncome)
    """
    from dataclasses import replace

    from .counterfactual import (band_diagnostics, counterfactual_fgt, counterfactual_income, format_diagnostics,
                                 table_diagnostics)

    if binary_income is not None and binary_income != static:
        raise InputError(f"binary_income={binary_income!r} differs from static={static!r}: the binary Heckman row "
                         "must use the same income concept as the multinomial one (income without ALL migrants' "
                         "transfers); drop binary_income")
    concepts = {"observed": observed, "static": static}
    imputed = {}
    s = survey
    if binary_selection_formula is not None:
        anym = "__any_migrant"
        s = s.with_columns(**{anym: (survey.data[status].astype(str).to_numpy() != str(base)).astype(float)})
        heck = counterfactual_income(s, income_formula, binary_selection_formula, recipient=recipient,
                                     migrant=anym, income=static, output="y_heckman", draws=draws, seed=seed,
                                     **{k: v for k, v in kwargs.items() if k in ("weighted", "residuals",
                                                                                 "parameter_draws", "nonpositive")})
        s = heck.survey
        if draws:
            imputed["heckman"] = list(heck.columns)
        else:
            concepts["heckman"] = heck.columns[0]
    cf = multinomial_counterfactual_income(s, income_formula, selection_formula, status=status, base=base,
                                           income=static, method=method, kind=kind, draws=draws, seed=seed,
                                           **kwargs)
    tab = counterfactual_fgt(cf, line, alpha, by, concepts=concepts, level=level, strict=strict,
                             concept="multinomial", alternative=True, imputed=imputed)
    diag = dict(cf.diagnostics)
    diag.update(table_diagnostics(tab, "multinomial", f"multinomial_{cf.alt_kind}", kind))
    if rho_grid is not None:
        diag.update(band_diagnostics(multinomial_rho_sensitivity(cf, line, rho_grid, alpha=alpha, by=by, level=level,
                                                                 strict=strict, seed=seed)))
    cf = replace(cf, diagnostics=diag)
    return replace(tab, notes=tuple(tab.notes) + tuple(format_diagnostics(diag)) + tuple(cf.notes)), cf


def multinomial_rho_sensitivity(cf: MultinomialCounterfactualIncome, line=None, grid: Sequence[float] = (
        -0.6, -0.4, -0.2, 0.0, 0.2, 0.4, 0.6), *, alpha=(0, 1, 2), by=None, estimator=None, level: str = "person",
                                strict: bool = True, draws: int = 10, seed: int | None = 0) -> pd.DataFrame:
    """Multinomial counterfactual poverty when the error correlations are FIXED at each ``r`` of ``grid``.

    Every correction coefficient is set to ``sigma_hat r`` (``sigma r_j`` with a common
    ``r_j = r`` for the non-base statuses; the base status's own term, in ``"dmf1"`` and
    ``"bfg"``, to 0), the outcome coefficients are re-estimated by weighted least squares of
    ``log y - C c(r)`` on ``X`` (base households), and the non-base households get
    ``X b(r) + C_status c(r)`` plus residuals resampled from that regression (the same draws
    for every ``r``), point estimates averaged over ``draws``. ``sigma_hat`` is the residual
    SD of the fitted model. Returns a long frame (``rho``, measure keys, ``estimate``).
    """
    from .counterfactual import band_estimates, estimator_or_fgt

    estimator = estimator_or_fgt(estimator, line, alpha, by, level, strict)
    res = cf.model
    mdl = res.model
    if not isinstance(mdl, MultinomialSelection):
        raise InputError("multinomial_rho_sensitivity needs a multinomial counterfactual")
    P = res.extra["probs"]
    names = list(res.equations["correction"])
    own = np.array([n == f"{mdl.method}:{mdl.categories[0]}" for n in names])
    s = mdl._s & (mdl._w > 0)
    w = mdl._w[s]
    r_hat = res.extra["residuals"][s]
    sig = float(np.sqrt(np.average((r_hat - np.average(r_hat, weights=w)) ** 2, weights=w)))
    Cb = correction_terms(P[s], mdl.method, 0)
    mig = mdl._d != 0
    Cm = correction_terms(P[mig], mdl.method, mdl._d[mig])
    Xs, y = mdl._X[s], mdl._y[s]
    A = (Xs * w[:, None]).T @ Xs
    u = np.random.default_rng(seed).random((int(mig.sum()), draws))
    base = np.asarray(pd.to_numeric(pd.Series(cf.survey.column(cf.income)), errors="coerce"), dtype=float)
    cols = {}
    for r in grid:
        c = np.where(own, 0.0, sig * r)
        b = np.linalg.solve(A, (Xs * w[:, None]).T @ (y - Cb @ c))
        e = y - Xs @ b - Cb @ c
        e = e - np.average(e, weights=w)
        cw = np.cumsum(w)
        E = e[np.minimum(np.searchsorted(cw, u * cw[-1], side="right"), len(w) - 1)]
        logy = (mdl._X[mig] @ b + Cm @ c)[:, None] + E
        for m in range(draws):
            v = base.copy()
            v[mig] = np.exp(logy[:, m])
            cols[(float(r), m)] = v
    return band_estimates(cf.survey, cols, grid, draws, estimator)
