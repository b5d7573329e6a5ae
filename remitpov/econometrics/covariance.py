"""One registry of covariance estimators for linear models (OLS/WLS, 2SLS, panel).

Every linear model in :mod:`remitpov.econometrics` takes ``fit(cov_type=..., **cov_config)``
with ``cov_type`` one of the names below (one spelling per type, case-insensitive), looked
up in :data:`COV_TYPES`. Old spellings still work for one release with a
``FutureWarning`` naming the new one (:data:`DEPRECATED`, and each model's own old
spellings, e.g. Heckman's ``"robust"``).

Formulas
--------
For a linear estimator ``b = (X'WX)^-1 X'W y`` (OLS/WLS; for 2SLS ``X`` is replaced by the
first-stage fitted regressors ``Xhat`` everywhere below and the residuals are
``e = y - X b`` with the ORIGINAL regressors), with ``W = diag(w)``, ``n`` observations,
``k`` coefficients, ``G`` clusters and the bread ``A = (X'WX)^-1``::

    unadjusted  s^2 A,                s^2 = sum w e^2 / (n - k)
    HC0         A [sum w^2 e^2 x x'] A
    HC1         HC0 * n / (n - k)                                   (Stata ``robust``)
    HC2         A [sum w^2 e^2 x x' / (1 - h)] A,   h_i = w_i x_i' A x_i (leverage)
    HC3         A [sum w^2 e^2 x x' / (1 - h)^2] A
    CR0         A [sum_g u_g u_g'] A,  u_g = sum_{i in g} w_i x_i e_i
    CR1         CR0 * G/(G-1) * (n-1)/(n-k)                        (Stata ``vce(cluster)``)
    CR2         A [sum_g X_g' W_g B_g e_g e_g' B_g W_g X_g] A,   B_g = [(I - H)(I - H)']_gg^(-1/2)
                with H = X A X'W (Bell & McCaffrey 2002; Pustejovsky & Tipton 2018 with a
                homoskedastic working model). Unweighted, B_g = (I - X_g A X_g')^(-1/2).
                One n_g x n_g eigendecomposition per cluster: O(sum n_g^3) time.

These are the definitions of R ``estimatr::lm_robust`` / ``iv_robust`` (se_type
``"classical"``, ``"HC0"`` ... ``"HC3"``, ``"CR0"``, ``"stata"``, ``"CR2"``) and of
``sandwich::vcovHC``, and for weighted CR2 of ``clubSandwich::vcovCR(type="CR2",
inverse_var=FALSE)``, which estimatr follows; the tests check them to 1e-8 against estimatr. For 2SLS estimatr
takes the leverages and the CR2 adjustment from ``Xhat``, as here.

Survey designs: ``cov_type="design"`` (with ``design=``, outside the registry of model-based
types) hands the influence values of the same estimators to the survey variance engine
(strata, PSUs, fpc), as R ``survey::svyglm``/``svyivreg``; see :func:`design_vcov`.

Non-linear (M-)estimators
-------------------------
The Heckman model (two-step and ML), the multinomial selection model and matching estimators
take the same names for the sandwich of their per-observation influence values ``z_i``
(``theta_hat - theta ~ sum_i w_i z_i``; for two-step estimators the stacked first- and
second-stage estimating equations, Murphy--Topel), with Stata's factors for such models::

    HC0   sum (w_i z_i)(w_i z_i)'
    HC1   HC0 * n/(n-1)                        (Stata vce(robust) after heckman, mlogit)
    CR0   sum_g u_g u_g',  u_g = sum_{i in g} w_i z_i
    CR1   CR0 * G/(G-1)                        (Stata vce(cluster) after heckman, mlogit)

and ``"design"`` for the survey variance engine. Matching on a weighted regression takes
``se="HC3"`` / ``"CR1"`` (clustered by matched set), as MatchIt's ``sandwich`` SEs.

Reference distributions (as estimatr): t with ``n - k`` degrees of freedom for the
unclustered types, ``G - 1`` for CR0/CR1, and for CR2 the Bell--McCaffrey
(Satterthwaite) degrees of freedom of each coefficient (:func:`cr2_dof`).
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..exceptions import EstimationError, InputError, describe_rows

__all__ = ["CovType", "COV_TYPES", "DEPRECATED", "resolve_cov_type", "linear_vcov", "design_vcov", "cluster_codes",
           "cr2_dof", "design_df", "wald_f"]


@dataclass(frozen=True)
class CovType:
    """One covariance estimator of the registry.

    Attributes
    ----------
    name : str
        The one spelling accepted by ``fit(cov_type=...)``.
    clustered : bool
        Needs cluster labels.
    description : str
        What it is, in one line (shown in summaries).
    r_equivalent : str
        The same estimator in R.
    """

    name: str
    clustered: bool
    description: str
    r_equivalent: str


COV_TYPES: dict[str, CovType] = {c.name: c for c in (
    CovType("unadjusted", False, "classical (homoskedastic)", 'estimatr se_type="classical"; lm/ivreg vcov'),
    CovType("HC0", False, "heteroskedasticity-robust HC0 (White)", 'estimatr "HC0"; sandwich::vcovHC(type="HC0")'),
    CovType("HC1", False, "heteroskedasticity-robust HC1 (n/(n-k), Stata robust)", 'estimatr "HC1"/"stata"'),
    CovType("HC2", False, "heteroskedasticity-robust HC2 (leverage-adjusted)", 'estimatr "HC2" (its default)'),
    CovType("HC3", False, "heteroskedasticity-robust HC3 (jackknife-like)", 'estimatr "HC3"'),
    CovType("CR0", True, "cluster-robust CR0 (no small-sample factor)", 'estimatr "CR0"'),
    CovType("CR1", True, "cluster-robust CR1 (G/(G-1) (n-1)/(n-k), Stata)", 'estimatr "stata"'),
    CovType("CR2", True, "cluster-robust CR2 (Bell-McCaffrey)", 'estimatr "CR2" (its default with clusters)'),
)}
_LOWER = {k.lower(): k for k in COV_TYPES}

#: old spelling -> (canonical name without ``debiased``, with ``debiased=True``)
DEPRECATED: dict[str, tuple[str, str]] = {
    "robust": ("HC0", "HC1"), "heteroskedastic": ("HC0", "HC1"),
    "clustered": ("CR0", "CR1"), "cluster": ("CR0", "CR1"),
    "homoskedastic": ("unadjusted", "unadjusted"), "classical": ("unadjusted", "unadjusted"),
}


def resolve_cov_type(cov_type: str, *, debiased: bool = False, allowed=None, extra=(), legacy=None,
                     stacklevel: int = 3, param: str = "cov_type") -> str:
    """The registry name for ``cov_type``.

    Parameters
    ----------
    cov_type : str
        A registry name (any case) or an old spelling from :data:`DEPRECATED`, which maps
        to ``HC0``/``CR0`` (``debiased=False``) or ``HC1``/``CR1`` (``debiased=True``) with
        a ``FutureWarning`` naming the new spelling.
    allowed : iterable of str, optional
        The registry names the calling model supports (default: all).
    extra : iterable of str
        Model-specific names outside the registry (e.g. ``"kernel"`` for IV HAC).
    legacy : mapping, optional
        The calling model's own old spellings -> registry name (lower case keys), taking
        precedence over :data:`DEPRECATED` (e.g. Heckman's ``"robust"`` was ``"HC1"``);
        accepted with a ``FutureWarning`` for one release.
    param : str
        The argument's name in messages (``"se"`` for matching).

    Raises
    ------
    InputError
        For an unknown or unsupported name, listing the accepted ones.
    """
    if not isinstance(cov_type, str):
        raise InputError(f"{param} must be a string, got {type(cov_type).__name__}")
    allowed = tuple(COV_TYPES) if allowed is None else tuple(allowed)
    key = cov_type.strip()
    if key in extra:
        return key
    legacy = {} if legacy is None else dict(legacy)
    if key.lower() in _LOWER:
        name = _LOWER[key.lower()]
    elif key.lower() in legacy or key.lower() in DEPRECATED:
        name = legacy[key.lower()] if key.lower() in legacy else DEPRECATED[key.lower()][bool(debiased)]
        warnings.warn(f"{param}={cov_type!r} is deprecated and will be removed in the next release; "
                      f"write {param}={name!r} (the same estimator)", FutureWarning, stacklevel=stacklevel)
    else:
        raise InputError(f"{param}={cov_type!r} is not a covariance type; use one of {allowed + tuple(extra)}")
    if name not in allowed:
        raise InputError(f"{param}={name!r} is not available for this model; use one of {allowed + tuple(extra)}")
    return name


def cluster_codes(clusters, n: int, ids=None) -> np.ndarray:
    """Integer codes 0..G-1 of cluster labels (one per row; missing labels raise)."""
    c = pd.Series(np.asarray(clusters).ravel() if not isinstance(clusters, pd.Series) else clusters.to_numpy())
    if len(c) != n:
        raise InputError(f"clusters have {len(c)} values for {n} rows; pass one label per row")
    if c.isna().any():
        raise InputError(f"cluster labels are missing in {describe_rows(c.isna().to_numpy(), ids)}; "
                         "give every row a cluster or drop those rows")
    return pd.factorize(c, sort=True)[0]


def _group_sums(codes: np.ndarray, S: np.ndarray) -> np.ndarray:
    G = int(codes.max()) + 1
    out = np.zeros((G, S.shape[1]))
    np.add.at(out, codes, S)
    return out


def _inv_sqrt_psd(M: np.ndarray) -> np.ndarray:
    """Symmetric inverse square root (Moore-Penrose on a null eigenvalue, as estimatr/clubSandwich)."""
    val, vec = np.linalg.eigh(M)
    tol = np.finfo(float).eps * max(M.shape) * max(val.max(), 1.0) * 10
    inv = np.where(val > tol, 1.0 / np.sqrt(np.where(val > tol, val, 1.0)), 0.0)
    return (vec * inv) @ vec.T


#: largest cluster (rows) for CR2, whose cost is one n_g x n_g eigendecomposition per cluster
CR2_MAX_CLUSTER = 5000


def _cr2_adjustments(X, w, clusters, A):
    """Per cluster: the row indices and the CR2 adjustment ``B_g = [(I - H)(I - H)']_gg^(-1/2)``."""
    sizes = np.bincount(clusters)
    if sizes.max() > CR2_MAX_CLUSTER:
        raise EstimationError(f"CR2 needs an n_g x n_g matrix per cluster and cluster {int(sizes.argmax())} (in "
                              f"sorted label order) has {int(sizes.max()):,} rows (limit {CR2_MAX_CLUSTER:,}); use "
                              "cov_type='CR1' (Stata) or 'CR0'")
    Q = A @ ((X * (w**2)[:, None]).T @ X) @ A
    order = np.argsort(clusters, kind="stable")
    out = []
    for idx in np.split(order, np.flatnonzero(np.diff(clusters[order])) + 1):  # one small matrix per cluster
        Xg, wg = X[idx], w[idx]
        XAX = Xg @ A @ Xg.T
        out.append((idx, _inv_sqrt_psd(np.eye(idx.size) - XAX * wg[None, :] - wg[:, None] * XAX + Xg @ Q @ Xg.T)))
    return out


def cr2_dof(X: np.ndarray, w: np.ndarray | None, clusters: np.ndarray) -> np.ndarray:
    """Bell--McCaffrey (Satterthwaite) degrees of freedom of each coefficient's CR2 t test.

    Under the working model of CR2 (``e = (I - H) eps``, ``eps`` iid), the CR2 variance of
    ``l'b`` is ``eps' G G' eps`` with one column per cluster ``g_s = (I - H)_{s.}' B_s W_s X_s A l``;
    its Satterthwaite degrees of freedom are ``tr(G'G)^2 / tr((G'G)^2)`` (Bell & McCaffrey
    2002; Imbens & Kolesar 2016), R ``estimatr``'s ``df`` for ``se_type="CR2"``. ``G'G`` is
    built from k-vectors per cluster without forming the n x n hat matrix.
    """
    n, k = X.shape
    w = np.ones(n) if w is None else np.asarray(w, dtype=float)
    A = np.linalg.inv((X * w[:, None]).T @ X)
    Q2 = (X * (w**2)[:, None]).T @ X
    adj = _cr2_adjustments(X, w, clusters, A)
    S = len(adj)
    bb, C, D = np.empty((S, k)), np.empty((S, k, k)), np.empty((S, k, k))
    for s, (idx, B) in enumerate(adj):  # per cluster, all coefficients at once (columns = l)
        Xg, wg = X[idx], w[idx]
        b = B @ ((Xg * wg[:, None]) @ A)
        bb[s] = (b**2).sum(axis=0)
        C[s] = A @ (Xg.T @ b)
        D[s] = (Xg * wg[:, None]).T @ b
    out = np.empty(k)
    for j in range(k):  # one S x S matrix per coefficient
        Cj, Dj = C[:, :, j], D[:, :, j]
        GtG = np.diag(bb[:, j]) - Dj @ Cj.T - Cj @ Dj.T + Cj @ Q2 @ Cj.T
        out[j] = np.trace(GtG) ** 2 / np.sum(GtG**2)
    return out


def linear_vcov(X: np.ndarray, e: np.ndarray, w: np.ndarray | None, cov_type: str, clusters=None) -> np.ndarray:
    """Covariance of a (weighted) linear estimator under ``cov_type`` (see the module docstring).

    Parameters
    ----------
    X : (n, k) array
        Regressors (the first-stage fitted regressors ``Xhat`` for 2SLS).
    e : (n,) array
        Residuals (``y - X b`` with the original regressors for 2SLS).
    w : (n,) array or None
        Regression weights.
    cov_type : str
        A registry name (already resolved).
    clusters : (n,) integer codes, optional
        Required for the CR types (see :func:`cluster_codes`).
    """
    n, k = X.shape
    w = np.ones(n) if w is None else np.asarray(w, dtype=float)
    A = np.linalg.inv((X * w[:, None]).T @ X)
    if cov_type == "unadjusted":
        return float(w @ e**2) / (n - k) * A
    if COV_TYPES[cov_type].clustered:
        if clusters is None:
            raise InputError(f"cov_type={cov_type!r} needs clusters")
        G = int(clusters.max()) + 1
        if G < 2:
            raise EstimationError("a cluster-robust covariance needs at least 2 clusters")
        if cov_type == "CR2":
            U = np.empty((G, k))
            for g, (idx, B) in enumerate(_cr2_adjustments(X, w, clusters, A)):
                U[g] = (X[idx] * w[idx, None]).T @ (B @ e[idx])
        else:
            U = _group_sums(clusters, X * (w * e)[:, None])
        V = A @ (U.T @ U) @ A
        if cov_type == "CR1":
            V *= G / (G - 1) * (n - 1) / (n - k)
        return V
    u = w * e
    if cov_type in ("HC2", "HC3"):
        h = w * np.einsum("ij,jk,ik->i", X, A, X)
        if np.any(h > 1 - 1e-12):
            raise EstimationError(f"cov_type={cov_type!r}: leverage 1 in {describe_rows(h > 1 - 1e-12)} "
                                  "(an observation fits its own parameter); use HC0/HC1")
        u = u / (np.sqrt(1 - h) if cov_type == "HC2" else 1 - h)
    S = X * u[:, None]
    V = A @ (S.T @ S) @ A
    if cov_type == "HC1":
        V *= n / (n - k)
    return V


def wald_f(b: np.ndarray, V: np.ndarray) -> float:
    """Wald statistic ``b' V^-1 b / q`` (an F statistic for ``q = len(b)`` restrictions)."""
    b = np.asarray(b, dtype=float)
    return float(b @ np.linalg.solve(V, b)) / b.size


def design_vcov(X: np.ndarray, e: np.ndarray, w: np.ndarray | None, design, estimate, rows=None) -> np.ndarray:
    """Design-based (Taylor-linearised) covariance of a (weighted) linear estimator:
    ``cov_type="design"``.

    The influence values ``z_i = A x_i e_i`` (``A = (X'WX)^-1``; ``Xhat`` for 2SLS) are
    handed to the survey variance engine (:meth:`remitpov.design.Design.vcov`: strata,
    PSUs, one- and two-stage fpc, lonely-PSU policy), as R ``survey::svyglm`` and
    ``svyivreg`` do. The regression weights must be the design's weights on the
    estimation rows; rows not used (``rows`` is a boolean mask over the design's rows)
    get zero influence, as a domain (R's ``subset`` of a design).
    """
    if design is None:
        raise InputError("cov_type='design' needs design= (e.g. survey.design('household'))")
    if design.replicates is not None:
        raise InputError("cov_type='design' takes a linearisation design; replicate-weight designs are not "
                         "supported for regressions yet")
    rows = np.ones(design.n, dtype=bool) if rows is None else np.asarray(rows, dtype=bool)
    if rows.size != design.n:
        raise InputError(f"the design has {design.n} rows, the data {rows.size}; build it from the same rows")
    dw = design.weights[rows]
    if w is None or not np.allclose(w, dw, rtol=1e-12, atol=0):
        raise InputError("cov_type='design' needs the regression weights to be the design's weights: pass "
                         "weights= the design's weight column")
    A = np.linalg.inv((X * dw[:, None]).T @ X)
    z = np.zeros((design.n, X.shape[1]))
    z[rows] = (X * e[:, None]) @ A
    return design.vcov(estimate, z)


def design_df(design, rows=None) -> int:
    """Design degrees of freedom of the estimation rows, as R's ``degf`` of the subset design
    that ``svyglm`` fits: PSUs with an estimation row minus their strata (replicate
    designs: the design's own)."""
    if rows is None or design.replicates is not None:
        return int(design.df)
    rows = np.asarray(rows, dtype=bool)
    psu = np.unique(design.psu[rows])
    return int(psu.size - np.unique(design.psu_stratum[psu]).size)
