"""A seeded, realistic ENIGH-like household survey for demos, docs and tests.

The generator mimics the structure of Mexico's ENIGH ``concentradohogar``: one row per
household, quarterly current income ``ing_cor`` with its sources (labour ``ingtrab``,
``rentas``, ``jubilacion``, ``becas``, ``donativos``, ``remesas``, ``bene_gob``,
``transf_hog``, ``trans_inst``, imputed rent ``estim_alqu``, ``otros_ing``), a
stratified two-stage design (``est_dis`` strata x ``upm`` PSUs of about 10 households)
and integer expansion factors ``factor``.

How it is generated (all vectorised, deterministic for a seed and country name):

1. Strata = regions x urban/rural. Every PSU gets a historical municipal migration rate
   ``mig_network`` (Beta distributed, higher in rural PSUs and high-migration regions)
   and a PSU income effect.
2. Households: members by age group (``n_0_5``, ``n_6_12``, ``n_13_18``, ``n_19plus``;
   ``n_children`` = aged 0-13, ``n_adults`` = 14+), head's age, sex, years of schooling.
3. ``has_migrant`` (a member abroad) follows a logit in ``mig_network`` (the instrument:
   it raises receipt but affects income only through migration), rural residence and
   schooling; ``remesas > 0`` for most migrant households and a few others.
4. Pre-remittance income is log-normal in schooling, area, the PSU effect and earners;
   migrant households lose part of their labour income (the migrant's), so receipt is
   concentrated in the lower deciles of pre-remittance income. Remittances are a
   log-normal amount of about 30-60 % of a recipient's pre-remittance income.
5. Poverty lines per person per month (see :func:`synthetic_lines`) are set from the
   generated data: the urban poverty line is ``line_ratio`` times the weighted median of
   monthly per-capita income with remittances, the rural one ``rural_line_ratio`` times
   that, and the indigence lines half of each. They give poverty rates of 20-50 %.

6. The truth for Monte Carlo studies: ``y_true_nomig`` is every household's income had
   nobody migrated (quarterly, per household, like ``ing_cor``; role ``income_nomig``):
   the labour income computed with the migrant's earner share restored (``earners``
   without the ``-0.6 has_migrant`` loss, same wage draw and same 5 % zero-labour draw),
   no remittances (``remesas`` = 0, also for the few non-migrant recipients) and, with
   ``migration_types``, no internal migrants' transfers and the internal migrant's earner
   share restored; every other source (pensions, rents, public transfers ...) keeps its
   drawn value. Household size convention: ``tot_integ`` COUNTS the migrant (the DGP
   removes the migrant's earnings, not the person), so per-person true income divides by
   the same size as observed income. It is computed from the same draws; the other
   columns are identical to those generated without it.

7. Optional (``migration_types=True``): a three-category migration status
   ``migration_status`` in {"none", "internal", "international"} from a multinomial logit
   with iid Gumbel errors (see :data:`MIGRATION_TYPES_DGP`), the log-wage error correlated
   with the normal transforms of those errors (Bourguignon--Fournier--Gurgand's design),
   internal migrants' transfers (in ``transf_hog`` and separately in
   ``internal_transfers``) and an internal-migration network ``int_network`` (PSU level,
   the exclusion restriction for internal migration). The extra randomness comes from a
   separate random stream, so the default survey is unchanged.

Nothing here is real data; use it to exercise the pipeline, never to report figures.
"""
from __future__ import annotations

import zlib
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import special

from .exceptions import InputError
from .survey import LoadReport, Survey, SurveyMetadata

__all__ = ["synthetic_survey", "synthetic_countries", "synthetic_lines", "COUNTRY_PARAMS", "MIGRATION_TYPES_DGP"]

