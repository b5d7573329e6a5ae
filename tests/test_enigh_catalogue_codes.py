"""INEGI's item codes in remitpov's ENIGH income-item catalogue (issue 12).

The catalogue gives every item wording INEGI's ``clave`` (P001-P108; two codes where INEGI uses
one wording for the main and the secondary job) with the basis of each code; loaders match codes
and descriptions alike. Checked here: the file's own consistency, that the codes named by the
cited sources are where the sources put them, that a code and its description classify an income
item identically, and that every description of the national 2018/2020/2022 files maps to
exactly one catalogue row with a code and one source group.
"""
from __future__ import annotations

import re

import pandas as pd
import pytest

from _enigh_small import small_enigh_tables as _small
from remitpov.io.enigh_tables import _norm, enigh_catalogue, read_enigh_tables

GROUP = ["source", "subsource", "current"]


def _codes(cat):
    """One row per (catalogue row, code)."""
    c = cat.assign(code=cat["code"].str.split(";")).explode("code")
    return c[c["code"] != ""]


def test_codes_are_well_formed_and_each_code_has_one_group():
    cat = enigh_catalogue()
    assert ((cat["code"] == "") == (cat["code_basis"] == "")).all()
    assert set(cat["code_basis"]) <= {"stated", "order", "range", ""}
    # 'range' rows (code and group known, wording not): placeholders that match codes only
    rng = cat[cat["code_basis"] == "range"]
    assert list(rng["code"]) == ["P018", "P019", "P020"] and rng["description"].str.startswith("[INEGI code").all()
    c = _codes(cat)
    assert c["code"].map(lambda x: re.fullmatch(r"P\d{3}", x) is not None).all()
    # a code shared by wordings of several years must classify all of them the same way
    groups = c.groupby("code")[GROUP].nunique()
    assert (groups == 1).all().all(), groups[(groups > 1).any(axis=1)]
    # within one survey year, one code is one group and one description is one row
    for year in ("2018", "2020", "2022"):
        yr = c[(c["years"] == "all") | c["years"].str.split(";").map(lambda ys: year in ys)]
        assert (yr.groupby("code")[GROUP].nunique() == 1).all().all()
    # the codes of the ranges CONEVAL's programs use (module docstring of the file): no gaps
    have = set(c["code"])
    expected = {f"P{i:03d}" for i in range(1, 82)} - {"P010", "P017"} | {f"P{i:03d}" for i in range(101, 109)}
    assert have == expected  # P010 and P017 (outside CONEVAL's ranges, not in the files): listed in the header


def test_codes_named_by_the_sources():
    """Codes a cited source names together with the item ('stated' basis)."""
    cat = enigh_catalogue()
    code = dict(zip(cat["description"], cat["code"]))
    assert code["Ingresos provenientes de otros países"] == "P041"
    assert code["Jubilaciones y/o pensiones originadas dentro del país"] == "P032"
    assert code["Jubilaciones y/o pensiones provenientes de otro(s) país(es)"] == "P033"
    assert code["Becas provenientes del gobierno"] == "P038"
    assert code["Donativos en dinero provenientes de otros hogares"] == "P040"
    assert code["Beneficio del programa 65 y más"] == "P044"
    assert code["Programa para el Bienestar de las Personas Adultas Mayores"] == "P104"
    assert code["Aguinaldo del ejercicio 2021"] == "P009;P016" and code["Reparto de utilidades del ejercicio 2021"] == "P008;P015"
    # the groups CONEVAL's programs give to code ranges
    c = _codes(cat).assign(n=lambda d: d["code"].str[1:].astype(int))
    assert (c.loc[c.n.between(23, 31), "source"] == "property").all()
    assert (c.loc[c.n.between(68, 81), "source"] == "business").all()
    assert (c.loc[c.n.between(1, 22) | (c.n == 67), "source"] == "labour").all()
    assert code["Sueldos o salarios"] == "P011" and code["Ganancias/utilidades"] == "P012"
    assert (c.loc[c.n.between(51, 66), "current"] == False).all()  # noqa: E712 - capital receipts
    assert (c.loc[c.n.between(101, 108), "subsource"] == "government").all()
    assert (c.loc[c.n.between(32, 48), "current"]).all()  # CONEVAL's ing_mon range (P034 current since 2026-11)
    assert not c.loc[c.n.isin([49, 50]), "current"].any()  # outside CONEVAL's ing_mon


@pytest.mark.parametrize("year", [2018, 2020, 2022])
def test_codes_and_descriptions_give_the_same_survey(tmp_path, year):
    """Every wording of the year once, then the same rows with each wording's first code."""
    cat = enigh_catalogue()
    yr = cat[(cat["years"] == "all") | cat["years"].str.split(";").map(lambda ys: str(year) in ys)]
    by_desc = read_enigh_tables(_small(tmp_path / "d", list(yr["description"]), year))
    by_code = read_enigh_tables(_small(tmp_path / "c", list(yr["code"].str.split(";").str[0]), year))
    assert not by_desc.report.find("unmatched") and not by_code.report.find("unmatched")
    pd.testing.assert_frame_equal(by_desc.data, by_code.data)
    # the second code of a two-code wording (secondary job) classifies like the first
    two = yr[yr["code"].str.contains(";")]
    by_second = read_enigh_tables(_small(tmp_path / "s", list(two["code"].str.split(";").str[1]), year))
    by_first = read_enigh_tables(_small(tmp_path / "f", list(two["code"].str.split(";").str[0]), year))
    pd.testing.assert_frame_equal(by_first.data, by_second.data)


@pytest.mark.slow
@pytest.mark.shared
@pytest.mark.parametrize("year", [2018, 2020, 2022])
def test_every_description_of_the_national_files_has_one_code_and_group(shared, year):
    claves = pd.read_csv(shared("data", "enigh_national") / f"ingresos_{year}.csv.gz", usecols=["clave"],
                         dtype=str)["clave"].drop_duplicates()
    cat = enigh_catalogue()
    key = _norm(cat["description"])
    hits = _norm(claves).map(lambda k: int((key == k).sum()))
    assert (hits == 1).all(), list(claves[hits != 1])  # exactly one catalogue row each
    rows = cat.set_index(key).loc[_norm(claves).to_numpy()]
    assert (rows["code"] != "").all()  # every description of the files has INEGI's code
    assert rows[GROUP].notna().all().all()
    assert len(claves) == {2018: 67, 2020: 71, 2022: 71}[year]  # distinct items in the files
