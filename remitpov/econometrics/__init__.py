"""Econometric models of remittance effects (issue #4).

Results follow the linearmodels pattern: model -> ``fit()`` -> immutable results with
``params``, ``std_errors``, ``tstats``, ``pvalues``, ``conf_int()`` and ``summary``.
"""
from ._base import Comparison, ModelResults, Summary, compare

# Sample-selection model and selection-corrected counterfactual income (part 1).
from .heckman import Heckman, HeckmanResults, SelectionWarning, inverse_mills
from .counterfactual import (CounterfactualIncome, CounterfactualWarning, counterfactual_fgt, counterfactual_gini, counterfactual_income,
                             remittance_counterfactual_table, rubin)

# Treatment-effect, IV and panel modules are added by another helper, who appends
# their own imports at the END of this file (only adds lines; do not reorder).
from .treatment import (AugmentedIPW, InverseProbabilityWeighting, MatchingResults, PropensityScore,
                        PropensityScoreMatching, PropensityScoreResults, TreatmentEffectResults, balance_table)
from .iv import IVResults, RemittanceIV
from .panel import PanelResults, RemittancePanel
from .multinomial import MultinomialSelection, MultinomialSelectionResults, multinomial_counterfactual_income
# Covariance registry (HC0-HC3, CR0-CR2) and lm_robust-like regression (issue #10).
from .covariance import COV_TYPES, CovType
from .ols import OLSResults, RobustOLS
from .weakiv import ARConfidenceSet, anderson_rubin, effective_f
from .treatment import PropensityScoreSubclassification
from . import matching
# Dynamic panel GMM: Arellano-Bond difference and Blundell-Bond system GMM (issue #16).
from .gmm import DynamicPanelGMM, DynamicPanelResults
