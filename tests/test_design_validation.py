"""Design weights go through the one validator (core.validate.check_nonnegative): zero is a
valid weight (a row outside a domain), missing/infinite/negative are refused naming the rows."""
import numpy as np
import pytest

from remitpov.core.validate import check_nonnegative
from remitpov.design import Design
from remitpov.exceptions import InputError


def test_check_nonnegative_accepts_zero_and_names_bad_rows():
    np.testing.assert_array_equal(check_nonnegative([0.0, 2.0, 1.5], "w"), [0.0, 2.0, 1.5])
    assert check_nonnegative(np.array([]), "w").size == 0
    for bad in (np.nan, np.inf, -1.0):
        with pytest.raises(InputError, match=r"w must be finite and non-negative: .*row 2.*; drop them"):
            check_nonnegative([1.0, 1.0, bad], "w", fix="drop them")


def test_from_arrays_and_reweight_use_it():
    with pytest.raises(InputError,
                       match=r"weights must be finite and non-negative: .*row 1.*before building the design"):
        Design.from_arrays([1.0, -2.0, 3.0])
    d = Design.from_arrays([1.0, 0.0, 3.0])  # a zero weight is a row outside a domain
    assert d.base_n == 2
    with pytest.raises(InputError,
                       match=r"\(person\) weights must be finite and non-negative: .*row 0.*finite non-negative"):
        d.reweight([np.nan, 1.0, 1.0])
    with pytest.raises(InputError, match="one weight per row.*3 rows"):
        d.reweight([1.0, 1.0])
    np.testing.assert_array_equal(d.reweight([2.0, 0.0, 6.0]).weights, [2.0, 0.0, 6.0])
