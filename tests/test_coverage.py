"""remittance_coverage: survey remittances against the balance of payments.

The survey total and its SE are remitpov.total's (tested against R survey elsewhere); here
the annualisation, conversion, the delta-method SE of the ratio (closed form), the CI, the
Monte Carlo coverage of that CI, and bad input; on the real ENIGH 2022 the national and
state totals against plain pandas sums from the raw tables.
"""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import remitpov as rp
from remitpov.coverage import MXN_PER_USD, exchange_rate, plot_coverage, remittance_coverage
from remitpov.exceptions import DataWarning, InputError


@pytest.fixture(scope="module")
def syn():
    return rp.synthetic_survey(seed=11, n_households=1500)


def test_closed_form(syn):
    T = rp.total(syn, "remesas", level="household").to_frame().iloc[0]
    c = remittance_coverage(syn, 5e7, 18.5)
    r = c.national
    assert r.survey_lcu == 4 * T.estimate and r.survey_usd == pytest.approx(4 * T.estimate / 18.5, rel=1e-15)
    assert r.coverage == pytest.approx(4 * T.estimate / 18.5 / 5e7, rel=1e-15)
    assert r.coverage_se == pytest.approx(4 * T.se / 18.5 / 5e7, rel=1e-15)
    q = stats.t.ppf(0.975, T.df)
    assert r.ci_upper - r.coverage == pytest.approx(q * r.coverage_se, rel=1e-14)
    assert r.recipients == int((syn.data.remesas > 0).sum())
    # delta method with an uncertain macro total
    c2 = remittance_coverage(syn, 5e7, 18.5, macro_se=5e6)
    rel = np.hypot(T.se / T.estimate, 0.1)
    assert c2.national.coverage_se == pytest.approx(c2.national.coverage * rel, rel=1e-14)
    # monthly data annualise by 12
    m = syn.replace(metadata=syn.metadata.__class__(**{**syn.metadata.__dict__, "income_period": "month"}))
    assert remittance_coverage(m, 5e7, 18.5).national.survey_lcu == 12 * T.estimate


def test_by_state_and_figure(syn):
    macro = pd.Series({1: 2e7, 2: 2e7, 3: 2e7, 4: 2e7})
    c = remittance_coverage(syn, 8e9, 18.5, by_state=True, macro_by_state_usd=macro * 100, state="region")
    t = c.table
    assert list(t.domain) == ["national", 1, 2, 3, 4]
    assert t.survey_lcu.iloc[1:].sum() == pytest.approx(t.survey_lcu.iloc[0], rel=1e-12)  # domains add up
    assert "Remittance coverage" in c.summary()
    fig = plot_coverage(c)
    ax = fig.axes[0]
    bars = ax.containers[0]  # the states' bars, sorted by coverage: in percent, as the chapter's figure
    st = t.iloc[1:].sort_values("coverage", kind="stable")
    assert len(bars) == 4
    np.testing.assert_allclose([b.get_width() for b in bars], 100 * st["coverage"].to_numpy(), rtol=1e-12)
    assert ax.get_xlabel().startswith("Coverage") and "%" in ax.get_xlabel()
    nat = [ln for ln in ax.get_lines() if ln.get_linestyle() == "--"][0]
    assert nat.get_xdata()[0] == pytest.approx(100 * t["coverage"].iloc[0], rel=1e-12)
    with pytest.raises(InputError, match="no total for state"):
        remittance_coverage(syn, 8e9, 18.5, by_state=True, macro_by_state_usd=macro.iloc[:3], state="region")
    with pytest.raises(InputError, match="needs macro_by_state_usd"):
        remittance_coverage(syn, 8e7, 18.5, by_state=True, state="region")


@pytest.mark.parametrize("rate", [0, -3, np.nan, "abc", float("inf")])
def test_bad_exchange_rate(syn, rate):
    with pytest.raises(InputError, match="exchange_rate must"):
        remittance_coverage(syn, 5e7, rate)


