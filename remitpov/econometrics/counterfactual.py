"""Selection-corrected counterfactual income without migration (Barham--Boucher / Adams).

The static counterfactual ("income minus remittances") assumes that migrants would have
earned nothing at home. Following Barham & Boucher (1998, *J. Dev. Econ.* 55) and Adams
(2004, 2006; Adams & Cuecuecha 2010), this module instead

1. estimates a (log) income equation on households WITHOUT migration, correcting for their
   selection with a Heckman model (probit of "no migrant"), see
   :class:`~remitpov.econometrics.heckman.Heckman`. Selection is on migration status when
   the survey has a migrant indicator (``migrant=``, default: the survey's ``migrant``
   role); otherwise on remittance receipt, which mixes non-receiving migrant households
   into the comparison group (:data:`RECEIPT_NOTE`);
2. imputes the no-migration income of migrant (recipient) households by proper multiple
   imputation (below), with the recipient-specific prediction ``kind="nonselected"``
   (default, ``E[log y0 | X, migrant]``) and, with the same draws, the unconditional one
   (``X b``, Barham--Boucher/Adams; right only without selection on unobservables); the
   other households keep their observed income without remittances;
3. recomputes poverty with the SAME estimator and SEs as for observed and static incomes
   (:func:`counterfactual_fgt`, :func:`remittance_counterfactual_table`), combining the M
   imputations with Rubin's rules (:func:`rubin`): ``T = U + (1 + 1/M) B`` with ``U`` the
   mean design-based (strata, PSUs) variance of the completed-data estimates;
4. reports diagnostics (:func:`format_diagnostics`): strength of the exclusion restriction,
   the test of no selection on unobservables, the disagreement between the two
   predictions, the zero-income shares, a warning when the counterfactual moves poverty in
   the direction opposite to the static one, and FGT under a grid of fixed ``rho``
   (:func:`rho_sensitivity`).

Multiple imputation
-------------------
Each of the ``draws`` (default :data:`DEFAULT_DRAWS` = 20) imputations draws ALL model
parameters -- outcome coefficients, probit coefficients and lambda (two-step) or
``atanh rho``/``log sigma`` (ML) -- jointly from ``N(theta_hat, V)``, ``V`` the model's
design-based two-step (Murphy--Topel) or ML covariance (:func:`parameter_draws_from`):
the large-sample posterior, so the imputation is "proper" (Rubin 1987) and Rubin's total
variance covers the model's sampling uncertainty. We chose this over re-estimating both
stages on PSU bootstrap resamples within strata: it uses the same design-based covariance
of every parameter that the model reports (strata, PSUs, fpc), costs one fit instead of M,
and avoids the bootstrap's trouble with the many strata that have two PSUs (the rescaling
of Rao--Wu); the validation study (``validation/RESULTS.md``) checks its coverage.
Residuals are drawn, by default, from the empirical distribution of the standardised
selection-corrected residuals of the estimation sample (``residuals="empirical"``; the
log-income residuals are skewed, and normal draws biased the headcount by about +1 point);
``"local"`` restricts donors to the same decile of ``X b``; ``"normal"`` uses the model's
normal errors. ``draws=0`` gives the deterministic conditional-median prediction
``exp(pred)``, whose SEs treat predictions as fixed and understate the uncertainty.

Conventions
-----------
* Income is per person (``y_without`` from :func:`remitpov.income.build_income`), the
  outcome is ``log(income)``.
* Absent migrant (:data:`ABSENT_MIGRANT_NOTE`, on every result): household size and
  earners are as recorded; ``add_migrant=`` evaluates the income equation with the migrant
  counted (Barham--Boucher / McKenzie--Gibson--Stillman variant).
* Households of the estimation group with zero or negative income cannot enter a log
  equation: ``nonpositive="exclude"`` (default) gives them zero weight in the estimation
  (design kept; they keep their observed income in every counterfactual column) and says
  so in the report; ``"error"`` raises.
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
from scipy import special, stats

from ..exceptions import InputError, RemitpovWarning, describe_rows
from ..results import EstimateTable
from ..survey import Survey
from .heckman import Heckman, HeckmanResults, inverse_mills, selection_cov_type

__all__ = ["CounterfactualIncome", "CounterfactualWarning", "counterfactual_income", "counterfactual_fgt", "counterfactual_gini", "rubin",
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
        ``output_1`` ... ``output_M`` with draws, plus the other prediction kind's
        ``alt_columns``) and a report entry.
    model : HeckmanResults
        The fitted selection model (outcome = log income of households without migration).
    columns : tuple of str
        The imputed columns of the main prediction ``kind`` (M draws, or one column).
    output : str
        Name of the deterministic counterfactual column.
    income, recipient : str
        Columns used (``recipient``: the remittance-receipt indicator).
    draws : int
    kind : str
    notes : tuple of str
        Conventions and warnings (the absent-migrant convention among them).
    alt_columns : tuple of str
        The same imputations with the other prediction kind (``alt_kind``): recipient
        -specific vs unconditional, drawn with the same parameters and residuals.
    alt_kind : str
    selection : str
        Column whose households are imputed (migrant indicator, or ``recipient``).
    diagnostics : mapping
        Exclusion-restriction strength, lambda / rho tests, zero-income shares, the
        kinds' disagreement (see :func:`counterfactual_income`), and after
        :func:`remittance_counterfactual_table` the direction check and the rho
        sensitivity band.
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
    alt_columns: tuple[str, ...] = ()
    alt_kind: str | None = None
    selection: str | None = None
    diagnostics: Mapping = field(default_factory=dict)

    def summary(self) -> str:
        sel = self.selection or self.recipient
        imp = self.survey.data[sel].to_numpy().astype(bool)
        lines = ["Selection-corrected counterfactual income (no migration)",
                 f"income: {self.income!r}; imputed households ({sel!r}): {int(imp.sum())} of {self.survey.n} rows; "
                 f"prediction: {self.kind}; draws: {self.draws}; columns: {', '.join(self.columns[:3])}"
                 + (" ..." if len(self.columns) > 3 else ""),
                 str(self.model.summary)]
        lines += ["diagnostics:"] + [f"  {line}" for line in format_diagnostics(self.diagnostics)]
        lines += [f"note: {n}" for n in self.notes]
        return "\n".join(lines)

    def __repr__(self) -> str:
        return (f"CounterfactualIncome(output={self.output!r}, draws={self.draws}, kind={self.kind!r}, "
                f"rows={self.survey.n})")


def format_diagnostics(diag: Mapping) -> list[str]:
    """Readable lines for a counterfactual's ``diagnostics`` mapping."""
    out = []
    if "exclusion_stat" in diag:
        out.append(f"exclusion restriction ({', '.join(diag['excluded']) or 'none'}): Wald chi2({diag['exclusion_df']}) "
                   f"= {diag['exclusion_stat']:.2f}, F = {diag['exclusion_F']:.2f}, p = {diag['exclusion_p']:.3g}"
                   + ("  ** WEAK (F < 10) **" if diag["exclusion_F"] < 10 else ""))
    if "selection_stat" in diag:
        out.append(f"selection on unobservables ({diag['selection_test']}): stat = {diag['selection_stat']:.3f}, "
                   f"p = {diag['selection_p']:.3g}; rho = {diag['rho']:.3f}")
    if "kind_gap_log" in diag:
        out.append(f"recipient-specific minus unconditional prediction, mean log income of the imputed: "
                   f"{diag['kind_gap_log']:+.4f}")
    if "static_zero_share" in diag:
        out.append(f"imputed households with {diag.get('income', 'income')} <= 0 (static counterfactual at zero): "
                   f"{diag['static_zero_share']:.1%}; imputations at zero income: {diag['imputed_zero_share']:.1%}")
    if "kind_contrast" in diag:
        c = diag["kind_contrast"]
        out.append(f"FGT0 recipient-specific minus unconditional: {c['estimate']:+.4f} (SE {c['se']:.4f}, "
                   f"p = {c['p']:.3g})" + ("  ** the two predictions DISAGREE **" if c["p"] < 0.05 else ""))
    if "direction" in diag:
        d = diag["direction"]
        out.append(f"FGT0 change vs observed: static {d['static']:+.4f}, counterfactual {d['counterfactual']:+.4f}"
                   + ("  ** OPPOSITE DIRECTIONS **" if d["opposite"] else ""))
    if "rho_band" in diag:
        band = diag["rho_band"]
        out.append("FGT0 under fixed rho: " + ", ".join(f"{r:+.1f}: {v:.4f}" for r, v in
                                                        zip(band["rho"], band["fgt0"])))
    return out


