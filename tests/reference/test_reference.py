"""Every R reference value of remitpov, in ONE spec (``cases.toml``) run by ONE parametrised test.

The spec (``tests/reference/cases.toml``, format in ``tests/reference/README.md``) names for
each case the data set and design, the estimator call, the reference file and the key of
the value in it, and the tolerance of each comparison, with its reason whenever it is
wider than 1e-10. The values come from the generators in ``tests/r/`` (listed in
``fixtures/README.md``) and from ``$REMITPOV_SHARED/reference/`` (R survey 4.1.1 and laeken
0.5.2). No test runs R.

This is the overview of the reference tests; the per-module tests (``tests/test_*.py``)
keep their own assertions (identities, warnings, bad input) next to the code they test.

A comparison pairs a path into the reference JSON with a path into the result::

    {ref = "*/se", out = "row[measure=*]/se", rtol = 1e-8, why = "..."}

``*`` in ``ref`` runs over the keys of the JSON object at that level (every key for which
the rest of the path exists); the same key is put in place of ``*`` in ``out`` (through
the case's ``names`` map). Result paths are read by :func:`resolve`.
"""
from __future__ import annotations

import importlib
import inspect
import json
import os
import re
import tomllib
import warnings
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import remitpov as rp
from remitpov.config import shared_dir

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
SPEC = tomllib.loads((HERE / "cases.toml").read_text())
#: a tolerance wider than this needs a written reason (``why``) next to it
TIGHT = 1e-10


# ----------------------------------------------------------------------------- the spec
def _fill(value, env: dict):
    """Put the ``for_each`` row's values in place of ``{name}`` (a whole-string ``"{z}"`` keeps z's type)."""
    if isinstance(value, str):
        m = re.fullmatch(r"\{(\w+)\}", value)
        if m and m.group(1) in env:
            return env[m.group(1)]
        return re.sub(r"\{(\w+)\}", lambda g: str(env[g.group(1)]) if g.group(1) in env else g.group(0), value)
    if isinstance(value, list):
        return [_fill(v, env) for v in value]
    if isinstance(value, dict):
        return {k: _fill(v, env) for k, v in value.items()}
    return value


def _rows(for_each: dict) -> list[dict]:
    """The cross product of a ``for_each`` table; a table in a list sets several names at once."""
    rows = [{}]
    for name, values in for_each.items():
        rows = [{**env, **(v if isinstance(v, dict) else {name: v})} for env in rows for v in values]
    return rows


def expand(spec: dict) -> list[dict]:
    """The cases of the spec, one per row of the cross product of its ``for_each`` lists
    (``check_more``, set per row, is appended to ``check``; ``slow = true`` in the case or
    in a row marks it ``pytest.mark.slow``)."""
    out = []
    for case in spec["case"]:
        for env in _rows(case.get("for_each", {})):
            c = _fill({k: v for k, v in case.items() if k != "for_each"}, env)
            c["check"] = c["check"] + c.pop("check_more", [])
            c["slow"] = bool(c.get("slow") or env.get("slow"))
            out.append(c)
    return out


CASES = expand(SPEC)


@lru_cache(maxsize=None)
def reference(source: str) -> dict:
    """The JSON of a case's ``source``."""
    if source.startswith("shared:"):
        return json.loads(_shared_file(source.removeprefix("shared:")).read_text())
    return json.loads((ROOT / source).read_text())


def walk(obj, path: str):
    for seg in filter(None, path.split("/")):
        obj = obj[int(seg)] if isinstance(obj, list) else obj[seg]
    return obj


def ref_pairs(ref_root, ref_path: str, out_path: str, names: dict, only=None):
    """``(ref path, out path, value)`` for every key matched by the ``*`` of ``ref_path``
    (the keys in ``only`` when given: each must then exist)."""
    if "*" not in ref_path:
        yield ref_path, out_path, walk(ref_root, ref_path)
        return
    head, _, tail = ref_path.partition("*")
    obj = walk(ref_root, head)
    for key in obj if only is None else only:
        try:
            val = walk(obj[key], tail)
        except (KeyError, TypeError, IndexError, ValueError):
            if only is not None:
                raise
            continue
        yield head + key + tail, out_path.replace("*", str(names.get(key, key))), val


# ----------------------------------------------------------------------------- data sets
def _shared_file(rel: str) -> Path:
    """A file of the shared folder; skip without it (fail under CI, as tests/conftest.py)."""
    path = shared_dir() / rel
    if not path.exists():
        msg = f"shared data not found: {path} (set REMITPOV_SHARED to the folder holding data/ and reference/)"
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail("CI=true but " + msg)
        pytest.skip(msg)
    return path


