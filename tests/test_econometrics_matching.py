"""Matching methods of issue 10 against R MatchIt 4.5.1, and the robustness tools of issue 16.

References
----------
* fixtures/lalonde_matchit_methods.json, made by tests/r/make_lalonde_matchit_methods.R
  (R 4.2.2, MatchIt 4.5.1, sandwich 3.0-2) on ../shared/data/econ/lalonde.csv.gz.
* Rosenbaum bounds: closed forms (all pairs positive), brute-force enumeration of the
  sign patterns, exact vs Monte Carlo on the lead example (Rosenbaum 2002, sec. 4.3.3),
  and at Gamma = 1 base R's wilcox.test (fixtures/rosenbaum_wilcoxon.json). R's rbounds
  is not packaged by Debian, so there is no R reference for Gamma > 1.
* Crump et al. trimming: a two-point score distribution solved by hand.

Tolerances: matched sets are compared exactly. Effects, SEs and balance statistics are
deterministic functions of the same matched units; the R values carry 15 significant
digits, so 1e-10 relative (observed <= 1e-13). The matching on a score uses our logit,
which agrees with MatchIt's (R's default glm tolerance) to ~1e-9 -- far below the gaps
between neighbouring scores that decide the matches, as the identical sets show.
"""
from __future__ import annotations

import itertools
import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from remitpov.exceptions import InputError, OverlapWarning
from remitpov.econometrics import (InverseProbabilityWeighting, AugmentedIPW, PropensityScoreMatching,
                                   PropensityScoreSubclassification)
from remitpov.econometrics.matching import mahalanobis_coordinates, wls_difference_hc3
from remitpov.robustness import crump_trimming, rosenbaum_bounds, sensitivity_gamma, trim_mask

FIX = Path(__file__).resolve().parent.parent / "fixtures" / "lalonde_matchit_methods.json"
FORMULA = "treat ~ age + educ + race + married + nodegree + re74 + re75"
COVS = "age + educ + race + married + nodegree + re74 + re75"
RTOL = 1e-10
NAMES = {"race[T.hispan]": "racehispan", "race[T.white]": "racewhite"}


@pytest.fixture(scope="module")
def ref():
    return json.loads(FIX.read_text())


@pytest.fixture(scope="module")
def model(lalonde):
    return PropensityScoreMatching(FORMULA, lalonde, outcome="re78")


def _pairs(d):
    return set(zip(d["treated"], d["control"]))


def _check_balance(res, block):
    b = res.balance
    for cov in b.index:
        k = NAMES.get(cov, cov)
        assert b.loc[cov, "smd"] == pytest.approx(block["balance_all"]["smd"][k], rel=RTOL)
        assert b.loc[cov, "smd_adj"] == pytest.approx(block["balance_matched"]["smd"][k], rel=RTOL, abs=1e-12)
        vr = block["balance_matched"]["var_ratio"][k]
        if vr == "NA":
            assert np.isnan(b.loc[cov, "var_ratio_adj"])
        else:
            assert b.loc[cov, "var_ratio_adj"] == pytest.approx(vr, rel=RTOL)
            assert b.loc[cov, "var_ratio"] == pytest.approx(block["balance_all"]["var_ratio"][k], rel=RTOL)


def _check_pair_fit(res, block):
    got = set(zip(res.pairs["treated"], res.pairs["control"]))
    assert got == _pairs(block["pairs"])
    assert int(res.matched.sum()) == block["effect"]["n_matched"]
    np.testing.assert_array_equal(res.unit_weights > 0, np.array(block["weights"]) > 0)
    assert res.params["ATT"] == pytest.approx(block["effect"]["effect"], rel=RTOL)
    # matched-pair CR1 = vcovCL(lm(re78 ~ treat, weights), cluster = ~subclass)
    assert res.std_errors["ATT"] == pytest.approx(block["effect"]["se_cluster"], rel=RTOL)
    _check_balance(res, block)


def test_mahalanobis_nearest_neighbour_equals_matchit(model, ref):
    _check_pair_fit(model.fit(distance="mahalanobis"), ref["mahalanobis"])


