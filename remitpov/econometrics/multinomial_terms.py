"""First stage and correction terms of the multinomial-logit selection model
(:mod:`remitpov.econometrics.multinomial`, whose docstring states the model and the four
corrections): the weighted multinomial logit :func:`mnlogit`, its probabilities
:func:`softmax`, the correction terms of Lee, Dubin--McFadden (two variants) and
Bourguignon--Fournier--Gurgand with their derivatives in the probabilities
(:func:`correction_terms`, :func:`bfg_m`) and the terms' parameter names.

Conventions: category 0 is the reference (``gamma_0 = 0``); probabilities are clipped to
``[1e-15, 1]`` before logs; the Gumbel errors are standardised by ``sqrt(6)/pi``.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Sequence

import numpy as np
from scipy import interpolate, special, stats

from ..exceptions import EstimationError, InputError, describe_rows
from .selection_common import backtrack

__all__ = ["MNLogitFit", "mnlogit", "softmax", "bfg_m", "correction_terms", "term_names", "METHODS"]

#: Correction methods (see :mod:`remitpov.econometrics.multinomial`).
METHODS = ("lee", "dmf", "dmf1", "bfg")
_K = np.sqrt(6.0) / np.pi  # standard deviation of a Gumbel variable is pi / sqrt(6)
_PMIN = 1e-15


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


def softmax(Z: np.ndarray, G: np.ndarray) -> np.ndarray:
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
        P = softmax(Z, G)
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
    P = softmax(Z, G)
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


def term_names(method: str, categories: Sequence[str], base: int) -> list[str]:
    if method == "lee":
        return ["lee"]
    if method == "dmf":
        return [f"dmf:{c}" for j, c in enumerate(categories) if j != base]
    return [f"{method}:{c}" for c in categories]
