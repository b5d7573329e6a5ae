"""The FGT-family statistic: every (domain, cell) estimate with FACTORED influence values.

One pass over the rows gives the PSU x domain sums of the basis
``B = (g_1..g_K, 1, I_z of every relative line)`` (:meth:`remitpov.design.Design.influence_sums`,
or sparse :meth:`~remitpov.design.Design.pair_sums` for many domains); the estimates and the
coefficients ``A`` of the influence values ``z_i = B_i A[d_i]`` follow from them. The result is a
:class:`~remitpov.core.statistic.Statistic` that :func:`~remitpov.core.statistic.finalise` turns
into a table (:func:`poverty_table`), possibly through a delta-method transform (differences
of concepts, decompositions). Used by :func:`remitpov.fgt`, :func:`remitpov.watts`,
:func:`remitpov.compare` and :mod:`remitpov.measures.fgt_decomposition`; conventions in
:mod:`remitpov.poverty`.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import sparse

from ..core.density import kernel_density, positive_rows
from ..core.domains import domain_keys as _domains
from ..core.domains import indicator as _indicator
from ..core.domains import total_label as _total_label
from ..core.domains import with_total_key as _with_total_key
from ..core.inputs import resolve_design as _resolve_design
from ..core.statistic import JOINT_MAX_DOMAINS, Statistic, finalise
from ..design import Design, GramPlan
from ..exceptions import InputError, describe_rows
from ..results import EstimateTable
from .fgt import contribution as _g
from .fgt import line_derivative as _dg
from .relative_line import column_array, line_specs, resolve_line


@dataclass
class Cell:
    concept: str
    ci: int  # concept index
    li: int  # line index
    measure: str
    alpha: Any  # float or "watts"
    total: bool = False  # number of poor (weighted total) instead of a mean


def prepare(obj, incomes: Mapping[str, Any], level: str, na_rm: bool, line_specs):
    design, survey = _resolve_design(obj, level)
    n = design.n
    names = list(incomes)
    Y = np.empty((n, len(names)), order="F")  # column-major: every use reads one concept's column
    for j, k in enumerate(names):
        col = column_array(survey, incomes[k], "income", coerce=na_rm == "coerce")
        if col.shape[0] != n:
            raise InputError(f"income has {col.shape[0]} rows, the design {n}")
        Y[:, j] = col
    ok = np.ones(n, dtype=bool)
    for j in range(Y.shape[1]):  # column by column: a row-wise all() over few columns is slow
        ok &= np.isfinite(Y[:, j])
    miss = ~ok & (design.weights > 0)
    # per-unit lines that are columns/arrays: missing values count as missing rows too
    if miss.any():
        if not na_rm:
            raise InputError(
                f"income {', '.join(map(repr, names))} missing in "
                f"{describe_rows(miss, None if survey is None else survey.id_values)}; pass na_rm=True to treat "
                "those rows as outside every domain (design kept), or impute them")
    if not ok.all():
        design = design.domain(ok)
        # rows outside every domain get income +inf: never poor, so they add exactly 0 to every
        # poverty numerator (FGT gaps, Watts' log(z/y), Sen's gaps) on both variance paths, whatever
        # their (zero) weight -- a 0 would give log(z/0) * 0 = NaN in the Watts index (#10.1)
        Y = np.where(ok[:, None], Y, np.inf)
    return design, survey, Y, names, ok


@dataclass(frozen=True)
class Built:
    """A poverty :class:`~remitpov.core.statistic.Statistic` with what its callers need to
    relabel or transform it: the design, the domain keys and the concept names."""

    stat: Statistic
    design: Design
    dkeys: pd.DataFrame
    names: list


def poverty_table(obj, incomes: Mapping[str, Any], line, alphas: Sequence, by, *, level, strict, ci_level, dist,
                   na_rm, headcount_total: bool, contrast: str | None = None, title: str = "Poverty",
                   extra_notes: Sequence[str] = (), total=False, deff: bool | str = False,
                   covmat: bool | None = None) -> EstimateTable:
    b = poverty_statistic(obj, incomes, line, alphas, by, level=level, strict=strict, na_rm=na_rm,
                      headcount_total=headcount_total, extra_notes=extra_notes, total=total, deff=deff,
                      covmat=covmat)
    keys, transform = b.stat.keys, None
    if contrast is not None:
        # first concept minus second, cell by cell (sparse: 2 non-zeros per row, whatever the domains)
        Lm = _contrast_matrix(keys, b.names)
        keys = pd.concat([keys, _contrast_keys(keys, b.names, contrast)], ignore_index=True)
        Cm = sparse.vstack([sparse.identity(len(b.stat.estimates), format="csr"), Lm], format="csr")
        transform = (lambda E: np.asarray(Cm @ np.asarray(E).T).T, Cm)
    return finalise(b.stat, b.design, ci_level=ci_level, dist=dist, deff=deff, transform=transform, keys=keys,
                    title=title)


def poverty_statistic(obj, incomes: Mapping[str, Any], line, alphas: Sequence, by, *, level, strict, na_rm,
                  headcount_total: bool, population: bool = False, extra_notes: Sequence[str] = (),
                  total=False, deff: bool | str = False, covmat: bool | None = True) -> Built:
    """Every (domain, cell) estimate with FACTORED influence values (see :mod:`remitpov.design`).

    Basis ``B = (g_1..g_K, 1, I_z of every relative line)`` (computed chunk by chunk,
    never stored); coefficients ``A[d]``: ``1/N_d`` on ``g_k`` and ``-P_dk/N_d`` on 1 for
    the domain's own cells (``1`` and ``0`` for totals), ``dP_dk/dz`` on the line's
    influence for every domain (the line is national). Estimates come from the same
    PSU x domain sums as the variance.
    """
    design, survey, Y, names, ok = prepare(obj, incomes, level, na_rm, line)
    n = design.n
    w = design.weights
    codes, dkeys = _domains(survey, by, n)
    D0 = len(dkeys)  # domains of `by`; with total=, domain 0 is the whole sample and d >= 1 is by's d - 1
    tlabel = _total_label(total) if by is not None else None
    off = int(tlabel is not None)
    if off:
        dkeys = _with_total_key(dkeys, tlabel)
    D = D0 + off

    def dom_indicator() -> np.ndarray:  # (n, D) row-level domain indicators (replicate paths only)
        IND = _indicator(codes, D0)
        return np.hstack([np.ones((n, 1)), IND]) if off else IND

    line_list = line_specs(line)
    # resolve every (concept, line)
    L = {}
    for ci, nm in enumerate(names):
        for li, (lab, spec) in enumerate(line_list):
            L[ci, li] = resolve_line(spec, survey, design, Y[:, ci], nm, ok, n, lab)
    cells: list[Cell] = []
    for ci, nm in enumerate(names):
        for li in range(len(line_list)):
            for a in alphas:
                meas = "watts" if a == "watts" else f"fgt{a:g}"
                cells.append(Cell(nm, ci, li, meas, a))
            if headcount_total:
                cells.append(Cell(nm, ci, li, "headcount_total", 0, total=True))
            if population:
                cells.append(Cell(nm, ci, li, "population", "one", total=True))
    K = len(cells)
    rel_keys = [key for key, ln in L.items() if ln.rel is not None]
    rel_col = {key: K + 1 + j for j, key in enumerate(rel_keys)}
    m = K + 1 + len(rel_keys)
    ids = None if survey is None else survey.id_values
    # scalar lines broadcast; per-unit lines are sliced
    zline = {key: (float(ln.z[0]) if ln.z.size and ln.z.strides == (0,) else ln.z) for key, ln in L.items()}

    def basis(a: int, b: int) -> np.ndarray:
        out = np.empty((m, b - a)).T  # column-major: contiguous columns
        cache = {}  # (concept, line) -> (poor, gap): computed once for all alphas
        for k, c in enumerate(cells):
            zz = zline[c.ci, c.li]
            zz = zz if np.ndim(zz) == 0 else zz[a:b]
            if c.alpha == "one":
                out[:, k] = 1.0
                continue
            if c.alpha == "watts":
                out[:, k] = _g(Y[a:b, c.ci], zz, c.alpha, strict)
            else:
                if (c.ci, c.li) not in cache:
                    y = Y[a:b, c.ci]
                    poor = (y < zz) if strict else (y <= zz)
                    gap = np.maximum(zz - y, 0.0)  # (z - y)/z if poor (z > 0), else 0
                    gap /= zz
                    cache[c.ci, c.li] = poor, gap
                poor, gap = cache[c.ci, c.li]
                if c.alpha == 0:
                    out[:, k] = poor
                elif c.alpha == 1:
                    out[:, k] = gap
                elif c.alpha == 2:
                    np.multiply(gap, gap, out=out[:, k])
                else:
                    out[:, k] = gap ** c.alpha
            if c.alpha == "watts":
                bad = (w[a:b] > 0) & ~np.isfinite(out[:, k])
                if bad.any():
                    full = np.zeros(n, dtype=bool)
                    full[a:b] = bad
                    raise InputError(f"Watts index undefined: income {c.concept!r} is zero or negative for poor "
                                     f"units in {describe_rows(full, ids)}; censor or exclude them explicitly")
        out[:, K] = 1.0
        for key, j in rel_col.items():
            out[:, j] = L[key].zlin[a:b]
        return out

    # many domains: sparse (PSU, domain) sums and within-domain covariance blocks (R's svyby
    # without covmat=TRUE); otherwise dense PSU x domain sums and the joint covariance
    blocks = (by is not None and not rel_keys and design.supports_blocks
              and (covmat is False or (covmat is None and D > JOINT_MAX_DOMAINS)))
    if blocks:
        sums = design.pair_sums(basis, codes, D0, gram=bool(deff))
        if off:
            sums = sums.with_total()
        n_psu_dom = np.bincount(sums.dom[sums.S[:, K] > 0], minlength=D)
    else:
        plan = gram_plan(cells, rel_col, K, m) if deff and design.replicates is None else False
        sums = design.influence_sums(basis, codes, D0, gram=plan)
        if off:  # the whole sample's PSU totals are sums over the domains: no second pass over the rows
            sums = sums.with_total()
        # PSU x domain sums of w (the basis' constant): a PSU has positive weight in a domain iff > 0
        n_psu_dom = (sums.psu.reshape(design.n_psu, D, m)[:, :, K] > 0).sum(axis=0)
    TOT = sums.totals  # (D, m)
    NUM, Nd = TOT[:, :K], TOT[:, K]
    empty = Nd <= 0
    tot = np.array([c.total for c in cells])
    with np.errstate(invalid="ignore", divide="ignore"):
        EST = np.where(tot[None, :], NUM, NUM / Nd[:, None])  # (D, K)
    # derivative of every cell with respect to its line (relative lines only)
    Aln = np.zeros((D, K))
    any_rel = bool(rel_keys)
    for k, c in enumerate(cells):
        ln = L[c.ci, c.li]
        if ln.rel is None or c.alpha == "one":
            continue
        y = Y[:, c.ci]
        if c.alpha == 0:
            for d in np.flatnonzero(~empty):
                if D == 1 or d < off:  # the whole sample
                    yd, wd = positive_rows(y, w)
                else:
                    pos = (codes == d - off) & (w > 0)
                    yd, wd = y[pos], w[pos]
                dens = kernel_density(yd, wd, ln.scalar, ln.rel.bandwidth)
                Aln[d, k] = dens * (Nd[d] if c.total else 1.0)
        else:
            dG = _dg(y, ln.scalar, c.alpha, strict)
            with np.errstate(invalid="ignore", divide="ignore"):
                sdg = np.bincount(codes, weights=w * dG, minlength=D0)
                if off:
                    sdg = np.concatenate([[sdg.sum()], sdg])
                Aln[:, k] = sdg / np.where(empty, 1.0, Nd)
    # coefficients (D, m, D*K), domain-major columns: own cells (g - P)/N (totals: g), line terms everywhere
    CEN = np.where(tot[None, :] | empty[:, None], 0.0, EST)  # (D, K)
    with np.errstate(divide="ignore"):
        SCL = np.where(tot[None, :], 1.0, np.where(empty, 0.0, 1.0 / np.where(empty, 1.0, Nd))[:, None])
    if blocks:  # coefficients of every domain's own K estimates: (D, m, K)
        A = np.zeros((D, m, K))
        A[:, np.arange(K), np.arange(K)] = SCL
        A[:, K, :] = -CEN * SCL
    else:
        A = np.zeros((D, m, D * K))
        dd, kk = np.meshgrid(np.arange(D), np.arange(K), indexing="ij")
        A[dd, kk, dd * K + kk] = SCL
        A[dd, K, dd * K + kk] = -CEN * SCL
    if any_rel:
        for k, c in enumerate(cells):
            j = rel_col.get((c.ci, c.li))
            if j is not None:
                # the line's influence is on every row: put it on the domains that partition the
                # rows (not also on the whole-sample domain 0 when total=)
                A[off:, j, np.arange(D) * K + k] = np.where(empty, 0.0, Aln[:, k])[None, :]
    est = EST.ravel()  # domain-major
    is_total = np.tile(tot, D)
    dom_of = np.repeat(np.arange(D), K)

    def f_totals(T):  # T (R, D*K + D): numerators then domain sizes
        num, den = T[:, :D * K], T[:, D * K:][:, dom_of]
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(is_total[None, :], num, num / den)

    rep = dict(replicate=None, totals=None, psu_totals=None)
    if design.replicates is not None and not any_rel:
        S3 = sums.psu.reshape(design.n_psu, D, m)
        if design.replicates.factors is not None:  # PSU totals: replicate totals = factors' PSU totals
            rep["psu_totals"] = (np.hstack([S3[:, :, :K].reshape(design.n_psu, D * K), S3[:, :, K]]), f_totals)
        else:  # user replicate weights: row-level totals
            G = basis(0, n)[:, :K]
            IND = dom_indicator()
            rep["totals"] = (np.hstack([IND[:, d:d + 1] * G for d in range(D)] + [IND]), f_totals)

    def f_replicate(W):  # W (n, r): recompute relative lines in every replicate
        r = W.shape[1]
        out = np.empty((r, D * K))
        IND = dom_indicator()
        Nr = IND.T @ W  # (D, r)
        for k, c in enumerate(cells):
            zr = L[c.ci, c.li].replicate(W)
            g = _g(Y[:, c.ci][:, None], zr, c.alpha, strict)
            numr = IND.T @ (W * g)  # (D, r)
            with np.errstate(invalid="ignore", divide="ignore"):
                val = numr if c.total else numr / Nr
            out[:, np.arange(D) * K + k] = val.T
        return out

    if design.replicates is not None and rep["psu_totals"] is None and rep["totals"] is None:
        rep["replicate"] = f_replicate
    # keys: domain-major, cells in order inside a domain (built column by column: no row loop)
    keys = pd.DataFrame({"measure": [c.measure for c in cells] * D, "concept": [c.concept for c in cells] * D,
                         "line": [L[c.ci, c.li].label for c in cells] * D,
                         **{col: np.repeat(dkeys[col].to_numpy(dtype=object), K).tolist() for col in dkeys.columns}})
    stat = Statistic(keys, est, sums=sums, coef=A if blocks else A.reshape(D * m, D * K), blocks=blocks,
                     empty=np.repeat(empty, K), domains=dkeys, n_psu=n_psu_dom, notes=notes_for(strict, L, extra_notes),
                     **rep)
    return Built(stat, design, dkeys, names)


def gram_plan(cells: Sequence[Cell], rel_col: Mapping, K: int, m: int) -> GramPlan:
    """The Gram entries the design effects of these cells and of their differences between
    concepts need, and the identities of the basis that give most of them without products.

    Basis: the cells' contributions (columns ``0..K-1``), the constant (column ``K``) and
    the relative lines' influence values. A cell's influence values use its own column, the
    constant and its line's influence; a difference between concepts (same line and
    measure) the union of two cells'. Identities, exact on every row: any column times the
    constant (or a ``population`` cell, also 1) is that column; the poverty indicator
    (``alpha = 0``) times any contribution of the same concept and line is that
    contribution (contributions are 0 for the non-poor); ``gap * gap`` is the ``alpha = 2``
    column (computed as that product)."""
    sup = []
    for k, c in enumerate(cells):
        j = rel_col.get((c.ci, c.li))
        sup.append({k, K} if j is None else {k, K, j})
    sets = list(sup)
    groups: dict = {}
    for k, c in enumerate(cells):
        groups.setdefault((c.li, c.measure), []).append(k)
    for ks in groups.values():
        sets += [sup[a] | sup[b] for a in ks for b in ks if a < b]
    pairs = sorted({(i, j) for st in sets for i in st for j in st if i <= j})
    same = {}
    ones = [K] + [k for k, c in enumerate(cells) if c.alpha == "one"]
    for o in ones:
        for i in range(m):
            same[min(i, o), max(i, o)] = i
    for k, c in enumerate(cells):
        if c.alpha != 0:
            continue
        for k2, c2 in enumerate(cells):  # the indicator times a contribution of the same concept and line
            if (c2.ci, c2.li) == (c.ci, c.li) and c2.alpha != "one":
                same[min(k, k2), max(k, k2)] = k2
    for k, c in enumerate(cells):
        if c.alpha == 1:
            sq = [k2 for k2, c2 in enumerate(cells) if (c2.ci, c2.li) == (c.ci, c.li) and c2.alpha == 2]
            if sq:
                same[k, k] = sq[0]
    return GramPlan(tuple(pairs), same, constant=K)


def _contrast_matrix(keys: pd.DataFrame, names: list[str]) -> np.ndarray:
    """First concept minus second, cell by cell.

    Rows are domain-major and, inside a domain, concept-major with the same (line, measure)
    order for both concepts, so the i-th row of concept 0 pairs with the i-th of concept 1
    (even when each concept has its own relative line)."""
    first = np.flatnonzero((keys["concept"] == names[0]).to_numpy())
    second = np.flatnonzero((keys["concept"] == names[1]).to_numpy())
    r = np.arange(first.size)
    return sparse.csr_array((np.r_[np.ones(first.size), -np.ones(first.size)], (np.r_[r, r], np.r_[first, second])),
                            shape=(first.size, len(keys)))


def _contrast_keys(keys, names, label):
    k = keys[keys["concept"] == names[0]].copy()
    k["concept"] = label
    return k


def notes_for(strict, L, extra):
    notes = ["poor if income " + ("< line (strict)" if strict else "<= line (weak)"),
             "negative incomes are not censored; gaps (z-y)/z may exceed 1"]
    rel = {ln.label: ln for ln in L.values() if ln.rel is not None}
    for lab, ln in rel.items():
        notes.append(f"relative line {lab!r} = {ln.scalar:.10g} ({ln.rel.quantile_rule} quantile rule); its "
                     "sampling variability is in the SEs (kernel density, convey bandwidth)"
                     if ln.rel.of != "mean" else f"relative line {lab!r} = {ln.scalar:.10g}; variability in the SEs")
    return tuple(notes) + tuple(extra)


__all__ = ["Cell", "Built", "prepare", "poverty_statistic", "poverty_table", "notes_for", "gram_plan"]
