"""read_enigh on the shared ENIGH files against the figures of the issue / shared README
(computed independently from the raw DBF), plus formats, name variants and bad input."""
import numpy as np
import pandas as pd
import pyreadstat
import pytest
from dbfread import DBF

from remitpov.exceptions import InputError
from remitpov.io.enigh import read_enigh

AGS = ("data", "enigh2018_ags", "ConcAguascalientes.dbf")
RUR = ("data", "enigh2010_rural", "Conc2010_rural.dbf")


@pytest.fixture(scope="module")
def ags(shared):
    return read_enigh(shared(*AGS), year=2018)


@pytest.fixture(scope="module")
def rur(shared):
    return read_enigh(shared(*RUR), year=2010)


@pytest.fixture(scope="module")
def raw18(shared):
    return pd.DataFrame(iter(DBF(str(shared(*AGS)))))


def _whmean(s, x):
    return np.average(x, weights=s.weights("household"))


def test_aguascalientes_2018(ags):
    assert ags.n == 2306
    # factor and tot_integ are integers: sums are exact
    assert ags.population("household") == 348_346
    assert ags.population("person") == 1_342_587
    # published to the cent / to 0.01 percentage point -> half a unit of the last digit
    assert _whmean(ags, ags.data["ing_cor"]) == pytest.approx(59_346.35, abs=0.005)
    assert 100 * _whmean(ags, ags.data["remesas"] > 0) == pytest.approx(5.97, abs=0.005)
    rep = ags.report
    c = rep.find("collapsed")[0]
    assert c.rows == 18 and "2315 rows -> 2306 households" in c.message
    assert any(ch.column == "tam_loc" for ch in rep.find("missing"))  # no area in this extract
    assert "area" not in ags.roles
    assert ags.data[["folioviv", "foliohog"]].duplicated().sum() == 0
    assert ags.role("income") == "ing_cor" and ags.sources["remittances"] == "remesas"
    assert ags.sources["domestic_transfers"] == "transf_hog" and len(ags.sources) == 11
    m = ags.metadata
    assert (m.loader, m.currency, m.income_period, m.year) == ("read_enigh", "MXN", "quarter", 2018)
    assert len(m.files[0].sha256) == 64


def test_rural_2010(rur):
    assert rur.n == 6123
    # original pesos: published to 0.1 peso and 0.01 percentage point
    assert _whmean(rur, rur.data["ing_cor"]) == pytest.approx(20_037.5, abs=0.05)
    assert 100 * _whmean(rur, rur.data["remesas"] > 0) == pytest.approx(9.38, abs=0.005)
    assert set(rur.data["area"]) == {"rural"} and rur.role("area") == "area"
    assert rur.report.find("deflator_undone")
    assert rur.report.find("collapsed")[0].rows == 18


def test_deflator_and_collapse_options(shared, rur):
    kept = read_enigh(shared(*RUR), undo_deflator=False)
    # deflated values are the raw file's: original = deflated x Deflactore / 100
    np.testing.assert_allclose(kept.data["ing_cor"] * kept.data["deflactore"] / 100, rur.data["ing_cor"], rtol=1e-12)
    assert kept.report.find("deflator_kept")
    split = read_enigh(shared(*AGS), collapse_splits=False)
    assert split.n == 2315 and split.report.find("duplicates_kept")[0].rows == 18
    # factor is divided between the copies, so weighted means are unchanged
    ags = read_enigh(shared(*AGS))
    assert _whmean(split, split.data["ing_cor"]) == pytest.approx(_whmean(ags, ags.data["ing_cor"]), rel=1e-12)


def test_formats_and_2010_names(raw18, tmp_path, ags):
    sub = raw18.iloc[:300].copy()
    ref = read_enigh(_csv(sub, tmp_path / "a.csv"))
    p = tmp_path / "a.dta"
    sub.to_stata(p, write_index=False)
    dta = read_enigh(p)
    p = tmp_path / "a.sav"
    pyreadstat.write_sav(sub, str(p))
    sav = read_enigh(p)
    for s in (dta, sav):
        np.testing.assert_allclose(s.data["ing_cor"], ref.data["ing_cor"])
        assert s.n == ref.n
    old = sub.rename(columns={"ing_cor": "INGCOR", "remesas": "remesa", "factor": "factor_hog", "upm": "UPM"})
    s = read_enigh(_csv(old, tmp_path / "old.csv"))
    np.testing.assert_allclose(s.data["ing_cor"], ref.data["ing_cor"])
    assert s.role("remittances") == "remesas"
    assert "INGCOR->ing_cor" in str(s.report) and "remesa->remesas" in str(s.report)
    with pytest.raises(InputError, match="unknown file format '.xlsx'"):
        read_enigh(tmp_path / "conc.xlsx")


