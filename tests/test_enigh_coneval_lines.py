"""CONEVAL's income poverty lines for ENIGH 2018/2020/2022 shipped as package data
(remitpov.io.enigh_tables.coneval_lines) and used by a chapter spec with
``[survey.lines] from = "coneval"``.

The reference numbers below are typed from the published sources (not from the package file):
the scalars lp1_urb, lp1_rur, lp2_urb, lp2_rur of CONEVAL's poverty-measurement programs for
ENIGH 2018, 2020 and 2022 (pesos per person per month, August of the survey year).
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from _enigh_small import small_enigh_tables
from remitpov.exceptions import SpecError
from remitpov.io.enigh_tables import coneval_lines, coneval_lines_file, read_enigh_tables
from remitpov.report.chapter import prepare_survey
from remitpov.report.spec import load_spec, parse_spec

#: (year, area) -> (LPEI = indigence, LPI = poverty), CONEVAL's programs (see the module docstring)
PUBLISHED = {(2018, "urban"): (1544.07, 3325.40), (2018, "rural"): (1164.75, 2316.57),
             (2020, "urban"): (1702.28, 3559.88), (2020, "rural"): (1299.30, 2520.16),
             (2022, "urban"): (2086.21, 4158.35), (2022, "rural"): (1600.18, 2970.76)}


def test_shipped_lines_are_the_published_numbers():
    t = coneval_lines().table
    assert len(t) == len(PUBLISHED) and set(t.country) == {"MEX"} and set(t.period) == {"month"}
    for (year, area), (lpei, lpi) in PUBLISHED.items():
        row = t[(t.year == year) & (t.area == area)]
        assert row.indigence.item() == lpei and row.poverty.item() == lpi  # exact: typed decimals
        assert str(year) in row.source.item() and "CONEVAL" in row.source.item()
    raw = pd.read_csv(coneval_lines_file(), comment="#")
    assert (raw["month"] == 8).all()  # August of the survey year, CONEVAL's reference month


def _tables(folder, year):
    """Two dwellings (urban, rural), one household and one wage item each."""
    return small_enigh_tables(folder, ["P001", "P001"], year, amounts=[9000.0, 6000.0])


@pytest.mark.parametrize("year", [2018, 2020, 2022])
def test_lookup_by_area_gives_the_published_lines(tmp_path, year):
    s = read_enigh_tables(_tables(tmp_path / "t", year))
    assert list(s.data.area) == ["urban", "rural"]
    ind, pov = coneval_lines().for_survey(s)  # country and year from the survey's metadata
    np.testing.assert_array_equal(ind, [PUBLISHED[year, "urban"][0], PUBLISHED[year, "rural"][0]])
    np.testing.assert_array_equal(pov, [PUBLISHED[year, "urban"][1], PUBLISHED[year, "rural"][1]])
    ind_q, _ = coneval_lines().for_survey(s, period="quarter")
    np.testing.assert_allclose(ind_q, 3 * ind, rtol=1e-15)  # month -> quarter: x 3 (rounding only)


def test_chapter_spec_from_coneval(tmp_path):
    folder = _tables(tmp_path / "t", 2022)
    spec = parse_spec({"chapter": {"measures": ["poverty"], "tables": ["csv"], "figures": ["png"]},
                       "income": {"scale": "per_capita", "period": "month"},
                       "survey": [{"id": "m", "format": "enigh_tables", "path": str(folder),
                                   "lines": {"from": "coneval", "country": "MEX", "year": 2022}}]})
    p = prepare_survey(spec.surveys[0], spec.seed)
    np.testing.assert_array_equal(p.line_values["poverty"], [4158.35, 2970.76])
    np.testing.assert_array_equal(p.line_values["indigence"], [2086.21, 1600.18])
    with pytest.raises(SpecError, match=r"no poverty lines for country='MEX', year=2016"):
        bad = parse_spec({"chapter": {"measures": ["poverty"], "tables": ["csv"], "figures": ["png"]},
                          "survey": [{"id": "m", "format": "enigh_tables", "path": str(folder),
                                      "lines": {"from": "coneval", "country": "MEX", "year": 2016}}]})
        prepare_survey(bad.surveys[0], bad.seed)


def test_example_spec_uses_coneval_lines(shared):
    spec = load_spec("examples/enigh_national_coneval.toml")
    assert [(s.lines["poverty"].table, s.lines["indigence"].table) for s in spec.surveys] == [
        (("coneval", "MEX", y),) * 2 for y in (2018, 2020, 2022)]


def test_default_lines_2018_agree_with_coneval_file():
    """remitpov.lines.default_lines() carries the same 2018 scalars (one source of numbers, two places)."""
    from remitpov.lines import default_lines

    d = default_lines().select("MEX", 2018).set_index("area")[["indigence", "poverty"]]
    c = coneval_lines().select("MEX", 2018).set_index("area")[["indigence", "poverty"]]
    pd.testing.assert_frame_equal(d.sort_index(), c.sort_index())
