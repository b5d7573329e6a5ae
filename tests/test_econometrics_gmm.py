"""Dynamic panel GMM (remitpov.econometrics.gmm) against R plm's pgmm (plm 2.6-2).

The coefficients, SEs, Hansen, AR and Wald statistics of the 16 specifications below are
compared in the shared reference spec (``tests/reference/cases.toml``, cases ``pgmm-*``, one
parametrised test ``test_reference_case``); this module keeps the pgmm checks the spec does not
express (unadjusted covariances, one-step Sargan scaling) and the identities, Monte Carlo and
bad-input tests.

Reference: fixtures/emplUK_pgmm.json, made by tests/r/make_emplUK_pgmm.R on plm's EmplUK data
(fixtures/emplUK.csv: the Arellano--Bond 1991 employment equations): difference GMM (Table 4
column (b), one- and two-step, individual effects, collapsed, lag limits 2:4) and system GMM
(Blundell--Bond 1998 Table 4, one- and two-step, collapsed).

Tolerances (relative): the same estimator on the same rows in double precision, but pgmm
inverts the weight matrices with solve() and this module with numpy's inv(); the system-GMM
matrices (113 instruments, ~10 nonzero rows each per firm) are ill-conditioned, and the
observed agreement is 3e-13 (difference GMM) and 6e-10 (system GMM) in coefficients and
SEs, 3e-9 in Hansen J. RTOL = 1e-8 leaves a margin of ~10 over the worst case; the AR
statistics (order 1) are compared with an absolute 1e-8, the coefficients also with an absolute
1e-10 (ATOL: the largest absolute difference is 7e-11; one time dummy of system GMM with lags
from 3 is -3.4e-5, where the relative difference 1e-8 is only 6e-12 absolute).

Session 4 cases: system GMM with individual effects only (pgmm: no intercept, ``constant=False``)
and lag rules beyond 2 (lags from 3, windows 3:5/3:4/3:6; pgmm's level instrument, ``x_{t-1} -
x_{t-2}`` whatever the lag start, is ``level_instruments="pgmm"``).
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from remitpov.econometrics.gmm import DynamicPanelGMM
from remitpov.exceptions import InputError

FIX = Path(__file__).resolve().parent.parent / "fixtures"
RTOL = 1e-8
ATOL = 1e-10
F_AB = ("log(emp) ~ lag(log(emp), 1:2) + lag(log(wage), 0:1) + log(capital) + lag(log(output), 0:1)"
        " | lag(log(emp), 2:99)")
F_BB = ("log(emp) ~ lag(log(emp), 1) + lag(log(wage), 0:1) + lag(log(capital), 0:1)"
        " | lag(log(emp), 2:99) + lag(log(wage), 2:99) + lag(log(capital), 2:99)")
F_BB3 = F_BB.replace("2:99", "3:99")
F_BB35 = F_BB.replace("lag(log(emp), 2:99) + lag(log(wage), 2:99) + lag(log(capital), 2:99)",
                      "lag(log(emp), 3:5) + lag(log(wage), 3:4) + lag(log(capital), 3:6)")
#: pgmm's system GMM with effect="individual" has no intercept; its level-equation instrument
#: is x_{t-1} - x_{t-2} whatever the lag start (remitpov's default is xtabond2's x_{t-a+1} - x_{t-a})
IND = {"system": True, "effects": "individual", "constant": False}
PGMM_LEVELS = {"system": True, "level_instruments": "pgmm"}
CASES = {
    "ab_twostep": (F_AB, {}, 2),
    "ab_onestep": (F_AB, {}, 1),
    "ab_twostep_collapse": (F_AB, {"collapse": True}, 2),
    "ab_twostep_lags24": (F_AB.replace("2:99", "2:4"), {}, 2),
    "ab_onestep_individual": (F_AB, {"effects": "individual"}, 1),
    "bb_onestep": (F_BB, {"system": True}, 1),
    "bb_twostep": (F_BB, {"system": True}, 2),
    "bb_twostep_collapse": (F_BB, {"system": True, "collapse": True}, 2),
    # session 4: system GMM with individual effects only, lag rules beyond 2
    "bb_onestep_individual": (F_BB, IND, 1),
    "bb_twostep_individual": (F_BB, IND, 2),
    "bb_twostep_individual_collapse": (F_BB, {**IND, "collapse": True}, 2),
    "ab_twostep_lags36": (F_AB.replace("2:99", "3:6"), {}, 2),
    "bb_twostep_lags3": (F_BB3, PGMM_LEVELS, 2),
    "bb_twostep_lags35": (F_BB35, PGMM_LEVELS, 2),
    "bb_twostep_lags35_collapse": (F_BB35, {**PGMM_LEVELS, "collapse": True}, 2),
    "bb_onestep_lags3_individual": (F_BB3, {**IND, "level_instruments": "pgmm"}, 1),
}


@pytest.fixture(scope="module")
def ref():
    return json.loads((FIX / "emplUK_pgmm.json").read_text())


@pytest.fixture(scope="module")
def empl():
    return pd.read_csv(FIX / "emplUK.csv")


def _fit(empl, name, **fit):
    f, kw, steps = CASES[name]
    return DynamicPanelGMM.from_formula(f, empl, entity="firm", time="year", **kw).fit(steps=steps, **fit)


def _vals(d):
    return np.array(list(d.values()), dtype=float)


@pytest.mark.parametrize("name", ["ab_twostep", "ab_twostep_collapse", "bb_twostep"])
def test_twostep_unadjusted_equals_pgmm_vcov(empl, ref, name):
    """Two-step (X'Z A2 Z'X)^-1 is pgmm's vcov(); the AR tests with it are mtest(fit)."""
    r, res = ref[name], _fit(empl, name, cov_type="unadjusted")
    np.testing.assert_allclose(res.std_errors.to_numpy(), _vals(r["se_nonrobust"]), rtol=RTOL)
    np.testing.assert_allclose(res.ar_tests["stat"].to_numpy(), [r["ar1_nonrobust"], r["ar2_nonrobust"]],
                               rtol=RTOL, atol=1e-8)


