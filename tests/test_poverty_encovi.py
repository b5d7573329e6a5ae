"""Guatemala ENCOVI 2000: the official national poverty headcounts.

Published figures (INE Guatemala / World Bank, ENCOVI 2000): 56.2 % of persons in general
poverty and 15.7 % in extreme poverty, from per-capita consumption ``agreg3`` against the
official lines (4,318.56 and 1,911.69 quetzales per person per year), person weights,
strict ``agreg3 < line``. The published values are rounded to one decimal, so the test
requires the estimate to round to them (|diff| < 0.05 percentage points).
"""
from __future__ import annotations

import numpy as np
import pytest

from remitpov.poverty import fgt


@pytest.fixture(scope="module")
def encovi(shared):
    read_encovi2000 = pytest.importorskip("remitpov.io.encovi").read_encovi2000
    return read_encovi2000(shared("data", "encovi2000_gt"))


def test_official_headcounts(encovi):
    t = fgt(encovi, "agreg3", {"general": "li_gener", "extreme": "li_extre"}, alpha=0)
    gen = t.get(measure="fgt0", line="general")
    ext = t.get(measure="fgt0", line="extreme")
    assert abs(100 * gen.estimate - 56.2) < 0.05
    assert abs(100 * ext.estimate - 15.7) < 0.05
    # design-based SEs are positive and plausible for a clustered national survey
    assert 0.005 < gen.se < 0.03 and 0.003 < ext.se < 0.03
    # the line columns hold the official scalars: same result as the published numbers
    t2 = fgt(encovi, "agreg3", {"general": 4318.56, "extreme": 1911.69}, alpha=0)
    np.testing.assert_allclose(t2.estimates, t.estimates, rtol=1e-12)


def test_person_weights_are_used(encovi):
    """Household-weighted headcount differs: poor households are larger (sanity of level=)."""
    p = fgt(encovi, "agreg3", 4318.56, alpha=0, level="person", headcount_total=False).estimates[0]
    h = fgt(encovi, "agreg3", 4318.56, alpha=0, level="household", headcount_total=False).estimates[0]
    d = encovi.data
    w = d["factor2"].to_numpy() * d["thogar"].to_numpy()
    np.testing.assert_allclose(p, (w * (d["agreg3"] < 4318.56)).sum() / w.sum(), rtol=1e-12)
    assert h < p
