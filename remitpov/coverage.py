"""Survey remittances against the balance of payments: coverage with its uncertainty.

Household surveys capture a fraction of the remittances a country receives. The coverage
ratio compares the survey's expanded annual remittances, converted to US dollars, with
the balance-of-payments (BoP) total of the same year:

.. math::

    C = \\frac{a\\,\\hat T}{e\\,M}, \\qquad \\hat T = \\sum_i w_i r_i ,

where :math:`\\hat T` is the design-based (Horvitz-Thompson) total of household
remittances in the survey's own period, :math:`a` the annualisation factor, :math:`e` the
exchange rate (local currency per US dollar) and :math:`M` the BoP total in US dollars.

Annualisation (ENIGH)
    ENIGH's ``ing_tri`` (and ``remesas`` of ``concentradohogar``) is the household's
    amount per QUARTER: INEGI asks the six months before the interview and expresses the
    last three months' amounts at the survey's reference month. The survey's annual total
    is taken as 4 x the quarterly total (``annualise=4``), i.e. the reference quarter is
    assumed representative of the year; seasonality and the deflation to the reference
    month are not undone. This is how CEMLA's study of ENIGH 2022 remittances reads the
    survey (about 4.93 billion USD at the 2022 average rate, see ``examples/targets.toml``).

Exchange rates
    The user passes ``exchange_rate`` (local currency per USD). For Mexico, a small table of
    annual averages is carried (:data:`MXN_PER_USD`): Banco de México's FIX rate, annual
    average of daily values (SIE series SF43718), rounded to 0.01 peso -- pass the exact
    rate when the second decimal matters.

Uncertainty
    :math:`\\hat T` has the design-based SE of :func:`remitpov.total`. The BoP total is
    treated as known unless ``macro_se`` is given; the delta method for the ratio of two
    independent estimates gives
    :math:`\\mathrm{SE}(C) = C\\sqrt{(\\mathrm{SE}(\\hat T)/\\hat T)^2 + (\\mathrm{SE}(M)/M)^2}`
    (exact, :math:`a\\,\\mathrm{SE}(\\hat T)/(eM)`, when ``macro_se=0``). Confidence
    intervals use the t distribution with the design degrees of freedom.

Coverage above 1 (survey total above the BoP total) is warned about
(:class:`~remitpov.exceptions.DataWarning`), never silently corrected.
"""
from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from .estimation import total
from .exceptions import DataWarning, InputError
from .survey import Survey

__all__ = ["remittance_coverage", "Coverage", "MXN_PER_USD", "MX_STATES", "exchange_rate", "plot_coverage"]

#: Mexican pesos per US dollar, annual average of Banco de México's daily FIX rate (SIE series
#: SF43718), rounded to 0.01 peso.
MXN_PER_USD = {2016: 18.69, 2018: 19.24, 2019: 19.26, 2020: 21.49, 2021: 20.28, 2022: 20.13, 2023: 17.76}
#: INEGI's state codes (``ubica_geo``'s first two digits, Banxico's ``CVE_ENT``) -> short names.
MX_STATES = {1: "Aguascalientes", 2: "Baja California", 3: "Baja California Sur", 4: "Campeche", 5: "Coahuila",
             6: "Colima", 7: "Chiapas", 8: "Chihuahua", 9: "Ciudad de México", 10: "Durango", 11: "Guanajuato",
             12: "Guerrero", 13: "Hidalgo", 14: "Jalisco", 15: "México", 16: "Michoacán", 17: "Morelos",
             18: "Nayarit", 19: "Nuevo León", 20: "Oaxaca", 21: "Puebla", 22: "Querétaro", 23: "Quintana Roo",
             24: "San Luis Potosí", 25: "Sinaloa", 26: "Sonora", 27: "Tabasco", 28: "Tamaulipas", 29: "Tlaxcala",
             30: "Veracruz", 31: "Yucatán", 32: "Zacatecas"}
MXN_PER_USD_SOURCE = ("Banco de México, FIX exchange rate (SIE series SF43718), annual average of daily values, "
                      "rounded to 0.01 peso")


