"""Weighted probit by Newton--Raphson (the first stage of :class:`~remitpov.econometrics.heckman.Heckman`
and of the binary counterfactual) and the inverse Mills ratio.

Conventions: ``s`` is 0/1, ``Z`` the (n, m) regressors, ``weights`` sampling weights (the
estimates do not depend on their scale); the returned scores are per observation and
unweighted, the covariance is the inverse of minus the weighted Hessian (observed
information).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import special, stats

from ..exceptions import EstimationError, describe_rows
from .selection_common import backtrack

__all__ = ["probit", "ProbitFit", "inverse_mills"]


def inverse_mills(q) -> np.ndarray:
    """Inverse Mills ratio ``phi(q)/Phi(q)``, computed stably in logs."""
    q = np.asarray(q, dtype=float)
    return np.exp(stats.norm.logpdf(q) - special.log_ndtr(q))


# ----------------------------------------------------------------------------- probit
@dataclass(frozen=True)
class ProbitFit:
    """A (weighted) probit fit: coefficients, observed-information covariance, scores."""

    params: np.ndarray
    cov: np.ndarray  # inverse of minus the (weighted) Hessian
    hessian: np.ndarray  # weighted Hessian of the log-likelihood
    scores: np.ndarray  # (n, m) unweighted per-observation scores
    loglik: float
    iterations: int


def _separation_message(s: np.ndarray, Z: np.ndarray, names) -> str:
    """Name selection regressors that (quasi-)perfectly predict s."""
    culprits = []
    for j in range(Z.shape[1]):
        col = Z[:, j]
        vals = np.unique(col)
        if vals.size < 2:
            continue
        if vals.size == 2:  # dummy: one value only with s=1 or only with s=0
            for v in vals:
                m = col == v
                if np.all(s[m] == 1) or np.all(s[m] == 0):
                    culprits.append(f"{names[j]}={v:g} ({int(m.sum())} rows, all s={int(s[m][0])})")
        else:
            if col[s == 1].min() > col[s == 0].max() or col[s == 1].max() < col[s == 0].min():
                culprits.append(f"{names[j]} (completely separates s)")
    return "; ".join(culprits) if culprits else "a linear combination of the selection regressors"


def probit(s: np.ndarray, Z: np.ndarray, weights: np.ndarray | None = None, *, names=None,
           maxiter: int = 100, tol: float = 1e-10) -> ProbitFit:
    """Weighted probit by Newton--Raphson with step halving.

    Raises :class:`EstimationError` on perfect prediction / separation (some fitted
    index beyond +/-8.3, i.e. probabilities within 1e-16 of 0 or 1, or no convergence
    with the likelihood going to zero), naming the regressors responsible when a single
    one is.
    """
    s = np.asarray(s, dtype=float)
    n, m = Z.shape
    w = np.ones(n) if weights is None else np.asarray(weights, dtype=float)
    names = [f"z{j}" for j in range(m)] if names is None else list(names)
    sign = 2 * s - 1

    def ll(g):
        return float(w @ special.log_ndtr(sign * (Z @ g)))

    g = np.zeros(m)
    cur = ll(g)
    it = 0
    for it in range(1, maxiter + 1):
        q = Z @ g
        gi = sign * inverse_mills(sign * q)  # d log-lik / dq
        grad = Z.T @ (w * gi)
        h = -gi * (gi + q)
        H = (Z * (w * h)[:, None]).T @ Z
        try:
            step = np.linalg.solve(-H, grad)
        except np.linalg.LinAlgError as exc:
            raise EstimationError("probit Hessian is singular: the selection regressors are collinear") from exc
        new, t = backtrack(ll, g, step, cur)
        g = g + t * step
        done = abs(new - cur) < tol * (1 + abs(cur)) and np.max(np.abs(t * step)) < 1e-7
        cur = new
        if np.max(np.abs(Z @ g)) > 40:  # diverging: separation
            break
        if done:
            break
    q = Z @ g
    sep = sign * q > 8.3  # predicted perfectly (Phi(-8.3) ~ 5e-17)
    if sep.any() or it >= maxiter:
        raise EstimationError(
            f"perfect prediction in the selection probit: {describe_rows(sep)} have fitted probability "
            f"0 or 1 (separation by {_separation_message(s, Z, names)}). Drop or merge the offending "
            "regressor/category, or drop the perfectly predicted rows explicitly.")
    gi = sign * inverse_mills(sign * q)
    h = -gi * (gi + q)
    H = (Z * (w * h)[:, None]).T @ Z
    cov = np.linalg.inv(-H)
    return ProbitFit(g, cov, H, Z * gi[:, None], cur, it)
