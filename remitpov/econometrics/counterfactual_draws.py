"""Imputation draws of the binary counterfactual (:mod:`remitpov.econometrics.counterfactual`):
the default number of imputations, the notes stated on every result, joint parameter draws
from ``N(theta_hat, V)``, weight-proportional (global and local) residual resampling, the
first-stage strength of the excluded variables, and the Heckman parameter parts (outcome and
selection coefficients, lambda, sigma, rho) of a drawn parameter vector. The multiple
imputation scheme is stated in :mod:`remitpov.econometrics.counterfactual`.
"""
from __future__ import annotations

from typing import Callable, Sequence

import numpy as np
from scipy import stats

from ..exceptions import InputError
from .heckman import HeckmanResults

__all__ = ["DEFAULT_DRAWS", "check_draws", "ABSENT_MIGRANT_NOTE", "RECEIPT_NOTE", "PARAMETER_DRAW_RULES", "parameter_draws_from",
           "parameter_draw_rule", "central_difference_jacobian", "linearised_draws", "resample_index",
           "local_resample_index", "wald_excluded", "HeckmanParts"]


#: Default number of imputations. With a fraction of missing information gamma the
#: efficiency of M imputations is ``1/(1 + gamma/M)`` (Rubin 1987): >= 98.5 % for gamma <= 0.3
#: at M = 20; the Barnard--Rubin df carry the remaining Monte Carlo noise of B into the CI;
#: and the cost is linear in M (one poverty estimation per imputation). White, Royston &
#: Wood (2011) suggest M >= 100 gamma: a note asks for more draws when the estimated
#: fraction exceeds ``M/100``.
DEFAULT_DRAWS = 20

#: The absent-migrant convention, stated on every counterfactual result.
ABSENT_MIGRANT_NOTE = ("absent migrant: household size and earners are those recorded by the survey; a migrant "
                       "who is not counted as a household member (ENIGH-type rosters) is NOT added back, so the "
                       "counterfactual is the per-person income of the household as recorded, without the "
                       "migrant's own earnings or consumption")

#: Why not select on remittance receipt.
RECEIPT_NOTE = ("selection on remittance RECEIPT: migrant households that receive nothing (their income lowered by "
                "the migrant's absence) enter the no-migration income equation and recipients without a migrant "
                "are imputed; this contaminates the comparison group, biases the counterfactual and can make "
                "lambda 'significant' without selection on unobservables; select on migration status "
                "(migrant=...) when the survey identifies households with a member abroad")


def check_draws(draws) -> int:
    """The number of imputations: 0 (a deterministic prediction) or at least 2 (Rubin's rules
    need a between-imputation variance); anything else is an :class:`InputError`."""
    d = int(draws)
    if d < 0 or d == 1:
        raise InputError(f"draws must be 0 (deterministic) or >= 2 (Rubin's rules need M >= 2), got {d}")
    return d


def parameter_draws_from(res, draws: int, rng: np.random.Generator, parameter_draws: bool = True) -> np.ndarray:
    """(M, k) draws of ALL model parameters from their joint asymptotic normal distribution.

    ``N(theta_hat, V)`` with ``V`` the model's (two-step Murphy--Topel / ML, design-based)
    covariance of every parameter: outcome, selection and correction coefficients jointly
    (Rubin's "proper" imputation, the large-sample approximation of the posterior).
    ``parameter_draws=False`` repeats ``theta_hat`` (improper; for comparisons only).
    """
    theta = res.params.to_numpy()
    if not parameter_draws:
        return np.repeat(theta[None, :], draws, axis=0)
    return rng.multivariate_normal(theta, res.cov.to_numpy(), size=draws, method="eigh")


#: Parameter-draw rules of the imputations (:func:`parameter_draw_rule`).
PARAMETER_DRAW_RULES = ("linear", "full", "fixed")


