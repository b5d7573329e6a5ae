"""Sorting float keys fast and exactly: the one O(n log n) step of ranks, Gini, quantiles.

:func:`sort_order` returns an order that sorts a float64 vector ascending EXACTLY (ties
in any order) and the sorted values. numpy's fastest sort is its SIMD sort of plain
integers (AVX-512 / AVX2 ``np.sort``); ``np.argsort`` of floats is several times slower
and ``kind="stable"`` (timsort / merge) slower still. So the values and the row index are
packed into ONE uint64 key and sorted as integers:

* an order-preserving map of IEEE-754 doubles to unsigned integers (flip every bit of a
  negative number, set the sign bit of a non-negative one; ``-0.0`` sorts just below
  ``+0.0``, infinities at the ends; NaN is not expected -- callers refuse missing values);
* its lowest ``b`` bits (``b`` = bits of ``n - 1``) replaced by the row index, which the
  sort then carries along; the order is read back from the low bits;
* values that differ only in their lowest ``b`` bits (relative difference below about
  ``2^(b - 53)``) share a truncated key and come out in row order: a repair pass finds
  every out-of-order neighbour pair ``ys[i+1] < ys[i]`` and re-sorts exactly those groups
  of equal truncated keys by value (a handful of groups at 10^6 rows of survey incomes).

Equal values (true ties) come out in an arbitrary order: use the result only for
statistics that are invariant to the order inside ties (weighted mid-ranks, tie blocks,
quantiles), as every user in remitpov does.
"""
from __future__ import annotations

import numpy as np

__all__ = ["sort_order"]


def sort_order(y) -> tuple[np.ndarray, np.ndarray]:
    """An order that sorts the float64 ``y`` ascending exactly (ties in any order), and ``y[order]``.

    Parameters
    ----------
    y : array_like, shape (n,)
        Finite or infinite float values (no NaN).

    Returns
    -------
    order : ndarray of intp, shape (n,)
        ``y[order]`` is sorted ascending; among equal values the order is arbitrary.
    ys : ndarray of float64, shape (n,)
        ``y[order]``.

    Notes
    -----
    See the module docstring. Falls back to ``np.argsort`` for fewer than 2 or more
    than ``2^40`` rows (the row index would not leave enough value bits).
    """
    y = np.ascontiguousarray(y, dtype=np.float64)
    n = y.shape[0]
    if n < 2 or n >= 1 << 40:
        order = np.argsort(y)
        return order, y[order]
    b = int(n - 1).bit_length()
    low = np.uint64((1 << b) - 1)
    key = _ordered_bits(y)
    key &= ~low
    key |= np.arange(n, dtype=np.uint64)
    key.sort()
    tk = key >> np.uint64(b)  # the sorted truncated keys (for the repair: nearly always needed at 10^6 rows)
    key &= low  # in place: the row indices, sorted by value
    order = key.view(np.int64).astype(np.intp, copy=False)
    ys = np.take(y, order)  # (np.take: faster than fancy indexing for a long gather)
    bad = np.flatnonzero(ys[1:] < ys[:-1])
    if bad.size:  # exact order inside the groups of equal truncated keys that hold an inversion
        vals = np.unique(tk[bad])
        lo = np.searchsorted(tk, vals, "left")
        hi = np.searchsorted(tk, vals, "right")
        ln = hi - lo
        sel = np.repeat(lo - np.concatenate([[0], np.cumsum(ln)[:-1]]), ln) + np.arange(ln.sum())
        grp = np.repeat(np.arange(vals.size), ln)
        sub = np.lexsort((ys[sel], grp))
        order[sel] = order[sel][sub]
        ys[sel] = ys[sel][sub]
    return order, ys


def _ordered_bits(y: np.ndarray) -> np.ndarray:
    """Order-preserving map of float64 to uint64 (a new array): ``bits ^ (sign-extended
    sign | 2^63)`` -- every bit of a negative number flipped, the sign bit of a
    non-negative one set."""
    key = (y.view(np.int64) >> 63).view(np.uint64)
    key |= np.uint64(1 << 63)
    key ^= y.view(np.uint64)
    return key