# ----------------------------------------------------------------------------- imputation core
#: Default number of imputations. With a fraction of missing information gamma the
#: efficiency of M imputations is ``1/(1 + gamma/M)`` (Rubin 1987): >= 98.5 % for gamma <= 0.3
#: at M = 20; the Barnard--Rubin df carry the remaining Monte Carlo noise of B into the CI;
#: and the cost is linear in M (one poverty estimation per imputation). White, Royston &
#: Wood (2011) suggest M >= 100 gamma: a note asks for more draws when the estimated
#: fraction exceeds ``M/100``.
DEFAULT_DRAWS = 20

#: The absent-migrant convention, stated on every counterfactual result.
ABSENT_MIGRANT_NOTE = ("absent migrant: household size and earners are those recorded by the survey; a migrant "
                       "who is not counted as a household member (ENIGH-type rosters) is NOT added back, so the "
                       "counterfactual is the per-person income of the household as recorded, without the "
                       "migrant's own earnings or consumption")

#: Why not select on remittance receipt.
RECEIPT_NOTE = ("selection on remittance RECEIPT: migrant households that receive nothing (their income lowered by "
                "the migrant's absence) enter the no-migration income equation and recipients without a migrant "
                "are imputed; this contaminates the comparison group, biases the counterfactual and can make "
                "lambda 'significant' without selection on unobservables; select on migration status "
                "(migrant=...) when the survey identifies households with a member abroad")


def parameter_draws_from(res, draws: int, rng: np.random.Generator, parameter_draws: bool = True) -> np.ndarray:
    """(M, k) draws of ALL model parameters from their joint asymptotic normal distribution.

    ``N(theta_hat, V)`` with ``V`` the model's (two-step Murphy--Topel / ML, design-based)
    covariance of every parameter: outcome, selection and correction coefficients jointly
    (Rubin's "proper" imputation, the large-sample approximation of the posterior).
    ``parameter_draws=False`` repeats ``theta_hat`` (improper; for comparisons only).
    """
    theta = res.params.to_numpy()
    if not parameter_draws:
        return np.repeat(theta[None, :], draws, axis=0)
    return rng.multivariate_normal(theta, res.cov.to_numpy(), size=draws, method="eigh")


def resample_index(w: np.ndarray, size, rng: np.random.Generator) -> np.ndarray:
    """Indices drawn with probability proportional to ``w`` (empirical residual distribution)."""
    c = np.cumsum(w)
    return np.minimum(np.searchsorted(c, rng.random(size) * c[-1], side="right"), len(w) - 1)


def local_resample_index(pred_est: np.ndarray, w: np.ndarray, pred_new: np.ndarray, draws: int,
                         rng: np.random.Generator, bins: int = 10) -> np.ndarray:
    """Residual donors from the same weighted decile of the linear prediction (local residuals).

    The estimation rows are cut at the weighted ``bins``-quantiles of their prediction
    ``X b``; each new row draws ``draws`` donors, weight-proportionally, among the rows of
    its bin (predictive-mean-matching in spirit): the residual distribution may change with
    the level of income (heteroskedasticity, skewness). Returns indices (n_new, draws).
    """
    order = np.argsort(pred_est, kind="stable")
    cw = np.cumsum(w[order]) / w.sum()
    cuts = pred_est[order][np.minimum(np.searchsorted(cw, np.arange(1, bins) / bins), len(order) - 1)]
    b_est = np.searchsorted(cuts, pred_est, side="right")
    b_new = np.searchsorted(cuts, pred_new, side="right")
    out = np.empty((len(pred_new), draws), dtype=np.intp)
    for b in np.unique(b_new):  # a loop over the bins, not over rows
        donors = np.flatnonzero(b_est == b)
        rows = np.flatnonzero(b_new == b)
        out[rows] = donors[resample_index(w[donors], (rows.size, draws), rng)]
    return out


