"""The chapter spec's ``[labels]`` section: the spec's own texts for any text the chapter writes.

:func:`parse_labels` checks the section against the translation table
(:data:`remitpov.report.i18n.TEXT`); :func:`remitpov.report.i18n.label_overrides` makes the
checked texts win over the table's while a chapter is written.
"""
from __future__ import annotations

import difflib
import string
from collections.abc import Mapping

from ..exceptions import SpecError
from .i18n import TEXT

__all__ = ["parse_labels"]


def _fields(s: str) -> set[str]:
    return {f for _, f, _, _ in string.Formatter().parse(s) if f}


def parse_labels(raw, name: str = "labels") -> dict[str, dict[str, str]]:
    """Check a spec's ``[labels]`` section: ``[labels.<section>] <key> = "text"``.

    Every text the chapter writes can be replaced, in the chapter's language, e.g. for an
    EU-SILC chapter on private transfers::

        [labels.figure]
        with = "With private transfers"
        paired_title = "{indicator} with and without private transfers"

    Sections and keys are those of :data:`TEXT` (``title``, ``header``, ``figure``, ``pub``,
    ``report``); a replacement may use the placeholders of the text it replaces (``{indicator}``
    above), no others. Raises :class:`~remitpov.exceptions.SpecError` naming the key, with the
    closest valid names.
    """
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        raise SpecError(f"{name}: must be a table of tables ([{name}.figure] with = \"...\")")
    out: dict[str, dict[str, str]] = {}
    for sec, keys in raw.items():
        if sec not in TEXT["en"]:
            near = difflib.get_close_matches(str(sec), list(TEXT["en"]), n=3)
            raise SpecError(f"{name}.{sec}: unknown section. Fix: use one of {sorted(TEXT['en'])}"
                            + (f" (did you mean {near[0]!r}?)" if near else ""))
        if not isinstance(keys, Mapping):
            raise SpecError(f"{name}.{sec}: must be a table of key = \"text\"")
        for key, value in keys.items():
            default = TEXT["en"][sec].get(key)
            if default is None:
                near = difflib.get_close_matches(str(key), list(TEXT["en"][sec]), n=3)
                raise SpecError(f"{name}.{sec}.{key}: unknown key. Fix: use a key of the {sec!r} texts"
                                + (f", e.g. {', '.join(map(repr, near))}" if near else
                                   " (remitpov.report.i18n.TEXT lists them)"))
            if not isinstance(value, str):
                raise SpecError(f"{name}.{sec}.{key}: expected a string, got {value!r}")
            try:
                extra = _fields(value) - _fields(default)
            except ValueError as e:
                raise SpecError(f"{name}.{sec}.{key}: {e} in {value!r}. Fix: write braces as {{{{ and }}}}") from None
            if extra:
                raise SpecError(f"{name}.{sec}.{key}: unknown placeholder(s) {sorted(extra)} in {value!r}. "
                                f"Fix: use only {sorted(_fields(default)) or 'no placeholders'} "
                                f"(the text replaced is {default!r})")
            out.setdefault(sec, {})[key] = value
    return out


