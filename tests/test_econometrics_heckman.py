"""Heckman sample-selection model: Mroz (1987) against Stata and an independent likelihood.

References
----------
* Wooldridge, *Introductory Econometrics*, Example 17.5 ("Wage offer equation for married
  women"), MROZ data: two-step (Heckit) estimates educ .109 (.016), exper .044 (.016),
  lambda .032 (.134), n = 753.
* Stata's ``heckman lwage educ exper expersq, select(inlf = educ exper expersq nwifeinc age
  kidslt6 kidsge6) twostep`` and the ML version on Wooldridge's MROZ.DTA, as printed
  (7 significant digits) in J. Wooldridge's public course notes on sample selection
  ("Incidental Truncation" section; found with the project's ``search`` tool) -- the
  numbers in ``STATA_TWOSTEP`` / ``STATA_ML`` below. The ML log-likelihood -832.88508646 and
  the educ coefficient/SE to 10 digits (0.1083502306, 0.0148607031; two-step 0.1090655302,
  0.0155229548, lambda 0.0322618551 (0.1336246435)) are the Stata 18 values quoted in
  StatsPAI's ``tests/test_wooldridge_examples.py``.

The data are AER's PSID1976 (the same 753 women): ``inlf = participation == "yes"``,
``nwifeinc = (fincome - hours * wage)/1000`` (Wooldridge's definition, checked below through
the published mean 20.12896 and the OLS wage equation), ``lwage = log(wage)`` for workers.
"""
from __future__ import annotations


import numpy as np
import pandas as pd
import pytest
from scipy import optimize, stats

from remitpov.econometrics._base import ModelResults, compare
from remitpov.econometrics.heckman import Heckman, SelectionWarning, inverse_mills, probit
from remitpov.exceptions import EstimationError, InputError

OUT = "lwage ~ educ + exper + expersq"
SEL = "inlf ~ nwifeinc + educ + exper + expersq + age + kidslt6 + kidsge6"

# Stata `heckman ..., twostep` (coef, se)
STATA_TWOSTEP = {
    "educ": (.1090655, .015523), "exper": (.0438873, .0162611), "expersq": (-.0008591, .0004389),
    "Intercept": (-.5781032, .3050062),
    "selection:educ": (.1309047, .0252542), "selection:exper": (.1233476, .0187164),
    "selection:expersq": (-.0018871, .0006), "selection:nwifeinc": (-.0120237, .0048398),
    "selection:age": (-.0528527, .0084772), "selection:kidslt6": (-.8683285, .1185223),
    "selection:kidsge6": (.036005, .0434768), "selection:Intercept": (.2700768, .508593),
    "lambda": (.0322619, .1336246),
}
STATA_TWOSTEP_RHO, STATA_TWOSTEP_SIGMA = 0.04861, .66362875
# Stata `heckman ...` (ML, OIM standard errors)
STATA_ML = {
    "educ": (.1083502, .0148607), "exper": (.0428369, .0148785), "expersq": (-.0008374, .0004175),
    "Intercept": (-.5526973, .2603784),
    "selection:educ": (.1313415, .0253823), "selection:exper": (.1232818, .0187242),
    "selection:expersq": (-.0018863, .0006004), "selection:nwifeinc": (-.0121321, .0048767),
    "selection:age": (-.0528287, .0084792), "selection:kidslt6": (-.8673988, .1186509),
    "selection:kidsge6": (.0358723, .0434753), "selection:Intercept": (.2664491, .5089578),
    "athrho": (.026614, .147182), "lnsigma": (-.4103809, .0342291),
}
STATA_ML_ANC = {"rho": (.0266078, .1470778, -.2560319, .3050564), "sigma": (.6633975, .0227075, .6203517, .7094303),
                "lambda": (.0176515, .0976057, -.1736521, .2089552)}
STATA_ML_LOGLIK = -832.88508646


