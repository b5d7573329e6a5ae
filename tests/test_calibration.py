"""Calibrated remittances, the poverty impact range and ECLAC's national-accounts adjustment.

Checked by closed forms (the calibrated expanded total equals the macro total, every
recipient's remittances scaled by one factor), plain numpy recomputation of the poverty
headcounts, and monotonicity.
"""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import remitpov as rp
from remitpov.calibration import (adjust_to_national_accounts, adjustment_poverty, calibrate_remittances,
                                  remittance_impact_range)
from remitpov.exceptions import DataWarning, InputError

RATE = 20.0


@pytest.fixture(scope="module")
def syn():
    s = rp.synthetic_survey(seed=3, n_households=1500, n_regions=4)
    return s.with_roles(region="region")


def _annual_usd(s, col):
    return 4 * np.sum(s.data.factor * s.data[col]) / RATE


def test_proportional_closed_form(syn):
    macro = 3 * _annual_usd(syn, "remesas")  # survey covers a third
    c = calibrate_remittances(syn, macro, RATE)
    d = c.data
    assert _annual_usd(c, "remesas_cal") == pytest.approx(macro, rel=1e-12)
    rec = d.remesas > 0
    assert np.allclose(d.remesas_cal[rec] / d.remesas[rec], 3.0, rtol=1e-12)
    assert (d.remesas_cal[~rec] == 0).all() and not d.remit_imputed.any()
    assert np.allclose(d.ing_cor_cal, d.ing_cor + 2 * d.remesas, rtol=1e-12)
    assert "factor 3.0000" in c.report.find("calibrated")[0].message


def test_coverage_above_one_not_scaled_down(syn):
    macro = 0.5 * _annual_usd(syn, "remesas")
    with pytest.warns(DataWarning, match="left unscaled"):
        c = calibrate_remittances(syn, macro, RATE)
    assert (c.data.remesas_cal == c.data.remesas).all()
    with pytest.warns(DataWarning, match="scaled DOWN"):
        c = calibrate_remittances(syn, macro, RATE, scale_down=True)
    assert _annual_usd(c, "remesas_cal") == pytest.approx(macro, rel=1e-12)


def test_impute_hot_deck_within_states(syn):
    macro = 3 * _annual_usd(syn, "remesas")
    c = calibrate_remittances(syn, macro, RATE, method="impute", extra_recipients=0.25, seed=7)
    d = c.data
    assert _annual_usd(c, "remesas_cal") == pytest.approx(macro, rel=1e-12)
    imp = d.remit_imputed.to_numpy()
    assert (syn.data.remesas[imp] == 0).all()  # only non-recipients are imputed
    k = d.remesas_cal[d.remesas > 0].iloc[0] / d.remesas[d.remesas > 0].iloc[0]
    for r in sorted(d.region.unique()):
        m = (d.region == r).to_numpy()
        nrec = int((syn.data.remesas[m] > 0).sum())
        assert imp[m].sum() == round(0.25 * nrec)
        donors = set(np.round(syn.data.remesas[m & (syn.data.remesas > 0).to_numpy()] * k, 6))
        assert set(np.round(d.remesas_cal[m & imp], 6)) <= donors  # a donor of the same state
    c2 = calibrate_remittances(syn, macro, RATE, method="impute", extra_recipients=0.25, seed=7)
    pd.testing.assert_frame_equal(c.data, c2.data)  # seeded


@pytest.mark.parametrize("kw, match", [({"method": "ratio"}, "method must be"),
                                        ({"extra_recipients": -1}, "extra_recipients must"),
                                        ({"method": "impute"}, "needs extra_recipients > 0")])
def test_bad_calibration_arguments(syn, kw, match):
    with pytest.raises(InputError, match=match):
        calibrate_remittances(syn, 1e9, RATE, **kw)
    with pytest.raises(InputError, match="exchange_rate must"):
        calibrate_remittances(syn, 1e9, 0)