def wald_excluded(res, sel_names: Sequence[str], excluded: Sequence[str]) -> dict:
    """First-stage strength of the excluded variables: Wald chi2, F = chi2/q and p-value."""
    if not excluded:
        return {"excluded": [], "exclusion_stat": np.nan, "exclusion_df": 0, "exclusion_F": np.nan,
                "exclusion_p": np.nan}
    idx = [list(res.params.index).index(n) for n in sel_names]
    g = res.params.to_numpy()[idx]
    V = res.cov.to_numpy()[np.ix_(idx, idx)]
    try:
        stat = float(g @ np.linalg.solve(V, g))
    except np.linalg.LinAlgError:
        stat = np.nan
    q = len(idx)
    return {"excluded": list(excluded), "exclusion_stat": stat, "exclusion_df": q, "exclusion_F": stat / q,
            "exclusion_p": float(stats.chi2.sf(stat, q))}


class _HeckmanParts:
    """Outcome/selection coefficients, lambda, sigma and rho as functions of a parameter vector."""

    def __init__(self, res: HeckmanResults):
        names = list(res.params.index)
        self.ib = [names.index(c) for c in res.equations["outcome"]]
        self.ig = [names.index(c) for c in res.equations["selection"]]
        self.twostep = "lambda" in names
        if self.twostep:
            self.il, self.sigma = names.index("lambda"), float(res.sigma)
        else:
            self.ia, self.isg = names.index("athrho"), names.index("lnsigma")

    def __call__(self, T: np.ndarray):
        T = np.atleast_2d(T)
        b, g = T[:, self.ib], T[:, self.ig]
        if self.twostep:
            sig = np.full(len(T), self.sigma)
            rho = np.clip(T[:, self.il] / self.sigma, -1.0, 1.0)
        else:
            rho, sig = np.tanh(T[:, self.ia]), np.exp(T[:, self.isg])
        return b, g, rho * sig, sig, rho


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

def _indicator(survey: Survey, col: str, what: str) -> np.ndarray:
    raw = pd.Series(survey.column(col))
    if raw.isna().any():
        raise InputError(f"{what} column {col!r} is missing in {describe_rows(raw.isna().to_numpy(), survey.id_values)}")
    v = pd.to_numeric(raw.astype(float) if raw.dtype == bool else raw, errors="coerce").to_numpy(dtype=float)
    if not np.isin(v, (0.0, 1.0)).all():
        raise InputError(f"{what} column {col!r} must be 0/1 or bool; other values in "
                         f"{describe_rows(~np.isin(v, (0.0, 1.0)), survey.id_values)}")
    return v.astype(bool)


def _migrant_column(survey: Survey, migrant) -> str | None:
    """``migrant="auto"``: the survey's ``migrant`` role if it has one, else None (receipt)."""
    if migrant == "auto":
        col = survey.roles.get("migrant")
        return col if col is not None and col in survey.data.columns else None
    if migrant is not None and migrant not in survey.data.columns:
        raise InputError(f"migrant column {migrant!r} not found; give the column flagging households with a "
                         "member abroad, or migrant=None to select on remittance receipt")
    return migrant