def _csv(df, p):
    df.to_csv(p, index=False)
    return p


def test_bad_inputs(raw18, tmp_path):
    base = raw18.iloc[:200].copy().reset_index(drop=True)
    hid = f"{base.loc[5, 'folioviv']}-{base.loc[5, 'foliohog']}"

    def load(df, **kw):
        return read_enigh(_csv(df, tmp_path / "x.csv"), **kw)

    dup = pd.concat([base, base.iloc[[5]].assign(ing_cor=base.loc[5, "ing_cor"] + 1)], ignore_index=True)
    with pytest.raises(InputError, match=rf"ing_cor.*differ: 2 rows.*{hid}.*genuine duplicates"):
        load(dup)
    with pytest.raises(InputError, match="factor"):
        load(base.drop(columns=["factor"]))
    with pytest.raises(InputError, match=rf"'factor' is missing, zero or negative in 1 row.*{hid}"):
        load(base.assign(factor=np.where(base.index == 5, 0, base["factor"])))
    with pytest.raises(InputError, match=rf"'tot_integ' is missing, zero or negative in 1 row.*{hid}"):
        load(base.assign(tot_integ=np.where(base.index == 5, 0, base["tot_integ"])))
    with pytest.raises(InputError, match=r"design column\(s\) \['est_dis'\]"):
        load(base.drop(columns=["est_dis"]))
    nodesign = load(base.drop(columns=["est_dis"]), require_design=False)
    assert nodesign.strata is None and nodesign.report.find("design")
    with pytest.raises(InputError, match=rf"'upm' is missing in 1 row.*{hid}"):
        load(base.assign(upm=np.where(base.index == 5, np.nan, base["upm"].astype(float))))
    neg = base.assign(ing_cor=np.where(base.index == 5, -10.0, base["ing_cor"]), remesas=0.0)
    with pytest.raises(InputError, match=rf"'ing_cor' is negative in 1 row.*{hid}"):
        load(neg)
    z = load(neg, negative_income="zero")
    assert z.data.loc[5, "ing_cor"] == 0 and z.report.find("negative_income")[0].rows == 1
    k = load(neg, negative_income="keep")
    assert k.data.loc[5, "ing_cor"] == -10.0
    with pytest.raises(InputError, match=rf"'ing_cor' is missing in 1 row.*{hid}"):
        load(base.assign(ing_cor=np.where(base.index == 5, np.nan, base["ing_cor"])))
    over = base.assign(remesas=np.where(base.index == 5, base["ing_cor"] + 100, base["remesas"]))
    with pytest.raises(InputError, match=rf"larger than income.*1 row.*{hid}"):
        load(over)
    capped = load(over, remittances_exceed="cap")
    assert capped.data.loc[5, "remesas"] == capped.data.loc[5, "ing_cor"]
    with pytest.raises(InputError, match=r"tam_loc must be 1-4; other or missing values \['7'\].*recode them"):
        load(base.assign(tam_loc=7))
    # undoing a deflator: text in a money column is an error naming the row, never a silent NaN
    defl = base.assign(Deflactore=100.0, trabajo=base["trabajo"].astype(object))
    defl.loc[5, "trabajo"] = "12 pesos"
    with pytest.raises(InputError, match=rf"'trabajo' has non-numeric values in 1 row.*{hid}"):
        load(defl)
    with pytest.raises(InputError, match=rf"'Deflactore' is missing or not positive in 1 row.*{hid}.*undo_deflator=False"):
        load(base.assign(Deflactore=np.where(base.index == 5, 0.0, 100.0)))
    with pytest.raises(InputError, match="negative_income must be"):
        load(base, negative_income="drop")
