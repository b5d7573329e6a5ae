"""The non-informative control design of ``validation/gmm_weights.py`` (session 6, issue #16).

``design="noninformative"`` draws the same population and the same set of inclusion
probabilities as the informative design, permuted over the entities: the weights are as
heavy (``pi`` clipped at 0.05, weights up to 20) but unrelated to each entity's panel, so
unweighted GMM is consistent there (it is not under informative sampling, which
``test_econometrics_gmm_weights_mc.py`` checks).
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "validation"))

import gmm_weights as gw  # noqa: E402


def test_same_population_and_weights_permuted():
    a = gw.informative_sample(5, 4000, "informative")
    b = gw.informative_sample(5, 4000, "noninformative")
    # the same population: the outcome of entity 7 is the same in both designs when sampled in both
    common = np.intersect1d(a["id"].unique(), b["id"].unique())
    assert common.size > 100
    pa = a.set_index(["id", "t"]).loc[common, "y"].to_numpy()
    pb = b.set_index(["id", "t"]).loc[common, "y"].to_numpy()
    np.testing.assert_array_equal(pa, pb)
    # as heavy: weights capped at 1 / 0.05 = 20 reached in both
    wa, wb = (d.groupby("id")["w"].first() for d in (a, b))
    assert wa.max() == pytest.approx(20.0) and wb.max() == pytest.approx(20.0)
    # informative: sampled entities have higher last outcomes than non-informative ones
    # (selection on y_iT; the gap is about 1 in a population SD of y_iT about 2.5, 4,000 entities)
    last = lambda d: d.loc[d["t"] == gw.T - 1, "y"].mean()  # noqa: E731
    assert last(a) - last(b) > 0.5, (last(a), last(b))
    # non-informative: the weight is unrelated to the entity's own last outcome
    yb = b.loc[b["t"] == gw.T - 1].set_index("id")["y"]
    assert abs(np.corrcoef(yb.loc[wb.index], wb)[0, 1]) < 0.1
    with pytest.raises(ValueError, match="design"):
        gw.informative_sample(1, 100, "other")


def test_unweighted_consistent_without_informative_sampling_fast():
    # two-step system GMM on three non-informative samples of about 2,000 entities: the
    # unweighted mean estimate of rho within 3 SEs-of-the-mean of the truth (under informative
    # sampling it is below by more than 3, test_econometrics_gmm_weights_mc.py)
    v = [(True, 2, False), (True, 2, True)]
    raw = pd.DataFrame([r for sd in (101, 102, 103)
                        for r in gw.replication(sd, 6000, v, design="noninformative", collapse=True)])
    assert raw["estimator"].str.endswith("collapsed").all()
    for w in ("unweighted", "weighted"):
        g = raw[raw["estimator"] == f"system GMM, 2-step, {w}, collapsed"]
        assert len(g) == 3
        assert abs(g["L1.y_est"].mean() - gw.RHO) < 3 * g["L1.y_se"].mean() / np.sqrt(3), g
