"""Selection-weighted empirical residuals (``residuals="selection"``, importance resampling).

References: closed forms of the truncated-normal mixture (the law of the outcome error of
the non-selected regime under joint normality), a numerical integral of the same reweighting
for a skewed (gamma) outcome error, plain weighted resampling when ``rho = 0``, and a hand
recomputation of the imputations of :func:`counterfactual_income` from the same seed.
"""
from __future__ import annotations

import numpy as np
import pytest
from scipy import integrate, special, stats

from remitpov.econometrics.counterfactual import counterfactual_income, resample_index
from remitpov.econometrics.counterfactual_draws import HeckmanParts, parameter_draws_from
from remitpov.econometrics.counterfactual_residuals import ESS_WARN, RHO_CAP, kish_ess, selection_resample
from remitpov.exceptions import InputError

from test_econometrics_counterfactual import _simulated  # noqa: E402  (the Heckman DGP with rho = 0.6)

N_DONORS, N_DRAWS = 100_000, 20_000


def _selected_sample(rho, sig, errors, seed=3):
    """Donors: households with ``t + v > 0``, ``t ~ N(0.3, 1)``, ``v | u ~ N(rho u/sig, 1 - rho^2)``
    (``v`` standard normal when ``u`` is normal), unequal weights."""
    rng = np.random.default_rng(seed)
    n = 2 * N_DONORS
    t = 0.3 + rng.normal(size=n)
    u = errors(rng, n)
    v = rho * u / sig + np.sqrt(1 - rho**2) * rng.normal(size=n)
    s = t + v > 0
    w = rng.uniform(0.5, 2.0, size=n)
    return u[s], t[s], w[s]


def _draws_at(u, t, w, t0, rho, sig, seed=1):
    d = selection_resample(u, t, w, np.full(N_DRAWS, t0), np.ones(N_DRAWS), rho, sig, 1,
                           np.random.default_rng(seed), bins=1)  # one index value: one bin
    return d, d.residuals[d.nonselected[:, 0]], d.residuals[d.unconditional[:, 0]]


def _tol(x, d, k=4.0):
    """k standard errors of the mean and of the variance of draws ``x``: the resampling error
    (N_DRAWS draws) plus the importance-sampling error of the donor sample (its effective size
    ``ess_min``); the SE of the variance from the draws' own fourth moment."""
    scale = np.sqrt(1 / len(x) + 1 / d.ess_min)
    return k * x.std() * scale, k * np.std((x - x.mean()) ** 2) * scale


@pytest.mark.parametrize("t0", [-1.0, 0.0, 0.8, 1.5])
def test_normal_errors_reproduce_truncated_normal_mixture(t0):
    """Under joint normality u | s=0, t has mean -sigma rho phi(t)/Phi(-t) and variance
    sigma^2 (1 - rho^2 delta_0), delta_0 = imr0 (imr0 - t); the marginal draws have mean 0 and
    variance sigma^2 (Heckman's model with selection = the estimation sample)."""
    rho, sig = 0.6, 0.8
    u, t, w = _selected_sample(rho, sig, lambda rng, n: sig * rng.normal(size=n))
    d, x, xu = _draws_at(u, t, w, t0, rho, sig)
    imr0 = stats.norm.pdf(t0) / stats.norm.cdf(-t0)
    mean, var = -sig * rho * imr0, sig**2 * (1 - rho**2 * imr0 * (imr0 - t0))
    tm, tv = _tol(x, d)
    assert abs(x.mean() - mean) < tm and abs(x.var() - var) < tv
    # the plain (unweighted by selection) residuals are far off: E[u | s=1] > 0 here
    assert abs(np.average(u, weights=w) - mean) > 10 * tm
    tm, tv = _tol(xu, d)
    assert abs(xu.mean()) < tm and abs(xu.var() - sig**2) < tv
    assert d.truncated_share == 0.0 and d.ess_min > 1000


def test_skewed_errors_keep_their_shape():
    """With a skewed outcome error (centred gamma, skewness 1.41) the draws follow
    f_u(u) P(s=0|u,t) / P(s=0|t) (numerical integral): mean, variance and skewness; a normal
    law with the same two moments has skewness 0."""
    rho, sig, k, t0 = 0.5, 0.7, 2.0, 0.4
    gam = stats.gamma(k, loc=-k, scale=1.0)  # mean 0, variance k, skewness 2/sqrt(k)
    u, t, w = _selected_sample(rho, sig, lambda rng, n: sig * gam.rvs(size=n, random_state=rng) / np.sqrt(k))
    d, x, _ = _draws_at(u, t, w, t0, rho, sig)
    r = np.sqrt(1 - rho**2)

    def dens(z):  # density of u | s=0, t0 (unnormalised)
        return gam.pdf(z * np.sqrt(k) / sig) * special.ndtr(-(t0 + rho * z / sig) / r)

    lo, hi = -sig * np.sqrt(k), 12 * sig  # support of u from -sig sqrt(k); tail beyond 12 sig < 1e-6
    m0 = integrate.quad(dens, lo, hi)[0]
    mom = [integrate.quad(lambda z: z**p * dens(z), lo, hi)[0] / m0 for p in (1, 2, 3)]
    mean, var = mom[0], mom[1] - mom[0] ** 2
    skew = (mom[2] - 3 * mean * var - mean**3) / var**1.5
    tm, tv = _tol(x, d)
    assert abs(x.mean() - mean) < tm and abs(x.var() - var) < tv
    # skewness: SE of the sample skewness ~ sqrt(6/n) for near-normal data, larger for skewed
    # data: the draws' own sixth-moment-based spread would be heavier; 0.15 is > 5 such SEs
    # at n_eff ~ min(N_DRAWS, ess) >= 4,000 and < skew (1.0) / 6
    assert abs(stats.skew(x) - skew) < 0.15 and skew > 0.9


