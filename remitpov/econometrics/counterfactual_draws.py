"""Imputation draws of the binary counterfactual (:mod:`remitpov.econometrics.counterfactual`):
the default number of imputations, the notes stated on every result, joint parameter draws
from ``N(theta_hat, V)``, weight-proportional (global and local) residual resampling, the
first-stage strength of the excluded variables, and the Heckman parameter parts (outcome and
selection coefficients, lambda, sigma, rho) of a drawn parameter vector. The multiple
imputation scheme is stated in :mod:`remitpov.econometrics.counterfactual`.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
from scipy import stats

from .heckman import HeckmanResults

__all__ = ["DEFAULT_DRAWS", "ABSENT_MIGRANT_NOTE", "RECEIPT_NOTE", "parameter_draws_from", "resample_index",
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
