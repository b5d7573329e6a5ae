"""Publication tables (ECLAC layout): cells against hand-built tidy tables, XLSX formats read
back with openpyxl, Spanish number format, LaTeX compiled with pdflatex (no overfull boxes),
and the tidy outputs left byte-identical."""
from __future__ import annotations

import math
import os
import re
import shutil
import subprocess

import numpy as np
import pandas as pd
import pytest

from remitpov.exceptions import SpecError
from remitpov.report import publication as P
from remitpov.report import pubwrite as W

UNDER_CI = os.environ.get("CI", "").lower() == "true"


def _info(label, n=100, year=2020, loader="enigh", name="ENIGH 2020"):
    return P.SurveyInfo(label.lower().replace(" ", ""), label, loader, name, year, "MXN", "month", "per_capita", n,
                        {"poverty": "1,000.00", "indigence": "500.00"})


def _poverty_rows(survey, pop, kind, w, wo, d, se, lo, hi):
    rows = [(survey, pop, kind, "with", w, 1.0, w - 2, w + 2), (survey, pop, kind, "without", wo, 1.1, wo - 2, wo + 2),
            (survey, pop, kind, "difference", d, se, lo, hi)]
    return pd.DataFrame(rows, columns=["survey", "population", "indicator", "concept", "estimate", "se", "ci_lower",
                                       "ci_upper"]).assign(unit="percent")


def _tidy():
    pov = pd.concat([
        _poverty_rows("Mexico", "total", "poverty", 40.0, 44.5, -4.5, 0.5, -5.48, -3.52),
        _poverty_rows("Mexico", "recipients", "poverty", 30.0, 50.25, -20.25, 2.0, -24.2, -16.3),
        # a difference whose CI covers zero: no mark
        _poverty_rows("Guatemala", "total", "poverty", 50.0, 50.4, -0.4, 0.3, -0.99, 0.19),
        _poverty_rows("Guatemala", "recipients", "poverty", 45.0, 47.0, -2.0, 1.5, -4.9, 0.9),
        # a survey without remittances: only its total
        pd.DataFrame([("Chile", "total", "poverty", "total", 12.0, 0.8, 10.4, 13.6)],
                     columns=["survey", "population", "indicator", "concept", "estimate", "se", "ci_lower",
                              "ci_upper"]).assign(unit="percent"),
    ], ignore_index=True)
    inc = pd.DataFrame([("Mexico", "total", "all", "persons_in_recipient_households", 12.5, 1.0, 10.5, 14.5),
                        ("Guatemala", "total", "all", "persons_in_recipient_households", 20.0, 1.0, 18.0, 22.0)],
                       columns=["survey", "domain", "group", "indicator", "estimate", "se", "ci_lower", "ci_upper"])
    gini = pd.DataFrame([("Mexico", "gini", "with", 45.0, 0.5, 44.0, 46.0), ("Mexico", "gini", "without", 46.2, 0.5, 45.2, 47.2),
                         ("Mexico", "gini", "difference", -1.2, 0.3, -1.8, -0.6)],
                        columns=["survey", "measure", "concept", "estimate", "se", "ci_lower", "ci_upper"])
    return {"poverty": pov, "incidence": inc.assign(unit="percent"), "gini": gini.assign(unit="Gini x 100")}


def _build(language="en", **pub):
    infos = [_info("Mexico", 300), _info("Guatemala", 200, year=2000, loader="encovi2000", name="ENCOVI 2000"),
             _info("Chile", 50, year=2017)]
    return P.build_tables(_tidy(), infos, P.PublicationSpec(**pub), language, 0.95)


