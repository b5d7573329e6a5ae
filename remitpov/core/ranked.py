"""Ranks for the rank-based inequality measures: sort once, tie blocks, weighted mid-ranks,
and the two families of statistics built on them.

* :class:`Ranked` -- sort order and tie blocks of a ranking variable (the one O(n log n)
  step, :func:`remitpov.core.rank.sort_order`), mid cumulative sums, domain restriction.
* :func:`concentration_point`, :func:`concentration_if` -- concentration coefficients
  ``C = 2 sum w v F_y / T_y - T_v / T_y`` (the Gini when ``v = y``; Lerman--Yitzhaki
  contributions) and their exact influence values.
* :func:`partial_sorted`, :func:`partial_if` -- sums of ``w v`` over the poorest share
  ``p`` of the population (fractional cut at tie blocks) and their density-free influence
  values (shares, Palma, S80/S20, Lorenz and concentration curves).
"""
from __future__ import annotations

import numpy as np

from .rank import sort_order


class Ranked:
    """Sort order and tie blocks of a ranking variable (the one O(n log n) step)."""

    def __init__(self, y: np.ndarray, order: np.ndarray | None = None):
        self.y = y
        # every statistic here uses tie blocks (mid-ranks), so the order inside ties is
        # irrelevant (see remitpov.core.rank.sort_order)
        if order is None:
            self.order, ys = sort_order(y)
        else:
            self.order = order
            ys = y[order]
        self.sorted = ys
        n = ys.shape[0]
        eq = ys[1:] == ys[:-1]  # row i+1 ties with row i
        self._start = np.ones(n, dtype=bool)
        self._start[1:] = ~eq
        self._starts = self._block = None
        # rows in tie blocks of two or more: the only rows whose mid value is not cs - x/2
        self.any_tie = bool(eq.any())
        if self.any_tie:
            tied = np.zeros(n, dtype=bool)
            tied[1:] |= eq
            tied[:-1] |= eq
            end = np.ones(n, dtype=bool)
            end[:-1] = ~eq
            self._tied = np.flatnonzero(tied)
            self._tb_start = np.flatnonzero(tied & self._start)
            self._tb_end = np.flatnonzero(tied & end)
            self._tied_blk = np.cumsum(self._start[self._tied]) - 1

    @property
    def starts(self) -> np.ndarray:
        """First sorted position of every tie block (computed on first use)."""
        if self._starts is None:
            self._starts = np.flatnonzero(self._start)
        return self._starts

    @property
    def block(self) -> np.ndarray:
        """Block id of every sorted position (computed on first use)."""
        if self._block is None:
            start = np.zeros(self.sorted.shape[0], dtype=np.int64)
            start[self.starts] = 1
            self._block = np.cumsum(start) - 1
        return self._block

    def block_sums(self, Xs: np.ndarray) -> np.ndarray:
        """Sums of sorted rows within tie blocks, (B, r)."""
        if Xs.shape[0] == 0:
            return Xs
        return np.add.reduceat(Xs, self.starts, axis=0)

    def mid(self, Xs: np.ndarray) -> np.ndarray:
        """Mid cumulative sums (sum strictly below + half the tied sum), sorted order, (n, r).

        One cumulative sum: with ``C`` the inclusive cumulative sum at the last row of a
        tie block and ``C0`` the one before the block, the mid value is ``(C0 + C)/2``."""
        n = Xs.shape[0]
        if n == 0:
            return Xs
        cs = np.cumsum(Xs, axis=0)
        # untied rows: C0 = C - x; rows in tie blocks: (C before the block + C at its end)/2
        tied = self._tied if self.any_tie else None
        if tied is not None:
            s0, e0 = self._tb_start, self._tb_end
            c_before = cs[np.maximum(s0 - 1, 0)]  # a new array; s0 ascending: only s0[0] may be 0
            if s0[0] == 0:
                c_before[0] = 0.0
            fix = ((c_before + cs[e0]) / 2.0)[self._tied_blk]
        half = Xs * 0.5
        cs -= half
        if tied is not None:
            cs[tied] = fix
        return cs

    def restrict(self, mask: np.ndarray) -> "Ranked":
        """The same ranking restricted to the rows in ``mask`` (no new sort: O(n))."""
        if mask.all():
            return self
        return Ranked(self.y, self.order[mask[self.order]])

    def unsort(self, Xs: np.ndarray) -> np.ndarray:
        """Back to the original row order, full length; rows not ranked get 0."""
        n = self.y.shape[0]
        full = self.order.shape[0] == n  # every row ranked (an order is a permutation): no zeros needed
        out = (np.empty if full else np.zeros)((n,) + Xs.shape[1:], dtype=Xs.dtype)
        out[self.order] = Xs
        return out


def _col(a: np.ndarray) -> np.ndarray:
    return a.reshape(a.shape[0], -1)


def concentration_point(rk: Ranked, v: np.ndarray, y: np.ndarray, W: np.ndarray) -> np.ndarray:
    """``C = 2 sum w v F_y / T_y - T_v / T_y`` for every weight column of W (n, r).

    ``F_y`` is the weighted mid-rank in the order of ``y`` (the ranking of ``rk``). With
    ``v = y`` this is the Gini; with ``v`` an income source it is the source's
    contribution ``S_k G_k R_k`` to the Gini of ``y``.
    """
    Ws = _col(W)[rk.order]
    vs, ys = v[rk.order], y[rk.order]
    N = Ws.sum(0)
    with np.errstate(divide="ignore", invalid="ignore"):
        F = rk.mid(Ws) / N
        Ty = (Ws * ys[:, None]).sum(0)
        Tv = (Ws * vs[:, None]).sum(0)
        A = (Ws * vs[:, None] * F).sum(0)
        return 2 * A / Ty - Tv / Ty


