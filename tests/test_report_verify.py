"""Issue 11 "Verification": ``remitpov verify OUT_DIR`` recomputes a chapter from its manifest
and compares every output; it passes on a fresh output and fails, naming the file, after a
CSV, a PNG or the XLSX is altered, an output is deleted or added, or an input changes."""
from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from remitpov.cli import main
from remitpov.exceptions import SpecError
from remitpov.report.chapter import run_chapter
from remitpov.report.manifest import file_sha256, read_manifest
from remitpov.report.verify import verify, xlsx_difference
from remitpov.synthetic import synthetic_survey

# one small synthetic survey: every kind of output (CSV, Markdown, XLSX, PNG) in ~1 s
SPEC = {"chapter": {"measures": ["poverty", "gini"], "tables": ["csv", "xlsx", "md"], "figures": ["png"], "seed": 7},
        "lines": {"poverty": "poverty_line", "indigence": "indigence_line"},
        "survey": [{"id": "A", "format": "synthetic",
                    "options": {"country": "A", "n_households": 400, "n_regions": 2}}]}
SPEC_TOML = """[chapter]
measures = ["poverty", "gini"]
tables = ["csv", "xlsx", "md"]
figures = ["png"]
seed = 7
[lines]
poverty = "poverty_line"
indigence = "indigence_line"
[[survey]]
id = "A"
format = "synthetic"
[survey.options]
country = "A"
n_households = 400
n_regions = 2
"""


@pytest.fixture(scope="module")
def fresh(tmp_path_factory):
    return run_chapter(SPEC, tmp_path_factory.mktemp("verify") / "out", progress=False).out_dir


@pytest.fixture
def out(fresh, tmp_path):
    """A private copy of the fresh output (each test alters its own)."""
    return shutil.copytree(fresh, tmp_path / "out")


def _cli(capsys, *argv):
    code = main(["verify", *map(str, argv)])
    o = capsys.readouterr()
    return code, o.out, o.err


def _rows(res):
    return {(r.file, r.problem) for r in res.differences.itertuples()}


def test_manifest_hashes_every_output_file(fresh):
    m = read_manifest(fresh / "manifest.json")
    files = sorted(str(p.relative_to(fresh)) for p in fresh.rglob("*") if p.is_file() and p.name != "manifest.json")
    assert sorted(m["outputs"]) == files
    assert {"tables/tables.xlsx", "figures/paired_bars_poverty.png", "tables/poverty.csv"} <= set(files)
    assert all(m["outputs"][f] == file_sha256(fresh / f) for f in files)
    assert m["spec"]["data"]["survey"][0]["options"]["n_households"] == 400  # a dict spec can be rerun


def test_fresh_output_verifies(out, capsys):
    code, text, err = _cli(capsys, out)
    assert code == 0, text + err
    assert "verified: every output is identical" in text and "recomputed" in text


def test_altered_csv_is_named(out, capsys):
    p = out / "tables" / "poverty.csv"
    lines = p.read_text(encoding="utf-8").splitlines()
    lines[1] = lines[1].replace(",", ";", 1)
    p.write_text("\n".join(lines) + "\n", encoding="utf-8")
    code, text, _ = _cli(capsys, out)
    assert code == 1 and "verification failed" in text
    res = verify(out)
    assert _rows(res) == {("tables/poverty.csv", "altered"), ("tables/poverty.csv", "differs")}
    detail = res.differences.loc[res.differences["problem"] == "differs", "detail"].iloc[0]
    assert detail.startswith("line 2:")


def test_altered_png_is_named(out, capsys):
    from matplotlib.image import imread, imsave

    p = out / "figures" / "paired_bars_poverty.png"
    img = imread(p)
    img[:10, :10, :3] = 1.0 - img[:10, :10, :3]  # invert a 10x10 corner
    imsave(p, img)
    code, text, _ = _cli(capsys, out)
    assert code == 1 and "figures/paired_bars_poverty.png" in text
    res = verify(out)
    assert _rows(res) == {("figures/paired_bars_poverty.png", "altered"), ("figures/paired_bars_poverty.png", "differs")}
    detail = res.differences.loc[res.differences["problem"] == "differs", "detail"].iloc[0]
    assert detail.endswith("pixels differ") and not detail.startswith("0 of")


def test_altered_xlsx_is_named_with_the_cell(out, capsys):
    from openpyxl import load_workbook

    p = out / "tables" / "tables.xlsx"
    wb = load_workbook(p)
    ws = wb.worksheets[0]
    cell = next(c for row in ws.iter_rows() for c in row if isinstance(c.value, float))
    cell.value = cell.value + 1.0
    wb.save(p)
    code, text, _ = _cli(capsys, out)
    assert code == 1 and "tables/tables.xlsx" in text
    res = verify(out)
    assert _rows(res) == {("tables/tables.xlsx", "altered"), ("tables/tables.xlsx", "differs")}
    detail = res.differences.loc[res.differences["problem"] == "differs", "detail"].iloc[0]
    assert f"sheet {ws.title!r} cell {cell.coordinate}:" in detail


