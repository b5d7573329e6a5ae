"""Propensity-score matching and subclassification (:mod:`remitpov.econometrics.treatment` states the estimators and
their standard errors; the array algorithms are in :mod:`remitpov.econometrics.matching`).

Conventions: as :mod:`remitpov.econometrics.treatment` (MatchIt's greedy matching without replacement, Abadie--Imbens
/ ``Matching::Match`` with replacement, MatchIt's subclass weights).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..design import Design
from ..exceptions import InputError
from .matching import (greedy_general, k_nearest_with_replacement, mahalanobis_coordinates, match_shares, nn_sets,
                       wls_difference_hc3, within_group_sigma2)
from .treatment_base import ESTIMANDS, MatchingResults, TreatmentModel, effect_results, matching_se_name
from .treatment_score import balance_table, check_overlap

__all__ = ["PropensityScoreMatching", "PropensityScoreSubclassification"]


class PropensityScoreMatching(TreatmentModel):
    """Nearest-neighbour matching on the propensity score.

    Parameters
    ----------
    formula : str
        Propensity-score model, ``"treat ~ age + educ + race + ..."``.
    data : DataFrame
    outcome : str or array
        Outcome column (poverty status, income...), given separately from the formula.
    weights, psu, strata : str or array, optional
        Survey design (sampling weights, PSU and stratum labels).
    link : {"logit", "probit"}

    Examples
    --------
    >>> m = PropensityScoreMatching("treat ~ age + educ + race + married + nodegree + re74 + re75",
    ...                             lalonde, outcome="re78")                       # doctest: +SKIP
    >>> res = m.fit()            # MatchIt's default: 1:1 greedy, no replacement  # doctest: +SKIP
    >>> res.params["ATT"], res.std_errors["ATT"]                                   # doctest: +SKIP
    """

    def fit(self, *, estimand: str = "ATT", k: int = 1, replace: bool = False, caliper: float | None = None,
            distance: str = "pscore", order: str | None = None, ties: bool = True,
            distance_tolerance: float = 1e-5, se: str | None = None, var_matches: int = 0,
            overlap_tol: float = 0.01, matchit_compat: bool = False, mahvars: str | None = None,
            trim: float | str | None = None) -> MatchingResults:
        """Match and estimate.

        Parameters
        ----------
        estimand : {"ATT", "ATE", "ATC"}
            ATE/ATC need ``replace=True``.
        k : int
            Number of neighbours (MatchIt ``ratio`` / Matching ``M``).
        replace : bool
            Matching with replacement (Abadie--Imbens / ``Matching::Match``) or greedy
            without replacement (MatchIt).
        caliper : float, optional
            Maximum distance in standard deviations of the score (the probability, or the
            linear predictor with ``distance="linear"``; SD over all units, ``ddof=1``, as
            MatchIt's ``std.caliper=TRUE``); units without a match within the caliper are
            dropped from the estimand (reported in ``extra``). With ``mahvars`` the
            caliper is on the score and the match on the Mahalanobis distance.
        distance : {"pscore", "linear", "mahalanobis"}
            Match on the probability (MatchIt default), on the linear predictor (MatchIt
            ``link="linear.logit"``) or on the Mahalanobis distance of the propensity-score
            covariates (MatchIt ``distance="mahalanobis"``: pooled within-group covariance,
            see :func:`remitpov.econometrics.matching.mahalanobis_coordinates`; treated
            units choose in data order; no caliper, no Abadie--Imbens SE).
        order : {"largest", "smallest", "data"}, optional
            Order in which treated units pick controls (without replacement). Default
            ``"largest"`` score first, ``"data"`` for ``distance="mahalanobis"`` (MatchIt).
        ties : bool
            With replacement: use all tied controls (Matching's default) or exactly ``k``
            distinct nearest controls, ties broken in data order (``ties=False``: MatchIt's
            k:1 matching with replacement; forced with Mahalanobis distances). Without
            replacement, the first in data order wins.
        distance_tolerance : float
            Ties tolerance (Matching's ``distance.tolerance``), on the standardised scale.
        se : {"ai", "CR1", "HC3", "design", "none"}, optional
            Default: ``"ai"`` (with replacement on a score), ``"HC3"`` (with replacement
            on a Mahalanobis distance) or ``"CR1"`` (without: clustered by matched pair),
            or ``"design"`` when a survey design was given. ``"HC3"``: HC3 SE of the
            treatment coefficient of the weighted regression ``y ~ treat`` on the matched
            sample (the MatchIt vignette's choice after matching with replacement). Names
            of the covariance registry (:mod:`remitpov.econometrics.covariance`); the old
            ``"robust"`` (= ``"HC3"``) and ``"pairs"`` (= ``"CR1"``) work for one release
            with a ``FutureWarning``. See the module docstring.
        var_matches : int
            0: homoskedastic AI variance (``Var.calc=0``); J > 0: heteroskedastic with J
            within-group matches (``Var.calc=J``).
        overlap_tol : float
            OverlapWarning when relevant scores lie within ``overlap_tol`` of 0 or 1.
        matchit_compat : bool
            Reproduce MatchIt 4.5.1 exactly (without replacement). That version compares
            the left and right candidate distances with C ``abs()`` on integers, so for
            scores in (0, 1) it always takes the nearest available control with a *lower*
            score when there is one (a caliper is likewise applied to the whole-number part
            of the distance: on the linear score a caliper below 1 acts as a caliper of 1).
            The default (False) takes the truly nearest control. On LaLonde the two differ
            in 6 of 185 pairs. Not needed with ``mahvars`` or Mahalanobis distances
            (MatchIt's general routine compares distances correctly).
        mahvars : str, optional
            Right-hand side of covariates (``"age + educ + C(race)"``) for Mahalanobis
            matching within the score's caliper, treated units in ``order`` of the score
            (MatchIt's ``mahvars``).
        trim : float or "crump", optional
            Drop units whose propensity score lies outside ``[alpha, 1 - alpha]`` before
            matching (``"crump"``: the optimal alpha of Crump, Hotz, Imbens and Mitnik 2009,
            see :func:`remitpov.robustness.crump_trimming`). The estimand becomes the effect
            in the trimmed population; the rule and the numbers dropped are in ``notes``
            and ``extra["trim"]``.
        """
        estimand = estimand.upper()
        if estimand not in ESTIMANDS:
            raise InputError(f"estimand={estimand!r}: use one of {ESTIMANDS}")
        if int(k) != k or k < 1:
            raise InputError(f"k={k!r} must be a positive integer")
        k = int(k)
        if not replace and estimand != "ATT":
            raise InputError("matching without replacement estimates the ATT only; use replace=True for "
                             f"{estimand}")
        if distance not in ("pscore", "linear", "mahalanobis"):
            raise InputError(f"distance={distance!r}: use 'pscore', 'linear' or 'mahalanobis'")
        full_mah = distance == "mahalanobis"
        if full_mah and mahvars is not None:
            raise InputError("give either distance='mahalanobis' or mahvars= (Mahalanobis matching within a "
                             "caliper on the score), not both")
        if full_mah and caliper is not None:
            raise InputError("distance='mahalanobis' has no score to put a caliper on; use mahvars='...' with "
                             "distance='pscore' or 'linear' for Mahalanobis matching within a score caliper")
        if order is None:
            order = "data" if full_mah else "largest"
        elif full_mah and order != "data":
            raise InputError(f"order={order!r}: with distance='mahalanobis' treated units choose in data order")
        use_mah = full_mah or mahvars is not None
        if matchit_compat and replace:
            raise InputError(
                "matchit_compat is for matching without replacement. With replace=True MatchIt 4.5.1 takes the "
                "nearest control with a lower score (integer abs()) and, for ratio=k, repeats that one control k "
                "times (an indexing slip), i.e. 1:1 matching; use replace=True, ties=False for the k distinct "
                "nearest controls (MatchIt's general routine, used with a distance matrix)")
        if se is None:
            se = "design" if self.has_design else (("HC3" if use_mah else "ai") if replace else "CR1")
        se = matching_se_name(se, ("HC3", "CR1"), ("ai", "design", "none"))
        if se == "ai" and not replace:
            raise InputError("the Abadie-Imbens SE is for matching with replacement; use se='CR1' or 'design'")
        if se == "ai" and use_mah:
            raise InputError("the Abadie-Imbens SE is implemented for matching on a score; with Mahalanobis "
                             "distances use se='HC3' or 'design'")
        if se == "ai" and self.w_given:
            raise InputError("the Abadie-Imbens SE is unweighted; with survey weights use se='design'")
        psr = self.ps_model.fit()
        ps = psr.pscore
        keep, trim_info = self._trim(ps, trim)
        check_overlap(ps[keep], self.t[keep], estimand, overlap_tol, self.w[keep])
        dist = psr.linear if distance == "linear" else ps
        cal = None if caliper is None else float(caliper) * np.std(dist[keep], ddof=1)
        what = {"pscore": "the probability", "linear": "the linear predictor",
                "mahalanobis": "the Mahalanobis distance of the covariates"}[distance]
        notes = [f"propensity score: {self.link} on {list(self.X.columns)}; matching on {what}"]
        coords = None
        if use_mah:
            Q = self.X.drop(columns=[c for c in self.X.columns if c == "Intercept"]).to_numpy() if mahvars is None \
                else self._covariate_matrix(mahvars)
            ck = mahalanobis_coordinates(Q[keep], self.t[keep], self.w[keep] if self.w_given else None)
            coords = np.zeros((len(keep), ck.shape[1]))
            coords[keep] = ck
            if mahvars is not None:
                notes.append(f"Mahalanobis distance on {mahvars!r} (pooled within-group covariance)"
                             + (f" within a caliper of {caliper:g} SD of the score" if caliper is not None else ""))
        if trim_info is not None:
            notes.append(trim_info["note"])
        if replace:
            out = self._fit_replace(dist, estimand, k, cal, ties, distance_tolerance, se, var_matches, notes,
                                    coords, keep)
        else:
            out = self._fit_greedy(dist, k, cal, order, se, notes, matchit_compat, coords, keep)
        mu1, mu0, V, W, pairs, extra, cov_type, df = out
        matched = W > 0
        bal = balance_table(self.X[keep], self.t[keep], self.w[keep], W[keep], estimand)
        extra["base_weights"] = self.w
        extra["outcome"] = self.y
        if trim_info is not None:
            extra["trim"] = trim_info
        method = (f"NN matching {k}:1 {'with' if replace else 'without'} replacement"
                  + (", Mahalanobis" if use_mah else "") + (f", caliper {caliper:g} sd" if caliper is not None else ""))
        return effect_results(
            MatchingResults, estimand, mu1, mu0, V, nobs=int(matched.sum()), model_name="Propensity-score matching",
            dep_var=self.outcome_name, cov_type=cov_type, method=method, df=df, notes=notes,
            info={"Treated": int((self.t == 1).sum()), "Controls": int((self.t == 0).sum()),
                  "Matched treated": int((matched & (self.t == 1)).sum()),
                  "Matched controls": int((matched & (self.t == 0)).sum())},
            pscore=ps, treatment=self.t, unit_weights=W, balance=bal, ps_results=psr, extra=extra,
            pairs=pairs, matched=matched)

    # ------------------------------------------------------------------ greedy, no replacement
    def _fit_greedy(self, dist, k, cal, order, se, notes, matchit_compat=False, coords=None, keep=None):
        t, y, w = self.t, self.y, self.w
        keep = np.ones(len(t), dtype=bool) if keep is None else keep
        tr = np.flatnonzero((t == 1) & keep)
        co = np.flatnonzero((t == 0) & keep)
        if order == "largest":
            ordr = tr[np.argsort(-dist[tr], kind="stable")]
        elif order == "smallest":
            ordr = tr[np.argsort(dist[tr], kind="stable")]
        elif order == "data":
            ordr = tr
        else:
            raise InputError(f"order={order!r}: use 'largest', 'smallest' or 'data'")
        if coords is not None:
            match_t, match_c = greedy_general(ordr, co, coords, k, dist, cal)
        else:
            match_t, match_c = self._greedy_score(dist, k, cal, ordr, co, matchit_compat)
        pairs = pd.DataFrame({"treated": np.asarray(match_t, dtype=np.int64),
                              "control": np.asarray(match_c, dtype=np.int64)})
        return self._pairs_weights(pairs, tr, se, notes)

    @staticmethod
    def _greedy_score(dist, k, cal, ordr, co, matchit_compat):
        """Greedy matching without replacement on a score (sorted controls, union-find)."""
        srt = co[np.argsort(dist[co], kind="stable")]
        d_c = dist[srt]
        nC = len(srt)
        # union-find "next available control" to the right (pr) and to the left (pl, shifted by 1)
        pr = np.arange(nC + 1)
        pl = np.arange(nC + 1)

        def find(par, i):
            r = i
            while par[r] != r:
                r = par[r]
            while par[i] != r:  # path compression
                par[i], i = r, par[i]
            return r

        match_t, match_c = [], []
        n_left = nC
        floor = np.floor
        # greedy: k rounds; in each, every treated unit (in `order`) takes its nearest available
        # control. The loop over treated units is inherent to greedy matching (each choice
        # depends on the previous ones); every step is O(log n).
        for _ in range(k):
            for i in ordr:
                if n_left == 0:
                    break
                pos = int(np.searchsorted(d_c, dist[i], side="left"))
                r = find(pr, pos)
                l = find(pl, pos) - 1  # control index <= pos - 1
                dr = abs(d_c[r] - dist[i]) if r < nC else np.inf
                dl = abs(d_c[l] - dist[i]) if l >= 0 else np.inf
                if matchit_compat:
                    # MatchIt 4.5.1 (nn_matchC_vec) compares int(|d|): the caliper check and the
                    # left/right choice see only the whole-number part of the distance
                    okl = l >= 0 and (cal is None or floor(dl) <= cal)
                    okr = r < nC and (cal is None or floor(dr) <= cal)
                    if okl and (not okr or floor(dl) <= floor(dr)):
                        j = l
                    elif okr:
                        j = r
                    else:
                        continue
                else:
                    j, dd = (r, dr) if dr < dl else (l, dl)  # equal distances: the lower score wins
                    if cal is not None and dd > cal:
                        continue
                pr[j] = j + 1
                pl[j + 1] = j
                n_left -= 1
                match_t.append(i)
                match_c.append(srt[j])
        return match_t, match_c

    def _pairs_weights(self, pairs, tr, se, notes):
        t, w = self.t, self.w
        n_tr = pairs.groupby("treated")["control"].transform("size").to_numpy()
        pairs["weight"] = 1.0 / n_tr
        n = len(t)
        W = np.zeros(n)
        mt = np.unique(pairs["treated"].to_numpy())
        W[mt] = w[mt]
        # control weight: sum over its treated of (treated base weight / k_t), times own base weight
        # share (one control per treated slot, so no further split)
        np.add.at(W, pairs["control"].to_numpy(), w[pairs["treated"].to_numpy()] * pairs["weight"].to_numpy())
        subclass = np.full(n, -1, dtype=np.int64)
        sub_codes = pd.factorize(pairs["treated"].to_numpy(), sort=True)[0]
        subclass[pairs["treated"].to_numpy()] = sub_codes
        subclass[pairs["control"].to_numpy()] = sub_codes
        unmatched = np.setdiff1d(tr, mt)
        extra = {"subclass": subclass, "unmatched_treated": unmatched}
        if unmatched.size:
            notes.append(f"{unmatched.size} treated units had no control within the caliper (or no control "
                         "left) and are excluded: the estimand is the ATT of the matched treated")
        mu1, mu0, V, cov_type, df = self._weighted_means(W, se, subclass)
        return mu1, mu0, V, W, pairs, extra, cov_type, df

    # ------------------------------------------------------------------ with replacement (Abadie-Imbens)
    def _fit_replace(self, dist, estimand, k, cal, ties, tol, se, var_matches, notes, coords=None, keep=None):
        t, y, w = self.t, self.y, self.w
        n = len(t)
        keep = np.ones(n, dtype=bool) if keep is None else keep
        sd = np.std(dist[keep], ddof=1)
        x = dist / sd  # Match(): inverse-variance weighted distance on the standardised score
        calz = None if cal is None else cal / sd
        rows, cols, wts = [], [], []
        groups = {"ATT": (1,), "ATC": (0,), "ATE": (1, 0)}[estimand]
        for g in groups:
            if coords is not None:  # Mahalanobis: exactly k distinct nearest (MatchIt), score caliper
                r, c = k_nearest_with_replacement(np.flatnonzero((t == g) & keep), np.flatnonzero((t != g) & keep),
                                                  coords, k, dist, cal)
                ww = match_shares(r, c, w)
            else:
                r, c, ww = nn_sets(x, (t == g) & keep, (t != g) & keep, k, ties, tol, calz, w)
            rows.append(r)
            cols.append(c)
            wts.append(ww)
        R, C, WW = np.concatenate(rows), np.concatenate(cols), np.concatenate(wts)
        pairs = pd.DataFrame({"unit": R, "match": C, "weight": WW})
        pairs["treated"] = np.where(t[R] == 1, R, C)
        pairs["control"] = np.where(t[R] == 1, C, R)
        # imputed missing potential outcome of every matched unit
        yhat = np.bincount(R, weights=WW * y[C], minlength=n)
        has = np.bincount(R, minlength=n) > 0
        target = np.isin(t, groups) & has
        dropped = np.isin(t, groups) & ~has & keep
        if dropped.any():
            notes.append(f"{int(dropped.sum())} units had no match within the caliper and are excluded")
        sign = np.where(t == 1, 1.0, -1.0)
        tau_i = sign * (y - yhat)  # unit-level effect (Y1 - Y0)
        wt = np.where(target, w, 0.0)
        N = wt.sum()
        # K_j: weighted number of times unit j is used as a match; KK: sum of squared shares
        K = np.bincount(C, weights=w[R] * WW, minlength=n) / np.where(w > 0, w, 1)
        KK = np.bincount(C, weights=w[R] * WW**2, minlength=n) / np.where(w > 0, w, 1)
        # matching weights: target units their own weight, matches weight share times target weight
        Wm = wt + np.bincount(C, weights=w[R] * WW, minlength=n)
        y1 = np.where(t == 1, y, yhat)
        y0 = np.where(t == 0, y, yhat)
        mu1 = float(wt @ y1 / N)
        mu0 = float(wt @ y0 / N)
        est = mu1 - mu0
        extra = {"K": K, "yhat": yhat, "dropped": np.flatnonzero(dropped)}
        if se == "ai":
            # Abadie-Imbens (2006) / Matching::Match population variance (SAMPLE=0)
            if var_matches > 0:
                sig2 = within_group_sigma2(x, y, t, var_matches, ties, tol)
            else:
                # homoskedastic: half the mean squared deviation of the matched-pair differences
                pair_tau = sign[R] * (y[R] - y[C])
                sig2 = np.full(n, 0.5 * np.sum(WW * (pair_tau - est) ** 2) / np.sum(WW))
            Ksel = np.where(np.isin(t, groups), 0.0, 1.0) if estimand != "ATE" else np.ones(n)
            if estimand == "ATE":
                vK = sig2 * (K**2 + 2 * K - KK)
            else:
                vK = Ksel * sig2 * (K**2 - KK)
            var = (np.sum(vK) + np.sum(target * (tau_i - est) ** 2)) / N**2
            v1 = np.sum(target * (y1 - mu1) ** 2) / N**2
            v0 = var + v1  # any (v0, cov) with v1 + v0 - 2 cov = var; the effect's SE is what counts
            cov = (v1 + v0 - var) / 2
            V = np.array([[v1, cov], [cov, v0]])
            notes.append("SE: Abadie-Imbens (2006), propensity score treated as known (no AI 2016 adjustment); "
                         + ("homoskedastic (Var.calc=0)" if var_matches == 0 else
                            f"heteroskedastic, {var_matches} within-group matches"))
            notes.append("the SEs of E[Y(1)] and E[Y(0)] are not separately meaningful under se='ai'")
            return mu1, mu0, V, Wm, pairs, extra, "Abadie-Imbens", None
        if se == "none":
            return mu1, mu0, np.full((2, 2), np.nan), Wm, pairs, extra, "none", None
        if se == "CR1":
            raise InputError("se='CR1' (clustered by matched pair) is for matching without replacement; use 'ai', "
                             "'HC3' or 'design'")
        if se == "HC3":
            mu1, mu0, V = wls_difference_hc3(y, t.astype(float), Wm)
            return mu1, mu0, V, Wm, pairs, extra, "HC3 (matching weights fixed)", None
        # design: linearise sum_i wt_i (y1_i - mu1) and (y0_i - mu0) with the imputed values as
        # weighted sums of the matched units' outcomes (matching weights fixed)
        own1 = (wt * (t == 1) * (y - mu1))
        own0 = (wt * (t == 0) * (y - mu0))
        # imputed Y0 for treated targets come from controls (column 1), Y1 for control targets from treated
        tgt_t = t[R] == 1
        imp0 = np.bincount(C[tgt_t], weights=(w[R] * WW * (y[C] - mu0))[tgt_t], minlength=n)
        imp1 = np.bincount(C[~tgt_t], weights=(w[R] * WW * (y[C] - mu1))[~tgt_t], minlength=n)
        Z = np.column_stack([own1 + imp1, own0 + imp0]) / N
        wpos = np.where(w > 0, w, 1.0)
        Z = Z / wpos[:, None]
        d = Design.from_arrays(w, strata=self.strata, psu=self.psu, lonely_psu="adjust")
        V = d.vcov(np.array([mu1, mu0]), Z)
        notes.append("SE: design-based, matching weights held fixed (no matching uncertainty)")
        return mu1, mu0, V, Wm, pairs, extra, "design (matching weights fixed)", d.df


class PropensityScoreSubclassification(TreatmentModel):
    """Subclassification on the propensity score (MatchIt ``method = "subclass"``).

    Units are grouped into subclasses at quantiles of the score and re-weighted so that
    each subclass has the treated (ATT), control (ATC) or overall (ATE) composition
    (marginal mean weighting through stratification; see
    :func:`remitpov.econometrics.matching.subclassify` and
    :func:`~remitpov.econometrics.matching.subclass_weights`). The effect is the
    difference of weighted means. Same constructor as :class:`PropensityScoreMatching`.
    """

    def fit(self, *, subclasses: int = 6, estimand: str = "ATT", distance: str = "pscore", se: str | None = None,
            overlap_tol: float = 0.01, trim: float | str | None = None) -> MatchingResults:
        """Subclassify and estimate.

        Parameters
        ----------
        subclasses : int
            Number of subclasses (MatchIt's default 6).
        estimand : {"ATT", "ATC", "ATE"}
            Also decides whose score quantiles are the cut points (treated, controls, all).
        distance : {"pscore", "linear"}
            Subclassify on the probability or the linear predictor (same subclasses up to
            ties, as the quantiles are order statistics).
        se : {"HC3", "design", "none"}, optional
            ``"HC3"`` (default without a design; ``"robust"`` is its deprecated spelling):
            HC3 SE of the treatment coefficient of
            ``lm(y ~ treat, weights)`` (MatchIt vignette); ``"design"`` (default with a
            design): linearised with the subclass weights held fixed.
        trim : float or "crump", optional
            As in :meth:`PropensityScoreMatching.fit`.
        """
        from .matching import subclass_weights, subclassify

        estimand = estimand.upper()
        if estimand not in ESTIMANDS:
            raise InputError(f"estimand={estimand!r}: use one of {ESTIMANDS}")
        if distance not in ("pscore", "linear"):
            raise InputError(f"distance={distance!r}: use 'pscore' or 'linear'")
        if se is None:
            se = "design" if self.has_design else "HC3"
        se = matching_se_name(se, ("HC3",), ("design", "none"))
        psr = self.ps_model.fit()
        ps = psr.pscore
        keep, trim_info = self._trim(ps, trim)
        check_overlap(ps[keep], self.t[keep], estimand, overlap_tol, self.w[keep])
        score = (psr.linear if distance == "linear" else ps)
        t = self.t
        sub_k, q = subclassify(score[keep], t[keep], subclasses, estimand)
        sub = np.full(len(t), -1, dtype=np.int64)
        sub[keep] = sub_k
        W = np.zeros(len(t))
        W[keep] = subclass_weights(sub_k, t[keep], self.w[keep], estimand)
        mu1, mu0, V, cov_type, df = self._weighted_means(W, se)
        S = int(sub_k.max() + 1)
        notes = [f"propensity score: {self.link} on {list(self.X.columns)}",
                 f"{S} subclasses at quantiles of the {'linear predictor' if distance == 'linear' else 'score'} "
                 f"of the {dict(ATT='treated', ATC='controls', ATE='whole sample')[estimand]}"]
        if S < subclasses:
            notes.append(f"{subclasses - S} subclasses were empty (ties in the score) and dropped")
        extra = {"stratum": sub, "q_cut": q, "base_weights": self.w, "outcome": self.y}
        if trim_info is not None:
            notes.append(trim_info["note"])
            extra["trim"] = trim_info
        bal = balance_table(self.X[keep], t[keep], self.w[keep], W[keep], estimand)
        matched = W > 0
        return effect_results(
            MatchingResults, estimand, mu1, mu0, V, nobs=int(matched.sum()),
            model_name="Propensity-score subclassification", dep_var=self.outcome_name, cov_type=cov_type,
            method=f"subclassification, {S} subclasses", df=df, notes=notes,
            info={"Treated": int((t == 1).sum()), "Controls": int((t == 0).sum()), "Subclasses": S},
            pscore=ps, treatment=t, unit_weights=W, balance=bal, ps_results=psr, extra=extra, pairs=None,
            matched=matched)