def concentration_if(rk: Ranked, v: np.ndarray, y: np.ndarray, w: np.ndarray, check: list | None = None):
    """Point value and influence values of ``C`` (see :func:`concentration_point`).

    Exact derivative of the estimator with respect to the weights:
    ``dA/dw_i = v_i F_i + (T_v - L_i)/N - A/N`` with ``A = sum w v F`` and ``L_i`` the
    mid cumulative sum of ``w v`` in the order of ``y``; then
    ``z_i = 2 dA/T_y - 2 A y_i / T_y^2 - v_i / T_y + T_v y_i / T_y^2``.
    For ``v = y`` this is Langel & Tillé's (2013) linearised Gini
    ``z_i = [2 N_i (y_i - Y_i/N_i) + T - N y_i - G (T + N y_i)] / (N T)`` written with
    mid-ranks (``N_i``, ``Y_i`` cumulative weight and income up to ``y_i``).
    """
    o = rk.order
    ws = np.take(w, o)  # (np.take: faster than fancy indexing for a long gather)
    ys = rk.sorted if y is rk.y else np.take(y, o)  # the ranking variable is already sorted
    vs = ys if v is y else np.take(v, o)
    N = ws.sum()
    wv = ws * vs
    Tv = wv.sum()
    # np.einsum, not "@": long BLAS dot products are multi-threaded in OpenBLAS and its
    # idle threads then spin, slowing the rest down on small machines
    Ty = Tv if v is y else np.einsum("i,i->", ws, ys)
    if check is not None:  # the caller checks T_y > 0 (no second pass)
        check.append(Ty)
    F = rk.mid(ws)
    F /= N
    L = rk.mid(wv)  # 1-D cumulative sums (contiguous)
    A = np.einsum("i,i->", wv, F)
    C = 2 * A / Ty - Tv / Ty
    # z = 2 dA/Ty - 2 A y/Ty^2 - v/Ty + Tv y/Ty^2 with dA = v F + (Tv - L)/N - A/N, in place
    zs = F
    zs *= 2.0
    zs -= 1.0
    zs *= vs
    zs /= Ty
    L *= 2.0 / (N * Ty)
    zs -= L
    np.multiply(ys, (Tv - 2 * A) / Ty**2, out=L)  # (L's memory reused)
    zs += L
    zs += 2 * (Tv - A) / (N * Ty)
    return C, rk.unsort(zs)



def partial_sorted(rk: Ranked, vs: np.ndarray, Ws: np.ndarray, probs: np.ndarray) -> np.ndarray:
    """``sum of w v`` over the poorest share ``p`` of the (weighted) population, (k, r).

    Fractional cut: the tie block that straddles ``p W`` contributes the fraction
    ``(p W - W_before) / W_block`` of its ``sum w v`` (so the result is continuous in p
    and tie-order invariant).
    """
    Wb = rk.block_sums(Ws)
    Vb = rk.block_sums(Ws * vs[:, None])
    before = np.cumsum(Wb, axis=0) - Wb
    W = Wb.sum(0)
    out = np.empty((len(probs), Ws.shape[1]))
    for j, pr in enumerate(probs):
        with np.errstate(divide="ignore", invalid="ignore"):
            frac = np.clip(np.where(Wb > 0, (pr * W - before) / Wb, 0.0), 0.0, 1.0)
        out[j] = (frac * Vb).sum(0)
    return out


def partial_if(rk: Ranked, v: np.ndarray, w: np.ndarray, probs: np.ndarray, m_at_cut=None):
    """Partial sums ``S(p)`` (k,) and influence values (n, k).

    ``z_i = v_i 1[r_i <= q_p] - m(q_p) (1[r_i <= q_p] - p)`` with ``q_p`` the ranking
    variable's p-quantile and ``m(q)`` the mean of ``v`` among units ranked at ``q``
    (``= q`` for a Lorenz curve, where ``v`` is the ranking variable). The density of
    the ranking variable cancels (Osier 2009, rules for the total below a quantile).
    """
    o = rk.order
    ws, vs = w[o], v[o]
    S = partial_sorted(rk, vs, ws[:, None], probs)[:, 0]
    W = ws.sum()
    bw = rk.block_sums(ws[:, None])[:, 0]
    cw_before_block = np.cumsum(bw) - bw
    ys = rk.sorted
    Z = np.zeros((w.shape[0], len(probs)))
    for j, pr in enumerate(probs):
        if pr <= 0:
            continue
        # cut block: last positive-weight block that starts below p W
        cand = np.flatnonzero((cw_before_block < pr * W) & (bw > 0))
        b = cand[-1] if cand.size else 0
        q = ys[rk.starts[b]]
        below = (rk.block <= b).astype(float)
        m = q if m_at_cut is None else m_at_cut(j, q)
        Z[o, j] = vs * below - m * (below - pr)
    return S, Z



__all__ = ["Ranked", "concentration_point", "concentration_if", "partial_sorted", "partial_if"]
