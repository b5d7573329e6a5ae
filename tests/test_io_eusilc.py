"""read_eusilc: laeken's equivalisation rebuilt from the items (reference: the shipped
eqSS/eqIncome columns computed by laeken 0.5.2, and shared/reference/eusilc_*.json)."""
import numpy as np
import pandas as pd
import pytest

from remitpov.exceptions import InputError
from remitpov.io.eusilc import HMINUS, HPLUS, PPLUS, read_eusilc


@pytest.fixture(scope="module")
def silc(shared):
    return read_eusilc(shared("data", "eusilc", "eusilc.csv.gz"))


def test_equivalised_income_matches_laeken(silc, eusilc_laeken_ref):
    d = silc.data
    # the tolerance: 1e-8 euro (incomes ~1e4 in double precision: ~1e-12 rounding)
    assert np.max(np.abs(d["y_with"] - d["eqIncome"])) < 1e-8
    assert np.array_equal(d["eq_scale"].to_numpy(), d["eqSS"].to_numpy())
    eq = eusilc_laeken_ref["equivalisation"]
    # the item lists are laeken's (recorded by the R script that made the reference)
    assert list(HPLUS) == eq["hplus"] and list(HMINUS) == eq["hminus"] and list(PPLUS) == eq["pplus"]
    assert d["eq_scale"].sum() == pytest.approx(eq["eqSS_sum"], rel=1e-12)
    np.testing.assert_allclose(d["y_with"].to_numpy()[:10], eq["eqIncome_first10"], rtol=1e-10)
    assert (d["y_with"] * d["rb050"]).sum() == pytest.approx(eq["eqIncome_weighted_sum"], rel=1e-12)


def test_without_concept_matches_r_reference(silc, eusilc_fgt_ref):
    d = silc.data
    np.testing.assert_allclose(d["y_without"], d["eqIncome"] - d["hy080n"] / d["eqSS"], rtol=0, atol=1e-8)
    chk = eusilc_fgt_ref["meta"]["checks"]
    w = d["rb050"]
    # weighted means from R, printed with 15 significant digits
    assert np.average(d["y_with"], weights=w) == pytest.approx(chk["weighted_mean_income"]["full"], rel=1e-12)
    assert np.average(d["y_without"], weights=w) == pytest.approx(chk["weighted_mean_income"]["noT"], rel=1e-12)
    assert int((d["y_without"] < 0).sum()) == chk["n_negative_income"]["noT"]
    assert silc.report.find("negative_income")[0].rows == chk["n_negative_income"]["noT"]


def test_design_and_roles(silc, eusilc_fgt_ref):
    m = eusilc_fgt_ref["meta"]
    des = silc.design()
    assert des.n_psu == m["n_psu"] and des.n_strata == m["n_strata"] and des.df == m["degf"]
    assert silc.population() == pytest.approx(m["sum_weights"], rel=1e-12)
    assert silc.unit == "person" and silc.role("remittances") == "hy080n"
    assert silc.sources["remittances"] == "hy080n"
    assert silc.metadata.loader == "read_eusilc" and len(silc.metadata.files[0].sha256) == 64
    d = silc.data
    assert d["recipient"].sum() == (d["hy080n"] > 0).sum()
    # remit_share = hy080n / household income, NaN when income <= 0
    hh = d["y_hh"]
    assert np.all(np.isnan(d["remit_share"][hh <= 0]))
    np.testing.assert_allclose(d["remit_share"][hh > 0], (d["hy080n"] / hh)[hh > 0])


def test_monthly_period(shared):
    s = read_eusilc(shared("data", "eusilc", "eusilc.csv.gz"), period="month")
    np.testing.assert_allclose(s.data["y_with"] * 12, s.data["eqIncome"], rtol=1e-12)


def _write(df, tmp_path):
    p = tmp_path / "silc.csv"
    df.to_csv(p, index=False)
    return p


def test_bad_inputs(shared, tmp_path):
    full = pd.read_csv(shared("data", "eusilc", "eusilc.csv.gz"))
    df = full[full["db030"].isin(full["db030"].unique()[:25])].reset_index(drop=True)  # whole households
    read_eusilc(_write(df, tmp_path))  # the clean subset loads
    bad = df.copy()
    bad.loc[5, "eqIncome"] += 1.0
    with pytest.raises(InputError, match="eqIncome"):
        read_eusilc(_write(bad, tmp_path))
    bad = df.drop(columns=["hy080n"])
    with pytest.raises(InputError, match="hy080n"):
        read_eusilc(_write(bad, tmp_path))
    bad = df.copy()
    bad.loc[3, "age"] = np.nan
    with pytest.raises(InputError, match="'age' is missing in 1 row"):
        read_eusilc(_write(bad, tmp_path))
    bad = df.copy()
    bad.loc[1, "hy040n"] = 99.0  # differs from the other members of household 1
    with pytest.raises(InputError, match="hy040n"):
        read_eusilc(_write(bad, tmp_path))
    bad = df.copy()
    bad.loc[2, "rb050"] = 0.0
    with pytest.raises(InputError, match="rb050.*1 row"):
        read_eusilc(_write(bad, tmp_path))
    with pytest.raises(InputError, match="period"):
        read_eusilc(_write(df, tmp_path), period="week")
