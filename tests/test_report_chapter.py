"""The chapter on synthetic surveys: table contents, figures, manifest, determinism."""
from __future__ import annotations

import hashlib
import json

import numpy as np
import pandas as pd

# exact CSV parsing: pandas 3 parses exactly by default; pandas 2 needs "round_trip"
EXACT_CSV = {} if int(pd.__version__.split(".")[0]) >= 3 else {"float_precision": "round_trip"}
import pytest

from remitpov.report.chapter import (DECILE, QUINTILE, RECIP_LABEL, Y_WITH, Y_WITHOUT, quantile_groups, run_chapter,
                                     run_demo)
from remitpov.report.manifest import deterministic_part, file_sha256, read_manifest, verify_manifest


@pytest.fixture(scope="module")
def demo(demo_chapter):
    return demo_chapter  # run_demo once per session (tests/conftest.py), shared with test_report_verify


@pytest.fixture(scope="module")
def demo2(tmp_path_factory):
    return run_demo(tmp_path_factory.mktemp("demo2"), progress=False)


def _csv(res, name):
    # round_trip: the exact parser (pandas < 3 defaults to a faster one that can be 1 ulp off)
    return pd.read_csv(res.out_dir / "tables" / f"{name}.csv", keep_default_na=False, na_values=[""],
                       **EXACT_CSV)


def test_all_outputs_exist(demo):
    t = demo.out_dir / "tables"
    for name in ("incidence", "poverty_layout", "poverty", "identity", "fgt", "gini", "decomposition",
                 "incidence_curves"):
        for ext in ("csv", "md", "tex"):
            assert (t / f"{name}.{ext}").stat().st_size > 0
    assert (t / "tables.xlsx").exists() and (t / "tables.md").exists()
    assert set(pd.read_csv(t / "poverty.csv")["survey"]) == {"Country A", "Country B", "Country C"}


def test_poverty_table_equals_estimator_and_closed_form(demo):
    from remitpov.poverty import compare

    fr = _csv(demo, "poverty")
    for sid, p in demo.surveys.items():
        sv = p.survey
        t = compare(sv, {"with": Y_WITH, "without": Y_WITHOUT}, p.lines["poverty"], alpha=0, by=RECIP_LABEL,
                    label="difference").to_frame()
        rec = t[t[RECIP_LABEL] == "recipients"].set_index("concept")
        mine = fr[(fr.survey == p.spec.label) & (fr.indicator == "poverty") & (fr.population == "recipients")]
        mine = mine.set_index("concept")
        for c in ("with", "without", "difference"):
            # CSV is written with repr: the value read back is the estimator's, times 100, bit for bit
            assert mine.loc[c, "estimate"] == rec.loc[c, "estimate"] * 100
            assert mine.loc[c, "se"] == rec.loc[c, "se"] * 100
        # independent closed form: person-weighted share with y < z (strict)
        w = sv.weights("person")
        z = p.line_values["poverty"]
        for c, col in (("with", Y_WITH), ("without", Y_WITHOUT)):
            y = sv.data[col].to_numpy(float)
            tot = fr[(fr.survey == p.spec.label) & (fr.indicator == "poverty") & (fr.population == "total")
                     & (fr.concept == c)]["estimate"].item()
            assert tot == pytest.approx(100 * (w * (y < z)).sum() / w.sum(), rel=1e-12)


def test_layout_and_identity(demo):
    lay = _csv(demo, "poverty_layout")
    pov = _csv(demo, "poverty")
    r = lay[(lay.survey == "Country C") & (lay.population == "total") & (lay.indicator == "indigence")].iloc[0]
    g = pov[(pov.survey == "Country C") & (pov.population == "total") & (pov.indicator == "indigence")]
    assert r["with"] == g[g.concept == "with"]["estimate"].item()
    assert r["difference"] == pytest.approx(r["with"] - r["without"], abs=1e-12)
    ident = _csv(demo, "identity")
    # static counterfactual: non-recipients' income does not change -> exact identity
    assert np.abs(ident["discrepancy"]).max() < 1e-10
    assert (ident["change_recipients"] < 0).all()


