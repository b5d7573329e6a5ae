"""Census blocks of the migration context (issue #13): ``migration_census_stocks``,
``migration_sex_ratio`` and ``migration_emigration`` (Docquier–Marfouk rates, all and skilled).

Every number is checked against a hand computation on a 24-person, two-country census with
strata and PSUs written here: totals and ratios of weighted sums, their linearised variances
``sum_h n_h/(n_h-1) sum_j (z_hj - zbar_h)^2`` over PSU totals of the influence values, t intervals
with (PSUs - strata) degrees of freedom. The same census goes through a chapter spec
(``[migration.census] path``) and through the estimators directly.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from remitpov.exceptions import InputError
from remitpov.migration import census as mc
from remitpov.report.blocks import check_tidy, table_order
from remitpov.report.chapter import run_chapter

ROLES = {"birth_country": "bpl", "census_country": "country", "weight": "w", "sex": "sex", "age": "age",
         "education": "edu", "strata": "stratum", "psu": "psu"}
MEASURES = ["migration_census_stocks", "migration_sex_ratio", "migration_emigration"]
SURVEY = {"id": "A", "format": "synthetic", "options": {"country": "A", "n_households": 120, "n_regions": 2},
          "lines": {"poverty": "poverty_line"}}

# (census, stratum, psu, born, sex, age, education, weight): Argentina's census in strata 1-2, Chile's in 3-4
ROWS = [
    ("ARG", 1, 1, "ARG", "male", 30, "tertiary", 10), ("ARG", 1, 1, "ARG", "female", 41, "primary", 12),
    ("ARG", 1, 1, "PRY", "female", 33, "primary", 11), ("ARG", 1, 2, "ARG", "male", 26, "secondary", 9),
    ("ARG", 1, 2, "CHL", "male", 55, "tertiary", 10), ("ARG", 1, 2, "PRY", "male", 28, "none", 13),
    ("ARG", 2, 3, "ARG", "female", 45, "tertiary", 8), ("ARG", 2, 3, "PRY", "female", 38, "secondary", 10),
    ("ARG", 2, 3, "CHL", "female", 29, "secondary", 12), ("ARG", 2, 4, "ARG", "male", 20, "secondary", 11),
    ("ARG", 2, 4, "ARG", "female", 62, "primary", 9), ("ARG", 2, 4, "PRY", "male", 44, "primary", 10),
    ("CHL", 3, 5, "CHL", "male", 40, "secondary", 20), ("CHL", 3, 5, "CHL", "female", 37, "tertiary", 22),
    ("CHL", 3, 5, "ARG", "male", 29, "tertiary", 18), ("CHL", 3, 6, "CHL", "female", 26, "secondary", 21),
    ("CHL", 3, 6, "ARG", "female", 61, "primary", 19), ("CHL", 3, 6, "PER", "male", 35, "secondary", 20),
    ("CHL", 4, 7, "CHL", "male", 50, "primary", 23), ("CHL", 4, 7, "PER", "female", 31, "tertiary", 17),
    ("CHL", 4, 7, "ARG", "female", 27, "tertiary", 20), ("CHL", 4, 8, "CHL", "female", 19, "secondary", 22),
    ("CHL", 4, 8, "PER", "female", 44, "primary", 18), ("CHL", 4, 8, "ARG", "male", 52, "secondary", 21),
]
D = pd.DataFrame(ROWS, columns=["country", "stratum", "psu", "bpl", "sex", "age", "edu", "w"])
W, H, J = D["w"].to_numpy(float), D["stratum"].to_numpy(), D["psu"].to_numpy()
T4 = stats.t.ppf(0.975, 8 - 4)  # 8 PSUs in 4 strata


def _var(z):
    """Linearised with-replacement variance of a total of the row values ``z`` (already weighted)."""
    v = 0.0
    for h in np.unique(H):
        zj = np.array([z[J == j].sum() for j in np.unique(J[H == h])])
        v += len(zj) / (len(zj) - 1) * ((zj - zj.mean()) ** 2).sum()
    return v


def hand_total(y):
    return (W * y).sum(), np.sqrt(_var(W * y))


def hand_ratio(y, x):
    Y, X = (W * y).sum(), (W * x).sum()
    r = Y / X
    return r, np.sqrt(_var(W * (y - r * x) / X))


def _census():
    return mc.read_census(D, **{k: v for k, v in ROLES.items()})


@pytest.fixture(scope="module")
def chapter(tmp_path_factory):
    d = tmp_path_factory.mktemp("census")
    D.to_csv(d / "census.csv", index=False)
    spec = {"chapter": {"measures": MEASURES, "tables": ["csv", "md"], "figures": ["png"], "report": "none"},
            "survey": [SURVEY], "migration": {"census": {"path": str(d / "census.csv"), "roles": ROLES}}}
    return run_chapter(spec, d / "out", progress=False)


def _row(t, **keys):
    m = np.ones(len(t), bool)
    for k, v in keys.items():
        m &= (t[k] == v).to_numpy()
    assert m.sum() == 1, keys
    return t[m].iloc[0]


def _check(row, est, se):
    assert row["estimate"] == pytest.approx(est, rel=1e-12)  # the same sums in another order
    assert row["se"] == pytest.approx(se, rel=1e-10)  # PSU-total variance summed in another order
    assert row["ci_lower"] == pytest.approx(est - T4 * se, rel=1e-10, abs=1e-10)
    assert row["ci_upper"] == pytest.approx(est + T4 * se, rel=1e-10)


def test_registered_after_the_other_migration_tables():
    assert table_order()[5:8] == MEASURES


def test_census_stocks_by_hand(chapter):
    t = chapter.tables["migration_census_stocks"]
    check_tidy("migration_census_stocks", t)
    assert (t["indicator"] == "immigrants").all() and (t["unit"] == "persons").all()
    for cen, born, name, pop in (("ARG", "PRY", "Paraguay", "Argentina"), ("ARG", "CHL", "Chile", "Argentina"),
                                 ("CHL", "ARG", "Argentina", "Chile"), ("CHL", "PER", "Peru", "Chile")):
        est, se = hand_total(((D["country"] == cen) & (D["bpl"] == born)).to_numpy(float))
        _check(_row(t, population=pop, group=name), est, se)
    assert len(t) == 4  # natives are not immigrants
    # within a census country, origins by decreasing stock
    assert list(t["group"]) == ["Paraguay", "Chile", "Argentina", "Peru"]


def test_sex_ratio_by_hand(chapter):
    t = chapter.tables["migration_sex_ratio"]
    check_tidy("migration_sex_ratio", t)
    assert (t["unit"] == "men per 100 women").all() and len(t) == 4
    for cen, born, name, pop in (("ARG", "PRY", "Paraguay", "Argentina"), ("CHL", "ARG", "Argentina", "Chile"),
                                 ("CHL", "PER", "Peru", "Chile"), ("ARG", "CHL", "Chile", "Argentina")):
        dom = ((D["country"] == cen) & (D["bpl"] == born)).to_numpy()
        est, se = hand_ratio(100.0 * dom * (D["sex"] == "male").to_numpy(), dom * (D["sex"] == "female").to_numpy())
        _check(_row(t, population=pop, group=name), est, se)
    # Paraguayans in Argentina: men 13 + 10, women 11 + 10 (weights) -> 100 x 23 / 21
    assert _row(t, population="Argentina", group="Paraguay")["estimate"] == pytest.approx(100 * 23 / 21, rel=1e-12)


@pytest.mark.parametrize("tertiary", [False, True])
def test_emigration_rates_by_hand(chapter, tertiary):
    t = chapter.tables["migration_emigration"]
    check_tidy("migration_emigration", t)
    ind = "emigration_rate_tertiary_25plus" if tertiary else "emigration_rate_25plus"
    for born, name in (("ARG", "Argentina"), ("CHL", "Chile")):
        pop = ((D["bpl"] == born) & (D["age"] >= 25)).to_numpy()
        if tertiary:
            pop = pop & (D["edu"] == "tertiary").to_numpy()
        abroad = pop & (D["country"] != born).to_numpy()
        est, se = hand_ratio(100.0 * abroad, pop.astype(float))
        _check(_row(t, group=name, indicator=ind), est, se)
    assert set(t["group"]) == {"Argentina", "Chile"}  # Paraguay and Peru have no census here: no rate
    # Argentinians 25+: abroad 18 + 19 + 20 + 21 = 78, at home 10 + 12 + 9 + 8 + 9 = 48 (aged 20: out)
    if not tertiary:
        assert _row(t, group="Argentina", indicator=ind)["estimate"] == pytest.approx(100 * 78 / 126, rel=1e-12)
    else:  # the skilled: abroad 18 + 20, at home 10 + 8
        assert _row(t, group="Argentina", indicator=ind)["estimate"] == pytest.approx(100 * 38 / 56, rel=1e-12)


def test_blocks_rows_are_the_estimators(chapter):
    c = _census()
    pairs = (("migration_census_stocks", mc.immigrant_stock(c)), ("migration_sex_ratio", mc.sex_ratio(c)))
    for name, tab in pairs:
        t = chapter.tables[name].sort_values(["population", "group"]).reset_index(drop=True)
        f = tab.to_frame().sort_values(["census_country", "birth_country"]).reset_index(drop=True)
        np.testing.assert_array_equal(np.sort(t["estimate"].to_numpy()), np.sort(f["estimate"].to_numpy()))
    e = mc.emigration_rate(c, education="tertiary").to_frame()
    t = chapter.tables["migration_emigration"]
    got = t[t["indicator"] == "emigration_rate_tertiary_25plus"]["estimate"].to_numpy()
    np.testing.assert_array_equal(got, e["estimate"].to_numpy())
    for stem in MEASURES:
        assert (chapter.out_dir / "figures" / f"{stem}.png").is_file(), stem


def test_spanish_labels(tmp_path):
    D.to_csv(tmp_path / "census.csv", index=False)
    spec = {"chapter": {"measures": MEASURES, "tables": ["md"], "figures": ["png"], "report": "none",
                        "language": "es"},
            "survey": [SURVEY], "migration": {"census": {"path": str(tmp_path / "census.csv"), "roles": ROLES}}}
    res = run_chapter(spec, tmp_path / "o", progress=False)
    assert set(res.tables["migration_census_stocks"]["population"]) == {"Argentina", "Chile"}
    assert "Perú" in set(res.tables["migration_sex_ratio"]["group"])
    md = {m: (res.out_dir / "tables" / f"{m}.md").read_text(encoding="utf-8") for m in MEASURES}
    assert "Inmigrantes por país del censo" in md["migration_census_stocks"]
    assert "Índice de masculinidad" in md["migration_sex_ratio"]
    assert "Tasas de emigración" in md["migration_emigration"] and "| Población |" in md["migration_sex_ratio"]


def test_emigration_rate_refuses_what_it_cannot_estimate():
    c = _census()
    with pytest.raises(InputError, match="education must be one of"):
        mc.emigration_rate(c, education="university")
    one = mc.read_census(D[D["country"] == "ARG"], **ROLES)
    with pytest.raises(InputError, match="two or more countries"):
        mc.emigration_rate(one)
    no_age = mc.read_census(D, birth_country="bpl", census_country="country", weight="w")
    with pytest.raises(InputError, match="'age'"):
        mc.emigration_rate(no_age)
