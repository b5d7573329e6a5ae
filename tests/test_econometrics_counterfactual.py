"""Selection-corrected counterfactual income and poverty (Barham-Boucher / Adams).

References: Rubin's rules against a hand computation (closed form); the counterfactual
against a simulated population whose no-migration income is KNOWN (a data-generating
process with correlated selection, where OLS on non-recipients is biased in closed form);
the poverty step against ``remitpov.poverty.fgt`` / ``remitpov.estimation.mean`` (the same
estimator as the static counterfactual); end to end on ENIGH 2010 rural.
"""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from remitpov.econometrics.counterfactual import (ENIGH_RURAL_SPEC, CounterfactualWarning, counterfactual_fgt,
                                                  counterfactual_gini,
                                                  counterfactual_income, enigh_covariates, leave_one_out_share,
                                                  remittance_counterfactual_table, rubin)
from remitpov.estimation import mean
from remitpov.exceptions import InputError
from remitpov.poverty import fgt
from remitpov.results import EstimateTable
from remitpov.survey import Survey

# ----------------------------------------------------------------------------- Rubin
def _table(est, V, df=50.0):
    keys = pd.DataFrame({"measure": ["a", "b"]})
    return EstimateTable(keys, np.asarray(est, float), np.asarray(V, float), df)


def test_rubin_rules_closed_form():
    # three imputations of two estimates
    Q = [(1.0, 10.0), (2.0, 10.0), (4.0, 10.0)]
    U = [np.diag([0.5, 2.0]), np.diag([0.7, 2.0]), np.diag([0.6, 2.0])]
    U[0][0, 1] = U[0][1, 0] = 0.3
    out = rubin([_table(q, u) for q, u in zip(Q, U)])
    # by hand: Qbar = 7/3; Ubar = 0.6; B = var(1,2,4) = ((4/3)^2 + (1/3)^2 + (5/3)^2)/2 = 7/3;
    # T = 0.6 + (1 + 1/3) * 7/3 = 0.6 + 28/9; second estimate identical in every imputation:
    # B = 0, T = U = 2; covariance: mean(0.3, 0, 0) = 0.1 (no between part: b is constant)
    assert out.estimates[0] == pytest.approx(7 / 3)
    assert out.estimates[1] == pytest.approx(10.0)
    assert out.vcov[0, 0] == pytest.approx(0.6 + 28 / 9)
    assert out.vcov[1, 1] == pytest.approx(2.0)
    assert out.vcov[0, 1] == pytest.approx(0.1)
    # Barnard-Rubin df: r = (28/9)/(0.6+28/9); nu_m = 2/r^2; nu_obs = 51/53*50*(1-r)
    r = (28 / 9) / (0.6 + 28 / 9)
    nu = 1 / (r**2 / 2 + 1 / (51 / 53 * 50 * (1 - r)))
    # per-row df: the constant row keeps the completed-data df (50)
    assert out.df.tolist() == pytest.approx([nu, 50.0])
    f = out.to_frame()
    assert f["fmi"].tolist() == pytest.approx([r, 0.0])
    assert f["df"].tolist() == pytest.approx([nu, 50.0])
    with pytest.raises(InputError):
        rubin([_table(Q[0], U[0])])


