"""Survey incomes brought to macro totals: calibrated remittances and ECLAC's adjustment.

Calibrated remittances (:func:`calibrate_remittances`)
    The survey's expanded annual remittances :math:`a\\hat T / e` (see
    :mod:`remitpov.coverage`) fall short of the balance-of-payments total :math:`M`. The
    remittances of the households that report them are multiplied by
    :math:`k = M e / (a \\hat T)` (``method="proportional"``), which keeps each recipient's
    share of the total, leaves non-recipients unchanged and makes the expanded total equal
    to :math:`M`. With ``method="impute"``, part of the gap is first given to
    non-reporting households: in each state, ``extra_recipients`` x (recipients) additional
    households are drawn among non-recipients with probability proportional to their weight
    (seeded), each receiving the remittance of a reporting recipient of the same state drawn
    at random (a random hot-deck within states; Andridge & Little 2010, *International
    Statistical Review* 78(1), 40-64); then all remittances are scaled proportionally to
    :math:`M`. The imputed households are flagged (``remit_imputed``).

    When the survey total already exceeds :math:`M` (coverage > 1) nothing is scaled down
    unless ``scale_down=True``; a :class:`~remitpov.exceptions.DataWarning` is raised
    either way. The scaling factor is computed from the point estimate and then treated as
    fixed: standard errors of poverty with calibrated remittances are conditional on it.

Impact range (:func:`remittance_impact_range`)
    Poverty without remittances, with the survey's remittances and with calibrated
    remittances, and the two with-minus-without differences, from
    :func:`remitpov.build_income` and :func:`remitpov.compare` (design-based SEs): the
    poverty impact of remittances as a range between the survey and the macro picture.

Adjustment to national accounts (:func:`adjust_to_national_accounts`)
    ECLAC's *Social Panorama of Latin America* of the 1990s-2000s adjusted survey incomes
    to national accounts before measuring poverty (Altimir 1987, "Income distribution
    statistics in Latin America and their reliability", *Review of Income and Wealth*
    33(2), 111-155; ECLAC, *Social Panorama of Latin America*, methodological annexes of
    the 2000s editions): for each income source, the factor (national-accounts total /
    survey total) multiplies every household's income from that source proportionally;
    the gap in property income was assigned to the top quintile of the income
    distribution only. The user supplies the factors. ECLAC stopped this adjustment in
    later editions: its 2018 revision of the poverty methodology (ECLAC, *Medición de la
    pobreza por ingresos: actualización metodológica y resultados*, Metodologías de la
    CEPAL No. 2, 2018) measures poverty on unadjusted survey incomes.
"""
from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .coverage import remittance_coverage
from .exceptions import DataWarning, InputError
from .income import build_income
from .poverty import compare
from .survey import Survey

__all__ = ["calibrate_remittances", "remittance_impact_range", "adjust_to_national_accounts", "ImpactRange",
           "adjustment_poverty"]


def _col(survey: Survey, name: str | None, role: str) -> str:
    c = name or survey.roles.get(role)
    if c is None:
        raise InputError(f"no {role} column: pass {role}=<column> or set the survey's {role!r} role")
    if c not in survey.data.columns:
        raise InputError(survey.missing_column_message(c, f"{role} column"))
    return c


def _weighted_draw(rng, w: np.ndarray, k: int) -> np.ndarray:
    """k indices without replacement, probability proportional to w (Efraimidis-Spirakis keys)."""
    if k <= 0:
        return np.empty(0, dtype=np.int64)
    keys = rng.random(w.size) ** (1.0 / w)
    return np.argpartition(-keys, k - 1)[:k]