@pytest.fixture(scope="module")
def mroz(shared):
    d = pd.read_csv(shared("data", "econ", "PSID1976.csv.gz"))
    out = pd.DataFrame({
        "inlf": (d["participation"] == "yes").astype(int),
        "educ": d["education"].astype(float), "exper": d["experience"].astype(float),
        "age": d["age"].astype(float), "kidslt6": d["youngkids"].astype(float),
        "kidsge6": d["oldkids"].astype(float),
        "nwifeinc": (d["fincome"] - d["hours"] * d["wage"]) / 1000,
    })
    out["expersq"] = out["exper"] ** 2
    out["lwage"] = np.where(out["inlf"] == 1, np.log(d["wage"].where(d["wage"] > 0)), np.nan)
    return out


@pytest.fixture(scope="module")
def fits(mroz):
    m = Heckman.from_formula(OUT, SEL, mroz)
    return m, m.fit("twostep"), m.fit("ml")


# Tolerance: Stata prints 7 significant digits (relative rounding <= 5e-7 for the larger
# values, up to 5e-5 for .0006 printed with 4 digits) and MROZ.DTA stores the variables in
# single precision (relative 6e-8). 1e-5 relative + 6e-7 absolute covers both; a wrong
# covariance formula (e.g. OLS SEs .0141 instead of .0155) misses by orders of magnitude.
RTOL, ATOL = 1e-5, 6e-7


def test_data_reproduce_wooldridge(mroz):
    assert int(mroz["inlf"].sum()) == 428 and len(mroz) == 753
    # Wooldridge MROZ descriptive statistics: mean nwifeinc = 20.12896 (printed to 7 digits)
    assert mroz["nwifeinc"].mean() == pytest.approx(20.12896, abs=5e-6)
    # OLS on the 428 workers (Example 17.5 / Stata `reg lwage educ exper expersq`):
    # educ .1074896 (.0141465), _cons -.5220406 (.1986321)
    w = mroz[mroz.inlf == 1]
    X = np.column_stack([np.ones(len(w)), w.educ, w.exper, w.expersq])
    b, res, *_ = np.linalg.lstsq(X, w.lwage, rcond=None)
    s2 = res[0] / (len(w) - 4)
    se = np.sqrt(np.diag(s2 * np.linalg.inv(X.T @ X)))
    np.testing.assert_allclose([b[1], se[1], b[0], se[0]], [.1074896, .0141465, -.5220406, .1986321],
                               rtol=RTOL, atol=ATOL)


def test_twostep_matches_stata_and_wooldridge(fits):
    _, two, _ = fits
    for name, (c, se) in STATA_TWOSTEP.items():
        assert two.params[name] == pytest.approx(c, rel=RTOL, abs=ATOL), name
        assert two.std_errors[name] == pytest.approx(se, rel=RTOL, abs=ATOL), name
    # 10-digit Stata 18 values (StatsPAI); 1e-5 as there (probit convergence criteria differ)
    np.testing.assert_allclose([two.params["educ"], two.std_errors["educ"], float(two.lambda_), two.lambda_.se],
                               [0.1090655302, 0.0155229548, 0.0322618551, 0.1336246435], rtol=1e-5)
    assert float(two.rho) == pytest.approx(STATA_TWOSTEP_RHO, abs=5e-6)  # printed to 5 decimals
    assert float(two.sigma) == pytest.approx(STATA_TWOSTEP_SIGMA, rel=RTOL)
    # Wooldridge's rounded textbook numbers (3 decimals)
    for name, c, se in [("educ", .109, .016), ("exper", .044, .016), ("lambda", .032, .134)]:
        assert two.params[name] == pytest.approx(c, abs=5e-4) and two.std_errors[name] == pytest.approx(se, abs=5e-4)


def test_twostep_point_estimates_by_hand_with_statsmodels(mroz, fits):
    """Probit (statsmodels) + OLS on [X, IMR] by hand gives the same point estimates."""
    import statsmodels.api as sm

    _, two, _ = fits
    Z = sm.add_constant(mroz[["nwifeinc", "educ", "exper", "expersq", "age", "kidslt6", "kidsge6"]])
    pr = sm.Probit(mroz["inlf"], Z).fit(disp=0, tol=1e-12)
    imr = stats.norm.pdf(Z @ pr.params) / stats.norm.cdf(Z @ pr.params)
    sel = mroz["inlf"] == 1
    X = sm.add_constant(mroz[["educ", "exper", "expersq"]]).assign(imr=imr)[sel]
    ols = sm.OLS(mroz["lwage"][sel], X).fit()
    # both are exact optimisers of the same objectives: agreement to optimiser tolerance
    np.testing.assert_allclose(two.params[["Intercept", "educ", "exper", "expersq", "lambda"]],
                               ols.params.to_numpy(), rtol=1e-7, atol=1e-10)
    np.testing.assert_allclose(two.imr.to_numpy(), np.asarray(imr), rtol=1e-7)
    # the naive OLS SE of educ (.01544...) is NOT the corrected one: the test can fail
    assert abs(ols.bse["educ"] - two.std_errors["educ"]) > 1e-5


