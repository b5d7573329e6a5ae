"""Weighted quantiles: the one implementation and the one set of rule names.

Rules (``rule=`` of :func:`remitpov.quantile`, ``quantile_rule=`` of
:class:`remitpov.RelativeLine`):

* ``"hf7"`` -- R survey's weighted Hyndman--Fan type 7 (linear interpolation);
* ``"math"`` (alias ``"hf1"``) -- the inverse of the weighted cdf: the smallest ``y`` with
  ``F(y) >= p`` (R survey's ``qrule="math"``); ``"inverse_cdf"`` is the old name of this
  rule in :class:`~remitpov.RelativeLine` (deprecated: a :class:`DeprecationWarning`);
* ``"school"`` (alias ``"hf2"``) -- as ``"math"`` but averaging at an exact jump;
* ``"laeken"`` -- laeken's ``weightedQuantile``: the smallest ``y`` with
  ``cumsum(w)/sum(w) > p`` (strict).
"""
from __future__ import annotations

import warnings

import numpy as np

from ..exceptions import InputError

#: every accepted name (canonical rules, then aliases), as :func:`remitpov.quantile` lists them
QUANTILE_RULES = ("hf7", "math", "hf1", "school", "hf2", "laeken")
ALIASES = {"hf1": "math", "hf2": "school"}
#: old names: accepted with a DeprecationWarning for one release
DEPRECATED = {"inverse_cdf": "math"}


def normalise_rule(rule: str, allowed=QUANTILE_RULES, what: str = "rule") -> str:
    """The canonical name of a quantile rule (aliases resolved, deprecated names warned)."""
    if rule in DEPRECATED:
        new = DEPRECATED[rule]
        warnings.warn(f"{what}={rule!r} is deprecated: the rule is called {new!r} (R survey's qrule name); "
                      f"{rule!r} will be removed in the next release", DeprecationWarning, stacklevel=3)
        rule = new
    r = ALIASES.get(rule, rule)
    if rule not in allowed and r not in allowed:
        raise InputError(f"{what}={rule!r} is not one of {tuple(allowed)}")
    return r


def quantiles_sorted(xs: np.ndarray, Ws: np.ndarray, probs: np.ndarray, rule: str) -> np.ndarray:
    """Weighted quantiles of sorted ``xs`` for every weight column of ``Ws`` (n, r) -> (k, r).

    Rows with zero weight are ignored (as R survey drops them). Vectorised over columns.
    Works on tie blocks (runs of equal ``xs``), so every rule is invariant to the order
    of tied incomes. For ``hf7`` the units of a tie block are taken in increasing order
    of weight (R survey's ``qrule_hf7`` depends on the row order of tied units with
    unequal weights; both agree whenever tied units have equal weights or there are no
    ties).
    """
    n, r = Ws.shape
    out = np.full((len(probs), r), np.nan)
    if n == 0:
        return out
    start = np.ones(n, dtype=bool)
    start[1:] = xs[1:] != xs[:-1]
    starts = np.flatnonzero(start)
    ends = np.append(starts[1:], n) - 1
    xb = xs[starts]
    B = starts.size
    cw = np.cumsum(Ws, axis=0)
    cend = cw[ends]  # cumulative weight at the end of every block (B, r)
    Wb = np.add.reduceat(Ws, starts, axis=0)
    before = cend - Wb
    pos = Wb > 0
    W = cw[-1]
    has = pos.any(0)
    if not has.any():
        return out
    cols = np.arange(r)
    bidx = np.arange(B)[:, None]
    lastb = B - 1 - np.argmax(pos[::-1], axis=0)
    firstb = np.argmax(pos, axis=0)
    if rule == "hf7":
        Mb = np.maximum.reduceat(Ws, starts, axis=0)  # heaviest unit of each block comes last
        D = cend[lastb, cols] - Mb[lastb, cols]
        with np.errstate(divide="ignore", invalid="ignore"):
            lo_k = before / D  # pk of the block's first unit
            hi_k = (cend - Mb) / D  # pk of its last unit
    for j, p in enumerate(probs):
        if rule == "hf7":
            cond = pos & (lo_k <= p)
            b = np.where(cond.any(0), B - 1 - np.argmax(cond[::-1], axis=0), firstb)
            nxt_cond = pos & (bidx > b[None, :])
            b2 = np.where(nxt_cond.any(0), np.argmax(nxt_cond, axis=0), b)
            h, l2 = hi_k[b, cols], lo_k[b2, cols]
            with np.errstate(divide="ignore", invalid="ignore"):
                frac = np.where((p > h) & (b2 != b) & (l2 > h), (p - h) / (l2 - h), 0.0)
            q = xb[b] + np.clip(frac, 0.0, 1.0) * (xb[b2] - xb[b])
            q = np.where(D > 0, q, xb[lastb])  # a single positive unit
        elif rule == "laeken":
            with np.errstate(divide="ignore", invalid="ignore"):
                cond = pos & (cend / W > p)
            q = xb[np.where(cond.any(0), np.argmax(cond, axis=0), lastb)]
        else:  # math / school: smallest x with F(x) >= p
            target = p * W
            cond = pos & (cend >= target)
            b = np.where(cond.any(0), np.argmax(cond, axis=0), lastb)
            q = xb[b]
            if rule == "school":
                exact = cend[b, cols] == target
                nxt_cond = pos & (bidx > b[None, :])
                b2 = np.where(nxt_cond.any(0), np.argmax(nxt_cond, axis=0), b)
                q = np.where(exact, (xb[b] + xb[b2]) / 2.0, q)
        out[j] = np.where(has, q, np.nan)
    return out


#: rules of :func:`weighted_quantile` (relative poverty lines)
LINE_RULES = ("laeken", "math")


def weighted_quantile(x, w, p: float, rule: str = "laeken"):
    """Weighted quantile of ``x``; ``w`` may be ``(n,)`` or ``(n, r)`` (one per column).

    Rules: ``"laeken"`` -- ``x_(k)``, ``k`` the first sorted position with cumulative
    weight share ``> p`` (laeken 0.5.2); ``"math"`` -- first position with share
    ``>= p`` (R survey ``qrule="math"``; ``"inverse_cdf"`` is its deprecated old name).
    Rows with zero weight never get selected. (One argsort: fast for a single order and
    many weight columns, e.g. relative lines under replicate weights.)
    """
    rule = normalise_rule(rule, LINE_RULES, "quantile_rule")
    if not 0 < p < 1:
        raise InputError(f"quantile order must be strictly between 0 and 1, got {p}")
    x = np.asarray(x, dtype=float)
    w = np.asarray(w, dtype=float)
    order = np.argsort(x)  # the value picked is the same whatever the order inside ties
    xs = x[order]
    cw = np.cumsum(w[order], axis=0)
    rw = cw / cw[-1]
    hit = rw > p if rule == "laeken" else rw >= p
    return xs[np.argmax(hit, axis=0)]
