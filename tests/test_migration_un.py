"""remitpov.migration: UN DESA readers and tabulations, checked against the raw files.

Reference values are computed here independently from the raw files (plain pandas on the
CSV; openpyxl cell reads on the workbook), not through the reader under test. Stocks are
integer counts, so sums are compared exactly.
"""
from __future__ import annotations

import gzip

import numpy as np
import openpyxl
import pandas as pd
import pytest

import remitpov.migration as mig
from remitpov.exceptions import InputError

CSV = ("data", "migration", "un_migrant_stock_origin_destination_2019.csv.gz")
XLSX = ("data", "migration", "undesa_pd_2020_ims_stock_by_sex_and_destination.xlsx")


@pytest.fixture(scope="module")
def s19(shared):
    return mig.read_un_migrant_stock(shared(*CSV))


@pytest.fixture(scope="module")
def s20(shared):
    return mig.read_un_migrant_stock(shared(*XLSX))


@pytest.fixture(scope="module")
def raw19(shared):
    return pd.read_csv(shared(*CSV), na_values=["..", "-"], keep_default_na=False)


def test_bilateral_stocks_equal_raw_cells(s19, raw19):
    for year, dest, origin, iso_o, iso_d in [(2019, "United States of America", "Mexico", "MEX", "USA"),
                                            (1990, "Spain", "Ecuador", "ECU", "ESP"),
                                            (2010, "Costa Rica", "Nicaragua", "NIC", "CRI")]:
        want = raw19.loc[(raw19.Year == year) & (raw19.Dest == dest), origin].item()
        got = s19.select(year=year, origin=iso_o, destination=iso_d)["stock"].item()
        assert got == want


def test_origin_totals_equal_raw_column_sums_without_regions(s19, raw19):
    regions = {"Caribbean", "Melanesia", "Micronesia", "Polynesia", "South America"}
    r = raw19[(raw19.Year == 2019) & ~raw19.Dest.isin(regions)]
    t = mig.stocks_by(s19, "origin", year=2019).table.set_index("origin")
    assert t.loc["MEX", "stock"] == r["Mexico"].sum()
    assert t.loc["SLV", "stock"] == r["El Salvador"].sum()
    # the region rows are apart, never added to country totals
    assert set(s19.aggregates["destination_name"]) == regions
    assert s19.data["destination"].notna().all()


def test_missing_tokens_are_nan_and_reported(s19, shared):
    with gzip.open(shared(*CSV), "rt", encoding="utf-8") as fh:
        text = fh.read()
    n_dots = sum(cell == ".." for line in text.splitlines()[1:] for cell in line.split(","))
    msgs = [c.message for c in s19.load_report.find("missing")]
    assert any(f"{n_dots} stocks cells written '..'" in m for m in msgs)
    n_nan = int(s19.data["stock"].isna().sum() + s19.aggregates["stock"].isna().sum())
    assert n_nan == sum(c.rows for c in s19.load_report.find("missing"))


def test_world_total_2020_by_sex_from_workbook_cells(s20, shared):
    ws = openpyxl.load_workbook(shared(*XLSX), read_only=True)["Table 1"]
    rows = list(ws.iter_rows(min_row=12, max_row=12, values_only=True))[0]
    assert str(rows[1]).strip() == "WORLD"
    both, male, female = rows[11], rows[18], rows[25]  # 2020 columns of the three blocks
    assert (both, male, female) == (280598105, 145655844, 134942261)
    tab = {sex: mig.stocks_by(s20, "destination", year=2020, sex=sex).table.set_index("destination")
           for sex in ("both", "male", "female")}
    # countries sum to the world total: no region counted twice, none left out
    assert tab["both"]["stock"].sum() == both
    # the sex split is '..' for one area (Bonaire, Sint Eustatius and Saba): NaN, never 0,
    # so male and female country sums fall short of the world totals by exactly its stock
    male_s = tab["male"]["stock"].reindex(tab["both"].index)
    split_missing = tab["both"].index[(male_s.isna() & tab["both"]["stock"].notna()).to_numpy()]
    assert list(split_missing) == ["BES"]
    gap = tab["both"].loc["BES", "stock"]
    assert tab["male"]["stock"].sum() + tab["female"]["stock"].sum() + gap == both
    assert tab["male"]["stock"].sum() < male and tab["female"]["stock"].sum() < female
    for sex, want in (("both", both), ("male", male), ("female", female)):
        world = s20.aggregates.query("m49 == 900 and year == 2020 and sex == @sex")["stock"].item()
        assert world == want


def test_women_share_and_iso_codes(s20):
    t = mig.women_share(s20, 2020, destinations=["MEX", "Costa Rica"]).table.set_index("destination")
    d = s20.data.query("year == 2020 and destination == 'MEX'").set_index("sex")["stock"]
    assert t.loc["MEX", "women_pct"] == pytest.approx(100 * d["female"] / d["both"], rel=1e-15)
    assert set(t.index) == {"MEX", "CRI"}