def test_layout_cells_by_hand():
    t = _build()["poverty"]
    v = t.values.set_index("label")
    # rows: countries with their year; columns: with / without / difference / SE per population
    assert list(v.index) == ["Mexico (2020)", "Guatemala (2000)", "Chile (2017)"]
    assert v.loc["Mexico (2020)", ["t_with", "t_without", "t_difference", "t_se"]].tolist() == [40.0, 44.5, -4.5, 0.5]
    assert v.loc["Mexico (2020)", ["r_with", "r_difference", "share", "n"]].tolist() == [30.0, -20.25, 12.5, 300]
    # the survey without remittances: its rate under "with", nothing else
    assert v.loc["Chile (2017)", "t_with"] == 12.0 and np.isnan(v.loc["Chile (2017)", "t_without"])
    marks = t.marks.set_index(t.values["label"])
    assert marks.loc["Mexico (2020)", "t_difference"] and marks.loc["Mexico (2020)", "r_difference"]
    assert not marks.loc["Guatemala (2000)", "t_difference"] and not marks.loc["Guatemala (2000)", "r_difference"]
    assert not marks.values[:, [c.key != "t_difference" and c.key != "r_difference" for c in t.columns]].any()
    cells = t.cells("en")
    # one decimal for percent and pp, two for SEs, thousands separator for counts, "…" for not available
    assert cells[0][:5] == ["Mexico (2020)", "40.0", "44.5", "-4.5*", "0.50"]
    assert cells[1][3] == "-0.4" and cells[2][2] == "…"
    # headers carry the units
    heads = [W.header(c, "en") for c in t.columns]
    assert "Difference (pp)" in heads and "With remittances (%)" in heads and "SE (pp)" in heads


def test_gini_back_on_the_0_1_scale_with_three_decimals():
    g = _build()["gini"]
    row = g.values.iloc[0]
    assert row["with"] == pytest.approx(0.45, abs=1e-15) and row["difference"] == pytest.approx(-0.012, abs=1e-15)
    assert g.cells("en")[0][1:5] == ["0.450", "0.462", "-0.012*", "0.003"]
    assert len(g.values) == 1  # only Mexico has a Gini


def test_notes_source_and_titles():
    t = _build()["poverty"]
    assert t.title.startswith("Poverty with and without remittances")
    assert t.source.startswith("Source: own calculations based on INEGI, ENIGH 2020; INE Guatemala, ENCOVI 2000")
    text = " ".join(t.notes)
    assert "MXN per person per month" in text and "95 % confidence interval" in text
    assert "percentage points" in text and "unweighted" in text and "Without remittances" in text
    over = _build(source="Source: CEPALSTAT.", notes=["Preliminary."], labels={"total": "Whole population"})
    assert over["poverty"].source == "Source: CEPALSTAT." and over["poverty"].notes[-1] == "Preliminary."
    assert over["poverty"].columns[1].group == "Whole population"


def test_spanish_cells_names_and_decimal_comma():
    t = _build("es")["poverty"]
    labels = t.values["label"].tolist()
    assert labels == ["México (2020)", "Guatemala (2000)", "Chile (2017)"]
    cells = t.cells("es")
    assert cells[0][1:5] == ["40,0", "44,5", "-4,5*", "0,50"] and cells[0][-1] == "300"
    assert P.format_number(1234567.891, 1, "es") == "1.234.567,9"
    assert P.format_number(-0.04, 1, "en") == "0.0" and P.format_number(float("nan"), 1) == "…"
    assert t.sheet == "Pobreza" and "Fuente" in t.source
    assert P.localise_label("Mexico 2018 (Aguascalientes)", "es") == "México 2018 (Aguascalientes)"
    assert P.localise_label("Dominican Republic 2019", "es") == "República Dominicana 2019"
    assert P.localise_label("Country B", "es") == "País B"
    assert P.localise_label("Mexicali survey", "es") == "Mexicali survey"  # a whole word only


def test_spec_section_checked():
    assert P.parse_publication(None) is None and P.parse_publication({"layout": "none"}) is None
    assert P.parse_publication({}).tables == P.PUB_TABLES
    with pytest.raises(SpecError, match=r"publication: unknown key\(s\) \['colour'\]"):
        P.parse_publication({"colour": 1})
    with pytest.raises(SpecError, match="publication.layout: unknown layout 'imf'"):
        P.parse_publication({"layout": "imf"})
    with pytest.raises(SpecError, match=r"publication.tables: unknown value\(s\) \['povert'\]"):
        P.parse_publication({"tables": ["povert"]})
    with pytest.raises(SpecError, match="publication.notes: expected a list of strings"):
        P.parse_publication({"notes": "one"})


