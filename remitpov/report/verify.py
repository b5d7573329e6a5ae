"""Recompute a chapter from its manifest and compare every output (``remitpov verify OUT_DIR``).

:func:`verify` reads ``OUT_DIR/manifest.json`` (written by
:func:`remitpov.report.chapter.run_chapter`) and, in order:

1. **inputs**: re-hashes every input file the manifest lists (``inputs.<survey>.files`` and
   the poverty-line tables ``inputs.<survey>.line_files``, and the ``[migration]`` inputs
   ``migration_inputs.<key>.files``);
   a missing or changed file is a difference named by its path, and the chapter is then
   not recomputed (it could not give the same numbers);
2. **outputs against the manifest**: every file in ``OUT_DIR`` is compared with the
   sha256 the manifest recorded -- a file altered after the run, a file the manifest lists
   that is gone (``missing``) and a file the manifest does not list (``extra``: stale or
   stray) are differences;
3. **recomputation** (skipped with ``inputs_only=True``): the chapter is run again from the
   manifest's spec (the TOML text, its relative paths resolved next to the original spec
   file as in the original run; a dict spec from ``spec.data``; ``remitpov demo`` from its
   language) into a temporary folder, and every output is compared byte by byte with
   ``OUT_DIR``. When the bytes differ the difference is described: the first differing
   line of a text table, the first differing cell of an XLSX workbook (if every cell is
   equal the XLSX is reported as ``bytes differ, cells equal``), the number of differing
   pixels of a PNG.

The result is a table of differences (file, problem, detail); it is empty when the output
is verified. Package, Python and library versions that differ from the manifest are
reported as notes: they may explain a difference but are not one themselves.

Only chapter outputs can be recomputed: a ``remitpov migration`` report (manifest
``kind = "migration"``) or a folder without a remitpov manifest is refused with
:class:`~remitpov.exceptions.SpecError` (exit code 2 on the command line).
"""
from __future__ import annotations

import tempfile
import tomllib
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import numpy as np
import pandas as pd

from ..exceptions import SpecError
from .manifest import environment, file_sha256, git_commit, input_files, package_version, read_manifest

MANIFEST = "manifest.json"
COLUMNS = ("file", "problem", "detail")


@dataclass(frozen=True)
class VerifyResult:
    """What :func:`verify` found.

    ``differences`` has one row per problem (columns ``file``, ``problem``, ``detail``);
    ``checked`` the output files compared; ``recomputed`` whether the chapter was rerun.
    """

    out_dir: Path
    differences: pd.DataFrame
    checked: int
    inputs: int
    recomputed: bool
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def ok(self) -> bool:
        return len(self.differences) == 0

    def summary(self) -> str:
        how = "recomputed from the manifest and compared" if self.recomputed else \
            "compared with the manifest's hashes (not recomputed: --inputs-only)"
        lines = [f"verify {self.out_dir}: {self.inputs} input files checked, {self.checked} output files {how}"]
        lines += [f"note: {n}" for n in self.notes]
        if self.ok:
            lines.append("verified: every output is identical")
        else:
            d = self.differences
            wf, wp = (max(len(c), int(d[c].str.len().max())) for c in ("file", "problem"))
            lines.append(f"{'file':<{wf}}  {'problem':<{wp}}  detail")
            lines += [f"{f:<{wf}}  {p:<{wp}}  {x}" for f, p, x in d[list(COLUMNS)].itertuples(index=False)]
            lines.append(f"verification failed: {len(self.differences)} difference(s)")
        return "\n".join(lines)


