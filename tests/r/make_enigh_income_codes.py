"""Extract ENIGH income-code groups from two independent public programs -> fixtures/enigh_income_codes.json.

Sources (download the two files at these commits, then run
``python tests/r/make_enigh_income_codes.py CONEVAL_PY CIEP_DO > fixtures/enigh_income_codes.json``):

[coneval] CONEVAL's poverty-measurement program for ENIGH 2022 (Python), public copy
    https://github.com/GarciaJared/Coneval2022Analisis/blob/f853a75d22ba1ce638b0508a9f19907be20e5f0c/data/Pobreza%202022%20CONEVAL.py
    -> the code ranges of ``ing_mon`` (current monetary income), ``ing_lab``, ``ing_ren``, ``ing_tra``
    (``clave.between('Pxxx', 'Pyyy')`` and ``clave == 'Pxxx'``), the codes of the pension and older-adult
    programme incomes, and the income poverty lines ``lp1_urb``, ``lp1_rur``, ``lp2_urb``, ``lp2_rur``.
[ciep] CIEP's fiscal simulator, ENIGH households module (Stata), public repository
    https://github.com/rcantuc/SimuladorCIEP/blob/dc12cee406225fdf6568b89b54e093320866365f/01_modulos/Households.do
    -> every ``* x. Concept *`` comment followed by ``g|replace ing_name = ing_anual if clave == "Pxxx" | ...``:
    the concept, the variable and its codes (codes joined to another condition by ``&`` are kept
    apart as ``conditional``).

Only the standard library is used; the parse is by regular expressions on the files as published
(a change of layout makes the script fail loudly rather than write a partial fixture).
"""
from __future__ import annotations

import json
import re
import sys
from pathlib import Path

CODE = r"P\d{3}"


def _codes_between(text: str) -> list[list[str]]:
    return [[a, b] for a, b in re.findall(rf"between\('({CODE})', '({CODE})'\)", text)]


def coneval(path: Path) -> dict:
    src = path.read_text(encoding="utf-8")
    out = {}
    for var in ("ing_mon", "ing_lab", "ing_ren", "ing_tra"):
        # the statement that assigns the variable: from ".loc[" to ", 'var'] = "
        m = re.search(rf"\.loc\[((?:(?!\.loc\[).)*?), '{var}'\] = ingreso_deflactado22\['ing_mens'\]", src,
                      flags=re.S)
        if m is None:
            raise SystemExit(f"coneval: no assignment of {var}")
        out[var] = _codes_between(m.group(1))
        if not out[var]:
            raise SystemExit(f"coneval: no code range for {var}")
    pens = re.search(r"pens\['ing_pens'\] = np\.where\((.*?)\),\n", src, flags=re.S)
    pam = re.search(r"pens\['ing_pam'\] = np\.where\((.*?)\),\n", src, flags=re.S)
    out["ing_pens"] = sorted(set(re.findall(rf"== '({CODE})'", pens.group(1))))
    out["ing_pam"] = sorted(set(re.findall(rf"== '({CODE})'", pam.group(1))))
    lines = {}
    for name in ("lp1_urb", "lp1_rur", "lp2_urb", "lp2_rur"):
        vals = {float(v) for v in re.findall(rf"^{name} = ([0-9.]+)", src, flags=re.M)}
        if len(vals) != 1:
            raise SystemExit(f"coneval: {name} has values {vals}")
        lines[name] = vals.pop()
    out["lines_2022"] = lines
    return out


def ciep(path: Path) -> list[dict]:
    src = path.read_text(encoding="utf-8").replace("///\n", " ")
    rows = []
    label = None
    for line in src.splitlines():
        m = re.match(r"^\*\s*[a-z]{1,2}\.\s+(.+?)\s*\*\s*$", line)
        if m:
            label = m.group(1)
            continue
        m = re.match(r"^\s*(?:g|gen|replace)\s+(?:double\s+)?(ing_\w+)\s*=\s*ing_anual\s+if\s+(.*)$", line)
        if m and label is not None and re.search(rf'clave\s*[=<>]=\s*"{CODE}"', m.group(2)):
            cond = m.group(2).split("//")[0]
            conditional = sorted(set(re.findall(rf'\(clave == "({CODE})" &', cond)))
            codes = set(re.findall(rf'clave == "({CODE})"', cond)) - set(conditional)
            for a, b in re.findall(rf'clave >= "({CODE})" & clave <= "({CODE})"', cond):
                codes |= {f"P{i:03d}" for i in range(int(a[1:]), int(b[1:]) + 1)}
            rows.append({"concept": label, "variable": m.group(1), "codes": sorted(codes),
                         "conditional": conditional})
    if len(rows) < 20:
        raise SystemExit(f"ciep: only {len(rows)} concept rows parsed")
    return rows


def main(argv: list[str]) -> None:
    coneval_py, ciep_do = map(Path, argv[1:3])
    out = {
        "meta": {
            "what": "ENIGH income codes (ingresos.clave) by group, from two public programs independent of remitpov",
            "coneval": {"repo": "GarciaJared/Coneval2022Analisis", "path": "data/Pobreza 2022 CONEVAL.py",
                        "commit": "f853a75d22ba1ce638b0508a9f19907be20e5f0c",
                        "note": "CONEVAL's poverty-measurement program for ENIGH 2022 (Python); ranges are inclusive "
                                "string ranges of clave"},
            "ciep": {"repo": "rcantuc/SimuladorCIEP", "path": "01_modulos/Households.do",
                     "commit": "dc12cee406225fdf6568b89b54e093320866365f",
                     "note": "CIEP fiscal simulator, ENIGH incomes by concept of Mexico's income-tax law"},
            "generator": "tests/r/make_enigh_income_codes.py",
        },
        "coneval_2022": coneval(coneval_py),
        "ciep": ciep(ciep_do),
    }
    json.dump(out, sys.stdout, indent=1, ensure_ascii=False)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main(sys.argv)
