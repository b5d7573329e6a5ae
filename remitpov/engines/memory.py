"""The in-memory engine: :class:`~remitpov.engines.base.UnitSums` of a pandas frame.

One vectorised pass over the rows of a frame (the whole survey, or one partition of a
Dask DataFrame: :mod:`remitpov.engines.dask` maps :func:`unit_sums` over the partitions
and adds the results with :func:`remitpov.engines.base.combine`). The basis is evaluated
by the same :class:`~remitpov.engines.basis.Term` definitions as the SQL of
:mod:`remitpov.engines.duckdb`.

Input problems (non-positive weights, missing design codes, missing analysis values,
missing domain labels, non-positive lines) are returned, not raised, so that a
distributed reduction can report the count and example row labels of all partitions in
one error (:func:`raise_problems`).
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd

from ..design import group_sum
from ..exceptions import InputError
from .base import ALL, DesignSpec, UnitSums
from .basis import Term

__all__ = ["unit_sums", "frame_sums", "validate", "domain_values", "raise_problems", "merge_problems", "numeric"]


def numeric(pdf: pd.DataFrame, col: str) -> np.ndarray:
    """A column as float64 (no copy when it already is); text that is not a number -> NaN."""
    s = pdf[col]
    if s.dtype.kind in "fiub":
        return s.to_numpy(dtype=float, na_value=np.nan)
    return pd.to_numeric(s, errors="coerce").to_numpy(dtype=float, na_value=np.nan)


def _examples(index, mask, k=3) -> list:
    return [str(v) for v in np.asarray(index)[np.flatnonzero(mask)[:k]]]


def validate(pdf: pd.DataFrame, spec: DesignSpec, numeric_cols: Sequence[str], na_rm: bool, level: str = "person"):
    """Weights (times ``size`` at person level) and usable rows of one frame, and the problems found."""
    probs = {}
    w = numeric(pdf, spec.weight)
    bad = ~np.isfinite(w) | (w <= 0)
    if bad.any():
        probs["weight"] = (int(bad.sum()), _examples(pdf.index, bad))
    if spec.size is not None:
        sz = numeric(pdf, spec.size)
        b2 = ~np.isfinite(sz) | (sz <= 0)
        if b2.any():
            probs["size"] = (int(b2.sum()), _examples(pdf.index, b2))
        if level == "person":
            w = w * sz
    for c in (spec.strata, spec.psu, spec.fpc, spec.ssu, spec.fpc2):
        if c is not None:
            m = pdf[c].isna().to_numpy()
            if m.any():
                probs[c] = (int(m.sum()), _examples(pdf.index, m))
    ok = np.ones(len(pdf), dtype=bool)
    for c in dict.fromkeys(numeric_cols):
        v = numeric(pdf, c)
        m = ~np.isfinite(v)
        if m.any():
            ok &= ~m
            if not na_rm:
                probs[f"value:{c}"] = (int(m.sum()), _examples(pdf.index, m))
    return w, ok, probs


def merge_problems(a: dict, b: dict) -> dict:
    out = dict(a)
    for k, (n, ex) in b.items():
        n0, ex0 = out.get(k, (0, []))
        out[k] = (n0 + n, (ex0 + ex)[:3])
    return out


def raise_problems(probs: dict, spec: DesignSpec):
    """Raise the first problem as an :class:`InputError` naming the column, count and rows."""
    for k, (n, ex) in probs.items():
        e = f" (e.g. rows labelled {', '.join(ex)})" if ex else ""
        if k == "weight":
            raise InputError(f"weight column {spec.weight!r} is missing, zero or negative in {n} rows{e}; weights "
                             "must be > 0: fix them or drop out-of-scope rows explicitly")
        if k == "size":
            raise InputError(f"size column {spec.size!r} is missing, zero or negative in {n} rows{e}")
        if k.startswith("value:"):
            raise InputError(f"{k[6:]!r} is missing or not finite in {n} rows{e}; pass na_rm=True to treat those "
                             "rows as outside every domain (design kept), or impute them")
        if k.startswith("domain:"):
            raise InputError(f"domain variable {k[7:]!r} is missing in {n} rows{e}; recode missing values to an "
                             "explicit category")
        if k.startswith("line:"):
            raise InputError(f"poverty line {k[5:]!r} is missing, zero or negative in {n} rows{e}; every unit "
                             "needs a positive line")
        raise InputError(f"design column {k!r} is missing in {n} rows{e}")


def domain_values(pdf: pd.DataFrame, by) -> tuple[np.ndarray, dict]:
    if by is None:
        return np.full(len(pdf), ALL, dtype=object), {}
    v = pdf[by]
    m = v.isna().to_numpy()
    if m.any():
        return v.to_numpy(), {f"domain:{by}": (int(m.sum()), _examples(pdf.index, m))}
    return v.to_numpy(), {}


#: rows per chunk of the basis (bounds the temporaries: the basis is never held for all rows)
CHUNK = 1 << 16


def _level_codes(a: np.ndarray):
    """Codes ``0..size-1`` and a decoder ``code -> label`` of one key level. Integer labels
    in a compact range are offset, not hashed (PSU numbers, strata, regions)."""
    if a.dtype.kind in "iu" and a.size:
        lo, hi = int(a.min()), int(a.max())
        if hi - lo < 4 * a.size + 1024:
            codes = (a - lo).astype(np.int64, copy=False)
            return codes, hi - lo + 1, (lambda c, lo=lo, dt=a.dtype: (c + lo).astype(dt))
    c, lab = pd.factorize(a)
    lab = np.asarray(lab)
    return c.astype(np.int64, copy=False), max(len(lab), 1), (lambda c, lab=lab: lab[c])


def _keys(pdf: pd.DataFrame, spec: DesignSpec, dom: np.ndarray):
    """Codes of the (stratum, psu, ssu, domain) combinations present, their MultiIndex, and the
    domain codes and labels of the rows (``dom=None``: one domain, the whole sample)."""
    n = len(pdf)
    arrays = [pdf[c].to_numpy() if c is not None else None
              for c in (spec.strata, spec.psu, spec.ssu if spec.two_stage else None)] + [dom]
    levels = [None if a is None else _level_codes(a) for a in arrays]
    sizes = [1 if lv is None else lv[1] for lv in levels]
    if float(np.prod(np.asarray(sizes, dtype=float))) < 2.0**62:
        combined = np.zeros(n, dtype=np.int64)
        for lv, size in zip(levels, sizes):
            combined *= size
            if lv is not None:
                combined += lv[0]
        total = int(np.prod(sizes))
        if total <= 4 * n + 4096:  # compact by a presence table: no hashing
            present = np.flatnonzero(np.bincount(combined, minlength=total))
            remap = np.zeros(total, dtype=np.int64)
            remap[present] = np.arange(present.size)
            codes, uniq = remap[combined], present
        else:
            codes, uniq = pd.factorize(combined)
            uniq = np.asarray(uniq, dtype=np.int64)
        parts = []
        for lv, size in zip(reversed(levels), reversed(sizes)):
            c = uniq % size
            uniq = uniq // size
            parts.append(np.zeros(c.size, dtype=np.int64) if lv is None else lv[2](c))
        parts = parts[::-1]
        if dom is None:
            parts[3] = np.full(len(parts[3]), ALL, dtype=object)
    else:  # many labels in every level: re-factorise level by level (codes stay < n)
        codes = np.zeros(n, dtype=np.int64)
        for lv, size in zip(levels, sizes):
            if lv is not None:
                codes = pd.factorize(codes * size + lv[0])[0]
        first = np.unique(codes, return_index=True)[1]
        parts = [np.zeros(first.size, dtype=np.int64) if a is None else a[first] for a in arrays[:3]]
        parts.append(np.full(first.size, ALL, dtype=object) if dom is None else dom[first])
    idx = pd.MultiIndex.from_arrays(parts, names=["s", "u", "v", "d"])
    if dom is None:  # no domains: the whole sample, no per-row labels to factorise
        return codes, idx, np.zeros(n, dtype=np.int64), np.array([ALL], dtype=object)
    dcode, dsize, ddec = levels[3]
    dpresent = np.flatnonzero(np.bincount(dcode, minlength=dsize))
    remap = np.full(dsize, -1, dtype=np.int64)
    remap[dpresent] = np.arange(dpresent.size)
    return codes, idx, remap[dcode], ddec(dpresent)


def unit_sums(pdf: pd.DataFrame, spec: DesignSpec, terms: Sequence[Term], by, *, na_rm: bool = False,
              gram: bool = False, level: str = "person", extra_numeric: Sequence[str] = ()):
    """:class:`UnitSums` of the ``terms`` on the rows of ``pdf`` (or ``{"problems": ...}``).

    Rows with a missing analysis value (``na_rm=True``) get zero weight (outside every
    domain, design kept, as R survey's ``na.rm=TRUE``). The basis is evaluated
    :data:`CHUNK` rows at a time (never held for all rows).
    """
    cols = list(dict.fromkeys(c for t in terms for c in t.columns))
    line_cols = list(dict.fromkeys(t.line for t in terms if isinstance(t.line, str) and t.kind == "fgt"))
    value_cols = [c for c in cols if c not in line_cols] + list(extra_numeric)
    w, ok, probs = validate(pdf, spec, value_cols, na_rm, level)
    dom, dp = domain_values(pdf, by)
    probs.update(dp)
    X = {c: numeric(pdf, c) for c in cols}
    for c in line_cols:
        bad = ok & ~(np.isfinite(X[c]) & (X[c] > 0))
        if bad.any():
            probs[f"line:{c}"] = (int(bad.sum()), _examples(pdf.index, bad))
    if probs:
        return {"problems": probs}
    if not ok.all():
        X = {c: np.where(ok, v, 1.0 if c in line_cols else 0.0) for c, v in X.items()}
        w = np.where(ok, w, 0.0)
    m = len(terms)

    def basis(a: int, b: int) -> np.ndarray:
        Xc = {c: v[a:b] for c, v in X.items()}
        out = np.empty((m, b - a)).T  # column-major: contiguous columns
        cache: dict = {}
        for j, t in enumerate(terms):
            out[:, j] = t.values(Xc, b - a, cache)
        return out
    return frame_sums(pdf, spec, basis, w, None if by is None else dom, gram=gram, m=m)


def frame_sums(pdf: pd.DataFrame, spec: DesignSpec, B, we: np.ndarray, dom: np.ndarray, *,
               gram: bool = False, m: int | None = None) -> UnitSums:
    """:class:`UnitSums` of a basis ``B`` -- an (n, m) array, or ``B(start, stop)`` returning
    those rows -- with weights ``we`` (zero: outside every domain) and domain labels
    ``dom`` (None: the whole sample), the design columns read from ``pdf`` (same rows)."""
    n = len(pdf)
    get = B if callable(B) else (lambda a, b, _B=np.asarray(B, dtype=float): _B[a:b])
    m = m if m is not None else np.asarray(B).shape[1]
    codes, idx, dc, dl = _keys(pdf, spec, dom)
    K, D = len(idx), len(dl)
    S = np.zeros((K, m))
    G = np.zeros((D, m, m)) if gram else None
    for a in range(0, n, CHUNK):
        b = min(a + CHUNK, n)
        Bc = np.ascontiguousarray(get(a, b))  # the sparse product is fastest on row-major rows
        wc = we[a:b]
        S += group_sum(codes[a:b], Bc, K, wc)
        if gram:
            dcc = dc[a:b]
            for d in range(D):
                G[d] += (Bc.T * (wc * (dcc == d))) @ Bc
    unit = pd.DataFrame(S, index=idx, columns=[f"b{j}" for j in range(m)])
    out = {"n_pos": np.bincount(dc[we > 0], minlength=D).astype(float),
           "wsum": np.bincount(dc, weights=we, minlength=D)}
    if gram:
        out = {**{f"g{j}": G.reshape(D, m * m)[:, j] for j in range(m * m)}, **out}
    domf = pd.DataFrame(out, index=pd.Index(np.asarray(dl, dtype=object), name="d"))
    strata = pdf[spec.strata].to_numpy() if spec.strata is not None else np.zeros(n, dtype=np.int64)
    fpc = fpc2 = None
    if spec.fpc is not None:
        fpc = pd.DataFrame({"f": numeric(pdf, spec.fpc), "s": strata}).groupby("s")["f"].agg(["min", "max"])
    if spec.two_stage:
        fpc2 = pd.DataFrame({"f": numeric(pdf, spec.fpc2), "s": strata, "u": pdf[spec.psu].to_numpy()}) \
            .groupby(["s", "u"])["f"].agg(["min", "max"])
    return UnitSums(unit, domf, fpc, fpc2, n)