def test_missing_rate_table_and_bad_macro(syn):
    with pytest.raises(InputError, match="no exchange rate"):  # synthetic year 2024 not in the table
        remittance_coverage(syn, 5e7)
    assert exchange_rate(None, 2022)[0] == MXN_PER_USD[2022] == 20.13
    for bad in (0, np.nan, -1):
        with pytest.raises(InputError, match="macro_usd"):
            remittance_coverage(syn, bad, 18.5)


def test_coverage_above_one_warns_and_changes_nothing(syn):
    with pytest.warns(DataWarning, match="coverage above 1"):
        c = remittance_coverage(syn, 1.0, 18.5)
    assert c.national.coverage > 1 and any("nothing is scaled down" in n for n in c.notes)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        remittance_coverage(syn, 1.0, 18.5, warn=False)


@pytest.mark.slow
def test_ci_coverage_monte_carlo():
    """The coverage CI covers the population ratio in ~95 % of repeated samples (known truth)."""
    rng = np.random.default_rng(5)
    N, n, reps = 20000, 800, 300
    pop = np.where(rng.random(N) < 0.2, rng.lognormal(8, 0.5, N), 0.0)
    truth = 4 * pop.sum() / 20.0 / 1e6
    hits = 0
    for _ in range(reps):
        idx = rng.choice(N, n, replace=False)
        s = rp.Survey(pd.DataFrame({"r": pop[idx], "w": N / n, "size": 1}), weight="w", size="size",
                      roles={"remittances": "r"}, metadata=rp.SurveyMetadata(income_period="quarter", year=2022))
        r = remittance_coverage(s, 1e6, 20.0, warn=False).national
        hits += r.ci_lower <= truth <= r.ci_upper
    # binomial 95 % band for 300 replications of a 95 % CI: [0.92, 0.975]
    assert 0.92 <= hits / reps <= 0.975


@pytest.mark.slow
@pytest.mark.shared
def test_enigh_2022_against_raw_tables(shared):
    from remitpov.io.enigh_tables import read_enigh_tables
    s = read_enigh_tables(shared("data", "enigh_national"), year=2022)
    c = remittance_coverage(s, shared("data", "banxico"), by_state=True)
    f = shared("data", "enigh_national")
    viv = pd.read_csv(f / "viviendas_2022.csv.gz", dtype={"folioviv": str, "ubica_geo": str},
                      usecols=["folioviv", "factor", "ubica_geo"])
    ing = pd.read_csv(f / "ingresos_2022.csv.gz", dtype={"folioviv": str}, usecols=["folioviv", "clave", "ing_tri"])
    rem = ing[ing.clave == "Ingresos provenientes de otros países"].merge(viv, on="folioviv")
    usd = 4 * (rem.ing_tri * rem.factor).sum() / 20.13
    assert c.national.survey_usd == pytest.approx(usd, rel=1e-12)  # same sum, other order
    by = (4 * rem.ing_tri * rem.factor).groupby(rem.ubica_geo.str[:2].astype(int)).sum() / 20.13
    assert np.allclose(c.table.survey_usd.iloc[1:].to_numpy(), by.sort_index().to_numpy(), rtol=1e-12)
    bop = pd.read_csv(shared("data", "banxico", "remesas_mensuales.csv"))
    bop = bop[(bop.FLUJO == "Ingresos") & bop.PERIODO.str.startswith("2022")].VALOR_USD.sum()
    assert c.national.coverage == pytest.approx(usd / bop, rel=1e-12)
    assert 0.07 < c.national.coverage < 0.10  # the issue: about 8 %
    fig = plot_coverage(c, lang="es")
    labels = {t.get_text() for t in fig.axes[0].get_yticklabels()}
    assert "Zacatecas" in labels and "%" in fig.axes[0].get_xlabel()
    bars = fig.axes[0].containers[0]  # percent: national coverage about 8 %, states between 0 and 100
    assert max(b.get_width() for b in bars) < 100 and sum(b.get_width() > 1 for b in bars) > 20
