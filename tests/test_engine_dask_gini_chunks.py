"""The Dask Gini's chunked row basis (``engines.dask._gini_out``): chunks that never split a
tie block, running sums carried from chunk to chunk and across domains, and the (unit,
domain) totals on the dense grid or on compact codes -- all equal to the in-memory Gini and
its SE (and design effect) to 1e-10, the engines' contract."""
from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("dask.dataframe", reason="dask is not installed: pip install -e '.[dask]'")

import remitpov as rp  # noqa: E402
from remitpov import distributed as rd  # noqa: E402
from remitpov.engines import dask as rde  # noqa: E402

from _design_data import assert_same_result, design_frame  # noqa: E402


pytestmark = pytest.mark.usefixtures("dask_synchronous")  # conftest: no cluster needed for equality


@pytest.fixture(scope="module")
def data():
    df = design_frame(3000, 60, 6, seed=5)
    # few distinct incomes: tie blocks of ~100 rows, many of them across chunk boundaries
    df["coarse"] = np.round(df["income"], -2)
    df["many"] = df["psu"] % 23  # 23 domains
    return df


def _pair(df, npartitions):
    s = rp.Survey(df, weight="w", strata="strata", psu="psu", unit="person")
    return s, rd.DaskSurvey(df, weight="w", strata="strata", psu="psu", npartitions=npartitions)


@pytest.mark.parametrize("chunk", [7, 64, 1 << 16])
@pytest.mark.parametrize("by", [None, "urban", "many"])
@pytest.mark.parametrize("income", ["income", "coarse"])
def test_chunked_gini_equals_memory(data, monkeypatch, chunk, by, income):
    """Chunks of 7 or 64 rows (tie blocks of ~100 rows span several of them) give the one-chunk
    numbers and the in-memory Gini, SE and design effect, on one and on several partitions."""
    monkeypatch.setattr(rde, "CHUNK", chunk)
    for npart in (1, 3):
        s, ds = _pair(data, npart)
        assert_same_result(rp.gini(ds, income, by=by, deff=True), rp.gini(s, income, by=by, deff=True))


def test_compact_unit_codes_when_the_grid_is_sparse(monkeypatch):
    """1,200 PSUs x 23 domains exceed 4 cells per row of an output partition, so the (unit,
    domain) totals use compact codes instead of the dense grid -- same numbers."""
    df = design_frame(3000, 1200, 6, seed=9)
    df["many"] = df["psu"] % 23
    calls = []
    real = rde.compact_codes
    monkeypatch.setattr(rde, "compact_codes", lambda c, k: calls.append(k) or real(c, k))
    monkeypatch.setattr(rde, "CHUNK", 16)
    s, ds = _pair(df, 3)
    assert_same_result(rp.gini(ds, "income", by="many", deff=True), rp.gini(s, "income", by="many", deff=True))
    assert 1200 * 23 in calls  # the compact path ran


@pytest.mark.parametrize("b", [1, 5, 6, 9, 10, 11, 299, 300])
def test_tie_end_is_the_next_block_start(b):
    ys = np.repeat(np.arange(5.0), [6, 4, 290, 1, 9])  # blocks start at 0, 6, 10, 300, 301
    starts = np.array([0, 6, 10, 300, 301, 310])
    assert rde._tie_end(ys, b) == starts[starts >= b][0]
