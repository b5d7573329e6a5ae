"""Sphinx helpers for the remitpov documentation (local extension, not part of the package).

Three pieces, all offline and deterministic:

* ``.. exec-code::`` -- runs a Python block during the build (like ``jupyter-execute``) and
  shows the code followed by what it printed, the remitpov warnings it raised and the value
  of a final expression. All blocks of one page share a namespace, in order, like a
  notebook. An exception fails the build (the error names the page, the block's line and
  the traceback). Options:

  ``:figures: GLOB`` -- after running, include the image files matching GLOB (relative
  to the page's folder), one figure per file, captioned by the file name;
  ``:needs-shared:`` -- the block reads the real microdata in ``$REMITPOV_SHARED``
  (default ``../shared``); when that folder is absent the block is shown, not run, with a
  note -- except under ``CI=true``, where a missing folder fails the build, the project's
  rule that real-data checks never skip silently;
  ``:hide-code:`` -- show only the output.

  Matplotlib figures left open by a block are saved as PNG next to the page (in the
  ignored ``_generated`` folder) and included after the output.

* API list -- :func:`public_api` walks the installed package and returns every public name
  (``remitpov.__all__`` first, then each module's ``__all__`` or, without one, the
  functions and classes it defines); :func:`write_api_pages` writes the autosummary
  pages from it at ``config-inited`` (before Sphinx lists the sources and autosummary
  generates its stubs), so a new
  function appears in the reference without editing the docs.

* Internal link check -- at ``build-finished`` every ``href``/``src`` of every HTML page that
  points inside the site must name an existing file and, with ``#anchor``, an existing
  ``id``; each broken one is a warning, so ``-W`` fails the build.
"""
from __future__ import annotations

import ast
import logging as logging_std
import contextlib
import glob
import html.parser
import importlib
import inspect
import io
import os
import pkgutil
import traceback
import warnings
from pathlib import Path
from urllib.parse import unquote, urlsplit

from docutils import nodes
from docutils.parsers.rst import directives
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective
from sphinx.util.logging import WarningStreamHandler
from docutils.utils import get_source_line

logger = logging.getLogger(__name__)

GENERATED = "_generated"


# --------------------------------------------------------------------------- exec-code
def shared_folder() -> Path:
    """The real-data folder, as the package resolves it (``$REMITPOV_SHARED`` or ``../shared``)."""
    from remitpov.config import shared_dir
    return shared_dir()


def _ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def _run(code: str, namespace: dict, filename: str):
    """Execute ``code``; return (stdout text, repr of a final expression or None)."""
    tree = ast.parse(code, filename=filename)
    last = None
    if tree.body and isinstance(tree.body[-1], ast.Expr):
        last = ast.Expression(tree.body.pop().value)
    out = io.StringIO()
    with contextlib.redirect_stdout(out), warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        exec(compile(tree, filename, "exec"), namespace)  # noqa: S102 - the docs' own examples
        value = eval(compile(last, filename, "eval"), namespace) if last is not None else None
    # warnings the package emits are part of what the user sees: show them after the output
    shown = [f"{w.category.__name__}: {w.message}" for w in caught
             if str(getattr(w.category, "__module__", "")).startswith("remitpov")]
    text = out.getvalue() + "".join(line + "\n" for line in dict.fromkeys(shown))
    return text, (None if value is None else repr(value))