def test_resaved_xlsx_with_equal_cells_is_still_altered(out, fresh):
    """Re-saving changes the bytes (not the cells): the hash check still names the file."""
    from openpyxl import load_workbook

    p = out / "tables" / "tables.xlsx"
    load_workbook(p).save(p)
    assert p.read_bytes() != (fresh / "tables" / "tables.xlsx").read_bytes()
    assert xlsx_difference(p, fresh / "tables" / "tables.xlsx") is None
    res = verify(out)
    assert _rows(res) == {("tables/tables.xlsx", "altered"), ("tables/tables.xlsx", "bytes differ")}


def test_deleted_output_is_missing(out, capsys):
    (out / "tables" / "gini.md").unlink()
    code, text, _ = _cli(capsys, out)
    assert code == 1 and "tables/gini.md" in text and "missing" in text
    assert _rows(verify(out)) == {("tables/gini.md", "missing")}


def test_stray_file_is_extra(out, capsys):
    (out / "tables" / "old_counterfactual.csv").write_text("a\n1\n", encoding="utf-8")
    code, text, _ = _cli(capsys, out)
    assert code == 1 and "tables/old_counterfactual.csv" in text and "extra" in text
    assert _rows(verify(out)) == {("tables/old_counterfactual.csv", "extra")}


def test_inputs_only_checks_hashes_without_rerun(out, capsys):
    (out / "figures" / "lorenz_curves.png").unlink()
    code, text, _ = _cli(capsys, out, "--inputs-only")
    assert code == 1 and "figures/lorenz_curves.png" in text and "not recomputed" in text
    res = verify(out, inputs_only=True)
    assert not res.recomputed and _rows(res) == {("figures/lorenz_curves.png", "missing")}


def test_toml_chapter_with_input_file(tmp_path, capsys):
    """A spec file reading a CSV by a relative path: verify resolves it as the run did, from
    another working folder; a changed input is named and the chapter is not recomputed."""
    s = synthetic_survey(n_households=300, n_regions=2, seed=3)
    data = tmp_path / "spec" / "hh.csv"
    data.parent.mkdir()
    s.data.to_csv(data, index=False)
    spec = tmp_path / "spec" / "chapter.toml"
    spec.write_text('[chapter]\nmeasures = ["poverty"]\ntables = ["csv", "xlsx"]\nfigures = ["png"]\n'
                    '[[survey]]\nid = "T"\nformat = "table"\npath = "hh.csv"\n'
                    '[survey.options]\nweight = "factor"\nsize = "tot_integ"\nroles = {income = "ing_cor"}\n'
                    '[survey.lines]\npoverty = {fraction_of_median = 0.6}\n', encoding="utf-8")
    out = tmp_path / "out"
    assert main(["chapter", str(spec), "--out", str(out), "-q"]) == 0
    m = read_manifest(out / "manifest.json")
    assert m["inputs"]["T"]["files"][0]["path"] == str(data.resolve())
    code, text, _ = _cli(capsys, out)
    assert code == 0, text
    assert "1 input files checked" in text

    spec.write_text(spec.read_text(encoding="utf-8").replace("0.6", "0.5"), encoding="utf-8")
    res = verify(out)  # the manifest's copy of the spec is used; the edit is only a note
    assert res.ok and any("spec file" in n for n in res.notes)

    d = data.read_text(encoding="utf-8").splitlines()
    data.write_text("\n".join(d[:-1]) + "\n", encoding="utf-8")  # drop the last household
    code, text, _ = _cli(capsys, out)
    assert code == 1 and str(data.resolve()) in text and "input changed" in text
    res = verify(out)
    assert not res.recomputed and _rows(res) == {(str(data.resolve()), "input changed")}
    data.unlink()
    assert _rows(verify(out)) == {(str(data.resolve()), "input missing")}


@pytest.mark.parametrize("case", ["absent", "no_manifest", "foreign_manifest", "migration", "file"])
def test_bad_input_exits_2_with_one_line(tmp_path, capsys, case):
    d = tmp_path / "d"
    if case != "absent":
        d.mkdir()
    if case == "foreign_manifest":
        (d / "manifest.json").write_text(json.dumps({"tool": "other"}), encoding="utf-8")
    if case == "migration":
        (d / "manifest.json").write_text(json.dumps({"manifest_version": 1, "kind": "migration",
                                                     "package": {"name": "remitpov"}, "outputs": {}}),
                                         encoding="utf-8")
    if case == "file":
        d = tmp_path / "f.txt"
        d.write_text("x", encoding="utf-8")
    code, text, err = _cli(capsys, d)
    assert code == 2 and text == ""
    assert len(err.strip().splitlines()) == 1 and err.startswith("error: OUT_DIR:") and "Fix:" in err
    if case == "migration":
        assert "not a chapter output" in err


