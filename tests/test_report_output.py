"""Atomic chapter output (issue 9 items 4/5): a folder is the previous complete chapter or the
new complete one -- never a mixture, never partial, never with stale files."""
from __future__ import annotations

import hashlib
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from remitpov.exceptions import SpecError
from remitpov.report import chapter as chapter_mod
from remitpov.report.chapter import run_chapter
from remitpov.report.manifest import read_manifest, verify_manifest
from remitpov.report.output import commit, is_chapter_output

ROOT = Path(__file__).resolve().parent.parent


def _spec(measures=("poverty", "gini"), tables=("csv",), n=300):
    return {"chapter": {"measures": list(measures), "tables": list(tables), "figures": ["png"]},
            "survey": [{"id": "A", "format": "synthetic",
                        "options": {"country": "A", "n_households": n, "n_regions": 2},
                        "lines": {"poverty": "poverty_line", "indigence": "indigence_line"}}]}


def _files(d: Path) -> set[str]:
    return {str(p.relative_to(d)) for p in d.rglob("*") if p.is_file()}


def test_rerun_replaces_the_folder_as_a_whole(tmp_path):
    out = tmp_path / "out"
    run_chapter(_spec(("poverty", "gini", "fgt")), out, progress=False)
    assert (out / "tables" / "fgt.csv").exists()
    (out / "tables" / "counterfactual.csv").write_text("stale\n")  # an old table from another spec
    res = run_chapter(_spec(("poverty",)), out, progress=False)
    assert not (out / "tables" / "counterfactual.csv").exists() and not (out / "tables" / "fgt.csv").exists()
    assert verify_manifest(out / "manifest.json") == []
    assert set(read_manifest(out / "manifest.json")["outputs"]) == _files(out) - {"manifest.json"}  # every file
    assert res.out_dir == out.absolute() and all(p.exists() and out.absolute() in p.parents for p in res.files)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".out.remitpov")]  # no temporary left
    assert oct(out.stat().st_mode & 0o777) != oct(0o700)  # not mkdtemp's private mode


def test_failed_run_leaves_previous_output_untouched(tmp_path, monkeypatch):
    out = tmp_path / "out"
    run_chapter(_spec(), out, progress=False)
    before = {f: (out / f).read_bytes() for f in _files(out)}

    def boom(*a, **k):
        raise RuntimeError("killed while writing tables")
    monkeypatch.setattr(chapter_mod, "write_tables", boom)
    with pytest.raises(RuntimeError):
        run_chapter(_spec(("poverty",)), out, progress=False)
    assert {f: (out / f).read_bytes() for f in _files(out)} == before
    assert [p.name for p in tmp_path.iterdir()] == ["out"]


def test_foreign_folder_refused_before_loading(tmp_path, monkeypatch):
    (tmp_path / "notes.txt").write_text("mine")
    monkeypatch.setattr(chapter_mod, "load_survey", lambda *a, **k: pytest.fail("loaded before the check"))
    with pytest.raises(SpecError, match=r"--out: .*not empty and is not a remitpov chapter output.*Fix:"):
        run_chapter(_spec(), tmp_path, progress=False)
    assert (tmp_path / "notes.txt").read_text() == "mine"
    with pytest.raises(SpecError, match="is a file"):
        run_chapter(_spec(), tmp_path / "notes.txt", progress=False)


def test_fallback_swap_and_stale_temporaries(tmp_path, monkeypatch):
    """Without renameat2 the swap is two renames; a kill between them is repaired next run."""
    from remitpov.report import output

    out = tmp_path / "out"
    run_chapter(_spec(), out, progress=False)
    monkeypatch.setattr(output, "_exchange", lambda a, b: False)
    run_chapter(_spec(("poverty",)), out, progress=False)
    assert "tables/gini.csv" not in _files(out) and is_chapter_output(out)
    # simulate a kill between the two renames: the target is gone, the old copy remains
    old = tmp_path / ".out.remitpov-old-x"
    os.rename(out, old)
    dead = tmp_path / ".out.remitpov-tmp-999999999-abc"  # a temporary of a process that no longer exists
    dead.mkdir()
    output.remove_stale(out)
    assert is_chapter_output(out) and not old.exists() and not dead.exists()
    tmp = tmp_path / "new"
    tmp.mkdir()
    commit(tmp, tmp_path / "fresh")
    assert (tmp_path / "fresh").is_dir() and not tmp.exists()


FAULT_SPEC = """[chapter]
measures = {measures}
tables = ["csv", "md"]
figures = ["png"]
[[survey]]
id = "A"
format = "synthetic"
options = {{ country = "A", n_households = 600, n_regions = 3 }}
[survey.lines]
poverty = "poverty_line"
indigence = "indigence_line"
"""


def _snapshot(d: Path) -> dict[str, str]:
    """Hashes of every file except the manifest's run section (timings) and figures' bytes."""
    out = {}
    for f in sorted(_files(d)):
        if f.endswith((".csv", ".md")):
            out[f] = hashlib.sha256((d / f).read_bytes()).hexdigest()
        else:
            out[f] = "present"
    return out


