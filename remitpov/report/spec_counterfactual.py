"""The counterfactual of a survey in the chapter spec (``[survey.counterfactual]``): parsed and
checked before anything is loaded; :func:`check_counterfactual_columns` checks the multinomial
model's columns once the survey is loaded.

Methods: ``static`` (income minus remittances), ``heckman`` (Barham-Boucher selection model,
:mod:`remitpov.econometrics.counterfactual`; a preset or both formulas) and ``multinomial``
(no migrants / internal / international, :mod:`remitpov.econometrics.multinomial`). See
:mod:`remitpov.report.spec` for the spec as a whole.
"""
from __future__ import annotations

import copy
from typing import Any, Mapping

from .spec_common import fail as _fail, formula as _formula

__all__ = ["COUNTERFACTUAL_METHODS", "COUNTERFACTUAL_PRESETS", "MULTINOMIAL_DEFAULTS", "parse_counterfactual",
           "check_counterfactual_columns"]

COUNTERFACTUAL_METHODS = ("static", "heckman", "multinomial")
#: presets of remitpov.econometrics.counterfactual: covariates builder + formulas
COUNTERFACTUAL_PRESETS = ("enigh_rural",)
_COUNTERFACTUAL_KEYS = {"method", "preset", "income_formula", "selection_formula", "draws", "seed", "kind",
                        "estimator", "weighted", "nonpositive", "residuals", "parameter_draws"}
#: keys of ``method = "multinomial"`` (remitpov.econometrics.multinomial.multinomial_counterfactual_table)
_MULTINOMIAL_KEYS = {"method", "status", "base", "correction", "income_formula", "selection_formula",
                     "binary_selection_formula", "draws", "seed", "static_sources", "kind", "weighted",
                     "nonpositive", "residuals", "residual_variance", "parameter_draws"}
#: imputation rules a spec may choose (the estimators' own options; defaults there)
_HECKMAN_RULES = {"residuals": ("empirical", "selection", "local", "normal"), "parameter_draws": (True, False)}
_MULTINOMIAL_RULES = {"residuals": ("empirical", "normal", "dmf"), "residual_variance": ("matched", "base"),
                      "parameter_draws": ("full", "linear", "fixed")}
#: defaults of ``method = "multinomial"``; ``static_sources`` are names of income sources
#: (``survey.sources``), roles or columns: the static concept is income without ALL of them.
MULTINOMIAL_DEFAULTS = {"status": "migration_status", "base": "none", "correction": "dmf", "draws": 20,
                        "static_sources": ["remittances", "internal_remittances"], "kind": "conditional"}


def parse_counterfactual(cf, key: str, measures: tuple[str, ...]) -> tuple[dict | None, tuple[str, ...]]:
    """``[survey.counterfactual]`` of survey ``key`` (None when absent) and the survey's measures:
    ``(counterfactual table with defaults or None, measures)``.

    A counterfactual table adds the "counterfactual" measure; the measure without a table
    means ``method = "static"``.
    """
    if cf is None:
        return ({"method": "static"} if "counterfactual" in measures else None), measures
    key = f"{key}.counterfactual"
    if not isinstance(cf, Mapping):
        raise _fail(key, "must be a table", "e.g. counterfactual = {method = 'heckman'}")
    m = cf.get("method", "static")
    if m not in COUNTERFACTUAL_METHODS:
        raise _fail(f"{key}.method", f"unknown method {m!r}", f"use one of {list(COUNTERFACTUAL_METHODS)}")
    cf = dict(cf)
    cf["method"] = m
    allowed = _MULTINOMIAL_KEYS if m == "multinomial" else _COUNTERFACTUAL_KEYS
    unknown = sorted(set(cf) - allowed)
    if unknown:
        raise _fail(key, f"unknown key(s) {unknown} for method {m!r}", f"use {sorted(allowed)}")
    if m == "multinomial":
        cf = _parse_multinomial(cf, key)
    if m == "heckman":
        _check_heckman(cf, key)
    _check_rules(cf, key, _MULTINOMIAL_RULES if m == "multinomial" else _HECKMAN_RULES)
    if "counterfactual" not in measures:
        measures = measures + ("counterfactual",)
    return cf, measures