def test_impact_range_against_plain_numpy(syn):
    macro = 3 * _annual_usd(syn, "remesas")
    r = remittance_impact_range(syn, 1500.0, macro, RATE, alpha=(0,))
    t = r.table.set_index("concept")
    d = syn.data
    size = d.tot_integ.to_numpy()
    pw = d.factor.to_numpy() * size

    def p0(y):
        return np.sum(pw * (y / size / 3 < 1500.0)) / pw.sum()  # quarterly household -> monthly per capita

    assert t.loc["without", "estimate"] == pytest.approx(p0(d.ing_cor - d.remesas), abs=1e-12)
    assert t.loc["with (survey)", "estimate"] == pytest.approx(p0(d.ing_cor), abs=1e-12)
    assert t.loc["with (calibrated)", "estimate"] == pytest.approx(p0(d.ing_cor + 2 * d.remesas), abs=1e-12)
    # more remittances to the same recipients cannot raise the headcount
    assert t.loc["with (calibrated)", "estimate"] <= t.loc["with (survey)", "estimate"]
    assert (t.se > 0).all()
    imp = r.impact()
    assert imp.loc["fgt0", "with (calibrated) - without"] <= imp.loc["fgt0", "with (survey) - without"] < 0


def test_adjustment_closed_form(syn):
    a = adjust_to_national_accounts(syn, {"labour": 1.25, "rents": 2.0})
    d, o = a.data, syn.data
    assert np.allclose(d.ingtrab_adj, 1.25 * o.ingtrab) and np.allclose(d.rentas_adj, 2 * o.rentas)
    assert np.allclose(d.ing_cor_adj, o.ing_cor + 0.25 * o.ingtrab + o.rentas)
    assert "ECLAC stopped it in later editions" in a.report.find("adjusted")[0].message
    q = adjust_to_national_accounts(syn, {"rents": 3.0}, property_to_top_quintile=True, property_source="rents")
    w = o.factor.to_numpy()
    gap = 2.0 * np.sum(w * o.rentas)
    added = q.data.rentas_adj - o.rentas
    assert np.sum(w * added) == pytest.approx(gap, rel=1e-12)  # the whole gap, expanded
    # only the top quintile of per capita income (person weights) receives it
    pc = (o.ing_cor / o.tot_integ).to_numpy()
    got = added.to_numpy() > 0
    pw = w * o.tot_integ.to_numpy()
    share = pw[got].sum() / pw.sum()
    assert 0.19 < share <= 0.2 + pw.max() / pw.sum() and pc[got].min() >= np.quantile(pc, 0.6)
    # proportional to income within the quintile
    assert np.allclose(added[got] / o.ing_cor[got], (added[got] / o.ing_cor[got]).iloc[0])


@pytest.mark.parametrize("factors, match", [({}, "non-empty"), ({"wages": 1.1}, "unknown income source"),
                                             ({"labour": 0}, "finite number > 0"),
                                             ({"labour": np.nan}, "finite number > 0"),
                                             ({"labour": "1.1"}, "finite number > 0")])
def test_bad_adjustment(syn, factors, match):
    with pytest.raises(InputError, match=match):
        adjust_to_national_accounts(syn, factors)
    with pytest.raises(InputError, match="needs a factor"):
        adjust_to_national_accounts(syn, {"labour": 1.1}, property_to_top_quintile=True)


def test_adjustment_poverty(syn):
    with warnings.catch_warnings():
        warnings.simplefilter("error", DataWarning)
        t = adjustment_poverty(syn, {"labour": 1.3}, 1500.0, alpha=(0,)).to_frame().set_index("concept")
    assert t.loc["adjusted - survey", "estimate"] < 0  # more income, fewer poor
    assert t.loc["adjusted - survey", "estimate"] == pytest.approx(
        t.loc["adjusted", "estimate"] - t.loc["survey", "estimate"], abs=1e-14)


def test_impact_range_by_domain(syn):
    macro = 3 * _annual_usd(syn, "remesas")
    r = remittance_impact_range(syn, 1500.0, macro, RATE, alpha=(0,), by="area")
    imp = r.impact()
    assert set(imp.index.get_level_values("area")) == {"all", "rural", "urban"}
    whole = remittance_impact_range(syn, 1500.0, macro, RATE, alpha=(0,)).impact()
    assert imp.loc[("fgt0", "all")].to_numpy() == pytest.approx(whole.loc["fgt0"].to_numpy(), abs=1e-12)
    assert list(whole.index) == ["fgt0"]
