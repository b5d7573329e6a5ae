"""Build ``remitpov/migration/data/countries.csv`` (run once; not needed at run time).

Countries and areas are taken from UN DESA's *International Migrant Stock 2020* workbook
(Table 1: location code = UN M49 numeric code, name, continent and subregion from the
geographic hierarchy of the table); ISO 3166-1 alpha-3 codes come from ``pycountry`` by
numeric code (M49 country codes are ISO 3166-1 numeric codes). Areas without an ISO code
get the code the UN/World Bank use (Channel Islands: CHI). Names used by the 2019
origin-destination file that differ from the 2020 names are kept as aliases.

    pip install pycountry
    python scripts/make_countries.py /path/to/shared
"""
from __future__ import annotations

import sys
from pathlib import Path

import gettext

import pandas as pd
import pycountry

ES = gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=["es"])
#: short English names for charts where pycountry's are long or official
SHORT_EN = {"USA": "United States", "GBR": "United Kingdom", "RUS": "Russia", "KOR": "Republic of Korea",
            "PRK": "DPR Korea", "IRN": "Iran", "SYR": "Syria", "LAO": "Lao PDR", "TZA": "Tanzania",
            "COD": "DR Congo", "FSM": "Micronesia", "MDA": "Moldova", "VNM": "Viet Nam", "CHI": "Channel Islands"}
SHORT_ES = {"SUR": "Suriname", "CIV": "Côte d'Ivoire", "BOL": "Bolivia (Estado Plurinacional de)", "VEN": "Venezuela (República Bolivariana de)",
            "CHI": "Islas del Canal", "USA": "Estados Unidos", "GBR": "Reino Unido"}

shared = Path(sys.argv[1] if len(sys.argv) > 1 else "../shared")
mig = shared / "data" / "migration"
t = pd.read_excel(mig / "undesa_pd_2020_ims_stock_by_sex_and_destination.xlsx",
                  sheet_name="Table 1", header=None, skiprows=11)
names = t[1].astype(str)
CONTINENTS = {"AFRICA": "Africa", "ASIA": "Asia", "EUROPE": "Europe",
              "LATIN AMERICA AND THE CARIBBEAN": "Latin America and the Caribbean",
              "NORTHERN AMERICA": "Northern America", "OCEANIA": "Oceania"}
rows, continent, subregion, geo = [], None, None, False
for raw, code in zip(names, t[3]):
    name = raw.strip().rstrip("*").strip()
    lead = len(raw) - len(raw.lstrip(" "))
    code = int(code)
    if name == "AFRICA":
        geo = True
    if not geo:
        continue
    if code >= 900:
        if lead == 1:
            continent, subregion = CONTINENTS[name], None
        else:
            subregion = name
        continue
    c = pycountry.countries.get(numeric=f"{code:03d}")
    iso3 = c.alpha_3 if c is not None else {830: "CHI"}[code]
    common = getattr(c, "common_name", None) if c is not None else None
    short = SHORT_EN.get(iso3) or common or (c.name if c is not None else name)
    name_es = SHORT_ES.get(iso3) or (ES.gettext(common) if common else ES.gettext(c.name))
    rows.append({"m49": code, "iso3": iso3, "name": name, "name_short": short, "name_es": name_es,
                 "continent": continent, "subregion": subregion or continent})
df = pd.DataFrame(rows)
# ECLAC's 33 member countries in Latin America and the Caribbean
eclac = {"ATG", "ARG", "BHS", "BRB", "BLZ", "BOL", "BRA", "CHL", "COL", "CRI", "CUB", "DMA", "DOM",
         "ECU", "SLV", "GRD", "GTM", "GUY", "HTI", "HND", "JAM", "MEX", "NIC", "PAN", "PRY", "PER",
         "KNA", "LCA", "VCT", "SUR", "TTO", "URY", "VEN"}
assert eclac <= set(df.iso3), eclac - set(df.iso3)
df["eclac_member"] = df.iso3.isin(eclac)
# names of the 2019 origin-destination file that differ from the 2020 workbook's
o19 = pd.read_csv(mig / "un_migrant_stock_origin_destination_2019.csv.gz", nrows=0)
known = set(df.name)
alias = {"Micronesia (Fed. States of)": "FSM", "Turkey": "TUR", "Côte d'Ivoire": "CIV",
         "Curaçao": "CUW", "Réunion": "REU"}
extra = {}
for n in list(o19.columns[2:]):
    if n not in known:
        iso = alias.get(n)
        if iso is None:
            raise SystemExit(f"2019 name without a 2020 match: {n!r}")
        extra.setdefault(iso, []).append(n)
df["aliases"] = df.iso3.map(lambda i: ";".join(extra.get(i, [])))
out = Path(__file__).resolve().parent.parent / "remitpov" / "migration" / "data" / "countries.csv"
df.sort_values("m49").to_csv(out, index=False)
print(f"wrote {out} ({len(df)} countries and areas, {df.eclac_member.sum()} ECLAC members)")
