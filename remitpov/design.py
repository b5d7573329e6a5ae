"""The survey design and its one variance engine.

Every estimator in remitpov reduces to

* a point estimate ``theta`` and
* influence (linearised) values ``z_i`` such that ``theta_hat - theta ~ sum_i w_i z_i``,

and hands them to :meth:`Design.vcov`. The engine multiplies by the weights, sums to
PSU totals and applies the stratified with-replacement (optionally finite-population
corrected, optionally two-stage) formula of R survey's ``svyrecvar``; or, for a
replicate-weight design, re-evaluates the statistic under every set of replicate
weights. Domains are never subsets: :meth:`Design.domain` zeroes the weights outside
the domain and keeps every PSU and stratum, which is what R survey's ``svyby`` does.

Conventions (R survey 4.1 defaults unless said otherwise)
---------------------------------------------------------
* First stage with replacement: ``V = sum_h (1 - f_h) n_h/(n_h - 1) sum_j (X_hj - Xbar_h)^2``
  with ``X_hj`` the PSU totals of ``w_i z_i``. ``f_h = 0`` without fpc.
* ``fpc`` may be the number of PSUs in the stratum population (values > 1) or the
  sampling fraction (values <= 1), as in R.
* Two-stage fpc (``ssu`` + ``fpc2``): every sampled PSU adds ``f_h * V2_j`` with
  ``V2_j = (1 - f2_j) m_j/(m_j - 1) sum_k (X_jk - Xbar_j)^2`` over its second-stage units.
  Without a first-stage fpc the second stage adds nothing (with-replacement first stage).
* Singleton PSUs (``lonely_psu``): ``"error"`` (default), ``"certainty"`` and
  ``"remove"`` (the stratum contributes zero), ``"adjust"`` (the lonely PSU's total is
  taken as a deviation from the grand mean, zero for influence values, as R's ``adjust``;
  ``"centred"`` is an alias) and ``"average"`` (scale the variance by
  ``H / H_without_singletons``, counting strata with units in the domain, as R).
* Degrees of freedom: number of PSUs minus number of strata.

Factored influence values (no ``n x K`` matrices)
-------------------------------------------------
Most estimators' influence values are linear in a few row-level *basis* variables with
coefficients that depend only on the row's domain: ``z_ik = sum_j B_ij A[d_i, j, k]``
with ``B`` (n, m) -- e.g. the FGT contributions ``g_a``, the constant 1 and the
influence values of a relative poverty line -- domain codes ``d_i`` in ``0..D-1`` and
coefficients ``A`` (D*m, K). The FGT index of domain ``d`` has ``B = (g, 1)`` and
``A[d] = (1, -P_d)/N_d`` (zero for the other domains); a with-minus-without difference
or any linear transform ``J`` of the estimates is ``A J^T``. The engine then never builds
``z`` (K columns of n floats):

1. :meth:`Design.influence_sums` -- one pass over the rows, in chunks of
   :data:`FACTOR_CHUNK` rows (``B`` may be a callable producing a chunk, so not even ``B``
   is materialised): the PSU x domain totals ``S`` (P, D*m) of ``w B`` (one sparse
   indicator product on the combined code ``psu * D + d``), the SSU x domain totals for
   a two-stage fpc, and for design effects the per-domain Gram matrices
   ``G_d = sum_{i in d} w_i B_i B_i^T`` (m x m, a BLAS product per domain; or only the
   entries a :class:`GramPlan` lists, most of them from identities of the basis).
2. :meth:`Design.vcov_factored` -- the PSU totals of ``w z`` are ``S A`` (P, K): the
   same stratified / fpc / lonely-PSU formula (``_stage1``, ``_stage2``) as the row path.
   Replicate designs built from the design (PSU factors) use the PSU totals directly
   (``psu_totals=`` in :meth:`Design.vcov`), never the rows.
3. :meth:`Design.srs_variance_factored` -- the design effect's SRS variance needs
   ``sum_i w_i z_ik = (sum_P S) A`` and ``sum_i w_i z_ik^2 = sum_d a_dk^T G_d a_dk``.

Both paths give the same numbers (up to floating-point summation order).
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Callable, Sequence

import numpy as np
import pandas as pd
from scipy import sparse, stats

from .core.validate import check_ci_level, check_weight_sum
from .replicates import Replicates, build_replicates, weights_rank
from .exceptions import DesignError, InputError, describe_rows

LONELY_PSU_POLICIES = ("error", "certainty", "remove", "adjust", "centred", "average")
REPLICATE_KINDS = ("bootstrap", "subbootstrap", "canty_davison", "mrbbootstrap", "jk1", "jkn", "brr", "fay",
                   "other")

#: Number of replicate columns evaluated at once on the row-level path (memory bound).
REPLICATE_CHUNK = 64
#: Rows per chunk of :meth:`Design.influence_sums` (bounds its temporaries).
FACTOR_CHUNK = 1 << 16


def _codes(values, name: str) -> tuple[np.ndarray, np.ndarray]:
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


def _finite_nonnegative(w: np.ndarray) -> bool:
    """All of ``w`` finite and >= 0, from two reductions (a NaN makes the minimum NaN)."""
    return w.size == 0 or bool(w.min() >= 0 and np.isfinite(w.max()))


def _same_array(a: np.ndarray, b: np.ndarray) -> bool:
    """``a`` and ``b`` view the same memory with the same layout (hence hold the same values)."""
    ia, ib = a.__array_interface__, b.__array_interface__
    return (a.dtype == b.dtype and a.shape == b.shape and ia["data"] == ib["data"]
            and ia["strides"] == ib["strides"])


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
    _kernel_sum(codes, X, data, Y)
    return Y


def _kernel_sum(codes: np.ndarray, X: np.ndarray, weights: np.ndarray, out: np.ndarray) -> None:
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


_group_sum = group_sum  # the name used inside this module


def _crossprod(X: np.ndarray, scale: np.ndarray) -> np.ndarray:
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


def _grouped_outer(codes: np.ndarray, X: np.ndarray, size: int, weights: np.ndarray) -> np.ndarray:
    """``sum_{i: codes_i = g} w_i x_i x_i'`` for every group, (size, k, k): the k(k+1)/2
    distinct products as columns of one array, one grouped sum, mirrored."""
    n, k = X.shape
    iu, ju = np.triu_indices(k)
    P = np.empty((iu.size, n)).T  # column-major: each product written contiguously
    for c, (i, j) in enumerate(zip(iu, ju)):
        np.multiply(X[:, i], X[:, j], out=P[:, c])
    G = _group_sum(codes, np.ascontiguousarray(P), size, weights)
    out = np.empty((size, k, k))
    out[:, iu, ju] = G
    out[:, ju, iu] = G
    return out


def _gram_add(Gm: np.ndarray, B: np.ndarray, w: np.ndarray, codes: np.ndarray, D: int) -> None:
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


def _gram_products(G: np.ndarray, B: np.ndarray, w: np.ndarray, codes: np.ndarray, D: int, products) -> None:
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
        for d in range(D):
            np.multiply(w, codes == d, out=wd[d])
    for c, (k, l) in enumerate(products):
        np.multiply(B[:, k], B[:, l], out=p)
        if wd is not None:
            G[:, c] += np.einsum("di,i->d", wd, p)
        else:
            p *= w
            G[:, c] += np.bincount(codes, weights=p, minlength=D)


def _apply_coefficients(S: np.ndarray, A: np.ndarray) -> np.ndarray:
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


@dataclass(frozen=True)
class GramPlan:
    """Which entries of the per-domain Gram matrices ``G_d = sum_{i in d} w_i B_i B_i^T`` to
    compute, and how (design effects of factored influence values without products of
    every pair of basis columns).

    Attributes
    ----------
    pairs : tuple of (i, j)
        The entries needed (``i <= j``; ``(j, i)`` is filled alike). An estimate's design
        effect needs ``(i, j)`` for every two basis columns its coefficients use.
    same : dict {(i, j): k}
        Identities of the basis, true on EVERY row: ``B_i B_j = B_k`` (an indicator
        squared, a column times the constant, ``gap * gap = gap^2``). Such an entry is the
        domain total of ``w B_k`` -- already summed, no product. Pairs not listed here
        are summed as products ``B_i B_j`` in the same pass as the PSU totals.
    constant : int, optional
        A column equal to 1 on every row: its domain totals are the domains' weight sums.

    Entries not in ``pairs`` are not computed; :meth:`Design.srs_variance_factored`
    refuses coefficients that would need them.
    """

    pairs: tuple
    same: dict = field(default_factory=dict)
    constant: int | None = None

    def sources(self, m: int) -> tuple[list, list]:
        """``(entries, products)``: every needed entry ``(i, j, column)`` with ``column`` the
        index of its total in the basis extended by the product columns (``m + c`` for the
        ``c``-th of ``products``), and the products ``(i, j)`` to sum."""
        entries, products = [], []
        for i, j in self.pairs:
            i, j = (i, j) if i <= j else (j, i)
            if not (0 <= i and j < m):
                raise InputError(f"Gram entry {(i, j)} outside a basis of {m} columns")
            k = self.same.get((i, j), self.same.get((j, i)))
            if k is None:
                k = m + len(products)
                products.append((i, j))
            entries.append((i, j, k))
        return entries, products


@dataclass(frozen=True, eq=False)
class InfluenceSums:
    """Sufficient statistics of factored influence values ``z_i = B_i A[d_i]``.

    Built by :meth:`Design.influence_sums`; consumed by :meth:`Design.vcov_factored` and
    :meth:`Design.srs_variance_factored` with any coefficient matrix ``A`` (D*m, K).
    """

    n_domains: int
    m: int
    psu: np.ndarray  # (P, D*m) PSU x domain totals of w B (domain-major columns)
    ssu: np.ndarray | None = None  # (n_ssu, D*m) SSU x domain totals (two-stage fpc only)
    gram: np.ndarray | None = None  # (D, m, m) per-domain sum_i w_i B_i B_i^T
    n_pos: np.ndarray | None = None  # (D,) rows with positive weight per domain (design effects)
    wsum: np.ndarray | None = None  # (D,) sum of weights per domain (design effects)
    #: domain 0 is the whole sample, prepended by :meth:`with_total` (rows are then in two
    #: domains: ``z_i = B_i (A[0] + A[d_i])``)
    total_first: bool = False
    #: (m, m) which entries of ``gram`` were computed (a :class:`GramPlan`); None: all of them
    gram_known: np.ndarray | None = None

    @property
    def totals(self) -> np.ndarray:
        """Weighted totals of the basis per domain, ``sum_{i in d} w_i B_i`` (D, m)."""
        return self.psu.sum(axis=0).reshape(self.n_domains, self.m)

    def with_total(self) -> "InfluenceSums":
        """The same sums with the whole sample prepended as domain 0 (``D + 1`` domains).

        The whole sample's PSU (SSU) totals are the sums over the domains of the PSU x
        domain (SSU x domain) totals and its Gram matrix the sum of the domains' -- no
        pass over the rows (domains partition the rows). Domain ``d`` becomes ``d + 1``.
        Every row is then in two domains, the whole sample and its own, so influence
        values are ``z_i = B_i (A[0] + A[d_i + 1])``: the PSU totals ``S A`` are unchanged
        in form, and :meth:`Design.srs_variance_factored` folds ``A[0]`` into the
        domains' coefficients for the second moments.
        """
        if self.total_first:
            raise InputError("these influence sums already include the whole sample")
        D, m = self.n_domains, self.m

        def add(S):
            if S is None:
                return None
            S3 = S.reshape(S.shape[0], D, m)
            return np.concatenate([S3.sum(axis=1)[:, None, :], S3], axis=1).reshape(S.shape[0], (D + 1) * m)

        gram = None if self.gram is None else np.concatenate([self.gram.sum(axis=0)[None], self.gram], axis=0)

        def add1(v):
            return None if v is None else np.concatenate([[v.sum()], v])
        return InfluenceSums(n_domains=D + 1, m=m, psu=add(self.psu), ssu=add(self.ssu), gram=gram,
                             n_pos=add1(self.n_pos), wsum=add1(self.wsum), total_first=True,
                             gram_known=self.gram_known)

    def coefficients(self, A) -> np.ndarray:
        A = np.asarray(A, dtype=float)
        A2 = A.reshape(self.n_domains * self.m, -1)
        if A2.shape[0] != self.n_domains * self.m:
            raise InputError(f"coefficients need {self.n_domains * self.m} rows (domains x basis), got {A.shape}")
        return A2


@dataclass(frozen=True, eq=False)
class PairSums:
    """Sparse PSU x domain totals of row-level basis variables: one row per (PSU, domain)
    pair that has rows, for many domains (municipality-level tabulations).

    Built by :meth:`Design.pair_sums`; :meth:`Design.vcov_blocks` turns it into the
    within-domain covariance blocks of factored influence values ``z_i = B_i A[d_i]``
    (``A`` (D, m, K): the K estimates of each domain), in time and memory linear in the
    number of pairs -- never a dense P x D array nor a DK x DK matrix.
    """

    n_domains: int
    m: int
    psu: np.ndarray  # (Q,) PSU code of every pair
    dom: np.ndarray  # (Q,) domain code of every pair
    S: np.ndarray  # (Q, m) totals of w B in the pair
    gram: np.ndarray | None = None  # (D, m, m) per-domain sum_i w_i B_i B_i^T
    n_pos: np.ndarray | None = None  # (D,) rows with positive weight per domain
    wsum: np.ndarray | None = None  # (D,) sum of weights per domain

    @property
    def totals(self) -> np.ndarray:
        """Weighted totals of the basis per domain, ``sum_{i in d} w_i B_i`` (D, m)."""
        return _group_sum(self.dom, self.S, self.n_domains)

    def with_total(self) -> "PairSums":
        """The whole sample prepended as domain 0 (its PSU totals are sums over the pairs)."""
        upsu, inv = np.unique(self.psu, return_inverse=True)
        S0 = _group_sum(inv, self.S, upsu.size)

        def add1(v):
            return None if v is None else np.concatenate([[v.sum()], v])
        gram = None if self.gram is None else np.concatenate([self.gram.sum(axis=0)[None], self.gram], axis=0)
        return PairSums(self.n_domains + 1, self.m, np.concatenate([upsu, self.psu]),
                        np.concatenate([np.zeros(upsu.size, dtype=np.int64), self.dom + 1]),
                        np.vstack([S0, self.S]), gram, add1(self.n_pos), add1(self.wsum))


@dataclass(frozen=True, eq=False)
class Design:
    """Sampling design of a set of rows: weights, strata, PSUs, fpc, replicates.

    Build it with :meth:`Design.from_arrays` (labels are factorised and checked).
    Instances are immutable; :meth:`domain` and :meth:`with_replicates` return new ones.
    """

    weights: np.ndarray
    strata: np.ndarray  # int codes 0..H-1 (all zero when unstratified)
    psu: np.ndarray  # int codes 0..P-1, unique across strata (rows when no clusters)
    n_strata: int
    n_psu: int
    psu_stratum: np.ndarray  # (P,) stratum code of every PSU
    fpc1: np.ndarray | None = None  # (H,) sampling fraction of the first stage
    ssu: np.ndarray | None = None  # int codes of second-stage units (unique overall)
    fpc2: np.ndarray | None = None  # (P,) second-stage sampling fraction per PSU
    lonely_psu: str = "error"
    replicates: Replicates | None = None
    clustered: bool = False
    strata_labels: np.ndarray | None = None
    psu_labels: np.ndarray | None = None
    base_n: int | None = None  # rows with positive weight in the full design
    notes: tuple[str, ...] = field(default_factory=tuple)

    # ------------------------------------------------------------------ building
    @classmethod
    def from_arrays(
        cls,
        weights,
        strata=None,
        psu=None,
        fpc=None,
        ssu=None,
        fpc2=None,
        *,
        nest: bool = False,
        lonely_psu: str = "error",
    ) -> "Design":
        """Build a design from row-aligned arrays.

        Parameters
        ----------
        weights : array_like
            Sampling (expansion) weights, finite and >= 0.
        strata, psu : array_like, optional
            Stratum and first-stage cluster labels. Without ``psu`` every row is its own PSU.
        fpc : array_like, optional
            First-stage population size (number of PSUs in the stratum) or sampling
            fraction (<= 1), constant within strata.
        ssu, fpc2 : array_like, optional
            Second-stage unit labels and second-stage population size (number of SSUs in
            the PSU) or fraction, constant within PSUs. Used only with ``fpc``.
        nest : bool
            If True, PSU labels are only unique within strata (R's ``nest=TRUE``).
        lonely_psu : str
            Policy for strata with a single PSU, see module docstring.
        """
        w = np.asarray(weights, dtype=float)
        n = w.shape[0]
        if not _finite_nonnegative(w):
            bad = ~np.isfinite(w) | (w < 0)
            raise InputError(
                f"weights must be finite and non-negative: {describe_rows(bad)}; "
                "fix or drop those rows before building the design"
            )
        check_weight_sum(w)
        if lonely_psu not in LONELY_PSU_POLICIES:
            raise InputError(f"lonely_psu={lonely_psu!r} is not one of {LONELY_PSU_POLICIES}")
        if strata is None:
            s_codes, s_labels = np.zeros(n, dtype=np.int64), np.array(["(all)"], dtype=object)
        else:
            s_codes, s_labels = _codes(strata, "strata")
        H = len(s_labels)
        clustered = psu is not None
        if psu is None:
            p_codes = np.arange(n, dtype=np.int64)
            p_labels = None
        else:
            psu_a = np.asarray(psu)  # (not a pd.Series: pandas >= 3 would copy the column)
            if nest:
                key = pd.MultiIndex.from_arrays([s_codes, psu_a])
                p_codes, p_labels = pd.factorize(key, sort=True)
                p_codes = p_codes.astype(np.int64)
                p_labels = np.asarray(p_labels, dtype=object)
            else:
                p_codes, p_labels = _codes(psu_a, "psu")
        P = (len(p_labels) if p_labels is not None else n) if n else 0
        # every PSU must lie in exactly one stratum
        first = np.full(P, -1, dtype=np.int64)
        first[p_codes] = s_codes
        crossing = first[p_codes] != s_codes
        if crossing.any():
            raise InputError(
                f"PSU labels repeat across strata in {describe_rows(crossing, psu)}; "
                "pass nest=True if PSU ids are only unique within strata"
            )
        psu_stratum = first
        fpc1 = None
        if fpc is not None:
            fpc_a = np.asarray(fpc, dtype=float)
            n_h = np.bincount(psu_stratum, minlength=H).astype(float)
            per_h = pd.Series(fpc_a).groupby(s_codes).agg(["min", "max"])
            if (per_h["min"] != per_h["max"]).any():
                raise InputError("fpc must be constant within each stratum")
            val = per_h["min"].to_numpy()
            fpc1 = np.where(val <= 1, val, n_h / np.where(val > 1, val, 1.0))
            if (fpc1 > 1 + 1e-12).any() or (fpc1 < 0).any():
                raise InputError("fpc gives more sampled PSUs than the population has in some stratum")
        ssu_codes, fpc2_a = None, None
        if ssu is not None or fpc2 is not None:
            if ssu is None or fpc2 is None:
                raise InputError("two-stage fpc needs both ssu (second-stage unit labels) and fpc2")
            key = pd.MultiIndex.from_arrays([p_codes, np.asarray(ssu)])
            ssu_codes = pd.factorize(key, sort=True)[0].astype(np.int64)
            f2 = np.asarray(fpc2, dtype=float)
            m_j = np.bincount(
                p_codes[np.unique(ssu_codes, return_index=True)[1]], minlength=P
            ).astype(float)
            per_p = pd.Series(f2).groupby(p_codes).agg(["min", "max"])
            if (per_p["min"] != per_p["max"]).any():
                raise InputError("fpc2 must be constant within each PSU")
            v2 = per_p["min"].to_numpy()
            fpc2_a = np.where(v2 <= 1, v2, m_j / np.where(v2 > 1, v2, 1.0))
        return cls(
            weights=w,
            strata=s_codes,
            psu=p_codes,
            n_strata=H,
            n_psu=P,
            psu_stratum=psu_stratum,
            fpc1=fpc1,
            ssu=ssu_codes,
            fpc2=fpc2_a,
            lonely_psu=lonely_psu,
            clustered=clustered,
            strata_labels=s_labels,
            psu_labels=p_labels,
            base_n=int(np.count_nonzero(w > 0)),
        )

    # ------------------------------------------------------------------ properties
    @property
    def n(self) -> int:
        return int(self.weights.shape[0])

    @property
    def psu_per_stratum(self) -> np.ndarray:
        return np.bincount(self.psu_stratum, minlength=self.n_strata)

    @property
    def df(self) -> int:
        """Design degrees of freedom: PSUs minus strata (R ``degf``); replicates: rank - 1."""
        if self.replicates is not None and self.replicates.degf is not None:
            return max(int(self.replicates.degf), 1)
        if self.replicates is not None and self.replicates.kind not in ("jkn",):
            return max(self.replicates.n_replicates - 1, 1)
        return int(self.n_psu - self.n_strata)

    def describe(self) -> dict:
        """A plain dict summary of the design, carried by every result."""
        out = {
            "n": self.n,
            "n_psu": self.n_psu if self.clustered else None,
            "n_strata": self.n_strata,
            "df": self.df,
            "sum_weights": float(self.weights.sum()),
            "fpc": self.fpc1 is not None,
            "two_stage_fpc": self.fpc2 is not None,
            "lonely_psu": self.lonely_psu,
            "variance": "replicate" if self.replicates is not None else "linearisation",
        }
        if self.replicates is not None:
            out["replicates"] = self.replicates.describe()
        return out

    # ------------------------------------------------------------------ transforms
    def domain(self, mask) -> "Design":
        """The same design with weights set to zero outside ``mask`` (never a subset)."""
        m = np.asarray(mask)
        if m.dtype != bool:
            m = m.astype(bool)
        if m.shape != self.weights.shape:
            raise InputError(f"domain mask has {m.shape[0]} rows, the design {self.n}")
        reps = self.replicates
        if reps is not None and reps.weights is not None:
            reps = replace(reps, weights=reps.weights * m[:, None])
        return replace(self, weights=np.where(m, self.weights, 0.0), replicates=reps)

    def reweight(self, weights) -> "Design":
        """Same design with other base weights (e.g. person = household weight x size)."""
        w = np.asarray(weights, dtype=float)
        if _same_array(w, self.weights):  # e.g. person weights of a person-level survey: nothing changes
            return self
        if w.shape != self.weights.shape or not _finite_nonnegative(w):
            raise InputError("reweight needs finite non-negative weights, one per row")
        check_weight_sum(w, "the (person) weights")
        reps = self.replicates
        if reps is not None and reps.weights is not None:
            ratio = np.divide(w, self.weights, out=np.zeros_like(w), where=self.weights > 0)
            reps = replace(reps, weights=reps.weights * ratio[:, None])
        return replace(self, weights=w, replicates=reps, base_n=int(np.count_nonzero(w > 0)))

    def with_replicates(self, kind: str = "bootstrap", replicates: int = 500, seed: int | None = 0,
                        rho: float = 0.5, mse: bool = False) -> "Design":
        """Return a replicate-weight version of this design (see :mod:`remitpov.replicates`).

        ``kind``: ``"bootstrap"`` (Rao--Wu, ignores the fpc; ``"subbootstrap"`` is the same
        under R's name), ``"canty_davison"`` (R's ``type="bootstrap"``, with the fpc),
        ``"mrbbootstrap"`` (Preston, with one- or two-stage fpc), ``"jk1"``/``"jkn"`` (the
        first-stage fpc folded into scale/rscales, as R), ``"brr"``, ``"fay"``."""

        return replace(self, replicates=build_replicates(self, kind, replicates, seed, rho=rho, mse=mse))

    def with_replicate_weights(self, repweights, kind: str = "other", scale: float = 1.0,
                               rscales=None, mse: bool = False) -> "Design":
        """Attach user-supplied replicate weights ``(n, R)`` (e.g. a survey's published ones)."""
        W = np.asarray(repweights, dtype=float)
        if W.ndim != 2 or W.shape[0] != self.n:
            raise InputError(f"replicate weights must have shape (n={self.n}, R), got {W.shape}")
        bad = ~np.isfinite(W) | (W < 0)
        if bad.any():
            raise InputError(f"replicate weights must be finite and >= 0: {describe_rows(bad.any(1))}")
        R = W.shape[1]
        rs = np.ones(R) if rscales is None else np.asarray(rscales, dtype=float)

        degf = weights_rank(W) - 1  # R's degf: rank of the replicate weights - 1
        return replace(self, replicates=Replicates(kind=kind, scale=float(scale), rscales=rs, mse=mse, weights=W,
                                                   degf=degf))

    # ------------------------------------------------------------------ variance
    def vcov(self, estimate, z=None, *, totals=None, replicate: Callable | None = None,
             psu_totals=None) -> np.ndarray:
        """Variance-covariance matrix of a statistic.

        Parameters
        ----------
        estimate : array_like, shape (k,)
            The full-sample estimate.
        z : array_like, shape (n,) or (n, k)
            Influence values (unweighted): ``theta_hat - theta ~ sum_i w_i z_i``.
            Used by linearisation designs.
        totals : tuple (Y, f), optional
            For replicate designs, a statistic that is a smooth function of weighted
            totals: ``Y`` (n, m) values and ``f`` mapping totals (R, m) -> (R, k). The
            fast path: PSU totals are computed once, replicate totals by one product.
        replicate : callable, optional
            For replicate designs, ``replicate(W)`` with ``W`` (n, r) replicate weights
            returning (r, k) estimates. Called on chunks of replicates.
        psu_totals : tuple (T, f), optional
            Like ``totals`` but with the PSU totals ``T`` (P, m) of ``w Y`` already
            summed (e.g. from :meth:`influence_sums`); only for replicates built from the
            design (PSU factors).
        """
        est = np.atleast_1d(np.asarray(estimate, dtype=float))
        if self.replicates is None:
            if z is None:
                raise DesignError("this statistic has no influence values for linearisation")
            return self._vcov_linear(np.asarray(z, dtype=float))
        return self._vcov_replicate(est, totals=totals, replicate=replicate, psu_totals=psu_totals)

    # ------------------------------------------------------------------ factored influence
    def influence_sums(self, B, codes=None, n_domains: int = 1, *, gram: bool | GramPlan | None = None,
                       chunk: int | None = None) -> InfluenceSums:
        """PSU x domain totals (and Gram matrices) of row-level basis variables.

        Parameters
        ----------
        B : array_like (n, m) or callable
            Basis variables, or ``B(start, stop)`` returning rows ``start:stop`` (so the
            caller never materialises all of them).
        codes : array_like of int (n,), optional
            Domain code of every row in ``0..n_domains-1`` (default: one domain).
        n_domains : int
            Number of domains ``D``.
        gram : bool or GramPlan, optional
            Also accumulate per-domain Gram matrices for design effects (default: for
            linearisation designs): ``True`` every entry (blocked matrix products), a
            :class:`GramPlan` only the entries it lists, from identities of the basis or
            as product columns summed in the same pass as the PSU totals.
        chunk : int, optional
            Rows per pass (default :data:`FACTOR_CHUNK`).

        See the module docstring; use with :meth:`vcov_factored`.
        """
        n, w, D = self.n, self.weights, int(n_domains)
        if gram is None:
            gram = self.replicates is None
        plan = gram if isinstance(gram, GramPlan) else None
        full = bool(gram) and plan is None
        if codes is None:
            codes = np.zeros(n, dtype=np.int64)
            D = 1
        codes = np.asarray(codes, dtype=np.int64)
        if codes.shape != (n,):
            raise InputError(f"domain codes have shape {codes.shape}, the design {n} rows")
        if n and (codes.min() < 0 or codes.max() >= D):
            raise InputError(f"domain codes outside 0..{D - 1}")
        get = B if callable(B) else (lambda a, b, _B=np.asarray(B, dtype=float): _B[a:b].reshape(b - a, -1))
        step = int(chunk or FACTOR_CHUNK)
        two_stage = self.fpc1 is not None and self.ssu is not None
        n_ssu = int(self.ssu.max()) + 1 if two_stage else 0
        S = S2 = Gm = Gp = None
        m = None
        entries, products = [], []
        for a in range(0, max(n, 1), step):
            b = min(a + step, n)
            Bc = np.asarray(get(a, b), dtype=float).reshape(b - a, -1)
            if m is None:
                m = Bc.shape[1]
                S = np.zeros((self.n_psu * D, m))
                S2 = np.zeros((n_ssu * D, m)) if two_stage else None
                Gm = np.zeros((D, m, m)) if full else None
                if plan is not None:
                    entries, products = plan.sources(m)
                    Gp = np.zeros((D, len(products)))
            if b <= a:
                break
            wc, cc = w[a:b], codes[a:b]
            Bcc = np.ascontiguousarray(Bc)  # the sparse product is fastest on row-major rows
            key = self.psu[a:b] * D
            key += cc
            _kernel_sum(key, Bcc, wc, S)  # (domain codes checked above, PSU codes by construction)
            if two_stage:
                key = self.ssu[a:b] * D
                key += cc
                _kernel_sum(key, Bcc, wc, S2)
            del Bcc, key
            if full:
                _gram_add(Gm, Bc, wc, cc, D)
            elif products:
                _gram_products(Gp, Bc, wc, cc, D, products)
        n_pos = wsum = known = None
        if gram:
            pos = w > 0  # rows with positive weight per domain (exact counts)
            n_pos = (np.bincount(codes, minlength=D).astype(float) if pos.all()
                     else np.bincount(codes, weights=pos, minlength=D))
            if plan is None or plan.constant is None:
                wsum = np.bincount(codes, weights=w, minlength=D)
        if plan is not None:
            T = S.reshape(self.n_psu, D, m).sum(axis=0)  # (D, m): domain totals of w B (as InfluenceSums.totals)
            Gm = np.zeros((D, m, m))
            known = np.zeros((m, m), dtype=bool)
            for i, j, k in entries:
                Gm[:, i, j] = Gm[:, j, i] = T[:, k] if k < m else Gp[:, k - m]
                known[i, j] = known[j, i] = True
            if plan.constant is not None:
                wsum = T[:, plan.constant]
        return InfluenceSums(
            n_domains=D, m=m,
            psu=S.reshape(self.n_psu, D * m),
            ssu=None if S2 is None else S2.reshape(n_ssu, D * m),
            gram=Gm, n_pos=n_pos, wsum=wsum, gram_known=known,
        )

    @property
    def supports_blocks(self) -> bool:
        """Whether :meth:`vcov_blocks` applies: linearisation, no second-stage fpc and a
        lonely-PSU policy other than ``"average"`` (which couples the strata of a column)."""
        return (self.replicates is None and not (self.fpc1 is not None and self.ssu is not None)
                and self.lonely_psu != "average")

    def pair_sums(self, B, codes, n_domains: int, *, gram: bool = False, chunk: int | None = None) -> PairSums:
        """Sparse PSU x domain totals of ``w B`` (see :class:`PairSums`), chunk by chunk.

        ``B`` as in :meth:`influence_sums` (an array or a callable producing rows
        ``start:stop``); ``gram=True`` also accumulates the per-domain Gram matrices of the
        basis (design effects) by one grouped sum of the row outer products."""
        n, w, D = self.n, self.weights, int(n_domains)
        codes = np.asarray(codes, dtype=np.int64)
        if codes.shape != (n,):
            raise InputError(f"domain codes have shape {codes.shape}, the design {n} rows")
        key = self.psu * D + codes
        pairs, inv = np.unique(key, return_inverse=True)
        Q = pairs.size
        get = B if callable(B) else (lambda a, b, _B=np.asarray(B, dtype=float): _B[a:b].reshape(b - a, -1))
        step = int(chunk or FACTOR_CHUNK)
        S = Gm = None
        for a in range(0, max(n, 1), step):
            b = min(a + step, n)
            Bc = np.ascontiguousarray(np.asarray(get(a, b), dtype=float).reshape(b - a, -1))
            if S is None:
                m = Bc.shape[1]
                S = np.zeros((Q, m))
                Gm = np.zeros((D, m * m)) if gram else None
            if b <= a:
                break
            S += _group_sum(inv[a:b], Bc, Q, w[a:b])
            if gram:
                Gm += _group_sum(codes[a:b], (Bc[:, :, None] * Bc[:, None, :]).reshape(b - a, m * m), D, w[a:b])
        return PairSums(D, m, pairs // D, pairs % D, S, None if Gm is None else Gm.reshape(D, m, m),
                        np.bincount(codes[w > 0], minlength=D).astype(float),
                        np.bincount(codes, weights=w, minlength=D))

    def vcov_blocks(self, ps: PairSums, A) -> np.ndarray:
        """Within-domain covariance blocks ``(D, K, K)`` of ``z_i = B_i A[d_i]``, ``A`` (D, m, K).

        The same stratified / fpc / lonely-PSU formula as :meth:`vcov` for the K estimates
        of every domain (the covariances between domains are not computed, as R's
        ``svyby`` without ``covmat=TRUE``), written on the (PSU, domain) pairs only: a
        PSU without rows in the domain has a zero total, so within stratum ``h``
        ``sum_j (T_j - Tbar)(T_j - Tbar)' = sum_{j present} (...)(...)' + (n_h - c_h) Tbar Tbar'``.
        """
        if not self.supports_blocks:
            raise DesignError("within-domain blocks need a linearisation design without a second-stage fpc "
                              "and lonely_psu other than 'average'; compute the joint covariance instead")
        A = np.asarray(A, dtype=float)
        D, K = ps.n_domains, A.shape[2]
        Q, m = ps.S.shape
        # PSU totals of w z for every pair and estimate of its domain: T_q = S_q A[d_q]
        T = np.einsum("qm,qmk->qk", ps.S, A.reshape(D, m * K)[ps.dom].reshape(Q, m, K))
        n_h, scale_h, lonely, adjust = self._stratum_scales()
        h = self.psu_stratum[ps.psu]
        grp, ginv = np.unique(h * D + ps.dom, return_inverse=True)
        gh, gd = grp // D, grp % D
        cnt = np.bincount(ginv, minlength=grp.size).astype(float)
        mean = _group_sum(ginv, T, grp.size) / n_h[gh][:, None]  # (G, K) stratum mean over ALL its PSUs
        if adjust:
            mean[lonely[gh]] = 0.0
        T -= mean[ginv]
        V = _grouped_outer(ps.dom, T, D, scale_h[h])
        absent = (n_h[gh] - cnt) * scale_h[gh]  # PSUs of the stratum without rows in the domain
        return V + _grouped_outer(gd, mean, D, absent)

    def srs_variance_blocks(self, ps: PairSums, A, *, replace: bool = False) -> np.ndarray:
        """:meth:`srs_variance` within every domain (R's ``svyby(..., deff=TRUE)``), (D, K)."""
        if ps.gram is None:
            raise DesignError("these pair sums have no Gram matrices (built with gram=False)")
        A = np.asarray(A, dtype=float)
        s1 = np.einsum("dm,dmk->dk", ps.totals, A)
        s2 = np.einsum("dmk,dmj,djk->dk", A, ps.gram, A)
        return srs_variance_from_moments(s1, s2, ps.n_pos[:, None], ps.wsum[:, None], replace=replace)

    def vcov_factored(self, sums: InfluenceSums, A) -> np.ndarray:
        """Linearised vcov (K, K) of influence values ``z_i = B_i A[d_i]`` from their sums.

        The PSU totals of ``w z`` are ``sums.psu @ A``; then the same stratified, fpc,
        two-stage and lonely-PSU formula as :meth:`vcov` with row-level ``z``.
        """
        A2 = sums.coefficients(A)
        V = self._stage1(_apply_coefficients(sums.psu, A2))
        if self.fpc1 is not None and self.ssu is not None:
            V = V + self._stage2_totals(_apply_coefficients(sums.ssu, A2))
        return V

    def srs_variance_factored(self, sums: InfluenceSums, A, *, within: bool = False,
                              replace: bool = False) -> np.ndarray:
        """:meth:`srs_variance` of ``z_i = B_i A[d_i]`` from the Gram matrices (no rows).

        ``within=True``: an estimate whose coefficients lie in ONE domain gets the SRS
        variance of its influence values among that domain's units, with the domain's
        sample size and population (R survey's ``svyby(..., deff=TRUE)``: the statistic
        on ``subset(design, domain)``); estimates spanning domains (the whole sample, a
        relative line estimated on everyone, a decomposition) keep the whole sample's.
        ``replace=True``: without the finite-population factor (R's ``deff="replace"``).
        """
        if sums.gram is None:
            raise DesignError("these influence sums have no Gram matrices (built with gram=False)")
        A2 = sums.coefficients(A)
        A3 = A2.reshape(sums.n_domains, sums.m, -1)
        s1 = sums.psu.sum(axis=0) @ A2
        gram = sums.gram
        Ae = A3
        if sums.total_first:  # row i has coefficients A[0] + A[d_i]: fold the whole sample's into the domains'
            Ae, gram = A3[1:] + A3[:1], gram[1:]
        if sums.gram_known is not None:  # a GramPlan: only some entries were summed (the others are 0)
            _check_gram_entries(sums.gram_known, Ae, A3)
        s2 = (Ae * np.matmul(gram, Ae)).sum(axis=(0, 1))  # sum_d a_dk' G_d a_dk
        W, n = self.weights.sum(), float(np.count_nonzero(self.weights > 0))
        if not within or sums.n_pos is None:
            return srs_variance_from_moments(s1, s2, n, W, replace=replace)
        dom = _single_domain(A3, sums.total_first)  # (K,) domain of every estimate, -1: several
        one = np.flatnonzero(dom >= 0)
        nk, Wk = np.full(s1.size, n), np.full(s1.size, W)
        if one.size:
            d = dom[one]
            a = A3[d, :, one]  # (K1, m) coefficients of each estimate in its domain
            T = sums.totals[d]  # (K1, m)
            G = sums.gram[d]  # (K1, m, m)
            s1[one] = np.einsum("km,km->k", T, a)
            s2[one] = np.einsum("km,kmj,kj->k", a, G, a)
            nk[one], Wk[one] = sums.n_pos[d], sums.wsum[d]
        return srs_variance_from_moments(s1, s2, nk, Wk, replace=replace)

    def _vcov_linear(self, z: np.ndarray) -> np.ndarray:
        z2 = z.reshape(z.shape[0], -1)
        k = z2.shape[1]
        T = np.zeros((self.n_psu, k))
        if z2.shape[0]:
            _kernel_sum(self.psu, z2, self.weights, T)  # PSU totals of w z (P, k); PSU codes valid by construction
        V = self._stage1(T)
        if self.fpc1 is not None and self.ssu is not None:
            V = V + self._stage2(z2 * self.weights[:, None])
        return V.reshape(k, k)

    def _stratum_scales(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, bool]:
        """PSUs per stratum ``n_h``, the factor ``(1 - f_h) n_h/(n_h - 1)`` of every stratum,
        the lonely strata, and whether their PSU totals are left uncentred (``adjust``).

        Applies the ``lonely_psu`` policy (module docstring); raises for ``"error"``."""
        H, ps = self.n_strata, self.psu_stratum
        n_h = np.bincount(ps, minlength=H).astype(float)
        scale_h = np.divide(n_h, n_h - 1, out=np.zeros(H), where=n_h > 1)
        if self.fpc1 is not None:
            scale_h = scale_h * (1.0 - self.fpc1)
        lonely = n_h == 1
        adjust = False
        if lonely.any():
            policy = self.lonely_psu
            labels = self.strata_labels[lonely] if self.strata_labels is not None else np.flatnonzero(lonely)
            if policy == "error":
                raise DesignError(
                    f"{int(lonely.sum())} strat{'um has' if lonely.sum() == 1 else 'a have'} a single PSU "
                    f"(e.g. stratum {labels[0]!r}); choose lonely_psu='certainty', 'adjust' "
                    "(centre at the grand mean) or 'average', or collapse strata"
                )
            if policy in ("adjust", "centred"):
                # R survey: the lonely PSU total is not centred at a stratum mean but taken
                # as a deviation from zero -- the grand mean of the PSU totals of influence
                # values of any statistic whose influence values sum to zero (means,
                # ratios, FGT, Gini...).
                adjust = True
                scale_h = np.where(lonely, 1.0 if self.fpc1 is None else (1.0 - self.fpc1), scale_h)
        return n_h, scale_h, lonely, adjust

    def _stage1(self, T: np.ndarray) -> np.ndarray:
        H, ps = self.n_strata, self.psu_stratum
        n_h, scale_h, lonely, adjust = self._stratum_scales()
        mean_h = _group_sum(ps, T, H) / np.maximum(n_h, 1)[:, None]
        Tc = T - mean_h[ps]
        if adjust:
            sel = lonely[ps]
            Tc[sel] = T[sel]
        V = _crossprod(Tc, scale_h[ps])
        if lonely.any() and self.lonely_psu == "average":
            # R survey: V * H / H_ok counting only strata with units in the (domain) sample;
            # a stratum is "in" the sample of column c if some PSU total there is non-zero.
            present = _group_sum(ps, (T != 0).astype(float), H) > 0  # (H, k)
            ok = (present & ~lonely[:, None]).sum(0)
            if (ok == 0).any():
                raise DesignError("every stratum has a single PSU: lonely_psu='average' is undefined")
            f = np.sqrt(present.sum(0) / ok)
            V = V * np.outer(f, f)
        return V

    def _stage2(self, x: np.ndarray) -> np.ndarray:
        n_ssu = int(self.ssu.max()) + 1
        return self._stage2_totals(_group_sum(self.ssu, x, n_ssu))

    def _stage2_totals(self, S: np.ndarray) -> np.ndarray:
        """Second-stage term from the SSU totals ``S`` (n_ssu, k) of ``w z``."""
        n_ssu = S.shape[0]
        ssu_psu = np.zeros(n_ssu, dtype=np.int64)
        ssu_psu[self.ssu] = self.psu
        m_j = np.bincount(ssu_psu, minlength=self.n_psu).astype(float)
        mean_j = _group_sum(ssu_psu, S, self.n_psu) / np.maximum(m_j, 1)[:, None]
        Sc = S - mean_j[ssu_psu]
        f1 = self.fpc1[self.psu_stratum]  # (P,)
        scale_j = np.divide(m_j, m_j - 1, out=np.zeros(self.n_psu), where=m_j > 1) * (1 - self.fpc2) * f1
        return _crossprod(Sc, scale_j[ssu_psu])

    def _replicate_row_weights(self, cols: np.ndarray) -> np.ndarray:
        reps = self.replicates
        if reps.weights is not None:
            return reps.weights[:, cols]
        return self.weights[:, None] * reps.factors[self.psu][:, cols]

    def replicate_estimates(self, *, totals=None, replicate: Callable | None = None,
                            psu_totals=None) -> np.ndarray:
        """Estimates under every replicate, shape (R, k)."""
        reps = self.replicates
        if reps is None:
            raise DesignError("the design has no replicate weights")
        R = reps.n_replicates
        if psu_totals is not None:
            if reps.factors is None:
                raise DesignError("psu_totals need replicates built from the design (PSU factors); "
                                  "pass row-level totals=(Y, f) for user-supplied replicate weights")
            T, f = psu_totals
            T = np.asarray(T, dtype=float).reshape(self.n_psu, -1)
            return np.atleast_2d(np.asarray(f(reps.factors.T @ T), dtype=float)).reshape(R, -1)
        if totals is not None and reps.factors is not None:
            Y, f = totals
            Y = np.asarray(Y, dtype=float).reshape(self.n, -1)
            P = _group_sum(self.psu, Y, self.n_psu, self.weights)
            return np.atleast_2d(np.asarray(f(reps.factors.T @ P), dtype=float)).reshape(R, -1)
        if totals is not None and replicate is None:
            Y, f = totals
            Y = np.asarray(Y, dtype=float).reshape(self.n, -1)

            def replicate(W):  # noqa: E306 - totals through full replicate weights
                return f(W.T @ Y)
        if replicate is None:
            raise DesignError("this statistic does not support replicate-weight designs")
        out = []
        for start in range(0, R, REPLICATE_CHUNK):
            cols = np.arange(start, min(start + REPLICATE_CHUNK, R))
            out.append(np.asarray(replicate(self._replicate_row_weights(cols)), dtype=float).reshape(len(cols), -1))
        return np.vstack(out)

    def _vcov_replicate(self, est, totals=None, replicate=None, psu_totals=None) -> np.ndarray:
        reps = self.replicates
        th = self.replicate_estimates(totals=totals, replicate=replicate, psu_totals=psu_totals)
        centre = est if reps.mse else th.mean(axis=0)
        d = th - centre
        return reps.scale * (d * reps.rscales[:, None]).T @ d

    # ------------------------------------------------------------------ helpers
    def srs_variance(self, z, codes=None, *, replace: bool = False) -> np.ndarray:
        """Variance under simple random sampling without replacement of the same size
        (R survey's ``deff`` denominator): ``W sum w (z - zbar)^2 / (n - 1) (1 - n/W)``.

        With domain ``codes`` (n,), an estimate whose influence values are non-zero in
        ONE domain only uses that domain's units, ``n`` and ``W`` (R survey's
        ``svyby(..., deff=TRUE)``); see :meth:`srs_variance_factored`. ``replace=True``
        drops the finite-population factor (R's ``deff="replace"``).
        """
        z = np.asarray(z, dtype=float).reshape(self.n, -1)
        w = self.weights
        if codes is not None and self.n and int(np.max(codes)) == 0 and int(np.min(codes)) == 0:
            codes = None  # one domain (every estimate lies in it): the whole sample's moments
        s1 = np.einsum("i,ij->j", w, z)  # sum w z
        s2 = np.einsum("i,ij,ij->j", w, z, z)  # sum w z^2 (no (n, k) temporaries)
        W, n = w.sum(), float(np.count_nonzero(w > 0))
        if codes is None:
            return srs_variance_from_moments(s1, s2, n, W, replace=replace)
        codes = np.asarray(codes, dtype=np.int64)
        D = int(codes.max()) + 1 if codes.size else 1
        pos = w > 0
        nz = z[pos] != 0
        cp = codes[pos][:, None]
        lo = np.where(nz, cp, D).min(axis=0, initial=D)
        hi = np.where(nz, cp, -1).max(axis=0, initial=-1)
        one = np.flatnonzero((lo == hi) & (hi >= 0))
        nk, Wk = np.full(s1.size, n), np.full(s1.size, W)
        if one.size:
            d = lo[one]
            S1 = _group_sum(codes, z[:, one], D, w)  # (D, K1) per-domain moments
            S2 = _group_sum(codes, z[:, one] ** 2, D, w)
            s1[one], s2[one] = S1[d, np.arange(one.size)], S2[d, np.arange(one.size)]
            nk[one] = np.bincount(codes[pos], minlength=D)[d]
            Wk[one] = np.bincount(codes, weights=w, minlength=D)[d]
        return srs_variance_from_moments(s1, s2, nk, Wk, replace=replace)

    def _srs_from_moments(self, s1: np.ndarray, s2: np.ndarray) -> np.ndarray:
        """SRS variance from ``s1 = sum w z`` and ``s2 = sum w z^2`` (per column), whole sample."""
        w = self.weights
        return srs_variance_from_moments(s1, s2, float(np.count_nonzero(w > 0)), w.sum())


def srs_variance_from_moments(s1, s2, n, W, *, replace: bool = False) -> np.ndarray:
    """R survey's SRS variance of an estimate from its influence values' moments.

    ``s1 = sum w z``, ``s2 = sum w z^2`` over the units of the (domain) sample, ``n`` its
    rows with positive weight and ``W`` its population (sum of weights), per estimate:
    ``W sum w (z - zbar_w)^2 / (n - 1)`` times ``(1 - n/W)`` (without replacement, R's
    ``deff=TRUE``) unless ``replace`` (R's ``deff="replace"``). For a mean (``z = (y -
    ybar)/W``) this is ``svyvar(y) (W - n)/(W n)``, for a total (``z = y``)
    ``svyvar(y) W^2 (W - n)/(W n)``, as in ``svymean``/``svytotal``.
    """
    s1, s2 = np.asarray(s1, dtype=float), np.asarray(s2, dtype=float)
    n, W = np.asarray(n, dtype=float), np.asarray(W, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        ss = np.maximum(s2 - s1 * s1 / W, 0.0)  # sum w (z - zbar_w)^2
        v = W * ss / np.maximum(n - 1, 1)
        return v if replace else v * np.maximum(1 - n / W, 0.0)


def _check_gram_entries(known: np.ndarray, *coefs: np.ndarray) -> None:
    """Refuse coefficients (D, m, K) that combine two basis columns whose Gram entry was not
    computed (see :class:`GramPlan`): their design effects would be wrong."""
    for C in coefs:
        U = (C != 0).astype(float)
        need = np.einsum("dik,djk->ij", U, U) > 0  # (m, m): columns used together by some estimate and domain
        if (need & ~known).any():
            i, j = np.argwhere(need & ~known)[0]
            raise DesignError(f"design effects need the Gram entry ({i}, {j}) of the influence basis, which "
                              "these influence sums did not compute (GramPlan); add it to the plan")


def _single_domain(A3: np.ndarray, total_first: bool) -> np.ndarray:
    """Domain of every estimate (column of ``A3`` (D, m, K)) whose coefficients lie in one
    domain only, else -1 (several domains, or the whole sample when ``total_first``)."""
    nz = (A3 != 0).any(axis=1)  # (D, K)
    cnt = nz.sum(axis=0)
    dom = np.where(cnt == 1, nz.argmax(axis=0), -1)
    if total_first:
        dom = np.where(dom == 0, -1, dom)  # domain 0 is the whole sample
    return dom


# ---------------------------------------------------------------------- ratio helper
def ratio_linearization(w: np.ndarray, num: np.ndarray, den: np.ndarray):
    """Estimate ``sum w num / sum w den`` column-wise with its influence values.

    Returns ``(estimate (k,), z (n, k), totals)`` where ``totals`` is the ``(Y, f)``
    pair :meth:`Design.vcov` uses for replicate designs.
    """
    num = np.asarray(num, dtype=float)
    num2 = num.reshape(num.shape[0], -1)
    den2 = np.asarray(den, dtype=float).reshape(num.shape[0], -1)
    k = num2.shape[1]
    if den2.shape[1] == 1 and k > 1:
        den2 = np.repeat(den2, k, axis=1)
    Yn = (w[:, None] * num2).sum(0)
    Yd = (w[:, None] * den2).sum(0)
    with np.errstate(invalid="ignore", divide="ignore"):
        est = Yn / Yd
        z = (num2 - est * den2) / Yd
    Y = np.hstack([num2, den2])

    def f(T, k=k):
        with np.errstate(invalid="ignore", divide="ignore"):
            return T[:, :k] / T[:, k:]

    return est, z, (Y, f)


def critical_value(level: float, df: float | None, dist: str = "t") -> float:
    """Two-sided critical value for a ``level`` interval (t with ``df`` or normal)."""
    a = (1 + check_ci_level(level)) / 2
    if dist == "normal" or df is None or not np.isfinite(df) or df <= 0:
        return float(stats.norm.ppf(a))
    return float(stats.t.ppf(a, df))


def as_index_codes(values: Sequence) -> tuple[np.ndarray, np.ndarray]:
    """Public wrapper of label factorisation (sorted labels, missing refused)."""
    return _codes(values, "by")