def parameter_draw_rule(parameter_draws) -> str:
    """Normalise a ``parameter_draws`` argument to ``"linear"``, ``"full"`` or ``"fixed"``.

    ``"linear"``: first-order draws of the prediction (:func:`linearised_draws`);
    ``"full"`` or ``True``: the prediction recomputed at each parameter draw; ``"fixed"`` or
    ``False``: parameters held at the estimate (improper; for comparisons only).

    Raises
    ------
    InputError
        Any other value.
    """
    if isinstance(parameter_draws, (bool, np.bool_)):
        return "full" if parameter_draws else "fixed"
    if isinstance(parameter_draws, str) and parameter_draws in PARAMETER_DRAW_RULES:
        return parameter_draws
    raise InputError(f"parameter_draws must be 'linear', 'full' (or True), or 'fixed' (or False), got "
                     f"{parameter_draws!r}")


def central_difference_jacobian(f: Callable[[np.ndarray], np.ndarray], x: np.ndarray, *,
                                rel_step: float = 6e-6) -> np.ndarray:
    """Jacobian of ``f`` at ``x`` by central differences: shape ``f(x).shape + (k,)``.

    ``f`` maps a parameter vector (k,) to an array of any shape. The step of ``x_j`` is
    ``rel_step * max(|x_j|, 1)`` (about the cube root of the machine epsilon, which balances
    the ``O(h^2)`` truncation and the ``O(eps / h)`` rounding error: relative error about
    1e-10 for smooth ``f`` of order one). For functions that are not complex-analytic in
    numpy (clipping, ``dtype=float`` casts), where
    :func:`remitpov.core.jacobian.complex_step_rows` does not apply. ``2 k`` calls of ``f``
    (a loop over the parameters, not over rows).
    """
    x = np.asarray(x, dtype=float).ravel()
    h = rel_step * np.maximum(np.abs(x), 1.0)
    cols = []
    for j in range(x.size):
        e = np.zeros_like(x)
        e[j] = h[j]
        cols.append((np.asarray(f(x + e), dtype=float) - np.asarray(f(x - e), dtype=float)) / (2.0 * h[j]))
    return np.stack(cols, axis=-1)


def linearised_draws(predict: Callable[[np.ndarray], np.ndarray], theta: np.ndarray, T: np.ndarray, *,
                     jacobian: np.ndarray | None = None) -> np.ndarray:
    """First-order ("linearised") proper draws of a prediction: ``pred(theta_hat) + G (theta_m - theta_hat)``.

    Parameters
    ----------
    predict : callable
        ``theta`` (k,) -> prediction array (any shape ``S``, e.g. (n,) or (n, 2)).
    theta : array (k,)
        The estimate ``theta_hat``.
    T : array (M, k)
        Parameter draws ``theta_m`` (:func:`parameter_draws_from`: ``N(theta_hat, V)``
        jointly over all parameters).
    jacobian : array ``S + (k,)``, optional
        ``G = d pred / d theta`` at ``theta_hat``; default
        :func:`central_difference_jacobian`.

    Returns
    -------
    ndarray, shape ``S + (M,)``
        Draw ``m`` in the last axis. Given ``theta_m ~ N(theta_hat, V)`` the draws are
        ``N(pred(theta_hat), G V G')``: their mean is the plug-in prediction and their
        covariance the delta-method covariance of the prediction, an approximation of the same
        (first) order as ``N(theta_hat, V)`` itself. Recomputing a prediction that is
        nonlinear in ``theta`` at each draw (``"full"``) instead shifts its mean by about
        ``tr(H V) / 2`` (``H`` the Hessian; Jensen), an ``O(1/n)`` bias that adds to the
        plug-in's own; the linear rule does not add it. Equal to the full rule for a
        prediction linear in ``theta``.
    """
    theta = np.asarray(theta, dtype=float).ravel()
    T = np.atleast_2d(np.asarray(T, dtype=float))
    p0 = np.asarray(predict(theta), dtype=float)
    G = central_difference_jacobian(predict, theta) if jacobian is None else np.asarray(jacobian, dtype=float)
    if G.shape != p0.shape + (theta.size,) or T.shape[1] != theta.size:
        raise InputError(f"linearised_draws: Jacobian shape {G.shape} or draws shape {T.shape} does not match the "
                         f"prediction {p0.shape} and the {theta.size} parameters")
    return p0[..., None] + G @ (T - theta).T


