"""The fast replicate builders (issue #17) give the same multipliers and ranks as the
direct formulas: Rao--Wu draws in blocks equal the one-shot draw bit for bit, and the
certified full-rank shortcut of ``weights_rank`` agrees with the eigenvalue rule."""
import numpy as np
import pytest

from remitpov import replicates as rr
from remitpov.design import Design


def _design(P=60, H=6, seed=0):
    rng = np.random.default_rng(seed)
    psu = np.repeat(np.arange(P), 5)
    strata = psu % H  # PSUs of a stratum NOT contiguous: exercises the stratum ordering
    return Design.from_arrays(rng.lognormal(size=psu.size), strata=strata, psu=psu)


def _rao_wu_one_shot(design, n_h, R, rng):
    """The direct formula: one (R, n_draws) draw, counts by one bincount."""
    P, H, ps = design.n_psu, design.n_strata, design.psu_stratum
    order = np.argsort(ps, kind="stable")
    offset = np.concatenate([[0], np.cumsum(n_h)[:-1]])
    draws_h = np.repeat(np.arange(H), n_h - 1)
    u = rng.random((R, draws_h.size))
    pick = offset[draws_h] + np.floor(u * n_h[draws_h]).astype(np.int64)
    flat = (np.arange(R)[:, None] * P + order[pick]).ravel()
    counts = np.bincount(flat, minlength=R * P).reshape(R, P).T
    return counts * (n_h / (n_h - 1))[ps][:, None]


@pytest.mark.parametrize("block", [1, 7, 54, 1 << 18])
def test_rao_wu_blocks_equal_one_shot_draw(monkeypatch, block):
    d = _design()
    n_h = np.bincount(d.psu_stratum)
    ref = _rao_wu_one_shot(d, n_h, 37, np.random.default_rng(11))
    monkeypatch.setattr(rr, "DRAW_BLOCK", block)
    got = rr._rao_wu(d, n_h, 37, np.random.default_rng(11))
    assert got.shape == (d.n_psu, 37)
    np.testing.assert_array_equal(got, ref)  # exact: same draws, same integer counts
    # every stratum's multipliers sum to n_h in every replicate (n_h - 1 draws x n_h/(n_h - 1))
    sums = np.stack([got[d.psu_stratum == h].sum(0) for h in range(d.n_strata)])
    np.testing.assert_allclose(sums, np.repeat(n_h[:, None], 37, axis=1), rtol=1e-12)


def _eig_rank(M):
    ev = np.linalg.eigvalsh(M.T @ M)
    return int((ev > ev.max() * 1e-10).sum())


def test_weights_rank_shortcut_agrees_with_eigenvalues():
    rng = np.random.default_rng(3)
    full = rng.poisson(1.0, (400, 30)).astype(float)
    assert rr._full_column_rank(full)
    assert rr.weights_rank(full) == _eig_rank(full) == 30
    # rank-deficient tall matrices are never certified: duplicated column, a column that is a
    # combination of others, all-zero
    dup = np.hstack([full, full[:, :1]])
    comb = np.hstack([full, full[:, :2].sum(1, keepdims=True)])
    for M in (dup, comb, np.zeros((100, 5))):
        assert not rr._full_column_rank(M)
        assert rr.weights_rank(M) == (_eig_rank(M) if M.any() else 0)
    assert rr.weights_rank(dup) == 30


def test_bootstrap_degf_with_more_replicates_than_the_rank_allows():
    # P - H + 1 = 55 independent directions at most: 200 replicates have rank 55 (degf 54)
    d = _design()
    reps = rr.build_replicates(d, "bootstrap", 200, seed=1)
    assert reps.degf == _eig_rank(reps.factors) - 1 == d.n_psu - d.n_strata
    few = rr.build_replicates(d, "bootstrap", 20, seed=1)  # tall: certified, full rank
    assert few.degf == _eig_rank(few.factors) - 1 == 19
