"""Chapter spec validation: every bad spec fails BEFORE any computation, naming key and fix."""
from __future__ import annotations

import dataclasses

import pytest

from remitpov.exceptions import SpecError
from remitpov.report import chapter as chapter_mod
from remitpov.report.blocks import BLOCKS
from remitpov.report.chapter import run_chapter
from remitpov.report.spec import load_spec, parse_spec

SMALL = {"n_households": 400, "n_regions": 2}


def _spec(**survey):
    s = {"id": "A", "format": "synthetic", "options": {"country": "A", **SMALL},
         "lines": {"poverty": "poverty_line", "indigence": "indigence_line"}}
    s.update(survey)
    return {"chapter": {"measures": ["poverty"]}, "survey": [s]}


@pytest.fixture
def no_estimation(monkeypatch):
    """Make every estimation step explode: a SpecError must come first."""
    def boom(*a, **k):
        raise AssertionError("estimation started before the spec was validated")
    for name, block in BLOCKS.items():  # every registered chapter block
        monkeypatch.setitem(BLOCKS, name, dataclasses.replace(block, run=boom))


@pytest.fixture
def no_loading(monkeypatch):
    def boom(*a, **k):
        raise AssertionError("a survey was loaded before the spec/output folder were validated")
    monkeypatch.setattr(chapter_mod, "load_survey", boom)


def _raises(data, out, *needles):
    with pytest.raises(SpecError) as e:
        run_chapter(data, out)
    msg = str(e.value)
    for n in needles:
        assert n in msg, msg
    assert "Fix:" in msg, msg
    return msg


def test_unknown_survey_format(tmp_path, no_loading):
    _raises(_spec(format="spss_magic"), tmp_path, "survey[0].format", "'spss_magic'", "enigh")


def test_missing_file(tmp_path, no_loading):
    _raises(_spec(format="enigh", path="nowhere/Conc.dbf", options={}), tmp_path, "survey[0].path",
            "nowhere/Conc.dbf", "not found")


def test_unknown_measure(tmp_path, no_loading):
    d = _spec()
    d["chapter"]["measures"] = ["poverty", "happiness"]
    _raises(d, tmp_path, "chapter.measures", "'happiness'", "incidence")
    d = _spec(measures=["povety"])
    _raises(d, tmp_path, "survey[0].measures", "'povety'")


def test_line_missing_for_an_area(tmp_path, no_estimation):
    d = _spec(lines={"poverty": {"urban": 1000.0}})  # synthetic surveys have urban and rural areas
    _raises(d, tmp_path, "survey[0].lines.poverty", "'rural'", "rural = <number>")
    assert not (tmp_path / "tables").exists() and not (tmp_path / "manifest.json").exists()


def test_line_column_unknown(tmp_path, no_estimation):
    _raises(_spec(lines={"poverty": "no_such_line"}), tmp_path, "survey[0].lines.poverty", "no_such_line")


def test_poverty_line_required(tmp_path, no_loading):
    _raises(_spec(lines={}), tmp_path, "survey[0].lines.poverty", "missing")


def test_line_not_a_number(tmp_path, no_loading):
    _raises(_spec(lines={"poverty": {"urban": "cheap"}}), tmp_path, "survey[0].lines.poverty.urban")
    _raises(_spec(lines={"poverty": -3}), tmp_path, "survey[0].lines.poverty", "positive")


def test_output_folder_not_writable(tmp_path, no_loading):
    blocker = tmp_path / "a_file"
    blocker.write_text("not a folder")
    _raises(_spec(), blocker / "out", "--out", "not writable")


def test_remittance_measures_need_remittances(tmp_path, no_estimation, shared):
    d = {"chapter": {"measures": ["incidence", "poverty"]},
         "survey": [{"id": "gt", "format": "encovi2000", "path": str(shared("data", "encovi2000_gt")),
                     "lines": {"poverty": "poverty_line"}}]}
    _raises(d, tmp_path, "survey[0].measures", "['incidence']", "measures = ['poverty']")


