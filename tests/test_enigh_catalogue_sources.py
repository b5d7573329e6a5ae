"""remitpov's ENIGH income-item catalogue against two independent public programs (issue 12).

``fixtures/enigh_income_codes.json`` is extracted by ``tests/r/make_enigh_income_codes.py`` from

* CONEVAL's poverty-measurement program for ENIGH 2022 (GarciaJared/Coneval2022Analisis, commit
  f853a75): the code ranges of current monetary income ``ing_mon`` and of its labour, property and
  transfer parts, the pension codes and the 2022 income poverty lines;
* CIEP's fiscal simulator (rcantuc/SimuladorCIEP, 01_modulos/Households.do, commit dc12cee): each
  ENIGH income code named with its concept (wages, bonuses, indemnities, remittances, dividends,
  loans, asset sales ...).

Checked: every code's ``current`` flag equals membership of CONEVAL's ``ing_mon``; every current
code's group equals CONEVAL's (labour+business = ``ing_lab``, property = ``ing_ren``, transfers =
``ing_tra``) except the two documented ones; every code CIEP names has the group and the wording of
CIEP's concept; the shipped CONEVAL lines for 2022 equal the program's.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest

from remitpov.io.enigh_tables import coneval_lines, enigh_catalogue
from test_enigh_catalogue_codes import _codes as codes_of

FIX = json.loads((Path(__file__).resolve().parents[1] / "fixtures" / "enigh_income_codes.json").read_text("utf-8"))
CONEVAL = FIX["coneval_2022"]
#: current codes whose group differs from CONEVAL's on purpose (catalogue header): work-accident and
#: dismissal indemnities are labour income here (INEGI's ``indemtrab``), transfers in CONEVAL's ing_tra.
GROUP_EXCEPTIONS = {"P035": ("ing_lab", "ing_tra"), "P036": ("ing_lab", "ing_tra")}


def _in(code: str, ranges) -> bool:
    return any(a <= code <= b for a, b in ranges)  # CONEVAL compares clave as strings (inclusive)


def _codes() -> pd.DataFrame:
    """One row per (catalogue row, INEGI code)."""
    return codes_of(enigh_catalogue()).reset_index(drop=True)


def test_fixture_was_parsed():
    assert CONEVAL["ing_mon"] == [["P001", "P009"], ["P011", "P016"], ["P018", "P048"], ["P067", "P081"],
                                  ["P101", "P108"]]
    assert len(FIX["ciep"]) >= 30 and FIX["meta"]["coneval"]["commit"].startswith("f853a75")


def test_current_flag_is_conevals_current_monetary_income():
    c = _codes()
    coneval_current = c["code"].map(lambda k: _in(k, CONEVAL["ing_mon"]))
    bad = c.loc[coneval_current != c["current"], ["code", "description", "current"]]
    assert bad.empty, bad
    # the three items decided in issue 12: P034 current, P049 and P050 not
    cur = c.groupby("code")["current"].first()
    assert cur["P034"] and not cur["P049"] and not cur["P050"]


def test_groups_of_current_codes_are_conevals():
    c = _codes()
    c = c[c["current"]]
    ours = c["source"].map({"labour": "ing_lab", "business": "ing_lab", "property": "ing_ren",
                            "transfers": "ing_tra", "other": "none"})
    theirs = c["code"].map(lambda k: next((v for v in ("ing_lab", "ing_ren", "ing_tra") if _in(k, CONEVAL[v])),
                                          "none"))
    diff = {k: (a, b) for k, a, b in zip(c["code"], ours, theirs) if a != b}
    assert diff == GROUP_EXCEPTIONS
    # CONEVAL's pensions and older-adult programmes
    sub = c.groupby("code")["subsource"].first()
    assert [sub[k] for k in CONEVAL["ing_pens"]] == ["pensions", "pensions_abroad"]
    assert {sub[k] for k in CONEVAL["ing_pam"]} == {"government"}


#: CIEP variable -> (source, subsources or None, current or None, regex the description must match)
CIEP_GROUP = {
    "ing_empre": ("business", {"non_agricultural"}, True, r"^Por negocios"),
    "ing_agri": ("business", {"agricultural"}, True, r"^Por negocios con actividades"),
    "ing_ss": ("labour", None, True, r"sueldos|salarios|bono|trabajo secundario|INEGI code P018"),
    "ing_desta": ("labour", None, True, r"^Destajo$"),
    "ing_prop": ("labour", None, True, r"^Comisiones y propinas$"),
    "ing_horas": ("labour", None, True, r"^Horas extras$"),
    "ing_grati": ("labour", None, True, r"^Incentivos"),
    "ing_prima": ("labour", None, True, r"^Primas vacacionales"),
    "ing_util": ("labour", None, True, r"^Reparto de utilidades"),
    "ing_agui": ("labour", None, True, r"^Aguinaldo"),
    "ing_indemn": ("labour", None, True, r"^Indemnizaciones"),
    "ing_indemn2": ("labour", None, True, r"^Indemnizaciones"),
    "ing_indemn3": ("transfers", None, True, r"^Indemnizaciones"),
    "ing_jubila": ("transfers", {"pensions"}, True, r"^Jubilaciones"),
    "ing_honor": ("labour", None, True, r"Ganancias|Otros ingresos|Total de ingresos|INEGI code P01[9]|INEGI code P020"),
    "ing_rent": ("property", None, True, r"^Alquiler|renta de la propiedad"),
    "ing_enaje": ("capital", {"asset_sales"}, False, r"^Venta"),
    "ing_enajecasa": ("capital", {"asset_sales"}, False, r"^Venta de casas"),
    "ing_enajem": ("capital", {"asset_sales"}, False, r"^Venta"),
    "ing_dona": ("transfers", {"institutions", "between_households"}, True, r"^Donativos"),
    "ing_intereses": ("property", {"financial"}, True, r"^Intereses|^Rendimientos"),
    "ing_loter": ("capital", {"windfall"}, False, r"^Loterías"),
    "ing_acc": ("capital", {"dividends"}, False, r"acciones"),
    "ing_autor": ("property", None, True, r"derechos de autor"),
    "ing_remesas": ("transfers", {"remittances", "pensions_abroad"}, True, r"otro\(?s?\)? país"),
    "ing_trabmenor": ("labour", None, True, r"menores de 12"),
    "ing_prest": ("capital", {"loans", "loan_repayment"}, False, r"[Pp]réstamos"),
    "ing_otrocap": ("capital", None, False, r"^Otras percepciones financieras y de capital"),
    "ing_ahorro": ("capital", None, False, r"^Retiro de|^Seguros de vida"),
    "ing_benef": ("transfers", {"government", "institutions"}, True, r"^Becas|^Beneficio"),
    "ing_heren": ("capital", {"windfall"}, False, r"^Herencias"),
    "ing_PAM": ("transfers", {"government"}, True, r"adult[oa]s mayores|65 y más|Discapacidad"),
}
#: CIEP codes whose group differs from CIEP's concept on purpose: P049 ("Total de ingresos no
#: considerados en los anteriores") sits with CIEP's fees/other-work incomes for tax purposes; here it
#: is outside current income (``capital``), as in CONEVAL's ing_mon.
CIEP_EXCEPTIONS = {"P049": ("capital", "not_elsewhere_classified", False)}


@pytest.mark.parametrize("row", FIX["ciep"], ids=lambda r: f"{r['variable']}-{r['codes'][0]}")
def test_codes_named_by_ciep_have_its_group_and_wording(row):
    source, subs, current, pattern = CIEP_GROUP[row["variable"]]
    c = _codes()
    c = c[c["code"].isin(row["codes"])]
    assert set(c["code"]) == set(row["codes"]) - {"P017", "P010"}  # every named code is in the catalogue
    for _, r in c.iterrows():
        if r["code"] in CIEP_EXCEPTIONS:
            assert (r["source"], r["subsource"], r["current"]) == CIEP_EXCEPTIONS[r["code"]]
            continue
        assert r["source"] == source, (row["concept"], r["code"], r["description"], r["source"])
        assert subs is None or r["subsource"] in subs, (row["concept"], r["code"], r["subsource"])
        assert current is None or r["current"] == current, (row["concept"], r["code"])
        assert re.search(pattern, r["description"], flags=re.I), (row["concept"], r["code"], r["description"])


def test_every_ciep_variable_is_checked():
    assert {r["variable"] for r in FIX["ciep"]} == set(CIEP_GROUP)


def test_coneval_lines_2022_equal_conevals_program():
    lines = coneval_lines().table
    got = lines[(lines["country"] == "MEX") & (lines["year"] == 2022)].set_index("area")
    want = CONEVAL["lines_2022"]
    assert got.loc["urban", "indigence"] == want["lp1_urb"] and got.loc["rural", "indigence"] == want["lp1_rur"]
    assert got.loc["urban", "poverty"] == want["lp2_urb"] and got.loc["rural", "poverty"] == want["lp2_rur"]
