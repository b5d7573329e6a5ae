"""Census tabulations on Dask (a 2-worker local cluster and the synchronous scheduler) give
the in-memory numbers.

Same sums, other order (partitions, tree reduction): estimates and SEs to 1e-10 relative.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

distributed = pytest.importorskip("distributed")
pytest.importorskip("dask.dataframe")

from remitpov.migration import census as mc  # noqa: E402
from remitpov.migration.census_dask import dask_census  # noqa: E402

RTOL = 1e-10  # same sums in another order (see module docstring)


@pytest.fixture(scope="module")
def cen():
    return mc.synthetic_census(("ARG", "CRI", "USA"), persons_per_country=15_000, seed=3)


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None)
    c = distributed.Client(cluster)
    yield c
    c.close()
    cluster.close()


def _plain(df: pd.DataFrame) -> pd.DataFrame:
    # what a Parquet dataset would hold: plain strings, not pandas categoricals
    return df.assign(**{c: df[c].astype(str) for c in ("census_country", "birth_country", "sex", "education")})


def _dc(cen, npartitions):
    return dask_census(_plain(cen.data), birth_country="birth_country", census_country="census_country",
                       weight="weight", strata="stratum", psu="psu", fpc="fpc", sex="sex", age="age",
                       education="education", npartitions=npartitions)


def _same(a, b, keys):
    fa, fb = a.to_frame(), b.to_frame()
    m = fa.merge(fb, on=keys, suffixes=("_m", "_d"), how="outer", indicator=True)
    assert (m["_merge"] == "both").all(), m[m["_merge"] != "both"][keys].head()
    np.testing.assert_allclose(m["estimate_d"], m["estimate_m"], rtol=RTOL)
    np.testing.assert_allclose(m["se_d"], m["se_m"], rtol=RTOL)


@pytest.mark.parametrize("npartitions", [1, 7])
def test_same_numbers_as_in_memory(cen, client, npartitions):
    dc = _dc(cen, npartitions)
    _same(mc.immigrant_stock(cen), mc.immigrant_stock(dc), ["census_country", "birth_country"])
    _same(mc.immigrant_stock(cen, by=("birth_country", "sex")), mc.immigrant_stock(dc, by=("birth_country", "sex")),
          ["birth_country", "sex"])
    _same(mc.tertiary_share(cen, by="birth_country"), mc.tertiary_share(dc, by="birth_country"), ["birth_country"])
    _same(mc.age_structure(cen, by="census_country"), mc.age_structure(dc, by="census_country"),
          ["census_country", "variable"])


def test_sex_ratio_synchronous_scheduler(cen):
    import dask

    with dask.config.set(scheduler="synchronous"):
        _same(mc.sex_ratio(cen, by="census_country"), mc.sex_ratio(_dc(cen, 3), by="census_country"),
              ["census_country"])
