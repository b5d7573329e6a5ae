"""Scalars, sizes, roles and column lookups are checked at the API boundary (issue #9
items 3, 7 and the #11 hints; issue #15 closed role vocabulary)."""
import numpy as np
import pandas as pd
import pytest

import remitpov as rp
from remitpov.exceptions import InputError
from remitpov.income import build_income, equivalence_scale, income_without
from remitpov.survey import DESIGN_ROLES, NUMERIC_ROLES, ROLES, Role, Survey, SurveyMetadata


def _survey(**kw):
    df = pd.DataFrame({"id": ["h1", "h2", "h3", "h4"], "w": [10.0, 20.0, 30.0, 40.0], "size": [1, 2, 4, 3],
                       "inc": [300.0, 600.0, 1200.0, 90.0], "rem": [0.0, 300.0, 1200.0, 0.0]})
    for k, v in kw.pop("cols", {}).items():
        df[k] = v
    args = dict(weight="w", size="size", ids=("id",), roles={"income": "inc", "remittances": "rem"},
                metadata=SurveyMetadata(income_period="quarter"))
    args.update(kw)
    return Survey(df, **args)


@pytest.mark.parametrize("value", [-1.05, 0, 0.0, float("nan"), float("inf"), -np.inf, True, np.float64(-2)])
def test_deflator_scalar_refused(value):
    with pytest.raises(InputError, match="deflator must be a"):
        build_income(_survey(), deflator=value)


def test_deflator_text_is_a_column_name():
    with pytest.raises(InputError, match="column '1.05' not found"):
        build_income(_survey(), deflator="1.05")
    with pytest.raises(InputError, match=r"deflator is missing or not positive in 1 row.*h3"):
        build_income(_survey(cols={"d": [1.0, 1.1, 0.0, 1.2]}), deflator="d")


@pytest.mark.parametrize("value", [-1, 0, float("nan"), float("inf"), None, "2"])
def test_currency_factor_refused(value):
    with pytest.raises(InputError, match="currency_factor must be a"):
        build_income(_survey(), currency_factor=value)


def test_valid_scalars_closed_form():
    b = build_income(_survey(), deflator=1.25, currency_factor=2)
    # quarterly -> monthly (/3), x 2, / 1.25, per capita
    np.testing.assert_allclose(b.data["y_with"], np.array([300.0, 600.0, 1200.0, 90.0]) / 3 * 2 / 1.25
                               / np.array([1, 2, 4, 3]), rtol=1e-15)


@pytest.mark.parametrize("theta", [-1, -0.01, 1.5, float("nan"), "0.5", None])
def test_theta_out_of_range(theta):
    with pytest.raises(InputError, match=r"theta must be a number in \[0, 1\]"):
        build_income(_survey(), scale="sqrt", theta=theta)


@pytest.mark.parametrize("theta", [0.0, 0.5, 1.0])
def test_theta_bounds_closed_form(theta):
    np.testing.assert_allclose(equivalence_scale(_survey(), "sqrt", theta=theta),
                               np.array([1, 2, 4, 3], dtype=float) ** theta, rtol=1e-15)


def test_fractional_household_size():
    with pytest.raises(InputError, match=r"household size column 'size' is not a whole number in 1 row.*h2.*"
                                         r"\[2\.5\].*fractional_size=True"):
        _survey(cols={"size": [1, 2.5, 4, 3]})
    s = _survey(cols={"size": [1, 2.5, 4, 3]}, fractional_size=True)
    e = s.report.find("fractional_size")
    assert len(e) == 1 and e[0].rows == 1 and e[0].column == "size"
    # the entry is recorded once, however many copies are derived
    assert len(s.with_columns(x=np.zeros(4)).with_lonely_psu("certainty").report.find("fractional_size")) == 1
    assert s.population("person") == pytest.approx(10 + 50 + 120 + 120, rel=1e-15)


def test_role_vocabulary():
    assert {"weight", "strata", "psu", "fpc", "size", "income", "remittances", "area", "region"} <= ROLES
    assert DESIGN_ROLES < ROLES and NUMERIC_ROLES < ROLES and Role("y_with") is Role.Y_WITH
    with pytest.raises(InputError, match=r"unknown role\(s\) \['remitances'\]:.*did you mean 'remittances'"):
        _survey(roles={"income": "inc", "remitances": "rem"})
    with pytest.raises(InputError, match=r"unknown role\(s\) \['zzz'\]: 'zzz': no close match.*known roles"):
        _survey(roles={"zzz": "inc"})
    with pytest.raises(InputError, match=r"design roles: pass them as Survey\(weight=...\)"):
        _survey(roles={"weight": "w"})
    # an own concept declared in concepts
    s = _survey(roles={"income": "inc", "core": "inc"}, concepts=("core",))
    assert s.role("core") == "inc"


def test_numeric_role_with_text():
    with pytest.raises(InputError, match=r"income \(role\) column 'inc' has non-numeric values \['1,873\.50'\] in "
                                         r"1 row.*h3"):
        _survey(cols={"inc": [300.0, 600.0, "1,873.50", 90.0]})


def test_income_without_declares_its_concept():
    b = build_income(_survey())
    w = income_without(b, "rem", name="y_core")
    assert "y_core" in w.concepts and w.role("y_core") == "y_core"
    w2 = income_without(w, "rem", name="y_core")  # same name again: declared once
    assert w2.concepts.count("y_core") == 1


def test_column_hints():
    s = _survey()
    with pytest.raises(InputError, match=r"column 'y_with' not found; it is an income concept made by "
                                         r"remitpov.build_income\(survey\): call build_income first"):
        s.column("y_with")
    with pytest.raises(InputError, match=r"column 'incc' not found; did you mean 'inc'\?"):
        s.column("incc")
    with pytest.raises(InputError, match=r"'income' is a role of this survey, its column is 'inc'"):
        s.column("income")
    with pytest.raises(InputError, match=r"no 'y_with' column \(.*call build_income first\)"):
        s.role("y_with")
    with pytest.raises(InputError, match=r"no 'incme' column; did you mean 'income'\?"):
        s.role("incme")


def test_estimators_pass_the_hints_on():
    s = _survey()
    with pytest.raises(InputError, match="call build_income first"):
        rp.fgt(s, "y_with", 100.0)
    with pytest.raises(InputError, match=r"did you mean 'inc'\?"):
        rp.mean(s, "Inc")


def test_numeric_lookup_never_turns_text_into_missing():
    s = _survey(cols={"t": ["1", "n/a", None, "1,873.50"]})
    with pytest.raises(InputError, match=r"column 't' has non-numeric values \['n/a', '1,873.50'\] in 2 rows.*h2"):
        s.numeric("t")
    np.testing.assert_array_equal(s.numeric("inc"), [300.0, 600.0, 1200.0, 90.0])
    np.testing.assert_array_equal(_survey(cols={"t": ["1", None, "2", "3"]}).numeric("t"), [1.0, np.nan, 2.0, 3.0])