def calibrate_remittances(survey: Survey, macro_usd, exchange_rate=None, *, year: int | None = None,
                          income: str | None = None, remittances: str | None = None, annualise: float | None = None,
                          method: str = "proportional", extra_recipients: float = 0.0, state: str | None = None,
                          seed: int | None = 0, scale_down: bool = False, suffix: str = "_cal") -> Survey:
    """Scale survey remittances to the balance-of-payments total.

    Parameters
    ----------
    survey : Survey
        Household rows with income and remittances (roles ``income``, ``remittances``).
    macro_usd, exchange_rate, year, annualise
        As :func:`remitpov.coverage.remittance_coverage` (``macro_usd`` may be the Banxico
        folder).
    income, remittances : str, optional
        Columns (default the roles).
    method : {"proportional", "impute"}
        See the module docstring.
    extra_recipients : float
        ``method="impute"``: additional recipients per reporting recipient in each state
        (e.g. 0.25 adds a quarter more). Must be >= 0.
    state : str, optional
        Hot-deck cells (default the ``region`` role; one cell if absent).
    seed : int, optional
        Random draws of the imputation.
    scale_down : bool
        With coverage above 1, scale remittances down (default: leave them, warn).
    suffix : str
        New columns ``<remittances><suffix>``, ``<income><suffix>`` (income with the
        calibrated remittances instead of the survey's), plus ``remit_imputed``.

    Returns
    -------
    Survey
        The survey with the new columns, roles unchanged, and a load-report entry giving
        the factor, the coverage, the method and the number of imputed households.
    """
    if method not in ("proportional", "impute"):
        raise InputError(f"method must be 'proportional' or 'impute', got {method!r}")
    try:
        extra = float(extra_recipients)
    except (TypeError, ValueError):
        raise InputError(f"extra_recipients must be a number >= 0, got {extra_recipients!r}") from None
    if not np.isfinite(extra) or extra < 0:
        raise InputError(f"extra_recipients must be a number >= 0, got {extra_recipients!r}")
    if method == "impute" and extra == 0:
        raise InputError("method='impute' needs extra_recipients > 0 (additional recipients per reporting one)")
    inc_c, rem_c = _col(survey, income, "income"), _col(survey, remittances, "remittances")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        cov = remittance_coverage(survey, macro_usd, exchange_rate, year=year, remittances=rem_c, annualise=annualise)
    nat = cov.national
    rem = survey.numeric(rem_c).astype(float)
    inc = survey.numeric(inc_c).astype(float)
    w = survey.numeric(survey.weight).astype(float)
    if np.any(rem < 0) or np.any(~np.isfinite(rem)):
        raise InputError(f"remittances column {rem_c!r} has negative or missing values: calibrate non-negative amounts")
    imputed = np.zeros(survey.n, dtype=bool)
    new = rem.copy()
    if method == "impute":
        st = state or survey.roles.get("region")
        cells = np.asarray(survey.column(st)) if st else np.zeros(survey.n)
        rng = np.random.default_rng(seed)
        for cell in pd.unique(cells):  # loop over states (<= 32 cells), not rows
            idx = np.flatnonzero(cells == cell)
            rec = idx[rem[idx] > 0]
            non = idx[rem[idx] <= 0]
            k = min(int(round(extra * rec.size)), non.size)
            if rec.size == 0 or k == 0:
                continue
            pick = non[_weighted_draw(rng, w[non], k)]
            new[pick] = rem[rng.choice(rec, k, replace=True)]
            imputed[pick] = True
    target_lcu = nat.macro_usd * cov.rate / cov.annualise  # in the survey's period
    current = float(np.sum(w * new))
    if current <= 0:
        raise InputError(f"no remittances in {rem_c!r}: nothing to calibrate")
    k = target_lcu / current
    msg_cov = f"coverage {nat.coverage:.4f} (survey {nat.survey_usd:,.0f} USD / BoP {nat.macro_usd:,.0f} USD)"
    if k < 1:
        msg = (f"calibrate_remittances: the survey's remittances{' (after imputation)' if method == 'impute' else ''} "
               f"exceed the macro total ({msg_cov}); " + ("scaled DOWN by {:.4f} (scale_down=True)".format(k)
                                                          if scale_down else "left unscaled (pass scale_down=True to scale down)"))
        warnings.warn(msg, DataWarning, stacklevel=2)
        if not scale_down:
            k = 1.0
    new = new * k
    data = survey.data.copy()
    rc, ic = f"{rem_c}{suffix}", f"{inc_c}{suffix}"
    data[rc] = new
    data[ic] = inc - rem + new
    data["remit_imputed"] = imputed
    out = survey.replace(data=data)
    return out.with_report("calibrated", f"remittances scaled to the balance of payments ({cov.year}): {msg_cov}; "
                                         f"method={method!r}"
                           + (f", {int(imputed.sum())} non-reporting households given a hot-deck donor's remittance "
                              f"within {state or survey.roles.get('region') or 'one cell'} (extra_recipients={extra:g}, "
                              f"seed={seed})" if method == "impute" else "")
                           + f"; factor {k:.4f} on every (reporting{' or imputed' if method == 'impute' else ''}) "
                             f"recipient -> columns {rc!r}, {ic!r}", rc, int(np.sum(new > 0)))


