"""Sphinx configuration for the remitpov documentation.

Build (from the project root; warnings are errors, examples run, internal links checked)::

    sphinx-build -W --keep-going -b html docs docs/_build/html

The build is offline and deterministic:

* math is rendered by MathJax 3 bundled in the ``sphinx-mathjax-offline`` package (copied
  into ``_static/mathjax``; no CDN);
* intersphinx links to numpy / pandas / statsmodels / linearmodels are OFF unless
  ``REMITPOV_DOCS_INTERSPHINX=1`` is set (they need the projects' ``objects.inv`` files,
  fetched from the web, or read from ``docs/_inventories/<name>.inv`` when present);
* every ``exec-code`` example runs against the package in this tree, with fixed seeds.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE / "_ext"))
sys.path.insert(0, str(ROOT))  # document the package in this tree, not another installed copy
os.environ.setdefault("MPLBACKEND", "Agg")

import remitpov  # noqa: E402

project = "remitpov"
author = "remitpov developers"
copyright = "remitpov developers (MIT licence)"
release = remitpov.__version__
version = ".".join(release.split(".")[:2])

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.mathjax",
    "sphinx-mathjax-offline",  # sets mathjax_path to the bundled copy; no network
    "numpydoc",
    "remitpov_docs",  # exec-code directive, generated API pages, internal link check
]

exclude_patterns = ["_build", "_inventories", "**/_generated/*.rst.inc"]
root_doc = "index"
language = "en"
today_fmt = "%Y"  # no build date in the pages: rebuilds are byte-identical

# --- HTML --------------------------------------------------------------------------------
html_theme = "furo"
html_title = f"remitpov {release}"
html_static_path = ["_static"]
html_css_files = ["remitpov.css"]
html_last_updated_fmt = None
html_show_sourcelink = False
html_copy_source = False

# --- API reference -----------------------------------------------------------------------
autodoc_default_options = {"members": True, "inherited-members": False, "show-inheritance": True}
autodoc_typehints = "none"  # types are in the numpydoc "Parameters" sections
autodoc_member_order = "bysource"

# numpydoc: parameter types stay plain text (no cross-references to resolve, so the build
# does not depend on other projects' inventories); class members are listed by autodoc.
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False
numpydoc_validation_checks: set[str] = set()

# --- cross references --------------------------------------------------------------------
# Every reference written in these pages must resolve ("nitpicky"). Targets outside this
# project resolve only when intersphinx is on, so without it they are ignored by name,
# each with its reason below.
nitpicky = True
# (References to remitpov objects that exist but have no page -- module constants, private
# helpers -- are shown as unlinked code by docs/_ext/remitpov_docs.py; a name that exists
# nowhere in the package still fails the build.)
nitpick_ignore_regex = [
    # other projects' objects (numpy, pandas, scipy, statsmodels, linearmodels, dask, the
    # standard library, ...): dotted names outside remitpov resolve only through
    # intersphinx, which is off by default (offline build)
    (r"py:.*", r"(?!remitpov\.)[A-Za-z_]\w*\..*"),
]

intersphinx_mapping: dict = {}
if os.environ.get("REMITPOV_DOCS_INTERSPHINX") == "1":
    extensions.append("sphinx.ext.intersphinx")
    inv = HERE / "_inventories"
    for name, url in {"python": "https://docs.python.org/3/",
                      "numpy": "https://numpy.org/doc/stable/",
                      "pandas": "https://pandas.pydata.org/docs/",
                      "statsmodels": "https://www.statsmodels.org/stable/",
                      "linearmodels": "https://bashtage.github.io/linearmodels/"}.items():
        local = inv / f"{name}.inv"
        intersphinx_mapping[name] = (url, str(local) if local.exists() else None)

