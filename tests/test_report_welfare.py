"""The welfare concept comes from the loader / build_income (never the spec) and names every
label; confidence bands on Lorenz/concentration and dominance (FGT1/FGT2) curves."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from remitpov.report import figures as F
from remitpov.report.welfare import measure_text, welfare_key, welfare_phrase, welfare_text
from remitpov.survey import SurveyMetadata

LOW_DPI = {"dpi": 50}




@pytest.fixture(scope="module")
def prepared():
    """Country A of the demo spec, loaded and built as the chapter does (no estimation)."""
    from remitpov.report.chapter import DEMO_SPEC, prepare_survey
    from remitpov.report.spec import parse_spec

    spec = parse_spec(DEMO_SPEC)
    return spec, prepare_survey(spec.surveys[0], spec.seed)


def test_welfare_keys_from_metadata():
    assert welfare_key(SurveyMetadata()) == "income"  # nothing stated: the bare measure, no invented scale
    assert welfare_key(SurveyMetadata(welfare="consumption", welfare_scale="per_capita")) == "consumption"
    assert welfare_key(SurveyMetadata(welfare="income", welfare_scale="oecd_modified")) == "oecd_modified"
    assert welfare_text("consumption", "es") == "consumo per cápita"
    assert welfare_text("oecd_modified") == "equivalised income (modified OECD scale)"
    assert welfare_text("my_scale_function") == "income"  # a callable's name: the measure only
    assert welfare_text("consumption_sqrt", "es") == "consumo"
    assert welfare_phrase(["per_capita", "per_capita"]) == "per capita income"
    assert welfare_phrase(["per_capita", "consumption"], "es") == "ingreso o consumo"
    assert measure_text(["oecd_modified", "per_capita"]) == "income"


def test_build_income_records_its_scale():
    from remitpov.income import build_income
    from remitpov.synthetic import synthetic_survey

    s = synthetic_survey(seed=1, country="A")
    # the loader states its concept: income per household (build_income then records its scale)
    assert (s.metadata.welfare, s.metadata.welfare_scale) == ("income", "none")
    assert welfare_key(s.metadata) == "none"
    b = build_income(s, scale="sqrt")
    assert (b.metadata.welfare, b.metadata.welfare_scale) == ("income", "sqrt")
    assert b.metadata.to_dict()["welfare_scale"] == "sqrt"


def test_loaders_state_their_concept(shared):
    from remitpov.io.encovi import read_encovi2000
    from remitpov.io.eusilc import read_eusilc

    e = read_encovi2000(shared("data", "encovi2000_gt"))
    assert welfare_key(e.metadata) == "consumption"
    u = read_eusilc(shared("data", "eusilc", "eusilc.csv.gz"))
    assert welfare_key(u.metadata) == "oecd_modified"


def test_read_enigh_states_its_concept(shared):
    """ENIGH's ing_cor is current income per household: stated as such by read_enigh, and
    build_income then replaces the scale with the one it divided by."""
    from remitpov.income import build_income
    from remitpov.io.enigh import read_enigh

    s = read_enigh(shared("data", "enigh2010_rural", "Conc2010_rural.dbf"), year=2010)
    assert (s.metadata.welfare, s.metadata.welfare_scale) == ("income", "none")
    assert welfare_text(welfare_key(s.metadata)) == "household income"
    b = build_income(s)
    assert (b.metadata.welfare, b.metadata.welfare_scale) == ("income", "per_capita")


def test_publication_notes_name_each_survey_concept():
    """Mixed concepts: the note lists each concept with its surveys; titles say consumption."""
    from remitpov.report.publication import PublicationSpec, SurveyInfo, build_tables

    infos = [SurveyInfo("a", "A", "enigh", "ENIGH", 2018, "MXN", "month", "per_capita", 10, {}),
             SurveyInfo("g", "G", "encovi2000", "ENCOVI", 2000, "GTQ", "year", "consumption", 20, {}),
             SurveyInfo("e", "E", "eusilc", "EU-SILC", None, "EUR", "year", "oecd_modified", 30, {})]
    gini = pd.DataFrame({"survey": ["A", "G", "E"], "measure": "gini", "concept": ["total"] * 3,
                         "estimate": [45.0, 50.0, 27.0], "se": 1.0, "ci_lower": 43.0, "ci_upper": 47.0,
                         "unit": "Gini x 100"})
    for lang, words in (("en", ("per capita consumption (G (2000))", "equivalised income (modified OECD scale) (E)",
                                "Gini coefficient of income or consumption")),
                        ("es", ("consumo per cápita (G (2000))", "Coeficiente de Gini del ingreso o consumo"))):
        t = build_tables({"gini": gini}, infos, PublicationSpec(tables=("gini",)), lang)["gini"]
        text = " ".join([t.title, *t.notes])
        for w in words:
            assert w in text, (lang, w, text)
        assert "per capita income (A (2018))" in text or "ingreso per cápita (A (2018))" in text
    one = build_tables({"gini": gini[gini["survey"] == "G"]}, infos[1:2], PublicationSpec(tables=("gini",)), "en")
    assert one["gini"].title == "Gini coefficient of consumption"  # no remittances: no "with and without"
    assert "Gini coefficient of per capita consumption on the 0-1 scale" in one["gini"].notes[0]
    both = gini.assign(survey="A", concept=["with", "without", "difference"])
    two = build_tables({"gini": both}, infos[:1], PublicationSpec(tables=("gini",)), "es")["gini"]
    assert two.title == "Coeficiente de Gini del ingreso con y sin remesas"


def test_figure_labels_follow_the_welfare_concept(tmp_path, monkeypatch, saved_figures):
    seen = saved_figures
    p = np.linspace(0, 1, 5)
    fr = pd.DataFrame({"survey": "G", "curve": "lorenz_total", "p": p, "value": p ** 2})
    dec = pd.DataFrame([("E", g, 10.0, 8.0, 12.0) for g in range(1, 11)],
                       columns=["survey", "group", "estimate", "ci_lower", "ci_upper"])
    with F.use_style({**F.parse_style(LOW_DPI), "welfare": {"G": "consumption", "E": "oecd_modified"}, "language": "es"}):
        F.lorenz_curves(fr, tmp_path / "l", language="es", formats=("png",))
        F.recipients_by_decile(dec, tmp_path / "d", language="es", formats=("png",))
    fig = seen["l"]
    assert fig._suptitle.get_text() == "Curvas de Lorenz del consumo per cápita"
    assert fig.axes[0].get_ylabel() == "Proporción acumulada del consumo"
    ax = seen["d"].axes[0]
    assert ax.get_xlabel() == "Decil de ingreso equivalente (escala OCDE modificada) sin remesas"
    assert "ingreso per cápita" not in ax.get_title()


def test_lorenz_bands_are_the_estimators_cis(prepared, tmp_path, monkeypatch, saved_figures):
    """The block's bands are remitpov.inequality.lorenz / concentration_curve CIs (design-based,
    the chapter's level); every ordinate lies inside its band; the figure draws them."""
    from remitpov import inequality as ineq
    from remitpov.report.blocks._common import REMIT, Y_WITH, Y_WITHOUT
    from remitpov.report.blocks.gini import lorenz

    spec, p = prepared
    fr = lorenz(spec, p, points=11)
    grid = np.linspace(0, 1, 11)
    ref = ineq.lorenz(p.survey, Y_WITH, points=grid, ci_level=spec.ci_level, deff=False)
    got = fr[fr["curve"] == "lorenz_with"]
    np.testing.assert_array_equal(got["ci_lower"].to_numpy(), ref["ci_lower"].to_numpy())
    np.testing.assert_array_equal(got["ci_upper"].to_numpy(), ref["ci_upper"].to_numpy())
    ref = ineq.concentration_curve(p.survey, REMIT, rank_by=Y_WITHOUT, points=grid, ci_level=spec.ci_level, deff=False)
    got = fr[fr["curve"] == "concentration_remittances"]
    np.testing.assert_array_equal(got["ci_upper"].to_numpy(), ref["ci_upper"].to_numpy())
    inner = (fr["p"] > 0) & (fr["p"] < 1)
    assert (fr.loc[inner, "ci_lower"] < fr.loc[inner, "value"]).all()
    assert (fr.loc[inner, "value"] < fr.loc[inner, "ci_upper"]).all()
    seen = saved_figures
    with F.use_style(F.parse_style(LOW_DPI)):
        F.lorenz_curves(fr, tmp_path / "l", formats=("png",), level=spec.ci_level)
    ax = seen["l"].axes[0]
    polys = [c for c in ax.collections if type(c).__name__ in ("PolyCollection", "FillBetweenPolyCollection")]
    assert len(polys) == 3  # one band per curve
    top = max(poly.get_paths()[0].vertices[:, 1].max() for poly in polys)
    assert top == pytest.approx(fr["ci_upper"].max())
    labels = [t.get_text() for t in seen["l"].legends[0].get_texts()]
    assert "shaded: 95% confidence interval" in labels


