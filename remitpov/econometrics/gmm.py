"""Dynamic panel GMM: Arellano--Bond difference GMM and Blundell--Bond system GMM.

``DynamicPanelGMM.from_formula("log(emp) ~ lag(log(emp), 1:2) + lag(log(wage), 0:1) + log(capital)"
" | lag(log(emp), 2:99)", data, entity="firm", time="year").fit(steps=2)``

The model is ``y_it = sum_l a_l y_i,t-l + x_it' b + mu_i + tau_t + e_it`` with ``e_it``
serially uncorrelated. Written in first differences the fixed effect ``mu_i`` drops out
and lagged levels (``y_i,t-2``, ``y_i,t-3``, ...) are valid instruments for the differenced
equation (Arellano & Bond 1991, *difference GMM*); *system GMM* (``system=True``;
Arellano & Bover 1995, Blundell & Bond 1998) adds the equations in levels instrumented by
lagged differences.

Formula
-------
Three parts separated by ``|``, as R ``plm::pgmm``::

    y ~ regressors | GMM-style instruments [| standard instruments]

* ``lag(x, k)`` is ``x`` lagged ``k`` periods, ``lag(x, a:b)`` the lags ``a, a+1, ..., b``
  (one regressor each, named ``L<k>.x``; lag 0 is ``x`` itself); ``x`` may be a column or an
  expression of columns such as ``log(emp)`` (checked by :func:`remitpov.formula.check_formula`).
* GMM-style instruments ``lag(x, a:b)``: in the differenced equation for period ``t``, the
  levels ``x_{t-a}, ..., x_{t-b}`` (as far back as the data go; ``b = 99`` means all), one
  instrument per period and lag (the block-diagonal matrix of Arellano & Bond), or one per lag
  with ``collapse=True`` (Roodman 2009: the instrument count grows linearly, not
  quadratically, in T). ``a:b`` is the *lag limit*. In system GMM the level equation for
  ``t`` gets the difference ``x_{t-a+1} - x_{t-a}`` (one per period, or one column collapsed).
* Standard ("IV-style") instruments: the third part, differenced in the differenced
  equation and, in system GMM, in levels (separate columns) in the level equation. Without a
  third part the regressors whose variable is not a GMM-instrumented variable are used
  (pgmm's default).

Time effects (``effects="twoways"``, the default, as pgmm) are period dummies for the
periods with a differenced equation, which are also instruments (differenced
in difference GMM; in levels, with an intercept, in the level equation of system GMM).
``effects="individual"``: none (system GMM keeps an intercept in the level equation, as
Stata's ``xtabond2``; pgmm drops it).

Estimation (the notation of pgmm and Roodman 2009)
--------------------------------------------------
Per entity ``i``: ``y_i``, ``X_i`` stacked over the equations (differenced rows, then level
rows in system GMM) and the instrument matrix ``Z_i``. Rows with a missing value of ``y`` or
a regressor, and missing instrument values, are set to zero (they drop out of every sum),
as pgmm does for unbalanced panels. With ``S_X = sum Z_i'X_i``, ``S_y = sum Z_i'y_i``::

    one-step   b1 = (S_X' A1 S_X)^-1 S_X' A1 S_y,   A1 = (sum Z_i' H Z_i)^-1
    two-step   b2 = (S_X' A2 S_X)^-1 S_X' A2 S_y,   A2 = (sum Z_i' e1_i e1_i' Z_i)^-1

``H`` is ``D D'`` for the first-difference operator ``D`` (2 on the diagonal, -1 next to
it); in system GMM ``M M'`` with ``M = [D; I]`` (pgmm's ``"full"`` first-step matrix).

Covariances (``cov_type``)
--------------------------
* one-step ``"CR0"`` (default): the Arellano--Bond robust sandwich
  ``B1 S_X' A1 (sum Z_i'e1_i e1_i'Z_i) A1 S_X B1`` (clustered by entity, no small-sample
  factor), R ``vcovHC(pgmm)``;
* one-step ``"unadjusted"`` (difference GMM only): ``s^2 (S_X' A1 S_X)^-1`` with
  ``s^2 = sum e1'e1 / (2 n)`` over the ``n`` differenced equations (``E[(e_t - e_t-1)^2] =
  2 sigma^2`` for serially uncorrelated ``e``). pgmm's ``vcov`` of a one-step fit omits
  ``s^2`` (it is ``(S_X' A1 S_X)^-1 / N``);
* two-step ``"windmeijer"`` (default): Windmeijer's (2005) finite-sample corrected
  covariance, R ``vcovHC(pgmm)``; two-step ``"unadjusted"``: ``(S_X' A2 S_X)^-1`` (pgmm's
  ``vcov``; it understates the variance in finite samples).

Tests
-----
* ``ar_tests``: Arellano--Bond ``m1``, ``m2`` z statistics on the differenced residuals
  (first-order correlation is expected; second-order correlation rejects the lag-2
  instruments), with the covariance in use, R ``mtest(fit, order, vcov)``.
* ``hansen``: ``J = (sum Z_i'e_i)' A2 (sum Z_i'e_i)`` with the fitted model's residuals
  (robust to heteroskedasticity; weakened by many instruments), R ``sargan(fit)``;
  chi-squared with (instruments - parameters) degrees of freedom.
* ``sargan``: the minimum of the GMM criterion with the weight matrix
  ``(sum Z_i' Omega Z_i)^-1``, ``Omega`` the covariance of the stacked errors under
  homoskedasticity estimated from the one-step residuals; chi-squared with
  (instruments - parameters) df when the errors are homoskedastic (not robust, but not
  weakened by many instruments). Difference GMM: ``Omega = s^2 H``, so the minimiser is the
  one-step estimator and the statistic is ``(sum Z_i'e1_i)' A1 (sum Z_i'e1_i) / s^2``
  (pgmm's ``sargan(fit, "onestep")`` is this times ``N s^2``). System GMM: the level errors
  contain the fixed effect, so ``Omega = s^2 M M' + s_mu^2 J_level`` (``J_level``: ones in
  the level-by-level block; ``s_mu^2 = max(mean u1^2 - s^2, 0)`` from the one-step level
  residuals ``u1``), and the statistic is evaluated at the GMM estimate with that weight
  matrix. pgmm's ``sargan(fit, "onestep")`` of a system fit uses ``H = M M'``, which is not
  the covariance of the level errors, and has no chi-squared distribution; xtabond2's system
  Sargan has the same problem.
* ``difference_hansen`` (system GMM): difference-in-Hansen (C) tests of the level-equation
  instruments: all GMM-style level instruments (the Blundell--Bond initial-conditions
  restriction), each GMM-style variable's when there are several, the standard instruments
  in levels, and all of them together. For a subset ``G``: ``C = J - J_G``, ``J`` the Hansen
  statistic of the efficient two-step estimate with every instrument, ``J_G`` the same with
  the instruments outside ``G`` and the corresponding submatrix of the same
  ``sum Z_i'e1_i e1_i'Z_i`` (Hayashi 2000, sec. 3.6: this makes ``C >= 0`` in every sample);
  chi-squared with ``|G|`` df under the null that the subset is valid given the others.
  Not computed when fewer instruments than parameters remain. (For a one-step fit ``J`` is
  still the two-step efficient statistic, so ``stat`` there is not ``hansen - J_G``.)
* ``wald``: Wald chi-squared of the slope coefficients (time dummies and intercept excluded).

Weights (``weights=``, one positive weight per entity)
------------------------------------------------------
The moment conditions are weighted sums over entities, ``sum_i w_i Z_i' e_i(b) = 0``: the
sample analogue of the population moment when entity ``i`` represents ``w_i`` population
entities. Every sum over entities above carries ``w_i`` (``S_X``, ``S_y``,
``sum w_i Z_i'HZ_i``, the AR numerators ``sum w_i e_i'el_i``), and every *covariance* of such a
sum carries ``v_i``: ``v_i = w_i^2`` for probability (survey/analytic) weights, the
with-replacement variance of a weighted total with entities as clusters (strata and finite
population corrections are ignored); ``v_i = w_i`` for frequency weights. So the two-step
weight matrix is ``(sum v_i g_i g_i')^-1``, the robust covariances and Windmeijer's
correction use ``v_i``, and ``s^2`` is the ``w``-weighted mean. With frequency weights every
result equals the unweighted fit with entity ``i`` repeated ``w_i`` times; with probability
weights every result is unchanged by a rescaling of the weights. One-step ``"unadjusted"``
is not available with probability weights. The weights must be constant over time within
an entity (as xtabond2's fweights): moments are per-entity sums, so a weight per
entity-period has no role in them.

Survey designs. The covariances treat the entities as independent with-replacement draws
(each entity its own cluster); strata, primary sampling units that contain several entities
and finite population corrections are NOT part of them, and a :class:`~remitpov.survey.Survey`
passed as ``data`` is refused with an :class:`~remitpov.exceptions.InputError` saying so
(:data:`SURVEY_DESIGN_MESSAGE`). With one entity per PSU, ignoring strata and the fpc is
conservative: pass ``survey.data`` and ``weights=<weight column>``. When a PSU holds several
entities (households of a panel survey drawn by village), the entity-clustered SEs are too
small: refit the model with each replicate-weight column of ``survey.with_replicates(...)`` as
``weights=`` and combine the replicate estimates with the design's replicate variance formula.
A Monte Carlo under informative sampling (``validation/gmm_weights.py``: sampling
probabilities that rise with the last outcome; ``validation/RESULTS.md``) shows weighted
difference GMM unbiased with close to nominal coverage where unweighted GMM is biased by -0.023
in the autoregressive coefficient; weighted system GMM needs more entities (at about 4,000 it is
within 1.6 Monte Carlo SEs except a -0.0023 bias of the two-step exogenous coefficient over 200
seeds, an eighth of the unweighted one) (``tests/test_econometrics_gmm_weights_mc.py``). That
two-step bias is a finite-sample effect of heavy weights with many instruments, not of the
weighting (it appears as well when the same weights are unrelated to the outcomes, and goes
away with collapsed instruments: ``tests/test_econometrics_gmm_weights_noninformative.py``):
with heavy weights, collapse or lag-limit the instruments (``collapse=True``).

Checked against R ``plm::pgmm`` (plm 2.6-2) on the Arellano--Bond (1991) employment data:
difference and system GMM, one- and two-step, collapsed, with lag limits and lags from 3,
system GMM with individual effects only (``tests/test_econometrics_gmm.py``,
``tests/r/make_emplUK_pgmm.R``). pgmm has no difference-in-Hansen test: that is checked
against an independent hand computation and by Monte Carlo (size under the null, power when
the initial conditions violate the level restriction); the weights by replication and
rescaling.
"""
from __future__ import annotations

