"""Shared test configuration.

Real-data tests read ``$REMITPOV_SHARED`` (default ``../shared``). When the folder is
absent they are skipped with a reason -- except under CI (``CI=true``), where a missing
folder is an error so that real-data tests never skip silently.
"""
from __future__ import annotations

import json
import os

import pytest
from hypothesis import settings

from remitpov.config import shared_dir

# Property tests: random exploration locally; under CI a derandomised (fixed-seed) run so
# that main stays reproducibly green and a failure can be replayed exactly.
settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True)
settings.register_profile("dev", deadline=None)
settings.load_profile("ci" if os.environ.get("CI", "").lower() in ("1", "true", "yes") else "dev")


def _require(*parts):
    root = shared_dir()
    path = root.joinpath(*parts)
    if not path.exists():
        msg = (f"shared data not found: {path} (set REMITPOV_SHARED to the folder holding "
               "data/ and reference/)")
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail("CI=true but " + msg)
        pytest.skip(msg)
    return path


@pytest.fixture(scope="session")
def shared():
    """Function returning a path inside the shared folder, skipping (or failing in CI) if absent."""
    return _require


@pytest.fixture(scope="session")
def api_ref(shared):
    with open(shared("reference", "api_survey.json")) as fh:
        return json.load(fh)


@pytest.fixture(scope="session")
def eusilc_fgt_ref(shared):
    with open(shared("reference", "eusilc_fgt.json")) as fh:
        return json.load(fh)


@pytest.fixture(scope="session")
def eusilc_laeken_ref(shared):
    with open(shared("reference", "eusilc_laeken.json")) as fh:
        return json.load(fh)


# ----------------------------------------------------------------------------- shared runs
# Expensive outputs made once per session (once per worker under pytest-xdist) and shared by
# the test modules that only read them. A test that alters an output first copies the folder
# into its own tmp_path (shutil.copytree), so no test sees another's changes.
@pytest.fixture(scope="session")
def demo_chapter(tmp_path_factory):
    """``run_demo`` (English) into a session folder: the :class:`ChapterResult`. Read only."""
    from remitpov.report.chapter import run_demo

    return run_demo(tmp_path_factory.mktemp("demo"), progress=False)


@pytest.fixture(scope="session")
def lalonde(shared):
    """LaLonde's NSW/PSID sample (``data/econ/lalonde.csv.gz``), the data of the R MatchIt references
    of test_econometrics_matching and test_econometrics_treatment; read once. Read only."""
    import pandas as pd

    return pd.read_csv(shared("data", "econ", "lalonde.csv.gz"))


@pytest.fixture
def saved_figures(monkeypatch):
    """Figures the report saves during a test, by file stem (drawn first, then saved as usual)."""
    from remitpov.report import figures as F

    seen = {}
    real = F.save

    def save(fig, stem, formats=("png", "pdf")):
        seen[stem.name if hasattr(stem, "name") else str(stem)] = fig
        fig.canvas.draw()
        return real(fig, stem, formats)

    from remitpov.report import figures_curves

    for mod in (F, figures_curves):  # every module that draws and saves figures (figures_style defines save)
        monkeypatch.setattr(mod, "save", save)
    return seen


@pytest.fixture(scope="module")
def dask_synchronous():
    """Dask's synchronous scheduler for a module (every task in this process: the engines'
    equality tests need no cluster; ``test_distributed`` uses one). Use with
    ``pytestmark = pytest.mark.usefixtures("dask_synchronous")``."""
    dask = pytest.importorskip("dask")
    with dask.config.set(scheduler="synchronous"):
        yield