def _eval(expr: str, env: dict):
    """A spec expression: numpy, the data's columns and ``ref(source, path)`` only."""
    names = {"__builtins__": {}, "np": np, "str": str, "len": len, "ref": lambda s, p: walk(reference(s), p)}
    return eval(expr, names, env)


def dataset(name: str, design: dict | None = None):
    """The object a case's call receives as ``@data``: a Survey, or a DataFrame (``frame = true``,
    a fresh copy: models may not change another case's data).

    ``design``: the case's ``design`` table, merged over the data set's (e.g. another
    ``lonely_psu`` policy, or ``replicates = "jk1"``)."""
    obj = _dataset(name, json.dumps(design or {}, sort_keys=True))
    return obj.copy() if isinstance(obj, pd.DataFrame) else obj


@lru_cache(maxsize=None)
def _dataset(name: str, design_json: str):
    d = {**SPEC["data"][name]}
    over = json.loads(design_json)
    if "replicates" in over:
        d["replicates"] = over.pop("replicates")
    d["survey"] = {**d.get("survey", {}), **over}
    if "base" in d:  # the same frame as another data set, another design
        df = dataset_frame(d["base"])
    elif "loader" in d:
        fn = getattr(rp, d["loader"]) if hasattr(rp, d["loader"]) else _import(d["loader"])
        obj = fn(*[_arg(a, {}) for a in d.get("loader_args", [])],
                 **{k: _arg(v, {}) for k, v in d.get("loader_kwargs", {}).items()})
        df = obj.data if isinstance(obj, rp.Survey) else obj
    elif "fixture" in d:  # a data file committed in fixtures/ (e.g. plm's EmplUK)
        df = pd.read_csv(ROOT / d["fixture"])
    else:
        df = pd.read_csv(_shared_file(d["file"]))
    if "query" in d:
        df = df.query(d["query"]).reset_index(drop=True)
    if "dropna" in d:
        df = df.dropna(subset=d["dropna"]).reset_index(drop=True)
    if d.get("rename_dots"):
        df = df.rename(columns=lambda c: c.replace(".", "_"))
    df = df.copy()
    for col, expr in d.get("derive", {}).items():
        df[col] = _eval(expr, {c: df[c] for c in df.columns})
    rw = d.get("replicate_multipliers")
    kw = dict(d.get("survey", {}))
    if rw:  # R's drawn multipliers, scale and rscales, through the user-supplied replicate path
        r = walk(reference(rw["source"]), rw["at"])
        m = np.asarray(r["multipliers"], dtype=float)
        cols = [f"rw{i}" for i in range(m.shape[1])]
        df = pd.concat([df, pd.DataFrame(df[kw["weight"]].to_numpy()[:, None] * m, columns=cols)], axis=1)
        kw.update(replicate_weights=cols, replicate_scale=r["scale"], replicate_rscales=tuple(r["rscales"]))
    if d.get("frame"):
        return df
    s = rp.Survey(df, **kw)
    if "replicates" in d:
        s = s.with_replicates(d["replicates"])
    return s


def dataset_frame(name: str) -> pd.DataFrame:
    obj = dataset(name)
    return obj if isinstance(obj, pd.DataFrame) else obj.data


def _import(dotted: str):
    mod, _, attr = dotted.rpartition(".")
    try:
        return getattr(importlib.import_module(mod), attr)
    except ModuleNotFoundError:  # a class method: remitpov.econometrics.RobustOLS.from_formula
        return getattr(_import(mod), attr)


# ----------------------------------------------------------------------------- calls
def _arg(value, case):
    if isinstance(value, str) and value.startswith("@shared:"):
        return _shared_file(value.removeprefix("@shared:"))
    if isinstance(value, str) and value.startswith("@"):
        what, _, name = value[1:].partition(":")
        name = name or case["data"]
        design = case.get("design") if name == case.get("data") else None
        if what == "data":
            return dataset(name, design)
        if what == "design":
            return dataset(name, design).design()
        if what == "frame":
            return dataset_frame(name)
        raise ValueError(f"unknown reference {value!r}")
    if isinstance(value, dict) and "new" in value:  # {new = "RelativeLine", args = [0.6]}
        cls = getattr(rp, value["new"])
        return cls(*[_arg(v, case) for v in value.get("args", [])], **value.get("kwargs", {}))
    if isinstance(value, dict) and "expr" in value:
        return _eval(value["expr"], {})
    if isinstance(value, dict) and "ref" in value:
        return walk(reference(value.get("source", case["source"])), value["ref"])
    return value