def test_caliper_on_linear_score_equals_matchit_compat(model, ref):
    block = ref["caliper_linear"]
    r = model.fit(distance="linear", caliper=0.2, matchit_compat=True)
    _check_pair_fit(r, block)
    lin = r.ps_results.linear
    assert 0.2 * np.std(lin, ddof=1) == pytest.approx(block["caliper_dist"], rel=1e-8)  # glm tolerance
    # MatchIt 4.5.1 applies the caliper to int(|d|): some of its pairs are farther apart than
    # 0.2 SD; the default (true distances) keeps every pair within the caliper, fewer pairs
    gap = np.abs(lin[r.pairs["treated"]] - lin[r.pairs["control"]])
    assert gap.max() > block["caliper_dist"]
    t = model.fit(distance="linear", caliper=0.2)
    gap_t = np.abs(lin[t.pairs["treated"]] - lin[t.pairs["control"]])
    assert gap_t.max() <= block["caliper_dist"] * (1 + 1e-8)
    assert len(t.pairs) < len(r.pairs)


def test_mahalanobis_within_score_caliper_equals_matchit_mahvars(model, ref):
    _check_pair_fit(model.fit(distance="linear", caliper=0.2, mahvars=COVS), ref["mahvars_caliper"])


def test_k_nearest_with_replacement_equals_matchit_general_routine(model, ref):
    """MatchIt's general routine (distance matrix) with ratio=3, replace=TRUE. Its
    std::partial_sort leaves the order of exactly tied controls unspecified; every pair
    that differs must be an exact tie in distance with the one we chose."""
    block = ref["replace_k3_matrix"]
    r = model.fit(replace=True, ties=False, k=3, se="HC3")
    with pytest.warns(FutureWarning, match="write se='HC3'"):
        old = model.fit(replace=True, ties=False, k=3, se="robust")
    np.testing.assert_array_equal(old.std_errors, r.std_errors)
    ps = np.array(block["distance"])
    exp, got = _pairs(block["pairs"]), set(zip(r.pairs["treated"], r.pairs["control"]))
    assert len(got) == len(exp) == 3 * 185
    dr = {(t, round(abs(ps[t] - ps[c]), 12)) for t, c in exp - got}
    dp = {(t, round(abs(ps[t] - ps[c]), 12)) for t, c in got - exp}
    assert dr == dp and len(exp - got) <= 10
    # the weights: k:1 shares, controls summed over their treated (MatchIt's up to its rescaling)
    W = r.unit_weights
    assert np.all(W[r.treatment == 1] == 1.0)
    # HC3 SE of lm(re78 ~ treat, weights) with R's weights (sandwich::vcovHC) -- the same
    # formula our se="HC3" applies to our weights
    y, t = model.y, model.t
    mu1, mu0, V = wls_difference_hc3(y, t.astype(float), np.array(block["weights"]))
    assert mu1 - mu0 == pytest.approx(block["effect"]["effect"], rel=RTOL)
    assert np.sqrt(V[0, 0] + V[1, 1] - 2 * V[0, 1]) == pytest.approx(block["effect"]["se_hc3"], rel=RTOL)


def test_matchit_compat_with_replacement_is_refused(model, ref):
    # MatchIt 4.5.1 ratio=3, replace=TRUE repeats one control 3 times: same result as ratio=1
    assert ref["replace_k3"]["effect"]["effect"] == ref["replace_k1"]["effect"]["effect"]
    with pytest.raises(InputError, match="repeats"):
        model.fit(replace=True, k=3, matchit_compat=True)