# --------------------------------------------------------------------------- manifest
def load_chapter_manifest(out_dir) -> tuple[Path, dict]:
    """``(folder, manifest)`` of a chapter output; :class:`SpecError` if it is not one."""
    d = Path(out_dir).expanduser().absolute()
    key = "OUT_DIR"
    if not d.is_dir():
        raise SpecError(f"{key}: {str(d)!r} is not a folder. Fix: give the folder a `remitpov chapter` or "
                        "`remitpov demo` run wrote (it holds manifest.json)")
    m = d / MANIFEST
    if not m.is_file():
        raise SpecError(f"{key}: no {MANIFEST} in {str(d)!r}, so this is not a remitpov output. Fix: give the "
                        "folder a `remitpov chapter` or `remitpov demo` run wrote")
    try:
        man = read_manifest(m)
    except ValueError as e:
        raise SpecError(f"{key}: {str(m)!r} is not valid JSON ({e}). Fix: restore the manifest written by the run"
                        ) from None
    if not isinstance(man, dict) or (man.get("package") or {}).get("name") != "remitpov":
        raise SpecError(f"{key}: {str(m)!r} is not a remitpov manifest. Fix: give a remitpov chapter output folder")
    if man.get("kind", "chapter") != "chapter":
        raise SpecError(f"{key}: {str(d)!r} holds a {man.get('kind')!r} report, not a chapter output; verify "
                        "recomputes chapters only. Fix: rerun its command (e.g. `remitpov migration SPEC --out DIR`) "
                        "and compare, or verify a `remitpov chapter` output")
    if not isinstance(man.get("outputs"), dict) or not isinstance(man.get("spec"), dict):
        raise SpecError(f"{key}: {str(m)!r} has no 'outputs' or 'spec' section, so this is not a chapter output. "
                        "Fix: give a folder written by `remitpov chapter` or `remitpov demo`")
    return d, man


def _row(file: str, problem: str, detail: str = "") -> dict:
    return {"file": file, "problem": problem, "detail": detail}


def check_inputs(manifest: Mapping[str, Any]) -> tuple[list[dict], int]:
    """Re-hash the input files of the manifest: (difference rows, number of files checked)."""
    rows, n = [], 0
    for what, f in input_files(manifest):  # surveys, their line tables, the [migration] inputs
        n += 1
        p = Path(f["path"])
        if not p.is_file():
            rows.append(_row(str(p), "input missing", f"{what}: the file the run read is gone"))
        elif file_sha256(p) != f["sha256"]:
            rows.append(_row(str(p), "input changed",
                             f"{what}: sha256 {file_sha256(p)[:12]} != manifest {f['sha256'][:12]}"))
    return rows, n


def output_files(folder: Path) -> dict[str, Path]:
    """Every file of an output folder except ``manifest.json``, by path relative to the folder."""
    folder = Path(folder)
    return {str(p.relative_to(folder)): p for p in sorted(folder.rglob("*"))
            if p.is_file() and p.relative_to(folder) != Path(MANIFEST)}


def hashes_every_output(manifest: Mapping[str, Any]) -> bool:
    """Whether the manifest lists every output file (remitpov after issue 11; its spec section
    has the ``data`` key). Older manifests hashed only the CSV/Markdown/LaTeX tables."""
    return "data" in (manifest.get("spec") or {})


def check_hashes(out_dir: Path, manifest: Mapping[str, Any]) -> list[dict]:
    """Files of ``out_dir`` against the manifest's sha256: altered, missing and extra files.

    With an older manifest (see :func:`hashes_every_output`) a file it does not list is not
    reported here: only the recomputation can tell whether the run wrote it.
    """
    listed = manifest.get("outputs") or {}
    present = output_files(out_dir)
    complete = hashes_every_output(manifest)
    rows = [_row(rel, "missing", "listed in the manifest, not in the folder") for rel in listed if rel not in present]
    for rel, p in present.items():
        if rel not in listed:
            if complete:
                rows.append(_row(rel, "extra", "in the folder, not written by the run (not in the manifest)"))
        elif file_sha256(p) != listed[rel]:
            rows.append(_row(rel, "altered", "sha256 differs from the manifest's (changed after the run)"))
    return rows


