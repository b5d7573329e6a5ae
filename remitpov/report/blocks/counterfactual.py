"""Block ``counterfactual``: selection-corrected counterfactual poverty (table ``counterfactual``).

``method = "static"`` adds nothing (the static counterfactual is the "without" column of
the poverty tables); ``"heckman"`` and ``"multinomial"`` run the econometric
counterfactual. The estimation code itself is
:func:`remitpov.report.chapter.counterfactual_block` (with :func:`~remitpov.report.chapter.static_income`
and the multinomial call), kept there while the counterfactual models evolve; this file
registers the block and writes its tidy rows.
"""
from __future__ import annotations

from . import Block, BlockOutput, register


def run(spec, p, ctx) -> BlockOutput:
    from .. import chapter

    frame, est = chapter.counterfactual_block(spec, p, progress=ctx["progress"](f"{p.spec.id}: imputation draws"))
    return BlockOutput({"counterfactual": frame}, est)


BLOCK = register(Block("counterfactual", run, ("counterfactual",), rank=60, step="{sid}: counterfactual ({method})",
                       needs_remittances=True, needs_poverty_line=True, default=False, tidy=("counterfactual",)))