def test_ml_matches_stata(fits):
    _, _, ml = fits
    # rho is weakly identified (SE .147): the single-precision data and the optimisers' stopping
    # rules move athrho/rho/lambda by ~1e-6 (5e-6 of an SE); allow 2e-5 standard errors there.
    for name, (c, se) in STATA_ML.items():
        tol = 2e-5 * se if name == "athrho" else ATOL
        assert ml.params[name] == pytest.approx(c, rel=RTOL, abs=tol), name
        assert ml.std_errors[name] == pytest.approx(se, rel=RTOL, abs=ATOL), name
    for name, (c, se, lo, hi) in STATA_ML_ANC.items():
        e = getattr(ml, "lambda_" if name == "lambda" else name)
        np.testing.assert_allclose([e.estimate, e.se, e.ci_lower, e.ci_upper], [c, se, lo, hi], rtol=RTOL,
                                   atol=2e-5 * se)
    # log-likelihood to 10 digits; single-precision data -> 1e-8 relative
    assert ml.loglik == pytest.approx(STATA_ML_LOGLIK, rel=1e-8)
    np.testing.assert_allclose([ml.params["educ"], ml.std_errors["educ"]], [0.1083502306, 0.0148607031], rtol=1e-6)


def _independent_ml(d):
    """Hand-written likelihood in (beta, gamma, rho, sigma) with scipy.stats, L-BFGS-B with bounds and
    finite-difference gradients, started from OLS + probit (not from the two-step estimates);
    covariance from a finite-difference Hessian of the log-likelihood VALUES."""
    X = np.column_stack([np.ones(len(d)), d.educ, d.exper, d.expersq])
    Z = np.column_stack([np.ones(len(d)), d.nwifeinc, d.educ, d.exper, d.expersq, d.age, d.kidslt6, d.kidsge6])
    s = d.inlf.to_numpy() == 1
    y = d.lwage.fillna(0).to_numpy()
    k, m = X.shape[1], Z.shape[1]
    # rescale expersq so that a quasi-Newton method with numerical gradients is well conditioned
    scale = np.ones(k + m + 2)
    scale[3] = scale[k + 4] = 100.0

    def negll(p):
        p = p / scale
        b, g, rho, sig = p[:k], p[k:k + m], p[-2], p[-1]
        xb, zg = X @ b, Z @ g
        l1 = stats.norm.logpdf(y[s], loc=xb[s], scale=sig) + stats.norm.logsf(
            -zg[s], loc=rho * (y[s] - xb[s]) / sig, scale=np.sqrt(1 - rho**2))
        l0 = stats.norm.logcdf(-zg[~s])
        return -(l1.sum() + l0.sum())

    b0 = np.linalg.lstsq(X[s], y[s], rcond=None)[0]
    import statsmodels.api as sm
    g0 = sm.Probit(s.astype(float), Z).fit(disp=0).params
    p0 = np.concatenate([b0, g0, [0.0, np.std(y[s] - X[s] @ b0)]]) * scale
    bounds = [(None, None)] * (k + m) + [(-0.99, 0.99), (1e-3, None)]
    res = optimize.minimize(negll, p0, method="L-BFGS-B", bounds=bounds,
                            options={"ftol": 1e-15, "gtol": 1e-9, "maxiter": 20000, "maxfun": 10**6})
    p = res.x
    n = p.size
    H = np.empty((n, n))
    h = 1e-4 * np.maximum(1, np.abs(p))
    for i in range(n):
        for j in range(i, n):
            ei, ej = np.zeros(n), np.zeros(n)
            ei[i], ej[j] = h[i], h[j]
            H[i, j] = H[j, i] = (negll(p + ei + ej) - negll(p + ei - ej) - negll(p - ei + ej)
                                 + negll(p - ei - ej)) / (4 * h[i] * h[j])
    V = np.linalg.inv(H)
    return p / scale, np.sqrt(np.diag(V)) / scale, -res.fun


