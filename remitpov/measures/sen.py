"""Sen (1976) and Sen--Shorrocks--Thon indices, ``P1 (1 + G)`` with ``G`` a Gini of the poverty
gap ratios (among the poor for Sen, over everyone for SST), with linearised SEs."""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..core.density import convey_bandwidth, kernel_density
from ..core.domains import domain_keys as _domains
from ..core.domains import indicator as _indicator
from ..core.gini import gini_columns, gini_influence
from ..core.statistic import legacy_deff
from ..core.statistic import Statistic, finalise
from ..core.validate import checked
from ..results import EstimateTable
from .poverty_core import notes_for, prepare
from .relative_line import incomes_of, resolve_line, single_line
from .registry import Measure, register

register(Measure("sen", "poverty", "sen", joint=False, rank=120, summary="Sen index"))
register(Measure("sst", "poverty", "sst", joint=False, rank=130, summary="Sen-Shorrocks-Thon index"))


def _sen_values(y, z, W, kind: str, strict: bool) -> np.ndarray:
    """[index, P0, P1, Gini of gaps] (4, r) under weight columns W (n, r); z (n,1) or (1,r)."""
    poor = (y[:, None] < z) if strict else (y[:, None] <= z)
    x = np.where(poor, (z - y[:, None]) / z, 0.0)  # (n, r) gap ratios
    N = W.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        P0 = (W * poor).sum(axis=0) / N
        P1 = (W * x).sum(axis=0) / N
    Wg = W * poor if kind == "sen" else W
    order = np.argsort(x, axis=0, kind="stable")
    xs = np.take_along_axis(x, order, axis=0)
    Ws = np.take_along_axis(Wg, order, axis=0)
    G = gini_columns(xs, Ws)
    G = np.where(P1 > 0, G, 0.0)
    return np.vstack([P1 * (1 + G), P0, P1, G])


def _sen_table(survey, income, line, by, kind, *, level, strict, ci_level, dist, na_rm, concept, deff=None):
    inc = incomes_of(income, concept)
    line = single_line(line)
    design, sv, Y, names, ok = prepare(survey, inc, level, na_rm, line)
    n, w = design.n, design.weights
    y = Y[:, 0]
    ln = resolve_line(line, sv, design, y, names[0], ok, n)
    codes, dkeys = _domains(sv, by, n)
    D = len(dkeys)
    IND = _indicator(codes, D)
    Nd = IND.T @ w
    empty = Nd <= 0
    z = ln.z
    poor = (y < z) if strict else (y <= z)
    x = np.where(poor, (z - y) / z, 0.0)
    K = 4
    est = np.zeros(D * K)
    Z = np.zeros((n, D * K))
    for d in range(D):
        if empty[d]:
            continue
        ind = IND[:, d]
        P0 = (w * ind * poor).sum() / Nd[d]
        P1 = (w * ind * x).sum() / Nd[d]
        mask = ind * (poor if kind == "sen" else 1.0)
        if P1 > 0:
            G, zG = gini_influence(x, w * mask)
            zG = zG * mask
        else:
            G, zG = 0.0, np.zeros(n)
        zP0 = ind * (poor - P0) / Nd[d]
        zP1 = ind * (x - P1) / Nd[d]
        S = P1 * (1 + G)
        zS = (1 + G) * zP1 + P1 * zG
        if ln.rel is not None:  # line derivative by a central difference of width = kernel bandwidth
            pos = w * ind > 0
            dl = ln.rel.bandwidth or convey_bandwidth(y[pos], (w * ind)[pos])
            zz = np.array([[ln.scalar + dl, ln.scalar - dl]])
            vals = _sen_values(y, zz, np.repeat((w * ind)[:, None], 2, axis=1), kind, strict)
            dS = (vals[:, 0] - vals[:, 1]) / (2 * dl)
            dP0 = kernel_density(y[pos], (w * ind)[pos], ln.scalar, ln.rel.bandwidth)
            zS, zP0 = zS + dS[0] * ln.zlin, zP0 + dP0 * ln.zlin
            zP1 = zP1 + dS[2] * ln.zlin
            zG = zG + dS[3] * ln.zlin
        est[d * K:(d + 1) * K] = [S, P0, P1, G]
        Z[:, d * K:(d + 1) * K] = np.column_stack([zS, zP0, zP1, zG])

    def f_replicate(W):
        zr = ln.replicate(W)
        out = np.empty((W.shape[1], D * K))
        for d in range(D):
            out[:, d * K:(d + 1) * K] = _sen_values(y, zr, W * IND[:, d:d + 1], kind, strict).T
        return out

    gname = "gini_gaps_poor" if kind == "sen" else "gini_gaps"
    rows = [{"measure": m, "concept": names[0], "line": ln.label, **dkeys.iloc[d].to_dict()}
            for d in range(D) for m in (kind, "fgt0", "fgt1", gname)]
    # Z as the basis of one "domain" (every domain's columns); row-level Z for the design effects
    stat = Statistic(pd.DataFrame(rows), est, z=Z, sums=design.influence_sums(Z, gram=False), coef=np.eye(D * K),
                     replicate=f_replicate if design.replicates is not None else None, empty=np.repeat(empty, K),
                     codes=codes, notes=notes_for(strict, {(0, 0): ln}, ()))
    note = ("Sen index = P1 (1 + Gini of the poverty gap ratios among the poor) = H [I + (1 - I) G_p]"
            if kind == "sen" else
            "Sen-Shorrocks-Thon = P0 x (mean gap ratio of the poor) x (1 + Gini of gap ratios over everyone)"
            " = P1 (1 + G)")
    return finalise(stat, design, ci_level=ci_level, dist=dist, deff=legacy_deff(deff, kind),
                    title="Sen index" if kind == "sen" else "Sen-Shorrocks-Thon index", notes=(note,))


