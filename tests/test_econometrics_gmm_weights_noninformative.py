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


@pytest.mark.parametrize("collapse", [False, True])
def test_weighted_windmeijer_equals_numerical_derivative(collapse):
    """The weighted two-step algebra checked from its definition (issue #16, session 6).

    With probability weights the moment is ``sum_i w_i Z_i' e_i(b)``, its covariance
    ``S(b1) = sum_i w_i^2 g_i(b1) g_i(b1)'``, the two-step estimate ``b2(b1)`` the GMM estimate
    with weight matrix ``S(b1)^-1``, and Windmeijer's correction ``D = d b2 / d b1'``:
    ``V = B2 + D B2 + B2 D' + D V1 D'``. Here ``b2(b1)`` is recomputed by hand from the
    model's stacked arrays and ``D`` by central differences (step 1e-5; truncation error
    O(h^2) and rounding ~ 1e-16 / 1e-5 in ``D``: rtol 1e-7 on the covariance, observed 1e-9)
    on a heavy-weight sample (weights up to 20).
    """
    from remitpov.econometrics.gmm import DynamicPanelGMM

    d = gw.informative_sample(3, 900)
    m = DynamicPanelGMM(gw.FORMULA, d, entity="id", time="t", system=True, effects="individual",
                        collapse=collapse, weights="w")
    r = m.fit(2)
    s = m._build()
    y, X, Z = s["y"], s["X"], s["Z"]
    w, v = m._entity_weights(s["entities"])
    np.testing.assert_allclose(v, w ** 2)                    # probability weights: w_i^2
    SX = np.einsum("n,nrl,nrk->lk", w, Z, X)
    Sy = np.einsum("n,nrl,nr->l", w, Z, y)

    def two_step(b1):
        g = np.einsum("nrl,nr->nl", Z, y - X @ b1)
        A = np.linalg.inv((g * v[:, None]).T @ g)
        return np.linalg.solve(SX.T @ A @ SX, SX.T @ A @ Sy), A

    b1 = r.params_onestep.to_numpy()
    b2, A2 = two_step(b1)
    np.testing.assert_allclose(b2, r.params.to_numpy(), rtol=1e-9)  # system-GMM conditioning: 1e-9
    h = 1e-5
    D = np.column_stack([(two_step(b1 + h * e)[0] - two_step(b1 - h * e)[0]) / (2 * h) for e in np.eye(b1.size)])
    # one-step robust covariance V1 = B1 SX' A1 S A1 SX B1 (from the reported one-step fit)
    V1 = m.fit(1).cov.to_numpy()
    B2 = np.linalg.inv(SX.T @ A2 @ SX)
    V = B2 + D @ B2 + B2 @ D.T + D @ V1 @ D.T
    np.testing.assert_allclose(r.cov.to_numpy(), V, rtol=1e-7)
    assert not np.allclose(r.cov.to_numpy(), B2, rtol=1e-3)  # the correction is not negligible here


def test_from_raw_summarises_chunks(tmp_path, capsys):
    raw = pd.DataFrame({"seed": [1, 2, 3, 4], "estimator": ["a"] * 4, "entities": [10] * 4,
                        "L1.y_est": [0.4, 0.5, 0.6, 0.55], "L1.y_se": [0.1] * 4,
                        "L1.y_cover": [True, True, False, True], "x_est": [1.0, 1.1, 0.9, 1.0],
                        "x_se": [0.05] * 4, "x_cover": [True] * 4})
    raw.iloc[:2].to_csv(tmp_path / "a.csv", index=False)
    raw.iloc[2:].to_csv(tmp_path / "b.csv", index=False)
    gw.main(["--from-raw", str(tmp_path / "a.csv"), str(tmp_path / "b.csv")])
    out = capsys.readouterr().out
    assert "seeds 1..4 (4 seeds)" in out
    assert gw.table_markdown(gw.summarise(raw)) in out
    with pytest.raises(SystemExit, match="repeat"):
        gw.main(["--from-raw", str(tmp_path / "a.csv"), str(tmp_path / "a.csv")])


def test_paired_differences_against_hand_computation():
    est = {"system GMM, 1-step, unweighted": [0.50, 0.52, 0.49], "system GMM, 1-step, weighted": [0.51, 0.50, 0.47],
           "system GMM, 2-step, unweighted": [0.49, 0.50, 0.50], "system GMM, 2-step, weighted": [0.48, 0.47, 0.49]}
    raw = pd.DataFrame([{"seed": s, "estimator": k, "L1.y_est": v[s], "x_est": 1.0 + v[s]}
                        for k, v in est.items() for s in range(3)])
    p = gw.paired_differences(raw).set_index(["difference", "parameter"])
    assert len(p) == 8 and (p["family"] == "system GMM").all()
    x = np.subtract(est["system GMM, 2-step, weighted"], est["system GMM, 1-step, weighted"])
    assert p.at[("2-step - 1-step, weighted", "rho"), "mean"] == pytest.approx(x.mean())
    assert p.at[("2-step - 1-step, weighted", "beta"), "mc_se"] == pytest.approx(x.std(ddof=1) / np.sqrt(3))
    x = np.subtract(est["system GMM, 2-step, weighted"], est["system GMM, 2-step, unweighted"])
    assert p.at[("weighted - unweighted, 2-step", "rho"), "mean"] == pytest.approx(x.mean())


@pytest.mark.slow
def test_two_step_beta_bias_is_an_instrument_count_effect_of_heavy_weights():
    """Session 6 (validation/RESULTS.md): 50 non-informative samples of about 4,000 entities
    (seeds 1..50, n_pop = 12,000), system GMM. With all instruments (23) every estimator is
    unbiased within 3 MC SEs except the weighted two-step beta (-0.0045, 3.6 MC SEs here, 200
    seeds in RESULTS.md), although nothing is informative; with collapsed instruments (9) every
    estimator, weighted two-step included, is within 3 MC SEs with 88-100 % coverage (binomial MC
    SE of 0.95 at R = 50: 3 points)."""
    seeds = range(1, 51)
    full = gw.summarise(pd.DataFrame([r for sd in seeds for r in gw.replication(sd, 12_000, [
        (True, 1, False), (True, 2, False), (True, 1, True)], design="noninformative")]))
    assert len(full) == 6 and (full["bias"].abs() < 3 * full["mc_se"]).all(), full
    v = [(True, k, w) for k in (1, 2) for w in (False, True)]
    coll = gw.summarise(pd.DataFrame([r for sd in seeds for r in gw.replication(
        sd, 12_000, v, design="noninformative", collapse=True)]))
    assert len(coll) == 8 and (coll["bias"].abs() < 3 * coll["mc_se"]).all(), coll
    assert ((coll["coverage"] >= 0.88) & (coll["coverage"] <= 1.0)).all(), coll
