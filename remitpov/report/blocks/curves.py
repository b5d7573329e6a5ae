"""Block ``curves``: poverty incidence curves -- the headcount at multiples of the poverty
line, with and without remittances (table ``incidence_curves``, figure of the same name) --
and the poverty-dominance curves of order 2 and 3: the poverty gap (FGT1) and severity
(FGT2) at the same lines (figure ``dominance_curves``; Davidson and Duclos 2000: the
second- and third-order dominance curves are ``z x FGT1(z)`` and ``z^2 x FGT2(z) / 2``, a
positive factor that leaves their ordering unchanged). Every curve has pointwise
design-based confidence bands (:func:`remitpov.poverty.fgt`'s CIs at each line)."""
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
    frames, bands, dom = [], [], []
    for concept, col in incomes(p).items():
        t = fgt(p.survey, col, lines, alpha=0, strict=spec.strict, headcount_total=False, concept=concept,
                ci_level=spec.ci_level)
        fr = t.to_frame()
        keys = {"survey": p.spec.label, "concept": concept, "multiple": fr["line"].astype(float).to_numpy()}
        frames.append(tidy(keys, fr, "percent", values=("estimate",)))
        bands.append(tidy(keys, fr, "percent"))  # the pointwise CIs: for the figure's bands only
        fr = fgt(p.survey, col, lines, alpha=(1, 2), strict=spec.strict, headcount_total=False, concept=concept,
                 ci_level=spec.ci_level).to_frame()
        dom.append(tidy({"survey": p.spec.label, "measure": fr["measure"].to_numpy(), "concept": concept,
                         "multiple": fr["line"].astype(float).to_numpy()}, fr, "percent"))
    return BlockOutput({"incidence_curves": pd.concat(frames, ignore_index=True)}, {},
                       {"incidence_curves_ci": pd.concat(bands, ignore_index=True),
                        "dominance_curves": pd.concat(dom, ignore_index=True)})


def figures(spec, tables, extras, folder):
    from .. import figures as F

    if "incidence_curves" not in tables:
        return []
    out = F.incidence_curves(tables["incidence_curves"], folder / "incidence_curves", language=spec.language,
                             formats=spec.figures, bands=extras.get("incidence_curves_ci"), level=spec.ci_level)
    if extras.get("dominance_curves") is not None:
        out += F.dominance_curves(extras["dominance_curves"], folder / "dominance", language=spec.language,
                                  formats=spec.figures, level=spec.ci_level)
    return out


BLOCK = register(Block("curves", run, ("incidence_curves",), rank=70, step="{sid}: poverty incidence curves",
                       needs_poverty_line=True, tidy=("incidence_curves",), figures=figures))
