"""Chapter spec ``[survey.counterfactual] method = "multinomial"``: table = estimator, bad specs fail early."""
from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import pandas as pd

# exact CSV parsing: pandas 3 parses exactly by default; pandas 2 needs "round_trip"
EXACT_CSV = {} if int(pd.__version__.split(".")[0]) >= 3 else {"float_precision": "round_trip"}
import pytest

from remitpov.exceptions import SpecError
from remitpov.report.chapter import Y_STATIC, run_chapter
from remitpov.report.spec import load_spec, parse_spec

RHS = "head_educ + head_age + head_female + C(area)"
CF = {"method": "multinomial", "income_formula": RHS, "selection_formula": RHS + " + mig_network + int_network",
      "binary_selection_formula": RHS + " + mig_network", "draws": 3, "seed": 7, "correction": "bfg",
      "static_sources": ["remittances", "internal_transfers"]}
OPTS = {"country": "A", "migration_types": True, "n_households": 1500}

pytestmark = pytest.mark.filterwarnings("ignore::remitpov.exceptions.RemitpovWarning")


def _spec(cf=None, options=None):
    return {"chapter": {"measures": ["poverty"], "tables": ["csv"], "figures": ["png"]},
            "survey": [{"id": "A", "format": "synthetic", "options": dict(OPTS if options is None else options),
                        "lines": {"poverty": "poverty_line"}, "counterfactual": dict(CF if cf is None else cf)}]}


@pytest.fixture(scope="module")
def chapter(tmp_path_factory):
    return run_chapter(_spec(), tmp_path_factory.mktemp("mnl"), progress=False)


def test_multinomial_rows_equal_estimator(chapter):
    from remitpov.econometrics.multinomial import multinomial_counterfactual_table
    from remitpov.income import income_without

    got = pd.read_csv(chapter.out_dir / "tables" / "counterfactual.csv", **EXACT_CSV)
    p = chapter.surveys["A"]
    # the static concept built independently: income without remesas AND internal_transfers
    sv = income_without(p.survey, ["remesas", "internal_transfers"], name=Y_STATIC)
    d = sv.data
    by_hand = np.maximum((d["y_hh"] - (d["remesas"] + d["internal_transfers"]) * d["income_factor"]) / d["eq_scale"], 0)
    np.testing.assert_allclose(sv.data[Y_STATIC], by_hand, rtol=1e-12)
    tab, cf = multinomial_counterfactual_table(sv, p.lines["poverty"], CF["income_formula"], CF["selection_formula"],
                                               binary_selection_formula=CF["binary_selection_formula"],
                                               method="bfg", draws=3, seed=7, static=Y_STATIC)
    want = tab.to_frame().set_index(["measure", "concept"])
    assert set(got.concept) == {"observed", "static", "heckman", "multinomial", "multinomial_unconditional"}
    assert set(got.method) == {"multinomial"} and len(got) == 15  # fgt0/1/2 x 5 concepts
    for r in got.itertuples():
        for c in ("estimate", "se", "ci_lower", "ci_upper"):
            # CSV holds the chapter's float (100 x estimator) written with repr: equal to the last bit
            assert getattr(r, c) == want.loc[(r.measure, r.concept), c] * 100
    assert (got.se > 0).all()
    mn = chapter.estimates[("A", "counterfactual_model")]
    assert mn.method == "bfg" and mn.draws == 3 and mn.income == Y_STATIC
    text = (chapter.out_dir / "models" / "A_counterfactual.txt").read_text()
    assert text.startswith("Multinomial selection-corrected") and "correction: bfg" in text
    # observed rows equal the chapter's own "with" poverty rate
    pov = pd.read_csv(chapter.out_dir / "tables" / "poverty.csv", **EXACT_CSV)
    obs = got[(got.measure == "fgt0") & (got.concept == "observed")]["estimate"].item()
    assert obs == pytest.approx(pov[(pov.population == "total") & (pov.indicator == "poverty")
                                    & (pov.concept == "with")]["estimate"].item(), rel=1e-12)


def test_without_binary_formula_has_no_heckman_row(tmp_path):
    cf = {k: v for k, v in CF.items() if k != "binary_selection_formula"}
    cf["correction"] = "lee"
    res = run_chapter(_spec(cf), tmp_path, progress=False)
    assert set(res.tables["counterfactual"].concept) == {"observed", "static", "multinomial", "multinomial_unconditional"}
    assert res.estimates[("A", "counterfactual_model")].method == "lee"


def test_defaults_filled_in():
    s = parse_spec(_spec({"method": "multinomial", "income_formula": RHS, "selection_formula": RHS}))
    cf = s.surveys[0].counterfactual
    assert (cf["status"], cf["base"], cf["correction"], cf["draws"], cf["kind"]) == \
        ("migration_status", "none", "dmf", 20, "conditional")
    assert "counterfactual" in s.surveys[0].measures


@pytest.mark.parametrize("change, key", [
    ({"correction": "probit"}, "survey[0].counterfactual.correction"),
    ({"income_formula": None}, "survey[0].counterfactual.income_formula"),
    ({"selection_formula": None}, "survey[0].counterfactual.selection_formula"),
    ({"selection_formula": "  "}, "survey[0].counterfactual.selection_formula"),
    ({"income_formula": "y ~ head_educ"}, "survey[0].counterfactual.income_formula"),
    ({"draws": 1}, "survey[0].counterfactual.draws"),
    ({"draws": -2}, "survey[0].counterfactual.draws"),
    ({"draws": 2.5}, "survey[0].counterfactual.draws"),
    ({"draws": True}, "survey[0].counterfactual.draws"),
    ({"seed": -1}, "survey[0].counterfactual.seed"),
    ({"static_sources": []}, "survey[0].counterfactual.static_sources"),
    ({"kind": "marginal"}, "survey[0].counterfactual.kind"),
    ({"preset": "enigh_rural"}, "survey[0].counterfactual"),
])
def test_bad_spec_fails_at_parse(change, key):
    cf = copy.deepcopy(CF)
    for k, v in change.items():
        if v is None:
            cf.pop(k)
        else:
            cf[k] = v
    with pytest.raises(SpecError) as e:
        parse_spec(_spec(cf))
    msg = str(e.value)
    assert msg.startswith(key + ":") and "Fix:" in msg