@pytest.fixture(scope="module")
def fault_runs(tmp_path_factory):
    """The old and the new chapter of the fault-injection tests, each run once by the CLI in a
    subprocess (as the killed runs are): specs, environment, the two reference outputs, their
    snapshots and the new run's duration. Tests copy ``ref_old`` into their own folder."""
    d = tmp_path_factory.mktemp("fault")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "MPLBACKEND": "Agg", "REMITPOV_PROGRESS": "0"}
    old_spec, new_spec = d / "old.toml", d / "new.toml"
    old_spec.write_text(FAULT_SPEC.format(measures='["poverty", "gini", "fgt"]'))
    new_spec.write_text(FAULT_SPEC.format(measures='["poverty", "incidence"]'))
    cmd = [sys.executable, "-m", "remitpov.cli", "chapter"]
    ref_new, ref_old = d / "ref_new", d / "ref_old"
    t0 = time.monotonic()
    subprocess.run(cmd + [str(new_spec), "--out", str(ref_new), "-q"], env=env, check=True)
    duration = time.monotonic() - t0
    subprocess.run(cmd + [str(old_spec), "--out", str(ref_old), "-q"], env=env, check=True)
    return SimpleNamespace(env=env, cmd=cmd, old_spec=old_spec, new_spec=new_spec, ref_old=ref_old, duration=duration,
                           old=_snapshot(ref_old), new=_snapshot(ref_new))


def _old_chapter(fault_runs, out: Path) -> Path:
    """A copy of the old complete chapter at ``out`` (replacing what is there)."""
    if out.exists():
        shutil.rmtree(out)
    return shutil.copytree(fault_runs.ref_old, out)


@pytest.mark.slow
def test_fault_injection_sigkill(tmp_path, fault_runs):
    """Kill `remitpov chapter` with SIGKILL at seeded random moments: the folder is always either
    the previous complete chapter or the new complete one (issue 9)."""
    f = fault_runs
    cmd, env, new_spec, old, new = f.cmd, f.env, f.new_spec, f.old, f.new
    out = _old_chapter(f, tmp_path / "out")
    assert _snapshot(out) == old != new
    rng = np.random.default_rng(20261129)
    outcomes = []
    for delay in rng.uniform(0.4 * f.duration, 1.05 * f.duration, size=6):  # most kills land in estimation or writing
        proc = subprocess.Popen(cmd + [str(new_spec), "--out", str(out), "-q"], env=env)
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        got = _snapshot(out)
        assert got in (old, new), f"mixed or partial output after a kill at {delay:.2f}s"
        assert verify_manifest(out / "manifest.json") == []
        outcomes.append("new" if got == new else "old")
        if got == new:  # restore the previous chapter for the next kill (a copy of its complete output)
            _old_chapter(f, out)
    # the next complete run cleans the killed runs' temporaries
    subprocess.run(cmd + [str(new_spec), "--out", str(out), "-q"], env=env, check=True)
    assert _snapshot(out) == new
    assert not [p for p in tmp_path.iterdir() if ".remitpov-" in p.name], outcomes


KILL_DRIVER = r"""
import os, signal, sys
point, argv = sys.argv[1], sys.argv[2:]
import remitpov.report.tables as T
import remitpov.report.chapter as C
import remitpov.report.output as O

def die():
    os.kill(os.getpid(), signal.SIGKILL)

if point.startswith("csv"):  # killed after writing the k-th CSV table
    k, n, orig = int(point[3:]), [0], T.to_csv
    def to_csv(frame, path):
        out = orig(frame, path)
        n[0] += 1
        if n[0] == k:
            die()
        return out
    T.to_csv = to_csv
elif point == "manifest":  # killed right after the manifest was written, before the swap
    orig_m = C.write_manifest
    def write_manifest(m, path):
        orig_m(m, path)
        die()
    C.write_manifest = write_manifest
elif point == "after-exchange":  # the new folder is in place, the old one not yet deleted
    orig_x = O._exchange
    def exchange(a, b):
        ok = orig_x(a, b)
        die()
    O._exchange = exchange
elif point == "between-renames":  # fallback swap: old moved aside, new not yet in place
    import os as _os
    O._exchange = lambda a, b: False
    orig_r, n = _os.rename, [0]
    def rename(a, b):
        orig_r(a, b)
        n[0] += 1
        if ".remitpov-old-" in str(b):
            die()
    O.os.rename = rename
from remitpov.cli import main
sys.exit(main(argv))
"""


@pytest.mark.slow
@pytest.mark.parametrize("point,expect", [("csv1", "old"), ("manifest", "old"),
                                          ("after-exchange", "new"), ("between-renames", "old")])
def test_kill_at_each_write_step(tmp_path, fault_runs, point, expect):
    """SIGKILL at chosen steps of the write (not only at random times): after the next run's
    clean-up (or right away) the folder is the previous complete chapter or the new one."""
    out = _old_chapter(fault_runs, tmp_path / "out")
    old = _snapshot(out)
    assert old == fault_runs.old
    r = subprocess.run([sys.executable, "-c", KILL_DRIVER, point, "chapter", str(fault_runs.new_spec), "--out",
                        str(out), "-q"], env=fault_runs.env)
    assert r.returncode == -signal.SIGKILL
    if point == "between-renames":  # the only moment --out is missing: repaired by the next run's check
        assert not out.exists()
        from remitpov.report.output import remove_stale
        remove_stale(out)
    got = _snapshot(out)
    assert got == (old if expect == "old" else fault_runs.new)
    assert verify_manifest(out / "manifest.json") == []
