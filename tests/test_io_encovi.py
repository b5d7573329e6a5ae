"""read_encovi2000 against the published ENCOVI 2000 figures (shared README):
11,385,441 persons; 56.2 % poor and 15.7 % extremely poor (agreg3 < line, person weights)."""
import shutil

import numpy as np
import pandas as pd
import pyreadstat
import pytest

from remitpov.estimation import mean
from remitpov.exceptions import InputError
from remitpov.io.encovi import read_encovi2000


@pytest.fixture(scope="module")
def gt(shared):
    return read_encovi2000(shared("data", "encovi2000_gt"))


def test_population_and_published_rates(gt):
    # factor2 x thogar vs the float32 factor3: total differs by 1e-4 persons -> 0.01 tolerance
    assert gt.population("person") == pytest.approx(11_385_441, abs=0.01)
    assert gt.population("household") == pytest.approx(gt.data["factor2"].sum())
    w = gt.weights("person")
    d = gt.data
    # published to one decimal: 56.2 and 15.7 %, so |diff| <= 0.05 pp
    assert 100 * np.average(d["agreg3"] < 4318.56, weights=w) == pytest.approx(56.2, abs=0.05)
    assert 100 * np.average(d["agreg3"] < 1911.69, weights=w) == pytest.approx(15.7, abs=0.05)
    est = mean(gt, "poor")
    assert est.estimates[0] == pytest.approx(np.average(d["poor"], weights=w))
    assert est.se[0] > 0


def test_design_nested_and_roles(gt):
    # 847 distinct upm codes, 4 of which appear in two strata -> 851 PSUs when nested
    assert gt.nest is True
    assert gt.data["upm"].nunique() == 847
    assert gt.design().n_psu == 851 and gt.design().n_strata == 6
    assert gt.report.find("design")[0].column == "upm"
    assert set(gt.data["area"]) == {"urban", "rural"}
    assert (gt.data.loc[gt.data["area_code"] == 1, "area"] == "urban").all()
    assert gt.role("poverty_line") == "li_gener" and gt.size == "thogar"
    assert gt.metadata.income_period == "year" and gt.metadata.currency == "GTQ"
    assert [f.path.split("/")[-1] for f in gt.metadata.files] == ["CONSUMO5.DTA", "HOGARES.DTA"]


def test_file_path_and_bad_inputs(shared, tmp_path):
    f = shared("data", "encovi2000_gt", "CONSUMO5.DTA")
    s = read_encovi2000(f, hogares=False)
    assert s.n == 7276 and len(s.metadata.files) == 1
    with pytest.raises(InputError, match="no CONSUMO5.DTA"):
        read_encovi2000(tmp_path)
    df = pyreadstat.read_dta(str(f))[0].head(200)  # Stata 110 format: pandas < 3 cannot read it
    bad = df.copy()
    bad.loc[4, "thogar"] = 0
    bad.loc[4, "factor3"] = 0
    p = tmp_path / "CONSUMO5.DTA"
    bad.to_stata(p, write_index=False)
    with pytest.raises(InputError, match="household size column 'thogar'.*1 row"):
        read_encovi2000(p)
    bad = df.copy()
    bad.loc[7, "area"] = 3
    bad.to_stata(p, write_index=False)
    with pytest.raises(InputError, match="'area' must be 1"):
        read_encovi2000(p)
    bad = df.drop(columns=["agreg3"])
    bad.to_stata(p, write_index=False)
    with pytest.raises(InputError, match="agreg3"):
        read_encovi2000(p)