def counterfactual_income(survey: Survey, income_formula: str, selection_formula: str, *,
                          recipient: str = "recipient", migrant: str | None = "auto", income: str = "y_without",
                          output: str = "y_cf", method: str = "twostep", kind: str = "nonselected",
                          draws: int = DEFAULT_DRAWS, seed: int | None = 0, parameter_draws: bool = True,
                          residuals: str = "empirical", weighted: bool = True, cov_type: str | None = None,
                          nonpositive: str = "exclude",
                          add_migrant: Mapping[str, str] | None = None) -> CounterfactualIncome:
    """Counterfactual income without migration for migrant (or remittance-receiving) households.

    Parameters
    ----------
    survey : Survey
        Household rows with per-person income without remittances (``income``) and a
        recipient indicator (``recipient``), e.g. after :func:`remitpov.income.build_income`.
    income_formula, selection_formula : str
        Right-hand sides (formulaic syntax, evaluated on ``survey.data``) of the log-income
        equation (estimated on households without migration) and of the selection probit.
        The selection equation should contain at least one variable excluded from the
        income equation (e.g. a migration-network measure, see :func:`leave_one_out_share`);
        its strength is reported (``diagnostics``).
    recipient : str
        Remittance-receipt indicator (used for selection only when there is no migrant column).
    migrant : str, None or "auto"
        Column flagging households with a member abroad. Selection is modelled on it (the
        income equation is estimated on households WITHOUT a migrant and the migrant
        households are imputed; recipients without a migrant keep ``income``, i.e. lose
        their remittances). ``"auto"`` (default) uses the survey's ``migrant`` role when it
        has one (the synthetic survey's ``has_migrant``), else selects on receipt (the only
        option with the ENIGH concentrado), which is biased: see :data:`RECEIPT_NOTE`.
    income, output : str
        Income column (no remittances) and the name of the counterfactual column.
    method : {"twostep", "ml"}
        Heckman estimator.
    kind : {"nonselected", "unconditional"}
        Main prediction for the imputed households: ``"nonselected"`` (default, the
        recipient-specific ``E[log y0 | X, migrant]`` = ``X b - lambda phi(Zg)/Phi(-Zg)``,
        the counterfactual of the migrant households themselves) or ``"unconditional"``
        (``X b``, the Barham--Boucher/Adams prediction, right only without selection on
        unobservables). The other kind is always imputed too (``alt_columns``, same draws),
        so both are reported and compared.
    draws : int
        M >= 2 (default :data:`DEFAULT_DRAWS` = 20) proper multiple imputations
        ``output_1..output_M``; 0 gives the deterministic prediction ``exp(pred)``
        (conditional median; its SEs treat predictions as fixed and understate).
    seed : int, optional
    parameter_draws : bool
        Draw ALL parameters (outcome, probit, lambda) jointly from ``N(theta_hat, V)`` per
        imputation (default; False holds them fixed, an improper imputation).
    residuals : {"empirical", "local", "normal"}
        ``"empirical"`` (default): standardised selection-corrected residuals of the
        estimation sample, ``(y - X b - lambda imr) / (sigma sqrt(1 - rho^2 delta_1))``,
        resampled with probability proportional to the weight and rescaled to the imputed
        household's conditional standard deviation (``sigma`` or
        ``sigma sqrt(1 - rho^2 delta_0)``): keeps the skewness of log income. ``"local"``:
        the same residuals, donors restricted to the imputed household's weighted decile of
        ``X b`` (:func:`local_resample_index`, for heteroskedastic log income).
        ``"normal"``: the bivariate-normal model's error distribution (truncated for
        ``"nonselected"``).
    weighted : bool
        Household weights in the estimation (pseudo-likelihood) and design-based model SEs.
    cov_type : str, optional
        Heckman covariance (default ``"design"`` when weighted, else ``"unadjusted"``).
    nonpositive : {"exclude", "error"}
        Households in the estimation group with income <= 0 (see module docstring).
    add_migrant : mapping, optional
        Add the absent migrant back (the Barham--Boucher / McKenzie--Gibson--Stillman
        variant): ``{income-equation variable: column with the migrant counted}``, e.g.
        ``{"log_size": "log_size_mig", "n_adults": "n_adults_mig"}``. The imputed
        households' outcome regressors are evaluated with those columns, so the predicted
        per-person income is that of the household WITH the migrant: it shares income with
        one more member and includes the migrant's imputed earnings through the earner /
        adult covariates of the income equation (estimated on households whose members all
        live at home, i.e. a wage equation at the household level). The selection term keeps
        the observed covariates. Poverty is still counted over the recorded members (the
        survey's size gives the person weights). Default None: the convention of
        :data:`ABSENT_MIGRANT_NOTE`.

    Returns
    -------
    CounterfactualIncome
        With ``diagnostics``: exclusion-restriction Wald/F test, the test of no selection on
        unobservables (two-step: t test of lambda; ML: Wald test of atanh rho), rho, the
        mean log gap between the two prediction kinds, and the shares of imputed households
        at zero income (static) and of imputations at zero.
    """
    if not isinstance(survey, Survey):
        raise InputError(f"expected a Survey, got {type(survey).__name__}")
    if kind not in ("unconditional", "nonselected"):
        raise InputError(f"kind must be 'nonselected' or 'unconditional', got {kind!r}")
    if nonpositive not in ("exclude", "error"):
        raise InputError(f"nonpositive must be 'exclude' or 'error', got {nonpositive!r}")
    if residuals not in ("empirical", "local", "normal"):
        raise InputError(f"residuals must be 'empirical', 'local' or 'normal', got {residuals!r}")
    draws = int(draws)
    if draws < 0 or draws == 1:
        raise InputError(f"draws must be 0 (deterministic) or >= 2 (Rubin's rules need M >= 2), got {draws}")
    rf, sf = _rhs(income_formula, "income_formula"), _rhs(selection_formula, "selection_formula")
    df = survey.data
    ids = survey.id_values
    rec = _indicator(survey, recipient, "recipient")
    mcol = _migrant_column(survey, migrant)
    sel_col = mcol or recipient
    treated = _indicator(survey, mcol, "migrant") if mcol else rec
    what = "non-migrant" if mcol else "non-recipient"
    y, logy, est_mask, notes, w, design, cov_type = _estimation_sample(
        survey, income, ~treated, what, nonpositive, weighted, cov_type)
    notes = [ABSENT_MIGRANT_NOTE] + notes
    if mcol:
        notes.append(f"selection on migration ({mcol!r}): income equation on households without a migrant; "
                     f"{int((rec & ~treated).sum())} recipients without a migrant keep {income!r} (no remittances)")
    else:
        notes.append(RECEIPT_NOTE)
    nonpos = ~est_mask
    data = df.copy()
    data["__logy"] = logy
    data["__nomig"] = (~treated).astype(float)
    cov_type = selection_cov_type(cov_type if cov_type is not None else "unadjusted" if w is None else "HC1")
    try:
        model = Heckman.from_formula(f"__logy ~ {rf}", f"__nomig ~ {sf}", data, weights=w)
    except InputError as exc:  # excluded rows have NaN log income and would trip the checks
        raise InputError(f"cannot build the selection model: {exc}") from exc
    fit_kw = {"design": design} if cov_type == "design" else {}
    res = model.fit(method, cov_type=cov_type, **fit_kw)
    res = _relabel(res, what)

    parts = _HeckmanParts(res)
    X, Z = model._X[treated], model._Z[treated]
    if add_migrant:
        X = _migrant_back(model, data, treated, add_migrant)
        notes[0] = (f"absent migrant ADDED BACK for the imputed households: income-equation covariates "
                    f"{dict(add_migrant)}; predicted per-person income of the household with the migrant "
                    "(earnings through the earner/size covariates); poverty counted over the recorded members")
    theta = res.params.to_numpy()
    b0, g0, lam0, sig0, rho0 = (a[0] for a in parts(theta))
    lam0 = float(res.lambda_)  # two-step: the truncated value when |rho| > 1
    y_obs = np.where(np.isfinite(y), y, np.nan)
    alt = "unconditional" if kind == "nonselected" else "nonselected"

    def fill(v):
        out = y_obs.copy()
        out[treated] = v
        return out

    q0 = Z @ g0
    shift0 = -lam0 * inverse_mills(-q0)
    point = {"unconditional": X @ b0, "nonselected": X @ b0 + shift0}
    new = {output: fill(np.exp(point[kind]))}
    wt = survey.weights("household")
    diag = _heckman_diagnostics(res, model, treated, y, wt, income)
    diag["kind_gap_log"] = float(np.average(shift0, weights=wt[treated])) if treated.any() else np.nan
    if draws:
        rng = np.random.default_rng(seed)
        T = parameter_draws_from(res, draws, rng, parameter_draws)
        B, G, lam, sig, rho = parts(T)
        XB, Q = X @ B.T, Z @ G.T  # (n_imputed, M)
        imr0 = inverse_mills(-Q)
        if residuals in ("empirical", "local"):
            eps, pw = _standardised_residuals(model, b0, g0, lam0, sig0, rho0)
            if residuals == "empirical":
                E = eps[resample_index(pw, XB.shape, rng)]
            else:
                s_est = model._s & (model._w > 0)
                E = eps[local_resample_index(model._X[s_est] @ b0, pw, X @ b0, draws, rng)]
            delta0 = imr0 * (imr0 - Q)
            sd_ns = sig * np.sqrt(np.clip(1 - rho**2 * delta0, 0.0, None))
            logs = {"unconditional": XB + sig * E, "nonselected": XB - lam * imr0 + sd_ns * E}
        else:
            v = rng.standard_normal(XB.shape)
            u = rng.standard_normal(XB.shape)
            u_ns = np.clip(special.ndtri(rng.random(XB.shape) * special.ndtr(-Q)), -40, 40)  # u < -Zg
            root = np.sqrt(np.clip(1 - rho**2, 0.0, None))
            logs = {"unconditional": XB + sig * u, "nonselected": XB + sig * (rho * u_ns + root * v)}
        cols = [f"{output}_{m + 1}" for m in range(draws)]
        alt_cols = [f"{output}_{alt}_{m + 1}" for m in range(draws)]
        for m in range(draws):
            new[cols[m]] = fill(np.exp(logs[kind][:, m]))
            new[alt_cols[m]] = fill(np.exp(logs[alt][:, m]))
        imputed = np.exp(logs[kind])
        diag["imputed_zero_share"] = float(np.mean(imputed <= 0)) if imputed.size else 0.0
        notes.append(f"{draws} proper imputations (seed {seed}): parameters "
                     f"{'drawn jointly from N(theta, V) (outcome, probit, lambda)' if parameter_draws else 'FIXED (improper)'}"
                     f", residuals {residuals}; prediction {kind} (also {alt}: {alt_cols[0]}, ...)")
    else:
        cols, alt_cols = [output], [f"{output}_{alt}"]
        new[alt_cols[0]] = fill(np.exp(point[alt]))
        diag["imputed_zero_share"] = 0.0
        notes.append("deterministic prediction (draws=0): conditional median exp(pred) for the imputed households; "
                     "SEs treat it as fixed and understate the uncertainty (the default is draws=20)")
    out = survey.with_columns(**new)
    out = out.with_report("counterfactual",
                          f"selection-corrected counterfactual income without migration for {int(treated.sum())} "
                          f"households ({sel_col!r}; {method} Heckman, log {income} ~ {rf}; selection: "
                          f"{what} ~ {sf}; prediction {kind}; draws {draws}); the others keep "
                          f"their observed {income}", column=output, rows=int(treated.sum()))
    if nonpos.any():
        msg = next(n for n in notes if "excluded from the income equation" in n)
        out = out.with_report("excluded", msg, column=income, rows=int(nonpos.sum()),
                              examples=[] if ids is None else list(ids[nonpos][:3]))
    return CounterfactualIncome(out, res, tuple(cols), output, income, recipient, draws, kind, est_mask,
                                tuple(notes), tuple(alt_cols), alt, sel_col, diag)


