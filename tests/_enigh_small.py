"""Tiny ENIGH relational tables for tests: one urban (state 01) and one rural (state 02) dwelling,
one household each, and the given income items spread over the two households."""
from __future__ import annotations

import numpy as np
import pandas as pd


def small_enigh_tables(folder, clave, year=2022, amounts=None):
    """Write viviendas/hogares/ingresos_<year>.csv into ``folder``; items ``clave`` alternate
    between the two households; amounts 100, 101, ... unless given."""
    folder.mkdir()
    pd.DataFrame({"folioviv": ["0100000001", "0200000002"], "tot_resid": [2, 3], "tot_hog": [1, 1],
                  "ubica_geo": ["01001", "02004"], "tam_loc": ["1", "4"], "est_dis": ["001", "002"],
                  "upm": ["0000001", "0000002"], "factor": [100.0, 200.0]}).to_csv(folder / f"viviendas_{year}.csv",
                                                                                  index=False)
    pd.DataFrame({"folioviv": ["0100000001", "0200000002"], "foliohog": ["1", "1"]}).to_csv(
        folder / f"hogares_{year}.csv", index=False)
    n = len(clave)
    pd.DataFrame({"folioviv": np.resize(["0100000001", "0200000002"], n), "foliohog": ["1"] * n,
                  "numren": [f"{i:02d}" for i in range(n)], "clave": list(clave),
                  "ing_tri": 100.0 + np.arange(n) if amounts is None else amounts}).to_csv(
        folder / f"ingresos_{year}.csv", index=False)
    return folder