def test_other_keys(tmp_path, no_loading):
    d = _spec()
    d["chapter"]["language"] = "fr"
    _raises(d, tmp_path, "chapter.language", "'fr'")
    _raises(_spec(colour="blue"), tmp_path, "survey[0]", "colour")
    _raises(_spec(lonely_psu="sometimes"), tmp_path, "survey[0].lonely_psu", "adjust")
    d = _spec()
    d["survey"].append(dict(d["survey"][0]))
    _raises(d, tmp_path, "survey[1].id", "duplicate")
    d = _spec()
    d["chapter"]["tables"] = ["csv", "docx"]
    _raises(d, tmp_path, "chapter.tables", "'docx'")


def test_toml_file(tmp_path):
    p = tmp_path / "c.toml"
    p.write_text('[chapter]\nmeasures = ["poverty"]\n[[survey]]\nid = "A"\nformat = "synthetic"\n'
                 '[survey.lines]\npoverty = { urban = 10.0, rural = 8 }\nindigence = {fraction_of_median = 0.4}\n')
    spec = load_spec(p)
    s = spec.surveys[0]
    assert s.lines["poverty"].by_area == {"urban": 10.0, "rural": 8.0}
    assert s.lines["indigence"].relative == ("median", 0.4, "with")
    assert len(spec.source_sha256) == 64
    p.write_text("[chapter\n")
    with pytest.raises(SpecError, match="not valid TOML"):
        load_spec(p)
    with pytest.raises(SpecError, match="spec file not found"):
        load_spec(tmp_path / "missing.toml")


def test_relative_paths_resolve_next_to_spec_then_shared(tmp_path, shared):
    shared("data", "eusilc", "eusilc.csv.gz")
    d = {"chapter": {"measures": ["gini"]},
         "survey": [{"id": "eu", "format": "eusilc", "path": "data/eusilc/eusilc.csv.gz"}]}
    spec = parse_spec(d, tmp_path)
    assert spec.surveys[0].path == shared("data", "eusilc", "eusilc.csv.gz").resolve()


def test_counterfactual_keys(tmp_path, no_loading):
    _raises(_spec(counterfactual={"method": "magic"}), tmp_path, "survey[0].counterfactual.method", "heckman")
    _raises(_spec(counterfactual={"method": "heckman"}), tmp_path, "survey[0].counterfactual", "income_formula")
    _raises(_spec(counterfactual={"method": "heckman", "preset": "x"}), tmp_path,
            "survey[0].counterfactual.preset", "enigh_rural")
    _raises(_spec(counterfactual={"method": "heckman", "preset": "enigh_rural", "draws": 1}), tmp_path,
            "survey[0].counterfactual.draws")
    _raises(_spec(counterfactual={"method": "heckman", "preset": "enigh_rural", "colour": 1}), tmp_path,
            "survey[0].counterfactual", "colour")


@pytest.mark.parametrize("where,value", [("lines", "x"), ("lines", 2018.5), ("lines", True), ("options", "x"),
                                         ("options", 1066)])
def test_year_must_be_a_whole_year(tmp_path, no_loading, where, value):
    """Issue 9 item 7: ``year = "x"`` went into the manifest; now refused with the key."""
    if where == "lines":
        d = _spec(format="enigh", path="data/enigh2018_ags/ConcAguascalientes.dbf",
                  lines={"from": "default", "country": "MEX", "year": value})
    else:
        d = _spec(format="enigh", path="data/enigh2018_ags/ConcAguascalientes.dbf", options={"year": value})
    _raises(d, tmp_path, f"survey[0].{where}.year", repr(value), "between 1900 and 2100")


@pytest.mark.parametrize("ci", [1.5, 0, 1, -0.1, float("nan"), "0.95", True])
def test_ci_level_outside_unit_interval_refused(tmp_path, no_loading, ci):
    d = _spec()
    d["chapter"]["ci_level"] = ci
    _raises(d, tmp_path, "chapter.ci_level", "(0, 1)")
