"""Fast paths of the variance engine (issue #17) give the same numbers as the plain ones."""
import numpy as np
import pytest
from scipy import sparse

from remitpov import design as dm
from remitpov.design import Design, group_sum


def _public(codes, x, size, weights=None):
    n = x.shape[0]
    data = np.ones(n) if weights is None else weights
    M = sparse.csc_matrix((data, codes, np.arange(n + 1)), shape=(size, n))
    return np.asarray(M @ x.reshape(n, -1))


@pytest.mark.parametrize("n", [1, 17, dm.FACTOR_CHUNK, dm.FACTOR_CHUNK + 3])
def test_group_sum_equals_scipy_product(n):
    rng = np.random.default_rng(n)
    codes = rng.integers(0, 50, n)
    x = rng.normal(size=(n, 3))
    w = rng.lognormal(size=n)
    np.testing.assert_array_equal(group_sum(codes, x, 50, w), _public(codes, x, 50, w))  # same order of sums
    np.testing.assert_array_equal(group_sum(codes, x[:, 0], 50), _public(codes, x[:, 0].copy(), 50))
    xf = np.asfortranarray(x)  # any layout
    np.testing.assert_array_equal(group_sum(codes, xf, 50, w), _public(codes, x, 50, w))
    # against a plain np.bincount per column (summation in row order too)
    ref = np.stack([np.bincount(codes, weights=w * x[:, j], minlength=50) for j in range(3)], 1)
    np.testing.assert_allclose(group_sum(codes, x, 50, w), ref, rtol=1e-12, atol=1e-12)


def test_group_sum_refuses_codes_out_of_range():
    x = np.ones((3, 1))
    with pytest.raises(IndexError):
        group_sum(np.array([0, 1, 5]), x, 5)
    with pytest.raises(IndexError):
        group_sum(np.array([0, -1, 2]), x, 5)


def test_codes_dense_and_sparse_integer_labels():
    a = np.array([3, 1, 1, 7, 3])
    codes, labels = dm._codes(a, "x")
    np.testing.assert_array_equal(codes, [1, 0, 0, 2, 1])
    np.testing.assert_array_equal(labels, [1, 3, 7])
    dense = np.array([2, 0, 1, 1])
    codes, labels = dm._codes(dense, "x")
    np.testing.assert_array_equal(codes, dense)
    assert not np.shares_memory(codes, dense)  # a copy: the design never aliases the caller's array
    codes, labels = dm._codes(np.array([True, False, True]), "x")
    np.testing.assert_array_equal(codes, [1, 0, 1])


def test_reweight_with_the_same_weights_is_the_design_and_other_weights_are_checked():
    rng = np.random.default_rng(0)
    w = rng.lognormal(size=40)
    d = Design.from_arrays(w, strata=np.repeat([0, 1], 20), psu=np.repeat(np.arange(8), 5))
    assert d.reweight(d.weights) is d
    w2 = w.copy()
    assert d.reweight(w2) is not d and np.array_equal(d.reweight(w2).weights, w)
    for bad in (np.nan, -1.0, np.inf):
        w3 = w.copy()
        w3[4] = bad
        with pytest.raises(Exception, match="finite non-negative"):
            d.reweight(w3)
        with pytest.raises(Exception, match="finite and non-negative"):
            Design.from_arrays(w3)


@pytest.mark.parametrize("D", [1, 3, 6])
def test_gram_add_equals_explicit_sums_and_is_symmetric(D):
    rng = np.random.default_rng(D)
    n, m = 20_000, 5  # several row blocks
    B = np.asfortranarray(rng.normal(size=(n, m)))
    w = rng.lognormal(size=n)
    codes = rng.integers(0, D, n)
    G = np.zeros((D, m, m))
    dm._gram_add(G, B, w, codes, D)
    for d in range(D):
        s = codes == d
        ref = (B[s] * w[s, None]).T @ B[s]
        np.testing.assert_allclose(G[d], ref, rtol=1e-12, atol=1e-12 * np.abs(ref).max())
        np.testing.assert_array_equal(G[d], G[d].T)


def test_group_sum_accumulates_into_out():
    rng = np.random.default_rng(9)
    codes = rng.integers(0, 7, 500)
    x = rng.normal(size=(500, 2))
    out = np.ones((7, 2))
    got = group_sum(codes, x, 7, out=out)
    assert got is out
    np.testing.assert_allclose(out, 1 + _public(codes, x, 7), rtol=1e-13)
    with pytest.raises(ValueError, match="C-contiguous"):
        group_sum(codes, x, 7, out=np.ones((7, 2), order="F")[:, :1])


def test_srs_variance_one_domain_equals_whole_sample_moments():
    # the one-domain shortcut: R's deff denominator from the moments of z over the sample
    rng = np.random.default_rng(4)
    n = 3000
    w = rng.lognormal(size=n)
    d = Design.from_arrays(w, strata=np.repeat(np.arange(6), 500), psu=np.repeat(np.arange(60), 50))
    z = rng.normal(size=(n, 3))
    z[:, 1] = 0.0
    got = d.srs_variance(z, np.zeros(n, dtype=np.int64))
    W, m = w.sum(), float(n)
    zbar = (w[:, None] * z).sum(0) / W
    ref = W * (w[:, None] * (z - zbar) ** 2).sum(0) / (m - 1) * (1 - m / W)
    np.testing.assert_allclose(got, ref, rtol=1e-10)
    assert got[1] == 0.0
    np.testing.assert_allclose(d.srs_variance(z, np.zeros(n, dtype=np.int64)), d.srs_variance(z), rtol=1e-12)