def test_arellano_bond_table4b_windmeijer_larger(empl, ref):
    """AB (1991) Table 4(b): the Windmeijer correction raises every two-step SE here."""
    r = ref["ab_twostep"]
    assert np.all(_vals(r["se_robust"]) > _vals(r["se_nonrobust"]))
    res = _fit(empl, "ab_twostep")
    assert res.params.index[:2].tolist() == ["L1.log(emp)", "L2.log(emp)"]
    assert res.params.index[-1] == "year=1984"


def test_onestep_sargan_and_unadjusted(empl, ref):
    """Sargan = pgmm's sargan(fit, 'onestep') / (N s^2); one-step unadjusted = s^2 N vcov(pgmm);
    s^2 = sum of squared differenced one-step residuals / (2 n)."""
    r, res = ref["ab_onestep"], _fit(empl, "ab_onestep", cov_type="unadjusted")
    e = res.residuals.loc[res.residuals["equation"] == "diff", "residual"].to_numpy()
    assert e.size == res.nobs == 611
    s2 = float(e @ e) / (2 * e.size)
    assert res.sigma2 == pytest.approx(s2, rel=1e-12)
    N = r["n_entities"]
    assert res.sargan["stat"] * N * s2 == pytest.approx(r["sargan_onestep_pgmm"], rel=RTOL)
    assert res.sargan["df"] == r["hansen_df"]
    np.testing.assert_allclose(res.std_errors.to_numpy(), np.sqrt(s2 * N) * _vals(r["se_nonrobust"]), rtol=RTOL)
    bb = _fit(empl, "bb_onestep")  # system GMM: Sargan with the random-effects Omega (see test_system_sargan_*)
    assert bb.sargan["df"] == ref["bb_onestep"]["hansen_df"] and 0 < bb.sargan["pvalue"] < 1


def test_row_order_and_summary(empl):
    """Same answer from shuffled rows; summary prints the tests and hides nothing."""
    a = _fit(empl, "ab_twostep_collapse")
    shuffled = empl.sample(frac=1.0, random_state=3).reset_index(drop=True)
    b = DynamicPanelGMM(F_AB, shuffled, entity="firm", time="year", collapse=True).fit()
    np.testing.assert_allclose(a.params, b.params, rtol=1e-12)
    np.testing.assert_allclose(a.std_errors, b.std_errors, rtol=1e-10)
    text = str(a.summary)
    for s in ("Difference GMM, two-step, collapsed", "Hansen J", "AR(2) p-value", "Time effects", "windmeijer"):
        assert s in text


