"""Block ``decomposition``: Lerman--Yitzhaki Gini decomposition by income source (a view:
share S_k, Gini G_k, Gini correlation R_k, contribution and marginal effect per source)."""
from __future__ import annotations

from ._registry import Block, BlockOutput, register
from ._common import REMIT, Y_WITH


def run(spec, p, ctx) -> BlockOutput:
    from ... import inequality as ineq

    sv = p.survey
    other = sv.data[Y_WITH].to_numpy(float) - sv.data[REMIT].to_numpy(float)
    sv = sv.with_columns(_other_income=other)
    res = ineq.gini_decomposition(sv, {"remittances": REMIT, "other income": "_other_income"}, deff=True)
    fr = res.to_frame()
    fr = fr[[c for c in fr.columns if c not in ("df", "deff", "n_obs")]].copy()
    fr.insert(0, "survey", p.spec.label)
    fr["unit"] = "ratio"
    return BlockOutput({"decomposition": fr}, {"decomposition": res})


BLOCK = register(Block("decomposition", run, ("decomposition",), rank=50, step="{sid}: Lerman-Yitzhaki decomposition",
                       needs_remittances=True))
