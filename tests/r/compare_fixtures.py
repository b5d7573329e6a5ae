"""Compare regenerated fixtures (``tests/r/make_all.sh SHARED OUT``) with the committed ones.

    python tests/r/compare_fixtures.py OUT/fixtures [--rtol 1e-12]

Every number of every JSON in OUT/fixtures must equal the committed fixtures/<name> to
``rtol`` (default 1e-12: the generators are deterministic -- seeded bootstrap draws -- and
jsonlite writes 15 significant digits); text must be identical except the R version line.
Exit 1 naming each difference.
"""
from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def diffs(a, b, path, rtol):
    if isinstance(a, dict) and isinstance(b, dict):
        if set(a) != set(b):
            yield f"{path}: keys differ: {sorted(set(a) ^ set(b))}"
        for k in set(a) & set(b):
            yield from diffs(a[k], b[k], f"{path}/{k}", rtol)
    elif isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            yield f"{path}: length {len(a)} != {len(b)}"
        for i, (x, y) in enumerate(zip(a, b)):
            yield from diffs(x, y, f"{path}/{i}", rtol)
    elif isinstance(a, (int, float)) and isinstance(b, (int, float)) and not isinstance(a, bool):
        if not (math.isclose(a, b, rel_tol=rtol, abs_tol=0) or (math.isnan(a) and math.isnan(b))):
            yield f"{path}: {a!r} != {b!r}"
    elif a != b and not path.endswith(("r_version", "/R")):
        yield f"{path}: {a!r} != {b!r}"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("regenerated", type=Path)
    ap.add_argument("--rtol", type=float, default=1e-12)
    a = ap.parse_args(argv)
    bad = 0
    for new in sorted(a.regenerated.glob("*.json")):
        old = ROOT / "fixtures" / new.name
        d = list(diffs(json.loads(new.read_text()), json.loads(old.read_text()), new.name, a.rtol))
        print(f"{new.name}: {'identical' if not d else f'{len(d)} differences'}")
        for line in d[:20]:
            print("   ", line)
        bad += bool(d)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