#: Parameters of the three synthetic countries of :func:`synthetic_countries`.
COUNTRY_PARAMS = {
    "A": dict(n_households=3000, rural_share=0.45, migration=1.0, income_level=1.0, n_regions=4,
              line_ratio=0.7, rural_line_ratio=0.75, year=2024),
    "B": dict(n_households=2500, rural_share=0.30, migration=0.6, income_level=1.5, n_regions=3,
              line_ratio=0.65, rural_line_ratio=0.75, year=2024),
    "C": dict(n_households=2000, rural_share=0.55, migration=1.3, income_level=0.7, n_regions=3,
              line_ratio=0.75, rural_line_ratio=0.8, year=2024),
}

_SOURCES = {"labour": "ingtrab", "rents": "rentas", "pensions": "jubilacion", "scholarships": "becas",
            "donations": "donativos", "remittances": "remesas", "public_transfers": "bene_gob",
            "domestic_transfers": "transf_hog", "institutional_transfers": "trans_inst",
            "imputed_rent": "estim_alqu", "other": "otros_ing"}


#: The data-generating process of ``synthetic_survey(..., migration_types=True)``.
#: Utilities (status = argmax_j V_j + eps_j, eps_j iid standard Gumbel, "none" = 0)::
#:
#:     V_internal      = -1.9 + 6.0 int_network + 0.3 rural + 0.04 (head_educ - 8)
#:     V_international = -2.6 + 9.0 mig_network + 0.5 rural - 0.06 (head_educ - 8) + 0.3 head_female
#:
#: The log-wage error is ``0.6 (sum_j r_j Phi^-1(G(eps_j)) + sqrt(1 - sum r_j^2) v)`` with
#: ``r = (none, internal, international)`` below (``G`` the Gumbel cdf), so the correlations
#: of the outcome error with the normal-transformed choice errors are known (BFG 2007).
#: Migrants' households lose earners (0.6 international, 0.5 internal); internal migrants
#: send ``internal_share`` x (log-normal, sd 0.5) x pre-transfer income per month.
MIGRATION_TYPES_DGP = {"r": (0.2, -0.3, -0.3), "sigma": 0.6, "internal_share": 0.35,
                       "internal": {"const": -1.9, "int_network": 6.0, "rural": 0.3, "head_educ": 0.04},
                       "earner_loss": {"international": 0.6, "internal": 0.5}}


def _rng(seed: int, country: str) -> np.random.Generator:
    return np.random.default_rng([int(seed), zlib.crc32(str(country).encode())])


def _logistic(x):
    return 1.0 / (1.0 + np.exp(-x))


