"""Block ``impact_range``: poverty without / with survey / with calibrated remittances
(table ``impact_range``, figure ``impact_range``).

:func:`remitpov.calibration.remittance_impact_range` on the chapter's survey: the survey's
remittances scaled to the balance-of-payments total of ``[survey.coverage]`` (see
:mod:`.coverage` for the keys; ``method``, ``extra_recipients``, ``seed``), income built with
the chapter's ``[income]`` options, and the chapter's poverty line -- its per-person values
(:data:`._common.Z_POV`), so a relative line stays anchored on the survey's income WITH
remittances and is the same line for all three concepts. FGT(0, 1, 2) and the two
with-minus-without differences, design-based SEs (those with calibrated remittances
conditional on the calibration factor).

Tidy rows: ``survey``, ``measure`` (fgt0/fgt1/fgt2), ``concept`` (``without``,
``with (survey)``, ``with (calibrated)``, ``with (survey) - without``,
``with (calibrated) - without``), values in percent (100 x the estimator's).
"""
from __future__ import annotations

import pandas as pd

from ._registry import Block, BlockOutput, register
from ._common import Z_POV, tidy

#: the three income concepts, in the figure's order
CONCEPTS = ("without", "with (survey)", "with (calibrated)")


def impact_of(spec, p):
    """:func:`remitpov.calibration.remittance_impact_range` with the chapter's line, income and coverage options."""
    from ...calibration import remittance_impact_range

    c = p.spec.coverage
    inc = dict(p.spec.income)
    given = sorted({"income", "remittances"} & set(inc))
    if given:
        from ...exceptions import SpecError

        raise SpecError(f"{p.spec.key}: measure 'impact_range' calibrates the survey's income and remittances ROLES, "
                        f"but [income] names columns {given}. Fix: set the roles in the loader options, or drop "
                        "'impact_range' from this survey's measures")
    return remittance_impact_range(p.survey, Z_POV, c["banxico"], c.get("exchange_rate"), year=c.get("year"),
                                   method=c["method"], extra_recipients=c["extra_recipients"],
                                   seed=c.get("seed", spec.seed), ci_level=spec.ci_level,
                                   scale=inc.pop("scale", "per_capita"), period=inc.pop("period", "month"), **inc)


def impact_rows(label: str, ir) -> pd.DataFrame:
    """Tidy rows of an :class:`remitpov.calibration.ImpactRange` (percent)."""
    fr = ir.to_frame()
    return tidy({"survey": label, "measure": fr["measure"].to_numpy(), "concept": fr["concept"].to_numpy()}, fr,
                "percent")


def run(spec, p, ctx) -> BlockOutput:
    ir = impact_of(spec, p)
    return BlockOutput({"impact_range": impact_rows(p.spec.label, ir)}, {"impact_range": ir})


def figures(spec, tables, extras, folder):
    """Headcount (fgt0) per survey: without / with survey / with calibrated remittances, with CIs
    (:func:`remitpov.report.figures.impact_range`: sorted rows, scales with the surveys)."""
    from .. import figures as F

    t = tables.get("impact_range")
    if t is None or t.empty:
        return []
    return F.impact_range(t[(t["measure"] == "fgt0") & t["concept"].isin(CONCEPTS)], folder / "impact_range",
                          language=spec.language, formats=spec.figures, level=spec.ci_level)


BLOCK = register(Block("impact_range", run, ("impact_range",), rank=85,
                       step="{sid}: poverty with survey / calibrated remittances", needs_remittances=True,
                       needs_poverty_line=True, default=False, tidy=("impact_range",), figures=figures))
