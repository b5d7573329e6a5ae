"""The exact float64 sort behind every rank-based statistic (``inequality._sort_order``).

Reference: numpy's ``np.sort`` (the order must sort the values EXACTLY; equal values may
come in any order because every statistic uses tie blocks). Cases that stress the
truncated-key repair: values differing only in their last mantissa bits, negatives,
signed zeros, infinities, subnormals, many ties.
"""
from __future__ import annotations

import numpy as np
import pytest

from remitpov.inequality import _Ranked, _sort_order


def _cases(n, rng):
    yield rng.lognormal(5, 2, n)
    yield rng.normal(0, 1, n)
    z = np.round(rng.normal(0, 3, n)) * 1.0
    z[::7] = -0.0
    yield z
    yield 1.0 + rng.integers(0, 1000, n) * np.finfo(float).eps  # differ in the lowest bits only
    yield -1.0 - rng.integers(0, 1000, n) * np.finfo(float).eps
    yield np.concatenate([[np.inf, -np.inf][:min(n, 2)], rng.normal(0, 1e-310, max(n - 2, 0))])


@pytest.mark.parametrize("n", [0, 1, 2, 3, 17, 1000, 70_001])
def test_sort_order_is_an_exact_sort(n):
    rng = np.random.default_rng(n)
    for y in _cases(n, rng):
        order, ys = _sort_order(y)
        assert order.dtype == np.intp and np.array_equal(np.sort(order), np.arange(n))
        assert np.array_equal(ys, y[order])
        assert np.array_equal(ys, np.sort(y))  # exact values in order (-0.0 == 0.0 is a tie)
        assert not (ys[1:] < ys[:-1]).any()


def test_mid_cumulative_sums_match_definition():
    """Weighted mid cumulative sums (sum strictly below + half the tied sum) vs a direct O(n^2) formula."""
    rng = np.random.default_rng(4)
    y = np.round(rng.normal(0, 2, 400))  # many ties, a tie block at the start
    y[:5] = y.min()
    w = rng.uniform(0.5, 2, 400)
    rk = _Ranked(y)
    mid = rk.unsort(rk.mid(w[rk.order]))
    ref = np.array([w[y < v].sum() + 0.5 * w[y == v].sum() for v in y])
    np.testing.assert_allclose(mid, ref, rtol=1e-13)
