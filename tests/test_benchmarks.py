"""Benchmarks must not rot: every script in ``benchmarks/`` runs end to end at a tiny size.

Each script takes ``--tiny`` (a few thousand rows, one repeat, no cluster; peers such as
R survey, svy or samplics only when installed) and must exit 0 -- its own assertions that
every tool agrees with remitpov included. Timings are printed, never asserted (no timed
tests: a loaded CI machine would make them flaky).
"""
from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPTS = sorted(p for p in (ROOT / "benchmarks").glob("*.py") if not p.name.startswith("_"))
#: scripts whose tiny run still takes more than ~5 s (R/peers start-up)
SLOW = {"bench_fgt.py", "bench_engines.py", "bench_engines_census.py", "profile_cluster.py"}
#: optional packages a script needs as a whole (skipped when absent)
NEEDS = {"dask_census.py": ("dask", "distributed", "pyarrow"), "bench_engines.py": ("dask", "distributed", "pyarrow"),
         "bench_engines_census.py": ("dask", "distributed", "pyarrow", "duckdb"),
         "profile_cluster.py": ("dask", "distributed", "pyarrow")}


def test_every_benchmark_is_covered():
    assert {p.name for p in SCRIPTS} >= {"bench_fgt.py", "dask_census.py", "bench_domains.py"}


@pytest.mark.parametrize("script", [pytest.param(p, id=p.name, marks=[pytest.mark.slow] if p.name in SLOW else [])
                                    for p in SCRIPTS])
def test_benchmark_runs_tiny(script, tmp_path):
    for mod in NEEDS.get(script.name, ()):
        if importlib.util.find_spec(mod) is None:
            pytest.skip(f"{script.name} needs {mod} (pip install -e '.[dask]')")
    env = dict(os.environ, PYTHONPATH=str(ROOT), MPLBACKEND="Agg")
    r = subprocess.run([sys.executable, str(script), "--tiny"], cwd=tmp_path, env=env, capture_output=True,
                       text=True, timeout=600)
    assert r.returncode == 0, f"{script.name} --tiny failed:\n{r.stdout[-3000:]}\n{r.stderr[-3000:]}"
    assert "Traceback" not in r.stderr