def test_rho_zero_is_plain_weighted_resampling():
    """rho = 0: the selection weights are uniform, the draws equal weight-proportional
    resampling with the same generator state (bit for bit), residuals centred at the weighted mean."""
    rng = np.random.default_rng(5)
    u, t, w = rng.normal(size=400), rng.normal(size=400), rng.uniform(1, 3, size=400)
    tn = rng.normal(size=250)
    d = selection_resample(u, t, w, tn, rng.uniform(1, 2, 250), 0.0, 0.7, 3, np.random.default_rng(9))
    plain = np.random.default_rng(9)
    np.testing.assert_array_equal(d.nonselected, resample_index(w, (250, 3), plain))
    np.testing.assert_array_equal(d.unconditional, resample_index(w, (250, 3), plain))
    np.testing.assert_allclose(d.residuals, u - np.average(u, weights=w), rtol=0, atol=1e-14)
    assert d.ess_min == pytest.approx(kish_ess(w), rel=1e-12) and d.truncated_share == 0.0


def test_extreme_rho_is_guarded():
    """|rho| >= 1 (a two-step lambda above sigma): rho capped at RHO_CAP, log-space weights,
    valid indices and a small effective donor sample reported with a warning note."""
    rng = np.random.default_rng(2)
    u, t, w = rng.normal(size=300), rng.normal(size=300), np.ones(300)
    tn = rng.normal(size=100) + 2.0
    assert RHO_CAP < 1
    for rho in (1.0, -1.0):
        d = selection_resample(u, t, w, tn, np.ones(100), rho, 1.0, 2, np.random.default_rng(0), bins=20)
        assert d.nonselected.min() >= 0 and d.nonselected.max() < 300 and np.isfinite(d.residuals).all()
        assert 1.0 <= d.ess_min < ESS_WARN and d.thin_share > 0
        assert "FEW DONORS" in d.note()


def test_bad_input():
    rng = np.random.default_rng(0)
    with pytest.raises(InputError, match="one value per donor"):
        selection_resample(np.zeros(5), np.zeros(4), np.ones(5), np.zeros(3), np.ones(3), 0.5, 1.0, 2, rng)
    with pytest.raises(InputError, match="positive"):
        selection_resample(np.zeros(5), np.zeros(5), np.zeros(5), np.zeros(3), np.ones(3), 0.5, 1.0, 2, rng)
    with pytest.raises(InputError, match="sigma > 0"):
        selection_resample(np.zeros(5), np.zeros(5), np.ones(5), np.zeros(3), np.ones(3), 0.5, 0.0, 2, rng)


@pytest.fixture(scope="module")
def sim():
    return _simulated(n=3000)


