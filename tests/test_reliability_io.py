"""Reliability table for the loader / survey / income layer (issue #9).

Each row is a bad input as a careless user or a hostile file would bring it, with the
error class it must raise and the key words its message must contain (what is wrong,
where, and what to do). No row may end in a raw Python exception or a silent number.

The property test at the end injects faults (text cells, missing cells, duplicate rows,
negative weights) into random survey files and checks that the loaded survey never gives
a number different from the clean computation unless the load raised an error or the
load report / a warning says what changed.
"""
from __future__ import annotations

import os
import struct
import tempfile
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import remitpov as rp
from remitpov.config import shared_dir
from remitpov.exceptions import InputError, RemitpovError, SpecError
from remitpov.income import build_income, equivalence_scale
from remitpov.io import read_enigh, read_lac_panel, read_survey
from remitpov.io.generic import read_table, read_table_survey
from remitpov.io.registry import get_loader, load
from remitpov.survey import SurveyMetadata
from remitpov.synthetic import synthetic_survey
from test_survey_checks import _survey as _small  # the 4-household survey with closed-form values

AGS = shared_dir() / "data" / "enigh2018_ags" / "ConcAguascalientes.dbf"
EUSILC_GZ = shared_dir() / "data" / "eusilc" / "eusilc.csv.gz"
SPEC = {"weight": "factor", "strata": "est_dis", "psu": "upm", "size": "tot_integ", "ids": ["folioviv", "foliohog"],
        "income": "ing_cor", "remittances": "remesas", "sources": {"labour": "ingtrab"},
        "metadata": {"income_period": "quarter"}}

_FRAME = synthetic_survey(n_households=120, n_regions=2, seed=7).data


def _frame(**cols):
    df = _FRAME.copy()
    for k, v in cols.items():
        df[k] = v
    return df


def _with_cell(col, row, value):
    df = _FRAME.astype({col: object})
    df.loc[row, col] = value
    return df


def _dbf():
    if not AGS.exists():
        pytest.skip(f"shared data not found: {AGS}")
    return AGS.read_bytes()


def _dbf_cut(records, extra=0):
    b = _dbf()
    n, h, r = struct.unpack("<IHH", b[4:12])
    return b[: h + records * r + extra]


def _write(tmp, name, data):
    p = Path(tmp) / name
    p.write_bytes(data)
    return p


def _csv(tmp, df, name="s.csv"):
    p = Path(tmp) / name
    df.to_csv(p, index=False)
    return p


def _raw_enigh():
    from dbfread import DBF

    _dbf()
    return pd.DataFrame(iter(DBF(str(AGS))))


def _enigh_csv(tmp, extra_rows):
    raw = _raw_enigh()
    return _csv(tmp, pd.concat([raw, extra_rows(raw)], ignore_index=True), "conc.csv")


def _same_decile(raw):
    i = int(np.flatnonzero(raw.duplicated(["folioviv", "foliohog"], keep=False))[0])
    return raw.iloc[[i]].assign(factor=raw.loc[i, "factor"] + 7)


