"""remitpov.migration.census: design-based census tabulations against direct numpy
computations on the synthetic IMILA-like census.

Point estimates are weighted sums computed here with pandas group-bys; the standard error
of a domain total is recomputed from the textbook stratified cluster formula
(with-replacement PSU variance within strata times the fpc ``1 - n_h/N_h``), written out
independently of the package's variance engine. Both are sums of the same floats in a
different order: tolerance 1e-9 relative (rounding of sums of ~10^5 terms).
"""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from remitpov.exceptions import InputError
from remitpov.migration import census as mc

RTOL = 1e-9  # same sums in a different order (see module docstring)


@pytest.fixture(scope="module")
def cen():
    return mc.synthetic_census(("ARG", "CRI", "USA"), persons_per_country=20_000, seed=11)


def _direct_total_se(df: pd.DataFrame, y: np.ndarray) -> float:
    z = df.assign(_z=df["weight"].to_numpy() * y).groupby(["stratum", "psu"])["_z"].sum().reset_index()
    v = 0.0
    for h, g in z.groupby("stratum"):
        n_h = len(g)
        N_h = df.loc[df["stratum"] == h, "fpc"].iloc[0]
        v += (1 - n_h / N_h) * n_h / (n_h - 1) * ((g["_z"] - g["_z"].mean()) ** 2).sum()
    return float(np.sqrt(v))


def test_synthetic_census_is_seeded_and_shaped(cen):
    again = mc.synthetic_census(("ARG", "CRI", "USA"), persons_per_country=20_000, seed=11)
    pd.testing.assert_frame_equal(cen.data, again.data)
    d = cen.data
    assert len(d) == 60_000 and set(d["census_country"].astype(str)) == {"ARG", "CRI", "USA"}
    imm = d["birth_country"].astype(str) != d["census_country"].astype(str)
    # Costa Rica: Nicaraguans dominate the foreign-born (about three quarters)
    cri = d[(d["census_country"] == "CRI") & imm]
    assert cri["birth_country"].astype(str).value_counts(normalize=True).index[0] == "NIC"
    assert d.loc[imm, "year_arrival"].notna().all() and d.loc[~imm, "year_arrival"].isna().all()


def test_immigrant_stock_equals_weighted_counts_and_textbook_se(cen):
    d = cen.data
    tab = mc.immigrant_stock(cen).to_frame()
    imm = d["birth_country"].astype(str) != d["census_country"].astype(str)
    direct = d[imm].groupby([d["census_country"].astype(str), d["birth_country"].astype(str)])["weight"].sum()
    got = tab.set_index(["census_country", "birth_country"])["estimate"]
    assert set(got.index) == set(direct.index)
    np.testing.assert_allclose(got.loc[direct.index].to_numpy(), direct.to_numpy(), rtol=RTOL)
    row = tab[(tab.census_country == "CRI") & (tab.birth_country == "NIC")].iloc[0]
    y = ((d["census_country"] == "CRI") & (d["birth_country"].astype(str) == "NIC")).to_numpy(dtype=float)
    assert row["se"] == pytest.approx(_direct_total_se(d, y), rel=RTOL)
    assert "natives" not in set(tab["birth_country"])


def test_pooled_emigrants_over_independent_censuses(cen):
    d = cen.data
    tab = mc.immigrant_stock(cen, by="birth_country").to_frame().set_index("birth_country")
    # COL-born in every census: strata are nested in countries, so variances add
    y = (d["birth_country"].astype(str) == "COL").to_numpy(dtype=float)
    assert tab.loc["COL", "estimate"] == pytest.approx((d["weight"] * y).sum(), rel=RTOL)
    assert tab.loc["COL", "se"] == pytest.approx(_direct_total_se(d, y), rel=RTOL)


def test_sex_ratio_age_structure_tertiary(cen):
    d = cen.data.assign(cc=cen.data["census_country"].astype(str), bc=cen.data["birth_country"].astype(str),
                        sx=cen.data["sex"].astype(str), ed=cen.data["education"].astype(str))
    imm = d[d.bc != d.cc]
    sr = mc.sex_ratio(cen).to_frame().set_index(["census_country", "birth_country"])["estimate"]
    g = imm[(imm.cc == "USA") & (imm.bc == "MEX")]
    want = 100 * g.loc[g.sx == "male", "weight"].sum() / g.loc[g.sx == "female", "weight"].sum()
    assert sr.loc[("USA", "MEX")] == pytest.approx(want, rel=RTOL)
    ages = mc.age_structure(cen, by="census_country").to_frame()
    sums = ages.groupby("census_country")["estimate"].sum()
    np.testing.assert_allclose(sums.to_numpy(), 100.0, rtol=1e-12)  # shares of one domain add to 100
    t = mc.tertiary_share(cen, by="birth_country").to_frame().set_index("birth_country")["estimate"]
    a = d[(d.bc == "ARG") & (d.age >= 25)]
    assert t.loc["ARG"] == pytest.approx(100 * a.loc[a.ed == "tertiary", "weight"].sum() / a["weight"].sum(), rel=RTOL)


