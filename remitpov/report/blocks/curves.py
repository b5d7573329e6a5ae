"""Block ``curves``: poverty incidence curves -- the headcount at multiples of the poverty
line, with and without remittances (table ``incidence_curves``, figure of the same name)."""
from __future__ import annotations

import numpy as np
import pandas as pd

from ._registry import Block, BlockOutput, register
from ._common import incomes, tidy


def run(spec, p, ctx) -> BlockOutput:
    from ...poverty import fgt

    mult = np.round(np.linspace(spec.curve_max / (spec.curve_points - 1), spec.curve_max, spec.curve_points - 1), 10)
    z = p.line_values["poverty"]
    lines = {float(m): z * m for m in mult}
    frames, bands = [], []
    for concept, col in incomes(p).items():
        t = fgt(p.survey, col, lines, alpha=0, strict=spec.strict, headcount_total=False, concept=concept,
                ci_level=spec.ci_level)
        fr = t.to_frame()
        keys = {"survey": p.spec.label, "concept": concept, "multiple": fr["line"].astype(float).to_numpy()}
        frames.append(tidy(keys, fr, "percent", values=("estimate",)))
        bands.append(tidy(keys, fr, "percent"))  # the pointwise CIs: for the figure's bands only
    return BlockOutput({"incidence_curves": pd.concat(frames, ignore_index=True)}, {},
                       {"incidence_curves_ci": pd.concat(bands, ignore_index=True)})


def figures(spec, tables, extras, folder):
    from .. import figures as F

    if "incidence_curves" not in tables:
        return []
    return F.incidence_curves(tables["incidence_curves"], folder / "incidence_curves", language=spec.language,
                              formats=spec.figures, bands=extras.get("incidence_curves_ci"), level=spec.ci_level)


BLOCK = register(Block("curves", run, ("incidence_curves",), rank=70, step="{sid}: poverty incidence curves",
                       needs_poverty_line=True, tidy=("incidence_curves",), figures=figures))