class ExecCode(SphinxDirective):
    """Run a Python block during the build and show code + output (see module docstring)."""

    has_content = True
    option_spec = {"figures": directives.unchanged, "needs-shared": directives.flag,
                   "hide-code": directives.flag}

    def run(self):
        code = "\n".join(self.content)
        docname = self.env.docname
        result: list[nodes.Node] = []
        if "hide-code" not in self.options:
            block = nodes.literal_block(code, code, language="python")
            result.append(block)
        if "needs-shared" in self.options and not shared_folder().is_dir():
            if _ci():
                raise self.error(f"the shared data folder {shared_folder()} is missing under CI=true "
                                 "(set REMITPOV_SHARED)")
            note = nodes.note()
            note += nodes.paragraph(text="Not run in this build: the shared data folder "
                                         f"({shared_folder()}) was not found. Set REMITPOV_SHARED.")
            return result + [note]

        store = self.env.temp_data.setdefault("exec_code_ns", {})
        namespace = store.setdefault(docname, {"__name__": f"docs_{docname.replace('/', '_')}"})
        srcdir = Path(self.env.srcdir)
        docdir = (srcdir / docname).parent
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        plt.close("all")
        cwd = os.getcwd()
        os.chdir(docdir)
        try:
            out, value = _run(code, namespace, f"<{docname}.rst:{self.lineno}>")
        except Exception:  # noqa: BLE001 - any failure of an example fails the build
            raise self.error(f"example in {docname} (line {self.lineno}) raised:\n{traceback.format_exc()}")
        finally:
            os.chdir(cwd)
        text = out + (value + "\n" if value is not None else "")
        if text.strip():
            outblock = nodes.literal_block(text.rstrip("\n"), text.rstrip("\n"), language="none")
            outblock["classes"].append("exec-output")
            result.append(outblock)
        images: list[Path] = []
        if plt.get_fignums():
            gen = docdir / GENERATED
            gen.mkdir(exist_ok=True)
            counter = self.env.temp_data.setdefault("exec_code_fig", {})
            for num in plt.get_fignums():
                k = counter[docname] = counter.get(docname, 0) + 1
                path = gen / f"{Path(docname).name}-{k}.png"
                plt.figure(num).savefig(path, dpi=90, bbox_inches="tight")
                images.append(path)
            plt.close("all")
        if "figures" in self.options:
            found = sorted(glob.glob(str(docdir / self.options["figures"])))
            if not found:
                raise self.error(f"no file matches :figures: {self.options['figures']} after the example ran")
            images += [Path(f) for f in found]
        for path in images:
            rel = "/" + path.relative_to(srcdir).as_posix()
            fig = nodes.figure()
            fig += nodes.image(uri=rel, alt=path.stem)
            fig += nodes.caption(text=f"{path.name} (generated during the build)")
            self.env.note_dependency(str(path))
            result.append(fig)
        return result


# --------------------------------------------------------------------------- API list
def _defined_public(module) -> list[str]:
    """A module's public names: its ``__all__``, else the functions/classes defined in it
    (or, for a package, in its private submodules)."""
    names = getattr(module, "__all__", None)
    if names is None:
        names = [n for n, o in vars(module).items()
                 if not n.startswith("_") and (inspect.isfunction(o) or inspect.isclass(o))
                 and _defined_in(o, module.__name__)]
    return [n for n in names if not n.startswith("_") and hasattr(module, n)]


def _defined_in(obj, modname: str) -> bool:
    """Defined in ``modname`` or in one of its private submodules (``pkg._base``)."""
    mod = getattr(obj, "__module__", None) or ""
    return mod == modname or (mod.startswith(modname + ".")
                              and mod[len(modname) + 1:].split(".")[0].startswith("_"))


def public_modules(package: str = "remitpov") -> list:
    """The package and its public (sub)modules (no ``_private`` component), sorted by name."""
    top = importlib.import_module(package)
    return [top] + [importlib.import_module(i.name)
                    for i in sorted(pkgutil.walk_packages(top.__path__, package + "."), key=lambda i: i.name)
                    if not any(p.startswith("_") for p in i.name.split(".")[1:])]


def canonical_module(obj, modules) -> str | None:
    """Where an object is documented: its defining module, or (defined in a private module,
    or data) the deepest public module that holds it, never the top-level package when a
    submodule holds it."""
    names = {m.__name__: m for m in modules}
    mod = getattr(obj, "__module__", None) if (inspect.isclass(obj) or inspect.isfunction(obj)) else None
    if mod in names:
        return mod
    holders = [m.__name__ for m in modules if any(v is obj for v in vars(m).values())]
    if mod:  # defined in a private module: its nearest public ancestor that exports it
        parts = mod.split(".")
        for k in range(len(parts) - 1, 0, -1):
            if ".".join(parts[:k]) in holders:
                return ".".join(parts[:k])
    holders.sort(key=lambda n: (n == modules[0].__name__, -n.count("."), n))
    return holders[0] if holders else None