def test_dominance_curves_are_fgt_with_cis(prepared, tmp_path):
    """FGT1/FGT2 curves at the incidence curves' lines: remitpov.poverty.fgt's estimates and
    CIs (x 100), one figure per order."""
    from remitpov.poverty import fgt
    from remitpov.report.blocks import curves
    from remitpov.report.blocks._common import Y_WITHOUT

    spec, p = prepared
    out = curves.run(spec, p, {})
    dom = out.extras["dominance_curves"]
    assert set(dom["measure"]) == {"fgt1", "fgt2"} and set(dom["concept"]) == {"with", "without"}
    m = float(dom["multiple"].iloc[7])
    ref = fgt(p.survey, Y_WITHOUT, p.line_values["poverty"] * m, alpha=2, strict=spec.strict,
              ci_level=spec.ci_level).to_frame().iloc[0]
    row = dom[(dom["measure"] == "fgt2") & (dom["concept"] == "without") & (dom["multiple"] == m)].iloc[0]
    for c in ("estimate", "ci_lower", "ci_upper"):
        assert row[c] == pytest.approx(100 * ref[c], rel=1e-12)  # same estimator, one line vs a grid: rounding only
    with F.use_style(F.parse_style(LOW_DPI)):
        files = F.dominance_curves(dom, tmp_path / "dominance", formats=("png",))
    assert [f.name for f in files] == ["dominance_fgt1.png", "dominance_fgt2.png"]


