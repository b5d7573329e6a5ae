"""The multinomial counterfactual: no-migration income of households in every non-base
migration status by multiple imputation from a :class:`~remitpov.econometrics.multinomial.MultinomialSelection` fit,
its FGT table and its sensitivity to the correlation ``rho`` (the method is stated in
:mod:`remitpov.econometrics.multinomial`, section "Counterfactual").

Conventions: as :mod:`remitpov.econometrics.counterfactual` (the same estimation-sample and
right-hand-side rules, Rubin's rules over draws).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np
import pandas as pd
from scipy import stats

from ..exceptions import InputError, describe_rows
from ..survey import Survey
from .counterfactual_draws import (ABSENT_MIGRANT_NOTE, DEFAULT_DRAWS, central_difference_jacobian, check_draws,
                                   linearised_draws, parameter_draw_rule, parameter_draws_from, resample_index,
                                   wald_excluded)
from .counterfactual_results import CounterfactualIncome, format_diagnostics
from .counterfactual_sample import estimation_sample, imputed_survey, rhs_terms
from .multinomial_model import MultinomialSelection
from .multinomial_terms import METHODS, correction_terms, softmax
from .selection_common import selection_cov_type

__all__ = ["MultinomialCounterfactualIncome", "multinomial_counterfactual_income", "multinomial_counterfactual_table",
           "multinomial_rho_sensitivity"]


@dataclass(frozen=True, eq=False)
class MultinomialCounterfactualIncome(CounterfactualIncome):
    """Result of :func:`multinomial_counterfactual_income`.

    A :class:`~remitpov.econometrics.counterfactual.CounterfactualIncome` (so
    :func:`~remitpov.econometrics.counterfactual.counterfactual_fgt` and
    ``counterfactual_gini`` accept it); ``recipient`` holds the status column and
    ``model`` a :class:`~remitpov.econometrics.multinomial.MultinomialSelectionResults`. Extra attributes: ``status``,
    ``base``, ``method``.
    """

    status: str = "migration_status"
    base: str = "none"
    method: str = "bfg"

    def summary(self) -> str:
        st = self.survey.data[self.status].astype(str)
        counts = st.value_counts().reindex(list(self.model.model.categories)).fillna(0).astype(int)
        lines = ["Multinomial selection-corrected counterfactual income (no migration)",
                 f"income: {self.income!r}; statuses: " + ", ".join(f"{k} {v}" for k, v in counts.items())
                 + f"; base {self.base!r}; correction: {self.method}; prediction: {self.kind}; draws: {self.draws}; "
                   f"columns: {', '.join(self.columns[:3])}" + (" ..." if len(self.columns) > 3 else ""),
                 str(self.model.summary)]
        lines += ["diagnostics:"] + [f"  {line}" for line in format_diagnostics(self.diagnostics)]
        lines += [f"note: {n}" for n in self.notes]
        return "\n".join(lines)

    def __repr__(self) -> str:
        return (f"MultinomialCounterfactualIncome(output={self.output!r}, method={self.method!r}, draws={self.draws}, "
                f"kind={self.kind!r}, rows={self.survey.n})")


def multinomial_counterfactual_income(survey: Survey, income_formula: str, selection_formula: str, *,
                                      status: str = "migration_status", base="none", categories=None,
                                      income: str = "y_without", output: str = "y_mcf", method: str = "dmf",
                                      kind: str = "conditional", draws: int = DEFAULT_DRAWS, seed: int | None = 0,
                                      parameter_draws: str | bool = "full", residuals: str = "empirical",
                                      weighted: bool = True, cov_type: str | None = None,
                                      nonpositive: str = "exclude",
                                      residual_variance: str = "matched") -> MultinomialCounterfactualIncome:
    """Counterfactual no-migration income for households in every non-base migration status.

    The multinomial analogue of
    :func:`~remitpov.econometrics.counterfactual.counterfactual_income`: a
    :class:`~remitpov.econometrics.multinomial.MultinomialSelection` model of ``log(income)`` on base-status households
    (``status == base``, e.g. no migrants) with a multinomial-logit correction, whose
    prediction replaces the income of internal- and international-migrant households.

    Parameters
    ----------
    survey : Survey
        Household rows with a status column and per-person income *without migrants'
        transfers* (``income``; for base households their observed income).
    income_formula, selection_formula : str
        Right-hand sides (formulaic) of the log-income equation and of the multinomial
        logit; the latter should contain variables excluded from the former (e.g.
        internal and international migration networks); their joint strength is reported.
    status, base, categories
        Status column, base status, optional full list of statuses (see
        :class:`~remitpov.econometrics.multinomial.MultinomialSelection`).
    income, output : str
        Input income column and name of the counterfactual column.
    method : {"dmf", "bfg", "dmf1", "lee"}
        Correction (module docstring). Default ``"dmf"`` (Dubin--McFadden, ``J - 1``
        terms): in the Monte Carlo study (``validation/``, 3,000 households, a DGP built on
        BFG's own assumption) the ``J``-term ``"bfg"`` and ``"dmf1"`` corrections are nearly
        collinear, their coefficients swing from sample to sample and the status-specific
        prediction is biased by about +7 points of FGT0 (SD 5.6); ``"dmf"`` is unbiased.
    kind : {"conditional", "unconditional"}
        ``"conditional"`` (default, status-specific): ``X b + E[u | status]``, the
        no-migration income of the migrant households themselves; ``"unconditional"``:
        ``X b`` (biased under selection on unobservables). The other kind is imputed too
        (``alt_columns``, same draws).
    draws : int
        M >= 2 (default 20, see :data:`~remitpov.econometrics.counterfactual.DEFAULT_DRAWS`)
        proper imputations ``output_1..output_M``: ALL parameters (outcome, correction and
        multinomial-logit coefficients) drawn jointly from ``N(theta_hat, V)`` (the two-step
        covariance), the log prediction at the draw (``parameter_draws``) plus a residual;
        0: deterministic ``exp(prediction)`` (SEs treat it as fixed).
    parameter_draws : {"full", "linear", "fixed"} or bool
        How a parameter draw ``theta_m`` enters the log prediction ``pred`` of imputation ``m``.
        ``"full"`` (default; or True): ``pred(theta_m)``, the correction terms recomputed from
        the drawn logit. ``"linear"``: ``pred(theta_hat) + G (theta_m - theta_hat)`` with ``G =
        d pred / d theta`` at ``theta_hat`` (central differences;
        :func:`~remitpov.econometrics.counterfactual_draws.linearised_draws`): mean exactly
        ``pred(theta_hat)``, covariance the delta-method ``G V G'``, the same (first-order)
        approximation as ``N(theta_hat, V)`` itself. The two differ by the curvature of the
        correction terms (Jensen), which is negligible here: -0.0002 of FGT0 on the model's own
        DGP (``validation/mn_bias.py``, MC SE 0.00001). ``"fixed"`` (or False): parameters held
        at the estimate (improper; for comparisons only). The unconditional prediction ``X b``
        is linear in the parameters: the same under "linear" and "full".
    residual_variance : {"matched", "base"}
        Variance of the residual added to household ``i``'s log prediction (the drawn base
        residual, standardised, times an SD per household). The prediction itself varies
        around the population one over the sampling distribution of ``theta_hat`` and over the
        parameter draw, each with the delta-method variance ``g_i = G_i V G_i'`` (``G_i = d
        pred_i / d theta``, central differences), so with the residuals as drawn (``"base"``,
        the only rule before this option) household ``i``'s imputed log income has variance
        ``s^2 + 2 g_i`` instead of ``s^2`` (``s^2``: the base residuals' weighted variance),
        and a headcount with the line below the median is biased upwards: +0.44 points of FGT0
        on the DMF model's own DGP with a status-invariant residual, where ``g_i`` averages
        about 12 % of ``s^2`` (``validation/mn_bias.py``). ``"matched"`` (default): variance
        ``s^2 - 2 g_i`` (``s^2 - g_i`` with fixed parameters; floor 0, share reported), so the
        imputed log income has variance ``s^2`` to first order and every additively
        decomposable index of the imputed incomes (FGT, a mean) is unbiased to first order for a
        normal residual (-0.07 points, MC SE 0.17, there). The parameter draws, hence the
        between-imputation variance, are unchanged. Indices that depend on the spread ACROSS
        households (Gini) are over-corrected where much of ``G_i (theta_m - theta_hat)`` is a
        shift common to all households (Gini error +0.005 with "base", -0.003 with "matched"
        on that DGP). Diagnostics: ``parameter_variance_share`` (mean ``g_i / s^2``) and
        ``residual_floor_share_<kind>``.
    residuals : {"empirical", "normal", "dmf"}
        ``"empirical"`` (default): the base group's second-stage residuals, resampled with
        probability proportional to the weight; ``"normal"``: ``N(0, s^2)`` with ``s^2``
        their weighted variance; either is standardised and scaled per household by
        ``residual_variance``, and has the base group's distribution for every status.
        ``"dmf"`` (``method="dmf"`` only): the Dubin--McFadden model's own error given the
        household's status, ``c' K (eps_j - eps_0)_j - C(P, status) c + nu``: the Gumbel choice
        errors drawn from the fitted logit given the status
        (:func:`_gumbel_given_choice`), ``nu`` normal with variance ``s^2`` minus the Gumbel
        part's base-group average (quasi-Monte Carlo, over at most 400 evenly spaced base
        households), scaled by ``residual_variance``
        (the parameter-noise variance is taken from ``nu``). Exact where the outcome error IS
        linear in the Gumbel errors plus independent normal noise (FGT0/FGT1/Gini errors
        -0.0012/-0.0001/-0.0012 on that DGP, against +0.0016/+0.0050/+0.0033 with
        "empirical"), but biased where only the conditional mean is (+0.0064/+0.0017/+0.0117
        with a status-invariant residual; +0.0098/+0.0059/+0.0081 on the synthetic survey): an option, not the default
        (``validation/RESULTS.md``, session 6).
    weighted : bool
        Household weights (pseudo-likelihood) and design-based model SEs
        (``cov_type="design"``) unless False (then ``"HC1"``).
    nonpositive : {"exclude", "error"}
        Base households with income <= 0: zero weight in the model (design kept; they keep
        their observed income), or raise.

    Returns
    -------
    MultinomialCounterfactualIncome
        Pass it to :func:`~remitpov.econometrics.counterfactual.counterfactual_fgt`, e.g.
        ``counterfactual_fgt(cf, line, concepts={"observed": "y_with", "static": "y_static"},
        concept="multinomial")``. ``diagnostics``: the joint Wald test of the excluded
        variables in the logit, the Wald test of no selection (all correction coefficients
        zero), the mean log gap between the two kinds, the zero-income shares.
    """
    if not isinstance(survey, Survey):
        raise InputError(f"expected a Survey, got {type(survey).__name__}")
    if kind not in ("unconditional", "conditional"):
        raise InputError(f"kind must be 'conditional' or 'unconditional', got {kind!r}")
    if nonpositive not in ("exclude", "error"):
        raise InputError(f"nonpositive must be 'exclude' or 'error', got {nonpositive!r}")
    if residuals not in ("empirical", "normal", "dmf"):
        raise InputError(f"residuals must be 'empirical', 'normal' or 'dmf', got {residuals!r}")
    if residuals == "dmf" and method != "dmf":
        raise InputError(f"residuals='dmf' draws the Dubin--McFadden model's error given the status and needs "
                         f"method='dmf', got method={method!r}")
    if method not in METHODS:
        raise InputError(f"method must be one of {METHODS}, got {method!r}")
    rule = parameter_draw_rule(parameter_draws)
    if residual_variance not in RESIDUAL_VARIANCE:
        raise InputError(f"residual_variance must be one of {RESIDUAL_VARIANCE}, got {residual_variance!r}")
    draws = check_draws(draws)
    rf, sf = rhs_terms(income_formula, "income_formula"), rhs_terms(selection_formula, "selection_formula")
    df = survey.data
    if status not in df.columns:
        raise InputError(f"status column {status!r} not found; a 3-category migration status is needed "
                         "(e.g. synthetic_survey(..., migration_types=True))")
    ids = survey.id_values
    st = df[status]
    if st.isna().any():
        raise InputError(f"status column {status!r} is missing in {describe_rows(st.isna().to_numpy(), ids)}")
    isbase = st.astype(str).to_numpy() == str(base)
    y, logy, est_mask, notes, w, design, cov_type = estimation_sample(
        survey, income, isbase, "base-status", nonpositive, weighted, cov_type)
    notes = [ABSENT_MIGRANT_NOTE] + notes
    nonpos = ~est_mask
    data = df.copy()
    data["__logy"] = logy
    cov_type = selection_cov_type(cov_type or "HC1", unadjusted=False)
    model = MultinomialSelection.from_formula(f"__logy ~ {rf}", sf, data, status=status, base=base,
                                              categories=categories, method=method, weights=w)
    fit_kw = {"design": design} if cov_type == "design" else {}
    if cov_type in ("CR0", "CR1"):
        if survey.psu is None:
            raise InputError(f"cov_type={cov_type!r} needs a survey with PSUs (survey.psu); use 'HC1' or 'design'")
        fit_kw = {"clusters": survey.column(survey.psu)}
    res = model.fit(cov_type, **fit_kw)
    from dataclasses import replace
    res = replace(res, dep_var=f"log {income} ({base!r} households)")
    mig = ~isbase
    alt = "unconditional" if kind == "conditional" else "conditional"
    X, Z, codes = model._X[mig], model._Z[mig], model._d[mig]
    names = list(res.params.index)
    ib = [names.index(c) for c in res.equations["outcome"]]
    ic = [names.index(c) for c in res.equations["correction"]]
    ig = [names.index(c) for c in names if c.startswith("selection[")]
    J = len(model.categories)
    m_sel = len(model.selection_names)

    def predict(theta):
        """(unconditional, conditional) log predictions of the non-base rows for parameters theta."""
        xb = X @ theta[ib]
        P = softmax(Z, theta[ig].reshape(J - 1, m_sel).T)
        return xb, xb + correction_terms(P, method, codes) @ theta[ic]

    def fill(v):
        out = np.where(np.isfinite(y), y, np.nan)
        out[mig] = v
        return out

    theta = res.params.to_numpy()
    point = dict(zip(("unconditional", "conditional"), predict(theta)))
    new = {output: fill(np.exp(point[kind]))}
    wt = survey.weights("household")
    diag = _multinomial_diagnostics(res, model, mig, y, wt, income)
    diag["kind_gap_log"] = float(np.average(point["conditional"] - point["unconditional"], weights=wt[mig]))
    if draws:
        rng = np.random.default_rng(seed)
        T = parameter_draws_from(res, draws, rng, rule != "fixed")

        def both(t):
            """(n_imputed, 2): unconditional and conditional log predictions."""
            return np.column_stack(predict(t))

        G = central_difference_jacobian(both, theta) if rule == "linear" or residual_variance != "base" else None
        if rule == "linear":
            L = linearised_draws(both, theta, T, jacobian=G)  # (n_imputed, 2, M)
            logs = {"unconditional": L[:, 0], "conditional": L[:, 1]}
        else:
            logs = {"unconditional": np.empty((int(mig.sum()), draws)),
                    "conditional": np.empty((int(mig.sum()), draws))}
            for m in range(draws):  # a loop over the M draws, not over rows
                logs["unconditional"][:, m], logs["conditional"][:, m] = predict(T[m])
        r = res.extra["residuals"]
        ok = np.isfinite(r)
        pw = model._w[ok]
        rr = r[ok] - np.average(r[ok], weights=pw)
        s_res = np.sqrt(np.average(rr**2, weights=pw))
        gum = {"unconditional": 0.0, "conditional": 0.0}
        if residuals == "empirical":
            E = rr[resample_index(pw, logs[kind].shape, rng)] / s_res
        elif residuals == "normal":
            E = rng.standard_normal(logs[kind].shape)
        else:  # the DMF model's error: Gumbel part given the status (fitted logit) + independent normal nu
            c = theta[ic]
            # the base group's average Gumbel-part variance, over at most 400 evenly spaced base rows
            sub = np.unique(np.linspace(0, int(ok.sum()) - 1, min(int(ok.sum()), 400)).astype(int))
            Pb = softmax(model._Z[ok][sub], theta[ig].reshape(J - 1, m_sel).T)
            vb = np.einsum("p,ipq,q->i", c, _eta_cov(Pb, np.zeros(len(Pb), dtype=int)), c)
            nu2 = s_res**2 - np.average(vb, weights=pw[sub])
            diag["dmf_nu_variance"] = float(nu2)
            if nu2 <= 0:
                notes.append(f"residuals='dmf': the Gumbel part's variance in the base group exceeds the residual "
                             f"variance ({s_res**2:.4g}); the normal part is set to zero")
            Pm = np.clip(softmax(Z, theta[ig].reshape(J - 1, m_sel).T), 1e-15, 1.0)
            eps = _gumbel_given_choice(Pm, codes, rng.random(logs[kind].shape + (J + 1,)))
            K = np.sqrt(6.0) / np.pi
            gum["conditional"] = (K * (eps[:, :, 1:] - eps[:, :, :1])) @ c - (correction_terms(Pm, method, codes)
                                                                              @ c)[:, None]
            e0 = rng.gumbel(size=logs[kind].shape + (J,))  # unconditional: iid Gumbel, mean-zero differences
            gum["unconditional"] = (K * (e0[:, :, 1:] - e0[:, :, :1])) @ c
            E = rng.standard_normal(logs[kind].shape)
            s_res = np.sqrt(max(nu2, 0.0))
        cols = [f"{output}_{m + 1}" for m in range(draws)]
        alt_cols = [f"{output}_{alt}_{m + 1}" for m in range(draws)]
        sd, rdiag = _residual_sd(residual_variance, s_res, G, res, mig, 1.0 if rule == "fixed" else 2.0)
        diag.update(rdiag)
        floor = rdiag.get(f"residual_floor_share_{kind}", 0.0)
        if floor > 0:
            notes.append(f"residual_variance='matched': for {floor:.1%} of the imputed households the prediction's "
                         "parameter-noise variance (twice the delta-method variance) exceeds the residual variance; "
                         "their residual is set to zero and their imputations still vary more than the residual "
                         "(imprecise correction coefficients: a stronger exclusion restriction or more base households)")
        for m in range(draws):
            new[cols[m]] = fill(np.exp(logs[kind][:, m] + sd[kind] * E[:, m] + _col(gum[kind], m)))
            new[alt_cols[m]] = fill(np.exp(logs[alt][:, m] + sd[alt] * E[:, m] + _col(gum[alt], m)))
        diag["imputed_zero_share"] = 0.0  # exp(.) > 0: a log model never imputes zero income
        how = {"linear": "drawn jointly from N(theta, V) (outcome, correction, multinomial logit), prediction "
                         "linearised at the estimate (delta method)",
               "full": "drawn jointly from N(theta, V) (outcome, correction, multinomial logit), prediction "
                       "recomputed at each draw", "fixed": "FIXED (improper)"}[rule]
        notes.append(f"{draws} proper imputations (seed {seed}): parameters {how}"
                     f", residuals {residuals} (base group) with variance {residual_variance!r} "
                     f"({RESIDUAL_VARIANCE_NOTES[residual_variance]}); prediction {kind} (also {alt}: {alt_cols[0]}, ...)")
    else:
        cols, alt_cols = [output], [f"{output}_{alt}"]
        new[alt_cols[0]] = fill(np.exp(point[alt]))
        diag["imputed_zero_share"] = 0.0
        notes.append(f"deterministic prediction ({kind}, draws=0) for non-base households: SEs treat it as fixed "
                     "and understate the uncertainty (the default is draws=20)")
    out = imputed_survey(survey, new,
                         f"multinomial selection-corrected counterfactual income without migration for "
                         f"{int(mig.sum())} households not in status {base!r} ({method}; log {income} ~ {rf}; "
                         f"multinomial logit of {status} ~ {sf}; prediction {kind}; draws {draws}); "
                         f"{base!r} households keep their observed {income}", output=output, rows=int(mig.sum()),
                         notes=notes, nonpos=nonpos, income=income, ids=ids)
    return MultinomialCounterfactualIncome(out, res, tuple(cols), output, income, status, draws, kind, est_mask,
                                           tuple(notes), tuple(alt_cols), alt, status, diag, status=status,
                                           base=str(base), method=method)


#: ``residual_variance`` rules of :func:`multinomial_counterfactual_income`.
RESIDUAL_VARIANCE = ("matched", "base")
RESIDUAL_VARIANCE_NOTES = {
    "base": "the base group's residual variance for every household",
    "matched": "the base group's residual variance minus the prediction's parameter-noise variance"}


def _col(a, m):
    """Column m of a 2-d array, or the scalar itself."""
    return a[:, m] if np.ndim(a) == 2 else a


def _gumbel_given_choice(P, chosen, S):
    """Standard Gumbel choice errors ``eps`` (n, N, J) given that status ``chosen`` (n,) was chosen.

    With logit probabilities ``P`` (n, J): the maximum ``max_j (V_j + eps_j) - logsumexp(V)``
    is standard Gumbel whichever status is chosen, so ``eps_k = U - ln P_k`` for the chosen
    ``k``; every other ``V_j + eps_j - logsumexp(V)`` is Gumbel(``ln P_j``) truncated above at
    ``U``, independently, drawn by inverting ``exp(-P_j e^-y)`` on ``y < U``. ``S``: uniforms
    (n or 1, N, J + 1) (column 0 for ``U``).
    """
    U = -np.log(-np.log(S[..., 0]))
    y = -np.log((-np.log(S[..., 1:]) + P[:, None, :] * np.exp(-U)[..., None]) / P[:, None, :])
    eps = y - np.log(P)[:, None, :]
    rows = np.arange(P.shape[0])
    eps[rows, :, chosen] = np.broadcast_to(U, eps.shape[:2])[rows] - np.log(P[rows, chosen])[:, None]
    return eps


def _eta_cov(P, chosen, *, nodes: int = 4096) -> np.ndarray:
    """Covariance (n, J-1, J-1) of ``K (eps_j - eps_0)``, j = 1..J-1, given the chosen status.

    Quasi-Monte Carlo over a scrambled Sobol sequence (``nodes`` points, fixed seed:
    deterministic) of :func:`_gumbel_given_choice`: error about 0.002 at 4,096 nodes (0.02
    at 512) on entries of order 1; a loop over chunks of rows (memory: about 4 million
    values at a time).
    """
    from scipy.stats import qmc

    P = np.clip(np.asarray(P, dtype=float), 1e-15, 1.0)
    J = P.shape[1]
    S = np.clip(qmc.Sobol(d=J + 1, scramble=True, seed=20260).random(nodes), 1e-12, 1 - 1e-12)[None]
    K = np.sqrt(6.0) / np.pi
    out = np.empty((P.shape[0], J - 1, J - 1))
    chunk = max(1, 4_000_000 // (nodes * J))
    for lo in range(0, P.shape[0], chunk):
        eps = _gumbel_given_choice(P[lo:lo + chunk], chosen[lo:lo + chunk], S)
        z = K * (eps[:, :, 1:] - eps[:, :, :1])
        z = z - z.mean(axis=1, keepdims=True)
        out[lo:lo + chunk] = np.einsum("inp,inq->ipq", z, z) / nodes
    return out


def _residual_sd(rule, s_res, G, res, mig, factor):
    """Per-household SD of the imputed residual for each prediction kind, and diagnostics.

    ``g_i = G_i V G_i'`` is the delta-method variance of household ``i``'s log prediction.
    Over the sampling distribution of ``theta_hat`` and the parameter draw, the prediction
    varies around the population one with variance ``factor * g_i`` (2: the estimate's
    sampling error and the draw; 1 for fixed parameters), so the imputed log income's
    variance is the residual variance ``s^2`` plus ``factor * g_i``; ``"matched"`` subtracts
    it (floor 0), which makes every additively decomposable index (FGT, a mean) of the imputed
    incomes unbiased to first order when the residual is normal.
    """
    if rule == "base":
        return {"unconditional": s_res, "conditional": s_res}, {}
    g = np.einsum("ikp,pq,ikq->ik", G, res.cov.to_numpy(), G)  # (n_imputed, 2)
    diag = {}
    out = {}
    for j, k in enumerate(("unconditional", "conditional")):
        v = s_res**2 - factor * g[:, j]
        diag[f"residual_floor_share_{k}"] = float(np.mean(v <= 0))
        out[k] = np.sqrt(np.maximum(v, 0.0))
    diag["parameter_variance_share"] = float(np.mean(g[:, 1]) / s_res**2)
    return out, diag


def _multinomial_diagnostics(res, model, mig, y, wt, income) -> dict:
    on = set(res.equations["outcome"])
    excluded = [z for z in model.selection_names if z not in on]
    sel = [f"selection[{c}]:{z}" for c in model.categories[1:] for z in excluded]
    diag = {"income": income, **wald_excluded(res, sel, excluded)}
    q = len(res.equations["correction"])
    wald = float(res.extra["wald"])
    diag.update(selection_test=f"Wald chi2({q}) of no selection (correction coefficients = 0)", selection_stat=wald,
                selection_p=float(stats.chi2.sf(wald, q)), rho=np.nan)
    yt = y[mig]
    diag["static_zero_share"] = float(np.average(~(yt > 0), weights=wt[mig])) if mig.any() else 0.0
    diag["n_imputed"] = int(mig.sum())
    return diag


def multinomial_counterfactual_table(survey: Survey, line, income_formula: str, selection_formula: str, *,
                                     binary_selection_formula: str | None = None, alpha=(0, 1, 2), by=None,
                                     observed: str = "y_with", static: str = "y_static",
                                     binary_income: str | None = None, recipient: str = "recipient",
                                     status: str = "migration_status", base="none", method: str = "dmf",
                                     kind: str = "conditional", draws: int = DEFAULT_DRAWS, seed: int | None = 0,
                                     level: str = "person", strict: bool = True,
                                     rho_grid: Sequence[float] | None = (-0.6, -0.4, -0.2, 0.0, 0.2, 0.4, 0.6),
                                     **kwargs) -> tuple[Any, MultinomialCounterfactualIncome]:
    """FGT indices under observed, static, binary-Heckman and multinomial counterfactuals, in one table.

    Key ``concept``: ``observed`` (``observed``), ``static`` (``static``: income without
    ALL migrants' transfers, international and internal), ``multinomial``
    (:func:`multinomial_counterfactual_income` on ``static``, main ``kind``, default
    status-specific) and ``multinomial_<other kind>``, and with ``binary_selection_formula``
    ``heckman``: the binary Heckman counterfactual
    (:func:`~remitpov.econometrics.counterfactual.counterfactual_income`) with selection on
    "any migrant" (``status != base``) on the SAME income concept (``static``) and the same
    imputation machinery (``draws`` proper imputations, recipient-specific prediction), so
    the rows differ only by the selection model. Estimated jointly by
    :func:`remitpov.poverty.fgt` (one vcov; Rubin's rules over the draws), so
    ``table.contrast`` gives SEs of differences between concepts; the diagnostics of
    :func:`~remitpov.econometrics.counterfactual.table_diagnostics` and the sensitivity band
    of :func:`multinomial_rho_sensitivity` over ``rho_grid`` (None to skip) go to
    ``cf.diagnostics`` and the table's notes.

    Example (synthetic data; ``static`` built by hand)::

        s = build_income(synthetic_survey(migration_types=True))
        d = s.data
        s = s.with_columns(y_static=np.maximum((d["y_hh"] - (d["remesas"] + d["internal_transfers"]) / 3)
                                               / d["eq_scale"], 0), rural=(d["area"] == "rural") * 1.0)
        rhs = "head_educ + head_age + head_female + rural + C(region)"
        table, cf = multinomial_counterfactual_table(s, "poverty_line", rhs, rhs + " + mig_network + int_network",
                                                     binary_selection_formula=rhs + " + mig_network")
        print(table.summary())

    ``binary_income`` (default: ``static``) must equal ``static`` when given: a binary row
    on another income concept (e.g. one still containing internal transfers) is not
    comparable. Other keyword arguments go to :func:`multinomial_counterfactual_income`;
    ``weighted``, ``residuals`` (except ``"dmf"``), ``nonpositive`` and ``parameter_draws`` also to
    the binary row,
    ``parameter_draws`` as True for ``"full"``, False for ``"fixed"``, and not at all for
    ``"linear"`` (the binary counterfactual's own default, its parameter draws recomputing the
    prediction, applies: it has no linearised rule).

    Returns
    -------
    (EstimateTable, MultinomialCounterfactualIncome)
    """
    from dataclasses import replace

    from .counterfactual import (band_diagnostics, counterfactual_fgt, counterfactual_income, format_diagnostics,
                                 table_diagnostics)

    if binary_income is not None and binary_income != static:
        raise InputError(f"binary_income={binary_income!r} differs from static={static!r}: the binary Heckman row "
                         "must use the same income concept as the multinomial one (income without ALL migrants' "
                         "transfers); drop binary_income")
    concepts = {"observed": observed, "static": static}
    imputed = {}
    s = survey
    if binary_selection_formula is not None:
        anym = "__any_migrant"
        s = s.with_columns(**{anym: (survey.data[status].astype(str).to_numpy() != str(base)).astype(float)})
        bkw = {k: v for k, v in kwargs.items() if k in ("weighted", "residuals", "nonpositive")}
        if bkw.get("residuals") == "dmf":  # the multinomial model's own error: the binary row keeps its default
            del bkw["residuals"]
        if "parameter_draws" in kwargs:  # the binary counterfactual has no "linear" rule: its full draws
            rule = parameter_draw_rule(kwargs["parameter_draws"])
            if rule != "linear":
                bkw["parameter_draws"] = rule == "full"
        heck = counterfactual_income(s, income_formula, binary_selection_formula, recipient=recipient,
                                     migrant=anym, income=static, output="y_heckman", draws=draws, seed=seed, **bkw)
        s = heck.survey
        if draws:
            imputed["heckman"] = list(heck.columns)
        else:
            concepts["heckman"] = heck.columns[0]
    cf = multinomial_counterfactual_income(s, income_formula, selection_formula, status=status, base=base,
                                           income=static, method=method, kind=kind, draws=draws, seed=seed,
                                           **kwargs)
    tab = counterfactual_fgt(cf, line, alpha, by, concepts=concepts, level=level, strict=strict,
                             concept="multinomial", alternative=True, imputed=imputed)
    diag = dict(cf.diagnostics)
    diag.update(table_diagnostics(tab, "multinomial", f"multinomial_{cf.alt_kind}", kind))
    if rho_grid is not None:
        diag.update(band_diagnostics(multinomial_rho_sensitivity(cf, line, rho_grid, alpha=alpha, by=by, level=level,
                                                                 strict=strict, seed=seed)))
    cf = replace(cf, diagnostics=diag)
    return replace(tab, notes=tuple(tab.notes) + tuple(format_diagnostics(diag)) + tuple(cf.notes)), cf


def multinomial_rho_sensitivity(cf: MultinomialCounterfactualIncome, line=None, grid: Sequence[float] = (
        -0.6, -0.4, -0.2, 0.0, 0.2, 0.4, 0.6), *, alpha=(0, 1, 2), by=None, estimator=None, level: str = "person",
                                strict: bool = True, draws: int = 10, seed: int | None = 0) -> pd.DataFrame:
    """Multinomial counterfactual poverty when the error correlations are FIXED at each ``r`` of ``grid``.

    Every correction coefficient is set to ``sigma_hat r`` (``sigma r_j`` with a common
    ``r_j = r`` for the non-base statuses; the base status's own term, in ``"dmf1"`` and
    ``"bfg"``, to 0), the outcome coefficients are re-estimated by weighted least squares of
    ``log y - C c(r)`` on ``X`` (base households), and the non-base households get
    ``X b(r) + C_status c(r)`` plus residuals resampled from that regression (the same draws
    for every ``r``), point estimates averaged over ``draws``. ``sigma_hat`` is the residual
    SD of the fitted model. Returns a long frame (``rho``, measure keys, ``estimate``).
    """
    from .counterfactual_results import band_estimates, estimator_or_fgt

    estimator = estimator_or_fgt(estimator, line, alpha, by, level, strict)
    res = cf.model
    mdl = res.model
    if not isinstance(mdl, MultinomialSelection):
        raise InputError("multinomial_rho_sensitivity needs a multinomial counterfactual")
    P = res.extra["probs"]
    names = list(res.equations["correction"])
    own = np.array([n == f"{mdl.method}:{mdl.categories[0]}" for n in names])
    s = mdl._s & (mdl._w > 0)
    w = mdl._w[s]
    r_hat = res.extra["residuals"][s]
    sig = float(np.sqrt(np.average((r_hat - np.average(r_hat, weights=w)) ** 2, weights=w)))
    Cb = correction_terms(P[s], mdl.method, 0)
    mig = mdl._d != 0
    Cm = correction_terms(P[mig], mdl.method, mdl._d[mig])
    Xs, y = mdl._X[s], mdl._y[s]
    A = (Xs * w[:, None]).T @ Xs
    u = np.random.default_rng(seed).random((int(mig.sum()), draws))
    base = np.asarray(pd.to_numeric(pd.Series(cf.survey.column(cf.income)), errors="coerce"), dtype=float)
    cols = {}
    for r in grid:
        c = np.where(own, 0.0, sig * r)
        b = np.linalg.solve(A, (Xs * w[:, None]).T @ (y - Cb @ c))
        e = y - Xs @ b - Cb @ c
        e = e - np.average(e, weights=w)
        cw = np.cumsum(w)
        E = e[np.minimum(np.searchsorted(cw, u * cw[-1], side="right"), len(w) - 1)]
        logy = (mdl._X[mig] @ b + Cm @ c)[:, None] + E
        for m in range(draws):
            v = base.copy()
            v[mig] = np.exp(logy[:, m])
            cols[(float(r), m)] = v
    return band_estimates(cf.survey, cols, grid, draws, estimator)
