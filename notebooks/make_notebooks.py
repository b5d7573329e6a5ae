"""Regenerate the tutorial notebooks and execute them: they are committed WITH their outputs
(tables, printed results and inline plots), so they read on GitHub without running.

    REMITPOV_SHARED=../shared python notebooks/make_notebooks.py

The cells are narrative and results only: the checks of their numbers live in
``tests/test_notebooks.py`` (:data:`CHECKS` there), which executes every notebook again, runs
the checks in the notebook's own kernel and verifies that the committed copies have outputs.
The ENIGH and "reproduce" notebooks need the shared data folder ($REMITPOV_SHARED, default
../shared).
"""
from __future__ import annotations

from pathlib import Path

import os
import sys

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

HERE = Path(__file__).resolve().parent

NOTEBOOKS = {
    "01_quickstart_synthetic.ipynb": [
        ("md", """# Quickstart: remittances, poverty and inequality on a synthetic survey

This notebook needs no external data. It uses `remitpov`'s seeded, ENIGH-like synthetic
survey (nothing here is real data) to show the core workflow:

1. build per-capita monthly income **with** and **without** remittances;
2. poverty with and without remittances, with design-based standard errors;
3. the Gini coefficient and its Lerman–Yitzhaki decomposition;
4. the whole chapter (tables, figures, manifest) in one call."""),
        ("code", """%matplotlib inline
import tempfile
import pandas as pd
from remitpov.synthetic import synthetic_survey
from remitpov.income import build_income
from remitpov.poverty import compare
from remitpov.inequality import gini, gini_decomposition

s = synthetic_survey(seed=2026, country="A")
s = build_income(s, scale="per_capita", period="month")
s"""),
        ("md", """## Poverty with and without remittances

The synthetic survey carries its own poverty lines per person per month (by area) in the
column `poverty_line`. `compare` estimates both income concepts on the same sample and
their difference, with a standard error from the joint covariance (strict `y < z`,
person weights)."""),
        ("code", """tab = compare(s, {"with": "y_with", "without": "y_without"}, "poverty_line", alpha=(0, 1, 2), by="area")
print(tab.summary())"""),
        ("code", """p0 = tab.to_frame().query("measure == 'fgt0'")
p0[["concept", "area", "estimate", "se", "ci_lower", "ci_upper"]]"""),
        ("md", "## Inequality: Gini and the Lerman–Yitzhaki decomposition"),
        ("md", """The difference rows come from the same sample: the estimate is exactly the
with-minus-without difference, and its SE uses the covariance between the two."""),
        ("code", """f = tab.to_frame().set_index(["measure", "concept", "area"])["estimate"]
f.unstack("concept")[["with", "without", "with - without"]].round(4)"""),
        ("md", """Poverty as a function of the line: the headcount with and without remittances at
multiples of the poverty line, with pointwise 95 % confidence bands (design-based)."""),
        ("code", """import numpy as np
import matplotlib.pyplot as plt
from remitpov.poverty import fgt

mult = np.linspace(0.1, 2.0, 20)
z = s.data["poverty_line"].to_numpy(float)
fig, ax = plt.subplots(figsize=(6, 3.5))
for concept, col, color in (("with", "y_with", "#1f4e79"), ("without", "y_without", "#e07b39")):
    c = fgt(s, col, {float(m): z * m for m in mult}, alpha=0, headcount_total=False).to_frame()
    ax.plot(mult, 100 * c["estimate"], color=color, label=f"{concept} remittances")
    ax.fill_between(mult, 100 * c["ci_lower"], 100 * c["ci_upper"], color=color, alpha=0.2, lw=0)
ax.axvline(1, color="grey", ls=":", lw=0.8)
ax.set_xlabel("line as a multiple of the poverty line")
ax.set_ylabel("% of persons below the line")
ax.legend(frameon=False);"""),
        ("code", """from remitpov.inequality import compare_inequality

gtab = compare_inequality(s, {"with": "y_with", "without": "y_without"}, measure="gini")
for concept in ("y_with", "y_without"):
    print(concept, round(gini(s, concept).estimates[0], 4))  # the same as the joint estimates below
gtab.to_frame()[["concept", "estimate", "se", "ci_lower", "ci_upper"]]"""),
        ("code", """other = s.data["y_with"] - s.data["remit_pc"]
dec = gini_decomposition(s.with_columns(other_income=other), {"remittances": "remit_pc", "other": "other_income"})
fr = dec.to_frame()
dec.wide()"""),
        ("md", """A positive marginal effect means a 1 % increase in remittances would *raise* the
Gini; a negative one, that remittances are equalising at the margin.

## The whole chapter in one call

`run_demo` runs the chapter on three synthetic countries: tables as CSV, XLSX, Markdown
and LaTeX; figures as PNG and PDF; and `manifest.json` with everything needed to rerun it.
From the command line: `remitpov demo --out DIR`."""),
        ("code", """from remitpov.report.chapter import run_demo

out = tempfile.mkdtemp(prefix="remitpov-demo-")
res = run_demo(out, progress=False)
print(res.summary())
res.tables["poverty_layout"]"""),
        ("md", """One of the chapter's figures (PNG at 300 dpi in `figures/`, shown here reduced): Lorenz
curves with and without remittances and the concentration curve of remittances, with
pointwise 95 % confidence bands."""),
        ("code", """from PIL import Image

fig = Image.open(res.out_dir / "figures" / "lorenz_curves.png")
fig.thumbnail((760, 760))
fig"""),
    ],
    "02_enigh_walkthrough.ipynb": [
        ("md", """# ENIGH walk-through: rural Mexico, 2010

Uses the ENIGH 2010 rural household file from the shared data folder
(`$REMITPOV_SHARED`, default `../shared`). We

1. load it (the loader collapses households split at decile cuts and undoes the state
   price deflator, all written to the load report);
2. build per-capita monthly income with and without remittances (`remesas`);
3. compare poverty with and without remittances against CONEVAL's 2010 rural lines, with
   design-based SEs (strata `est_dis`, PSUs `upm`);
4. decompose the Gini by income source;
5. estimate a selection-corrected counterfactual (Heckman) instead of the static one."""),
        ("code", """%matplotlib inline
from remitpov.config import shared_path
from remitpov.io import read_enigh
from remitpov.income import build_income
from remitpov.lines import default_lines

path = shared_path("data", "enigh2010_rural", "Conc2010_rural.dbf")
s = read_enigh(path).with_lonely_psu("adjust")   # one stratum has a single PSU
print(s.report)
# the published figures of the file (issue #2): 6,123 households, 9.38 % receive remittances
w = s.data["factor"].to_numpy(float)
share = (w * (s.data["remesas"].to_numpy(float) > 0)).sum() / w.sum()
print(f"{s.n} households, {100 * share:.2f} % receive remittances")"""),
        ("code", """s = build_income(s, scale="per_capita", period="month")
indigence, poverty = default_lines().for_survey(s, "MEX", 2010)
s = s.with_columns(z_ind=indigence, z_pov=poverty)
print("lines (pesos per person per month):", sorted(set(poverty)), sorted(set(indigence)))"""),
        ("md", "## Poverty and indigence, with and without remittances"),
        ("code", """import numpy as np
from remitpov.poverty import compare

rows = []
for name, line in (("poverty", "z_pov"), ("indigence", "z_ind")):
    t = compare(s, {"with": "y_with", "without": "y_without"}, line, alpha=0, by="recipient").to_frame()
    t["indicator"] = name
    rows.append(t)
import pandas as pd
res = pd.concat(rows)
# static counterfactual identity: change in the total rate = recipients' share x their change
from remitpov.poverty import static_identity
ident = static_identity(s, "y_with", "y_without", "z_pov", "recipient", alpha=0)
print("identity gap (0 up to rounding):", ident.gap)
res[["indicator", "recipient", "concept", "estimate", "se", "ci_lower", "ci_upper"]]"""),
        ("code", """import matplotlib.pyplot as plt

p0 = res.query("measure == 'fgt0' and concept in ('with', 'without')")
fig, ax = plt.subplots(figsize=(6, 3.4), layout="constrained")
for k, (concept, color) in enumerate((("with", "#1f4e79"), ("without", "#e07b39"))):
    sub = p0[p0["concept"] == concept].reset_index(drop=True)
    y = np.arange(len(sub)) + (0.2 if k == 0 else -0.2)
    ax.errorbar(100 * sub["estimate"], y, xerr=100 * (sub["estimate"] - sub["ci_lower"]), fmt="o",
                color=color, capsize=2, label=f"{concept} remittances")
    labels = [f"{i}, {'recipients' if r else 'non-recipients'}" for i, r in zip(sub["indicator"], sub["recipient"])]
ax.set_yticks(np.arange(len(labels)), labels)
ax.set_xlabel("% of persons (95 % CI)")
fig.legend(frameon=False, loc="outside lower center", ncol=2);"""),
        ("md", """Among people in recipient households the headcount without remittances is much higher;
for the whole rural population the difference is the recipients' population share times
that change (the static counterfactual changes nobody else's income).

## Gini decomposition by income source"""),
        ("code", """from remitpov.inequality import gini_decomposition

size = s.data["tot_integ"].to_numpy(float)
factor = s.data["income_factor"].to_numpy(float) if "income_factor" in s.data else 1.0
src = {k: c for k, c in s.sources.items() if c in s.data.columns}
pc = {k: s.data[c].to_numpy(float) * factor / size for k, c in src.items()}
s2 = s.with_columns(**{f"pc_{k}": v for k, v in pc.items()})
dec = gini_decomposition(s2, {k: f"pc_{k}" for k in pc})
dec.wide().round(4)"""),
        ("md", """## A selection-corrected counterfactual

The static counterfactual assumes migrants would have earned nothing at home. The
Barham–Boucher / Adams alternative predicts recipients' no-migration income from a
Heckman-corrected income equation estimated on non-recipients (here with a PSU migration
network as exclusion restriction), with seeded multiple imputations."""),
        ("code", """from remitpov.econometrics.counterfactual import (ENIGH_RURAL_SPEC, enigh_covariates,
                                                  remittance_counterfactual_table)

sc = enigh_covariates(s)
table, cf = remittance_counterfactual_table(sc, "z_pov", **ENIGH_RURAL_SPEC, draws=5, seed=1)
table.to_frame().query("measure == 'fgt0'")[["concept", "estimate", "se"]]"""),
        ("md", """The same in one command, with all tables and figures:
`remitpov chapter examples/enigh2010_rural.toml --out out/enigh2010_rural`."""),
    ],
    "03_reproduce_published_figure.ipynb": [
        ("md", """# Reproducing a published figure: Guatemala's 2000 poverty rate

INE Guatemala's official ENCOVI 2000 poverty profile reports **56.2 %** of persons in
(general) poverty and **15.7 %** in extreme poverty: per-capita consumption `agreg3` below
4,318.56 and 1,911.69 quetzales per year, with person weights. We recompute both from the
microdata in the shared folder, with their design-based SEs, and then run the whole
targets file shipped in `examples/targets.toml`."""),
        ("code", """%matplotlib inline
from remitpov.config import shared_path
from remitpov.io import read_encovi2000
from remitpov.poverty import fgt

s = read_encovi2000(shared_path("data", "encovi2000_gt"))
tab = fgt(s, "agreg3", {"general": 4318.56, "extreme": 1911.69}, alpha=0, headcount_total=False)
fr = tab.to_frame()
fr["percent"] = 100 * fr["estimate"]
fr[["line", "percent", "se", "ci_lower", "ci_upper"]]"""),
        ("code", """published = {"general": 56.2, "extreme": 15.7}
for line, pub in published.items():
    got = 100 * tab.get(line=line, measure="fgt0").estimate
    print(f"{line}: published {pub} %, recomputed {got:.3f} %, |diff| {abs(got - pub):.3f} (rounding: <= 0.05)")"""),
        ("code", """import matplotlib.pyplot as plt

fig, ax = plt.subplots(figsize=(5.5, 2.6), layout="constrained")
for k, (line, pub) in enumerate(published.items()):
    r = fr[fr["line"] == line].iloc[0]
    ax.errorbar(100 * r["estimate"], k, xerr=[[100 * (r["estimate"] - r["ci_lower"])], [100 * (r["ci_upper"] - r["estimate"])]],
                fmt="o", color="#0072B2", capsize=3, label="recomputed (95 % CI)" if k == 0 else None)
    ax.plot(pub, k, "D", color="#E69F00", label="published (INE)" if k == 0 else None)
ax.set_yticks([0, 1], ["general poverty", "extreme poverty"])
ax.set_xlabel("% of persons")
fig.legend(frameon=False, loc="outside lower center", ncol=2);"""),
        ("md", """## All documented targets

`examples/targets.toml` also holds laeken's EU-SILC indicators, R survey's API examples and
the static-counterfactual identity check. The command line equivalent is
`remitpov reproduce examples/targets.toml` (non-zero exit status on any miss)."""),
        ("code", """from pathlib import Path
from remitpov.report.reproduce import reproduce

targets = Path.cwd().parent / "examples" / "targets.toml"
res = reproduce(targets)
print(res.summary())"""),
    ],
}


