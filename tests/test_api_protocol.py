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


# ---------------------------------------------------------------- canonical signatures (#15)
@pytest.fixture(scope="module")
def small():
    import remitpov as rp

    return rp.build_income(rp.synthetic_survey(seed=3, n_households=600), scale="per_capita", period="month")


def _same(a, b):
    import numpy as np

    assert a.keys.equals(b.keys)
    assert np.array_equal(a.estimates, b.estimates, equal_nan=True)
    assert np.array_equal(a.se, b.se, equal_nan=True)


@pytest.mark.parametrize("fn", ["mean", "total", "ratio"])
def test_first_parameter_is_survey_and_obj_is_deprecated(small, fn):
    import inspect
    import warnings

    import remitpov as rp

    f = getattr(rp, fn)
    assert next(iter(inspect.signature(f).parameters)) == "survey"
    args = ("y_with", "y_without") if fn == "ratio" else ("y_with",)
    new = f(small, *args, by="area")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _same(f(small, *args, by="area"), new)  # no warning on the new spelling
    with pytest.warns(FutureWarning, match=rf"{fn}\(obj=\.\.\.\) is deprecated.*use survey="):
        old = f(obj=small, **dict(zip(["numerator", "denominator"] if fn == "ratio" else ["variables"], args)),
                by="area")
    _same(old, new)
    with pytest.raises(rp.InputError, match="both survey= and obj="):
        f(survey=small, obj=small, **dict(zip(["numerator", "denominator"] if fn == "ratio" else ["variables"],
                                             args)))


def test_every_public_estimator_takes_survey_first():
    import inspect

    import remitpov as rp
    from remitpov import measures

    for m in measures.REGISTRY.values():
        assert next(iter(inspect.signature(getattr(rp, m.function)).parameters)) == "survey", m.function
    for fn in ("mean", "total", "ratio", "fgt", "decompose", "compare", "compare_inequality", "lorenz"):
        assert next(iter(inspect.signature(getattr(rp, fn)).parameters)) == "survey", fn


