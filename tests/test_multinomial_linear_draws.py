"""First-order ("linearised") parameter draws of the counterfactual imputations.

References used:
* closed forms: the Jacobian of an explicit nonlinear function; the mean ``pred(theta_hat)``
  and covariance ``G V G'`` of ``pred(theta_hat) + G (theta_m - theta_hat)`` for
  ``theta_m ~ N(theta_hat, V)``; the mean ``exp(mu + V / 2)`` of the recomputed ("full")
  draws of ``exp(theta)`` (lognormal), which the linear rule does not shift;
* in the multinomial counterfactual: a directional central difference along each draw (a
  different route from the coordinate-wise Jacobian), the unconditional prediction (linear in
  the parameters, so the linear and full rules agree), and the "full" imputations with the
  same parameter and residual draws.
"""
from __future__ import annotations

import warnings

import numpy as np
import pytest

from remitpov.econometrics.counterfactual_draws import (central_difference_jacobian, linearised_draws,
                                                        parameter_draw_rule)
from remitpov.econometrics.multinomial import multinomial_counterfactual_income
from remitpov.exceptions import InputError
from remitpov.survey import Survey

THETA = np.array([0.3, -0.7, 1.2])
V = np.array([[0.04, 0.01, 0.0], [0.01, 0.09, -0.02], [0.0, -0.02, 0.05]])


def _f(t):
    """A nonlinear prediction of 4 'households' with an explicit Jacobian."""
    a, b, c = t
    return np.array([np.exp(a) + b**2, a * b, np.sin(b) * c, np.log1p(c**2)])


def _jac(t):
    a, b, c = t
    return np.array([[np.exp(a), 2 * b, 0.0], [b, a, 0.0], [0.0, np.cos(b) * c, np.sin(b)],
                     [0.0, 0.0, 2 * c / (1 + c**2)]])


def test_central_difference_jacobian_closed_form():
    # central differences with h ~ 6e-6: truncation O(h^2) ~ 1e-11, rounding O(eps / h) ~ 4e-11
    np.testing.assert_allclose(central_difference_jacobian(_f, THETA), _jac(THETA), rtol=1e-8, atol=1e-9)
    # any output shape: (2, 2) outputs -> (2, 2, k)
    J = central_difference_jacobian(lambda t: _f(t).reshape(2, 2), THETA)
    np.testing.assert_allclose(J, _jac(THETA).reshape(2, 2, 3), rtol=1e-8, atol=1e-9)


def test_linearised_draws_are_first_order_and_match_delta_method():
    rng = np.random.default_rng(3)
    M = 200_000
    T = rng.multivariate_normal(THETA, V, size=M, method="eigh")
    L = linearised_draws(_f, THETA, T)
    G = _jac(THETA)
    assert L.shape == (4, M)
    # exactly pred(theta_hat) + G (theta_m - theta_hat) (up to the central-difference error of G)
    np.testing.assert_allclose(L[:, :5], _f(THETA)[:, None] + G @ (T[:5] - THETA).T, rtol=1e-8, atol=1e-9)
    # mean pred(theta_hat): Monte Carlo SE sqrt(diag(G V G') / M); tolerance 4 SEs
    S = G @ V @ G.T
    mc_se = np.sqrt(np.diag(S) / M)
    assert np.all(np.abs(L.mean(axis=1) - _f(THETA)) < 4 * mc_se)
    # covariance G V G': the SE of a sample covariance of normals is sqrt((S_ii S_jj + S_ij^2) / M)
    C = np.cov(L)
    se_c = np.sqrt((np.outer(np.diag(S), np.diag(S)) + S**2) / M)
    assert np.all(np.abs(C - S) < 4 * se_c)
    # an explicit Jacobian gives the same draws
    np.testing.assert_allclose(linearised_draws(_f, THETA, T[:10], jacobian=G), L[:, :10], rtol=1e-8, atol=1e-9)
    # the "full" rule (recompute at each draw) shifts the mean of exp(a) by exp(a)(exp(V_aa/2) - 1)
    # (lognormal mean), ~20 MC SEs here; the linear rule does not
    full = np.exp(T[:, 0]) + T[:, 1] ** 2
    shift = np.exp(THETA[0]) * (np.exp(V[0, 0] / 2) - 1) + V[1, 1]  # E[b^2] = b^2 + V_bb
    assert full.mean() - _f(THETA)[0] == pytest.approx(shift, abs=4 * full.std() / np.sqrt(M))
    assert abs(L[0].mean() - _f(THETA)[0]) < 4 * mc_se[0] < shift / 5


