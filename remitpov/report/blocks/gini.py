"""Block ``gini``: Gini with and without remittances and their difference (table ``gini``),
Lorenz and concentration curves (figure ``lorenz_curves``)."""
from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd

from ._registry import Block, BlockOutput, register
from ._common import REMIT, Y_WITH, Y_WITHOUT, curve_frame, incomes, tidy


def run(spec, p, ctx) -> BlockOutput:
    """Gini with and without remittances and their difference, estimated jointly.

    :func:`remitpov.inequality.compare_inequality` on the same sample, so the difference
    has an SE/CI (difference of the influence values; replicate-wise differences on
    replicate designs, with ``progress(done, total)`` called per chunk of replicates).
    Surveys without remittances get the Gini of total income only.
    """
    from ... import inequality as ineq

    if p.has_remittances:
        t = ineq.compare_inequality(p.survey, incomes(p), "gini", ci_level=spec.ci_level, concept="difference", deff=True,
                                    progress=ctx["progress"](f"{p.spec.id}: Gini replicates"))
    else:
        t = ineq.gini(p.survey, Y_WITH, ci_level=spec.ci_level, deff=True)
        t = replace(t, keys=t.keys.assign(concept="total"))
    fr = t.to_frame()
    rows = tidy({"survey": p.spec.label, "measure": "gini", "concept": fr["concept"].to_numpy()}, fr, "Gini x 100")
    return BlockOutput({"gini": rows}, {"gini": t}, {"lorenz": lorenz(spec, p)})


def lorenz(spec, p, points: int = 101) -> pd.DataFrame:
    """Lorenz curves with and without remittances and the concentration curve of remittances,
    with pointwise design-based CIs of every ordinate (``ci_lower``/``ci_upper``: the
    linearised SEs of :func:`remitpov.inequality.lorenz` and
    :func:`~remitpov.inequality.concentration_curve` at the chapter's ``ci_level``; replicate
    designs recompute the curve per replicate). For the figure only."""
    from ... import inequality as ineq

    grid = np.linspace(0, 1, points)
    curves = {f"lorenz_{concept}": ineq.lorenz(p.survey, col, points=grid, ci_level=spec.ci_level, deff=False)
              for concept, col in incomes(p).items()}
    if p.has_remittances:
        curves["concentration_remittances"] = ineq.concentration_curve(p.survey, REMIT, rank_by=Y_WITHOUT, points=grid,
                                                                       ci_level=spec.ci_level, deff=False)
    frames = []
    for curve, fr in curves.items():
        pp, value = curve_frame(fr)
        frames.append(pd.DataFrame({"survey": p.spec.label, "curve": curve, "p": pp, "value": value,
                                    "ci_lower": fr["ci_lower"].to_numpy(float),
                                    "ci_upper": fr["ci_upper"].to_numpy(float)}))
    return pd.concat(frames, ignore_index=True)


def figures(spec, tables, extras, folder):
    from .. import figures as F

    if "lorenz" not in extras:
        return []
    return F.lorenz_curves(extras["lorenz"], folder / "lorenz_curves", language=spec.language, formats=spec.figures,
                           level=spec.ci_level)


BLOCK = register(Block("gini", run, ("gini",), rank=40, step="{sid}: Gini", tidy=("gini",), figures=figures))