def run(case):
    """Call the estimator of a case (and ``.fit`` on its result when the case says so).

    Cases with the same call share one result (results are immutable)."""
    # insertion order kept: {with, without} and {without, with} are different comparisons
    key = json.dumps({k: case.get(k) for k in ("data", "design", "call", "args", "kwargs", "fit", "source")})
    return _run(key)


def _deff_deprecated(fn) -> bool:
    """``fn`` has a ``deff=None`` default (design effects computed with a FutureWarning, #15)."""
    try:
        p = inspect.signature(fn).parameters.get("deff")
    except (TypeError, ValueError):
        return False
    return p is not None and p.default is None


@lru_cache(maxsize=64)
def _run(key: str):
    case = json.loads(key)
    call = case["call"]
    fn = getattr(rp, call) if "." not in call else _import(call)
    args = [_arg(a, case) for a in (case["args"] if case.get("args") is not None else ["@data"])]
    kwargs = {k: _arg(v, case) for k, v in (case.get("kwargs") or {}).items()}
    if "deff" not in kwargs and _deff_deprecated(fn):
        kwargs["deff"] = False  # the cases check estimates and SEs; design effects only where a case sets deff
    with warnings.catch_warnings():
        # WeakInstrumentWarning etc.: the per-module tests assert them; here only numbers count
        warnings.simplefilter("ignore", rp.RemitpovWarning)
        res = fn(*args, **kwargs)
        if case.get("fit"):
            fit = case["fit"]
            fkw = {**fit.get("kwargs", {}), **fit.get("kwargs_more", {})}
            res = getattr(res, fit.get("method", "fit"))(*[_arg(a, case) for a in fit.get("args", [])],
                                                         **{k: _arg(v, case) for k, v in fkw.items()})
    return res


_SEG = re.compile(r"^(?P<name>\w+)\[(?P<labels>[^\]]*)\]$")


def _mask(f: pd.DataFrame, labels: str) -> np.ndarray:
    mask = np.ones(len(f), dtype=bool)
    for kv in filter(None, labels.split(",")):
        k, _, v = kv.partition("=")
        mask &= f[k.strip()].astype(str).to_numpy() == v.strip()
    return mask


def _index(text: str):
    """``0:3,1`` -> ``(slice(0, 3), 1)``."""
    parts = []
    for p in text.split(","):
        if ":" in p:
            parts.append(slice(*[int(x) if x.strip() else None for x in p.split(":")]))
        else:
            parts.append(int(p))
    return tuple(parts)


_FRAMES: dict = {}


def _frame(obj) -> pd.DataFrame:
    """``to_frame()`` of a result, computed once per result object (the last one only)."""
    if isinstance(obj, pd.DataFrame):
        return obj
    if _FRAMES.get("obj") is not obj:
        _FRAMES.update(obj=obj, frame=obj.to_frame())
    return _FRAMES["frame"]


def resolve(obj, path: str):
    """Read a value from a result.

    Segments, separated by ``/``:

    * ``row[k=v,...]``: the one row of ``to_frame()`` with those labels (compared as text);
      ``row[]`` the only row. Then a column name.
    * ``col[k=v,...]``: those rows of ``to_frame()`` in table order; then a column name.
    * ``cov[k=v,...;k=v,...]``: the element of ``vcov`` between the two rows so labelled.
    * ``[0:3,0:3]``: numpy indexing.
    * ``name(json)``: call a method with the JSON list ``[json]`` as positional arguments.
    * otherwise an attribute, a column of a DataFrame, a row label of a DataFrame, a key of a
      mapping or Series, or an index of a sequence.
    """
    for seg in filter(None, path.split("/")):
        m = _SEG.match(seg)
        if seg.startswith("[") and seg.endswith("]"):
            obj = np.asarray(obj)[_index(seg[1:-1])]
            continue
        if m and m.group("name") == "cov":
            f = _frame(obj)
            ij = [np.flatnonzero(_mask(f, lab)) for lab in m.group("labels").split(";")]
            assert all(len(k) == 1 for k in ij), f"{seg!r} selects {[len(k) for k in ij]} rows of\n{f}"
            obj = np.asarray(obj.vcov)[ij[0][0], ij[1][0]]
            continue
        if m and m.group("name") in ("row", "col"):
            f = _frame(obj)
            sub = f[_mask(f, m.group("labels"))]
            if m.group("name") == "row":
                assert len(sub) == 1, f"{seg!r} selects {len(sub)} rows of\n{f}"
                obj = sub.iloc[0]
            else:
                assert len(sub) >= 1, f"{seg!r} selects no row of\n{f}"
                obj = sub
            continue
        call = re.fullmatch(r"(\w+)\((.*)\)", seg)
        if isinstance(obj, pd.DataFrame) and (seg in obj.columns or seg in obj.index):
            obj = obj[seg] if seg in obj.columns else obj.loc[seg]
        elif isinstance(obj, pd.Series | dict) and seg in (obj.index if isinstance(obj, pd.Series) else obj):
            obj = obj[seg]
        elif call:
            obj = getattr(obj, call.group(1))(*json.loads(f"[{call.group(2)}]"))
        elif isinstance(obj, pd.Series) and seg.isdigit():
            obj = obj.iloc[int(seg)]
        elif isinstance(obj, (list, tuple, np.ndarray)) and seg.lstrip("-").isdigit():
            obj = obj[int(seg)]
        else:
            obj = getattr(obj, seg)
    return obj


