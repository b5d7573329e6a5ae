"""Where the multinomial default's bias on its own DGP comes from (issue #16).

    nice -n 10 python validation/mn_bias.py --seeds 150 [--errors shift|gumbel] [--rules full,matched]

On :func:`montecarlo.mn_model_survey` (the Dubin--McFadden model's own DGP) the multinomial
counterfactual (DMF correction, status-specific prediction, 20 proper imputations, empirical
residuals) is rerun on the same seeds with several imputation rules; the script prints the
paired errors (estimate minus the same measure of the true no-migration income in the same
sample) of FGT0, FGT1 and the Gini, and paired differences between rules:

* ``full``: parameters drawn jointly from N(theta, V), the prediction recomputed at each draw
  (``parameter_draws="full"``), residuals as drawn (``residual_variance="base"``): the default
  before session 6;
* ``linear``: the prediction linearised at the estimate (``parameter_draws="linear"``): no
  Jensen shift of the nonlinear correction terms; ``full - linear`` measures that shift;
* ``fixed``: parameters held at the estimate (improper; for the comparison only);
* ``normal``: normal instead of empirical residuals;
* ``matched``: the default since session 6 (``residual_variance="matched"``): each residual
  scaled to variance ``s^2 - 2 g_i`` (``g_i`` the delta-method variance of household i's
  prediction); ``fixed_matched``: fixed parameters, variance ``s^2 - g_i``;
* ``dmf``: ``residuals="dmf"``, the DMF model's own error given the status (the Gumbel part
  drawn from the fitted logit given the household's status, plus a normal part), matched.

``--errors shift`` (default) uses the DGP variant whose residual distribution does not depend
on the status (what the imputation assumes); ``gumbel`` the structural DGP, whose residual
given the status differs from the base group's; ``synthetic`` the package's synthetic survey
(``migration_types=True``; misspecified: income is a sum of sources). Results: validation/RESULTS.md (session 6).
"""
from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

import montecarlo as mc  # noqa: E402
from remitpov.econometrics.counterfactual import counterfactual_fgt, counterfactual_gini  # noqa: E402
from remitpov.econometrics.multinomial import multinomial_counterfactual_income  # noqa: E402
from remitpov.inequality import gini  # noqa: E402
from remitpov.poverty import fgt  # noqa: E402

RULES = {"full": {"parameter_draws": "full", "residual_variance": "base"},
         "linear": {"parameter_draws": "linear", "residual_variance": "base"},
         "fixed": {"parameter_draws": "fixed", "residual_variance": "base"},
         "normal": {"parameter_draws": "full", "residual_variance": "base", "residuals": "normal"},
         "matched": {"parameter_draws": "full", "residual_variance": "matched"},
         "fixed_matched": {"parameter_draws": "fixed", "residual_variance": "matched"},
         "dmf": {"parameter_draws": "full", "residual_variance": "matched", "residuals": "dmf"}}
PAIRS = (("full", "linear"), ("full", "fixed"), ("matched", "full"), ("fixed_matched", "fixed"), ("dmf", "matched"))
MEASURES = ("fgt0", "fgt1", "gini")


#: fixed lines of the synthetic survey with migration types (population lines, validation/RESULTS.md)
SYNTHETIC_LINES = {"rural": 1217.95, "urban": 1623.94}


def replication(seed: int, errors: str = "shift", draws: int = 20, rules=None) -> dict:
    """Paired errors (FGT0, FGT1, Gini) of the imputation rules on one sample."""
    if errors == "synthetic":
        from remitpov.synthetic import synthetic_survey

        s = mc.prepare(synthetic_survey(seed=seed, n_households=3000, migration_types=True), SYNTHETIC_LINES)
        rhs, sel = mc.RHS, mc.MULTI_SELECTION
    else:
        s = mc.mn_model_survey(seed, errors=errors)
        rhs, sel = "x1 + x2", "x1 + x2 + z_int + z_mig"
    t = fgt(s, "y_true", "poverty_line", alpha=(0, 1)).estimates
    truth = {"fgt0": t[0], "fgt1": t[1], "gini": gini(s, "y_true", deff=True).estimates[0]}
    out = {"seed": seed}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name in rules or RULES:
            kw = RULES[name]
            cf = multinomial_counterfactual_income(s, rhs, sel, income="y_static", draws=draws, seed=seed, **kw)
            f = counterfactual_fgt(cf, "poverty_line", alpha=(0, 1), concept="multinomial").to_frame()
            f = f[f["concept"] == "multinomial"].set_index("measure")["estimate"]
            g = counterfactual_gini(cf, concept="multinomial").to_frame()
            est = {"fgt0": f["fgt0"], "fgt1": f["fgt1"], "gini": g["estimate"].iloc[0]}
            for ms in MEASURES:
                out[f"{name}:{ms}"] = float(est[ms]) - truth[ms]
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seeds", type=int, default=150)
    ap.add_argument("--errors", default="shift", choices=("shift", "gumbel", "synthetic"),
                    help="mn_model_survey errors, or 'synthetic': the package's synthetic survey with migration "
                         "types (misspecified for the model; income equation and logit of montecarlo.py)")
    ap.add_argument("--raw", help="write the per-seed paired errors to this CSV")
    ap.add_argument("--rules", default=",".join(RULES), help="comma-separated subset of the rules")
    a = ap.parse_args(argv)
    rules = a.rules.split(",")
    r = pd.DataFrame([replication(sd, a.errors, rules=rules) for sd in range(1, a.seeds + 1)])
    R = len(r)
    for ms in MEASURES:
        print(f"--- {ms} ({a.errors}, seeds 1..{R}, paired: estimate minus the same measure of the true income)")
        for k in rules:
            x = r[f"{k}:{ms}"]
            print(f"{k}: paired bias {x.mean():+.5f} (MC SE {x.std() / np.sqrt(R):.5f})")
        for a_, b_ in PAIRS:
            if a_ not in rules or b_ not in rules:
                continue
            d = r[f"{a_}:{ms}"] - r[f"{b_}:{ms}"]
            print(f"{a_} - {b_}: {d.mean():+.5f} (MC SE {d.std() / np.sqrt(R):.5f})")
    if a.raw:
        r.to_csv(a.raw, index=False)

if __name__ == "__main__":
    main()
