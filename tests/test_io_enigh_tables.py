"""read_enigh_tables: INEGI's relational ENIGH tables -> household Survey.

Small hand-made tables check every rule and bad input exactly; the real national tables
(slow: ~10 s per year to read) are checked against independent plain-pandas computations
from the raw files.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from remitpov.exceptions import InputError
from remitpov.io.enigh_tables import ENIGH_TABLE_SOURCES, TRANSFER_SOURCES, enigh_catalogue, read_enigh_tables
from remitpov.io.registry import load

REMIT = "Ingresos provenientes de otros países"


def _viv():
    return pd.DataFrame({
        "folioviv": ["0100000001", "0100000002", "0200000003", "3200000004"],
        "tot_resid": [3, 4, 5, 2], "tot_hog": [1, 1, 2, 1],
        "ubica_geo": ["01001", "01001", "02004", "32010"],
        "tam_loc": ["Localidades con 100 000 y más habitantes", "Localidades con menos de 2500 habitantes",
                    "Localidades con 2 500 a 14 999 habitantes", "Localidades con menos de 2 500 habitantes"],
        "est_dis": ["001", "001", "002", "003"], "upm": ["0000001", "0000001", "0000002", "0000003"],
        "factor": [100.0, 200.0, 300.0, 400.0]})


def _hog():
    return pd.DataFrame({"folioviv": ["0100000001", "0100000002", "0200000003", "0200000003", "3200000004"],
                         "foliohog": ["1", "1", "1", "2", "1"]})


def _ing():
    rows = [("0100000001", "1", "01", "Sueldos, salarios o jornal", 9000.0),
            ("0100000001", "1", "02", REMIT, 3000.0),
            ("0100000001", "1", "02", "Préstamos recibidos de personas ajenas al hogar o instituciones, se excluyen "
                                     "préstamos hipotecarios", 5000.0),
            ("0100000002", "1", "01", "Por negocios  prestadores  de servicios", 2000.0),  # double spaces as in INEGI
            ("0100000002", "1", "01", "Aguinaldo del ejercicio 2015", 100.0),  # 2016 wording
            ("0200000003", "1", "01", "Programa para el Bienestar de las Personas Adultas Mayores", 1500.0),
            ("0200000003", "2", "01", "Donativos en dinero provenientes de otros hogares", 700.0),
            ("0200000003", "2", "01", "P041", 50.0),  # INEGI's code instead of the description
            ("0200000003", "2", "01", "Jubilaciones y/o pensiones provenientes de otro(s) país(es)", 60.0),
            ("0200000003", "2", "01", "Intereses provenientes de cuentas de ahorro", 10.0)]
    df = pd.DataFrame(rows, columns=["folioviv", "foliohog", "numren", "clave", "ing_tri"])
    for k in range(1, 7):
        df[f"ing_{k}"] = df["ing_tri"] / 3
    return df


def _write(folder, viv=None, hog=None, ing=None, year=2022):
    folder.mkdir(exist_ok=True)
    for name, df in (("viviendas", viv), ("hogares", hog), ("ingresos", ing)):
        df = {"viviendas": _viv, "hogares": _hog, "ingresos": _ing}[name]() if df is None else df
        if df is not False:
            df.to_csv(folder / f"{name}_{year}.csv", index=False)
    return folder


def test_small_tables_by_hand(tmp_path):
    s = read_enigh_tables(_write(tmp_path / "t"))
    d = s.data.set_index(["folioviv", "foliohog"])
    assert s.n == 5 and s.metadata.year == 2022 and s.metadata.income_period == "quarter"
    h1 = d.loc[("0100000001", "1")]
    assert h1.labour == 9000 and h1.remittances == 3000 and h1.capital == 5000 and h1.ing_mon == 12000
    h2 = d.loc[("0100000002", "1")]
    assert h2.business == 2000 and h2.labour == 100 and h2.ing_mon == 2100 and h2.area == "rural"
    h3a, h3b = d.loc[("0200000003", "1")], d.loc[("0200000003", "2")]
    assert h3a.government == 1500 and h3a.transfers == 1500
    assert (h3b.between_households, h3b.remittances, h3b.pensions_abroad, h3b.property) == (700, 50, 60, 10)
    assert h3b.transfers == 810 and h3b.ing_mon == 820
    # two households in one dwelling: tot_resid 5 split equally (default policy), weight shared
    assert h3a["size"] == 2.5 and h3b["size"] == 2.5 and h3a.factor == 300 == h3b.factor
    assert d.loc[("3200000004", "1")].ing_mon == 0 and d.loc[("3200000004", "1")].state == 32
    assert list(s.data.state) == [1, 1, 2, 2, 32]
    assert (s.data.households == 1).all()  # expanded total = number of households (reproduce target)
    assert (s.strata, s.psu, s.weight, s.size) == ("est_dis", "upm", "factor", "size")
    assert s.role("income") == "ing_mon" and s.role("region") == "state" and s.role("area") == "area"
    assert set(s.sources) == set(ENIGH_TABLE_SOURCES)
    txt = str(s.report)
    assert "size_policy" in txt and "2 households share a dwelling" in txt
    assert "another year's wording" in txt and "Aguinaldo del ejercicio 2015" in txt
    assert not s.report.find("unmatched")
    # sum over sources equals the sum of current items in the raw table
    raw = _ing()
    assert np.isclose(s.data.ing_mon.sum(), raw.ing_tri.sum() - 5000)


def test_multi_household_policies(tmp_path):
    f = _write(tmp_path / "t")
    s = read_enigh_tables(f, multi_household="dwelling")
    assert list(s.data["size"]) == [3, 4, 5, 5, 2]
    with pytest.raises(InputError, match="several households"):
        read_enigh_tables(f, multi_household="error")
    with pytest.raises(InputError, match="multi_household must be"):
        read_enigh_tables(f, multi_household="average")


def test_unknown_item_reported_and_kept_out_of_income(tmp_path):
    ing = _ing()
    ing.loc[0, "clave"] = "Ingreso misterioso"
    f = _write(tmp_path / "t", ing=ing)
    s = read_enigh_tables(f)
    (ch,) = s.report.find("unmatched")
    assert "'Ingreso misterioso' (1 rows, 900,000 pesos/quarter expanded)" in ch.message
    d = s.data.set_index(["folioviv", "foliohog"]).loc[("0100000001", "1")]
    assert d.unclassified == 9000 and d.labour == 0 and d.ing_mon == 3000
    with pytest.raises(InputError, match="not in remitpov's ENIGH catalogue: 'Ingreso misterioso'"):
        read_enigh_tables(f, unknown_items="error")


@pytest.mark.parametrize("change, match", [
    (lambda v, h, i: (v, h.assign(folioviv=h.folioviv.replace("3200000004", "3200000009")), i),
     "households without a dwelling"),
    (lambda v, h, i: (v, h, i.assign(foliohog=i.foliohog.where(i.index != 0, "7"))),
     "income rows whose household is not in hogares"),
    (lambda v, h, i: (v, h, i.assign(ing_tri=i.ing_tri.where(i.index != 1, -5.0))), "negative ing_tri"),
    (lambda v, h, i: (v.assign(ubica_geo=v.ubica_geo.replace("32010", "33010")), h, i), r"outside 1-32.*'33'"),
    (lambda v, h, i: (v.assign(factor=v.factor.where(v.index != 0, 0.0)), h, i), r"weight column 'factor' is zero or negative in 1 row \(e\.g\. id='\d+-1'\)"),
    (lambda v, h, i: (v.assign(factor=v.factor.where(v.index != 0, np.nan)), h, i),
     r"weight column 'factor' is missing in 1 row"),
    (lambda v, h, i: (pd.concat([v, v.iloc[:1]]), h, i), "folioviv duplicated"),
    (lambda v, h, i: (v, pd.concat([h, h.iloc[:1]]), i), r"\(folioviv, foliohog\) duplicated"),
    (lambda v, h, i: (v, h, pd.concat([i, i])), "exact copies of another row.*appended twice"),
    (lambda v, h, i: (v.assign(tam_loc="grande"), h, i), "tam_loc"),
    (lambda v, h, i: (v, h, i.drop(columns="ing_tri")), r"lacks column\(s\) \['ing_tri'\]"),
])
def test_bad_input(tmp_path, change, match):
    v, h, i = change(_viv(), _hog(), _ing())
    with pytest.raises(InputError, match=match):
        read_enigh_tables(_write(tmp_path / "t", v, h, i))


def test_negative_kept_and_duplicates_policies(tmp_path):
    i = _ing()
    i.loc[1, "ing_tri"] = -5.0
    s = read_enigh_tables(_write(tmp_path / "a", ing=i), negative_amounts="keep")
    assert s.report.find("negative") and s.data.remittances.iloc[0] == -5.0
    dup = pd.concat([_ing(), _ing().iloc[[1]]], ignore_index=True)  # one duplicated remittance row
    f = _write(tmp_path / "b", ing=dup)
    with pytest.raises(InputError, match="exact copies"):  # 1 of 11 rows > 1 %
        read_enigh_tables(f)
    s = read_enigh_tables(f, duplicate_share=0.2)
    assert s.report.find("duplicates_kept") and s.data.remittances.iloc[0] == 6000
    s = read_enigh_tables(f, duplicates="drop")
    assert s.report.find("dropped") and s.data.remittances.iloc[0] == 3000
    with pytest.raises(InputError, match="exact copies"):
        read_enigh_tables(f, duplicates="error", duplicate_share=0.5)


def test_missing_and_mixed_tables(tmp_path):
    f = _write(tmp_path / "m", hog=False)
    with pytest.raises(InputError, match=r"table\(s\) \['hogares'\] missing"):
        read_enigh_tables(f)
    f = _write(tmp_path / "x")
    _hog().to_csv(f / "hogares_2020.csv", index=False)
    with pytest.raises(InputError, match=r"years \[2020, 2022\].*pass year="):
        read_enigh_tables(f)
    with pytest.raises(InputError, match="different years mixed: viviendas=2022, hogares=2020"):
        read_enigh_tables([f / "viviendas_2022.csv", f / "hogares_2020.csv", f / "ingresos_2022.csv"])
    with pytest.raises(InputError, match="year=2018 but the ENIGH table files are of 2022"):
        read_enigh_tables({t: f / f"{t}_2022.csv" for t in ("viviendas", "hogares", "ingresos")}, year=2018)
    with pytest.raises(InputError, match="not found"):
        read_enigh_tables(tmp_path / "absent")
    # a list or mapping of files gives the same survey as the folder
    a = read_enigh_tables(f, year=2022)
    b = read_enigh_tables([f / "ingresos_2022.csv", f / "viviendas_2022.csv", f / "hogares_2022.csv"])
    pd.testing.assert_frame_equal(a.data, b.data)


def test_folioviv_zero_padding(tmp_path):
    i = _ing()
    i["folioviv"] = i.folioviv.str.lstrip("0")  # numeric copies lose the leading 0 of states 01-09
    s = read_enigh_tables(_write(tmp_path / "z", ing=i))
    assert "zero-padded" in str(s.report) and s.data.remittances.iloc[0] == 3000


def test_catalogue_is_consistent():
    cat = enigh_catalogue()
    assert not cat.description.duplicated().any()
    assert set(cat.source) <= {"labour", "business", "property", "transfers", "other", "capital"}
    assert set(cat.loc[cat.source == "transfers", "subsource"]) == set(TRANSFER_SOURCES)
    # only non-current items in 'capital', and every capital item is non-current
    assert (cat.current == (cat.source != "capital")).all()
    assert cat.loc[cat.code == "P041", "subsource"].item() == "remittances"
    for w in ("Préstamos", "Venta de", "Retiro de inversiones"):
        assert not cat.loc[cat.description.str.startswith(w), "current"].any()


# ---------------------------------------------------------------------- real national tables
def _raw(shared, year):
    """Independent plain-pandas computation from the raw tables (no remitpov code)."""
    f = shared("data", "enigh_national")
    viv = pd.read_csv(f / f"viviendas_{year}.csv.gz", dtype={"folioviv": str, "ubica_geo": str},
                      usecols=["folioviv", "factor", "ubica_geo"])
    hog = pd.read_csv(f / f"hogares_{year}.csv.gz", dtype={"folioviv": str}, usecols=["folioviv", "foliohog"])
    ing = pd.read_csv(f / f"ingresos_{year}.csv.gz", dtype={"folioviv": str}, usecols=["folioviv", "foliohog", "clave", "ing_tri"])
    for t in (viv, hog, ing):  # the 2018 copies lost the leading 0 of states 01-09
        t["folioviv"] = t.folioviv.str.zfill(10)
    viv["ubica_geo"] = viv.ubica_geo.str.zfill(5)
    hh = hog.merge(viv, on="folioviv")
    rem = ing[ing.clave == REMIT].groupby(["folioviv", "foliohog"]).ing_tri.sum().rename("rem")
    hh = hh.merge(rem, left_on=["folioviv", "foliohog"], right_index=True, how="left").fillna({"rem": 0.0})
    hh["state"] = hh.ubica_geo.str[:2].astype(int)
    return hh


@pytest.mark.slow
@pytest.mark.shared
@pytest.mark.parametrize("year", [2018, 2020, 2022])
def test_national_tables_against_plain_pandas(shared, year):
    hh = _raw(shared, year)
    s = read_enigh_tables(shared("data", "enigh_national"), year=year)
    d = s.data
    assert s.n == len(hh) == {2018: 74647, 2020: 89006, 2022: 90102}[year]  # shared README's household counts
    # expanded households: exact sums of integer factors
    assert d.factor.sum() == hh.factor.sum()
    # recipient share (weighted): same households
    rec_pp = (hh.factor * (hh.rem > 0)).sum() / hh.factor.sum()
    rec = (d.factor * (d.remittances > 0)).sum() / d.factor.sum()
    assert rec == pytest.approx(rec_pp, rel=1e-12)  # same sums in another order: rounding only
    # state-level expanded remittances
    st_pp = (hh.rem * hh.factor).groupby(hh.state).sum()
    st = (d.remittances * d.factor).groupby(d.state).sum()
    pd.testing.assert_series_equal(st.sort_index(), st_pp.sort_index(), check_names=False, rtol=1e-12)
    assert len(st) == 32
    assert not s.report.find("unmatched")  # every description of the three years is in the catalogue
    assert 0.03 < rec < 0.07  # 4-6 % of households receive remittances in ENIGH 2018-2022


@pytest.mark.slow
@pytest.mark.shared
def test_registry_loads_enigh_tables(shared):
    s = load("enigh_tables", shared("data", "enigh_national"), year=2020)
    assert s.metadata.loader == "read_enigh_tables" and s.metadata.year == 2020
