"""The loader registry (issue #15): one contract test run over EVERY registered loader,
the registry's own behaviour, and the chapter spec / CLI reading it."""
import inspect

import pandas as pd
import pytest

import remitpov.report.spec as spec_mod
from remitpov.cli import load_for_describe
from remitpov.exceptions import InputError
from remitpov.io import generic
from remitpov.io.registry import (FORMAT_TARGETS, LOADERS, NO_FILE_FORMATS, Loader, get_loader, load, loader_names,
                                  register_loader, unregister_loader)
from remitpov.survey import DESIGN_ROLES, ROLES, LoadReport, Survey

#: A real input for every registered loader: (path parts in the shared folder or None, options).
#: A loader registered without a sample here fails the contract test below -- add one.
SAMPLES = {
    "enigh": (("data", "enigh2018_ags", "ConcAguascalientes.dbf"), {}),
    "encovi2000": (("data", "encovi2000_gt"), {}),
    "enigh_tables": (("data", "enigh_national"), {"year": 2022}),
    "eusilc": (("data", "eusilc", "eusilc.csv.gz"), {}),
    "synthetic": (None, {"n_households": 200, "n_regions": 2}),
    "table": (("data", "api", "apistrat.csv.gz"), {"weight": "pw", "strata": "stype", "fpc": "fpc",
                                                   "unit": "person"}),
}


@pytest.fixture(scope="module")
def loaded(shared):
    cache = {}

    def get(name):
        if name not in cache:
            parts, opts = SAMPLES[name]
            cache[name] = load(name, None if parts is None else shared(*parts), **opts)
        return cache[name]
    return get


@pytest.mark.parametrize("name", loader_names())
def test_contract_returns_survey_with_report_and_roles(name, loaded):
    assert name in SAMPLES, f"loader {name!r} has no sample input in tests/test_io_registry.py::SAMPLES"
    info = LOADERS[name]
    assert isinstance(info.function, Loader)
    s = loaded(name)
    assert isinstance(s, Survey) and s.n > 0
    assert isinstance(s.report, LoadReport) and len(s.report) >= 1  # at least what was read / generated
    assert s.metadata.loader
    for role in info.roles:
        if role in DESIGN_ROLES:
            assert getattr(s, role) is not None, f"{name}: design role {role!r} declared but not set"
        else:
            assert s.role(role) in s.data.columns, f"{name}: role {role!r} declared but absent"
    assert set(s.roles) <= ROLES | set(s.concepts)
    for opt in info.required_options:  # declared required options really are required
        p = inspect.signature(info.function).parameters[opt]
        assert p.default is inspect.Parameter.empty


@pytest.mark.parametrize("name", loader_names(needs_file=True))
def test_contract_bad_paths_give_input_error(name, tmp_path):
    parts, opts = SAMPLES[name]
    with pytest.raises(InputError):
        load(name, tmp_path / "absent" / parts[-1], **opts)
    # an empty file with the sample's name: a clear error naming it, never a reader traceback
    target = tmp_path / parts[-1]
    if "." not in parts[-1]:  # a folder loader: an empty file where its data file should be
        target.mkdir()
        (target / "CONSUMO5.DTA").write_bytes(b"")
    else:
        target.write_bytes(b"")
    with pytest.raises(InputError, match=r"empty|cannot read|32 bytes|no data"):
        load(name, target, **opts)


@pytest.mark.parametrize("name", loader_names(needs_file=False))
def test_contract_no_file_loaders_refuse_a_path(name, tmp_path):
    with pytest.raises(InputError, match="takes no input file"):
        load(name, tmp_path / "x.csv")


def test_registry_lookups_and_errors():
    assert set(loader_names()) >= {"enigh", "encovi2000", "eusilc", "synthetic", "table"}
    assert "synthetic" in NO_FILE_FORMATS and "enigh" not in NO_FILE_FORMATS
    assert list(NO_FILE_FORMATS) == ["synthetic"] and len(NO_FILE_FORMATS) == 1
    assert FORMAT_TARGETS["enigh"] == ("remitpov.io.enigh", "read_enigh")
    with pytest.raises(InputError, match=r"unknown survey format 'engh'; did you mean 'enigh'\?"):
        get_loader("engh")
    with pytest.raises(InputError, match="already registered"):
        register_loader("enigh", lambda p: None)
    with pytest.raises(InputError, match=r"unknown role\(s\) \['incme'\]; did you mean 'income'"):
        register_loader("x_test", lambda p: None, roles={"incme"})
    with pytest.raises(InputError, match="simple identifier"):
        register_loader("a b", lambda p: None)
    with pytest.raises(InputError, match="must be callable"):
        register_loader("x_test", "read_enigh")
    with pytest.raises(InputError, match="reads a file"):
        load("enigh")
    with pytest.raises(InputError, match=r"format 'table' needs option\(s\) \['weight'\]"):
        load("table", "x.csv")


def test_a_new_loader_is_seen_by_spec_and_cli(tmp_path):
    df = pd.DataFrame({"w": [1.0, 2.0, 3.0], "inc": [5.0, 6.0, 7.0]})
    df.to_csv(tmp_path / "x.csv", index=False)

    def read_mine(path):
        return generic.read_survey(path, {"weight": "w", "income": "inc", "unit": "person"})

    register_loader("mine", read_mine, roles={"weight", "income"})
    try:
        assert "mine" in spec_mod.FORMATS and spec_mod.FORMATS["mine"] == (__name__, "read_mine")
        assert load_for_describe(tmp_path / "x.csv", "mine").n == 3
    finally:
        unregister_loader("mine")
    assert "mine" not in spec_mod.FORMATS
    with pytest.raises(InputError, match="unknown --format 'mine'"):
        load_for_describe(tmp_path / "x.csv", "mine")


def test_one_generic_reader(shared):
    # the chapter spec's "table" format IS the io reader (not a copy)
    assert spec_mod.read_table_survey is generic.read_table_survey
    s = generic.read_table_survey(shared("data", "api", "apiclus1.csv.gz"), weight="pw", psu="dnum", fpc="fpc",
                                  unit="person", columns=["dnum", "pw", "fpc", "api00"])
    raw = pd.read_csv(shared("data", "api", "apiclus1.csv.gz"))
    pd.testing.assert_frame_equal(s.data, raw[["dnum", "pw", "fpc", "api00"]])  # values unchanged
    assert s.metadata.loader == "table" and s.metadata.name == "apiclus1.csv"  # Path.stem, as before


def test_table_keeps_values_and_reports(tmp_path):
    df = pd.DataFrame({"w": [1.0, 2.0, 3.0], "y": [-5.0, float("nan"), 7.0]})
    df.to_csv(tmp_path / "t.csv", index=False)
    s = generic.read_table_survey(tmp_path / "t.csv", weight="w", unit="person", roles={"income": "y"})
    pd.testing.assert_series_equal(s.data["y"], df["y"])  # nothing changed ...
    assert s.report.find("negative_income") and s.report.find("missing")  # ... and nothing silent
    pd.concat([df, df.iloc[[2]]]).to_csv(tmp_path / "d.csv", index=False)
    with pytest.raises(InputError, match="exact duplicate rows"):
        generic.read_table_survey(tmp_path / "d.csv", weight="w", unit="person")