@pytest.mark.parametrize("cf_change, options, key, text", [
    ({}, {"country": "A", "n_households": 300}, "survey[0].counterfactual.status", "migration_status"),
    ({"status": "mig"}, None, "survey[0].counterfactual.status", "'mig'"),
    ({"base": "nobody"}, None, "survey[0].counterfactual.base", "'nobody'"),
    ({"static_sources": ["remittances", "no_such_source"]}, None, "survey[0].counterfactual.static_sources",
     "no_such_source"),
    ({"selection_formula": RHS + " + network_x"}, None, "survey[0].counterfactual.selection_formula", "network_x"),
])
def test_bad_spec_fails_after_loading_before_estimation(cf_change, options, key, text, tmp_path, monkeypatch):
    """Checked after the survey is loaded and before any estimate (the estimators are never called)."""
    import remitpov.econometrics.multinomial as mnl
    import remitpov.estimation as est
    import remitpov.poverty as pov

    def boom(*a, **k):
        raise AssertionError("an estimator ran before the spec was checked")

    for mod, name in ((mnl, "multinomial_counterfactual_table"), (pov, "fgt"), (pov, "compare"), (est, "mean")):
        monkeypatch.setattr(mod, name, boom)
    cf = {**CF, **cf_change}
    with pytest.raises(SpecError) as e:
        run_chapter(_spec(cf, options), tmp_path / "out", progress=False)
    msg = str(e.value)
    assert msg.startswith(key + ":") and text in msg and "Fix:" in msg
    assert not (tmp_path / "out" / "tables").exists()


def test_example_spec_parses_and_is_listed():
    root = Path(__file__).resolve().parents[1] / "examples"
    s = load_spec(root / "synthetic_multinomial.toml")
    sv = s.surveys[0]
    assert sv.format == "synthetic" and sv.options == {"country": "A", "migration_types": True}
    assert sv.counterfactual["method"] == "multinomial"
    assert sv.counterfactual["static_sources"] == ["remittances", "internal_transfers"]
    assert "synthetic_multinomial.toml" in (root / "README.md").read_text()


def test_example_spec_runs(tmp_path):
    from remitpov.report.manifest import verify_manifest

    root = Path(__file__).resolve().parents[1] / "examples"
    res = run_chapter(root / "synthetic_multinomial.toml", tmp_path, progress=False)
    assert set(res.tables["counterfactual"].concept) == {"observed", "static", "heckman", "multinomial", "multinomial_unconditional"}
    assert verify_manifest(tmp_path / "manifest.json") == []


@pytest.mark.parametrize("method, change, key", [
    ("multinomial", {"residuals": "selection"}, "residuals"),
    ("multinomial", {"residual_variance": "status"}, "residual_variance"),
    ("multinomial", {"parameter_draws": True}, "parameter_draws"),
    ("heckman", {"residuals": "dmf"}, "residuals"),
    ("heckman", {"parameter_draws": "linear"}, "parameter_draws"),
    ("heckman", {"residual_variance": "matched"}, ""),  # not a key of the binary model
])
def test_bad_imputation_rule_fails_at_parse(method, change, key):
    cf = {**CF, **change} if method == "multinomial" else {"method": "heckman", "income_formula": RHS,
                                                            "selection_formula": RHS + " + mig_network", **change}
    with pytest.raises(SpecError) as e:
        parse_spec(_spec(cf))
    msg = str(e.value)
    assert msg.startswith("survey[0].counterfactual" + (f".{key}:" if key else ":")) and "Fix:" in msg


def test_imputation_rules_reach_the_estimators(tmp_path, monkeypatch):
    """``residuals``/``residual_variance``/``parameter_draws`` of the spec are passed to the estimator as given."""
    import remitpov.econometrics.multinomial as mnl

    seen = {}
    real = mnl.multinomial_counterfactual_table

    def spy(*a, **k):
        seen.update(k)
        return real(*a, **k)

    monkeypatch.setattr(mnl, "multinomial_counterfactual_table", spy)
    rules = {"residuals": "normal", "residual_variance": "base", "parameter_draws": "linear"}
    cf = {k: v for k, v in CF.items() if k != "binary_selection_formula"}
    res = run_chapter(_spec({**cf, **rules}, {**OPTS, "n_households": 800}), tmp_path, progress=False)
    assert {k: seen[k] for k in rules} == rules
    notes = " ".join(res.estimates[("A", "counterfactual_model")].notes)
    assert "residuals normal" in notes and "'base'" in notes and "linearised" in notes


def test_valid_imputation_rules_parse():
    for method, rules in (("multinomial", {"residuals": "dmf", "residual_variance": "base", "parameter_draws": "fixed"}),
                          ("heckman", {"residuals": "selection", "parameter_draws": False})):
        cf = {**CF, **rules} if method == "multinomial" else {"method": "heckman", "income_formula": RHS,
                                                               "selection_formula": RHS + " + mig_network", **rules}
        got = parse_spec(_spec(cf)).surveys[0].counterfactual
        assert {k: got[k] for k in rules} == rules
