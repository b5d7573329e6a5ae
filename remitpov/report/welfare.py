"""The welfare concept of a survey, as its loader (and :func:`remitpov.income.build_income`) state it.

Every label of the chapter that names the welfare measure -- table titles and notes, figure
titles and axes, in every language -- comes from here, so a consumption survey is never
called "income" and an equivalised income never "per capita".

Where the concept comes from
----------------------------
:class:`remitpov.survey.SurveyMetadata` carries ``welfare`` ("income" or "consumption",
stated by the loader: ENCOVI 2000 reads per capita *consumption*) and ``welfare_scale``
(the equivalence scale already applied to the concept the survey carries: the EU-SILC
loader builds income per modified-OECD equivalent adult; ``build_income`` records the scale
it divided by). The chapter reads them from the prepared survey, never from the spec.

Keys (:func:`welfare_key`): ``per_capita``, ``none`` (per household), ``sqrt``,
``oecd_modified``, ``coneval``, ``consumption`` (per capita consumption),
``consumption_<scale>``, ``income`` (the scale is not stated). Each has a ``scale_<key>``
text in the ``"pub"`` section of :mod:`remitpov.report.i18n`.
"""
from __future__ import annotations

from typing import Iterable

from .i18n import TEXT, text

__all__ = ["welfare_key", "welfare_measure", "welfare_text", "welfare_phrase", "measure_text", "concept_header"]


def welfare_key(meta) -> str:
    """The welfare key of a survey's :class:`~remitpov.survey.SurveyMetadata` (see the module docstring)."""
    measure = getattr(meta, "welfare", None) or "income"
    scale = getattr(meta, "welfare_scale", None)
    if measure == "consumption":
        return "consumption" if scale in (None, "per_capita") else f"consumption_{scale}"
    return str(scale) if scale else "income"


def welfare_measure(key: str) -> str:
    """"consumption" or "income" for a welfare key."""
    return "consumption" if key.startswith("consumption") else "income"


def welfare_text(key: str, language: str = "en") -> str:
    """The noun phrase of one key ("per capita income", "consumo per cápita", ...); a scale the
    translation table does not know (a callable's name) falls back to the bare measure."""
    k = "scale_" + key
    if k not in TEXT["en"]["pub"]:
        k = "measure_" + welfare_measure(key)
    return text("pub", k, language)


def measure_text(keys: Iterable[str], language: str = "en") -> str:
    """"income", "consumption" or "income or consumption" (in ``language``) for a set of keys."""
    found = {welfare_measure(k) for k in keys}
    ms = [m for m in ("income", "consumption") if m in found] or ["income"]
    return text("pub", "or", language).join(text("pub", "measure_" + m, language) for m in ms)


def welfare_phrase(keys: Iterable[str], language: str = "en") -> str:
    """One phrase for several surveys: the key's text when they share one, else the measures
    ("income or consumption")."""
    ks = list(dict.fromkeys(keys))
    if len(ks) == 1:
        return welfare_text(ks[0], language)
    return measure_text(ks, language)


def concept_header(keys: Iterable[str], language: str = "en") -> str:
    """The header of the tidy tables' ``concept`` column for surveys of welfare ``keys``: their
    measure, capitalised -- "Income", "Consumption" or "Income or consumption" (in ``language``).
    The cells keep their codes ("with", "without", "total"; documented in the tidy schema)."""
    m = measure_text(keys, language)
    return m[:1].upper() + m[1:]
