"""An inequality measure for several income concepts of the same units, jointly (with and
without remittances), and the differences FIRST minus each other concept with their SEs.

Every measure estimable this way registers the builder of its
:class:`~remitpov.core.statistic.Statistic` for one income in the one registry
(:func:`remitpov.measures.register_statistic`); the concepts' influence values (or
replicate estimates) are stacked, so the joint vcov gives each difference its SE.
"""
from __future__ import annotations

from dataclasses import replace
from typing import Callable, Mapping, Sequence

import numpy as np
import pandas as pd

from .. import measures
from ..core.statistic import Statistic
from ..core.validate import checked, renamed_arguments
from ..exceptions import InputError
from ..results import EstimateTable
from .inequality_base import Prep, finish, legacy_deff, part, prep


def __getattr__(name: str):
    """``INEQUALITY_MEASURES``: the measures :func:`compare_inequality` (and
    :func:`remitpov.poverty.compare`) estimate jointly, with their aliases, read from the one
    registry (:mod:`remitpov.measures`) when asked, so that it includes every measure file's
    own registration whatever the import order."""
    if name == "INEQUALITY_MEASURES":
        return measures.names("inequality", joint=True, aliases=True)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _part_options(measure: str) -> tuple[str, ...]:
    import inspect

    return tuple(n for n in list(inspect.signature(measures.statistic_builder(measure)).parameters)[1:] if n not in ("ci_level", "dist"))


def _replicate_of(part: Statistic) -> Callable | None:
    """The part's replicate rule as ``W (n, r) -> (r, k)`` (totals become ``f(W' Y)``)."""
    if part.replicate is not None:
        return part.replicate
    if part.totals is not None:
        Y, f = part.totals
        return lambda W: np.asarray(f(W.T @ Y), dtype=float)
    return None


def _counted(fn: Callable, total: int, progress: Callable | None) -> Callable:
    """``fn`` that reports ``progress(done, total)`` after every chunk of replicate columns."""
    if progress is None:
        return fn
    done = [0]

    def wrapped(W):
        out = fn(W)
        done[0] += W.shape[1]
        progress(min(done[0], total), total)
        return out
    return wrapped


def _joint(p: Prep, parts: Sequence[Statistic], names: Sequence[str], diff_labels: Sequence[str],
           progress: Callable | None = None) -> tuple[pd.DataFrame, np.ndarray, np.ndarray | None, dict, np.ndarray]:
    """Stack the parts of several concepts and the differences first minus each other one.

    Returns keys, estimates, influence values, the replicate arguments of
    :meth:`Design.vcov` (and the ``empty`` flags) and ``n_obs``, rows domain-major (inside a domain: concepts in
    order, then the differences). The difference's influence values are the difference of
    the concepts' (same units, same weights); its replicate estimates the difference of
    the replicate estimates.
    """
    first = parts[0]
    k, D = first.estimates.size, len(p.dlabels)
    B = 2 * len(parts) - 1
    keys = []
    for name, part in zip(names, parts):
        kk = part.keys.copy()
        kk.insert(1, "concept", name)
        keys.append(kk)
    for lab, part in zip(diff_labels, parts[1:]):
        kk = first.keys.copy()
        kk["variable"] = f"{first.keys['variable'].iloc[0]} - {part.keys['variable'].iloc[0]}"
        kk.insert(1, "concept", lab)
        keys.append(kk)
    per = k // D
    order = (np.arange(B)[None, :, None] * k + np.arange(D)[:, None, None] * per
             + np.arange(per)[None, None, :]).ravel()  # domain-major
    keys = pd.concat(keys, ignore_index=True).iloc[order].reset_index(drop=True)

    def stack(blocks):
        return np.hstack(list(blocks) + [blocks[0] - b for b in blocks[1:]])[..., order]

    est = stack([pt.estimates for pt in parts])
    Z = None if any(pt.z is None for pt in parts) else stack([np.asarray(pt.z, dtype=float) for pt in parts])
    n_obs = None if first.n_obs is None else np.tile(first.n_obs, B)[order]
    rep: dict = {"empty": np.tile(first.empty, B)[order]}  # the same domains are empty in every concept
    if p.design.replicates is not None:
        if all(pt.totals is not None and pt.replicate is None for pt in parts):
            Ys = [pt.totals[0] for pt in parts]
            edges = np.cumsum([0] + [Y.shape[1] for Y in Ys])

            def f(T):
                return stack([np.asarray(pt.totals[1](T[:, a:b]), dtype=float)
                              for pt, a, b in zip(parts, edges[:-1], edges[1:])])
            rep["totals"] = (np.hstack(Ys), f)
        else:
            fns = [_replicate_of(pt) for pt in parts]
            if any(fn is None for fn in fns):
                raise InputError("this measure does not support replicate-weight designs")
            rep["replicate"] = _counted(lambda W: stack([fn(W) for fn in fns]),
                                        p.design.replicates.n_replicates, progress)
    return keys, est, Z, rep, n_obs


