"""The chapter's by-state coverage figure shows the numbers of the ``coverage`` table: percent,
bars = the estimate, whiskers = the table's symmetric t-based CI (cut at 0 and marked where the
interval reaches below 0), the national estimate and CI as a line and a band; and the tidy
coverage rows carry the ratio's SE (x 100, percent)."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from remitpov.report import figures as F
from remitpov.report.blocks import coverage as block


def _extra(ci_level=0.95):
    """A survey's ``coverage`` extra: national row + 3 states (state 9's CI reaches below 0)."""
    cov = np.array([0.084, 0.12, 0.027, 0.05])
    se = np.array([0.003, 0.02, 0.016, 0.01])
    df = np.array([900.0, 40.0, 30.0, 50.0])
    q = stats.t.ppf(0.5 + ci_level / 2, df)
    return pd.DataFrame({"domain": ["national", 1, 9, 14], "coverage": cov, "coverage_se": se,
                         "ci_lower": cov - q * se, "ci_upper": cov + q * se, "df": df,
                         "survey_usd": 1.0, "survey_usd_se": 0.1, "macro_usd": 10.0,
                         "year": 2022, "ci_level": ci_level, "country": "MEX"})


@pytest.fixture
def drawn(monkeypatch, tmp_path):
    figs = []
    monkeypatch.setattr(F, "save", lambda fig, stem, formats=("png",): figs.append(fig) or [])
    return figs


@pytest.mark.parametrize("language", ["en", "es"])
def test_by_state_figure_is_the_table(drawn, tmp_path, language):
    fr = _extra()
    block.by_state(fr, tmp_path / "f", language, ["png"])
    ax = drawn[0].axes[0]
    st = fr.iloc[1:].sort_values("coverage")
    bars = [p for p in ax.patches if p.get_height() < 1]  # barh rectangles (the band is a full-height polygon)
    np.testing.assert_allclose([b.get_width() for b in bars], 100 * st["coverage"], rtol=1e-12)
    assert [t.get_text() for t in ax.get_yticklabels()] == ["Ciudad de México", "Jalisco", "Aguascalientes"]
    # whiskers: [max(lower, 0), upper] in percent, the table's symmetric t interval
    segs = [s for c in ax.collections for s in c.get_segments()]
    lo = np.maximum(100 * st["ci_lower"].to_numpy(), 0)
    hi = 100 * st["ci_upper"].to_numpy()
    np.testing.assert_allclose(sorted((s[0][0], s[1][0]) for s in segs), sorted(zip(lo, hi)), rtol=1e-12)
    assert (st["ci_lower"] < 0).sum() == 1  # Ciudad de México: cut at 0 ...
    marks = [l for l in ax.lines if l.get_marker() == "<"]
    assert len(marks) == 1 and marks[0].get_xdata()[0] == 0  # ... and marked
    # national: the dashed line at its estimate, the band over its CI
    nat = fr.iloc[0]
    assert any(np.allclose(l.get_xdata(), 100 * nat["coverage"]) for l in ax.lines if l.get_linestyle() == "--")
    band = [p for p in ax.patches if p not in bars][0]  # axvspan: a rectangle spanning the axes' height
    np.testing.assert_allclose([band.get_x(), band.get_x() + band.get_width()],
                               [100 * nat["ci_lower"], 100 * nat["ci_upper"]], rtol=1e-12)
    words = ("Cobertura", "cortado") if language == "es" else ("Coverage", "cut at 0")
    legend = [t.get_text() for lg in drawn[0].legends for t in lg.get_texts()]  # the legend below the panel
    assert words[0] in ax.get_xlabel() and any(words[1] in t for t in [*(t.get_text() for t in ax.texts), *legend])


def test_tidy_rows_carry_the_ratio_and_its_se():
    from remitpov.coverage import Coverage

    t = _extra().drop(columns=["year", "ci_level", "country"])
    cov = Coverage(t, 2022, 20.0, 4.0, 0.95, (), "MEX")
    rows = block.coverage_rows("2022", cov).query("indicator == 'coverage'")
    np.testing.assert_allclose(rows["estimate"], 100 * t["coverage"], rtol=1e-15)
    np.testing.assert_allclose(rows["se"], 100 * t["coverage_se"], rtol=1e-15)  # the fraction's SE, in percent
    np.testing.assert_allclose(rows["ci_lower"], 100 * t["ci_lower"], rtol=1e-15)
    assert set(rows["unit"]) == {"percent"}
