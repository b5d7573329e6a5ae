"""Where remitpov finds the shared real-data folder (``REMITPOV_SHARED``)."""
from __future__ import annotations

import os
from pathlib import Path

#: Environment variable naming the folder that holds ``data/`` and ``reference/``.
SHARED_ENV = "REMITPOV_SHARED"


def shared_dir() -> Path:
    """The shared data folder: ``$REMITPOV_SHARED`` or ``../shared`` relative to the project root.

    The default is resolved against the repository root (the parent of the package
    folder), so it works whatever the current directory is.
    """
    env = os.environ.get(SHARED_ENV)
    if env:
        return Path(env).expanduser().resolve()
    root = Path(__file__).resolve().parent.parent
    return (root.parent / "shared").resolve()


def shared_path(*parts: str) -> Path:
    """Path to a file inside the shared folder (not checked for existence)."""
    return shared_dir().joinpath(*parts)