# --------------------------------------------------------------------------- recomputation
def manifest_spec(manifest: Mapping[str, Any]):
    """The :class:`~remitpov.report.spec.ChapterSpec` of the run that wrote ``manifest``.

    The TOML text is parsed with the original spec file's folder as base, so relative
    input paths resolve as in the original run; when that file is unchanged it is also
    the spec's ``source``.
    """
    from .spec import parse_spec

    sp = manifest.get("spec") or {}
    text, file = sp.get("toml"), sp.get("file")
    if text is not None:
        base = Path(file).parent if file else None
        same = bool(file) and Path(file).is_file() and file_sha256(file) == sp.get("sha256")
        return parse_spec(tomllib.loads(text), base, source=Path(file) if same else None,
                          source_sha256=sp.get("sha256"))
    if sp.get("data") is not None:
        return parse_spec(sp["data"])
    if manifest.get("command") == "remitpov demo":  # manifests written before spec.data existed
        from .chapter import DEMO_SPEC

        d = {k: (dict(v) if isinstance(v, dict) else list(v)) for k, v in DEMO_SPEC.items()}
        d["chapter"] = dict(DEMO_SPEC["chapter"], language=(manifest.get("settings") or {}).get("language", "en"))
        return parse_spec(d)
    raise SpecError("OUT_DIR: the manifest holds neither the spec's TOML text nor its data, so the chapter cannot "
                    "be recomputed. Fix: rerun `remitpov chapter SPEC --out DIR` with this remitpov, then verify")


def _first_line_difference(a: Path, b: Path) -> str:
    la = a.read_text(encoding="utf-8", errors="replace").splitlines()
    lb = b.read_text(encoding="utf-8", errors="replace").splitlines()
    for i, (x, y) in enumerate(zip(la, lb)):
        if x != y:
            return f"line {i + 1}: {x[:60]!r} vs recomputed {y[:60]!r}"
    return f"{len(la)} lines vs recomputed {len(lb)} lines"


