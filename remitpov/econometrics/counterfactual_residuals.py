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
``sigma^2 (1 - rho^2 delta_0)``), and with the empirical shape otherwise. At the estimate
the imputation is ``x_i beta + u*``: ``u*`` already carries the conditional mean shift, no
``lambda`` term is added. The unconditional prediction (``E[log y0 | x]``) draws from
``w_j a_j`` alone.

Proper imputations
------------------
The draws ``u*`` are made ONCE at the estimate ``theta_hat`` (residuals at ``beta_hat``,
centred at their ``w a``-weighted mean, the estimate of ``E u = 0``; weights at
``gamma_hat, rho_hat, sigma_hat``). Imputation ``m`` with the jointly drawn parameters
``theta_m`` moves them as the model's conditional law moves (location and scale):

    ``log y0_im = x_i beta_m + mu_i(theta_m) + s_i(theta_m) / s_i(theta_hat) * (u*_im - mu_i(theta_hat))``

with ``mu_i = -lambda phi(t_i)/Phi(-t_i)`` and ``s_i = sigma sqrt(1 - rho^2 delta_0)`` of
the normal model (unconditional: ``mu = 0``, ``s = sigma``). So the empirical shape AND the
empirical deviation of the conditional mean from the normal model's are kept, while the
parameter uncertainty enters exactly as in the ``"normal"`` rule; at ``theta_m =
theta_hat`` it is ``x_i beta_hat + u*``. Recomputing the selection weights at each drawn
``(gamma_m, rho_m)`` instead, with residuals at ``beta_hat``, mismatches the drawn outcome
coefficients and the drawn ``rho`` (strongly correlated in the two-step covariance) and was
measured biased by -0.5 points of FGT0 on the model's own DGP (validation/RESULTS.md,
session 6); with residuals at ``beta_m`` the drawn intercept cancels
(``x_i beta_m + y_j - x_j beta_m``).

Cost and guards
---------------
* The imputed households are cut into ``bins`` weighted quantile bins of ``t_i`` (default
  :data:`SELECTION_BINS`); each bin uses its weighted mean index. One vector of donor
  weights and one cumulative sum per bin, sampled with ``searchsorted`` for all the bin's
  rows and imputations at once: ``O(bins x n_donors)``, no loop over rows.
* Guard against extreme weights: ``|rho|`` is capped at :data:`RHO_CAP` (the conditional
  law of ``v`` degenerates at ``|rho| = 1``; the two-step estimator's ``rho = lambda/sigma``
  can reach it), the importance ratios ``a_j`` are truncated at ``sqrt(n_donors)`` times
  their weighted mean (truncated importance sampling, Ionides 2008, *J. Comput. Graph.
  Stat.* 17: bias and variance vanish as ``n`` grows), and the weights of each bin are
  computed in logs (never all zero). The Kish effective sample size
  ``(sum W)^2 / sum W^2`` of the donor weights is reported (minimum and median over bins,
  and of ``w a``), with the weighted share of imputed households whose bin
  has fewer than :data:`ESS_WARN` effective donors; the note warns when that share exceeds
  :data:`THIN_WARN` (the draws rest on few donors: compare ``"normal"``, check ``rho``).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import special

from ..exceptions import InputError

__all__ = ["SELECTION_BINS", "RHO_CAP", "ESS_WARN", "THIN_WARN", "SelectionDraws", "selection_resample", "kish_ess"]

