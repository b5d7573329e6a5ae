"""Poverty incidence, deficit and severity curves over a grid of lines (dominance analysis)."""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..core.domains import domain_keys as _domains
from ..core.domains import indicator as _indicator
from ..core.validate import checked
from ..design import critical_value
from ..exceptions import InputError
from .fgt import contribution as _g
from .poverty_core import prepare
from .relative_line import incomes_of


@checked
def poverty_curve(survey, incomes, lines, alpha: int = 0, by=None, *, level: str = "person", strict: bool = True,
                  na_rm: bool = False, ci_level: float = 0.95, dist: str = "t", difference: bool = False,
                  max_cells: int = 20_000_000) -> pd.DataFrame:
    """Poverty incidence (``alpha=0``), deficit (1) or severity (2) curves over a grid of lines.

    ``FGT_a(z)`` for every ``z`` in ``lines`` -- for dominance analysis with and without
    remittances. Each income is sorted once; the estimates for all lines come from
    cumulative sums of ``w``, ``w y`` and ``w y^2`` (``P1 = (z W - S1)/(z N)``,
    ``P2 = (z^2 W - 2 z S1 + S2)/(z^2 N)`` with ``W, S1, S2`` the sums below ``z``).
    The lines are fixed (no variance from the line). SEs from the influence values of
    every grid point, in blocks of at most ``max_cells`` numbers.

    Parameters
    ----------
    incomes : str, array or mapping ``{label: income}``
    lines : array_like
        Positive grid of poverty lines.
    difference : bool
        With exactly two incomes, add the curve of first minus second (joint SEs).

    Returns
    -------
    DataFrame
        Tidy: ``line``, ``concept``, domain column(s), ``estimate``, ``se``,
        ``ci_lower``, ``ci_upper``, ``alpha``.
    """
    if alpha not in (0, 1, 2):
        raise InputError(f"poverty_curve alpha must be 0, 1 or 2, got {alpha!r}")
    grid = np.asarray(lines, dtype=float).ravel()
    if grid.size == 0 or not (np.isfinite(grid).all() and (grid > 0).all()):
        raise InputError("lines must be a non-empty grid of finite positive poverty lines")
    inc = incomes_of(incomes)
    design, sv, Y, names, ok = prepare(survey, inc, level, na_rm, None)
    if difference and len(names) != 2:
        raise InputError("difference=True needs exactly two incomes")
    n, w = design.n, design.weights
    codes, dkeys = _domains(sv, by, n)
    D = len(dkeys)
    IND = _indicator(codes, D)
    Nd = IND.T @ w
    G = grid.size
    side = "left" if strict else "right"
    est = np.empty((len(names), D, G))
    for ci in range(len(names)):
        y = np.where(ok, Y[:, ci], 0.0)  # rows outside every domain: weight 0, and finite for w * y
        order = np.argsort(y, kind="stable")
        ys = y[order]
        idx = np.searchsorted(ys, grid, side=side)
        for d in range(D):
            wd = (w * IND[:, d])[order]
            c0 = np.concatenate([[0.0], np.cumsum(wd)])[idx]
            c1 = np.concatenate([[0.0], np.cumsum(wd * ys)])[idx]
            c2 = np.concatenate([[0.0], np.cumsum(wd * ys * ys)])[idx]
            with np.errstate(invalid="ignore", divide="ignore"):
                if alpha == 0:
                    num = c0
                elif alpha == 1:
                    num = (grid * c0 - c1) / grid
                else:
                    num = (grid * grid * c0 - 2 * grid * c1 + c2) / (grid * grid)
                est[ci, d] = num / Nd[d]
    # SEs, in blocks of grid points
    C = len(names)
    out_se = np.empty((C + difference, D, G))
    block = max(1, int(max_cells // max(n * D * (C + 1), 1)))
    for start in range(0, G, block):
        gz = grid[start:start + block]
        b = gz.size
        Zs, Ys = [], []
        for ci in range(C):
            g = _g(Y[:, ci][:, None], gz[None, :], alpha, strict)  # (n, b)
            for d in range(D):
                ind = IND[:, d:d + 1]
                with np.errstate(invalid="ignore", divide="ignore"):
                    Zs.append(ind * (g - est[ci, d, start:start + b]) / Nd[d])
                Ys.append(ind * g)
        Z = np.hstack(Zs)  # (n, C*D*b)
        if difference:
            Z = np.hstack([Z, Z[:, :D * b] - Z[:, D * b:2 * D * b]])
        e_blk = est[:, :, start:start + b].ravel()
        if difference:
            e_blk = np.concatenate([e_blk, (est[0] - est[1])[:, start:start + b].ravel()])
        if design.replicates is None:
            v = np.diag(design.vcov(e_blk, Z))
        else:
            Yn = np.hstack(Ys + [IND])
            m = C * D * b
            den_idx = np.tile(np.repeat(np.arange(D), b), C)

            def f(T, m=m, den_idx=den_idx, b=b):
                with np.errstate(invalid="ignore", divide="ignore"):
                    r = T[:, :m] / T[:, m:][:, den_idx]
                if difference:
                    r = np.hstack([r, r[:, :D * b] - r[:, D * b:2 * D * b]])
                return r

            v = np.diag(design.vcov(e_blk, totals=(Yn, f)))
        out_se[:, :, start:start + b] = np.sqrt(np.clip(v, 0, None)).reshape(C + difference, D, b)
    labels = names + ([f"{names[0]} - {names[1]}"] if difference else [])
    all_est = np.concatenate([est, (est[0] - est[1])[None]]) if difference else est
    cv = critical_value(ci_level, design.df, dist)
    frames = []
    for ci, lab in enumerate(labels):
        for d in range(D):
            fr = pd.DataFrame({"line": grid, "concept": lab})
            for col, val in dkeys.iloc[d].items():
                fr[col] = val
            fr["estimate"] = all_est[ci, d]
            fr["se"] = out_se[ci, d]
            fr["ci_lower"] = fr["estimate"] - cv * fr["se"]
            fr["ci_upper"] = fr["estimate"] + cv * fr["se"]
            frames.append(fr)
    res = pd.concat(frames, ignore_index=True)
    res["alpha"] = alpha
    res.attrs["curve"] = {0: "incidence", 1: "deficit", 2: "severity"}[alpha]
    return res