def test_ml_matches_independent_likelihood(mroz, fits):
    _, _, ml = fits
    p, se, ll = _independent_ml(mroz)
    ours = np.concatenate([ml.params.iloc[:12].to_numpy(), [float(ml.rho), float(ml.sigma)]])
    ours_se = np.concatenate([ml.std_errors.iloc[:12].to_numpy(), [ml.rho.se, ml.sigma.se]])
    # a quasi-Newton optimum with numerical gradients is accurate to ~1e-6 in the parameters;
    # the finite-difference Hessian (step 1e-4) to ~1e-4 relative in the SEs. rho/sigma SEs
    # by the delta method equal the direct-parametrisation SEs (invariance at the MLE).
    np.testing.assert_allclose(p, ours, rtol=2e-4, atol=2e-6)
    np.testing.assert_allclose(se, ours_se, rtol=2e-3)
    assert ll == pytest.approx(ml.loglik, abs=1e-6)


def test_formula_and_arrays_identical(mroz, fits):
    _, two, ml = fits
    X = mroz[["educ", "exper", "expersq"]].assign(Intercept=1.0)[["Intercept", "educ", "exper", "expersq"]]
    Z = mroz[["nwifeinc", "educ", "exper", "expersq", "age", "kidslt6", "kidsge6"]].assign(Intercept=1.0)
    Z = Z[["Intercept", "nwifeinc", "educ", "exper", "expersq", "age", "kidslt6", "kidsge6"]]
    m = Heckman(mroz["lwage"], X, mroz["inlf"], Z)
    for a, b in ((m.fit(), two), (m.fit("ml"), ml)):
        pd.testing.assert_series_equal(a.params, b.params)
        pd.testing.assert_frame_equal(a.cov, b.cov)
    # the brief's formula with I(exper**2) spelled inline gives the same numbers
    m2 = Heckman.from_formula("lwage ~ educ + exper + I(exper**2)",
                              "inlf ~ nwifeinc + educ + exper + I(exper**2) + age + kidslt6 + kidsge6", mroz)
    np.testing.assert_allclose(m2.fit().params.to_numpy(), two.params.to_numpy(), rtol=1e-12)


def test_predict_and_simulate(mroz, fits):
    m, two, ml = fits
    X = np.column_stack([np.ones(len(mroz)), mroz.educ, mroz.exper, mroz.expersq])
    b = ml.params[["Intercept", "educ", "exper", "expersq"]].to_numpy()
    q = ml.predict(kind="index").to_numpy()
    lam = float(ml.lambda_)
    np.testing.assert_allclose(ml.predict().to_numpy(), X @ b)
    np.testing.assert_allclose(ml.predict(kind="conditional"), X @ b + lam * stats.norm.pdf(q) / stats.norm.cdf(q))
    np.testing.assert_allclose(ml.predict(kind="nonselected"), X @ b - lam * stats.norm.pdf(q) / stats.norm.cdf(-q))
    np.testing.assert_allclose(ml.predict(kind="probability"), stats.norm.cdf(q))
    # formula model: a DataFrame of raw variables is transformed by both formulas
    np.testing.assert_allclose(ml.predict(mroz.iloc[:5], kind="conditional"), ml.predict(kind="conditional")[:5])
    # simulated draws: mean of E[y|s=1] draws converges to the conditional prediction
    sim = ml.simulate(mroz.iloc[:3], kind="conditional", draws=200_000, seed=1)
    # Monte-Carlo error of a mean of 2e5 draws is at most sigma/sqrt(2e5): 4 such SEs
    np.testing.assert_allclose(sim.mean(axis=1), ml.predict(kind="conditional")[:3], atol=4 * float(ml.sigma) / np.sqrt(2e5))
    # sd of y | s=1 is sigma*sqrt(1 - rho^2 delta) with |rho| ~ 0.02 here (< 0.1 % below sigma);
    # the sample sd of 2e5 draws has relative MC error 1/sqrt(4e5) = 0.16 %: 2 % is > 10 MC SEs
    assert sim.std(axis=1) == pytest.approx(np.full(3, float(ml.sigma)), rel=0.02)
    with pytest.raises(InputError):
        ml.predict(kind="bogus")


