"""Row-pass kernels of the variance engine (:mod:`remitpov.design`): label factorisation,
grouped sums of weighted rows, blocked cross-products and per-domain Gram matrices, and
the application of factored coefficients to PSU totals.

Conventions: every grouped sum adds rows in row order (as ``np.bincount``), so results do
not depend on the number of columns summed at once; BLAS products are blocked below
OpenBLAS's multi-threading threshold (idle threads spinning on a 2-core machine slow the
row passes that follow); codes are ``0..K-1`` int64 (checked by :func:`group_sum`, trusted
by :func:`kernel_sum`).
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import sparse

from .exceptions import InputError, describe_rows

__all__ = ["FACTOR_CHUNK", "factorize_labels", "group_sum", "kernel_sum", "weighted_crossprod", "grouped_outer",
           "gram_add", "gram_products", "apply_coefficients", "code_counts"]

#: Rows per chunk of :meth:`Design.influence_sums <remitpov.design.Design.influence_sums>` (bounds its temporaries).
FACTOR_CHUNK = 1 << 16


def factorize_labels(values, name: str) -> tuple[np.ndarray, np.ndarray]:
    """Factorise labels to 0..K-1 codes (sorted labels); refuse missing labels."""
    a = np.asarray(values)
    if a.ndim == 1 and a.dtype.kind in "iub" and a.size:
        ai = a.view(np.uint8) if a.dtype.kind == "b" else a
        lo, hi = int(ai.min()), int(ai.max())
        if lo >= 0 and hi <= 4 * a.size + 1024:  # small non-negative integers: one scatter pass
            present = np.zeros(hi + 1, dtype=bool)
            present[ai] = True  # (a boolean scatter: ~3x faster than np.bincount)
            if lo == 0 and present.all():  # already codes 0..K-1: a copy, no gather
                return ai.astype(np.int64, copy=True), np.arange(hi + 1).astype(a.dtype)
            code_of = np.cumsum(present) - 1
            return code_of[ai].astype(np.int64, copy=False), np.flatnonzero(present).astype(a.dtype)
    s = pd.Series(values)
    if s.isna().any():
        raise InputError(
            f"design column {name!r} has missing values in {describe_rows(s.isna().to_numpy())}; "
            "fill them or drop those rows explicitly before building the design"
        )
    codes, uniques = pd.factorize(s, sort=True)
    return codes.astype(np.int64), np.asarray(uniques)


def group_sum(codes: np.ndarray, x: np.ndarray, size: int, weights: np.ndarray | None = None, *,
              out: np.ndarray | None = None) -> np.ndarray:
    """Column-wise sums of ``weights * x`` (n, k) by integer ``codes`` -> (size, k).

    One sparse (size x n) indicator product: a single sequential pass over the rows of
    ``x`` for all columns at once (several times faster than one ``np.bincount`` per
    column of a row-major array), summing in row order like ``np.bincount``. With
    ``out`` (a C-contiguous float64 ``(size, k)`` array) the sums are ADDED to ``out``
    in place and ``out`` is returned (chunked accumulation without temporaries).
    """
    n = x.shape[0]
    if n == 0:
        return np.zeros((size, x.shape[1])) if out is None else out
    data = np.ones(n) if weights is None else np.ascontiguousarray(weights, dtype=float)
    codes = np.ascontiguousarray(codes, dtype=np.int64)
    X = np.ascontiguousarray(x, dtype=float).reshape(n, -1)
    if codes.min() < 0 or codes.max() >= size:  # (scipy's compiled kernel does not check bounds)
        raise IndexError(f"group codes outside 0..{size - 1}")
    Y = np.zeros((size, X.shape[1])) if out is None else out
    if Y.shape != (size, X.shape[1]) or Y.dtype != np.float64 or not Y.flags.c_contiguous:
        raise ValueError(f"out must be a C-contiguous float64 array of shape {(size, X.shape[1])}")
    kernel_sum(codes, X, data, Y)
    return Y


def kernel_sum(codes: np.ndarray, X: np.ndarray, weights: np.ndarray, out: np.ndarray) -> None:
    """``out += M X`` with ``M`` the (size x n) sparse matrix holding ``weights[i]`` at
    ``(codes[i], i)``: :func:`group_sum` without its checks (``codes`` must lie in
    ``0..size-1``; ``out`` a C-contiguous float64 ``(size, k)`` array).

    Every output cell is a sum in row order, one row added at a time (as ``np.bincount``),
    whatever the number of columns of ``X``."""
    n = X.shape[0]
    codes = np.ascontiguousarray(codes, dtype=np.int64)
    X = np.ascontiguousarray(X, dtype=float).reshape(n, -1)
    weights = np.ascontiguousarray(weights, dtype=float)
    if _csc_matvecs is not None:
        # the routine behind scipy's csc @ dense, called directly: scipy's matrix constructor
        # and checks cost more than the product for a chunk of 65,536 rows (same sums, same order)
        _csc_matvecs(out.shape[0], n, X.shape[1], _indptr(n), codes, weights, X.ravel(), out.reshape(-1))
    else:  # pragma: no cover
        out += sparse.csc_matrix((weights, codes, _indptr(n)), shape=(out.shape[0], n)) @ X


try:  # scipy's compiled csc x dense kernel (private module, stable since scipy 0.x; public path otherwise)
    from scipy.sparse._sparsetools import csc_matvecs as _csc_matvecs
except ImportError:  # pragma: no cover
    _csc_matvecs = None

_INDPTR = np.arange(FACTOR_CHUNK + 1, dtype=np.int64)
_INDPTR.flags.writeable = False


def _indptr(n: int) -> np.ndarray:
    """``0..n`` as int64 (a view of a cached array for chunk-sized ``n``): the column pointers
    of a sparse indicator matrix with one entry per column."""
    return _INDPTR[: n + 1] if n <= FACTOR_CHUNK else np.arange(n + 1, dtype=np.int64)


def weighted_crossprod(X: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """``(X * scale[:, None]).T @ X`` summed over blocks of rows.

    Small blocks keep every BLAS call below OpenBLAS's multi-threading threshold: a
    threaded call would gain nothing here and leave its idle threads spinning, which on a
    2-core machine slows the row passes that follow by up to 2x."""
    n, k = X.shape
    step = max(64, min(1024, (1 << 19) // max(k * k, 1)))
    V = np.zeros((k, k))
    for a in range(0, n, step):
        Xa = X[a:a + step]
        V += (Xa * scale[a:a + step, None]).T @ Xa
    return V


def grouped_outer(codes: np.ndarray, X: np.ndarray, size: int, weights: np.ndarray) -> np.ndarray:
    """``sum_{i: codes_i = g} w_i x_i x_i'`` for every group, (size, k, k): the k(k+1)/2
    distinct products as columns of one array, one grouped sum, mirrored."""
    n, k = X.shape
    iu, ju = np.triu_indices(k)
    P = np.empty((iu.size, n)).T  # column-major: each product written contiguously
    for c, (i, j) in enumerate(zip(iu, ju)):
        np.multiply(X[:, i], X[:, j], out=P[:, c])
    G = group_sum(codes, np.ascontiguousarray(P), size, weights)
    out = np.empty((size, k, k))
    out[:, iu, ju] = G
    out[:, ju, iu] = G
    return out


def gram_add(Gm: np.ndarray, B: np.ndarray, w: np.ndarray, codes: np.ndarray, D: int) -> None:
    """Add ``sum_{i in d} w_i B_i B_i^T`` to ``Gm[d]``: few domains by masked weights, many
    by grouping the rows (radix sort of the small domain codes).

    Each domain's sum is a series of small matrix products ``(X' w) X`` on blocks of rows
    of column-major ``B`` (``X'`` is then a contiguous ``(m, rows)`` view); the upper
    triangle is kept and mirrored, so ``Gm[d]`` stays exactly symmetric. Blocks hold at
    most ~250,000 / m^2 rows: below OpenBLAS's multi-threading threshold, because a
    threaded call would gain nothing at these sizes and leave its idle threads spinning,
    which on a 2-core machine slows the row passes that follow by up to 2x."""
    Bf = np.asfortranarray(B)
    m = Bf.shape[1]
    step = max(64, min(8192, 250_000 // max(m * m, 1)))
    upper = np.triu(np.ones((m, m), dtype=bool))

    def add(d, X, wx):
        XT = X.T  # (m, rows), C-contiguous
        acc = np.zeros((m, m))
        for a in range(0, XT.shape[1], step):
            Xt = XT[:, a:a + step]
            acc += (Xt * wx[a:a + step]) @ Xt.T
        acc = np.where(upper, acc, acc.T)  # mirror the upper triangle
        Gm[d] += acc

    if D == 1:
        add(0, Bf, w)
    elif D <= 4:
        for d in range(D):
            add(d, Bf, w * (codes == d))
    else:
        small = codes.astype(np.uint8 if D < 256 else np.uint16 if D < 65536 else np.int64)
        o = np.argsort(small, kind="stable")
        Bs, ws = np.asfortranarray(Bf[o]), w[o]
        cut = np.searchsorted(small[o], np.arange(D + 1))
        for d in np.flatnonzero(cut[1:] > cut[:-1]):
            add(d, Bs[cut[d]:cut[d + 1]], ws[cut[d]:cut[d + 1]])


def code_counts(codes: np.ndarray, D: int) -> np.ndarray:
    """Rows per code ``0..D-1`` as floats (``np.bincount``); one or two codes by one count of
    the non-zero codes, about 5x faster than a bincount at 10^6 rows (the same integers)."""
    if D > 2:
        return np.bincount(codes, minlength=D).astype(float)
    n1 = np.count_nonzero(codes) if D == 2 else 0
    return np.array([codes.shape[0] - n1, n1][:D], dtype=float)


def gram_products(G: np.ndarray, B: np.ndarray, w: np.ndarray, codes: np.ndarray, D: int, products) -> None:
    """Add ``sum_{i in d} w_i B_ik B_il`` to ``G[d, c]`` for the ``c``-th pair ``(k, l)`` of
    ``products``: one product column at a time (contiguous columns of a column-major ``B``),
    then its sums with each domain's masked weights (few domains; ``np.einsum``, not a BLAS
    dot product: OpenBLAS threads those beyond 10,000 elements and its idle threads then
    spin, which on a 2-core machine slows everything else down) or one weighted
    ``np.bincount`` (many domains)."""
    p = np.empty(B.shape[0])
    wd = None
    if D == 1:
        wd = w[None, :]
    elif D <= 4:
        wd = np.empty((D, B.shape[0]))
        for d in range(D - 1):
            np.multiply(w, codes == d, out=wd[d])
        # the last domain's weights without a comparison: w minus the others' (each row's are w
        # or 0, so the difference is exactly w or 0, as the masked product)
        np.subtract(w, wd[0] if D == 2 else wd[:D - 1].sum(axis=0), out=wd[D - 1])
    for c, (k, l) in enumerate(products):
        np.multiply(B[:, k], B[:, l], out=p)
        if wd is not None:
            G[:, c] += np.einsum("di,i->d", wd, p)
        else:
            p *= w
            G[:, c] += np.bincount(codes, weights=p, minlength=D)


def apply_coefficients(S: np.ndarray, A: np.ndarray) -> np.ndarray:
    """``S @ A`` (P, K) using only the non-zeros of ``A`` (each estimate uses its own
    domain's rows), as rounded products followed by plain additions -- no fused
    multiply-add -- so that influence values that are exactly zero on every row (e.g.
    ``g - P`` when everyone is poor) give exactly zero PSU totals, as on the row path.

    Slot ``j`` adds the ``j``-th non-zero of every column at once (temporaries of the
    output's size)."""
    P, K = S.shape[0], A.shape[1]
    out = np.zeros((K, P))
    if P == 0 or K == 0:
        return out.T
    Ac = sparse.csc_matrix(A)
    Ac.sort_indices()
    St = np.ascontiguousarray(S.T)  # (D*m, P): rows of the basis totals
    first, nnz = Ac.indptr[:-1], np.diff(Ac.indptr)
    for j in range(int(nnz.max(initial=0))):
        has = np.flatnonzero(nnz > j)
        at = first[has] + j
        prod = St[Ac.indices[at]]
        prod *= Ac.data[at][:, None]
        out[has] += prod
    return out.T