def test_rubin_per_row_barnard_rubin_df_and_intervals():
    """Two rows with different fractions of missing information get their own Barnard-Rubin
    df and t intervals (hand computation); a contrast uses the smaller df; subset/get keep them."""
    from scipy import stats

    Q = [(1.0, 5.0), (2.0, 5.1), (4.0, 4.9), (3.0, 5.0)]
    U = [np.diag([0.5, 0.2])] * 4
    out = rubin([_table(q, u, df=30.0) for q, u in zip(Q, U)])
    M, dfc = 4, 30.0
    hand = []
    for j, u in enumerate((0.5, 0.2)):
        q = np.array([row[j] for row in Q])
        b = q.var(ddof=1)
        t = u + (1 + 1 / M) * b
        r = (1 + 1 / M) * b / t
        nu_m = (M - 1) / r**2
        nu_obs = (dfc + 1) / (dfc + 3) * dfc * (1 - r)
        nu = 1 / (1 / nu_m + 1 / nu_obs)
        c = stats.t.ppf(0.975, nu)
        hand.append((q.mean(), np.sqrt(t), nu, q.mean() - c * np.sqrt(t), q.mean() + c * np.sqrt(t)))
    hand = np.array(hand)
    assert hand[0, 2] != pytest.approx(hand[1, 2], rel=0.05)  # the two rows' df really differ
    f = out.to_frame()
    np.testing.assert_allclose(f[["estimate", "se", "df", "ci_lower", "ci_upper"]].to_numpy(), hand, rtol=1e-12)
    e = out.get(measure="b")
    assert (e.df, e.ci_lower) == pytest.approx((hand[1, 2], hand[1, 3]), rel=1e-12)
    assert out.subset(measure="b").df.tolist() == pytest.approx([hand[1, 2]], rel=1e-12)
    d = out.contrast([1, -1])
    assert d.df == pytest.approx(min(hand[:, 2]), rel=1e-12)
    assert "each row's df" in out.summary()
    from remitpov.results import concat_tables
    both = concat_tables([out.subset(measure="b"), _table((0.0, 1.0), np.eye(2), df=12.0)])
    assert both.df.tolist() == pytest.approx([hand[1, 2], 12.0, 12.0], rel=1e-12)


# ----------------------------------------------------------------------------- simulated DGP
RHO, SIGMA = 0.6, 0.5
BETA = np.array([7.0, 0.4])