def _migrant_back(model, data: pd.DataFrame, treated: np.ndarray, add_migrant: Mapping[str, str]) -> np.ndarray:
    """Outcome regressors of the imputed rows with the columns of ``add_migrant`` substituted."""
    missing = [c for c in list(add_migrant) + list(add_migrant.values()) if c not in data.columns]
    if missing:
        raise InputError(f"add_migrant: columns {missing} not found; map each income-equation variable to a "
                         "column holding its value with the migrant counted as a member")
    sub = data.loc[treated].reset_index(drop=True).copy()
    for var, col in add_migrant.items():
        sub[var] = sub[col].to_numpy()
    bad = sub[list(add_migrant)].isna().any(axis=1).to_numpy()
    if bad.any():
        raise InputError(f"add_migrant: missing values in {list(add_migrant.values())} for "
                         f"{int(bad.sum())} imputed households; fill them (the migrant's characteristics)")
    return np.asarray(model._formula[2].get_model_matrix(sub, na_action="raise"), dtype=float)


def _standardised_residuals(model, b, g, lam, sig, rho):
    """Standardised selection-corrected residuals of the estimation rows and their weights."""
    s = model._s & (model._w > 0)
    q = model._Z[s] @ g
    imr1 = inverse_mills(q)
    r = model._y[s] - model._X[s] @ b - lam * imr1
    sd = sig * np.sqrt(np.clip(1 - rho**2 * imr1 * (imr1 + q), 1e-6, None))
    eps = r / sd
    w = model._w[s]
    return eps - np.average(eps, weights=w), w


def _heckman_diagnostics(res: HeckmanResults, model, treated, y, wt, income) -> dict:
    on = set(res.equations["outcome"])
    sel = [n.split(":", 1)[1] for n in res.equations["selection"]]
    excluded = [n for n in sel if n not in on]
    diag = {"income": income, **wald_excluded(res, [f"selection:{n}" for n in excluded], excluded)}
    if "lambda" in res.params.index:
        lam = res.lambda_
        z = lam.estimate / lam.se if lam.se > 0 else np.nan
        diag.update(selection_test="t test of lambda = 0", selection_stat=float(z),
                    selection_p=float(2 * stats.norm.sf(abs(z))), rho=float(res.rho), **{"lambda": lam.estimate})
    else:
        a, se = float(res.params["athrho"]), float(np.sqrt(res.cov.loc["athrho", "athrho"]))
        diag.update(selection_test="Wald z of atanh(rho) = 0", selection_stat=a / se,
                    selection_p=float(2 * stats.norm.sf(abs(a / se))), rho=float(res.rho),
                    **{"lambda": float(res.lambda_)})
    yt = y[treated]
    diag["static_zero_share"] = float(np.average(~(yt > 0), weights=wt[treated])) if treated.any() else 0.0
    diag["n_imputed"] = int(treated.sum())
    return diag


