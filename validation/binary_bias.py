"""Where the binary default's bias on the synthetic survey comes from (issue #16).

    python validation/binary_bias.py --seeds 60          # about 6 min per variant on 2 cores

The full study (validation/RESULTS.md) finds the binary default (selection on migration,
recipient-specific "nonselected" prediction, proper imputations) biased by +0.6 points of
FGT0 on the synthetic survey, while it is unbiased on the Heckman model's own DGP. This
script reruns the binary default on the same seeds under two versions of the synthetic
data-generating process and decomposes the error per sample:

* ``A_baseline``: :func:`remitpov.synthetic.synthetic_survey` as shipped;
* ``B_benefit_nomig``: the same draws, but the means-tested government transfer
  (``bene_gob``) targeted on income WITHOUT migration. As shipped, the truth
  ``y_true_nomig`` keeps every non-labour source at its drawn value, including a benefit
  whose eligibility was decided on the income after the migrant left (lower), which the
  model (fitted on non-migrant households) cannot know.

Per sample it records the paired errors (estimate - headcount of the true no-migration
income in the same sample) of the recipient-specific and the unconditional predictions and
the two-step lambda-hat, then regresses ``nonselected - unconditional`` on lambda-hat and
its square: the linear part is the first-order effect of lambda-hat's mean, the quadratic
part the second-order (Jensen) effect of its sampling variance on a headcount (the line
lies below the mode of log income, where the headcount is convex in a shift of log income).

``--residuals`` (session 4) instead compares the residual rules of the default on the shipped
DGP, paired per seed: ``"empirical"`` (the default) against ``"local"`` (donors from the
imputed household's decile of the linear prediction, for heteroskedastic or
prediction-dependent skewness of log income).

``--model-dgp`` (session 5) compares, paired per seed on the binary model's own DGP
(``montecarlo.model_survey``), the empirical residual rule of the default with ``"normal"``
(which draws that DGP's exact truncated-normal mixture) and (session 6) with
``"selection"`` (selection-weighted empirical residuals,
:mod:`remitpov.econometrics.counterfactual_residuals`). ``--selection`` (session 6) compares
``"empirical"`` and ``"selection"`` on the shipped synthetic survey (``A_baseline``). Both
print, per rule, the paired bias (estimate - headcount of the true no-migration income in the
same sample), the bias against the population value, SE/SD and the 95 % CI coverage of the
population value, and the paired differences between rules; ``--raw FILE`` writes the
per-seed rows:

    nice -n 10 python validation/binary_bias.py --model-dgp --seeds 1000 --draws 20 --raw /tmp/m.csv
    nice -n 10 python validation/binary_bias.py --selection --seeds 300 --draws 20 --raw /tmp/s.csv
    python validation/binary_bias.py --model-dgp --draws 20 --from-raw validation/results_binary_residuals_model_raw.csv
    python validation/binary_bias.py --selection --draws 20 --from-raw validation/results_binary_residuals_synthetic_raw.csv

``--tails`` (session 6): FGT0/1/2 paired errors of the empirical and selection rules on the
multinomial synthetic survey, the binary model selecting on any migrant (rho-hat about 0.26):

    nice -n 10 python validation/binary_bias.py --tails --seeds 100 --draws 10 --raw /tmp/t.csv
"""
from __future__ import annotations

import argparse
import sys
import types
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

import montecarlo as mc  # noqa: E402
import remitpov.synthetic as synthetic  # noqa: E402
from remitpov.econometrics.counterfactual import counterfactual_fgt, counterfactual_income  # noqa: E402

LINES = {"rural": 1173.41, "urban": 1564.55}
#: Population no-migration headcount of the synthetic survey at ``LINES`` (validation/RESULTS.md).
POPULATION_P0 = 0.2827
_POOR_PROXY = "poor_proxy = pre / size < np.quantile(pre / size, 0.4)"
VARIANTS = {
    "A_baseline": [],
    "B_benefit_nomig": [(_POOR_PROXY, "pre_nm = labour_nomig + pensions + rents + scholarships + donations + "
                                      "transf_hog + trans_inst\n    poor_proxy = pre_nm / size < "
                                      "np.quantile(pre_nm / size, 0.4)")],
}