def test_xlsx_formats_widths_frozen_header(tmp_path):
    from openpyxl import load_workbook

    tabs = _build()
    path = W.to_xlsx(tabs, _tidy(), tmp_path / "p.xlsx", language="en")
    wb = load_workbook(path)
    assert wb.sheetnames[:2] == ["Poverty", "Gini"] and "data_poverty" in wb.sheetnames
    ws = wb["Poverty"]
    assert ws["A1"].value.startswith("Poverty with and without") and ws["A1"].font.bold
    assert ws["B3"].value == "Total population" and "B3:E3" in {str(r) for r in ws.merged_cells.ranges}
    assert ws["B4"].value == "With remittances (%)" and ws["D4"].value == "Difference (pp)"
    assert ws.freeze_panes == "B5"
    # Mexico: numbers stay numbers; the significant difference carries its mark in the number format
    assert ws["B5"].value == 40.0 and ws["B5"].number_format == "#,##0.0"
    assert ws["D5"].value == -4.5 and ws["D5"].number_format == '#,##0.0"*";-#,##0.0"*"'
    assert ws["E5"].number_format == "#,##0.00" and ws["K5"].number_format == "#,##0" and ws["K5"].value == 300
    assert ws["D6"].number_format == "#,##0.0"  # Guatemala: not significant, no mark
    assert ws["C7"].value == "…"  # Chile: no "without"
    assert ws.column_dimensions["A"].width >= len("Guatemala (2000)")
    assert ws["A9"].value.startswith("Source:") and ws["A10"].value.startswith("Note: ")
    g = wb["Gini"]
    assert g["B5"].number_format == "#,##0.000" and g["D5"].number_format == '#,##0.000"*";-#,##0.000"*"'
    # deterministic bytes
    again = W.to_xlsx(tabs, _tidy(), tmp_path / "q.xlsx", language="en")
    assert path.read_bytes() == again.read_bytes()


def _pdflatex():
    exe = shutil.which("pdflatex")
    if exe is None:
        if UNDER_CI:
            pytest.fail("pdflatex is missing under CI=true (.ci/run installs texlive-latex-base/-recommended)")
        pytest.skip("pdflatex not installed (apt-get install texlive-latex-base texlive-latex-recommended)")
    return exe


def _compile(folder):
    exe = _pdflatex()
    r = subprocess.run([exe, "-interaction=nonstopmode", "-halt-on-error", "publication.tex"], cwd=folder,
                       capture_output=True, text=True, timeout=120)
    log = (folder / "publication.log").read_text(encoding="latin-1")
    assert r.returncode == 0, log[-3000:]
    assert "Overfull \\hbox" not in log, [ln for ln in log.splitlines() if "Overfull" in ln]
    return log


def _many(n, language):
    """``n`` countries' poverty tables (hand-made numbers) and their infos."""
    names = ["Argentina", "Bolivia", "Brazil", "Chile", "Colombia", "Costa Rica", "Dominican Republic", "Ecuador",
             "El Salvador", "Guatemala", "Honduras", "Mexico", "Nicaragua", "Panama", "Paraguay", "Peru", "Uruguay",
             "Venezuela", "Haiti", "Cuba"]
    labels = [f"{names[k % len(names)]} {2000 + k}" for k in range(n)]
    rng = np.random.default_rng(1)
    frames = [_poverty_rows(lab, pop, kind, *rng.uniform(5, 60, 2), -rng.uniform(0, 20), 1.5, -3, -1)
              for lab in labels for pop in ("total", "recipients") for kind in ("poverty", "indigence")]
    infos = [P.SurveyInfo(f"s{k}", lab, "enigh", "ENIGH", None, "USD", "month", "per_capita", 12345 + k,
                          {"poverty": "1,000.00"}) for k, lab in enumerate(labels)]
    tabs = P.build_tables({"poverty": pd.concat(frames, ignore_index=True)}, infos, P.PublicationSpec(), language)
    return tabs


