"""Selection correction based on the multinomial logit, and the multinomial counterfactual.

Households choose one of ``J`` migration statuses (e.g. ``"none"``, ``"internal"``,
``"international"``). The (log) income equation of the *base* status ``s`` (no migrants)
is observed only for households in ``s``::

    status = argmax_j (Z gamma_j + eps_j),   eps_j iid Gumbel (type-I extreme value)
    y_s    = X beta + u,                     observed iff status = s,

so that ``E[y_s | X, Z, status = s] = X beta + E[u | status = s]``. The first stage is a
multinomial logit (``gamma_s = 0``, the base status is the reference category); the
second stage is least squares of ``y_s`` on ``X`` and correction terms built from the
fitted probabilities ``P_1 .. P_J`` (Bourguignon, Fournier & Gurgand 2007, "BFG"):

``method="lee"`` -- Lee (1983)
    One term ``phi(Phi^-1(P_s)) / P_s`` (the inverse Mills ratio evaluated at
    ``Phi^-1(P_s)``); its coefficient is ``sigma rho`` with ``rho`` the correlation of
    ``u`` with the normal transform of the selection error. With two statuses and a
    binary logit this is Heckman's two-step with ``Phi^-1(Lambda(Z gamma))`` in place of
    the probit index.
``method="dmf"`` -- Dubin & McFadden (1984)
    ``E[u | eps] = sigma sqrt(6)/pi sum_j r_j (eps_j - E eps_j)`` with ``sum_j r_j = 0``:
    ``J - 1`` terms, one per non-base status ``j``,
    ``sqrt(6)/pi [P_j ln P_j / (1 - P_j) + ln P_s]`` (= ``sqrt(6)/pi E[eps_j - eps_s | s]``).
    The ``sqrt(6)/pi`` factor standardises the Gumbel errors, so each coefficient is
    ``sigma r_j`` (``r_j`` = correlation of ``u`` with ``eps_j``).
``method="dmf1"`` -- BFG's "DMF variant 1"
    The same without the restriction ``sum r_j = 0``: ``J`` terms,
    ``sqrt(6)/pi (-ln P_s)`` for the base and ``sqrt(6)/pi P_j ln P_j / (1 - P_j)`` for ``j != s``.
``method="bfg"`` -- BFG's "DMF variant 2" (the default; recommended by BFG's Monte Carlo)
    Linearity in the *normal transforms* ``eps*_j = Phi^-1(G(eps_j))`` (``G`` the Gumbel
    cdf): ``E[u | eps] = sigma sum_j r*_j eps*_j``. ``J`` terms, ``m(P_s)`` for the base and
    ``m(P_j) P_j / (P_j - 1)`` for ``j != s``, with
    ``m(P) = int Phi^-1(G(v - ln P)) g(v) dv = int_0^1 Phi^-1(t^P) dt``. Each coefficient is
    ``sigma r*_j``. (Stata's ``selmlog, dmf(2)``.)

All four rest on the fact that, with iid Gumbel errors, ``eps_s | status = s`` is Gumbel
shifted by ``-ln P_s`` and ``eps_j | status = s`` has the distribution of ``eps_j`` given
``status != j`` (IIA), so every conditional expectation is a closed form (``m`` by
quadrature) in the probabilities.

First stage
-----------
:func:`mnlogit` is a weighted multinomial logit (Newton--Raphson on the weighted
log-likelihood, step halving). Unweighted it is statsmodels' ``MNLogit`` (same
likelihood, same reference category; checked in the tests); with survey weights it is the
pseudo-maximum-likelihood estimator (weights normalised to mean 1: estimates do not depend
on their scale). statsmodels' ``MNLogit`` has no weights, and scaling weights as frequency
weights would give wrong SEs, hence the own implementation. Perfect prediction
(separation) raises :class:`~remitpov.exceptions.EstimationError` naming the regressor
when a single dummy is responsible.

Standard errors
---------------
Two-step (Murphy--Topel) sandwich: the first-stage influence values
``psi_i = I^-1 score_i`` are propagated through the derivative of the second-stage normal
equations with respect to ``gamma`` (analytic derivatives of the correction terms through
the softmax), giving per-household influence values ``z_i`` of ``(beta, c, gamma)`` with
``theta_hat - theta ~ sum_i w_i z_i``. ``cov_type="HC1"`` (default:
``n/(n-1) sum (w_i z_i)(w_i z_i)'``; ``"HC0"`` without the factor), ``"CR1"``/``"CR0"``
(sums within PSUs, with/without ``G/(G-1)``) or ``"design"``
(:meth:`remitpov.design.Design.vcov`: strata, PSUs, fpc, replicate weights). A bootstrap
over PSUs would re-estimate both stages and is not needed: the linearisation is exact to
first order and is checked against a numerically differentiated stacked-moment (GMM)
sandwich and against the Monte Carlo spread of the estimator in the tests.

Counterfactual
--------------
:func:`multinomial_counterfactual_income` predicts the no-migration income of households
in every non-base status (``kind="conditional"``, the default: ``X b + E[u | status = j]``,
the status-specific counterfactual that carries the household's expected unobservables
given its observed status; ``kind="unconditional"``: ``exp(X b)``, the Barham--Boucher /
Adams counterfactual, biased under selection on unobservables -- both are imputed with
the same draws) by proper multiple imputation: ``draws`` (default 20) joint draws of ALL
parameters (outcome, correction and multinomial-logit coefficients) from the two-step
covariance, the correction terms recomputed from each drawn logit, plus residuals resampled
weight-proportionally from the base group's second-stage residuals, each scaled to the
variance ``s^2 - 2 g_i`` (``g_i`` the delta-method variance of household ``i``'s prediction,
``residual_variance="matched"``), so that the imputed log income has the residual variance
``s^2`` over the sampling distribution of the estimate and the draw; it returns a
:class:`~remitpov.econometrics.counterfactual.CounterfactualIncome` that
:func:`~remitpov.econometrics.counterfactual.counterfactual_fgt` turns into FGT indices
with the same estimator and SEs as the static counterfactual (Rubin's rules over draws).
Its default correction is ``"dmf"``, not ``"bfg"``: in the Monte Carlo study
(``validation/RESULTS.md``) the ``J``-term BFG correction is nearly collinear in samples of
a few thousand households and its status-specific prediction is biased.

Data: the ENIGH concentrado has no internal-migration information (see
:mod:`remitpov.econometrics.counterfactual`); the variant needs a survey with a
3-category status, e.g. Mexico's MMP, Guatemala ENCOVI's migration module, or
:func:`remitpov.synthetic.synthetic_survey` with ``migration_types=True``.

References
----------
Bourguignon, F., Fournier, M. and Gurgand, M. (2007). Selection bias corrections based on
the multinomial logit: Monte Carlo comparisons. *Journal of Economic Surveys* 21(1), 174-205.
Dubin, J. A. and McFadden, D. L. (1984). An econometric analysis of residential electric
appliance holdings and consumption. *Econometrica* 52(2), 345-362.
Lee, L.-F. (1983). Generalized econometric models with selectivity. *Econometrica* 51(2), 507-512.
Murphy, K. M. and Topel, R. H. (1985). Estimation and inference in two-step econometric
models. *Journal of Business & Economic Statistics* 3(4), 370-379.
Barham, B. and Boucher, S. (1998). Migration, remittances, and inequality. *Journal of
Development Economics* 55(2), 307-331.
"""

from .multinomial_counterfactual import (MultinomialCounterfactualIncome, multinomial_counterfactual_income,
                                         multinomial_counterfactual_table, multinomial_rho_sensitivity)
from .multinomial_model import MultinomialSelection, MultinomialSelectionResults
from .multinomial_terms import METHODS, MNLogitFit, bfg_m, correction_terms, mnlogit, softmax

__all__ = ["MultinomialSelection", "MultinomialSelectionResults", "MNLogitFit", "mnlogit", "bfg_m",
           "correction_terms", "multinomial_counterfactual_income", "MultinomialCounterfactualIncome",
           "multinomial_counterfactual_table", "multinomial_rho_sensitivity", "METHODS"]

# the model lives in three modules: multinomial_terms (first stage, correction terms),
# multinomial_model (model, results), multinomial_counterfactual (imputation, FGT table,
# rho sensitivity); this module keeps every public import path and the method's statement.
_softmax = softmax  # the old private name (tests/test_econometrics_multinomial.py)