def _eusilc_cut(tmp):
    if not EUSILC_GZ.exists():
        pytest.skip(f"shared data not found: {EUSILC_GZ}")
    g = EUSILC_GZ.read_bytes()
    return read_table(_write(tmp, "eusilc.csv.gz", g[: len(g) // 2]))


# (id, callable(tmp) that must raise, error class, key words of the message)
CASES = [
    # ---- files: read completely or refused
    ("dbf-cut-1500-records", lambda t: read_enigh(_write(t, "c.dbf", _dbf_cut(1500))), InputError,
     ["c.dbf", "truncated", "2,315 records", "1,500 complete records"]),
    ("dbf-cut-mid-record", lambda t: read_table(_write(t, "m.dbf", _dbf_cut(1500, 100))), InputError,
     ["m.dbf", "partial record", "mid-record"]),
    ("dbf-header-truncated", lambda t: read_table(_write(t, "h.dbf", _dbf()[:500])), InputError,
     ["h.dbf", "header truncated", "1057 bytes"]),
    ("dbf-under-32-bytes", lambda t: read_table(_write(t, "s.dbf", _dbf()[:20])), InputError,
     ["s.dbf", "32 bytes", "20 bytes"]),
    ("dbf-random-bytes", lambda t: read_table(_write(t, "r.dbf", b"\xbc" + os.urandom(3000))), InputError,
     ["r.dbf", "not a dBase", "0xBC"]),
    ("dbf-extra-bytes", lambda t: read_table(_write(t, "x.dbf", _dbf() + b"  " * 300)), InputError,
     ["x.dbf", "declares 2,315 records", "re-export"]),
    ("csv-gz-cut-short", _eusilc_cut, InputError, ["eusilc.csv.gz", "gzip stream is incomplete"]),
    ("csv-empty", lambda t: read_survey(_write(t, "e.csv", b""), SPEC), InputError, ["e.csv", "is empty"]),
    ("csv-header-only", lambda t: read_survey(_write(t, "h.csv", b"factor,ing_cor\n"), SPEC), InputError,
     ["h.csv", "no data rows", "0 rows"]),
    ("frame-no-rows", lambda t: read_survey(_FRAME.iloc[:0], SPEC), InputError, ["no rows", "0 rows"]),
    ("csv-cut-mid-row", lambda t: read_table(_write(t, "m.csv", b"a,b,c\n1,2,3\n4,5")), InputError,
     ["m.csv", "middle of a row", "expected 3 fields", "found 2"]),
    ("csv-short-row", lambda t: read_table(_write(t, "r.csv", b"a,b,c\n1,2,3\n4,5\n6,7,8\n")), InputError,
     ["r.csv", "1 row has fewer fields", "'4,5'"]),
    ("csv-ragged", lambda t: read_table(_write(t, "g.csv", b"a,b\n1,2\n3,4,5,6\n")), InputError,
     ["g.csv", "cannot parse"]),
    ("parquet-corrupt", lambda t: read_table(_write(t, "p.parquet", b"PAR1 no")), InputError,
     ["p.parquet", "cannot read as parquet"]),
    ("dta-corrupt", lambda t: read_table(_write(t, "d.dta", b"\x00" * 50)), InputError,
     ["d.dta", "cannot read as dta"]),
    ("sav-corrupt", lambda t: read_table(_write(t, "d.sav", b"$FL2 no")), InputError,
     ["d.sav", "cannot read as sav"]),
    ("unknown-extension", lambda t: read_table(_write(t, "d.xlsx", b"x")), InputError,
     ["unknown file format", ".xlsx"]),
    ("compressed-non-csv", lambda t: read_table(_write(t, "d.dta.gz", b"x")), InputError,
     ["compressed", "only"]),
    ("file-not-found", lambda t: read_table(Path(t) / "nope.csv"), InputError, ["file not found", "nope.csv"]),
    ("folder-as-file", lambda t: read_table(Path(t)), InputError, ["unknown file format"]),
    # ---- values: never silent
    ("text-in-income", lambda t: read_survey(_with_cell("ing_cor", 3, "1,873.50"), SPEC), InputError,
     ["ing_cor", "non-numeric", "1,873.50", "1 row", "coerce_text=True"]),
    ("text-coerced-still-missing", lambda t: read_survey(_with_cell("ing_cor", 3, "x"), SPEC, coerce_text=True),
     InputError, ["ing_cor", "missing in 1 row"]),
    ("text-in-weight", lambda t: read_survey(_with_cell("factor", 2, "n.d."), SPEC), InputError,
     ["weight", "factor", "non-numeric", "n.d."]),
    ("text-in-source", lambda t: read_survey(_with_cell("ingtrab", 2, "?"), SPEC), InputError,
     ["source labour", "non-numeric", "'?'"]),
    ("text-in-size", lambda t: read_survey(_with_cell("tot_integ", 2, "tres"), SPEC), InputError,
     ["household size", "tot_integ", "tres"]),
    ("exact-duplicate-rows", lambda t: read_survey(pd.concat([_FRAME, _FRAME.iloc[[4]]]), SPEC), InputError,
     ["exact duplicate rows", "duplicated in 2 rows", "duplicates='drop'"]),
    ("enigh-exact-duplicate", lambda t: read_enigh(_enigh_csv(t, lambda r: r.iloc[[0]])), InputError,
     ["exact duplicate rows", "weight 1"]),
    ("enigh-same-decile", lambda t: read_enigh(_enigh_csv(t, _same_decile)), InputError,
     ["same decile", "different deciles"]),
    ("duplicated-ids-differ", lambda t: read_survey(pd.concat([_FRAME, _FRAME.iloc[[4]].assign(ing_cor=1.0)]), SPEC),
     InputError, ["duplicated in 2 rows", "unique identifier"]),
    ("weight-negative", lambda t: read_survey(_frame(factor=np.where(_FRAME.index == 1, -3.0, _FRAME["factor"])),
                                              SPEC), InputError, ["factor", "zero or negative", "1 row"]),
    ("weight-missing", lambda t: read_survey(_frame(factor=np.where(_FRAME.index == 1, np.nan, _FRAME["factor"])),
                                             SPEC), InputError, ["factor", "missing in 1 row"]),
    ("income-missing", lambda t: read_survey(_frame(ing_cor=np.where(_FRAME.index == 1, np.nan, _FRAME["ing_cor"])),
                                             SPEC), InputError, ["ing_cor", "missing in 1 row", "missing_income"]),
    ("income-negative", lambda t: read_survey(_frame(ing_cor=np.where(_FRAME.index == 1, -5.0, _FRAME["ing_cor"])),
                                              SPEC), InputError, ["ing_cor", "negative in 1 row", "negative_income"]),
    ("remittances-above-income", lambda t: read_survey(_frame(remesas=_FRAME["ing_cor"] + 1.0), SPEC), InputError,
     ["larger than income", "remittances_exceed"]),
    ("bad-duplicates-policy", lambda t: read_survey(_FRAME, SPEC, duplicates="merge"), InputError,
     ["duplicates must be one of"]),
    ("bad-income-policy", lambda t: read_survey(_FRAME, SPEC, missing_income="drop"), InputError,
     ["missing_income must be one of"]),
    ("spec-unknown-key", lambda t: read_survey(_FRAME, {**SPEC, "wieght": "factor"}), InputError,
     ["unknown key", "wieght"]),
    ("spec-no-weight", lambda t: read_survey(_FRAME, {k: v for k, v in SPEC.items() if k != "weight"}), InputError,
     ["'weight' key"]),
    ("spec-column-absent", lambda t: read_survey(_FRAME, {**SPEC, "income": "ingcor"}), InputError,
     ["column(s) not found", "income='ingcor'"]),
    ("spec-not-toml", lambda t: read_survey(_FRAME, _write(t, "s.toml", b"weight = = 1")), SpecError,
     ["not valid TOML"]),
    # ---- survey construction
    ("size-fractional", lambda t: _small(cols={"size": [1, 2.5, 4, 3]}), InputError,
     ["not a whole number", "2.5", "fractional_size=True"]),
    ("size-zero", lambda t: _small(cols={"size": [1, 0, 4, 3]}), InputError, ["zero or negative", "h2"]),
    ("role-unknown", lambda t: _small(roles={"income": "inc", "remitances": "rem"}), InputError,
     ["unknown role", "did you mean 'remittances'"]),
    ("role-design-in-roles", lambda t: _small(roles={"psu": "id"}), InputError, ["design roles", "Survey(psu=...)"]),
    ("role-column-absent", lambda t: _small(roles={"income": "incc"}), InputError,
     ["'incc'", "not found", "did you mean 'inc'"]),
    ("numeric-role-text", lambda t: _small(cols={"rem": ["0", "x", "1", "2"]}), InputError,
     ["remittances (role)", "non-numeric", "'x'"]),
    ("unit-unknown", lambda t: _small(unit="family"), InputError, ["unit must be"]),
    # ---- income scalars and settings
    ("deflator-negative", lambda t: build_income(_small(), deflator=-1.05), InputError, ["deflator", "> 0"]),
    ("deflator-zero", lambda t: build_income(_small(), deflator=0), InputError, ["deflator", "> 0"]),
    ("deflator-nan", lambda t: build_income(_small(), deflator=float("nan")), InputError, ["deflator", "finite"]),
    ("deflator-inf", lambda t: build_income(_small(), deflator=float("inf")), InputError, ["deflator", "finite"]),
    ("deflator-column-zero", lambda t: build_income(_small(cols={"d": [1, 1, 0, 1]}), deflator="d"), InputError,
     ["deflator", "not positive", "h3"]),
    ("currency-zero", lambda t: build_income(_small(), currency_factor=0), InputError, ["currency_factor", "> 0"]),
    ("currency-negative", lambda t: build_income(_small(), currency_factor=-1), InputError,
     ["currency_factor", "> 0"]),
    ("theta-negative", lambda t: build_income(_small(), scale="sqrt", theta=-1), InputError,
     ["theta", "[0, 1]", "multiply income by household size"]),
    ("theta-above-one", lambda t: equivalence_scale(_small(), "sqrt", theta=1.5), InputError, ["theta", "[0, 1]"]),
    ("period-unknown", lambda t: build_income(_small(), period="week"), InputError, ["period must be one of"]),
    ("scale-unknown", lambda t: build_income(_small(), scale="oecd"), InputError, ["unknown equivalence scale"]),
    ("floor-unknown", lambda t: build_income(_small(), floor="clip"), InputError, ["floor must be one of"]),
    ("income-period-unknown", lambda t: build_income(_small(metadata=SurveyMetadata())), InputError,
     ["income period is unknown", "income_period="]),
    # ---- lookups
    ("y-with-before-build-income", lambda t: rp.fgt(_small(), "y_with", 100.0), InputError,
     ["y_with", "call build_income first"]),
    ("column-typo", lambda t: rp.mean(_small(), "incm"), InputError, ["'incm' not found", "did you mean 'inc'"]),
    ("by-typo", lambda t: rp.mean(_small(), "inc", by="idd"), InputError, ["'idd' not found", "did you mean 'id'"]),
    ("role-before-build-income", lambda t: _small().role("remit_pc"), InputError, ["call build_income first"]),
    # ---- registry
    ("format-unknown", lambda t: get_loader("engih"), InputError, ["unknown survey format", "did you mean 'enigh'"]),
    ("no-file-format-with-path", lambda t: load("synthetic", Path(t) / "x.csv"), InputError,
     ["takes no input file"]),
    ("file-format-without-path", lambda t: load("eusilc"), InputError, ["reads a file"]),
    ("table-duplicate-rows", lambda t: read_table_survey(_csv(t, pd.DataFrame({"w": [1.0, 1.0], "y": [2, 2]})),
                                                         weight="w", unit="person"), InputError,
     ["exact duplicate rows"]),
    ("lac-panel-which", lambda t: read_lac_panel("oecd"), InputError, ["which='oecd'"]),
]


def test_table_is_large_enough():
    assert len(CASES) >= 35 and len({c[0] for c in CASES}) == len(CASES)


@pytest.mark.parametrize("case, make, err, words", CASES, ids=[c[0] for c in CASES])
def test_bad_input(case, make, err, words, tmp_path):
    with pytest.raises(err) as exc:
        make(tmp_path)
    msg = str(exc.value)
    missing = [w for w in words if w not in msg]
    assert not missing, f"{case}: message lacks {missing}: {msg}"
    assert isinstance(exc.value, RemitpovError)


# ---------------------------------------------------------------------------- property test
FAULTS = ("none", "text", "nan", "duplicate", "negative_weight", "blank")
#: load-report kinds that announce a change of data (or of what the numbers mean)
ANNOUNCED = {"coerced", "missing", "dropped", "duplicates_kept", "negative_income"}


def _clean_p0(df, line):
    w, y = df["w"].to_numpy(float), df["y"].to_numpy(float)
    return float(np.sum(w * (y < line)) / np.sum(w))


@settings(max_examples=60, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(n=st.integers(4, 30), seed=st.integers(0, 2**31 - 1), fault=st.sampled_from(FAULTS),
       coerce=st.booleans(), missing=st.sampled_from(["error", "zero", "keep"]),
       dups=st.sampled_from(["error", "drop", "keep"]), via_file=st.booleans())
def test_faults_never_change_a_number_silently(n, seed, fault, coerce, missing, dups, via_file):
    rng = np.random.default_rng(seed)
    clean = pd.DataFrame({"id": [f"p{i}" for i in range(n)], "w": rng.uniform(0.5, 5.0, n).round(3),
                          "y": rng.uniform(0.0, 200.0, n).round(2)})
    line = 100.0
    truth = _clean_p0(clean, line)
    bad = clean.astype({"y": object, "w": object})
    k = int(rng.integers(0, n))
    if fault == "text":
        bad.loc[k, "y"] = "1,873.50"
    elif fault == "nan":
        bad.loc[k, "y"] = np.nan
    elif fault == "blank":
        bad.loc[k, "y"] = ""
    elif fault == "duplicate":
        bad = pd.concat([bad, bad.iloc[[k]]], ignore_index=True)
    elif fault == "negative_weight":
        bad.loc[k, "w"] = -float(clean.loc[k, "w"])
    spec = {"weight": "w", "unit": "person", "income": "y"}  # no ids: duplicates judged on whole rows
    with tempfile.TemporaryDirectory() as tmp:
        source = bad
        if via_file:
            source = Path(tmp) / "s.csv"
            bad.to_csv(source, index=False)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                s = read_survey(source, spec, coerce_text=coerce, missing_income=missing, duplicates=dups)
                est = rp.fgt(s, "y", line, alpha=0, level="person", na_rm=True).estimates[0]
            except RemitpovError:
                # refused with a remitpov error: fine -- except for clean data, which must load
                assert fault != "none" and not (fault == "duplicate" and dups != "error")
                return
    announced = {c.kind for c in s.report} & ANNOUNCED
    warned = [w for w in caught if issubclass(w.category, UserWarning)]
    if not (announced or warned):
        assert est == pytest.approx(truth, rel=1e-12, abs=1e-15), (fault, s.report)
    if fault == "none":
        assert est == pytest.approx(truth, rel=1e-12, abs=1e-15)
    if fault == "duplicate" and dups == "drop":  # the dropped copy restores the clean number exactly
        assert est == pytest.approx(truth, rel=1e-12, abs=1e-15) and "dropped" in announced


def test_lac_panel_verified_read(tmp_path):
    (tmp_path / "wdi_lac_1990_2021.csv").write_bytes(b"country,year,personal_rm\n")
    with pytest.raises(InputError, match=r"wdi_lac_1990_2021\.csv.*no data rows"):
        read_lac_panel("wdi", path=tmp_path)
    (tmp_path / "wdi_lac_1990_2021.csv").write_bytes(b"country,year,personal_rm\nMEX,2000,1.1\nMEX,2001")
    with pytest.raises(InputError, match="middle of a row"):
        read_lac_panel("wdi", path=tmp_path)


@pytest.mark.parametrize("name, data", [("cut.dbf", lambda: _dbf_cut(1500)), ("noise.dbf", lambda: b"\x01" * 40),
                                        ("empty.dbf", lambda: b"")])
def test_cli_describe_bad_file_is_one_line_exit_2(name, data, tmp_path, capsys):
    from remitpov.cli import main

    p = _write(tmp_path, name, data())
    assert main(["describe", str(p), "-f", "enigh"], plugins=False) == 2
    err = capsys.readouterr().err
    assert name in err and "Traceback" not in err and len(err.strip().splitlines()) == 1


@settings(max_examples=40, deadline=None)
@given(frac=st.floats(0.0, 1.0, exclude_max=True))
def test_dbf_cut_anywhere_is_refused(frac):
    b = _dbf()
    cut = int(frac * len(b))
    with tempfile.TemporaryDirectory() as tmp:
        with pytest.raises(InputError, match=r"c\.dbf"):
            read_table(_write(tmp, "c.dbf", b[:cut]))


@settings(max_examples=15, deadline=None)
@given(frac=st.floats(0.0, 1.0, exclude_max=True))
def test_csv_gz_cut_anywhere_is_refused(frac):
    if not EUSILC_GZ.exists():
        pytest.skip(f"shared data not found: {EUSILC_GZ}")
    g = EUSILC_GZ.read_bytes()
    with tempfile.TemporaryDirectory() as tmp:
        with pytest.raises(InputError, match=r"e\.csv\.gz"):
            read_table(_write(tmp, "e.csv.gz", g[: int(frac * len(g))]))