def exchange_rate(rate=None, year: int | None = None) -> tuple[float, str]:
    """Validate ``rate`` (local currency per USD) or look up the year's MXN/USD average.

    Returns ``(rate, source)``. :class:`InputError` for a rate that is zero, negative,
    missing or not a number, or for a year outside :data:`MXN_PER_USD` when no rate is given.
    """
    if rate is None:
        if year is None or int(year) not in MXN_PER_USD:
            raise InputError(f"no exchange rate: pass exchange_rate=<local currency per US dollar> (the package's "
                             f"MXN/USD table covers {sorted(MXN_PER_USD)}; year={year})")
        return MXN_PER_USD[int(year)], f"{MXN_PER_USD_SOURCE}: {MXN_PER_USD[int(year)]} MXN per USD in {year}"
    try:
        r = float(rate)
    except (TypeError, ValueError):
        raise InputError(f"exchange_rate must be a number (local currency per US dollar), got {rate!r}") from None
    if not np.isfinite(r) or r <= 0:
        raise InputError(f"exchange_rate must be finite and > 0 (local currency per US dollar), got {rate!r}")
    return r, f"exchange rate given by the user: {r:g} per USD"


def _positive(x, what: str) -> float:
    try:
        v = float(x)
    except (TypeError, ValueError):
        raise InputError(f"{what} must be a number, got {x!r}") from None
    if not np.isfinite(v) or v <= 0:
        raise InputError(f"{what} must be finite and > 0, got {x!r}")
    return v


@dataclass(frozen=True)
class Coverage:
    """Coverage of survey remittances against the balance of payments.

    Attributes
    ----------
    table : DataFrame
        One row per domain (``"national"`` first, then states): ``survey_lcu`` (annual,
        local currency) and its ``survey_lcu_se``, ``survey_usd``, ``survey_usd_se``,
        ``macro_usd``, ``coverage``, ``coverage_se``, ``ci_lower``, ``ci_upper``, ``df``,
        ``recipients`` (sample households with remittances > 0).
    year, rate, annualise, ci_level : as used.
    country : str or None
        The survey's ``metadata.country`` (``"MEX"``: states are named in figures).
    notes : tuple of str
        Annualisation, exchange rate and its source, macro source, warnings.
    """

    table: pd.DataFrame
    year: int | None
    rate: float
    annualise: float
    ci_level: float
    notes: tuple[str, ...] = field(default_factory=tuple)
    country: str | None = None

    def to_frame(self) -> pd.DataFrame:
        return self.table.copy()

    @property
    def national(self) -> pd.Series:
        return self.table.iloc[0]

    def summary(self) -> str:
        t = self.table
        lines = [f"Remittance coverage, {self.year}: survey (x{self.annualise:g}, {self.rate:g} per USD) / balance of "
                 f"payments; {100 * self.ci_level:g} % CI"]
        for _, r in t.iterrows():
            lines.append(f"  {str(r['domain']):>10}: survey {r.survey_usd / 1e6:12,.1f} M USD (SE {r.survey_usd_se / 1e6:,.1f})"
                         f"  BoP {r.macro_usd / 1e6:12,.1f} M  coverage {r.coverage:.3f} [{r.ci_lower:.3f}, {r.ci_upper:.3f}]")
        return "\n".join(lines + [f"  note: {n}" for n in self.notes])

    def __str__(self) -> str:
        return self.summary()


def _macro(macro, year, by_state):
    if isinstance(macro, (str, Path)):
        from .io.banxico import annual_remittances
        if year is None:
            raise InputError("the survey has no year (metadata.year): pass year= to read the Banxico total")
        return annual_remittances(macro, year, by_state=by_state), f"Banco de México balance of payments, {year} ({macro})"
    return macro, "macro total given by the user"