def public_api(package: str = "remitpov") -> tuple[dict[str, list[str]], list[str]]:
    """``({module: [names documented there]}, [canonical full names of package.__all__])``.

    Every public object -- ``package.__all__`` and each public module's public names
    (``__all__``, else the functions/classes it defines) -- gets ONE page, at its
    canonical module (:func:`canonical_module`), under the name it has there.
    """
    modules = public_modules(package)
    top = modules[0]
    placed: dict[int, str] = {}  # id(obj) -> canonical full name
    pages: dict[str, list[str]] = {}

    def place(obj, name_here: str) -> str | None:
        if id(obj) in placed:
            return placed[id(obj)]
        mod = canonical_module(obj, modules)
        if mod is None:
            return None
        m = importlib.import_module(mod)
        local = name_here if getattr(m, name_here, None) is obj else next(
            n for n, v in vars(m).items() if v is obj and not n.startswith("_"))
        full = f"{mod}.{local}"
        if inspect.isclass(obj) or inspect.isfunction(obj):
            placed[id(obj)] = full
        pages.setdefault(mod, []).append(local)
        return full

    top_names = []
    for n in [n for n in top.__all__ if not n.startswith("_")]:
        full = place(getattr(top, n), n)
        top_names.append(full or f"{package}.{n}")
    for mod in modules[1:]:
        for n in _defined_public(mod):
            place(getattr(mod, n), n)
    ordered = {m.__name__: list(dict.fromkeys(pages[m.__name__])) for m in modules if m.__name__ in pages}
    return ordered, top_names


def _kind(obj) -> str:
    if inspect.isclass(obj):
        return "class"
    if callable(obj):
        return "function"
    return "data"


def _write(path: Path, text: str) -> None:
    if not path.exists() or path.read_text() != text:  # unchanged files keep incremental builds quick
        path.write_text(text)


def _summary(obj) -> str:
    """The first paragraph of an object's docstring, on one line (the table's description)."""
    doc = inspect.getdoc(obj) if (inspect.isclass(obj) or callable(obj) or inspect.ismodule(obj)) else None
    return " ".join((doc or "").split("\n\n")[0].split())


def _stub(modname: str, name: str, obj) -> str:
    directive = {"class": "autoclass", "function": "autofunction", "data": "autodata"}[_kind(obj)]
    lines = [f".. {directive}:: {name}"]
    if directive == "autoclass":
        lines += ["   :members:", "   :undoc-members:", "   :show-inheritance:"]
    if directive == "autodata":
        lines += ["   :no-value:"] if not isinstance(obj, (int, float, str, bool)) else []
    return "\n".join(lines) + "\n"


def _table(rows: list[tuple[str, str]]) -> list[str]:
    """A two-column list-table: (reference, description)."""
    out = [".. list-table::", "   :widths: 35 65", "   :class: api-summary", ""]
    for ref, desc in rows:
        out += [f"   * - {ref}", f"     - {desc}" if desc else "     -"]
    return out + [""]


def write_api_pages(app, config=None) -> None:
    """Write ``api/_generated/``: one page per public module (a table of its names with
    their summaries, then every object by autodoc), the top-level namespace table and the
    toctree included by ``api/index.rst``."""
    pages, top_names = public_api()
    gen = Path(app.srcdir) / "api" / GENERATED
    gen.mkdir(parents=True, exist_ok=True)
    wanted = set()
    # the top-level namespace: a table of links, grouped by the module that documents each name
    lines = [".. _api-toplevel:", "", "``import remitpov as rp``", "=" * 26, "",
             "Every name in ``remitpov.__all__``, grouped by the module where it is documented.", ""]
    groups: dict[str, list[str]] = {}
    for full in top_names:
        groups.setdefault(full.rsplit(".", 1)[0], []).append(full)
    for mod, fulls in groups.items():
        lines += [f".. currentmodule:: {mod}", "", f":ref:`{mod} <api-{mod}>`", ""]
        lines += _table([(f":py:obj:`rp.{f.rsplit('.', 1)[1]} <{f}>`", _summary(_import_path(f))) for f in fulls])
    texts = {"remitpov-toplevel": "\n".join(lines)}
    for mod in public_modules():
        modname = mod.__name__
        names = pages.get(modname, [])
        title = f"``{modname}``"
        lines = [f".. _api-{modname}:", "", title, "=" * len(title), "", f".. py:module:: {modname}", ""]
        doc = _summary(mod)
        if doc:
            lines += [doc, ""]
        if not names:
            lines += ["Everything this module exports is documented where it is defined; see the "
                      ":ref:`top-level namespace <api-toplevel>` and the other modules.", ""]
        stubs = []
        for kind, heading in (("class", "Classes"), ("function", "Functions"), ("data", "Constants")):
            group = [n for n in names if _kind(getattr(mod, n)) == kind]
            if group:
                lines += [heading, "-" * len(heading), ""]
                lines += _table([(f":py:obj:`~{modname}.{n}`", _summary(getattr(mod, n))) for n in group])
                stubs += group
        if stubs:  # every object documented on its module's page (one page per module)
            lines += ["Reference", "---------", ""]
            for n in stubs:
                lines += [_stub(modname, n, getattr(mod, n)), ""]
        texts[modname] = "\n".join(lines)
    for stem, text in texts.items():
        _write(gen / f"{stem}.rst", text)
        wanted.add(f"{stem}.rst")
    for old in gen.glob("*.rst"):  # a removed function's page goes too
        if old.name not in wanted:
            old.unlink()
    index = "\n".join([".. toctree::", "   :maxdepth: 1", "", f"   {GENERATED}/remitpov-toplevel"]
                      + [f"   {GENERATED}/{m.__name__}" for m in public_modules()]) + "\n"
    _write(gen / "toctree.rst.inc", index)


