"""`remitpov migration SPEC --out DIR`: the migration context in English and Spanish."""
from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pandas as pd
import pytest
from PIL import Image

from remitpov.cli import main

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def runs(shared, tmp_path_factory):
    shared("data", "migration", "un_migrant_stock_origin_destination_2019.csv.gz")
    out = {}
    for lang, spec in (("en", "migration_lac.toml"), ("es", "migration_lac_es.toml")):
        d = tmp_path_factory.mktemp(lang) / "out"
        assert main(["migration", str(ROOT / "examples" / spec), "--out", str(d)]) == 0
        out[lang] = d
    return out


def test_outputs_and_manifest(runs):
    d = runs["en"]
    m = json.loads((d / "manifest.json").read_text())
    assert set(m["outputs"]) >= {f"tables/{k}.csv" for k in ("emigrants", "change", "destinations", "blocks", "women")}
    for rel, digest in m["outputs"].items():
        assert hashlib.sha256((d / rel).read_bytes()).hexdigest() == digest
    for png in (d / "figures").glob("*.png"):
        with Image.open(png) as im:
            assert im.size[0] > 1000 and im.getextrema() != ((255, 255), (255, 255), (255, 255), (255, 255))
    em = pd.read_csv(d / "tables" / "emigrants.csv")
    assert em["origin"].iloc[0] == "MEX" and len(em) == 33  # ECLAC's 33 members, largest first
    shares = pd.read_csv(d / "tables" / "destinations.csv")
    pd.testing.assert_series_equal(shares.filter(like="_pct").sum(axis=1), pd.Series(100.0, index=shares.index),
                                   check_names=False, rtol=1e-12)


def test_spanish_names(runs):
    es = pd.read_csv(runs["es"] / "tables" / "emigrants.csv")
    assert "México" in set(es["country"]) and "Mexico" not in set(es["country"])
    assert "Perú" in set(es["country"])


def test_rerun_is_byte_identical_and_replaces_stale_files(runs, tmp_path):
    d = tmp_path / "again"
    shutil.copytree(runs["en"], d)
    (d / "tables" / "stale.csv").write_text("old")
    assert main(["migration", str(ROOT / "examples" / "migration_lac.toml"), "--out", str(d)]) == 0
    assert not (d / "tables" / "stale.csv").exists()
    for f in (runs["en"]).rglob("*"):
        if f.is_file() and f.suffix in (".csv", ".png", ".pdf", ".json"):
            assert f.read_bytes() == (d / f.relative_to(runs["en"])).read_bytes(), f.name


@pytest.mark.parametrize("body, words", [
    ("[migration]\nstock='x.csv'\n", ["x.csv", "not found"]),
    ("[migration]\nstock='data/migration/un_migrant_stock_origin_destination_2019.csv.gz'\nlanguage='fr'\n",
     ["language must be one of", "'fr'"]),
    ("[migration]\nstok='x'\n", ["unknown key", "stok"]),
    ("[other]\n", ["no [migration] section"]),
    ("[migration]\nstock='data/migration/un_migrant_stock_origin_destination_2019.csv.gz'\nyear='x'\n",
     ["year must be a whole year"]),
])
def test_bad_specs_exit_2_with_one_line(shared, tmp_path, capsys, body, words):
    spec = tmp_path / "s.toml"
    spec.write_text(body)
    assert main(["migration", str(spec), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1
    for w in words:
        assert w in err
    assert not (tmp_path / "o").exists()


def test_foreign_folder_refused(shared, tmp_path, capsys):
    d = tmp_path / "mine"
    d.mkdir()
    (d / "thesis.tex").write_text("precious")
    assert main(["migration", str(ROOT / "examples" / "migration_lac.toml"), "--out", str(d)]) == 2
    assert "not a remitpov chapter output" in capsys.readouterr().err
    assert (d / "thesis.tex").read_text() == "precious"
