"""Design effects of factored influence values from a Gram plan (issue #17: FGT table with deff).

``Design.influence_sums(..., gram=GramPlan)`` computes only the Gram entries the design
effects need, most of them from identities of the basis (an indicator squared, a column
times the constant, ``gap * gap``) instead of products. The reference is the full Gram
matrix (``gram=True``: every product, by blocked matrix products), whose design effects
are checked against R survey in ``test_deff_domains.py``. Tolerance 1e-12 relative: the
two paths sum the same products in a different order (observed <= 5e-14: the SRS
variance ``s2 - s1^2/W`` loses a few digits to cancellation).
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import remitpov as rp
from remitpov.design import Design, GramPlan
from remitpov.exceptions import DesignError
from remitpov.measures import poverty_core

RTOL = 1e-12


def _survey(seed=3, n=4000):
    rng = np.random.default_rng(seed)
    psu = np.sort(rng.integers(0, 80, n))
    df = pd.DataFrame({"strata": psu // 10, "psu": psu, "w": rng.lognormal(3, 0.5, n),
                       "y": np.round(rng.lognormal(6, 1, n), -1), "remit": np.where(rng.random(n) < 0.2,
                                                                                     rng.lognormal(4, 1, n), 0.0),
                       "region": rng.integers(0, 3, n), "zline": rng.choice([300.0, 400.0], n)})
    df.loc[:30, "y"] = 400.0  # incomes exactly at the line (strict vs weak)
    df["y0"] = df["y"] - df["remit"]
    return rp.Survey(df, weight="w", strata="strata", psu="psu", unit="person")


CALLS = {
    "compare_total": lambda s: rp.compare(s, {"with": "y", "without": "y0"}, 400.0, (0, 1, 2, 0.5), by="region",
                                          total=True, deff=True, headcount_total=True),
    "compare_weak_replace": lambda s: rp.compare(s, {"with": "y", "without": "y0"}, 400.0, (0, 1, 2), by="region",
                                                 strict=False, deff="replace"),
    "fgt_relative": lambda s: rp.fgt(s, "y", rp.RelativeLine(0.6, "median"), (0, 1, 2), by="region", deff=True),
    "fgt_two_lines": lambda s: rp.fgt(s, {"a": "y", "b": "y0"}, {"fixed": 400.0, "rel": rp.RelativeLine(0.5, "mean")},
                                      (0, 2), deff=True, total=True, by="region"),
    "fgt_unit_line": lambda s: rp.fgt(s, "y", "zline", (0, 1), deff=True),
    "watts": lambda s: rp.watts(s, "y", 400.0, by="region", deff=True),
}


@pytest.mark.parametrize("call", list(CALLS))
def test_plan_design_effects_equal_the_full_gram(call, monkeypatch):
    s = _survey()
    got = CALLS[call](s).to_frame()
    monkeypatch.setattr(poverty_core, "gram_plan", lambda *a, **k: True)  # every product (gram=True)
    ref = CALLS[call](s).to_frame()
    np.testing.assert_array_equal(got["estimate"], ref["estimate"])
    np.testing.assert_array_equal(got["se"], ref["se"])
    assert np.isfinite(ref["deff"]).all()
    np.testing.assert_allclose(got["deff"], ref["deff"], rtol=RTOL, atol=0)


def test_plan_entries_equal_full_gram_and_unknown_entries_are_refused():
    rng = np.random.default_rng(0)
    n = 5000
    d = Design.from_arrays(rng.lognormal(size=n), strata=np.repeat(np.arange(5), n // 5),
                           psu=np.repeat(np.arange(50), n // 50))
    y = rng.lognormal(size=n)
    poor = (y < 1.0).astype(float)
    gap = np.maximum(1.0 - y, 0.0)
    B = np.column_stack([poor, gap, gap * gap, np.ones(n), rng.normal(size=n)])
    codes = rng.integers(0, 3, n)
    full = d.influence_sums(B, codes, 3, gram=True)
    plan = GramPlan(pairs=((0, 0), (1, 1), (2, 2), (0, 3), (3, 3), (2, 4), (4, 4), (0, 1)),
                    same={(0, 0): 0, (0, 1): 1, (1, 1): 2, (0, 3): 0, (3, 3): 3}, constant=3)
    part = d.influence_sums(B, codes, 3, gram=plan)
    np.testing.assert_array_equal(part.psu, full.psu)
    known = part.gram_known
    assert known[2, 4] and known[4, 2] and not known[1, 4] and not known[0, 2]
    np.testing.assert_allclose(part.gram[:, known], full.gram[:, known], rtol=RTOL)
    np.testing.assert_allclose(part.wsum, full.wsum, rtol=RTOL)
    np.testing.assert_array_equal(part.n_pos, full.n_pos)
    # an estimate using columns 0 and 3 only: the same design effect as with the full Gram
    A = np.zeros((3, 5, 3))
    A[np.arange(3), 0, np.arange(3)] = 1.0
    A[np.arange(3), 3, np.arange(3)] = -0.3
    np.testing.assert_allclose(d.srs_variance_factored(part, A.reshape(15, 3), within=True),
                               d.srs_variance_factored(full, A.reshape(15, 3), within=True), rtol=RTOL)
    # ... one combining columns 1 and 4 (entry not computed) is refused, never a wrong number
    A[0, 4, 0] = 1.0
    A[0, 1, 0] = 1.0
    with pytest.raises(DesignError, match=r"Gram entry \([01], 4\)"):
        d.srs_variance_factored(part, A.reshape(15, 3))


def test_plan_identities_are_exact_for_the_fgt_basis():
    """Every identity the FGT plan uses holds bit for bit on the basis rows (including
    incomes at the line, zero and infinite incomes of rows outside every domain)."""
    cells = [poverty_core.Cell(c, ci, 0, f"fgt{a}", a) for ci, c in enumerate("ab") for a in (0, 1, 2)]
    plan = poverty_core.gram_plan(cells, {}, 6, 7)
    y = np.array([0.0, 1.0, 399.0, 400.0, 401.0, np.inf, 1e9, 250.5])
    for strict in (True, False):
        poor = (y < 400.0) if strict else (y <= 400.0)
        gap = np.maximum(400.0 - y, 0.0) / 400.0
        col = [poor.astype(float), gap, gap * gap]
        B = np.column_stack(col + col + [np.ones(y.size)])
        for (i, j), k in plan.same.items():
            np.testing.assert_array_equal(B[:, i] * B[:, j], B[:, k])
