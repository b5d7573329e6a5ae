"""The in-memory engine: :class:`~remitpov.engines.base.UnitSums` of a pandas frame.

One vectorised pass over the rows of a frame (the whole survey, or one partition of a
Dask DataFrame: :mod:`remitpov.engines.dask` maps :func:`unit_sums` over the partitions
and adds the results with :func:`remitpov.engines.base.combine`). The basis is evaluated
by the same :class:`~remitpov.engines.basis.Term` definitions as the SQL of
:mod:`remitpov.engines.duckdb`.

Input problems (missing design codes, missing analysis values, missing domain labels,
non-positive lines) are returned, not raised, so that a distributed reduction can report
the count and example row labels of all partitions in one error (:func:`raise_problems`).
Weights and household sizes are checked by :mod:`remitpov.core.validate` (the one rule
of every estimator) and raise from the partition holding the first bad value.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd

from ..core.validate import check_positive, check_weights
from ..design import group_sum
from ..design_kernels import code_counts, kernel_sum
from ..exceptions import InputError
from .base import ALL, DesignSpec, UnitSums
from .basis import Term

__all__ = ["unit_sums", "frame_sums", "row_basis", "row_sums", "compact_codes", "domain_codes", "domain_frame",
           "expand_columns", "validate", "design_problems", "fpc_ranges", "domain_values", "raise_problems",
           "merge_problems", "numeric", "keys"]


def numeric(pdf: pd.DataFrame, col: str) -> np.ndarray:
    """A column as float64 (no copy when it already is); text that is not a number -> NaN."""
    s = pdf[col]
    if s.dtype.kind in "fiub":
        return s.to_numpy(dtype=float, na_value=np.nan)
    return pd.to_numeric(s, errors="coerce").to_numpy(dtype=float, na_value=np.nan)


def domain_frame(dl, G: np.ndarray | None, n_pos: np.ndarray, wsum: np.ndarray) -> pd.DataFrame:
    """:attr:`UnitSums.dom` from per-domain Gram matrices (or None), counts and weight sums."""
    out = {"n_pos": n_pos, "wsum": wsum}
    if G is not None:
        D, m = G.shape[0], G.shape[1]
        out = {**{f"g{j}": G.reshape(D, m * m)[:, j] for j in range(m * m)}, **out}
    return pd.DataFrame(out, index=pd.Index(np.asarray(dl, dtype=object), name="d"))


def _examples(index, mask, k=3) -> list:
    return [str(v) for v in np.asarray(index)[np.flatnonzero(mask)[:k]]]


def validate(pdf: pd.DataFrame, spec: DesignSpec, numeric_cols: Sequence[str], na_rm: bool, level: str = "person",
             design: bool = True):
    """Weights (times ``size`` at person level) and usable rows of one frame, and the problems found
    (``design=False``: the design columns are not checked -- they were, once, by the caller).

    Weights and sizes follow the package's one rule (:func:`remitpov.core.validate.check_weights`,
    :func:`~remitpov.core.validate.check_positive`: finite and > 0), checked by two reductions
    and, if they fail, raised at once as an :class:`InputError` naming the frame's rows (on
    Dask: the first partition holding a bad value); the other problems are returned."""
    probs = {}
    w = numeric(pdf, spec.weight)
    if not _all_positive(w):  # the one rule and message (raised here: the first partition with a bad weight)
        check_weights(w, spec.weight, ids=pdf.index)
    if spec.size is not None:
        sz = numeric(pdf, spec.size)
        if not _all_positive(sz):
            check_positive(sz, f"household size column {spec.size!r}", ids=pdf.index,
                           fix="every household needs at least one member")
        if level == "person":
            w = w * sz
    if design:
        probs.update(design_problems(pdf, spec))
    ok = np.ones(len(pdf), dtype=bool)
    for c in dict.fromkeys(numeric_cols):
        v = numeric(pdf, c)
        if not v.size or _finite_sum(v):  # one reduction, no mask
            continue
        m = ~np.isfinite(v)
        if m.any():
            ok &= ~m
            if not na_rm:
                probs[f"value:{c}"] = (int(m.sum()), _examples(pdf.index, m))
    return w, ok, probs


def _all_positive(a: np.ndarray) -> bool:
    """All of ``a`` finite and > 0, from two reductions (a NaN makes the minimum NaN; :func:`_finite_sum`)."""
    return not a.size or bool(a.min() > 0 and _finite_sum(a))


def _finite_sum(a: np.ndarray) -> bool:
    """The sum of ``a`` is finite: no NaN or infinity in ``a`` (a NaN or an infinity makes the sum
    NaN or infinite; finite values whose sum overflows give False too: the caller then checks
    every value)."""
    with np.errstate(over="ignore", invalid="ignore"):
        return bool(np.isfinite(np.add.reduce(a)))


def design_problems(pdf: pd.DataFrame, spec: DesignSpec) -> dict:
    """Missing design codes (strata, PSU, SSU, fpc) of one frame: ``{column: (count, example rows)}``."""
    probs = {}
    for c in (spec.strata, spec.psu, spec.fpc, spec.ssu, spec.fpc2):
        if c is not None:
            m = pdf[c].isna().to_numpy()
            if m.any():
                probs[c] = (int(m.sum()), _examples(pdf.index, m))
    return probs


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
            codes = (a - lo if lo else a).astype(np.int64, copy=False)  # (labels from 0: the codes as they are)
            return codes, hi - lo + 1, (lambda c, lo=lo, dt=a.dtype: (c + lo).astype(dt))
    c, lab = pd.factorize(a)
    lab = np.asarray(lab)
    return c.astype(np.int64, copy=False), max(len(lab), 1), (lambda c, lab=lab: lab[c])


def keys(pdf: pd.DataFrame, spec: DesignSpec, dom: np.ndarray):
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
        codes, uniq = compact_codes(combined, int(np.prod(sizes)))
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
    dcode, dpresent = compact_codes(dcode, dsize)
    return codes, idx, dcode, ddec(dpresent)


def row_basis(pdf: pd.DataFrame, spec: DesignSpec, terms: Sequence[Term], by, *, na_rm: bool = False,
              level: str = "person", extra_numeric: Sequence[str] = (), design: bool = True):
    """Weights and basis of the ``terms`` on the rows of ``pdf``, or ``{"problems": ...}``.

    Returns ``(we, dom, basis, k, expand, ones)``: weights ``we`` (zero for rows with a missing
    analysis value, ``na_rm=True``), domain labels ``dom`` (None: the whole sample),
    ``basis(a, b)`` the (b - a, k) basis of the DISTINCT terms on rows ``a:b``, and
    ``expand`` the index of each term's column among them (terms repeated in a table --
    FGT(0) and the headcount total -- are evaluated and summed once), ``ones`` the index of
    the constant term (if any). ``basis(a, b)`` returns ``(sel, B)``: when every other term
    is an FGT or cdf indicator, only the rows ``a + sel`` of their support (poor under some
    concept) are evaluated -- the others contribute zeros (``sel=None``: all rows). ``design=False``:
    the design columns are not read (checked once elsewhere).
    """
    cols = list(dict.fromkeys(c for t in terms for c in t.columns))
    line_cols = list(dict.fromkeys(t.line for t in terms if isinstance(t.line, str) and t.kind == "fgt"))
    value_cols = [c for c in cols if c not in line_cols] + list(extra_numeric)
    w, ok, probs = validate(pdf, spec, value_cols, na_rm, level, design=design)
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
    distinct = list(dict.fromkeys(terms))
    expand = np.array([distinct.index(t) for t in terms], dtype=np.int64)
    k = len(distinct)
    ones = [j for j, t in enumerate(distinct) if t.kind == "one"]
    sparse = [t for t in distinct if t.kind != "one"]
    dense = not sparse or any(t.kind == "column" for t in sparse)
    supports = list({(t.income, t.line, t.strict, t.kind): t for t in sparse}.values())  # one per support

    def basis(a: int, b: int, const: bool = True):
        Xc = {c: v[a:b] for c, v in X.items()}
        sel = None
        if not dense:  # every term but the constant is zero outside its support (y < z, y <= q)
            keep = None
            for t in supports:
                s = t.support(Xc)
                keep = s if keep is None else np.logical_or(keep, s, out=keep)
            if np.count_nonzero(keep) < SPARSE_SHARE * (b - a):
                sel = np.flatnonzero(keep)
                Xc = {c: v[sel] for c, v in Xc.items()}
        r = b - a if sel is None else sel.size
        cols_ = distinct if const else nonconst
        out = np.empty((r, len(cols_)))  # row-major: what the sparse product reads
        cache: dict = {}
        for j, t in enumerate(cols_):
            if t.kind == "one":
                out[:, j] = 1.0
            else:
                out[:, j] = t.values(Xc, r, cache)
        return sel, out
    nonconst = [t for t in distinct if t.kind != "one"]
    basis.const_optional = True  # basis(a, b, const=False): without the constant columns (row_sums)
    return w, (None if by is None else dom), basis, k, expand, ones


#: evaluate a basis on the rows of its support only when they are fewer than this share of a chunk
SPARSE_SHARE = 0.6


def unit_sums(pdf: pd.DataFrame, spec: DesignSpec, terms: Sequence[Term], by, *, na_rm: bool = False,
              gram: bool = False, level: str = "person", extra_numeric: Sequence[str] = ()):
    """:class:`UnitSums` of the ``terms`` on the rows of ``pdf`` (or ``{"problems": ...}``).

    Rows with a missing analysis value (``na_rm=True``) get zero weight (outside every
    domain, design kept, as R survey's ``na.rm=TRUE``). The basis is evaluated
    :data:`CHUNK` rows at a time (never held for all rows).
    """
    rb = row_basis(pdf, spec, terms, by, na_rm=na_rm, level=level, extra_numeric=extra_numeric)
    if isinstance(rb, dict):
        return rb
    w, dom, basis, k, expand, ones = rb
    return frame_sums(pdf, spec, basis, w, dom, gram=gram, m=k, expand=expand, ones=ones)


def expand_columns(S: np.ndarray, G: np.ndarray | None, expand: np.ndarray | None):
    """Sums ``S`` (K, k) and Gram matrices ``G`` (D, k, k) of distinct terms -> of every term."""
    if expand is None:
        return S, G
    return S[:, expand], (None if G is None else G[:, expand][:, :, expand])


def row_sums(get, m: int, codes: np.ndarray, K: int, we: np.ndarray, dc: np.ndarray, D: int, gram: bool,
             ones: Sequence[int] = (), wsum: bool = True):
    """One chunked pass: sums of ``w b`` by ``codes`` (K, m), per-domain Gram matrices of ``b``
    (D, m, m) if ``gram``, rows with positive weight and the sum of weights per domain.

    ``get(a, b)`` returns ``(sel, B)``: the basis on rows ``a + sel`` of the chunk (``sel``
    None: all of them), zero on the others except the constant columns ``ones``, whose
    sums are taken over every row (a basis of :func:`row_basis` leaves them out of ``B``
    when no Gram matrix needs them: ``get(a, b, const=False)``). ``codes`` must lie in
    ``0..K-1`` (the callers' codes do by construction; the compiled grouped sum does not
    check them). ``wsum=False`` (no Gram matrices only): the sums of weights per domain are
    not summed over the rows (returned as None; the constant's sums by ``codes`` hold them).
    """
    n = len(we)
    codes = np.ascontiguousarray(codes, dtype=np.int64)
    we = np.ascontiguousarray(we, dtype=float)
    S = np.zeros((K, m))
    G = np.zeros((D, m, m)) if gram else None
    skip = bool(len(ones)) and not gram and getattr(get, "const_optional", False)
    rest = [j for j in range(m) if j not in set(ones)] if skip else None
    Sb = np.zeros((K, len(rest))) if skip else S  # the sums of the columns evaluated
    for a in range(0, n, CHUNK):
        b = min(a + CHUNK, n)
        sel, Bc = get(a, b, const=False) if skip else get(a, b)
        Bc = np.ascontiguousarray(Bc)  # the sparse product is fastest on row-major rows
        cc, wc = codes[a:b], we[a:b]
        if sel is not None:
            cc, wc = cc[sel], wc[sel]
        kernel_sum(cc, Bc, wc, Sb)  # (group_sum without its bounds check: the codes are 0..K-1)
        if gram:
            dcc = dc[a:b] if sel is None else dc[a:b][sel]
            for d in range(D):
                G[d] += (Bc.T * (wc * (dcc == d))) @ Bc
    if skip:
        S[:, rest] = Sb
    wsum = np.bincount(dc, weights=we, minlength=D) if (wsum or gram) else None
    if len(ones):  # the constant: over every row
        const = np.bincount(codes, weights=we, minlength=K)
        for j in ones:
            S[:, j] = const
            if gram:
                G[:, j, j] = wsum
    n_pos = code_counts(dc if we.size and we.min() > 0 else dc[we > 0], D)
    return S, G, n_pos, wsum


def compact_codes(codes: np.ndarray, size: int):
    """Codes ``0..k-1`` of the values present in ``codes`` (``0..size-1``) and those values."""
    if size <= 4 * codes.size + 4096:  # a presence table: no hashing
        present = np.flatnonzero(np.bincount(codes, minlength=size))
        if present.size == size:  # every value present: the codes already are 0..size-1
            return codes, present
        remap = np.zeros(size, dtype=np.int64)
        remap[present] = np.arange(present.size)
        return remap[codes], present
    c, uniq = pd.factorize(codes)
    return c.astype(np.int64, copy=False), np.asarray(uniq, dtype=np.int64)


def domain_codes(dom: np.ndarray | None, n: int):
    """Codes ``0..D-1`` of the domain labels of ``n`` rows and the labels (sorted when numeric);
    ``dom=None``: one domain, the whole sample (label :data:`ALL`)."""
    if dom is None:
        return np.zeros(n, dtype=np.int64), np.array([ALL], dtype=object)
    code, size, dec = _level_codes(dom)
    if size <= 2:  # the smallest and the largest code are present: every code is
        return code, dec(np.arange(size))
    code, present = compact_codes(code, size)
    return code, dec(present)


def frame_sums(pdf: pd.DataFrame, spec: DesignSpec, B, we: np.ndarray, dom: np.ndarray, *,
               gram: bool = False, m: int | None = None, expand: np.ndarray | None = None,
               ones: Sequence[int] = ()) -> UnitSums:
    """:class:`UnitSums` of a basis ``B`` -- an (n, m) array, or ``B(start, stop)`` returning
    those rows -- with weights ``we`` (zero: outside every domain) and domain labels
    ``dom`` (None: the whole sample), the design columns read from ``pdf`` (same rows)."""
    n = len(pdf)
    get = B if callable(B) else (lambda a, b, _B=np.asarray(B, dtype=float): (None, _B[a:b]))
    m = m if m is not None else np.asarray(B).shape[1]
    codes, idx, dc, dl = keys(pdf, spec, dom)
    K, D = len(idx), len(dl)
    S, G, n_pos, wsum = row_sums(get, m, codes, K, we, dc, D, gram, ones)
    S, G = expand_columns(S, G, expand)
    unit = pd.DataFrame(S, index=idx, columns=[f"b{j}" for j in range(S.shape[1])])
    return UnitSums(unit, domain_frame(dl, G, n_pos, wsum), *fpc_ranges(pdf, spec), n)


def fpc_ranges(pdf: pd.DataFrame, spec: DesignSpec):
    """Smallest and largest fpc per stratum and fpc2 per (stratum, PSU) (None without them):
    :attr:`UnitSums.fpc` and :attr:`UnitSums.fpc2` (they must be constant there)."""
    strata = pdf[spec.strata].to_numpy() if spec.strata is not None else np.zeros(len(pdf), dtype=np.int64)
    fpc = fpc2 = None
    if spec.fpc is not None:
        fpc = pd.DataFrame({"f": numeric(pdf, spec.fpc), "s": strata}).groupby("s")["f"].agg(["min", "max"])
    if spec.two_stage:
        fpc2 = pd.DataFrame({"f": numeric(pdf, spec.fpc2), "s": strata, "u": pdf[spec.psu].to_numpy()}) \
            .groupby(["s", "u"])["f"].agg(["min", "max"])
    return fpc, fpc2