def test_incidence_by_decile_closed_form(demo):
    inc = _csv(demo, "incidence")
    p = demo.surveys["B"]
    sv = p.survey
    w = sv.weights("person")
    rec = sv.data["recipient"].to_numpy(bool)
    dec = sv.data[DECILE].to_numpy()
    mine = inc[(inc.survey == "Country B") & (inc.domain == "decile")
               & (inc.indicator == "persons_in_recipient_households")].set_index("group")["estimate"]
    for d in range(1, 11):
        m = dec == d
        assert mine.loc[str(d)] == pytest.approx(100 * (w * rec)[m].sum() / w[m].sum(), rel=1e-12)
    # households: household weights
    wh = sv.weights("household")
    hh = inc[(inc.survey == "Country B") & (inc.domain == "total") & (inc.indicator == "recipient_households")]
    assert hh["estimate"].item() == pytest.approx(100 * (wh * rec).sum() / wh.sum(), rel=1e-12)
    # remittances as % of recipients' income = ratio of totals among recipients
    sh = inc[(inc.survey == "Country B") & (inc.domain == "total")
             & (inc.indicator == "remittances_pct_of_recipient_income")]["estimate"].item()
    r = sv.data["remit_pc"].to_numpy(float)
    y = sv.data[Y_WITH].to_numpy(float)
    assert sh == pytest.approx(100 * (w * r * rec).sum() / (w * y * rec).sum(), rel=1e-12)


def test_quantile_groups_equal_population():
    rng = np.random.default_rng(1)
    y = rng.lognormal(size=5000)
    w = rng.uniform(1, 3, size=5000)
    g = quantile_groups(y, w, 10)
    shares = np.bincount(g, weights=w, minlength=11)[1:] / w.sum()
    assert np.abs(shares - 0.1).max() <= w.max() / w.sum()  # off by at most one unit's weight
    # monotone: every unit in group k+1 is at least as rich as every unit in group k
    assert all(y[g == k].max() <= y[g == k + 1].min() for k in range(1, 10))


def test_gini_and_decomposition_equal_estimators(demo):
    from remitpov.inequality import gini, gini_decomposition

    gi = _csv(demo, "gini")
    dec = _csv(demo, "decomposition")
    p = demo.surveys["A"]
    g = gini(p.survey, Y_WITHOUT, deff=False).to_frame()
    assert gi[(gi.survey == "Country A") & (gi.concept == "without")]["estimate"].item() == g["estimate"][0] * 100
    other = p.survey.data[Y_WITH].to_numpy(float) - p.survey.data["remit_pc"].to_numpy(float)
    d = gini_decomposition(p.survey.with_columns(_other_income=other),
                           {"remittances": "remit_pc", "other income": "_other_income"}, deff=False).to_frame()
    want = d[(d.source == "remittances") & (d.measure == "marginal_effect")]["estimate"].item()
    got = dec[(dec.survey == "Country A") & (dec.source == "remittances") & (dec.measure == "marginal_effect")]
    assert got["estimate"].item() == want
    # the decomposition's total Gini is the Gini with remittances
    tot = dec[(dec.survey == "Country A") & (dec.source == "total")]["estimate"].item()
    assert tot * 100 == pytest.approx(gi[(gi.survey == "Country A") & (gi.concept == "with")]["estimate"].item(),
                                      rel=1e-12)


def test_incidence_curves_cross_line(demo):
    cur = _csv(demo, "incidence_curves")
    pov = _csv(demo, "poverty")
    for s in ("Country A", "Country B"):
        for c in ("with", "without"):
            at1 = cur[(cur.survey == s) & (cur.concept == c) & (cur.multiple == 1.0)]["estimate"].item()
            p0 = pov[(pov.survey == s) & (pov.population == "total") & (pov.indicator == "poverty")
                     & (pov.concept == c)]["estimate"].item()
            assert at1 == pytest.approx(p0, rel=1e-12)
            e = cur[(cur.survey == s) & (cur.concept == c)].sort_values("multiple")["estimate"].to_numpy()
            assert np.all(np.diff(e) >= 0)


def test_figures_are_valid_images(demo):
    names = {p.name for p in demo.figures}
    for stem in ("paired_bars_poverty", "paired_bars_indigence", "recipients_by_decile", "incidence_curves",
                 "lorenz_curves"):
        assert f"{stem}.png" in names and f"{stem}.pdf" in names
    for p in demo.figures:
        data = p.read_bytes()
        if p.suffix == ".png":
            assert data[:8] == b"\x89PNG\r\n\x1a\n"
            PIL = pytest.importorskip("PIL.Image")
            with PIL.open(p) as im:
                im.verify()
            with PIL.open(p) as im:
                assert im.size[0] > 300 and im.size[1] > 200
        else:
            assert data[:5] == b"%PDF-" and b"%%EOF" in data[-64:]