def resolve_alias(app, env, node, contnode):
    """Resolve a Python reference written as an alias of a documented object.

    Docstrings name objects by the path a reader imports them from (``remitpov.fgt``,
    ``remitpov.poverty.fgt``, ``Design.vcov``, ``read_table``). Each object is documented once,
    at its canonical module; this maps the written name to that page: by importing it
    (dotted paths) or, for a bare or class-relative name, by a unique match among the
    documented objects (searched from the current module outward).
    """
    if node.get("refdomain") != "py":
        return None
    target = node["reftarget"].lstrip("~.")
    domain = env.get_domain("py")
    objects = domain.objects
    candidates = []
    obj = _import_path(target) or _import_path(f"{node.get('py:module') or ''}.{target}")
    if obj is not None and (inspect.isclass(obj) or inspect.ismodule(obj) or callable(obj)):
        for full in objects:
            if _import_path(full) is obj:
                candidates = [full]
                break
    if not candidates and node.get("py:class"):
        full = f"{node.get('py:module')}.{node['py:class']}.{target}"
        if full in objects:
            candidates = [full]
    if not candidates:
        mod = node.get("py:module") or ""
        suffix = "." + target
        matches = [full for full in objects if full.endswith(suffix)]
        while mod and len(matches) > 1:  # prefer the current module's neighbourhood
            near = [m for m in matches if m.startswith(mod + ".")]
            if near:
                matches = near
                break
            mod = mod.rpartition(".")[0]
        if len(matches) == 1:
            candidates = matches
    if not candidates:
        # a real remitpov object that has no page of its own (a module constant, a private
        # helper, a name outside the public lists): shown as code, without a link. A name
        # that exists nowhere in the package still fails the build.
        if obj is not None or target.rsplit(".", 1)[-1] in _package_names():
            return contnode
        return None
    full = candidates[0]
    return domain.resolve_xref(env, node.get("refdoc", ""), app.builder, "obj", full, node, contnode)


_NAMES: set[str] = set()


def _package_names() -> set[str]:
    """Every attribute name of every remitpov module, private ones included (cached)."""
    if not _NAMES:
        top = importlib.import_module("remitpov")
        for info in pkgutil.walk_packages(top.__path__, "remitpov."):
            try:
                mod = importlib.import_module(info.name)
            except Exception:  # noqa: BLE001 - an optional dependency missing: skip that module
                continue
            _NAMES.update(vars(mod))
            _NAMES.update(n for o in vars(mod).values() if inspect.isclass(o) for n in vars(o))
        _NAMES.update(vars(top))
    return _NAMES


def _import_path(path: str):
    """The object at a dotted path (``pkg.mod.Class.attr``), or None."""
    if not path or not path.startswith("remitpov"):
        return None
    parts = path.split(".")
    for k in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:k]))
        except ImportError:
            continue
        try:
            for p in parts[k:]:
                obj = getattr(obj, p)
        except AttributeError:
            return None
        return obj
    return None


