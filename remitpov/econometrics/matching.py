"""Matching algorithms behind :class:`~remitpov.econometrics.treatment.PropensityScoreMatching`.

Pure array functions (no model objects), each reproducing one step of R MatchIt 4.5.1
where MatchIt is deterministic:

* :func:`mahalanobis_coordinates` -- covariates transformed so that Euclidean distance is
  the Mahalanobis distance with the pooled within-group covariance matrix (MatchIt's
  ``distance = "mahalanobis"``, Rubin 1980), a pseudo-inverse when it is singular.
* :func:`greedy_general` -- greedy nearest-neighbour matching on any distance computed per
  treated unit (Mahalanobis, or Mahalanobis within a propensity-score caliper, MatchIt's
  ``mahvars``): treated units in the given order each take the nearest still-available
  control; exact ties go to the control first in data order (MatchIt's ``which_min``).
* :func:`k_nearest_with_replacement` -- the ``k`` distinct nearest controls of every treated
  unit (MatchIt's general routine with ``replace = TRUE``; ties in data order, where
  MatchIt's ``std::partial_sort`` leaves their order unspecified).
* :func:`subclassify` -- subclasses at quantiles of the score (MatchIt ``method =
  "subclass"``) and their ATT/ATC/ATE weights.
* :func:`wls_difference_hc3` -- the HC3 SE of the treatment coefficient of the weighted
  regression ``y ~ treat`` on the matched sample, the SE the MatchIt vignette recommends
  after matching with replacement and after subclassification (``vcovHC(type = "HC3")``).
* :func:`nn_sets`, :func:`match_shares`, :func:`within_group_sigma2` -- R ``Matching::Match``
  (Abadie--Imbens): the ``k`` nearest units of the other group with all ties, their weight
  shares, and the heteroskedastic conditional variances of ``Var.calc = J``.

Known differences from MatchIt 4.5.1 (all in its fast path ``nn_matchC_vec``, used when
matching on a score vector): it compares distances with C's integer ``abs()``, so between
two candidate controls it takes the one with the *lower* score unless the distances differ
by a whole unit, and a caliper is effectively applied to ``floor(|distance|)``; and with
``replace = TRUE, ratio = k`` its check for controls already matched to a treated unit
compares 0- with 1-based indices, so the nearest control is repeated ``k`` times (the result
equals 1:1 matching). ``matchit_compat=True`` reproduces the first; the second is not
reproduced (``k`` distinct controls are always used).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..exceptions import InputError

__all__ = ["mahalanobis_coordinates", "greedy_general", "k_nearest_with_replacement", "subclassify",
           "subclass_weights", "wls_difference_hc3", "nn_sets", "match_shares", "within_group_sigma2"]


def mahalanobis_coordinates(Q: np.ndarray, t: np.ndarray, w: np.ndarray | None = None,
                            rtol: float = 1e-8) -> np.ndarray:
    """Coordinates whose Euclidean distances are Mahalanobis distances.

    The covariance is the pooled within-group covariance (each group centred on its own
    mean): ``sum_g sum_{i in g} (x_i - m_g)(x_i - m_g)' / (n - 2)`` without weights, and
    R's ``cov.wt`` of the group-centred data (``sum w (x-m)(x-m)' / (1 - sum w^2)`` with
    weights normalised to sum 1) with sampling weights -- MatchIt 4.5.1's ``pooled_cov``.
    Its inverse is the Moore--Penrose pseudo-inverse when it is singular (eigenvalues
    below ``rtol`` times the largest dropped, as MatchIt's ``generalized_inverse``), so
    redundant columns (e.g. a full set of dummies) do not change the distances.
    Constant columns are dropped.

    Returns ``Z @ L`` with ``Z`` the standardised covariates and ``L L' = V^+`` for ``V``
    their pooled within-group covariance (the group-centred data only estimate ``V``).
    """
    Q = np.asarray(Q, dtype=float)
    Q = Q[:, np.ptp(Q, axis=0) > 0]
    if Q.shape[1] == 0:
        raise InputError("Mahalanobis matching needs at least one covariate that varies")
    # columns scaled to unit SD first (MatchIt's scale()): the distance does not depend on the
    # scaling, but the pseudo-inverse's relative cut-off would drop small-variance directions
    # (dummies next to incomes in the thousands) on the raw scale
    Q = (Q - Q.mean(axis=0)) / Q.std(axis=0, ddof=1)
    Qc = Q.copy()
    for g in (0, 1):
        m = t == g
        wg = None if w is None else w[m]
        Qc[m] -= np.average(Q[m], axis=0, weights=wg)
    if w is None:
        V = Qc.T @ Qc / (len(Qc) - 2)
    else:
        a = w / w.sum()
        V = (Qc * a[:, None]).T @ Qc / (1 - np.sum(a**2))
    s, U = np.linalg.eigh(V)
    keep = s > rtol * s.max()
    L = U[:, keep] / np.sqrt(s[keep])
    return Q @ L


def greedy_general(order: np.ndarray, controls: np.ndarray, coords: np.ndarray, k: int = 1,
                   caliper_score: np.ndarray | None = None, caliper: float | None = None):
    """Greedy matching without replacement on Euclidean distance between ``coords`` rows.

    Parameters
    ----------
    order : int array
        Treated rows in the order in which they choose (MatchIt: data order for a pure
        Mahalanobis distance, decreasing score with ``mahvars``).
    controls : int array
        Control rows in data order (ties go to the first).
    coords : (n, p) array
        e.g. :func:`mahalanobis_coordinates`.
    k : int
        Controls per treated unit, matched in ``k`` rounds (every treated unit gets its
        first control, then its second...).
    caliper_score, caliper : optional
        Controls with ``|score_i - score_j| > caliper`` are not eligible.

    Returns
    -------
    (treated rows, control rows) of the matches, in matching order.

    Notes
    -----
    One Python step per treated unit and round is inherent to greedy matching (each choice
    depends on the previous ones); each step is one vectorised distance computation over
    the controls.
    """
    available = np.ones(controls.size, dtype=bool)
    Xc = coords[controls]
    mt, mc = [], []
    for _ in range(k):
        for i in order:
            elig = available.copy()
            if caliper is not None:
                elig &= np.abs(caliper_score[controls] - caliper_score[i]) <= caliper
            if not elig.any():
                continue
            d = np.sqrt(np.sum((Xc - coords[i]) ** 2, axis=1))
            j = int(np.argmin(np.where(elig, d, np.inf)))  # first minimum: data order
            available[j] = False
            mt.append(i)
            mc.append(controls[j])
            if not available.any():
                return np.array(mt, dtype=np.int64), np.array(mc, dtype=np.int64)
    return np.array(mt, dtype=np.int64), np.array(mc, dtype=np.int64)


def k_nearest_with_replacement(treated: np.ndarray, controls: np.ndarray, coords: np.ndarray, k: int,
                               caliper_score: np.ndarray | None = None, caliper: float | None = None,
                               chunk: int = 2048):
    """The ``k`` distinct nearest controls of every treated unit (controls reused).

    Euclidean distance between ``coords`` rows (a score is a one-column ``coords``);
    controls outside the caliper are not eligible; a treated unit with fewer than ``k``
    eligible controls gets all of them. Exact ties are broken in data order (stable sort).
    The distance matrix is built in blocks of ``chunk`` treated rows.

    Returns (treated rows, control rows) with every treated unit's matches nearest first.
    """
    rows, cols = [], []
    Xc = coords[controls]
    for s in range(0, treated.size, chunk):
        tr = treated[s:s + chunk]
        D = np.sqrt(((coords[tr][:, None, :] - Xc[None, :, :]) ** 2).sum(axis=2))
        if caliper is not None:
            D = np.where(np.abs(caliper_score[tr][:, None] - caliper_score[controls][None, :]) <= caliper, D, np.inf)
        kk = min(k, controls.size)
        idx = np.argsort(D, axis=1, kind="stable")[:, :kk]
        ok = np.isfinite(np.take_along_axis(D, idx, axis=1))
        rows.append(np.repeat(tr, kk)[ok.ravel()])
        cols.append(controls[idx.ravel()][ok.ravel()])
    return np.concatenate(rows), np.concatenate(cols)


def subclassify(score: np.ndarray, t: np.ndarray, n_subclasses: int, estimand: str) -> tuple[np.ndarray, np.ndarray]:
    """Subclasses at quantiles of the score (MatchIt ``method = "subclass"``).

    Cut points are the ``0, 1/S, ..., 1`` quantiles (R's default type 7, numpy's
    ``"linear"``) of the score of the treated (ATT), the controls (ATC) or everyone (ATE);
    a unit is in subclass ``s`` when ``q_s <= score < q_{s+1}``, scores below the first or
    at/above the last cut point go to the first/last subclass (R ``findInterval(...,
    all.inside = TRUE)``). Subclasses left empty by ties in the score are dropped and the
    rest renumbered ``0..S'-1``.

    Returns (subclass codes, cut points).

    Raises
    ------
    InputError
        If a subclass has no treated or no control unit. (MatchIt then moves units from
        neighbouring subclasses, "scooting"; here the user is asked for fewer subclasses,
        so that every subclass is a plain score interval.)
    """
    if int(n_subclasses) != n_subclasses or n_subclasses < 2:
        raise InputError(f"subclasses={n_subclasses!r} must be an integer >= 2")
    probs = np.linspace(0, 1, int(n_subclasses) + 1)
    ref = {"ATT": score[t == 1], "ATC": score[t == 0], "ATE": score}[estimand]
    q = np.quantile(ref, probs)
    raw = np.clip(np.searchsorted(q, score, side="right"), 1, len(q) - 1) - 1
    sub = pd.factorize(raw, sort=True)[0]
    S = sub.max() + 1
    n1 = np.bincount(sub[t == 1], minlength=S)
    n0 = np.bincount(sub[t == 0], minlength=S)
    bad = np.flatnonzero((n1 == 0) | (n0 == 0))
    if bad.size:
        raise InputError(
            f"subclasses {(bad + 1).tolist()} of {S} (score intervals between the {estimand} quantiles) have "
            f"no treated or no control unit (treated per subclass {n1.tolist()}, controls {n0.tolist()}); "
            "use fewer subclasses or trim the sample to common support")
    return sub, q


def subclass_weights(sub: np.ndarray, t: np.ndarray, w: np.ndarray, estimand: str) -> np.ndarray:
    """Marginal mean weighting by subclass (MatchIt ``weights.subclass``).

    With ``W_gs`` the total base weight of group g in subclass s: ATT weights treated 1 and
    controls ``W_1s / W_0s``; ATC controls 1 and treated ``W_0s / W_1s``; ATE treated
    ``W_s / W_1s`` and controls ``W_s / W_0s``; each times the unit's base weight. With unit
    base weights these are MatchIt's weights before its rescaling of each group's weights
    to average 1 (which changes no estimate).
    """
    S = sub.max() + 1
    W1 = np.bincount(sub[t == 1], weights=w[t == 1], minlength=S)
    W0 = np.bincount(sub[t == 0], weights=w[t == 0], minlength=S)
    if estimand == "ATT":
        f1, f0 = np.ones(S), W1 / W0
    elif estimand == "ATC":
        f1, f0 = W0 / W1, np.ones(S)
    else:
        f1, f0 = (W1 + W0) / W1, (W1 + W0) / W0
    return w * np.where(t == 1, f1[sub], f0[sub])


def wls_difference_hc3(y: np.ndarray, t: np.ndarray, W: np.ndarray) -> tuple[float, float, np.ndarray]:
    """``mu1, mu0`` (W-weighted group means) and their HC3 covariance.

    From the weighted regression ``y ~ 1 + treat`` on the units with ``W > 0``
    (statsmodels ``WLS(...).fit(cov_type="HC3")``, equal to R's ``sandwich::vcovHC(lm(y ~
    treat, weights = W), type = "HC3")``): ``mu0`` is the intercept, ``mu1`` the intercept
    plus the slope.
    """
    import statsmodels.api as sm

    keep = W > 0
    X = np.column_stack([np.ones(keep.sum()), t[keep]])
    res = sm.WLS(y[keep], X, weights=W[keep]).fit(cov_type="HC3")
    C = np.array([[1.0, 1.0], [1.0, 0.0]])
    mu1, mu0 = C @ res.params
    return float(mu1), float(mu0), C @ res.cov_params() @ C.T


def nn_sets(x, is_from, is_to, k, ties, tol, cal, w):
    """k nearest neighbours (with ties) of every ``is_from`` unit among ``is_to`` units.

    Vectorised with one sort: the k nearest of a point lie within k positions on each side
    of its insertion point; the tie set is the contiguous sorted range within
    ``d_k + tol``. Returns (row, match, weight share) arrays; shares are proportional to
    the matches' base weights and sum to one per row.
    """
    fr = np.flatnonzero(is_from)
    to = np.flatnonzero(is_to)
    order = np.argsort(x[to], kind="stable")
    to_s = to[order]
    xs = x[to_s]
    nT = len(xs)
    kk = min(k, nT)
    xf = x[fr]
    pos = np.searchsorted(xs, xf)
    offs = np.arange(-kk, kk)
    idx = pos[:, None] + offs[None, :]
    valid = (idx >= 0) & (idx < nT)
    dd = np.where(valid, np.abs(xs[np.clip(idx, 0, nT - 1)] - xf[:, None]), np.inf)
    dk = np.sort(dd, axis=1)[:, kk - 1]
    if ties:
        # Match(): ties are units whose squared (standardised) distance is within `tol`
        # of the k-th smallest squared distance
        rad = np.sqrt(dk**2 + tol)
        lo = np.searchsorted(xs, xf - rad, side="left")
        hi = np.searchsorted(xs, xf + rad, side="right")
    else:
        # exactly k: the k nearest by distance (stable by sorted position)
        sel = np.argsort(dd, axis=1, kind="stable")[:, :kk]
        rows = np.repeat(fr, kk)
        cols = to_s[np.clip(np.take_along_axis(idx, sel, 1).ravel(), 0, nT - 1)]
        keep = np.ones(rows.size, dtype=bool)
        if cal is not None:
            keep = np.repeat(dk <= cal, kk) & (np.abs(x[rows] - x[cols]) <= cal)
        rows, cols = rows[keep], cols[keep]
        return rows, cols, match_shares(rows, cols, w)
    if cal is not None:
        ok = dk <= cal
        lo = np.where(ok, np.maximum(lo, np.searchsorted(xs, xf - cal, side="left")), 0)
        hi = np.where(ok, np.minimum(hi, np.searchsorted(xs, xf + cal, side="right")), 0)
    m = hi - lo
    rows = np.repeat(fr, m)
    start = np.repeat(lo - np.concatenate([[0], np.cumsum(m)[:-1]]), m)
    cols = to_s[np.arange(m.sum()) + start]
    return rows, cols, match_shares(rows, cols, w)


def match_shares(rows, cols, w):
    """Weight share of each match ``cols`` within its row's matched set (shares sum to one per row)."""
    tot = np.bincount(rows, weights=w[cols], minlength=rows.max() + 1 if rows.size else 0)
    return w[cols] / tot[rows]