def test_xlsx_and_latex(demo):
    from openpyxl import load_workbook

    wb = load_workbook(demo.out_dir / "tables" / "tables.xlsx", read_only=True)
    assert {"incidence", "poverty_layout", "poverty", "gini"} <= set(wb.sheetnames)
    ws = wb["poverty"]
    rows = list(ws.iter_rows(values_only=True))
    header = rows[2]
    est = header.index("Estimate")
    csv = _csv(demo, "poverty")
    assert rows[3][est] == pytest.approx(csv["estimate"][0], rel=1e-14)  # Excel keeps ~15-17 digits
    tex = (demo.out_dir / "tables" / "poverty_layout.tex").read_text()
    assert r"\begin{tabular}" in tex and r"\toprule" in tex and "With remittances" in tex


def test_manifest(demo):
    m = read_manifest(demo.out_dir / "manifest.json")
    assert verify_manifest(demo.out_dir / "manifest.json") == []
    for rel, sha in m["outputs"].items():
        assert file_sha256(demo.out_dir / rel) == sha
    assert m["seeds"]["chapter"] == 2026 and m["package"]["version"]
    assert m["spec"]["parsed"]["surveys"][1]["options"] == {"country": "B"}
    assert m["inputs"]["A"]["loader"] == "synthetic_survey"
    assert "timings_seconds" in m["run"] and m["run"]["timings_seconds"]["total"] > 0


def test_deterministic(demo, demo2):
    for name in ("poverty", "incidence", "fgt", "gini", "decomposition", "identity", "incidence_curves"):
        for ext in ("csv", "md", "tex"):
            a = (demo.out_dir / "tables" / f"{name}.{ext}").read_bytes()
            b = (demo2.out_dir / "tables" / f"{name}.{ext}").read_bytes()
            assert a == b, f"{name}.{ext} differs between runs"
    ma = deterministic_part(read_manifest(demo.out_dir / "manifest.json"))
    mb = deterministic_part(read_manifest(demo2.out_dir / "manifest.json"))
    # the git commit/dirty flag may legitimately change between the two runs when other work is
    # committed in the same checkout meanwhile; everything else must be identical
    for m in (ma, mb):
        assert set(m["package"]["git"]) == {"commit", "dirty"}
        m["package"].pop("git")
    assert json.dumps(ma, sort_keys=True) == json.dumps(mb, sort_keys=True)


def test_verify_manifest_detects_changes(tmp_path):
    spec = {"chapter": {"measures": ["poverty"], "tables": ["csv"], "figures": ["svg"], "language": "es"},
            "survey": [{"id": "A", "format": "synthetic", "options": {"country": "A", "n_households": 400,
                                                                     "n_regions": 2},
                        "lines": {"poverty": "poverty_line"}}]}
    res = run_chapter(spec, tmp_path, progress=False)
    assert (tmp_path / "figures" / "paired_bars_poverty.svg").read_bytes().lstrip().startswith(b"<?xml")
    assert verify_manifest(tmp_path / "manifest.json") == []
    f = tmp_path / "tables" / "poverty.csv"
    f.write_text(f.read_text().replace("Country", "Pays") + "x\n")
    assert any("poverty.csv" in p for p in verify_manifest(tmp_path / "manifest.json"))
    assert res.tables["poverty"]["survey"].iloc[0] == "A"


def test_spanish_labels(tmp_path):
    spec = {"chapter": {"measures": ["poverty"], "tables": ["md"], "figures": ["png"], "language": "es"},
            "survey": [{"id": "A", "label": "País A", "format": "synthetic",
                        "options": {"country": "A", "n_households": 400, "n_regions": 2},
                        "lines": {"poverty": "poverty_line", "indigence": "indigence_line"}}]}
    run_chapter(spec, tmp_path, progress=False)
    md = (tmp_path / "tables" / "poverty_layout.md").read_text(encoding="utf-8")
    assert "Con remesas" in md and "Sin remesas" in md and "Encuesta" in md


