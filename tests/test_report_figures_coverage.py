"""The coverage and impact-range figures at the chapter standard: the style's width, height
growing with the rows (bounded), sorted rows, Okabe-Ito colours, legends outside the axes,
the tables' units (percent; million USD) and locale."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from remitpov.report import figures as F

LOW_DPI = {"dpi": 50}


@pytest.fixture
def drawn(monkeypatch):
    figs = {}
    real = F.save

    def save(fig, stem, formats=("png",)):
        fig.canvas.draw()
        figs[getattr(stem, "name", str(stem))] = fig
        return real(fig, stem, formats)

    monkeypatch.setattr(F, "save", save)
    return figs


def _impact(n):
    rows = []
    for k in range(n):
        base = 20.0 + 3 * ((7 * k) % n)  # not in survey order
        for c, d in (("without", 1.0), ("with (survey)", 0.0), ("with (calibrated)", -1.5)):
            rows.append((f"S{k:02d}", c, base + d, base + d - 0.8, base + d + 0.8))
    return pd.DataFrame(rows, columns=["survey", "concept", "estimate", "ci_lower", "ci_upper"])


@pytest.mark.parametrize("n", [3, 25])
def test_impact_range_sorted_dots_with_cis(tmp_path, drawn, n):
    t = _impact(n)
    with F.use_style(F.parse_style(LOW_DPI)):
        F.impact_range(t, tmp_path / "imp", formats=("png",), language="es")
    fig = drawn["imp"]
    ax = fig.axes[0]
    w, h = fig.get_size_inches()
    assert w == pytest.approx(F.STYLE_DEFAULTS["width"]) and h <= F.STYLE_DEFAULTS["max_height"]
    rows = [tl.get_text() for tl in ax.get_yticklabels()]
    want = t[t["concept"] == "with (survey)"].sort_values("estimate")["survey"].tolist()
    assert rows == want  # sorted by the headcount with survey remittances, highest on top
    # one errorbar series per concept, in its Okabe-Ito colour, dots at the table's estimates
    lines = [l for l in ax.lines if l.get_marker() == "o"]
    assert [l.get_color() for l in lines] == list(F.IMPACT_CONCEPTS.values())
    est = t.set_index(["concept", "survey"])["estimate"]
    for l, c in zip(lines, F.IMPACT_CONCEPTS):
        np.testing.assert_array_equal(l.get_xdata(), est[c].reindex(rows).to_numpy())
    assert fig.legends and not ax.get_legend()  # the legend is below the panel, not on the data
    texts = [t.get_text() for t in ax.texts]
    assert (len(texts) == 3 * n) == (n <= 8)  # values written beside the dots only when few
    if texts:
        assert all("," in s for s in texts)  # Spanish: decimal comma


def test_coverage_time_series_in_million_usd(tmp_path, drawn):
    nat = pd.DataFrame({"year": [2022, 2018], "macro_usd": [58.9e9, 34.5e9], "survey_usd": [4.9e9, 2.8e9],
                        "survey_usd_se": [1.5e8, 1e8], "df": [900.0, 900.0], "coverage": [0.084, 0.082],
                        "ci_lower": [0.078, 0.076], "ci_upper": [0.09, 0.088], "ci_level": 0.95})
    with F.use_style(F.parse_style(LOW_DPI)):
        F.coverage_time_series(nat, tmp_path / "ts", formats=("png",))
    fig = drawn["ts"]
    a1, a2 = fig.axes[:2]
    bop = [l for l in a1.lines if l.get_marker() == "o"][0]
    np.testing.assert_array_equal(bop.get_xdata(), [2018, 2022])  # by year
    np.testing.assert_allclose(bop.get_ydata(), [34_500.0, 58_900.0], rtol=1e-15)  # million USD, the table's unit
    assert "million USD" in a1.get_ylabel()
    cov = [l for l in a2.lines if l.get_marker() == "o"][0]
    np.testing.assert_allclose(cov.get_ydata(), [8.2, 8.4], rtol=1e-12)  # percent
    assert fig.get_size_inches()[0] == pytest.approx(F.STYLE_DEFAULTS["width"])
    assert fig.legends and not a1.get_legend() and not a2.get_legend()


def test_coverage_by_state_height_grows_and_is_bounded(tmp_path, drawn):
    def extra(n):
        cov = np.r_[0.08, np.linspace(0.02, 0.2, n)]
        return pd.DataFrame({"domain": ["national", *range(1, n + 1)], "coverage": cov, "ci_lower": cov - 0.01,
                             "ci_upper": cov + 0.01, "year": 2022, "ci_level": 0.95, "survey": "Mexico 2022"})

    with F.use_style(F.parse_style(LOW_DPI)):
        F.coverage_by_state(extra(5), tmp_path / "s5", formats=("png",))
        F.coverage_by_state(extra(32), tmp_path / "s32", formats=("png",))
        F.coverage_by_state(extra(200), tmp_path / "s200", formats=("png",))
    h = [drawn[k].get_size_inches()[1] for k in ("s5", "s32", "s200")]
    assert h[0] < h[1] <= h[2] == pytest.approx(F.STYLE_DEFAULTS["max_height"])
    assert drawn["s5"].axes[0].get_title() == "Remittance coverage by state, Mexico 2022"