@dataclass(frozen=True)
class ImpactRange:
    """Poverty without / with survey / with calibrated remittances (see :func:`remittance_impact_range`).

    ``table``: tidy rows (``measure``, ``concept``, ``estimate``, ``se``, ``ci_lower``,
    ``ci_upper``, ``df``) for concepts ``without``, ``with (survey)``, ``with (calibrated)``
    and the differences ``with (survey) - without`` and ``with (calibrated) - without``;
    ``survey``: the survey with both income concepts; ``notes``.
    """

    table: pd.DataFrame
    survey: Survey
    notes: tuple[str, ...]

    def to_frame(self) -> pd.DataFrame:
        return self.table.copy()

    def impact(self) -> pd.DataFrame:
        """The range: per measure, the reduction in poverty with survey and with calibrated remittances."""
        d = self.table[self.table.concept.str.endswith("- without")]
        std = {"measure", "concept", "line", "estimate", "se", "ci_lower", "ci_upper", "df"}
        # domains (``by``) stay apart; the single "all" domain of a whole-sample table is dropped
        index = ["measure"] + [c for c in d.columns if c not in std and d[c].nunique() > 1]
        return d.pivot_table(index=index, columns="concept", values="estimate", sort=False)


def remittance_impact_range(survey: Survey, line, macro_usd, exchange_rate=None, *, alpha=(0, 1, 2),
                            method: str = "proportional", extra_recipients: float = 0.0, seed: int | None = 0,
                            year: int | None = None, scale="per_capita", period: str = "month", by=None,
                            ci_level: float = 0.95, **build_kwargs) -> ImpactRange:
    """Poverty with / without / with calibrated remittances, with design-based SEs.

    ``line`` is as :func:`remitpov.fgt` (per person per ``period`` after
    :func:`remitpov.build_income` with ``scale``); ``macro_usd``, ``exchange_rate``,
    ``method``, ``extra_recipients``, ``seed``, ``year`` as :func:`calibrate_remittances`.
    SEs of the calibrated concept are conditional on the calibration factor.
    """
    cal = calibrate_remittances(survey, macro_usd, exchange_rate, year=year, method=method,
                                extra_recipients=extra_recipients, seed=seed)
    inc_c, rem_c = survey.roles["income"], survey.roles["remittances"]
    b = build_income(cal, scale=scale, period=period, **build_kwargs)
    bc = build_income(cal, income=f"{inc_c}_cal", remittances=f"{rem_c}_cal", scale=scale, period=period,
                      **build_kwargs)
    b = b.with_columns(y_with_cal=bc.data["y_with"].to_numpy())
    kw = dict(alpha=alpha, by=by, ci_level=ci_level, total=by is not None)
    t1 = compare(b, {"with (survey)": "y_with", "without": "y_without"}, line, **kw).to_frame()
    t2 = compare(b, {"with (calibrated)": "y_with_cal", "without": "y_without"}, line, **kw).to_frame()
    t2 = t2[t2.concept != "without"]
    tab = pd.concat([t1, t2], ignore_index=True)
    order = {"without": 0, "with (survey)": 1, "with (calibrated)": 2, "with (survey) - without": 3,
             "with (calibrated) - without": 4}
    tab = tab.sort_values(["measure", "concept"], key=lambda s: s.map(order) if s.name == "concept" else s,
                          kind="stable").reset_index(drop=True)
    notes = (cal.report.find("calibrated")[-1].message,
             "SEs with calibrated remittances are conditional on the calibration factor (treated as fixed)")
    return ImpactRange(tab, b, notes)


