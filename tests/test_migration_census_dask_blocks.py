"""Census tabulations on Dask keep the covariances within each domain only by default
(``covmat=False``, as in memory: a sparse block-diagonal ``vcov``), and a domain without
women gets the in-memory treatment in the Dask sex ratio (a note naming it, no warning).

Reference: the in-memory estimators (themselves checked against R's ``svyby`` /
``svyratio`` in ``tests/test_migration_census.py``). Dask vs memory and blocks vs joint:
the same sums in another order (partitions, tree reduction, pairs), 1e-10 relative.
"""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import sparse

dask = pytest.importorskip("dask")
pytest.importorskip("dask.dataframe")

from remitpov import distributed, estimation  # noqa: E402
from remitpov.distributed import DaskSurvey  # noqa: E402
from remitpov.migration import census as mc  # noqa: E402
from remitpov.migration.census_dask import dask_census  # noqa: E402
from remitpov.survey import Survey  # noqa: E402

RTOL = 1e-10  # same sums in another order (see module docstring)
ROLES = dict(birth_country="birth_country", census_country="census_country", weight="weight", strata="stratum",
             psu="psu", fpc="fpc", sex="sex", age="age", education="education")


@pytest.fixture(scope="module")
def cen():
    return mc.synthetic_census(("ARG", "CRI", "USA"), persons_per_country=6_000, seed=5)


@pytest.fixture(scope="module")
def dc(cen):
    plain = cen.data.assign(**{c: cen.data[c].astype(str) for c in ("census_country", "birth_country", "sex",
                                                                      "education")})
    return dask_census(plain, npartitions=3, **ROLES)


@pytest.fixture(autouse=True)
def synchronous():
    with dask.config.set(scheduler="synchronous"):
        yield


def _frame(t, keys):
    return t.to_frame().sort_values(keys, ignore_index=True)


def _same(a, b, keys):
    fa, fb = _frame(a, keys), _frame(b, keys)
    pd.testing.assert_frame_equal(fa[keys], fb[keys])
    for c in ("estimate", "se", "ci_lower", "ci_upper"):
        np.testing.assert_allclose(fb[c], fa[c], rtol=RTOL, err_msg=c)


TABULATIONS = [
    (lambda c, **k: mc.immigrant_stock(c, by=("birth_country", "sex", "education"), **k),
     ["birth_country", "sex", "education"]),
    (lambda c, **k: mc.sex_ratio(c, by="birth_country", **k), ["birth_country"]),
    (lambda c, **k: mc.tertiary_share(c, by=("census_country", "birth_country"), **k),
     ["census_country", "birth_country"]),
    (lambda c, **k: mc.age_structure(c, by="census_country", **k), ["census_country", "variable"]),
]


@pytest.mark.parametrize("fn,keys", TABULATIONS, ids=["stock3way", "sex_ratio", "tertiary", "age"])
def test_dask_census_default_is_within_domain_blocks_same_numbers(cen, dc, fn, keys):
    mem, blocks, joint = fn(cen), fn(dc), fn(dc, covmat=True)
    assert sparse.issparse(blocks.vcov) and isinstance(joint.vcov, np.ndarray)
    assert any("covariances between the" in n and "not computed" in n for n in blocks.notes)
    assert not any("not computed" in n for n in joint.notes)
    _same(mem, blocks, keys)
    _same(joint, blocks, keys)
    # the blocks are the joint covariance's within-domain entries (age structure: 5 x 5 per domain)
    Vb = blocks.vcov.toarray()
    np.testing.assert_allclose(Vb[Vb != 0], np.asarray(joint.vcov)[Vb != 0], rtol=RTOL)
    assert blocks.design == joint.design  # the row-level design is reported, not the units'
    assert blocks.df == joint.df == mem.df


@pytest.mark.parametrize("engine", ["dask", "duckdb"])
@pytest.mark.parametrize("deff", [False, True])
def test_engine_covmat_false_equals_in_memory_blocks(cen, deff, engine, tmp_path):
    """``mean/total/ratio(covmat=False)`` of the Dask and DuckDB engines =
    ``estimation.*(covmat=False)``, design effects (each domain's own SRS variance, R's
    ``svyby(..., deff=TRUE)``) included."""
    d = cen.data.assign(dom=cen.data["birth_country"].astype(str), y=cen.data["age"].astype(float),
                        x=(cen.data["sex"].astype(str) == "female").astype(float) + 1.0)
    d = d[["dom", "y", "x", "weight", "stratum", "psu", "fpc"]]
    mem = Survey(d, weight="weight", strata="stratum", psu="psu", fpc="fpc", unit="person")
    if engine == "dask":
        eng, ds = distributed, DaskSurvey(d, "weight", strata="stratum", psu="psu", fpc="fpc", npartitions=4)
    else:
        pytest.importorskip("duckdb")
        from remitpov.engines import duckdb as eng
        d.to_parquet(tmp_path / "d.parquet", index=False)
        ds = eng.survey(str(tmp_path / "d.parquet"), weight="weight", strata="stratum", psu="psu", fpc="fpc")
    pairs = [(estimation.mean(mem, "y", by="dom", covmat=False, deff=deff),
              eng.mean(ds, "y", by="dom", covmat=False, deff=deff)),
             (estimation.total(mem, ["y", "x"], by="dom", covmat=False, deff=deff),
              eng.total(ds, ["y", "x"], by="dom", covmat=False, deff=deff)),
             (estimation.ratio(mem, "y", "x", by="dom", covmat=False, deff=deff),
              eng.ratio(ds, "y", "x", by="dom", covmat=False, deff=deff))]
    for a, b in pairs:
        assert sparse.issparse(a.vcov) and sparse.issparse(b.vcov)
        fa, fb = a.to_frame(), b.to_frame()
        assert list(fa["dom"]) == list(fb["dom"]) and list(fa["variable"]) == list(fb["variable"])
        for c in ["estimate", "se"] + (["deff"] if deff else []):
            np.testing.assert_allclose(fb[c], fa[c], rtol=RTOL, err_msg=c)
        np.testing.assert_allclose(b.vcov.toarray(), a.vcov.toarray(), rtol=RTOL, atol=0)