def _relabel(res: HeckmanResults, what: str = "non-recipients") -> HeckmanResults:
    """Readable outcome name (the model is fitted on ``__logy`` / ``__nomig``)."""
    from dataclasses import replace

    return replace(res, dep_var=f"log income ({what}s)")


# ----------------------------------------------------------------------------- Rubin
def rubin(tables: Sequence[EstimateTable], title: str | None = None) -> EstimateTable:
    """Combine M >= 2 completed-data tables with Rubin's (1987) rules.

    ``Q = mean_m Q_m``, ``U = mean_m U_m`` (within), ``B = cov_m(Q_m)`` (between, divisor
    M-1), ``T = U + (1 + 1/M) B`` (full matrices, so covariances between rows are
    combined too). Degrees of freedom: Barnard & Rubin (1999) per estimate,
    ``nu = (1/nu_m + 1/nu_obs)^-1`` with ``nu_m = (M-1)/r^2``, ``r = (1+1/M) B/T`` and
    ``nu_obs = (df+1)/(df+3) df (1-r)`` (``df``: the completed-data degrees of freedom of
    that row); rows that do not vary between imputations (``B = 0``: e.g. observed income
    estimated jointly) keep the completed-data df. The table carries these per-row df
    (``table.df`` is an array), so each row's interval uses its own df and a contrast the
    smallest df of the rows it combines. ``extra`` gets ``fmi`` (fraction of missing
    information, ``(1+1/M)B/T``) and ``df_rubin`` (the same per-row df).
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
        df = np.broadcast_to(np.asarray(t0.df, dtype=float), Qbar.shape)  # completed-data df per row
        nu_m = (M - 1) / r**2
        nu_obs = (df + 1) / (df + 3) * df * (1 - r)
        nu = 1 / (1 / nu_m + 1 / nu_obs)
        # infinite completed-data df (normal intervals): nu_obs = inf, nu = nu_m (Rubin 1987)
        nu = np.where(np.isfinite(df), nu, nu_m)
    pos = np.diag(B) > 1e-12 * np.maximum(np.abs(np.diag(U)), 1e-300)  # rows that differ between imputations
    df_rows = np.where(pos, nu, df)
    extra = pd.DataFrame({"fmi": np.where(pos, r, 0.0), "df_rubin": df_rows})
    if t0.extra is not None:
        for c in t0.extra.columns:
            if c not in extra:
                extra[c] = np.mean([t.extra[c].to_numpy(dtype=float) for t in tables], axis=0)
    span = f"{np.min(df_rows[pos]):.1f} to {np.max(df_rows[pos]):.1f}" if pos.any() else "none varies"
    notes = tuple(t0.notes) + (f"combined over M={M} imputations with Rubin's rules (T = U + (1+1/M) B); "
                               f"each row's interval uses its own Barnard-Rubin df (column df: {span})",)
    return EstimateTable(t0.keys, Qbar, T, df_rows, t0.level, t0.dist, t0.design, title or t0.title, notes, extra)


# ----------------------------------------------------------------------------- poverty
def _default_estimator(line, alpha, by, level, strict) -> Callable:
    def est(survey, incomes):
        from ..poverty import fgt

        return fgt(survey, incomes, line, alpha, by, level=level, strict=strict)

    return est


def estimator_or_fgt(estimator, line, alpha, by, level, strict) -> Callable:
    """``estimator`` if given, else :func:`remitpov.poverty.fgt` at ``line`` (required then)."""
    if estimator is not None:
        return estimator
    if line is None:
        raise InputError("give a poverty line (or an estimator)")
    return _default_estimator(line, alpha, by, level, strict)


def counterfactual_fgt(cf: CounterfactualIncome, line=None, alpha=(0, 1, 2), by=None, *,
                       concepts: Mapping[str, str] | None = None, estimator: Callable | None = None,
                       level: str = "person", strict: bool = True, concept: str = "selection",
                       alternative: bool = False, imputed: Mapping[str, Sequence[str]] | None = None,
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
    alternative : bool
        Also estimate the other prediction kind (``cf.alt_columns``, same draws) as concept
        ``f"{concept}_{cf.alt_kind}"``.
    imputed : mapping, optional
        Other imputed incomes ``{label: [column of draw 1, ..., draw M]}`` with the same M
        (e.g. another model's imputations), estimated jointly draw by draw.
    progress : callable, optional
        ``progress(done, total)`` after each imputed income is estimated (once per draw).

    Returns
    -------
    EstimateTable
        With draws: Rubin's combination (:func:`rubin`) of the M completed-data tables.
    """
    estimator = estimator_or_fgt(estimator, line, alpha, by, level, strict)
    concepts = dict(concepts or {})
    sets = {concept: list(cf.columns)}
    if alternative and cf.alt_columns:
        sets[f"{concept}_{cf.alt_kind}"] = list(cf.alt_columns)
    for lab, cols in (imputed or {}).items():
        if len(cols) != len(cf.columns):
            raise InputError(f"imputed[{lab!r}] has {len(cols)} columns, the counterfactual {len(cf.columns)} draws; "
                             "impute both with the same draws")
        sets[lab] = list(cols)
    dup = set(sets) & set(concepts)
    if dup or len(sets) != len(set(sets)):
        raise InputError(f"concept label(s) {sorted(dup)} used twice")
    tables = []
    for m, col in enumerate(cf.columns):
        inc = dict(concepts)
        inc.update({lab: cols[m] for lab, cols in sets.items()})
        tables.append(estimator(cf.survey, inc))
        if progress is not None:
            progress(len(tables), len(cf.columns))
    if len(tables) == 1:
        return tables[0]
    out = rubin(tables, title=tables[0].title + " (multiple imputation)")
    M = len(tables)
    fmi = float(np.nanmax(out.extra["fmi"].to_numpy(dtype=float)))
    if fmi > M / 100:
        from dataclasses import replace

        out = replace(out, notes=tuple(out.notes) + (
            f"largest fraction of missing information {fmi:.2f} > M/100 = {M / 100:.2f}: White, Royston & Wood "
            f"(2011) suggest M >= 100 x fmi = {int(np.ceil(100 * fmi))} imputations for reproducible SEs",))
    return out


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
            t = gini(survey, col, by, level=level, deff=True)
            keys = t.keys.drop(columns=[c for c in ("variable",) if c in t.keys.columns])
            keys.insert(1, "concept", label)  # the imputed column's name varies by draw: use the label
        else:
            t = compare_inequality(survey, incomes, measure="gini", by=by, level=level, deff=True)
            keys = t.keys.drop(columns=[c for c in ("variable",) if c in t.keys.columns])
        return _replace(t, keys=keys, title="Gini coefficient")

    return counterfactual_fgt(cf, concepts=concepts, estimator=est, concept=concept)


