"""read_banxico_remittances: periods as dates, quarterly/annual aggregation, bad input."""
from __future__ import annotations

import pandas as pd
import pytest

from remitpov.exceptions import InputError
from remitpov.io.banxico import annual_remittances, read_banxico_remittances


def _monthly(tmp_path, rows=None):
    rows = rows or [("2021-11-01", 1, "Ingresos", 10, 100.0), ("2021-12-01", 1, "Ingresos", 11, 200.0),
                    ("2022-01-01", 1, "Ingresos", 12, 1.0), ("2022-02-01", 1, "Ingresos", 13, 2.0),
                    ("2022-04-01", 1, "Ingresos", 14, 4.0), ("2022-01-01", 2, "Egresos", 1, 50.0)]
    p = tmp_path / "remesas_mensuales.csv"
    pd.DataFrame(rows, columns=["PERIODO", "ID_FLUJO", "FLUJO", "OPERACIONES", "VALOR_USD"]).to_csv(p, index=False)
    return p


def test_monthly_dates_flows_and_aggregation(tmp_path):
    p = _monthly(tmp_path)
    m = read_banxico_remittances(p)
    assert str(m["period"].dtype).startswith("datetime64") and m.attrs["series"] == "national"
    assert list(m.value_usd) == [100, 200, 1, 2, 4] and set(m.flow) == {"inflows"}
    q = read_banxico_remittances(p, freq="quarter")
    assert q.period.dt.strftime("%Y-%m").tolist() == ["2021-10", "2022-01", "2022-04"]
    assert q.value_usd.tolist() == [300, 3, 4] and q.n_periods.tolist() == [2, 2, 1] and not q.complete.any()
    y = read_banxico_remittances(p, freq="year")
    assert y.value_usd.tolist() == [300, 7] and y.operations.tolist() == [21, 39]
    assert read_banxico_remittances(p, freq="year", complete_only=True).empty
    assert read_banxico_remittances(p, flow="outflows").value_usd.tolist() == [50]
    assert len(read_banxico_remittances(p, flow="both")) == 6
    with pytest.raises(InputError, match="2022 is incomplete"):
        annual_remittances(p, 2022)


@pytest.mark.parametrize("rows, match", [
    ([("2022-13-01", 1, "Ingresos", 1, 1.0)], "not a date"),
    ([("2022-01-01", 1, "Ingresos", 1, -1.0)], "negative"),
    ([("2022-01-01", 1, "Ingresos", 1, 1.0), ("2022-01-01", 1, "Ingresos", 1, 2.0)], "duplicate a period"),
    ([("2022-01-01", 1, "Entradas", 1, 1.0)], "unknown FLUJO"),
])
def test_bad_monthly(tmp_path, rows, match):
    with pytest.raises(InputError, match=match):
        read_banxico_remittances(_monthly(tmp_path, rows))


def test_bad_state_and_arguments(tmp_path):
    p = tmp_path / "remesas_entidad.csv"
    pd.DataFrame({"PERIODO": ["2022-01-01"], "CVE_ENT": [33], "ENTIDAD": ["X"], "VALOR_USD": [1]}).to_csv(p, index=False)
    with pytest.raises(InputError, match="CVE_ENT outside 1-32"):
        read_banxico_remittances(p)
    pd.DataFrame({"PERIODO": ["2022-02-01"], "CVE_ENT": [3], "ENTIDAD": ["X"], "VALOR_USD": [1]}).to_csv(p, index=False)
    with pytest.raises(InputError, match="quarterly periods"):
        read_banxico_remittances(p)
    with pytest.raises(InputError, match="pass series="):
        read_banxico_remittances(tmp_path)
    with pytest.raises(InputError, match="unknown Banxico series"):
        read_banxico_remittances(tmp_path, series="states")
    with pytest.raises(InputError, match="freq must be"):
        read_banxico_remittances(p, freq="month")
    with pytest.raises(InputError):
        read_banxico_remittances(tmp_path / "absent" / "remesas_mensuales.csv")


@pytest.mark.shared
def test_real_series_against_plain_pandas(shared):
    d = shared("data", "banxico")
    raw = pd.read_csv(d / "remesas_mensuales.csv")
    raw = raw[(raw.FLUJO == "Ingresos") & raw.PERIODO.str.startswith("2022")]
    assert annual_remittances(d, 2022) == raw.VALOR_USD.sum()
    st = annual_remittances(d, 2022, by_state=True)
    ent = pd.read_csv(d / "remesas_entidad.csv")
    ent = ent[ent.PERIODO.str.startswith("2022")].groupby("CVE_ENT").VALOR_USD.sum()
    assert len(st) == 32 and (st.to_numpy() == ent.to_numpy()).all()
    # national monthly and state quarterly series add up to the same annual total (rounding of the
    # published state figures: a few dollars in 59 billion)
    assert st.sum() == pytest.approx(raw.VALOR_USD.sum(), rel=1e-9)
    assert 58e9 < raw.VALOR_USD.sum() < 60e9  # Banxico: about 58.9 billion USD received in 2022
    us = read_banxico_remittances(d / "remesas_usa.csv", freq="year")
    assert us.complete[us.year == 2022].all() and len(us[us.year == 2022]) > 50