# --------------------------------------------------------------------------- link check
class _Links(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.ids: set[str] = set()
        self.links: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        for key in ("id", "name"):
            if a.get(key):
                self.ids.add(a[key])
        if tag in ("a", "link") and a.get("href"):
            self.links.append(a["href"])
        if tag in ("img", "script") and a.get("src"):
            self.links.append(a["src"])


def broken_internal_links(outdir) -> list[str]:
    """Every internal ``href``/``src`` in the HTML under ``outdir`` that points nowhere."""
    outdir = Path(outdir)
    parsed: dict[Path, _Links] = {}

    def parse(p: Path) -> _Links:
        if p not in parsed:
            h = _Links()
            h.feed(p.read_text(encoding="utf-8", errors="replace"))
            parsed[p] = h
        return parsed[p]

    bad = []
    for page in sorted(outdir.rglob("*.html")):
        if "_static" in page.relative_to(outdir).parts:
            continue
        for link in parse(page).links:
            u = urlsplit(link)
            if u.scheme or u.netloc or link.startswith(("mailto:", "javascript:", "data:")):
                continue
            target = page if not u.path else (page.parent / unquote(u.path)).resolve()
            if target.is_dir():
                target = target / "index.html"
            where = page.relative_to(outdir).as_posix()
            if not target.exists():
                bad.append(f"{where}: {link} (no such file)")
            elif u.fragment and target.suffix == ".html" and unquote(u.fragment) not in parse(target).ids:
                bad.append(f"{where}: {link} (no such anchor)")
    return bad


def check_links(app, exc) -> None:
    if exc is not None or app.builder.format != "html":
        return
    bad = broken_internal_links(app.outdir)
    for b in bad:
        logger.warning("broken internal link: %s", b, type="remitpov", subtype="links")
    logger.info("internal link check: %d broken", len(bad))


# --------------------------------------------------------------------------- docstring markup
class _DocstringMarkupFilter(logging_std.Filter):
    """reStructuredText errors INSIDE package docstrings do not fail the build: they are
    listed at the end ("docstring markup problems") for the docstring's owner to fix. The
    documentation's own pages stay strict, and so do cross references everywhere."""

    def __init__(self):
        super().__init__()
        self.problems: list[str] = []

    def filter(self, record) -> bool:
        if record.levelno < logging_std.WARNING or getattr(record, "type", "") != "docutils":
            return True
        loc = getattr(record, "location", None)
        if isinstance(loc, nodes.Node):
            loc = ":".join(str(x) for x in get_source_line(loc) if x is not None)
        where = f"{loc or ''} {record.getMessage()}"
        if "docstring of " in where:
            self.problems.append(f"{loc}: {record.getMessage()}")
            return False
        return True


_FILTER = _DocstringMarkupFilter()


def install_docstring_filter(app) -> None:
    for handler in logging_std.getLogger("sphinx").handlers:
        if isinstance(handler, WarningStreamHandler) and _FILTER not in handler.filters:
            handler.filters.insert(0, _FILTER)  # before the warning counter and -W


def drop_problematic(app, doctree, docname) -> None:
    """A docstring's markup error leaves a link to an unrendered message: keep its text only."""
    for node in list(doctree.findall(nodes.problematic)):
        text = nodes.inline(node.astext(), node.astext())
        text["ids"] = node["ids"]
        node.replace_self(text)


def report_docstring_problems(app, exc) -> None:
    for p in dict.fromkeys(_FILTER.problems):
        logger.info("docstring markup problem (not fatal; fix the docstring): %s", p)


def setup(app):
    app.add_directive("exec-code", ExecCode)
    # at config-inited: before Sphinx lists the source files and autosummary writes its stubs
    app.connect("config-inited", write_api_pages)
    app.connect("missing-reference", resolve_alias)
    app.connect("build-finished", check_links, priority=900)  # after assets are copied
    app.connect("builder-inited", install_docstring_filter)
    app.connect("doctree-resolved", drop_problematic)
    app.connect("build-finished", report_docstring_problems, priority=950)
    return {"version": "1", "parallel_read_safe": False, "parallel_write_safe": True}