def remittance_coverage(survey: Survey, macro_usd, exchange_rate=None, *, year: int | None = None,
                        remittances: str | None = None, annualise: float | None = None, macro_se: float = 0.0,
                        by_state: bool = False, macro_by_state_usd=None, state: str | None = None,
                        ci_level: float = 0.95, warn: bool = True) -> Coverage:
    """Survey-expanded annual remittances against the balance-of-payments total, with CIs.

    Parameters
    ----------
    survey : Survey
        Household rows with a household remittance column (role ``remittances``) in the
        survey's income period (``metadata.income_period``).
    macro_usd : float or str or Path
        BoP remittance inflows of the year in US dollars, or the Banxico data folder (the
        year's national total is read with :func:`remitpov.io.banxico.annual_remittances`;
        with ``by_state=True`` the state totals too, unless ``macro_by_state_usd`` is given).
    exchange_rate : float, optional
        Local currency per US dollar; default the year's average from :data:`MXN_PER_USD`
        (Mexican surveys only). Zero, negative or missing rates are refused.
    year : int, optional
        Default ``survey.metadata.year``.
    remittances : str, optional
        Column (default the survey's ``remittances`` role).
    annualise : float, optional
        Factor to an annual amount; default from ``metadata.income_period`` (quarter 4,
        month 12, year 1). See the module docstring for ENIGH's quarter.
    macro_se : float
        Standard error of the BoP total (default 0: treated as known).
    by_state : bool
        Add one row per state (domain estimates on the full design).
    macro_by_state_usd : Series or mapping, optional
        BoP totals by state code (the values of ``state``); required with ``by_state``
        unless ``macro_usd`` is the Banxico folder.
    state : str, optional
        State column (default the survey's ``region`` role).
    ci_level : float
    warn : bool
        Warn (:class:`DataWarning`) when a coverage ratio exceeds 1.

    Returns
    -------
    Coverage
    """
    year = survey.metadata.year if year is None else int(year)
    rate, rate_src = globals()["exchange_rate"](exchange_rate, year)
    if annualise is None:
        per = survey.metadata.income_period
        if per not in ("quarter", "month", "year"):
            raise InputError(f"the survey's income period is {per!r}: pass annualise= (4 for quarterly amounts)")
        annualise = {"quarter": 4.0, "month": 12.0, "year": 1.0}[per]
    annualise = _positive(annualise, "annualise")
    if not (0 < ci_level < 1):
        raise InputError(f"ci_level must be in (0, 1), got {ci_level!r}")
    macro_se = float(macro_se)
    if not np.isfinite(macro_se) or macro_se < 0:
        raise InputError(f"macro_se must be finite and >= 0, got {macro_se!r}")
    rem = remittances or survey.roles.get("remittances")
    if rem is None:
        raise InputError("no remittances column: pass remittances=<column> or set the survey's 'remittances' role")
    macro, macro_src = _macro(macro_usd, year, False)
    macro = _positive(macro, "macro_usd (balance-of-payments remittances, US dollars)")
    notes = [f"survey annual total = {annualise:g} x the survey's {survey.metadata.income_period or ''} total "
             "(design-based, household weights)", rate_src, macro_src]
    nat = total(survey, rem, level="household", ci_level=ci_level).to_frame().iloc[0]
    rows = [("national", nat.estimate, nat.se, nat.df, macro, macro_se)]
    col = survey.column(rem)
    recip = [int(np.sum(np.asarray(col, dtype=float) > 0))]
    if by_state:
        st = state or survey.roles.get("region")
        if st is None:
            raise InputError("by_state=True needs the state column: pass state=<column> or set the 'region' role")
        if macro_by_state_usd is None:
            if not isinstance(macro_usd, (str, Path)):
                raise InputError("by_state=True needs macro_by_state_usd (BoP totals by state code) or macro_usd as "
                                 "the Banxico folder")
            macro_by_state_usd = _macro(macro_usd, year, True)[0]
        ms = pd.Series(macro_by_state_usd) if isinstance(macro_by_state_usd, Mapping) else pd.Series(macro_by_state_usd)
        tab = total(survey, rem, by=st, level="household", ci_level=ci_level).to_frame()
        codes = tab[st].to_numpy()
        missing = [c for c in codes if c not in ms.index]
        if missing:
            raise InputError(f"macro_by_state_usd has no total for state(s) {missing[:5]} of the survey's {st!r}")
        sv = np.asarray(survey.column(st))
        for _, r in tab.iterrows():
            m = _positive(ms.loc[r[st]], f"macro_by_state_usd[{r[st]!r}]")
            rows.append((r[st], r.estimate, r.se, r.df, m, 0.0))
            recip.append(int(np.sum((sv == r[st]) & (np.asarray(col, dtype=float) > 0))))
    t = pd.DataFrame(rows, columns=["domain", "T", "T_se", "df", "macro_usd", "macro_se"])
    t["survey_lcu"] = annualise * t["T"]
    t["survey_lcu_se"] = annualise * t["T_se"]
    t["survey_usd"] = t["survey_lcu"] / rate
    t["survey_usd_se"] = t["survey_lcu_se"] / rate
    t["coverage"] = t["survey_usd"] / t["macro_usd"]
    rel = np.sqrt((t["T_se"] / t["T"]) ** 2 + (t["macro_se"] / t["macro_usd"]) ** 2)
    t["coverage_se"] = np.where(t["macro_se"] > 0, t["coverage"] * rel, t["survey_usd_se"] / t["macro_usd"])
    q = stats.t.ppf(0.5 + ci_level / 2, t["df"])
    t["ci_lower"] = t["coverage"] - q * t["coverage_se"]
    t["ci_upper"] = t["coverage"] + q * t["coverage_se"]
    t["recipients"] = recip
    over = t["coverage"] > 1
    if over.any():
        msg = (f"coverage above 1 (survey remittances exceed the balance-of-payments total) in "
               f"{t.loc[over, 'domain'].astype(str).tolist()[:8]}: check units, period, exchange rate and the macro "
               "total; nothing is scaled down")
        notes.append(msg)
        if warn:
            warnings.warn(msg, DataWarning, stacklevel=2)
    cols = ["domain", "survey_lcu", "survey_lcu_se", "survey_usd", "survey_usd_se", "macro_usd", "coverage",
            "coverage_se", "ci_lower", "ci_upper", "df", "recipients"]
    return Coverage(t[cols], year, rate, annualise, ci_level, tuple(notes), survey.metadata.country)