def test_linearised_draws_shape_mismatch():
    with pytest.raises(InputError, match="Jacobian shape"):
        linearised_draws(_f, THETA, np.zeros((3, 2)))
    with pytest.raises(InputError, match="Jacobian shape"):
        linearised_draws(_f, THETA, np.zeros((3, 3)), jacobian=np.zeros((4, 2)))


def test_parameter_draw_rule_values():
    assert parameter_draw_rule(True) == "full" and parameter_draw_rule(False) == "fixed"
    assert parameter_draw_rule(np.bool_(True)) == "full"
    for v in ("linear", "full", "fixed"):
        assert parameter_draw_rule(v) == v
    for bad in ("lin", "Linear", 1, None, 0.5):
        with pytest.raises(InputError, match=r"parameter_draws must be 'linear', 'full'.*got"):
            parameter_draw_rule(bad)


def _mn_survey(seed=5, n=3000):
    """Three statuses by a multinomial logit with Gumbel errors; log y0 = 7 + 0.4 x + u,
    u correlated with the choice errors (the Dubin--McFadden model)."""
    import pandas as pd

    rng = np.random.default_rng(seed)
    x, z1, z2 = rng.normal(size=n), rng.uniform(size=n), rng.uniform(size=n)
    V_ = np.column_stack([np.zeros(n), -1.5 + 0.3 * x + 2.0 * z1, -1.8 + 0.2 * x + 2.4 * z2])
    eps = rng.gumbel(size=(n, 3))
    st = np.argmax(V_ + eps, axis=1)
    u = 0.5 * (0.25 * (eps[:, 1] - eps[:, 0]) + 0.3 * (eps[:, 2] - eps[:, 0])) + 0.3 * rng.normal(size=n)
    y0 = np.exp(7 + 0.4 * x + u)
    df = pd.DataFrame({"hh": np.arange(n), "x": x, "z1": z1, "z2": z2, "y": np.where(st == 0, y0, 0.7 * y0),
                       "migration_status": np.array(["none", "internal", "international"])[st],
                       "w": rng.uniform(1, 3, n), "psu": np.arange(n) // 10, "stratum": (np.arange(n) // 10) % 4})
    return Survey(df, weight="w", strata="stratum", psu="psu", ids=("hh",))


@pytest.fixture(scope="module")
def fits():
    s = _mn_survey()
    out = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for rule in ("linear", "full"):
            out[rule] = multinomial_counterfactual_income(s, "x", "x + z1 + z2", income="y", draws=4, seed=9,
                                                          parameter_draws=rule)
    return s, out


def _by_hand(s, cf):
    """(results, imputed-row mask, theta_hat, the conditional log prediction as a function of theta)."""
    from remitpov.econometrics.multinomial import correction_terms, softmax

    res = cf.model
    mdl = res.model
    mig = (s.data["migration_status"] != "none").to_numpy()
    names = list(res.params.index)
    ib = [names.index(c) for c in res.equations["outcome"]]
    ic = [names.index(c) for c in res.equations["correction"]]
    ig = [i for i, c in enumerate(names) if c.startswith("selection[")]

    def pred(t):
        P = softmax(mdl._Z[mig], t[ig].reshape(2, -1).T)
        return mdl._X[mig] @ t[ib] + correction_terms(P, "dmf", mdl._d[mig]) @ t[ic]

    return res, mig, res.params.to_numpy(), pred


def test_multinomial_linear_imputations(fits):
    """Each "linear" imputation = pred(theta_hat) + [d pred/d theta] (theta_m - theta_hat) + e_m: the
    same parameter draws theta_m and residuals e_m as the "full" rule (same seed), so
    log(linear) - log(full) = pred(theta_hat) + G d_m - pred(theta_m); G d_m is checked against a
    directional central difference of pred along d_m (step t = 1e-4: error O(t^2 |d|^3) < 1e-8)."""
    s, cf = fits
    res, mig, theta, pred = _by_hand(s, cf["linear"])
    mdl = res.model

    rng = np.random.default_rng(9)
    T = rng.multivariate_normal(theta, res.cov.to_numpy(), size=4, method="eigh")
    d = s.data
    for m in range(4):
        lin = np.log(cf["linear"].survey.data[f"y_mcf_{m + 1}"].to_numpy()[mig])
        full = np.log(cf["full"].survey.data[f"y_mcf_{m + 1}"].to_numpy()[mig])
        e = full - pred(T[m])  # the residual draw, common to both rules
        D = T[m] - theta
        t = 1e-4
        gd = (pred(theta + t * D) - pred(theta - t * D)) / (2 * t)
        np.testing.assert_allclose(lin, pred(theta) + gd + e, rtol=0, atol=1e-7)
        # the unconditional prediction X b is linear in theta: both rules agree (rounding of the
        # central-difference Jacobian, ~1e-9)
        lu = np.log(cf["linear"].survey.data[f"y_mcf_unconditional_{m + 1}"].to_numpy()[mig])
        fu = np.log(cf["full"].survey.data[f"y_mcf_unconditional_{m + 1}"].to_numpy()[mig])
        np.testing.assert_allclose(lu, fu, rtol=0, atol=1e-7)
    # base households keep their income
    np.testing.assert_array_equal(cf["linear"].survey.data["y_mcf_1"].to_numpy()[~mig], d["y"].to_numpy()[~mig])
    assert any("linearised" in n for n in cf["linear"].notes)


def test_multinomial_parameter_draws_bad_value():
    s = _mn_survey(n=600)
    with pytest.raises(InputError, match="parameter_draws must be"):
        multinomial_counterfactual_income(s, "x", "x + z1 + z2", income="y", parameter_draws="delta")
    with pytest.raises(InputError, match="residual_variance must be one of"):
        multinomial_counterfactual_income(s, "x", "x + z1 + z2", income="y", residual_variance="normal")



# ----------------------------------------------------------------------------- residual variance rules
def test_matched_residual_variance_by_hand(fits):
    """residual_variance="matched" (default): the imputed residual of household i is the drawn
    base residual times sqrt(1 - 2 g_i / s^2), g_i = G_i V G_i' (the prediction's delta-method
    variance), s^2 the base residuals' weighted variance; "base" keeps the residual as drawn.
    Same seed: the same parameter and residual draws, so the log ratio is known."""
    s, cf = fits
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        base = multinomial_counterfactual_income(s, "x", "x + z1 + z2", income="y", draws=4, seed=9,
                                                 parameter_draws="linear", residual_variance="base")
    res, mig, theta, pred = _by_hand(s, cf["linear"])
    mdl = res.model

    G = np.column_stack([(pred(theta + h) - pred(theta - h)) / (2 * 1e-5)
                         for h in 1e-5 * np.eye(theta.size)])
    g = np.einsum("ip,pq,iq->i", G, res.cov.to_numpy(), G)
    r = res.extra["residuals"]
    ok = np.isfinite(r)
    rr = r[ok] - np.average(r[ok], weights=mdl._w[ok])
    s2 = np.average(rr**2, weights=mdl._w[ok])
    assert np.all(g < s2 / 2) and g.mean() > 1e-4  # the scale is not trivial here
    scale = np.sqrt(1 - 2 * g / s2)
    point = pred(theta)
    T = np.random.default_rng(9).multivariate_normal(theta, res.cov.to_numpy(), size=4, method="eigh")
    for m in range(4):
        col = f"y_mcf_{m + 1}"
        mean_m = point + G @ (T[m] - theta)
        e_m = np.log(base.survey.data[col].to_numpy()[mig]) - mean_m  # the base rule's residual draw
        np.testing.assert_allclose(np.log(cf["linear"].survey.data[col].to_numpy()[mig]), mean_m + scale * e_m,
                                   rtol=0, atol=1e-6)  # hand Jacobian by central differences: error ~1e-9
    assert cf["linear"].diagnostics["parameter_variance_share"] == pytest.approx(g.mean() / s2, rel=1e-6)


def test_matched_variance_removes_the_parameter_noise_bias_fast_mc():
    """Fast Monte Carlo subset (validation/mn_bias.py, 5 seeds of the status-invariant DMF DGP,
    paired on the same sample and seed): matching the residual variance lowers FGT0 by about
    0.005 against the base residual variance (150 seeds: -0.0052, per-seed SD 0.0013, so the
    5-seed mean has an SE of about 0.0006; the interval [-0.008, -0.002] is +-5 SEs), as the
    variance argument predicts (twice the +0.0026 "draws minus fixed parameters" effect), while
    linear and full parameter draws agree (150 seeds: -0.0002, per-seed SD 0.0001)."""
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "validation"))
    import mn_bias

    r = [mn_bias.replication(sd, "shift", draws=20, rules=("full", "linear", "matched")) for sd in range(1, 6)]
    d = np.array([[x["matched:fgt0"] - x["full:fgt0"], x["linear:fgt0"] - x["full:fgt0"]] for x in r])
    assert -0.008 < d[:, 0].mean() < -0.002
    assert np.all(d[:, 0] < 0)
    assert abs(d[:, 1].mean()) < 0.001


