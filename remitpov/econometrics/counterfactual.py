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
log-income residuals are skewed, and normal draws biased the headcount by about +1 point),
rescaled to the imputed regime's variance: they keep the selected regime's skewness (+0.0012
of FGT0 against the exact normal draws on the model's own DGP). ``"selection"``
(:mod:`remitpov.econometrics.counterfactual_residuals`) resamples the raw residuals with
selection weights (importance resampling): the empirical shape of the outcome error with the
imputed regime's selection, exact under joint normality; it removes that bias but, with a
heavy left tail of log income and a sizeable ``rho``, it upweights the extreme residuals and
raised FGT1/FGT2 by 1.4/1.8 points on the multinomial synthetic DGP, so it is not the default
(``validation/RESULTS.md``, session 6). ``"local"`` restricts the empirical donors to the
same decile of ``X b``; ``"normal"`` uses the model's normal errors. ``draws=0``
gives the deterministic conditional-median prediction ``exp(pred)``, whose SEs treat
predictions as fixed and understate the uncertainty.

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

from typing import Callable, Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import special, stats

from ..exceptions import InputError
from ..results import EstimateTable
from ..survey import Survey
from .counterfactual_draws import (ABSENT_MIGRANT_NOTE, DEFAULT_DRAWS, RECEIPT_NOTE, HeckmanParts,  # noqa: F401
                                   check_draws, local_resample_index, parameter_draws_from, resample_index,
                                   wald_excluded)
from .counterfactual_results import (CounterfactualIncome, band_diagnostics, band_estimates,  # noqa: F401
                                     counterfactual_fgt, counterfactual_gini, estimator_or_fgt, format_diagnostics,
                                     rubin, table_diagnostics)
from .counterfactual_sample import (ENIGH_RURAL_SPEC, MEXICO_MIGRATION_REGIONS, CounterfactualWarning,  # noqa: F401
                                    enigh_covariates, estimation_sample, imputed_survey, indicator_column,
                                    leave_one_out_share, migrant_column, rhs_terms)
from .counterfactual_residuals import selection_resample
from .heckman import Heckman, HeckmanResults, inverse_mills, selection_cov_type

__all__ = ["CounterfactualIncome", "CounterfactualWarning", "counterfactual_income", "counterfactual_fgt", "counterfactual_gini", "rubin",
           "remittance_counterfactual_table", "leave_one_out_share", "ENIGH_RURAL_SPEC",
           "MEXICO_MIGRATION_REGIONS", "enigh_covariates"]


#: Residual rules of the imputations (``residuals=`` of :func:`counterfactual_income`).
RESIDUAL_RULES = ("empirical", "selection", "local", "normal")


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
    residuals : {"empirical", "selection", "local", "normal"}
        ``"selection"``: selection-weighted empirical residuals (importance resampling,
        :mod:`remitpov.econometrics.counterfactual_residuals`): the raw residuals
        ``y - X b`` of the estimation sample, each imputed household drawing donor ``j``
        with probability proportional to
        ``w_j Phi(t_j) / P(s=1 | u_j, t_j) * P(s=0 | u_j, t_i)``, ``t = Z g`` and
        ``P(s=1 | u, t) = Phi((t + rho u/sigma)/sqrt(1 - rho^2))``; at the estimate the
        imputation is ``X b + u*`` (``u*`` carries the selection shift; the unconditional
        kind draws from ``w_j Phi(t_j)/P(s=1 | u_j, t_j)``). ``u*`` is drawn once at the
        estimate and moved to each imputation's drawn parameters by the normal model's
        conditional mean and SD (``-lambda imr0``, ``sigma sqrt(1 - rho^2 delta_0)``), so
        the parameter uncertainty enters as with ``"normal"``. Assumes, as the Heckman
        model does, that the selection error given the outcome error is
        ``N(rho u/sigma, 1 - rho^2)``, but not that the outcome error is normal: exact under
        joint normality, keeps the empirical shape otherwise. Effective donor sample sizes
        in ``diagnostics["selection_residuals"]``. Unbiased for FGT0 on the model's own DGP
        where ``"empirical"`` is not, but sensitive to a heavy left tail of log income when
        ``rho`` is sizeable (FGT1/FGT2; ``validation/RESULTS.md``, session 6).
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
    if residuals not in RESIDUAL_RULES:
        raise InputError(f"residuals must be one of {', '.join(map(repr, RESIDUAL_RULES))}, got {residuals!r}")
    draws = check_draws(draws)
    rf, sf = rhs_terms(income_formula, "income_formula"), rhs_terms(selection_formula, "selection_formula")
    df = survey.data
    ids = survey.id_values
    rec = indicator_column(survey, recipient, "recipient")
    mcol = migrant_column(survey, migrant)
    sel_col = mcol or recipient
    treated = indicator_column(survey, mcol, "migrant") if mcol else rec
    what = "non-migrant" if mcol else "non-recipient"
    y, logy, est_mask, notes, w, design, cov_type = estimation_sample(
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

    parts = HeckmanParts(res)
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
        if residuals == "selection":
            s_est = model._s & (model._w > 0)
            sd = selection_resample(model._y[s_est] - model._X[s_est] @ b0, model._Z[s_est] @ g0, model._w[s_est],
                                    q0, wt[treated], rho0, sig0, draws, rng)
            imr_hat = inverse_mills(-q0)[:, None]
            sd_hat = sig0 * np.sqrt(np.clip(1 - rho0**2 * imr_hat * (imr_hat - q0[:, None]), 1e-6, None))
            delta0 = imr0 * (imr0 - Q)
            sd_m = sig * np.sqrt(np.clip(1 - rho**2 * delta0, 0.0, None))
            shape = (sd.residuals[sd.nonselected] + lam0 * imr_hat) / sd_hat  # standardised at theta_hat
            logs = {"unconditional": XB + sig / sig0 * sd.residuals[sd.unconditional],
                    "nonselected": XB - lam * imr0 + sd_m * shape}
            diag["selection_residuals"] = sd.diagnostics()
            notes.append(sd.note())
        elif residuals in ("empirical", "local"):
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
    out = imputed_survey(survey, new,
                         f"selection-corrected counterfactual income without migration for {int(treated.sum())} "
                         f"households ({sel_col!r}; {method} Heckman, log {income} ~ {rf}; selection: "
                         f"{what} ~ {sf}; prediction {kind}; draws {draws}); the others keep "
                         f"their observed {income}", output=output, rows=int(treated.sum()), notes=notes,
                         nonpos=nonpos, income=income, ids=ids)
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


def rho_sensitivity(cf: CounterfactualIncome, line=None, grid: Sequence[float] = RHO_GRID, *, alpha=(0, 1, 2),
                    by=None, estimator: Callable | None = None, level: str = "person", strict: bool = True,
                    draws: int = 10, seed: int | None = 0, residuals: str | None = None) -> pd.DataFrame:
    """Counterfactual poverty when the error correlation ``rho`` is FIXED at each value of ``grid``.

    For each ``rho``: ``lambda = rho sigma_hat``; the outcome coefficients are re-estimated
    by weighted least squares of ``log y - lambda imr(Z g_hat)`` on ``X`` (households
    without migration), and the imputed households get the recipient-specific prediction
    ``X b(rho) - lambda phi(Zg)/Phi(-Zg)`` plus standardised empirical residuals rescaled
    by ``sigma sqrt(1 - rho^2 delta_0)`` (``residuals="empirical"``), or ``X b(rho) + u*``
    with ``u*`` the selection-weighted raw residuals at that ``rho``
    (``residuals="selection"``, :mod:`remitpov.econometrics.counterfactual_residuals`);
    ``None`` (default): the rule ``cf`` was imputed with. The same uniforms for every
    ``rho`` (common random numbers; at ``rho = 0`` both rules give the same draws), point
    estimates averaged over ``draws``. A band of plausible
    correlations shows how much the conclusion rests on the unidentified-in-practice
    ``rho`` (with a weak exclusion restriction). Returns a long frame (``rho``, measure
    keys, ``estimate``).
    """
    estimator = estimator_or_fgt(estimator, line, alpha, by, level, strict)
    if residuals is None:
        residuals = "selection" if "selection_residuals" in cf.diagnostics else "empirical"
    if residuals not in ("empirical", "selection"):
        raise InputError(f"rho_sensitivity: residuals must be 'empirical' or 'selection', got {residuals!r}")
    res = cf.model
    model = res.model
    if not isinstance(model, Heckman):
        raise InputError("rho_sensitivity needs a binary Heckman counterfactual (counterfactual_income)")
    parts = HeckmanParts(res)
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
        if residuals == "selection":
            sd = selection_resample(model._y[s] - Xs @ b, q1, w, q0, cf.survey.weights("household")[treated], r, sig,
                                    draws, np.random.default_rng(seed))
            logy = (X[treated] @ b)[:, None] + sd.residuals[sd.nonselected]
        else:
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