def test_weights_frequency_equivalence_and_design_cov(mroz):
    """Integer weights = replicated rows (point estimates and log-likelihood); design-based
    covariance for a one-stage design with every row a PSU equals the robust sandwich."""
    from remitpov.design import Design

    rng = np.random.default_rng(3)
    w = rng.integers(1, 4, len(mroz)).astype(float)
    mw = Heckman.from_formula(OUT, SEL, mroz.assign(w=w), weights="w")
    big = mroz.loc[np.repeat(np.arange(len(mroz)), w.astype(int))].reset_index(drop=True)
    mb = Heckman.from_formula(OUT, SEL, big)
    for meth in ("twostep", "ml"):
        a, b = mw.fit(meth), mb.fit(meth)
        # frequency weights == replicated rows: the same estimating equations; 1e-6 covers the
        # ML optimiser's stopping rule (gradient ~1e-8), two-step agrees to rounding
        np.testing.assert_allclose(a.params, b.params, rtol=1e-6, atol=1e-8)
        assert a.cov_type == "HC1"
    # the log-likelihood is flat at the optimum: parameter error 1e-6 moves it by ~1e-12 relative
    assert mw.fit("ml").loglik == pytest.approx(mb.fit("ml").loglik, rel=1e-9)
    d = Design.from_arrays(w, psu=np.arange(len(mroz)))
    for meth in ("twostep", "ml"):
        r = mw.fit(meth, cov_type="HC1")
        dd = mw.fit(meth, cov_type="design", design=d)
        # identical formula: scores sum to zero at the estimates, so centring changes nothing
        np.testing.assert_allclose(dd.std_errors, r.std_errors, rtol=1e-6)
        c = mw.fit(meth, cov_type="CR1", clusters=np.arange(len(mroz)))
        # one observation per cluster IS the robust (HC1) sandwich: same sums, rounding only
        np.testing.assert_allclose(c.std_errors, r.std_errors, rtol=1e-10)
        # HC0/CR0: the same without the n/(n-1) (G/(G-1)) factor
        n = len(mroz)
        np.testing.assert_allclose(mw.fit(meth, cov_type="HC0").std_errors, r.std_errors * np.sqrt((n - 1) / n),
                                   rtol=1e-10)
        np.testing.assert_allclose(mw.fit(meth, cov_type="CR0", clusters=np.arange(n)).std_errors,
                                   r.std_errors * np.sqrt((n - 1) / n), rtol=1e-10)
        # the old spellings: the same numbers, with a FutureWarning naming the registry name
        with pytest.warns(FutureWarning, match="write cov_type='HC1'"):
            old = mw.fit(meth, cov_type="robust")
        np.testing.assert_array_equal(old.std_errors, r.std_errors)
        with pytest.warns(FutureWarning, match="write cov_type='CR1'"):
            old = mw.fit(meth, cov_type="cluster", clusters=np.arange(n))
        np.testing.assert_array_equal(old.std_errors, c.std_errors)