#: Weighted quantile bins of the imputed households' selection index.
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
    residuals : ndarray (n_donors,)
        Raw residuals ``y_j - x_j beta_hat`` centred at their ``w a``-weighted mean.
    nonselected, unconditional : ndarray (n_new, draws)
        Donor indices for the other regime's law ``u | s = 0, t_i`` and for the marginal ``f_u``.
    ess_min, ess_median : float
        Kish effective sample size of the donor weights of a bin: minimum and median over bins.
    ess_marginal : float
        Effective sample size of ``w a`` (the marginal draws).
    ess_weighted : float
        Effective sample size of the survey weights alone (the plain empirical rule's).
    truncated_share : float
        Share of the donors' importance ratios truncated.
    thin_share : float
        Weighted share of the imputed households whose bin has an
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
                       rho: float, sigma: float, draws: int, rng: np.random.Generator,
                       bins: int = SELECTION_BINS) -> SelectionDraws:
    """Selection-weighted draws of the other regime's outcome errors (importance resampling).

    Parameters
    ----------
    u : ndarray (n_donors,)
        Raw residuals ``y_j - x_j beta_hat`` of the selected households (no correction term).
    t_donor : ndarray (n_donors,)
        Their selection index ``z_j gamma_hat`` (selection = being in the estimation sample).
    w : ndarray (n_donors,)
        Positive survey weights of the donors.
    t_new : ndarray (n_new,)
        Selection index of the imputed (non-selected) households.
    w_new : ndarray (n_new,)
        Their weights (for the quantile bins).
    rho, sigma : float
        Error correlation (``|rho|`` capped at :data:`RHO_CAP`) and outcome SD.
    draws : int
        Draws per imputed household (columns of the result).
    rng : numpy.random.Generator
        Two ``(n_new, draws)`` blocks of uniforms are drawn, the first for the non-selected
        draws (so that with ``rho = 0`` they equal :func:`~remitpov.econometrics.counterfactual_draws.resample_index`
        with the same generator state), the second for the marginal draws.
    bins : int
        Weighted quantile bins of ``t_new`` (each evaluated at its weighted mean index).

    Returns
    -------
    SelectionDraws
        The centred residuals and the donor indices of both prediction kinds
        (``residuals[nonselected]`` are draws of ``u | s = 0, t_i``), with the
        effective-sample-size diagnostics. The module docstring states the model.
    """
    u = np.asarray(u, dtype=float)
    w = np.asarray(w, dtype=float)
    t_donor, t_new, w_new = (np.asarray(a, dtype=float) for a in (t_donor, t_new, w_new))
    n_d, n_new, draws = len(u), len(t_new), int(draws)
    if n_d == 0 or t_donor.shape != (n_d,) or w.shape != (n_d,) or w_new.shape != (n_new,):
        raise InputError(f"selection_resample: u, t_donor and w must have one value per donor ({n_d}), t_new and "
                         f"w_new one per imputed household; got shapes {t_donor.shape}, {w.shape}, {w_new.shape}")
    if not (np.all(np.isfinite(u)) and np.all(w > 0) and np.all(np.isfinite(t_donor)) and np.all(np.isfinite(t_new))):
        raise InputError("selection_resample: residuals and indices must be finite and donor weights positive")
    if not sigma > 0 or int(bins) < 1 or draws < 1:
        raise InputError(f"selection_resample: need sigma > 0, bins >= 1 and draws >= 1; got {sigma}, {bins}, {draws}")
    U = rng.random((n_new, draws))
    U2 = rng.random((n_new, draws))
    rh = float(np.clip(rho, -RHO_CAP, RHO_CAP))
    r, k = np.sqrt(1.0 - rh**2), rh / sigma
    la = _log_ratio(u, t_donor, k, r)
    um = u - np.average(u, weights=w * np.exp(la - la.max()))  # centred: the estimate of E u = 0
    la = _log_ratio(um, t_donor, k, r)
    a = np.exp(la - la.max())
    cap = np.sqrt(n_d) * np.average(a, weights=w)  # truncated importance sampling (Ionides 2008)
    wa = w * np.minimum(a, cap)
    cw = np.cumsum(wa)
    idx_u = np.minimum(np.searchsorted(cw, U2 * cw[-1], side="right"), n_d - 1)
    idx = np.empty((n_new, draws), dtype=np.intp)
    b_new = _quantile_bins(t_new, w_new, int(bins))
    ess, thin = [], 0.0
    for b in np.unique(b_new):  # a loop over bins, not over rows
        rows = np.flatnonzero(b_new == b)
        tb = np.average(t_new[rows], weights=w_new[rows])
        lp = special.log_ndtr(-(tb + k * um) / r)  # log P(s=0 | u_j, t_b)
        W = wa * np.exp(lp - lp.max())
        if not W.max() > 1e-100 * wa.max():  # the heavy donors underflowed: the product in logs
            lw = np.log(wa, out=np.full(n_d, -np.inf), where=wa > 0) + lp
            W = np.exp(lw - lw.max())
        cb = np.cumsum(W)
        idx[rows] = np.minimum(np.searchsorted(cb, U[rows] * cb[-1], side="right"), n_d - 1)
        ess.append(kish_ess(W))
        thin += w_new[rows].sum() if ess[-1] < ESS_WARN else 0.0
    ess = np.asarray(ess)
    return SelectionDraws(um, idx, idx_u, float(ess.min()), float(np.median(ess)), float(kish_ess(wa)),
                          float(kish_ess(w)), float(np.mean(a > cap)), float(thin / w_new.sum()))
