"""remitpov.core.rank.sort_order: an exact ascending sort of float64 keys (issue #17)."""
import numpy as np
import pytest

from remitpov.core.rank import sort_order


def _check(y):
    order, ys = sort_order(y)
    assert order.shape == y.shape and ys.dtype == np.float64
    np.testing.assert_array_equal(np.sort(order), np.arange(y.size))  # a permutation
    np.testing.assert_array_equal(ys, y[order])
    ref = np.sort(y)
    np.testing.assert_array_equal(ys, ref)  # exact, value by value
    assert np.all(ys[1:] >= ys[:-1])


@pytest.mark.parametrize("n", [0, 1, 2, 3, 1000, 4097])
def test_sort_order_random(n):
    rng = np.random.default_rng(n)
    y = rng.lognormal(6, 1, n)
    y[rng.random(n) < 0.1] = 0.0
    _check(y)


def test_sort_order_values_differing_in_the_lowest_bits():
    # values that differ only in the bits replaced by the row index, negatives, signed zeros,
    # infinities, subnormals, ties, in an adversarial (descending) row order
    rng = np.random.default_rng(1)
    base = np.array([1.0, -1.0, 1e300, -1e-300, 5e-324, -5e-324, 0.0, -0.0, np.inf, -np.inf, 250.0])
    y = np.repeat(base, 3)
    near = np.concatenate([b + np.spacing(b) * np.arange(-40, 40) for b in (1.0, 250.0, -3.5, 1e10)])
    y = np.concatenate([y, near, near[::7], rng.permutation(near)])
    _check(y[::-1].copy())
    _check(rng.permutation(y))


def test_sort_order_is_what_inequality_uses():
    from remitpov.inequality import _sort_order

    y = np.random.default_rng(5).normal(size=300)
    o1, s1 = _sort_order(y)
    o2, s2 = sort_order(y)
    np.testing.assert_array_equal(o1, o2)
    np.testing.assert_array_equal(s1, s2)
