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
from .rank import sort_order

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

    THE weighted quantile of remitpov (every rule; :func:`weighted_quantile` sorts and
    calls it). Rows with zero weight are ignored (as R survey drops them); a column
    without positive weight gives NaN. Vectorised over columns. Every rule is invariant
    to the order of tied incomes:

    * ``"laeken"`` / ``"math"``: the value at the first row whose cumulative weight share
      ``cumsum(w)/sum(w)`` is ``> p`` / ``>= p`` (R's form: the share is computed, then
      compared). That row has positive weight and lies in the first tie block whose
      share at its end passes, so it is read without forming tie blocks;
    * ``"school"``: as ``"math"``, averaging with the next positive block when the share
      at the block's end equals ``p`` exactly;
    * ``"hf7"``: on tie blocks, the units of a block taken in increasing order of weight
      (R survey's ``qrule_hf7`` depends on the row order of tied units with unequal
      weights; both agree whenever tied units have equal weights or there are no ties).
    """
    probs = np.atleast_1d(np.asarray(probs, dtype=float))
    n, r = Ws.shape
    out = np.full((len(probs), r), np.nan)
    if n == 0:
        return out
    cw = np.cumsum(Ws, axis=0)
    W = cw[-1]
    if rule in ("laeken", "math"):
        return _first_share(xs, Ws, cw, W, probs, rule, out)
    start = np.ones(n, dtype=bool)
    start[1:] = xs[1:] != xs[:-1]
    starts = np.flatnonzero(start)
    ends = np.append(starts[1:], n) - 1
    xb = xs[starts]
    B = starts.size
    cend = cw[ends]  # cumulative weight at the end of every block (B, r)
    Wb = np.add.reduceat(Ws, starts, axis=0)
    before = cend - Wb
    pos = Wb > 0
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
    else:
        with np.errstate(divide="ignore", invalid="ignore"):
            share = cend / W  # cumulative weight share at the end of every block
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
        else:  # school: smallest x with F(x) >= p, the midpoint at an exact jump
            cond = pos & (share >= p)
            b = np.where(cond.any(0), np.argmax(cond, axis=0), lastb)
            exact = share[b, cols] == p
            nxt_cond = pos & (bidx > b[None, :])
            b2 = np.where(nxt_cond.any(0), np.argmax(nxt_cond, axis=0), b)
            q = np.where(exact, (xb[b] + xb[b2]) / 2.0, xb[b])
        out[j] = np.where(has, q, np.nan)
    return out


def _first_share(xs, Ws, cw, W, probs, rule, out):
    """``"laeken"``/``"math"`` rules of :func:`quantiles_sorted` on the rows (no tie blocks).

    The first row with ``share > p`` (``>= p`` and a positive cumulative weight) has a
    positive weight -- the share grows there -- and is in the first tie block whose share
    at its end passes, because shares never decrease: the value read is that block's.
    No row passes only for ``p >= 1`` (laeken): the last row with positive weight."""
    r = Ws.shape[1]
    has = W > 0  # weights are >= 0
    if not has.any():
        return out
    if r == 1 and np.all(probs > 0):  # one column: binary search, the exact test on a few rows only
        c, W0 = cw[:, 0], W[0]
        for j, p in enumerate(probs):
            i = _first_row(c, W0, p, rule)
            if i is None:
                i = Ws.shape[0] - 1 - int(np.argmax(Ws[::-1, 0] > 0))
            out[j, 0] = xs[i]
        return out
    cols = np.arange(r)
    with np.errstate(divide="ignore", invalid="ignore"):
        share = cw / W
    last = None
    for j, p in enumerate(probs):
        hit = share > p if rule == "laeken" else share >= p
        if p <= 0:
            hit &= cw > 0
        i = np.argmax(hit, axis=0)
        ok = hit[i, cols]
        if not ok.all():
            if last is None:
                last = Ws.shape[0] - 1 - np.argmax(Ws[::-1] > 0, axis=0)
            i = np.where(ok, i, last)
        out[j] = np.where(has, xs[i], np.nan)
    return out


def _first_row(c: np.ndarray, W: float, p: float, rule: str) -> int | None:
    """First row with ``c/W > p`` (laeken) or ``>= p`` (math), ``c`` non-decreasing, ``p > 0``.

    Rows with ``c`` below ``p W (1 - 1e-12)`` fail and rows above ``p W (1 + 1e-12)`` pass
    whatever the rounding of ``c/W`` and ``p W`` (relative errors ~1e-16), so the share is
    computed and compared exactly as on every row, but only between those two bounds."""
    t = p * W
    lo = int(np.searchsorted(c, t * (1 - 1e-12), "left"))
    hi = min(int(np.searchsorted(c, t * (1 + 1e-12), "right")) + 1, c.shape[0])
    share = c[lo:hi] / W
    hit = share > p if rule == "laeken" else share >= p
    return lo + int(np.argmax(hit)) if hit.any() else None


#: rules of :func:`weighted_quantile` (relative poverty lines)
LINE_RULES = ("laeken", "math")


def weighted_quantile(x, w, p: float, rule: str = "laeken"):
    """Weighted quantile of ``x``; ``w`` may be ``(n,)`` or ``(n, r)`` (one per column).

    Rules: ``"laeken"`` -- ``x_(k)``, ``k`` the first sorted position with cumulative
    weight share ``> p`` (laeken 0.5.2); ``"math"`` -- first position with share
    ``>= p`` (R survey ``qrule="math"``; ``"inverse_cdf"`` is its deprecated old name).
    Rows with zero weight never get selected; NaN for a weight column without a positive
    weight. One sort (:func:`remitpov.core.rank.sort_order`: the value picked is the same
    whatever the order inside ties), then :func:`quantiles_sorted` for every column.
    """
    rule = normalise_rule(rule, LINE_RULES, "quantile_rule")
    if not 0 < p < 1:
        raise InputError(f"quantile order must be strictly between 0 and 1, got {p}")
    w = np.asarray(w, dtype=float)
    order, xs = sort_order(x)
    ws = np.take(w, order, axis=0)
    q = quantiles_sorted(xs, ws.reshape(ws.shape[0], -1), np.array([p]), rule)[0]
    return q[0] if w.ndim == 1 else q