#: Default grid of fixed correlations for :func:`rho_sensitivity`.
RHO_GRID = (-0.6, -0.4, -0.2, 0.0, 0.2, 0.4, 0.6)


def remittance_counterfactual_table(survey: Survey, line, income_formula: str, selection_formula: str, *,
                                    alpha=(0, 1, 2), by=None, observed: str = "y_with", static: str = "y_without",
                                    recipient: str = "recipient", draws: int = DEFAULT_DRAWS, seed: int | None = 0,
                                    method: str = "twostep", kind: str = "nonselected", level: str = "person",
                                    strict: bool = True, estimator: Callable | None = None,
                                    rho_grid: Sequence[float] | None = RHO_GRID,
                                    progress: Callable[[int, int], None] | None = None,
                                    **kwargs) -> tuple[EstimateTable, CounterfactualIncome]:
    """FGT(0,1,2) with SEs under (a) observed income, (b) the static counterfactual and (c) the
    selection-corrected counterfactual, in one table (key ``concept`` = ``observed``,
    ``static``, ``selection`` (the main prediction ``kind``, default recipient-specific) and
    ``selection_<other kind>``), estimated jointly (one vcov; with draws combined by Rubin's
    rules), so differences between concepts get SEs through ``table.contrast``.

    The returned counterfactual's ``diagnostics`` (printed by ``cf.summary()`` and added to
    the table's notes) add to those of :func:`counterfactual_income`: the FGT0 contrast
    between the two prediction kinds with its SE (they *disagree* when p < 0.05, i.e. when
    selection on unobservables matters for poverty), the direction check (a
    :class:`CounterfactualWarning` when the counterfactual moves poverty in the direction
    opposite to the static one), and the sensitivity band: FGT under a fixed ``rho`` for
    each value of ``rho_grid`` (:func:`rho_sensitivity`; None to skip).

    Example (ENIGH 2010 rural, as in ``tests/test_econometrics_counterfactual.py``)::

        from remitpov.config import shared_path
        from remitpov.income import build_income
        from remitpov.io.enigh import read_enigh
        from remitpov.econometrics.counterfactual import (ENIGH_RURAL_SPEC, enigh_covariates,
                                                          remittance_counterfactual_table)

        s = read_enigh(shared_path("data", "enigh2010_rural", "Conc2010_rural.dbf"))
        s = build_income(s, scale="per_capita", period="month")
        s = enigh_covariates(s).with_lonely_psu("adjust")   # singleton-PSU strata in the rural file
        table, cf = remittance_counterfactual_table(s, 1328.51, **ENIGH_RURAL_SPEC, seed=1)
        print(table.summary())      # fgt0/1/2 x observed/static/selection/selection_unconditional
        print(cf.summary())         # the selection model and the diagnostics

    1328.51 pesos per person per month is CONEVAL's 2010 rural "linea de bienestar"
    (applied here to per-capita income). ``progress(done, total)``, if given, is called
    after each imputation draw's estimates (see :func:`counterfactual_fgt`).

    Returns
    -------
    (EstimateTable, CounterfactualIncome)
    """
    cf = counterfactual_income(survey, income_formula, selection_formula, recipient=recipient, income=static,
                               method=method, kind=kind, draws=draws, seed=seed, **kwargs)
    tab = counterfactual_fgt(cf, line, alpha, by, concepts={"observed": observed, "static": static},
                             estimator=estimator, level=level, strict=strict, concept="selection",
                             alternative=True, progress=progress)
    diag = dict(cf.diagnostics)
    diag.update(table_diagnostics(tab, "selection", f"selection_{cf.alt_kind}", cf.kind))
    if rho_grid is not None:
        diag.update(band_diagnostics(rho_sensitivity(cf, line, rho_grid, alpha=alpha, by=by, estimator=estimator,
                                                     level=level, strict=strict, seed=seed)))
    from dataclasses import replace

    cf = replace(cf, diagnostics=diag)
    return replace(tab, notes=tuple(tab.notes) + tuple(format_diagnostics(diag)) + tuple(cf.notes)), cf


def _row(tab: EstimateTable, measure: str, concept: str) -> int | None:
    k = tab.keys
    hit = np.flatnonzero((k["measure"].astype(str) == measure).to_numpy() & (k["concept"].astype(str) == concept).to_numpy())
    return int(hit[0]) if hit.size else None


