"""Reliability table for the CLI and report layer (issue 9): bad input -> exit code 2 and ONE
line ``error: ... `` naming what, where and the fix -- never a traceback, never a partial output."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from remitpov.cli import main

ROOT = Path(__file__).resolve().parent.parent
SYN = 'id = "A"\nformat = "synthetic"\noptions = { country = "A", n_households = 300, n_regions = 2 }\n'
GOOD = '[chapter]\nmeasures = ["poverty"]\ntables = ["csv"]\nfigures = ["png"]\n[[survey]]\n' + SYN + \
    '[survey.lines]\npoverty = "poverty_line"\n'
TARGET = ('[[target]]\nid = "x"\nvalue = 1.0\nunit = "percent"\ntolerance = 0.1\nsource = "s"\n'
          '[target.compute]\nmeasure = "{measure}"\nsurvey = {{ format = "synthetic" }}\nincome = "y"\nline = 1\n')


def _chapter(spec_text, out="out"):
    return lambda d: (d / "s.toml").write_text(spec_text, encoding="utf-8") and None or \
        ["chapter", str(d / "s.toml"), "--out", str(d / out)]


def _spec(**replace):
    text = GOOD
    for old, new in replace.items():
        text = text.replace(old.replace("__", " "), new) if old != "append" else text + new
    return text


def _bad_bytes(d):
    (d / "s.toml").write_bytes(b"\xff\xfe\x00garbage")
    return ["chapter", str(d / "s.toml"), "--out", str(d / "out")]


def _out_is_file(d):
    (d / "s.toml").write_text(GOOD)
    (d / "afile").write_text("x")
    return ["chapter", str(d / "s.toml"), "--out", str(d / "afile")]


def _out_foreign(d):
    (d / "s.toml").write_text(GOOD)
    (d / "mine").mkdir()
    (d / "mine" / "thesis.tex").write_text("do not delete")
    return ["chapter", str(d / "s.toml"), "--out", str(d / "mine")]


def _targets(text, *extra):
    def make(d):
        (d / "t.toml").write_text(text)
        return ["reproduce", str(d / "t.toml"), *[e.format(d=d) for e in extra]]
    return make


CASES = [
    # (id, argv builder, key words of the one-line message)
    ("spec-missing", lambda d: ["chapter", str(d / "nope.toml"), "--out", str(d / "out")], ["spec file not found"]),
    ("spec-not-toml", _chapter("[chapter\nmeasures = 1"), ["not valid TOML", "Fix:"]),
    ("spec-not-utf8", _bad_bytes, ["not valid TOML"]),
    ("spec-is-folder", lambda d: ["chapter", str(d), "--out", str(d / "out")], ["folder", str(Path("/"))]),
    ("unknown-format", _chapter(_spec(**{'"synthetic"': '"spss_magic"'})), ["survey[0].format", "spss_magic"]),
    ("unknown-measure", _chapter(_spec(**{'["poverty"]': '["poverty", "happiness"]'})),
     ["chapter.measures", "happiness"]),
    ("unknown-language", _chapter(_spec(**{"[chapter]\n": '[chapter]\nlanguage = "fr"\n'})), ["chapter.language"]),
    ("ci-level-1.5", _chapter(_spec(**{"[chapter]\n": "[chapter]\nci_level = 1.5\n"})), ["chapter.ci_level", "(0, 1)"]),
    ("year-text", _chapter(_spec(**{'options = { country = "A",': 'options = { year = "x", country = "A",'})),
     ["survey[0].options.year", "'x'"]),
    ("negative-line", _chapter(_spec(**{'poverty = "poverty_line"': "poverty = -5"})),
     ["survey[0].lines.poverty", "positive"]),
    ("line-missing-area", _chapter(_spec(**{'poverty = "poverty_line"': "poverty = { urban = 900.0 }"})),
     ["no line for area", "rural"]),
    ("period-mismatch", _chapter(_spec(**{"[survey.lines]\n": '[survey.lines]\nperiod = "year"\n'})),
     ["lines.period", "per year", "per month"]),
    ("bad-period", _chapter(_spec(**{"[survey.lines]\n": '[survey.lines]\nperiod = "weekly"\n'})),
     ["lines.period", "weekly"]),
    ("formula-code", _chapter(_spec(append='[survey.counterfactual]\nmethod = "heckman"\n'
                                           'income_formula = "head_educ + {open(\'pwned\', \'w\')}"\n'
                                           'selection_formula = "mig_network"\n')),
     ["income_formula", "open", "not allowed"]),
    ("heckman-no-formulas", _chapter(_spec(append='[survey.counterfactual]\nmethod = "heckman"\n')),
     ["needs income_formula"]),
    ("draws-1", _chapter(_spec(append='[survey.counterfactual]\nmethod = "heckman"\npreset = "enigh_rural"\n'
                                      'draws = 1\n')), ["counterfactual.draws", "0 or an integer >= 2"]),
    ("missing-input-file", _chapter(_spec(**{'format = "synthetic"\n': 'format = "enigh"\npath = "no/where.dbf"\n',
                                             'options = { country = "A", n_households = 300, n_regions = 2 }\n': ""})),
     ["survey[0].path", "not found"]),
    ("no-survey", _chapter('[chapter]\nmeasures = ["poverty"]\n'), ["no survey given"]),
    ("table-no-weight", _chapter(_spec(**{'format = "synthetic"\n': 'format = "table"\npath = "s.toml"\n',
                                          'options = { country = "A", n_households = 300, n_regions = 2 }\n': ""})),
     ["options.weight"]),
    ("no-out", lambda d: (d / "s.toml").write_text(GOOD) and None or ["chapter", str(d / "s.toml")], ["--out"]),
    ("out-is-file", _out_is_file, ["--out", "is a file"]),
    ("out-foreign-folder", _out_foreign, ["--out", "not a remitpov chapter output"]),
    ("targets-missing", lambda d: ["reproduce", str(d / "none.toml")], ["file not found"]),
    ("targets-not-toml", _targets("[[target]\n"), ["not valid TOML"]),
    ("targets-unknown-measure", _targets(TARGET.format(measure="happiness")), ["compute.measure", "happiness"]),
    ("reproduce-csv-folder", _targets(TARGET.format(measure="fgt"), "--csv", "{d}"), ["--csv", "is a folder"]),
    ("describe-missing-file", lambda d: ["describe", str(d / "none.csv"), "--format", "enigh"], ["not found"]),
    ("describe-unknown-format", lambda d: ["describe", str(d / "x.csv"), "--format", "stata"], ["unknown --format"]),
    ("describe-spec-missing", lambda d: ["describe", str(d / "x.csv"), "--format", str(d / "none.toml")],
     ["not found"]),
]


@pytest.mark.parametrize("build,words", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_one_line_exit_2(build, words, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    argv = build(tmp_path)
    assert main(argv) == 2
    cap = capsys.readouterr()
    err = cap.err
    assert "Traceback" not in err and "Traceback" not in cap.out
    assert err.startswith("error: ") and err.endswith("\n") and err.count("\n") == 1, err
    for w in words:
        assert w in err, (w, err)
    out = tmp_path / "out"
    assert not out.exists() or not any(out.iterdir())  # nothing partial written
    assert not (tmp_path / "pwned").exists()
    assert not [p for p in tmp_path.iterdir() if ".remitpov-tmp-" in p.name]


def test_table_has_at_least_20_cases():
    assert len(CASES) >= 20 and len({c[0] for c in CASES}) == len(CASES)


def test_usage_errors_exit_2_without_traceback(capsys):
    assert main(["no-such-command"]) == 2
    assert main(["chapter"]) == 2  # missing SPEC
    err = capsys.readouterr().err
    assert "Traceback" not in err and "invalid choice" in err and "required" in err


@pytest.mark.slow
@pytest.mark.parametrize("case", ["spec-not-toml", "out-foreign-folder", "reproduce-csv-folder"])
def test_real_process_stderr(case, tmp_path):
    """The same through a real `python -m remitpov.cli` process (what a user sees)."""
    build, words = next(c[1:] for c in CASES if c[0] == case)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "MPLBACKEND": "Agg"}
    r = subprocess.run([sys.executable, "-m", "remitpov.cli", *build(tmp_path)], cwd=tmp_path, env=env,
                       capture_output=True, text=True)
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and "Traceback" not in r.stderr, r.stderr
    assert all(w in r.stderr for w in words)
