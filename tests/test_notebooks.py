"""The tutorial notebooks: committed with their outputs (inline plots), executed again here.

The notebooks' cells are narrative and results only; the checks of their numbers are
:data:`CHECKS` below, run in the executed notebook's own kernel (a cell appended to the
in-memory copy, never saved), so they test the very objects the tutorial shows. The ENIGH
and "reproduce" notebooks need the shared data folder and are skipped without it (an error
under CI=true, through the ``shared`` fixture). Regenerate the committed copies with
``python notebooks/make_notebooks.py``.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
    # the test extras install both: under CI a missing one is an error, never a silent skip
    import nbclient
    import nbformat
else:
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")

NB_DIR = Path(__file__).resolve().parents[1] / "notebooks"
NOTEBOOKS = {
    "01_quickstart_synthetic.ipynb": None,
    "02_enigh_walkthrough.ipynb": ("data", "enigh2010_rural", "Conc2010_rural.dbf"),
    "03_reproduce_published_figure.ipynb": ("data", "encovi2000_gt"),
}

#: the checks moved out of the tutorial cells, run after them in the same kernel
CHECKS = {
    "01_quickstart_synthetic.ipynb": """
import numpy as np
f = tab.to_frame().set_index(["measure", "concept", "area"])["estimate"]
for m in ("fgt0", "fgt1", "fgt2"):
    for a in ("rural", "urban"):
        d = f[(m, "with - without", a)]
        assert abs(d - (f[(m, "with", a)] - f[(m, "without", a)])) < 1e-12  # the difference row is the difference
        assert d < 0  # remittances reduce poverty in this synthetic survey
for concept in ("y_with", "y_without"):  # joint (compare_inequality) = separate estimates
    assert abs(gini(s, concept).estimates[0] - gtab.get(variable=concept).estimate) < 1e-12
fr = dec.to_frame()
total = fr.query("measure == 'gini' and source == 'total'")["estimate"].iloc[0]
assert abs(fr.query("measure == 'contribution'")["estimate"].sum() - total) < 1e-12  # exact decomposition
assert "lorenz_curves.png" in {p.name for p in res.figures}
""",
    "02_enigh_walkthrough.ipynb": """
import numpy as np
assert s.n == 6123  # the published figures of the file (issue #2)
assert abs(100 * share - 9.38) < 0.005
assert np.allclose(ident.gap, 0, atol=1e-12)  # static counterfactual identity
assert set(table.to_frame()["concept"]) >= {"observed", "static"}
""",
    "03_reproduce_published_figure.ipynb": """
for line, pub in published.items():  # INE's rounded figures: |diff| <= 0.05 is rounding
    assert abs(100 * tab.get(line=line, measure="fgt0").estimate - pub) <= 0.05
assert res.ok
""",
}


def _images(nb) -> int:
    return sum("image/png" in o.get("data", {}) for c in nb.cells if c.cell_type == "code" for o in c.outputs)


@pytest.mark.parametrize("name", sorted(NOTEBOOKS))
def test_notebooks_are_committed_with_outputs(name):
    """Every code cell ran (in order, no error), at least one inline plot, no assert in a cell."""
    assert sorted(p.name for p in NB_DIR.glob("*.ipynb")) == sorted(NOTEBOOKS)
    nb = nbformat.read(NB_DIR / name, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert [c.execution_count for c in code] == list(range(1, len(code) + 1)), f"{name}: not run top to bottom"
    assert not [o for c in code for o in c.outputs if o.output_type == "error"]
    assert sum(bool(c.outputs) for c in code) >= len(code) - 1, f"{name}: cells without output"
    assert _images(nb) >= 1, f"{name}: no inline plot"
    assert not [c for c in code if "assert " in c.source], f"{name}: checks belong in tests/test_notebooks.py"
    assert "MPLBACKEND" not in "".join(c.source for c in code)  # inline plotting stays on


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(NOTEBOOKS))
def test_notebook_runs_and_checks_pass(name, shared, monkeypatch):
    if NOTEBOOKS[name] is not None:
        shared(*NOTEBOOKS[name])
        shared("data")
    # the kernel is started as "python": make it this interpreter (the venv)
    monkeypatch.setenv("PATH", os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", ""))
    monkeypatch.setenv("REMITPOV_PROGRESS", "0")
    nb = nbformat.read(NB_DIR / name, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    nb.cells.append(nbformat.v4.new_code_cell(CHECKS[name]))
    client = nbclient.NotebookClient(nb, timeout=600, kernel_name="python3",
                                     resources={"metadata": {"path": str(NB_DIR)}})
    client.execute()  # raises CellExecutionError naming the cell on any failure (the checks included)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(c.execution_count is not None for c in code)
    assert not [o for c in code for o in c.outputs if o.output_type == "error"]
    assert _images(nb) >= 1, f"{name}: the plots did not render inline"