def build(name: str, cells) -> nbformat.NotebookNode:
    nb = new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    for i, (kind, src) in enumerate(cells):
        cell = new_markdown_cell(src) if kind == "md" else new_code_cell(src)
        cell["id"] = f"{Path(name).stem[:2]}-{i:02d}"  # stable ids: no diff noise on regeneration
        nb.cells.append(cell)
    return nb


def execute(nb: nbformat.NotebookNode, timeout: int = 600) -> nbformat.NotebookNode:
    """Run ``nb`` in a fresh kernel of this interpreter (cwd: this folder), outputs kept in ``nb``."""
    import nbclient

    os.environ["PATH"] = os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", "")
    os.environ.setdefault("REMITPOV_PROGRESS", "0")
    nbclient.NotebookClient(nb, timeout=timeout, kernel_name="python3",
                            resources={"metadata": {"path": str(HERE)}}).execute()
    return nb


def main() -> None:
    names = sys.argv[1:] or list(NOTEBOOKS)
    for name in names:
        nb = execute(build(name, NOTEBOOKS[name]))
        for cell in nb.cells:  # no run-specific noise in the committed file
            cell.get("metadata", {}).pop("execution", None)
        tmp = HERE / f".{name}.tmp"
        nbformat.write(nb, tmp)
        os.replace(tmp, HERE / name)  # readers never see a half-written notebook
        print("wrote", HERE / name)


if __name__ == "__main__":
    main()