def _num(x):
    """JSON value to a float array; R's ``"NA"`` is NaN."""
    if isinstance(x, pd.Series | pd.Index):
        x = x.to_numpy()
    if isinstance(x, str):
        return np.array(np.nan if x == "NA" else float(x))
    a = np.asarray(x, dtype=object)
    return np.vectorize(lambda v: np.nan if v == "NA" or v is None else float(v), otypes=[float])(a)


def pairs_of(case, res) -> list[tuple]:
    """``(label, got, want, check)`` for every comparison of a case (results read once)."""
    ref_root = walk(reference(case["source"]), case.get("at", ""))
    names = case.get("names", {})
    out = []
    for chk in case["check"]:
        pairs = list(ref_pairs(ref_root, chk["ref"], chk["out"], names, chk.get("only")))
        assert pairs, f"{case['id']}: {chk['ref']!r} matches nothing in {case['source']}:{case.get('at', '')}"
        for rp_, op, want in pairs:
            got = resolve(res, op)
            if "text" in chk:  # labels / orders compared as text
                out.append((f"{rp_} -> {op}", [str(v) for v in np.atleast_1d(np.asarray(got, dtype=object))],
                            [str(v) for v in np.atleast_1d(want)], chk))
            else:
                out.append((f"{rp_} -> {op}", _num(got) * chk.get("scale", 1.0), _num(want), chk))
    return out


def _close(got, want, rtol, atol) -> bool:
    """``assert_allclose``'s rule (NaN equals NaN), without building a message."""
    if np.shape(got) != np.shape(want) and np.size(got) != np.size(want):
        return False
    nan = np.isnan(got) & np.isnan(want)
    ok = np.abs(got - want) <= atol + rtol * np.abs(want)
    return bool(np.all(ok | nan))


def compare(case, res, perturb: bool = False, pairs: list | None = None):
    """Every comparison of a case: ``(n compared, list of failure messages)``.

    ``perturb=True`` moves every reference value by ten times its tolerance: then every
    numeric comparison must fail (a check that cannot fail is a defect)."""
    n, bad = 0, []
    for label, got, want, chk in pairs_of(case, res) if pairs is None else pairs:
        if "text" in chk:
            if not perturb:
                n += 1
                if got != want:
                    bad.append(f"{label}: got {got}, reference {want}")
            continue
        rtol, atol = chk.get("rtol", TIGHT), chk.get("atol", 0.0)
        if perturb:
            if np.isnan(want).all():
                continue
            want = want + np.where(want < 0, -1.0, 1.0) * (10 * rtol * np.abs(want) + 10 * atol + 1e-300)
        n += 1
        if not _close(got, want, rtol, atol):
            try:
                np.testing.assert_allclose(got, want, rtol=rtol, atol=atol, equal_nan=True)
                bad.append(f"{label}: shapes {np.shape(got)} and {np.shape(want)}")
            except AssertionError as e:
                bad.append(f"{label}: {str(e).strip()}")
    return n, bad


# ----------------------------------------------------------------------------- the tests
@pytest.mark.parametrize("case", [pytest.param(c, id=c["id"], marks=[pytest.mark.slow] if c.get("slow") else [])
                                  for c in CASES])
def test_reference_case(case):
    pairs = pairs_of(case, run(case))
    n, bad = compare(case, None, pairs=pairs)
    assert n > 0, f"{case['id']} compares nothing"
    assert not bad, f"{case['id']}: {len(bad)} of {n} comparisons differ from {case['source']}:\n" + "\n".join(bad)
    n_moved, bad_moved = compare(case, None, perturb=True, pairs=pairs)
    assert len(bad_moved) == n_moved, f"{case['id']}: a comparison passes with the reference moved by 10x its tolerance"