def _column_letter(j: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(j + 1)


def xlsx_difference(a: Path, b: Path) -> str | None:
    """First differing cell of two workbooks (sheets, values); None when every cell is equal."""
    sa = pd.read_excel(a, sheet_name=None, header=None, engine="openpyxl")
    sb = pd.read_excel(b, sheet_name=None, header=None, engine="openpyxl")
    if list(sa) != list(sb):
        return f"sheets {list(sa)} vs recomputed {list(sb)}"
    for name in sa:
        x, y = sa[name], sb[name]
        if x.shape != y.shape:
            return f"sheet {name!r}: {x.shape[0]}x{x.shape[1]} cells vs recomputed {y.shape[0]}x{y.shape[1]}"
        vx, vy = x.to_numpy(dtype=object), y.to_numpy(dtype=object)
        both_na = pd.isna(x).to_numpy() & pd.isna(y).to_numpy()
        diff = (vx != vy) & ~both_na
        if diff.any():
            i, j = np.argwhere(diff)[0]
            return f"sheet {name!r} cell {_column_letter(int(j))}{int(i) + 1}: {vx[i, j]!r} vs recomputed {vy[i, j]!r}"
    return None


def _png_difference(a: Path, b: Path) -> str:
    from matplotlib.image import imread

    try:
        x, y = imread(a), imread(b)
    except (OSError, ValueError, SyntaxError) as e:
        return f"not a readable PNG ({e})"
    if x.shape != y.shape:
        return f"image {x.shape[1]}x{x.shape[0]} px vs recomputed {y.shape[1]}x{y.shape[0]} px"
    n = int(np.any(x != y, axis=-1).sum()) if x.ndim == 3 else int((x != y).sum())
    return f"{n} of {x.shape[0] * x.shape[1]} pixels differ"


def describe_difference(a: Path, b: Path) -> tuple[str, str] | None:
    """``(problem, detail)`` for two files whose bytes differ; None if they are equal."""
    if a.read_bytes() == b.read_bytes():
        return None
    suffix = a.suffix.lower()
    if suffix == ".xlsx":
        try:
            cell = xlsx_difference(a, b)
        except Exception as e:  # noqa: BLE001 - a corrupted workbook (BadZipFile, XML, KeyError...) is a difference
            return "differs", f"not a readable workbook ({type(e).__name__}: {e})"
        return ("differs", cell) if cell is not None else ("bytes differ", "every cell equal")
    if suffix in (".csv", ".md", ".tex", ".txt", ".html", ".svg"):
        return "differs", _first_line_difference(a, b)
    if suffix == ".png":
        return "differs", _png_difference(a, b)
    return "differs", f"{a.stat().st_size} bytes vs recomputed {b.stat().st_size} bytes"


def compare_outputs(out_dir: Path, fresh_dir: Path) -> tuple[list[dict], int]:
    """Every output of ``out_dir`` against the recomputed ``fresh_dir``: (difference rows, files compared)."""
    have, fresh = output_files(out_dir), output_files(fresh_dir)
    rows, n = [], 0
    for rel in sorted(set(have) | set(fresh)):
        if rel not in fresh:
            rows.append(_row(rel, "not recomputed", "in the folder, but the rerun does not write it"))
        elif rel not in have:
            rows.append(_row(rel, "missing", "the rerun writes it, the folder does not have it"))
        else:
            n += 1
            d = describe_difference(have[rel], fresh[rel])
            if d is not None:
                rows.append(_row(rel, *d))
    return rows, n


def _notes(manifest: Mapping[str, Any]) -> list[str]:
    notes = []
    pkg = manifest.get("package") or {}
    if pkg.get("version") != package_version():
        notes.append(f"written by remitpov {pkg.get('version')}, recomputed with {package_version()}")
    old, now = (pkg.get("git") or {}).get("commit"), git_commit().get("commit")
    if old and now and old != now:
        notes.append(f"written at git commit {old[:10]}, recomputed at {now[:10]}")
    env, cur = manifest.get("environment") or {}, environment()
    notes += [f"{k} {env[k]} in the manifest, {cur[k]} now" for k in sorted(env) if k in cur and env[k] != cur[k]]
    sp = manifest.get("spec") or {}
    f = sp.get("file")
    if f and sp.get("sha256") and (not Path(f).is_file() or file_sha256(f) != sp["sha256"]):
        notes.append(f"the spec file {f} is missing or changed since the run; the manifest's copy was used")
    return notes


def verify(out_dir, *, inputs_only: bool = False, progress: bool | None = False) -> VerifyResult:
    """Verify a chapter output folder (see the module docstring).

    Parameters
    ----------
    out_dir : path
        A folder written by ``remitpov chapter`` / ``remitpov demo`` (holds ``manifest.json``).
    inputs_only : bool
        Only re-hash the inputs and the outputs against the manifest; do not recompute.
    progress : bool or None
        Progress display of the recomputation (None: on a terminal; see
        :mod:`remitpov.report.progress`).

    Returns
    -------
    VerifyResult
        ``ok`` is True when nothing differs.

    Raises
    ------
    SpecError
        ``out_dir`` is not a chapter output (no remitpov manifest, or another kind of report).
    """
    out, man = load_chapter_manifest(out_dir)
    rows, n_inputs = check_inputs(man)
    rows += check_hashes(out, man)
    notes = _notes(man)
    if not hashes_every_output(man):
        notes.append("the manifest (an older remitpov) hashes only the text tables: other files are checked by "
                     "the recomputation only")
    checked, recomputed = len(output_files(out)), False
    if not inputs_only and not any(r["problem"].startswith("input") for r in rows):
        from ..exceptions import RemitpovWarning
        from .chapter import run_chapter

        spec = manifest_spec(man)
        with tempfile.TemporaryDirectory(prefix="remitpov-verify-") as tmp:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RemitpovWarning)  # the run's warnings are in both manifests
                res = run_chapter(spec, Path(tmp) / "fresh", progress=progress, command=man.get("command", "remitpov"))
            fresh_rows, checked = compare_outputs(out, res.out_dir)
            new_warn = read_manifest(res.out_dir / MANIFEST).get("warnings", [])
        recomputed = True
        known = {r["file"] for r in rows}  # a missing/extra file already named by the hash check: once
        rows += [r for r in fresh_rows if r["file"] not in known or r["problem"] not in ("missing", "not recomputed")]
        if new_warn != man.get("warnings", []):
            rows.append(_row(MANIFEST, "warnings differ", f"{len(man.get('warnings', []))} in the manifest, "
                                                          f"{len(new_warn)} in the rerun"))
    elif not inputs_only:
        notes.append("inputs differ: the chapter was not recomputed")
    return VerifyResult(out, pd.DataFrame(rows, columns=list(COLUMNS)), checked, n_inputs, recomputed, tuple(notes))
