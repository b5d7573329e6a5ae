"""cov_type="design": regressions with the survey variance engine against R survey.

Reference: fixtures/survey_regression.json, made by tests/r/make_survey_regression.R (R 4.2.2,
survey 4.1.1, AER): ``svyglm`` and ``svyivreg`` on apistrat (stratified, fpc) and apiclus2
(two-stage clusters, fpc at both stages), one case with missing values (rows dropped by
svyglm, zero influence here with the full design kept). For svyivreg the reference is its
``$cov.unscaled`` -- the design-based variance it computes from the influence values; survey
4.1.1's ``vcov()``/``summary()`` of a svyivreg multiply it by sigma^2 as for a plain ivreg (SEs
~80x too large here; kept in the fixture as ``se_vcov``).
Tolerance: 1e-9 relative -- the same linearisation in double precision (observed ~1e-13).
"""
from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import remitpov as rp
from remitpov.econometrics import RemittanceIV, RobustOLS
from remitpov.exceptions import InputError, WeakInstrumentWarning

FIX = Path(__file__).resolve().parent.parent / "fixtures" / "survey_regression.json"
RTOL = 1e-9
DESIGNS = {"strat": dict(strata="stype", fpc="fpc"), "clus2": dict(psu="dnum", ssu="snum", fpc="fpc1", fpc2="fpc2")}


@pytest.fixture(scope="module")
def ref():
    return json.loads(FIX.read_text())


def _survey(shared, name):
    file = "apistrat" if name == "strat" else "apiclus2"
    df = pd.read_csv(shared("data", "api", f"{file}.csv.gz")).rename(columns=lambda c: c.replace(".", "_"))
    return df, rp.Survey(df, weight="pw", unit="person", **DESIGNS[name]).design()


def _check(res, r):
    assert res.nobs == r["nobs"]
    np.testing.assert_allclose(res.params.to_numpy(), list(r["coef"].values()), rtol=RTOL)
    np.testing.assert_allclose(res.std_errors.to_numpy(), list(r["se"].values()), rtol=RTOL)
    assert res.df_resid == r["df_residual"]


@pytest.mark.parametrize("name", ["strat", "clus2"])
def test_ols_design_equals_svyglm(shared, ref, name):
    df, design = _survey(shared, name)
    res = RobustOLS.from_formula("api00 ~ ell + meals + mobility", df, weights="pw").fit("design", design=design)
    _check(res, ref[f"{name}_ols"])
    assert res.cov_type == "design"


def test_ols_design_missing_rows_have_zero_influence(shared, ref):
    df, design = _survey(shared, "clus2")
    m = RobustOLS.from_formula("api00 ~ ell + meals + acs_46", df, weights="pw", missing="drop")
    _check(m.fit("design", design=design), ref["clus2_ols_na"])


@pytest.mark.parametrize("name", ["strat", "clus2"])
def test_iv_design_equals_svyivreg(shared, ref, name):
    df, design = _survey(shared, name)
    iv = RemittanceIV.from_formula("api00 ~ 1 + ell + [meals ~ mobility + emer]", df, weights="pw")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", WeakInstrumentWarning)  # apiclus2's first stage is weak
        res = iv.fit(cov_type="design", design=design, debiased=True)
    r = ref[f"{name}_iv"]
    # R keeps the formula order (Intercept, ell, meals) as linearmodels does here
    _check(res, r)
    # first-stage F and endogeneity test are design-based Wald tests: same number as a
    # design-based RobustOLS of the first stage
    fs = RobustOLS.from_formula("meals ~ ell + mobility + emer", df, weights="pw").fit("design", design=design)
    b = fs.params[["mobility", "emer"]].to_numpy()
    W = b @ np.linalg.solve(fs.cov.loc[["mobility", "emer"], ["mobility", "emer"]].to_numpy(), b) / 2
    assert res.first_stage["f_stat"].iloc[0] == pytest.approx(W, rel=1e-10)
    assert res.first_stage["f_df"].iloc[0] == f"F(2,{design.df})"  # no row dropped: the design's df


def test_design_bad_input(shared):
    df, design = _survey(shared, "strat")
    with pytest.raises(InputError, match="design's weights"):
        RobustOLS.from_formula("api00 ~ ell", df).fit("design", design=design)
    with pytest.raises(InputError, match="needs design="):
        RobustOLS.from_formula("api00 ~ ell", df, weights="pw").fit("design")
    with pytest.raises(InputError, match="rows"):
        RobustOLS.from_formula("api00 ~ ell", df.iloc[:100], weights="pw").fit("design", design=design)
    with pytest.raises(InputError, match="not available|not a covariance"):
        RemittanceIV.from_formula("api00 ~ 1 + ell + [meals ~ mobility + emer]", df, weights="pw").fit(
            "liml", cov_type="design", design=design)
