"""Loaders never change a number silently (issue #9 items 2 and 6).

* exact duplicate rows are refused, or dropped / kept with a load-report entry when asked;
  the ENIGH split-row merge applies only to rows that differ in the decile split;
* text in numeric columns is an error listing the values and rows, or -- with
  ``coerce_text=True`` -- a ``"coerced"`` load-report entry with the count.
"""
import numpy as np
import pandas as pd
import pytest
from dbfread import DBF

from remitpov import Survey
from remitpov.exceptions import InputError
from remitpov.io import read_enigh, read_eusilc, read_survey
from remitpov.synthetic import synthetic_survey

AGS = ("data", "enigh2018_ags", "ConcAguascalientes.dbf")
SPEC = {"weight": "factor", "strata": "est_dis", "psu": "upm", "size": "tot_integ", "ids": ["folioviv", "foliohog"],
        "income": "ing_cor", "remittances": "remesas", "sources": {"labour": "ingtrab"},
        "metadata": {"income_period": "quarter"}}


@pytest.fixture(scope="module")
def raw18(shared):
    return pd.DataFrame(iter(DBF(str(shared(*AGS)))))


@pytest.fixture(scope="module")
def frame():
    return synthetic_survey(n_households=300, n_regions=2).data


def _csv(df, p):
    df.to_csv(p, index=False)
    return p


def test_enigh_exact_duplicate_refused_or_dropped(raw18, tmp_path):
    # row 0 is an ordinary household; appending an exact copy used to be merged as a
    # "decile split", doubling its factor (report: total 348,497 instead of 348,346)
    dup = pd.concat([raw18, raw18.iloc[[0]]], ignore_index=True)
    p = _csv(dup, tmp_path / "dup.csv")
    hid = f"{raw18.loc[0, 'folioviv']}-{raw18.loc[0, 'foliohog']}"
    with pytest.raises(InputError, match=rf"exact duplicate rows.*duplicated in 2 rows.*{hid}.*weight "
                                         rf"{raw18.loc[0, 'factor']:g}.*duplicates='drop'"):
        read_enigh(p)
    s = read_enigh(p, duplicates="drop")
    assert s.n == 2306 and s.population("household") == 348_346  # the README total, exactly (integer weights)
    d = s.report.find("dropped")[0]
    assert d.rows == 1 and d.column == "factor"
    assert "total unchanged: 348,346" in s.report.find("collapsed")[0].message


def test_enigh_copy_of_a_split_row_refused(raw18, tmp_path):
    key = raw18.duplicated(["folioviv", "foliohog"], keep=False)
    first_split = int(np.flatnonzero(key)[0])
    dup = pd.concat([raw18, raw18.iloc[[first_split]]], ignore_index=True)
    with pytest.raises(InputError, match="exact duplicate rows"):
        read_enigh(_csv(dup, tmp_path / "d.csv"))
    # the same household again in the same decile, with another factor: not a decile split
    other = raw18.iloc[[first_split]].assign(factor=raw18.loc[first_split, "factor"] + 7)
    with pytest.raises(InputError, match=r"same decile: 3 rows.*different deciles"):
        read_enigh(_csv(pd.concat([raw18, other], ignore_index=True), tmp_path / "e.csv"))


def test_enigh_real_splits_still_merged(raw18, tmp_path):
    s = read_enigh(_csv(raw18, tmp_path / "ok.csv"))
    assert s.n == 2306 and s.population("household") == 348_346
    assert not s.report.find("dropped")


def test_generic_duplicates_policies(frame):
    dup = pd.concat([frame, frame.iloc[[3, 4]]], ignore_index=True)
    spec = {k: v for k, v in SPEC.items() if k != "ids"}
    with pytest.raises(InputError, match=r"duplicated in 4 rows.*2 extra copies carrying weight"):
        read_survey(dup, spec)
    s = read_survey(dup, spec, duplicates="drop")
    assert s.n == len(frame) and s.population() == pytest.approx(read_survey(frame, spec).population(), rel=1e-15)
    assert s.report.find("dropped")[0].rows == 2
    k = read_survey(dup, spec, duplicates="keep")
    assert k.n == len(frame) + 2 and k.report.find("duplicates_kept")[0].rows == 2
    with pytest.raises(InputError, match="duplicates must be one of"):
        read_survey(dup, spec, duplicates="merge")