def synthetic_survey(seed: int = 2026, country: str = "A", n_households: int = 3000, *,
                     rural_share: float = 0.45, migration: float = 1.0, income_level: float = 1.0,
                     n_regions: int = 4, hh_per_psu: int = 10, population_households: float | None = None,
                     line_ratio: float = 0.7, rural_line_ratio: float = 0.75, year: int = 2024,
                     currency: str = "LCU", migration_types: bool = False) -> Survey:
    """Generate one synthetic household survey.

    Parameters
    ----------
    seed : int
        Random seed; the same ``(seed, country, parameters)`` give identical surveys.
    country : str
        Name (also enters the random stream).
    n_households : int
        Sample size (households), >= 2 PSUs per stratum.
    rural_share : float
        Share of sample PSUs that are rural.
    migration : float
        Multiplier of the migration network (higher -> more remittance recipients);
        1 gives about 15 % recipients (more in rural areas).
    income_level : float
        Multiplier of all incomes.
    n_regions : int
        Regions; strata are regions x {urban, rural}.
    hh_per_psu : int
        Households per PSU.
    population_households : float, optional
        Households in the population (sum of ``factor``); default ``400 * n_households``.
    line_ratio, rural_line_ratio : float
        Poverty-line calibration (see module docstring).
    year : int
    currency : str
    migration_types : bool
        Add a three-category migration status (module docstring, :data:`MIGRATION_TYPES_DGP`):
        columns ``migration_status`` ("none"/"internal"/"international"), ``int_network``
        and ``internal_transfers`` (quarterly, already included in ``transf_hog`` and
        ``ing_cor``); ``has_migrant`` then means a member abroad (international). Default
        False: the survey is exactly the one generated without the option.

    Returns
    -------
    Survey
        Household rows, ``weight="factor"``, ``strata="est_dis"``, ``psu="upm"``,
        ``size="tot_integ"``, ``ids=("folioviv", "foliohog")``; roles ``income="ing_cor"``
        (quarterly), ``remittances="remesas"``, ``area``, ``n_adults``, ``n_children``,
        CONEVAL age groups, ``poverty_line`` / ``indigence_line`` (per person per month);
        ENIGH-named sources; covariates ``head_age``, ``head_sex`` ("male"/"female"),
        ``head_female``, ``head_educ``, ``mig_network``, ``has_migrant``, ``region``; the
        Monte Carlo truth ``y_true_nomig`` (income without migration, module docstring).
    """
    if n_households < 4 * n_regions * hh_per_psu:
        raise InputError(f"n_households={n_households} too small: need at least {4 * n_regions * hh_per_psu} "
                         f"(2 PSUs in each of {2 * n_regions} strata)")
    if not 0 < rural_share < 1:
        raise InputError(f"rural_share must be in (0, 1), got {rural_share}")
    rng = _rng(seed, country)
    n_psu = n_households // hh_per_psu
    n = n_psu * hh_per_psu
    # ---- PSUs: stratum, area, migration network, income effect
    n_strata = 2 * n_regions
    n_rural_psu = int(round(rural_share * n_psu))
    area_psu = np.array(["urban"] * (n_psu - n_rural_psu) + ["rural"] * n_rural_psu)
    region_psu = np.concatenate([np.arange(n_psu - n_rural_psu) % n_regions, np.arange(n_rural_psu) % n_regions])
    stratum_psu = region_psu * 2 + (area_psu == "rural")
    region_mig = np.linspace(0.6, 1.6, n_regions)[rng.permutation(n_regions)]
    a = 1.2
    b = np.where(area_psu == "rural", 9.0, 16.0) / region_mig[region_psu]
    mig_network = np.clip(rng.beta(a, b) * migration, 0, 0.95)
    psu_effect = rng.normal(0.0, 0.25, n_psu)
    # ---- households
    psu = np.repeat(np.arange(n_psu), hh_per_psu)
    rural = area_psu[psu] == "rural"
    region = region_psu[psu]
    head_age = np.clip(np.round(rng.normal(46, 14, n)), 19, 90).astype(int)
    head_female = rng.random(n) < 0.27
    head_educ = np.clip(np.round(rng.normal(np.where(rural, 6.5, 10.0), 3.8)), 0, 20).astype(int)
    young = (head_age < 55).astype(float)
    n_0_13 = rng.poisson(np.where(rural, 1.7, 1.1) * young + 0.15)
    split = rng.multinomial(1, [6 / 14, 7 / 14, 1 / 14], size=(n, 12))  # up to 12 children
    take = np.arange(12)[None, :] < n_0_13[:, None]
    grp = (split * take[:, :, None]).sum(axis=1)
    n_0_5, n_6_12, n_13 = grp[:, 0], grp[:, 1], grp[:, 2]
    n_14_18 = rng.poisson(np.where(head_age > 38, 0.45, 0.1))
    n_19plus = 1 + rng.binomial(1, np.where(head_female, 0.35, 0.8)) + rng.poisson(0.35, n)
    n_children = n_0_5 + n_6_12 + n_13
    n_adults = n_14_18 + n_19plus
    size = n_children + n_adults
    # ---- migration and remittances
    lin = -2.6 + 9.0 * mig_network[psu] + 0.5 * rural - 0.06 * (head_educ - 8) + 0.3 * head_female
    has_migrant = rng.random(n) < _logistic(lin)
    if migration_types:  # separate stream: the default survey's draws are untouched
        rng2 = np.random.default_rng([int(seed), zlib.crc32(str(country).encode()), 3])
        dgp = MIGRATION_TYPES_DGP
        int_network = np.clip(rng2.beta(1.5, 9.0, n_psu) * migration, 0, 0.95)
        ci = dgp["internal"]
        v_int = ci["const"] + ci["int_network"] * int_network[psu] + ci["rural"] * rural + ci["head_educ"] * (
            head_educ - 8)
        eps = rng2.gumbel(size=(n, 3))
        status_code = np.argmax(np.column_stack([np.zeros(n), v_int, lin]) + eps, axis=1)
        has_migrant = status_code == 2
        internal = status_code == 1
        eps_star = special.ndtri_exp(-np.exp(-eps))  # Phi^-1(G(eps)): standard normal
        r_corr = np.asarray(dgp["r"])
    recipient = np.where(has_migrant, rng.random(n) < 0.85, rng.random(n) < 0.02)
    # ---- pre-remittance income (monthly, per household)
    earners = np.maximum(n_19plus + 0.5 * n_14_18 - 0.6 * has_migrant, 0.5)
    wage_error = rng.normal(0, 0.6, n)
    if migration_types:
        earners = np.maximum(n_19plus + 0.5 * n_14_18 - dgp["earner_loss"]["international"] * has_migrant
                             - dgp["earner_loss"]["internal"] * internal, 0.5)
        wage_error = dgp["sigma"] * (eps_star @ r_corr + np.sqrt(1 - r_corr @ r_corr) * wage_error / 0.6)
    log_wage = (np.log(2200 * income_level) + 0.075 * head_educ - 0.35 * rural + psu_effect[psu]
                - 0.15 * head_female + wage_error)
    works = np.where(rng.random(n) < 0.05, 0.0, 1.0)
    labour = np.exp(log_wage) * earners ** 0.8 * works
    # the household's labour income had nobody migrated: the migrant's earner share restored
    earners_nomig = np.maximum(n_19plus + 0.5 * n_14_18, 0.5)
    labour_nomig = np.exp(log_wage) * earners_nomig ** 0.8 * works
    u = rng.random((n, 6))
    pensions = np.where((head_age >= 60) & (u[:, 0] < np.where(rural, 0.2, 0.45)),
                        np.exp(rng.normal(np.log(2500 * income_level), 0.5, n)), 0.0)
    rents = np.where(u[:, 1] < 0.06, np.exp(rng.normal(np.log(3000 * income_level), 0.9, n)), 0.0)
    scholarships = np.where((n_6_12 + n_13 + n_14_18 > 0) & (u[:, 2] < 0.15), 350.0 * income_level, 0.0)
    donations = np.where(u[:, 3] < 0.05, np.exp(rng.normal(np.log(500 * income_level), 0.6, n)), 0.0)
    transf_hog = np.where(u[:, 4] < 0.12, np.exp(rng.normal(np.log(700 * income_level), 0.7, n)), 0.0)
    trans_inst = np.where(u[:, 5] < 0.03, np.exp(rng.normal(np.log(900 * income_level), 0.5, n)), 0.0)
    pre = labour + pensions + rents + scholarships + donations + transf_hog + trans_inst
    poor_proxy = pre / size < np.quantile(pre / size, 0.4)
    bene_gob = np.where(rng.random(n) < np.where(poor_proxy, 0.55, 0.12) + 0.1 * rural,
                        np.exp(rng.normal(np.log(600 * income_level), 0.5, n)) * (1 + 0.2 * n_children), 0.0)
    imputed_rent = np.exp(rng.normal(np.log(900 * income_level), 0.5, n)) * np.where(rural, 0.6, 1.0) * (
        rng.random(n) < 0.75)
    other = np.where(rng.random(n) < 0.02, np.exp(rng.normal(np.log(800 * income_level), 0.7, n)), 0.0)
    pre = pre + bene_gob + imputed_rent + other
    remit = np.where(recipient, np.exp(rng.normal(np.log(0.6), 0.55, n)) * np.maximum(pre, 1500 * income_level), 0.0)
    if migration_types:
        internal_tr = np.where(internal, dgp["internal_share"] * np.exp(rng2.normal(0.0, 0.5, n))
                               * np.maximum(pre, 1500 * income_level), 0.0)
        transf_hog = transf_hog + internal_tr
    monthly = {"ingtrab": labour, "rentas": rents, "jubilacion": pensions, "becas": scholarships,
               "donativos": donations, "remesas": remit, "bene_gob": bene_gob, "transf_hog": transf_hog,
               "trans_inst": trans_inst, "estim_alqu": imputed_rent, "otros_ing": other}
    quarterly = {k: np.round(3.0 * v, 2) for k, v in monthly.items()}
    ing_cor = np.round(sum(quarterly.values()), 2)
    # TRUE income without migration (quarterly, per household): migrants' labour restored, no
    # remittances, no internal migrants' transfers; every other source at its drawn value
    nomig = dict(monthly, ingtrab=labour_nomig, remesas=np.zeros(n))
    if migration_types:
        nomig["transf_hog"] = transf_hog - internal_tr
    y_true_nomig = np.round(sum(np.round(3.0 * v, 2) for v in nomig.values()), 2)
    if migration_types:  # the internal part of transf_hog, rounded so that it never exceeds it
        internal_q = np.minimum(np.round(3.0 * internal_tr, 2), quarterly["transf_hog"])
    # ---- weights: rural PSUs oversampled, noise within strata
    pop = float(population_households or 400.0 * n_households)
    base = np.where(rural, 0.75, 1.15) * np.exp(rng.normal(0, 0.25, n_psu))[psu] * np.exp(rng.normal(0, 0.1, n))
    factor = np.maximum(np.round(base / base.sum() * pop), 1.0).astype(int)
    # ---- ids
    folioviv = (pd.Series(np.char.zfill((region + 1).astype(str), 2)).radd(str(country))
                + np.char.zfill(psu.astype(str), 5) + np.char.zfill((np.arange(n) % hh_per_psu).astype(str), 2))
    folioviv = folioviv.to_numpy()
    df = pd.DataFrame({
        "folioviv": folioviv, "foliohog": "1",
        "est_dis": np.char.zfill((stratum_psu[psu] + 1).astype(str), 3),
        "upm": np.char.add(str(country), np.char.zfill((psu + 1).astype(str), 6)),
        "factor": factor, "region": region + 1, "area": area_psu[psu], "tam_loc": np.where(rural, 4, 1),
        "tot_integ": size, "n_adults": n_adults, "n_children": n_children,
        "n_0_5": n_0_5, "n_6_12": n_6_12, "n_13_18": n_13 + n_14_18, "n_19plus": n_19plus,
        "head_age": head_age, "head_sex": np.where(head_female, "female", "male"),
        "head_female": head_female.astype(int), "head_educ": head_educ,
        "mig_network": np.round(mig_network[psu], 4), "has_migrant": has_migrant.astype(int),
        "ing_cor": ing_cor, **quarterly, "y_true_nomig": y_true_nomig,
    })
    if migration_types:
        df["migration_status"] = np.array(["none", "internal", "international"])[status_code]
        df["int_network"] = np.round(int_network[psu], 4)
        df["internal_transfers"] = internal_q
    df["transfer"] = np.round(df[["jubilacion", "becas", "donativos", "remesas", "bene_gob", "transf_hog",
                                  "trans_inst"]].sum(axis=1), 2)
    # ---- lines per person per month, calibrated on the generated data (see module docstring)
    pc = df["ing_cor"].to_numpy() / 3.0 / size
    w = factor * size
    order = np.argsort(pc, kind="stable")
    cw = np.cumsum(w[order]) / w.sum()
    median = float(pc[order][np.searchsorted(cw, 0.5, side="right")])
    pov_urban = round(line_ratio * median, 2)
    pov_rural = round(rural_line_ratio * pov_urban, 2)
    df["poverty_line"] = np.where(rural, pov_rural, pov_urban)
    df["indigence_line"] = np.round(df["poverty_line"] / 2.0, 2)
    params = dict(seed=seed, country=country, n_households=n, rural_share=rural_share, migration=migration,
                  income_level=income_level, n_regions=n_regions, hh_per_psu=hh_per_psu, line_ratio=line_ratio,
                  rural_line_ratio=rural_line_ratio)
    if migration_types:
        params["migration_types"] = True
    report = LoadReport().add("generated", f"synthetic survey {params}", rows=n)
    meta = SurveyMetadata(name=f"synthetic-{country}", country=str(country), year=year, currency=currency,
                          income_period="quarter", weight_unit="household", loader="synthetic_survey",
                          welfare="income", welfare_scale="none",  # ing_cor: per household, like ENIGH
                          notes=(f"parameters: {params}",
                                 f"poverty lines per person per month: urban {pov_urban}, rural {pov_rural}; "
                                 "indigence = half", "synthetic data: not real figures"))
    roles = {"income": "ing_cor", "remittances": "remesas", "area": "area", "n_adults": "n_adults",
             "n_children": "n_children", "n_0_5": "n_0_5", "n_6_12": "n_6_12", "n_13_18": "n_13_18",
             "n_19plus": "n_19plus", "poverty_line": "poverty_line", "indigence_line": "indigence_line",
             "instrument": "mig_network", "migrant": "has_migrant", "income_nomig": "y_true_nomig"}
    if migration_types:
        roles.update({"migration_status": "migration_status", "internal_remittances": "internal_transfers",
                      "instrument_internal": "int_network"})
    return Survey(df, weight="factor", strata="est_dis", psu="upm", unit="household", size="tot_integ",
                  ids=("folioviv", "foliohog"), roles=roles, sources=dict(_SOURCES), metadata=meta, report=report)