@pytest.mark.parametrize("example", ["encovi2000", "eusilc_hy080n"])
def test_example_specs_real_data(example, tmp_path, shared):
    shared("data")
    from pathlib import Path

    ex = Path(__file__).resolve().parents[1] / "examples" / f"{example}.toml"
    res = run_chapter(ex, tmp_path, progress=False)
    m = read_manifest(tmp_path / "manifest.json")
    # manifest hashes are those of the input files and of the spec
    for sid, info in m["inputs"].items():
        assert info["files"], sid
        for f in info["files"]:
            assert hashlib.sha256(open(f["path"], "rb").read()).hexdigest() == f["sha256"]
    assert m["spec"]["sha256"] == file_sha256(ex)
    pov = res.tables["poverty"]
    if example == "encovi2000":
        # official: 56.2 % general, 15.7 % extreme (persons), published to one decimal
        tot = pov.set_index("indicator")["estimate"]
        assert abs(tot["poverty"] - 56.2) <= 0.05 and abs(tot["indigence"] - 15.7) <= 0.05
    else:
        # laeken: arpr 14.4442181675336 % (60 % of the median, with-transfer income)
        w = pov[(pov.population == "total") & (pov.indicator == "poverty") & (pov.concept == "with")]
        assert w["estimate"].item() == pytest.approx(14.4442181675336, abs=1e-8)


def test_heckman_counterfactual_block_equals_estimator(tmp_path):
    from remitpov.econometrics.counterfactual import remittance_counterfactual_table

    cfspec = {"method": "heckman", "income_formula": "head_educ + head_age",
              "selection_formula": "head_educ + head_age + mig_network", "draws": 0}
    spec = {"chapter": {"measures": ["poverty"], "tables": ["csv"], "figures": ["png"]},
            "survey": [{"id": "A", "format": "synthetic", "options": {"country": "A", "n_households": 1500},
                        "lines": {"poverty": "poverty_line"}, "counterfactual": cfspec}]}
    res = run_chapter(spec, tmp_path, progress=False)
    got = _csv(res, "counterfactual")
    p = res.surveys["A"]
    tab, _ = remittance_counterfactual_table(p.survey, p.lines["poverty"], cfspec["income_formula"],
                                             cfspec["selection_formula"], draws=0, seed=2026)
    want = tab.to_frame().set_index(["measure", "concept"])
    for r in got.itertuples():
        assert r.estimate == want.loc[(r.measure, r.concept), "estimate"] * 100
    assert set(got.concept) == {"observed", "static", "selection", "selection_unconditional"}
    assert (tmp_path / "models" / "A_counterfactual.txt").read_text().startswith("Selection-corrected")
    # the static rows equal the chapter's own "without" column
    pov = _csv(res, "poverty")
    st = got[(got.measure == "fgt0") & (got.concept == "static")]["estimate"].item()
    assert st == pytest.approx(pov[(pov.population == "total") & (pov.indicator == "poverty")
                                   & (pov.concept == "without")]["estimate"].item(), rel=1e-12)


@pytest.mark.parametrize("example", ["enigh2018_ags", "enigh2010_rural"])
def test_enigh_examples(example, tmp_path, shared):
    shared("data")
    from pathlib import Path

    ex = Path(__file__).resolve().parents[1] / "examples" / f"{example}.toml"
    res = run_chapter(ex, tmp_path, progress=False)
    assert verify_manifest(tmp_path / "manifest.json") == []
    ident = res.tables["identity"]
    assert np.abs(ident["discrepancy"]).max() < 1e-10
    if example == "enigh2010_rural":
        assert "counterfactual" in res.tables


def test_gini_table_equals_compare_inequality(demo):
    """The Gini table is compare_inequality's joint table x 100: the difference has an SE and CI."""
    from remitpov.inequality import compare_inequality

    gi = _csv(demo, "gini")
    for sid, p in demo.surveys.items():
        t = compare_inequality(p.survey, {"with": Y_WITH, "without": Y_WITHOUT}, "gini",
                               label="difference", deff=False).to_frame().set_index("concept")
        mine = gi[gi.survey == p.spec.label].set_index("concept")
        assert list(mine.index) == ["with", "without", "difference"]
        for c in ("with", "without", "difference"):
            for col in ("estimate", "se", "ci_lower", "ci_upper"):
                assert mine.loc[c, col] == t.loc[c, col] * 100  # bit for bit (CSV written with repr)
        d = mine.loc["difference"]
        assert d["se"] > 0 and d["ci_lower"] < d["estimate"] < d["ci_upper"]
        assert d["estimate"] == pytest.approx(mine.loc["with", "estimate"] - mine.loc["without", "estimate"],
                                              abs=1e-12)
        assert demo.estimates[(sid, "gini")].get(concept="difference").se * 100 == d["se"]


