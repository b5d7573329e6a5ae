"""The ``[migration]`` inputs of a chapter in ``manifest.json`` and in ``remitpov verify`` (issue #13).

A chapter with migration blocks records every migration input -- the UN DESA tables, a
groupings file, a census file (or the synthetic census's options) -- with its sha256, size,
loader and the loader's report, and ``remitpov verify`` / ``verify_manifest`` re-hash those
files like the surveys'. Hashes are checked against :mod:`hashlib` on the raw bytes; the UN
loader's report against a count of the missing-value tokens in the raw CSV made here with pandas.
"""
from __future__ import annotations

import hashlib

import pandas as pd
import pytest

from remitpov.report.chapter import run_chapter
from remitpov.report.manifest import input_files, read_manifest, verify_manifest
from remitpov.report.verify import verify

SURVEY = {"id": "A", "format": "synthetic", "options": {"country": "A", "n_households": 120, "n_regions": 2},
          "lines": {"poverty": "poverty_line"}}
ROLES = {"birth_country": "bpl", "census_country": "country", "weight": "w", "sex": "sex", "age": "age",
         "education": "edu"}


def _sha(path) -> str:
    return hashlib.sha256(open(path, "rb").read()).hexdigest()


def _census_csv(path):
    """Twelve persons in two censuses (Argentina, Chile), a few born abroad."""
    pd.DataFrame({
        "country": ["ARG"] * 6 + ["CHL"] * 6,
        "bpl": ["ARG", "ARG", "ARG", "CHL", "PRY", "PRY", "CHL", "CHL", "ARG", "ARG", "PER", "CHL"],
        "sex": ["male", "female"] * 6,
        "age": [30, 41, 26, 55, 33, 28, 40, 37, 29, 61, 35, 26],
        "edu": ["tertiary", "primary", "secondary", "tertiary", "primary", "none",
                "secondary", "tertiary", "tertiary", "primary", "secondary", "secondary"],
        "w": [10.0, 12, 8, 9, 11, 10, 20, 18, 22, 19, 21, 20],
    }).to_csv(path, index=False)
    return path


def _spec(tmp_path, measures=("migration_skilled",), **extra):
    census = {"path": str(_census_csv(tmp_path / "census.csv")), "roles": ROLES}
    return {"chapter": {"measures": list(measures), "tables": ["csv"], "figures": ["png"], "report": "none"},
            "survey": [SURVEY], "migration": {"census": census, **extra}}


@pytest.fixture()
def census_run(tmp_path):
    return run_chapter(_spec(tmp_path), tmp_path / "out", progress=False), tmp_path / "census.csv"


def test_census_file_is_hashed_with_its_loader_and_report(census_run):
    res, csv = census_run
    m = read_manifest(res.out_dir / "manifest.json")
    c = m["migration_inputs"]["census"]
    assert c["files"] == [{"path": str(csv), "sha256": _sha(csv), "bytes": csv.stat().st_size}]
    assert c["loader"] == "remitpov.migration.census.read_census" and c["used_by"] == ["migration_skilled"]
    assert c["rows"] == 12 and c["roles"] == ROLES and c["min_age"] == 25
    # the generic reader's entry (rows, columns, the file's own sha256); nothing mapped (ISO-3 codes, a weight)
    assert len(c["load_report"]) == 1 and "read 12 rows x 6 columns from census.csv" in c["load_report"][0]
    assert _sha(csv)[:12] in c["load_report"][0]
    assert ("[migration] census", c["files"][0]) in list(input_files(m))
    assert verify_manifest(res.out_dir / "manifest.json") == []
    r = verify(res.out_dir, inputs_only=True)
    assert r.ok and r.inputs == 1


def test_verify_names_a_changed_or_missing_census(census_run):
    res, csv = census_run
    csv.write_text(csv.read_text().replace("tertiary", "primary", 1))
    r = verify(res.out_dir)
    assert not r.recomputed and list(r.differences["problem"]) == ["input changed"]
    assert r.differences["file"].iloc[0] == str(csv) and "[migration] census" in r.differences["detail"].iloc[0]
    assert any("[migration] census" in p and "sha256 differs" in p for p in verify_manifest(res.out_dir / "manifest.json"))
    csv.unlink()
    r = verify(res.out_dir)
    assert list(r.differences["problem"]) == ["input missing"] and "[migration] census" in r.differences["detail"].iloc[0]


def test_synthetic_census_records_its_options_and_unused_inputs_are_hashed_not_read(tmp_path):
    groupings = tmp_path / "blocks.toml"
    groupings.write_text('[MINE]\nlabel = "Mine"\nmembers = ["ARG", "CHL"]\n')
    spec = {"chapter": {"measures": ["migration_skilled"], "tables": ["csv"], "figures": ["png"], "report": "none"},
            "survey": [SURVEY], "migration": {"groupings": str(groupings), "census": {
                "synthetic": {"countries": ["ARG", "CRI"], "persons_per_country": 2000, "seed": 4}}}}
    m = run_chapter(spec, tmp_path / "out", progress=False).manifest["migration_inputs"]
    c = m["census"]
    assert c["files"] == [] and c["loader"] == "remitpov.migration.census.synthetic_census"
    assert c["options"] == {"countries": ["ARG", "CRI"], "persons_per_country": 2000, "seed": 4}
    assert c["rows"] == 4000 and c["design"] == {"strata": "stratum", "psu": "psu", "fpc": "fpc"}
    g = m["groupings"]  # given, read by no measure asked for: hashed (verify checks it), not loaded
    assert g["used_by"] == [] and "load_report" not in g
    assert g["files"] == [{"path": str(groupings), "sha256": _sha(groupings), "bytes": groupings.stat().st_size}]


def test_no_migration_section_no_migration_inputs(tmp_path):
    spec = {"chapter": {"measures": ["poverty"], "tables": ["csv"], "figures": [], "report": "none"},
            "survey": [SURVEY]}
    assert "migration_inputs" not in run_chapter(spec, tmp_path / "o", progress=False).manifest


@pytest.mark.shared
def test_un_tables_hashed_with_the_loaders_report(tmp_path, shared):
    stock = shared("data", "migration", "un_migrant_stock_origin_destination_2019.csv.gz")
    spec = {"chapter": {"measures": ["migration_stocks"], "tables": ["csv"], "figures": [], "report": "none"},
            "survey": [SURVEY], "migration": {"stock": str(stock)}}
    res = run_chapter(spec, tmp_path / "o", progress=False)
    s = res.manifest["migration_inputs"]["stock"]
    assert s["files"] == [{"path": str(stock), "sha256": _sha(stock), "bytes": stock.stat().st_size}]
    assert s["layout"] == "origin_destination" and s["years"] == [1990, 1995, 2000, 2005, 2010, 2015, 2019]
    raw = pd.read_csv(stock, dtype=str, keep_default_na=False)
    cells = raw.drop(columns=["Year", "Dest"]).to_numpy()
    for token in ("..", "-"):  # every missing token counted in the report, as in the raw file
        n = int((cells == token).sum())
        assert any(f"{n} stocks cells written '{token}'" in line for line in s["load_report"]), (token, n)
    assert verify(res.out_dir, inputs_only=True).ok
