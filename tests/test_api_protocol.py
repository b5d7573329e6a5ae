"""The one estimator protocol (#15): shared helpers, deprecation shims, registries."""
from __future__ import annotations

import pytest

from remitpov.core.domains import total_label as core_total_label
from remitpov.engines.base import total_label as engine_total_label
from remitpov.exceptions import InputError


@pytest.mark.parametrize("total", [None, False, True, "all", "(total)"])
@pytest.mark.parametrize("by", [None, "region"])
def test_engine_total_label_is_the_core_one(total, by):
    expected = None if by is None else core_total_label(total)
    assert engine_total_label(total, by) == expected


@pytest.mark.parametrize("total", ["", 0, 3, 1.5])
@pytest.mark.parametrize("by", [None, "region"])
def test_engine_total_label_same_errors(total, by):
    with pytest.raises(InputError, match="use True"):
        core_total_label(total)
    with pytest.raises(InputError, match="use True"):
        engine_total_label(total, by)