import re
import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from ..exceptions import EstimationError, InputError, describe_rows
from ._base import ModelResults

__all__ = ["DynamicPanelGMM", "DynamicPanelResults"]

_LAG = re.compile(r"^lag\((.*),\s*(\d+)\s*(?::\s*(\d+))?\s*\)$")
EFFECTS = ("twoways", "individual")
#: Why a Survey is refused as ``data`` (see "Survey designs" in the module docstring).
SURVEY_DESIGN_MESSAGE = (
    "DynamicPanelGMM takes a pandas DataFrame, not a Survey: its covariances treat entities as independent "
    "with-replacement draws and do not use survey strata, PSUs grouping several entities or finite population "
    "corrections. If each entity is its own PSU, pass survey.data with weights=<the weight column> (ignoring "
    "strata and fpc is conservative); if PSUs contain several entities, refit with each replicate-weight column "
    "of survey.with_replicates(...) as weights= and use the replicate variance of the estimates.")
LEVEL_INSTRUMENTS = ("xtabond2", "pgmm")
WEIGHT_TYPES = ("probability", "frequency")


def _split_top(s: str, sep: str) -> list[str]:
    """Split ``s`` at ``sep`` outside parentheses."""
    out, depth, cur = [], 0, ""
    for ch in s:
        depth += (ch == "(") - (ch == ")")
        if ch == sep and depth == 0:
            out.append(cur)
            cur = ""
        else:
            cur += ch
    out.append(cur)
    return [p.strip() for p in out]