@pytest.mark.parametrize("n,language", [(3, "en"), (30, "es"), (45, "en")])
def test_latex_compiles_on_a4_without_overfull_boxes(tmp_path, n, language):
    tabs = _many(n, language)
    W.write_publication(tabs, {}, tmp_path, formats=("tex",), language=language, title="Test chapter")
    tex = (tmp_path / "publication" / "poverty.tex").read_text(encoding="utf-8")
    assert ("longtable" in tex) == (n > W.LONG_ROWS)
    _compile(tmp_path / "publication")
    if language == "es":  # decimal comma, no decimal point in any number of the body
        body = tex.split(r"\midrule", 1)[1].split(r"\bottomrule")[0]
        assert not re.search(r"\d\.\d{1,2}\b(?!\d)", body), body[:400]
        assert re.search(r"\d,\d", body)


# ----------------------------------------------------------------------------- through the chapter
def _spec(language="en", publication=True):
    """``publication``: True -> an empty [publication] section, None -> none (the default
    layout), "none" -> ``layout = "none"``."""
    d = {"chapter": {"title": "Publication test", "language": language, "seed": 7,
                     "measures": ["incidence", "poverty", "fgt", "gini"], "domains": ["quintile"],
                     "figures": [], "report": "html" if language == "es" else "none"},
         "lines": {"poverty": "poverty_line", "indigence": "indigence_line"},
         "survey": [{"id": "A", "label": "Country A", "format": "synthetic",
                     "options": {"country": "A", "n_households": 600}},
                    {"id": "mex", "label": "Mexico", "format": "synthetic",
                     "options": {"country": "B", "n_households": 500}}]}
    if publication is not None:
        d["publication"] = {"layout": "none"} if publication == "none" else {}
    return d


@pytest.fixture(scope="module")
def chapters(tmp_path_factory):
    from remitpov.report.chapter import run_chapter

    root = tmp_path_factory.mktemp("pubchap")
    return {key: run_chapter(_spec(lang, pub), root / key) for key, lang, pub in
            [("en", "en", True), ("es", "es", None), ("plain", "en", "none")]}


def test_publication_layout_is_on_by_default():
    """No [publication] section: the ECLAC layout in the chapter's table formats; layout "none"
    or a chapter without such formats: none."""
    assert P.chapter_publication(None, ("csv", "xlsx", "md", "tex")) == P.PublicationSpec()
    assert P.chapter_publication(None, ("md", "csv")).formats == ("md", "csv")
    assert P.chapter_publication(None, ()) is None
    assert P.chapter_publication({"layout": "none"}, ("csv",)) is None
    assert P.chapter_publication({"formats": ["md"]}, ("csv",)).formats == ("md",)


def test_chapter_writes_publication_and_keeps_tidy_outputs(chapters):
    en, plain = chapters["en"].out_dir, chapters["plain"].out_dir
    pub = sorted(p.name for p in (en / "publication").iterdir())
    for name in ("poverty", "indigence", "gap", "gini", "incidence", "quintiles"):
        assert {f"{name}.md", f"{name}.tex", f"{name}.csv"} <= set(pub)
    assert {"publication.xlsx", "publication.tex", "publication.md"} <= set(pub)
    assert not (plain / "publication").exists()
    md = (en / "publication" / "poverty.md").read_text(encoding="utf-8")
    assert md.count("generated by remitpov") == 1  # one phrase for all synthetic surveys
    # the tidy tables are byte-identical with and without [publication]
    for f in sorted((plain / "tables").iterdir()):
        if f.suffix != ".xlsx":
            assert f.read_bytes() == (en / "tables" / f.name).read_bytes(), f.name
    # every publication file is in the manifest (remitpov verify compares them)
    outs = chapters["en"].manifest["outputs"]
    assert "publication/publication.xlsx" in outs and "publication/poverty.tex" in outs
    # the layout's numbers are the tidy table's
    tidy = pd.read_csv(en / "tables" / "poverty.csv")
    lay = pd.read_csv(en / "publication" / "poverty.csv")
    row = tidy[(tidy.survey == "Mexico") & (tidy.population == "recipients") & (tidy.concept == "difference")
               & (tidy.indicator == "poverty")].iloc[0]
    assert lay.iloc[1]["Persons in recipient households: Difference (pp)"] == row["estimate"]
    assert lay.iloc[1]["Persons in recipient households: SE (pp)"] == row["se"]
    assert bool(lay.iloc[1]["Persons in recipient households: Difference (pp) significant"]) == \
        bool(row["ci_upper"] < 0 or row["ci_lower"] > 0)


