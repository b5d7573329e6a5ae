"""Block ``poverty``: poverty and indigence with and without remittances.

Tables ``poverty`` (tidy: total population and persons in recipient households, SE/CI and
the difference, :func:`remitpov.poverty.compare`), ``poverty_layout`` (the "con y sin
remesas" view) and ``identity`` (the static-counterfactual identity: change in the total
rate = recipients' population share x change among recipients); figures: paired bars.
"""
from __future__ import annotations

import pandas as pd

from ._registry import Block, BlockOutput, register
from ._common import RECIP_LABEL, RECIPIENT, Y_WITH, incomes, tidy


def run(spec, p, ctx) -> BlockOutput:
    """Poverty and indigence rates with/without remittances, total and recipients."""
    from ...poverty import compare, fgt

    frames, est = [], {}
    pops = [("total", None)] + ([("recipients", RECIP_LABEL)] if p.has_remittances else [])
    for kind in ("poverty", "indigence"):
        if kind not in p.lines:
            continue
        for pop, by in pops:
            if p.has_remittances:
                t = compare(p.survey, incomes(p), p.lines[kind], alpha=0, by=by, strict=spec.strict,
                            ci_level=spec.ci_level, concept="difference")
            else:
                t = fgt(p.survey, Y_WITH, p.lines[kind], alpha=0, by=by, strict=spec.strict, ci_level=spec.ci_level,
                        headcount_total=False, concept="total")
            est[f"{kind}/{pop}"] = t
            fr = t.to_frame()
            if by is not None:
                fr = fr[fr[by] == "recipients"]
            frames.append(tidy({"survey": p.spec.label, "population": pop, "indicator": kind,
                                "concept": fr["concept"].to_numpy()}, fr, "percent"))
    poverty = pd.concat(frames, ignore_index=True)
    return BlockOutput({"poverty": poverty, "identity": identity(p, poverty) if p.has_remittances else None}, est)


def poverty_layout(poverty: pd.DataFrame) -> pd.DataFrame:
    """The "con y sin remesas" layout: one row per survey x population x indicator."""
    idx = ["survey", "population", "indicator"]
    wide = poverty.pivot_table(index=idx, columns="concept", values="estimate", sort=False, aggfunc="first")
    se = poverty.pivot_table(index=idx, columns="concept", values="se", sort=False, aggfunc="first")
    out = wide.reset_index()
    out.columns.name = None
    if "difference" in se.columns:
        out["diff_se"] = se["difference"].to_numpy()
    cols = idx + [c for c in ("with", "without", "difference", "diff_se", "total") if c in out.columns]
    return out[cols]


def identity(p, poverty: pd.DataFrame) -> pd.DataFrame:
    """Static counterfactual identity: d(total) = s_R x d(recipients), from the chapter's own numbers."""
    from ...estimation import mean

    share = float(mean(p.survey, p.survey.data[RECIPIENT].to_numpy(bool).astype(float)).estimates[0]) * 100
    rows = []
    sub = poverty[poverty["survey"] == p.spec.label]
    for kind in dict.fromkeys(sub["indicator"]):
        g = sub[sub["indicator"] == kind].set_index(["population", "concept"])["estimate"]
        d_tot = g[("total", "difference")]
        d_rec = g[("recipients", "difference")]
        rows.append({"survey": p.spec.label, "indicator": kind, "recipient_share": share,
                     "change_total": d_tot, "change_recipients": d_rec,
                     "share_x_change_recipients": share / 100 * d_rec,
                     "discrepancy": d_tot - share / 100 * d_rec, "unit": "percentage points"})
    return pd.DataFrame(rows)


def figures(spec, tables, extras, folder):
    from .. import figures as F

    pov = tables.get("poverty")
    if pov is None:
        return []
    out = []
    pv = pov[pov["concept"].isin(["with", "without"])]
    for kind in ("poverty", "indigence"):
        sub = pv[pv["indicator"] == kind]
        if len(sub):
            out += F.paired_bars(sub, folder / f"paired_bars_{kind}", indicator=kind, language=spec.language,
                                 formats=spec.figures, level=spec.ci_level)
    for kind in ("poverty", "indigence"):  # sorted country comparison (surveys without remittances: one dot)
        sub = pov[(pov["indicator"] == kind) & pov["concept"].isin(["with", "without", "total"])]
        if sub["survey"].nunique() > 1:  # a comparison needs two countries (paired bars show one)
            out += F.country_comparison(sub, folder / f"country_comparison_{kind}", indicator=kind,
                                        language=spec.language, formats=spec.figures, level=spec.ci_level)
    return out


BLOCK = register(Block("poverty", run, ("poverty_layout", "poverty", "identity"), rank=20,
                       step="{sid}: poverty and indigence with and without remittances", needs_poverty_line=True,
                       tidy=("poverty",), views={"poverty_layout": lambda tables: poverty_layout(tables["poverty"])},
                       figures=figures))
