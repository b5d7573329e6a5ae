"""remitpov.formula: formulas from files are checked (never evaluated) before formulaic sees them."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from remitpov.exceptions import InputError, SpecError
from remitpov.formula import ALLOWED_FUNCTIONS, check_formula
from remitpov.report.spec import parse_spec

COLS = ["y", "wage", "educ", "exper", "area", "odd name", "z1", "z2"]


@pytest.mark.parametrize("formula,variables", [
    ("np.log(wage) ~ educ + exper + I(exper**2)", ["wage", "educ", "exper"]),
    ("y ~ 1 + educ + [exper ~ z1 + z2]", ["y", "educ", "exper", "z1", "z2"]),
    ("~ educ + z1", ["educ", "z1"]),
    ("educ:exper + C(area, contr.treatment('urban')) + `odd name` - 1", ["educ", "exper", "area", "odd name"]),
    ("np.sqrt(wage) + np.exp(educ / 10) + {exper ** 2} + center(z1) + poly(z2, degree=2)",
     ["wage", "educ", "exper", "z1", "z2"]),
    ("y ~ educ | z1", ["y", "educ", "z1"]),
])
def test_allowed_formulas(formula, variables):
    assert check_formula(formula, COLS) == variables
    assert check_formula(formula) == variables  # no column list: syntax and functions only


@pytest.mark.parametrize("formula,token", [
    ("educ + {open('pwned', 'w').write('x')}", "open('pwned', 'w').write"),
    ("educ + __import__('os').system('true')", "__import__('os').system"),
    ("educ + eval('1')", "'eval'"),
    ("np.linalg.inv(educ)", "'np.linalg.inv'"),
    ("educ.__class__", "'educ.__class__'"),
    ("educ + z1[0]", "'z1[0]'"),
    ("educ + np.log(*z1)", "'*z1'"),
    ("C(area, **z1)", "'**z1'"),
    ("educ + [a for a in z1]", "[a for a in z1]"),
])
def test_code_is_refused_naming_the_token(formula, token, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(InputError) as e:
        check_formula(formula, COLS)
    msg = str(e.value)
    assert token in msg and "not allowed" in msg and "remitpov.formula" in msg, msg
    assert not (tmp_path / "pwned").exists()


def test_unknown_variable_suggests_nearest():
    with pytest.raises(InputError, match=r"variable 'expr' is not a column.*did you mean 'exper'"):
        check_formula("y ~ educ + expr", COLS)


def test_unparsable_formula():
    with pytest.raises(InputError, match="cannot parse"):
        check_formula("y ~ educ +* (", COLS)
    with pytest.raises(InputError, match="expected a formula string"):
        check_formula(3, COLS)


def test_allowed_functions_listed():
    assert {"np.log", "np.exp", "np.sqrt", "C", "I"} <= set(ALLOWED_FUNCTIONS)
    assert "eval" not in ALLOWED_FUNCTIONS and "open" not in ALLOWED_FUNCTIONS


def _heckman_spec(formula):
    return {"chapter": {"measures": ["poverty"]},
            "survey": [{"id": "A", "format": "synthetic", "options": {"country": "A"},
                        "lines": {"poverty": "poverty_line"},
                        "counterfactual": {"method": "heckman", "income_formula": formula,
                                           "selection_formula": "head_educ + mig_network"}}]}


def test_spec_formula_refused_while_parsing(tmp_path, monkeypatch):
    """The issue's case: a spec's income_formula wrote a file while the spec was checked."""
    monkeypatch.chdir(tmp_path)
    bad = "head_educ + {open('written_by_spec', 'w').write('x')}"
    with pytest.raises(SpecError, match=r"survey\[0\].counterfactual.income_formula.*open\("):
        parse_spec(_heckman_spec(bad))
    mnl = _heckman_spec("head_educ")
    mnl["survey"][0]["counterfactual"] = {"method": "multinomial", "income_formula": "head_educ",
                                          "selection_formula": "mig_network + __import__('os').getcwd()"}
    with pytest.raises(SpecError, match=r"selection_formula.*__import__"):
        parse_spec(mnl)
    assert not (tmp_path / "written_by_spec").exists()
    assert parse_spec(_heckman_spec("head_educ + np.log(head_age) + C(area)")).surveys[0].counterfactual


def test_econometric_constructors_check_formulas(tmp_path, monkeypatch):
    from remitpov.econometrics.heckman import Heckman
    from remitpov.econometrics.iv import RemittanceIV

    monkeypatch.chdir(tmp_path)
    rng = np.random.default_rng(1)
    df = pd.DataFrame({"y": rng.normal(size=50), "x": rng.normal(size=50), "s": rng.integers(0, 2, 50),
                       "z": rng.normal(size=50)})
    with pytest.raises(InputError, match="open"):
        Heckman.from_formula("y ~ x + {open('h', 'w').write('x')}", "s ~ x + z", df)
    with pytest.raises(InputError, match="did you mean 'x'"):
        RemittanceIV.from_formula("y ~ 1 + xx + [x ~ z]", df)
    assert not (tmp_path / "h").exists()
