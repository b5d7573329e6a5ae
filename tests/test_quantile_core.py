"""The one weighted quantile (``core.quantile``) and the kernel density (``core.density``).

Reference: a naive implementation of every rule written here from its definition, on
tie blocks (``np.unique``), with integer weights so that every cumulative share is
exact and the rules' boundary cases (a share exactly equal to ``p``) are hit.
"""
from __future__ import annotations

import numpy as np
import pytest

from remitpov.core.density import convey_bandwidth, kernel_density, positive_rows
from remitpov.core.quantile import quantiles_sorted, weighted_quantile


def _naive(x, w, p, rule):
    pos = w > 0
    if not pos.any():
        return np.nan
    vals = np.unique(x[pos])
    bw = np.array([w[x == v].sum() for v in vals])  # blocks of equal values, positive weight only
    share = np.cumsum(bw) / bw.sum()
    if rule == "laeken":
        hit = np.flatnonzero(share > p)
        return vals[hit[0]] if hit.size else vals[-1]
    hit = np.flatnonzero(share >= p)
    b = hit[0] if hit.size else len(vals) - 1
    if rule == "school" and share[b] == p and b + 1 < len(vals):
        return (vals[b] + vals[b + 1]) / 2
    return vals[b]


@pytest.mark.parametrize("rule", ["laeken", "math", "school"])
def test_rules_against_naive_definition(rule):
    rng = np.random.default_rng(11)
    for trial in range(40):
        n = int(rng.integers(1, 60))
        x = rng.integers(0, 12, n).astype(float)  # many ties
        W = rng.integers(0, 4, (n, 3)).astype(float)  # integer weights: exact shares; zeros
        W[:, 2] = 0.0 if trial % 5 == 0 else W[:, 2]  # a column without positive weight: NaN
        o = np.argsort(x, kind="stable")
        probs = np.array([0.0, 0.1, 0.25, 0.5, 0.75, 0.9, 1.0])
        got = quantiles_sorted(x[o], W[o], probs, rule)
        for j in range(3):
            for k, p in enumerate(probs):
                want = _naive(x, W[:, j], p, rule)
                if np.isnan(want):
                    assert np.isnan(got[k, j])
                else:
                    assert got[k, j] == want, (trial, j, p)
        if rule != "school":
            for p in probs[1:-1]:  # the sorting front end: same values, any weight shape
                q = weighted_quantile(x, W[:, :2], p, rule)
                assert np.array_equal(q, [_naive(x, W[:, j], p, rule) for j in range(2)], equal_nan=True)
                if W[:, 0].any():
                    assert weighted_quantile(x, W[:, 0], p, rule) == _naive(x, W[:, 0], p, rule)


def test_weighted_quantile_is_tie_order_invariant():
    rng = np.random.default_rng(2)
    x = np.round(rng.lognormal(size=5000), 1)
    w = rng.uniform(0.5, 2.0, 5000)
    w[::9] = 0.0
    for rule in ("laeken", "math"):
        for p in (0.1, 0.5, 0.6, 0.99):
            ref = weighted_quantile(x, w, p, rule)
            perm = rng.permutation(x.size)
            assert weighted_quantile(x[perm], w[perm], p, rule) == ref


def test_kernel_density_equals_the_formula():
    rng = np.random.default_rng(5)
    y = rng.lognormal(6, 1.2, 20000)  # long right tail: most kernel terms underflow to 0
    w = rng.lognormal(3, 0.5, 20000)
    for at in (50.0, 400.0, 3000.0):
        h = convey_bandwidth(y, w)
        u = (at - y) / h
        want = (w * np.exp(-0.5 * u * u)).sum() / (np.sqrt(2 * np.pi) * w.sum() * h)
        # equal up to terms below 2.3e-308 w_i set to 0 (core.density): absorbed by the sum
        assert kernel_density(y, w, at) == want
    N = w.sum()
    assert convey_bandwidth(y, w) == float(np.sqrt(max(((w * y * y).sum() - (w * y).sum() ** 2 / N) / N, 0.0))
                                           / np.exp(0.2 * np.log(N)))


def test_positive_rows():
    y, w = np.arange(4.0), np.array([1.0, 2.0, 3.0, 4.0])
    a, b = positive_rows(y, w)
    assert a is y and b is w
    w[1] = 0.0
    a, b = positive_rows(y, w)
    assert list(a) == [0.0, 2.0, 3.0] and list(b) == [1.0, 3.0, 4.0]