def _simulated(n=6000, seed=11):
    """Non-recipient iff 1.5 + 0.5 x - 1.8 z + u > 0; log y0 = 7 + 0.4 x + e; corr(e, u) = 0.6.
    Recipients lose 70 % of y0 (the migrant's earnings) and receive remittances."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    z = rng.uniform(size=n)  # network: in the selection equation only
    u = rng.normal(size=n)
    e = SIGMA * (RHO * u + np.sqrt(1 - RHO**2) * rng.normal(size=n))
    nonrec = 1.5 + 0.5 * x - 1.8 * z + u > 0
    y0 = np.exp(BETA[0] + BETA[1] * x + e)
    y_without = np.where(nonrec, y0, 0.3 * y0)
    remit = np.where(nonrec, 0.0, 0.5 * y0)
    df = pd.DataFrame({"hh": np.arange(n), "psu": np.arange(n) // 10, "stratum": (np.arange(n) // 10) % 5,
                       "w": rng.integers(50, 150, n).astype(float), "size": 1.0, "x": x, "z": z,
                       "y0": y0, "y_without": y_without, "y_with": y_without + remit,
                       "recipient": ~nonrec})
    return Survey(df, weight="w", strata="stratum", psu="psu", size="size", ids=("hh",))


@pytest.fixture(scope="module")
def sim():
    return _simulated()


def test_selection_correction_recovers_truth_better_than_ols(sim):
    d = sim.data
    rec = d["recipient"].to_numpy()
    cf = counterfactual_income(sim, "x", "x + z", kind="nonselected", draws=0)
    b = cf.model.outcome_params.to_numpy()
    # OLS on non-recipients: biased intercept, E[e | s=1] = rho sigma E[imr] > 0 (closed form)
    X = np.column_stack([np.ones(len(d)), d["x"]])
    ols = np.linalg.lstsq(X[~rec], np.log(d["y0"][~rec]), rcond=None)[0]
    se = cf.model.std_errors.iloc[:2].to_numpy()
    # Heckman within 3 SEs of the truth; OLS intercept off by more than 0.1 (> 3 SEs)
    assert np.all(np.abs(b - BETA) < 3 * se)
    assert ols[0] - BETA[0] > 0.1 and abs(b[0] - BETA[0]) < (ols[0] - BETA[0]) / 3
    assert float(cf.model.rho) == pytest.approx(RHO, abs=0.15)
    # recipients' mean counterfactual log income: E[log y0 | recipient] = X b - rho sigma phi/Phi(-Zg)
    truth = np.log(d["y0"][rec]).mean()
    ours = np.log(cf.survey.data["y_cf"][rec]).mean()
    naive = (X[rec] @ ols).mean()
    # naive = OLS prediction ignoring selection: off by ~0.43 (= E[e | recipient] + OLS bias).
    # Ours: the error is dominated by lambda's sampling error (SE ~0.05) times the recipients'
    # mean Mills ratio (~1.2), i.e. SD ~0.06 across seeds 11-14 (errors 0.07, -0.06, -0.10,
    # -0.02): 0.15 is 2.5 SD, and a third of the naive error.
    assert abs(ours - truth) < 0.15 and abs(naive - truth) > 0.3
    assert abs(ours - truth) < abs(naive - truth) / 3
    # non-recipients keep their observed income (no remittances) exactly
    np.testing.assert_array_equal(cf.survey.data["y_cf"][~rec], d["y_without"][~rec])
    # the deterministic column is exp(prediction) computed by hand
    q = cf.model.predict(kind="index").to_numpy()
    hand = X @ b - float(cf.model.lambda_) * stats.norm.pdf(q) / stats.norm.cdf(-q)
    np.testing.assert_allclose(cf.survey.data["y_cf"][rec], np.exp(hand[rec]), rtol=1e-12)
    assert cf.survey.report.find("counterfactual")


def test_imputed_poverty_covers_true_counterfactual(sim):
    """With residual + coefficient draws the MI headcount under the counterfactual is
    within 3 Rubin SEs of the headcount under the TRUE no-migration income y0 (same sample);
    the static counterfactual (income minus remittances) is far off."""
    d = sim.data
    line = float(np.exp(7.0))  # near the median of y0
    cf = counterfactual_income(sim, "x", "x + z", kind="nonselected", draws=10, seed=5)
    assert cf.columns == tuple(f"y_cf_{m}" for m in range(1, 11))
    tab = counterfactual_fgt(cf, line, alpha=(0,), concepts={"truth": "y0", "static": "y_without"})
    est = tab.to_frame().set_index(["measure", "concept"])
    truth = est.loc[("fgt0", "truth"), "estimate"]
    sel = est.loc[("fgt0", "selection")]
    assert abs(sel["estimate"] - truth) < 3 * sel["se"]
    assert est.loc[("fgt0", "static"), "estimate"] - truth > 5 * sel["se"]
    # Rubin's variance exceeds the average within-imputation variance
    assert sel["fmi"] > 0
    # seeded: same seed same draws, other seed different
    again = counterfactual_income(sim, "x", "x + z", kind="nonselected", draws=10, seed=5)
    np.testing.assert_array_equal(again.survey.data["y_cf_3"], cf.survey.data["y_cf_3"])
    other = counterfactual_income(sim, "x", "x + z", kind="nonselected", draws=10, seed=6)
    assert not np.allclose(other.survey.data["y_cf_3"], cf.survey.data["y_cf_3"])


def test_same_estimator_as_static_and_callable(sim):
    """counterfactual_fgt uses poverty.fgt exactly as for the static income; an estimator
    callable (mean of a poverty indicator) gives the same headcount and SE."""
    line = float(np.exp(7.0))
    cf = counterfactual_income(sim, "x", "x + z", draws=0)
    tab = counterfactual_fgt(cf, line, alpha=(0,), concepts={"static": "y_without"})
    direct = fgt(cf.survey, {"static": "y_without", "selection": "y_cf"}, line, alpha=(0,))
    np.testing.assert_allclose(tab.estimates, direct.estimates)
    np.testing.assert_allclose(tab.vcov, direct.vcov)

    def headcount(survey, incomes):
        ind = {k: (survey.data[v].to_numpy() < line).astype(float) for k, v in incomes.items()}
        return mean(survey, list(ind.values()))

    alt = counterfactual_fgt(cf, estimator=headcount, concepts={"static": "y_without"})
    f0 = direct.to_frame().query("measure == 'fgt0'")
    np.testing.assert_allclose(alt.estimates, f0["estimate"], rtol=1e-12)
    np.testing.assert_allclose(alt.se, f0["se"], rtol=1e-10)


def test_input_errors(sim):
    with pytest.raises(InputError, match="right-hand side"):
        counterfactual_income(sim, "np.log(y_without) ~ x", "x + z")
    with pytest.raises(InputError, match="draws"):
        counterfactual_income(sim, "x", "x + z", draws=1)
    with pytest.raises(InputError, match="kind"):
        counterfactual_income(sim, "x", "x + z", kind="conditional")
    d = sim.data.copy()
    d.loc[d.index[~d["recipient"]][:2], "y_without"] = 0.0
    s0 = sim.replace(data=d)
    with pytest.raises(InputError, match="zero or negative"):
        counterfactual_income(s0, "x", "x + z", nonpositive="error")
    with pytest.warns(CounterfactualWarning, match="2 non-recipient rows"):
        cf = counterfactual_income(s0, "x", "x + z", draws=0)
    assert cf.survey.report.find("excluded")[0].rows == 2
    assert (cf.survey.data["y_cf"].iloc[np.flatnonzero(~cf.estimation_mask)] == 0).all()
    with pytest.raises(InputError, match="line"):
        counterfactual_fgt(cf)


def test_leave_one_out_share():
    df = pd.DataFrame({"g": [1, 1, 1, 2, 2, 3], "s": [0, 0, 0, 0, 0, 1], "d": [1, 0, 1, 1, 0, 1],
                       "w": [1.0, 2.0, 1.0, 1.0, 3.0, 1.0]})
    s = Survey(df, weight="w")
    out = leave_one_out_share(s, "d", "g", fallback="s", level="household")
    # row 0: others in g=1 are rows 1 (w2, d0) and 2 (w1, d1) -> 1/3; row 3: other is row 4 (d0) -> 0;
    # row 5 alone in g=3 and in s=1 -> overall leave-one-out: (1+1+1+... ) excluding itself
    w, d = df.w.to_numpy(), df.d.to_numpy()
    assert out[0] == pytest.approx(1 / 3) and out[1] == pytest.approx(1.0) and out[3] == 0.0
    assert out[5] == pytest.approx(((w * d).sum() - 1) / (w.sum() - 1))


def test_synthetic_survey_end_to_end():
    from remitpov.income import build_income
    from remitpov.synthetic import synthetic_survey

    s = build_income(synthetic_survey(3, n_households=1500), scale="per_capita", period="month")
    s = s.with_columns(log_size=np.log(s.data["tot_integ"]))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CounterfactualWarning)
        tab, cf = remittance_counterfactual_table(
            s, "poverty_line", "log_size + head_educ + head_age + head_female + C(area)",
            "log_size + head_educ + head_age + head_female + C(area) + mig_network", draws=5)
    f = tab.to_frame()
    assert set(f["concept"]) == {"observed", "static", "selection", "selection_unconditional"}
    p0 = f[f.measure == "fgt0"].set_index("concept")["estimate"]
    # static counterfactual subtracts all remittances: poverty at least as high as observed
    assert p0["static"] >= p0["observed"]
    assert np.all(np.isfinite(f["se"])) and np.all(f["se"] > 0)


# ----------------------------------------------------------------------------- ENIGH 2010 rural
def test_enigh_2010_rural_table(shared):
    """Must-show: FGT(0,1,2) with SEs under observed, static and selection-corrected income.

    Specification (ENGIH_RURAL_SPEC): log per-capita monthly income of non-recipients on
    log household size (and its square), the indigenous-household flag and Durand-Massey
    migration-region effects; selection (non-recipient) adds the PSU leave-one-out share of
    recipients (network). The concentrado has no head characteristics. Line: CONEVAL 2010
    rural "linea de bienestar" 1,328.51 pesos/person/month (applied to per-capita income,
    not CONEVAL's adult-equivalent income). Singleton-PSU strata: lonely_psu='adjust'.
    """
    from remitpov.income import build_income
    from remitpov.io.enigh import read_enigh

    s = build_income(read_enigh(shared("data", "enigh2010_rural", "Conc2010_rural.dbf")),
                     scale="per_capita", period="month")
    s = enigh_covariates(s).with_lonely_psu("adjust")
    # the recipient-specific counterfactual moves poverty opposite to the static one: warned
    with pytest.warns(CounterfactualWarning, match="opposite directions"):
        tab, cf = remittance_counterfactual_table(s, 1328.51, **ENIGH_RURAL_SPEC, draws=10, seed=1)
    g = cf.diagnostics
    assert g["direction"]["opposite"] and g["direction"]["static"] > 0 > g["direction"]["counterfactual"]
    # diagnostics of the example's notes: strong exclusion restriction, borderline negative rho,
    # selection on receipt (no migrant roster in the concentrado), a rho band on both sides of observed
    assert g["exclusion_F"] > 100 and g["rho"] < 0 and cf.selection == "recipient"
    band = g["rho_band"]["fgt0"]
    obs = tab.to_frame().query("measure == 'fgt0' and concept == 'observed'")["estimate"].item()
    assert min(band) < obs < max(band) and band == sorted(band)
    assert any("** OPPOSITE DIRECTIONS **" in n for n in tab.notes)
    f = tab.to_frame().set_index(["measure", "concept"])
    assert len(f) == 16  # 4 rows x observed, static, selection (recipient-specific), selection_unconditional
    # observed and static rows are exactly poverty.fgt on y_with / y_without (the static estimator)
    ref = fgt(s, {"observed": "y_with", "static": "y_without"}, 1328.51).to_frame().set_index(["measure", "concept"])
    for idx in ref.index:
        assert f.loc[idx, "estimate"] == pytest.approx(ref.loc[idx, "estimate"], rel=1e-12)
        assert f.loc[idx, "se"] == pytest.approx(ref.loc[idx, "se"], rel=1e-9)
    # recipients' counterfactual incomes are positive predictions; 583 recipient households
    rec = cf.survey.data["recipient"].to_numpy()
    assert rec.sum() == 583 and np.all(cf.survey.data.loc[rec, "y_cf_1"] > 0)
    # the selection-corrected headcount lies between observed-with-remittances and well below
    # a doubling of the static effect; its SE includes between-imputation variance
    for m in ("fgt0", "fgt1", "fgt2"):
        assert f.loc[(m, "selection"), "se"] >= f.loc[(m, "observed"), "se"] * 0.9
        assert 0 < f.loc[(m, "selection"), "estimate"] < 1
    # the exclusion restriction matters in the probit (network strongly predicts receipt)
    assert cf.model.tstats["selection:network"] < -5
    # the contrast selection - observed has an SE from the joint covariance
    keys = tab.keys
    c = np.where((keys.measure == "fgt0") & (keys.concept == "selection"), 1.0, 0.0) - \
        np.where((keys.measure == "fgt0") & (keys.concept == "observed"), 1.0, 0.0)
    assert np.isfinite(tab.contrast(c).se)


def test_ml_and_unconditional_draws(sim):
    """ML selection model and unconditional draws: the draws' mean log income for recipients
    matches X b (E[e] = 0) up to Monte Carlo error sigma/sqrt(M n_rec)."""
    cf = counterfactual_income(sim, "x", "x + z", method="ml", kind="unconditional", draws=4, seed=2)
    assert cf.model.method == "ML" and cf.model.cov_type == "design"
    rec = cf.survey.data["recipient"].to_numpy()
    logs = np.log(cf.survey.data.loc[rec, list(cf.columns)].to_numpy())
    xb = cf.model.predict().to_numpy()[rec]
    mc = float(cf.model.sigma) / np.sqrt(logs.size)
    # coefficient draws add the prediction's sampling SD (~0.02 for the mean): allow 4 of each
    assert abs((logs - xb[:, None]).mean()) < 4 * mc + 4 * 0.02
    assert float(cf.model.rho) == pytest.approx(RHO, abs=0.15)


def test_counterfactual_gini_rubin_mean(sim):
    """Inequality with the same estimator: rows equal inequality.gini on each column; the
    selection row is the mean over imputations and its variance Rubin's T (closed form)."""
    from remitpov.inequality import gini

    cf = counterfactual_income(sim, "x", "x + z", draws=3, seed=9)
    tab = counterfactual_gini(cf, concepts={"observed": "y_with"})
    f = tab.to_frame().set_index("concept")
    g_obs = gini(cf.survey, "y_with", deff=False)
    assert f.loc["observed", "estimate"] == pytest.approx(g_obs.estimates[0], rel=1e-12)
    assert f.loc["observed", "se"] == pytest.approx(g_obs.se[0], rel=1e-9)
    per = [gini(cf.survey, c, deff=False) for c in cf.columns]
    q = np.array([t.estimates[0] for t in per])
    u = np.array([t.vcov[0, 0] for t in per])
    assert f.loc["selection", "estimate"] == pytest.approx(q.mean(), rel=1e-12)
    assert f.loc["selection", "se"] ** 2 == pytest.approx(u.mean() + (1 + 1 / 3) * q.var(ddof=1), rel=1e-9)
    # the difference observed - selection: estimated jointly in every imputation (same sample,
    # difference of influence values), combined by Rubin's rules -- by hand from
    # compare_inequality on each imputed column
    from remitpov.inequality import compare_inequality

    per_d = [compare_inequality(cf.survey, {"observed": "y_with", "selection": c}, measure="gini", deff=False)
             for c in cf.columns]
    qd = np.array([t.estimates[2] for t in per_d])
    ud = np.array([t.vcov[2, 2] for t in per_d])
    d = f.loc["observed - selection"]
    assert d["estimate"] == pytest.approx(g_obs.estimates[0] - q.mean(), rel=1e-10)
    assert d["se"] ** 2 == pytest.approx(ud.mean() + (1 + 1 / 3) * qd.var(ddof=1), rel=1e-9)


# ----------------------------------------------------------------------------- proper imputation
def test_parameter_draws_joint_normal(sim):
    """All parameters (outcome, probit, lambda) are drawn jointly from N(theta_hat, V): with
    M = 4000 draws the mean is within 4 MC SEs of theta_hat and the covariance within 10 %
    of V (the SD of a variance estimate from 4000 normal draws is sqrt(2/4000) = 2.2 %)."""
    from remitpov.econometrics.counterfactual import parameter_draws_from

    cf = counterfactual_income(sim, "x", "x + z", draws=0)
    res = cf.model
    T = parameter_draws_from(res, 4000, np.random.default_rng(1))
    th, V = res.params.to_numpy(), res.cov.to_numpy()
    assert T.shape == (4000, th.size) and set(res.params.index) >= {"lambda", "selection:z"}
    se = np.sqrt(np.diag(V))
    assert np.all(np.abs(T.mean(0) - th) < 4 * se / np.sqrt(4000))
    scale = np.sqrt(np.outer(np.diag(V), np.diag(V)))
    assert np.abs((np.cov(T.T) - V) / scale).max() < 0.1  # covariances relative to the SDs' product
    fixed = parameter_draws_from(res, 3, np.random.default_rng(1), parameter_draws=False)
    np.testing.assert_array_equal(fixed, np.repeat(th[None], 3, axis=0))


def test_imputations_use_drawn_selection_parameters(sim):
    """Each imputation = X b_m - lambda_m phi(Z g_m)/Phi(-Z g_m) + sigma sqrt(1 - rho_m^2 delta0) e*,
    with (b_m, g_m, lambda_m) ONE joint draw and e* a weight-proportional draw of the standardised
    selection-corrected residuals -- recomputed here by hand from the same seed."""
    from remitpov.econometrics.counterfactual import resample_index

    cf = counterfactual_income(sim, "x", "x + z", draws=3, seed=4)
    res, mdl = cf.model, cf.model.model
    rng = np.random.default_rng(4)
    T = rng.multivariate_normal(res.params.to_numpy(), res.cov.to_numpy(), size=3, method="eigh")
    names = list(res.params.index)
    ib = [names.index(c) for c in ("Intercept", "x")]
    ig = [names.index(f"selection:{c}") for c in ("Intercept", "x", "z")]
    sig = float(res.sigma)
    lam_hat = float(res.lambda_)
    rho_hat = lam_hat / sig
    s = mdl._s
    q = mdl._Z[s] @ res.params.to_numpy()[ig]
    m1 = stats.norm.pdf(q) / stats.norm.cdf(q)
    r = mdl._y[s] - mdl._X[s] @ res.params.to_numpy()[ib] - lam_hat * m1
    eps = r / (sig * np.sqrt(1 - rho_hat**2 * m1 * (m1 + q)))
    eps = eps - np.average(eps, weights=mdl._w[s])
    rec = sim.data["recipient"].to_numpy()
    E = eps[resample_index(mdl._w[s], (int(rec.sum()), 3), rng)]
    for m in range(3):
        qm = mdl._Z[rec] @ T[m, ig]
        m0 = stats.norm.pdf(qm) / stats.norm.cdf(-qm)
        lam = T[m, names.index("lambda")]
        rho = lam / sig
        hand = mdl._X[rec] @ T[m, ib] - lam * m0 + sig * np.sqrt(1 - rho**2 * m0 * (m0 - qm)) * E[:, m]
        np.testing.assert_allclose(np.log(cf.survey.data[f"y_cf_{m + 1}"].to_numpy()[rec]), hand, rtol=1e-10)
        # the unconditional kind shares the draws: X b_m + sigma e*
        np.testing.assert_allclose(np.log(cf.survey.data[f"y_cf_unconditional_{m + 1}"].to_numpy()[rec]),
                                   mdl._X[rec] @ T[m, ib] + sig * E[:, m], rtol=1e-10)
    # the probit coefficients really vary between imputations
    assert np.ptp(T[:, ig], axis=0).min() > 0


def test_selection_on_migration_and_diagnostics():
    """Synthetic survey: selection on has_migrant by default (its role), receipt on request;
    notes state the conventions; diagnostics carry the tests."""
    from remitpov.econometrics.counterfactual import ABSENT_MIGRANT_NOTE, RECEIPT_NOTE
    from remitpov.income import build_income
    from remitpov.synthetic import synthetic_survey

    s = build_income(synthetic_survey(4, n_households=1600))
    s = s.with_columns(rural=(s.data["area"] == "rural").to_numpy(float))
    rhs = "head_educ + rural + head_female + n_adults"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CounterfactualWarning)
        cf = counterfactual_income(s, rhs, rhs + " + mig_network", draws=2, seed=1)
        rc = counterfactual_income(s, rhs, rhs + " + mig_network", migrant=None, draws=2, seed=1)
    d = cf.survey.data
    mig, rec = d["has_migrant"].to_numpy() == 1, d["recipient"].to_numpy()
    assert cf.selection == "has_migrant" and rc.selection == "recipient"
    assert (rec & ~mig).any() and (mig & ~rec).any()
    # recipients without a migrant keep income without remittances; migrants are imputed
    np.testing.assert_array_equal(d.loc[rec & ~mig, "y_cf_1"], d.loc[rec & ~mig, "y_without"])
    assert not np.allclose(d.loc[mig, "y_cf_1"], d.loc[mig, "y_without"])
    assert ABSENT_MIGRANT_NOTE in cf.notes and RECEIPT_NOTE in rc.notes and RECEIPT_NOTE not in cf.notes
    g = cf.diagnostics
    assert g["excluded"] == ["mig_network"] and g["exclusion_df"] == 1
    # the exclusion statistic is the squared z of the network coefficient in the probit
    z = cf.model.params["selection:mig_network"] / cf.model.std_errors["selection:mig_network"]
    assert g["exclusion_stat"] == pytest.approx(z**2, rel=1e-10) and g["exclusion_F"] > 10
    lam = cf.model.lambda_
    assert g["selection_stat"] == pytest.approx(lam.estimate / lam.se, rel=1e-12)
    assert 0 <= g["static_zero_share"] < 0.05 and g["imputed_zero_share"] == 0.0
    text = cf.summary()
    assert "exclusion restriction (mig_network)" in text and "absent migrant" in text
    with pytest.raises(InputError, match="migrant column"):
        counterfactual_income(s, rhs, rhs + " + mig_network", migrant="nope")
    with pytest.raises(InputError, match="residuals"):
        counterfactual_income(s, rhs, rhs + " + mig_network", residuals="t")


