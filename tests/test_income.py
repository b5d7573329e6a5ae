"""Income concepts (remitpov.income): closed forms on small hand-made surveys, laeken's
eqSS (modified OECD) on the EU-SILC sample, and CONEVAL's published age weights."""
import numpy as np
import pandas as pd
import pytest

from remitpov.exceptions import InputError
from remitpov.income import CONEVAL_WEIGHTS, build_income, equivalence_scale, income_without
from remitpov.survey import Survey, SurveyMetadata


def _survey(period="quarter", **over):
    df = pd.DataFrame({
        "id": ["h1", "h2", "h3", "h4"],
        "w": [10.0, 20.0, 30.0, 40.0],
        "size": [1, 2, 4, 3],
        "adults": [1, 2, 2, 1],
        "children": [0, 0, 2, 2],
        "inc": [300.0, 600.0, 1200.0, 0.0],
        "rem": [0.0, 300.0, 1200.0, 0.0],
        "pens": [30.0, 0.0, 0.0, 0.0],
    })
    for k, v in over.items():
        df[k] = v
    return Survey(df, weight="w", size="size", ids=("id",), roles={"income": "inc", "remittances": "rem"},
                  sources={"remittances": "rem", "pensions": "pens"},
                  metadata=SurveyMetadata(income_period=period, currency="X"))


def test_scales_closed_form():
    s = _survey()
    np.testing.assert_array_equal(equivalence_scale(s), [1, 2, 4, 3])
    np.testing.assert_allclose(equivalence_scale(s, "sqrt"), np.sqrt([1, 2, 4, 3]))
    np.testing.assert_array_equal(equivalence_scale(s, "none"), [1, 1, 1, 1])
    # 1 + 0.5 (adults - 1) + 0.3 children
    np.testing.assert_allclose(equivalence_scale(s, "oecd_modified", adults="adults", children="children"),
                               [1.0, 1.5, 2.1, 1.6])
    np.testing.assert_allclose(equivalence_scale(s, lambda sv: np.full(sv.n, 2.0)), [2.0] * 4)
    with pytest.raises(InputError, match="unknown equivalence scale"):
        equivalence_scale(s, "bogus")
    with pytest.raises(InputError, match="n_adults"):
        equivalence_scale(s, "oecd_modified")
    bad = _survey(children=[0, 1, 2, 2])  # h2: 2 adults + 1 child != size 2
    with pytest.raises(InputError, match="differ from household size 'size' in 1 row.*h2"):
        equivalence_scale(bad, "oecd_modified", adults="adults", children="children")


def test_coneval_scale():
    # CONEVAL tamhogesc: .7031 (0-5), .7382 (6-12), .7057 (13-18), .9945 (19+); one-person households = 1
    assert CONEVAL_WEIGHTS == {"n_0_5": 0.7031, "n_6_12": 0.7382, "n_13_18": 0.7057, "n_19plus": 0.9945}
    s = _survey(n_0_5=[0, 0, 1, 0], n_6_12=[0, 0, 1, 1], n_13_18=[0, 1, 0, 1], n_19plus=[1, 1, 2, 1])
    d = equivalence_scale(s, "coneval")
    np.testing.assert_allclose(d, [1.0, 0.7057 + 0.9945, 0.7031 + 0.7382 + 2 * 0.9945, 0.7382 + 0.7057 + 0.9945])


def test_oecd_modified_matches_laeken_eqss(shared):
    """Household counts from the EU-SILC person file -> our OECD scale == laeken's eqSS."""
    p = pd.read_csv(shared("data", "eusilc", "eusilc.csv.gz"))
    hh = p.groupby("db030").agg(w=("db090", "first"), size=("hsize", "first"), eqSS=("eqSS", "first"),
                                 n_adults=("age", lambda a: int((a >= 14).sum())),
                                 n_children=("age", lambda a: int((a <= 13).sum()))).reset_index()
    s = Survey(hh, weight="w", size="size", ids=("db030",))
    np.testing.assert_allclose(equivalence_scale(s, "oecd_modified"), hh["eqSS"], rtol=0, atol=1e-12)


