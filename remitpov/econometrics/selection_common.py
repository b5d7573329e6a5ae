"""Shared pieces of the selection models (:mod:`~remitpov.econometrics.heckman`,
:mod:`~remitpov.econometrics.multinomial`, :mod:`~remitpov.econometrics.counterfactual`):
design matrices from arrays or frames, rank checks that name the culprit columns, the
cluster/robust sandwich of per-observation influence values, the registry name of a
selection model's ``cov_type``, and Newton step halving.

Conventions: influence values ``z_i`` are per observation with ``theta_hat - theta ~
sum_i w_i z_i``; the sandwich sums ``w_i z_i`` within clusters (or per observation) and
multiplies by ``G/(G-1)`` unless ``small_sample=False`` (Stata's HC1/CR1 factor).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..exceptions import EstimationError, InputError, describe_rows

__all__ = ["as_frame", "numeric_array", "check_rank", "cluster_sandwich", "set_regressors", "selection_cov_type",
           "SELECTION_LEGACY", "backtrack"]


def as_frame(x, default: str, n: int | None = None) -> pd.DataFrame:
    """``x`` (frame, series or 1-/2-d array) as a frame with a fresh 0..n-1 index; array
    columns are named ``default`` (one column) or ``default.0``, ``default.1``, ..."""
    if isinstance(x, pd.DataFrame):
        return x.reset_index(drop=True)
    if isinstance(x, pd.Series):
        return x.reset_index(drop=True).to_frame(x.name or default)
    a = np.asarray(x, dtype=float)
    if a.ndim == 1:
        a = a[:, None]
    if a.ndim != 2:
        raise InputError(f"{default} must be 1- or 2-dimensional, got shape {a.shape}")
    cols = [default] if a.shape[1] == 1 else [f"{default}.{j}" for j in range(a.shape[1])]
    return pd.DataFrame(a, columns=cols)


def numeric_array(df: pd.DataFrame, what: str) -> np.ndarray:
    """``df`` as a float array; :class:`InputError` naming ``what`` and its columns if not numeric."""
    try:
        a = df.to_numpy(dtype=float)
    except (TypeError, ValueError) as exc:
        raise InputError(f"{what} must be numeric; columns {list(df.columns)}") from exc
    return a


def check_rank(A: np.ndarray, names, what: str):
    """:class:`EstimationError` unless ``A`` has full column rank, naming the columns that are
    constant, duplicated or combinations of earlier ones."""
    if A.shape[0] < A.shape[1]:
        raise EstimationError(f"{what}: {A.shape[0]} rows for {A.shape[1]} parameters")
    r = np.linalg.matrix_rank(A)
    if r < A.shape[1]:
        # name the columns that are combinations of earlier ones
        bad, keep = [], []
        for j in range(A.shape[1]):
            if np.linalg.matrix_rank(A[:, keep + [j]]) < len(keep) + 1:
                bad.append(str(names[j]))
            else:
                keep.append(j)
        raise EstimationError(f"{what} is singular (rank {r} < {A.shape[1]}): column(s) {bad} are constant, "
                              "duplicated or collinear with earlier columns; drop them")


#: old spellings of the selection models' covariances -> registry names (the same numbers)
SELECTION_LEGACY = {"robust": "HC1", "cluster": "CR1"}


def selection_cov_type(cov_type: str, *, unadjusted: bool = True, stacklevel: int = 4) -> str:
    """Registry name of a selection model's ``cov_type`` (HC0/HC1/CR0/CR1, ``"unadjusted"``
    when the model has one, and ``"design"``); old spellings with a ``FutureWarning``."""
    from .covariance import resolve_cov_type

    allowed = (("unadjusted",) if unadjusted else ()) + ("HC0", "HC1", "CR0", "CR1")
    return resolve_cov_type(cov_type, allowed=allowed, extra=("design",), legacy=SELECTION_LEGACY,
                            stacklevel=stacklevel)


def cluster_sandwich(z: np.ndarray, w: np.ndarray, clusters=None, small_sample: bool = True) -> np.ndarray:
    """sum_g (sum_{i in g} w_i z_i)(...)' x G/(G-1) (without the factor: ``small_sample=False``)."""
    wz = z * w[:, None]
    if clusters is None:
        G = wz.shape[0]
        tot = wz
    else:
        codes, uniq = pd.factorize(pd.Series(clusters), sort=True)
        if (codes < 0).any():
            raise InputError(f"clusters are missing in {describe_rows(codes < 0)}")
        G = uniq.size
        tot = np.zeros((G, wz.shape[1]))
        np.add.at(tot, codes, wz)
    if G < 2:
        raise EstimationError("robust/cluster covariance needs at least 2 clusters")
    return tot.T @ tot * (G / (G - 1) if small_sample else 1.0)


def set_regressors(model, X: pd.DataFrame, Z: pd.DataFrame, which_rows: str) -> None:
    """Store outcome and selection regressors on ``model`` (names and float arrays); both
    are needed on ALL rows (``which_rows`` says which, for the error message)."""
    model.exog_names = [str(c) for c in X.columns]
    model.selection_names = [str(c) for c in Z.columns]
    model._X = numeric_array(X, "exog")
    model._Z = numeric_array(Z, "selection_exog")
    for A, names, what in ((model._X, model.exog_names, "exog"), (model._Z, model.selection_names, "selection_exog")):
        badr = ~np.isfinite(A).all(axis=1)
        if badr.any():
            cols = [names[j] for j in np.flatnonzero(~np.isfinite(A).all(axis=0))]
            raise InputError(f"{what} column(s) {cols} missing or infinite in {describe_rows(badr)}; "
                             f"regressors are needed on all rows ({which_rows}): impute or drop those rows")


def backtrack(loglik, x, step, current: float) -> tuple[float, float]:
    """Step halving for a Newton ascent: the largest ``t`` in 1, 1/2, 1/4, ... (down to 1e-8)
    with ``loglik(x + t step) >= current`` (up to 1e-12). Returns ``(new loglik, t)``."""
    t = 1.0
    while True:
        new = loglik(x + t * step)
        if new >= current - 1e-12 or t < 1e-8:
            return new, t
        t /= 2
