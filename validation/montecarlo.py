"""Monte Carlo studies of the counterfactual estimators on the synthetic DGP.

The synthetic survey (:func:`remitpov.synthetic.synthetic_survey`) gives every household's
TRUE income without migration (``y_true_nomig``: migrant's earnings restored, no
remittances, no internal migrants' transfers), so the estimators' targets are known.

Targets (population = the synthetic superpopulation; person-weighted, strict ``y < z``)
-----------------------------------------------------------------------------------
* ``P0_nomig``: headcount of per-capita monthly ``y_true_nomig`` at FIXED lines (urban /
  rural lines of a large population draw, so the line does not vary across replications).
  Estimated by the static counterfactual (income minus remittances), the binary Heckman
  counterfactual (selection on ``has_migrant``, the default, and on receipt) and the
  multinomial counterfactual (``migration_types=True`` survey, BFG correction).
* ``P0_static``: headcount of income minus remittances (the static estimator's own target;
  checks the design-based SE of the poverty estimator itself).
* ``model`` study: the binary Heckman model's own DGP (:func:`model_survey`: log-linear
  income, bivariate-normal errors with rho = 0.5, selection on migration), where its
  assumptions hold exactly; target the headcount of the true ``y0``.
* ``mn_model`` / ``mn_model_shift`` studies: the multinomial (Dubin--McFadden) model's own DGP
  (:func:`mn_model_survey`, ``errors="gumbel"``: the log-income error linear in the Gumbel
  choice errors; ``errors="shift"``: the same conditional mean given the status with a
  status-invariant normal residual); target the headcount of the true ``y0``. Population
  values of the model studies: exact (binary, :func:`model_population`) or with the normal
  part integrated out over 4 million households (:func:`mn_model_population`).
* ``ATT``: effect of migration on the household poverty indicator among migrant households,
  ``E[poor(y_with) - poor(y_nomig) | migrant]`` (household-weighted), estimated by weighted
  IPW and AIPW (outcome: poor(observed income) for migrants, poor(income without
  remittances) for others, i.e. no-migration = no remittances).

Population values are computed on ``POP_SEEDS`` draws of ``POP_HOUSEHOLDS`` households each
(pooled). Each replication draws a survey of ``n_households`` (3,000, the default) with
its own seed.

Per estimator: bias (mean estimate - population value) with its Monte Carlo SE
``sd/sqrt(R)``; the *paired* bias ``mean(estimate - sample truth)`` where the sample truth
is the same headcount of ``y_true_nomig`` in the replication's own sample (identical for
every non-migrant household, hence a much smaller MC SE); RMSE; mean SE / SD of the
estimates; coverage of the nominal 95 % CI of the population value, with its MC SE.
"""
from __future__ import annotations

import time
import warnings

import numpy as np
import pandas as pd

from remitpov.econometrics.counterfactual import counterfactual_fgt, counterfactual_income
from remitpov.econometrics.multinomial import multinomial_counterfactual_income
from remitpov.econometrics.treatment import AugmentedIPW, InverseProbabilityWeighting
from remitpov.income import build_income
from remitpov.synthetic import synthetic_survey

POP_SEEDS = (900001, 900002, 900003, 900004)
POP_HOUSEHOLDS = 150_000
#: income equation: the DGP's log wage is linear in schooling, rural, sex and log earners
#: (``n_19plus + 0.5 n_14_18``, which counts the migrant: the no-migration earners)
RHS = "head_educ + rural + head_female + log_earn + log_size + old + n_children"
BINARY_SELECTION = RHS + " + mig_network"
MULTI_SELECTION = RHS + " + mig_network + int_network"


def prepare(survey, lines=None):
    """build_income + covariates; ``lines`` = {area: line} overrides the calibrated lines."""
    d = survey.data
    if lines is not None:
        line = d["area"].map(lines).to_numpy(float)
        survey = survey.with_columns(poverty_line=line)
    s = build_income(survey)
    d = s.data
    n_14_18 = (d["n_adults"] - d["n_19plus"]).to_numpy(float)
    new = {"rural": (d["area"] == "rural").to_numpy(float),
           "log_earn": np.log(np.maximum(d["n19plus" if "n19plus" in d else "n_19plus"] + 0.5 * n_14_18, 0.5)),
           "log_size": np.log(d["tot_integ"].to_numpy(float)), "old": (d["head_age"] >= 60).to_numpy(float),
           "y_true": d["y_true_nomig"].to_numpy(float) / 3.0 / d["eq_scale"].to_numpy(float)}
    if "internal_transfers" in d:
        new["y_static"] = np.maximum((d["y_hh"] - (d["remesas"] + d["internal_transfers"]) / 3) / d["eq_scale"], 0)
    return s.with_columns(**new)


