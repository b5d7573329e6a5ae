"""The documentation site (docs/): it builds, its examples run, its links resolve, and the
API reference lists every public name.

The build is the README's command, ``sphinx-build -W --keep-going -b html docs OUT``:
warnings are errors, every ``exec-code`` example runs (a failing example fails the build)
and the internal link check runs at the end of the build (docs/_ext/remitpov_docs.py).
The build takes about a minute, so those tests are ``slow`` (CI runs them).

What the tests check independently of the docs' own code:

* the public names are enumerated here (``remitpov.__all__`` plus every public module's
  ``__all__`` or the functions/classes it defines), and each must be an object reached by
  some entry of the built site's ``objects.inv`` (imported back, compared by identity);
* the internal link checker flags a planted broken link and a planted missing anchor;
* every test that the methods page's validation table names exists in tests/.
"""
from __future__ import annotations

import importlib
import inspect
import os
import pkgutil
import re
import subprocess
import sys
import zlib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"

sphinx = pytest.importorskip("sphinx", reason="the docs extra is not installed: pip install -e '.[docs]'")


def _ext():
    sys.path.insert(0, str(DOCS / "_ext"))
    try:
        return importlib.import_module("remitpov_docs")
    finally:
        sys.path.remove(str(DOCS / "_ext"))


# ----------------------------------------------------------------------------- fast checks
def test_link_checker_flags_broken_links(tmp_path):
    (tmp_path / "a.html").write_text('<a href="b.html#here">ok</a> <a href="#top">self</a>'
                                     '<p id="top"></p><a href="https://example.org/x">external</a>')
    (tmp_path / "b.html").write_text('<h1 id="here">b</h1>')
    assert _ext().broken_internal_links(tmp_path) == []
    (tmp_path / "c.html").write_text('<a href="missing.html">x</a><a href="b.html#nowhere">y</a>'
                                     '<img src="_images/none.png">')
    bad = _ext().broken_internal_links(tmp_path)
    assert len(bad) == 3
    assert any("missing.html (no such file)" in b for b in bad)
    assert any("b.html#nowhere (no such anchor)" in b for b in bad)
    assert any("none.png (no such file)" in b for b in bad)


def test_validation_table_names_existing_tests():
    text = (DOCS / "methods" / "validation.rst").read_text()
    refs = re.findall(r"(test_\w+\.py)::\s*(test_\w+)", text)
    assert len(refs) >= 30, "the validation table should name the reference tests"
    for fname, test in refs:
        src = (ROOT / "tests" / fname).read_text()
        assert re.search(rf"^def {test}\(", src, re.M), f"{fname}::{test} named in docs/methods/validation.rst"
    for fname in set(re.findall(r"``(test_\w+\.py)``", text)):
        assert (ROOT / "tests" / fname).exists(), fname


def test_readme_names_the_docs_build_command():
    readme = (ROOT / "README.md").read_text()
    assert "sphinx-build -W --keep-going -b html docs docs/_build/html" in readme


# ----------------------------------------------------------------------------- the build
@pytest.fixture(scope="module")
def built(tmp_path_factory):
    out = tmp_path_factory.mktemp("docs") / "html"
    env = dict(os.environ, MPLBACKEND="Agg", PYTHONPATH=os.pathsep.join(
        [str(ROOT)] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]))
    env.pop("REMITPOV_DOCS_INTERSPHINX", None)  # the offline build
    proc = subprocess.run([sys.executable, "-m", "sphinx", "-W", "--keep-going", "-b", "html", "-q",
                           str(DOCS), str(out)], cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, f"docs build failed:\n{proc.stdout[-5000:]}\n{proc.stderr[-10000:]}"
    return out


def _inventory(path: Path) -> list[tuple[str, str]]:
    """(name, domain:role) of every entry of a Sphinx v2 ``objects.inv``."""
    raw = path.read_bytes()
    lines = raw.split(b"\n", 4)
    assert lines[0].startswith(b"# Sphinx inventory version 2")
    body = zlib.decompress(lines[4]).decode()
    out = []
    for line in body.splitlines():
        m = re.match(r"(.+?)\s+(\S+:\S+)\s+-?\d+\s+\S+\s+.*$", line)
        if m:
            out.append((m.group(1), m.group(2)))
    return out


def _resolve(name: str):
    parts = name.split(".")
    for k in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:k]))
        except ImportError:
            continue
        for p in parts[k:]:
            obj = getattr(obj, p, None)
            if obj is None:
                return None
        return obj
    return None