def synthetic_lines(survey: Survey):
    """The :class:`~remitpov.lines.PovertyLines` table of a synthetic survey.

    Lines are per person per month, by area, read from the survey's ``poverty_line`` /
    ``indigence_line`` columns (constant within an area).
    """
    from .lines import PovertyLines

    df = survey.data
    for c in ("area", "poverty_line", "indigence_line"):
        if c not in df.columns:
            raise InputError(f"not a synthetic survey: column {c!r} missing")
    g = df.groupby("area")[["indigence_line", "poverty_line"]].agg(["min", "max"])
    rows = []
    for area, r in g.iterrows():
        if r[("poverty_line", "min")] != r[("poverty_line", "max")]:
            raise InputError(f"poverty_line is not constant within area {area!r}")
        rows.append({"country": survey.metadata.country, "year": survey.metadata.year, "area": area,
                     "indigence": float(r[("indigence_line", "min")]), "poverty": float(r[("poverty_line", "min")]),
                     "currency": survey.metadata.currency, "period": "month",
                     "source": f"synthetic ({survey.metadata.name}): calibrated on the generated data"})
    return PovertyLines(pd.DataFrame(rows))


def synthetic_countries(seed: int = 2026) -> dict[str, Survey]:
    """Three synthetic countries with different parameters (:data:`COUNTRY_PARAMS`).

    ``"A"``: medium remittances; ``"B"``: richer, more urban, fewer migrants;
    ``"C"``: poorer, rural, high migration.
    """
    return {name: synthetic_survey(seed=seed, country=name, **params) for name, params in COUNTRY_PARAMS.items()}
