"""Subgroup decomposition of FGT indices and the static counterfactual identity of remittances.

Both are smooth functions of the FGT-family statistic of :mod:`remitpov.measures.poverty_core`
(population sizes and indices by group), finalised through the delta method.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..core.inputs import resolve_design as _resolve_design
from ..core.statistic import finalise
from ..core.validate import alpha_before_by, check_alphas, checked
from ..exceptions import InputError, describe_rows
from ..results import EstimateTable
from .poverty_core import poverty_statistic, poverty_table
from .relative_line import column_array, incomes_of, single_line


@alpha_before_by(3)
@checked
def decompose(survey, income, line, alpha=(0, 1, 2), by=None, *, level: str = "person", strict: bool = True,
              ci_level: float = 0.95, dist: str = "t", na_rm: bool = False) -> EstimateTable:
    """Subgroup decomposition of FGT indices (additive decomposability).

    The arguments are in the canonical order of :func:`remitpov.fgt` (``alpha`` before
    ``by``; ``by`` is required). The old order ``decompose(survey, income, line, by,
    alpha)`` still works for one release, with a :class:`FutureWarning`.

    ``P_a = sum_g s_g P_a,g`` with population shares ``s_g = N_g / N``. For every
    ``a`` and group ``g`` the table has ``component`` rows ``population_share``
    (``s_g``), ``group_index`` (``P_a,g``), ``contribution`` (``s_g P_a,g``) and
    ``pct_contribution`` (``100 s_g P_a,g / P_a``, percent), plus a ``total`` row
    (``P_a``, group ``"(total)"``). All SEs come from the joint linearisation (delta
    method on the group estimates) or from the replicates.
    """
    if by is None:
        raise InputError("decompose needs a subgroup variable by=")
    al = check_alphas(alpha)
    inc = incomes_of(income)
    b = poverty_statistic(survey, inc, single_line(line), al, by, level=level, strict=strict, na_rm=na_rm,
                      headcount_total=False, population=True)
    D, na = len(b.dkeys), len(al)
    K = na + 1
    bycols = list(b.dkeys.columns)

    def h(E):
        N_g = E[:, np.arange(D) * K + na]
        N = N_g.sum(axis=1, keepdims=True)
        s = N_g / N
        out = []
        for ia in range(na):
            P_g = E[:, np.arange(D) * K + ia]
            C = s * P_g
            P = C.sum(axis=1, keepdims=True)
            block = np.stack([s, P_g, C, 100 * C / P], axis=2).reshape(E.shape[0], 4 * D)
            out += [block, P]
        return np.hstack(out)

    rows = []
    base = b.stat.keys.iloc[0]
    for a in al:
        for d in range(D):
            dk = b.dkeys.iloc[d].to_dict()
            for comp in ("population_share", "group_index", "contribution", "pct_contribution"):
                rows.append({"measure": f"fgt{a:g}", "component": comp, "concept": base["concept"],
                             "line": base["line"], **dk})
        rows.append({"measure": f"fgt{a:g}", "component": "total", "concept": base["concept"], "line": base["line"],
                     **{c: "(total)" for c in bycols}})
    return finalise(b.stat, b.design, ci_level=ci_level, dist=dist, transform=(h, None), keys=pd.DataFrame(rows),
                    title="FGT decomposition", notes=("pct_contribution in percent of the total index",))


@dataclass(frozen=True)
class StaticIdentity:
    """Static counterfactual identity for the poverty effect of remittances.

    ``total_change = recipient_share x recipient_change + (1 - recipient_share) x
    nonrecipient_change``; when non-recipients' incomes are the same under both concepts
    ``nonrecipient_change = 0`` and the change in the total equals the recipients'
    population share times the change among recipients. Changes are WITH minus WITHOUT
    (negative = remittances reduce poverty). ``lhs``/``rhs`` hold, per alpha, the total
    change computed directly from the two national indices and ``share x recipient
    change``; ``table`` has every term with design SEs.
    """

    alphas: tuple
    lhs: np.ndarray
    rhs: np.ndarray
    recipient_share: float
    recipient_change: np.ndarray
    nonrecipient_change: np.ndarray
    table: EstimateTable

    @property
    def gap(self) -> np.ndarray:
        return self.lhs - self.rhs

    def to_frame(self) -> pd.DataFrame:
        return self.table.to_frame()

    def summary(self, digits: int = 4) -> str:
        lines = ["Static identity: change in total = recipients' share x change among recipients"]
        for i, a in enumerate(self.alphas):
            lines.append(f"  fgt{a:g}: total change {self.lhs[i]:.{digits}g} = {self.recipient_share:.{digits}g} x "
                         f"{self.recipient_change[i]:.{digits}g} = {self.rhs[i]:.{digits}g} "
                         f"(non-recipients' change {self.nonrecipient_change[i]:.{digits}g})")
        return "\n".join(lines) + "\n" + self.table.summary(digits)

    def __repr__(self) -> str:
        return self.summary()


@checked
def static_identity(survey, with_, without, line, recipient, alpha=(0, 1, 2), *, level: str = "person",
                    strict: bool = True, ci_level: float = 0.95, dist: str = "t", na_rm: bool = False
                    ) -> StaticIdentity:
    """Decompose the poverty change WITH minus WITHOUT remittances over recipients.

    Parameters
    ----------
    with_, without : str or array
        Incomes with and without remittances.
    line : scalar, column, array or RelativeLine
        One line for both concepts (a RelativeLine without ``income=`` is computed on each
        concept's own distribution, which breaks the identity's premise; anchor it).
    recipient : str or array
        Truthy for members of remittance-receiving households.
    """
    al = check_alphas(alpha)
    design, sv = _resolve_design(survey, level)
    rec = pd.Series(column_array(sv, recipient, "recipient"))  # bool or 0/1 (non-numeric labels -> missing)
    if rec.isna().any():
        raise InputError(f"recipient indicator is missing in {describe_rows(rec.isna().to_numpy())}")
    rec = rec.to_numpy() != 0
    if rec.all() or not rec.any():
        raise InputError("the recipient indicator must have both recipients and non-recipients")
    b = poverty_statistic(survey, {"with": with_, "without": without}, single_line(line), al, rec, level=level,
                      strict=strict, na_rm=na_rm, headcount_total=False, population=True)
    na = len(al)
    K = 2 * (na + 1)
    # domains sorted: False (non-recipients) = 0, True (recipients) = 1

    def h(E):
        def P(g, ci, ia):
            return E[:, g * K + ci * (na + 1) + ia]
        N0, N1 = P(0, 0, na), P(1, 0, na)
        s = N1 / (N0 + N1)
        out = []
        for ia in range(na):
            rch = P(1, 0, ia) - P(1, 1, ia)
            nch = P(0, 0, ia) - P(0, 1, ia)
            tot = s * rch + (1 - s) * nch
            out.append(np.stack([tot, s, rch, nch, s * rch], axis=1))
        return np.hstack(out)

    comps = ("total_change", "recipient_share", "recipient_change", "nonrecipient_change",
             "share_x_recipient_change")
    lab = b.stat.keys.iloc[0]["line"]
    keys = pd.DataFrame([{"measure": f"fgt{a:g}", "component": c, "concept": "with - without", "line": lab}
                         for a in al for c in comps])
    table = finalise(b.stat, b.design, ci_level=ci_level, dist=dist, transform=(h, None), keys=keys,
                     title="Static counterfactual identity", notes=("changes are WITH minus WITHOUT remittances",))
    # lhs directly from the two national indices (as rp.fgt)
    Pw, Po = (poverty_table(survey, incomes_of(y), single_line(line), al, None, level=level, strict=strict,
                            ci_level=0.95, dist="t", na_rm=na_rm, headcount_total=False,
                            title="FGT poverty indices").estimates for y in (with_, without))
    e = table.estimates.reshape(na, len(comps))
    return StaticIdentity(al, Pw - Po, e[:, 4], float(e[0, 1]), e[:, 2], e[:, 3], table)