def by_state_size(fr: pd.DataFrame) -> tuple[float, float]:
    """Figure size (inches) of :func:`draw_by_state` for the rows ``fr`` (the chapter figure's)."""
    from .report.figures import coverage_by_state_size

    return coverage_by_state_size(fr)


def draw_by_state(ax, fr: pd.DataFrame, language: str, names=None) -> None:
    """Draw coverage by state in percent on ``ax``: bars = the estimate, whiskers = its symmetric
    t-based CI (``ci_lower``, ``ci_upper``, design df), cut at 0 where the interval reaches below
    it (marked "<"); national estimate as a line with its CI band. The chapter's figure and
    :func:`plot_coverage` both draw with :func:`remitpov.report.figures.draw_coverage_by_state`.

    ``fr``: a :class:`Coverage` table (``coverage``, ``ci_lower``, ``ci_upper``
    as fractions; a ``"national"`` row and state rows) with columns ``country``, ``year`` and
    ``ci_level``; ``names``: state code -> label (default: Mexico's states for ``country`` "MEX").
    """
    from .report.figures import draw_coverage_by_state

    if names is None:
        names = MX_STATES if fr["country"].iloc[0] == "MEX" else {}
    draw_coverage_by_state(ax, fr, language=language, names=names)


def plot_coverage(cov: Coverage, ax=None, *, names: Mapping | None = None, lang: str = "en"):
    """Horizontal bar chart of the coverage by state in PERCENT with its CIs (national as a
    line with its CI band): the chapter's ``coverage_by_state`` figure
    (:func:`draw_by_state`), so both show the same numbers as the
    chapter's ``coverage`` table (percent, symmetric t-based CIs cut at 0).

    ``names`` maps domain codes to labels (default :data:`MX_STATES` for Mexican surveys);
    ``lang``: "en" or "es". Returns the matplotlib Figure (a new one unless ``ax`` is given).

    .. versionchanged:: unreleased
       The x axis is in percent (100 x survey / balance of payments), as the chapter's figure;
       before, this function plotted the fraction.
    """
    import matplotlib.pyplot as plt

    from .report import figures as F

    fr = cov.table.assign(country=cov.country, year=cov.year, ci_level=cov.ci_level)
    if (fr["domain"] != "national").sum() == 0:
        raise InputError("plot_coverage needs state rows: compute remittance_coverage(..., by_state=True)")
    with F.style():
        if ax is None:
            fig, ax = plt.subplots(figsize=by_state_size(fr))
        else:
            fig = ax.figure
        draw_by_state(ax, fr, lang, names=None if names is None else dict(names))  # constrained layout (style)
    return fig
