"""Treatment effects of receiving remittances: propensity-score matching, IPW and AIPW.

The treatment is a 0/1 indicator (e.g. "the household receives remittances"); the
outcome any numeric variable (poverty status 0/1, income per capita, school attendance...).
Three estimators share one propensity-score model (logit or probit, fitted with
statsmodels, optionally with survey weights):

* :class:`PropensityScoreMatching` -- nearest-neighbour matching on the propensity score
  (or its linear predictor), with or without replacement, ``k`` neighbours, caliper.

  - Without replacement: MatchIt's greedy algorithm (``matchit(method="nearest")``):
    treated units are matched in decreasing order of the score (``order="largest"``),
    each takes the closest still-available control; with ``k > 1`` the matching runs in
    ``k`` rounds (every treated unit gets its first control, then its second...).
    Control weights are ``sum over its treated of 1/k_t`` as in MatchIt. Only ATT.
  - With replacement: the Abadie--Imbens estimator of R's ``Matching::Match``: every
    unit of the group to be matched is paired with its ``k`` nearest units of the other
    group; ties (distances within ``distance_tolerance`` of the k-th smallest one) are all
    used with equal weights (``ties=True``). As in ``Match`` (default inverse-variance
    weight), distances are squared differences of the score divided by its variance, and
    units within ``distance_tolerance`` (1e-5) of the k-th smallest squared distance are
    ties -- on the probability scale this is a wide band (|difference| up to about
    0.001 when the score's SD is 0.3). ATT, ATC or ATE.

  - Mahalanobis distance (``distance="mahalanobis"``), Mahalanobis within a caliper on the
    score (``mahvars=``), caliper on the linear score (``distance="linear"``), k:1 with
    replacement and exactly ``k`` distinct controls (``replace=True, ties=False``): MatchIt
    4.5.1's algorithms, see :mod:`remitpov.econometrics.matching` (which also lists where
    MatchIt 4.5.1 itself deviates and what ``matchit_compat`` reproduces).

* :class:`PropensityScoreSubclassification` -- subclasses at score quantiles with MatchIt's
  ATT/ATC/ATE weights (``method="subclass"``); HC3 SE as the MatchIt vignette.
* ``trim=`` on every estimator: propensity-score trimming at a fixed alpha or the Crump et
  al. (2009) optimal alpha (:mod:`remitpov.robustness`, which also has Rosenbaum bounds).
* :class:`InverseProbabilityWeighting` -- normalised (Hajek) IPW.
* :class:`AugmentedIPW` -- doubly robust AIPW with linear outcome regressions fitted
  separately for treated and controls (normalised augmentation terms).

Standard errors
---------------
* Matching with replacement, no survey design: Abadie & Imbens (2006) variance, exactly
  as ``Matching::Match`` (``Var.calc=0``: homoskedastic; ``var_matches=J>0``:
  heteroskedastic with J within-group matches). This treats the propensity score as
  **known**: the Abadie--Imbens (2016) adjustment for the estimated score is *not*
  applied (for the ATT it can go either way; for the ATE it would reduce the SE).
* Matching without replacement: the matched-pair cluster SE, i.e. the SE of the
  treatment coefficient of a weighted regression ``y ~ treat`` on the matched sample with
  CR1 cluster-robust variance by matched set (what MatchIt's vignette recommends,
  ``vcovCL(cluster=~subclass)``).
* ``se="design"`` (any matching, and the default when ``weights``/``psu`` are given):
  the weighted difference in means with the matching weights held fixed, linearised and
  passed to :meth:`remitpov.design.Design.vcov` (PSU clusters, strata). It does not
  include the uncertainty of the matching itself.
* IPW/AIPW: M-estimation sandwich of the stacked estimating equations (propensity-score
  score equations, outcome regressions, the means), so the estimation of the score is
  accounted for; the meat is computed by :meth:`Design.vcov` from the influence values,
  so PSU clustering and strata are honoured. Without a design every row is its own PSU
  (variance ``n/(n-1)`` times the HC0 sandwich).
* ``bootstrap=B`` on IPW/AIPW: nonparametric bootstrap (resampling PSUs within strata
  when a design is given) as an alternative, seeded.

Weights: ``weights`` are sampling (expansion) weights; they enter the propensity model
(weighted likelihood), the means and the matching (a control's contribution is its
weight share inside a treated unit's matched set).
"""

from .treatment_base import ESTIMANDS, MATCHING_SE_LEGACY, MatchingResults, TreatmentEffectResults
from .treatment_matching import PropensityScoreMatching, PropensityScoreSubclassification
from .treatment_score import PropensityScore, PropensityScoreResults, balance_table, check_overlap
from .treatment_weighting import AugmentedIPW, InverseProbabilityWeighting

__all__ = [
    "PropensityScore", "PropensityScoreResults", "PropensityScoreMatching", "InverseProbabilityWeighting",
    "AugmentedIPW", "TreatmentEffectResults", "MatchingResults", "balance_table",
    "PropensityScoreSubclassification",
]

# the estimators live in four modules: treatment_score (propensity score, overlap, balance),
# treatment_base (results, the common model), treatment_matching (matching,
# subclassification), treatment_weighting (IPW, AIPW); this module keeps every public
# import path and the methods' statement. ESTIMANDS and MATCHING_SE_LEGACY are re-exported.
_check_overlap = check_overlap  # the old private name (tests/test_econometrics_treatment.py)