def _public_objects() -> dict[str, object]:
    """Every public name: ``remitpov.__all__`` and each public module's public names."""
    import remitpov

    names = {f"remitpov.{n}": getattr(remitpov, n) for n in remitpov.__all__ if n != "__version__"}
    for info in pkgutil.walk_packages(remitpov.__path__, "remitpov."):
        if any(p.startswith("_") for p in info.name.split(".")[1:]):
            continue
        mod = importlib.import_module(info.name)
        public = getattr(mod, "__all__", None)
        if public is None:
            public = [n for n, o in vars(mod).items()
                      if not n.startswith("_") and (inspect.isfunction(o) or inspect.isclass(o))
                      and (o.__module__ == mod.__name__ or o.__module__.startswith(mod.__name__ + "._"))]
        names.update({f"{mod.__name__}.{n}": getattr(mod, n) for n in public if not n.startswith("_")})
    return names


@pytest.mark.slow
def test_docs_build_and_internal_links(built):
    assert (built / "index.html").exists()
    for page in ("getting_started", "user_guide/index", "methods/poverty", "methods/validation", "gallery",
                 "contributing", "api/index"):
        assert (built / f"{page}.html").exists(), page
    assert _ext().broken_internal_links(built) == []
    # math is rendered by the bundled MathJax (offline), never a CDN
    poverty = (built / "methods" / "poverty.html").read_text()
    assert 'src="../_static/mathjax/tex-chtml.js' in poverty and "cdn" not in poverty.lower()
    assert (built / "_static" / "mathjax" / "tex-chtml.js").exists()


@pytest.mark.slow
def test_examples_ran_and_gallery_figures_were_generated(built):
    page = (built / "getting_started.html").read_text()
    assert "exec-output" in page and "with - without" in page  # the compare() example's printed table
    gallery = (built / "gallery.html").read_text()
    imgs = re.findall(r'<img[^>]+src="([^"]+\.png)"', gallery)
    stems = {Path(i).stem for i in imgs}
    for fig in ("paired_bars_poverty", "recipients_by_decile", "incidence_curves", "lorenz_curves"):
        assert any(s.startswith(fig) for s in stems), f"{fig} missing from the gallery"
    for i in imgs:
        assert (built / i).stat().st_size > 1000


@pytest.mark.slow
def test_every_public_name_is_in_the_api_reference(built):
    inv = _inventory(built / "objects.inv")
    documented = {}
    for name, role in inv:
        if role.startswith("py:"):
            documented.setdefault(name, role)
    ids = {id(o) for o in (_resolve(n) for n in documented) if o is not None}
    missing = []
    for name, obj in _public_objects().items():
        if inspect.isclass(obj) or inspect.isfunction(obj) or callable(obj):
            if id(obj) not in ids:
                missing.append(name)
        elif not any(d.endswith("." + name.rsplit(".", 1)[1]) for d in documented):  # module constants
            missing.append(name)
    assert not missing, f"public names not in the API reference: {missing}"
    # each object is documented on its module's page, with an anchor of its full name
    import remitpov
    assert 'id="remitpov.poverty.fgt"' in (built / "api" / "_generated" / "remitpov.poverty.html").read_text()
    assert len([n for n in remitpov.__all__ if n != "__version__"]) > 50
