"""remitpov CLI via main([...]): demo numbers against a direct computation, describe on
the shared files, clean errors (exit 2, message, no traceback)."""
from pathlib import Path

import numpy as np
import pytest

from remitpov.cli import build_parser, main, register_command
from remitpov.income import build_income
from remitpov.synthetic import synthetic_lines, synthetic_survey

FIX = Path(__file__).resolve().parent.parent / "fixtures"


def test_demo_matches_direct_computation(capsys):
    assert main(["demo"], plugins=False) == 0
    out = capsys.readouterr().out
    s = synthetic_survey()
    b = build_income(s)
    _, pov = synthetic_lines(s).for_survey(b)
    w = b.weights("person")
    with_ = 100 * np.average(b.data["y_with"] < pov, weights=w)
    without = 100 * np.average(b.data["y_without"] < pov, weights=w)
    line = next(l for l in out.splitlines() if l.startswith("poverty headcount"))
    assert f"{with_:.2f}" in line and f"{without:.2f}" in line and f"{without - with_:.2f}" in line
    assert "indigence headcount" in out
    assert main(["demo", "--country", "C", "--seed", "1"], plugins=False) == 0
    assert "synthetic survey 'C' (seed 1)" in capsys.readouterr().out


def test_describe_enigh(shared, capsys):
    assert main(["describe", str(shared("data", "enigh2018_ags", "ConcAguascalientes.dbf")), "--format", "enigh"]) == 0
    out = capsys.readouterr().out
    assert "households: 2,306" in out and "1,342,587 persons" in out
    assert "households receiving remittances (remesas > 0): 5.97 %" in out
    assert "collapsed" in out and "load report" in out


def test_describe_eusilc_encovi(shared, capsys):
    assert main(["describe", str(shared("data", "eusilc", "eusilc.csv.gz")), "-f", "eusilc"]) == 0
    out = capsys.readouterr().out
    assert "households: 6,000   persons (sample): 14,827" in out and "8,182,222 persons" in out
    assert main(["describe", str(shared("data", "encovi2000_gt")), "-f", "encovi2000"]) == 0
    out = capsys.readouterr().out
    assert "11,385,441 persons" in out and "remittances: none" in out


def test_describe_spec(tmp_path, capsys):
    s = synthetic_survey(n_households=400, n_regions=2)
    p = tmp_path / "hh.csv"
    s.data.to_csv(p, index=False)
    assert main(["describe", str(p), "--format", str(FIX / "spec_example.toml")], plugins=False) == 0
    out = capsys.readouterr().out
    share = 100 * np.average(s.data["remesas"] > 0, weights=s.data["factor"])
    assert f"households receiving remittances (remesas > 0): {share:.2f} %" in out


@pytest.mark.parametrize("argv, msg", [
    (["describe", "data.xlsx", "--format", "enigh"], "unknown file format '.xlsx'"),
    (["describe", "data.csv", "--format", "stata"], "unknown --format 'stata'"),
    (["describe", "nothere.csv", "--format", "enigh"], "file not found"),
    (["describe", "nothere.csv", "--format", "nothere.toml"], "spec file not found"),
])
def test_errors_clean(argv, msg, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(argv, plugins=False) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and msg in err and "Traceback" not in err


def test_usage_and_registry(capsys):
    assert main(["describe", "x.csv"], plugins=False) == 2  # --format required
    assert "--format" in capsys.readouterr().err
    assert main([], plugins=False) == 2
    choices = build_parser(plugins=False)._subparsers._group_actions[0].choices
    assert set(choices) == {"demo", "describe"}
    with pytest.raises(ValueError, match="already registered"):
        register_command("describe", "x", lambda p: None, lambda a: 0)


def test_plugins_first():
    choices = build_parser()._subparsers._group_actions[0].choices
    # remitpov.report.cli_commands ships with the package: its commands are always registered
    assert {"demo", "describe", "chapter", "reproduce"} <= set(choices)


def test_reproduce_csv_folder_is_one_line_error(tmp_path, capsys):
    """Issue 9 item 9: `reproduce --csv <folder>` printed the table then a traceback."""
    t = tmp_path / "t.toml"
    t.write_text('[[target]]\nid = "x"\nvalue = 1.0\nunit = "percent"\ntolerance = 0.1\nsource = "s"\n'
                 '[target.compute]\nmeasure = "fgt"\nsurvey = { format = "synthetic" }\nincome = "y"\nline = 1\n')
    assert main(["reproduce", str(t), "--csv", str(tmp_path)]) == 2
    cap = capsys.readouterr()
    assert cap.out == ""  # refused before computing: no table printed
    assert cap.err.count("\n") == 1 and "--csv" in cap.err and "is a folder" in cap.err and "Fix:" in cap.err
    assert main(["reproduce", str(t), "--csv", str(tmp_path / "no" / "such" / "r.csv")]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_programming_error_shows_traceback_and_request(capsys, monkeypatch):
    import remitpov.cli as cli

    def bug(args):
        raise ZeroDivisionError("a bug")
    monkeypatch.setitem(cli._COMMANDS, "describe", (cli._COMMANDS["describe"][0], cli._COMMANDS["describe"][1], bug))
    assert main(["describe", "x.csv", "-f", "enigh"], plugins=False) == 1
    err = capsys.readouterr().err
    assert "Traceback" in err and "ZeroDivisionError: a bug" in err and "Please report it" in err


@pytest.mark.parametrize("exc, words", [
    (FileNotFoundError(2, "No such file or directory", "in.csv"), ["file or folder not found", "in.csv", "Fix:"]),
    (PermissionError(13, "Permission denied", "/root/x"), ["permission denied", "/root/x"]),
    (IsADirectoryError(21, "Is a directory", "d"), ["a folder where a file is needed", "d"]),
    (OSError(28, "No space left on device"), ["No space left on device", "Fix:"]),
    (UnicodeDecodeError("utf-8", b"\xff", 0, 1, "invalid start byte"), ["not UTF-8"]),
])
def test_bad_input_exceptions_are_one_line(exc, words, capsys):
    from remitpov.cli import run

    def raiser(args):
        raise exc
    assert run(raiser, None) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1 and "Traceback" not in err
    for w in words:
        assert w in err, err


def test_warnings_are_one_line(capsys):
    import warnings

    from remitpov.cli import run
    from remitpov.exceptions import DataWarning

    def warn(args):
        warnings.warn("poverty rate 99.5 %\n  check the line's period", DataWarning)
        return 0
    assert run(warn, None) == 0
    assert capsys.readouterr().err == "warning: poverty rate 99.5 % check the line's period\n"
