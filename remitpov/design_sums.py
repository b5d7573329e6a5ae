"""Sufficient statistics of factored influence values (see :mod:`remitpov.design`,
"Factored influence values"): which Gram entries to compute (:class:`GramPlan`), the
PSU x domain totals of ``w B`` dense (:class:`InfluenceSums`, :func:`influence_sums`) or
sparse by (PSU, domain) pair (:class:`PairSums`, :func:`pair_sums`), and the SRS variance
of an estimate from its influence values' moments (the design-effect denominator,
:func:`srs_variance_from_moments`).

Conventions: influence values ``z_i = B_i A[d_i]`` with ``B`` (n, m) row-level basis
variables, ``d_i`` domain codes in ``0..D-1`` and coefficients ``A`` (D*m, K); totals are
domain-major (column ``d * m + j``); one pass over the rows in chunks of
:data:`~remitpov.design_kernels.FACTOR_CHUNK`.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .design_kernels import FACTOR_CHUNK, code_counts, gram_add, gram_products, group_sum, kernel_sum
from .exceptions import DesignError, InputError

__all__ = ["GramPlan", "InfluenceSums", "PairSums", "influence_sums", "pair_sums", "srs_variance_from_moments",
           "check_gram_entries", "single_domain", "srs_variance"]


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

    Built by :meth:`Design.influence_sums <remitpov.design.Design.influence_sums>`; consumed by
    :meth:`Design.vcov_factored <remitpov.design.Design.vcov_factored>` and
    :meth:`Design.srs_variance_factored <remitpov.design.Design.srs_variance_factored>` with any
    coefficient matrix ``A`` (D*m, K).
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
        return group_sum(self.dom, self.S, self.n_domains)

    def with_total(self) -> "PairSums":
        """The whole sample prepended as domain 0 (its PSU totals are sums over the pairs)."""
        upsu, inv = np.unique(self.psu, return_inverse=True)
        S0 = group_sum(inv, self.S, upsu.size)

        def add1(v):
            return None if v is None else np.concatenate([[v.sum()], v])
        gram = None if self.gram is None else np.concatenate([self.gram.sum(axis=0)[None], self.gram], axis=0)
        return PairSums(self.n_domains + 1, self.m, np.concatenate([upsu, self.psu]),
                        np.concatenate([np.zeros(upsu.size, dtype=np.int64), self.dom + 1]),
                        np.vstack([S0, self.S]), gram, add1(self.n_pos), add1(self.wsum))


def influence_sums(design, B, codes=None, n_domains: int = 1, *, gram: bool | GramPlan | None = None,
                   chunk: int | None = None) -> InfluenceSums:
    """PSU x domain totals (and Gram matrices) of row-level basis variables of ``design``:
    :meth:`Design.influence_sums <remitpov.design.Design.influence_sums>` (its docstring states the arguments)."""
    n, w, D = design.n, design.weights, int(n_domains)
    if gram is None:
        gram = design.replicates is None
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
    two_stage = design.fpc1 is not None and design.ssu is not None
    n_ssu = int(design.ssu.max()) + 1 if two_stage else 0
    S = S2 = Gm = Gp = None
    m = None
    entries, products = [], []
    for a in range(0, max(n, 1), step):
        b = min(a + step, n)
        Bc = np.asarray(get(a, b), dtype=float).reshape(b - a, -1)
        if m is None:
            m = Bc.shape[1]
            S = np.zeros((design.n_psu * D, m))
            S2 = np.zeros((n_ssu * D, m)) if two_stage else None
            Gm = np.zeros((D, m, m)) if full else None
            if plan is not None:
                entries, products = plan.sources(m)
                Gp = np.zeros((D, len(products)))
        if b <= a:
            break
        wc, cc = w[a:b], codes[a:b]
        Bcc = np.ascontiguousarray(Bc)  # the sparse product is fastest on row-major rows
        key = design.psu[a:b] * D
        key += cc
        kernel_sum(key, Bcc, wc, S)  # (domain codes checked above, PSU codes by construction)
        if two_stage:
            key = design.ssu[a:b] * D
            key += cc
            kernel_sum(key, Bcc, wc, S2)
        del Bcc, key
        if full:
            gram_add(Gm, Bc, wc, cc, D)
        elif products:
            gram_products(Gp, Bc, wc, cc, D, products)
    n_pos = wsum = known = None
    if gram:
        pos = w > 0  # rows with positive weight per domain (exact counts)
        n_pos = code_counts(codes, D) if pos.all() else np.bincount(codes, weights=pos, minlength=D)
        if plan is None or plan.constant is None:
            wsum = np.bincount(codes, weights=w, minlength=D)
    if plan is not None:
        T = S.reshape(design.n_psu, D, m).sum(axis=0)  # (D, m): domain totals of w B (as InfluenceSums.totals)
        Gm = np.zeros((D, m, m))
        known = np.zeros((m, m), dtype=bool)
        for i, j, k in entries:
            Gm[:, i, j] = Gm[:, j, i] = T[:, k] if k < m else Gp[:, k - m]
            known[i, j] = known[j, i] = True
        if plan.constant is not None:
            wsum = T[:, plan.constant]
    return InfluenceSums(
        n_domains=D, m=m,
        psu=S.reshape(design.n_psu, D * m),
        ssu=None if S2 is None else S2.reshape(n_ssu, D * m),
        gram=Gm, n_pos=n_pos, wsum=wsum, gram_known=known,
    )


def pair_sums(design, B, codes, n_domains: int, *, gram: bool = False, chunk: int | None = None) -> PairSums:
    """Sparse PSU x domain totals of ``w B`` on ``design`` (see :class:`PairSums`):
    :meth:`Design.pair_sums <remitpov.design.Design.pair_sums>` (its docstring states the arguments)."""
    n, w, D = design.n, design.weights, int(n_domains)
    codes = np.asarray(codes, dtype=np.int64)
    if codes.shape != (n,):
        raise InputError(f"domain codes have shape {codes.shape}, the design {n} rows")
    key = design.psu * D + codes
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
        S += group_sum(inv[a:b], Bc, Q, w[a:b])
        if gram:
            Gm += group_sum(codes[a:b], (Bc[:, :, None] * Bc[:, None, :]).reshape(b - a, m * m), D, w[a:b])
    return PairSums(D, m, pairs // D, pairs % D, S, None if Gm is None else Gm.reshape(D, m, m),
                    np.bincount(codes[w > 0], minlength=D).astype(float),
                    np.bincount(codes, weights=w, minlength=D))


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


def srs_variance(design, z, codes=None, *, replace: bool = False) -> np.ndarray:
    """SRS variance of influence values ``z`` on ``design`` (the design-effect denominator):
    :meth:`Design.srs_variance <remitpov.design.Design.srs_variance>` (its docstring states the rule)."""
    z = np.asarray(z, dtype=float).reshape(design.n, -1)
    w = design.weights
    if codes is not None and design.n and int(np.max(codes)) == 0 and int(np.min(codes)) == 0:
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
        S1 = group_sum(codes, z[:, one], D, w)  # (D, K1) per-domain moments
        S2 = group_sum(codes, z[:, one] ** 2, D, w)
        s1[one], s2[one] = S1[d, np.arange(one.size)], S2[d, np.arange(one.size)]
        nk[one] = np.bincount(codes[pos], minlength=D)[d]
        Wk[one] = np.bincount(codes, weights=w, minlength=D)[d]
    return srs_variance_from_moments(s1, s2, nk, Wk, replace=replace)


def check_gram_entries(known: np.ndarray, *coefs: np.ndarray) -> None:
    """Refuse coefficients (D, m, K) that combine two basis columns whose Gram entry was not
    computed (see :class:`GramPlan`): their design effects would be wrong."""
    for C in coefs:
        U = (C != 0).astype(float)
        need = np.einsum("dik,djk->ij", U, U) > 0  # (m, m): columns used together by some estimate and domain
        if (need & ~known).any():
            i, j = np.argwhere(need & ~known)[0]
            raise DesignError(f"design effects need the Gram entry ({i}, {j}) of the influence basis, which "
                              "these influence sums did not compute (GramPlan); add it to the plan")


def single_domain(A3: np.ndarray, total_first: bool) -> np.ndarray:
    """Domain of every estimate (column of ``A3`` (D, m, K)) whose coefficients lie in one
    domain only, else -1 (several domains, or the whole sample when ``total_first``)."""
    nz = (A3 != 0).any(axis=1)  # (D, K)
    cnt = nz.sum(axis=0)
    dom = np.where(cnt == 1, nz.argmax(axis=0), -1)
    if total_first:
        dom = np.where(dom == 0, -1, dom)  # domain 0 is the whole sample
    return dom
