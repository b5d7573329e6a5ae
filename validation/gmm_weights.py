"""Monte Carlo: probability-weighted dynamic panel GMM under informative sampling (issue #16).

    nice -n 10 python validation/gmm_weights.py --reps 200          # about 10 min of CPU

Population (per replication, ``N_pop`` entities, ``T = 7`` periods after a burn-in of 20)::

    y_it = 0.5 y_i,t-1 + 1.0 x_it + mu_i + e_it,   x, mu, e iid N(0, 1),  y_i0 = mu_i / (1 - 0.5)

Informative Poisson sampling of entities: entity ``i`` is drawn with probability
``pi_i = clip(logistic(-1 + 0.6 y_iT), 0.05, 1)``, which rises with its LAST outcome, so it
depends on ``mu_i`` and on the shocks ``e_it``. Given selection, ``E[Z_i' Delta e_i] != 0``
(the selected entities had favourable shocks): the unweighted moment conditions fail and
unweighted GMM is inconsistent, while the ``1 / pi_i``-weighted moments are the population
moments (``E[sum_i s_i / pi_i Z_i' Delta e_i] = sum_i Z_i' Delta e_i``), so weighted GMM
is consistent for the structural ``(rho, beta) = (0.5, 1.0)``. Each replication fits
difference and system GMM (``effects="individual"``, all lags of ``y`` from 2), one-step
(robust ``CR0``) and two-step (Windmeijer), unweighted and with ``weights="w"``
(probability weights) and records the estimates, SEs and the coverage of the nominal 95 %
interval for ``rho`` and ``beta``.

Session 6 (the two-step system-GMM beta bias): ``--design noninformative`` keeps the same
population and the same distribution of heavy weights but breaks the link with the outcomes:
the inclusion probabilities computed as above are randomly permuted over the entities
(an independent draw), so entity ``i`` is sampled with a probability unrelated to its own
panel and both unweighted and weighted GMM are consistent; only the weights stay as heavy
(``pi`` clipped at 0.05, weights up to 20). ``--collapse`` uses collapsed instruments (one
column per lag instead of one per lag and period). A bias of weighted two-step GMM that
persists in the non-informative design comes from the heavy weights in the estimated weight
matrix ``sum w_i^2 g_i g_i'`` (finite sample), not from informative sampling.

Summary per estimator: bias with its Monte Carlo SE (SD / sqrt(R)), RMSE, mean SE / SD,
coverage with its binomial MC SE. ``tests/test_econometrics_gmm_weights_mc.py`` runs a few
seeds (fast) and the full study (``slow``).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from remitpov.econometrics.gmm import DynamicPanelGMM  # noqa: E402

RHO, BETA, T, BURN = 0.5, 1.0, 7, 20
FORMULA = "y ~ lag(y, 1) + x | lag(y, 2:99)"


DESIGNS = ("informative", "noninformative")


def informative_sample(seed: int, n_pop: int = 3000, design: str = "informative") -> pd.DataFrame:
    """A Poisson sample of entities of one population draw, with weights ``w = 1 / pi``.

    ``design="noninformative"``: the same population and the same set of inclusion
    probabilities, randomly permuted over the entities (independent stream ``[seed, 16, 1]``),
    so that selection is independent of each entity's panel but the weights are as heavy.
    """
    if design not in DESIGNS:
        raise ValueError(f"design={design!r}: use one of {DESIGNS}")
    rng = np.random.default_rng([int(seed), 16])
    mu = rng.normal(size=n_pop)
    x = rng.normal(size=(n_pop, T + BURN))
    e = rng.normal(size=(n_pop, T + BURN))
    y = np.zeros((n_pop, T + BURN))
    y[:, 0] = mu / (1 - RHO)
    for t in range(1, T + BURN):  # a loop over time, vectorised over entities
        y[:, t] = RHO * y[:, t - 1] + BETA * x[:, t] + mu + e[:, t]
    y, x = y[:, BURN:], x[:, BURN:]
    pi = np.clip(1.0 / (1.0 + np.exp(1.0 - 0.6 * y[:, -1])), 0.05, 1.0)
    if design == "noninformative":
        pi = np.random.default_rng([int(seed), 16, 1]).permutation(pi)
    ids = np.flatnonzero(rng.random(n_pop) < pi)
    return pd.DataFrame({"id": np.repeat(ids, T), "t": np.tile(np.arange(T), ids.size),
                         "y": y[ids].ravel(), "x": x[ids].ravel(), "w": np.repeat(1.0 / pi[ids], T)})


def replication(seed: int, n_pop: int = 3000, variants=None, design: str = "informative",
                collapse: bool = False) -> list[dict]:
    """Estimates of every variant ``(system, steps, weighted)`` on one sample of ``design``."""
    d = informative_sample(seed, n_pop, design)
    variants = variants or [(s, k, w) for s in (False, True) for k in (1, 2) for w in (False, True)]
    out = []
    for system, steps, weighted in variants:
        r = DynamicPanelGMM(FORMULA, d, entity="id", time="t", system=system, effects="individual",
                            collapse=collapse, weights="w" if weighted else None).fit(steps)
        rec = {"seed": seed, "estimator": f"{'system' if system else 'difference'} GMM, {steps}-step, "
                                          f"{'weighted' if weighted else 'unweighted'}"
                                          f"{', collapsed' if collapse else ''}",
               "entities": r.n_entities}
        for par, true in (("L1.y", RHO), ("x", BETA)):
            b, se = float(r.params[par]), float(r.std_errors[par])
            rec[f"{par}_est"], rec[f"{par}_se"] = b, se
            rec[f"{par}_cover"] = bool(abs(b - true) <= 1.959963984540054 * se)
        out.append(rec)
    return out


def summarise(raw: pd.DataFrame) -> pd.DataFrame:
    """Bias with MC SE, RMSE, SE/SD and coverage (with MC SE) per estimator and parameter."""
    rows = []
    for est, g in raw.groupby("estimator", sort=False):
        R = len(g)
        for par, true in (("L1.y", RHO), ("x", BETA)):
            x = g[f"{par}_est"].to_numpy()
            sd = x.std(ddof=1)
            cov = g[f"{par}_cover"].to_numpy(float).mean()
            rows.append({"estimator": est, "parameter": "rho" if par == "L1.y" else "beta", "truth": true, "R": R,
                         "bias": x.mean() - true, "mc_se": sd / np.sqrt(R),
                         "rmse": float(np.sqrt(np.mean((x - true) ** 2))), "se_sd": g[f"{par}_se"].mean() / sd,
                         "coverage": cov, "coverage_mc_se": np.sqrt(cov * (1 - cov) / R),
                         "entities": g["entities"].mean()})
    return pd.DataFrame(rows)


def paired_differences(raw: pd.DataFrame) -> pd.DataFrame:
    """Per-seed differences between estimators fitted on the same samples, with MC SEs.

    For every family (the estimator label without its steps and weighting: system or
    difference, all or collapsed instruments) the mean over seeds of ``two-step - one-step``
    (weighted and unweighted) and ``weighted - unweighted`` (one- and two-step), for ``rho``
    and ``beta``, with the MC SE ``SD / sqrt(R)`` of the difference: sharper than comparing
    two biases, because both estimates share the sample.
    """
    lab = raw["estimator"].str.extract(r"^(?P<kind>\w+ GMM), (?P<steps>\d)-step, (?P<wt>\w+)(?P<coll>.*)$")
    d = pd.concat([raw, lab], axis=1)
    rows = []
    for (kind, coll), g in d.groupby(["kind", "coll"], sort=False):
        fam = f"{kind}{coll}"
        for par, name in (("L1.y", "rho"), ("x", "beta")):
            t = g.pivot_table(index="seed", columns=["steps", "wt"], values=f"{par}_est")
            pairs = [(f"2-step - 1-step, {wt}", t[("2", wt)] - t[("1", wt)]) for wt in ("weighted", "unweighted")
                     if ("2", wt) in t and ("1", wt) in t]
            pairs += [(f"weighted - unweighted, {k}-step", t[(k, "weighted")] - t[(k, "unweighted")])
                      for k in ("1", "2") if (k, "weighted") in t and (k, "unweighted") in t]
            for what, x in pairs:
                x = x.dropna().to_numpy()
                rows.append({"family": fam, "difference": what, "parameter": name, "R": x.size, "mean": x.mean(),
                             "mc_se": x.std(ddof=1) / np.sqrt(x.size)})
    return pd.DataFrame(rows)


def table_markdown(s: pd.DataFrame) -> str:
    head = "| estimator | parameter | R | bias | MC SE | bias / MC SE | RMSE | SE/SD | 95% coverage | cov. MC SE |"
    lines = [head, "|---" * (head.count("|") - 1) + "|"]
    for _, r in s.iterrows():
        lines.append(f"| {r.estimator} | {r.parameter} | {int(r.R)} | {r.bias:+.4f} | {r.mc_se:.4f} | "
                     f"{r.bias / r.mc_se:+.1f} | {r.rmse:.4f} | {r.se_sd:.2f} | {100 * r.coverage:.1f} % | "
                     f"{100 * r.coverage_mc_se:.1f} |")
    return "\n".join(lines)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--reps", type=int, default=200)
    ap.add_argument("--first-seed", type=int, default=1)
    ap.add_argument("--n-pop", type=int, default=3000)
    ap.add_argument("--estimators", default="all", choices=("all", "difference", "system"))
    ap.add_argument("--design", default="informative", choices=DESIGNS,
                    help="informative (default) or noninformative sampling: same weights, permuted over entities")
    ap.add_argument("--collapse", action="store_true", help="collapsed instruments")
    ap.add_argument("--raw", default=None, help="write one row per replication and estimator (CSV)")
    ap.add_argument("--from-raw", nargs="+", default=None, metavar="CSV",
                    help="only summarise the rows of these --raw files (e.g. runs in chunks of seeds)")
    a = ap.parse_args(argv)
    if a.from_raw:
        raw = pd.concat([pd.read_csv(f) for f in a.from_raw], ignore_index=True)
        if raw.duplicated(["seed", "estimator"]).any():
            raise SystemExit("the --from-raw files repeat a (seed, estimator) pair")
        s = summarise(raw)
        print(f"seeds {raw['seed'].min()}..{raw['seed'].max()} ({raw['seed'].nunique()} seeds), "
              f"mean sample {s['entities'].mean():.0f} entities\n")
        print(table_markdown(s))
        p = paired_differences(raw)
        print("\nPaired differences (same samples):\n")
        print("| family | difference | parameter | R | mean | MC SE | mean / MC SE |\n|---|---|---|---|---|---|---|")
        for _, r in p.iterrows():
            print(f"| {r.family} | {r.difference} | {r.parameter} | {r.R} | {r['mean']:+.4f} | {r.mc_se:.4f} | "
                  f"{r['mean'] / r.mc_se:+.1f} |")
        return
    systems = {"all": (False, True), "difference": (False,), "system": (True,)}[a.estimators]
    variants = [(s, k, w) for s in systems for k in (1, 2) for w in (False, True)]
    raw = pd.DataFrame([r for sd in range(a.first_seed, a.first_seed + a.reps)
                        for r in replication(sd, a.n_pop, variants, a.design, a.collapse)])
    if a.raw:
        raw.to_csv(a.raw, index=False)
    s = summarise(raw)
    print(f"seeds {a.first_seed}..{a.first_seed + a.reps - 1}, {a.design} sampling, "
          f"{'collapsed' if a.collapse else 'all'} instruments, population {a.n_pop} entities, "
          f"mean sample {s['entities'].mean():.0f} entities\n")
    print(table_markdown(s))


if __name__ == "__main__":
    main()
