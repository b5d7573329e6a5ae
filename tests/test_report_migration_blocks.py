"""The migration context as chapter blocks (issue #13): ``migration_stocks``, ``migration_blocks``,
``migration_women``, ``migration_skilled`` in a chapter spec with a ``[migration]`` section.

Numbers by two routes: the UN DESA rows against sums of the raw CSV computed here with pandas
(and against ``remitpov migration``'s tables, the same numbers); the census rows against
:func:`remitpov.migration.census.tertiary_share` and a direct weighted share. Spec problems are
refused before anything is loaded.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from remitpov.exceptions import SpecError
from remitpov.migration import census as mc
from remitpov.report import blocks
from remitpov.report.blocks._common import check_tidy
from remitpov.report.chapter import run_chapter
from remitpov.report.spec import parse_spec

STOCK = "data/migration/un_migrant_stock_origin_destination_2019.csv.gz"
BY_SEX = "data/migration/undesa_pd_2020_ims_stock_by_sex_and_destination.xlsx"
CENSUS = {"synthetic": {"countries": ["ARG", "CRI"], "persons_per_country": 3000, "seed": 3}}
SURVEY = {"format": "synthetic", "options": {"country": "A", "n_households": 200, "n_regions": 2},
          "lines": {"poverty": "poverty_line"}}
MEASURES = ["migration_stocks", "migration_blocks", "migration_women", "migration_skilled"]


def _spec(measures=("migration_skilled",), migration=None, language="en", surveys=("A",)):
    mig = {"census": CENSUS} if migration is None else migration
    d = {"chapter": {"measures": list(measures), "tables": ["csv", "md"], "figures": ["png"], "language": language},
         "survey": [dict(SURVEY, id=s) for s in surveys]}
    if mig:
        d["migration"] = mig
    return d


def test_registered_first_in_the_chapter_and_off_by_default():
    assert set(MEASURES) <= set(blocks.measures()) and not set(MEASURES) & set(blocks.default_measures())
    assert blocks.table_order()[:5] == ["migration_stocks", "migration_destinations", "migration_blocks",
                                        "migration_women", "migration_skilled"]


@pytest.mark.parametrize("data, needles", [
    (_spec(migration={}), ["migration", "missing", "migration_skilled"]),
    (_spec(measures=("poverty",)), ["migration", "no migration measure", "remitpov migration"]),
    (_spec(migration={"census": CENSUS, "stok": "x.csv"}), ["unknown key", "stok"]),
    (_spec(measures=("migration_women",), migration={"stock": STOCK}), ["migration.stock_by_sex", "migration_women"]),
    (_spec(measures=("migration_women",), migration={"stock_by_sex": BY_SEX}), ["migration.stock", "migration_women"]),
    (_spec(migration={"census": {"min_age": 25}}), ["migration.census", "exactly one of"]),
    (_spec(migration={"census": {"synthetic": {"nations": ["ARG"]}}}), ["migration.census.synthetic", "nations"]),
    (_spec(migration={"census": dict(CENSUS, min_age="25")}), ["migration.census.min_age"]),
    (_spec(migration={"census": {"path": "nowhere/census.parquet"}}), ["migration.census.path", "not found"]),
    (_spec(migration={"census": CENSUS, "year": "2019"}), ["migration.year"]),
    ({"migration": {"stock": STOCK}}, ["[migration] section without [[survey]]", "remitpov migration"]),
])
def test_bad_migration_sections_are_refused_when_the_spec_is_read(data, needles):
    with pytest.raises(SpecError) as e:
        parse_spec(data)
    for n in needles:
        assert n in str(e.value), str(e.value)
    assert "Fix:" in str(e.value)


def test_skilled_block_rows_are_the_census_estimates(tmp_path):
    res = run_chapter(_spec(surveys=("A", "B")), tmp_path / "o", progress=False)
    t = res.tables["migration_skilled"]
    check_tidy("migration_skilled", t)
    assert "survey" not in t.columns  # regional: once, not per survey
    cen = mc.synthetic_census(**CENSUS["synthetic"])
    ref = mc.tertiary_share(cen, by=("census_country", "birth_country")).to_frame()
    assert len(t) == len(ref)  # the rows of the first survey only (two surveys ask for the block)
    for c in ("estimate", "se", "ci_lower", "ci_upper"):
        np.testing.assert_array_equal(t[c].to_numpy(), ref[c].to_numpy())  # percent already: not scaled again
    # a direct weighted share: native-born Argentinians aged 25+
    d = cen.data
    a = d[(d["census_country"] == "ARG") & (d["birth_country"].astype(str) == "ARG") & (d["age"] >= 25)]
    direct = 100 * a.loc[a["education"] == "tertiary", "weight"].sum() / a["weight"].sum()
    row = t[(t["population"] == "Argentina") & (t["group"] == "Native-born")]
    assert row["estimate"].iloc[0] == pytest.approx(direct, rel=1e-12)  # same sum, another order
    assert (t["indicator"] == "tertiary_25plus").all() and (t["unit"] == "percent").all()
    assert (res.out_dir / "figures" / "migration_skilled.png").is_file()


def test_skilled_block_in_spanish(tmp_path):
    res = run_chapter(_spec(language="es"), tmp_path / "o", progress=False)
    t = res.tables["migration_skilled"]
    assert "Nativos" in set(t["group"]) and "Costa Rica" in set(t["population"])
    md = (res.out_dir / "tables" / "migration_skilled.md").read_text(encoding="utf-8")
    assert "educación terciaria" in md and "| Población |" in md


@pytest.fixture(scope="module")
def un_chapter(tmp_path_factory, shared):
    shared("data", "migration", "un_migrant_stock_origin_destination_2019.csv.gz")
    out = tmp_path_factory.mktemp("mig") / "o"
    spec = _spec(measures=MEASURES, migration={"stock": STOCK, "stock_by_sex": BY_SEX, "year": 2019,
                                               "base_year": 1990, "census": CENSUS})
    return run_chapter(spec, out, progress=False)


@pytest.mark.shared
def test_un_blocks_against_the_raw_file(un_chapter, shared):
    res = un_chapter
    for name in ("migration_stocks", "migration_destinations", "migration_blocks", "migration_women"):
        check_tidy(name, res.tables[name])
    raw = pd.read_csv(shared("data", "migration", "un_migrant_stock_origin_destination_2019.csv.gz"),
                      na_values=["..", "-"])
    # the file's destination rows include four regional aggregates (residual cells): not countries
    raw = raw[~raw["Dest"].isin(["Caribbean", "Melanesia", "Polynesia", "South America"])]
    s = res.tables["migration_stocks"].set_index(["group", "indicator"])["estimate"]
    for year in (1990, 2019):  # persons born in Mexico living in any other country
        want = raw.loc[(raw["Year"] == year) & (raw["Dest"] != "Mexico"), "Mexico"].sum()
        assert s[("Mexico", f"emigrants_{year}")] == want
    d = res.tables["migration_destinations"].set_index(["group", "indicator"])["estimate"]
    r = raw[raw["Year"] == 2019]
    want = 100 * r.loc[r["Dest"] == "United States of America", "Mexico"].sum() / r.loc[r["Dest"] != "Mexico",
                                                                                         "Mexico"].sum()
    assert d[("Mexico", "united_states")] == pytest.approx(want, rel=1e-12)  # a ratio of the same sums
    shares = res.tables["migration_destinations"].groupby("group")["estimate"].sum()
    np.testing.assert_allclose(shares.to_numpy(), 100.0, rtol=1e-12)  # the four destinations add to 100
    b = res.tables["migration_blocks"].set_index(["group", "indicator"])["estimate"]
    assert b[("SICA", "intra_share_2019")] == pytest.approx(
        100 * b[("SICA", "intra_2019")] / (b[("SICA", "intra_2019")] + b[("SICA", "extra_2019")]), rel=1e-12)
    w = res.tables["migration_women"].set_index(["group", "indicator"])["estimate"]
    assert w[("Mexico", "women_share_2020")] == pytest.approx(
        100 * w[("Mexico", "women_2020")] / w[("Mexico", "immigrants_2020")], rel=1e-12)


@pytest.mark.shared
def test_un_blocks_equal_the_migration_command(un_chapter, tmp_path):
    """The chapter's rows are `remitpov migration`'s tables, reshaped; figures are drawn."""
    from remitpov.migration.report import migration_context
    from remitpov.migration.un import read_un_migrant_stock
    from remitpov.config import shared_dir

    ctx = migration_context(read_un_migrant_stock(shared_dir() / STOCK), year=2019, base_year=1990)
    em = ctx["emigrants"].table
    s = un_chapter.tables["migration_stocks"]
    got = s[s["indicator"] == "emigrants_2019"]
    assert got["group"].tolist() == em["country"].tolist()
    np.testing.assert_array_equal(got["estimate"].to_numpy(), em["stock"].to_numpy())
    for stem in ("emigrants", "change", "destinations", "blocks", "women", "skilled"):
        assert (un_chapter.out_dir / "figures" / f"migration_{stem}.png").is_file(), stem
