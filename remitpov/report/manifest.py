"""Provenance manifest of a chapter run (``manifest.json``).

The manifest has a deterministic part -- everything needed to rerun the chapter and get
identical numbers: the spec (file hash and parsed content), every input file's sha256,
loader and load report (the surveys' in ``inputs``; the UN DESA tables, groupings and census of a
``[migration]`` section in ``migration_inputs``), package version and git commit, Python/NumPy/pandas versions,
seeds and settings, and the sha256 of every output file (tables, XLSX, figures, models) -- and a separate ``"run"``
section with what legitimately changes between reruns (start time, timings, host).
:func:`deterministic_part` drops the ``"run"`` section; two runs with the same spec and
seed give equal deterministic parts (tested).
"""
from __future__ import annotations

import hashlib
import json
import platform
import subprocess
import sys
from pathlib import Path
from typing import Any, Mapping

MANIFEST_VERSION = 1
RUN_SECTION = "run"


def file_sha256(path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def package_version() -> str:
    from ..version import __version__

    return __version__


def git_commit(path=None) -> dict:
    """``{"commit": sha or None, "dirty": bool or None}`` of the repository holding the package."""
    root = Path(path) if path is not None else Path(__file__).resolve().parents[2]
    try:
        sha = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True,
                             timeout=10, check=True).stdout.strip()
        status = subprocess.run(["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no", "--",
                                 "remitpov"], capture_output=True, text=True, timeout=10, check=True).stdout
        return {"commit": sha or None, "dirty": bool(status.strip())}
    except (OSError, subprocess.SubprocessError):
        return {"commit": None, "dirty": None}


def environment() -> dict:
    import matplotlib
    import numpy
    import pandas
    import scipy

    return {"python": platform.python_version(), "numpy": numpy.__version__, "pandas": pandas.__version__,
            "scipy": scipy.__version__, "matplotlib": matplotlib.__version__}


def survey_inputs(survey) -> dict:
    """Provenance of one loaded Survey: loader, metadata, files with sha256, load report."""
    meta = survey.metadata.to_dict()
    return {
        "loader": meta.get("loader"),
        "metadata": meta,
        "files": meta.get("files", []),
        "rows": int(survey.n),
        "unit": survey.unit,
        "weight": survey.weight,
        "design": {"strata": survey.strata, "psu": survey.psu, "fpc": survey.fpc},
        "load_report": [str(c) for c in survey.report],
    }


def migration_inputs(spec: Mapping[str, Any]) -> dict:
    """Provenance of the ``[migration]`` inputs of a chapter spec (a dict, ``ChapterSpec.to_dict()``):
    every file with sha256 and size, its loader and the loader's report
    (:func:`remitpov.report.blocks.migration.manifest_inputs`); ``{}`` without the section."""
    if not spec.get("migration"):
        return {}
    from .blocks.migration import manifest_inputs

    return manifest_inputs(spec)


def input_files(manifest: Mapping[str, Any]):
    """Every input file a manifest lists, as ``(what, file)`` pairs: ``what`` names its owner
    ("survey 'A'", "survey 'A' lines", "[migration] stock") and ``file`` is the
    ``{"path", "sha256", "bytes"}`` record. ``remitpov verify`` re-hashes exactly these."""
    for sid, info in (manifest.get("inputs") or {}).items():
        for f in info.get("files") or []:
            yield f"survey {sid!r}", f
        for f in info.get("line_files") or []:
            yield f"survey {sid!r} lines", f
    for key, info in (manifest.get("migration_inputs") or {}).items():
        for f in info.get("files") or []:
            yield f"[migration] {key}", f


def build_manifest(*, spec: Mapping[str, Any], spec_file: str | None, spec_sha256: str | None,
                   spec_text: str | None, surveys: Mapping[str, Any], outputs: Mapping[str, str],
                   settings: Mapping[str, Any], seeds: Mapping[str, Any], command: str,
                   timings: Mapping[str, float], started: str | None = None,
                   warnings: list | None = None, spec_data: Mapping[str, Any] | None = None) -> dict:
    """Assemble the manifest dict (see module docstring); ``warnings`` are the run's remitpov
    warnings (``{"category", "message"}``: implausible rates, data changes, model diagnostics);
    ``spec_data`` is the spec as given (the TOML tables or the dict), so that ``remitpov verify``
    can rerun a chapter whose spec was a dict rather than a file. A spec with a ``[migration]``
    section adds ``migration_inputs`` (:func:`migration_inputs`)."""
    mig = migration_inputs(spec)
    return {
        "manifest_version": MANIFEST_VERSION,
        "command": command,
        "package": {"name": "remitpov", "version": package_version(), "git": git_commit()},
        "environment": environment(),
        "spec": {"file": spec_file, "sha256": spec_sha256, "toml": spec_text, "parsed": spec,
                 "data": None if spec_data is None else dict(spec_data)},
        "seeds": dict(seeds),
        "settings": dict(settings),
        "inputs": dict(surveys),
        **({"migration_inputs": mig} if mig else {}),
        "outputs": dict(sorted(outputs.items())),
        "warnings": list(warnings or []),
        RUN_SECTION: {"started": started, "timings_seconds": {k: round(float(v), 3) for k, v in timings.items()},
                      "host": platform.node(), "argv": list(sys.argv)},
    }


def _default(o):
    import numpy as np

    if isinstance(o, (np.integer,)):
        return int(o)
    if isinstance(o, (np.floating,)):
        return float(o)
    if isinstance(o, (np.ndarray,)):
        return o.tolist()
    if isinstance(o, Path):
        return str(o)
    return str(o)


def dumps(manifest: Mapping[str, Any]) -> str:
    return json.dumps(manifest, indent=2, sort_keys=True, ensure_ascii=False, default=_default) + "\n"


def write_manifest(manifest: Mapping[str, Any], path) -> Path:
    p = Path(path)
    p.write_text(dumps(manifest), encoding="utf-8")
    return p


def read_manifest(path) -> dict:
    return json.loads(Path(path).read_text(encoding="utf-8"))


def deterministic_part(manifest: Mapping[str, Any]) -> dict:
    """The manifest without the ``"run"`` section (timings, timestamps, host)."""
    return {k: v for k, v in manifest.items() if k != RUN_SECTION}


def verify_manifest(path) -> list[str]:
    """Re-hash every input and output listed in a manifest; returns the problems (empty = all match)."""
    p = Path(path)
    m = read_manifest(p)
    problems = []
    for what, f in input_files(m):
        fp = Path(f["path"])
        if not fp.exists():
            problems.append(f"input {what}: {fp} missing")
        elif file_sha256(fp) != f["sha256"]:
            problems.append(f"input {what}: {fp} sha256 differs")
    spec = m.get("spec", {})
    if spec.get("file") and spec.get("sha256"):
        sp = Path(spec["file"])
        if not sp.exists() or file_sha256(sp) != spec["sha256"]:
            problems.append(f"spec {sp}: missing or changed")
    for rel, sha in m.get("outputs", {}).items():
        op = p.parent / rel
        if not op.exists():
            problems.append(f"output {rel} missing")
        elif file_sha256(op) != sha:
            problems.append(f"output {rel} sha256 differs")
    return problems