def _check_rules(cf: Mapping[str, Any], key: str, rules: Mapping[str, tuple]) -> None:
    """The imputation rules of the spec (``residuals``, ``residual_variance``, ``parameter_draws``)
    are values the estimator knows; booleans only where it takes booleans."""
    for k, allowed in rules.items():
        if k in cf:
            v = cf[k]
            ok = any(v is a if isinstance(a, bool) else (not isinstance(v, bool) and v == a) for a in allowed)
            if not ok:
                show = ", ".join(str(a).lower() if isinstance(a, bool) else repr(a) for a in allowed)
                raise _fail(f"{key}.{k}", f"unknown value {v!r} for method {cf['method']!r}", f"use one of {show}")


def _check_heckman(cf: Mapping[str, Any], key: str) -> None:
    """``method = "heckman"``: a known preset or both formulas; ``draws`` 0 or >= 2."""
    preset = cf.get("preset")
    if preset is not None and preset not in COUNTERFACTUAL_PRESETS:
        raise _fail(f"{key}.preset", f"unknown preset {preset!r}",
                    f"use one of {list(COUNTERFACTUAL_PRESETS)} or give income_formula and selection_formula")
    if preset is None and not ("income_formula" in cf and "selection_formula" in cf):
        raise _fail(key, "method 'heckman' needs income_formula and selection_formula (or a preset)",
                    "e.g. preset = 'enigh_rural'")
    for k in ("income_formula", "selection_formula"):
        if k in cf:
            _formula(cf[k], f"{key}.{k}")
    d = cf.get("draws", 20)
    if isinstance(d, bool) or not isinstance(d, int) or d < 0 or d == 1:
        raise _fail(f"{key}.draws", f"expected 0 or an integer >= 2, got {d!r}",
                    "draws = 20 (multiple imputation) or 0 (deterministic)")