def test_eusilc_duplicate_person(shared, tmp_path):
    df = pd.read_csv(shared("data", "eusilc", "eusilc.csv.gz"))
    p = _csv(pd.concat([df, df.iloc[[10]]], ignore_index=True), tmp_path / "e.csv")
    with pytest.raises(InputError, match="exact duplicate rows.*duplicated in 2 rows"):
        read_eusilc(p)
    with pytest.raises(InputError, match=r"'py010n' has non-numeric values in 1 row.*\['1,873.50'\]"):
        bad = df.astype({"py010n": object})
        bad.loc[5, "py010n"] = "1,873.50"  # "n/a" in a CSV is read as missing (pandas' NA markers)
        read_eusilc(_csv(bad, tmp_path / "t.csv"))


def test_text_cells_error_lists_values_and_rows(frame):
    bad = frame.astype({"ing_cor": object})
    bad.loc[3, "ing_cor"] = "n/a"
    bad.loc[7, "ing_cor"] = "1,873.50"
    hid = f"{frame.loc[3, 'folioviv']}-{frame.loc[3, 'foliohog']}"
    with pytest.raises(InputError, match=rf"'ing_cor' has non-numeric values in 2 rows.*{hid}.*"
                                         r"\['n/a', '1,873.50'\].*coerce_text=True"):
        read_survey(bad, SPEC)
    # coerced: they become missing, and the missing-value policy still applies
    with pytest.raises(InputError, match="'ing_cor' is missing in 2 rows"):
        read_survey(bad, SPEC, coerce_text=True)
    s = read_survey(bad, SPEC, coerce_text=True, missing_income="keep")
    c = s.report.find("coerced")[0]
    assert c.rows == 2 and c.column == "ing_cor" and "'n/a', '1,873.50'" in c.message
    assert s.data["ing_cor"].isna().sum() == 2
    np.testing.assert_array_equal(s.data["ing_cor"].drop([3, 7]).to_numpy(float),
                                  frame["ing_cor"].drop([3, 7]).to_numpy(float))


def test_text_in_source_coerced_is_written_back(frame):
    bad = frame.astype({"ingtrab": object})
    bad.loc[2, "ingtrab"] = "."
    with pytest.raises(InputError, match=r"source labour column 'ingtrab' has non-numeric values in 1 row.*\['\.'\]"):
        read_survey(bad, SPEC)
    s = read_survey(bad, SPEC, coerce_text=True)
    assert pd.api.types.is_float_dtype(s.data["ingtrab"]) and np.isnan(s.data.loc[2, "ingtrab"])
    assert s.report.find("coerced")[0].rows == 1


def test_enigh_text_income(raw18, tmp_path):
    bad = raw18.iloc[:200].astype({"ing_cor": object})
    bad.loc[4, "ing_cor"] = "1,873.50"
    p = _csv(bad, tmp_path / "t.csv")
    with pytest.raises(InputError, match=r"'ing_cor' has non-numeric values in 1 row.*\['1,873.50'\]"):
        read_enigh(p)
    s = read_enigh(p, coerce_text=True, missing_income="keep")
    assert s.report.find("coerced")[0].rows == 1
    bad = raw18.iloc[:200].astype({"factor": object})
    bad.loc[4, "factor"] = "x"
    with pytest.raises(InputError, match=r"weight column 'factor' has non-numeric values in 1 row.*\['x'\]"):
        read_enigh(_csv(bad, tmp_path / "w.csv"))


def test_survey_weight_text_lists_values():
    df = pd.DataFrame({"id": ["a", "b", "c"], "w": ["1", "2,5", "n/a"], "y": [1.0, 2.0, 3.0]})
    with pytest.raises(InputError, match=r"weight column 'w' has non-numeric values \['2,5', 'n/a'\] in 2 rows.*'b'"):
        Survey(df, weight="w", ids=("id",), unit="person")
