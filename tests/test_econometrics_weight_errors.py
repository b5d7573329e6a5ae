"""Bad regression weights: every econometric model's error names the rows and says what to do
(:func:`remitpov.core.validate.check_positive` behind OLS and the panel models; the selection
models' own validator allows zero weights)."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from remitpov.econometrics import RemittancePanel, RobustOLS
from remitpov.econometrics._base import validated_weights
from remitpov.exceptions import InputError


@pytest.fixture
def data():
    rng = np.random.default_rng(3)
    d = pd.DataFrame({"country": np.repeat(list("ABCDEFGH"), 5), "year": np.tile(np.arange(2000, 2005), 8),
                      "x": rng.normal(size=40)})
    d["y"] = 1 + 0.5 * d["x"] + rng.normal(size=40)
    d["w"] = 1.0
    return d


@pytest.mark.parametrize("bad", [0.0, -1.0, np.nan])
def test_ols_weights_name_the_row(data, bad):
    data.loc[7, "w"] = bad
    with pytest.raises(InputError, match=r"regression weights is missing, zero or negative in 1 row .*7.*drop"):
        RobustOLS("y ~ x", data, weights="w")


@pytest.mark.parametrize("bad", [0.0, -2.0, np.inf])
def test_panel_weights_name_entity_and_period(data, bad):
    w = data["w"].to_numpy().copy()
    w[12] = bad  # country C, 2002
    with pytest.raises(InputError, match=r"panel weights is missing, zero or negative in 1 row .*C/2002.*drop"):
        RemittancePanel.from_formula("y ~ 1 + x", data, weights=w)


def test_panel_weights_length(data):
    with pytest.raises(InputError, match="weights have 39 rows, the data 40"):
        RemittancePanel.from_formula("y ~ 1 + x", data, weights=np.ones(39))


def test_selection_model_weights_allow_zero_but_name_negatives():
    assert validated_weights([1.0, 0.0, 2.0], 3).tolist() == [1.0, 0.0, 2.0]  # zero drops a row from the fit
    with pytest.raises(InputError, match=r"negative in 1 row .*id='b'.*fix the weights"):
        validated_weights([1.0, -1.0, 2.0], 3, ids=pd.Index(["a", "b", "c"]))
    with pytest.raises(InputError, match="all weights are zero"):
        validated_weights([0.0, 0.0], 2)