def generator(variant: str):
    """``synthetic_survey`` of a DGP variant (the shipped source with the variant's edits)."""
    src = Path(synthetic.__file__).read_text()
    for old, new in VARIANTS[variant]:
        if src.count(old) != 1:
            raise RuntimeError(f"variant {variant}: the DGP source changed, cannot find {old!r}")
        src = src.replace(old, new)
    mod = types.ModuleType(f"remitpov._synthetic_{variant}")
    mod.__package__ = "remitpov"
    exec(compile(src, synthetic.__file__, "exec"), mod.__dict__)  # noqa: S102 - the package's own source
    return mod.synthetic_survey


def replication(make, seed: int, draws: int, residuals: str = "empirical") -> dict:
    s = mc.prepare(make(seed=seed, n_households=3000), LINES)
    truth = mc._p0(s, "y_true")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cf = counterfactual_income(s, mc.RHS, mc.BINARY_SELECTION, draws=draws, seed=seed, residuals=residuals)
        tab = counterfactual_fgt(cf, "poverty_line", alpha=(0,), alternative=True)
    f = tab.to_frame()
    est = {c: float(f.loc[(f["measure"] == "fgt0") & (f["concept"] == c), "estimate"].iloc[0])
           for c in ("selection", "selection_unconditional")}
    return {"seed": seed, "nonselected": est["selection"] - truth,
            "unconditional": est["selection_unconditional"] - truth, "lambda": float(cf.model.params["lambda"])}


MODEL_RULES = ("empirical", "normal", "selection")
SYNTHETIC_RULES = ("empirical", "selection")


def rules_replication(seed: int, draws: int, rules, dgp: str = "model") -> list[dict]:
    """One row per residual rule: the binary default's FGT0 (recipient-specific and
    unconditional), its Rubin SE and 95 % CI, the headcount of the true no-migration income in
    the same sample, and the smallest effective donor sample size of the selection rule.
    ``dgp``: ``"model"`` (``montecarlo.model_survey``: bivariate-normal errors, where the normal
    rule draws the exact distribution) or ``"synthetic"`` (the shipped synthetic survey)."""
    if dgp == "model":
        s = mc.model_survey(seed)
        args, kw, line = ("x1 + x2", "x1 + x2 + z"), {"migrant": "migrant"}, "poverty_line"
    else:
        s = mc.prepare(synthetic.synthetic_survey(seed=seed, n_households=3000), LINES)
        args, kw, line = (mc.RHS, mc.BINARY_SELECTION), {}, "poverty_line"
    truth = mc._p0(s, "y_true")
    out = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for rule in rules:
            cf = counterfactual_income(s, *args, **kw, draws=draws, seed=seed, residuals=rule)
            f = counterfactual_fgt(cf, line, alpha=(0,), alternative=True).to_frame()
            row = {"seed": seed, "rule": rule, "sample_truth": truth,
                   "ess_min": cf.diagnostics.get("selection_residuals", {}).get("ess_min", np.nan)}
            for kind, concept in (("", "selection"), ("unc_", "selection_unconditional")):
                e = f.loc[(f["measure"] == "fgt0") & (f["concept"] == concept)].iloc[0]
                row.update({f"{kind}estimate": float(e["estimate"]), f"{kind}se": float(e["se"]),
                            f"{kind}lo": float(e["ci_lower"]), f"{kind}hi": float(e["ci_upper"])})
            out.append(row)
    return out


