"""Survey loaders: ENIGH (Mexico), ENCOVI 2000 (Guatemala), EU-SILC (laeken), any file + spec."""
from __future__ import annotations

from .encovi import read_encovi2000
from .eusilc import read_eusilc
from .generic import read_survey, read_table

try:  # read_enigh lands separately
    from .enigh import read_enigh
except ImportError:  # pragma: no cover
    pass

__all__ = ["read_enigh", "read_encovi2000", "read_eusilc", "read_survey", "read_table"]
