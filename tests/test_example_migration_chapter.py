"""``examples/migration_chapter.toml`` (and its Spanish twin): the chapter opening with the
migration context from a ``[migration]`` section, on the shared data (issue #13).

The run is checked against the raw UN file (Mexico's emigrants summed here with pandas), its
manifest against :mod:`hashlib` on the input files, and ``remitpov verify --inputs-only``.
"""
from __future__ import annotations

import hashlib
import tomllib
from pathlib import Path

import pandas as pd
import pytest

from remitpov.report.chapter import run_chapter
from remitpov.report.spec import load_spec
from remitpov.report.verify import verify

EX = Path(__file__).resolve().parents[1] / "examples"
MIGRATION = ["migration_stocks", "migration_destinations", "migration_blocks", "migration_women", "migration_skilled",
             "migration_census_stocks", "migration_sex_ratio", "migration_emigration"]


def test_spanish_twin_differs_in_language_and_labels_only():
    en, es = (tomllib.loads((EX / f).read_text(encoding="utf-8")) for f in ("migration_chapter.toml",
                                                                            "migration_chapter_es.toml"))
    assert es["chapter"].pop("language") == "es" and en["chapter"].pop("language") == "en"
    assert es["chapter"].pop("title") != en["chapter"].pop("title")
    assert es["survey"][0].pop("label") == "México 2018 (Aguascalientes)" and en["survey"][0].pop("label")
    assert en == es
    assert set(MIGRATION) - {"migration_destinations"} <= set(load_spec(EX / "migration_chapter.toml").measures)


@pytest.mark.slow
@pytest.mark.shared
def test_migration_chapter_example(tmp_path, shared):
    shared("data", "migration")
    res = run_chapter(EX / "migration_chapter.toml", tmp_path / "o", progress=False)
    assert list(res.tables)[:len(MIGRATION)] == MIGRATION  # the chapter opens with the migration context
    assert {"incidence", "poverty", "gini"} <= set(res.tables)
    raw = pd.read_csv(shared("data", "migration", "un_migrant_stock_origin_destination_2019.csv.gz"),
                      na_values=["..", "-"])
    raw = raw[~raw["Dest"].isin(["Caribbean", "Melanesia", "Polynesia", "South America"])]  # regional rows
    s = res.tables["migration_stocks"].set_index(["group", "indicator"])["estimate"]
    assert s[("Mexico", "emigrants_2019")] == raw.loc[(raw["Year"] == 2019) & (raw["Dest"] != "Mexico"), "Mexico"].sum()
    m = res.manifest["migration_inputs"]
    for key in ("stock", "stock_by_sex"):
        (f,) = m[key]["files"]
        assert f["sha256"] == hashlib.sha256(Path(f["path"]).read_bytes()).hexdigest()
    assert m["census"]["options"]["countries"] == ["ARG", "CHL", "ESP", "MEX", "USA"]
    e = res.tables["migration_emigration"]
    assert set(e["group"]) == {"Argentina", "Chile", "Spain", "Mexico", "United States"}
    assert (e["estimate"] > 0).all()  # each origin has emigrants in another census of the example
    assert verify(res.out_dir, inputs_only=True).ok
    for stem in ("emigrants", "change", "destinations", "blocks", "women", "skilled", "census_stocks", "sex_ratio",
                 "emigration"):
        assert (res.out_dir / "figures" / f"migration_{stem}.png").is_file(), stem
