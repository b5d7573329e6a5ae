"""FGT indices, number of poor and with-minus-without differences against R survey on EU-SILC.

Reference: ../shared/reference/eusilc_fgt.json (R 4.2.2, survey 4.1.1):
``svydesign(ids=~db030, strata=~db040, weights=~rb050)``; FGT(0,1,2) of ``eqIncome``
(concept ``full``) and of ``eqIncome - hy080n/eqSS`` (concept ``noT``) at the FIXED lines
10000 and 10859.236, strict ``y < z``; national (with vcov and number of poor), by
region (db040) and sex (rb090); differences noT minus full with SEs (svycontrast).

Tolerances (issue #3): estimates relative 1e-10, SEs relative 1e-8. Both sides compute
the same closed forms in double precision (sums of ~15k terms: ~1e-13 relative), and the
JSON stores 15 significant digits, so the limits are only the JSON's rounding. The tiny
absolute floor (1e-15) only matters for exact zeros (Vorarlberg: noT == full).
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import remitpov as rp
from remitpov.poverty import compare, fgt

EST_RTOL, SE_RTOL, ATOL = 1e-10, 1e-8, 1e-15
CONCEPTS = {"full": "eqIncome", "noT": "noT"}


@pytest.fixture(scope="module", params=["csv", "read_eusilc"])
def eusilc(request, shared, eusilc_fgt_ref):
    """The survey built by hand from the CSV (R's exact incomes) and by the project loader.

    ``read_eusilc`` rebuilds laeken's equivalised income from the items (``y_with``,
    ``y_without``); it agrees with the shipped ``eqIncome`` to ~1e-11 euro, far below
    anything that moves an FGT index by 1e-10 relative (no income lies that close to a line).
    """
    path = shared("data", "eusilc", "eusilc.csv.gz")
    df = pd.read_csv(path)
    df["noT"] = df["eqIncome"] - df["hy080n"] / df["eqSS"]
    meta = eusilc_fgt_ref["meta"]
    if request.param == "csv":
        s = rp.Survey(df, weight="rb050", strata="db040", psu="db030", unit="person")
    else:
        read_eusilc = pytest.importorskip("remitpov.io.eusilc").read_eusilc
        s = read_eusilc(path)
        np.testing.assert_allclose(s.data["y_with"], df["eqIncome"], rtol=1e-12)
        np.testing.assert_allclose(s.data["y_without"], df["noT"], rtol=1e-10, atol=1e-9)
        s = s.with_columns(eqIncome=s.data["y_with"].to_numpy(), noT=s.data["y_without"].to_numpy())
    d = s.design()
    assert d.n == meta["n"] and d.n_psu == meta["n_psu"] and d.n_strata == meta["n_strata"]
    assert d.df == meta["degf"]
    np.testing.assert_allclose(d.weights.sum(), meta["sum_weights"], rtol=1e-12)
    # the JSON's negative-income check: noT has 4 negative incomes, kept uncensored
    assert (df["noT"] < 0).sum() == meta["checks"]["n_negative_income"]["noT"]
    return s


def _line(ref, name):
    return ref["meta"]["lines"][name]


def _est(a, b):
    np.testing.assert_allclose(a, b, rtol=EST_RTOL, atol=ATOL)


def _se(a, b):
    np.testing.assert_allclose(a, b, rtol=SE_RTOL, atol=ATOL)


@pytest.mark.parametrize("key", ["full_z10000", "full_zarpt", "noT_z10000", "noT_zarpt"])
def test_national(eusilc, eusilc_fgt_ref, key):
    r = eusilc_fgt_ref["national"][key]
    t = fgt(eusilc, CONCEPTS[r["concept"]], r["z"], alpha=(0, 1, 2))
    fr = t.to_frame().set_index("measure")
    for a in (0, 1, 2):
        _est(fr.loc[f"fgt{a}", "estimate"], r[f"fgt{a}"]["estimate"])
        _se(fr.loc[f"fgt{a}", "se"], r[f"fgt{a}"]["se"])
        _se(t.vcov[a, a], r[f"fgt{a}"]["var"])
    _se(t.vcov[:3, :3], np.array(r["vcov_fgt012"]))
    _est(fr.loc["headcount_total", "estimate"], r["headcount_total"]["estimate"])
    _se(fr.loc["headcount_total", "se"], r["headcount_total"]["se"])
    assert fr["line"].iloc[0] == r["z"]
    assert set(fr["concept"]) == {CONCEPTS[r["concept"]]}


@pytest.mark.parametrize("by", ["db040", "rb090"])
@pytest.mark.parametrize("key", ["full_z10000", "full_zarpt", "noT_z10000", "noT_zarpt"])
def test_domains(eusilc, eusilc_fgt_ref, by, key):
    ref = eusilc_fgt_ref[f"by_{by}"][key]
    concept, line = key.split("_")
    t = fgt(eusilc, CONCEPTS[concept], _line(eusilc_fgt_ref, line), by=by)
    fr = t.to_frame()
    assert set(fr[by]) == set(ref)
    for dom, r in ref.items():
        for a in (0, 1, 2):
            e = t.get(measure=f"fgt{a}", **{by: dom})
            _est(e.estimate, r[f"fgt{a}"]["estimate"])
            _se(e.se, r[f"fgt{a}"]["se"])
        # number of poor in the domain = FGT0 x domain population (R's sum of weights)
        np.testing.assert_allclose(t.get(measure="headcount_total", **{by: dom}).estimate,
                                   r["fgt0"]["estimate"] * r["sum_weights"], rtol=1e-9)


@pytest.mark.parametrize("line", ["z10000", "zarpt"])
def test_differences(eusilc, eusilc_fgt_ref, line):
    ref = eusilc_fgt_ref["difference_without_minus_with"][f"noT_{line}"]
    z = ref["z"]
    t = compare(eusilc, {"without": "noT", "with": "eqIncome"}, z, alpha=(0, 1, 2))
    for a in (0, 1, 2):
        r = ref[f"fgt{a}"]
        m = f"fgt{a}"
        _est(t.get(measure=m, concept="without").estimate, r["without"])
        _est(t.get(measure=m, concept="with").estimate, r["with"])
        _se(t.get(measure=m, concept="without").se, r["se_without"])
        _se(t.get(measure=m, concept="with").se, r["se_with"])
        d = t.get(measure=m, concept="without - with")
        _est(d.estimate, r["difference"])
        _se(d.se, r["se_difference"])
        _se(d.se, r["se_difference_svycontrast"])
        i = t._select(measure=m, concept="without")[0]
        j = t._select(measure=m, concept="with")[0]
        _se(t.vcov[i, j], r["cov_without_with"])
    # by domain
    for by in ("db040", "rb090"):
        tb = compare(eusilc, {"without": "noT", "with": "eqIncome"}, z, alpha=(0, 1, 2), by=by)
        for a in (0, 1, 2):
            for dom, r in ref[f"fgt{a}"][f"difference_by_{by}"].items():
                d = tb.get(measure=f"fgt{a}", concept="without - with", **{by: dom})
                _est(d.estimate, r["estimate"])
                _se(d.se, r["se"])


def test_difference_equals_contrast_of_fgt_tables(eusilc, eusilc_fgt_ref):
    """compare() equals a contrast of one joint table; replicate path agrees in kind."""
    t = compare(eusilc, {"without": "noT", "with": "eqIncome"}, 10000, alpha=1)
    rows = t.to_frame()
    d = rows[rows.concept == "without - with"].iloc[0]
    c = t.subset(measure="fgt1").contrast([1, -1, 0])
    np.testing.assert_allclose([d.estimate, d.se], [c.estimate, c.se], rtol=1e-12)