def test_robust_twostep_equals_numerical_stacked_sandwich(mroz, fits):
    """Robust two-step covariance = sandwich of the stacked estimating equations (probit scores,
    OLS normal equations with the IMR regressor) with a NUMERICAL Jacobian, built here
    independently of the implementation."""
    m, two, _ = fits
    r = m.fit("twostep", cov_type="HC1")
    X = np.column_stack([np.ones(len(mroz)), mroz.educ, mroz.exper, mroz.expersq])
    Z = np.column_stack([np.ones(len(mroz)), mroz.nwifeinc, mroz.educ, mroz.exper, mroz.expersq, mroz.age,
                         mroz.kidslt6, mroz.kidsge6])
    s = mroz.inlf.to_numpy().astype(float)
    y = mroz.lwage.fillna(0).to_numpy()
    k = X.shape[1]

    def psi(par):  # (n, k+1+m) per-observation estimating functions
        th, g = par[:k + 1], par[k + 1:]
        q = Z @ g
        pr = stats.norm.cdf(q)
        score = ((s - pr) * stats.norm.pdf(q) / (pr * (1 - pr)))[:, None] * Z
        Xs = np.column_stack([X, stats.norm.pdf(q) / stats.norm.cdf(q)])
        return np.column_stack([s[:, None] * Xs * (y - Xs @ th)[:, None], score])

    p = two.params
    par = np.concatenate([p[["Intercept", "educ", "exper", "expersq", "lambda"]].to_numpy(),
                          p[[n for n in p.index if n.startswith("selection:")]].to_numpy()])
    n_par = par.size
    J = np.empty((n_par, n_par))
    for j in range(n_par):
        h = 1e-6 * max(1, abs(par[j]))
        e = np.zeros(n_par)
        e[j] = h
        J[:, j] = (psi(par + e).sum(0) - psi(par - e).sum(0)) / (2 * h)
    P = psi(par)
    Ji = np.linalg.inv(J)
    V = Ji @ (P.T @ P) @ Ji.T * len(P) / (len(P) - 1)
    se = np.sqrt(np.diag(V))
    ours = r.std_errors[["Intercept", "educ", "exper", "expersq", "lambda"]
                        + [n for n in p.index if n.startswith("selection:")]].to_numpy()
    # central differences with h = 1e-6 are accurate to ~1e-8 relative in J; the analytic
    # probit Hessian vs the numerical Jacobian of its scores agree to ~1e-7
    np.testing.assert_allclose(ours, se, rtol=1e-5)
    # and it is a different estimator from the Heckman/Greene model-based covariance
    assert abs(r.std_errors["lambda"] / two.std_errors["lambda"] - 1) > 0.05


# ----------------------------------------------------------------------------- bad input
def test_no_selected_or_all_selected(mroz):
    with pytest.raises(EstimationError, match="no selected"):
        Heckman.from_formula(OUT, SEL, mroz.assign(inlf=0))
    with pytest.raises(EstimationError, match="every observation is selected"):
        Heckman.from_formula(OUT, SEL, mroz.assign(inlf=1, lwage=mroz.lwage.fillna(0)))


def test_singular_design(mroz):
    with pytest.raises(EstimationError, match=r"singular.*educ2"):
        Heckman.from_formula("lwage ~ educ + educ2 + exper", SEL, mroz.assign(educ2=2 * mroz.educ))
    with pytest.raises(EstimationError, match="selection design"):
        Heckman.from_formula(OUT, SEL + " + age2", mroz.assign(age2=mroz.age + 1))


def test_perfect_prediction(mroz):
    d = mroz.copy()
    d["dummy"] = 0.0
    d.loc[d.index[d.inlf == 1][:20], "dummy"] = 1.0  # dummy = 1 only for workers
    with pytest.raises(EstimationError, match=r"perfect prediction.*dummy=1"):
        Heckman.from_formula(OUT, SEL + " + dummy", d).fit()
    d["sep"] = d.inlf * 10 + d.age / 100  # completely separates
    with pytest.raises(EstimationError, match="perfect prediction"):
        Heckman.from_formula(OUT, SEL + " + sep", d).fit()


def test_input_errors_and_warnings(mroz):
    with pytest.raises(InputError, match="endog is missing"):
        Heckman.from_formula(OUT, SEL, mroz.assign(lwage=mroz.lwage.where(mroz.index != 3)))
    with pytest.raises(InputError, match="exog"):
        Heckman.from_formula(OUT, SEL, mroz.assign(age=mroz.age.where(mroz.index != 7)))
    with pytest.raises(InputError, match="0/1"):
        Heckman(mroz.lwage, np.ones((753, 1)), np.where(mroz.inlf == 1, 2, 0), np.ones((753, 1)))
    with pytest.warns(SelectionWarning, match="exclusion"):
        Heckman.from_formula(OUT, "inlf ~ educ + exper + expersq", mroz)
    m = Heckman.from_formula(OUT, SEL, mroz)
    with pytest.raises(InputError, match="method"):
        m.fit("gmm")
    with pytest.raises(InputError, match="clusters"):
        m.fit(cov_type="CR1")
    with pytest.raises(InputError, match="HC3.*not available"):
        m.fit(cov_type="HC3")