def _no_women():
    """Immigrants from BOL (men only) and from PER and CHL (both sexes) in two censuses."""
    rng = np.random.default_rng(11)
    n = 600
    bc = rng.choice(["ARG", "PER", "CHL", "BOL"], n, p=[0.5, 0.2, 0.2, 0.1])
    cc = np.where(np.arange(n) < n // 2, "ARG", "CHL")
    sex = np.where(rng.random(n) < 0.5, "male", "female")
    sex[bc == "BOL"] = "male"
    return pd.DataFrame({"bc": bc, "cc": cc, "sex": sex, "w": rng.uniform(1, 3, n),
                         "st": np.where(cc == "ARG", 1, 2), "psu": np.arange(n) // 6})


@pytest.mark.parametrize("covmat", [False, True])
@pytest.mark.parametrize("by", ["birth_country", ("census_country", "birth_country")])
def test_dask_sex_ratio_domain_without_women_named_no_warning(by, covmat):
    df = _no_women()
    mem = mc.read_census(df, birth_country="bc", census_country="cc", sex="sex", weight="w", strata="st",
                         psu="psu")
    dc = dask_census(df, birth_country="bc", census_country="cc", sex="sex", weight="w", strata="st", psu="psu",
                     npartitions=4)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no numpy RuntimeWarning (nor any other)
        a = mc.sex_ratio(mem, by=by, covmat=covmat)
        b = mc.sex_ratio(dc, by=by, covmat=covmat)
    keys = [by] if isinstance(by, str) else list(by)
    _same(a, b, keys)
    assert "BOL" not in set(b.to_frame()["birth_country"])
    named = "BOL" if isinstance(by, str) else "ARG/BOL, CHL/BOL"
    note = f"no women in the sample, sex ratio not estimated for: {named}"
    assert note in a.notes and note in b.notes
    assert np.isfinite(b.se).all() and len(b) == len(a) > 0


@pytest.mark.parametrize("education", [None, "tertiary"])
def test_dask_emigration_rate_from_parquet_equals_in_memory(cen, tmp_path, education):
    """Docquier-Marfouk rates on a Parquet census (synchronous scheduler) = in memory; the
    in-memory rates are checked against a direct numpy computation in test_migration_census.py."""
    pytest.importorskip("pyarrow")
    plain = cen.data.assign(**{c: cen.data[c].astype(str) for c in ("census_country", "birth_country", "sex",
                                                                      "education")})
    for i, part in enumerate(np.array_split(np.arange(len(plain)), 3)):
        plain.iloc[part].to_parquet(tmp_path / f"part{i}.parquet", index=False)
    dc = dask_census(str(tmp_path), **ROLES)
    a = mc.emigration_rate(cen, education=education)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        b = mc.emigration_rate(dc, education=education)
        joint = mc.emigration_rate(dc, min_age=40, covmat=True)
    assert set(a.to_frame()["birth_country"]) == {"ARG", "CRI", "USA"}
    _same(a, b, ["birth_country"])
    assert a.title == b.title and sparse.issparse(b.vcov)
    assert (a.to_frame()["variable"] == "emigration_rate_pct").all()
    assert (b.to_frame()["variable"] == "emigration_rate_pct").all()
    _same(mc.emigration_rate(cen, min_age=40, covmat=True), joint, ["birth_country"])


def test_dask_emigration_rate_one_census_country_refused():
    df = _no_women()
    df = df[df["cc"] == "ARG"].assign(age=30)
    dc = dask_census(df, birth_country="bc", census_country="cc", sex="sex", age="age", weight="w", strata="st",
                     psu="psu", npartitions=2)
    from remitpov.exceptions import InputError
    with pytest.raises(InputError, match=r"two or more countries.*\['ARG'\]"):
        mc.emigration_rate(dc)


def test_dask_emigration_rates_by_education_equal_in_memory(cen, dc):
    """Docquier-Marfouk rates by education with residents given: the same emigrant totals
    (and so rates and SEs) from Dask as in memory (checked by hand in test_migration_census.py)."""
    res = pd.DataFrame({"origin": ["CHL", "CHL", "CHL", "PER", "PER", "ITA", "ARG"],
                        "education": ["low", "medium", "high", "primary", "tertiary", "secondary", "high"],
                        "residents": [9e6, 7e6, 3e6, 1e6, 4e5, 5e6, 2e6]})
    a = mc.emigration_rates_by_education(cen, res)
    b = mc.emigration_rates_by_education(dc, res)
    assert list(a.columns) == list(b.columns) and len(a) == len(b) == 7
    pd.testing.assert_frame_equal(a[["origin", "education"]], b[["origin", "education"]])
    assert (a["emigrants"] > 0).sum() >= 5 and (a["emigrants_se"] > 0).sum() >= 5
    for c in ("residents", "emigrants", "emigrants_se", "rate_pct", "rate_se", "ci_lower", "ci_upper"):
        np.testing.assert_allclose(b[c], a[c], rtol=RTOL, err_msg=c)