def resample_index(w: np.ndarray, size, rng: np.random.Generator) -> np.ndarray:
    """Indices drawn with probability proportional to ``w`` (empirical residual distribution)."""
    c = np.cumsum(w)
    return np.minimum(np.searchsorted(c, rng.random(size) * c[-1], side="right"), len(w) - 1)


def local_resample_index(pred_est: np.ndarray, w: np.ndarray, pred_new: np.ndarray, draws: int,
                         rng: np.random.Generator, bins: int = 10) -> np.ndarray:
    """Residual donors from the same weighted decile of the linear prediction (local residuals).

    The estimation rows are cut at the weighted ``bins``-quantiles of their prediction
    ``X b``; each new row draws ``draws`` donors, weight-proportionally, among the rows of
    its bin (predictive-mean-matching in spirit): the residual distribution may change with
    the level of income (heteroskedasticity, skewness). Returns indices (n_new, draws).
    """
    order = np.argsort(pred_est, kind="stable")
    cw = np.cumsum(w[order]) / w.sum()
    cuts = pred_est[order][np.minimum(np.searchsorted(cw, np.arange(1, bins) / bins), len(order) - 1)]
    b_est = np.searchsorted(cuts, pred_est, side="right")
    b_new = np.searchsorted(cuts, pred_new, side="right")
    out = np.empty((len(pred_new), draws), dtype=np.intp)
    for b in np.unique(b_new):  # a loop over the bins, not over rows
        donors = np.flatnonzero(b_est == b)
        rows = np.flatnonzero(b_new == b)
        out[rows] = donors[resample_index(w[donors], (rows.size, draws), rng)]
    return out


def wald_excluded(res, sel_names: Sequence[str], excluded: Sequence[str]) -> dict:
    """First-stage strength of the excluded variables: Wald chi2, F = chi2/q and p-value."""
    if not excluded:
        return {"excluded": [], "exclusion_stat": np.nan, "exclusion_df": 0, "exclusion_F": np.nan,
                "exclusion_p": np.nan}
    idx = [list(res.params.index).index(n) for n in sel_names]
    g = res.params.to_numpy()[idx]
    V = res.cov.to_numpy()[np.ix_(idx, idx)]
    try:
        stat = float(g @ np.linalg.solve(V, g))
    except np.linalg.LinAlgError:
        stat = np.nan
    q = len(idx)
    return {"excluded": list(excluded), "exclusion_stat": stat, "exclusion_df": q, "exclusion_F": stat / q,
            "exclusion_p": float(stats.chi2.sf(stat, q))}


class HeckmanParts:
    """Outcome/selection coefficients, lambda, sigma and rho as functions of a parameter vector."""

    def __init__(self, res: HeckmanResults):
        names = list(res.params.index)
        self.ib = [names.index(c) for c in res.equations["outcome"]]
        self.ig = [names.index(c) for c in res.equations["selection"]]
        self.twostep = "lambda" in names
        if self.twostep:
            self.il, self.sigma = names.index("lambda"), float(res.sigma)
        else:
            self.ia, self.isg = names.index("athrho"), names.index("lnsigma")

    def __call__(self, T: np.ndarray):
        T = np.atleast_2d(T)
        b, g = T[:, self.ib], T[:, self.ig]
        if self.twostep:
            sig = np.full(len(T), self.sigma)
            rho = np.clip(T[:, self.il] / self.sigma, -1.0, 1.0)
        else:
            rho, sig = np.tanh(T[:, self.ia]), np.exp(T[:, self.isg])
        return b, g, rho * sig, sig, rho
