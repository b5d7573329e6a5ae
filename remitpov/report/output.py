"""Atomic chapter output: write into a temporary folder, swap it into place when complete.

A chapter is never written into ``--out`` directly. :func:`staged_output` creates a
temporary folder next to it (``.<name>.remitpov-tmp-<pid>-<random>``), the chapter writes
every table, figure and finally ``manifest.json`` there, and only then is the folder moved
into place:

* ``--out`` does not exist, or is an empty folder: one ``rename`` (atomic);
* ``--out`` is a previous remitpov chapter output (it holds a remitpov ``manifest.json``):
  it is **replaced as a whole** -- the two folders are exchanged atomically
  (Linux ``renameat2(RENAME_EXCHANGE)``; elsewhere two renames in a row) and the old one is
  deleted -- so no stale file (an old ``tables/counterfactual.csv``) survives beside the
  new manifest;
* ``--out`` is any other non-empty folder, or a file: refused before anything is loaded
  (:class:`~remitpov.exceptions.SpecError`): remitpov deletes only folders it wrote.

A run that fails or is killed leaves the previous complete output untouched; the
temporary folder of a failed run is removed, that of a killed run (its process is gone) at
the next run into the same ``--out``. ``--out`` therefore holds either the previous complete
chapter or the new complete one, never a mixture (tested by killing ``remitpov chapter``).
"""
from __future__ import annotations

import contextlib
import ctypes
import json
import os
import shutil
import tempfile
from pathlib import Path

from ..exceptions import SpecError

_TMP = ".remitpov-tmp-"
_OLD = ".remitpov-old-"


def _fail(key: str, problem: str, fix: str) -> SpecError:
    return SpecError(f"{key}: {problem}. Fix: {fix}")


def is_chapter_output(path: Path) -> bool:
    """Whether ``path`` is a folder written by :func:`remitpov.report.chapter.run_chapter`."""
    m = Path(path) / "manifest.json"
    try:
        data = json.loads(m.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(data, dict) and "manifest_version" in data and \
        (data.get("package") or {}).get("name") == "remitpov"


def check_target(out, key: str = "--out") -> Path:
    """Validate the output folder before anything is computed; returns it as an absolute path.

    The parent folder is created if needed and must be writable; an existing ``out`` must be
    an empty folder or a previous chapter output (see the module docstring).
    """
    p = Path(out).expanduser().absolute()
    if p.exists() and not p.is_dir():
        raise _fail(key, f"{str(p)!r} is a file, not a folder", "give a folder for the chapter output")
    if p.is_dir() and any(p.iterdir()) and not is_chapter_output(p):
        raise _fail(key, f"the folder {str(p)!r} is not empty and is not a remitpov chapter output (no remitpov "
                    "manifest.json)", "choose a new or empty folder: remitpov replaces only its own output folders")
    try:
        p.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=p.parent, prefix=".remitpov-write-test-", delete=True):
            pass
    except OSError as e:
        raise _fail(key, f"the output folder {str(p)!r} is not writable ({e.strerror or e})",
                    "choose a folder you can write to (--out DIR)") from None
    return p


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # pragma: no cover - someone else's process
        return True
    return True


def remove_stale(target: Path) -> None:
    """Remove temporary folders of killed runs into ``target`` (their process is gone)."""
    for d in target.parent.glob(f".{target.name}{_TMP}*"):
        pid = d.name[len(f".{target.name}{_TMP}"):].split("-", 1)[0]
        if pid.isdigit() and int(pid) != os.getpid() and not _alive(int(pid)) and d.is_dir():
            shutil.rmtree(d, ignore_errors=True)
    for d in target.parent.glob(f".{target.name}{_OLD}*"):
        if target.is_dir() and d.is_dir():  # the swap completed: the old copy is garbage
            shutil.rmtree(d, ignore_errors=True)
        elif d.is_dir():  # killed between the two renames of the fallback swap: restore
            os.rename(d, target)


def _exchange(a: Path, b: Path) -> bool:
    """Atomically swap two paths (Linux ``renameat2(RENAME_EXCHANGE)``); False if unsupported."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        fn = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd, rename_exchange = -100, 2
    fn.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    rc = fn(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange)
    return rc == 0


def commit(tmp: Path, target: Path) -> None:
    """Move the complete folder ``tmp`` into place as ``target`` (see the module docstring)."""
    if not target.exists():
        os.rename(tmp, target)
        return
    if target.is_dir() and not any(target.iterdir()):
        os.rename(tmp, target)  # replaces an empty folder atomically
        return
    if _exchange(tmp, target):
        shutil.rmtree(tmp)  # now the old output
        return
    old = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}{_OLD}"))
    os.rmdir(old)
    os.rename(target, old)
    os.rename(tmp, target)
    shutil.rmtree(old)


@contextlib.contextmanager
def staged_output(target: Path):
    """Yield a temporary folder next to ``target``; on success move it into place, on error remove it."""
    target = Path(target)
    remove_stale(target)
    tmp = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}{_TMP}{os.getpid()}-"))
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o777 & ~umask)  # mkdtemp makes it private; the output folder gets the usual mode
    try:
        yield tmp
        commit(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
