"""Issue 11 "a wrong period is silent": declared line periods must match the income concept's
period; implausible rates (> 95 % or < 0.5 %) warn with the likely cause and go into the manifest."""
from __future__ import annotations

import dataclasses
import warnings

import pytest

from remitpov.exceptions import DataWarning, SpecError
from remitpov.report.blocks import BLOCKS
from remitpov.report.chapter import run_chapter
from remitpov.report.manifest import read_manifest
from remitpov.synthetic import synthetic_survey

SMALL = {"country": "A", "n_households": 400, "n_regions": 2}


def _spec(lines, income=None, measures=("poverty",)):
    d = {"chapter": {"measures": list(measures), "tables": ["csv"], "figures": ["png"]},
         "survey": [{"id": "A", "format": "synthetic", "options": dict(SMALL), "lines": dict(lines)}]}
    if income is not None:
        d["income"] = income
    return d


@pytest.fixture
def no_estimation(monkeypatch):
    def boom(*a, **k):
        raise AssertionError("estimation started before the period check")
    monkeypatch.setitem(BLOCKS, "poverty", dataclasses.replace(BLOCKS["poverty"], run=boom))


def test_declared_monthly_lines_against_annual_income_raise(tmp_path, no_estimation):
    """The issue's case: [income] period = "year" with monthly lines."""
    spec = _spec({"poverty": "poverty_line", "indigence": "indigence_line", "period": "month"}, {"period": "year"})
    with pytest.raises(SpecError) as e:
        run_chapter(spec, tmp_path / "o", progress=False)
    msg = str(e.value)
    assert "survey[0].lines.period" in msg and "per month" in msg and "per year" in msg and "Fix:" in msg
    assert not (tmp_path / "o").exists()


def test_declared_annual_line_against_monthly_income_raises(tmp_path, no_estimation):
    with pytest.raises(SpecError, match=r"lines are per year but the income concept .* is per month"):
        run_chapter(_spec({"poverty": 12 * 900.0, "period": "year"}), tmp_path / "o", progress=False)


def test_income_period_from_survey_metadata(tmp_path, no_estimation):
    """A survey without remittances: its income period is the loader's metadata."""
    s = synthetic_survey(n_households=300, n_regions=2)
    p = tmp_path / "hh.csv"
    s.data.to_csv(p, index=False)
    spec = {"chapter": {"measures": ["poverty"], "tables": ["csv"], "figures": ["png"]},
            "survey": [{"id": "T", "format": "table", "path": str(p),
                        "options": {"weight": "factor", "income_period": "year", "roles": {"income": "ing_cor"}},
                        "lines": {"poverty": 5000.0, "period": "month"}}]}
    with pytest.raises(SpecError, match=r"lines are per month but the income concept of survey 'T' is per year"):
        run_chapter(spec, tmp_path / "o", progress=False)


def test_matching_periods_pass_and_bad_period_refused(tmp_path):
    res = run_chapter(_spec({"poverty": "poverty_line", "period": "month"}), tmp_path / "o", progress=False)
    assert res.surveys["A"].income_period == "month" and read_manifest(res.out_dir / "manifest.json")["warnings"] == []
    with pytest.raises(SpecError, match=r"lines.period: unknown period 'weekly'"):
        run_chapter(_spec({"poverty": 1.0, "period": "weekly"}), tmp_path / "p", progress=False)
    with pytest.raises(SpecError, match="given with 'from'"):
        run_chapter(_spec({"from": "default", "country": "MEX", "year": 2018, "period": "month"}), tmp_path / "p",
                    progress=False)


@pytest.mark.parametrize("lines,income,kind,rate_words", [
    # undeclared monthly lines against annual income: almost no one is indigent (poverty: 0.60 %, just
    # inside the plausible range on this small sample)
    ({"poverty": "poverty_line", "indigence": "indigence_line"}, {"period": "year"}, "indigence",
     ["below the indigence line", "outside the plausible 0.5-95 %", "shorter period", "per year"]),
    # an annual line against monthly income: almost everyone is poor (the 99.45 %)
    ({"poverty": 12 * 2500.0}, None, "poverty", ["below the poverty line", "longer period", "an annual line",
                                                 "per month"]),
])
def test_implausible_rate_warns_into_manifest(tmp_path, lines, income, kind, rate_words):
    with pytest.warns(DataWarning) as rec:
        res = run_chapter(_spec(lines, income), tmp_path / "o", progress=False)
    msgs = [str(w.message) for w in rec if issubclass(w.category, DataWarning)]
    assert len(msgs) == 1 and all(k in msgs[0] for k in rate_words), msgs
    rate = float(msgs[0].split(": ", 1)[1].split(" %")[0])
    poverty = res.tables["poverty"]
    est = poverty[(poverty["population"] == "total") & (poverty["concept"] == "with")
                  & (poverty["indicator"] == kind)]["estimate"].iloc[0]
    assert rate == pytest.approx(est, abs=0.005)  # the warned rate is the chapter's own headcount (2 decimals)
    m = read_manifest(res.out_dir / "manifest.json")
    assert m["warnings"] == [{"category": "DataWarning", "message": msgs[0]}]


def test_plausible_demo_has_no_rate_warning(tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("error", DataWarning)
        run_chapter(_spec({"poverty": "poverty_line", "indigence": "indigence_line"}), tmp_path / "o", progress=False)