def summarise_rules(r: pd.DataFrame, population: float) -> None:
    """Print per rule and kind the paired bias, the bias against ``population``, SE/SD and
    the coverage of ``population`` (with MC SEs), then the paired differences between rules."""
    R = r["seed"].nunique()
    for kind, lab in (("", "nonselected"), ("unc_", "unconditional")):
        for rule, d in r.groupby("rule", sort=False):
            pe = d[f"{kind}estimate"] - d["sample_truth"]
            cov = ((d[f"{kind}lo"] <= population) & (population <= d[f"{kind}hi"])).mean()
            print(f"{rule:>9} {lab}: paired bias {pe.mean():+.4f} (MC SE {pe.std() / R**.5:.4f}), "
                  f"bias {d[f'{kind}estimate'].mean() - population:+.4f} "
                  f"(MC SE {d[f'{kind}estimate'].std() / R**.5:.4f}), "
                  f"SE/SD {d[f'{kind}se'].mean() / d[f'{kind}estimate'].std():.2f}, "
                  f"coverage {cov:.1%} (MC SE {np.sqrt(cov * (1 - cov) / R):.1%})"
                  + (f", ESS min over seeds {d['ess_min'].min():.0f}" if d["ess_min"].notna().any() else ""))
        wide = r.pivot(index="seed", columns="rule", values=f"{kind}estimate")
        rules = list(dict.fromkeys(r["rule"]))
        for i, a in enumerate(rules):
            for b in rules[i + 1:]:
                dd = wide[b] - wide[a]
                print(f"  {lab}: {b} - {a} (paired): {dd.mean():+.5f} (MC SE {dd.std() / R**.5:.5f})")


MN_LINES = {"rural": 1217.95, "urban": 1623.94}


def tails_replication(seed: int, draws: int, rules=SYNTHETIC_RULES) -> list[dict]:
    """FGT0/1/2 paired errors of the binary default, selecting on ANY migrant, on the
    multinomial synthetic survey (``migration_types=True``: errors correlated with migration,
    so rho-hat is sizeable) for each residual rule: where the selection-weighted rule's
    upweighting of extreme residuals shows (log income has a heavy left tail)."""
    s = mc.prepare(synthetic.synthetic_survey(seed=seed, n_households=3000, migration_types=True), MN_LINES)
    s = s.with_columns(any_migrant=(s.data["migration_status"].astype(str) != "none").to_numpy(float))
    line, wp = s.data["poverty_line"].to_numpy(float), s.weights("person")

    def fgt(y):
        g = np.clip(1 - y / line, 0, None) * (y < line)
        return np.array([np.average(y < line, weights=wp), np.average(g, weights=wp), np.average(g**2, weights=wp)])

    truth = fgt(s.data["y_true"].to_numpy(float))
    out = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for rule in rules:
            cf = counterfactual_income(s, mc.RHS, mc.BINARY_SELECTION, migrant="any_migrant", income="y_static",
                                       draws=draws, seed=seed, residuals=rule)
            err = np.mean([fgt(cf.survey.data[c].to_numpy(float)) for c in cf.columns], axis=0) - truth
            out.append({"seed": seed, "rule": rule, "rho": cf.diagnostics["rho"],
                        **{f"fgt{a}": err[a] for a in range(3)}})
    return out


