"""``benchmarks/quiet_runs.sh``: the list of benchmark runs to repeat on a quiet machine (issue #17).

Its runs must exist, fit the 15-minute budget the coordinator gives them, and produce a Markdown
table that can be pasted into RESULTS.md (checked on the runs' ``--tiny`` sizes; nothing timed).
"""
from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "benchmarks" / "quiet_runs.sh"
pytestmark = pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")


def _runs():
    r = subprocess.run(["bash", str(SCRIPT), "--list"], capture_output=True, text=True, check=True)
    return [line.split("|", 2) for line in r.stdout.splitlines()]


def test_runs_exist_and_fit_fifteen_minutes():
    runs = _runs()
    assert [k for k, _, _ in runs] == [str(i) for i in range(1, len(runs) + 1)]
    assert sum(int(e) for _, e, _ in runs) <= 15 * 60
    for _, _, cmd in runs:
        assert (ROOT / shlex.split(cmd)[0]).is_file(), cmd
    named = " ".join(c for _, _, c in runs)
    for needed in ("bench_fgt.py --sizes 1e6", "--bootstrap 1000", "bench_engines.py --sizes 1e6 --no-cluster",
                   "--cluster-rows 1e7", "bench_domains.py", "10000"):
        assert needed in named


@pytest.mark.slow
def test_tiny_runs_print_a_markdown_table(tmp_path):
    env = dict(os.environ, QUIET_TINY="1", QUIET_ONLY="2 4", PYTHON=sys.executable)
    r = subprocess.run(["bash", str(SCRIPT), str(tmp_path)], capture_output=True, text=True, env=env, timeout=600)
    assert r.returncode == 0, r.stderr[-2000:]
    lines = r.stdout.splitlines()
    head = next(i for i, s in enumerate(lines) if s.startswith("| # | what |"))
    rows = [s for s in lines[head + 2:] if s.startswith("| ")]
    assert [s.split("|")[1].strip() for s in rows] == ["2", "4"]
    for s in rows:
        cells = [c.strip() for c in s.strip("|").split("|")]
        assert cells[-1] == "0"  # exit status
        float(cells[4]), float(cells[5]), float(cells[6])  # wall, CPU, RSS are numbers
    assert r.stdout.count("```text") == 2 and "engine" in r.stdout and "domains" in r.stdout
