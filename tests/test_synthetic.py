"""synthetic_survey: determinism, design structure, and the properties the docs promise."""
import numpy as np
import pandas as pd
import pytest

from remitpov.estimation import mean
from remitpov.exceptions import InputError
from remitpov.income import build_income
from remitpov.synthetic import COUNTRY_PARAMS, synthetic_countries, synthetic_lines, synthetic_survey


@pytest.fixture(scope="module")
def syn():
    return synthetic_survey()


def test_deterministic(syn):
    pd.testing.assert_frame_equal(syn.data, synthetic_survey().data)
    other = synthetic_survey(seed=7)
    assert not np.allclose(other.data["ing_cor"], syn.data["ing_cor"])
    c1, c2 = synthetic_countries(), synthetic_countries()
    assert list(c1) == list(COUNTRY_PARAMS)
    for k in c1:
        pd.testing.assert_frame_equal(c1[k].data, c2[k].data)
    assert c1["A"].n != c1["B"].n


def test_structure(syn):
    d = syn.data
    assert syn.n == 3000 and d["folioviv"].is_unique
    per_psu = d.groupby("upm").size()
    assert per_psu.eq(10).all()
    assert d.groupby("est_dis")["upm"].nunique().min() >= 2
    assert (d["tot_integ"] == d["n_adults"] + d["n_children"]).all()
    assert (d["tot_integ"] == d[["n_0_5", "n_6_12", "n_13_18", "n_19plus"]].sum(axis=1)).all()
    src = [c for c in syn.sources.values()]
    np.testing.assert_allclose(d[src].sum(axis=1), d["ing_cor"], atol=0.06)  # rounding to cents
    assert set(d["area"]) == {"urban", "rural"}
    assert syn.metadata.income_period == "quarter"


def test_remittance_patterns(syn):
    b = build_income(syn)
    d = b.data
    wh = b.weights("household")
    share = np.average(d["recipient"], weights=wh)
    assert 0.10 <= share <= 0.20
    rural = d["area"] == "rural"
    assert np.average(d["recipient"][rural], weights=wh[rural]) > np.average(d["recipient"][~rural], weights=wh[~rural])
    # concentrated in the lower quintiles of pre-remittance income
    q = pd.qcut(d["y_without"].rank(method="first"), 5, labels=False)
    rate = d.groupby(q)["recipient"].mean()
    assert rate.iloc[0] > rate.iloc[-1] * 1.5
    # the instrument raises the migrant share
    assert np.corrcoef(d["mig_network"], d["has_migrant"])[0, 1] > 0.1


@pytest.mark.parametrize("name", list(COUNTRY_PARAMS))
def test_poverty_rates_sensible(name):
    s = synthetic_countries()[name]
    b = build_income(s)
    ind, pov = synthetic_lines(s).for_survey(b)
    poor_with = (b.data["y_with"] < pov).astype(float)
    poor_without = (b.data["y_without"] < pov).astype(float)
    est = mean(b.with_columns(pw=poor_with, pwo=poor_without), ["pw", "pwo"])
    r_with, r_without = est.estimates
    assert 0.20 <= r_with <= 0.50 and 0.20 <= r_without <= 0.50
    assert r_without > r_with  # remittances reduce poverty
    assert np.all(est.se > 0) and np.all(est.se < 0.05)
    assert np.all(ind < pov)


def test_bad_params():
    with pytest.raises(InputError, match="too small"):
        synthetic_survey(n_households=20)
    with pytest.raises(InputError, match="rural_share"):
        synthetic_survey(rural_share=1.2)


@pytest.mark.parametrize("types", [False, True])
def test_true_income_without_migration(types):
    """``y_true_nomig`` against the DGP in closed form: non-migrant households' income minus
    remittances; migrant households' labour scaled by (earners restored / earners)^0.8."""
    s = synthetic_survey(seed=5, migration_types=types)
    d = s.data
    assert s.roles["income_nomig"] == "y_true_nomig"
    lost = d["has_migrant"].to_numpy(float) * 0.6
    internal = np.zeros(s.n)
    if types:
        internal = d["internal_transfers"].to_numpy()
        lost = lost + (d["migration_status"] == "internal").to_numpy() * 0.5
    other = (d["ing_cor"] - d["remesas"] - internal - d["ingtrab"]).to_numpy()
    n_14_18 = (d["n_adults"] - d["n_19plus"]).to_numpy(float)
    e0 = np.maximum(d["n_19plus"] + 0.5 * n_14_18, 0.5)
    e1 = np.maximum(d["n_19plus"] + 0.5 * n_14_18 - lost, 0.5)
    expected = other + d["ingtrab"].to_numpy() * (e0 / e1) ** 0.8
    # each quarterly source is rounded to cents before summing: at most ~12 x 0.005 apart,
    # plus the rounding of ingtrab amplified by (e0/e1)^0.8 <= 2^0.8
    np.testing.assert_allclose(d["y_true_nomig"], expected, atol=0.1)
    stay = lost == 0
    np.testing.assert_allclose(d["y_true_nomig"][stay], (d["ing_cor"] - d["remesas"] - internal)[stay], atol=0.1)
    assert (d["y_true_nomig"][~stay & (d["ingtrab"] > 0)] > other[~stay & (d["ingtrab"] > 0)]
            + d["ingtrab"][~stay & (d["ingtrab"] > 0)]).all()
    # the rest of the survey is unchanged by the new column
    assert "y_true_nomig" not in s.sources.values()
