"""Weak-instrument-robust inference for one endogenous regressor.

Anderson--Rubin (AR) test and confidence set
-------------------------------------------
For a hypothesised coefficient ``b0`` of the endogenous regressor ``x``, regress
``y - x b0`` on the exogenous regressors and the ``q`` excluded instruments (the
reduced form) and test that the instruments' coefficients are zero with the chosen
covariance of the registry (:mod:`remitpov.econometrics.covariance`; HC0-HC3,
CR0-CR2 or classical)::

    AR(b0) = W(b0) / q,   W(b0) = p(b0)' V(b0)^-1 p(b0),   p(b0) = p_y - b0 p_x

where ``p_y``/``p_x`` are the instruments' reduced-form coefficients for ``y`` and ``x``.
The test's size does not depend on the strength of the instruments. Because every
covariance of the registry is a quadratic form in the residuals, ``V(b0) = V_yy - 2 b0 V_xy
+ b0^2 V_xx`` exactly (``V_xy`` by polarisation), so ``W`` is a ratio of polynomials in
``b0`` and the confidence set ``{b0 : W(b0) <= c}`` is found by exact root finding (it
can be a bounded interval, the union of two rays, the whole line, or empty; with ``q > 1``
possibly a union of intervals). Critical value ``c = q F_{1-alpha}(q, dendf)`` with
``dist="F"`` (denominator degrees of freedom ``n - k`` or ``G - 1`` with clusters), or the
``chi2_{1-alpha}(q)`` quantile with ``dist="chi2"``.

Effective first-stage F (Montiel Olea & Pflueger 2013)
------------------------------------------------------
``F_eff = p_x' (Z~'W Z~) p_x / tr(V_xx (Z~'W Z~))`` with ``Z~`` the excluded instruments
after partialling out the exogenous regressors and ``V_xx`` the chosen (robust)
covariance of ``p_x``. With the classical covariance it equals the usual first-stage F;
with one instrument it equals the robust first-stage Wald F; it is invariant to linear
transformations of the instruments. MOP's simplified critical value for a 5 % test that
the worst-case 2SLS Nagar bias exceeds 10 % of the OLS benchmark is 23.109 (for any
number of instruments); the rule of thumb F > 10 is for homoskedastic errors only.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import optimize, stats

from ..exceptions import InputError
from .covariance import COV_TYPES, linear_vcov

__all__ = ["ARConfidenceSet", "anderson_rubin", "effective_f", "MOP_CRITICAL_VALUE_10PCT"]

#: Montiel Olea--Pflueger simplified critical value (5 % test, 10 % worst-case bias threshold).
MOP_CRITICAL_VALUE_10PCT = 23.109


@dataclass(frozen=True)
class ARConfidenceSet:
    """Anderson--Rubin confidence set for the endogenous coefficient.

    Attributes
    ----------
    intervals : tuple of (lower, upper)
        Disjoint closed intervals, sorted; ``-inf``/``inf`` for unbounded ends.
    level : float
    cov_type : str
    q : int
        Number of excluded instruments.
    critical_value : float
        Of ``W`` (``q`` times the F critical value, or the chi-squared one).
    kind : str
        ``"bounded"``, ``"unbounded"`` (contains a ray), ``"whole line"`` or ``"empty"``.
    """

    intervals: tuple
    level: float
    cov_type: str
    q: int
    critical_value: float
    kind: str

    def __contains__(self, b: float) -> bool:
        return any(lo <= b <= hi for lo, hi in self.intervals)

    def __str__(self) -> str:
        parts = " U ".join(f"[{lo:.6g}, {hi:.6g}]" for lo, hi in self.intervals) or "empty"
        return f"{self.level:.0%} Anderson-Rubin set ({self.cov_type}): {parts}"


@dataclass(frozen=True)
class _ReducedForm:
    py: np.ndarray
    px: np.ndarray
    V0: np.ndarray
    V1: np.ndarray
    V2: np.ndarray
    Zt_Z: np.ndarray  # Z~'W Z~ of the partialled-out instruments
    dendf: int


def _reduced_form(y, x, exog, Z, w, cov_type, clusters) -> _ReducedForm:
    if cov_type not in COV_TYPES:
        raise InputError(f"cov_type={cov_type!r}: weak-IV inference takes a registry type {tuple(COV_TYPES)}")
    C = np.column_stack([exog, Z])
    k0 = exog.shape[1]
    n = y.size
    ww = np.ones(n) if w is None else w
    CW = C * ww[:, None]
    coef = np.linalg.solve(CW.T @ C, CW.T @ np.column_stack([y, x]))
    E = np.column_stack([y, x]) - C @ coef

    def V(e):
        return linear_vcov(C, e, w, cov_type, clusters)[k0:, k0:]

    ey, ex = E[:, 0], E[:, 1]
    V0, V2 = V(ey), V(ex)
    V1 = (V(ey + ex) - V(ey - ex)) / 4  # polarisation: the meat is a quadratic form in e
    Zt = Z - exog @ np.linalg.lstsq(exog * np.sqrt(ww)[:, None], Z * np.sqrt(ww)[:, None], rcond=None)[0]
    dendf = (int(clusters.max())) if COV_TYPES[cov_type].clustered else n - C.shape[1]
    return _ReducedForm(coef[k0:, 0], coef[k0:, 1], V0, V1, V2, (Zt * ww[:, None]).T @ Zt, dendf)


def _wald(rf: _ReducedForm, b: np.ndarray) -> np.ndarray:
    b = np.atleast_1d(np.asarray(b, dtype=float))
    p = rf.py[None, :] - b[:, None] * rf.px[None, :]
    Vb = rf.V0[None] - 2 * b[:, None, None] * rf.V1[None] + (b**2)[:, None, None] * rf.V2[None]
    return np.einsum("gi,gi->g", p, np.linalg.solve(Vb, p[..., None])[..., 0])


def anderson_rubin(y, x, exog, Z, *, w=None, cov_type: str = "HC0", clusters=None, level: float = 0.95,
                   dist: str = "F", beta0=None, grid: int = 4001):
    """Anderson--Rubin test (at ``beta0``) and confidence set (see the module docstring).

    Parameters
    ----------
    y, x : (n,) arrays
        Outcome and the one endogenous regressor.
    exog : (n, k0) array
        Included exogenous regressors (with the intercept).
    Z : (n, q) array
        Excluded instruments.
    w : (n,) array, optional
        Regression weights.
    cov_type : str
        A registry name; ``clusters`` (integer codes) for the CR types.
    level : float
        Confidence level of the set.
    dist : {"F", "chi2"}
    beta0 : float or array, optional
        Values at which to report the test.
    grid : int
        Points of the initial scan (in ``atan`` scale over the whole line) before exact
        root refinement.

    Returns
    -------
    (ARConfidenceSet, DataFrame or None)
        The set, and for ``beta0`` a table ``beta0, stat (= W/q), pvalue``.
    """
    import pandas as pd

    if dist not in ("F", "chi2"):
        raise InputError("dist must be 'F' or 'chi2'")
    rf = _reduced_form(np.asarray(y, float), np.asarray(x, float), np.asarray(exog, float), np.asarray(Z, float),
                       w, cov_type, clusters)
    q = rf.py.size
    c = q * stats.f.ppf(level, q, rf.dendf) if dist == "F" else stats.chi2.ppf(level, q)

    def h(b):
        return float(_wald(rf, b)[0]) - c

    phi = np.linspace(-np.pi / 2, np.pi / 2, grid)[1:-1]
    far = np.logspace(0, 15, 151)
    bs = np.unique(np.r_[np.tan(phi), far, -far])  # the whole line, out to +-1e15
    hv = _wald(rf, bs) - c
    w_inf = float(rf.px @ np.linalg.solve(rf.V2, rf.px))  # limit of W at +-infinity
    roots = []
    for i in np.flatnonzero(np.sign(hv[1:]) != np.sign(hv[:-1])):  # a few sign changes, not rows
        roots.append(optimize.brentq(h, bs[i], bs[i + 1], xtol=1e-14 * max(1.0, abs(bs[i])), rtol=1e-15,
                                     maxiter=500))
    inside = np.r_[w_inf <= c, hv <= 0, w_inf <= c]
    edges = np.r_[-np.inf, roots, np.inf]
    # the acceptance status between consecutive edges is that of any grid point between them
    intervals = []
    pts = np.r_[-np.inf, bs, np.inf]
    for lo, hi in zip(edges[:-1], edges[1:]):
        sel = (pts > lo) & (pts < hi)
        ok = bool(inside[sel][0]) if sel.any() else bool(h(0.5 * (lo + hi)) <= 0)  # constant between roots
        if ok:
            if intervals and intervals[-1][1] == lo:
                intervals[-1] = (intervals[-1][0], hi)
            else:
                intervals.append((float(lo), float(hi)))
    if not intervals:
        kind = "empty"
    elif intervals == [(-np.inf, np.inf)]:
        kind = "whole line"
    elif np.isinf(intervals[0][0]) or np.isinf(intervals[-1][1]):
        kind = "unbounded"
    else:
        kind = "bounded"
    cs = ARConfidenceSet(tuple(intervals), level, cov_type, q, float(c), kind)
    table = None
    if beta0 is not None:
        b = np.atleast_1d(np.asarray(beta0, dtype=float))
        W = _wald(rf, b)
        pv = stats.f.sf(W / q, q, rf.dendf) if dist == "F" else stats.chi2.sf(W, q)
        table = pd.DataFrame({"beta0": b, "stat": W / q, "pvalue": pv})
    return cs, table


def effective_f(x, exog, Z, *, w=None, cov_type: str = "HC0", clusters=None) -> float:
    """Montiel Olea--Pflueger effective first-stage F for the one endogenous regressor ``x``."""
    rf = _reduced_form(np.asarray(x, float), np.asarray(x, float), np.asarray(exog, float), np.asarray(Z, float),
                       w, cov_type, clusters)
    p = rf.px
    return float(p @ rf.Zt_Z @ p) / float(np.trace(rf.V2 @ rf.Zt_Z))
