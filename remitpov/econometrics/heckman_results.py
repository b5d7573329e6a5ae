"""Results of the Heckman (1979) selection model (:class:`~remitpov.econometrics.heckman.Heckman`):
parameters of both equations, ``rho``/``sigma``/``lambda_`` with their SEs, the inverse
Mills ratio, predictions and simulated outcomes, and the summary table.

Conventions: see :mod:`remitpov.econometrics.heckman` (``params`` = outcome coefficients,
``"selection:<name>"`` coefficients, then ``lambda`` (two-step) or ``athrho``/``lnsigma`` (ML)).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

import numpy as np
import pandas as pd
from scipy import special

from ..exceptions import InputError
from ..results import Estimate
from ._base import ModelResults, Summary, SummaryTable, fmt_value
from .probit import inverse_mills

__all__ = ["HeckmanResults"]


@dataclass(frozen=True, eq=False, repr=False)
class HeckmanResults(ModelResults):
    """Results of :meth:`Heckman.fit <remitpov.econometrics.heckman.Heckman.fit>` (immutable).

    ``params`` holds the outcome coefficients (plain names), the selection coefficients
    (``"selection:<name>"``) and either ``lambda`` (two-step: the IMR coefficient) or
    ``athrho`` and ``lnsigma`` (ML). ``rho``, ``sigma`` and ``lambda_`` are
    :class:`~remitpov.results.Estimate` objects (``float(res.rho)``, ``res.rho.se``).
    """

    model: Any = None
    extra: Mapping[str, Any] = None  # rho/sigma/lambda estimates, imr, loglik, influence...

    @property
    def selection_params(self) -> pd.Series:
        names = self.equations["selection"]
        return pd.Series(self.params[list(names)].to_numpy(), index=[n.split(":", 1)[1] for n in names],
                         name="selection_params")

    @property
    def outcome_params(self) -> pd.Series:
        return self.params[list(self.equations["outcome"])]

    @property
    def rho(self) -> Estimate:
        return self.extra["rho"]

    @property
    def sigma(self) -> Estimate:
        return self.extra["sigma"]

    @property
    def lambda_(self) -> Estimate:
        return self.extra["lambda"]

    @property
    def imr(self) -> pd.Series:
        """Inverse Mills ratio ``phi(Z gamma)/Phi(Z gamma)`` for every row (selected or not)."""
        return pd.Series(inverse_mills(self.model._Z @ self.selection_params.to_numpy()), name="imr")

    @property
    def loglik(self) -> float:
        return self.extra.get("loglik", np.nan)

    @property
    def influence(self) -> np.ndarray | None:
        """(n, k) influence values: ``params_hat - params ~ sum_i w_i z_i`` (None if not computed)."""
        return self.extra.get("influence")

    def predict(self, exog=None, selection_exog=None, *, kind: str = "unconditional") -> pd.Series:
        """Predictions of the outcome.

        Parameters
        ----------
        exog, selection_exog : array or DataFrame, optional
            New data (default: the estimation data). For formula models a DataFrame of
            original variables may be passed as ``exog``; it is transformed with both
            formulas.
        kind : {"unconditional", "conditional", "nonselected", "probability", "index"}
            ``X b`` (the latent outcome, e.g. the wage offer); ``E[y|s=1] = X b + rho sigma
            imr(Z g)``; ``E[y|s=0] = X b - rho sigma phi(Z g)/Phi(-Z g)``; ``P(s=1) = Phi(Z g)``;
            ``Z g``.
        """
        X, Z = self.model._design_for(exog, selection_exog)
        b = self.outcome_params.to_numpy()
        g = self.selection_params.to_numpy()
        rs = float(self.lambda_)
        if kind == "unconditional":
            out = X @ b
        elif kind == "conditional":
            out = X @ b + rs * inverse_mills(Z @ g)
        elif kind == "nonselected":
            out = X @ b - rs * inverse_mills(-(Z @ g))
        elif kind == "probability":
            out = special.ndtr(Z @ g)
        elif kind == "index":
            out = Z @ g
        else:
            raise InputError(f"kind must be 'unconditional', 'conditional', 'nonselected', 'probability' or "
                             f"'index', got {kind!r}")
        return pd.Series(out, name=kind)

    def simulate(self, exog=None, selection_exog=None, *, kind: str = "unconditional", draws: int = 1,
                 seed=None) -> np.ndarray:
        """Draws of the outcome with simulated errors, shape (n, draws).

        ``kind="unconditional"``: ``X b + e``, ``e ~ N(0, sigma^2)``. ``"conditional"`` /
        ``"nonselected"``: ``X b + e`` with ``e`` drawn from its distribution given
        ``u > -Z g`` / ``u < -Z g`` (``e = sigma (rho u + sqrt(1 - rho^2) v)``, ``u`` from a
        truncated normal by inversion). Parameter uncertainty is not simulated.
        """
        X, Z = self.model._design_for(exog, selection_exog)
        rng = np.random.default_rng(seed)
        xb = X @ self.outcome_params.to_numpy()
        q = Z @ self.selection_params.to_numpy()
        rho, sig = float(self.rho), float(self.sigma)
        n = xb.size
        v = rng.standard_normal((n, draws))
        p = rng.random((n, draws))
        if kind == "unconditional":
            u = rng.standard_normal((n, draws))
        elif kind in ("conditional", "nonselected"):
            lo = special.ndtr(-q)[:, None]  # P(u < -q)
            if kind == "conditional":  # u > -q
                u = special.ndtri(lo + p * (1 - lo))
            else:  # u < -q
                u = special.ndtri(p * lo)
            u = np.clip(u, -40, 40)
        else:
            raise InputError(f"kind must be 'unconditional', 'conditional' or 'nonselected', got {kind!r}")
        e = sig * (rho * u + np.sqrt(max(1 - rho**2, 0.0)) * v)
        return xb[:, None] + e

    def summary_table(self, digits: int = 4, level: float = 0.95) -> Summary:
        base = super().summary_table(digits, level)
        rows = []
        for name in ("rho", "sigma", "lambda"):
            e = self.extra[name]
            ok = np.isfinite(e.se)
            rows.append((name, fmt_value(e.estimate, digits), fmt_value(e.se, digits) if ok else "", "", "",
                         fmt_value(e.ci_lower, digits) if ok else "", fmt_value(e.ci_upper, digits) if ok else ""))
        anc = SummaryTable("Ancillary parameters" + (" (delta method)" if self.method == "ML" else ""),
                           base.tables[0].header, tuple(rows))
        return Summary(base.title, base.info, base.tables + (anc,), base.notes)


# ----------------------------------------------------------------------------- model