def test_build_income_columns_and_report():
    s = _survey()
    b = build_income(s)
    d = b.data
    # quarterly -> monthly (/3), per capita
    np.testing.assert_allclose(d["y_with"], np.array([300, 600, 1200, 0]) / 3 / np.array([1, 2, 4, 3]))
    np.testing.assert_allclose(d["y_without"], np.array([300, 300, 0, 0]) / 3 / np.array([1, 2, 4, 3]))
    np.testing.assert_allclose(d["remit_pc"], np.array([0, 300, 1200, 0]) / 3 / np.array([1, 2, 4, 3]))
    assert d["recipient"].tolist() == [False, True, True, False]
    np.testing.assert_allclose(d["remit_share"][:3], [0.0, 0.5, 1.0])
    assert np.isnan(d["remit_share"][3])  # zero income -> NaN share
    assert b.role("y_with") == "y_with" and b.role("scale") == "eq_scale"
    assert b.report.find("zero_income")[0].rows == 1
    assert "per quarter -> per month" in str(b.report)
    assert "y_with" not in s.data.columns  # immutable: the input survey is unchanged
    y = build_income(s, period="year", deflator=2.0, currency_factor=0.5).data["y_with"]
    np.testing.assert_allclose(y, np.array([300, 600, 1200, 0]) * 4 / 2 * 0.5 / np.array([1, 2, 4, 3]))


def test_floor_policies():
    s = _survey(rem=[0.0, 300.0, 1200.0, 0.0], inc=[300.0, 600.0, 1200.0, 0.0])
    # remittances larger than income -> error naming the row
    bad = _survey(rem=[0.0, 700.0, 0.0, 0.0])
    with pytest.raises(InputError, match="larger than income.*1 row.*h2"):
        build_income(bad)
    # a negative counterfactual needs a source larger than y_hh: use income_without
    b = build_income(s)
    big = b.with_columns(pens=[400.0, 0.0, 0.0, 0.0])
    z = income_without(big, "pensions")
    assert z.data["y_without_pensions"][0] == 0.0
    assert z.report.find("floor")[0].rows == 1
    k = income_without(big, "pensions", floor="keep")
    assert k.data["y_without_pensions"][0] == pytest.approx((300 - 400) / 3)
    with pytest.raises(InputError, match="negative in 1 row.*h1"):
        income_without(big, "pensions", floor="error")


def test_income_without_sources():
    b = build_income(_survey())
    w = income_without(b, "remittances")
    np.testing.assert_allclose(w.data["y_without_remittances"], b.data["y_without"])
    w2 = income_without(b, ["pensions", "remittances"], name="core")
    np.testing.assert_allclose(w2.data["core"], (np.array([300, 600, 1200, 0]) - [30, 300, 1200, 0]) / 3
                               / np.array([1, 2, 4, 3]))
    assert w2.role("core") == "core"
    with pytest.raises(InputError, match="unknown income source 'wages'"):
        income_without(b, "wages")
    with pytest.raises(InputError, match="build_income"):
        income_without(_survey(), "pensions")


def test_income_without_on_eusilc(shared):
    from remitpov.io.eusilc import read_eusilc

    s = read_eusilc(shared("data", "eusilc", "eusilc.csv.gz"))
    w = income_without(s, "remittances", floor="keep")
    np.testing.assert_allclose(w.data["y_without_remittances"], s.data["y_without"], atol=1e-9)
    o = income_without(s, ["old_age", "survivors"], floor="keep")
    d = s.data
    np.testing.assert_allclose(o.data["y_without_old_age_survivors"],
                               d["y_with"] - (d["hh_py100n"] + d["hh_py110n"]) / d["eqSS"], atol=1e-9)


def test_bad_inputs():
    with pytest.raises(InputError, match=r"'inc' has non-numeric values \['n/a'\] in 1 row.*h2"):
        build_income(_survey(inc=[300.0, "n/a", 1200.0, 0.0]))
    with pytest.raises(InputError, match="missing in 1 row.*h3"):
        build_income(_survey(inc=[300.0, 600.0, np.nan, 0.0]))
    with pytest.raises(InputError, match="negative in 1 row.*h1"):
        build_income(_survey(inc=[-1.0, 600.0, 1200.0, 0.0]))
    kept = build_income(_survey(inc=[-3.0, 600.0, 1200.0, 0.0]), negative_income="keep", floor="keep")
    assert kept.data["y_with"][0] == -1.0 and kept.report.find("negative_income")[0].rows == 1
    zero = build_income(_survey(inc=[-3.0, 600.0, 1200.0, 0.0]), negative_income="zero")
    assert zero.data["y_with"][0] == 0.0
    with pytest.raises(InputError, match="income period is unknown"):
        build_income(_survey(period=None))
    assert build_income(_survey(period=None), income_period="month").data["y_with"][0] == 300.0
    with pytest.raises(InputError, match="period must be"):
        build_income(_survey(), period="week")
    with pytest.raises(InputError, match="deflator"):
        build_income(_survey(), deflator=np.array([1.0, 0.0, 1.0, 1.0]))
    with pytest.raises(InputError, match="floor"):
        build_income(_survey(), floor="clip")
