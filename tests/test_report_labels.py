"""The spec's ``[labels]`` section: every text the chapter writes can be replaced (#11)."""
from __future__ import annotations

import pytest

from remitpov.exceptions import SpecError
from remitpov.report.chapter import run_chapter
from remitpov.report.i18n import label_overrides, text
from remitpov.report.labels import parse_labels
from remitpov.report.spec import parse_spec

LABELS = {"title": {"poverty_layout": "Poverty with and without private transfers"},
          "header": {"with": "With private transfers"},
          "figure": {"paired_title": "{indicator} with and without private transfers"},
          "pub": {"title_poverty": "Poverty, private transfers"}}


def _spec(labels=None):
    spec = {"chapter": {"measures": ["poverty"], "tables": ["md", "csv"], "figures": ["svg"]},
            "survey": [{"id": "A", "format": "synthetic", "options": {"country": "A", "n_households": 400,
                                                                     "n_regions": 2},
                        "lines": {"poverty": "poverty_line", "indigence": "indigence_line"}}]}
    if labels is not None:
        spec["labels"] = labels
    return spec


def test_labels_replace_titles_headers_figures_and_publication(tmp_path):
    run_chapter(_spec(LABELS), tmp_path / "a", progress=False)
    run_chapter(_spec(), tmp_path / "b", progress=False)
    md = (tmp_path / "a" / "tables" / "poverty_layout.md").read_text(encoding="utf-8")
    assert "Poverty with and without private transfers" in md and "With private transfers" in md
    assert "With remittances" not in md
    svg = (tmp_path / "a" / "figures" / "paired_bars_poverty.svg").read_text(encoding="utf-8")
    assert "private transfers" in svg  # matplotlib writes text as glyph ids; the title is in the svg's metadata
    pub = "".join(p.read_text(encoding="utf-8") for p in (tmp_path / "a" / "publication").glob("*.md"))
    assert "Poverty, private transfers" in pub
    # the default run says remittances; the tidy CSV (codes, machine schema) is the same in both
    assert "With remittances" in (tmp_path / "b" / "tables" / "poverty_layout.md").read_text(encoding="utf-8")
    for name in ("poverty.csv", "poverty_layout.csv"):
        assert (tmp_path / "a" / "tables" / name).read_bytes() == (tmp_path / "b" / "tables" / name).read_bytes()
    # nothing leaks out of the run
    assert text("header", "with") == "With remittances"


def test_overrides_are_scoped():
    with label_overrides({"title": {"gini": "G"}}):
        assert text("title", "gini", "es") == "G"
    assert text("title", "gini") == "Gini coefficient with and without remittances"


@pytest.mark.parametrize("bad, match", [
    ({"figur": {}}, r"labels\.figur: unknown section.*did you mean 'figure'"),
    ({"figure": {"wiht": "x"}}, r"labels\.figure\.wiht: unknown key.*'with'"),
    ({"figure": {"paired_title": "{country} rates"}}, r"unknown placeholder\(s\) \['country'\].*\['indicator'\]"),
    ({"figure": {"with": 3}}, r"labels\.figure\.with: expected a string"),
    ({"figure": {"with": "a {"}}, r"labels\.figure\.with: .*braces"),
    ("x", r"labels: must be a table"),
])
def test_bad_labels_are_refused_before_any_estimate(bad, match):
    with pytest.raises(SpecError, match=match):
        parse_labels(bad)
    with pytest.raises(SpecError, match=match):
        parse_spec(_spec(bad))


def test_per_survey_figure_captions_name_their_survey():
    """Three coverage-by-state figures (one per survey year) had the same caption in report.html."""
    from remitpov.report.html import figure_caption

    labels = {"mex2018": "Mexico 2018", "mex2020": "Mexico 2020"}
    caps = {figure_caption(f"coverage_by_state_{s}", "en", labels) for s in labels}
    assert caps == {"Coverage of remittances in the survey by state (percent of the balance of payments): "
                    f"Mexico {y}" for y in (2018, 2020)}
    assert figure_caption("paired_bars_poverty", "es", labels) == "Pobreza con y sin remesas"
    assert figure_caption("no_such_figure", "en", labels) == "no such figure"
