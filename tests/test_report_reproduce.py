"""`remitpov reproduce`: published targets pass, misses fail with a non-zero exit."""
from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest

from remitpov.exceptions import SpecError
from remitpov.report.cli_commands import main
from remitpov.report.reproduce import compute_target, parse_targets, reproduce

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
SYN = {"format": "synthetic", "options": {"country": "A", "n_households": 400, "n_regions": 2}}


def _target(**kw):
    t = {"id": "t", "value": 0.0, "unit": "percent", "tolerance": 0.01, "source": "test",
         "compute": {"measure": "fgt", "survey": SYN, "income": "ing_cor", "line": 1.0, "alpha": 0}}
    t.update(kw)
    return {"target": [t]}


def test_shipped_targets_all_pass(shared):
    shared("data")
    res = reproduce(EXAMPLES / "targets.toml")
    bad = res.table[res.table.status != "pass"]
    assert bad.empty, bad[["id", "value", "computed", "error"]].to_string()
    assert len(res.table) >= 12


def test_shipped_target_values_are_the_reference_values(shared):
    """The targets file quotes the shared R reference values exactly (no retyping errors)."""
    laeken = json.loads(shared("reference", "eusilc_laeken.json").read_text())["point"]
    api = json.loads(shared("reference", "api_survey.json").read_text())
    t = {x["id"]: x["value"] for x in tomllib.loads((EXAMPLES / "targets.toml").read_text())["target"]}
    assert t["eusilc-laeken-arpr"] == laeken["arpr_60_percent"]
    assert t["eusilc-laeken-gini"] == laeken["gini_percent"]
    assert t["eusilc-laeken-qsr"] == laeken["qsr"]
    assert t["eusilc-laeken-median"] == laeken["weighted_median_eqIncome"]
    assert t["api-strat-mean-api00"] == api["strat"]["mean_api00"]["estimate"]
    assert t["api-strat-mean-api00-se"] == api["strat"]["mean_api00"]["se"]
    assert t["api-clus1-total-enroll"] == api["clus1"]["total_enroll"]["estimate"]
    assert t["api-clus1-total-enroll-se"] == api["clus1"]["total_enroll"]["se"]
    assert t["api-srs-ratio"] == api["srs"]["ratio_api00_over_api99"]["estimate"]


def test_fgt_target_matches_closed_form():
    from remitpov.synthetic import synthetic_survey

    sv = synthetic_survey(seed=2026, **SYN["options"])
    w = sv.weights("person")
    z = float(sv.data["poverty_line"].median())
    # the target computes on the raw survey's household income ing_cor with a fixed line 12 z;
    # the hand-computed weighted share below is the closed form (rounding only: rel 1e-12)
    t = parse_targets(_target(compute={"measure": "fgt", "survey": SYN, "income": "ing_cor", "line": 3 * 4 * z,
                                       "alpha": 0}))[0]
    want = 100 * (w * (sv.data["ing_cor"].to_numpy() < 12 * z)).sum() / w.sum()
    assert compute_target(t) == pytest.approx(want, rel=1e-12)


def test_miss_and_error_fail_with_exit_1(tmp_path, capsys):
    p = tmp_path / "t.toml"
    p.write_text('[[target]]\nid = "far"\nvalue = 99.0\nunit = "percent"\ntolerance = 0.1\nsource = "made up"\n'
                 '[target.compute]\nmeasure = "fgt"\nsurvey = { format = "synthetic", options = { country = "A", '
                 'n_households = 400, n_regions = 2 } }\nincome = "ing_cor"\nline = 10.0\nalpha = 0\n'
                 '[[target]]\nid = "ok"\nvalue = 0.0\nunit = "percentage points"\ntolerance = 1e-12\nsource = "x"\n'
                 '[target.compute]\nmeasure = "published_identity"\ntable = { total_with = 30.0, total_without = 31.0, '
                 'recipients_with = 20.0, recipients_without = 30.0, recipient_share = 10.0 }\n'
                 '[[target]]\nid = "broken"\nvalue = 0.0\nunit = "value"\ntolerance = 1\nsource = "made up"\n'
                 '[target.compute]\nmeasure = "mean"\nsurvey = { format = "synthetic", options = { country = "A", '
                 'n_households = 400, n_regions = 2 } }\nvariable = "no_such_column"\n')
    assert main(["reproduce", str(p), "--csv", str(tmp_path / "r.csv")]) == 1
    out = capsys.readouterr()
    assert "far" in out.out and "FAIL" in out.out and "1/3 targets reproduced" in out.out
    assert "no_such_column" in out.err
    import pandas as pd

    r = pd.read_csv(tmp_path / "r.csv")
    assert list(r.status) == ["FAIL", "pass", "ERROR"]


