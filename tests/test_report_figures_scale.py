"""Chapter figures that scale from 1 to 30 countries, the [style] section, TrueType PDF fonts,
distinct colours, legends outside the data, confidence bands and the counterfactual figure."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from remitpov.exceptions import SpecError
from remitpov.report import figures as F

LOW_DPI = {"dpi": 50}  # fast; sizes are checked in inches (pixels / dpi)


def _poverty(n, seed=0):
    rng = np.random.default_rng(seed)
    rows = []
    for k in range(n):
        for pop in ("total", "recipients"):
            w = rng.uniform(5, 50)
            for concept, est in (("with", w), ("without", w + rng.uniform(1, 15))):
                rows.append((f"Country {k:02d}", pop, "poverty", concept, est, est - 2, est + 2))
    return pd.DataFrame(rows, columns=["survey", "population", "indicator", "concept", "estimate", "ci_lower",
                                       "ci_upper"])




def _inches(path, dpi):
    w, h = Image.open(path).size
    return w / dpi, h / dpi


@pytest.mark.parametrize("n", [1, 3, 12, pytest.param(30, marks=pytest.mark.slow)])
def test_sizes_bounded_from_1_to_30_countries(tmp_path, n):
    st = F.parse_style(LOW_DPI)
    pov = _poverty(n)
    dec = pd.DataFrame([(f"Country {k:02d}", g, 10.0 + g, 8.0 + g, 12.0 + g) for k in range(n) for g in range(1, 11)],
                       columns=["survey", "group", "estimate", "ci_lower", "ci_upper"])
    grid = np.linspace(0.05, 2, 10)
    curves = pd.DataFrame([(f"Country {k:02d}", c, m, 30 * m) for k in range(n) for c in ("with", "without")
                           for m in grid], columns=["survey", "concept", "multiple", "estimate"])
    bands = curves.assign(ci_lower=curves["estimate"] - 2, ci_upper=curves["estimate"] + 2)
    with F.use_style(st):
        files = [*F.paired_bars(pov, tmp_path / "bars", formats=("png",)),
                 *F.country_comparison(pov, tmp_path / "cmp", formats=("png",)),
                 *F.recipients_by_decile(dec, tmp_path / "dec", formats=("png",)),
                 *F.incidence_curves(curves, tmp_path / "cur", formats=("png",), bands=bands)]
    for f in files:
        w, h = _inches(f, st["dpi"])
        # never wider than two full-width columns (3 panels of 3.4 in at most), never taller than max_height
        assert w <= 3 * 3.4 + 0.05 and h <= st["max_height"] + 0.05, (f.name, w, h)
        if n > 3:
            assert w <= st["width"] + 0.05, (f.name, w)
    # the height grows with the number of countries (rows), until the bound
    if n == 12:
        assert _inches(tmp_path / "cmp.png", st["dpi"])[1] > 3.0


def test_comparison_sorted_legend_outside_distinct_colours(tmp_path, monkeypatch, saved_figures):
    seen = saved_figures
    pov = _poverty(12, seed=3)
    with F.use_style(F.parse_style(LOW_DPI)):
        F.country_comparison(pov, tmp_path / "cmp", formats=("png",))
        F.paired_bars(pov, tmp_path / "bars", formats=("png",))
        dec = pd.DataFrame([(f"S{k}", g, 5.0 * k + g, 4.0 * k + g, 6.0 * k + g) for k in range(6) for g in range(1, 11)],
                           columns=["survey", "group", "estimate", "ci_lower", "ci_upper"])
        F.recipients_by_decile(dec, tmp_path / "dec", formats=("png",))
    fig = seen["cmp"]
    ax = fig.axes[0]
    labels = [t.get_text() for t in ax.get_yticklabels()]
    tot = pov[(pov.population == "total") & (pov.concept == "with")].sort_values("estimate")["survey"].tolist()
    assert labels == tot  # bottom (y = 0) = lowest rate with remittances
    for name in ("cmp", "bars", "dec"):
        f = seen[name]
        assert f.legends and all(a.get_legend() is None for a in f.axes), name  # one figure legend, outside
        lb = f.legends[0].get_window_extent()
        for a in f.axes:  # the legend does not overlap any panel
            assert not lb.overlaps(a.get_window_extent()), name
    bars = [p for p in seen["dec"].axes[0].patches]
    colours = {tuple(np.round(p.get_facecolor(), 3)) for p in bars}
    assert len(colours) == 6  # six surveys, six colours (never reused)
    with pytest.raises(ValueError, match="distinct colours"):
        F.palette(len(F.PALETTE) + 1)


def test_many_surveys_decile_figure_is_a_heatmap(tmp_path, monkeypatch, saved_figures):
    seen = saved_figures
    dec = pd.DataFrame([(f"S{k}", g, 1.0 * k + g, 0.0, 0.0) for k in range(20) for g in range(1, 11)],
                       columns=["survey", "group", "estimate", "ci_lower", "ci_upper"])
    with F.use_style(F.parse_style(LOW_DPI)):
        F.recipients_by_decile(dec, tmp_path / "dec", formats=("png",))
    ax = seen["dec"].axes[0]
    assert len(ax.images) == 1 and len(ax.texts) == 200  # every cell written
    assert ax.images[0].get_array()[3, 4] == pytest.approx(3 + 5)


def test_confidence_bands_on_incidence_curves(tmp_path, monkeypatch, saved_figures):
    seen = saved_figures
    grid = np.linspace(0.1, 2, 5)
    curves = pd.DataFrame([("A", c, m, 20 * m) for c in ("with", "without") for m in grid],
                          columns=["survey", "concept", "multiple", "estimate"])
    bands = curves.assign(ci_lower=curves["estimate"] - 1, ci_upper=curves["estimate"] + 1)
    with F.use_style(F.parse_style(LOW_DPI)):
        F.incidence_curves(curves, tmp_path / "c", formats=("png",), bands=bands)
    ax = seen["c"].axes[0]
    polys = [c for c in ax.collections if type(c).__name__ in ("PolyCollection", "FillBetweenPolyCollection")]
    assert len(polys) == 2
    top = polys[0].get_paths()[0].vertices[:, 1].max()
    assert top == pytest.approx(41.0)  # the upper band at the largest multiple: 20 x 2 + 1


def test_counterfactual_figure(tmp_path, monkeypatch, saved_figures):
    seen = saved_figures
    cf = pd.DataFrame({"survey": "Mexico 2010", "concept": ["observed", "static", "heckman"],
                       "estimate": [60.0, 62.0, 58.0], "ci_lower": [56.0, 58.0, 53.0], "ci_upper": [64.0, 66.0, 63.0]})
    with F.use_style(F.parse_style(LOW_DPI)):
        out = F.counterfactual_dots(cf, tmp_path / "cf", language="es", formats=("png", "pdf"))
    assert [p.suffix for p in out] == [".png", ".pdf"]
    ax = seen["cf"].axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["Observado", "Estático (sin remesas)",
                                                              "Corregido por selección (Heckman)"]
    assert sorted(t.get_text() for t in ax.texts) == ["58,0", "60,0", "62,0"]  # decimal comma


def test_style_section_checked_and_applied(tmp_path):
    assert F.parse_style(None) == F.STYLE_DEFAULTS and F.STYLE_DEFAULTS["dpi"] == 300
    with pytest.raises(SpecError, match=r"style: unknown key\(s\) \['colour'\]"):
        F.parse_style({"colour": "red"})
    with pytest.raises(SpecError, match=r"style.dpi: expected a number in \[50, 1200\]"):
        F.parse_style({"dpi": 10})
    with pytest.raises(SpecError, match="style.font: font 'No Such Font' is not installed"):
        F.parse_style({"font": "No Such Font"})
    st = F.parse_style({"dpi": 120, "font_size": 11})
    with F.use_style(st):
        out = F.paired_bars(_poverty(2), tmp_path / "b", formats=("png", "pdf"))
    img = Image.open(out[0])
    assert round(img.info["dpi"][0]) == 120
    pdf = out[1].read_bytes()
    # TrueType (Type 42) fonts, not Type 3
    assert b"/Type3" not in pdf and (b"/TrueType" in pdf or b"/CIDFontType2" in pdf)


def test_spec_rejects_bad_style_before_running():
    from remitpov.report.spec import parse_spec

    d = {"chapter": {"measures": ["poverty"]}, "lines": {"poverty": 100.0},
         "survey": [{"id": "A", "format": "synthetic"}], "style": {"dpi": "high"}}
    with pytest.raises(SpecError, match="style.dpi"):
        parse_spec(d)


def test_spanish_axes_use_a_decimal_comma(tmp_path, monkeypatch, saved_figures):
    seen = saved_figures
    grid = np.linspace(0.1, 2, 5)
    curves = pd.DataFrame([("A", c, m, 20 * m) for c in ("with", "without") for m in grid],
                          columns=["survey", "concept", "multiple", "estimate"])
    with F.use_style({**F.parse_style(LOW_DPI), "language": "es"}):
        F.incidence_curves(curves, tmp_path / "c", language="es", formats=("png",))
    ax = seen["c"].axes[0]
    ticks = [t.get_text() for t in ax.get_xticklabels() if t.get_text()]
    assert "0,5" in ticks and not any("." in t for t in ticks)
