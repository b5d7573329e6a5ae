"""Poverty measures with design-based standard errors.

FGT (Foster--Greer--Thorbecke) indices, number of poor, Watts, Sen and
Sen--Shorrocks--Thon indices; paired comparisons of two income concepts (with and
without remittances) on the same sample; subgroup decomposition and the static
counterfactual identity; incidence/deficit/severity curves for dominance analysis.

Conventions
-----------
* **Poverty**: strict ``y < z`` by default (Eurostat/laeken and ECLAC practice);
  ``strict=False`` gives ``y <= z``.
* **FGT**: ``P_a = sum_i w_i 1[y_i < z_i] ((z_i - y_i)/z_i)^a / sum_i w_i`` -- a ratio
  mean; its influence values are ``(g_i - P_a)/N`` (``N = sum w`` in the domain).
* **Negative and zero incomes are not censored**: a negative income is poor and its
  normalised gap ``(z - y)/z`` exceeds 1 (so ``P2`` may exceed ``P1`` for such a unit).
  Censor them yourself (e.g. ``np.maximum(y, 0)``) if your methodology requires it. The
  Watts index (``log(z/y)``) is undefined for poor units with ``y <= 0`` and raises.
* **Missing incomes** raise :class:`~remitpov.exceptions.InputError` unless
  ``na_rm=True``; then those rows are outside every domain (zero weight, the design --
  strata and PSUs -- is kept). The same rule is used on the linearised and the replicate
  paths. With several income concepts (``compare``) a row missing in any concept is
  dropped from all of them, so every concept is estimated on the same sample.
* **Domains** (``by=``) are zero weights on the FULL design, never subsets (R survey's
  ``svyby``). Several ``by`` variables give their observed combinations.
  **Empty domains** (no positive weight, e.g. after ``na_rm``) give ``NaN`` estimates
  and SEs and an :class:`EmptyDomainWarning`. A domain inside a single PSU gets its
  (correct, svyby-consistent) SE of zero for ratio indices and a
  :class:`SinglePSUDomainWarning`; a design STRATUM with a single PSU follows the
  design's ``lonely_psu`` policy (error by default).
* **Weights**: person weights by default (``level="person"``: household weight x size
  for household rows), the Social Panorama "percentage of persons" convention.
* **Relative lines** (:class:`RelativeLine`): ``share x`` the weighted median (or
  another quantile, or the mean) of an income over the WHOLE (non-missing) sample --
  a national line also for domains, as laeken's breakdowns and convey's ``svyfgt``.
  Quantile rule: ``"laeken"`` (default) takes ``x_(k)`` with ``k`` the first sorted
  position whose cumulative weight share is strictly greater than ``p`` (laeken 0.5.2
  ``weightedQuantile``); ``"math"`` takes the first position whose share is
  ``>= p`` (R survey ``qrule="math"``; the old name ``"inverse_cdf"`` is deprecated).
  The line's sampling variability enters the SE through its influence function (Osier 2009, as convey's ``svyarpt``/``svyfgt``):
  ``I_q(i) = -(1[v_i <= q] - p) / (N f(q))`` for the quantile, ``(v_i - mean)/N`` for
  the mean, times ``share``; the FGT influence gains ``dP_a/dz x I_z``. For ``a >= 1``
  ``dP_a/dz = sum w a ((z-y)/z)^(a-1) y/z^2 1[y<z] / N``; for ``a = 0`` it is the
  density of ``y`` at ``z``. Densities use a Gaussian kernel with convey's bandwidth
  ``h = sd_w(y) / N^(1/5)`` (weighted population standard deviation and ``N`` the sum
  of weights -- convey's ``h_fun``; the density of ``y`` in a domain uses that
  domain's ``h``). Override with ``RelativeLine(bandwidth=...)``.
  On replicate designs the line is recomputed in every replicate.
"""
from __future__ import annotations

from typing import Any, Mapping

