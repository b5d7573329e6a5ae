"""Block ``counterfactual``: selection-corrected counterfactual poverty (table ``counterfactual``).

``method = "static"`` adds nothing (the static counterfactual is the "without" column of
the poverty tables); ``"heckman"`` and ``"multinomial"`` run the econometric
counterfactual: :func:`counterfactual_block` (with :func:`static_income` and the
multinomial call); this file registers the block and writes its tidy rows.
"""
from __future__ import annotations

import importlib

import pandas as pd

from ...exceptions import InputError, SpecError
from ._registry import Block, BlockOutput, register
from ._common import RECIPIENT, Y_STATIC, Y_WITH, tidy


def counterfactual_function(s):
    """The selection-corrected counterfactual (checked before any computation)."""
    module, name = (("remitpov.econometrics.multinomial", "multinomial_counterfactual_table")
                    if s.counterfactual["method"] == "multinomial"
                    else ("remitpov.econometrics.counterfactual", "remittance_counterfactual_table"))
    try:
        return getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError) as e:
        raise SpecError(f"{s.key}.counterfactual.method = {s.counterfactual['method']!r} needs "
                        f"{module} ({e}). Fix: update remitpov, or use method = 'static'") from None


def static_income(p):
    """The survey with :data:`Y_STATIC`: per-capita income without all ``static_sources``.

    :func:`remitpov.income.income_without` (same period/deflator factor and equivalence
    scale as ``y_with``; negative results floored at zero and reported).
    """
    from ...income import income_without

    sources = list(p.spec.counterfactual["static_sources"])
    try:
        return income_without(p.survey, sources, name=Y_STATIC)
    except InputError as e:
        raise SpecError(f"{p.spec.key}.counterfactual.static_sources: {e}. Fix: name income sources "
                        f"{sorted(p.survey.sources)}, roles or columns") from None


def _multinomial_block(spec, p, fn):
    """``method = "multinomial"``: :func:`remitpov.econometrics.multinomial.multinomial_counterfactual_table`."""
    cf = dict(p.spec.counterfactual)
    cf.pop("method")
    sv = static_income(p)
    kw = {k: cf[k] for k in ("kind", "weighted", "nonpositive", "residuals", "residual_variance", "parameter_draws")
          if k in cf}
    status = p.survey.roles.get(cf["status"], cf["status"])
    return fn(sv, p.lines["poverty"], cf["income_formula"], cf["selection_formula"],
              binary_selection_formula=cf.get("binary_selection_formula"), status=status, base=cf["base"],
              method=cf["correction"], draws=cf["draws"], seed=cf.get("seed", spec.seed), static=Y_STATIC,
              observed=Y_WITH, recipient=RECIPIENT, strict=spec.strict, **kw)


def counterfactual_block(spec, p, progress=None):
    """Counterfactual poverty: observed, static (minus remittances) and selection-corrected.

    ``method = "static"`` adds nothing (the static counterfactual is the "without" column of
    the poverty tables). ``method = "heckman"`` runs
    :func:`remitpov.econometrics.counterfactual.remittance_counterfactual_table` (Heckman
    income equation on non-recipients, predicted no-migration income for recipients,
    ``draws`` seeded imputations combined by Rubin's rules) with the chapter's poverty line;
    ``progress(done, total)`` is called after each draw.

    ``method = "multinomial"`` runs
    :func:`remitpov.econometrics.multinomial.multinomial_counterfactual_table` (no migrants /
    internal / international; multinomial-logit selection correction ``correction``): rows
    ``observed`` (``y_with``), ``static`` (:data:`Y_STATIC` = income without ALL
    ``static_sources``, built by :func:`static_income` -- *not* the chapter's "without
    remittances" column when internal transfers are among the sources), ``heckman`` (with
    ``binary_selection_formula``: binary Heckman on ``y_without``, deterministic) and
    ``multinomial`` (``draws`` imputations, Rubin's rules).
    """
    cf = dict(p.spec.counterfactual or {"method": "static"})
    method = cf.pop("method")
    if method == "static":
        return None, {}
    fn = counterfactual_function(p.spec)
    if method == "multinomial":
        tab, model = _multinomial_block(spec, p, fn)
        return _counterfactual_frame(p, method, tab), {"counterfactual": tab, "counterfactual_model": model}
    mod = importlib.import_module("remitpov.econometrics.counterfactual")
    sv = p.survey
    preset = cf.pop("preset", None)
    formulas = {}
    if preset == "enigh_rural":
        sv = mod.enigh_covariates(sv)
        formulas = dict(mod.ENIGH_RURAL_SPEC)
    income_formula = cf.pop("income_formula", formulas.get("income_formula"))
    selection_formula = cf.pop("selection_formula", formulas.get("selection_formula"))
    if "estimator" in cf:
        cf["method"] = cf.pop("estimator")
    cf.setdefault("draws", 20)
    cf.setdefault("seed", spec.seed)
    if progress is not None:
        cf["progress"] = progress
    tab, model = fn(sv, p.lines["poverty"], income_formula, selection_formula, strict=spec.strict, **cf)
    return _counterfactual_frame(p, method, tab), {"counterfactual": tab, "counterfactual_model": model}


def _counterfactual_frame(p, method: str, tab) -> pd.DataFrame:
    fr = tab.to_frame()
    out = tidy({"survey": p.spec.label, "method": method, "measure": fr["measure"].to_numpy(),
                "concept": fr["concept"].to_numpy()}, fr, "percent")
    return out[out["measure"].astype(str).str.startswith("fgt")].reset_index(drop=True)



def run(spec, p, ctx) -> BlockOutput:
    frame, est = counterfactual_block(spec, p, progress=ctx["progress"](f"{p.spec.id}: imputation draws"))
    return BlockOutput({"counterfactual": frame}, est)


def figures(spec, tables, extras, folder):
    """Observed vs static vs selection-corrected poverty headcount with CIs (``counterfactual.*``)."""
    from .. import figures as F

    cf = tables.get("counterfactual")
    if cf is None or not (cf["measure"] == "fgt0").any():
        return []
    return F.counterfactual_dots(cf[cf["measure"] == "fgt0"], folder / "counterfactual", language=spec.language,
                                 formats=spec.figures, level=spec.ci_level)


BLOCK = register(Block("counterfactual", run, ("counterfactual",), rank=60, step="{sid}: counterfactual ({method})",
                       needs_remittances=True, needs_poverty_line=True, default=False, tidy=("counterfactual",),
                       figures=figures))