def test_publication_without_remittances_has_no_empty_columns():
    """A chapter with no remittance survey (ENCOVI 2000): rates and SEs only -- no empty
    with/without/difference columns, no significance note -- the cells are the tidy numbers."""
    from remitpov.report.publication import PublicationSpec, SurveyInfo, build_tables

    info = [SurveyInfo("g", "Guatemala 2000", "encovi2000", "ENCOVI", 2000, "GTQ", "year", "consumption", 7276,
                       {"poverty": "4,318.56", "indigence": "1,911.69"})]
    pov = pd.DataFrame({"survey": "Guatemala 2000", "population": "total", "indicator": ["poverty", "indigence"],
                        "concept": "total", "estimate": [56.19, 15.69], "se": [1.33, 0.98], "ci_lower": 0.0,
                        "ci_upper": 0.0, "unit": "percent"})
    fgt = pd.DataFrame({"survey": "Guatemala 2000", "domain": "total", "group": "all", "measure": ["fgt0", "fgt1", "fgt2"],
                        "concept": "total", "estimate": [56.19, 22.6, 11.2], "se": [1.3, 0.8, 0.5], "ci_lower": 0.0,
                        "ci_upper": 0.0, "unit": "percent"})
    gini = pd.DataFrame({"survey": ["Guatemala 2000"], "measure": "gini", "concept": "total", "estimate": [47.6],
                         "se": [0.9], "ci_lower": 0.0, "ci_upper": 0.0, "unit": "Gini x 100"})
    out = build_tables({"poverty": pov, "fgt": fgt, "gini": gini}, info, PublicationSpec(), "es")
    assert list(out) == ["poverty", "indigence", "gap", "gini"]
    assert out["poverty"].cells("es") == [["Guatemala 2000", "56,2", "1,33", "7.276"]]
    assert out["gap"].cells("es") == [["Guatemala 2000", "22,6", "0,80", "11,2", "0,50", "7.276"]]
    assert out["gini"].cells("es") == [["Guatemala 2000", "0,476", "0,009", "7.276"]]
    assert out["poverty"].title == "Pobreza, población total"
    assert out["gini"].title == "Coeficiente de Gini del consumo"
    text = " ".join(n for t in out.values() for n in t.notes)
    assert "Sin remesas" not in text and "excluye el cero" not in text and "consumo per cápita" in text