def model_dgp_replication(seed: int, draws: int) -> dict:
    """Paired errors of the binary default with empirical and with normal residuals on
    ``model_survey`` (bivariate-normal errors: the normal rule draws the exact distribution)."""
    rows = rules_replication(seed, draws, ("empirical", "normal"))
    return {"seed": seed, **{r["rule"]: r["estimate"] - r["sample_truth"] for r in rows}}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seeds", type=int, default=60)
    ap.add_argument("--draws", type=int, default=10)
    ap.add_argument("--residuals", action="store_true", help="compare the empirical and local residual rules")
    ap.add_argument("--model-dgp", action="store_true",
                    help="on the binary model's own DGP (model_survey), compare the empirical and normal residual rules")
    ap.add_argument("--selection", action="store_true",
                    help="on the shipped synthetic survey, compare the empirical and selection residual rules")
    ap.add_argument("--first-seed", type=int, default=1)
    ap.add_argument("--raw", help="write the per-seed rows of --model-dgp / --selection to this CSV")
    ap.add_argument("--from-raw", help="summarise per-seed rows written by --raw (with --model-dgp or --selection)")
    ap.add_argument("--tails", action="store_true",
                    help="FGT0/1/2 of empirical vs selection residuals on the multinomial synthetic survey (any migrant)")
    a = ap.parse_args(argv)
    import statsmodels.api as sm

    if a.tails:
        r = pd.read_csv(a.from_raw) if a.from_raw else pd.DataFrame(
            [row for sd in range(a.first_seed, a.first_seed + a.seeds) for row in tails_replication(sd, a.draws)])
        if a.raw:
            r.to_csv(a.raw, index=False)
        R = r["seed"].nunique()
        print(f"multinomial synthetic survey, binary Heckman on any migrant, seeds {r['seed'].min()}..{r['seed'].max()}; "
              f"mean rho-hat {r['rho'].mean():.3f}")
        for k in ("fgt0", "fgt1", "fgt2"):
            w = r.pivot(index="seed", columns="rule", values=k)
            dd = w["selection"] - w["empirical"]
            print(f"{k}: paired error empirical {w['empirical'].mean():+.4f} ({w['empirical'].std() / R**.5:.4f}), "
                  f"selection {w['selection'].mean():+.4f} ({w['selection'].std() / R**.5:.4f}); "
                  f"selection - empirical {dd.mean():+.4f} (MC SE {dd.std() / R**.5:.4f})")
        return

    if a.model_dgp or a.selection:
        dgp, rules = ("model", MODEL_RULES) if a.model_dgp else ("synthetic", SYNTHETIC_RULES)
        if a.from_raw:
            r = pd.read_csv(a.from_raw)
        else:
            seeds = range(a.first_seed, a.first_seed + a.seeds)
            r = pd.DataFrame([row for sd in seeds for row in rules_replication(sd, a.draws, rules, dgp)])
        if a.raw:
            r.to_csv(a.raw, index=False)
        population = mc.model_population()["P0_nomig"] if a.model_dgp else POPULATION_P0
        print(f"{dgp} DGP, seeds {r['seed'].min()}..{r['seed'].max()}, {a.draws} imputations; "
              f"population P0 {population:.4f}")
        summarise_rules(r, population)
        return

    if a.residuals:
        make = generator("A_baseline")
        r = {rule: pd.DataFrame([replication(make, sd, a.draws, rule) for sd in range(1, a.seeds + 1)])
             for rule in ("empirical", "local")}
        for rule, d in r.items():
            print(f"{rule}: paired bias nonselected {d.nonselected.mean():+.4f} "
                  f"(MC SE {d.nonselected.std() / len(d)**.5:.4f}), unconditional {d.unconditional.mean():+.4f} "
                  f"({d.unconditional.std() / len(d)**.5:.4f})")
        for k in ("nonselected", "unconditional"):
            dd = r["local"][k] - r["empirical"][k]
            print(f"local - empirical, {k} (paired): {dd.mean():+.5f} (MC SE {dd.std() / len(dd)**.5:.5f})")
        return

    res = {}
    for v in VARIANTS:
        make = generator(v)
        res[v] = pd.DataFrame([replication(make, sd, a.draws) for sd in range(1, a.seeds + 1)])
        d = res[v]
        R = len(d)
        print(f"{v}: paired bias nonselected {d.nonselected.mean():+.4f} (MC SE {d.nonselected.std() / R**.5:.4f}), "
              f"unconditional {d.unconditional.mean():+.4f} ({d.unconditional.std() / R**.5:.4f}), "
              f"mean lambda-hat {d['lambda'].mean():+.4f} ({d['lambda'].std() / R**.5:.4f})")
    a_, b_ = res["A_baseline"], res["B_benefit_nomig"]
    diff = a_.nonselected - b_.nonselected
    print(f"benefit-targeting channel (A - B, paired): {diff.mean():+.4f} (MC SE {diff.std() / len(diff)**.5:.4f})")
    X = sm.add_constant(np.column_stack([a_["lambda"], a_["lambda"] ** 2]))
    fit = sm.OLS((a_.nonselected - a_.unconditional).to_numpy(), X).fit()
    print("nonselected - unconditional = c + b1 lambda + b2 lambda^2:")
    print(fit.summary().tables[1])
    m1, m2 = a_["lambda"].mean(), (a_["lambda"] ** 2).mean()
    print(f"parts: constant {fit.params[0]:+.4f}, first order {fit.params[1] * m1:+.4f}, "
          f"second order {fit.params[2] * m2:+.4f}")


if __name__ == "__main__":
    main()
