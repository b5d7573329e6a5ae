"""CLI subcommands of the report package (registered into remitpov/cli.py)."""
from __future__ import annotations

import argparse

from remitpov.report.cli_commands import main, register


def test_register_adds_subcommands_without_clobbering_demo():
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command")
    sub.add_parser("demo")  # cli.py may already define demo
    register(sub)
    assert {"chapter", "reproduce", "demo"} <= set(sub.choices)
    args = parser.parse_args(["chapter", "x.toml", "--out", "d"])
    assert args.func.__name__ == "cmd_chapter" and args.spec == "x.toml" and args.out == "d"


def test_demo_command(tmp_path, capsys):
    assert main(["demo", "--out", str(tmp_path), "--language", "es"]) == 0
    out = capsys.readouterr().out
    assert "chapter written to" in out and "recipients" in out
    assert (tmp_path / "manifest.json").exists()
    assert "Con remesas" in (tmp_path / "tables" / "poverty_layout.md").read_text(encoding="utf-8")


def test_bad_spec_exit_2(tmp_path, capsys):
    p = tmp_path / "bad.toml"
    p.write_text('[chapter]\nmeasures = ["poverty"]\n[[survey]]\nformat = "xyz"\n')
    assert main(["chapter", str(p), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert "survey[0].format" in err and "Fix:" in err
    assert not (tmp_path / "o" / "tables").exists()


def test_chapter_command(tmp_path, capsys):
    p = tmp_path / "c.toml"
    p.write_text('[chapter]\nmeasures = ["poverty", "gini"]\ntables = ["csv"]\nfigures = ["png"]\n'
                 '[[survey]]\nid = "A"\nformat = "synthetic"\noptions = { country = "A", n_households = 400, '
                 'n_regions = 2 }\n[survey.lines]\npoverty = "poverty_line"\n')
    assert main(["chapter", str(p), "--out", str(tmp_path / "o"), "-q"]) == 0
    assert (tmp_path / "o" / "tables" / "gini.csv").exists()
    assert (tmp_path / "o" / "figures" / "paired_bars_poverty.png").exists()
