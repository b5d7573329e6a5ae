"""``na_rm=True`` is ONE rule for every estimator: rows with a missing value are outside
every domain (zero weight, design kept) -- so the result equals the same call on the
complete rows whenever every PSU keeps at least one complete row (then the PSUs,
strata, degrees of freedom and the SRS sample size are the same; zero-weight rows add
nothing to any total).

Reference: the same call on the survey WITHOUT the incomplete rows (an independent
route: no missing value ever reaches the estimator). Tolerance 1e-12 relative: the two
routes sum the same numbers with zero terms in between, in the same order, so they agree
to rounding (observed <= 1e-15; kernel densities and sorts see identical positive-weight
rows).

Issue #10.1: ``watts(..., na_rm=True)`` returned NaN (``log(z/0) * 0``) whenever an income
was missing.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import remitpov as rp
from remitpov.poverty import RelativeLine

RTOL = 1e-12


def _frames():
    rng = np.random.default_rng(101)
    n, P = 600, 60
    psu = np.repeat(np.arange(P), n // P)
    df = pd.DataFrame({
        "strata": psu // 6, "psu": psu, "w": rng.uniform(50, 150, n),
        "size": rng.integers(1, 6, n).astype(float),
        "y": rng.lognormal(7, 0.8, n), "remit": 0.0,
        "area": rng.choice(["urban", "rural"], n), "lab": rng.lognormal(6.5, 0.9, n),
    })
    df["remit"] = np.where(rng.random(n) < 0.3, df["y"] * rng.uniform(0.1, 0.6, n), 0.0)
    df["y0"] = df["y"] - df["remit"]  # positive: every measure (GE, Watts) is defined
    df["recipient"] = df["remit"] > 0
    # missing values: ~8 % of rows, never all the rows of a PSU (position 0 of each PSU kept)
    miss = (rng.random(n) < 0.08) & (np.arange(n) % (n // P) != 0)
    miss_y0 = (rng.random(n) < 0.05) & (np.arange(n) % (n // P) != 0)
    full = df.copy()
    full.loc[miss, "y"] = np.nan
    full.loc[miss_y0, "y0"] = np.nan
    return full


FULL = _frames()


def _survey(df):
    return rp.Survey(df, weight="w", strata="strata", psu="psu", size="size", unit="household")


def _complete(*cols):
    """The survey without the rows missing in any of ``cols`` (the independent route)."""
    return _survey(FULL.dropna(subset=list(cols)).reset_index(drop=True))


S_FULL, S_COMPLETE = _survey(FULL), _complete("y")
#: calls that read ``y0`` (missing in other rows than ``y``): their reference drops those rows
USES_Y0 = {"compare_fgt", "compare_watts", "compare_gini", "static_identity", "poverty_curve", "mean",
           "compare_inequality_theil"}
INC = {"with": "y", "without": "y0"}

# name -> call(survey, **na) ; every one uses the incomes with missing values
CASES = {
    "fgt": lambda s, **k: rp.fgt(s, "y", 1200.0, (0, 1, 2), by="area", total=True, deff=True, **k),
    "fgt_relative_line": lambda s, **k: rp.fgt(s, "y", RelativeLine(0.6), (0, 1, 2), by="area", **k),
    "watts": lambda s, **k: rp.watts(s, "y", 1200.0, by="area", deff=True, **k),
    "watts_relative_line": lambda s, **k: rp.watts(s, "y", RelativeLine(0.6), **k),
    "sen": lambda s, **k: rp.sen(s, "y", 1200.0, by="area", deff=True, **k),
    "sst": lambda s, **k: rp.sst(s, "y", 1200.0, deff=True, **k),
    "compare_fgt": lambda s, **k: rp.compare(s, INC, 1200.0, by="area", **k),
    "compare_watts": lambda s, **k: rp.compare(s, INC, 1200.0, measure="watts", **k),
    "compare_gini": lambda s, **k: rp.compare(s, INC, measure="gini", deff=True, **k),
    "decompose": lambda s, **k: rp.decompose(s, "y", 1200.0, "area", **k),
    "static_identity": lambda s, **k: rp.static_identity(s, "y", "y0", 1200.0, "recipient", **k).table,
    "poverty_curve": lambda s, **k: rp.poverty_curve(s, INC, [800.0, 1200.0, 2000.0], alpha=1, **k),
    "mean": lambda s, **k: rp.mean(s, ["y", "y0"], by="area", deff=True, **k),
    "total": lambda s, **k: rp.total(s, "y", by="area", **k),
    "ratio": lambda s, **k: rp.ratio(s, "remit", "y", **k),
    "quantile": lambda s, **k: rp.quantile(s, "y", (0.25, 0.5), by="area", deff=True, **k),
    "gini": lambda s, **k: rp.gini(s, "y", by="area", deff=True, **k),
    "generalized_entropy": lambda s, **k: rp.generalized_entropy(s, "y", (0.0, 1.0, 2.0), deff=True, **k),
    "theil": lambda s, **k: rp.theil(s, "y", deff=True, **k),
    "mld": lambda s, **k: rp.mld(s, "y", deff=True, **k),
    "atkinson": lambda s, **k: rp.atkinson(s, "y", (0.5, 1.0, 2.0), deff=True, **k),
    "income_shares": lambda s, **k: rp.income_shares(s, "y", deff=True, **k),
    "palma": lambda s, **k: rp.palma(s, "y", deff=True, **k),
    "quantile_share_ratio": lambda s, **k: rp.quantile_share_ratio(s, "y", deff=True, **k),
    "lorenz": lambda s, **k: rp.lorenz(s, "y", 10, deff=True, **k),
    "concentration_curve": lambda s, **k: rp.concentration_curve(s, "remit", "y0", 10, deff=True, **k),
    "gini_decomposition": lambda s, **k: rp.gini_decomposition(s, {"labour": "lab", "remit": "remit"},
                                                               total="y", deff=True, **k).table,
    "compare_inequality_theil": lambda s, **k: rp.compare_inequality(s, INC, "theil", deff=True, **k),
}


def _frame(res):
    return res if isinstance(res, pd.DataFrame) else res.to_frame()


@pytest.mark.parametrize("variance", ["linearised", "bootstrap"])
@pytest.mark.parametrize("name", sorted(CASES))
def test_na_rm_equals_complete_rows(name, variance):
    """Both variance paths (the convey bug class: missing values treated differently on the
    linearised and the replicate path). Bootstrap replicates are drawn per PSU with a seed,
    so both surveys (same PSUs and strata) get the same replicate factors."""
    call = CASES[name]
    cols = ("y", "y0") if name in USES_Y0 else ("y0",) if name == "concentration_curve" else ("y",)
    full, comp = S_FULL, _complete(*cols)
    if variance == "bootstrap":
        full, comp = full.with_replicates("bootstrap", 20, seed=3), comp.with_replicates("bootstrap", 20, seed=3)
    got = _frame(call(full, na_rm=True))
    ref = _frame(call(comp))
    assert list(got.columns) == list(ref.columns)
    assert len(got) == len(ref) > 0
    num = [c for c in ("estimate", "se", "ci_lower", "ci_upper", "deff") if c in got]
    keys = [c for c in got.columns if c not in num + ["df", "n_obs"]]
    pd.testing.assert_frame_equal(got[keys], ref[keys])
    for c in num:
        a, b = got[c].to_numpy(float), ref[c].to_numpy(float)
        if c in ("estimate", "se"):  # (a design effect is 0/0 where the variance is zero: Lorenz at p=0)
            assert np.isfinite(a).all(), f"{name}: {c} has NaN/inf with na_rm=True"
        if c == "deff":  # a ratio of two rounding errors where the variance is zero (Lorenz at p = 0, 1)
            keep = ref["se"].to_numpy() > 1e-9
            a, b = a[keep], b[keep]
        np.testing.assert_allclose(a, b, rtol=RTOL, atol=1e-15, err_msg=f"{name}: {c}")


@pytest.mark.parametrize("name", sorted(CASES))
def test_missing_values_raise_without_na_rm(name):
    with pytest.raises(rp.InputError, match="na_rm=True"):
        CASES[name](S_FULL)


def test_watts_na_rm_is_finite_issue_10_1():
    """#10.1: one missing income used to make the Watts index and its SE NaN."""
    t = rp.watts(S_FULL, "y", 1200.0, na_rm=True)
    assert np.isfinite(t.estimates).all() and np.isfinite(t.se).all()
    np.testing.assert_allclose(t.estimates, rp.watts(S_COMPLETE, "y", 1200.0).estimates, rtol=RTOL)