def _norm(expr: str) -> str:
    return re.sub(r"\s+", "", expr)


def _terms(part: str, what: str) -> list[tuple[str, tuple[int, int]]]:
    """``"lag(log(y), 1:2) + x"`` -> ``[("log(y)", (1, 2)), ("x", (0, 0))]``."""
    out = []
    for t in _split_top(part, "+"):
        if not t:
            raise InputError(f"empty term in the {what} part of the formula")
        m = _LAG.match(t)
        if m:
            a = int(m.group(2))
            b = int(m.group(3)) if m.group(3) is not None else a
            if b < a:
                raise InputError(f"lag range {a}:{b} in {t!r} runs backwards; write lag(x, {b}:{a})")
            out.append((_norm(m.group(1)), (a, b)))
        elif t.startswith("lag("):
            raise InputError(f"cannot read {t!r}: write lag(x, k) or lag(x, a:b) with whole numbers")
        else:
            out.append((_norm(t), (0, 0)))
    return out


def _lag_name(expr: str, k: int) -> str:
    return expr if k == 0 else f"L{k}.{expr}"


@dataclass(frozen=True, eq=False)
class DynamicPanelResults(ModelResults):
    """Dynamic panel GMM results (see :mod:`remitpov.econometrics.gmm`).

    Attributes
    ----------
    steps : int
    system : bool
    params_onestep : Series
        One-step estimates (equal to ``params`` for a one-step fit).
    ar_tests : DataFrame
        Arellano--Bond AR(1), AR(2) tests: ``stat`` (z), ``pvalue`` (two-sided normal).
    hansen, sargan, wald : dict
        ``stat``, ``df``, ``pvalue``.
    difference_hansen : DataFrame or None
        System GMM: difference-in-Hansen (C) tests of the level-equation instrument subsets,
        one row per subset: ``hansen_excluding`` (J without the subset), ``df_excluding``,
        ``pvalue_excluding``, ``stat`` (C = J - J_excluding), ``df`` (columns in the subset),
        ``pvalue``. None for difference GMM or when J is not computed.
    n_instruments : int
        Instrument columns used (after dropping columns that are zero for every entity).
    n_entities : int
    nobs : int
        Equation rows used: differenced plus (system GMM) level equations, as pgmm counts.
    sigma2 : float
        ``s^2`` of the one-step differenced residuals (``sum e^2 / (2 n)``, weighted if weights
        are given), system GMM too (from its differenced equations).
    sigma2_mu : float
        System GMM: variance of the individual effect from the one-step level residuals,
        ``max(mean u^2 - s^2, 0)`` (used by the Sargan test); nan for difference GMM.
    weight_type : str or None
        ``"probability"`` or ``"frequency"`` when the fit is weighted.
    residuals : DataFrame
        Per equation row used: entity, time, equation (``"diff"``/``"level"``), residual.
    """

    steps: int = 2
    system: bool = False
    params_onestep: pd.Series | None = field(default=None, repr=False)
    ar_tests: pd.DataFrame | None = field(default=None, repr=False)
    hansen: dict = field(default_factory=dict)
    sargan: dict | None = None
    wald: dict = field(default_factory=dict)
    n_instruments: int = 0
    n_entities: int = 0
    sigma2: float = float("nan")
    residuals: pd.DataFrame | None = field(default=None, repr=False)
    difference_hansen: pd.DataFrame | None = field(default=None, repr=False)
    sigma2_mu: float = float("nan")
    weight_type: str | None = None


def _chi2(stat: float, df: int) -> dict:
    return {"stat": float(stat), "df": int(df), "pvalue": float(stats.chi2.sf(stat, df)) if df > 0 else float("nan")}


def _inv(M: np.ndarray, what: str) -> np.ndarray:
    """Inverse of a symmetric PSD matrix; Moore--Penrose with a warning when singular (as pgmm)."""
    ev = np.linalg.eigvalsh(M)
    if ev[0] <= 1e-9 * max(ev[-1], 1e-300):
        warnings.warn(f"the {what} matrix is singular (redundant instruments): a generalised inverse is used",
                      RuntimeWarning, stacklevel=4)
        return np.linalg.pinv(M, hermitian=True)
    return np.linalg.inv(M)


