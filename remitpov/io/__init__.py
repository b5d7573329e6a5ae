"""Survey loaders: ENIGH (Mexico), ENCOVI 2000 (Guatemala), EU-SILC (laeken), any file + spec,
and the Latin American remittances panels; :mod:`remitpov.io.registry` maps format names
to loaders for the chapter spec, ``reproduce`` and the CLI."""
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