@pytest.mark.parametrize("estimand", ["ATT", "ATE"])
def test_subclassification_equals_matchit(lalonde, ref, estimand):
    block = ref[f"subclass_{estimand.lower()}"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", OverlapWarning)  # ATE: one control with a score below 0.01
        r = PropensityScoreSubclassification(FORMULA, lalonde, outcome="re78").fit(estimand=estimand)
    np.testing.assert_array_equal(r.extra["stratum"] + 1, block["subclass"])
    # cut points are scores: MatchIt's come from R's glm at its default tolerance (~5e-10 apart)
    np.testing.assert_allclose(r.extra["q_cut"], block["q_cut"], rtol=0, atol=1e-8)
    W, Wr, t = r.unit_weights, np.array(block["weights"]), r.treatment
    for g in (0, 1):  # MatchIt rescales each group's weights to mean 1
        m = t == g
        np.testing.assert_allclose(W[m] / W[m].mean(), Wr[m], rtol=RTOL)
    assert r.params[estimand] == pytest.approx(block["effect"]["effect"], rel=RTOL)
    assert r.std_errors[estimand] == pytest.approx(block["effect"]["se_hc3"], rel=RTOL)
    _check_balance(r, block)


def test_subclass_without_controls_is_an_error(lalonde):
    with pytest.raises(InputError, match="no treated or no control"):
        PropensityScoreSubclassification(FORMULA, lalonde, outcome="re78").fit(subclasses=60)


def test_mahalanobis_distance_invariances(lalonde):
    """Same distances whatever the scaling or a redundant full set of dummies (pseudo-inverse)."""
    rng = np.random.default_rng(1)
    Q = np.column_stack([lalonde[c].to_numpy(float) for c in ("age", "educ", "re74", "re75", "married")])
    race = pd.get_dummies(lalonde["race"]).to_numpy(float)
    t = lalonde["treat"].to_numpy()
    A = mahalanobis_coordinates(np.column_stack([Q, race[:, 1:]]), t)
    B = mahalanobis_coordinates(np.column_stack([Q * rng.uniform(0.01, 100, 5), race]), t)
    i, j = rng.integers(0, len(t), 50), rng.integers(0, len(t), 50)
    dA = np.linalg.norm(A[i] - A[j], axis=1)
    dB = np.linalg.norm(B[i] - B[j], axis=1)
    np.testing.assert_allclose(dA, dB, rtol=1e-9)  # eigen-decomposition rounding of a 9x9 matrix
    # and equal to the textbook formula with the pooled within-group covariance
    X = np.column_stack([Q, race[:, 1:]])
    Xc = X.copy()
    for g in (0, 1):
        Xc[t == g] -= X[t == g].mean(axis=0)
    Vinv = np.linalg.inv(Xc.T @ Xc / (len(t) - 2))
    D = X[i] - X[j]
    np.testing.assert_allclose(dA, np.sqrt(np.einsum("ij,jk,ik->i", D, Vinv, D)), rtol=1e-9)


def test_mahalanobis_with_constant_survey_weights_gives_the_same_matches(lalonde, model):
    """Constant weights rescale the pooled covariance (n-1 instead of n-2) but not the order of
    distances: same pairs and effect (to rounding of the weighted means)."""
    df = lalonde.assign(w=3.0)
    a = model.fit(distance="mahalanobis")
    b = PropensityScoreMatching(FORMULA, df, outcome="re78", weights="w").fit(distance="mahalanobis")
    pd.testing.assert_frame_equal(a.pairs, b.pairs)
    assert b.params["ATT"] == pytest.approx(a.params["ATT"], rel=1e-12)
    assert b.cov_type.startswith("design")


def test_mahalanobis_input_errors(model):
    with pytest.raises(InputError, match="caliper"):
        model.fit(distance="mahalanobis", caliper=0.2)
    with pytest.raises(InputError, match="Abadie-Imbens"):
        model.fit(distance="mahalanobis", replace=True, se="ai")
    with pytest.raises(InputError, match="not both"):
        model.fit(distance="mahalanobis", mahvars=COVS)


# ----------------------------------------------------------------------------- trimming
def test_crump_rule_closed_form():
    # 90 % at e = 0.5 (g = 4), 10 % at e = 0.02 (g = 51.02): E g = 8.70 < 51.02 / 2, so trim;
    # gamma = 2 E[g | g <= gamma] = 2 * 4 = 8 -> alpha = 1/2 - sqrt(1/4 - 1/8)
    e = np.r_[np.full(90, 0.5), np.full(10, 0.02)]
    assert crump_trimming(e) == pytest.approx(0.5 - np.sqrt(0.125), abs=1e-15)
    keep, a = trim_mask(e, "crump")
    assert keep.sum() == 90
    # half at 0.5, half at 0.01: max g = 101.0 <= 2 E g = 105.0 -> no trimming
    assert crump_trimming(np.r_[np.full(50, 0.5), np.full(50, 0.01)]) == 0.0
    # weights act as frequencies
    assert crump_trimming(np.r_[0.5, 0.02], weights=[9, 1]) == pytest.approx(crump_trimming(e), abs=1e-15)


def test_crump_rule_solves_its_equation():
    e = np.random.default_rng(3).beta(0.7, 1.5, 5000).clip(1e-4, 1 - 1e-4)
    a = crump_trimming(e)
    g = 1 / (e * (1 - e))
    gam = 1 / (a * (1 - a))
    assert 0.03 < a < 0.2  # Crump et al.: ~0.1 for most beta-shaped score distributions
    assert gam == pytest.approx(2 * g[g <= gam].mean(), rel=1e-12)
    with pytest.raises(InputError):
        crump_trimming(np.r_[0.0, 0.5])
    with pytest.raises(InputError):
        trim_mask(e, 0.7)


@pytest.mark.parametrize("cls", [InverseProbabilityWeighting, AugmentedIPW])
def test_trimmed_ipw_equals_fit_on_retained_rows(lalonde, cls):
    """trim= must give exactly the estimator fitted on the retained rows (score refitted)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", OverlapWarning)
        r = cls(FORMULA, lalonde, outcome="re78").fit(estimand="ATE", trim="crump")
        keep = r.extra["trim"]["keep"]
        assert 0 < (~keep).sum() < len(keep) and r.extra["trim"]["alpha"] > 0
        sub = lalonde[keep].reset_index(drop=True)
        s = cls(FORMULA, sub, outcome="re78").fit(estimand="ATE")
    assert r.params["ATE"] == pytest.approx(s.params["ATE"], rel=1e-9)  # two IRLS fits, 1e-8 stop rule
    # SE: the trimmed rows are a zero-weight domain (n-1 vs n_keep-1 in the variance factor)
    n, m = len(keep), int(keep.sum())
    assert r.std_errors["ATE"] == pytest.approx(s.std_errors["ATE"] * np.sqrt((n / (n - 1)) / (m / (m - 1))), rel=1e-7)
    assert any("trimmed" in x for x in r.notes)


def test_trimmed_matching_uses_retained_units_only(model):
    r = model.fit(trim=0.1)
    keep = r.extra["trim"]["keep"]
    assert np.all(keep[r.pairs["treated"]]) and np.all(keep[r.pairs["control"]])
    assert np.all((r.pscore[keep] >= 0.1) & (r.pscore[keep] <= 0.9))


# ----------------------------------------------------------------------------- Rosenbaum bounds
def test_rosenbaum_closed_form_all_positive():
    d = np.array([1.0, 2.0, 3.0, 4.0, 5.0])  # T = 15 = maximum: P(all five signs positive)
    g = np.array([1.0, 2.0, 3.0])
    r = rosenbaum_bounds(d, g, method="exact")
    np.testing.assert_allclose(r["p_upper"], (g / (1 + g)) ** 5, rtol=1e-14)
    np.testing.assert_allclose(r["p_lower"], (1 / (1 + g)) ** 5, rtol=1e-14)
    # normal approximation: z = (15 - p 15) / sqrt(p (1-p) 55)
    rn = rosenbaum_bounds(d, g)
    p = g / (1 + g)
    from scipy import stats
    np.testing.assert_allclose(rn["p_upper"], stats.norm.sf((15 - 15 * p) / np.sqrt(p * (1 - p) * 55)), rtol=1e-14)


def test_rosenbaum_exact_equals_enumeration_with_ties_and_zeros():
    d = np.array([3.0, -1.0, 2.0, 2.0, -2.0, 5.0, 0.0, 4.0, -0.5, 3.0])
    r = rosenbaum_bounds(d, [1.0, 1.7, 2.5], method="exact")
    assert r.attrs["n_zero"] == 1 and r.attrs["n_pairs"] == 9
    from scipy.stats import rankdata
    dd = d[d != 0]
    ranks = rankdata(np.abs(dd))
    T = ranks[dd > 0].sum()
    assert r.attrs["T"] == T
    signs = np.array(list(itertools.product([0, 1], repeat=dd.size)))
    tot = signs @ ranks
    for gm in r.index:
        for col, p in (("p_upper", gm / (1 + gm)), ("p_lower", 1 / (1 + gm))):
            prob = np.prod(np.where(signs == 1, p, 1 - p), axis=1)
            assert r.loc[gm, col] == pytest.approx(prob[tot >= T - 1e-9].sum(), rel=1e-12)


LEAD_TRT = [38, 23, 41, 18, 37, 36, 23, 62, 31, 34, 24, 14, 21, 17, 16, 20, 15, 10, 45, 39, 22, 35, 49, 48, 44,
            35, 43, 39, 34, 13, 73, 25, 27]
LEAD_CTRL = [16, 18, 18, 24, 19, 11, 10, 15, 16, 18, 18, 13, 19, 10, 16, 16, 24, 13, 9, 14, 21, 19, 7, 18, 19, 12,
             11, 22, 25, 16, 13, 11, 13]


def test_rosenbaum_lead_example_exact_vs_monte_carlo_and_sensitivity_value():
    """The 33 lead pairs (Rosenbaum 2002, sec. 4.3.3; one zero difference, ties). The exact
    bound at Gamma = 4 against a seeded Monte Carlo of the bounding statistic (200,000 draws:
    within 4 Monte Carlo SEs); the normal approximation overstates the upper tail of this
    left-skewed statistic (0.037 vs 0.024 at Gamma = 4). The sensitivity value is where the
    upper bound equals 0.05 (brentq, xtol 1e-10)."""
    from scipy.stats import rankdata
    d = np.subtract(LEAD_TRT, LEAD_CTRL)
    g = [1, 2, 3, 4, 5]
    rn, rx = rosenbaum_bounds(d, g), rosenbaum_bounds(d, g, method="exact")
    assert rn.attrs["T"] == 499.0 and rn.attrs["n_pairs"] == 32
    dd = d[d != 0]
    ranks = rankdata(np.abs(dd))
    B = np.random.default_rng(0).random((200_000, dd.size)) < 0.8  # p+ = 4 / (1 + 4)
    mc = np.mean(B @ ranks >= 499.0 - 1e-9)
    assert abs(rx.loc[4.0, "p_upper"] - mc) < 4 * np.sqrt(mc * (1 - mc) / B.shape[0])
    assert np.all(rx["p_upper"].iloc[1:] < rn["p_upper"].iloc[1:])
    assert np.all(np.diff(rx["p_upper"]) > 0) and np.all(rx["p_lower"] <= rx["p_upper"])
    gs = sensitivity_gamma(d, 0.05)
    assert 4 < gs < 5.5
    assert rosenbaum_bounds(d, [gs])["p_upper"].iloc[0] == pytest.approx(0.05, abs=1e-9)
    assert sensitivity_gamma(d, 0.05, method="exact") > gs


def test_rosenbaum_gamma_one_equals_r_wilcox_test():
    """At Gamma = 1 both bounds are the ordinary one-sided signed-rank p-value: R's
    wilcox.test (fixtures/rosenbaum_wilcoxon.json, tests/r/make_rosenbaum_wilcoxon.R),
    normal with ties (lead data) and exact without ties. R's normal p uses the same
    formulas (1e-10); its exact p comes from psignrank (1e-12)."""
    ref = json.loads(FIX.with_name("rosenbaum_wilcoxon.json").read_text())
    d = np.subtract(ref["lead"]["trt"], ref["lead"]["ctrl"])
    r = rosenbaum_bounds(d, [1.0])
    assert r.attrs["T"] == ref["lead"]["V"]
    assert r["p_upper"].iloc[0] == pytest.approx(ref["lead"]["p_normal"], rel=1e-10)
    assert r["p_lower"].iloc[0] == pytest.approx(ref["lead"]["p_normal"], rel=1e-10)
    d2 = np.array(ref["no_ties"]["d"])
    assert rosenbaum_bounds(d2, [1.0])["p_upper"].iloc[0] == pytest.approx(ref["no_ties"]["p_normal"], rel=1e-10)
    rx = rosenbaum_bounds(d2, [1.0], method="exact")
    assert rx.attrs["T"] == ref["no_ties"]["V"]
    assert rx["p_upper"].iloc[0] == pytest.approx(ref["no_ties"]["p_exact"], rel=1e-12)


def test_rosenbaum_from_matching_result(model):
    r = model.fit()
    d = model.y[r.pairs["treated"]] - model.y[r.pairs["control"]]
    pd.testing.assert_frame_equal(rosenbaum_bounds(r, [1, 1.5]), rosenbaum_bounds(d, [1, 1.5]))
    with pytest.raises(InputError, match="1:1"):
        rosenbaum_bounds(model.fit(k=2), [1.0])
    with pytest.raises(InputError):
        rosenbaum_bounds(d, [0.5])
