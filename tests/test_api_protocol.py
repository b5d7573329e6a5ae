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


def test_public_warnings_and_errors_are_exported():
    """Every warning/exception class of the package is in its module's ``__all__`` and in
    ``remitpov.__all__`` (users filter them: ``warnings.simplefilter("error", rp.CounterfactualWarning)``)."""
    import importlib
    import inspect
    import pkgutil

    import remitpov as rp

    found = {}
    for info in pkgutil.walk_packages(rp.__path__, "remitpov."):
        if info.name.startswith(("remitpov.distributed", "remitpov.engines.dask", "remitpov.engines.duckdb")):
            continue  # optional dependencies; they define no warning classes
        mod = importlib.import_module(info.name)
        for name, obj in vars(mod).items():
            if (inspect.isclass(obj) and obj.__module__ == mod.__name__ and not name.startswith("_")
                    and issubclass(obj, (rp.RemitpovWarning, rp.RemitpovError))):
                found[name] = mod
                if hasattr(mod, "__all__"):
                    assert name in mod.__all__, f"{name} missing from {mod.__name__}.__all__"
    assert {"CounterfactualWarning", "SelectionWarning", "EmptyDomainWarning", "InputError"} <= set(found)
    missing = sorted(n for n in found if n not in rp.__all__ or getattr(rp, n) is not getattr(found[n], n))
    assert not missing, f"not exported from remitpov: {missing}"