def test_decompose_alpha_before_by_with_old_order_shim(small):
    import inspect
    import warnings

    import remitpov as rp

    params = list(inspect.signature(rp.decompose).parameters)
    assert params[:5] == ["survey", "income", "line", "alpha", "by"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        new = rp.decompose(small, "y_with", 1500.0, (0, 2), "area")
        _same(rp.decompose(small, "y_with", 1500.0, alpha=(0, 2), by="area"), new)
    with pytest.warns(FutureWarning, match=r"old argument order.*alpha, by"):
        old = rp.decompose(small, "y_with", 1500.0, "area", (0, 2))
    _same(old, new)
    with pytest.warns(FutureWarning, match="old argument order"):
        _same(rp.decompose(small, "y_with", 1500.0, "area", alpha=(0, 2)), new)
    with pytest.raises(rp.InputError, match="needs a subgroup variable"):
        rp.decompose(small, "y_with", 1500.0, (0, 2))


@pytest.mark.parametrize("fn", ["compare", "compare_inequality"])
def test_concept_is_the_one_spelling_label_deprecated(small, fn):
    import warnings

    import remitpov as rp

    inc = {"with": "y_with", "without": "y_without"}
    kw = {"deff": True}  # (the inequality deff default is deprecated too)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        new = getattr(rp, fn)(small, inc, measure="gini", concept="diff", **kw)
    assert (new.keys["concept"] == "diff").any()
    with pytest.warns(FutureWarning, match=rf"{fn}\(label=\.\.\.\) is deprecated.*use concept="):
        old = getattr(rp, fn)(small, inc, measure="gini", label="diff", **kw)
    _same(old, new)


# ---------------------------------------------------------------- self-registering measures (#15)
def test_measure_files_register_themselves_on_package_import():
    """Importing ``remitpov.measures`` alone (a fresh interpreter) gives the full registry:
    every measure is registered by its own file, none in a central list."""
    import ast
    import subprocess
    import sys
    from pathlib import Path

    import remitpov as rp
    from remitpov import measures

    out = subprocess.run([sys.executable, "-c", "import remitpov.measures as m; print(','.join(m.names()))"],
                         capture_output=True, text=True, check=True)
    assert out.stdout.strip().split(",") == list(measures.names())
    folder = Path(rp.__file__).parent / "measures"
    registered_in = {}
    for f in folder.glob("*.py"):
        for node in ast.walk(ast.parse(f.read_text())):
            if (isinstance(node, ast.Call) and getattr(node.func, "id", None) == "register" and node.args
                    and isinstance(node.args[0], ast.Call) and getattr(node.args[0].func, "id", None) == "Measure"):
                registered_in[node.args[0].args[0].value] = f.name
    assert set(registered_in) == set(measures.REGISTRY)
    assert "__init__.py" not in registered_in.values() and "registry.py" not in registered_in.values()


def test_a_new_measure_file_appears_in_the_registry_and_compare(tmp_path, monkeypatch):
    import importlib

    import remitpov as rp
    from remitpov import measures

    (tmp_path / "my_measure.py").write_text(
        "from remitpov.measures.registry import Measure, register\n"
        "register(Measure('my_index', 'poverty', 'sen', joint=False, aliases=('mine',), summary='test'))\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    try:
        importlib.import_module("my_measure")
        assert "my_index" in measures.names() and "mine" in measures.names(aliases=True)
        assert measures.names()[-1] == "my_index"  # default rank: listed last
        assert measures.get("mine").name == "my_index"
        with pytest.raises(rp.InputError, match=r"'my_index' \(their own functions\)"):
            measures.get("nope")
        with pytest.raises(rp.InputError, match=r"measure='my_index'.*own function"):
            rp.compare(rp.synthetic_survey(seed=1, n_households=200), {"a": "income", "b": "income"}, measure="my_index")
    finally:
        if "my_index" in measures.REGISTRY:
            measures.unregister("my_index")
    assert "my_index" not in measures.names() and "mine" not in measures.names(aliases=True)


# ---------------------------------------------------------------- one design-effect default (#15)
LEGACY_DEFF = [
    ("gini", lambda rp, s, **k: rp.gini(s, "y_with", by="area", **k)),
    ("quantile", lambda rp, s, **k: rp.quantile(s, "y_with", probs=(0.5,), **k)),
    ("theil", lambda rp, s, **k: rp.theil(s, "y_with", **k)),
    ("generalized_entropy", lambda rp, s, **k: rp.generalized_entropy(s, "y_with", epsilon=(2.0,), **k)),
    ("palma", lambda rp, s, **k: rp.palma(s, "y_with", **k)),
    ("quantile_share_ratio", lambda rp, s, **k: rp.quantile_share_ratio(s, "y_with", **k)),
    ("compare_inequality", lambda rp, s, **k: rp.compare_inequality(s, {"a": "y_with", "b": "y_without"}, **k)),
    ("arpt", lambda rp, s, **k: rp.arpt(s, "y_with", **k)),
    ("rmpg", lambda rp, s, **k: rp.rmpg(s, "y_with", **k)),
    ("sen", lambda rp, s, **k: rp.sen(s, "y_with", 1500.0, **k)),
    # curves return frames: wrapped so the test reads them as tables
    ("lorenz", lambda rp, s, **k: _Framed(rp.lorenz(s, "y_with", points=4, by="area", **k))),
    ("concentration_curve", lambda rp, s, **k: _Framed(rp.concentration_curve(s, "remit_pc", "y_without", points=4,
                                                                              **k))),
    ("gini_decomposition", lambda rp, s, **k: rp.gini_decomposition(s, {"other": "y_without", "remit": "remit_pc"},
                                                                    **k)),
    ("compare", lambda rp, s, **k: rp.compare(s, {"a": "y_with", "b": "y_without"}, measure="gini",
                                                         **k)),
]


class _Framed:
    def __init__(self, frame):
        self.frame = frame

    def to_frame(self):
        return self.frame


@pytest.mark.parametrize("name,call", LEGACY_DEFF, ids=[n for n, _ in LEGACY_DEFF])
def test_deff_default_deprecation_path(small, name, call):
    """Today's default (deff computed) is kept with a FutureWarning naming the change; deff=True
    gives the same table silently; deff=False drops the column (the future default, as fgt/mean)."""
    import warnings

    import numpy as np

    import remitpov as rp

    with pytest.warns(FutureWarning, match=rf"{name}\(\): design effects .* default becomes deff=False") as rec:
        old = call(rp, small)
    assert all(r.filename == __file__ for r in rec if issubclass(r.category, FutureWarning))  # points at the caller
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        kept = call(rp, small, deff=True)
        off = call(rp, small, deff=False)
    fo, fk, ff = old.to_frame(), kept.to_frame(), off.to_frame()
    assert "deff" in fo and fo.equals(fk)
    assert "deff" not in ff
    assert np.array_equal(ff["se"].to_numpy(), fo["se"].to_numpy(), equal_nan=True)


def test_compare_passes_its_deff_to_inequality_measures(small):
    """compare(measure=<inequality>) gives compare_inequality's table for every deff value
    (it used to compute design effects always and refuse deff=)."""
    import remitpov as rp

    inc = {"a": "y_with", "b": "y_without"}
    for deff in (False, True, "replace"):
        c = rp.compare(small, inc, measure="theil", by="area", deff=deff).to_frame()
        ref = rp.compare_inequality(small, inc, "theil", by="area", deff=deff).to_frame()
        assert ("deff" in c) == bool(deff)
        assert c.equals(ref)
    with_, repl = (rp.compare(small, inc, measure="gini", deff=d).to_frame()["deff"] for d in (True, "replace"))
    assert (with_ != repl).all()  # the two SRS denominators differ (fpc or not)


def test_deff_default_is_off_for_fgt_and_means(small):
    import warnings

    import remitpov as rp

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert "deff" not in rp.fgt(small, "y_with", 1500.0).to_frame()
        assert "deff" not in rp.mean(small, "y_with").to_frame()
        assert "deff" in rp.mean(small, "y_with", deff=True).to_frame()


def test_deff_replace_accepted_and_bad_values_refused(small):
    import remitpov as rp

    t = rp.gini(small, "y_with", deff="replace")
    assert "deff" in t.to_frame()
    with pytest.raises(rp.InputError, match="deff='yes'"):
        rp.gini(small, "y_with", deff="yes")


# ---------------------------------------------------------------- one weight validator (#15)
def test_weight_validators_name_column_rows_and_fix():
    import numpy as np

    from remitpov.core.validate import check_positive, check_weights

    ids = np.array(["a", "b", "c"])
    assert check_weights([1.0, 2.0, 3.0], "w", ids).dtype == float
    with pytest.raises(InputError, match=r"weight column 'w' is missing in 1 row \(e.g. id='b'\).*drop those rows"):
        check_weights([1.0, np.nan, -1.0], "w", ids)
    with pytest.raises(InputError, match=r"weight column 'w' is zero or negative in 2 rows.*'a'.*use a domain"):
        check_weights([0.0, 2.0, -1.0], "w", ids)
    with pytest.raises(InputError, match=r"size 's' is missing, zero or negative in 2 rows.*; one member at least$"):
        check_positive([np.nan, 2.0, 0.0], "size 's'", ids, "one member at least")


def test_survey_and_enigh_use_the_one_validator(monkeypatch):
    """Survey (weights, sizes) and the ENIGH loader raise through core.validate (no copies)."""
    import numpy as np
    import pandas as pd

    import remitpov as rp
    from remitpov.core import validate

    calls = []
    real = validate.check_weights

    def spy(*a, **k):
        calls.append(a[1])
        return real(*a, **k)

    monkeypatch.setattr("remitpov.survey.check_weights", spy)
    df = pd.DataFrame({"w": [1.0, 2.0, 0.0], "y": [1.0, 2.0, 3.0], "n": [1, 2, 3]})
    with pytest.raises(InputError, match="'w' is zero or negative in 1 row"):
        rp.Survey(df, weight="w", unit="person")
    assert calls == ["w"]
    with pytest.raises(InputError, match="household size column 'n' is missing, zero or negative in 1 row"):
        rp.Survey(df.assign(w=1.0, n=[1, 0, 2]), weight="w", size="n")
    import inspect

    import remitpov.io.enigh as enigh

    assert "check_positive(" in inspect.getsource(enigh) and "(w <= 0)" not in inspect.getsource(enigh)
