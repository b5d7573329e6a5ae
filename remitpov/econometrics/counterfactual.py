"""Selection-corrected counterfactual income without migration (Barham--Boucher / Adams).

The static counterfactual ("income minus remittances") assumes that migrants would have
earned nothing at home. Following Barham & Boucher (1998, *J. Dev. Econ.* 55) and Adams
(2004, 2006; Adams & Cuecuecha 2010), this module instead

1. estimates a (log) income equation on households that do NOT receive remittances,
   correcting for the selection of those households with a Heckman model whose selection
   equation is "being a non-recipient" (probit), see :class:`~remitpov.econometrics.heckman.Heckman`;
2. predicts the no-migration income of recipient households from their characteristics
   (``kind="unconditional"``: ``X b``, the Barham--Boucher/Adams counterfactual; or
   ``kind="nonselected"``: ``E[log y | X, recipient]``, which also shifts the prediction by
   the recipients' expected unobservables), optionally adding simulated residuals
   (``draws=M`` seeded draws, with coefficient uncertainty), and keeps non-recipients'
   observed income (which contains no remittances);
3. recomputes poverty with the SAME estimator and SEs as for observed and static incomes
   (:func:`counterfactual_fgt`, :func:`remittance_counterfactual_table`), combining the M
   draws with Rubin's rules (:func:`rubin`).

Conventions
-----------
* Income is per person (``y_without`` from :func:`remitpov.income.build_income`), the
  outcome is ``log(income)``; the deterministic counterfactual without draws is
  ``exp(X b)`` (the conditional median). With draws, ``log y_cf_m = X b_m + e_m`` where
  ``b_m ~ N(b, V_b)`` (``parameter_draws=True``) and ``e_m`` is drawn from the error
  distribution implied by ``kind`` (normal with variance ``sigma^2``; truncated bivariate
  normal for ``"nonselected"``): a proper multiple imputation, so Rubin's total variance
  covers the model's sampling and prediction uncertainty. Without draws the SEs treat the
  predicted incomes as fixed (they understate the uncertainty).
* Non-recipient households with zero or negative income cannot enter a log equation:
  ``nonpositive="exclude"`` (default) gives them zero weight in the estimation (design
  kept; they keep their observed income in every counterfactual column) and says so in
  the report; ``"error"`` raises.
* Estimation is weighted by the household weights (pseudo-likelihood) with design-based
  SEs for the model (``cov_type="design"``) unless ``weighted=False``.

Multinomial variant (no migrant / internal / international)
------------------------------------------------------------
See :mod:`remitpov.econometrics.multinomial` (Lee, Dubin--McFadden and
Bourguignon--Fournier--Gurgand corrections) for surveys with a three-category migration
status (e.g. the Mexican Migration Project, ENCOVI's migration module, or
``synthetic_survey(migration_types=True)``). The ENIGH ``concentradohogar`` extracts in the
shared data cannot use it: they record ``remesas`` (income from other countries) but no
internal-migration variable, and ``transf_hog`` (transfers from other households in Mexico)
mixes internal migrants' remittances with gifts from non-migrant relatives and friends, so
"internal migrant household" cannot be identified there.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Callable, Mapping, Sequence

import numpy as np
import pandas as pd

from ..exceptions import InputError, RemitpovWarning, describe_rows
from ..results import EstimateTable
from ..survey import Survey
from .heckman import Heckman, HeckmanResults

__all__ = ["CounterfactualIncome", "counterfactual_income", "counterfactual_fgt", "counterfactual_gini", "rubin",
           "remittance_counterfactual_table", "leave_one_out_share", "ENIGH_RURAL_SPEC",
           "MEXICO_MIGRATION_REGIONS", "enigh_covariates"]

#: Durand & Massey's (2003) Mexican migration regions by state code (``entidad``):
#: traditional (west-centre), north (border), centre, south-southeast.
MEXICO_MIGRATION_REGIONS = {
    **{e: "traditional" for e in (1, 6, 10, 11, 14, 16, 18, 24, 32)},
    **{e: "north" for e in (2, 3, 5, 8, 19, 25, 26, 28)},
    **{e: "centre" for e in (9, 12, 13, 15, 17, 20, 21, 22, 29)},
    **{e: "southeast" for e in (4, 7, 23, 27, 30, 31)},
}

#: The specification used for ENIGH 2010 rural (see :func:`remittance_counterfactual_table`):
#: the concentrado has no head characteristics, so the income equation uses household size
#: (log and square), the indigenous-household flag, locality size class and state effects; the
#: selection equation adds the exclusion restriction ``network`` = leave-one-out weighted share
#: of remittance recipients among the OTHER sampled households of the PSU (a migration-network
#: proxy, Woodruff--Zenteno style; valid only if PSU networks affect income solely through
#: migration -- an assumption to be stated with any result).
ENIGH_RURAL_SPEC = {
    "income_formula": "log_size + I(log_size**2) + indigenous + C(region)",
    "selection_formula": "log_size + I(log_size**2) + indigenous + C(region) + network",
}


def enigh_covariates(survey: Survey, *, recipient: str = "recipient", size: str = "tot_integ",
                     state: str = "entidad", indigenous: str = "hogarindig", psu: str = "upm") -> Survey:
    """Add the covariates of :data:`ENIGH_RURAL_SPEC` to an ENIGH survey (after ``build_income``).

    ``log_size`` = log household size; ``indigenous`` = INEGI's indigenous-household flag
    (``HogarIndig``; 0 when the column is absent, reported); ``region`` = Durand--Massey
    migration region of the state; ``network`` = leave-one-out weighted share of
    recipients among the other sampled households of the PSU (state share for PSUs with
    one sampled household).
    """
    df = survey.data
    for c in (size, state, recipient):
        if c not in df.columns:
            raise InputError(f"column {c!r} not found; run build_income first / check the loader")
    st = pd.to_numeric(df[state], errors="coerce")
    reg = st.map(MEXICO_MIGRATION_REGIONS)
    if reg.isna().any():
        raise InputError(f"state code {state!r} outside 1-32 in {describe_rows(reg.isna().to_numpy(), survey.id_values)}")
    new = {"log_size": np.log(df[size].to_numpy(dtype=float)), "region": reg.to_numpy(),
           "network": leave_one_out_share(survey, recipient, psu, fallback=state)}
    out = survey
    if indigenous in df.columns:
        new["indigenous"] = df[indigenous].fillna(0).to_numpy(dtype=float)
    else:
        new["indigenous"] = np.zeros(survey.n)
        out = out.with_report("missing", f"no {indigenous!r} column: indigenous set to 0", column=indigenous)
    out = out.with_columns(**new)
    return out.with_report("derived", "counterfactual covariates log_size, indigenous, region (Durand-Massey), "
                           f"network (leave-one-out PSU share of recipients, {psu!r}, fallback {state!r})",
                           column="network")


class CounterfactualWarning(RemitpovWarning):
    """Something about a counterfactual that the user should know (excluded rows ...)."""


def _rhs(formula: str, what: str) -> str:
    f = formula.strip()
    if "~" in f:
        lhs, rhs = f.split("~", 1)
        if lhs.strip():
            raise InputError(f"{what} must be a right-hand side only (e.g. '~ x1 + x2'); the outcome "
                             f"(log income) and the selection indicator (non-recipient) are built for you; "
                             f"got left-hand side {lhs.strip()!r}")
        f = rhs.strip()
    if not f:
        raise InputError(f"{what} is empty")
    return f


def leave_one_out_share(survey: Survey, indicator, group, *, fallback=None, level: str = "household") -> np.ndarray:
    """Weighted share of ``indicator`` among the OTHER units of each unit's ``group``.

    ``sum_{j in g, j != i} w_j d_j / sum_{j in g, j != i} w_j``; units alone in their group
    get the leave-one-out share of the ``fallback`` group (e.g. state), or the overall
    share. Used as a migration-network exclusion restriction (PSU share of recipients).
    """
    d = np.asarray(pd.to_numeric(pd.Series(survey.column(indicator)), errors="coerce"), dtype=float)
    if np.isnan(d).any():
        raise InputError(f"indicator is missing in {describe_rows(np.isnan(d), survey.id_values)}")
    w = survey.weights(level)

    def loo(g):
        codes, _ = pd.factorize(pd.Series(survey.column(g)), sort=True)
        if (codes < 0).any():
            raise InputError(f"group {g!r} is missing in {describe_rows(codes < 0, survey.id_values)}")
        num = np.bincount(codes, w * d)[codes] - w * d
        den = np.bincount(codes, w)[codes] - w
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(den > 0, num / den, np.nan)

    out = loo(group)
    if fallback is not None:
        out = np.where(np.isnan(out), loo(fallback), out)
    tot = (w * d).sum()
    overall = (tot - w * d) / (w.sum() - w)
    return np.where(np.isnan(out), overall, out)


@dataclass(frozen=True, eq=False)
class CounterfactualIncome:
    """Result of :func:`counterfactual_income`.

    Attributes
    ----------
    survey : Survey
        The input survey with the counterfactual column(s) added (``output``; and
        ``output_1`` ... ``output_M`` with draws) and a report entry.
    model : HeckmanResults
        The fitted selection model (outcome = log income of non-recipients).
    columns : tuple of str
        The imputed columns (the M draws, or the single deterministic column).
    output : str
        Name of the deterministic counterfactual column.
    income, recipient : str
        Columns used.
    draws : int
    kind : str
    notes : tuple of str
    """

    survey: Survey
    model: HeckmanResults
    columns: tuple[str, ...]
    output: str
    income: str
    recipient: str
    draws: int
    kind: str
    estimation_mask: np.ndarray = field(repr=False, default=None)
    notes: tuple[str, ...] = ()

    def summary(self) -> str:
        rec = self.survey.data[self.recipient].to_numpy().astype(bool)
        lines = ["Selection-corrected counterfactual income (no migration)",
                 f"income: {self.income!r}; recipients: {int(rec.sum())} of {self.survey.n} rows; "
                 f"prediction: {self.kind}; draws: {self.draws}; columns: {', '.join(self.columns)}",
                 str(self.model.summary)]
        lines += [f"note: {n}" for n in self.notes]
        return "\n".join(lines)

    def __repr__(self) -> str:
        return (f"CounterfactualIncome(output={self.output!r}, draws={self.draws}, kind={self.kind!r}, "
                f"rows={self.survey.n})")



def _estimation_sample(survey: Survey, income: str, base: np.ndarray, what: str, nonpositive: str,
                       weighted: bool, cov_type: str | None):
    """Log income of the ``base`` rows (the group whose income equation is estimated).

    Rows of ``base`` with missing income raise; rows with income <= 0 raise
    (``nonpositive="error"``) or get zero weight (``"exclude"``: design kept, warned and
    returned in ``notes``). Returns ``(y, logy, est_mask, notes, weights, design, cov_type)``
    with ``design`` the household design (domain-restricted when rows are excluded) if
    ``weighted``; ``cov_type`` defaults to ``"design"`` when weighted.
    """
    ids = survey.id_values
    y = np.asarray(pd.to_numeric(pd.Series(survey.column(income)), errors="coerce"), dtype=float)
    miss = base & ~np.isfinite(y)
    if miss.any():
        raise InputError(f"income {income!r} is missing for {what} rows in {describe_rows(miss, ids)}")
    nonpos = base & (y <= 0)
    notes = []
    if nonpos.any():
        if nonpositive == "error":
            raise InputError(f"income {income!r} is zero or negative for {what} rows in "
                             f"{describe_rows(nonpos, ids)}: log income is undefined; pass nonpositive='exclude'")
        msg = (f"{int(nonpos.sum())} {what} rows with {income} <= 0 excluded from the income equation "
               "(zero weight, design kept); they keep their observed income")
        warnings.warn(msg, CounterfactualWarning, stacklevel=3)
        notes.append(msg)
    est_mask = ~nonpos
    with np.errstate(divide="ignore", invalid="ignore"):
        logy = np.where(base & est_mask, np.log(np.where(y > 0, y, 1.0)), np.nan)
    w, design = None, None
    if weighted:
        d_hh = survey.design("household")
        design = d_hh.domain(est_mask) if nonpos.any() else d_hh
        w = design.weights
        cov_type = cov_type or "design"
    elif nonpos.any():
        w = est_mask.astype(float)
    return y, logy, est_mask, notes, w, design, cov_type

def counterfactual_income(survey: Survey, income_formula: str, selection_formula: str, *,
                          recipient: str = "recipient", income: str = "y_without", output: str = "y_cf",
                          method: str = "twostep", kind: str = "unconditional", draws: int = 0,
                          seed: int | None = 0, parameter_draws: bool = True, weighted: bool = True,
                          cov_type: str | None = None, nonpositive: str = "exclude") -> CounterfactualIncome:
    """Counterfactual income without migration for remittance-receiving households.

    Parameters
    ----------
    survey : Survey
        Household rows with per-person income without remittances (``income``) and a
        recipient indicator (``recipient``), e.g. after :func:`remitpov.income.build_income`.
    income_formula, selection_formula : str
        Right-hand sides (formulaic syntax, evaluated on ``survey.data``) of the log-income
        equation (estimated on non-recipients) and of the selection probit (being a
        non-recipient). The selection equation should contain at least one variable
        excluded from the income equation (e.g. a migration-network measure, see
        :func:`leave_one_out_share`).
    recipient, income, output : str
        Input columns and the name of the counterfactual column.
    method : {"twostep", "ml"}
        Heckman estimator.
    kind : {"unconditional", "nonselected"}
        Prediction for recipients (see module docstring).
    draws : int
        0: deterministic ``exp(prediction)``; M > 0: M imputations ``output_1..output_M``
        with simulated residuals (and coefficient draws if ``parameter_draws``), seeded.
    weighted : bool
        Household weights in the estimation (pseudo-likelihood) and design-based model SEs.
    cov_type : str, optional
        Heckman covariance (default ``"design"`` when weighted, else ``"unadjusted"``).
    nonpositive : {"exclude", "error"}
        Non-recipients with income <= 0 (see module docstring).

    Returns
    -------
    CounterfactualIncome
    """
    if not isinstance(survey, Survey):
        raise InputError(f"expected a Survey, got {type(survey).__name__}")
    if kind not in ("unconditional", "nonselected"):
        raise InputError(f"kind must be 'unconditional' or 'nonselected', got {kind!r}")
    if nonpositive not in ("exclude", "error"):
        raise InputError(f"nonpositive must be 'exclude' or 'error', got {nonpositive!r}")
    draws = int(draws)
    if draws < 0 or draws == 1:
        raise InputError(f"draws must be 0 (deterministic) or >= 2 (Rubin's rules need M >= 2), got {draws}")
    rf, sf = _rhs(income_formula, "income_formula"), _rhs(selection_formula, "selection_formula")
    df = survey.data
    ids = survey.id_values
    rec_raw = pd.Series(survey.column(recipient))
    if rec_raw.isna().any():
        raise InputError(f"recipient column {recipient!r} is missing in {describe_rows(rec_raw.isna().to_numpy(), ids)}")
    rec = rec_raw.astype(float).to_numpy()
    if not np.isin(rec, (0.0, 1.0)).all():
        raise InputError(f"recipient column {recipient!r} must be 0/1 or bool")
    rec = rec.astype(bool)
    nonrec = ~rec
    y, logy, est_mask, notes, w, design, cov_type = _estimation_sample(
        survey, income, nonrec, "non-recipient", nonpositive, weighted, cov_type)
    nonpos = ~est_mask
    data = df.copy()
    data["__logy"] = logy
    data["__nonrec"] = nonrec.astype(float)
    if cov_type is None:
        cov_type = "unadjusted" if w is None else "robust"
    try:
        model = Heckman.from_formula(f"__logy ~ {rf}", f"__nonrec ~ {sf}", data, weights=w)
    except InputError as exc:  # excluded rows have NaN log income and would trip the checks
        raise InputError(f"cannot build the selection model: {exc}") from exc
    fit_kw = {"design": design} if cov_type == "design" else {}
    res = model.fit(method, cov_type=cov_type, **fit_kw)
    res = _relabel(res)

    # ---- predictions for recipients
    new = {}
    pred_kind = "unconditional" if kind == "unconditional" else "nonselected"
    base = res.predict(kind=pred_kind).to_numpy()
    y_obs = np.where(np.isfinite(y), y, np.nan)
    new[output] = np.where(rec, np.exp(base), y_obs)
    cols: list[str]
    if draws:
        rng = np.random.default_rng(seed)
        on = list(res.equations["outcome"])
        b = res.params[on].to_numpy()
        Vb = res.cov.loc[on, on].to_numpy()
        X, Z = model._X, model._Z
        if parameter_draws:
            B = rng.multivariate_normal(b, Vb, size=draws, method="eigh")  # (M, k)
        else:
            B = np.repeat(b[None, :], draws, axis=0)
        sims = res.simulate(kind="unconditional" if kind == "unconditional" else "nonselected", draws=draws,
                            seed=rng.integers(2**32))
        logy_m = sims - (X @ b)[:, None] + X @ B.T  # replace the point coefficients by the drawn ones
        cols = [f"{output}_{m + 1}" for m in range(draws)]
        for m, c in enumerate(cols):
            new[c] = np.where(rec, np.exp(logy_m[:, m]), y_obs)
        notes.append(f"{draws} imputations: residuals from the model's error distribution ({kind}), "
                     f"coefficients {'drawn from N(b, V)' if parameter_draws else 'fixed'}; seed {seed}")
    else:
        cols = [output]
        notes.append("deterministic prediction exp(X b) for recipients: SEs treat it as fixed "
                     "(use draws= for multiple-imputation SEs)")
    out = survey.with_columns(**new)
    out = out.with_report("counterfactual",
                          f"selection-corrected counterfactual income without migration for {int(rec.sum())} "
                          f"recipient households ({method} Heckman, log {income} ~ {rf}; selection: "
                          f"non-recipient ~ {sf}; prediction {kind}; draws {draws}); non-recipients keep "
                          f"their observed {income}", column=output, rows=int(rec.sum()))
    if nonpos.any():
        out = out.with_report("excluded", notes[0], column=income, rows=int(nonpos.sum()),
                              examples=[] if ids is None else list(ids[nonpos][:3]))
    return CounterfactualIncome(out, res, tuple(cols), output, income, recipient, draws, kind, est_mask,
                                tuple(notes))


def _relabel(res: HeckmanResults) -> HeckmanResults:
    """Readable names: ``__logy`` -> ``log income``, ``__nonrec`` -> ``non-recipient``."""
    from dataclasses import replace

    return replace(res, dep_var="log income (non-recipients)")


# ----------------------------------------------------------------------------- Rubin
def rubin(tables: Sequence[EstimateTable], title: str | None = None) -> EstimateTable:
    """Combine M >= 2 completed-data tables with Rubin's (1987) rules.

    ``Q = mean_m Q_m``, ``U = mean_m U_m`` (within), ``B = cov_m(Q_m)`` (between, divisor
    M-1), ``T = U + (1 + 1/M) B`` (full matrices, so covariances between rows are
    combined too). Degrees of freedom: Barnard & Rubin (1999) per estimate,
    ``nu = (1/nu_m + 1/nu_obs)^-1`` with ``nu_m = (M-1)/r^2``, ``r = (1+1/M) B/T`` and
    ``nu_obs = (df+1)/(df+3) df (1-r)``; the table uses the smallest over estimates with
    ``B > 0`` (conservative) and the completed-data df otherwise. ``extra`` gets
    ``fmi`` (fraction of missing information, ``(1+1/M)B/T``) and ``df_rubin``.
    """
    M = len(tables)
    if M < 2:
        raise InputError("Rubin's rules need at least 2 imputations")
    t0 = tables[0]
    for t in tables[1:]:
        if not t.keys.equals(t0.keys):
            raise InputError("imputed tables have different keys (rows); estimate the same quantities each time")
    Q = np.vstack([t.estimates for t in tables])
    Qbar = Q.mean(0)
    U = np.mean([t.vcov for t in tables], axis=0)
    dev = Q - Qbar
    B = dev.T @ dev / (M - 1)
    T = U + (1 + 1 / M) * B
    with np.errstate(divide="ignore", invalid="ignore"):
        r = (1 + 1 / M) * np.diag(B) / np.diag(T)
        df = t0.df
        nu_m = (M - 1) / r**2
        nu_obs = (df + 1) / (df + 3) * df * (1 - r)
        nu = 1 / (1 / nu_m + 1 / nu_obs)
    pos = np.diag(B) > 1e-12 * np.maximum(np.abs(np.diag(U)), 1e-300)  # rows that differ between imputations
    df_table = float(np.min(nu[pos])) if pos.any() and np.isfinite(df) else df
    extra = pd.DataFrame({"fmi": np.where(pos, r, 0.0), "df_rubin": np.where(pos, nu, df)})
    if t0.extra is not None:
        for c in t0.extra.columns:
            if c not in extra:
                extra[c] = np.mean([t.extra[c].to_numpy(dtype=float) for t in tables], axis=0)
    notes = tuple(t0.notes) + (f"combined over M={M} imputations with Rubin's rules (T = U + (1+1/M) B); "
                               f"df = min Barnard-Rubin df = {df_table:.1f}",)
    return EstimateTable(t0.keys, Qbar, T, df_table, t0.level, t0.dist, t0.design, title or t0.title, notes, extra)


# ----------------------------------------------------------------------------- poverty
def _default_estimator(line, alpha, by, level, strict) -> Callable:
    def est(survey, incomes):
        from ..poverty import fgt

        return fgt(survey, incomes, line, alpha, by, level=level, strict=strict)

    return est


def counterfactual_fgt(cf: CounterfactualIncome, line=None, alpha=(0, 1, 2), by=None, *,
                       concepts: Mapping[str, str] | None = None, estimator: Callable | None = None,
                       level: str = "person", strict: bool = True, concept: str = "selection",
                       progress: Callable[[int, int], None] | None = None) -> EstimateTable:
    """Poverty under the counterfactual, with the same estimator as the static one.

    Parameters
    ----------
    cf : CounterfactualIncome
    line, alpha, by, level, strict
        Passed to :func:`remitpov.poverty.fgt` (``line`` required unless ``estimator``).
    concepts : mapping, optional
        Other incomes to estimate JOINTLY with the counterfactual, ``{label: column}``
        (e.g. ``{"observed": "y_with", "static": "y_without"}``); their rows are identical in
        every imputation, so Rubin's rules leave their variance unchanged while keeping
        covariances with the counterfactual rows.
    estimator : callable, optional
        ``estimator(survey, {label: column}) -> EstimateTable`` (e.g. a mean of a poverty
        indicator); default :func:`remitpov.poverty.fgt`.
    concept : str
        Label of the counterfactual income.
    progress : callable, optional
        ``progress(done, total)`` after each imputed income is estimated (once per draw).

    Returns
    -------
    EstimateTable
        With draws: Rubin's combination (:func:`rubin`) of the M completed-data tables.
    """
    if estimator is None:
        if line is None:
            raise InputError("give a poverty line (or an estimator)")
        estimator = _default_estimator(line, alpha, by, level, strict)
    concepts = dict(concepts or {})
    if concept in concepts:
        raise InputError(f"concept label {concept!r} is used twice")
    tables = []
    for col in cf.columns:
        inc = dict(concepts)
        inc[concept] = col
        tables.append(estimator(cf.survey, inc))
        if progress is not None:
            progress(len(tables), len(cf.columns))
    if len(tables) == 1:
        return tables[0]
    return rubin(tables, title=tables[0].title + " (multiple imputation)")


def counterfactual_gini(cf: CounterfactualIncome, by=None, *, concepts: Mapping[str, str] | None = None,
                        level: str = "person", concept: str = "selection") -> EstimateTable:
    """Gini coefficient under the counterfactual (with :func:`remitpov.inequality.gini`, the
    same estimator as for observed income), one row per concept (key ``concept``), combined
    over imputations with Rubin's rules. With other ``concepts`` the concepts are estimated
    JOINTLY on the same sample (:func:`remitpov.inequality.compare_inequality`): the table
    also has the differences "first concept minus each other" with SEs from the difference
    of influence values (Rubin's rules applied to the joint covariance).
    """
    from dataclasses import replace as _replace

    from ..inequality import compare_inequality, gini

    def est(survey, incomes):
        if len(incomes) == 1:
            (label, col), = incomes.items()
            t = gini(survey, col, by, level=level)
            keys = t.keys.drop(columns=[c for c in ("variable",) if c in t.keys.columns])
            keys.insert(1, "concept", label)  # the imputed column's name varies by draw: use the label
        else:
            t = compare_inequality(survey, incomes, measure="gini", by=by, level=level)
            keys = t.keys.drop(columns=[c for c in ("variable",) if c in t.keys.columns])
        return _replace(t, keys=keys, title="Gini coefficient")

    return counterfactual_fgt(cf, concepts=concepts, estimator=est, concept=concept)


def remittance_counterfactual_table(survey: Survey, line, income_formula: str, selection_formula: str, *,
                                    alpha=(0, 1, 2), by=None, observed: str = "y_with", static: str = "y_without",
                                    recipient: str = "recipient", draws: int = 20, seed: int | None = 0,
                                    method: str = "twostep", kind: str = "unconditional", level: str = "person",
                                    strict: bool = True, estimator: Callable | None = None,
                                    progress: Callable[[int, int], None] | None = None,
                                    **kwargs) -> tuple[EstimateTable, CounterfactualIncome]:
    """FGT(0,1,2) with SEs under (a) observed income, (b) the static counterfactual and (c) the
    selection-corrected counterfactual, in one table (key ``concept`` = ``observed``,
    ``static``, ``selection``), estimated jointly (one vcov; with draws combined by Rubin's
    rules), so differences between concepts get SEs through ``table.contrast``.

    Example (ENIGH 2010 rural, as in ``tests/test_econometrics_counterfactual.py``)::

        from remitpov.config import shared_path
        from remitpov.income import build_income
        from remitpov.io.enigh import read_enigh
        from remitpov.econometrics.counterfactual import (ENIGH_RURAL_SPEC, enigh_covariates,
                                                          remittance_counterfactual_table)

        s = read_enigh(shared_path("data", "enigh2010_rural", "Conc2010_rural.dbf"))
        s = build_income(s, scale="per_capita", period="month")
        s = enigh_covariates(s).with_lonely_psu("adjust")   # singleton-PSU strata in the rural file
        table, cf = remittance_counterfactual_table(s, 1328.51, **ENIGH_RURAL_SPEC, draws=20, seed=1)
        print(table.summary())      # fgt0/1/2 x observed/static/selection, SEs, fmi
        print(cf.summary())         # the selection model

    1328.51 pesos per person per month is CONEVAL's 2010 rural "linea de bienestar"
    (applied here to per-capita income). Runs in about 3 seconds. ``progress(done, total)``,
    if given, is called after each imputation draw's estimates (see :func:`counterfactual_fgt`).

    Returns
    -------
    (EstimateTable, CounterfactualIncome)
    """
    cf = counterfactual_income(survey, income_formula, selection_formula, recipient=recipient, income=static,
                               method=method, kind=kind, draws=draws, seed=seed, **kwargs)
    tab = counterfactual_fgt(cf, line, alpha, by, concepts={"observed": observed, "static": static},
                             estimator=estimator, level=level, strict=strict, concept="selection",
                             progress=progress)
    return tab, cf
