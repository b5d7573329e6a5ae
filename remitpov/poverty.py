"""Poverty measures with design-based standard errors.

FGT (Foster--Greer--Thorbecke) indices, number of poor, Watts, Sen and
Sen--Shorrocks--Thon indices; paired comparisons of two income concepts (with and
without remittances) on the same sample; subgroup decomposition and the static
counterfactual identity; incidence/deficit/severity curves for dominance analysis.

Conventions
-----------
* **Poverty**: strict ``y < z`` by default (Eurostat/laeken and ECLAC practice);
  ``strict=False`` gives ``y <= z``.
* **FGT**: ``P_a = sum_i w_i 1[y_i < z_i] ((z_i - y_i)/z_i)^a / sum_i w_i`` -- a ratio
  mean; its influence values are ``(g_i - P_a)/N`` (``N = sum w`` in the domain).
* **Negative and zero incomes are not censored**: a negative income is poor and its
  normalised gap ``(z - y)/z`` exceeds 1 (so ``P2`` may exceed ``P1`` for such a unit).
  Censor them yourself (e.g. ``np.maximum(y, 0)``) if your methodology requires it. The
  Watts index (``log(z/y)``) is undefined for poor units with ``y <= 0`` and raises.
* **Missing incomes** raise :class:`~remitpov.exceptions.InputError` unless
  ``na_rm=True``; then those rows are outside every domain (zero weight, the design --
  strata and PSUs -- is kept). The same rule is used on the linearised and the replicate
  paths. With several income concepts (``compare``) a row missing in any concept is
  dropped from all of them, so every concept is estimated on the same sample.
* **Domains** (``by=``) are zero weights on the FULL design, never subsets (R survey's
  ``svyby``). Several ``by`` variables give their observed combinations.
  **Empty domains** (no positive weight, e.g. after ``na_rm``) give ``NaN`` estimates
  and SEs and an :class:`EmptyDomainWarning`. A domain inside a single PSU gets its
  (correct, svyby-consistent) SE of zero for ratio indices and a
  :class:`SinglePSUDomainWarning`; a design STRATUM with a single PSU follows the
  design's ``lonely_psu`` policy (error by default).
* **Weights**: person weights by default (``level="person"``: household weight x size
  for household rows), the Social Panorama "percentage of persons" convention.
* **Relative lines** (:class:`RelativeLine`): ``share x`` the weighted median (or
  another quantile, or the mean) of an income over the WHOLE (non-missing) sample --
  a national line also for domains, as laeken's breakdowns and convey's ``svyfgt``.
  Quantile rule: ``"laeken"`` (default) takes ``x_(k)`` with ``k`` the first sorted
  position whose cumulative weight share is strictly greater than ``p`` (laeken 0.5.2
  ``weightedQuantile``); ``"math"`` takes the first position whose share is
  ``>= p`` (R survey ``qrule="math"``; the old name ``"inverse_cdf"`` is deprecated).
  The line's sampling variability enters the SE through its influence function (Osier 2009, as convey's ``svyarpt``/``svyfgt``):
  ``I_q(i) = -(1[v_i <= q] - p) / (N f(q))`` for the quantile, ``(v_i - mean)/N`` for
  the mean, times ``share``; the FGT influence gains ``dP_a/dz x I_z``. For ``a >= 1``
  ``dP_a/dz = sum w a ((z-y)/z)^(a-1) y/z^2 1[y<z] / N``; for ``a = 0`` it is the
  density of ``y`` at ``z``. Densities use a Gaussian kernel with convey's bandwidth
  ``h = sd_w(y) / N^(1/5)`` (weighted population standard deviation and ``N`` the sum
  of weights -- convey's ``h_fun``; the density of ``y`` in a domain uses that
  domain's ``h``). Override with ``RelativeLine(bandwidth=...)``.
  On replicate designs the line is recomputed in every replicate.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from scipy import sparse

from .core.density import convey_bandwidth, kernel_density
from .core.gini import gini_columns, gini_influence
from .core.quantile import LINE_RULES, normalise_rule, weighted_quantile
from .core.statistic import (JOINT_MAX_DOMAINS, EmptyDomainWarning, SinglePSUDomainWarning, Statistic,
                             finalise)
from .core.validate import check_alphas, checked, numeric_column
from .design import Design
from .core.inputs import resolve_design as _resolve_design
from .core.inputs import is_dask as _is_dask
from .core.domains import domain_keys as _domains
from .core.domains import indicator as _indicator
from .core.domains import total_label as _total_label
from .core.domains import with_total_key as _with_total_key
from .exceptions import InputError, describe_rows
from . import measures
from .measures.fgt import contribution as fgt_contribution
from .measures.fgt import line_derivative as fgt_line_derivative
from .results import EstimateTable

__all__ = [
    "RelativeLine", "EmptyDomainWarning", "SinglePSUDomainWarning", "fgt", "watts", "sen", "sst", "compare", "decompose",
    "static_identity", "StaticIdentity", "poverty_curve", "weighted_quantile", "kernel_density",
    "convey_bandwidth",
]

#: rules of relative lines (``"inverse_cdf"``, the old name of ``"math"``, is accepted with a warning)
QUANTILE_RULES = LINE_RULES
#: measures :func:`compare` estimates itself (inequality measures go to compare_inequality)
POVERTY_MEASURES = measures.names("poverty", joint=True)


# ====================================================================== helpers
#: per-unit contributions and their line derivative: the one definition (remitpov.measures.fgt),
#: shared with the Dask engine
_g, _dg = fgt_contribution, fgt_line_derivative


# ====================================================================== lines
@dataclass(frozen=True)
class RelativeLine:
    """A poverty line relative to the income distribution: ``share x stat(income)``.

    Parameters
    ----------
    share : float
        Multiple of the statistic (0.6 = 60 % of the median, the EU at-risk line).
    of : {"median", "mean"} or float
        Statistic: the weighted median, the weighted mean, or a quantile order in (0, 1).
    income : str or array, optional
        Income whose distribution defines the line. Default: the income being measured
        (with several concepts, each gets its own line). Pass the "with remittances"
        income to anchor one line for every concept.
    quantile_rule : {"laeken", "math"}
        See :func:`weighted_quantile` (``"inverse_cdf"``, the old name of ``"math"``, is
        accepted with a :class:`DeprecationWarning`).
    bandwidth : float, optional
        Kernel bandwidth for the densities of the linearisation (default convey's rule).
    label : str, optional
        Label in the results' ``line`` column.

    The line is computed on the whole (non-missing) sample with the estimation's weights,
    never within domains; its sampling variability enters the SEs (module docstring).
    """

    share: float = 0.6
    of: str | float = "median"
    income: Any = None
    quantile_rule: str = "laeken"
    bandwidth: float | None = None
    label: str | None = None

    def __post_init__(self):
        if not (np.isfinite(self.share) and self.share > 0):
            raise InputError(f"RelativeLine share must be positive, got {self.share}")
        if isinstance(self.of, str):
            if self.of not in ("median", "mean"):
                raise InputError(f"RelativeLine of={self.of!r}: use 'median', 'mean' or a quantile order")
        elif not 0 < float(self.of) < 1:
            raise InputError(f"RelativeLine quantile order must be in (0, 1), got {self.of}")
        object.__setattr__(self, "quantile_rule", normalise_rule(self.quantile_rule, QUANTILE_RULES, "quantile_rule"))

    @property
    def p(self) -> float | None:
        if self.of == "mean":
            return None
        return 0.5 if self.of == "median" else float(self.of)

    def describe(self, income_label: str = "") -> str:
        if self.label:
            return self.label
        stat = self.of if isinstance(self.of, str) else f"p{100 * float(self.of):g}"
        inc = f" of {income_label}" if income_label else ""
        return f"{100 * self.share:g}% {stat}{inc}"

    # -- value, influence and replicate values on a given sample
    def value(self, v: np.ndarray, w: np.ndarray):
        if self.of == "mean":
            return self.share * (w * v).sum(axis=0) / w.sum(axis=0)
        return self.share * weighted_quantile(v, w, self.p, self.quantile_rule)

    def influence(self, v: np.ndarray, w: np.ndarray) -> tuple[float, np.ndarray]:
        """Line value and its influence values ``z_i`` (``zhat - z ~ sum w_i z_i``)."""
        N = w.sum()
        if self.of == "mean":
            m = (w * v).sum() / N
            return self.share * m, self.share * (v - m) / N
        q = weighted_quantile(v, w, self.p, self.quantile_rule)
        pos = w > 0
        f = kernel_density(v[pos], w[pos], q, self.bandwidth)
        if not f > 0:
            raise InputError("the kernel density at the quantile is zero: cannot linearise the relative line")
        return self.share * q, -self.share * ((v <= q).astype(float) - self.p) / (N * f)


@dataclass(frozen=True)
class _Line:
    label: Any
    z: np.ndarray  # (n,) line per unit
    rel: RelativeLine | None = None
    v: np.ndarray | None = None  # income defining a relative line
    zlin: np.ndarray | None = None  # influence of the line (relative lines)

    @property
    def scalar(self) -> float | None:
        return float(self.z[0]) if self.rel is not None else None

    def replicate(self, W: np.ndarray) -> np.ndarray:
        """Line under replicate weights: (1, r) for relative lines, (n, 1) otherwise."""
        if self.rel is None:
            return self.z[:, None]
        return np.asarray(self.rel.value(self.v, W), dtype=float)[None, :]


def _array(survey, x, what: str, coerce: bool = False) -> np.ndarray:
    if survey is not None:
        a = survey.column(x)
    else:
        if isinstance(x, str):
            raise InputError(f"{what} {x!r} is a column name but a Design has no data: pass an array")
        a = np.asarray(x)
    return numeric_column(a, _label(x, what), None if survey is None else survey.id_values, coerce=coerce)


def _label(x, default: str) -> str:
    return x if isinstance(x, str) else default


def _resolve_line(line, survey, design: Design, y: np.ndarray, ylabel: str, ok: np.ndarray, n: int,
                  label=None) -> _Line:
    if isinstance(line, RelativeLine):
        v = y if line.income is None else _array(survey, line.income, "line income")
        vlab = ylabel if line.income is None else _label(line.income, "income")
        if line.income is not None:
            bad = ok & ~np.isfinite(v)
            if bad.any():
                raise InputError(f"the relative line's income {vlab!r} is missing in {describe_rows(bad)}")
        v = np.where(ok, v, 0.0)
        z, zlin = line.influence(v, design.weights)
        if not (np.isfinite(z) and z > 0):
            raise InputError(f"the relative line {line.describe(vlab)!r} is {z!r}, not a positive number "
                             "(the income's median or mean is zero or negative)")
        own = line.describe("" if line.income is None else vlab)  # same label for every concept's own line
        return _Line(label if label is not None else own, np.broadcast_to(float(z), (n,)), line, v, zlin)
    if np.ndim(line) == 0 and not isinstance(line, str):
        zv = float(line)
        if not (np.isfinite(zv) and zv > 0):
            raise InputError(f"poverty line must be a finite positive number, got {line!r}")
        # one value for every unit: a read-only broadcast view, not n copies
        return _Line(label if label is not None else (int(zv) if zv.is_integer() else zv), np.broadcast_to(zv, (n,)))
    z = _array(survey, line, "poverty line")
    bad = ok & ~(np.isfinite(z) & (z > 0))
    if bad.any():
        raise InputError(f"poverty line {_label(line, '(array)')!r} is missing, zero or negative in "
                         f"{describe_rows(bad, None if survey is None else survey.id_values)}; "
                         "every unit needs a positive line")
    return _Line(label if label is not None else _label(line, "(per unit)"), np.where(ok, z, 1.0))


def _lines(line) -> list[tuple[Any, Any]]:
    """Normalise ``line`` to ``[(label or None, spec)]``; a Mapping gives several lines."""
    if isinstance(line, Mapping):
        return list(line.items())
    return [(None, line)]


# ====================================================================== core
@dataclass
class _Cell:
    concept: str
    ci: int  # concept index
    li: int  # line index
    measure: str
    alpha: Any  # float or "watts"
    total: bool = False  # number of poor (weighted total) instead of a mean


def _prepare(obj, incomes: Mapping[str, Any], level: str, na_rm: bool, line_specs):
    design, survey = _resolve_design(obj, level)
    n = design.n
    names = list(incomes)
    Y = np.empty((n, len(names)), order="F")  # column-major: every use reads one concept's column
    for j, k in enumerate(names):
        col = _array(survey, incomes[k], "income", coerce=na_rm == "coerce")
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
class _Built:
    """A poverty :class:`~remitpov.core.statistic.Statistic` with what its callers need to
    relabel or transform it: the design, the domain keys and the concept names."""

    stat: Statistic
    design: Design
    dkeys: pd.DataFrame
    names: list


def _poverty_table(obj, incomes: Mapping[str, Any], line, alphas: Sequence, by, *, level, strict, ci_level, dist,
                   na_rm, headcount_total: bool, contrast: str | None = None, title: str = "Poverty",
                   extra_notes: Sequence[str] = (), total=False, deff: bool | str = False,
                   covmat: bool | None = None) -> EstimateTable:
    b = _poverty_core(obj, incomes, line, alphas, by, level=level, strict=strict, na_rm=na_rm,
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


def _poverty_core(obj, incomes: Mapping[str, Any], line, alphas: Sequence, by, *, level, strict, na_rm,
                  headcount_total: bool, population: bool = False, extra_notes: Sequence[str] = (),
                  total=False, deff: bool | str = False, covmat: bool | None = True) -> _Built:
    """Every (domain, cell) estimate with FACTORED influence values (see :mod:`remitpov.design`).

    Basis ``B = (g_1..g_K, 1, I_z of every relative line)`` (computed chunk by chunk,
    never stored); coefficients ``A[d]``: ``1/N_d`` on ``g_k`` and ``-P_dk/N_d`` on 1 for
    the domain's own cells (``1`` and ``0`` for totals), ``dP_dk/dz`` on the line's
    influence for every domain (the line is national). Estimates come from the same
    PSU x domain sums as the variance.
    """
    design, survey, Y, names, ok = _prepare(obj, incomes, level, na_rm, line)
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

    line_list = _lines(line)
    # resolve every (concept, line)
    L = {}
    for ci, nm in enumerate(names):
        for li, (lab, spec) in enumerate(line_list):
            L[ci, li] = _resolve_line(spec, survey, design, Y[:, ci], nm, ok, n, lab)
    cells: list[_Cell] = []
    for ci, nm in enumerate(names):
        for li in range(len(line_list)):
            for a in alphas:
                meas = "watts" if a == "watts" else f"fgt{a:g}"
                cells.append(_Cell(nm, ci, li, meas, a))
            if headcount_total:
                cells.append(_Cell(nm, ci, li, "headcount_total", 0, total=True))
            if population:
                cells.append(_Cell(nm, ci, li, "population", "one", total=True))
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
        sums = design.influence_sums(basis, codes, D0, gram=bool(deff) and design.replicates is None)
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
                pos = (w > 0) if (D == 1 or d < off) else ((codes == d - off) & (w > 0))
                dens = kernel_density(y[pos], w[pos], ln.scalar, ln.rel.bandwidth)
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
                     empty=np.repeat(empty, K), domains=dkeys, n_psu=n_psu_dom, notes=_notes(strict, L, extra_notes),
                     **rep)
    return _Built(stat, design, dkeys, names)


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


def _notes(strict, L, extra):
    notes = ["poor if income " + ("< line (strict)" if strict else "<= line (weak)"),
             "negative incomes are not censored; gaps (z-y)/z may exceed 1"]
    rel = {ln.label: ln for ln in L.values() if ln.rel is not None}
    for lab, ln in rel.items():
        notes.append(f"relative line {lab!r} = {ln.scalar:.10g} ({ln.rel.quantile_rule} quantile rule); its "
                     "sampling variability is in the SEs (kernel density, convey bandwidth)"
                     if ln.rel.of != "mean" else f"relative line {lab!r} = {ln.scalar:.10g}; variability in the SEs")
    return tuple(notes) + tuple(extra)


def _alphas(alpha) -> tuple:
    return check_alphas(alpha)


def _incomes(income, concept=None) -> dict:
    if isinstance(income, Mapping):
        return dict(income)
    return {concept if concept is not None else _label(income, "income"): income}


# ====================================================================== public API
@checked
def fgt(survey, income, line, alpha=(0, 1, 2), by=None, *, level: str = "person", strict: bool = True,
        ci_level: float = 0.95, dist: str = "t", na_rm: bool = False, headcount_total: bool = True,
        concept: str | None = None, total: bool | str = False, deff: bool | str = False,
        covmat: bool | None = None) -> EstimateTable:
    """Foster--Greer--Thorbecke poverty indices with design-based standard errors.

    ``P_a = sum w 1[y < z] ((z - y)/z)^a / sum w`` for every ``a`` in ``alpha`` (P0
    headcount ratio, P1 poverty gap, P2 severity), plus the number of poor
    (``headcount_total = sum w 1[y < z]``), overall or by domain, jointly (one vcov).

    Parameters
    ----------
    survey : Survey or Design
        With a Design, ``income``, array lines and ``by`` must be arrays.
    income : str or array
        Income (or consumption) per person, e.g. per-capita or equivalised.
    line : float, str, array, RelativeLine or mapping
        A scalar line; a column/array with one line per unit (e.g. by area); a
        :class:`RelativeLine` (its variability enters the SE); or ``{label: line}``
        for several lines at once.
    alpha : float or sequence of float
        FGT parameters (any ``a >= 0``).
    by : str, array or list of them, optional
        Domains (zero weights on the full design; several variables -> combinations).
    level : {"person", "household"}
        Weight level (person weights by default).
    strict : bool
        ``y < z`` (default) or ``y <= z``.
    ci_level, dist : float, {"t", "normal"}
        Confidence intervals (t with the design degrees of freedom by default).
    na_rm : bool
        Missing incomes: raise (default) or treat as outside every domain.
    headcount_total : bool
        Add the number of poor (``measure="headcount_total"``).
    concept : str, optional
        Label of the income in the ``concept`` column (default: its column name).
    total : bool or str, default False
        With ``by``: also estimate the whole sample, as the FIRST domain, labelled
        ``"all"`` (``total=True``) or ``total`` (a string) in every domain column. The
        total comes from the same pass over the rows as the domains (its PSU totals are
        sums of the PSU x domain totals), so it costs nothing extra, equals a separate
        call without ``by`` (up to floating-point summation order) and shares the joint
        vcov with the domains (contrasts domain minus total work). Ignored without ``by``.
    deff : {False, True, "replace"}, default False
        Add design effects (column ``deff``, linearised designs): the design variance over
        the variance under simple random sampling without (``True``, R's ``deff=TRUE``) or
        with replacement (``"replace"``). A domain's SRS variance uses the domain's own
        units, sample size and population (R's ``svyby(..., deff=TRUE)``); estimates that
        also depend on other units (a relative line estimated on the whole sample) use
        the whole sample's. Off by default, as in R survey: they need the per-domain
        second moments of the influence values (Gram matrices of the basis, ~40 % of the
        time of a with/without table at 10^6 rows).
    covmat : bool, optional
        Joint covariance of the estimates of different domains. ``None`` (default): joint
        up to :data:`JOINT_MAX_DOMAINS` domains; beyond, within-domain covariance blocks
        only (a sparse ``vcov``; time and memory linear in the number of domains, as R's
        ``svyby`` without ``covmat=TRUE``). ``True``: always joint (memory grows as the
        square of the number of estimates). ``False``: blocks whenever possible (not with
        relative lines, replicate weights, a second-stage fpc or ``lonely_psu="average"``,
        which always give the joint covariance). SEs are the same either way.

    Returns
    -------
    EstimateTable
        Keys ``measure`` (``"fgt0"``, ``"fgt1"``, ``"fgt2"``, ``"headcount_total"``),
        ``concept``, ``line`` and the domain column(s); ``to_frame()`` adds estimate,
        se, ci_lower, ci_upper, df and, with ``deff=True``, ``deff`` (linearised designs).
    """
    if _is_dask(survey):  # out of core: the same estimator on a DaskSurvey (remitpov.distributed)
        from . import distributed as _rd
        return _rd.from_memory_call("fgt", fgt, survey, (income, line, alpha, by), dict(
            level=level, strict=strict, ci_level=ci_level, dist=dist, na_rm=na_rm,
            headcount_total=headcount_total, concept=concept, total=total, deff=deff))
    return _poverty_table(survey, _incomes(income, concept), line, _alphas(alpha), by, level=level, strict=strict,
                          ci_level=ci_level, dist=dist, na_rm=na_rm, headcount_total=headcount_total,
                          title="FGT poverty indices", total=total, deff=deff, covmat=covmat)


@checked
def watts(survey, income, line, by=None, *, level: str = "person", strict: bool = True, ci_level: float = 0.95,
          dist: str = "t", na_rm: bool = False, concept: str | None = None, total: bool | str = False,
          deff: bool | str = False, covmat: bool | None = None) -> EstimateTable:
    """Watts index ``W = sum w 1[y < z] log(z / y) / sum w`` with design SEs.

    A ratio mean like FGT (influence ``(g_i - W)/N``); with a relative line the
    influence gains ``(sum w 1[y<z]/z / N) x I_z`` (the log term is 0 at ``y = z``, so no
    density term). Raises for poor units with ``y <= 0`` (the index is undefined).
    Same parameters as :func:`fgt` (including ``total=``, ``deff=`` and ``covmat=``).
    """
    return _poverty_table(survey, _incomes(income, concept), line, ("watts",), by, level=level, strict=strict,
                          ci_level=ci_level, dist=dist, na_rm=na_rm, headcount_total=False, title="Watts index",
                          total=total, deff=deff, covmat=covmat)


@checked
def compare(survey, incomes: Mapping[str, Any] = None, line=None, alpha=None, by=None, *, measure: str = "fgt",
            level: str = "person", strict: bool | None = None, ci_level: float = 0.95, dist: str = "t",
            na_rm: bool = False, headcount_total: bool | None = None, label: str | None = None,
            total: bool | str = False, deff: bool | str = False, covmat: bool | None = None,
            **options) -> EstimateTable:
    """Poverty (or inequality) under two income concepts on the same sample, and their difference.

    Parameters
    ----------
    incomes : mapping ``{label: column or array}``
        Exactly two concepts, e.g. ``{"with": "y_with", "without": "y_without"}``.
        The difference is FIRST minus SECOND (``concept = "with - without"`` unless
        ``label`` is given).
    line : as in :func:`fgt`
        The same line specification for both concepts. A :class:`RelativeLine` without
        ``income=`` is recomputed on each concept's own distribution; give ``income=``
        to anchor a single line. Not used by inequality measures (giving it raises).
    alpha : float or sequence, default ``(0, 1, 2)``
        FGT parameters (``measure="fgt"`` only).
    measure : {"fgt", "watts"} or an inequality measure
        An inequality measure (``"gini"``, ``"theil"``, ``"mld"``, ``"atkinson"``,
        ``"palma"``, ``"qsr"``, ``"quantile"``, ... see
        :data:`remitpov.inequality.INEQUALITY_MEASURES`) is delegated to
        :func:`remitpov.inequality.compare_inequality` with ``**options`` (e.g.
        ``epsilon=`` or ``probs=``); poverty-only arguments (``line``, ``alpha``,
        ``strict``, ``headcount_total``) then raise :class:`InputError`.
    strict : bool, default True
        ``y < z`` (poverty measures only).
    headcount_total : bool, default False
        Add the number of poor (``measure="fgt"`` only).
    total : bool or str, default False
        With ``by``: also the whole sample (first domain, labelled ``"all"`` or the given
        string), from the same pass over the rows, in the same joint vcov -- the
        with/without table for the total and the domains in one call (see :func:`fgt`).
        Poverty measures only.
    deff : {False, True, "replace"}, default False
        Design effects (see :func:`fgt`); poverty measures only.
    covmat : bool, optional
        Joint covariance across domains (see :func:`fgt`); poverty measures only.
    **options
        Options of an inequality measure (none for poverty measures).

    Returns
    -------
    EstimateTable
        Rows for both concepts and the difference; the difference's SE comes from the
        joint vcov (difference of influence values on the same sample, or the
        difference of replicate estimates). Rows missing in either concept are
        treated alike (``na_rm``).
    """
    if _is_dask(survey):  # out of core: the same estimator on a DaskSurvey (remitpov.distributed)
        from . import distributed as _rd
        alpha = (0, 1, 2) if alpha is None else alpha  # the in-memory defaults, stated
        strict = True if strict is None else strict
        headcount_total = False if headcount_total is None else headcount_total
        return _rd.from_memory_call("compare", compare, survey, (incomes, line, alpha, by), dict(
            measure=measure, level=level, strict=strict, ci_level=ci_level, dist=dist, na_rm=na_rm,
            headcount_total=headcount_total, label=label, total=total, deff=deff))
    if incomes is None or len(incomes) != 2:
        raise InputError("compare needs exactly two income concepts, e.g. {'with': 'y', 'without': 'y_norem'}")
    from .inequality import compare_inequality

    meas = measures.get(measure)  # the one registry: an unknown name lists the valid ones
    if meas.family == "inequality":
        given = [n for n, v in (("line", line), ("alpha", alpha), ("strict", strict),
                                ("headcount_total", headcount_total)) if v is not None]
        if total is not False:
            given.append("total")
        if deff:
            given.append("deff")
        if covmat is not None:
            given.append("covmat")
        if given:
            raise InputError(f"compare(measure={measure!r}): {', '.join(given)} only apply to poverty measures "
                             "('fgt', 'watts'); remove them (inequality measures need no line)")
        return compare_inequality(survey, incomes, meas.name, by, level=level, na_rm=na_rm, ci_level=ci_level,
                                  dist=dist, label=label, **options)
    if not (meas.joint and meas.family == "poverty"):
        raise InputError(f"compare(measure={measure!r}): this measure has its own function, rp.{meas.function}(); "
                         f"compare estimates {', '.join(map(repr, measures.names(joint=True, aliases=True)))} "
                         "for two income concepts jointly")
    if options:
        raise InputError(f"compare(measure={measure!r}) got unknown argument(s) {sorted(options)}")
    if line is None:
        raise InputError(f"compare(measure={measure!r}) needs a poverty line (line=...)")
    alpha = (0, 1, 2) if alpha is None else alpha
    strict = True if strict is None else strict
    headcount_total = False if headcount_total is None else headcount_total
    names = list(incomes)
    lab = label or f"{names[0]} - {names[1]}"
    if measure == "fgt":
        al = _alphas(alpha)
    else:  # "watts"
        al, headcount_total = ("watts",), False
    return _poverty_table(survey, dict(incomes), line, al, by, level=level, strict=strict, ci_level=ci_level,
                          dist=dist, na_rm=na_rm, headcount_total=headcount_total, contrast=lab,
                          title=f"Poverty: {names[0]} vs {names[1]}",
                          extra_notes=(f"difference = {names[0]} minus {names[1]} (same sample, joint vcov)",),
                          total=total, deff=deff, covmat=covmat)


# ====================================================================== decomposition
def _single_line(line):
    if isinstance(line, Mapping):
        raise InputError("give a single poverty line here (not a mapping of lines)")
    return line


@checked
def decompose(survey, income, line, by, alpha=(0, 1, 2), *, level: str = "person", strict: bool = True,
              ci_level: float = 0.95, dist: str = "t", na_rm: bool = False) -> EstimateTable:
    """Subgroup decomposition of FGT indices (additive decomposability).

    ``P_a = sum_g s_g P_a,g`` with population shares ``s_g = N_g / N``. For every
    ``a`` and group ``g`` the table has ``component`` rows ``population_share``
    (``s_g``), ``group_index`` (``P_a,g``), ``contribution`` (``s_g P_a,g``) and
    ``pct_contribution`` (``100 s_g P_a,g / P_a``, percent), plus a ``total`` row
    (``P_a``, group ``"(total)"``). All SEs come from the joint linearisation (delta
    method on the group estimates) or from the replicates.
    """
    if by is None:
        raise InputError("decompose needs a subgroup variable by=")
    al = _alphas(alpha)
    inc = _incomes(income)
    b = _poverty_core(survey, inc, _single_line(line), al, by, level=level, strict=strict, na_rm=na_rm,
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
    al = _alphas(alpha)
    design, sv = _resolve_design(survey, level)
    rec = pd.Series(_array(sv, recipient, "recipient"))  # bool or 0/1 (non-numeric labels -> missing)
    if rec.isna().any():
        raise InputError(f"recipient indicator is missing in {describe_rows(rec.isna().to_numpy())}")
    rec = rec.to_numpy() != 0
    if rec.all() or not rec.any():
        raise InputError("the recipient indicator must have both recipients and non-recipients")
    b = _poverty_core(survey, {"with": with_, "without": without}, _single_line(line), al, rec, level=level,
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
    # lhs directly from the two national indices
    Pw = fgt(survey, with_, _single_line(line), al, level=level, strict=strict, na_rm=na_rm,
             headcount_total=False).estimates
    Po = fgt(survey, without, _single_line(line), al, level=level, strict=strict, na_rm=na_rm,
             headcount_total=False).estimates
    e = table.estimates.reshape(na, len(comps))
    return StaticIdentity(al, Pw - Po, e[:, 4], float(e[0, 1]), e[:, 2], e[:, 3], table)


# ====================================================================== curves
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
    from .design import critical_value

    if alpha not in (0, 1, 2):
        raise InputError(f"poverty_curve alpha must be 0, 1 or 2, got {alpha!r}")
    grid = np.asarray(lines, dtype=float).ravel()
    if grid.size == 0 or not (np.isfinite(grid).all() and (grid > 0).all()):
        raise InputError("lines must be a non-empty grid of finite positive poverty lines")
    inc = _incomes(incomes)
    design, sv, Y, names, ok = _prepare(survey, inc, level, na_rm, None)
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


# ====================================================================== Sen and SST
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


def _sen_table(survey, income, line, by, kind, *, level, strict, ci_level, dist, na_rm, concept):
    inc = _incomes(income, concept)
    line = _single_line(line)
    design, sv, Y, names, ok = _prepare(survey, inc, level, na_rm, line)
    n, w = design.n, design.weights
    y = Y[:, 0]
    ln = _resolve_line(line, sv, design, y, names[0], ok, n)
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
                     codes=codes, notes=_notes(strict, {(0, 0): ln}, ()))
    note = ("Sen index = P1 (1 + Gini of the poverty gap ratios among the poor) = H [I + (1 - I) G_p]"
            if kind == "sen" else
            "Sen-Shorrocks-Thon = P0 x (mean gap ratio of the poor) x (1 + Gini of gap ratios over everyone)"
            " = P1 (1 + G)")
    return finalise(stat, design, ci_level=ci_level, dist=dist, deff=True,
                    title="Sen index" if kind == "sen" else "Sen-Shorrocks-Thon index", notes=(note,))


@checked
def sen(survey, income, line, by=None, *, level: str = "person", strict: bool = True, ci_level: float = 0.95,
        dist: str = "t", na_rm: bool = False, concept: str | None = None) -> EstimateTable:
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
                      na_rm=na_rm, concept=concept)


@checked
def sst(survey, income, line, by=None, *, level: str = "person", strict: bool = True, ci_level: float = 0.95,
        dist: str = "t", na_rm: bool = False, concept: str | None = None) -> EstimateTable:
    """Sen--Shorrocks--Thon index ``SST = P0 x I x (1 + G_x) = P1 (1 + G_x)``.

    ``G_x`` is the Gini of the gap ratios ``max(0, (z - y)/z)`` over the WHOLE domain
    population (Shorrocks 1995; convey's ``svysst``). Rows ``sst``, ``fgt0``, ``fgt1``,
    ``gini_gaps``; SEs as in :func:`sen`.
    """
    return _sen_table(survey, income, line, by, "sst", level=level, strict=strict, ci_level=ci_level, dist=dist,
                      na_rm=na_rm, concept=concept)
