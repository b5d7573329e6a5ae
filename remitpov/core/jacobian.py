"""Complex-step Jacobians: the one differentiation routine of the delta method.

For a function ``f`` built from analytic operations (+, -, *, /, powers, log, exp), the
complex step ``Im f(x + i h e_j) / h`` is the derivative with respect to ``x_j`` exact to
rounding error (no subtraction, so ``h`` can be tiny: 1e-30). ``f`` maps rows: (R, k) ->
(R, m); all ``k`` perturbed rows are evaluated in one call.
"""
from __future__ import annotations

from typing import Callable

import numpy as np

#: the complex step (absolute, or relative to ``max(|x_j|, 1)``)
STEP = 1e-30


def complex_step_rows(f: Callable, x: np.ndarray, *, relative: bool = False) -> np.ndarray:
    """Jacobian (m, k) of ``f`` (maps (R, k) -> (R, m) row-wise) at ``x`` (k,) by the complex step.

    ``relative=True`` scales the step of ``x_j`` by ``max(|x_j|, 1)`` (totals of any size).
    """
    x = np.asarray(x).ravel()
    k = x.size
    h = STEP * np.maximum(np.abs(x), 1.0) if relative else np.full(k, STEP)
    X = np.tile(x.astype(complex), (k, 1)) + 1j * np.diag(h)
    return (np.imag(np.asarray(f(X))) / h[:, None]).T
