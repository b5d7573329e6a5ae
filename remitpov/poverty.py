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
  and SEs and an :class:`EmptyDomainWarning`.
* **Weights**: person weights by default (``level="person"``: household weight x size
  for household rows), the Social Panorama "percentage of persons" convention.
* **Relative lines** (:class:`RelativeLine`): ``share x`` the weighted median (or
  another quantile, or the mean) of an income over the WHOLE (non-missing) sample --
  a national line also for domains, as laeken's breakdowns and convey's ``svyfgt``.
  Quantile rule: ``"laeken"`` (default) takes ``x_(k)`` with ``k`` the first sorted
  position whose cumulative weight share is strictly greater than ``p`` (laeken 0.5.2
  ``weightedQuantile``); ``"inverse_cdf"`` takes the first position whose share is
  ``>= p`` (R survey ``qrule="math"``). The line's sampling variability enters the SE
  through its influence function (Osier 2009, as convey's ``svyarpt``/``svyfgt``):
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

import warnings
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Sequence

import numpy as np
import pandas as pd

from .design import Design
from .estimation import _resolve_design
from .exceptions import InputError, RemitpovWarning, describe_rows
from .results import EstimateTable, make_table

__all__ = [
    "RelativeLine", "EmptyDomainWarning", "fgt", "watts", "sen", "sst", "compare", "decompose",
    "static_identity", "StaticIdentity", "poverty_curve", "weighted_quantile", "kernel_density",
    "convey_bandwidth",
]

QUANTILE_RULES = ("laeken", "inverse_cdf")


class EmptyDomainWarning(RemitpovWarning):
    """A domain has no unit with positive weight: its estimates are NaN."""


# ====================================================================== helpers
def weighted_quantile(x, w, p: float, rule: str = "laeken"):
    """Weighted quantile of ``x``; ``w`` may be ``(n,)`` or ``(n, r)`` (one per column).

    Rules: ``"laeken"`` -- ``x_(k)``, ``k`` the first sorted position with cumulative
    weight share ``> p`` (laeken 0.5.2); ``"inverse_cdf"`` -- first position with share
    ``>= p`` (R survey ``qrule="math"``). Rows with zero weight never get selected.
    """
    if rule not in QUANTILE_RULES:
        raise InputError(f"quantile_rule={rule!r} is not one of {QUANTILE_RULES}")
    if not 0 < p < 1:
        raise InputError(f"quantile order must be strictly between 0 and 1, got {p}")
    x = np.asarray(x, dtype=float)
    w = np.asarray(w, dtype=float)
    order = np.argsort(x, kind="stable")
    xs = x[order]
    cw = np.cumsum(w[order], axis=0)
    rw = cw / cw[-1]
    hit = rw > p if rule == "laeken" else rw >= p
    return xs[np.argmax(hit, axis=0)]


def convey_bandwidth(y, w) -> float:
    """convey's ``h_fun``: weighted population SD of ``y`` divided by ``(sum w)^(1/5)``."""
    y = np.asarray(y, dtype=float)
    w = np.asarray(w, dtype=float)
    N = w.sum()
    sy = (w * y).sum()
    var = ((w * y * y).sum() - sy * sy / N) / N
    return float(np.sqrt(max(var, 0.0)) / np.exp(0.2 * np.log(N)))


def kernel_density(y, w, at: float, h: float | None = None) -> float:
    """Gaussian-kernel estimate of the density of ``y`` at ``at`` (convey ``densfun``)."""
    y = np.asarray(y, dtype=float)
    w = np.asarray(w, dtype=float)
    N = w.sum()
    if h is None:
        h = convey_bandwidth(y, w)
    if not (h > 0):
        return 0.0
    u = (at - y) / h
    return float((w * np.exp(-0.5 * u * u)).sum() / (np.sqrt(2 * np.pi) * N * h))


def _g(y, z, alpha: float | str, strict: bool):
    """Per-unit poverty contribution: FGT ``1[y<z]((z-y)/z)^a`` or Watts ``1[y<z] log(z/y)``."""
    poor = (y < z) if strict else (y <= z)
    if alpha == "watts":
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(poor, np.log(z / y), 0.0)
    if alpha == 0:
        return poor.astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        gap = (z - y) / z
        return np.where(poor, np.abs(gap) ** alpha * np.sign(gap), 0.0)


def _dg(y, z, alpha: float | str, strict: bool):
    """Derivative of :func:`_g` with respect to the line ``z`` (``alpha > 0`` or Watts)."""
    poor = (y < z) if strict else (y <= z)
    with np.errstate(divide="ignore", invalid="ignore"):
        if alpha == "watts":
            return np.where(poor, 1.0 / z, 0.0)
        gap = (z - y) / z
        d = alpha * np.where(gap > 0, gap, 0.0) ** (alpha - 1) * y / (z * z) if alpha != 1 else y / (z * z)
        return np.where(poor & np.isfinite(d), d, 0.0)


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
    quantile_rule : {"laeken", "inverse_cdf"}
        See :func:`weighted_quantile`.
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
        if self.quantile_rule not in QUANTILE_RULES:
            raise InputError(f"quantile_rule={self.quantile_rule!r} is not one of {QUANTILE_RULES}")

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


def _array(survey, x, what: str) -> np.ndarray:
    if survey is not None:
        a = survey.column(x)
    else:
        if isinstance(x, str):
            raise InputError(f"{what} {x!r} is a column name but a Design has no data: pass an array")
        a = np.asarray(x)
    return np.asarray(pd.to_numeric(pd.Series(np.asarray(a).ravel()), errors="coerce"), dtype=float)


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
        return _Line(label if label is not None else line.describe(vlab), np.full(n, float(z)), line, v, zlin)
    if np.ndim(line) == 0 and not isinstance(line, str):
        zv = float(line)
        if not (np.isfinite(zv) and zv > 0):
            raise InputError(f"poverty line must be a finite positive number, got {line!r}")
        return _Line(label if label is not None else (int(zv) if zv.is_integer() else zv), np.full(n, zv))
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


# ====================================================================== domains
def _domains(survey, by, n: int):
    """Integer domain codes, number of domains and a keys DataFrame (one row per domain)."""
    if by is None:
        return np.zeros(n, dtype=np.int64), pd.DataFrame({"domain": ["all"]})
    items = list(by) if isinstance(by, (list, tuple)) else [by]
    cols, names = [], []
    for j, b in enumerate(items):
        if survey is not None:
            vals = pd.Series(survey.column(b))
        else:
            if isinstance(b, str):
                raise InputError(f"by={b!r} is a column name but a Design has no data: pass an array")
            vals = pd.Series(np.asarray(b))
        if len(vals) != n:
            raise InputError(f"domain variable has {len(vals)} rows, the design {n}")
        if vals.isna().any():
            raise InputError(f"domain variable {b if isinstance(b, str) else '(array)'} is missing in "
                             f"{describe_rows(vals.isna().to_numpy())}; recode missing values to a category")
        cols.append(vals.to_numpy())
        names.append(b if isinstance(b, str) else ("domain" if len(items) == 1 else f"by{j}"))
    if len(cols) == 1:
        codes, labels = pd.factorize(pd.Series(cols[0]), sort=True)
        return codes.astype(np.int64), pd.DataFrame({names[0]: np.asarray(labels, dtype=object)})
    mi = pd.MultiIndex.from_arrays(cols, names=names)
    codes, labels = pd.factorize(mi, sort=True)
    return codes.astype(np.int64), labels.to_frame(index=False)


def _indicator(codes: np.ndarray, D: int) -> np.ndarray:
    return (codes[:, None] == np.arange(D)[None, :]).astype(float)


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
    Y = np.column_stack([_array(survey, incomes[k], "income") for k in names]) if names else np.zeros((n, 0))
    if Y.shape[0] != n:
        raise InputError(f"income has {Y.shape[0]} rows, the design {n}")
    miss = ~np.isfinite(Y).all(axis=1) & (design.weights > 0)
    # per-unit lines that are columns/arrays: missing values count as missing rows too
    if miss.any():
        if not na_rm:
            raise InputError(
                f"income {', '.join(map(repr, names))} missing in "
                f"{describe_rows(miss, None if survey is None else survey.id_values)}; pass na_rm=True to treat "
                "those rows as outside every domain (design kept), or impute them")
    ok = np.isfinite(Y).all(axis=1)
    if not ok.all():
        design = design.domain(ok)
        Y = np.where(ok[:, None], Y, 0.0)
    return design, survey, Y, names, ok


def _poverty_table(obj, incomes: Mapping[str, Any], line, alphas: Sequence, by, *, level, strict, ci_level, dist,
                   na_rm, headcount_total: bool, contrast: str | None = None, title: str = "Poverty",
                   extra_notes: Sequence[str] = ()) -> EstimateTable:
    design, survey, Y, names, ok = _prepare(obj, incomes, level, na_rm, line)
    n = design.n
    w = design.weights
    codes, dkeys = _domains(survey, by, n)
    D = len(dkeys)
    IND = _indicator(codes, D)
    Nd = IND.T @ w  # (D,)
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
    K = len(cells)
    G = np.empty((n, K))
    for k, c in enumerate(cells):
        G[:, k] = _g(Y[:, c.ci], L[c.ci, c.li].z, c.alpha, strict)
        if c.alpha == "watts":
            bad = (w > 0) & ~np.isfinite(G[:, k])
            if bad.any():
                raise InputError(f"Watts index undefined: income {c.concept!r} is zero or negative for poor units in "
                                 f"{describe_rows(bad, None if survey is None else survey.id_values)}; "
                                 "censor or exclude them explicitly")
    NUM = IND.T @ (w[:, None] * G)  # (D, K)
    empty = Nd <= 0
    with np.errstate(invalid="ignore", divide="ignore"):
        EST = np.where([[c.total for c in cells]], NUM, NUM / Nd[:, None])  # (D, K)
    # derivative of every cell with respect to its line (relative lines only)
    A = np.zeros((D, K))
    ZL = np.zeros((n, K))
    any_rel = False
    for k, c in enumerate(cells):
        ln = L[c.ci, c.li]
        if ln.rel is None:
            continue
        any_rel = True
        ZL[:, k] = ln.zlin
        y = Y[:, c.ci]
        if c.alpha == 0:
            for d in range(D):
                wd = w * IND[:, d]
                if Nd[d] <= 0:
                    continue
                pos = wd > 0
                dens = kernel_density(y[pos], wd[pos], ln.scalar, ln.rel.bandwidth)
                A[d, k] = dens * (Nd[d] if c.total else 1.0)
        else:
            dG = _dg(y, ln.z, c.alpha, strict)
            with np.errstate(invalid="ignore", divide="ignore"):
                A[:, k] = (IND.T @ (w * dG)) / np.where(empty, 1.0, Nd)
    # influence values, domain-major then cell
    Z = np.empty((n, D * K))
    Ynum = np.empty((n, D * K))
    for d in range(D):
        sl = slice(d * K, (d + 1) * K)
        ind = IND[:, d:d + 1]
        Ynum[:, sl] = ind * G
        if empty[d]:
            Z[:, sl] = 0.0
            continue
        tot = np.array([c.total for c in cells])
        zr = ind * (G - EST[d]) / Nd[d]
        zt = ind * G
        Z[:, sl] = np.where(tot[None, :], zt, zr) + A[d][None, :] * ZL
    est = EST.ravel()  # domain-major
    is_total = np.tile([c.total for c in cells], D)
    dom_of = np.repeat(np.arange(D), K)

    def f_totals(T):  # T (R, D*K + D): numerators then domain sizes
        num, den = T[:, :D * K], T[:, D * K:][:, dom_of]
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(is_total[None, :], num, num / den)

    def f_replicate(W):  # W (n, r): recompute relative lines in every replicate
        r = W.shape[1]
        out = np.empty((r, D * K))
        Nr = IND.T @ W  # (D, r)
        for k, c in enumerate(cells):
            zr = L[c.ci, c.li].replicate(W)
            g = _g(Y[:, c.ci][:, None], zr, c.alpha, strict)
            numr = IND.T @ (W * g)  # (D, r)
            with np.errstate(invalid="ignore", divide="ignore"):
                val = numr if c.total else numr / Nr
            out[:, np.arange(D) * K + k] = val.T
        return out

    # keys
    rows = []
    for d in range(D):
        dk = dkeys.iloc[d].to_dict()
        for c in cells:
            rows.append({"measure": c.measure, "concept": c.concept, "line": L[c.ci, c.li].label, **dk})
    keys = pd.DataFrame(rows)
    if contrast is not None:
        # first concept minus second, cell by cell
        Lm = _contrast_matrix(keys, names)
        keys = pd.concat([keys, _contrast_keys(keys, names, contrast)], ignore_index=True)
        Cm = np.vstack([np.eye(len(est)), Lm])
    else:
        Cm = None
    return _finish(design, keys, est, Z, (np.hstack([Ynum, IND]), f_totals), f_replicate, any_rel, Cm,
                   empty_rows=np.repeat(empty, K), level=ci_level, dist=dist, title=title,
                   notes=_notes(strict, L, extra_notes))


def _contrast_matrix(keys: pd.DataFrame, names: list[str]) -> np.ndarray:
    a, b = names[0], names[1]
    other = [c for c in keys.columns if c not in ("concept",)]
    first = keys.index[keys["concept"] == a]
    kb = keys[keys["concept"] == b]
    idx_b = {tuple(r[c] for c in other): i for i, r in kb.iterrows()}
    Lm = np.zeros((len(first), len(keys)))
    for j, i in enumerate(first):
        Lm[j, i] = 1.0
        Lm[j, idx_b[tuple(keys.loc[i, c] for c in other)]] = -1.0
    return Lm


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


def _finish(design: Design, keys, est, Z, totals, f_replicate, needs_replicate_fn: bool, Cm, *, empty_rows,
            level, dist, title, notes) -> EstimateTable:
    if empty_rows.any():
        bad = keys.iloc[np.flatnonzero(empty_rows)[:3]].to_dict("records")
        warnings.warn(f"{int(empty_rows.sum())} estimates are in domains with no unit of positive weight "
                      f"(e.g. {bad}); they are NaN", EmptyDomainWarning, stacklevel=3)
    Y, f = totals
    if Cm is not None:
        est_all = Cm @ np.where(np.isnan(est), 0.0, est)
        Z = Z @ Cm.T
        f0, r0 = f, f_replicate
        f = lambda T: np.nan_to_num(f0(T)) @ Cm.T  # noqa: E731
        f_replicate = lambda W: np.nan_to_num(r0(W)) @ Cm.T  # noqa: E731
        empty_all = (np.abs(Cm[:, empty_rows]).sum(1) > 0) if empty_rows.any() else np.zeros(len(est_all), bool)
    else:
        est_all, empty_all = est, empty_rows
        if empty_rows.any():
            f0, r0 = f, f_replicate
            f = lambda T: np.nan_to_num(f0(T))  # noqa: E731
            f_replicate = lambda W: np.nan_to_num(r0(W))  # noqa: E731
    if design.replicates is None:
        V = design.vcov(est_all, Z)
    elif needs_replicate_fn:
        V = design.vcov(np.nan_to_num(est_all), replicate=f_replicate)
    else:
        V = design.vcov(np.nan_to_num(est_all), totals=(Y, f))
    est_all = np.where(empty_all, np.nan, est_all)
    if empty_all.any():
        V = V.copy()
        V[empty_all, :] = np.nan
        V[:, empty_all] = np.nan
    extra = None
    if design.replicates is None:
        vs = design.srs_variance(Z)
        with np.errstate(divide="ignore", invalid="ignore"):
            extra = pd.DataFrame({"deff": np.diag(V) / vs})
    return make_table(keys, est_all, V, design, level=level, dist=dist, title=title, notes=notes, extra=extra)


def _alphas(alpha) -> tuple:
    a = (alpha,) if np.ndim(alpha) == 0 else tuple(alpha)
    for x in a:
        if not (np.isfinite(x) and x >= 0):
            raise InputError(f"FGT alpha must be >= 0, got {x}")
    return tuple(float(x) for x in a)


def _incomes(income, concept=None) -> dict:
    if isinstance(income, Mapping):
        return dict(income)
    return {concept if concept is not None else _label(income, "income"): income}


# ====================================================================== public API
def fgt(survey, income, line, alpha=(0, 1, 2), by=None, *, level: str = "person", strict: bool = True,
        ci_level: float = 0.95, dist: str = "t", na_rm: bool = False, headcount_total: bool = True,
        concept: str | None = None) -> EstimateTable:
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

    Returns
    -------
    EstimateTable
        Keys ``measure`` (``"fgt0"``, ``"fgt1"``, ``"fgt2"``, ``"headcount_total"``),
        ``concept``, ``line`` and the domain column(s); ``to_frame()`` adds estimate,
        se, ci_lower, ci_upper, df and ``deff`` (linearised designs).
    """
    return _poverty_table(survey, _incomes(income, concept), line, _alphas(alpha), by, level=level, strict=strict,
                          ci_level=ci_level, dist=dist, na_rm=na_rm, headcount_total=headcount_total,
                          title="FGT poverty indices")


def watts(survey, income, line, by=None, *, level: str = "person", strict: bool = True, ci_level: float = 0.95,
          dist: str = "t", na_rm: bool = False, concept: str | None = None) -> EstimateTable:
    """Watts index ``W = sum w 1[y < z] log(z / y) / sum w`` with design SEs.

    A ratio mean like FGT (influence ``(g_i - W)/N``); with a relative line the
    influence gains ``(sum w 1[y<z]/z / N) x I_z`` (the log term is 0 at ``y = z``, so no
    density term). Raises for poor units with ``y <= 0`` (the index is undefined).
    Same parameters as :func:`fgt`.
    """
    return _poverty_table(survey, _incomes(income, concept), line, ("watts",), by, level=level, strict=strict,
                          ci_level=ci_level, dist=dist, na_rm=na_rm, headcount_total=False, title="Watts index")


def compare(survey, incomes: Mapping[str, Any] = None, line=None, alpha=(0, 1, 2), by=None, *, measure: str = "fgt",
            level: str = "person", strict: bool = True, ci_level: float = 0.95, dist: str = "t",
            na_rm: bool = False, headcount_total: bool = False, label: str | None = None) -> EstimateTable:
    """Poverty under two income concepts on the same sample, and their difference.

    Parameters
    ----------
    incomes : mapping ``{label: column or array}``
        Exactly two concepts, e.g. ``{"with": "y_with", "without": "y_without"}``.
        The difference is FIRST minus SECOND (``concept = "with - without"`` unless
        ``label`` is given).
    line : as in :func:`fgt`
        The same line specification for both concepts. A :class:`RelativeLine` without
        ``income=`` is recomputed on each concept's own distribution; give ``income=``
        to anchor a single line.
    measure : {"fgt", "watts"}

    Returns
    -------
    EstimateTable
        Rows for both concepts and the difference; the difference's SE comes from the
        joint vcov (difference of influence values on the same sample, or the
        difference of replicate estimates). Rows missing in either concept are
        treated alike (``na_rm``).
    """
    if incomes is None or len(incomes) != 2:
        raise InputError("compare needs exactly two income concepts, e.g. {'with': 'y', 'without': 'y_norem'}")
    if line is None:
        raise InputError("compare needs a poverty line")
    names = list(incomes)
    lab = label or f"{names[0]} - {names[1]}"
    if measure == "fgt":
        al = _alphas(alpha)
    elif measure == "watts":
        al, headcount_total = ("watts",), False
    else:
        raise InputError(f"measure={measure!r}: use 'fgt' or 'watts' (sen/sst have their own functions)")
    return _poverty_table(survey, dict(incomes), line, al, by, level=level, strict=strict, ci_level=ci_level,
                          dist=dist, na_rm=na_rm, headcount_total=headcount_total, contrast=lab,
                          title=f"Poverty: {names[0]} vs {names[1]}",
                          extra_notes=(f"difference = {names[0]} minus {names[1]} (same sample, joint vcov)",))
