"""Issue #13 (Scale): the origin x sex x education tabulation of immigrants, in memory and on
a Parquet dataset through Dask (2-worker local cluster).

In memory: every cell's estimate against a pandas group-by of the weights and every cell's SE
against the textbook stratified cluster formula (with-replacement PSU variance within strata
times ``1 - n_h/N_h``), written out here on a PSU x cell matrix independently of the
package's variance engine. Same floats summed in another order: 1e-9 relative (rounding of
sums of ~10^4 terms). Dask vs memory: the same sums in another order (partitions, tree
reduction), 1e-10 relative as ``tests/test_migration_census_dask.py``.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from remitpov.migration import census as mc

BY = ("birth_country", "sex", "education")
RTOL_DIRECT = 1e-9  # see module docstring
RTOL_DASK = 1e-10  # see module docstring


@pytest.fixture(scope="module")
def cen():
    return mc.synthetic_census(("ARG", "CRI", "USA"), persons_per_country=12_000, seed=5)


def _plain(df: pd.DataFrame) -> pd.DataFrame:
    return df.assign(**{c: df[c].astype(str) for c in ("census_country", "birth_country", "sex", "education")})


def _direct(cen) -> pd.DataFrame:
    """Weighted immigrant counts by origin x sex x education and their textbook SEs."""
    d = _plain(cen.data)
    d = d[d["birth_country"] != d["census_country"]]
    cell = d[list(BY)].agg("/".join, axis=1)
    # PSU x cell totals, zero where a sampled PSU has nobody of the cell
    z = d.assign(_cell=cell).pivot_table(index="psu", columns="_cell", values="weight", aggfunc="sum", fill_value=0.0)
    psus = cen.data.groupby("psu", observed=True)[["stratum", "fpc"]].first()  # every sampled PSU
    z = z.reindex(psus.index, fill_value=0.0)
    h = psus["stratum"].to_numpy()
    var = np.zeros(z.shape[1])
    for s in np.unique(h):
        zs = z.to_numpy()[h == s]
        n_h, N_h = zs.shape[0], psus["fpc"].to_numpy()[h == s][0]
        var += (1 - n_h / N_h) * n_h / (n_h - 1) * ((zs - zs.mean(axis=0)) ** 2).sum(axis=0)
    return pd.DataFrame({"estimate": z.sum(axis=0).to_numpy(), "se": np.sqrt(var)}, index=z.columns)


def test_three_way_cells_equal_direct_numpy(cen):
    tab = mc.immigrant_stock(cen, by=BY).to_frame()
    assert list(tab[list(BY)].columns) == list(BY)
    got = tab.set_index(tab[list(BY)].astype(str).agg("/".join, axis=1))
    want = _direct(cen)
    assert set(got.index) == set(want.index)  # every observed cell, no empty one
    assert len(want) > 100  # the three-way table is really three-way (origins x 2 x 4)
    np.testing.assert_allclose(got.loc[want.index, "estimate"], want["estimate"], rtol=RTOL_DIRECT)
    np.testing.assert_allclose(got.loc[want.index, "se"], want["se"], rtol=RTOL_DIRECT)
    # the margins over education add back to the origin x sex table
    two = mc.immigrant_stock(cen, by=BY[:2]).to_frame().set_index(list(BY[:2]))["estimate"]
    back = tab.groupby(list(BY[:2]), observed=True)["estimate"].sum()
    np.testing.assert_allclose(back.loc[two.index], two, rtol=RTOL_DIRECT)


def test_three_way_from_parquet_on_two_worker_cluster(cen, tmp_path):
    distributed = pytest.importorskip("distributed")
    pytest.importorskip("dask.dataframe")
    pytest.importorskip("pyarrow")
    from remitpov.migration.census_dask import dask_census

    d = _plain(cen.data)
    for k, i in enumerate(range(0, len(d), 10_000)):  # 4 files, cutting through PSUs and censuses
        d.iloc[i:i + 10_000].to_parquet(tmp_path / f"part-{k}.parquet", index=False)
    mem = mc.immigrant_stock(cen, by=BY).to_frame()
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None) as cl, \
            distributed.Client(cl):
        dc = dask_census(str(tmp_path), birth_country="birth_country", census_country="census_country",
                         weight="weight", strata="stratum", psu="psu", fpc="fpc", sex="sex", age="age",
                         education="education")
        got = mc.immigrant_stock(dc, by=BY).to_frame()
    mem[list(BY)] = mem[list(BY)].astype(str)
    m = mem.merge(got, on=list(BY), suffixes=("_m", "_d"), how="outer", indicator=True)
    assert (m["_merge"] == "both").all()
    np.testing.assert_allclose(m["estimate_d"], m["estimate_m"], rtol=RTOL_DASK)
    np.testing.assert_allclose(m["se_d"], m["se_m"], rtol=RTOL_DASK)
