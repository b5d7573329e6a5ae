"""Selection-weighted empirical residuals for the binary counterfactual (importance resampling).

The recipient-specific counterfactual of :func:`remitpov.econometrics.counterfactual.counterfactual_income`
imputes ``log y0`` of the households of the OTHER regime (households with a migrant; the
income equation is estimated on the households without one) from the residuals of the
estimation sample. This module draws those residuals so that they keep the empirical
marginal shape of the outcome error (skewness, tails) but carry the selection of the
imputed regime (``residuals="selection"``).

Model and assumption
--------------------
Heckman's model with selection ``s = 1`` (no migrant, the estimation sample) when
``t + v > 0``, ``t = z gamma`` the probit index, and outcome ``log y0 = x beta + u`` with
``sd(u) = sigma``. Only the conditional law of the selection error is assumed normal, as in
the Heckman model itself:

    ``v | u ~ N(rho u / sigma, 1 - rho^2)``,  so  ``P(s = 1 | u, t) = Phi((t + rho u/sigma) / sqrt(1 - rho^2))``;

the marginal density ``f_u`` of the outcome error is left free (and ``u`` independent of
``z``). The raw residual ``u_j = y_j - x_j beta`` of a selected household ``j`` (no
correction term) has density ``f_u(u) P(s=1 | u, t_j) / P(s=1 | t_j)``; the error of a
household ``i`` of the other regime has density ``f_u(u) P(s=0 | u, t_i) / P(s=0 | t_i)``.
So drawing donor ``j`` for household ``i`` with probability proportional to

    ``w_j  *  [Phi(t_j) / P(s=1 | u_j, t_j)]  *  P(s=0 | u_j, t_i)``

(``w_j`` the survey weight; the first ratio, the *importance ratio* ``a_j``, turns the
selected sample's residuals into draws of ``f_u``; the last factor selects them as the
regime of ``i`` is selected) gives, as the donor sample grows, draws from the error law of
household ``i``: EXACT under joint normality (the truncated-normal mixture of the
``"normal"`` rule: mean ``-rho sigma phi(t)/Phi(-t)``, variance
``sigma^2 (1 - rho^2 delta_0)``), and with the empirical shape otherwise. The imputation is
``x_i beta + u*``: ``u*`` already carries the conditional mean shift, no ``lambda`` term is
added. The unconditional prediction (``E[log y0 | x]``) draws from ``w_j a_j`` alone.

Conventions
-----------
* Residuals are computed at the point estimate ``beta_hat`` (as for the other empirical
  rules) and centred at their ``w a``-weighted mean (the estimate of ``E u = 0``); each
  imputation ``m`` recomputes the selection weights at its drawn ``(gamma_m, rho_m,
  sigma_m)`` and adds ``x_i beta_m``. (Residuals recomputed at ``beta_m`` would cancel the
  drawn intercept, ``x_i beta_m + y_j - x_j beta_m``, and remove the level's sampling
  uncertainty from the between-imputation variance.)
* Cost: the imputed households are cut, per imputation, into ``bins`` weighted quantile
  bins of ``t_i`` (default :data:`SELECTION_BINS`); each bin uses its weighted mean index.
  One vector of donor weights and one cumulative sum per bin, sampled with
  ``searchsorted``: ``O(bins x n_donors)`` per imputation, no loop over rows.
* Guard against extreme weights: ``|rho|`` is capped at :data:`RHO_CAP` (the conditional
  law of ``v`` degenerates at ``|rho| = 1``; the two-step estimator's ``rho = lambda/sigma``
  can reach it), the importance ratios ``a_j`` are truncated at ``sqrt(n_donors)`` times
  their weighted mean (truncated importance sampling, Ionides 2008, *J. Comput. Graph.
  Stat.* 17: bias and variance vanish as ``n`` grows), and the weights of each bin are
  computed in logs (never all zero). The Kish effective sample size
  ``(sum W)^2 / sum W^2`` of the donor weights is reported (minimum and median over bins
  and imputations, and of ``w a``), with the weighted share of imputed households whose bin
  has fewer than :data:`ESS_WARN` effective donors; the note warns when that share exceeds
  :data:`THIN_WARN` (the draws rest on few donors: compare ``"normal"``, check ``rho``).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import special

from ..exceptions import InputError

__all__ = ["SELECTION_BINS", "RHO_CAP", "ESS_WARN", "THIN_WARN", "SelectionDraws", "selection_resample", "kish_ess"]

#: Weighted quantile bins of the imputed households' selection index (per imputation).
SELECTION_BINS = 200
#: Cap on ``|rho|`` in the selection weights (``sqrt(1 - rho^2) >= 0.045``).
RHO_CAP = 0.999
#: Bins whose donor weights have an effective sample size below this are "thin"; the note
#: warns when more than :data:`THIN_WARN` of the imputed households' weight falls in them.
ESS_WARN = 50.0
THIN_WARN = 0.05


def kish_ess(w: np.ndarray, axis=None) -> np.ndarray:
    """Kish effective sample size ``(sum w)^2 / sum w^2`` of non-negative weights."""
    w = np.asarray(w, dtype=float)
    return w.sum(axis=axis) ** 2 / (w**2).sum(axis=axis)


@dataclass(frozen=True)
class SelectionDraws:
    """Donor indices and residuals of selection-weighted resampling.

    Attributes
    ----------
    residuals : ndarray (n_donors, M)
        Raw residuals ``y_j - x_j beta_hat`` centred, per imputation, at their ``w a``-weighted mean.
    nonselected, unconditional : ndarray (n_new, M)
        Donor indices for the other regime's law ``u | s = 0, t_i`` and for the marginal ``f_u``.
    ess_min, ess_median : float
        Kish effective sample size of the donor weights of a bin: minimum and median over
        bins and imputations.
    ess_marginal : float
        Smallest (over imputations) effective sample size of ``w a`` (the marginal draws).
    ess_weighted : float
        Effective sample size of the survey weights alone (the plain empirical rule's).
    truncated_share : float
        Share of importance ratios truncated (over donors and imputations).
    thin_share : float
        Weighted share of the imputed households (over imputations) whose bin has an
        effective donor sample size below :data:`ESS_WARN`.
    """

    residuals: np.ndarray
    nonselected: np.ndarray
    unconditional: np.ndarray
    ess_min: float
    ess_median: float
    ess_marginal: float
    ess_weighted: float
    truncated_share: float
    thin_share: float

    def diagnostics(self) -> dict:
        """The effective-sample-size diagnostics as a plain mapping."""
        return {"ess_min": self.ess_min, "ess_median": self.ess_median, "ess_marginal": self.ess_marginal,
                "ess_weighted": self.ess_weighted, "truncated_share": self.truncated_share,
                "thin_share": self.thin_share}

    def note(self) -> str:
        """One readable line (with a warning when the effective donor sample is small)."""
        txt = (f"selection-weighted residuals: effective donor sample size per bin min {self.ess_min:.0f}, "
               f"median {self.ess_median:.0f} (marginal {self.ess_marginal:.0f}; survey weights alone "
               f"{self.ess_weighted:.0f}); importance ratios truncated: {self.truncated_share:.2%}; imputed "
               f"households in bins with fewer than {ESS_WARN:.0f} effective donors: {self.thin_share:.1%}")
        if self.thin_share > THIN_WARN:
            txt += ("  ** FEW DONORS: the draws of many imputed households rest on few residuals (|rho| near 1 "
                    "or thin overlap of the selection index); compare residuals='normal' **")
        return txt


def _log_ratio(u, t, k, r):
    """``log[Phi(t) / P(s=1 | u, t)]`` with ``P(s=1|u,t) = Phi((t + k u)/r)``, ``k = rho/sigma``."""
    return special.log_ndtr(t) - special.log_ndtr((t + k * u) / r)


def _quantile_bins(t: np.ndarray, w: np.ndarray, bins: int) -> np.ndarray:
    """Bin of each row: weighted quantile bins of ``t`` (mid-point cumulative weight share)."""
    order = np.argsort(t, kind="stable")
    cw = np.cumsum(w[order])
    share = (cw - 0.5 * w[order]) / cw[-1]
    out = np.empty(len(t), dtype=np.intp)
    out[order] = np.minimum((share * bins).astype(np.intp), bins - 1)
    return out


def selection_resample(u: np.ndarray, t_donor: np.ndarray, w: np.ndarray, t_new: np.ndarray, w_new: np.ndarray,
                       rho, sigma, rng: np.random.Generator, bins: int = SELECTION_BINS) -> SelectionDraws:
    """Selection-weighted draws of the other regime's outcome errors (importance resampling).

    Parameters
    ----------
    u : ndarray (n_donors,)
        Raw residuals ``y_j - x_j beta_hat`` of the selected households (no correction term).
    t_donor : ndarray (n_donors, M)
        Their selection index ``z_j gamma_m`` (selection = being in the estimation sample).
    w : ndarray (n_donors,)
        Positive survey weights of the donors.
    t_new : ndarray (n_new, M)
        Selection index of the imputed (non-selected) households per imputation.
    w_new : ndarray (n_new,)
        Their weights (for the quantile bins).
    rho, sigma : array_like (M,)
        Error correlation and outcome SD per imputation (``|rho|`` capped at :data:`RHO_CAP`).
    rng : numpy.random.Generator
        Two ``(n_new, M)`` blocks of uniforms are drawn, the first for the non-selected
        draws (so that with ``rho = 0`` they equal :func:`~remitpov.econometrics.counterfactual_draws.resample_index`
        with the same generator state), the second for the marginal draws.
    bins : int
        Weighted quantile bins of ``t_new`` per imputation (each evaluated at its weighted mean).

    Returns
    -------
    SelectionDraws
        The donor indices into ``residuals[:, m]`` of both prediction kinds and the
        effective-sample-size diagnostics. The module docstring states the model.
    """
    u = np.asarray(u, dtype=float)
    w = np.asarray(w, dtype=float)
    t_donor, t_new = np.atleast_2d(t_donor), np.atleast_2d(t_new)
    M = t_new.shape[1]
    rho = np.broadcast_to(np.asarray(rho, dtype=float), (M,))
    sigma = np.broadcast_to(np.asarray(sigma, dtype=float), (M,))
    n_d, n_new = len(u), len(t_new)
    if n_d == 0 or t_donor.shape != (n_d, M):
        raise InputError(f"selection_resample: t_donor must be (n_donors, M) = ({n_d}, {M}), got {t_donor.shape}")
    if not (np.all(np.isfinite(u)) and np.all(w > 0) and np.all(np.isfinite(t_donor)) and np.all(np.isfinite(t_new))):
        raise InputError("selection_resample: residuals and indices must be finite and donor weights positive")
    if not np.all(sigma > 0) or int(bins) < 1:
        raise InputError(f"selection_resample: sigma must be > 0 and bins >= 1, got sigma {sigma}, bins {bins}")
    U = rng.random((n_new, M))
    U2 = rng.random((n_new, M))
    idx = np.empty((n_new, M), dtype=np.intp)
    idx_u = np.empty((n_new, M), dtype=np.intp)
    res = np.empty((n_d, M))
    ess, ess_marg, n_trunc, thin = [], [], 0, 0.0
    w_new = np.asarray(w_new, dtype=float)
    cap_n = np.sqrt(n_d)
    for m in range(M):  # a loop over imputations and bins, not over rows
        rh = float(np.clip(rho[m], -RHO_CAP, RHO_CAP))
        r, k = np.sqrt(1.0 - rh**2), rh / sigma[m]
        td = t_donor[:, m]
        la = _log_ratio(u, td, k, r)
        c = np.average(u, weights=w * np.exp(la - la.max()))
        um = u - c
        la = _log_ratio(um, td, k, r)
        a = np.exp(la - la.max())
        cap = cap_n * np.average(a, weights=w)
        n_trunc += int(np.count_nonzero(a > cap))
        wa = w * np.minimum(a, cap)
        res[:, m] = um
        ess_marg.append(kish_ess(wa))
        cw = np.cumsum(wa)
        idx_u[:, m] = np.minimum(np.searchsorted(cw, U2[:, m] * cw[-1], side="right"), n_d - 1)
        tn = t_new[:, m]
        b_new = _quantile_bins(tn, w_new, int(bins))
        for b in np.unique(b_new):
            rows = np.flatnonzero(b_new == b)
            tb = np.average(tn[rows], weights=w_new[rows])
            lp = special.log_ndtr(-(tb + k * um) / r)  # log P(s=0 | u_j, t_b)
            W = wa * np.exp(lp - lp.max())
            if not W.max() > 1e-100 * wa.max():  # the heavy donors underflowed: the product in logs
                lw = np.log(wa, out=np.full(n_d, -np.inf), where=wa > 0) + lp
                W = np.exp(lw - lw.max())
            cb = np.cumsum(W)
            idx[rows, m] = np.minimum(np.searchsorted(cb, U[rows, m] * cb[-1], side="right"), n_d - 1)
            ess.append(kish_ess(W))
            thin += w_new[rows].sum() if ess[-1] < ESS_WARN else 0.0
    ess = np.asarray(ess)
    return SelectionDraws(res, idx, idx_u, float(ess.min()), float(np.median(ess)), float(min(ess_marg)),
                          float(kish_ess(w)), n_trunc / (n_d * M), float(thin / (w_new.sum() * M)))