def test_matched_variance_floor_is_reported():
    """Where twice the prediction's delta-method variance exceeds the residual variance (seed 15
    of the status-invariant DMF DGP: 1.6 % of the imputed households) the residual is set to zero,
    the share is in the diagnostics and a note says so; none at seed 1."""
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "validation"))
    import montecarlo as mc

    out = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for sd in (1, 15):
            out[sd] = multinomial_counterfactual_income(mc.mn_model_survey(sd, errors="shift"), "x1 + x2",
                                                        "x1 + x2 + z_int + z_mig", income="y_static", draws=2,
                                                        seed=sd)
    assert out[1].diagnostics["residual_floor_share_conditional"] == 0
    assert not any("exceeds the residual variance" in n for n in out[1].notes)
    assert 0.005 < out[15].diagnostics["residual_floor_share_conditional"] < 0.05
    assert any("1.6% of the imputed households" in n for n in out[15].notes)
    assert 0.05 < out[15].diagnostics["parameter_variance_share"] < 0.3


# ----------------------------------------------------------------------------- residuals="dmf"
def test_gumbel_given_choice_against_closed_forms_and_simulation():
    """Gumbel choice errors given the chosen status: their means are the "dmf1" correction terms
    ``K E[eps_j - euler_gamma | k]`` (closed form: ``-ln P_k`` for the chosen status, ``P_j ln P_j /
    (1 - P_j)`` for the others; 400,000 draws, SE < 0.003, tolerance 0.01), and the QMC covariance
    of ``K (eps_j - eps_0)`` given the status equals that of 400,000 simulated logit choices
    (SE of a variance ~ var sqrt(2 / n_k) < 0.003 for the rarest status; tolerance 0.01)."""
    from remitpov.econometrics.multinomial import correction_terms
    from remitpov.econometrics.multinomial_counterfactual import _eta_cov, _gumbel_given_choice

    K = np.sqrt(6.0) / np.pi
    Vu = np.array([0.0, -1.2, -0.4])
    P = (np.exp(Vu) / np.exp(Vu).sum())[None, :]
    rng = np.random.default_rng(1)
    n = 400_000
    eps = rng.gumbel(size=(n, 3))
    code = np.argmax(Vu + eps, axis=1)
    for k in range(3):
        draws = _gumbel_given_choice(P, np.array([k]), rng.random((1, n, 4)))[0]
        np.testing.assert_allclose(K * (draws.mean(axis=0) - np.euler_gamma),
                                   correction_terms(P, "dmf1", k)[0], atol=0.01)
        z = K * (eps[code == k, 1:] - eps[code == k, :1])
        np.testing.assert_allclose(_eta_cov(P, np.array([k]))[0], np.cov(z.T), atol=0.01)


