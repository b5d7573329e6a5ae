"""Replicate weights built from a design: bootstrap, jackknife, BRR and Fay.

All replicates are stored compactly as one multiplier per PSU and replicate
(``factors``, shape ``(n_psu, R)``); row weights are ``w_i * factors[psu_i, r]``. Draws
are vectorised over replicates and PSUs (no Python loop over rows or replicates).

Conventions
-----------
``bootstrap``
    Rao--Wu (1988) rescaled bootstrap with ``m_h = n_h - 1``: in every stratum draw
    ``n_h - 1`` PSUs with replacement; multiplier ``n_h/(n_h - 1) * count``. Variance
    ``1/(R - 1) sum_r (theta_r - mean)^2``. The fpc is ignored (with-replacement).
``jk1``
    Delete-one-PSU jackknife for unstratified designs: ``R = n_psu``, multiplier
    ``n/(n - 1)``, variance ``(n - 1)/n sum_r (theta_r - mean)^2``.
``jkn``
    Stratified delete-one-PSU jackknife: one replicate per PSU, the rest of its
    stratum multiplied by ``n_h/(n_h - 1)``, ``rscales = (n_h - 1)/n_h``, scale 1.
    Strata with one PSU produce no replicate (they add no variance).
``brr`` / ``fay``
    Balanced repeated replication for designs with exactly two PSUs per stratum, from a
    Sylvester--Hadamard matrix of order the smallest power of two > H; Fay's method
    with ``rho`` (multipliers ``2 - rho`` / ``rho``), variance ``1/(R (1 - rho)^2) sum``.

Centering is at the mean of the replicates unless ``mse=True`` (full-sample estimate),
as R survey's ``svrVar``.
"""
from __future__ import annotations

import numpy as np
from scipy.linalg import hadamard

from .exceptions import DesignError, InputError


def build_replicates(design, kind: str = "bootstrap", replicates: int = 500, seed: int | None = 0,
                     *, rho: float = 0.5, mse: bool = False):
    from .design import Replicates

    kind = kind.lower()
    P, H, ps = design.n_psu, design.n_strata, design.psu_stratum
    n_h = np.bincount(ps, minlength=H)
    if kind == "bootstrap":
        if replicates < 2:
            raise InputError("bootstrap needs at least 2 replicates")
        if (n_h < 2).any():
            raise DesignError("bootstrap replicates need at least 2 PSUs in every stratum; collapse strata")
        rng = np.random.default_rng(seed)
        order = np.argsort(ps, kind="stable")  # PSUs grouped by stratum
        offset = np.concatenate([[0], np.cumsum(n_h)[:-1]])
        draws_h = np.repeat(np.arange(H), n_h - 1)  # stratum of every draw
        u = rng.random((replicates, draws_h.size))
        pick = offset[draws_h] + np.floor(u * n_h[draws_h]).astype(np.int64)
        psu_pick = order[pick]  # (R, n_draws)
        flat = (np.arange(replicates)[:, None] * P + psu_pick).ravel()
        counts = np.bincount(flat, minlength=replicates * P).reshape(replicates, P).T
        factors = counts * (n_h / (n_h - 1))[ps][:, None]
        return Replicates(kind="bootstrap", scale=1.0 / (replicates - 1), rscales=np.ones(replicates),
                          mse=mse, factors=factors, seed=seed)
    if kind == "jk1":
        if H > 1:
            raise DesignError("jk1 is for unstratified designs; use kind='jkn' for a stratified design")
        factors = np.full((P, P), P / (P - 1))
        np.fill_diagonal(factors, 0.0)
        return Replicates(kind="jk1", scale=(P - 1) / P, rscales=np.ones(P), mse=mse, factors=factors)
    if kind == "jkn":
        keep = n_h[ps] > 1  # PSUs whose deletion makes a replicate
        if not keep.all() and design.lonely_psu == "error":
            raise DesignError("a stratum has a single PSU: jackknife needs lonely_psu other than 'error'")
        rep_psu = np.flatnonzero(keep)
        R = rep_psu.size
        factors = np.ones((P, R))
        same = ps[:, None] == ps[rep_psu][None, :]
        factors[same] = np.repeat((n_h / (n_h - 1.0))[ps][:, None], R, axis=1)[same]
        factors[rep_psu, np.arange(R)] = 0.0
        rscales = (n_h[ps[rep_psu]] - 1.0) / n_h[ps[rep_psu]]
        return Replicates(kind="jkn", scale=1.0, rscales=rscales, mse=mse, factors=factors)
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
    raise InputError(f"unknown replicate kind {kind!r}; use bootstrap, jk1, jkn, brr or fay")
