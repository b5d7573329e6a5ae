"""Robustness tools for treatment-effect estimates (issue 16).

* :func:`crump_trimming` -- the optimal propensity-score trimming threshold of Crump,
  Hotz, Imbens and Mitnik (2009, *Biometrika* 96:187-199), used by the ``trim=`` option
  of :class:`~remitpov.econometrics.PropensityScoreMatching`,
  :class:`~remitpov.econometrics.InverseProbabilityWeighting` and
  :class:`~remitpov.econometrics.AugmentedIPW`.
* :func:`poverty_dominance` -- design-based test of stochastic (poverty) dominance of order
  1, 2 or 3 between two income distributions of the same survey (Davidson and Duclos 2000,
  *Econometrica* 68:1435-1464): differences of FGT(s-1) curves over a grid of lines with
  joint design SEs (:func:`remitpov.poverty.poverty_curve`), intersection-union decision.
* :func:`growth_redistribution` -- Datt--Ravallion (1992) and Shapley (Shorrocks 2013)
  decompositions of a poverty difference into a mean (growth) and a distribution
  (redistribution) component, through :func:`remitpov.poverty.fgt`.
* :func:`rosenbaum_bounds` -- Rosenbaum's sensitivity analysis of the Wilcoxon signed-rank
  test for matched pairs (Rosenbaum 2002, *Observational Studies*, 2nd ed., sec. 4.3): the
  range of one-sided p-values when, within a pair, the odds of treatment may differ by a
  factor up to Gamma because of an unobserved covariate; and :func:`sensitivity_gamma`, the
  Gamma at which the upper bound crosses a significance level.

Conventions
-----------
Crump et al.: with ``g(x) = 1 / (e(x)(1 - e(x)))``, no trimming if ``max g <= 2 E[g]``;
otherwise ``alpha = 1/2 - sqrt(1/4 - 1/gamma)`` where ``gamma`` solves
``gamma = 2 E[g | g <= gamma]`` (expectations over the sample, weighted by the sampling
weights when given). Units with ``e`` outside ``[alpha, 1 - alpha]`` are dropped. The
threshold minimises the asymptotic variance of the efficient estimator of the average
effect over the retained population (homoskedastic case); the estimand changes to the
effect on that population. Inference treats ``alpha`` as fixed.

Rosenbaum bounds: differences ``d_i = y_treated - y_control`` over the pairs; zero
differences are dropped (Rosenbaum 2002, sec. 4.3.3; R's ``rbounds::psens`` keeps them,
with sign 0, which changes its p-values when there are zeros); ranks of ``|d_i|`` with
average ranks for ties; ``T = sum of ranks of the positive differences``. Under Gamma each
pair's sign is positive with probability at most ``p+ = Gamma / (1 + Gamma)`` and at least
``p- = 1 / (1 + Gamma)``, independently, so ``T`` is bounded (stochastically) by sums of
``rank_i * Bernoulli(p)``. The normal approximation uses ``E = p sum(rank)``,
``Var = p (1 - p) sum(rank^2)`` (``rbounds`` uses ``(2(S+1))`` for ``(2S+1)`` when there
are no ties; not reproduced); ``method="exact"`` convolves the exact distribution.
One-sided alternative: the treatment raises the outcome (use ``-d`` for the other side).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

import numpy as np
import pandas as pd
from scipy import optimize, stats

from .exceptions import InputError

__all__ = ["crump_trimming", "trim_mask", "rosenbaum_bounds", "sensitivity_gamma", "matched_pair_differences",
           "poverty_dominance", "DominanceTest", "growth_redistribution", "GrowthRedistribution"]


def crump_trimming(pscore, weights=None) -> float:
    """Optimal trimming threshold ``alpha`` of Crump, Hotz, Imbens and Mitnik (2009).

    Parameters
    ----------
    pscore : array
        Estimated propensity scores in (0, 1).
    weights : array, optional
        Sampling weights (the expectations are weighted means).

    Returns
    -------
    float
        ``alpha`` in ``[0, 0.5)``; keep units with ``alpha <= e <= 1 - alpha``.
        0 when ``max g <= 2 E[g]`` (no trimming improves the variance bound).

    Notes
    -----
    ``g = 1/(e(1-e))`` is sorted; for ``gamma`` between consecutive sorted values
    ``g_(K) <= gamma < g_(K+1)`` the conditional mean is the mean of the ``K`` smallest,
    ``m_K``, so ``gamma = 2 m_K`` is the solution when it falls in that interval. The
    function ``gamma - 2 E[g | g <= gamma]`` is negative below the solution and
    non-negative above it, so the first such ``K`` is taken.
    """
    e = np.asarray(pscore, dtype=float)
    if e.ndim != 1 or not np.all((e > 0) & (e < 1)):
        raise InputError("pscore must be a 1-D array of probabilities strictly between 0 and 1")
    w = np.ones_like(e) if weights is None else np.asarray(weights, dtype=float)
    if w.shape != e.shape or np.any(w < 0) or not np.all(np.isfinite(w)) or w.sum() <= 0:
        raise InputError("weights must be non-negative, finite, one per score, with a positive sum")
    g = 1.0 / (e * (1 - e))
    if g.max() <= 2 * np.average(g, weights=w):
        return 0.0
    o = np.argsort(g, kind="stable")
    gs, ws = g[o], w[o]
    cw = np.cumsum(ws)
    with np.errstate(invalid="ignore", divide="ignore"):
        m = np.cumsum(ws * gs) / cw
    cand = 2 * m
    upper = np.append(gs[1:], np.inf)
    ok = (cw > 0) & (gs <= cand) & (cand < upper)
    gamma = cand[np.flatnonzero(ok)[0]]
    return float(0.5 - np.sqrt(0.25 - 1.0 / gamma))


def trim_mask(pscore, trim, weights=None) -> tuple[np.ndarray, float]:
    """``(keep, alpha)`` for ``trim`` = a threshold in [0, 0.5) or ``"crump"``."""
    e = np.asarray(pscore, dtype=float)
    if isinstance(trim, str):
        if trim.lower() != "crump":
            raise InputError(f"trim={trim!r}: give a threshold alpha in [0, 0.5) or 'crump'")
        alpha = crump_trimming(e, weights)
    else:
        alpha = float(trim)
        if not 0 <= alpha < 0.5:
            raise InputError(f"trim={trim!r}: the threshold must be in [0, 0.5)")
    return (e >= alpha) & (e <= 1 - alpha), alpha


def matched_pair_differences(result, outcome=None) -> np.ndarray:
    """``y_treated - y_control`` for every pair of a 1:1 matching without replacement.

    ``result`` is a :class:`~remitpov.econometrics.MatchingResults` (its outcome is used
    unless ``outcome`` gives another array aligned with the input rows).
    """
    pairs = getattr(result, "pairs", None)
    if pairs is None or "treated" not in pairs or pairs["treated"].duplicated().any() \
            or pairs["control"].duplicated().any():
        raise InputError("Rosenbaum bounds need 1:1 matched pairs without replacement (fit(k=1, replace=False))")
    y = result.extra.get("outcome") if outcome is None else np.asarray(outcome, dtype=float)
    if y is None:
        raise InputError("the matching result carries no outcome; pass outcome=")
    return y[pairs["treated"].to_numpy()] - y[pairs["control"].to_numpy()]


def _signed_ranks(d):
    d = np.asarray(d, dtype=float)
    if d.ndim != 1 or not np.all(np.isfinite(d)):
        raise InputError("pair differences must be a 1-D array of finite numbers")
    d = d[d != 0]
    if d.size == 0:
        raise InputError("all pair differences are zero: nothing to test")
    r = stats.rankdata(np.abs(d), method="average")
    return r, d > 0


def _exact_upper_tail(ranks, T, p):
    """P(sum_i ranks_i B_i >= T), B_i ~ Bernoulli(p) independent (ranks are multiples of 1/2)."""
    r2 = np.rint(2 * ranks).astype(np.int64)
    dist = np.zeros(r2.sum() + 1)
    dist[0] = 1.0
    top = 0
    for r in r2:  # convolution, one step per pair (the distribution has no closed form)
        new = dist * (1 - p)
        new[r:top + r + 1] += p * dist[:top + 1]
        dist, top = new, top + r
    return float(dist[int(np.rint(2 * T)):].sum())


def rosenbaum_bounds(differences, gammas=(1, 1.5, 2, 2.5, 3), *, method: str = "normal") -> pd.DataFrame:
    """Bounds on the one-sided p-value of the Wilcoxon signed-rank test under hidden bias.

    Parameters
    ----------
    differences : array or MatchingResults
        Treated-minus-control outcome differences of matched pairs, or a 1:1 matching
        result without replacement (see :func:`matched_pair_differences`).
    gammas : sequence of float >= 1
        Sensitivity parameters (Gamma = 1: no hidden bias, the usual test).
    method : {"normal", "exact"}
        Normal approximation (Rosenbaum 2002, eq. 4.12; rbounds) or the exact
        distribution of the bounding statistics.

    Returns
    -------
    DataFrame indexed by ``gamma`` with ``p_lower`` and ``p_upper`` (one-sided, treatment
    raises the outcome); ``attrs`` holds ``T`` (the statistic), ``n_pairs`` (after dropping
    zero differences) and ``n_zero``.
    """
    if not isinstance(differences, (np.ndarray, list, tuple, pd.Series)):
        differences = matched_pair_differences(differences)
    d_all = np.asarray(differences, dtype=float)
    ranks, pos = _signed_ranks(d_all)
    T = float(ranks[pos].sum())
    g = np.atleast_1d(np.asarray(gammas, dtype=float))
    if np.any(~np.isfinite(g)) or np.any(g < 1):
        raise InputError("gammas must be finite and >= 1")
    if method not in ("normal", "exact"):
        raise InputError(f"method={method!r}: use 'normal' or 'exact'")
    out = {}
    for name, p in (("p_lower", 1 / (1 + g)), ("p_upper", g / (1 + g))):
        if method == "normal":
            z = (T - p * ranks.sum()) / np.sqrt(p * (1 - p) * np.sum(ranks**2))
            out[name] = stats.norm.sf(z)
        else:
            out[name] = np.array([_exact_upper_tail(ranks, T, pi) for pi in p])
    res = pd.DataFrame(out, index=pd.Index(g, name="gamma"))
    res.attrs.update(T=T, n_pairs=int(ranks.size), n_zero=int(np.sum(d_all == 0)), method=method)
    return res


def sensitivity_gamma(differences, alpha: float = 0.05, *, method: str = "normal", gamma_max: float = 100.0) -> float:
    """Smallest Gamma at which the upper-bound p-value reaches ``alpha`` (the study's
    "sensitivity value"); ``1.0`` if the test is not significant without hidden bias and
    ``inf`` if it stays significant up to ``gamma_max``."""
    def f(gm):
        return float(rosenbaum_bounds(differences, [gm], method=method)["p_upper"].iloc[0]) - alpha

    if f(1.0) >= 0:
        return 1.0
    if f(gamma_max) < 0:
        return float("inf")
    return float(optimize.brentq(f, 1.0, gamma_max, xtol=1e-10))


# ----------------------------------------------------------------------------- poverty dominance
@dataclass(frozen=True)
class DominanceTest:
    """Result of :func:`poverty_dominance`.

    ``table``: one row per line with ``line``, the two FGT(order-1) curves, their
    ``difference`` (first minus second), its design ``se`` and ``t``. ``conclusion`` is
    ``"<first> dominates <second>"`` (less poverty at every line of the grid, every
    ``t < -critical``), the reverse, ``"curves cross"`` (significant differences of both
    signs) or ``"no ranking"``; ``critical`` the one-sided critical value (t with the
    design degrees of freedom) at ``significance``.
    """

    table: pd.DataFrame = field(repr=False)
    first: str
    second: str
    order: int
    significance: float
    critical: float
    conclusion: str

    @property
    def min_t(self) -> float:
        return float(np.nanmin(self.table["t"]))

    @property
    def max_t(self) -> float:
        return float(np.nanmax(self.table["t"]))

    def summary(self) -> str:
        return (f"Poverty dominance of order {self.order} over lines [{self.table['line'].min():g}, "
                f"{self.table['line'].max():g}] ({len(self.table)} lines): {self.conclusion} "
                f"(t from {self.min_t:.3f} to {self.max_t:.3f}; one-sided critical value {self.critical:.3f} "
                f"at {self.significance:g}; intersection-union test)")


def poverty_dominance(survey, incomes: Mapping[str, Any], lines, *, order: int = 1, level: str = "person",
                      strict: bool = True, na_rm: bool = False, significance: float = 0.05) -> DominanceTest:
    """Design-based poverty-dominance test between two incomes of the same survey.

    Dominance of order ``s`` of distribution A over B on ``[z_min, z_max]`` means
    ``D_A^s(z) <= D_B^s(z)`` at every line, with ``D^s(z) = int_0^z (z - y)^(s-1) dF(y) /
    (s-1)!`` (Davidson and Duclos 2000) ``= z^(s-1) FGT_(s-1)(z) / (s-1)!``; the positive
    factor does not change signs or t-statistics, so the FGT curves of order ``s - 1``
    (headcount, gap, severity) are compared. Both incomes are measured on the same units,
    so their covariance enters the SE of the difference (linearised through the design by
    :func:`remitpov.poverty.poverty_curve`, lines fixed).

    Decision (intersection-union principle, Kaur, Prakasa Rao and Singh 1994; Davidson and
    Duclos 2013): A dominates B at level ``significance`` if ``t(z) < -c`` at every line of
    the grid, ``c`` the one-sided critical value; this has asymptotic size at most
    ``significance`` for the null of non-dominance. Dominance cannot be established where
    the curves are 0 (lines below both minima): choose a grid inside the support (the
    grid's points with ``se = 0`` give ``t = NaN`` and prevent a dominance conclusion).

    Parameters
    ----------
    survey : Survey
    incomes : mapping ``{label: income}`` with exactly two entries
        e.g. ``{"with": "y_with", "without": "y_without"}`` (column names or arrays).
    lines : array_like
        Grid of poverty lines (positive).
    order : {1, 2, 3}
    level, strict, na_rm
        As in :func:`remitpov.poverty.fgt`.
    significance : float

    Returns
    -------
    DominanceTest
    """
    from .poverty import poverty_curve

    if not isinstance(incomes, Mapping) or len(incomes) != 2:
        raise InputError("incomes must be a mapping of exactly two {label: income}, e.g. "
                         "{'with': 'y_with', 'without': 'y_without'}")
    if order not in (1, 2, 3):
        raise InputError(f"order={order!r}: use 1 (headcount curves), 2 (poverty gap) or 3 (severity)")
    if not 0 < significance < 0.5:
        raise InputError(f"significance={significance!r} must be in (0, 0.5)")
    first, second = (str(k) for k in incomes)
    cur = poverty_curve(survey, dict(incomes), lines, alpha=order - 1, level=level, strict=strict, na_rm=na_rm,
                        ci_level=1 - 2 * significance, difference=True)
    by_c = {c: g.reset_index(drop=True) for c, g in cur.groupby("concept", sort=False)}
    diff = by_c[f"{first} - {second}"]
    with np.errstate(invalid="ignore", divide="ignore"):
        t = np.where(diff["se"] > 0, diff["estimate"] / diff["se"], np.nan)
        crit = (diff["estimate"] - diff["ci_lower"]) / diff["se"]
    crit = float(np.nanmax(crit)) if np.isfinite(crit).any() else float(stats.norm.isf(significance))
    table = pd.DataFrame({"line": diff["line"], first: by_c[first]["estimate"], second: by_c[second]["estimate"],
                          "difference": diff["estimate"], "se": diff["se"], "t": t})
    table.attrs["measure"] = f"FGT{order - 1}"
    if np.all(t < -crit):
        concl = f"{first} dominates {second}"
    elif np.all(t > crit):
        concl = f"{second} dominates {first}"
    elif np.any(t < -crit) and np.any(t > crit):
        concl = "curves cross"
    else:
        concl = "no ranking"
    return DominanceTest(table=table, first=first, second=second, order=order, significance=significance,
                         critical=crit, conclusion=concl)


# ----------------------------------------------------------------------------- growth / redistribution
@dataclass(frozen=True)
class GrowthRedistribution:
    """Result of :func:`growth_redistribution`.

    ``P1``, ``P2``: poverty of the first and second distribution; ``growth``,
    ``redistribution`` and ``residual`` (0 for Shapley) sum to ``P2 - P1``;
    ``counterfactuals`` holds ``P(mu_a, L_b)`` for a, b in {1, 2}; ``se`` the design SEs
    of ``change``, ``growth``, ``redistribution``, ``residual`` and the four indices.
    """

    first: str
    second: str
    measure: str
    line: float
    method: str
    P1: float
    P2: float
    growth: float
    redistribution: float
    residual: float
    mean1: float
    mean2: float
    counterfactuals: Mapping[str, float] = field(repr=False)
    se: Mapping[str, float] = field(default_factory=dict, repr=False)

    @property
    def change(self) -> float:
        return self.P2 - self.P1

    def to_frame(self) -> pd.DataFrame:
        """``estimate`` and ``se`` of P1, P2, change, growth, redistribution, residual."""
        est = {"P1": self.P1, "P2": self.P2, "change": self.change, "growth": self.growth,
               "redistribution": self.redistribution, "residual": self.residual}
        return pd.DataFrame({"estimate": est, "se": {k: self.se.get(k, np.nan) for k in est}})

    def to_series(self) -> pd.Series:
        return self.to_frame()["estimate"]


def growth_redistribution(survey, incomes: Mapping[str, Any], line: float, alpha: float = 0, *,
                          method: str = "shapley", level: str = "person", strict: bool = True,
                          na_rm: bool = False) -> GrowthRedistribution:
    """Decompose a poverty difference into mean (growth) and distribution components.

    With ``P(mu, L)`` the FGT index of a distribution with mean ``mu`` and Lorenz curve
    ``L`` (distribution b rescaled to mean a: ``y_b mu_a / mu_b``, so ``P(mu_a, L_b)`` is the
    FGT of ``y_b`` at the line ``z mu_b / mu_a``), and 1, 2 the first and second income of
    ``incomes`` (e.g. without and with remittances):

    * Datt and Ravallion (1992), reference period 1: growth ``P(mu2, L1) - P(mu1, L1)``,
      redistribution ``P(mu1, L2) - P(mu1, L1)``, residual the rest;
    * Shapley (Shorrocks 2013; Kolenikov and Shorrocks 2005): growth the average of the two
      mean changes ``[P(mu2, L1) - P(mu1, L1) + P(mu2, L2) - P(mu1, L2)] / 2``,
      redistribution likewise, no residual.

    Means are the weighted means at ``level`` (:func:`remitpov.mean`); the FGT indices come
    from :func:`remitpov.poverty.fgt` with the same weights. Both means must be positive.

    Standard errors (design-based, both incomes on the same units): each index is
    linearised with its line ``z mu_b / mu_a`` as a function of the two estimated means,
    ``Z(P_ab) = (g(y_b; z_ab) - P_ab)/N + P'(z_ab) z_ab (Z(mu_b)/mu_b - Z(mu_a)/mu_a)``, with
    ``P'(z) = (alpha/z)(P_(alpha-1)(z) - P_alpha(z))`` for ``alpha >= 1`` and the kernel
    density of ``y_b`` at ``z_ab`` for ``alpha = 0`` (as for relative lines,
    :func:`remitpov.poverty.kernel_density`); the design's variance formula (PSUs, strata,
    fpc) applies to these influence values. On a replicate-weight design every replicate
    recomputes the means, the lines and the indices.

    Parameters
    ----------
    survey : Survey
    incomes : mapping with two entries ``{label: income}`` (first -> second)
    line : float
    alpha : float
        FGT parameter.
    method : {"shapley", "datt_ravallion"}
    alpha : float
        0, or >= 1 (the SE formula needs the FGT of order alpha - 1).
    """
    from .estimation import mean
    from .poverty import fgt

    if not isinstance(incomes, Mapping) or len(incomes) != 2:
        raise InputError("incomes must be a mapping of exactly two {label: income} (first -> second)")
    if method not in ("shapley", "datt_ravallion"):
        raise InputError(f"method={method!r}: use 'shapley' or 'datt_ravallion'")
    z = float(line)
    if not np.isfinite(z) or z <= 0:
        raise InputError(f"line={line!r} must be a positive number")
    if not (alpha == 0 or alpha >= 1):
        raise InputError(f"alpha={alpha!r}: use 0 or a value >= 1")
    (l1, y1), (l2, y2) = incomes.items()
    y1 = pd.to_numeric(pd.Series(survey.column(y1)), errors="coerce").to_numpy(float)
    y2 = pd.to_numeric(pd.Series(survey.column(y2)), errors="coerce").to_numpy(float)
    miss = ~(np.isfinite(y1) & np.isfinite(y2))
    if miss.any():
        if not na_rm:
            from .exceptions import describe_rows
            raise InputError(f"incomes {l1!r}/{l2!r} are missing in {describe_rows(miss)}; pass na_rm=True to leave "
                             "those rows out of both distributions")
        y1, y2 = np.where(miss, np.nan, y1), np.where(miss, np.nan, y2)
    mu = []
    for lab, y in ((l1, y1), (l2, y2)):
        m = float(mean(survey, y, level=level, na_rm=na_rm).estimates[0])
        if not m > 0:
            raise InputError(f"the mean of income {lab!r} is {m:g}; the decomposition needs positive means")
        mu.append(m)
    mu1, mu2 = mu

    def P(y, zz):
        return float(fgt(survey, y, zz, alpha=alpha, level=level, strict=strict, na_rm=na_rm,
                         headcount_total=False).estimates[0])

    P11, P22 = P(y1, z), P(y2, z)
    P21 = P(y1, z * mu1 / mu2)  # mean 2, Lorenz 1
    P12 = P(y2, z * mu2 / mu1)  # mean 1, Lorenz 2
    # rows of C: change, growth, redistribution, residual as combinations of (P11, P22, P21, P12)
    if method == "datt_ravallion":
        C = np.array([[-1, 1, 0, 0], [-1, 0, 1, 0], [-1, 0, 0, 1], [1, 1, -1, -1]], dtype=float)
    else:
        C = np.array([[-1, 1, 0, 0], [-1, 1, 1, -1], [-1, 1, -1, 1], [0, 0, 0, 0]], dtype=float)
        C[1:3] *= 0.5
    theta = np.array([P11, P22, P21, P12])
    g, r = C[1] @ theta, C[2] @ theta
    V = _decomposition_vcov(survey.design(level), y1, y2, z, alpha, strict, theta, mu1, mu2)
    Vc = C @ V @ C.T
    se = dict(zip(["change", "growth", "redistribution", "residual"], np.sqrt(np.clip(np.diag(Vc), 0, None))))
    se.update(zip(["P1", "P2", "P(mu2,L1)", "P(mu1,L2)"], np.sqrt(np.clip(np.diag(V), 0, None))))
    return GrowthRedistribution(first=str(l1), second=str(l2), measure=f"FGT{alpha:g}", line=z, method=method,
                                P1=P11, P2=P22, growth=g, redistribution=r, residual=(P22 - P11) - g - r,
                                mean1=mu1, mean2=mu2,
                                counterfactuals={"P(mu1,L1)": P11, "P(mu2,L2)": P22, "P(mu2,L1)": P21,
                                                 "P(mu1,L2)": P12}, se=se)


def _fgt_values(y, z, alpha, strict):
    """FGT kernel ``1[y < z] ((z - y)/z)^alpha`` (``<=`` when not strict); z broadcasts."""
    poor = (y < z) if strict else (y <= z)
    if alpha == 0:
        return poor.astype(float)
    return np.where(poor, np.abs(z - y) / z, 0.0) ** alpha * poor


def _decomposition_vcov(design, y1, y2, z, alpha, strict, theta, mu1, mu2):
    """Covariance of (P(mu1,L1), P(mu2,L2), P(mu2,L1), P(mu1,L2)) (see growth_redistribution)."""
    from .poverty import kernel_density

    ok = np.isfinite(y1) & np.isfinite(y2)
    a1, a2 = np.where(ok, y1, 0.0), np.where(ok, y2, 0.0)
    if design.replicates is not None:
        def rep_est(W):
            W = W * ok[:, None]
            N = W.sum(axis=0)
            m1, m2 = (W * a1[:, None]).sum(axis=0) / N, (W * a2[:, None]).sum(axis=0) / N
            cols = [(a1, z), (a2, z), (a1, z * m1 / m2), (a2, z * m2 / m1)]
            return np.column_stack([(W * _fgt_values(y[:, None], zz, alpha, strict)).sum(axis=0) / N
                                    for y, zz in cols])
        return design.vcov(theta, replicate=rep_est)
    w = design.weights * ok
    N = w.sum()
    Zm1, Zm2 = ok * (a1 - mu1) / N, ok * (a2 - mu2) / N
    Z = []
    for (y, zz, Za, ma, Zb, mb), P in zip([(a1, z, None, None, None, None), (a2, z, None, None, None, None),
                                           (a1, z * mu1 / mu2, Zm2, mu2, Zm1, mu1),
                                           (a2, z * mu2 / mu1, Zm1, mu1, Zm2, mu2)], theta):
        zi = ok * (_fgt_values(y, zz, alpha, strict) - P) / N
        if Za is not None:  # line z mu_b / mu_a moves with both means
            if alpha == 0:
                dP = kernel_density(y[ok], w[ok], zz)
            else:
                Pm1 = np.sum(w * ok * _fgt_values(y, zz, alpha - 1, strict)) / N
                dP = alpha / zz * (Pm1 - P)
            zi = zi + dP * zz * (Zb / mb - Za / ma)
        Z.append(zi)
    return design.vcov(theta, np.column_stack(Z))
