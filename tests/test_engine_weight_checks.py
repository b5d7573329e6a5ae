"""Weights and household sizes on the Dask engine follow the package's one rule
(:func:`remitpov.core.validate.check_weights` / ``check_positive``): the same messages as
:class:`remitpov.Survey`, naming the rows of the partition that holds the bad value."""
from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("dask.dataframe", reason="dask is not installed: pip install -e '.[dask]'")
import dask  # noqa: E402

import remitpov as rp  # noqa: E402
from remitpov import distributed as rd  # noqa: E402
from remitpov.exceptions import InputError  # noqa: E402

from _design_data import design_frame  # noqa: E402


@pytest.fixture(scope="module")
def data():
    df = design_frame(600, 30, 3, seed=3)
    df["n"] = 2.0
    return df


def _message(fn) -> str:
    with pytest.raises(InputError) as e:
        fn()
    return str(e.value)


@pytest.mark.parametrize("value,words", [(np.nan, "is missing in 1 row"), (0.0, "is zero or negative in 1 row"),
                                         (-3.0, "is zero or negative in 1 row")])
def test_bad_weight_same_rule_and_message_as_survey(data, value, words):
    bad = data.copy()
    bad.loc[41, "w"] = value
    ds = rd.DaskSurvey(bad, weight="w", strata="strata", psu="psu", npartitions=3)
    with dask.config.set(scheduler="synchronous"):
        got = _message(lambda: rp.fgt(ds, "income", 600.0))
    assert f"weight column 'w' {words} (e.g. id=41)" in got
    ref = _message(lambda: rp.Survey(bad, weight="w", strata="strata", psu="psu", unit="person"))
    assert got.split(" in 1 row")[0] == ref.split(" in 1 row")[0]
    assert got.split(";", 1)[1] == ref.split(";", 1)[1]  # the same advice


def test_bad_household_size(data):
    bad = data.copy()
    bad.loc[[5, 300], "n"] = [0.0, np.nan]
    ds = rd.DaskSurvey(bad, weight="w", strata="strata", psu="psu", size="n", npartitions=1)
    with dask.config.set(scheduler="synchronous"):
        got = _message(lambda: rp.fgt(ds, "income", 600.0))
    assert got.startswith("household size column 'n' is missing, zero or negative in 2 rows (e.g. id=5, id=300)")
    assert got.endswith("every household needs at least one member")