def test_counterfactual_income_selection_rule_by_hand(sim):
    """counterfactual_income(residuals="selection"): u* drawn once at theta_hat, then moved to
    each jointly drawn theta_m by the normal model's location and scale,
    X b_m - lambda_m imr0(Z g_m) + s_m / s_hat * (u* + lambda_hat imr0(Z g_hat)) (unconditional:
    X b_m + sigma_m / sigma_hat u*), recomputed here from the same seed; the diagnostic and its
    note are on the result."""
    cf = counterfactual_income(sim, "x", "x + z", draws=3, seed=4, residuals="selection")
    res, mdl = cf.model, cf.model.model
    rng = np.random.default_rng(4)
    # the joint parameter draws (checked against N(theta, V) in test_econometrics_counterfactual)
    B, G, lam, sig, rho = HeckmanParts(res)(parameter_draws_from(res, 3, rng))
    b_hat, g_hat = res.params[["Intercept", "x"]].to_numpy(), res.params[[f"selection:{c}" for c in ("Intercept", "x", "z")]].to_numpy()
    lam_hat, sig_hat = float(res.lambda_), float(res.sigma)
    s = mdl._s & (mdl._w > 0)
    rec = sim.data["recipient"].to_numpy()
    q_hat = mdl._Z[rec] @ g_hat
    d = selection_resample(mdl._y[s] - mdl._X[s] @ b_hat, mdl._Z[s] @ g_hat, mdl._w[s], q_hat,
                           sim.weights("household")[rec], lam_hat / sig_hat, sig_hat, 3, rng)
    assert np.ptp(rho) > 0 and np.all(sig == sig_hat)  # two-step: sigma fixed, rho = lambda_m / sigma

    def mills0(q):
        return stats.norm.pdf(q) / stats.norm.cdf(-q)

    s_hat = sig_hat * np.sqrt(1 - (lam_hat / sig_hat) ** 2 * mills0(q_hat) * (mills0(q_hat) - q_hat))
    for m in range(3):
        q = mdl._Z[rec] @ G[m]
        s_m = sig_hat * np.sqrt(1 - rho[m] ** 2 * mills0(q) * (mills0(q) - q))
        u_star = d.residuals[d.nonselected[:, m]]
        hand = mdl._X[rec] @ B[m] - lam[m] * mills0(q) + s_m / s_hat * (u_star + lam_hat * mills0(q_hat))
        np.testing.assert_allclose(np.log(cf.survey.data[f"y_cf_{m + 1}"].to_numpy()[rec]), hand, rtol=1e-12)
        got_u = np.log(cf.survey.data[f"y_cf_unconditional_{m + 1}"].to_numpy()[rec])
        np.testing.assert_allclose(got_u, mdl._X[rec] @ B[m] + d.residuals[d.unconditional[:, m]], rtol=1e-12)
    diag = cf.diagnostics["selection_residuals"]
    assert diag == pytest.approx(d.diagnostics())
    assert 0 < diag["ess_min"] <= diag["ess_median"] <= s.sum() and diag["ess_weighted"] <= s.sum()
    assert any(n.startswith("selection-weighted residuals: effective donor sample size") for n in cf.notes)
    # mean imputed log income of the recipients is close to the truth (E[e | recipient] < 0 here)
    truth = np.log(sim.data["y0"].to_numpy()[rec]).mean()
    assert abs(np.mean(np.log(cf.survey.data["y_cf_1"].to_numpy()[rec])) - truth) < 0.15  # as the empirical test


def test_fixed_parameters_impute_x_b_plus_u_star(sim):
    """parameter_draws=False: every imputation is exactly X b_hat + u* (the location-scale move
    is the identity at theta_hat)."""
    cf = counterfactual_income(sim, "x", "x + z", draws=2, seed=3, residuals="selection", parameter_draws=False)
    res, mdl = cf.model, cf.model.model
    rng = np.random.default_rng(3)
    parameter_draws_from(res, 2, rng, parameter_draws=False)  # consumes nothing
    b_hat, g_hat = res.params[["Intercept", "x"]].to_numpy(), res.params[[f"selection:{c}" for c in ("Intercept", "x", "z")]].to_numpy()
    s = mdl._s & (mdl._w > 0)
    rec = sim.data["recipient"].to_numpy()
    d = selection_resample(mdl._y[s] - mdl._X[s] @ b_hat, mdl._Z[s] @ g_hat, mdl._w[s], mdl._Z[rec] @ g_hat,
                           sim.weights("household")[rec], float(res.lambda_) / float(res.sigma), float(res.sigma), 2,
                           rng)
    for m in range(2):
        np.testing.assert_allclose(np.log(cf.survey.data[f"y_cf_{m + 1}"].to_numpy()[rec]),
                                   mdl._X[rec] @ b_hat + d.residuals[d.nonselected[:, m]], rtol=1e-12)


def test_unknown_residual_rule(sim):
    with pytest.raises(InputError, match="'selection'"):
        counterfactual_income(sim, "x", "x + z", draws=2, residuals="importance")


def test_rho_band_with_selection_residuals(sim):
    """rho_sensitivity follows the imputation's rule: with residuals="selection" the band uses
    the selection-weighted draws at each fixed rho; at rho = 0 both rules draw the same
    residuals (uniform selection weights, same uniforms) and give the same headcount; the band
    rises with rho and at the DGP's rho (0.6) is near the true headcount (as the empirical band)."""
    from remitpov.econometrics.counterfactual import rho_sensitivity
    from remitpov.poverty import fgt

    line = float(np.exp(7.0))
    cf = counterfactual_income(sim, "x", "x + z", draws=2, seed=1, residuals="selection")
    band = rho_sensitivity(cf, line, (-0.6, 0.0, 0.6), alpha=(0,), draws=5)
    emp = rho_sensitivity(cf, line, (-0.6, 0.0, 0.6), alpha=(0,), draws=5, residuals="empirical")
    f0 = band[band["measure"] == "fgt0"].set_index("rho")["estimate"]
    e0 = emp[emp["measure"] == "fgt0"].set_index("rho")["estimate"]
    assert f0.loc[0.0] == pytest.approx(e0.loc[0.0], abs=1e-12)
    assert not np.allclose(f0.to_numpy(), e0.to_numpy())
    assert f0.is_monotonic_increasing and f0.iloc[-1] > f0.iloc[0] + 0.05
    truth = fgt(sim, "y0", line, alpha=(0,)).estimates[0]
    assert abs(f0.loc[0.6] - truth) < 0.03  # the tolerance of test_rho_sensitivity_band (lambda's SE)
    with pytest.raises(InputError, match="rho_sensitivity"):
        rho_sensitivity(cf, line, (0.0,), residuals="normal")