def test_tidy_concept_header_names_the_welfare_measure(tmp_path):
    """The tidy tables' "concept" column is headed by the surveys' measure (Markdown, LaTeX, XLSX,
    report.html); its cells and the CSV keep the codes (machine-stable)."""
    from openpyxl import load_workbook

    from remitpov.report.html import table_html
    from remitpov.report.tables import write_tables
    from remitpov.report.welfare import concept_header

    assert concept_header(["per_capita", "oecd_modified"]) == "Income"  # the former fixed header
    assert concept_header(["consumption"]) == "Consumption"
    assert concept_header(["consumption"], "es") == "Consumo"
    assert concept_header(["none", "consumption"]) == "Income or consumption"
    assert concept_header(["per_capita", "consumption"], "es") == "Ingreso o consumo"
    frame = pd.DataFrame({"survey": ["G"], "concept": ["total"], "estimate": [56.2], "unit": ["percent"]})
    heads = {"concept": concept_header(["consumption"], "es")}
    write_tables({"gini": frame}, tmp_path, ("csv", "md", "tex", "xlsx"), language="es", headers=heads)
    d = tmp_path / "tables"
    assert (d / "gini.csv").read_text().splitlines()[0] == "survey,concept,estimate,unit"
    assert "| Encuesta | Consumo | Estimación | Unidad |" in (d / "gini.md").read_text()
    assert "Encuesta & Consumo & Estimación & Unidad" in (d / "gini.tex").read_text()
    assert [c.value for c in load_workbook(d / "tables.xlsx")["gini"][1]] == ["Encuesta", "Consumo", "Estimación",
                                                                             "Unidad"]
    assert "| total |" in (d / "gini.md").read_text()  # the cell keeps its code
    assert "<th>Consumo</th>" in table_html(frame, language="es", headers=heads)
    write_tables({"gini": frame}, tmp_path / "plain", ("md",), language="es")
    assert "| Encuesta | Ingreso |" in (tmp_path / "plain" / "tables" / "gini.md").read_text()
    # the wide poverty table's "total" column (a survey without remittance data) is translated too
    from remitpov.report.tables import header

    assert header("total", "es") == "Observado (sin datos de remesas)"
    assert header("total") == "Observed (no remittance data)"


@pytest.mark.parametrize("name, language, expected", [
    ("enigh2018_ags", "en", "Source: own calculations based on INEGI, ENIGH 2018."),
    ("enigh2010_rural", "es", "Fuente: elaboración propia sobre la base de INEGI, ENIGH 2010.")])
def test_enigh_example_source_line_has_the_survey_year(shared, name, language, expected):
    """The ENIGH examples state the survey year (options.year -> read_enigh metadata): the
    "Source:" line of every table and figure names it."""
    from pathlib import Path

    from remitpov.report.chapter import prepare_survey
    from remitpov.report.publication import PublicationSpec, source_line, survey_info
    from remitpov.report.spec import load_spec

    shared("data", name)
    spec = load_spec(Path(__file__).resolve().parents[1] / "examples" / f"{name}.toml")
    assert spec.language == language
    p = prepare_survey(spec.surveys[0], spec.seed)
    assert p.survey.metadata.year == int(name[5:9])
    assert source_line(PublicationSpec(), [survey_info(p, language)], language) == expected


@pytest.mark.parametrize("language", ["es", "en"])
def test_panel_titles_fit_their_panels(tmp_path, saved_figures, language):
    """The 4-panel Lorenz figure of lac_real(_es): the EU-SILC panel's concept ("ingreso equivalente
    (escala OCDE modificada)") is wrapped, so every title lies inside the figure and inside its
    own column (it was cut at the right edge in Spanish)."""
    from remitpov.report.figures_style import wrap_title

    assert wrap_title("(ingreso equivalente (escala OCDE modificada))", 3.15, 10) == \
        "(ingreso equivalente\n(escala OCDE modificada))"
    assert wrap_title("México 2018 (Aguascalientes)", 3.15, 10) == "México 2018 (Aguascalientes)"
    p = np.linspace(0, 1, 5)
    keys = {"México 2018 (Aguascalientes)": "per_capita", "México 2010 (rural)": "per_capita",
            "Guatemala 2000": "consumption", "EU-SILC (muestra de laeken)": "oecd_modified"}
    fr = pd.concat([pd.DataFrame({"survey": s, "curve": c, "p": p, "value": p ** 2})
                    for s in keys for c in ("lorenz_with", "lorenz_without")])
    with F.use_style({**F.parse_style(LOW_DPI), "welfare": keys, "language": language}):
        F.lorenz_curves(fr, tmp_path / "l", language=language, formats=("png",))
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    fig = saved_figures["l"]
    FigureCanvasAgg(fig).draw()  # (saving closed the figure: a fresh canvas lays it out again)
    r = fig.canvas.get_renderer()
    width = fig.bbox.width
    boxes = [ax.title.get_window_extent(r) for ax in fig.axes if ax.get_title()]
    assert len(boxes) == 4
    for b in boxes:
        assert 0 <= b.x0 and b.x1 <= width, (b, width)
    for left, right in ((boxes[0], boxes[1]), (boxes[2], boxes[3])):  # the two columns' titles do not touch
        assert left.x1 < right.x0
    eu = [ax.get_title() for ax in fig.axes if ax.get_title().startswith("EU-SILC")][0]
    assert eu.count("\n") == 2