def test_case_ids_are_unique():
    ids = [c["id"] for c in CASES]
    assert len(ids) == len(set(ids)), sorted({i for i in ids if ids.count(i) > 1})


def test_every_wide_tolerance_states_its_reason():
    for c in CASES:
        assert c.get("generator"), f"{c['id']}: no generator named"
        for chk in c["check"]:
            if "text" in chk:
                continue
            rtol, atol = chk.get("rtol", TIGHT), chk.get("atol", 0.0)
            if rtol > TIGHT or atol > 0:
                assert len(chk.get("why", "")) > 20, f"{c['id']}: tolerance rtol={rtol} atol={atol} without a reason"


def _r_fixtures() -> list[str]:
    """Fixture JSON files whose generator (fixtures/README.md) is an R script."""
    out = []
    for line in (ROOT / "fixtures" / "README.md").read_text().splitlines():
        m = re.match(r"\|\s*`([\w.]+\.json)`\s*\|\s*`(tests/r/[\w.]+)`", line)
        if m and m.group(2).endswith(".R"):
            out.append(m.group(1))
    return out


def test_every_r_fixture_is_used():
    """Each fixture holding R values is used by a case here or listed in ``[elsewhere]`` with
    the test that reads it (a test function that exists and names the file)."""
    used = {Path(c["source"]).name for c in CASES if not c["source"].startswith("shared:")}
    elsewhere = SPEC.get("elsewhere", {})
    r_fix = _r_fixtures()
    assert len(r_fix) >= 15, r_fix  # the README parse works
    for name in r_fix:
        if name in used:
            continue
        assert name in elsewhere, f"fixtures/{name} (R values) is used by no reference case and not listed in [elsewhere]"
        test = elsewhere[name]["test"]
        file, _, func = test.partition("::")
        text = (ROOT / file).read_text()
        assert f"def {func}(" in text and name in text, f"[elsewhere] {name}: {test} does not exist or read it"
    for name, e in elsewhere.items():
        assert (ROOT / "fixtures" / name).exists(), name
        assert e.get("why"), f"[elsewhere] {name}: say why it is not a case"
    fixtures_on_disk = {p.name for p in (ROOT / "fixtures").glob("*.json")}
    assert set(r_fix) | set(elsewhere) | used == fixtures_on_disk, "a fixture JSON is missing from fixtures/README.md"


def test_every_shared_reference_is_used():
    used = {c["source"] for c in CASES if c["source"].startswith("shared:")}
    assert used == {"shared:reference/api_survey.json", "shared:reference/eusilc_fgt.json",
                    "shared:reference/eusilc_laeken.json"}


def test_every_generator_exists():
    for c in CASES:
        for g in re.findall(r"tests/r/[\w.]+", c["generator"]):
            assert (ROOT / g).exists(), f"{c['id']}: generator {g} not found"


def test_the_runner_can_fail():
    """A wrong reference value is reported (the comparison is not vacuous)."""
    case = next(c for c in CASES if c["source"] == "fixtures/convey_eusilc.json")
    res = run(case)
    n, bad = compare(case, res)
    assert n > 0 and not bad
    wrong = dict(case, check=[dict(chk, scale=1 + 1e-9) for chk in case["check"]])
    n2, bad2 = compare(wrong, res)
    assert len(bad2) == n2 == n
    n3, bad3 = compare(case, res, perturb=True)
    assert len(bad3) == n3 == n


def test_resolve_and_wildcards():
    frame = pd.DataFrame({"measure": ["fgt0", "fgt1"], "sex": ["m", "m"], "estimate": [0.1, 0.2]})
    assert resolve(frame, "row[measure=fgt1,sex=m]/estimate") == 0.2
    assert list(resolve(frame, "col[sex=m]/estimate")) == [0.1, 0.2]
    with pytest.raises(AssertionError, match="selects 2 rows"):
        resolve(frame, "row[sex=m]/estimate")
    ref = {"fgt0": {"se": 1.0}, "fgt1": {"se": 2.0}, "z": 3}
    assert list(ref_pairs(ref, "*/se", "row[measure=*]/se", {})) == [
        ("fgt0/se", "row[measure=fgt0]/se", 1.0), ("fgt1/se", "row[measure=fgt1]/se", 2.0)]
    assert _rows({"a": [1, 2], "b": [{"x": 3, "y": 4}]}) == [{"a": 1, "x": 3, "y": 4}, {"a": 2, "x": 3, "y": 4}]