def test_published_identity():
    # a consistent table: total change -1.2 = 0.2 x (-6.0)
    tab = {"total_with": 30.0, "total_without": 31.2, "recipients_with": 20.0, "recipients_without": 26.0,
           "recipient_share": 20.0}
    ok = parse_targets(_target(unit="percentage points", tolerance=0.06,
                               compute={"measure": "published_identity", "table": tab}))
    assert reproduce(ok).ok
    bad = dict(tab, total_without=32.0)  # -2.0 != -1.2
    assert not reproduce(parse_targets(_target(unit="percentage points", tolerance=0.06,
                                               compute={"measure": "published_identity", "table": bad}))).ok


def test_static_identity_on_synthetic():
    t = parse_targets(_target(unit="percentage points", tolerance=1e-9,
                              compute={"measure": "static_identity", "survey": SYN, "line": "poverty_line"}))
    assert abs(compute_target(t[0])) < 1e-10


def test_target_measures_are_the_registry_and_the_checks():
    """No second list of measure names: every registry measure (and alias) is a target measure,
    plus the checks that are not measures; a registry measure is its public function's number."""
    import remitpov as rp
    from remitpov import measures
    from remitpov.report.reproduce import TARGET_CHECKS, target_measures

    assert set(target_measures()) == set(measures.names(aliases=True)) | set(TARGET_CHECKS)
    assert not set(TARGET_CHECKS) & set(measures.names(aliases=True))
    from remitpov.report.reproduce import measure_function

    for m in measures.names():  # every measure's function, found in its family's public module
        assert measure_function(m) is getattr(rp, measures.get(m).function)
    from remitpov.synthetic import synthetic_survey

    sv = synthetic_survey(seed=2026, **SYN["options"])
    for compute, direct in [
        ({"measure": "theil", "income": "ing_cor"}, lambda: rp.theil(sv, "ing_cor", deff=False)),
        ({"measure": "rmpg", "income": "ing_cor", "stat": "se"}, lambda: rp.rmpg(sv, "ing_cor", deff=False)),
        ({"measure": "ge", "income": "ing_cor", "epsilon": 2.0},
         lambda: rp.generalized_entropy(sv, "ing_cor", 2.0, deff=False)),
        ({"measure": "quantile", "income": "ing_cor", "prob": 0.25, "rule": "laeken"},
         lambda: rp.quantile(sv, "ing_cor", (0.25,), rule="laeken", deff=False)),
    ]:
        t = parse_targets(_target(unit="value", compute={"survey": SYN, **compute}))[0]
        tab = direct()
        want = tab.se[0] if compute.get("stat") == "se" else tab.estimates[0]
        assert compute_target(t) == want  # the same call: identical


@pytest.mark.parametrize("change, key", [
    ({"unit": "euros"}, "target[0].unit"),
    ({"compute": {"measure": "variance", "survey": SYN}}, "target[0].compute.measure"),
    # a registry measure's required parameters (no default) are the keys it needs
    ({"compute": {"measure": "theil", "survey": SYN}}, "target[0].compute.income"),
    ({"compute": {"measure": "rmir", "survey": SYN, "income": "ing_cor"}}, "target[0].compute.age"),
    ({"compute": {"measure": "sen", "survey": SYN, "income": "ing_cor"}}, "target[0].compute.line"),
    ({"compute": {"measure": "fgt", "survey": SYN, "income": "ing_cor"}}, "target[0].compute.line"),
    ({"compute": {"measure": "gini", "survey": {"format": "stata"}, "income": "x"}}, "target[0].compute.survey.format"),
    ({"compute": {"measure": "gini", "survey": {"format": "enigh", "path": "nope.dbf"}, "income": "x"}},
     "target[0].compute.survey.path"),
])
def test_bad_targets_name_the_key(change, key):
    with pytest.raises(SpecError) as e:
        parse_targets(_target(**change))
    assert key in str(e.value) and "Fix:" in str(e.value)
    d = _target()
    del d["target"][0]["source"]
    with pytest.raises(SpecError, match=r"target\[0\]\.source"):
        parse_targets(d)
