"""Survey loaders: ENIGH (Mexico), ENCOVI 2000 (Guatemala), EU-SILC (laeken), any file + spec,
and the Latin American remittances panels; :mod:`remitpov.io.registry` maps format names
to loaders for the chapter spec, ``reproduce`` and the CLI.

What the loaders refuse, and why
--------------------------------
A loader never returns a survey that silently differs from the file. Each of these is an
:class:`~remitpov.exceptions.InputError` naming the file (or column and rows), what was
expected and what was found:

* a file not read completely: a dBase file whose size disagrees with its header's record
  count (cut after some records, mid-record, in the header) or that is not dBase; a
  compressed CSV whose stream ends early; a CSV ending mid-row or with rows that have
  fewer fields than the header; an empty file; a header with no data rows -- a partial
  file gives wrong totals (an ENIGH file cut after 1,500 of 2,315 records moved poverty
  from 45.6 % to 67.9 %);
* text in numeric columns (``"1,873.50"``, ``"x"``): listed with its rows, unless
  ``coerce_text=True`` turns it into missing values with a ``coerced`` report entry;
* exact duplicate rows (they double a unit's weight), unless ``duplicates="drop"`` or
  ``"keep"`` (reported); ENIGH rows of one household are merged only when they sit in
  different deciles (INEGI's decile splits);
* missing or non-positive weights, missing design codes, household sizes that are not
  whole positive numbers (unless ``fractional_size``), unknown roles;
* missing or negative incomes and remittances above income, unless a policy
  (``missing_income``, ``negative_income``, ``remittances_exceed``) says what to do --
  the choice is written to the load report.
"""
from __future__ import annotations

from .encovi import read_encovi2000
from .enigh import read_enigh
from .eusilc import read_eusilc
from .generic import read_survey, read_table, read_table_survey
from .lac_panel import read_lac_panel
from .registry import LOADERS, Loader, LoaderInfo, get_loader, load, loader_names, register_loader

__all__ = ["read_enigh", "read_encovi2000", "read_eusilc", "read_survey", "read_table", "read_table_survey",
           "read_lac_panel", "LOADERS", "Loader", "LoaderInfo", "get_loader", "load", "loader_names",
           "register_loader"]