@pytest.mark.slow
def test_demo_output_verifies_and_names_an_altered_file(demo_chapter, tmp_path, capsys, monkeypatch):
    """The demo (every kind of output, PDFs too) verifies, and an altered PDF is named. One
    recomputation checks both (a demo run costs ~10 s): the files the rerun writes are recorded
    and must equal the manifest's sha256 one for one -- what a verify of the untouched copy
    checks -- while the copy's PDF, altered before the run, is the only difference named."""
    from remitpov.report import verify as verify_mod

    out = shutil.copytree(demo_chapter.out_dir, tmp_path / "demo")  # the session's demo run
    outputs = read_manifest(out / "manifest.json")["outputs"]
    assert "figures/recipients_by_decile.pdf" in outputs
    assert all(file_sha256(out / f) == h for f, h in outputs.items())
    rerun, compare = {}, verify_mod.compare_outputs

    def recording_compare(out_dir, fresh_dir):
        rerun.update({rel: file_sha256(p) for rel, p in verify_mod.output_files(fresh_dir).items()})
        return compare(out_dir, fresh_dir)

    monkeypatch.setattr(verify_mod, "compare_outputs", recording_compare)
    p = out / "figures" / "recipients_by_decile.pdf"
    b = bytearray(p.read_bytes())
    b[-20] = (b[-20] + 1) % 256
    p.write_bytes(bytes(b))
    code, text, _ = _cli(capsys, out)
    assert rerun == outputs  # the recomputed demo is byte-identical: the untouched output verifies
    assert code == 1 and "figures/recipients_by_decile.pdf" in text
    assert "verification failed: 2 difference(s)" in text  # altered (hash) + differs (recomputed): no other
    assert np.sum([line.startswith("figures/recipients_by_decile.pdf") for line in text.splitlines()]) == 2


def test_older_manifest_hashing_only_text_tables(out):
    """A manifest written before every output was hashed (no ``spec.data``, only the text
    tables in ``outputs``): figures and the XLSX are checked by the recomputation (an
    altered PNG is still named) and are not reported as extra."""
    m = read_manifest(out / "manifest.json")
    m["outputs"] = {k: v for k, v in m["outputs"].items() if k.endswith((".csv", ".md", ".tex"))}
    del m["spec"]["data"]
    (out / "manifest.json").write_text(json.dumps(m), encoding="utf-8")
    with pytest.raises(SpecError, match="neither the spec's TOML text nor its data"):
        verify(out)  # a dict spec without spec.data cannot be rerun: said, not guessed
    assert verify(out, inputs_only=True).ok
    m["spec"]["toml"] = SPEC_TOML  # the same spec as TOML text (as a spec file's run records it)
    (out / "manifest.json").write_text(json.dumps(m), encoding="utf-8")
    res = verify(out)
    assert res.ok and any("older remitpov" in n for n in res.notes)
    from matplotlib.image import imread, imsave

    p = out / "figures" / "lorenz_curves.png"
    img = imread(p)
    img[-5:, -5:, :3] = 0.0
    imsave(p, img)
    assert _rows(verify(out)) == {("figures/lorenz_curves.png", "differs")}


def test_poverty_line_table_is_an_input(tmp_path):
    """``[survey.lines] from = "lines.csv"``: the line table is hashed and checked like the data."""
    from remitpov.synthetic import synthetic_lines

    opts = {"country": "A", "n_households": 400, "n_regions": 2, "seed": 5}
    lines = tmp_path / "lines.csv"
    synthetic_lines(synthetic_survey(**opts)).table.to_csv(lines, index=False)
    spec = {"chapter": {"measures": ["poverty"], "tables": ["csv"], "figures": ["png"]},
            "survey": [{"id": "A", "format": "synthetic", "options": opts,
                        "lines": {"from": str(lines), "country": "A", "year": 2024}}]}
    out = run_chapter(spec, tmp_path / "out", progress=False).out_dir
    assert read_manifest(out / "manifest.json")["inputs"]["A"]["line_files"] == [
        {"path": str(lines), "sha256": file_sha256(lines)}]
    assert verify(out).ok
    lines.write_text(lines.read_text(encoding="utf-8").replace("month", "year"), encoding="utf-8")
    assert _rows(verify(out)) == {(str(lines), "input changed")}