def _p0(s, col):
    d = s.data
    return float(np.average(d[col].to_numpy() < d["poverty_line"].to_numpy(), weights=s.weights("person")))


def population(migration_types: bool = False) -> dict:
    """Fixed lines and population values (pooled large draws)."""
    pops = [synthetic_survey(seed=sd, n_households=POP_HOUSEHOLDS, migration_types=migration_types)
            for sd in POP_SEEDS]
    lines = pops[0].data.groupby("area")["poverty_line"].first().to_dict()
    num = {"P0_nomig": 0.0, "P0_static": 0.0, "ATT_num1": 0.0, "ATT_num0": 0.0}
    den_p, den_m = 0.0, 0.0
    for p in pops:
        s = prepare(p, lines)
        d = s.data
        W = s.weights("person")
        z = d["poverty_line"].to_numpy()
        static = d["y_static"] if migration_types else d["y_without"]
        num["P0_nomig"] += W @ (d["y_true"].to_numpy() < z)
        num["P0_static"] += W @ (static.to_numpy() < z)
        den_p += W.sum()
        mig = d["has_migrant"].to_numpy() == 1
        wh = s.weights("household") * mig
        num["ATT_num1"] += wh @ (d["y_with"].to_numpy() < z)
        num["ATT_num0"] += wh @ (d["y_true"].to_numpy() < z)
        den_m += wh.sum()
    return {"lines": lines, "P0_nomig": num["P0_nomig"] / den_p, "P0_static": num["P0_static"] / den_p,
            "ATT": (num["ATT_num1"] - num["ATT_num0"]) / den_m}


def _row(tab, concept):
    f = tab.to_frame()
    r = f[(f["measure"] == "fgt0") & (f["concept"] == concept)].iloc[0]
    return float(r["estimate"]), float(r["se"]), float(r["ci_lower"]), float(r["ci_upper"])


def binary_replication(seed: int, lines: dict, n_households: int = 3000, draws: int = 20,
                       which=("migrant", "receipt", "deterministic")) -> list[dict]:
    s = prepare(synthetic_survey(seed=seed, n_households=n_households), lines)
    truth = _p0(s, "y_true")
    out = []

    def rec(name, est, target="P0_nomig", t=truth):
        out.append({"estimator": name, "target": target, "estimate": est[0], "se": est[1], "lo": est[2],
                    "hi": est[3], "sample_truth": t, "seed": seed})

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if "migrant" in which:
            cf = counterfactual_income(s, RHS, BINARY_SELECTION, draws=draws, seed=seed)
            tab = counterfactual_fgt(cf, "poverty_line", alpha=(0,), concepts={"static": "y_without"},
                                     alternative=True)
            rec("static (income minus remittances)", _row(tab, "static"))
            rec("static, own target", _row(tab, "static"), "P0_static", _p0(s, "y_without"))
            rec("heckman default (migrant, nonselected, MI)", _row(tab, "selection"))
            rec("heckman migrant, unconditional (MI)", _row(tab, "selection_unconditional"))
            out[-2]["lambda_p"] = out[-1]["lambda_p"] = cf.diagnostics["selection_p"]
        if "receipt" in which:
            cf = counterfactual_income(s, RHS, BINARY_SELECTION, migrant=None, draws=draws, seed=seed)
            tab = counterfactual_fgt(cf, "poverty_line", alpha=(0,), alternative=True)
            rec("heckman receipt, nonselected (MI)", _row(tab, "selection"))
            out[-1]["lambda_p"] = cf.diagnostics["selection_p"]
        if "deterministic" in which:
            cf = counterfactual_income(s, RHS, BINARY_SELECTION, kind="unconditional", draws=0)
            tab = counterfactual_fgt(cf, "poverty_line", alpha=(0,))
            rec("heckman migrant, deterministic (old default draws=0)", _row(tab, "selection"))
        if "ipw" in which:
            d = s.data
            mig = d["has_migrant"].to_numpy() == 1
            y = np.where(mig, d["y_with"], d["y_without"]) < d["poverty_line"]
            data = d.assign(poor=y.astype(float), migrant=mig.astype(float))
            w = s.weights("household")
            t1 = float(np.average((d["y_with"] < d["poverty_line"])[mig], weights=w[mig]))
            t0 = float(np.average((d["y_true"] < d["poverty_line"])[mig], weights=w[mig]))
            ps = "migrant ~ " + BINARY_SELECTION
            for name, cls in (("IPW (ATT, weighted)", InverseProbabilityWeighting), ("AIPW (ATT, weighted)", AugmentedIPW)):
                r = cls(ps, data, "poor", weights=w, psu=d["upm"].to_numpy(), strata=d["est_dis"].to_numpy()).fit(
                    estimand="ATT")
                e, se = r.effect, r.std_error
                rec(name, (e, se, e - 1.959964 * se, e + 1.959964 * se), "ATT", t1 - t0)
    return out