from . import measures
from .core.density import convey_bandwidth, kernel_density
from .core.inputs import is_dask as _is_dask
from .core.quantile import weighted_quantile
from .core.statistic import JOINT_MAX_DOMAINS, EmptyDomainWarning, SinglePSUDomainWarning, legacy_deff
from .core.validate import check_alphas, checked, renamed_arguments
from .exceptions import InputError
from .measures.arpt import arpt
from .measures.fgt_decomposition import StaticIdentity, decompose, static_identity
from .measures.poormed import poor_median
from .measures.poverty_core import poverty_table
from .measures.poverty_curve import poverty_curve
from .measures.relative_line import QUANTILE_RULES, RelativeLine, incomes_of
from .measures.rmpg import rmpg
from .measures.sen import sen, sst
from .measures.watts import watts
from .results import EstimateTable

__all__ = [
    "RelativeLine", "EmptyDomainWarning", "SinglePSUDomainWarning", "fgt", "watts", "sen", "sst", "compare", "decompose",
    "static_identity", "StaticIdentity", "poverty_curve", "weighted_quantile", "kernel_density",
    "convey_bandwidth", "arpt", "poor_median", "rmpg",
]

#: measures :func:`compare` estimates itself (inequality measures go to compare_inequality)
POVERTY_MEASURES = measures.names("poverty", joint=True)


# ====================================================================== public API
@checked
def fgt(survey, income, line, alpha=(0, 1, 2), by=None, *, level: str = "person", strict: bool = True,
        ci_level: float = 0.95, dist: str = "t", na_rm: bool = False, headcount_total: bool = True,
        concept: str | None = None, total: bool | str = False, deff: bool | str = False,
        covmat: bool | None = None) -> EstimateTable:
    """Foster--Greer--Thorbecke poverty indices with design-based standard errors.

    ``P_a = sum w 1[y < z] ((z - y)/z)^a / sum w`` for every ``a`` in ``alpha`` (P0
    headcount ratio, P1 poverty gap, P2 severity), plus the number of poor
    (``headcount_total = sum w 1[y < z]``), overall or by domain, jointly (one vcov).

    Parameters
    ----------
    survey : Survey or Design
        With a Design, ``income``, array lines and ``by`` must be arrays.
    income : str or array
        Income (or consumption) per person, e.g. per-capita or equivalised.
    line : float, str, array, RelativeLine or mapping
        A scalar line; a column/array with one line per unit (e.g. by area); a
        :class:`RelativeLine` (its variability enters the SE); or ``{label: line}``
        for several lines at once.
    alpha : float or sequence of float
        FGT parameters (any ``a >= 0``).
    by : str, array or list of them, optional
        Domains (zero weights on the full design; several variables -> combinations).
    level : {"person", "household"}
        Weight level (person weights by default).
    strict : bool
        ``y < z`` (default) or ``y <= z``.
    ci_level, dist : float, {"t", "normal"}
        Confidence intervals (t with the design degrees of freedom by default).
    na_rm : bool
        Missing incomes: raise (default) or treat as outside every domain.
    headcount_total : bool
        Add the number of poor (``measure="headcount_total"``).
    concept : str, optional
        Label of the income in the ``concept`` column (default: its column name).
    total : bool or str, default False
        With ``by``: also estimate the whole sample, as the FIRST domain, labelled
        ``"all"`` (``total=True``) or ``total`` (a string) in every domain column. The
        total comes from the same pass over the rows as the domains (its PSU totals are
        sums of the PSU x domain totals), so it costs nothing extra, equals a separate
        call without ``by`` (up to floating-point summation order) and shares the joint
        vcov with the domains (contrasts domain minus total work). Ignored without ``by``.
    deff : {False, True, "replace"}, default False
        Add design effects (column ``deff``, linearised designs): the design variance over
        the variance under simple random sampling without (``True``, R's ``deff=TRUE``) or
        with replacement (``"replace"``). A domain's SRS variance uses the domain's own
        units, sample size and population (R's ``svyby(..., deff=TRUE)``); estimates that
        also depend on other units (a relative line estimated on the whole sample) use
        the whole sample's. Off by default, as in R survey: they need the per-domain
        second moments of the influence values (Gram matrices of the basis, ~40 % of the
        time of a with/without table at 10^6 rows).
    covmat : bool, optional
        Joint covariance of the estimates of different domains. ``None`` (default): joint
        up to :data:`JOINT_MAX_DOMAINS` domains; beyond, within-domain covariance blocks
        only (a sparse ``vcov``; time and memory linear in the number of domains, as R's
        ``svyby`` without ``covmat=TRUE``). ``True``: always joint (memory grows as the
        square of the number of estimates). ``False``: blocks whenever possible (not with
        relative lines, replicate weights, a second-stage fpc or ``lonely_psu="average"``,
        which always give the joint covariance). SEs are the same either way.

    Returns
    -------
    EstimateTable
        Keys ``measure`` (``"fgt0"``, ``"fgt1"``, ``"fgt2"``, ``"headcount_total"``),
        ``concept``, ``line`` and the domain column(s); ``to_frame()`` adds estimate,
        se, ci_lower, ci_upper, df and, with ``deff=True``, ``deff`` (linearised designs).
    """
    if _is_dask(survey):  # out of core: the same estimator on a DaskSurvey (remitpov.distributed)
        from . import distributed as _rd
        return _rd.from_memory_call("fgt", fgt, survey, (income, line, alpha, by), dict(
            level=level, strict=strict, ci_level=ci_level, dist=dist, na_rm=na_rm,
            headcount_total=headcount_total, concept=concept, total=total, deff=deff))
    return poverty_table(survey, incomes_of(income, concept), line, check_alphas(alpha), by, level=level, strict=strict,
                          ci_level=ci_level, dist=dist, na_rm=na_rm, headcount_total=headcount_total,
                          title="FGT poverty indices", total=total, deff=deff, covmat=covmat)


