"""Block ``fgt``: FGT indices P0, P1, P2 with and without remittances, total and by area."""
from __future__ import annotations

import pandas as pd

from ._registry import Block, BlockOutput, register
from ._common import AREA, Y_WITH, group_labels, incomes, split_total, tidy


def run(spec, p, ctx) -> BlockOutput:
    from ...poverty import compare, fgt

    frames, est = [], {}
    by_area = "area" in spec.domains and AREA in p.survey.data.columns
    doms = [("total", None)] + ([("area", AREA)] if by_area else [])
    # the total and the areas from ONE call (total=: one pass over the rows, joint vcov), split in two tables
    label = None
    if by_area:
        areas = set(map(str, p.survey.data[AREA].unique()))
        label = next(c for c in ("all", "(total)", "(all areas)", "\x00total") if c not in areas)
    if p.has_remittances:
        t = compare(p.survey, incomes(p), p.lines["poverty"], alpha=(0, 1, 2), by=AREA if by_area else None,
                    strict=spec.strict, ci_level=spec.ci_level, concept="difference", total=label or False)
    else:
        t = fgt(p.survey, Y_WITH, p.lines["poverty"], alpha=(0, 1, 2), by=AREA if by_area else None,
                strict=spec.strict, ci_level=spec.ci_level, headcount_total=False, concept="total",
                total=label or False)
    parts = split_total(t, AREA, label) if by_area else {"total": t}
    for domain, by in doms:
        t = parts[domain]
        est[f"fgt/{domain}"] = t
        fr = t.to_frame()
        frames.append(tidy({"survey": p.spec.label, "domain": domain, "group": group_labels(fr, by),
                            "measure": fr["measure"].to_numpy(), "concept": fr["concept"].to_numpy()}, fr, "percent"))
    return BlockOutput({"fgt": pd.concat(frames, ignore_index=True)}, est)


BLOCK = register(Block("fgt", run, ("fgt",), rank=30, step="{sid}: FGT indices", needs_poverty_line=True,
                       tidy=("fgt",)))