def _simulate(seed, N=400, T=7, rho=0.5, beta=1.0):
    """y_it = rho y_i,t-1 + beta x_it + mu_i + e_it, x exogenous; stationary start."""
    rng = np.random.default_rng(seed)
    mu = rng.normal(size=N)
    x = rng.normal(size=(N, T + 20))
    e = rng.normal(size=(N, T + 20))
    y = np.zeros((N, T + 20))
    y[:, 0] = mu / (1 - rho)
    for t in range(1, T + 20):  # loop over time only (vectorised over entities)
        y[:, t] = rho * y[:, t - 1] + beta * x[:, t] + mu + e[:, t]
    y, x = y[:, 20:], x[:, 20:]
    return pd.DataFrame({"id": np.repeat(np.arange(N), T), "t": np.tile(np.arange(T), N),
                         "y": y.ravel(), "x": x.ravel()})


@pytest.mark.parametrize("system", [False, True])
def test_recovers_known_truth(system):
    """A DGP with known rho = 0.5 (within-group OLS is Nickell-biased downwards at T = 7):
    GMM within 3 SEs of the truth in each of 3 seeds, AR(2) not rejected at 1 %."""
    for seed in range(3):
        d = _simulate(seed)
        res = DynamicPanelGMM("y ~ lag(y, 1) + x | lag(y, 2:99)", d, entity="id", time="t", system=system,
                              effects="individual").fit()
        z = (res.params["L1.y"] - 0.5) / res.std_errors["L1.y"]
        assert abs(z) < 3, (seed, res.params["L1.y"], res.std_errors["L1.y"])
        assert abs(res.params["x"] - 1.0) < 3 * res.std_errors["x"]
        assert res.ar_tests.at["AR(2)", "pvalue"] > 0.01
        assert res.ar_tests.at["AR(1)", "pvalue"] < 0.01  # differenced iid errors are MA(1)


def test_bad_input(empl):
    with pytest.raises(InputError, match="GMM instruments"):
        DynamicPanelGMM("log(emp) ~ lag(log(emp), 1) + log(wage)", empl, entity="firm", time="year")
    with pytest.raises(InputError, match="backwards"):
        DynamicPanelGMM("log(emp) ~ lag(log(emp), 2:1) | lag(log(emp), 2:99)", empl, entity="firm", time="year")
    with pytest.raises(InputError, match="start at lag 0"):
        DynamicPanelGMM("log(emp) ~ lag(log(emp), 1) | lag(log(emp), 0:99)", empl, entity="firm", time="year")
    with pytest.raises(InputError, match="emq"):
        DynamicPanelGMM("log(emq) ~ lag(log(emq), 1) | lag(log(emq), 2:99)", empl, entity="firm", time="year")
    with pytest.raises(InputError, match="duplicated"):
        DynamicPanelGMM(F_AB, pd.concat([empl, empl.iloc[:1]]), entity="firm", time="year")
    with pytest.raises(InputError, match="equally spaced"):
        DynamicPanelGMM(F_AB, empl[empl["year"] != 1980], entity="firm", time="year").fit()
    bad = empl.copy()
    bad.loc[5, "wage"] = np.nan
    with pytest.raises(InputError, match=r"log\(wage\).*row"):
        DynamicPanelGMM(F_AB, bad, entity="firm", time="year", missing="raise").fit()
    res = DynamicPanelGMM(F_AB, bad, entity="firm", time="year").fit()
    assert any("log(wage): 1 missing" in n for n in res.notes)
    with pytest.raises(InputError, match="cov_type"):
        _fit(empl, "ab_twostep", cov_type="HC1")
    with pytest.raises(InputError, match="not defined"):
        _fit(empl, "bb_onestep", cov_type="unadjusted")


