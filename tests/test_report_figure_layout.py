"""Figure layout at the review standard (issue 11): long survey names never run into each other
or past the figure -- paired-bar tick labels wrap to their group, legends take fewer columns
when a row would be wider than the figure."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg

from remitpov.report import figures as F

LOW_DPI = {"dpi": 50}
SURVEYS = ["México 2018 (Aguascalientes)", "México 2010 (rural)", "EU-SILC (muestra de laeken)"]


def _laid_out(fig):
    FigureCanvasAgg(fig).draw()  # (saving closed the figure: a fresh canvas lays it out again)
    return fig.canvas.get_renderer()


def _inside(box, fig):
    return 0 <= box.x0 and box.x1 <= fig.bbox.width and 0 <= box.y0 and box.y1 <= fig.bbox.height


@pytest.mark.parametrize("language", ["es", "en"])
def test_paired_bar_labels_do_not_overlap(tmp_path, saved_figures, language):
    rows = [(s, pop, c, 40.0, 35.0, 45.0) for s in SURVEYS for pop in ("total", "recipients")
            for c in ("with", "without")]
    fr = pd.DataFrame(rows, columns=["survey", "population", "concept", "estimate", "ci_lower", "ci_upper"])
    with F.use_style({**F.parse_style(LOW_DPI), "language": language}):
        F.paired_bars(fr, tmp_path / "p", language=language, formats=("png",))
    fig = saved_figures["p"]
    r = _laid_out(fig)
    ticks = [t for t in fig.axes[0].get_xticklabels() if t.get_text()]
    assert len(ticks) == 6 and "\n(Aguascalientes)" in ticks[0].get_text()
    boxes = [t.get_window_extent(r) for t in ticks]
    for a, b in zip(boxes, boxes[1:]):
        assert a.x1 < b.x0, (a, b)  # neighbours do not touch
    assert all(_inside(b, fig) for b in boxes)


def test_legend_columns_fit_the_figure(tmp_path, saved_figures):
    assert F.legend_columns(["a", "b", "c"], 3, 6.3) == 3
    assert F.legend_columns(["x" * 40] * 3, 3, 5.0) == 1
    dec = pd.DataFrame([(s, g, 10.0, 8.0, 12.0) for s in SURVEYS for g in range(1, 11)],
                       columns=["survey", "group", "estimate", "ci_lower", "ci_upper"])
    with F.use_style({**F.parse_style(LOW_DPI), "language": "es"}):
        F.recipients_by_decile(dec, tmp_path / "d", language="es", formats=("png",))
    fig = saved_figures["d"]
    r = _laid_out(fig)
    (legend,) = fig.legends
    assert _inside(legend.get_window_extent(r), fig)
    assert {t.get_text() for t in legend.get_texts()} == set(SURVEYS)


def test_one_panel_curve_figure_fits(tmp_path, saved_figures):
    """One survey, Spanish: the long dominance title, the y label, the panel title and the legend
    all lie inside the figure (they were cut at both edges of the 3.4-inch figure)."""
    m = np.linspace(0.05, 2, 9)
    fr = pd.concat([pd.DataFrame({"survey": "México 2010 (rural)", "measure": "fgt1", "concept": c, "multiple": m,
                                  "estimate": 30 * m, "ci_lower": 28 * m, "ci_upper": 32 * m})
                    for c in ("with", "without")])
    with F.use_style({**F.parse_style(LOW_DPI), "language": "es"}):
        F.dominance_curves(fr, tmp_path / "dom", language="es", formats=("png",))
    fig = saved_figures["dom_fgt1"]
    r = _laid_out(fig)
    ax = fig.axes[0]
    assert "\n" in fig._suptitle.get_text() and "\n" in ax.get_ylabel()
    for artist in (fig._suptitle, ax.title, ax.yaxis.label, ax.xaxis.label, *fig.legends):
        assert _inside(artist.get_window_extent(r), fig), artist


def test_curves_of_a_survey_without_remittances(tmp_path, saved_figures):
    """A survey without remittance data (ENCOVI 2000) draws its observed curve in the "with"
    colour, named as such in the one legend (not "Total population"), which collects every
    panel's entries and fits the figure."""
    m = np.linspace(0.05, 2, 9)
    fr = pd.concat([pd.DataFrame({"survey": s, "concept": c, "multiple": m, "estimate": 30 * m,
                                  "ci_lower": 28 * m, "ci_upper": 32 * m})
                    for s, cs in (("México 2018 (Aguascalientes)", ("with", "without")), ("Guatemala 2000", ("total",)))
                    for c in cs])
    with F.use_style({**F.parse_style(LOW_DPI), "language": "es"}):
        F.incidence_curves(fr, tmp_path / "inc", language="es", formats=("png",), bands=fr)
    fig = saved_figures["inc"]
    r = _laid_out(fig)
    (legend,) = fig.legends
    texts = [t.get_text() for t in legend.get_texts()]
    assert "Observado (encuesta sin datos de remesas)" in texts and "Población total" not in texts
    assert {"Con remesas", "Sin remesas"} <= set(texts)
    assert _inside(legend.get_window_extent(r), fig)
    gtm = [ax for ax in fig.axes if ax.get_title().startswith("Guatemala")][0]
    assert gtm.get_lines()[0].get_color() == F.COLORS["with"]


def test_counterfactual_panel_title_fits(tmp_path, saved_figures):
    """One survey with a long label and long concept names: the panel title stays in the figure
    (it was cut at the right edge of the 4.6-inch figure)."""
    cs = ["observed", "static", "multinomial", "multinomial_unconditional", "heckman"]
    fr = pd.DataFrame({"survey": "Country A (synthetic, migration types)", "concept": cs,
                       "estimate": [26.9, 34.9, 26.6, 24.5, 40.4], "ci_lower": [25, 33, 21, 21, 24],
                       "ci_upper": [29, 37, 32, 28, 57]})
    with F.use_style(F.parse_style(LOW_DPI)):
        F.counterfactual_dots(fr, tmp_path / "cf", formats=("png",))
    fig = saved_figures["cf"]
    r = _laid_out(fig)
    ax = fig.axes[0]
    for artist in (fig._suptitle, ax.title, *ax.get_yticklabels()):
        assert _inside(artist.get_window_extent(r), fig), artist


def test_wrap_title_balanced_lines():
    from remitpov.report.figures_style import wrap_title

    text = "Incidencia de la pobreza: ingreso observado y contrafactual"
    assert wrap_title(text, 10, 12) == text  # fits: unchanged
    got = wrap_title(text, 4.37, 12)  # 43 characters a line: two lines, not three
    assert got.split("\n") == ["Incidencia de la pobreza: ingreso", "observado y contrafactual"]
    assert got.replace("\n", " ") == text