class DynamicPanelGMM:
    """Arellano--Bond difference GMM / Blundell--Bond system GMM for dynamic panels.

    Parameters
    ----------
    formula : str
        ``"y ~ lag(y, 1) + x | lag(y, 2:99) [| standard instruments]"`` (see the module
        docstring). Do not write time dummies: choose ``effects``.
    data : DataFrame
        Long format, one row per entity and period.
    entity, time : str
        Column names. Periods are the sorted distinct values of ``time``; numeric periods must
        be equally spaced (a period nobody observes would be skipped silently otherwise).
    system : bool
        ``False``: difference GMM (pgmm ``transformation="d"``); ``True``: system GMM
        (``"ld"``).
    effects : {"twoways", "individual"}
        Time dummies (default, as pgmm) or none.
    collapse : bool
        Collapse the GMM-style instruments (one column per lag, not per period and lag).
    missing : {"drop", "raise"}
        Rows with a missing or non-finite model value do not enter (pgmm's rule for
        unbalanced panels; the count is in the notes), or raise naming them.
    constant : bool
        System GMM: an intercept in the level equation (default, as xtabond2 and as pgmm with
        ``effect="twoways"``). pgmm with ``effect="individual"`` has none: ``constant=False``
        reproduces it.
    level_instruments : {"xtabond2", "pgmm"}
        System GMM: the level-equation instrument of ``lag(x, a:b)`` is ``x_{t-a+1} - x_{t-a}``
        (``"xtabond2"``, default: the difference dated one period after the first valid lag,
        valid under the same assumption as ``x_{t-a}`` in the differenced equation) or, as
        pgmm, ``x_{t-1} - x_{t-2}`` whatever ``a`` (``"pgmm"``; the same when ``a = 2``).
    weights : str, optional
        Column of entity weights (positive, constant over time within an entity). See "Weights"
        in the module docstring.
    weight_type : {"probability", "frequency"}
        ``"probability"`` (survey or analytic weights, default): the moment covariance is
        ``sum w_i^2 g_i g_i'``; estimates, SEs and tests do not change when the weights are
        rescaled. ``"frequency"`` (whole numbers: entity ``i`` stands for ``w_i`` identical
        entities): ``sum w_i g_i g_i'``; every number equals the unweighted fit on the
        replicated entities.
    """

    def __init__(self, formula: str, data: pd.DataFrame, *, entity: str = "country", time: str = "year",
                 system: bool = False, effects: str = "twoways", collapse: bool = False, missing: str = "drop",
                 constant: bool = True, level_instruments: str = "xtabond2", weights: str | None = None,
                 weight_type: str = "probability"):
        if not isinstance(data, pd.DataFrame):
            from ..survey import Survey

            if isinstance(data, Survey):
                raise InputError(SURVEY_DESIGN_MESSAGE)
            raise InputError("data must be a pandas DataFrame")
        for c, role in ((entity, "entity"), (time, "time")):
            if c not in data.columns:
                raise InputError(f"{role} column {c!r} is not in the data; available: "
                                 f"{sorted(map(str, data.columns))[:40]}")
        if effects not in EFFECTS:
            raise InputError(f"effects={effects!r}: use one of {EFFECTS}")
        if missing not in ("drop", "raise"):
            raise InputError("missing must be 'drop' or 'raise'")
        if data[[entity, time]].isna().any(axis=None):
            bad = data[[entity, time]].isna().any(axis=1).to_numpy()
            raise InputError(f"{entity}/{time} missing in {describe_rows(bad)}; every row needs both")
        if data.duplicated([entity, time]).any():
            dup = data.duplicated([entity, time], keep=False).to_numpy()
            raise InputError(f"duplicated {entity}-{time} pairs in {describe_rows(dup)}; one row per entity and period")
        if "~" not in formula:
            raise InputError(f"formula {formula!r} has no '~'")
        lhs, rhs = formula.split("~", 1)
        parts = _split_top(rhs, "|")
        if len(parts) not in (2, 3):
            raise InputError("write the formula as 'y ~ regressors | GMM instruments [| standard instruments]', "
                             "e.g. 'y ~ lag(y, 1) + x | lag(y, 2:99)'")
        self.dep = _norm(lhs)
        if _LAG.match(self.dep):
            raise InputError("the dependent variable cannot be a lag")
        self.regressors = _terms(parts[0], "regressor")
        self.gmm = _terms(parts[1], "GMM-instrument")
        for e, (a, _) in self.gmm:
            if a < 1:
                raise InputError(f"GMM instruments of {e!r} start at lag {a}: the differenced error is correlated "
                                 "with lags 0 (and 1 for the dependent variable); use lag(x, 2:99) or lag(x, 1:99)")
        if len(parts) == 3:
            self.iv = _terms(parts[2], "standard-instrument")
        else:
            gv = {e for e, _ in self.gmm}
            self.iv = [t for t in self.regressors if t[0] not in gv]
        exprs = sorted({self.dep} | {e for e, _ in self.regressors + self.gmm + self.iv})
        from ..formula import check_formula
        for e in exprs:
            check_formula(e, data.columns)
        if re.search(r"C\(", " ".join(exprs)):
            raise InputError("categorical terms C(...) are not supported in dynamic panel GMM; add dummy columns")
        self.formula, self.entity, self.time = formula, entity, time
        self.system, self.effects, self.collapse, self.missing = bool(system), effects, bool(collapse), missing
        self.constant = bool(constant)
        if level_instruments not in LEVEL_INSTRUMENTS:
            raise InputError(f"level_instruments={level_instruments!r}: use one of {LEVEL_INSTRUMENTS}")
        self.level_instruments = level_instruments
        if weight_type not in WEIGHT_TYPES:
            raise InputError(f"weight_type={weight_type!r}: use one of {WEIGHT_TYPES}")
        self.weights, self.weight_type = weights, weight_type
        self._w = None if weights is None else self._check_weights(data, weights, entity, weight_type)
        self.data = data.reset_index(drop=True)
        self._exprs = exprs

    @classmethod
    def from_formula(cls, formula: str, data: pd.DataFrame, **kwargs) -> "DynamicPanelGMM":
        """Same as the constructor (linearmodels-style)."""
        return cls(formula, data, **kwargs)

    # ------------------------------------------------------------------ data
    def _grid(self):
        """Each expression as an (entities x periods) array, NaN where absent."""
        from formulaic import model_matrix

        ent, ent_lv = pd.factorize(self.data[self.entity], sort=True)
        per, per_lv = pd.factorize(self.data[self.time], sort=True)
        if pd.api.types.is_numeric_dtype(per_lv) and len(per_lv) > 2:
            step = np.diff(np.asarray(per_lv, dtype=float))
            if not np.allclose(step, step[0]):
                raise InputError(f"the periods in {self.time!r} are not equally spaced ({list(per_lv)[:12]}...): "
                                 "lags would skip a period nobody observes; add the missing periods or recode time")
        N, T = len(ent_lv), len(per_lv)
        grid, notes = {}, []
        for e in self._exprs:
            with np.errstate(all="ignore"):
                try:
                    mm = model_matrix(f"0 + {e}", self.data, na_action="ignore")
                except Exception as exc:
                    raise InputError(f"cannot evaluate {e!r}: {exc}") from exc
            if mm.shape[1] != 1:
                raise InputError(f"{e!r} gives {mm.shape[1]} columns; each term must be one numeric variable")
            v = np.asarray(mm.iloc[:, 0], dtype=float)
            bad = ~np.isfinite(v)
            if bad.any():
                ids = (self.data[self.entity].astype(str) + " " + self.data[self.time].astype(str)).to_numpy()
                if self.missing == "raise":
                    raise InputError(f"{e!r} is missing or not finite in {describe_rows(bad, ids)}; pass "
                                     "missing='drop' to leave those entity-periods out")
                notes.append(f"{e}: {int(bad.sum())} missing or non-finite values (those entity-periods do not enter)")
            g = np.full((N, T), np.nan)
            g[ent, per] = np.where(bad, np.nan, v)
            grid[e] = g
        return grid, N, T, ent_lv, per_lv, notes

    @staticmethod
    def _lag(g: np.ndarray, k: int) -> np.ndarray:
        if k == 0:
            return g
        out = np.full_like(g, np.nan)
        out[:, k:] = g[:, :-k]
        return out

    def _build(self):
        grid, N, T, ent_lv, per_lv, notes = self._grid()
        main_max = max([b for _, (_, b) in self.regressors] + [0])
        TL1 = max(main_max + 1, min(a for _, (a, _) in self.gmm))  # pgmm's first usable differenced period
        if T - TL1 < 2:
            raise InputError(f"{T} periods leave {T - TL1} differenced equations after lags up to {main_max} "
                             "(need at least 2)")
        td = np.arange(TL1, T)                      # periods (0-based) of the differenced equations
        tl = np.arange(TL1 - 1, T) if self.system else np.arange(0)  # periods of the level equations
        Rd, Rl = td.size, tl.size
        # regressors: (name, N x T level array)
        cols = [(_lag_name(e, k), self._lag(grid[e], k)) for e, (a, b) in self.regressors for k in range(a, b + 1)]
        names = [n for n, _ in cols]
        if len(set(names)) != len(names):
            raise InputError(f"a regressor appears twice: {names}")
        y = grid[self.dep]

        def dif(g):
            return g[:, td] - g[:, td - 1]

        yd, Xd = dif(y), np.stack([dif(g) for _, g in cols], axis=2)
        yl, Xl = y[:, tl], np.stack([g[:, tl] for _, g in cols], axis=2)
        # time effects: dummies for the periods of the differenced equations (pgmm), plus an
        # intercept in system GMM (the first level period is the base)
        Kt_names = []
        Dd = np.zeros((Rd, 0))
        Dl = np.zeros((Rl, 0))
        if self.effects == "twoways":
            Dd = (td[:, None] == td[None, :]).astype(float) - (td[:, None] - 1 == td[None, :]).astype(float)
            Dl = (tl[:, None] == td[None, :]).astype(float)
            Kt_names = [f"{self.time}={per_lv[t]}" for t in td]
        if self.system and self.constant:
            Dd = np.column_stack([np.zeros(Rd), Dd])
            Dl = np.column_stack([np.ones(Rl), Dl])
            Kt_names = ["Intercept"] + Kt_names
        Kt = len(Kt_names)
        # stacked equations per entity
        y_ = np.concatenate([yd, yl], axis=1)
        X_ = np.concatenate([Xd, Xl], axis=1)
        X_ = np.concatenate([X_, np.broadcast_to(np.vstack([Dd, Dl]), (N, Rd + Rl, Kt))], axis=2)
        ok = np.isfinite(y_) & np.isfinite(X_).all(axis=2)
        if self.missing == "raise" and not ok[:, :Rd].any():
            raise InputError("no differenced equation has all its values")
        # instruments: list of (N x R) columns, each with its group label (equation, kind, expression)
        Z, lab = [], []

        def add(z, label):
            Z.append(z)
            lab.append(label)

        for e, (a, b) in self.gmm:
            g = grid[e]
            if self.collapse:
                for lag in range(a, min(b, T - 1) + 1):
                    z = np.zeros((N, Rd + Rl))
                    z[:, :Rd] = self._lag(g, lag)[:, td]
                    add(z, ("diff", "gmm", e))
            else:
                for r, t in enumerate(td):
                    for s in range(max(0, t - b), t - a + 1):
                        z = np.zeros((N, Rd + Rl))
                        z[:, r] = g[:, s]
                        add(z, ("diff", "gmm", e))
            if self.system:  # level equation: the difference x_{t-a+1} - x_{t-a} (pgmm: x_{t-1} - x_{t-2})
                la = 2 if self.level_instruments == "pgmm" else a
                dl = (self._lag(g, la - 1) - self._lag(g, la))[:, tl]
                if self.collapse:
                    z = np.zeros((N, Rd + Rl))
                    z[:, Rd:] = dl
                    add(z, ("level", "gmm", e))
                else:
                    for r in range(Rl):
                        z = np.zeros((N, Rd + Rl))
                        z[:, Rd + r] = dl[:, r]
                        add(z, ("level", "gmm", e))
        for e, (a, b) in self.iv:
            for k in range(a, b + 1):
                g = self._lag(grid[e], k)
                z = np.zeros((N, Rd + Rl))
                z[:, :Rd] = dif(g)
                add(z, ("diff", "iv", _lag_name(e, k)))
                if self.system:
                    z = np.zeros((N, Rd + Rl))
                    z[:, Rd:] = g[:, tl]
                    add(z, ("level", "iv", _lag_name(e, k)))
        for j in range(Kt):  # time dummies instrument themselves (differenced; in levels in system GMM)
            z = np.zeros((N, Rd + Rl))
            if self.system:
                z[:, Rd:] = Dl[:, j]
            else:
                z[:, :Rd] = Dd[:, j]
            add(z, ("level" if self.system else "diff", "time", Kt_names[j]))
        Z = np.stack(Z, axis=2)
        Z = np.where(np.isfinite(Z) & ok[:, :, None], Z, 0.0)
        y_ = np.where(ok, y_, 0.0)
        X_ = np.where(ok[:, :, None], X_, 0.0)
        keep = np.abs(Z).sum(axis=(0, 1)) > 0
        if not keep.all():
            notes.append(f"{int((~keep).sum())} instrument columns are zero for every entity (no data) and were "
                         "dropped")
            Z = Z[:, :, keep]
        lab = [x for x, k in zip(lab, keep) if k]
        # first-step weighting H = M M'
        Dop = np.zeros((Rd, Rd + 1))
        Dop[np.arange(Rd), np.arange(Rd)] = -1.0
        Dop[np.arange(Rd), np.arange(Rd) + 1] = 1.0
        M = np.vstack([Dop, np.eye(Rl)]) if self.system else Dop
        H = M @ M.T
        rows = pd.DataFrame({"entity": np.repeat(ent_lv, Rd + Rl),
                             "time": np.tile(np.concatenate([per_lv[td], per_lv[tl]]), N),
                             "equation": np.tile(np.r_[np.repeat("diff", Rd), np.repeat("level", Rl)], N)})
        return dict(y=y_, X=X_, Z=Z, H=H, M=M, ok=ok, Rd=Rd, names=names + Kt_names, Kt=Kt, N=N, notes=notes,
                    rows=rows, labels=lab, entities=ent_lv)

    @staticmethod
    def _check_weights(data, weights, entity, weight_type) -> pd.Series:
        """Per-entity weights (Series indexed by entity) after checking them."""
        if not isinstance(weights, str):
            raise InputError("weights must be the name of a column of data (one weight per entity)")
        if weights not in data.columns:
            raise InputError(f"weights column {weights!r} is not in the data; available: "
                             f"{sorted(map(str, data.columns))[:40]}")
        if not pd.api.types.is_numeric_dtype(data[weights]):
            raise InputError(f"weights column {weights!r} is not numeric ({data[weights].dtype})")
        wv = data[weights].to_numpy(float)
        bad = ~np.isfinite(wv) | (wv <= 0)
        ids = data[entity].astype(str).to_numpy()
        if bad.any():
            raise InputError(f"weights {weights!r} must be positive and finite; not so in {describe_rows(bad, ids)}: "
                             "fix them or drop those entities")
        if weight_type == "frequency" and np.any(wv != np.round(wv)):
            raise InputError(f"frequency weights {weights!r} must be whole numbers; not so in "
                             f"{describe_rows(wv != np.round(wv), ids)} (use weight_type='probability')")
        g = data.groupby(entity, sort=True)[weights]
        lo, hi = g.min(), g.max()
        vary = (hi != lo).to_numpy()
        if vary.any():
            ex = ", ".join(map(repr, lo.index[vary][:3]))
            raise InputError(f"weights {weights!r} vary over time within {int(vary.sum())} entities (e.g. {ex}): the "
                             "GMM moments are sums over entities, so give each entity one weight (e.g. its first "
                             "period's)")
        return lo.astype(float)

    def _entity_weights(self, entities) -> tuple[np.ndarray, np.ndarray]:
        """Moment weights ``w`` and covariance weights ``v`` (``w^2`` probability, ``w`` frequency)."""
        if self._w is None:
            one = np.ones(len(entities))
            return one, one
        w = self._w.reindex(entities).to_numpy(float)
        return w, (w * w if self.weight_type == "probability" else w)

    def _sargan(self, d, e1, w, v, SX, Sy, sigma2) -> tuple[dict, float]:
        """Sargan test under homoskedasticity (see the module docstring); returns (test, s_mu^2)."""
        Z, Rd, M = d["Z"], d["Rd"], d["M"]
        Omega = sigma2 * (M @ M.T)
        s2mu = float("nan")
        if self.system:
            okl = d["ok"][:, Rd:]
            su2 = float(w @ (e1[:, Rd:] ** 2).sum(axis=1) / (w @ okl.sum(axis=1)))
            s2mu = max(su2 - sigma2, 0.0)
            Omega[Rd:, Rd:] += s2mu
        Ws = _inv(np.einsum("n,nrl,rs,nsm->lm", v, Z, Omega, Z, optimize=True), "Sargan weight")
        bs = np.linalg.solve(SX.T @ Ws @ SX, SX.T @ Ws @ Sy)
        gs = Sy - SX @ bs
        return _chi2(gs @ Ws @ gs, SX.shape[0] - SX.shape[1]), s2mu

    def _difference_hansen(self, d, S2, w, SX, Sy, rank2, notes) -> pd.DataFrame | None:
        """C tests of the level-equation instrument subsets (system GMM; see the module docstring)."""
        L, K = SX.shape
        if not self.system or rank2 < L:
            return None
        lab = d["labels"]
        lev_gmm = [i for i, x in enumerate(lab) if x[:2] == ("level", "gmm")]
        lev_iv = [i for i, x in enumerate(lab) if x[:2] == ("level", "iv")]
        groups = {}
        if lev_gmm:
            groups["GMM instruments for levels"] = lev_gmm
            gv = list(dict.fromkeys(lab[i][2] for i in lev_gmm))
            if len(gv) > 1:
                groups.update({f"GMM instruments for levels: {e}": [i for i in lev_gmm if lab[i][2] == e] for e in gv})
        if lev_iv:
            groups["standard instruments in levels"] = lev_iv
            if lev_gmm:
                groups["all level instruments (except time effects)"] = lev_gmm + lev_iv

        def j_stat(keep):
            A = _inv(S2[np.ix_(keep, keep)], "difference-in-Hansen weight")
            SXk, Syk = SX[keep], Sy[keep]
            bk = np.linalg.solve(SXk.T @ A @ SXk, SXk.T @ A @ Syk)
            gk = Syk - SXk @ bk
            return float(gk @ A @ gk)

        J = j_stat(np.arange(L))
        out = {}
        for name, cols in groups.items():
            keep = np.setdiff1d(np.arange(L), cols)
            dfe, dfc = keep.size - K, len(cols)
            if dfe < 0:
                notes.append(f"difference-in-Hansen test of {name!r} not computed: {keep.size} instruments would "
                             f"remain for {K} parameters")
                continue
            Je = j_stat(keep)
            ex, c = _chi2(Je, dfe), _chi2(J - Je, dfc)
            out[name] = {"hansen_excluding": Je, "df_excluding": dfe, "pvalue_excluding": ex["pvalue"],
                         "stat": c["stat"], "df": dfc, "pvalue": c["pvalue"]}
        return pd.DataFrame.from_dict(out, orient="index") if out else None

    # ------------------------------------------------------------------ fit
    def fit(self, steps: int = 2, cov_type: str | None = None) -> DynamicPanelResults:
        """Estimate by one- or two-step GMM.

        Parameters
        ----------
        steps : {1, 2}
        cov_type : str, optional
            One-step: ``"CR0"`` (default, Arellano--Bond robust) or ``"unadjusted"``
            (difference GMM only). Two-step: ``"windmeijer"`` (default) or ``"unadjusted"``.
            See the module docstring.
        """
        if steps not in (1, 2):
            raise InputError(f"steps={steps!r}: use 1 (one-step) or 2 (two-step)")
        allowed = ("CR0", "unadjusted") if steps == 1 else ("windmeijer", "unadjusted")
        cov_type = allowed[0] if cov_type is None else str(cov_type)
        if cov_type not in allowed:
            raise InputError(f"cov_type={cov_type!r} is not available for {steps}-step GMM; use one of {allowed}")
        if steps == 1 and cov_type == "unadjusted" and self._w is not None and self.weight_type == "probability":
            raise InputError("cov_type='unadjusted' for one-step GMM is not available with probability weights; use "
                             "the robust 'CR0' (or weight_type='frequency' for frequency weights)")
        if steps == 1 and cov_type == "unadjusted" and self.system:
            raise InputError("cov_type='unadjusted' for one-step system GMM is not defined (the level errors contain "
                             "the fixed effect, so H is not their covariance); use 'CR0'")
        d = self._build()
        y, X, Z, H, Rd = d["y"], d["X"], d["Z"], d["H"], d["Rd"]
        N, K, L = X.shape[0], X.shape[2], Z.shape[2]
        if L < K:
            raise EstimationError(f"{L} instruments for {K} parameters: the model is not identified")
        w, v = self._entity_weights(d["entities"])   # moment weights w_i; meat weights v_i (w_i or w_i^2)
        SX = np.einsum("n,nrl,nrk->lk", w, Z, X)
        Sy = np.einsum("n,nrl,nr->l", w, Z, y)
        ZH = np.einsum("nrl,rs->nsl", Z, H)
        A1 = _inv(np.einsum("n,nsl,nsm->lm", w, ZH, Z), "first-step")
        B1 = np.linalg.inv(SX.T @ A1 @ SX)
        b1 = B1 @ SX.T @ A1 @ Sy
        e1 = y - X @ b1
        g1 = np.einsum("nrl,nr->nl", Z, e1)
        S2 = (g1 * v[:, None]).T @ g1
        rank2 = int(np.linalg.matrix_rank(S2))
        notes = list(d["notes"])
        if rank2 < L:  # sum of N rank-one terms: singular when L > N (or instruments redundant)
            if steps == 2:
                raise EstimationError(
                    f"the two-step weight matrix has rank {rank2} < {L} instruments ({N} entities): two-step GMM and "
                    "the Hansen test are not defined; reduce the instruments (collapse=True, a lag limit such as "
                    "lag(y, 2:3), effects='individual' instead of time dummies) or use steps=1")
            notes.append(f"the Hansen J is not computed: sum Z_i'e_i e_i'Z_i has rank {rank2} < {L} instruments "
                         f"({N} entities)")
        A2 = _inv(S2, "second-step") if rank2 == L else np.full((L, L), np.nan)
        okd = d["ok"][:, :Rd]
        sigma2 = float(w @ (e1[:, :Rd] ** 2).sum(axis=1) / (2 * (w @ okd.sum(axis=1))))
        V1r = B1 @ SX.T @ A1 @ S2 @ A1 @ SX @ B1
        if steps == 1:
            b, e, A, B = b1, e1, A1, B1
            V = V1r if cov_type == "CR0" else sigma2 * B1
        else:
            B2 = np.linalg.inv(SX.T @ A2 @ SX)
            b = B2 @ SX.T @ A2 @ Sy
            e, A, B = y - X @ b, A2, B2
            V = B2 if cov_type == "unadjusted" else self._windmeijer(X, Z, e1, e, SX, A2, B2, V1r, w, v)
        # overidentification
        df = L - K
        if rank2 == L:
            gz = np.einsum("n,nrl,nr->l", w, Z, e)
            hansen = _chi2(gz @ A2 @ gz, df)
        else:
            hansen = {"stat": float("nan"), "df": df, "pvalue": float("nan")}
        sargan, sigma2_mu = self._sargan(d, e1, w, v, SX, Sy, sigma2)
        diff_hansen = self._difference_hansen(d, S2, w, SX, Sy, rank2, notes)
        # Arellano-Bond serial correlation tests on the differenced residuals
        ar = {f"AR({m})": self._mtest(e, X, Z, Rd, m, SX, A, B, V, w, v) for m in (1, 2)}
        ar_tests = pd.DataFrame({"stat": ar, "pvalue": {k: 2 * stats.norm.sf(abs(v)) for k, v in ar.items()}})
        names, Kt = d["names"], d["Kt"]
        slope = np.arange(K - Kt)
        wald = _chi2(b[slope] @ np.linalg.solve(V[np.ix_(slope, slope)], b[slope]), slope.size)
        params = pd.Series(b, index=names)
        equations = {"Dynamic model": tuple(names[:K - Kt])}
        if self.effects == "individual":
            equations = {"Dynamic model": tuple(names)}
        elif Kt:
            equations["Time effects"] = tuple(names[K - Kt:])
        okflat = d["ok"].ravel()
        res = d["rows"].loc[okflat].assign(residual=e.ravel()[okflat]).reset_index(drop=True)
        nobs = int(d["ok"].sum())
        info = {"Entities": N, "Instruments": L, "Hansen J": hansen["stat"], "Hansen df": df,
                "Hansen p-value": hansen["pvalue"], "Sargan": sargan["stat"], "Sargan p-value": sargan["pvalue"],
                "AR(1) p-value": float(ar_tests.at["AR(1)", "pvalue"]),
                "AR(2) p-value": float(ar_tests.at["AR(2)", "pvalue"])}
        if L > N:
            notes.append(f"{L} instruments for {N} entities: the Hansen test is weak and two-step SEs unreliable "
                         "with more instruments than entities (Roodman 2009); consider collapse=True or lag limits")
        method = ("System" if self.system else "Difference") + f" GMM, {'two' if steps == 2 else 'one'}-step"
        if self.collapse:
            method += ", collapsed"
        return DynamicPanelResults(
            params=params, cov=pd.DataFrame(V, index=names, columns=names), nobs=nobs,
            model_name="Dynamic panel GMM", dep_var=self.dep, cov_type=cov_type, method=method, equations=equations,
            info=info, notes=tuple(notes), steps=steps, system=self.system,
            params_onestep=pd.Series(b1, index=names), ar_tests=ar_tests, hansen=hansen, sargan=sargan, wald=wald,
            n_instruments=L, n_entities=N, sigma2=sigma2, residuals=res, difference_hansen=diff_hansen,
            sigma2_mu=sigma2_mu, weight_type=self.weight_type if self.weights is not None else None)

    @staticmethod
    def _windmeijer(X, Z, e1, e2, SX, A2, B2, V1r, w, v):
        """Windmeijer (2005) corrected two-step covariance (R ``vcovHC.pgmm``); weights as in ``fit``."""
        a = np.einsum("nrl,nrk->nlk", Z, X)          # Z_i' X_i
        g1 = np.einsum("nrl,nr->nl", Z, e1)          # Z_i' e1_i
        # derivative of sum v_i Z_i' e1_i e1_i' Z_i with respect to b_k: -sum v_i (a_ik g_i' + g_i a_ik')
        dS = -(np.einsum("n,nlk,nm->klm", v, a, g1) + np.einsum("n,nl,nmk->klm", v, g1, a))
        q = A2 @ np.einsum("n,nrl,nr->l", w, Z, e2)
        D = -np.stack([B2 @ SX.T @ A2 @ dS[k] @ q for k in range(X.shape[2])], axis=1)
        return B2 + D @ B2 + (D @ B2).T + D @ V1r @ D.T

    @staticmethod
    def _mtest(e, X, Z, Rd, m, SX, A, B, V, w, v) -> float:
        """Arellano--Bond m-statistic of order ``m`` (R ``plm::mtest``); weights as in ``fit``."""
        if Rd <= m:
            return float("nan")
        ed = np.zeros_like(e)
        ed[:, :Rd] = e[:, :Rd]
        el = np.zeros_like(e)
        el[:, m:Rd] = e[:, :Rd - m]
        c = (ed * el).sum(axis=1)                              # e_i' el_i
        EX = np.einsum("n,nr,nrk->k", w, el, X)
        ZVE = np.einsum("nrl,nr,n->l", Z, ed, v * c)
        denom = v @ c ** 2 - 2 * EX @ B @ SX.T @ A @ ZVE + EX @ V @ EX
        return float(w @ c / np.sqrt(denom))
