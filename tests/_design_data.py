"""Set-up shared by the engine tests (test_engines, test_engine_duckdb, test_distributed): a
synthetic person-level survey frame and the check that an out-of-memory result equals the
in-memory one."""
from __future__ import annotations

import numpy as np
import pandas as pd


def design_frame(n: int, n_psu: int, n_strata: int, seed: int, *, two_stage: bool = False) -> pd.DataFrame:
    """Strata, PSUs (every PSU sampled at least once), lognormal weights, incomes rounded to 10
    (ties for ranks and ``y == z``; 3 % zeros), remittances for 15 %, ``urban``/``region`` domains,
    ``y0 = income - remit`` and a line per row (``zline``); rows shuffled, so partitions are not
    PSU-ordered. ``two_stage`` adds households within PSUs (``hh``) and finite population
    corrections: ``fpc`` = 40 PSUs per stratum, ``fpc2`` = 9 households per PSU."""
    rng = np.random.default_rng(seed)
    psu = np.sort(np.concatenate([np.arange(n_psu), rng.integers(0, n_psu, n - n_psu)]))
    strata = psu // (n_psu // n_strata)
    cols = {"strata": strata, "psu": psu}
    if two_stage:
        cols["hh"] = rng.integers(0, 6, n)  # second-stage units (households) within the PSU
    w = rng.lognormal(4, 0.5, n)
    inc = np.round(rng.lognormal(6, 1, n), -1)  # rounded: ties for ranks and y == z
    inc[rng.random(n) < 0.03] = 0.0
    rem = np.where(rng.random(n) < 0.15, np.round(rng.lognormal(4.5, 1, n)), 0.0)
    urban = np.where(rng.random(n) < 0.6, "urban", "rural")
    df = pd.DataFrame({**cols, "w": w, "income": inc, "remit": rem, "urban": urban, "region": rng.integers(1, 4, n)})
    df["y0"] = df["income"] - df["remit"]
    df["zline"] = np.where(df["urban"] == "urban", 650.0, 520.0)  # a line per row
    if two_stage:
        df["fpc"] = 40.0  # PSUs in each stratum's population
        df["fpc2"] = 9.0  # households in each PSU's population
    # shuffle rows so partitions are not PSU-ordered (the reduction must not rely on order)
    return df.sample(frac=1.0, random_state=1).reset_index(drop=True)


def assert_same_result(a, b, rtol: float = 1e-10) -> None:
    """Result ``a`` (an engine's) equals ``b`` (in memory): labels exactly; estimates, SEs and
    the covariance to ``rtol``; design effects to 1e-9 (second moments summed in another form);
    degrees of freedom and observation counts exactly."""
    fa, fb = a.to_frame(), b.to_frame()
    assert list(fa.columns) == list(fb.columns)
    keys = [c for c in fa.columns if c not in ("estimate", "se", "ci_lower", "ci_upper", "df", "deff", "n_obs")]
    pd.testing.assert_frame_equal(fa[keys].astype(str), fb[keys].astype(str))
    np.testing.assert_allclose(fa["estimate"], fb["estimate"], rtol=rtol, atol=1e-300)
    np.testing.assert_allclose(fa["se"], fb["se"], rtol=rtol, atol=1e-300)
    Va, Vb = np.asarray(a.vcov), np.asarray(b.vcov.toarray() if hasattr(b.vcov, "toarray") else b.vcov)
    np.testing.assert_allclose(Va, Vb, rtol=rtol, atol=1e-16 * np.nanmax(np.abs(Vb)))
    assert fa["df"].iloc[0] == fb["df"].iloc[0]
    if "deff" in fa:
        np.testing.assert_allclose(fa["deff"], fb["deff"], rtol=1e-9)
    if "n_obs" in fa:
        np.testing.assert_array_equal(fa["n_obs"], fb["n_obs"])