@renamed_arguments(label="concept")
@checked
def compare(survey, incomes: Mapping[str, Any] = None, line=None, alpha=None, by=None, *, measure: str = "fgt",
            level: str = "person", strict: bool | None = None, ci_level: float = 0.95, dist: str = "t",
            na_rm: bool = False, headcount_total: bool | None = None, concept: str | None = None,
            total: bool | str = False, deff: bool | str | None = None, covmat: bool | None = None,
            **options) -> EstimateTable:
    """Poverty (or inequality) under two income concepts on the same sample, and their difference.

    Parameters
    ----------
    incomes : mapping ``{label: column or array}``
        Exactly two concepts, e.g. ``{"with": "y_with", "without": "y_without"}``.
        The difference is FIRST minus SECOND (``concept = "with - without"`` unless
        ``concept`` is given).
    line : as in :func:`fgt`
        The same line specification for both concepts. A :class:`RelativeLine` without
        ``income=`` is recomputed on each concept's own distribution; give ``income=``
        to anchor a single line. Not used by inequality measures (giving it raises).
    alpha : float or sequence, default ``(0, 1, 2)``
        FGT parameters (``measure="fgt"`` only).
    measure : {"fgt", "watts"} or an inequality measure
        An inequality measure (``"gini"``, ``"theil"``, ``"mld"``, ``"atkinson"``,
        ``"palma"``, ``"qsr"``, ``"quantile"``, ... see
        :data:`remitpov.inequality.INEQUALITY_MEASURES`) is delegated to
        :func:`remitpov.inequality.compare_inequality` with ``**options`` (e.g.
        ``epsilon=`` or ``probs=``); poverty-only arguments (``line``, ``alpha``,
        ``strict``, ``headcount_total``) then raise :class:`InputError`.
    strict : bool, default True
        ``y < z`` (poverty measures only).
    headcount_total : bool, default False
        Add the number of poor (``measure="fgt"`` only).
    concept : str, optional
        Concept label of the difference (default ``"first - second"``; the old keyword
        ``label=`` still works for one release, with a :class:`FutureWarning`).
    total : bool or str, default False
        With ``by``: also the whole sample (first domain, labelled ``"all"`` or the given
        string), from the same pass over the rows, in the same joint vcov -- the
        with/without table for the total and the domains in one call (see :func:`fgt`).
        Poverty measures only.
    deff : {None, False, True, "replace"}
        Design effects (see :func:`fgt`). Poverty measures: None means False. Inequality
        measures: passed to :func:`remitpov.inequality.compare_inequality`, where None (not
        given) computes them with a FutureWarning that the default becomes False, as
        :func:`remitpov.gini`.
    covmat : bool, optional
        Joint covariance across domains (see :func:`fgt`); poverty measures only.
    **options
        Options of an inequality measure (none for poverty measures).

    Returns
    -------
    EstimateTable
        Rows for both concepts and the difference; the difference's SE comes from the
        joint vcov (difference of influence values on the same sample, or the
        difference of replicate estimates). Rows missing in either concept are
        treated alike (``na_rm``).
    """
    meas = measures.get(measure)  # the one registry: an unknown name lists the valid ones
    if deff is None and meas.family != "inequality":
        deff = False
    if _is_dask(survey):  # out of core: the same estimator on a DaskSurvey (remitpov.distributed)
        from . import distributed as _rd
        alpha = (0, 1, 2) if alpha is None else alpha  # the in-memory defaults, stated
        strict = True if strict is None else strict
        headcount_total = False if headcount_total is None else headcount_total
        return _rd.from_memory_call("compare", compare, survey, (incomes, line, alpha, by), dict(
            measure=measure, level=level, strict=strict, ci_level=ci_level, dist=dist, na_rm=na_rm,
            headcount_total=headcount_total, label=concept, total=total, deff=deff))
    if incomes is None or len(incomes) != 2:
        raise InputError("compare needs exactly two income concepts, e.g. {'with': 'y', 'without': 'y_norem'}")
    from .inequality import compare_inequality

    if meas.family == "inequality":
        given = [n for n, v in (("line", line), ("alpha", alpha), ("strict", strict),
                                ("headcount_total", headcount_total)) if v is not None]
        if total is not False:
            given.append("total")
        if covmat is not None:
            given.append("covmat")
        if given:
            raise InputError(f"compare(measure={measure!r}): {', '.join(given)} only apply to poverty measures "
                             "('fgt', 'watts'); remove them (inequality measures need no line)")
        return compare_inequality(survey, incomes, meas.name, by, level=level, na_rm=na_rm, ci_level=ci_level,
                                  dist=dist, concept=concept, deff=legacy_deff(deff, "compare"), **options)
    if not (meas.joint and meas.family == "poverty"):
        raise InputError(f"compare(measure={measure!r}): this measure has its own function, rp.{meas.function}(); "
                         f"compare estimates {', '.join(map(repr, measures.names(joint=True, aliases=True)))} "
                         "for two income concepts jointly")
    if options:
        raise InputError(f"compare(measure={measure!r}) got unknown argument(s) {sorted(options)}")
    if line is None:
        raise InputError(f"compare(measure={measure!r}) needs a poverty line (line=...)")
    alpha = (0, 1, 2) if alpha is None else alpha
    strict = True if strict is None else strict
    headcount_total = False if headcount_total is None else headcount_total
    names = list(incomes)
    lab = concept or f"{names[0]} - {names[1]}"
    if measure == "fgt":
        al = check_alphas(alpha)
    else:  # "watts"
        al, headcount_total = ("watts",), False
    return poverty_table(survey, dict(incomes), line, al, by, level=level, strict=strict, ci_level=ci_level,
                          dist=dist, na_rm=na_rm, headcount_total=headcount_total, contrast=lab,
                          title=f"Poverty: {names[0]} vs {names[1]}",
                          extra_notes=(f"difference = {names[0]} minus {names[1]} (same sample, joint vcov)",),
                          total=total, deff=deff, covmat=covmat)


