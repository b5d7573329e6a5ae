"""The README's Python examples run as written (a README that drifts is a defect)."""
from __future__ import annotations

import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_python_blocks_run(capsys):
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)
    assert len(blocks) >= 2
    ns: dict = {}
    for code in blocks:  # later blocks reuse the names of earlier ones, as a reader would
        exec(compile(code, str(README), "exec"), ns)
    out = capsys.readouterr().out
    assert "with - without" in out and "selection" in out