def test_inverse_mills_and_probit_helpers():
    q = np.array([-40.0, -5, 0, 3, 40])
    np.testing.assert_allclose(inverse_mills(q)[1:4], stats.norm.pdf(q[1:4]) / stats.norm.cdf(q[1:4]))
    # asymptotics: lambda(q) = -q - 1/q + O(q^-3) for q -> -inf, i.e. 40.025 at q = -40 (rel 6e-4)
    assert np.isfinite(inverse_mills(q)).all() and inverse_mills(-40.0) == pytest.approx(40.0, rel=1e-3)
    rng = np.random.default_rng(0)
    Z = np.column_stack([np.ones(4000), rng.normal(size=4000)])
    s = (Z @ [0.3, -0.8] + rng.normal(size=4000) > 0).astype(float)
    import statsmodels.api as sm
    f = probit(s, Z)
    ref = sm.Probit(s, Z).fit(disp=0, tol=1e-12)
    # both are Newton on the same likelihood: statsmodels to tol 1e-12, ours until the last step
    # is < 1e-7 (quadratic convergence: the error after it is ~1e-14); SEs: both invert the
    # analytic Hessian at (nearly) the same point -> agreement well inside 1e-7 / 1e-6
    np.testing.assert_allclose(f.params, ref.params, rtol=1e-7)
    np.testing.assert_allclose(np.sqrt(np.diag(f.cov)), ref.bse, rtol=1e-6)


# ----------------------------------------------------------------------------- results base
def test_results_base_summary_and_compare(fits):
    _, two, ml = fits
    txt = str(ml.summary)
    assert "Heckman Selection" in txt and "selection" in txt and "rho" in txt and "-832.8851" in txt
    tex = ml.summary.as_latex()
    assert tex.count(r"\begin{tabular}") == 1 and r"\toprule" in tex and r"Non-selected obs." in tex
    assert "<table" in ml.summary.as_html()
    # to_frame / conf_int consistent with params and SEs
    f = ml.to_frame()
    np.testing.assert_allclose(f["estimate"], ml.params)
    ci = ml.conf_int(0.9)
    np.testing.assert_allclose(ci["upper"] - ml.params, stats.norm.ppf(0.95) * ml.std_errors)
    np.testing.assert_allclose(ml.pvalues, 2 * stats.norm.sf(np.abs(ml.tstats)))
    cmp = compare({"two-step": two, "ML": ml}, stars=True)
    assert cmp.params.loc["educ", "ML"] == ml.params["educ"] and np.isnan(cmp.params.loc["athrho", "two-step"])
    assert "(0.0149)" in str(cmp)
    with pytest.raises((AttributeError, TypeError, ValueError)):
        ml.params.iloc[0] = 1.0  # immutable
    # t distribution branch of the base class
    r = ModelResults(pd.Series([1.0], index=["x"]), np.array([[0.25]]), 10, dist="t", df_resid=5)
    assert r.pvalues["x"] == pytest.approx(2 * stats.t.sf(2.0, 5))


def test_bad_weights_name_rows_and_fix():
    """Weights: one validator for every model (named rows, what to do), zero weights allowed."""
    from remitpov.econometrics.treatment import PropensityScore

    rng = np.random.default_rng(0)
    n = 60
    x = rng.normal(size=n)
    s = (x + rng.normal(size=n) > 0).astype(float)
    y = np.where(s == 1, 1 + x + rng.normal(size=n), np.nan)
    X = np.column_stack([np.ones(n), x])
    Z = np.column_stack([np.ones(n), x, rng.normal(size=n)])
    w = np.ones(n)
    for bad, msg in ((np.where(np.arange(n) == 4, -1.0, w), r"negative in 1 row"),
                     (np.where(np.arange(n) == 4, np.nan, w), r"missing, non-numeric or negative in 1 row"),
                     (w[:-1], r"weights ha(ve|s) 59 (rows|values)"), (0 * w, "all weights are zero")):
        with pytest.raises(InputError, match=msg):
            Heckman(y, X, s, Z, weights=bad)
        df = pd.DataFrame({"t": s, "x": x})
        with pytest.raises(InputError, match=msg):
            PropensityScore("t ~ x", df, weights=bad)
    Heckman(y, X, s, Z, weights=np.where(np.arange(n) == 4, 0.0, w))  # a zero weight is allowed
