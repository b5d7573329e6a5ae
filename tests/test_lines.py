"""PovertyLines: documented shipped lines, household-by-household application, errors."""
import numpy as np
import pandas as pd
import pytest

from remitpov.exceptions import InputError
from remitpov.lines import PovertyLines, default_lines
from remitpov.survey import Survey, SurveyMetadata


def _s(area):
    df = pd.DataFrame({"id": list("abcd")[: len(area)], "w": 1.0, "area": area})
    return Survey(df, weight="w", unit="person", ids=("id",), metadata=SurveyMetadata(country="MEX", year=2018))


def test_default_lines_documented():
    t = default_lines().table
    assert (t["source"].str.len() > 10).all()
    gt = t[(t.country == "GTM") & (t.year == 2000)].iloc[0]
    assert (gt.poverty, gt.indigence, gt.period) == (4318.56, 1911.69, "year")  # shared README
    mx = t[(t.country == "MEX") & (t.year == 2018)].set_index("area")
    assert mx.loc["urban", "poverty"] == 3325.40 and mx.loc["rural", "indigence"] == 1164.75


def test_for_survey_by_area_and_period():
    L = default_lines()
    ind, pov = L.for_survey(_s(["urban", "rural", "urban"]))
    np.testing.assert_allclose(pov, [3325.40, 2316.57, 3325.40])
    np.testing.assert_allclose(ind, [1544.07, 1164.75, 1544.07])
    _, pov_y = L.for_survey(_s(["urban"]), period="year")
    assert pov_y[0] == pytest.approx(12 * 3325.40)
    # national line (per year) converted to a month
    ind, pov = L.for_survey(_s(["urban", "rural"]), country="GTM", year=2000)
    np.testing.assert_allclose(pov, [4318.56 / 12] * 2)
    ind, pov = L.for_survey(_s(["urban"]), country="GTM", year=2000, area_col=None, period="year")
    assert pov[0] == 4318.56 and ind[0] == 1911.69


def test_errors():
    L = default_lines()
    with pytest.raises(InputError, match="area 'periurban'.*1 row.*'b'"):
        L.for_survey(_s(["urban", "periurban"]))
    with pytest.raises(InputError, match="no poverty lines for country='MEX', year=1999"):
        L.for_survey(_s(["urban"]), year=1999)
    with pytest.raises(InputError, match="area column 'zone' not found"):
        L.for_survey(_s(["urban"]), area_col="zone")
    with pytest.raises(InputError, match="no national line"):
        L.for_survey(_s(["urban"]), area_col=None)
    base = dict(country="X", year=2020, area="urban", indigence=50.0, poverty=100.0)
    with pytest.raises(InputError, match="indigence line above"):
        PovertyLines(pd.DataFrame([{**base, "indigence": 150.0}]))
    with pytest.raises(InputError, match="'poverty' is missing or not positive"):
        PovertyLines(pd.DataFrame([{**base, "poverty": 0.0}]))
    with pytest.raises(InputError, match="duplicated"):
        PovertyLines(pd.DataFrame([base, base]))
    with pytest.raises(InputError, match=r"'year' must be a whole number; got \['2020a'\] in 1 row"):
        PovertyLines(pd.DataFrame([{**base, "year": "2020a"}]))
    with pytest.raises(InputError, match="'area' is missing in 1 row"):
        PovertyLines(pd.DataFrame([{**base, "area": None}]))
    with pytest.raises(InputError, match="lacks column"):
        PovertyLines(pd.DataFrame([{"country": "X"}]))


def test_user_csv(tmp_path):
    p = tmp_path / "lines.csv"
    pd.DataFrame([dict(country="MEX", year=2018, area="urban", indigence=1.0, poverty=2.0),
                  dict(country="MEX", year=2018, area="rural", indigence=0.5, poverty=1.0)]).to_csv(p, index=False)
    L = PovertyLines(p)
    assert L.table["period"].eq("month").all()
    ind, pov = L.for_survey(_s(["rural", "urban"]))
    np.testing.assert_allclose(pov, [1.0, 2.0])


def test_encovi_published_rates_with_lines(shared):
    from remitpov.io.encovi import read_encovi2000

    s = read_encovi2000(shared("data", "encovi2000_gt"), hogares=False)
    ind, pov = default_lines().for_survey(s, period="year")
    w = s.weights("person")
    y = s.data["agreg3"].to_numpy()
    # published rates, one decimal: 56.2 % and 15.7 % of persons
    assert 100 * np.average(y < pov, weights=w) == pytest.approx(56.2, abs=0.05)
    assert 100 * np.average(y < ind, weights=w) == pytest.approx(15.7, abs=0.05)
