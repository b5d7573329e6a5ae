"""Exceptions and warnings raised by remitpov.

Every error about user input names the offending column, how many rows are affected,
an example identifier and what to do about it (see :func:`describe_rows`).
"""
from __future__ import annotations

import numpy as np


class RemitpovError(Exception):
    """Base class of all remitpov errors."""


class InputError(RemitpovError, ValueError):
    """Bad user input: a column, value or setting that cannot be used as given."""


class DesignError(RemitpovError, ValueError):
    """A survey design that cannot produce a variance (e.g. a lonely PSU with policy 'error')."""


class SpecError(RemitpovError, ValueError):
    """A chapter/targets/survey specification file with a missing or invalid key."""


class EstimationError(RemitpovError, RuntimeError):
    """An econometric model that cannot be estimated (separation, singular matrix...)."""


class RemitpovWarning(UserWarning):
    """Base class of remitpov warnings."""


class DataWarning(RemitpovWarning):
    """Something in the data was changed or looks suspicious (always also in the load report)."""


class WeakInstrumentWarning(RemitpovWarning):
    """First-stage F statistic below the conventional threshold."""


class OverlapWarning(RemitpovWarning):
    """Propensity scores close to 0 or 1: weak overlap between treated and controls."""


def describe_rows(mask, ids=None, max_examples: int = 3) -> str:
    """Return ``"N rows (e.g. id=...)"`` for a boolean mask, for error messages."""
    mask = np.asarray(mask, dtype=bool)
    n = int(mask.sum())
    idx = np.flatnonzero(mask)[:max_examples]
    if ids is None:
        ex = ", ".join(f"row {int(i)}" for i in idx)
    else:
        ids = np.asarray(ids, dtype=object)
        ex = ", ".join(f"id={ids[i]!r}" for i in idx)
    return f"{n} row{'s' if n != 1 else ''} (e.g. {ex})" if n else "0 rows"