def adjust_to_national_accounts(survey: Survey, factors: Mapping[str, float], *, income: str | None = None,
                                property_to_top_quintile: bool = False, property_source: str = "property",
                                suffix: str = "_adj") -> Survey:
    """ECLAC's adjustment of survey incomes to national accounts by income source.

    Parameters
    ----------
    survey : Survey
        Household rows; ``survey.sources`` maps source names to columns (e.g. from
        :func:`remitpov.read_enigh_tables`: labour, business, property, transfers, ...).
    factors : mapping ``{source: factor}``
        National-accounts total / survey total of each source (> 0, finite), e.g.
        ``{"labour": 1.1, "property": 3.5}``. Sources not listed are not adjusted. Sources
        must not overlap (e.g. not both ``transfers`` and ``remittances``).
    income : str, optional
        Household income column (default the ``income`` role); must include the sources.
    property_to_top_quintile : bool
        Assign the property-income gap (factor - 1) x expanded property income to the
        households of the top quintile of per capita ``income`` (person weights)
        proportionally to their income, instead of scaling each household's property
        income (ECLAC's treatment).
    property_source : str
        Name of the property-income source.
    suffix : str
        New columns ``<source column><suffix>`` and ``<income><suffix>``.

    Returns
    -------
    Survey
        With the adjusted columns, the ``income`` role unchanged, and a report entry per
        source (factor, survey total before and after).
    """
    if not isinstance(factors, Mapping) or not factors:
        raise InputError("factors must be a non-empty mapping {source: national accounts / survey total}")
    unknown = [s for s in factors if s not in survey.sources]
    if unknown:
        raise InputError(f"unknown income source(s) {unknown}: the survey's sources are {list(survey.sources)}")
    for s, f in factors.items():
        if isinstance(f, bool) or not isinstance(f, (int, float, np.integer, np.floating)) or not np.isfinite(f) or f <= 0:
            raise InputError(f"adjustment factor of {s!r} must be a finite number > 0, got {f!r}")
    overlap = {"transfers"} & set(factors)
    sub = [s for s in factors if s in ("remittances", "pensions_abroad", "pensions", "government",
                                        "between_households", "institutions")]
    if overlap and sub:
        raise InputError(f"factors for 'transfers' and its parts {sub} would adjust the same income twice")
    inc_c = _col(survey, income, "income")
    if property_to_top_quintile and property_source not in factors:
        raise InputError(f"property_to_top_quintile=True needs a factor for {property_source!r}")
    data = survey.data.copy()
    w = survey.numeric(survey.weight).astype(float)
    inc = survey.numeric(inc_c).astype(float)
    delta = np.zeros(survey.n)
    lines = []
    for s, f in factors.items():
        col = survey.sources[s]
        x = survey.numeric(col).astype(float)
        before = float(np.sum(w * x))
        if s == property_source and property_to_top_quintile:
            size = survey.household_size
            pc = inc / size
            pw = w * size
            o = np.argsort(pc, kind="stable")
            cum = np.cumsum(pw[o]) / pw.sum()
            top = np.zeros(survey.n, dtype=bool)
            top[o[cum > 0.8]] = True
            base = np.where(top, np.maximum(inc, 0), 0.0)
            if np.sum(w * base) <= 0:
                raise InputError("the top quintile has no positive income to carry the property-income gap")
            gap = (f - 1.0) * before
            add = gap * base / np.sum(w * base)
            new = x + add
            lines.append(f"{s}: gap (factor {f:g} - 1) x {before:,.0f} = {gap:,.0f} assigned to the top quintile of per "
                         f"capita {inc_c} ({int(top.sum())} households) in proportion to their income")
        else:
            new = x * f
            lines.append(f"{s}: x {f:g} ({before:,.0f} -> {float(np.sum(w * new)):,.0f} expanded)")
        data[f"{col}{suffix}"] = new
        delta += new - x
    data[f"{inc_c}{suffix}"] = inc + delta
    out = survey.replace(data=data)
    return out.with_report("adjusted", "income adjusted to national accounts by source (ECLAC's method of the 2000s; "
                                       "ECLAC stopped it in later editions): " + "; ".join(lines)
                           + f" -> {inc_c}{suffix}", f"{inc_c}{suffix}", survey.n)


def adjustment_poverty(survey: Survey, factors: Mapping[str, float], line, *, alpha=(0, 1, 2),
                       property_to_top_quintile: bool = False, scale="per_capita", period: str = "month", by=None,
                       ci_level: float = 0.95, **build_kwargs):
    """Poverty after minus before ECLAC's adjustment to national accounts (:func:`adjust_to_national_accounts`).

    Returns the :class:`~remitpov.results.EstimateTable` of :func:`remitpov.compare` with
    concepts ``"adjusted"`` and ``"survey"`` (income per person per ``period`` with
    ``scale``) and their difference, design-based SEs (conditional on the factors).
    """
    adj = adjust_to_national_accounts(survey, factors, property_to_top_quintile=property_to_top_quintile)
    inc_c = survey.roles["income"]
    b = build_income(adj, scale=scale, period=period, **build_kwargs)
    ba = build_income(adj, income=f"{inc_c}_adj", scale=scale, period=period, **build_kwargs)
    b = b.with_columns(y_with_adj=ba.data["y_with"].to_numpy())
    return compare(b, {"adjusted": "y_with_adj", "survey": "y_with"}, line, alpha=alpha, by=by, ci_level=ci_level,
                   total=by is not None)
