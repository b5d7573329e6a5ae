"""remitpov: remittances, poverty and inequality from household-survey microdata."""
from __future__ import annotations

from .design import Design, Replicates
from .estimation import mean, ratio, total
from .exceptions import (DataWarning, DesignError, EstimationError, InputError, RemitpovError,
                         RemitpovWarning, SpecError)
from .results import Estimate, EstimateTable
from .survey import LoadReport, SourceFile, Survey, SurveyMetadata
from .exceptions import OverlapWarning, WeakInstrumentWarning
from .io import read_encovi2000, read_enigh, read_eusilc, read_lac_panel, read_survey
from .income import build_income, equivalence_scale, income_without
from .lines import PovertyLines, default_lines
from .synthetic import synthetic_countries, synthetic_lines, synthetic_survey
from .poverty import (EmptyDomainWarning, RelativeLine, SinglePSUDomainWarning, StaticIdentity, compare,
                      decompose, fgt, poverty_curve, sen, sst, static_identity, watts)
from .inequality import (INEQUALITY_MEASURES, GiniDecomposition, compare_inequality, atkinson, concentration_curve, generalized_entropy, gini,
                         gini_decomposition, income_shares, lorenz, mld, palma, quantile, quantile_share_ratio,
                         theil)
from .econometrics import (AugmentedIPW, CounterfactualWarning, Heckman, SelectionWarning, InverseProbabilityWeighting, PropensityScoreMatching,
                           RemittanceIV, RemittancePanel, counterfactual_fgt, counterfactual_gini,
                           counterfactual_income, remittance_counterfactual_table, rubin)
from .econometrics import compare as compare_models
from .econometrics import MultinomialSelection, multinomial_counterfactual_income
from .econometrics.multinomial import multinomial_counterfactual_table
from .report import run_chapter, run_demo
from .report.reproduce import reproduce

from . import measures
from .measures import Measure
from .version import __version__

__all__ = [
    "Design", "Replicates", "Survey", "SurveyMetadata", "LoadReport", "SourceFile",
    "Estimate", "EstimateTable", "mean", "total", "ratio", "measures", "Measure",
    "RemitpovError", "InputError", "DesignError", "SpecError", "EstimationError",
    "RemitpovWarning", "DataWarning", "OverlapWarning", "WeakInstrumentWarning", "CounterfactualWarning",
    "SelectionWarning", "__version__",
    # loaders and income concepts
    "read_enigh", "read_encovi2000", "read_eusilc", "read_survey", "read_lac_panel",
    "build_income", "equivalence_scale", "income_without", "PovertyLines", "default_lines",
    "synthetic_survey", "synthetic_countries", "synthetic_lines",
    # poverty
    "fgt", "watts", "sen", "sst", "compare", "decompose", "static_identity", "StaticIdentity",
    "poverty_curve", "RelativeLine", "EmptyDomainWarning", "SinglePSUDomainWarning",
    # inequality
    "quantile", "gini", "generalized_entropy", "theil", "mld", "atkinson", "income_shares", "palma",
    "quantile_share_ratio", "compare_inequality", "INEQUALITY_MEASURES", "lorenz", "concentration_curve", "gini_decomposition", "GiniDecomposition",
    # reports
    "run_chapter", "run_demo", "reproduce",
    # econometrics
    "Heckman", "counterfactual_income", "counterfactual_fgt", "counterfactual_gini",
    "remittance_counterfactual_table", "rubin", "PropensityScoreMatching",
    "InverseProbabilityWeighting", "AugmentedIPW", "RemittanceIV", "RemittancePanel", "compare_models",
    "MultinomialSelection", "multinomial_counterfactual_income", "multinomial_counterfactual_table",
]

# Mexico's national ENIGH from its relational tables (issue #12)
from .io.enigh_tables import enigh_catalogue, read_enigh_tables  # noqa: E402

__all__ += ["read_enigh_tables", "enigh_catalogue"]
from .io.banxico import annual_remittances, read_banxico_remittances  # noqa: E402

__all__ += ["read_banxico_remittances", "annual_remittances"]
from .coverage import Coverage, plot_coverage, remittance_coverage  # noqa: E402

__all__ += ["remittance_coverage", "Coverage", "plot_coverage"]
from .calibration import (ImpactRange, adjust_to_national_accounts, adjustment_poverty,  # noqa: E402
                          calibrate_remittances, remittance_impact_range)

__all__ += ["calibrate_remittances", "remittance_impact_range", "ImpactRange", "adjust_to_national_accounts",
            "adjustment_poverty"]
# Eurostat / R convey measures (remitpov/measures/, registered in remitpov.measures)
from .measures.arpt import arpt  # noqa: E402
from .measures.poormed import poor_median  # noqa: E402
from .measures.rmir import rmir  # noqa: E402
from .measures.rmpg import rmpg  # noqa: E402
from .measures.zenga import zenga  # noqa: E402
__all__ += ["arpt", "poor_median", "rmpg", "rmir", "zenga"]