def test_lac_gini_panel(shared):
    """The user guide's LAC application: instrument counts as designed, and two-step GMM with
    year dummies on 15 countries (more instruments than countries) refused, not computed
    with a singular weight matrix."""
    from remitpov.econometrics.gmm import EstimationError
    from remitpov.io.lac_panel import read_lac_panel

    g = read_lac_panel("gini", path=shared("data", "lac_panel"))
    f = "log(gini) ~ lag(log(gini), 1) + log(rm) + gov_e | lag(log(gini), 2:3)"
    kw = dict(entity="country", time="year", effects="individual", collapse=True)
    d = DynamicPanelGMM(f, g, **kw).fit()
    s = DynamicPanelGMM(f, g, system=True, **kw).fit()
    # difference: gini lags 2, 3 + differenced log(rm), gov_e; system adds one collapsed level
    # instrument, log(rm), gov_e in levels and the intercept
    assert (d.n_instruments, s.n_instruments) == (4, 8)
    assert d.n_entities == s.n_entities == 15
    assert np.isfinite(d.hansen["stat"]) and np.all(np.isfinite(s.std_errors))
    with pytest.raises(EstimationError, match="rank"):
        DynamicPanelGMM(f, g, entity="country", time="year").fit(steps=2)
    one = DynamicPanelGMM(f, g, entity="country", time="year").fit(steps=1)
    assert np.isnan(one.hansen["stat"]) and any("Hansen J is not computed" in n for n in one.notes)


# ----------------------------------------------------------------------------- session 4
def test_level_instruments_xtabond2_default(empl, ref):
    """Lags from 3: the default level instrument is x_{t-2} - x_{t-3} (xtabond2), so the first level
    period has none (3 zero columns dropped, one per variable); "pgmm" reproduces pgmm's count."""
    f, kw, steps = CASES["bb_twostep_lags3"]
    ours = DynamicPanelGMM(f, empl, entity="firm", time="year", system=True).fit(steps=steps)
    assert ours.n_instruments == ref["bb_twostep_lags3"]["n_instruments"] - 3
    assert any("3 instrument columns are zero" in n for n in ours.notes)
    with pytest.raises(InputError, match="level_instruments"):
        DynamicPanelGMM(f, empl, entity="firm", time="year", system=True, level_instruments="stata")


def _hand_system_gmm(d, a):
    """An independent, direct implementation of two-step system GMM for the balanced panel model
    y_t = r y_{t-1} + c x_t + k + mu + e_t, GMM instruments y_{t-a}, y_{t-a-1} (collapsed) in the
    differenced equations and y_{t-a+1} - y_{t-a} in the level equations, x differenced / in levels,
    an intercept in levels; written per entity and period with explicit loops (reference only).
    Returns the two-step Hansen J and the J without each level-instrument group."""
    ids = np.sort(d["id"].unique())
    T = d["t"].nunique()
    Y = d.pivot(index="id", columns="t", values="y").loc[ids].to_numpy()
    Xv = d.pivot(index="id", columns="t", values="x").loc[ids].to_numpy()
    t_d = list(range(max(2, a), T))          # differenced equations (regressor lag 1; first GMM lag a)
    t_l = list(range(t_d[0] - 1, T))         # level equations
    Zs, Xs, ys = [], [], []
    for i in range(len(ids)):
        y, x = Y[i], Xv[i]
        rows_z, rows_x, rows_y = [], [], []
        for t in t_d:
            z = [y[t - a] if t - a >= 0 else 0.0, y[t - a - 1] if t - a - 1 >= 0 else 0.0, 0.0, x[t] - x[t - 1], 0.0,
                 0.0]
            rows_z.append(z)
            rows_x.append([y[t - 1] - y[t - 2], x[t] - x[t - 1], 0.0])
            rows_y.append(y[t] - y[t - 1])
        for t in t_l:
            lv = y[t - a + 1] - y[t - a] if t - a >= 0 else 0.0
            rows_z.append([0.0, 0.0, lv, 0.0, x[t], 1.0])
            rows_x.append([y[t - 1], x[t], 1.0])
            rows_y.append(y[t])
        Zs.append(np.array(rows_z))
        Xs.append(np.array(rows_x))
        ys.append(np.array(rows_y))
    Rd, Rl = len(t_d), len(t_l)
    Dm = np.zeros((Rd, Rl))
    for r in range(Rd):
        Dm[r, r], Dm[r, r + 1] = -1.0, 1.0
    M = np.vstack([Dm, np.eye(Rl)])
    H = M @ M.T
    SX = sum(Z.T @ X for Z, X in zip(Zs, Xs))
    Sy = sum(Z.T @ y for Z, y in zip(Zs, ys))
    A1 = np.linalg.inv(sum(Z.T @ H @ Z for Z in Zs))
    b1 = np.linalg.solve(SX.T @ A1 @ SX, SX.T @ A1 @ Sy)
    S2 = sum(np.outer(Z.T @ (y - X @ b1), Z.T @ (y - X @ b1)) for Z, X, y in zip(Zs, Xs, ys))

    def J(keep):
        A = np.linalg.inv(S2[np.ix_(keep, keep)])
        b = np.linalg.solve(SX[keep].T @ A @ SX[keep], SX[keep].T @ A @ Sy[keep])
        g = Sy[keep] - SX[keep] @ b
        return g @ A @ g

    return {"all": J([0, 1, 2, 3, 4, 5]), "GMM instruments for levels": J([0, 1, 3, 4, 5]),
            "standard instruments in levels": J([0, 1, 2, 3, 5]),
            "all level instruments (except time effects)": J([0, 1, 3, 5])}