def within_group_sigma2(x, y, t, J, ties, tol):
    """Heteroskedastic conditional variances (AI 2006 eq. 14; Matching ``Var.calc=J``):
    the sample variance of y over unit i and its J nearest same-group units (all ties);
    with exactly J matches this is ``J/(J+1) (y_i - mean of the matches)^2``."""
    n = len(x)
    sig2 = np.zeros(n)
    for g in (0, 1):
        idx = np.flatnonzero(t == g)
        order = np.argsort(x[idx], kind="stable")
        s = idx[order]
        xs = x[s]
        m = len(s)
        # neighbours within the group excluding self: candidates at sorted offsets -J..J except 0
        offs = np.array([o for o in range(-J, J + 1) if o != 0])
        p = np.arange(m)
        cand = p[:, None] + offs[None, :]
        valid = (cand >= 0) & (cand < m)
        dd = np.where(valid, np.abs(xs[np.clip(cand, 0, m - 1)] - xs[:, None]), np.inf)
        dJ = np.sort(dd, axis=1)[:, min(J, m - 1) - 1]
        rad = np.sqrt(dJ**2 + (tol if ties else 0.0))
        lo = np.searchsorted(xs, xs - rad, side="left")
        hi = np.searchsorted(xs, xs + rad, side="right")
        # sample variance of y over the unit and its matches (VarCalcMatchC); the sorted
        # range [lo, hi) contains the unit itself. Centre y first for numerical accuracy.
        yc = y[s] - y[s].mean()
        c1 = np.concatenate([[0.0], np.cumsum(yc)])
        c2 = np.concatenate([[0.0], np.cumsum(yc**2)])
        m_ = (hi - lo).astype(float)
        s1, s2 = (c1[hi] - c1[lo]) / m_, (c2[hi] - c2[lo]) / m_
        sig2[s] = np.maximum(s2 - s1**2, 0.0) * m_ / (m_ - 1)
    return sig2