def _parse_multinomial(cf: Mapping[str, Any], key: str) -> dict:
    """Validate ``[survey.counterfactual] method = "multinomial"``; returns the table with defaults.

    Keys (defaults in :data:`MULTINOMIAL_DEFAULTS`): ``status`` (column or role of the
    migration status), ``base`` (its no-migrant category), ``correction`` (one of
    :data:`remitpov.econometrics.multinomial.METHODS`), ``income_formula`` and
    ``selection_formula`` (required right-hand sides), ``binary_selection_formula``
    (optional: adds the binary Heckman row), ``draws`` (0 or >= 2), ``seed`` (default: the
    chapter seed), ``static_sources`` (income sources removed for the static concept),
    ``kind`` ("conditional" (default, status-specific)|"unconditional"), ``weighted``, ``nonpositive``,
    and the imputation rules ``residuals`` ("empirical"|"normal"|"dmf"), ``residual_variance``
    ("matched"|"base") and ``parameter_draws`` ("full"|"linear"|"fixed") of
    :func:`remitpov.econometrics.multinomial.multinomial_counterfactual_income` (its defaults when
    absent; ``method = "heckman"`` takes ``residuals`` ("empirical"|"selection"|"local"|"normal") and
    ``parameter_draws`` (true|false) of :func:`remitpov.econometrics.counterfactual.counterfactual_income`).
    """
    try:
        from ..econometrics.multinomial import METHODS
    except ImportError as e:  # pragma: no cover - the module ships with remitpov
        raise _fail(f"{key}.method", f"'multinomial' needs remitpov.econometrics.multinomial ({e})",
                    "update remitpov, or use method = 'static'") from None
    out = {**copy.deepcopy(MULTINOMIAL_DEFAULTS), **dict(cf)}
    for k in ("status", "base"):
        v = out[k]
        if not isinstance(v, str) or not v:
            raise _fail(f"{key}.{k}", f"expected a non-empty string, got {v!r}",
                        f"e.g. {k} = {MULTINOMIAL_DEFAULTS[k]!r}")
    if out["correction"] not in METHODS:
        raise _fail(f"{key}.correction", f"unknown correction {out['correction']!r}",
                    f"use one of {list(METHODS)} (remitpov.econometrics.multinomial.METHODS)")
    for k in ("income_formula", "selection_formula"):
        if k not in out:
            raise _fail(f"{key}.{k}", "missing (method 'multinomial' has no preset)",
                        f"give {k} as a right-hand side, e.g. {k} = 'head_educ + head_age'")
    for k in ("income_formula", "selection_formula", "binary_selection_formula"):
        if k in out:
            v = out[k]
            if not isinstance(v, str) or not v.strip().lstrip("~").strip():
                raise _fail(f"{key}.{k}", f"expected a non-empty formula string, got {v!r}",
                            "give a right-hand side, e.g. 'head_educ + head_age + mig_network'")
            if "~" in v and v.split("~", 1)[0].strip():
                raise _fail(f"{key}.{k}", f"give a right-hand side only, got left-hand side "
                            f"{v.split('~', 1)[0].strip()!r}",
                            "drop the outcome: log income and the status are built for you")
            _formula(v, f"{key}.{k}")
    d = out["draws"]
    if isinstance(d, bool) or not isinstance(d, int) or d < 0 or d == 1:
        raise _fail(f"{key}.draws", f"expected 0 or an integer >= 2, got {d!r}",
                    "draws = 20 (multiple imputation, Rubin's rules) or 0 (deterministic)")
    if "seed" in out:
        sd = out["seed"]
        if isinstance(sd, bool) or not isinstance(sd, int) or sd < 0:
            raise _fail(f"{key}.seed", f"expected a non-negative integer, got {sd!r}", "e.g. seed = 2026")
    src = out["static_sources"]
    if isinstance(src, str):
        src = [src]
    if (not isinstance(src, (list, tuple)) or not src
            or not all(isinstance(x, str) and x for x in src)):
        raise _fail(f"{key}.static_sources", f"expected a non-empty list of source names, got {src!r}",
                    "e.g. static_sources = ['remittances', 'internal_transfers']")
    out["static_sources"] = list(src)
    if out["kind"] not in ("unconditional", "conditional"):
        raise _fail(f"{key}.kind", f"unknown prediction {out['kind']!r}", "use 'unconditional' or 'conditional'")
    if "weighted" in out and not isinstance(out["weighted"], bool):
        raise _fail(f"{key}.weighted", f"expected true/false, got {out['weighted']!r}", "weighted = true")
    if "nonpositive" in out and out["nonpositive"] not in ("exclude", "error"):
        raise _fail(f"{key}.nonpositive", f"unknown policy {out['nonpositive']!r}", "use 'exclude' or 'error'")
    return out


def check_counterfactual_columns(spec, survey) -> None:
    """After loading (before estimation): the multinomial counterfactual's columns exist.

    Checks the status column (a column or role name) and its base category, the
    ``static_sources`` and every variable of the formulas.
    """
    cf = spec.counterfactual or {}
    if cf.get("method") != "multinomial":
        return
    key = f"{spec.key}.counterfactual"
    cols = survey.data.columns
    status = survey.roles.get(cf["status"], cf["status"])
    if status not in cols:
        raise _fail(f"{key}.status", f"no column or role {cf['status']!r} in the loaded survey (the multinomial "
                    "counterfactual needs a migration status with a no-migrant category)",
                    "set status = '<column>' (e.g. synthetic options migration_types = true add "
                    "'migration_status'), or use method = 'heckman'")
    values = sorted(map(str, survey.data[status].dropna().unique()))
    if cf["base"] not in values:
        raise _fail(f"{key}.base", f"category {cf['base']!r} not in the status column {status!r} "
                    f"(values {values})", f"set base to one of {values}")
    if len(values) < 2:
        raise _fail(f"{key}.status", f"the status column {status!r} has a single category {values}",
                    "use a status with a base and at least one migrant category")
    for src in cf["static_sources"]:
        if src not in survey.sources and src not in survey.roles and src not in cols:
            raise _fail(f"{key}.static_sources", f"unknown income source {src!r}",
                        f"use source names {sorted(survey.sources)}, roles or column names")
    for k in ("income_formula", "selection_formula", "binary_selection_formula"):
        if k in cf:  # only the loaded survey's columns and the allowed functions (remitpov.formula)
            _formula(cf[k].split("~", 1)[-1], f"{key}.{k}", cols)