def test_dmf_residuals_need_the_dmf_method():
    s = _mn_survey(n=600)
    with pytest.raises(InputError, match="residuals='dmf' .* needs method='dmf'"):
        multinomial_counterfactual_income(s, "x", "x + z1 + z2", income="y", method="bfg", residuals="dmf")
    with pytest.raises(InputError, match="residuals must be 'empirical', 'normal' or 'dmf'"):
        multinomial_counterfactual_income(s, "x", "x + z1 + z2", income="y", residuals="gumbel")


def test_table_passes_rules_to_the_multinomial_row_only():
    """multinomial_counterfactual_table(parameter_draws="linear", residuals="dmf"): the multinomial
    row uses them (its notes say so); the binary Heckman row, which has neither, keeps its defaults
    (no error) -- the same binary row as with the defaults."""
    from remitpov.econometrics.multinomial import multinomial_counterfactual_table
    from remitpov.income import build_income
    from remitpov.synthetic import synthetic_survey

    s = build_income(synthetic_survey(seed=11, n_households=2000, migration_types=True))
    d = s.data
    s = s.with_columns(y_static=np.maximum((d["y_hh"] - (d["remesas"] + d["internal_transfers"]) / 3)
                                           / d["eq_scale"], 0), rural=(d["area"] == "rural") * 1.0)
    rhs = "head_educ + rural"
    tabs = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for kw in ({}, {"parameter_draws": "linear", "residuals": "dmf"}):
            tabs[bool(kw)] = multinomial_counterfactual_table(s, "poverty_line", rhs, rhs + " + mig_network + int_network",
                                                              binary_selection_formula=rhs + " + mig_network",
                                                              alpha=(0,), draws=2, rho_grid=None, **kw)
    f = {}
    for k, (t, _) in tabs.items():
        fr = t.to_frame()
        f[k] = fr[fr["measure"] == "fgt0"].drop_duplicates("concept").set_index("concept")["estimate"]
    assert f[True]["heckman"] == f[False]["heckman"]
    assert f[True]["multinomial"] != f[False]["multinomial"]
    assert any("linearised" in n and "residuals dmf" in n for n in tabs[True][1].notes)
