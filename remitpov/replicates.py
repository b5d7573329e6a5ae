"""Replicate weights built from a design: bootstraps, jackknives, BRR and Fay.

Replicates are stored compactly as one multiplier per PSU and replicate (``factors``,
shape ``(n_psu, R)``; row weights ``w_i * factors[psu_i, r]``), except the two-stage
multistage rescaled bootstrap, whose multipliers vary within a PSU and are stored as full
row weights ``(n, R)``. Draws are vectorised over replicates and PSUs (no Python loop over
rows or replicates; the Canty--Davison draw loops over strata).

The variance is ``scale * sum_r rscales_r (theta_r - c)^2``, ``c`` the mean of the
replicates, or the full-sample estimate with ``mse=True`` (R survey's ``svrVar``).

Conventions (R survey 4.1 ``as.svrepdesign`` names in brackets)
---------------------------------------------------------------
``bootstrap`` / ``subbootstrap`` [``"subbootstrap"``]
    Rao--Wu (1988) rescaled bootstrap with ``m_h = n_h - 1``: in every stratum draw
    ``n_h - 1`` PSUs with replacement; multiplier ``n_h/(n_h - 1) * count``; ``scale =
    1/(R - 1)``, ``rscales = 1``. **The fpc is ignored** (a with-replacement first stage is
    assumed, as R's ``subbootstrap``): with a sampling fraction ``f_h`` the variance
    overstates the fpc-corrected one by about ``1/(1 - f_h)``; use ``canty_davison`` or
    ``mrbbootstrap`` to include the fpc. ``bootstrap`` is remitpov's historical name and
    stays the default; ``subbootstrap`` is the same generator under R's name.
``canty_davison`` [``"bootstrap"``]
    Canty and Davison (1999) bootstrap as R's ``bootweights``: in stratum ``h`` draw
    ``n_h`` PSUs *without* replacement from a pseudo-population of ``N_h`` units made of
    copies of the ``n_h`` sampled PSUs (``floor(N_h/n_h)`` copies each, the remaining
    ``N_h mod n_h`` copies given to randomly chosen PSUs, ``N_h`` truncated to an integer
    as R's ``rep(length=)``); the multiplier is the number of times a PSU was drawn
    (multivariate hypergeometric). Without fpc the draw is with replacement (multinomial).
    ``scale = nbar/((nbar - 1)(R - 1))`` with ``nbar`` the harmonic mean of ``n_h`` over
    strata (R's approximation: exact for equal ``n_h``), ``rscales = 1``. The expected
    variance of a total is the fpc-corrected linearised one times ``N_h/(N_h - 1)``.
``mrbbootstrap`` [``"mrbbootstrap"``]
    Preston's (2009) multistage rescaled bootstrap as R's ``mrbweights``: in stratum ``h``
    keep a simple random sample of ``n*_h = floor(n_h/2)`` PSUs; the stage-1 component is
    ``lambda_h (n_h/n*_h 1[kept] - 1)`` with ``lambda_h = sqrt(n*_h (1 - f_h)/(n_h -
    n*_h))``. With a two-stage fpc (``ssu`` + ``fpc2``) every *kept* PSU ``j`` then keeps
    ``m*_j = floor(m_j/2)`` of its ``m_j`` SSUs, component ``sqrt(n_h/n*_h) lambda_j
    (m_j/m*_j 1[kept] - 1)`` with ``lambda_j = sqrt(f_h m*_j (1 - f2_j)/(m_j - m*_j))``.
    Multiplier ``1 + sum of components``; ``scale = 1``, ``rscales = 1/(R - 1)``. The
    expected replicate variance of a total equals the linearised (``svyrecvar``) variance
    exactly, stage by stage. Without fpc only the first stage is used (``f_h = 0``), as R.
    R 4.1.1 draws the second stage within R's second-stage strata, which for an
    unstratified second stage (e.g. ``ids=~dnum+snum``) pool the SSUs of all kept PSUs and
    use the first row's ``fpc2``; remitpov subsamples SSUs within each PSU (Preston's
    method, unbiased as above).
``jk1``
    Delete-one-PSU jackknife for unstratified designs: ``R = n_psu``, multiplier
    ``n/(n - 1)``, ``scale = (1 - f)(n - 1)/n`` (R's ``jk1weights``: the fpc is folded into
    the scale). With ``f = 1`` the scale is 0.
``jkn``
    Stratified delete-one-PSU jackknife: one replicate per PSU, the rest of its stratum
    multiplied by ``n_h/(n_h - 1)``, ``rscales = (1 - f_h)(n_h - 1)/n_h``, ``scale = 1``
    (R's ``jknweights``). Strata sampled exhaustively (``f_h = 1``) produce no replicate
    (they add no variance), as R. Strata with one PSU follow ``lonely_psu`` as R's
    ``survey.lonely.psu``: ``"certainty"``/``"remove"`` no replicate; ``"average"`` the same
    with ``scale = n_psu / R`` (R applies it whenever there are fewer replicates than
    PSUs); ``"adjust"`` (``"centred"``) one replicate per such stratum with its PSU set to
    0 and every other PSU multiplied by ``H/(H - 1)``, ``rscale = (H - 1)/H``.
``brr`` / ``fay``
    Balanced repeated replication for designs with exactly two PSUs per stratum, from a
    Sylvester--Hadamard matrix of order the smallest power of two > H; Fay's method
    with ``rho`` (multipliers ``2 - rho`` / ``rho``), variance ``1/(R (1 - rho)^2) sum``.
    The fpc is ignored (R drops it with a warning).

For the jackknives and the bootstraps only the first-stage fpc is used, except
``mrbbootstrap`` (R drops later-stage fpcs with a warning for JK1/JKn/bootstrap). The
bootstraps need at least two PSUs in every stratum (collapse strata first); R would give
a single-PSU stratum no variance.

Every set of replicates carries ``degf``, R's design degrees of freedom: the rank of the
replicate weights minus 1 (fewer than ``R - 1`` when there are more replicates than PSUs).
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
from scipy.linalg import hadamard

from .exceptions import DesignError, InputError

#: Uniform draws per block of replicates in the bootstraps (bounds their temporaries).
DRAW_BLOCK = 1 << 18


@dataclass(frozen=True, eq=False)
class Replicates:
    """Replicate weights of a design.

    Either ``factors`` (one multiplier per PSU and replicate, shape ``(n_psu, R)``; the
    row weight of replicate ``r`` is ``w_i * factors[psu_i, r]``) -- the compact form
    used for replicates built from the design -- or ``weights`` (full replicate weights
    supplied by the user, shape ``(n, R)``).

    The variance is ``scale * sum_r rscales_r (theta_r - c)^2`` with ``c`` the full-sample
    estimate if ``mse`` else the mean of the replicates (R survey's ``svrVar``). ``degf``:
    the design degrees of freedom, rank of the replicate weights minus 1 (R's ``degf``),
    fixed when the replicates are made (domains keep it, as R's subsets).
    """

    kind: str
    scale: float
    rscales: np.ndarray
    mse: bool = False
    factors: np.ndarray | None = None
    weights: np.ndarray | None = None
    seed: int | None = None
    rho: float | None = None
    degf: int | None = None

    @property
    def n_replicates(self) -> int:
        return int(len(self.rscales))

    def describe(self) -> str:
        extra = f", seed={self.seed}" if self.seed is not None else ""
        extra += f", rho={self.rho}" if self.rho is not None else ""
        return f"{self.kind} replicates (R={self.n_replicates}{extra}, mse={self.mse})"

#: Replicate types built from the design (``Design.with_replicates``).
KINDS = ("bootstrap", "subbootstrap", "canty_davison", "mrbbootstrap", "jk1", "jkn", "brr", "fay")


def weights_rank(M: np.ndarray) -> int:
    """Rank of a replicate-weight (or multiplier) matrix ``(n, R)``, for R's ``degf``.

    R takes ``qr(weights, tol = 1e-5)$rank``; here the eigenvalues of the Gram matrix of
    the smaller side (``M'M`` or ``M M'``) above ``1e-10`` of the largest (singular values
    above ``1e-5`` of the largest): one BLAS product and a ``min(n, R)``-square
    eigendecomposition instead of a decomposition of ``(n, R)``.
    Both find the exact dependencies of designed replicates (more replicates than PSUs,
    jackknife columns averaging to a constant) and agree otherwise except for nearly
    collinear replicate columns.
    """
    M = np.asarray(M, dtype=float)
    if M.size == 0:
        return 0
    if M.shape[0] > 2 * M.shape[1] and _full_column_rank(M):
        return int(M.shape[1])
    ev = np.linalg.eigvalsh(M.T @ M if M.shape[1] <= M.shape[0] else M @ M.T)
    return int((ev > ev.max() * 1e-10).sum()) if ev.max() > 0 else 0


def _full_column_rank(M: np.ndarray) -> bool:
    """Certify that tall ``M`` (n, R) has rank ``R`` by :func:`weights_rank`'s rule, cheaply.

    For ``2R`` evenly spaced rows ``S``, ``M'M - S'S`` is positive semi-definite, so
    ``lambda_min(M'M) >= lambda_min(S'S)``, and ``lambda_max(M'M) <= ||M||_F^2``. A
    Cholesky factorisation of ``S'S - tau I`` with ``tau = 1e-9 ||M||_F^2`` (ten times the
    rule's ``1e-10``, a margin for rounding) succeeds only if every eigenvalue of ``M'M``
    exceeds ``1e-10`` of the largest: rank ``R``. ``False`` means "not certified" (the
    caller then computes the eigenvalues): an ``R x 2R`` product and an ``R x R``
    Cholesky instead of an ``R x n`` product and an eigendecomposition.
    """
    n, R = M.shape
    rows = M[np.linspace(0, n - 1, 2 * R).astype(np.int64)]
    tau = 1e-9 * float(np.einsum("ij,ij->", M, M))
    G = rows.T @ rows
    G[np.diag_indices(R)] -= tau
    try:
        np.linalg.cholesky(G)
    except np.linalg.LinAlgError:
        return False
    return tau > 0


def _fraction(design) -> np.ndarray:
    """First-stage sampling fraction per stratum (zeros without fpc)."""
    return np.zeros(design.n_strata) if design.fpc1 is None else np.asarray(design.fpc1, dtype=float)


def _subsample(groups: np.ndarray, n_groups: int, take: np.ndarray, R: int, rng) -> np.ndarray:
    """``(R, len(groups))`` bool: in every replicate a simple random sample without
    replacement of ``take[g]`` of the members of each group ``g`` (one argsort of
    ``group + U(0, 1)`` keys ranks the members within their group at random)."""
    m = groups.size
    order = np.argsort(groups[None, :] + rng.random((R, m)), axis=1)
    pos = np.empty_like(order)
    np.put_along_axis(pos, order, np.broadcast_to(np.arange(m), (R, m)), axis=1)
    offset = np.concatenate([[0], np.cumsum(np.bincount(groups, minlength=n_groups))[:-1]])
    return (pos - offset[groups][None, :]) < take[groups][None, :]


def _need_two_psus(n_h: np.ndarray, kind: str) -> None:
    if (n_h < 2).any():
        raise DesignError(f"{kind} replicates need at least 2 PSUs in every stratum; collapse strata")


def _rao_wu(design, n_h, replicates, rng) -> np.ndarray:
    """Rao--Wu multipliers ``(n_psu, R)`` (a column-major view of an ``(R, n_psu)`` array).

    Replicates are drawn in blocks of :data:`DRAW_BLOCK` rows of ``U(0, 1)`` draws: the
    generator's stream is consumed in the same order as one ``(R, n_draws)`` call (the
    multipliers do not depend on the block size), while the temporaries (draws, picks,
    counts) stay a few MiB instead of several ``R x n_draws`` arrays."""
    P, H, ps = design.n_psu, design.n_strata, design.psu_stratum
    order = np.argsort(ps, kind="stable")  # PSUs grouped by stratum
    offset = np.concatenate([[0], np.cumsum(n_h)[:-1]])
    draws_h = np.repeat(np.arange(H), n_h - 1)  # stratum of every draw
    nd = draws_h.size
    size_d = n_h[draws_h].astype(float)  # stratum size of every draw
    base = offset[draws_h]  # first sorted position of every draw's stratum
    mult = (n_h / (n_h - 1))[ps]  # (P,)
    out = np.empty((replicates, P))
    step = max(1, DRAW_BLOCK // max(nd, 1))
    for r0 in range(0, replicates, step):
        r1 = min(r0 + step, replicates)
        u = rng.random((r1 - r0, nd))
        u *= size_d
        pick = u.astype(np.int64)  # floor (u >= 0)
        pick += base
        psu_pick = order[pick]
        psu_pick += (np.arange(r1 - r0) * P)[:, None]
        counts = np.bincount(psu_pick.ravel(), minlength=(r1 - r0) * P).reshape(r1 - r0, P)
        np.multiply(counts, mult, out=out[r0:r1])
    return out.T


def pseudo_population_copies(n: int, f: float, rng) -> np.ndarray:
    """Copies of each of ``n`` sampled PSUs in the Canty--Davison pseudo-population of
    ``N = floor(n/f)`` units (R's ``rep(sample(psu), length = N)``): ``floor(N/n)`` each,
    one more for ``N mod n`` PSUs chosen at random."""
    N = int(np.floor(n / f + 1e-7))  # n/f recovers the integer N up to rounding
    copies = np.full(n, N // n, dtype=np.int64)
    copies[rng.permutation(n)[: N % n]] += 1
    return copies


def _canty_davison(design, n_h, replicates, rng) -> np.ndarray:
    f = _fraction(design)
    ps = design.psu_stratum
    counts = np.empty((design.n_psu, replicates))
    for h in range(design.n_strata):  # one vectorised (R, n_h) draw per stratum
        members = np.flatnonzero(ps == h)
        n = members.size
        if f[h] > 0:
            draw = rng.multivariate_hypergeometric(pseudo_population_copies(n, f[h], rng), n, size=replicates)
        else:
            draw = rng.multinomial(n, np.full(n, 1.0 / n), size=replicates)
        counts[members] = draw.T
    return counts


def _mrb(design, n_h, replicates, rng) -> np.ndarray:
    """Multipliers ``(n_psu, R)`` (one stage) or ``(n, R)`` (two-stage fpc)."""
    ps, H = design.psu_stratum, design.n_strata
    f = _fraction(design)
    nstar = n_h // 2
    with np.errstate(divide="ignore", invalid="ignore"):
        lam = np.where(nstar > 0, np.sqrt(nstar * (1 - f) / (n_h - nstar)), 0.0)
        up = np.where(nstar > 0, n_h / nstar, 0.0)
    keep1 = _subsample(ps, H, nstar, replicates, rng)  # (R, P)
    a1 = lam[ps] * (up[ps] * keep1 - 1.0)  # (R, P)
    if design.fpc1 is None or design.ssu is None:
        return 1.0 + a1.T
    # second stage within every PSU
    ssu = design.ssu
    n_ssu = int(ssu.max()) + 1
    ssu_psu = np.zeros(n_ssu, dtype=np.int64)
    ssu_psu[ssu] = design.psu
    m_j = np.bincount(ssu_psu, minlength=design.n_psu)
    mstar = m_j // 2
    with np.errstate(divide="ignore", invalid="ignore"):
        lam2 = np.where(mstar > 0, np.sqrt(f[ps] * mstar * (1 - design.fpc2) / (m_j - mstar)), 0.0)
        up2 = np.where(mstar > 0, m_j / mstar, 0.0)
    keep2 = _subsample(ssu_psu, design.n_psu, mstar, replicates, rng)  # (R, n_ssu)
    carry = np.sqrt(up[ps])[ssu_psu] * keep1[:, ssu_psu]  # stage-1 rescaling of kept PSUs
    a2 = carry * lam2[ssu_psu] * (up2[ssu_psu] * keep2 - 1.0)  # (R, n_ssu)
    return 1.0 + a1.T[design.psu] + a2.T[ssu]


def build_replicates(design, kind: str = "bootstrap", replicates: int = 500, seed: int | None = 0,
                     *, rho: float = 0.5, mse: bool = False):
    """Replicate weights of ``design`` of type ``kind`` (module docstring).

    Parameters
    ----------
    design : Design
    kind : {"bootstrap", "subbootstrap", "canty_davison", "mrbbootstrap", "jk1", "jkn", "brr", "fay"}
    replicates : int
        Number of bootstrap replicates (ignored by the jackknives, BRR and Fay).
    seed : int or None
        Seed of ``numpy.random.default_rng`` for the bootstraps.
    rho : float
        Fay's coefficient.
    mse : bool
        Centre the replicate variance at the full-sample estimate.

    Returns
    -------
    Replicates
        With ``degf`` = rank of the replicate weights - 1, as R's ``degf`` (for ``jkn``
        the number of replicates minus the strata that have delete-one replicates).
    """
    reps = _build(design, kind.lower(), replicates, seed, rho, mse)
    # closed forms of the rank for the jackknives (no P x P decomposition): JK1's n/(n-1)(J - I)
    # has full rank; in JKn the delete-one columns of each stratum average to the all-ones
    # vector (one dependency per such stratum beyond the first)
    if reps.kind == "jk1":
        degf = reps.n_replicates - 1
    elif reps.kind == "jkn":  # delete-one replicates of strata with >= 2 PSUs (not 'adjust' ones)
        h = design.psu_stratum[np.argmin(reps.factors, axis=0)]
        degf = reps.n_replicates - np.unique(h[np.bincount(design.psu_stratum)[h] > 1]).size
    else:
        degf = weights_rank(reps.factors if reps.factors is not None else reps.weights) - 1
    return replace(reps, degf=degf)


def _build(design, kind, replicates, seed, rho, mse):
    P, H, ps = design.n_psu, design.n_strata, design.psu_stratum
    n_h = np.bincount(ps, minlength=H)
    if kind in ("bootstrap", "subbootstrap", "canty_davison", "mrbbootstrap"):
        if replicates < 2:
            raise InputError(f"{kind} needs at least 2 replicates, got replicates={replicates}")
        _need_two_psus(n_h, kind)
        rng = np.random.default_rng(seed)
        ones = np.ones(replicates)
        if kind == "mrbbootstrap":
            M = _mrb(design, n_h, replicates, rng)
            if M.shape[0] == P:
                return Replicates(kind=kind, scale=1.0, rscales=ones / (replicates - 1), mse=mse, factors=M,
                                  seed=seed)
            return Replicates(kind=kind, scale=1.0, rscales=ones / (replicates - 1), mse=mse,
                              weights=design.weights[:, None] * M, seed=seed)
        if kind == "canty_davison":
            nbar = 1.0 / np.mean(1.0 / n_h)
            return Replicates(kind=kind, scale=nbar / ((nbar - 1) * (replicates - 1)), rscales=ones, mse=mse,
                              factors=_canty_davison(design, n_h, replicates, rng), seed=seed)
        return Replicates(kind=kind, scale=1.0 / (replicates - 1), rscales=ones, mse=mse,
                          factors=_rao_wu(design, n_h, replicates, rng), seed=seed)
    if kind == "jk1":
        if H > 1:
            raise DesignError("jk1 is for unstratified designs; use kind='jkn' for a stratified design")
        factors = np.full((P, P), P / (P - 1))
        np.fill_diagonal(factors, 0.0)
        return Replicates(kind="jk1", scale=(1.0 - _fraction(design)[0]) * (P - 1) / P, rscales=np.ones(P),
                          mse=mse, factors=factors)
    if kind == "jkn":
        f = _fraction(design)
        keep = n_h[ps] > 1  # PSUs whose deletion makes a replicate
        if not keep.all() and design.lonely_psu == "error":
            raise DesignError("a stratum has a single PSU: jackknife needs lonely_psu other than 'error'")
        rep_psu = np.flatnonzero(keep & (f[ps] < 1))  # exhaustively sampled strata add nothing (R)
        adjust = np.flatnonzero((n_h == 1) & (f < 1)) if design.lonely_psu in ("adjust", "centred") and H > 1 \
            else np.empty(0, dtype=np.int64)  # strata whose lonely PSU gets R's 'adjust' replicate
        if rep_psu.size + adjust.size == 0:
            raise DesignError("jkn: every stratum was sampled exhaustively (fpc = population size) or has a "
                              "single PSU: there is nothing to replicate")
        R = rep_psu.size
        factors = np.ones((P, R))
        same = ps[:, None] == ps[rep_psu][None, :]
        up = n_h / np.maximum(n_h - 1.0, 1.0)  # single-PSU strata have no delete-one replicate
        factors[same] = np.repeat(up[ps][:, None], R, axis=1)[same]
        factors[rep_psu, np.arange(R)] = 0.0
        h = ps[rep_psu]
        rscales = (1.0 - f[h]) * (n_h[h] - 1.0) / n_h[h]
        if adjust.size:  # R: zero the lonely PSU, every other PSU times H/(H - 1), rscale (H - 1)/H
            factors = np.hstack([factors, np.where(ps[:, None] == adjust[None, :], 0.0, H / (H - 1.0))])
            rscales = np.concatenate([rscales, np.full(adjust.size, (H - 1.0) / H)])
        # R's 'average': scale n_psu / replicates whenever fewer replicates than PSUs
        scale = P / rscales.size if design.lonely_psu == "average" and rscales.size < P else 1.0
        return Replicates(kind="jkn", scale=scale, rscales=rscales, mse=mse, factors=factors)
    if kind in ("brr", "fay"):
        if not (n_h == 2).all():
            raise DesignError("BRR/Fay replicates need exactly 2 PSUs in every stratum")
        r = 0.0 if kind == "brr" else float(rho)
        if not 0 <= r < 1:
            raise InputError("Fay's rho must be in [0, 1)")
        order = 1
        while order < H + 1:
            order *= 2
        Hd = hadamard(order)[:, 1 : H + 1]  # (R, H), first column (all ones) dropped
        order_psu = np.argsort(ps, kind="stable")
        first = np.zeros(P, dtype=bool)
        first[order_psu[0::2]] = True  # first PSU of every stratum (sorted by stratum)
        sign = Hd[:, ps].T  # (P, R)
        sign = np.where(first[:, None], sign, -sign)
        factors = np.where(sign > 0, 2.0 - r, r)
        return Replicates(kind=kind, scale=1.0 / (order * (1 - r) ** 2), rscales=np.ones(order), mse=mse,
                          factors=factors, rho=r if kind == "fay" else None)
    raise InputError(f"unknown replicate kind {kind!r}; use one of {', '.join(KINDS)}")