def test_table_diagnostics_direction_and_contrast():
    """Closed form: contrast = difference of the two rows, SE from the joint covariance; a
    warning when the counterfactual and the static changes have opposite signs."""
    from remitpov.econometrics.counterfactual import table_diagnostics

    keys = pd.DataFrame({"measure": ["fgt0"] * 4, "concept": ["observed", "static", "selection", "selection_unconditional"]})
    V = np.diag([1e-4, 1e-4, 4e-4, 2e-4])
    V[2, 3] = V[3, 2] = 1e-4
    t = EstimateTable(keys, np.array([0.30, 0.33, 0.28, 0.31]), V, 100.0)
    with pytest.warns(CounterfactualWarning, match="opposite directions"):
        d = table_diagnostics(t, "selection", "selection_unconditional", "nonselected")
    assert d["kind_contrast"]["estimate"] == pytest.approx(-0.03)
    assert d["kind_contrast"]["se"] == pytest.approx(np.sqrt(4e-4 + 2e-4 - 2e-4))
    assert d["direction"] == {"static": pytest.approx(0.03), "counterfactual": pytest.approx(-0.02), "opposite": True}
    t2 = EstimateTable(keys, np.array([0.30, 0.33, 0.31, 0.31]), V, 100.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert table_diagnostics(t2, "selection", "selection_unconditional", "nonselected")["direction"]["opposite"] is False


def test_rho_sensitivity_band(sim):
    """In the simulated DGP (rho = 0.6) the band rises with rho (lower predicted incomes for the
    selected-out households) and its value at the true rho is within 0.03 of the headcount of the
    true no-migration income (the prediction error of lambda's SE ~0.05 x mean Mills ratio,
    see test_selection_correction_recovers_truth_better_than_ols), while rho = -0.6 is far off."""
    from remitpov.econometrics.counterfactual import rho_sensitivity

    line = float(np.exp(7.0))
    cf = counterfactual_income(sim, "x", "x + z", draws=0)
    band = rho_sensitivity(cf, line, (-0.6, 0.0, 0.6), alpha=(0,), draws=5)
    f0 = band[band["measure"] == "fgt0"].set_index("rho")["estimate"]
    assert f0.is_monotonic_increasing and f0.iloc[-1] > f0.iloc[0] + 0.05
    truth = fgt(sim, "y0", line, alpha=(0,)).estimates[0]
    assert abs(f0.loc[0.6] - truth) < 0.03 and abs(f0.loc[-0.6] - truth) > 0.05


def test_add_migrant_back(sim):
    """add_migrant: the imputed households' outcome regressors use the 'migrant counted'
    columns; the deterministic unconditional prediction is exp(X_back b) (closed form)."""
    s = sim.with_columns(x_back=sim.data["x"].to_numpy() + 1.0)
    cf = counterfactual_income(s, "x", "x + z", kind="unconditional", draws=0, add_migrant={"x": "x_back"})
    rec = s.data["recipient"].to_numpy()
    b = cf.model.outcome_params.to_numpy()
    np.testing.assert_allclose(cf.survey.data["y_cf"][rec], np.exp(b[0] + b[1] * (s.data["x"][rec] + 1.0)),
                               rtol=1e-12)
    np.testing.assert_array_equal(cf.survey.data["y_cf"][~rec], s.data["y_without"][~rec])
    assert cf.notes[0].startswith("absent migrant ADDED BACK")
    with pytest.raises(InputError, match="add_migrant"):
        counterfactual_income(s, "x", "x + z", draws=0, add_migrant={"x": "nope"})


def test_few_draws_note(sim):
    """A note asks for more imputations when the fraction of missing information exceeds M/100."""
    cf = counterfactual_income(sim, "x", "x + z", draws=3, seed=1)
    tab = counterfactual_fgt(cf, float(np.exp(7.0)), alpha=(0,))
    fmi = tab.extra["fmi"].max()
    assert fmi > 0.03 and any(f"M >= 100 x fmi = {int(np.ceil(100 * fmi))}" in n for n in tab.notes)


def test_local_residual_donors(sim):
    """residuals='local': donors come from the imputed row's weighted decile of X b."""
    from remitpov.econometrics.counterfactual import local_resample_index

    pred = np.arange(100.0)
    idx = local_resample_index(pred, np.ones(100), np.array([5.5, 95.0, -3.0]), 50, np.random.default_rng(0))
    assert idx.shape == (3, 50)
    # cuts at the values where the weighted cdf reaches k/10 (9, 19, ..., 89), each cut value
    # opening the next bin: first bin 0..8, last 89..99
    assert set(idx[0]) <= set(range(9)) and set(idx[1]) <= set(range(89, 100)) and set(idx[2]) <= set(range(9))
    assert len(set(idx[1])) > 5  # several donors, weight-proportional
    cf = counterfactual_income(sim, "x", "x + z", draws=2, seed=1, residuals="local")
    assert np.isfinite(cf.survey.data["y_cf_1"]).all()