def multinomial_replication(seed: int, lines: dict, n_households: int = 3000, draws: int = 20) -> list[dict]:
    s = prepare(synthetic_survey(seed=seed, n_households=n_households, migration_types=True), lines)
    truth = _p0(s, "y_true")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cf = multinomial_counterfactual_income(s, RHS, MULTI_SELECTION, income="y_static", draws=draws, seed=seed)
        tab = counterfactual_fgt(cf, "poverty_line", alpha=(0,), concepts={"static": "y_static"},
                                 concept="multinomial", alternative=True)
    return _model_rows(tab, cf, truth, seed, (("static (minus all migrants' transfers)", "static"),
                                              ("multinomial default (DMF, conditional, MI)", "multinomial"),
                                              ("multinomial DMF, unconditional (MI)", "multinomial_unconditional")))


def _model_rows(tab, cf, truth, seed, labels) -> list[dict]:
    """One record per (estimator label, table concept); the model's rho test p-value except for static."""
    out = []
    for name, concept in labels:
        e = _row(tab, concept)
        out.append({"estimator": name, "target": "P0_nomig", "estimate": e[0], "se": e[1], "lo": e[2], "hi": e[3],
                    "sample_truth": truth, "seed": seed,
                    "lambda_p": np.nan if concept == "static" else cf.diagnostics["selection_p"]})
    return out


# ----------------------------------------------------------------------------- Heckman's own model
#: A DGP where the binary model's assumptions hold exactly: ``log y0 = 7 + 0.4 x1 - 0.3 x2 + e``,
#: no migrant iff ``0.8 + 0.4 x1 + 0.2 x2 - 2.0 z + u > 0``, ``(e, u)`` bivariate normal with
#: ``sigma = 0.6``, ``rho = MODEL_RHO``; migrant households keep 60 % of ``y0`` and receive
#: remittances. 3,000 households, 8 strata x PSUs of 10, unequal weights, sizes 1-6.
MODEL_RHO, MODEL_SIGMA, MODEL_LINE = 0.5, 0.6, float(np.exp(6.8))