def table_diagnostics(tab: EstimateTable, main: str, alt: str | None, kind: str, *, observed: str = "observed",
                      static: str = "static") -> dict:
    """FGT0 checks on a counterfactual table: the two prediction kinds' contrast and the direction.

    ``kind_contrast``: FGT0(main) - FGT0(alt) with its SE from the joint (Rubin) covariance
    and a normal p-value. ``direction``: FGT0 changes of the static and of the
    counterfactual concept with respect to ``observed``; ``opposite`` when their signs differ
    (a :class:`CounterfactualWarning` is issued: migration would *raise* poverty according to
    one and lower it according to the other -- check the exclusion restriction and rho).
    """
    out = {}
    i, o, s = _row(tab, "fgt0", main), _row(tab, "fgt0", observed), _row(tab, "fgt0", static)
    j = _row(tab, "fgt0", alt) if alt else None
    if i is not None and j is not None:
        c = np.zeros(len(tab.estimates))
        c[i], c[j] = 1.0, -1.0
        e = tab.contrast(c)
        p = float(2 * stats.norm.sf(abs(e.estimate / e.se))) if e.se > 0 else np.nan
        out["kind_contrast"] = {"estimate": e.estimate, "se": e.se, "p": p, "main": kind}
    if i is not None and o is not None and s is not None:
        d_s = float(tab.estimates[s] - tab.estimates[o])
        d_c = float(tab.estimates[i] - tab.estimates[o])
        opposite = bool(d_s * d_c < 0)
        out["direction"] = {"static": d_s, "counterfactual": d_c, "opposite": opposite}
        if opposite:
            warnings.warn(f"the counterfactual moves FGT0 by {d_c:+.4f} from observed income, the static "
                          f"counterfactual by {d_s:+.4f}: opposite directions (migration would {'raise' if d_c < 0 else 'lower'} "
                          "poverty). Check the exclusion restriction's strength, rho and the specification before "
                          "reporting it", CounterfactualWarning, stacklevel=3)
    return out


def rho_sensitivity(cf: CounterfactualIncome, line=None, grid: Sequence[float] = RHO_GRID, *, alpha=(0, 1, 2),
                    by=None, estimator: Callable | None = None, level: str = "person", strict: bool = True,
                    draws: int = 10, seed: int | None = 0) -> pd.DataFrame:
    """Counterfactual poverty when the error correlation ``rho`` is FIXED at each value of ``grid``.

    For each ``rho``: ``lambda = rho sigma_hat``; the outcome coefficients are re-estimated
    by weighted least squares of ``log y - lambda imr(Z g_hat)`` on ``X`` (households
    without migration), and the imputed households get the recipient-specific prediction
    ``X b(rho) - lambda phi(Zg)/Phi(-Zg)`` plus standardised empirical residuals rescaled
    by ``sigma sqrt(1 - rho^2 delta_0)``; the same residual draws for every ``rho`` (common
    random numbers), point estimates averaged over ``draws``. A band of plausible
    correlations shows how much the conclusion rests on the unidentified-in-practice
    ``rho`` (with a weak exclusion restriction). Returns a long frame (``rho``, measure
    keys, ``estimate``).
    """
    estimator = estimator_or_fgt(estimator, line, alpha, by, level, strict)
    res = cf.model
    model = res.model
    if not isinstance(model, Heckman):
        raise InputError("rho_sensitivity needs a binary Heckman counterfactual (counterfactual_income)")
    parts = _HeckmanParts(res)
    _, g, _, sig, _ = (a[0] for a in parts(res.params.to_numpy()))
    sig = float(res.sigma)
    treated = cf.survey.data[cf.selection].to_numpy().astype(bool)
    X, Z = model._X, model._Z
    s = model._s & (model._w > 0)
    w = model._w[s]
    q1, q0 = Z[s] @ g, Z[treated] @ g
    imr1, imr0 = inverse_mills(q1), inverse_mills(-q0)
    d1, d0 = imr1 * (imr1 + q1), imr0 * (imr0 - q0)
    Xs = X[s]
    A = (Xs * w[:, None]).T @ Xs
    rng = np.random.default_rng(seed)
    idx = rng.random((int(treated.sum()), draws))
    base = np.asarray(pd.to_numeric(pd.Series(cf.survey.column(cf.income)), errors="coerce"), dtype=float)
    cols = {}
    for r in grid:
        lam = r * sig
        b = np.linalg.solve(A, (Xs * w[:, None]).T @ (model._y[s] - lam * imr1))
        eps = (model._y[s] - Xs @ b - lam * imr1) / (sig * np.sqrt(np.clip(1 - r**2 * d1, 1e-6, None)))
        eps = eps - np.average(eps, weights=w)
        c = np.cumsum(w)
        E = eps[np.minimum(np.searchsorted(c, idx * c[-1], side="right"), len(w) - 1)]
        logy = (X[treated] @ b - lam * imr0)[:, None] + sig * np.sqrt(np.clip(1 - r**2 * d0, 0, None))[:, None] * E
        for m in range(draws):
            v = base.copy()
            v[treated] = np.exp(logy[:, m])
            cols[(float(r), m)] = v
    return band_estimates(cf.survey, cols, grid, draws, estimator)


def band_diagnostics(band: pd.DataFrame) -> dict:
    """``diagnostics`` entries of a sensitivity band: the frame and its FGT0 values by rho."""
    f0 = band[band["measure"] == "fgt0"]
    return {"rho_sensitivity": band, "rho_band": {"rho": f0["rho"].tolist(), "fgt0": f0["estimate"].tolist()}}


def band_estimates(survey: Survey, cols: Mapping, grid: Sequence[float], draws: int, estimator: Callable) -> pd.DataFrame:
    """Point estimates of ``estimator`` on the incomes ``cols[(rho, m)]``, averaged over the draws m."""
    names = {key: f"__rho{i}" for i, key in enumerate(cols)}
    sv = survey.with_columns(**{names[k]: v for k, v in cols.items()})
    frames = [estimator(sv, {f"{r:+.2f}": names[(float(r), m)] for r in grid}).to_frame() for m in range(draws)]
    est = np.mean([f["estimate"].to_numpy(float) for f in frames], axis=0)
    out = frames[0][[c for c in frames[0].columns if c in ("measure", "concept", "domain", "line")]].copy()
    out["rho"] = out.pop("concept").astype(float)
    out["estimate"] = est
    return out.reset_index(drop=True)
