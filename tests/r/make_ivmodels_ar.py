"""Reference values for remitpov.econometrics.weakiv (homoskedastic Anderson-Rubin) from ivmodels.

ivmodels (PyPI, 0.10.0; London & co., https://github.com/mlondschien/ivmodels) implements the
Anderson-Rubin test and its inversion with the classical (homoskedastic) variance. It is NOT a
dependency of remitpov: install it in a throw-away environment to regenerate, e.g.

    python -m venv /tmp/ivm && /tmp/ivm/bin/pip install ivmodels pandas
    REMITPOV_SHARED=../shared /tmp/ivm/bin/python tests/r/make_ivmodels_ar.py

Writes fixtures/ivmodels_ar.json: AR statistics (F form, p-values from F(q, n - k)) at several
values and the boundaries of the 95 % and 90 % AR sets, on the LAC Gini panel (log Gini on log
remittances; true lags t-1, t-3 as instruments -- a strong first stage, bounded set; and the
file's leads rm_l1/rm_l3 with country dummies -- a weak first stage, unbounded set) and on
CigarettesSW 1995 (Stock & Watson).
"""
from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pandas as pd
from ivmodels.tests import anderson_rubin_test, inverse_anderson_rubin_test

shared = Path(os.environ.get("REMITPOV_SHARED", "../shared"))
g = pd.read_csv(shared / "data" / "lac_panel" / "lac_gini_remittances_panel.csv")
g["year"] = g["year"].astype(str).str[:4].astype(int)
w = pd.read_csv(shared / "data" / "lac_panel" / "wdi_lac_1990_2021.csv", usecols=["country", "year", "personal_rm"])
for k in (1, 3):
    g = g.merge(w.assign(year=w["year"] + k).rename(columns={"personal_rm": f"rm_lag{k}"}), on=["country", "year"],
                how="left")
g = g.sort_values(["country", "year"]).reset_index(drop=True)
d = pd.read_csv(shared / "data" / "econ" / "CigarettesSW.csv.gz")
d = d[d["year"] == 1995].reset_index(drop=True)

cases = {}


def case(name, y, x, C, Z, betas):
    y, x, C, Z = (np.asarray(a, dtype=float) for a in (y, x, C, Z))
    out = {"n": int(y.size), "q": int(Z.shape[1]), "beta0": list(map(float, betas)), "stat": [], "pvalue": []}
    for b in betas:
        s, p = anderson_rubin_test(Z, x[:, None], y, beta=np.array([b]), C=C, critical_values="f")
        out["stat"].append(float(s))
        out["pvalue"].append(float(p))
    for level in (0.95, 0.90):
        qd = inverse_anderson_rubin_test(Z, x[:, None], y, alpha=1 - level, C=C, critical_values="f")
        # 1-d quadric a b^2 + b1 b + c <= 0: its roots and whether the set is bounded (a > 0)
        a, b1, c = float(qd.A[0, 0]), float(qd.b[0]), float(qd.c)
        roots = np.roots([a, b1, c])
        if qd.is_empty() or np.iscomplexobj(roots) and np.any(roots.imag != 0):
            out[f"set_{int(level * 100)}"] = {"roots": [], "kind": "empty"}
        else:
            out[f"set_{int(level * 100)}"] = {"roots": sorted(roots.real.tolist()),
                                              "kind": "bounded" if a > 0 else "unbounded"}
    cases[name] = out


gc = g.dropna(subset=["rm_lag1", "rm_lag3"]).reset_index(drop=True)
exog = gc[["gov_e", "debt_s", "ca_balance"]]
case("gini_lags", np.log(gc["gini"]), np.log(gc["rm"]), exog, np.log(gc[["rm_lag1", "rm_lag3"]]),
     [-0.02, 0.0, 0.005, 0.01, 0.05])
dummies = pd.get_dummies(g["country"], drop_first=True).astype(float)
case("gini_fe_leads", np.log(g["gini"]), np.log(g["rm"]),
     pd.concat([g[["gov_e", "debt_s", "ca_balance"]], dummies], axis=1), np.log(g[["rm_l1", "rm_l3"]]),
     [-1.0, -0.05, 0.0, 0.05, 1.0])
lrincome = np.log(d["income"] / d["population"] / d["cpi"])
case("cigarettes", np.log(d["packs"]), np.log(d["price"] / d["cpi"]), lrincome.to_frame(),
     pd.DataFrame({"rtaxs": (d["taxs"] - d["tax"]) / d["cpi"], "rtax": d["tax"] / d["cpi"]}),
     [-2.0, -1.277, -1.0, 0.0])
import importlib.metadata as md

out = {"meta": {"generator": "tests/r/make_ivmodels_ar.py", "ivmodels": md.version("ivmodels"),
                "notes": "stat: AR F statistic (ivmodels anderson_rubin_test, critical_values='f'); set_95/set_90: "
                         "roots of inverse_anderson_rubin_test's quadric (kind 'bounded': the interval between "
                         "them; 'unbounded': the two rays outside; 'empty': no real root)"},
       **cases}
Path("fixtures/ivmodels_ar.json").write_text(json.dumps(out, indent=2) + "\n")
print(json.dumps(cases, indent=1)[:2000])