@renamed_arguments(label="concept")
@checked
def compare_inequality(survey, incomes: Mapping[str, object], measure: str = "gini", by=None, *,
                       level: str = "person", na_rm: bool = False, ci_level: float = 0.95, dist: str = "t",
                       concept: str | None = None, progress: Callable | None = None, deff: bool | str | None = None,
                       **options) -> EstimateTable:
    """An inequality measure for several income concepts on the same sample, jointly.

    Every concept (e.g. income with and without remittances) is measured on the same
    units with the same weights, so the estimates are correlated; this function returns
    them with their joint covariance and the differences FIRST minus each other concept,
    whose SE comes from the difference of the influence values
    (``Var(G1 - G2) = V1 + V2 - 2 C12``) or, on replicate designs, from the replicate-wise
    differences. Each concept's estimate and SE are exactly those of the single-income
    function (:func:`remitpov.gini`, :func:`remitpov.theil`, ...).

    Parameters
    ----------
    survey : Survey or Design
    incomes : mapping ``{label: column or array}``
        Two or more concepts, e.g. ``{"with": "y_with", "without": "y_without"}``.
    measure : str
        ``"gini"``, ``"theil"``, ``"mld"``, ``"generalized_entropy"`` (``"ge"``;
        option ``epsilon``), ``"atkinson"`` (``epsilon``), ``"palma"``, ``"qsr"``
        (``"quantile_share_ratio"``; ``lower``, ``upper``, ``definition``),
        ``"income_shares"`` (``"shares"``; ``groups``) or ``"quantile"`` (``probs``,
        ``rule``, ``se_method``, ``bandwidth``).
    by : str, array, optional
        Domains (zero weights on the full design).
    level, na_rm, ci_level, dist
        As in the single-income functions. A row with a missing value in ANY concept is
        treated alike in all of them (``na_rm=True``: outside every domain), so all
        concepts use the same sample.
    concept : str, optional
        Concept label of the difference with two concepts (default ``"first - second"``;
        the old keyword ``label=`` still works for one release, with a FutureWarning).
    progress : callable, optional
        ``progress(done, total)`` called after each chunk of replicates when the
        statistic is recomputed replicate by replicate (replicate designs only).
    **options
        The measure's options (above).

    Returns
    -------
    EstimateTable
        Keys ``measure``, ``concept`` (the labels, then ``"first - other"``),
        ``variable`` and the domain column (plus the measure's own keys such as
        ``epsilon`` or ``p``); rows domain-major, concepts then differences.

    Examples
    --------
    >>> t = compare_inequality(s, {"with": "y_with", "without": "y_without"}, "gini")  # doctest: +SKIP
    >>> t.get(concept="with - without")  # doctest: +SKIP
    """
    if incomes is None or len(incomes) < 2:
        raise InputError("compare_inequality needs at least two income concepts, e.g. "
                         "{'with': 'y_with', 'without': 'y_without'}")
    m = measures.get(measure).name
    if measures.statistic_builder(m) is None:
        raise InputError(f"measure={measure!r} is not one of {measures.names('inequality', joint=True, aliases=True)}")
    allowed = _part_options(m)
    bad = sorted(set(options) - set(allowed))
    if bad:
        raise InputError(f"compare_inequality(measure={measure!r}) got unknown option(s) {bad}; "
                         f"its options are {list(allowed) or 'none'}")
    if m == "quantile":
        options = dict(options, ci_level=ci_level, dist=dist)
    names = [str(k) for k in incomes]
    cols = list(incomes.values())
    if len(set(names)) != len(names):
        raise InputError(f"concept labels must be distinct, got {names}")
    p0, rest = prep(survey, cols[0], level, by, na_rm, extra=cols[1:])
    preps = [replace(p0, y=y, label=c if isinstance(c, str) else n) for y, c, n in zip([p0.y] + rest, cols, names)]
    build = measures.statistic_builder(m)
    parts = [build(pi, **options) for pi in preps]
    if concept is not None and len(names) != 2:
        raise InputError("concept= names the difference of exactly two concepts; with more, differences are "
                         "labelled 'first - other'")
    diffs = [concept] if concept is not None else [f"{names[0]} - {n}" for n in names[1:]]
    keys, est, Z, rep, n_obs = _joint(p0, parts, names, diffs, progress)
    first = parts[0]
    notes = first.notes + (f"difference = {names[0]} minus {', '.join(names[1:])}: same sample, joint vcov "
                           "(difference of influence values / of replicate estimates)",)
    return finish(p0, part(p0, keys, est, Z, title=f"{first.title}: {' vs '.join(names)}", notes=notes,
                             n_obs=n_obs, **rep), ci_level, dist, legacy_deff(deff, "compare_inequality"))


__all__ = ["compare_inequality", "INEQUALITY_MEASURES"]
