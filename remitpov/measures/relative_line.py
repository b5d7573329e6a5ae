"""Poverty lines: fixed, per unit, or relative to the income distribution (:class:`RelativeLine`).

The line specification of every poverty estimator (:func:`remitpov.fgt` and the measures in
:mod:`remitpov.measures`): a positive number, a column or array with one line per unit, a
:class:`RelativeLine` (``share x`` a weighted quantile or the mean of an income over the
WHOLE non-missing sample, with its influence values: its sampling variability enters the
SEs), or a mapping ``{label: line}`` for several lines. Conventions in :mod:`remitpov.poverty`.

* :func:`resolve_line` -- a specification as a :class:`Line` on a design (value per unit,
  influence values and replicate values of a relative line);
* :func:`line_specs`, :func:`single_line`, :func:`incomes_of` -- argument normalisation;
* :func:`column_array`, :func:`label_of` -- a column or array as float64, and its label.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

import numpy as np

from ..core.density import kernel_density, positive_rows
from ..core.quantile import LINE_RULES, normalise_rule, weighted_quantile
from ..core.validate import numeric_column
from ..design import Design
from ..exceptions import InputError, describe_rows

#: rules of relative lines (``"inverse_cdf"``, the old name of ``"math"``, is accepted with a warning)
QUANTILE_RULES = LINE_RULES


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
        f = kernel_density(*positive_rows(v, w), q, self.bandwidth)
        if not f > 0:
            raise InputError("the kernel density at the quantile is zero: cannot linearise the relative line")
        z = (v <= q).astype(float)  # -share (1[v <= q] - p) / (N f), in place
        z -= self.p
        z *= -self.share
        z /= N * f
        return self.share * q, z


@dataclass(frozen=True)
class Line:
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


def column_array(survey, x, what: str, coerce: bool = False) -> np.ndarray:
    if survey is not None:
        a = survey.column(x)
    else:
        if isinstance(x, str):
            raise InputError(f"{what} {x!r} is a column name but a Design has no data: pass an array")
        a = np.asarray(x)
    return numeric_column(a, label_of(x, what), None if survey is None else survey.id_values, coerce=coerce)


def label_of(x, default: str) -> str:
    return x if isinstance(x, str) else default


def resolve_line(line, survey, design: Design, y: np.ndarray, ylabel: str, ok: np.ndarray, n: int,
                  label=None) -> Line:
    if isinstance(line, RelativeLine):
        v = y if line.income is None else column_array(survey, line.income, "line income")
        vlab = ylabel if line.income is None else label_of(line.income, "income")
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
        return Line(label if label is not None else own, np.broadcast_to(float(z), (n,)), line, v, zlin)
    if np.ndim(line) == 0 and not isinstance(line, str):
        zv = float(line)
        if not (np.isfinite(zv) and zv > 0):
            raise InputError(f"poverty line must be a finite positive number, got {line!r}")
        # one value for every unit: a read-only broadcast view, not n copies
        return Line(label if label is not None else (int(zv) if zv.is_integer() else zv), np.broadcast_to(zv, (n,)))
    z = column_array(survey, line, "poverty line")
    bad = ok & ~(np.isfinite(z) & (z > 0))
    if bad.any():
        raise InputError(f"poverty line {label_of(line, '(array)')!r} is missing, zero or negative in "
                         f"{describe_rows(bad, None if survey is None else survey.id_values)}; "
                         "every unit needs a positive line")
    return Line(label if label is not None else label_of(line, "(per unit)"), np.where(ok, z, 1.0))


def line_specs(line) -> list[tuple[Any, Any]]:
    """Normalise ``line`` to ``[(label or None, spec)]``; a Mapping gives several lines."""
    if isinstance(line, Mapping):
        return list(line.items())
    return [(None, line)]


def single_line(line):
    if isinstance(line, Mapping):
        raise InputError("give a single poverty line here (not a mapping of lines)")
    return line


def incomes_of(income, concept=None) -> dict:
    """``{label: income}`` of one income (labelled ``concept`` or its column name) or a mapping."""
    if isinstance(income, Mapping):
        return dict(income)
    return {concept if concept is not None else label_of(income, "income"): income}


__all__ = ["RelativeLine", "Line", "QUANTILE_RULES", "resolve_line", "line_specs", "single_line", "incomes_of",
           "column_array", "label_of"]
