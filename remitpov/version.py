"""The package version (installed metadata, or a placeholder in a bare source tree).

Its own module so that any part of the package (e.g. the report manifest) can read it
without importing the package's ``__init__`` (which would be an import circle)."""
from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version as _dist_version

try:
    __version__ = _dist_version("remitpov")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0+unknown"