@pytest.mark.parametrize("a", [2, 3])
def test_difference_hansen_equals_hand_computation(a):
    """Difference-in-Hansen (C) tests against the direct implementation above (pgmm has none);
    a = 3 also checks xtabond2's level instrument y_{t-2} - y_{t-3}. Same arithmetic in another
    order: rtol 1e-9."""
    d = _simulate(11, N=150, T=6)
    res = DynamicPanelGMM(f"y ~ lag(y, 1) + x | lag(y, {a}:{a + 1})", d, entity="id", time="t", system=True,
                          effects="individual", collapse=True).fit()
    hand = _hand_system_gmm(d, a)
    assert res.n_instruments == 6
    assert res.hansen["stat"] == pytest.approx(hand["all"], rel=1e-9)
    dh = res.difference_hansen
    assert list(dh.index) == ["GMM instruments for levels", "standard instruments in levels",
                              "all level instruments (except time effects)"]
    for g in dh.index:
        assert dh.at[g, "hansen_excluding"] == pytest.approx(hand[g], rel=1e-9, abs=1e-12)
        assert dh.at[g, "stat"] == pytest.approx(hand["all"] - hand[g], rel=1e-9, abs=1e-12)
    assert dh["df"].tolist() == [1, 1, 2] and dh["df_excluding"].tolist() == [2, 2, 1]


def test_difference_hansen_emplUK_identities(empl):
    """EmplUK system GMM: C >= 0 in every group (the restricted J uses the submatrix of the same
    moment covariance), J_excluding + C = Hansen J for a two-step fit; groups per variable."""
    res = _fit(empl, "bb_twostep")
    dh = res.difference_hansen
    assert {"GMM instruments for levels", "GMM instruments for levels: log(emp)",
            "GMM instruments for levels: log(wage)", "GMM instruments for levels: log(capital)"} <= set(dh.index)
    assert (dh["stat"] >= 0).all() and (dh["pvalue"].between(0, 1)).all()
    np.testing.assert_allclose(dh["hansen_excluding"] + dh["stat"], res.hansen["stat"], rtol=1e-10)
    assert dh.at["GMM instruments for levels", "df"] == 3 * 7  # one column per level period and variable
    assert _fit(empl, "ab_twostep").difference_hansen is None   # difference GMM: no level instruments


