"""remitpov: remittances, poverty and inequality from household-survey microdata."""
from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version as _version

from .design import Design, Replicates
from .estimation import mean, ratio, total
from .exceptions import (DataWarning, DesignError, EstimationError, InputError, RemitpovError,
                         RemitpovWarning, SpecError)
from .results import Estimate, EstimateTable
from .survey import LoadReport, SourceFile, Survey, SurveyMetadata

try:
    __version__ = _version("remitpov")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0+unknown"

__all__ = [
    "Design", "Replicates", "Survey", "SurveyMetadata", "LoadReport", "SourceFile",
    "Estimate", "EstimateTable", "mean", "total", "ratio",
    "RemitpovError", "InputError", "DesignError", "SpecError", "EstimationError",
    "RemitpovWarning", "DataWarning", "__version__",
]