def model_survey(seed: int, n: int = 3000):
    from remitpov.survey import Survey

    rng = np.random.default_rng([int(seed), 77])
    psu = np.arange(n) // 10
    x1 = rng.normal(size=n)
    x2 = (rng.random(n) < 0.4).astype(float)
    z = rng.uniform(size=n // 10)[psu]  # PSU-level network (exclusion restriction)
    u = rng.normal(size=n)
    e = MODEL_SIGMA * (MODEL_RHO * u + np.sqrt(1 - MODEL_RHO**2) * rng.normal(size=n))
    stay = 0.8 + 0.4 * x1 + 0.2 * x2 - 2.0 * z + u > 0
    y0 = np.exp(7.0 + 0.4 * x1 - 0.3 * x2 + e)
    y_without = np.where(stay, y0, 0.6 * y0)
    remit = np.where(stay, 0.0, 0.5 * y0 * np.exp(rng.normal(0, 0.3, n)))
    df = pd.DataFrame({"hh": np.arange(n), "psu": psu, "stratum": psu % 8,
                       "w": (50 + 100 * rng.random(n // 10))[psu] * (1 + 0.5 * x2), "size": rng.integers(1, 7, n),
                       "x1": x1, "x2": x2, "z": z, "y_true": y0, "y_without": y_without, "y_with": y_without + remit,
                       "migrant": (~stay).astype(float), "recipient": ~stay, "poverty_line": MODEL_LINE})
    return Survey(df, weight="w", strata="stratum", psu="psu", size="size", ids=("hh",))


def model_population() -> dict:
    """Exact population headcount of ``model_survey``: ``log y0 - 7 + 0.3 x2 = 0.4 x1 + e`` is
    ``N(0, 0.16 + sigma^2)`` given ``x2``; person weights ``w * size`` average ``(1 + 0.5 x2)``
    times factors independent of income, and ``P(x2 = 1) = 0.4``."""
    from scipy.stats import norm

    sd = np.sqrt(0.16 + MODEL_SIGMA**2)
    c = np.log(MODEL_LINE) - 7.0
    p0 = (0.6 * norm.cdf(c / sd) + 0.4 * 1.5 * norm.cdf((c + 0.3) / sd)) / (0.6 + 0.4 * 1.5)
    return {"lines": None, "P0_nomig": float(p0)}


def model_replication(seed: int, draws: int = 20) -> list[dict]:
    s = model_survey(seed)
    truth = _p0(s, "y_true")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cf = counterfactual_income(s, "x1 + x2", "x1 + x2 + z", migrant="migrant", draws=draws, seed=seed)
        tab = counterfactual_fgt(cf, "poverty_line", alpha=(0,), concepts={"static": "y_without"}, alternative=True)
    return _model_rows(tab, cf, truth, seed, (("static (model DGP)", "static"),
                                              ("heckman default (model DGP, nonselected, MI)", "selection"),
                                              ("heckman unconditional (model DGP, MI)", "selection_unconditional")))


# ----------------------------------------------------------------------------- the multinomial model's own DGP
#: A DGP where the multinomial default's assumptions hold exactly (Dubin--McFadden's
#: linearity, the ``"dmf"`` correction): three statuses chosen by a multinomial logit with iid
#: standard Gumbel errors ``eps_j``, utilities ``V_none = 0``,
#: ``V_internal = -2.2 + 0.3 x1 + 2.5 z_int``, ``V_international = -2.5 + 0.2 x1 + 0.4 x2 + 3.0 z_mig``;
#: ``log y0 = 7 + 0.4 x1 - 0.3 x2 + u`` with
#: ``u = sigma [a_int K (eps_int - eps_none) + a_mig K (eps_mig - eps_none) + s v]``, ``K = sqrt(6)/pi``
#: (so ``K eps`` has unit variance), ``v`` standard normal independent of the choice, ``s`` such that
#: ``Var(u) = sigma^2``. Migrant households keep 80 % (internal) or 60 % (international) of ``y0``
#: and receive transfers. Same design as :func:`model_survey`. The dmf outcome equation on the
#: "none" households is then ``X b + sigma a . C_dmf + error`` exactly.
MN_MODEL_A, MN_MODEL_SIGMA = (0.3, 0.4), 0.6
MN_MODEL_LINE = float(np.exp(6.8))


def mn_model_survey(seed: int, n: int = 3000, errors: str = "gumbel"):
    from remitpov.survey import Survey

    rng = np.random.default_rng([int(seed), 78])
    psu = np.arange(n) // 10
    x1 = rng.normal(size=n)
    x2 = (rng.random(n) < 0.4).astype(float)
    z_int, z_mig = rng.uniform(size=(2, n // 10))[:, psu]  # PSU-level networks (exclusion restrictions)
    eps = rng.gumbel(size=(n, 3))
    V = np.column_stack([np.zeros(n), -2.2 + 0.3 * x1 + 2.5 * z_int, -2.5 + 0.2 * x1 + 0.4 * x2 + 3.0 * z_mig])
    code = np.argmax(V + eps, axis=1)
    K = np.sqrt(6.0) / np.pi
    a1, a2 = MN_MODEL_A
    # Var(K(eps_j - eps_0)) = 2, Cov(K(eps_1 - eps_0), K(eps_2 - eps_0)) = 1
    s = np.sqrt(1.0 - (2 * a1**2 + 2 * a2**2 + 2 * a1 * a2))
    v = rng.normal(size=n)
    if errors == "gumbel":
        u = MN_MODEL_SIGMA * (K * (a1 * (eps[:, 1] - eps[:, 0]) + a2 * (eps[:, 2] - eps[:, 0])) + s * v)
    else:  # "shift": the same conditional mean E[u | status, Z], a status-invariant normal residual
        from remitpov.econometrics.multinomial import correction_terms
        P = np.exp(V - V.max(axis=1, keepdims=True))
        P /= P.sum(axis=1, keepdims=True)
        u = MN_MODEL_SIGMA * (correction_terms(P, "dmf", code) @ np.array([a1, a2]) + s * v)
    y0 = np.exp(7.0 + 0.4 * x1 - 0.3 * x2 + u)
    keep = np.array([1.0, 0.8, 0.6])[code]
    y_static = keep * y0
    transfers = np.where(code > 0, 0.5 * y0 * np.exp(rng.normal(0, 0.3, n)), 0.0)
    df = pd.DataFrame({"hh": np.arange(n), "psu": psu, "stratum": psu % 8,
                       "w": (50 + 100 * rng.random(n // 10))[psu] * (1 + 0.5 * x2), "size": rng.integers(1, 7, n),
                       "x1": x1, "x2": x2, "z_int": z_int, "z_mig": z_mig, "y_true": y0, "y_static": y_static,
                       "y_with": y_static + transfers,
                       "migration_status": np.array(["none", "internal", "international"])[code],
                       "poverty_line": MN_MODEL_LINE, "__v": v})
    return Survey(df, weight="w", strata="stratum", psu="psu", size="size", ids=("hh",))


#: study name -> errors of :func:`mn_model_survey`
MN_MODEL_STUDIES = {"mn_model": "gumbel", "mn_model_shift": "shift"}


def population_of(study: str) -> dict:
    """Population values of a study by name."""
    if study == "model":
        return model_population()
    if study in MN_MODEL_STUDIES:
        return mn_model_population(MN_MODEL_STUDIES[study])
    return population(study == "multinomial")


def mn_model_population(errors: str = "gumbel", n: int = 4_000_000) -> dict:
    """Population headcount of ``mn_model_survey``: ``n`` simulated households (seed 999), the
    normal part ``sigma s v`` of ``log y0`` integrated out exactly (``Phi``), person weights
    ``(1 + 0.5 x2)`` (the other weight factors are independent of income): simulation error
    about 2e-4 (the SD of the per-household probability over sqrt(n))."""
    from scipy.stats import norm

    d = mn_model_survey(999, n=n, errors=errors).data
    a1, a2 = MN_MODEL_A
    s = np.sqrt(1.0 - (2 * a1**2 + 2 * a2**2 + 2 * a1 * a2))
    mean_log = np.log(d["y_true"].to_numpy()) - MN_MODEL_SIGMA * s * d["__v"].to_numpy()
    p = norm.cdf((np.log(MN_MODEL_LINE) - mean_log) / (MN_MODEL_SIGMA * s))
    return {"lines": None, "P0_nomig": float(np.average(p, weights=1 + 0.5 * d["x2"].to_numpy()))}


#: residual rules of the multinomial counterfactual compared in the mn_model studies besides the
#: default: name -> (keyword arguments of ``multinomial_counterfactual_income``, row label)
MN_RESIDUAL_RULES = {"base": ({"residual_variance": "base"},
                              "multinomial, base residual variance (default before session 6)"),
                     "dmf": ({"residuals": "dmf"}, "multinomial, DMF-model residuals given the status (option)")}


def mn_model_replication(seed: int, draws: int = 20, errors: str = "gumbel", rules=tuple(MN_RESIDUAL_RULES)) -> list[dict]:
    """One replication of an mn_model study: the default (and its unconditional kind and the
    static counterfactual) and, on the same sample and seed, the residual-variance ``rules``."""
    s = mn_model_survey(seed, errors=errors)
    truth = _p0(s, "y_true")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cf = multinomial_counterfactual_income(s, "x1 + x2", "x1 + x2 + z_int + z_mig", income="y_static",
                                               draws=draws, seed=seed)
        tab = counterfactual_fgt(cf, "poverty_line", alpha=(0,), concepts={"static": "y_static"},
                                 concept="multinomial", alternative=True)
        out = _model_rows(tab, cf, truth, seed, (("static (mn model DGP)", "static"),
                                                 ("multinomial default (mn model DGP, DMF, conditional, MI)",
                                                  "multinomial"),
                                                 ("multinomial unconditional (mn model DGP, MI)",
                                                  "multinomial_unconditional")))
        for rule in rules:
            kw, label = MN_RESIDUAL_RULES[rule]
            cf = multinomial_counterfactual_income(s, "x1 + x2", "x1 + x2 + z_int + z_mig", income="y_static",
                                                   draws=draws, seed=seed, **kw)
            tab = counterfactual_fgt(cf, "poverty_line", alpha=(0,), concept="multinomial")
            out += _model_rows(tab, cf, truth, seed, ((label, "multinomial"),))
    return out


def summarise(rows: pd.DataFrame, pops: dict) -> pd.DataFrame:
    """Bias (population and paired) with MC SEs, RMSE, SE/SD, coverage with MC SE."""
    res = []
    for (study, est), g in rows.groupby(["study", "estimator"], sort=False):
        target = g["target"].iloc[0]
        tv = pops[study][target]
        R = len(g)
        x = g["estimate"].to_numpy()
        dpair = x - g["sample_truth"].to_numpy()
        cover = ((g["lo"] <= tv) & (tv <= g["hi"])).to_numpy()
        sd = x.std(ddof=1)
        rec = {"study": study, "estimator": est, "target": target, "R": R, "truth": tv, "mean": x.mean(),
               "bias": x.mean() - tv, "mc_se": sd / np.sqrt(R), "paired_bias": dpair.mean(),
               "paired_mc_se": dpair.std(ddof=1) / np.sqrt(R), "rmse": float(np.sqrt(np.mean((x - tv) ** 2))),
               "se_sd": g["se"].mean() / sd, "coverage": cover.mean(),
               "coverage_mc_se": np.sqrt(cover.mean() * (1 - cover.mean()) / R)}
        if "lambda_p" in g and g["lambda_p"].notna().any():
            rec["reject_rho0"] = float((g["lambda_p"] < 0.05).mean())
        res.append(rec)
    return pd.DataFrame(res)


def run(seeds, *, draws: int = 20, n_households: int = 3000, studies=("model", "binary", "multinomial"),
        which=("migrant", "receipt", "deterministic", "ipw"), log=None) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    """Run the studies over ``seeds``; returns (summary, raw rows, population values)."""
    pops, rows = {}, []
    t0 = time.time()
    if "binary" in studies:
        pops["binary"] = population(False)
    if "multinomial" in studies:
        pops["multinomial"] = population(True)
    if "model" in studies:
        pops["model"] = model_population()
    for st, err in MN_MODEL_STUDIES.items():
        if st in studies:
            pops[st] = mn_model_population(err)
    for i, sd in enumerate(seeds):
        if "model" in studies:
            rows += [dict(r, study="model") for r in model_replication(sd, draws)]
        for st, err in MN_MODEL_STUDIES.items():
            if st in studies:
                rows += [dict(r, study=st) for r in mn_model_replication(sd, draws, err)]
        if "binary" in studies:
            rows += [dict(r, study="binary") for r in binary_replication(sd, pops["binary"]["lines"], n_households,
                                                                          draws, which)]
        if "multinomial" in studies:
            rows += [dict(r, study="multinomial") for r in multinomial_replication(sd, pops["multinomial"]["lines"],
                                                                                   n_households, draws)]
        if log is not None:
            log(f"replication {i + 1}/{len(seeds)} done ({time.time() - t0:.0f} s)")
    raw = pd.DataFrame(rows)
    return summarise(raw, pops), raw, pops