def _simulate_initial(seed, N, T, stationary, rho=0.5):
    """y_it = rho y_i,t-1 + x_it + mu_i + e_it. stationary=True: mean-stationary start (the system
    GMM level moments hold); False: y_i0 = 0 for all, observed from period 1 on (E[mu Dy_t] != 0,
    the level instruments are invalid)."""
    rng = np.random.default_rng(seed)
    mu = rng.normal(size=N)
    B = 20 if stationary else 1
    x = rng.normal(size=(N, T + B))
    e = rng.normal(size=(N, T + B))
    y = np.zeros((N, T + B))
    y[:, 0] = mu / (1 - rho) if stationary else 0.0
    for t in range(1, T + B):  # over time only
        y[:, t] = rho * y[:, t - 1] + x[:, t] + mu + e[:, t]
    y, x = y[:, B:], x[:, B:]
    return pd.DataFrame({"id": np.repeat(np.arange(N), T), "t": np.tile(np.arange(T), N),
                         "y": y.ravel(), "x": x.ravel()})


@pytest.mark.slow
def test_difference_hansen_and_sargan_size_and_power():
    """Monte Carlo with known truth (400 samples, N = 200 entities, T = 6, homoskedastic normal
    errors): under the null (mean-stationary start) the C test of the level GMM instruments and the
    system Sargan test reject at 5 % in 5 % of samples, within 3 binomial MC SEs (3.3 points: a
    correct test fails this with probability 0.003; seeds 20000.. with N = 1000 gave 7.8 % / 6.0 %,
    with N = 200 3.5 % / 4.8 %), and their p-values average 0.5 (within 3 MC SEs, 0.043); with
    y_i0 = 0 (level instruments invalid) the C test rejects in most samples (88 % in a 50-sample
    trial)."""
    R = 400
    f = "y ~ lag(y, 1) + x | lag(y, 2:4)"
    kw = dict(entity="id", time="t", system=True, effects="individual", collapse=True)
    p_c, p_s, rej_c_alt = [], [], []
    for r in range(R):
        res = DynamicPanelGMM(f, _simulate_initial(1000 + r, 200, 6, True), **kw).fit()
        p_c.append(res.difference_hansen.at["GMM instruments for levels", "pvalue"])
        p_s.append(res.sargan["pvalue"])
        if r < 50:
            alt = DynamicPanelGMM(f, _simulate_initial(5000 + r, 200, 6, False), **kw).fit()
            rej_c_alt.append(alt.difference_hansen.at["GMM instruments for levels", "pvalue"] < 0.05)
    for p in (np.array(p_c), np.array(p_s)):
        assert abs(np.mean(p < 0.05) - 0.05) < 3 * np.sqrt(0.05 * 0.95 / R), np.mean(p < 0.05)
        assert abs(p.mean() - 0.5) < 3 / np.sqrt(12 * R), p.mean()
    assert np.mean(rej_c_alt) > 0.5, np.mean(rej_c_alt)


def _replicate(empl, fw):
    """Each firm repeated fw[firm] times under new firm ids."""
    rep = empl["firm"].map(fw).to_numpy()
    out = empl.loc[empl.index.repeat(rep)].copy()
    out["copy"] = out.groupby(["firm", "year"]).cumcount()
    out["firm"] = out["firm"] * 10 + out["copy"]
    return out.drop(columns="copy").reset_index(drop=True)


def _same(a, b, rtol):
    np.testing.assert_allclose(a.params, b.params, rtol=rtol, atol=1e-12)
    np.testing.assert_allclose(a.std_errors, b.std_errors, rtol=rtol)
    np.testing.assert_allclose(a.ar_tests["stat"], b.ar_tests["stat"], rtol=rtol, atol=1e-10)
    for t in ("hansen", "sargan", "wald"):
        assert getattr(a, t)["stat"] == pytest.approx(getattr(b, t)["stat"], rel=rtol), t
    assert a.sigma2 == pytest.approx(b.sigma2, rel=rtol)
    if a.difference_hansen is not None:
        np.testing.assert_allclose(a.difference_hansen.to_numpy(float), b.difference_hansen.to_numpy(float),
                                   rtol=rtol, atol=1e-10)


