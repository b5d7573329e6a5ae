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
from scipy import stats

from .core.validate import check_ci_level, check_nonnegative, check_weight_sum
from .design_build import LONELY_PSU_POLICIES, design_fields
from .design_kernels import (FACTOR_CHUNK, apply_coefficients, factorize_labels, gram_add, group_sum, grouped_outer,
                             kernel_sum, weighted_crossprod)
from .design_sums import (GramPlan, InfluenceSums, PairSums, check_gram_entries, single_domain,
                          srs_variance_from_moments)
from .design_sums import influence_sums as _influence_sums
from .design_sums import pair_sums as _pair_sums
from .design_sums import srs_variance as _srs_variance
from .exceptions import DesignError, InputError, describe_rows
from .replicates import Replicates, build_replicates, weights_rank

# The engine lives in four modules: design_kernels (row-pass kernels: grouped sums, Gram
# matrices), design_sums (factored influence values: GramPlan, InfluenceSums, PairSums; the
# SRS variance from moments), design_build (checks and factorisation of the constructor's
# arrays) and this one (the Design and its variance formulas). Every name keeps its import
# path here: LONELY_PSU_POLICIES, FACTOR_CHUNK, group_sum, GramPlan, InfluenceSums,
# PairSums, srs_variance_from_moments are re-exported.
REPLICATE_KINDS = ("bootstrap", "subbootstrap", "canty_davison", "mrbbootstrap", "jk1", "jkn", "brr", "fay",
                   "other")

#: Number of replicate columns evaluated at once on the row-level path (memory bound).
REPLICATE_CHUNK = 64

_codes = factorize_labels  # the old private names (tests/test_design_fast.py)
_gram_add = gram_add


def _same_array(a: np.ndarray, b: np.ndarray) -> bool:
    """``a`` and ``b`` view the same memory with the same layout (hence hold the same values)."""
    ia, ib = a.__array_interface__, b.__array_interface__
    return (a.dtype == b.dtype and a.shape == b.shape and ia["data"] == ib["data"]
            and ia["strides"] == ib["strides"])


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
        return cls(**design_fields(weights, strata, psu, fpc, ssu, fpc2, nest=nest, lonely_psu=lonely_psu))

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
        if w.shape != self.weights.shape:
            raise InputError(f"reweight needs one weight per row: got shape {w.shape}, the design has {self.n} rows")
        check_nonnegative(w, "the (person) weights", fix="reweight needs finite non-negative weights, one per row")
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
        return _influence_sums(self, B, codes, n_domains, gram=gram, chunk=chunk)

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
        return _pair_sums(self, B, codes, n_domains, gram=gram, chunk=chunk)

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
        mean = group_sum(ginv, T, grp.size) / n_h[gh][:, None]  # (G, K) stratum mean over ALL its PSUs
        if adjust:
            mean[lonely[gh]] = 0.0
        T -= mean[ginv]
        V = grouped_outer(ps.dom, T, D, scale_h[h])
        absent = (n_h[gh] - cnt) * scale_h[gh]  # PSUs of the stratum without rows in the domain
        return V + grouped_outer(gd, mean, D, absent)

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
        V = self._stage1(apply_coefficients(sums.psu, A2))
        if self.fpc1 is not None and self.ssu is not None:
            V = V + self._stage2_totals(apply_coefficients(sums.ssu, A2))
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
            check_gram_entries(sums.gram_known, Ae, A3)
        s2 = (Ae * np.matmul(gram, Ae)).sum(axis=(0, 1))  # sum_d a_dk' G_d a_dk
        W, n = self.weights.sum(), float(np.count_nonzero(self.weights > 0))
        if not within or sums.n_pos is None:
            return srs_variance_from_moments(s1, s2, n, W, replace=replace)
        dom = single_domain(A3, sums.total_first)  # (K,) domain of every estimate, -1: several
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
            kernel_sum(self.psu, z2, self.weights, T)  # PSU totals of w z (P, k); PSU codes valid by construction
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
        mean_h = group_sum(ps, T, H) / np.maximum(n_h, 1)[:, None]
        Tc = T - mean_h[ps]
        if adjust:
            sel = lonely[ps]
            Tc[sel] = T[sel]
        V = weighted_crossprod(Tc, scale_h[ps])
        if lonely.any() and self.lonely_psu == "average":
            # R survey: V * H / H_ok counting only strata with units in the (domain) sample;
            # a stratum is "in" the sample of column c if some PSU total there is non-zero.
            present = group_sum(ps, (T != 0).astype(float), H) > 0  # (H, k)
            ok = (present & ~lonely[:, None]).sum(0)
            if (ok == 0).any():
                raise DesignError("every stratum has a single PSU: lonely_psu='average' is undefined")
            f = np.sqrt(present.sum(0) / ok)
            V = V * np.outer(f, f)
        return V

    def _stage2(self, x: np.ndarray) -> np.ndarray:
        n_ssu = int(self.ssu.max()) + 1
        return self._stage2_totals(group_sum(self.ssu, x, n_ssu))

    def _stage2_totals(self, S: np.ndarray) -> np.ndarray:
        """Second-stage term from the SSU totals ``S`` (n_ssu, k) of ``w z``."""
        n_ssu = S.shape[0]
        ssu_psu = np.zeros(n_ssu, dtype=np.int64)
        ssu_psu[self.ssu] = self.psu
        m_j = np.bincount(ssu_psu, minlength=self.n_psu).astype(float)
        mean_j = group_sum(ssu_psu, S, self.n_psu) / np.maximum(m_j, 1)[:, None]
        Sc = S - mean_j[ssu_psu]
        f1 = self.fpc1[self.psu_stratum]  # (P,)
        scale_j = np.divide(m_j, m_j - 1, out=np.zeros(self.n_psu), where=m_j > 1) * (1 - self.fpc2) * f1
        return weighted_crossprod(Sc, scale_j[ssu_psu])

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
            P = group_sum(self.psu, Y, self.n_psu, self.weights)
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
        return _srs_variance(self, z, codes, replace=replace)

    def _srs_from_moments(self, s1: np.ndarray, s2: np.ndarray) -> np.ndarray:
        """SRS variance from ``s1 = sum w z`` and ``s2 = sum w z^2`` (per column), whole sample."""
        w = self.weights
        return srs_variance_from_moments(s1, s2, float(np.count_nonzero(w > 0)), w.sum())


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
    return factorize_labels(values, "by")