def test_docquier_marfouk_rates(cen):
    res = pd.DataFrame({"origin": ["NIC"] * 4, "education": ["none", "primary", "secondary", "tertiary"],
                        "residents": [5e5, 1e6, 6e5, 1e5]})
    out = mc.emigration_rates_by_education(cen, res).set_index("education")
    d = cen.data
    nic = d[(d["birth_country"].astype(str) == "NIC") & (d["age"] >= 25)]
    high = nic.loc[nic["education"].astype(str) == "tertiary", "weight"].sum()
    assert out.loc["high", "emigrants"] == pytest.approx(high, rel=RTOL)
    assert out.loc["low", "residents"] == 1.5e6  # none + primary pooled (Docquier-Marfouk's "low")
    m, n = out.loc["high", "emigrants"], out.loc["high", "residents"]
    assert out.loc["high", "rate_pct"] == pytest.approx(100 * m / (m + n), rel=1e-14)
    # delta method: d/dM [M/(M+N)] = N/(M+N)^2
    assert out.loc["high", "rate_se"] == pytest.approx(100 * n / (m + n) ** 2 * out.loc["high", "emigrants_se"],
                                                       rel=1e-14)


def _frame():
    return pd.DataFrame({"bc": ["Mexico", "ARG", None, "ARG"], "cc": ["ARG"] * 4, "sex": ["M", "F", "F", "M"],
                         "age": [30, 40, 50, 60], "edu": ["primary", "tertiary", "none", "secondary"],
                         "w": [10.0, 10.0, 10.0, 10.0]})


def test_missing_country_of_birth_policies():
    with pytest.raises(InputError, match=r"country of birth 'bc' is missing in 1 row.*missing_birth='unknown'"):
        mc.read_census(_frame(), birth_country="bc", census_country="cc", weight="w")
    s = mc.read_census(_frame(), birth_country="bc", census_country="cc", weight="w", missing_birth="unknown")
    assert s.report.find("missing")[0].rows == 1 and "unknown" in set(s.data["bc"].astype(str))
    s = mc.read_census(_frame(), birth_country="bc", census_country="cc", weight="w", missing_birth="drop")
    assert s.n == 3 and s.report.find("dropped")[0].rows == 1
    assert s.report.find("mapped")  # "Mexico" -> "MEX" is reported


@pytest.mark.parametrize("change, words", [
    ({"bc": ["Mexcio", "ARG", "ARG", "ARG"]}, ["unknown country", "Mexcio", "did you mean"]),
    ({"sex": ["M", "x", "F", "M"]}, ["sex column", "'x'"]),
    ({"age": [30, -1, 50, 60]}, ["age column", "negative"]),
    ({"edu": ["primary", "college", "none", "secondary"]}, ["education column", "'college'"]),
])
def test_bad_census_input(change, words):
    df = _frame().assign(bc=["MEX", "ARG", "ARG", "ARG"]).assign(**change)
    with pytest.raises(InputError) as e:
        mc.read_census(df, birth_country="bc", census_country="cc", sex="sex", age="age", education="edu",
                       weight="w")
    for w in words:
        assert w in str(e.value)


def test_missing_column_and_role():
    with pytest.raises(InputError, match="census column 'nope'"):
        mc.read_census(_frame(), birth_country="nope")
    s = mc.read_census(_frame().dropna(), birth_country="bc", census_country="cc", weight="w")
    with pytest.raises(InputError, match="declares no 'sex' column"):
        mc.sex_ratio(s)


def test_sex_ratio_domain_without_women_is_named_not_inf():
    df = pd.DataFrame({"bc": ["PER", "PER", "BOL", "BOL", "ARG", "ARG"], "cc": ["ARG"] * 6,
                       "sex": ["male", "female", "male", "male", "male", "female"], "w": [1.0] * 6,
                       "st": [1] * 6, "psu": [1, 2, 3, 4, 5, 6]})
    s = mc.read_census(df, birth_country="bc", census_country="cc", sex="sex", weight="w", strata="st", psu="psu")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        t = mc.sex_ratio(s, by="birth_country")
    f = t.to_frame()
    assert list(f["birth_country"]) == ["PER"] and f["estimate"].iloc[0] == 100.0
    assert any("not estimated for: BOL" in n for n in t.notes)


@pytest.mark.parametrize("fn", [mc.immigrant_stock, mc.sex_ratio, mc.age_structure, mc.tertiary_share])
def test_within_domain_covariances_by_default_same_ses_as_joint(fn, cen):
    """Census tabulations keep covariances within each domain only (R's svyby default; a sparse
    vcov, linear in the number of domains); every estimate and SE is the joint path's (1e-12:
    the same sums grouped in another order)."""
    from scipy import sparse

    blocks, joint = fn(cen), fn(cen, covmat=True)
    assert sparse.issparse(blocks.vcov) and isinstance(joint.vcov, np.ndarray)
    fb, fj = blocks.to_frame(), joint.to_frame()
    pd.testing.assert_frame_equal(fb.drop(columns=["estimate", "se", "ci_lower", "ci_upper"]),
                                  fj.drop(columns=["estimate", "se", "ci_lower", "ci_upper"]))
    for c in ("estimate", "se", "ci_lower", "ci_upper"):
        np.testing.assert_allclose(fb[c], fj[c], rtol=1e-12, err_msg=c)