@pytest.mark.parametrize("name", ["ab_twostep", "ab_onestep", "bb_twostep_collapse", "bb_onestep_individual"])
def test_frequency_weights_equal_replicated_entities(empl, name):
    """weight_type="frequency": every number (estimates, Windmeijer/robust SEs, AR, Hansen, Sargan,
    C tests, s^2) equals the unweighted fit with each firm repeated w times (w in 1..3).
    Same sums in another order and grouping: rtol RTOL = 1e-8 (observed 2e-12 for difference GMM,
    5e-10 for system GMM, whose ill-conditioned weight matrices amplify rounding as against pgmm)."""
    f, kw, steps = CASES[name]
    fw = pd.Series(np.random.default_rng(5).integers(1, 4, empl["firm"].nunique()), index=np.sort(empl["firm"].unique()))
    wdata = empl.assign(fw=empl["firm"].map(fw).astype(float))
    a = DynamicPanelGMM(f, wdata, entity="firm", time="year", weights="fw", weight_type="frequency", **kw).fit(steps)
    b = DynamicPanelGMM(f, _replicate(empl, fw), entity="firm", time="year", **kw).fit(steps)
    _same(a, b, RTOL)
    assert a.weight_type == "frequency" and b.weight_type is None
    if steps == 1 and not kw.get("system"):  # the unadjusted one-step covariance too
        _same(DynamicPanelGMM(f, wdata, entity="firm", time="year", weights="fw", weight_type="frequency",
                              **kw).fit(1, cov_type="unadjusted"),
              DynamicPanelGMM(f, _replicate(empl, fw), entity="firm", time="year", **kw).fit(1, cov_type="unadjusted"),
              RTOL)


@pytest.mark.parametrize("name", ["ab_twostep", "bb_twostep_collapse"])
def test_probability_weights_scale_free_and_unit_weights(empl, name):
    """weight_type="probability": every number unchanged when the weights are multiplied by 37.5;
    equal weights give the unweighted fit; unequal weights change the estimates and, against
    frequency weights, the SEs (moment covariance sum w^2 g g' instead of sum w g g')."""
    f, kw, steps = CASES[name]
    rng = np.random.default_rng(9)
    pw = pd.Series(rng.uniform(0.5, 4.0, empl["firm"].nunique()), index=np.sort(empl["firm"].unique()))
    d = empl.assign(pw=empl["firm"].map(pw), pw2=empl["firm"].map(pw) * 37.5, one=2.0)
    fit = lambda col, **k: DynamicPanelGMM(f, d, entity="firm", time="year", weights=col, **kw, **k).fit(steps)
    a, b = fit("pw"), fit("pw2")
    _same(a, b, RTOL)  # as in the frequency-weight test
    _same(fit("one"), _fit(empl, name), RTOL)
    un = _fit(empl, name)
    assert np.max(np.abs(a.params - un.params) / un.std_errors) > 0.05
    # frequency weights need whole numbers: round the same weights up to compare the SEs
    d2 = d.assign(pw=np.ceil(d["pw"]))
    p_ = DynamicPanelGMM(f, d2, entity="firm", time="year", weights="pw", **kw).fit(steps)
    f_ = DynamicPanelGMM(f, d2, entity="firm", time="year", weights="pw", weight_type="frequency", **kw).fit(steps)
    assert not np.allclose(p_.std_errors, f_.std_errors, rtol=1e-3)


def test_weights_bad_input(empl):
    d = empl.assign(w=1.0)
    kw = dict(entity="firm", time="year")
    with pytest.raises(InputError, match="'nope' is not in the data"):
        DynamicPanelGMM(F_AB, d, weights="nope", **kw)
    with pytest.raises(InputError, match="vary over time within 1 entities"):
        DynamicPanelGMM(F_AB, d.assign(w=np.where(d.index == 3, 2.0, 1.0)), weights="w", **kw)
    with pytest.raises(InputError, match="positive and finite.*1 row"):
        DynamicPanelGMM(F_AB, d.assign(w=np.where(d.index == 3, -1.0, 1.0)), weights="w", **kw)
    with pytest.raises(InputError, match="whole numbers"):
        DynamicPanelGMM(F_AB, d.assign(w=1.5), weights="w", weight_type="frequency", **kw)
    with pytest.raises(InputError, match="weight_type"):
        DynamicPanelGMM(F_AB, d, weights="w", weight_type="analytic", **kw)
    with pytest.raises(InputError, match="probability weights"):
        DynamicPanelGMM(F_AB, d, weights="w", **kw).fit(1, cov_type="unadjusted")