@checked
def sen(survey, income, line, by=None, *, level: str = "person", strict: bool = True, ci_level: float = 0.95,
        dist: str = "t", na_rm: bool = False, concept: str | None = None,
        deff: bool | str | None = None) -> EstimateTable:
    """Sen (1976) poverty index with design-based SEs (large-sample form).

    ``S = H [I + (1 - I) G_p] = P1 (1 + G_x)``, with ``H = P0``, ``I`` the mean gap ratio
    of the poor, ``G_p`` the Gini of the poor's incomes and ``G_x`` the Gini of the poor's
    gap ratios ``(z - y)/z`` (the two forms are algebraically identical for the weighted
    population Gini ``sum w w |d| / (2 N^2 mean)``; no ``q/(q+1)`` small-sample factor).
    Rows: ``sen``, ``fgt0``, ``fgt1``, ``gini_gaps_poor`` (joint vcov). Linearisation:
    ``z_S = (1 + G) z_P1 + P1 z_G`` with the weighted Gini's influence restricted to the
    poor of the domain. Relative lines add ``dS/dz x I_z`` with ``dS/dz`` a central
    difference of width the kernel bandwidth (the smoothed derivative of a statistic
    that jumps when the poor set changes). Replicate designs recompute everything.
    """
    return _sen_table(survey, income, line, by, "sen", level=level, strict=strict, ci_level=ci_level, dist=dist,
                      na_rm=na_rm, concept=concept, deff=deff)


@checked
def sst(survey, income, line, by=None, *, level: str = "person", strict: bool = True, ci_level: float = 0.95,
        dist: str = "t", na_rm: bool = False, concept: str | None = None,
        deff: bool | str | None = None) -> EstimateTable:
    """Sen--Shorrocks--Thon index ``SST = P0 x I x (1 + G_x) = P1 (1 + G_x)``.

    ``G_x`` is the Gini of the gap ratios ``max(0, (z - y)/z)`` over the WHOLE domain
    population (Shorrocks 1995; convey's ``svysst``). Rows ``sst``, ``fgt0``, ``fgt1``,
    ``gini_gaps``; SEs as in :func:`sen`.
    """
    return _sen_table(survey, income, line, by, "sst", level=level, strict=strict, ci_level=ci_level, dist=dist,
                      na_rm=na_rm, concept=concept, deff=deff)
