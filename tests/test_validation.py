"""Fast subset of the Monte Carlo validation (``validation/``; full study: ``python validation/run.py``).

Three seeds of the synthetic DGP whose true income without migration is known
(``y_true_nomig``), of the binary Heckman model's own DGP (``model_survey``) and of the
multinomial (Dubin--McFadden) model's own DGP (``mn_model_survey``). The *paired* error ``estimate - headcount of the true income in the same
sample`` isolates the estimator's error (both share the non-migrant households). Tolerances
come from the full study (validation/RESULTS.md): the SD of the paired error is about 0.015
(binary default) and 0.03 (multinomial default), so the mean over 3 seeds has an SE of about
0.009 / 0.017; the tolerances 0.02 / 0.04 are ~2.3 SEs. The static counterfactual, biased by
+2 (binary) and +4 (multinomial) points of FGT0, fails the same check in every seed.
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "validation"))

import montecarlo as mc  # noqa: E402

#: fixed lines (the population lines of validation/RESULTS.md; any fixed value would do for a
#: paired comparison)
LINES = {"binary": {"rural": 1173.41, "urban": 1564.55}, "multinomial": {"rural": 1217.95, "urban": 1623.94}}
SEEDS = (1001, 1002, 1003)


@pytest.fixture(scope="module")
def rows():
    out = []
    for sd in SEEDS:
        out += [dict(r, study="binary") for r in mc.binary_replication(sd, LINES["binary"], draws=10,
                                                                        which=("migrant",))]
        out += [dict(r, study="multinomial") for r in mc.multinomial_replication(sd, LINES["multinomial"], draws=10)]
        out += [dict(r, study="model") for r in mc.model_replication(sd, draws=10)]
        out += [dict(r, study="mn_model") for r in mc.mn_model_replication(sd, draws=10)]
    r = pd.DataFrame(out)
    r["err"] = r["estimate"] - r["sample_truth"]
    return r


def _get(rows, estimator):
    g = rows[rows["estimator"] == estimator]
    assert len(g) == len(SEEDS)
    return g


def test_defaults_unbiased_and_cover(rows):
    b = _get(rows, "heckman default (migrant, nonselected, MI)")
    m = _get(rows, "multinomial default (DMF, conditional, MI)")
    assert abs(b["err"].mean()) < 0.02 and abs(m["err"].mean()) < 0.04
    # coverage sanity: each 95 % CI (Rubin's T, Barnard-Rubin df) contains the sample's true headcount
    for g in (b, m):
        assert ((g["lo"] <= g["sample_truth"]) & (g["sample_truth"] <= g["hi"])).all()
        assert (g["se"] > 0).all()


def test_model_dgp_default_covers_and_unconditional_does_not(rows):
    """Heckman's own DGP (rho = 0.5): the recipient-specific default covers the sample truth in
    every seed, with mean paired error < 0.03 (full-study SD of the paired error 0.024: SE of a
    3-seed mean 0.014); the unconditional prediction is biased by about -5 points (full study)."""
    d = _get(rows, "heckman default (model DGP, nonselected, MI)")
    assert abs(d["err"].mean()) < 0.03
    assert ((d["lo"] <= d["sample_truth"]) & (d["sample_truth"] <= d["hi"])).all()
    assert _get(rows, "heckman unconditional (model DGP, MI)")["err"].mean() < -0.03


def test_static_counterfactual_is_biased(rows):
    """The check above can fail: the static counterfactual (migrants would earn nothing) is off."""
    assert (_get(rows, "static (income minus remittances)")["err"] > 0.015).all()
    assert (_get(rows, "static (minus all migrants' transfers)")["err"] > 0.025).all()
    # ... while it is exact for its own target (income minus remittances)
    np.testing.assert_allclose(_get(rows, "static, own target")["err"], 0.0, atol=1e-12)


def test_summary_statistics(rows):
    """summarise() against a hand computation on the same rows (population value = given)."""
    pops = {"binary": {"P0_nomig": 0.28, "P0_static": 0.30}, "multinomial": {"P0_nomig": 0.30}, "model": {"P0_nomig": 0.47},
            "mn_model": {"P0_nomig": 0.46}}
    s = mc.summarise(rows.drop(columns="err"), pops).set_index("estimator")
    g = _get(rows, "heckman default (migrant, nonselected, MI)")
    r = s.loc["heckman default (migrant, nonselected, MI)"]
    x = g["estimate"].to_numpy()
    assert r["bias"] == pytest.approx(x.mean() - 0.28)
    assert r["mc_se"] == pytest.approx(x.std(ddof=1) / np.sqrt(3))
    assert r["rmse"] == pytest.approx(np.sqrt(np.mean((x - 0.28) ** 2)))
    assert r["se_sd"] == pytest.approx(g["se"].mean() / x.std(ddof=1))
    assert r["coverage"] == pytest.approx(np.mean((g["lo"] <= 0.28) & (0.28 <= g["hi"])))
    assert r["paired_bias"] == pytest.approx(g["err"].mean())
    from run import table_markdown

    md = table_markdown(s.reset_index())
    assert md.count("\n") == len(s) + 1 and "heckman default" in md


def test_mn_model_dgp_default_close_and_unconditional_biased(rows):
    """The multinomial model's own DGP (DMF linearity in the Gumbel errors): the status-specific
    default's mean paired error over 3 seeds < 0.04 (full study: SD of the paired error 0.023,
    SE of a 3-seed mean 0.013) and each CI covers the sample truth; the unconditional prediction
    is biased by about +10 points (full study), the static counterfactual by about +11."""
    d = _get(rows, "multinomial default (mn model DGP, DMF, conditional, MI)")
    assert abs(d["err"].mean()) < 0.04
    assert ((d["lo"] <= d["sample_truth"]) & (d["sample_truth"] <= d["hi"])).all()
    assert _get(rows, "multinomial unconditional (mn model DGP, MI)")["err"].mean() > 0.05
    assert (_get(rows, "static (mn model DGP)")["err"] > 0.05).all()


def test_population_values_of_the_model_dgps():
    """The exact (binary) and Rao-Blackwellised (multinomial) population headcounts against a
    plain simulated headcount of 300,000 households (SE about 0.0012 with the weights)."""
    assert mc.model_population()["P0_nomig"] == pytest.approx(mc._p0(mc.model_survey(4242, n=300_000), "y_true"),
                                                               abs=0.004)
    for study, err in mc.MN_MODEL_STUDIES.items():
        sim = mc._p0(mc.mn_model_survey(4242, n=300_000, errors=err), "y_true")
        assert mc.mn_model_population(err, n=300_000)["P0_nomig"] == pytest.approx(sim, abs=0.004), study