_ENGLISH = re.compile(r"\b(with|without|population|recipients?|poverty|indigence|households?|difference|survey|Country|"
                      r"Mexico|fgt\d|gini_?|percent|Source|Note)\b")


def test_chapter_spanish_has_decimal_commas_and_no_english(chapters):
    d = chapters["es"].out_dir / "publication"
    for f in sorted(d.glob("*.md")):
        for line in f.read_text(encoding="utf-8").splitlines():
            if not line.startswith("| ") or line.startswith("| País"):
                continue
            cells = [c.strip() for c in line.strip("|").split("|")][1:]
            for c in cells:
                if c.startswith("LCU") or c == "…":
                    continue
                # a Spanish number: thousands with ".", decimals with ","
                assert re.fullmatch(r"-?\d{1,3}(\.\d{3})*(,\d+)?\*?", c), (f.name, c)
        words = f.read_text(encoding="utf-8")
        assert not _ENGLISH.search(words.replace("remitpov", "")), (f.name, _ENGLISH.search(words).group(0))
    assert "México" in (d / "poverty.md").read_text(encoding="utf-8")
    from openpyxl import load_workbook

    wb = load_workbook(d / "publication.xlsx")
    assert wb.sheetnames[:6] == ["Pobreza", "Indigencia", "Brecha de pobreza", "Gini", "Incidencia de remesas",
                                 "Receptores por quintil"]
    assert all(s.startswith("datos_") for s in wb.sheetnames[6:])
    _compile(d)


def test_tex_document_compiles_from_a_chapter(chapters):
    log = _compile(chapters["en"].out_dir / "publication")
    assert "Output written" in log


def test_report_html_shows_the_publication_tables_first(chapters):
    page = (chapters["es"].out_dir / "report.html").read_text(encoding="utf-8")
    assert page.index("Cuadros para publicación") < page.index('id="tables"')
    i = page.index('id="pub-poverty"')
    table = page[i:page.index("</table>", i)]
    assert 'colspan="4">Población total</th>' in table and "Diferencia (pp)" in table
    assert re.search(r'<td class="num">-\d+,\d\*</td>', table)  # decimal comma and the mark
    assert "Fuente: elaboración propia" in page[i:]
    assert "Cuadro 7." in page  # the tidy tables are numbered after the six publication tables


def test_example_specs_parse_and_match_across_languages():
    from pathlib import Path

    from remitpov.report.spec import load_spec

    root = Path(__file__).resolve().parents[1] / "examples"
    en, es = load_spec(root / "synthetic_20.toml"), load_spec(root / "synthetic_20_es.toml")
    assert len(en.surveys) == len(es.surveys) == 20 and es.language == "es"
    assert [s.options for s in en.surveys] == [s.options for s in es.surveys]  # the same surveys
    assert "publication" in en.raw and "style" in en.raw


def test_loader_built_income_keeps_its_period(shared):
    """EU-SILC's loader builds its own (annual) income concept and sets ``income_factor``: the
    chapter must not call it monthly (it did, since ``income_factor`` alone meant "built")."""
    from remitpov.report.chapter import concept_period, prepare_survey
    from remitpov.report.spec import parse_spec

    path = shared("data", "eusilc", "eusilc.csv.gz")
    spec = parse_spec({"chapter": {"measures": ["poverty"]},
                       "survey": [{"id": "eu", "format": "eusilc", "path": str(path),
                                   "lines": {"poverty": {"fraction_of_median": 0.6}}}]})
    p = prepare_survey(spec.surveys[0], 1)
    assert "income_factor" in p.survey.roles and p.income_period == "year"
    assert concept_period(spec.surveys[0], p.survey, built=True) == "month"  # had the chapter built it
