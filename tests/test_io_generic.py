"""read_survey / read_table: formats, specs (dict and TOML) and every bad-input case."""
from pathlib import Path

import numpy as np
import pandas as pd
import pyreadstat
import pytest

from remitpov.exceptions import InputError, SpecError
from remitpov.io.generic import read_survey, read_table
from remitpov.synthetic import synthetic_survey

FIX = Path(__file__).resolve().parent.parent / "fixtures"
SPEC = {"weight": "factor", "strata": "est_dis", "psu": "upm", "size": "tot_integ", "ids": ["folioviv", "foliohog"],
        "income": "ing_cor", "remittances": "remesas", "sources": {"labour": "ingtrab"},
        "metadata": {"country": "A", "year": 2024, "income_period": "quarter"}}


@pytest.fixture(scope="module")
def frame():
    return synthetic_survey(n_households=400, n_regions=2).data


def test_dataframe_and_dict(frame):
    before = frame.copy()
    s = read_survey(frame, SPEC)
    pd.testing.assert_frame_equal(frame, before)  # caller's frame untouched
    assert s.n == len(frame) and s.role("income") == "ing_cor" and s.sources == {"labour": "ingtrab"}
    assert s.metadata.loader == "read_survey" and s.metadata.income_period == "quarter"
    assert s.population("person") == pytest.approx((frame["factor"] * frame["tot_integ"]).sum())
    assert s.design().n_psu == frame["upm"].nunique()


@pytest.mark.parametrize("ext", ["csv", "csv.gz", "parquet", "dta", "sav"])
def test_formats(frame, tmp_path, ext):
    p = tmp_path / f"s.{ext}"
    df = frame.drop(columns=["head_sex"])
    if ext.startswith("csv"):
        df.to_csv(p, index=False)
    elif ext == "parquet":
        df.to_parquet(p)
    elif ext == "dta":
        df.to_stata(p, write_index=False)
    else:
        pyreadstat.write_sav(df, str(p))
    kw = {"dtype": {"folioviv": str, "foliohog": str, "est_dis": str, "upm": str}} if ext.startswith("csv") else {}
    s = read_survey(p, SPEC, **kw)
    np.testing.assert_allclose(s.data["ing_cor"], df["ing_cor"])
    assert s.metadata.files[0].sha256 and s.report.find("read")


def test_toml_spec(frame, tmp_path):
    p = tmp_path / "hh.csv"
    frame.to_csv(p, index=False)
    s = read_survey(p, FIX / "spec_example.toml")
    assert set(s.data["area"]) == {"urban", "rural"}
    assert (s.data["area"] == frame["area"]).all()  # synthetic tam_loc 4 <-> rural
    assert s.metadata.name == "ENIGH-like example" and len(s.metadata.files) == 2  # data + spec hashes
    # "data" key: the spec names its file
    spec = (FIX / "spec_example.toml").read_text() .replace('weight = "factor"', 'data = "hh.csv"\nweight = "factor"')
    (tmp_path / "spec.toml").write_text(spec)
    assert read_survey(None, tmp_path / "spec.toml").n == len(frame)
    (tmp_path / "bad.toml").write_text("weight = ")
    with pytest.raises(SpecError, match="not valid TOML"):
        read_survey(p, tmp_path / "bad.toml")


def test_unknown_format_and_missing_file(tmp_path, frame):
    with pytest.raises(InputError, match="unknown file format '.xlsx'"):
        read_table(tmp_path / "x.xlsx")
    with pytest.raises(InputError, match="no extension"):
        read_table(tmp_path / "data")
    with pytest.raises(InputError, match="file not found"):
        read_table(tmp_path / "nothere.csv")
    with pytest.raises(InputError, match="DataFrame or a file path"):
        read_survey([1, 2], SPEC)


def _err(frame, match, spec=SPEC, **kw):
    with pytest.raises(InputError, match=match):
        read_survey(frame, spec, **kw)