def test_progress_callback_display():
    import io

    from remitpov.report.progress import Progress

    buf = io.StringIO()
    pr = Progress(enabled=True, stream=buf)
    cb = pr.callback("replicates")
    for done in (64, 128, 150):  # chunks of replicates
        cb(done, 150)
    assert buf.getvalue() == "\r  replicates: 64/150\r  replicates: 128/150\r  replicates: 150/150\n"
    assert Progress(enabled=False, stream=io.StringIO()).callback("x") is None  # estimators get progress=None
    buf2 = io.StringIO()
    assert list(Progress(enabled=True, stream=buf2).iterate(range(200), "draws")) == list(range(200))
    assert buf2.getvalue().count("\r") == 50 and buf2.getvalue().endswith("draws: 200/200\n")


@pytest.mark.filterwarnings("ignore::remitpov.exceptions.RemitpovWarning")
def test_counterfactual_draws_progress(tmp_path, capsys):
    """Imputation draws report progress once per draw: estimator callback and chapter display."""
    from remitpov.econometrics.counterfactual import remittance_counterfactual_table

    cfspec = {"method": "heckman", "income_formula": "head_educ + head_age",
              "selection_formula": "head_educ + head_age + mig_network", "draws": 3}
    spec = {"chapter": {"measures": ["poverty", "gini"], "tables": ["csv"], "figures": ["png"]},
            "survey": [{"id": "A", "format": "synthetic", "options": {"country": "A", "n_households": 800},
                        "lines": {"poverty": "poverty_line"}, "counterfactual": cfspec}]}
    capsys.readouterr()
    res = run_chapter(spec, tmp_path / "on", progress=True)
    err = capsys.readouterr().err
    assert "\r  A: imputation draws: 1/3\r  A: imputation draws: 2/3\r  A: imputation draws: 3/3\n" in err
    assert "[6/6] drawing figures" in err and "replicates" not in err  # linearised Gini: no replicate loop
    run_chapter(spec, tmp_path / "off", progress=False)
    assert capsys.readouterr().err == ""  # quiet when off (the default off a terminal)
    calls = []
    p = res.surveys["A"]
    tab, _ = remittance_counterfactual_table(p.survey, p.lines["poverty"], cfspec["income_formula"],
                                             cfspec["selection_formula"], draws=3, seed=2026,
                                             progress=lambda d, t: calls.append((d, t)))
    assert calls == [(1, 3), (2, 3), (3, 3)]
    got = _csv(res, "counterfactual").set_index(["measure", "concept"])
    want = tab.to_frame().set_index(["measure", "concept"])
    for idx, r in got.iterrows():
        assert r["estimate"] == want.loc[idx, "estimate"] * 100


def test_gini_block_replicate_progress(demo):
    """On a replicate design the Gini block reports each chunk of replicates; the difference's
    SE is then the SE of the replicate-wise differences (compare_inequality on that design)."""
    from dataclasses import replace

    from remitpov.inequality import compare_inequality
    from remitpov.report.chapter import DEMO_SPEC, gini_block
    from remitpov.report.spec import parse_spec

    p = demo.surveys["B"]
    p = replace(p, survey=p.survey.with_replicates("bootstrap", 100, seed=3))
    calls = []
    fr, est = gini_block(parse_spec(DEMO_SPEC), p, progress=lambda d, t: calls.append((d, t)))
    assert calls == [(64, 100), (100, 100)]  # Design evaluates replicates in chunks of 64 columns
    ref = compare_inequality(p.survey, {"with": Y_WITH, "without": Y_WITHOUT}, "gini", label="difference", deff=False)
    assert est["gini"].design["variance"] == "replicate"
    np.testing.assert_array_equal(fr["se"].to_numpy(), ref.se * 100)


def test_markdown_decimals_for_ratio_columns():
    """Percent columns print with 2 decimals; columns of ratios in (-1, 1) (Gini components,
    shares) with 4, so that a contribution of 0.0042 does not print as 0.00."""
    from remitpov.report.tables import to_markdown

    fr = pd.DataFrame({"measure": ["a", "b"], "percent": [45.5612, 8.8912], "ratio": [0.0042, -0.43]})
    md = to_markdown(fr)
    assert "| a | 45.56 | 0.0042 |" in md and "| b | 8.89 | -0.4300 |" in md
