"""code_counts (remitpov.design_kernels): the fast per-code row counts equal np.bincount."""
import numpy as np
import pytest

from remitpov.design_kernels import code_counts


@pytest.mark.parametrize("D", [1, 2, 3, 5])
@pytest.mark.parametrize("n", [0, 1, 7, 1000])
def test_code_counts_equal_bincount(D, n):
    codes = np.random.default_rng(n * 10 + D).integers(0, D, n)
    got = code_counts(codes, D)
    want = np.bincount(codes, minlength=D).astype(float)
    assert got.dtype == np.float64 and got.shape == (D,)
    np.testing.assert_array_equal(got, want)


def test_code_counts_one_code_absent():
    codes = np.ones(5, dtype=np.int64)  # domain 0 empty
    np.testing.assert_array_equal(code_counts(codes, 2), [0.0, 5.0])
