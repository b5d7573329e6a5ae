"""Chapter blocks (issue 15): one registry read by the spec and the chapter, one tidy schema,
titles in one translation table; adding a table is one block + its title."""
from __future__ import annotations

import dataclasses
import time

import pandas as pd
import pytest

from remitpov.report import blocks, spec as spec_mod
from remitpov.report.blocks import BLOCKS, Block, BlockOutput, check_tidy, table_order
from remitpov.report.blocks._common import tidy
from remitpov.report.chapter import run_chapter
from remitpov.report.i18n import TEXT, text
from remitpov.report.tables import to_xlsx

SMALL = {"country": "A", "n_households": 300, "n_regions": 2}


def test_registry_is_the_one_list():
    assert spec_mod.MEASURES == blocks.measures() == (
        "incidence", "poverty", "fgt", "gini", "decomposition", "curves", "counterfactual", "coverage", "impact_range",
        "migration_stocks", "migration_blocks", "migration_women", "migration_skilled", "migration_census_stocks",
        "migration_sex_ratio", "migration_emigration")
    assert blocks.default_measures() == spec_mod.MEASURES[:6]
    assert set(blocks.remittance_measures()) == {"incidence", "decomposition", "counterfactual", "coverage",
                                                 "impact_range"}
    assert set(blocks.line_measures()) == {"poverty", "fgt", "curves", "counterfactual", "impact_range"}
    # the chapter's table order before the registry (the outputs' order in tables.md / tables.xlsx)
    # (the migration context, issue #13, opens the chapter)
    assert table_order() == ["migration_stocks", "migration_destinations", "migration_blocks", "migration_women",
                             "migration_skilled", "migration_census_stocks", "migration_sex_ratio",
                             "migration_emigration", "incidence", "poverty_layout", "poverty", "identity", "fgt", "gini",
                             "decomposition", "counterfactual", "incidence_curves", "coverage", "impact_range"]


def test_every_table_has_a_title_in_every_language():
    for lang in TEXT:
        for name in table_order():
            assert name in TEXT[lang]["title"], (lang, name)
        assert set(TEXT[lang]["header"]) == set(TEXT["en"]["header"])
        assert set(TEXT[lang]["figure"]) == set(TEXT["en"]["figure"])
    assert text("title", "gini", "es") == "Coeficiente de Gini con y sin remesas"
    assert text("title", "no_such_table", "es") == "no_such_table"


def test_tidy_schema():
    fr = pd.DataFrame({"estimate": [0.25, 0.5], "se": [0.01, 0.02], "ci_lower": [0.2, 0.4], "ci_upper": [0.3, 0.6]})
    out = tidy({"survey": "A", "domain": "total", "group": ["1", "2"]}, fr, "percent")
    assert list(out.columns) == ["survey", "domain", "group", "estimate", "se", "ci_lower", "ci_upper", "unit"]
    assert out["estimate"].tolist() == [25.0, 50.0] and out["se"].tolist() == [1.0, 2.0]  # x 100 exactly
    assert check_tidy("t", out) is out
    with pytest.raises(ValueError, match="subsequence"):
        tidy({"group": ["1", "2"], "survey": "A"}, fr, "percent")
    with pytest.raises(ValueError, match="tidy schema"):
        check_tidy("t", out[["group", "survey", "estimate", "unit"]])
    with pytest.raises(ValueError, match="last column"):
        check_tidy("t", out.drop(columns="unit"))


def test_demo_tables_follow_the_schema(tmp_path):
    res = run_chapter({"chapter": {"measures": list(blocks.default_measures()), "tables": ["csv"], "figures": ["png"]},
                       "survey": [{"id": "A", "format": "synthetic", "options": dict(SMALL),
                                   "lines": {"poverty": "poverty_line", "indigence": "indigence_line"}}]},
                      tmp_path / "o", progress=False)
    assert list(res.tables) == [t for t in table_order() if t in res.tables]
    for b in BLOCKS.values():
        for name in b.tidy:
            if name in res.tables:
                check_tidy(name, res.tables[name])


def test_a_new_block_is_one_registration(tmp_path, monkeypatch):
    """A table added by registering a block (and its titles) reaches the spec, the tables, the
    manifest and the progress count -- no other edit."""
    def run(spec, p, ctx):
        fr = pd.DataFrame({"estimate": [0.5]})
        return BlockOutput({"toy": tidy({"survey": p.spec.label, "measure": ["half"]}, fr, "percent",
                                        values=("estimate",))})

    monkeypatch.setitem(BLOCKS, "toy", Block("toy", run, ("toy",), rank=35, step="{sid}: toy", default=False,
                                             tidy=("toy",)))
    for lang in TEXT:
        monkeypatch.setitem(TEXT[lang]["title"], "toy", f"Toy table ({lang})")
    res = run_chapter({"chapter": {"measures": ["poverty", "toy"], "tables": ["csv", "md"], "figures": ["png"],
                                   "language": "es"},
                       "survey": [{"id": "A", "format": "synthetic", "options": dict(SMALL),
                                   "lines": {"poverty": "poverty_line"}}]}, tmp_path / "o", progress=False)
    assert list(res.tables) == ["poverty_layout", "poverty", "identity", "toy"]
    assert (res.out_dir / "tables" / "toy.csv").read_text() == "survey,measure,estimate,unit\nA,half,50.0,percent\n"
    assert "### Toy table (es)" in (res.out_dir / "tables" / "toy.md").read_text(encoding="utf-8")
    assert "tables/toy.csv" in res.manifest["outputs"]
    with pytest.raises(ValueError, match="already registered"):
        blocks.register(dataclasses.replace(BLOCKS["toy"]))


def test_xlsx_bytes_do_not_depend_on_the_clock(tmp_path):
    """openpyxl stamps zip entries and dcterms:modified with the current time; the workbook is
    rewritten with fixed dates so reruns give the same bytes."""
    frame = pd.DataFrame({"x": [1.5, 2.0], "g": ["a", "b"]})
    to_xlsx({"t": frame}, tmp_path / "a.xlsx", titles={"t": "T"})
    time.sleep(2.1)  # zip timestamps have a 2-second resolution
    to_xlsx({"t": frame}, tmp_path / "b.xlsx", titles={"t": "T"})
    assert (tmp_path / "a.xlsx").read_bytes() == (tmp_path / "b.xlsx").read_bytes()
    import openpyxl

    ws = openpyxl.load_workbook(tmp_path / "a.xlsx")["t"]
    assert ws["A1"].value == "T" and ws["A4"].value == 1.5 and ws["B5"].value == "b"