def test_stock_change_rate(s19):
    t = mig.stock_change(s19, 1990, 2019, origins=["MEX"]).table.iloc[0]
    assert t["annual_rate"] == pytest.approx(100 * np.log(t["stock_2019"] / t["stock_1990"]) / 29, rel=1e-14)
    assert t["change"] == t["stock_2019"] - t["stock_1990"]


def test_block_matrix_against_direct_sums(s19, raw19):
    g = mig.groupings()
    names = mig.country_table().set_index("iso3")["name"]
    t = mig.block_matrix(s19, 2019).table.set_index("origin_block")
    sica = sorted(g["SICA"].members(2019))
    r = raw19[raw19.Year == 2019].set_index("Dest")
    direct = r.loc[[names[i] for i in sica], [names[i] for i in sica]].to_numpy().sum()
    assert t.loc["SICA", "SICA"] == direct
    mercosur = [names[i] for i in sorted(g["MERCOSUR"].members(2019))]
    can = [names[i] for i in sorted(g["CAN"].members(2019))]
    assert t.loc["CAN", "MERCOSUR"] == r.loc[mercosur, can].to_numpy().sum()


def test_membership_by_year():
    g = mig.groupings()
    assert "VEN" in g["CAN"].members(2005) and "VEN" not in g["CAN"].members(2006)
    assert "VEN" in g["MERCOSUR"].members(2015) and "VEN" not in g["MERCOSUR"].members(2019)
    assert "DOM" not in g["SICA"].members(2010) and "DOM" in g["SICA"].members(2015)
    assert len(g["LAC"].members()) == 33
    assert set(mig.lac_subregions()) == {"Caribbean", "Central America", "South America"}
    assert "MEX" in mig.lac_subregions()["Central America"].members()


def test_intra_block_identity(s19):
    t = mig.intra_block(s19, 2019).table.set_index("block")
    m = mig.block_matrix(s19, 2019).table.set_index("origin_block")
    for b in ("SICA", "CAN", "MERCOSUR", "CARICOM"):
        assert t.loc[b, "intra"] == m.loc[b, b]
        assert t.loc[b, "intra"] + t.loc[b, "extra"] == m.loc[b, "total"]


def test_emigration_rates(s19, shared):
    pop = mig.read_un_population(shared(*XLSX))
    t = mig.emigration_rates(s19, pop, 2015, origins=["SLV"]).table.iloc[0]
    p = pop.query("country == 'SLV' and year == 2015 and sex == 'both'")["population"].item()
    assert t["emigration_rate_pct"] == pytest.approx(100 * t["emigrants"] / (p + t["emigrants"]), rel=1e-14)


# ---- bad input --------------------------------------------------------------------------

def _csv(tmp_path, text, name="s.csv"):
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


@pytest.mark.parametrize("text, words", [
    ("Year,Dest,Mexico\n2019,Atlantis,5\n", ["unknown destination", "Atlantis"]),
    ("Year,Dest,Mexcio\n2019,Spain,5\n", ["unknown origin", "Mexcio", "did you mean", "Mexico"]),
    ("Year,Dest,Mexico\n2019,Spain,5\n2019,Spain,6\n", ["duplicated", "Spain"]),
    ("Year,Dest,Mexico\n2019,Spain,-5\n", ["negative"]),
    ("Year,Dest,Mexico\n2019,Spain,abc\n", ["non-numeric", "'abc'", "Mexico"]),
    ("Country,Value\nSpain,5\n", ["unknown migrant-stock layout", "Year", "Dest"]),
    ("Year,Dest,Mexico\n", ["no rows"]),
    ("Year,Dest,Mexico\nxx,Spain,5\n", ["not a year"]),
])
def test_bad_csv(tmp_path, text, words):
    with pytest.raises(InputError) as e:
        mig.read_un_migrant_stock(_csv(tmp_path, text))
    for w in words:
        assert w in str(e.value)


def test_missing_file_and_year(tmp_path, s19):
    with pytest.raises(InputError, match="not found"):
        mig.read_un_migrant_stock(tmp_path / "nope.csv")
    with pytest.raises(InputError, match=r"year 2003 not in .* holds \[1990"):
        mig.stocks_by(s19, "origin", year=2003)
    with pytest.raises(InputError, match="needs stocks by sex"):
        mig.women_share(s19, 2019)


def test_bad_groupings():
    with pytest.raises(InputError, match="Gautemala.*did you mean.*Guatemala"):
        mig.groupings({"X": ["Gautemala", "Mexico"]})
    with pytest.raises(InputError, match="until"):
        mig.groupings({"X": {"members": [{"iso": "MEX", "since": 2000, "until": 1990}]}})
    g = mig.groupings({"NAFTA": ["Mexico", "USA", "Canada"]})
    assert g["NAFTA"].members() == {"MEX", "USA", "CAN"}


def test_thousands_separators_converted_and_reported(tmp_path):
    s = mig.read_un_migrant_stock(_csv(tmp_path, 'Year,Dest,Mexico,Peru\n2019,Spain,"1,234",..\n'))
    assert s.select(origin="MEX")["stock"].item() == 1234
    assert np.isnan(s.select(origin="PER")["stock"].item())
    assert s.load_report.find("converted") and s.load_report.find("missing")