def test_bad_inputs(frame):
    hid = f"{frame.loc[3, 'folioviv']}-{frame.loc[3, 'foliohog']}"
    row3 = frame.index == 3
    _err(frame, r"unknown key\(s\).*'wieght'", {**SPEC, "wieght": "factor"})
    _err(frame, "needs a 'weight' key", {k: v for k, v in SPEC.items() if k != "weight"})
    _err(frame, r"column\(s\) not found: income='ingcor'", {**SPEC, "income": "ingcor"})
    _err(frame, r"sources.pensions='jubila'", {**SPEC, "sources": {"pensions": "jubila"}})
    _err(frame.assign(factor=np.where(row3, np.nan, frame["factor"])), rf"'factor' is missing in 1 row.*{hid}")
    _err(frame.assign(factor=np.where(row3, -5, frame["factor"])), rf"'factor' is zero or negative in 1 row.*{hid}")
    _err(frame.assign(factor=np.where(row3, 0, frame["factor"])), rf"zero or negative in 1 row.*{hid}")
    _err(frame.drop(columns=["upm"]), r"psu='upm'")
    _err(frame.assign(est_dis=np.where(row3, None, frame["est_dis"])), rf"'est_dis' \(strata\) is missing in 1 row.*{hid}")
    _err(frame.assign(tot_integ=np.where(row3, 0, frame["tot_integ"])), rf"'tot_integ' is missing, zero or negative in 1 row.*{hid}")
    _err(pd.concat([frame, frame.iloc[[3]]], ignore_index=True), rf"duplicated in 2 rows.*{hid}")
    _err(frame.assign(ing_cor=np.where(row3, -1.0, frame["ing_cor"]), remesas=0.0), rf"'ing_cor' is negative in 1 row.*{hid}")
    _err(frame.assign(ing_cor=np.where(row3, np.nan, frame["ing_cor"])), rf"'ing_cor' is missing in 1 row.*{hid}")
    _err(frame.assign(remesas=np.where(row3, frame["ing_cor"] + 1, frame["remesas"])), rf"larger than income.*1 row.*{hid}")
    _err(frame.assign(ing_cor=np.where(row3, "n/a", frame["ing_cor"].astype(str))), rf"non-numeric values in 1 row.*{hid}")
    _err(frame, "income_period must be", {**SPEC, "metadata": {"income_period": "weekly"}})
    _err(frame, r"unknown metadata key\(s\) \['countri'\]", {**SPEC, "metadata": {"countri": "X"}})
    _err(frame, rf"has codes \['4'\] not in area_codes.*{int((frame['tam_loc'] != 1).sum())} rows.*"
                "add them to area_codes", {**SPEC, "area": "tam_loc", "area_codes": {"1": "urban"}})
    # float codes (1.0) and string codes ("1") map like integer codes
    spec = {**SPEC, "area": "tam_loc", "area_codes": {"1": "urban", "2": "urban", "3": "urban", "4": "rural"}}
    for col in (frame["tam_loc"].astype(float), frame["tam_loc"].astype(str)):
        s = read_survey(frame.assign(tam_loc=col), spec)
        assert (s.data["area"].to_numpy() == np.where(frame["tam_loc"] == 4, "rural", "urban")).all()
        assert s.role("area") == "area"
    _err(frame, "negative_income must be", negative_income="drop")


def test_policies_reported(frame):
    neg = frame.assign(ing_cor=np.where(frame.index == 3, -1.0, frame["ing_cor"]), remesas=0.0)
    s = read_survey(neg, SPEC, negative_income="zero")
    assert s.data.loc[3, "ing_cor"] == 0 and s.report.find("negative_income")[0].rows == 1
    miss = frame.assign(ing_cor=np.where(frame.index == 3, np.nan, frame["ing_cor"]),
                        remesas=np.where(frame.index == 3, 0.0, frame["remesas"]))
    k = read_survey(miss, SPEC, missing_income="keep")
    assert np.isnan(k.data.loc[3, "ing_cor"]) and "missing_income='keep'" in str(k.report)
    z = read_survey(miss, SPEC, missing_income="zero")
    assert z.data.loc[3, "ing_cor"] == 0
    over = frame.assign(remesas=np.where(frame.index == 3, frame["ing_cor"] + 1, frame["remesas"]))
    kept = read_survey(over, SPEC, remittances_exceed="keep")
    assert kept.report.find("remittances_exceed")[0].rows == 1
    # two rows with zero income (and no remittances) are kept and reported, never dropped
    zero = frame.assign(ing_cor=np.where(frame.index.isin([3, 7]), 0.0, frame["ing_cor"]),
                        remesas=np.where(frame.index.isin([3, 7]), 0.0, frame["remesas"]))
    zs = read_survey(zero, SPEC)
    assert zs.n == len(frame)
    assert zs.report.find("zero_income")[0].rows == int((zero["ing_cor"] == 0).sum()) >= 2
