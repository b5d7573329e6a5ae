"""Publication tables in the ECLAC (*Social Panorama*) layout, written next to the tidy ones.

The tidy tables (``tables/``: CSV/XLSX/Markdown/LaTeX, one row per estimate, codes in
cells) are for machines and stay as they are. Every chapter also gets ``publication/`` by
default (:func:`chapter_publication`; ``[publication] layout = "none"`` turns it off): the
same numbers laid out for a report, in the chapter's language:

* **countries/surveys in rows** (the survey label with its year, country names translated
  in Spanish), **labels, not codes**, in two-level headers ("Total population" /
  "With remittances", ...);
* **one unit per column, said in its header**: rates in percent with one decimal,
  differences and their standard errors in percentage points ("pp"), the Gini on the 0--1
  scale with three decimals, counts as whole numbers;
* a **significance mark** on every difference whose design-based confidence interval (the
  chapter's ``ci_level``, the tidy table's ``ci_lower``/``ci_upper``) excludes zero;
* every table has a **title, a "Source:" line and notes**: the poverty lines with their
  currency and period, the income concept, what "without remittances" means, the CI level
  and the mark, the unweighted sample size -- defaults from the surveys' metadata and the
  spec, each overridable in ``[publication]``;
* **formats**: ``publication.xlsx`` (one sheet per table with number formats -- the mark
  is part of the cell's number format, so the cell stays a number --, column widths, a
  frozen header, title/source/notes rows, and the tidy data on ``data_*`` sheets;
  deterministic bytes), one LaTeX fragment per table plus ``publication.tex`` (an A4
  document that ``\\input``\\ s them: booktabs, a font size chosen so the table fits the
  text width, landscape beyond that, ``longtable`` for long tables), Markdown, and a CSV of
  the displayed numbers (full precision, the layout's columns).

Numbers are the tidy tables' numbers, never recomputed (the Gini is divided by 100 to be
back on the 0--1 scale); Spanish tables use a decimal comma and a point for thousands.

Spec section
------------
.. code-block:: toml

    [publication]
    layout = "eclac"                    # the only layout ("none": no publication tables)
    tables = ["poverty", "indigence", "gap", "gini", "incidence", "quintiles"]  # default: all that apply
    formats = ["xlsx", "tex", "md", "csv"]
    source = "Own calculations based on household surveys."   # replaces the default Source line
    notes = ["A note added under every table."]
    mark = "*"                          # significance mark
    [publication.sources]               # per survey id: the survey and its producer
    mex2018 = "INEGI, Encuesta Nacional de Ingresos y Gastos de los Hogares (ENIGH) 2018"
    [publication.labels]                # any header or title key of the "pub" text table
    recipients = "Persons in recipient households"
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from ..exceptions import SpecError
from .i18n import text as _text
from .welfare import measure_text, welfare_key, welfare_phrase

#: the layouts of ``[publication] layout``
LAYOUTS = ("eclac", "none")
#: the publication tables, in their order
PUB_TABLES = ("poverty", "indigence", "gap", "gini", "incidence", "quintiles", "counterfactual")
PUB_FORMATS = ("xlsx", "tex", "md", "csv")
#: the tidy tables the publication tables are made from (their data sheets in publication.xlsx)
PUB_SOURCES = ("poverty", "fgt", "gini", "incidence", "counterfactual")
_KEYS = {"layout", "tables", "formats", "source", "notes", "mark", "sources", "labels"}
#: who produces each loader's survey (the default "Source:" line)
PRODUCERS = {"enigh": "INEGI", "enigh_tables": "INEGI", "encovi2000": "INE Guatemala", "eusilc": "Eurostat",
             "synthetic": "remitpov"}

#: the kinds of numeric columns: (decimals, unit key)
KINDS = {"pct": (1, "unit_pct"), "pp": (1, "unit_pp"), "se_pp": (2, "unit_pp"), "gini": (3, None),
         "se_gini": (3, None), "int": (0, None), "money": (1, None), "text": (0, None)}


# =========================================================================== spec
@dataclass(frozen=True)
class PublicationSpec:
    """The validated ``[publication]`` section (see the module docstring)."""

    layout: str = "eclac"
    tables: tuple[str, ...] = PUB_TABLES
    formats: tuple[str, ...] = PUB_FORMATS
    source: str | None = None
    notes: tuple[str, ...] = ()
    mark: str = "*"
    sources: Mapping[str, str] = field(default_factory=dict)
    labels: Mapping[str, str] = field(default_factory=dict)


def parse_publication(raw, key: str = "publication") -> PublicationSpec | None:
    """Validate a ``[publication]`` table (None when absent or ``layout = "none"``)."""
    if raw is None:
        return None
    if not isinstance(raw, Mapping):
        raise SpecError(f"{key}: must be a table. Fix: write a [publication] section")
    unknown = sorted(set(raw) - _KEYS)
    if unknown:
        raise SpecError(f"{key}: unknown key(s) {unknown}. Fix: remove them; known keys are {sorted(_KEYS)}")
    layout = raw.get("layout", "eclac")
    if layout not in LAYOUTS:
        raise SpecError(f"{key}.layout: unknown layout {layout!r}. Fix: use one of {list(LAYOUTS)}")
    if layout == "none":
        return None

    def names(k, allowed):
        v = raw.get(k, list(allowed))
        v = [v] if isinstance(v, str) else v
        bad = [x for x in v if x not in allowed] if isinstance(v, (list, tuple)) else [v]
        if bad:
            raise SpecError(f"{key}.{k}: unknown value(s) {bad}. Fix: use some of {list(allowed)}")
        return tuple(dict.fromkeys(v))

    def strings(k, kind):
        v = raw.get(k, {} if kind is dict else [])
        ok = (isinstance(v, Mapping) and all(isinstance(x, str) for x in v.values())) if kind is dict else \
            (isinstance(v, (list, tuple)) and all(isinstance(x, str) for x in v))
        if not ok:
            raise SpecError(f"{key}.{k}: expected {'a table of strings' if kind is dict else 'a list of strings'}, "
                            f"got {v!r}. Fix: e.g. {k} = {{id = 'text'}}" if kind is dict else
                            f"{key}.{k}: expected a list of strings, got {v!r}. Fix: e.g. {k} = ['a note']")
        return dict(v) if kind is dict else tuple(v)

    for k in ("source", "mark"):
        if k in raw and not isinstance(raw[k], str):
            raise SpecError(f"{key}.{k}: expected a string, got {raw[k]!r}. Fix: {k} = \"...\"")
    return PublicationSpec(layout, names("tables", PUB_TABLES), names("formats", PUB_FORMATS), raw.get("source"),
                           strings("notes", list), raw.get("mark", "*"), strings("sources", dict),
                           strings("labels", dict))


def chapter_publication(raw, chapter_formats: Sequence[str]) -> PublicationSpec | None:
    """The publication layout a chapter writes: its ``[publication]`` section, or -- when the
    spec has none -- the ECLAC layout BY DEFAULT, in the formats the chapter asked for its
    tidy tables (``[chapter] tables``, those of :data:`PUB_FORMATS`), so a chapter is
    publishable as it comes out. ``layout = "none"`` (or a chapter with no such format) writes
    none. The tidy tables are written either way and are unchanged by the layout."""
    if raw is not None:
        return parse_publication(raw)
    formats = tuple(f for f in PUB_FORMATS if f in chapter_formats)
    return PublicationSpec(formats=formats) if formats else None


# =========================================================================== numbers as text
def format_number(v, decimals: int, language: str = "en") -> str:
    """``v`` with ``decimals`` decimals and a thousands separator; Spanish: ``1.234,5``.

    Not finite (not available) -> "…". Negative zero after rounding prints as 0.
    """
    if v is None or not np.isfinite(v):
        return "…"
    s = f"{float(v):,.{decimals}f}"
    if re.fullmatch(r"-0(\.0*)?", s):
        s = s[1:]
    if language == "es":
        s = s.translate(str.maketrans({",": ".", ".": ","}))
    return s


def localise_label(label: str, language: str) -> str:
    """A survey label in ``language``: in Spanish, a leading English country name (from
    :func:`remitpov.migration.countries.country_table`) becomes its Spanish name and
    "Country X" becomes "País X"."""
    if language != "es":
        return label
    m = re.match(r"(?i)country\b", label)
    if m:
        return "País" + label[m.end():]
    from ..migration.countries import country_table

    ct = country_table()
    pairs = sorted({**dict(zip(ct["name"], ct["name_es"])), **dict(zip(ct["name_short"], ct["name_es"]))}.items(),
                   key=lambda kv: -len(str(kv[0])))
    for en, es in pairs:
        en = str(en)
        if label.startswith(en) and (len(label) == len(en) or not label[len(en)].isalnum()):
            return str(es) + label[len(en):]
    return label


# =========================================================================== the layout
@dataclass(frozen=True)
class Column:
    """One column: ``key`` in :attr:`PubTable.values`, header text, top header group, kind (:data:`KINDS`)."""

    key: str
    header: str
    group: str = ""
    kind: str = "pct"

    @property
    def decimals(self) -> int:
        return KINDS[self.kind][0]


@dataclass(frozen=True)
class PubTable:
    """A publication table: rows of ``values`` (first column: the survey label), columns,
    significance ``marks`` (bool, same shape as ``values``), title, source and notes."""

    name: str
    title: str
    columns: tuple[Column, ...]
    values: pd.DataFrame
    marks: pd.DataFrame
    source: str
    notes: tuple[str, ...]
    sheet: str

    def cells(self, language: str, mark: str = "*") -> list[list[str]]:
        """The displayed cells (numbers formatted in ``language``, marks appended)."""
        out = []
        for i in range(len(self.values)):
            row = []
            for c in self.columns:
                v = self.values[c.key].iloc[i]
                if c.kind == "text":
                    row.append(str(v))
                    continue
                s = format_number(v, c.decimals, language)
                row.append(s + (mark if bool(self.marks[c.key].iloc[i]) else ""))
            out.append(row)
        return out


def pub_text(key: str, language: str, labels: Mapping[str, str] | None = None, **fmt) -> str:
    """The ``"pub"`` text ``key`` in ``language`` (:mod:`remitpov.report.i18n`), or its override in
    ``labels`` (``[publication.labels]``), formatted with ``fmt``."""
    if labels and key in labels:
        return labels[key].format(**fmt) if fmt else labels[key]
    return _text("pub", key, language, **fmt)


_t = pub_text


@dataclass(frozen=True)
class SurveyInfo:
    """What the notes need about one survey (from the prepared survey and its spec)."""

    id: str
    label: str
    loader: str
    name: str
    year: int | None
    currency: str | None
    period: str | None
    scale: str  # welfare key (remitpov.report.welfare.welfare_key): the loader's concept, not the spec's
    n: int
    lines: Mapping[str, str]  # kind -> "3,001.17 (urban), 1,941.35 (rural)"


def survey_info(p, language: str) -> SurveyInfo:
    """:class:`SurveyInfo` of a :class:`remitpov.report.chapter.PreparedSurvey`."""
    from .blocks._common import AREA, HH_FIRST

    sv, meta = p.survey, p.survey.metadata
    data = sv.data
    n = int(data[HH_FIRST].sum()) if HH_FIRST in data.columns else len(data)
    lines = {}
    for kind, line in p.spec.lines.items():
        vals = p.line_values.get(kind)
        if vals is None:
            continue
        if AREA in data.columns:
            by = pd.Series(vals).groupby(data[AREA].astype(str).to_numpy(), sort=True).agg(["min", "max"])
            if len(by) > 1 and (by["min"] == by["max"]).all() and by["max"].nunique() > 1 and len(by) <= 4:
                lines[kind] = ", ".join(f"{format_number(v, 2, language)} ({_t('area_' + str(a), language, default=str(a))})"
                                        for a, v in by["max"].items())
                continue
        u = np.unique(vals)
        lines[kind] = format_number(u[0], 2, language) if u.size == 1 else \
            _t("line_range", language, lo=format_number(u.min(), 2, language), hi=format_number(u.max(), 2, language))
        if line.relative is not None:
            stat, frac, concept = line.relative
            lines[kind] += " " + _t("line_relative", language, pct=format_number(100 * frac, 0, language),
                                    stat=_t(stat, language), concept=_t("concept_" + concept, language))
    year = meta.year if meta.year is not None else p.spec.options.get("year")
    scale = welfare_key(sv.metadata)  # the loader's / build_income's word (remitpov.report.welfare), not the spec's
    return SurveyInfo(p.spec.id, p.spec.label, p.spec.format, meta.name, year, meta.currency, p.income_period,
                      scale, n, lines)


def _row_label(info: SurveyInfo, language: str) -> str:
    lab = localise_label(info.label, language)
    if info.year is not None and str(info.year) not in lab:
        lab = f"{lab} ({info.year})"
    return lab


def source_line(pub: PublicationSpec, infos: Sequence[SurveyInfo], language: str) -> str:
    """The "Source:" line of every table and figure: ``[publication] source`` if given, else each
    survey's producer, name and year (``[publication.sources]`` replaces one survey's part;
    several synthetic surveys share one phrase)."""
    if pub.source:
        return pub.source
    parts = []
    synthetic = [i for i in infos if i.loader == "synthetic" and i.id not in pub.sources]
    for i in infos:
        if i.id in pub.sources:
            parts.append(pub.sources[i.id])
            continue
        if len(synthetic) > 1 and i.loader == "synthetic":  # one phrase for all of them
            parts.append(_t("synthetic_many", language))
            continue
        producer = PRODUCERS.get(i.loader)
        what = i.name if i.loader != "synthetic" else _t("synthetic", language, name=localise_label(i.label, language))
        if i.year is not None and str(i.year) not in what and i.loader != "synthetic":
            what = f"{what} {i.year}"
        parts.append(f"{producer}, {what}" if producer and i.loader != "synthetic" else what)
    return _t("source", language, surveys="; ".join(dict.fromkeys(parts)))


_source_line = source_line  # former name


def _common_notes(pub, infos, language, kinds=("poverty", "indigence"), level=0.95, lines=True) -> list[str]:
    notes = []
    if lines:
        for kind in kinds:
            per = []
            for i in infos:
                if kind in i.lines:
                    unit = _t("per_person", language, currency=i.currency or "",
                              period=_t("period_" + (i.period or "unknown"), language)).replace("  ", " ")
                    per.append(f"{_row_label(i, language)}: {i.lines[kind]} {unit}")
            if per:
                notes.append(_t("note_lines", language, line=_t(kind, language)) + " " + "; ".join(per) + ".")
    keys = sorted({i.scale for i in infos})
    if len(keys) == 1:
        scale = welfare_phrase(keys, language)
    else:  # each concept with the surveys that measure it (the loaders' word: remitpov.report.welfare)
        scale = "; ".join(f"{welfare_phrase([k], language)} ({', '.join(_row_label(i, language) for i in infos if i.scale == k)})"
                          for k in keys)
    notes.append(_t("note_income", language, scale=scale))
    if lines:
        notes.append(_t("note_poor", language, scale=scale) if len(keys) == 1 else _t("note_poor_mixed", language))
    return notes


def _stat_notes(pub, language, level, percent=True) -> list[str]:
    out = [_t("note_without", language), _t("note_mark", language, mark=pub.mark,
                                            level=format_number(100 * level, 0, language))]
    return out + ([_t("note_pp", language)] if percent else []) + [_t("note_n", language)]


def _pick(frame: pd.DataFrame, survey: str, value: str = "estimate", **keys) -> float:
    m = frame["survey"] == survey
    for k, v in keys.items():
        m &= frame[k].astype(str) == str(v)
    sub = frame.loc[m, value]
    return float(sub.iloc[0]) if len(sub) else math.nan


def _significant(frame: pd.DataFrame, survey: str, **keys) -> bool:
    lo, hi = _pick(frame, survey, "ci_lower", **keys), _pick(frame, survey, "ci_upper", **keys)
    return bool(np.isfinite(lo) and np.isfinite(hi) and (lo > 0 or hi < 0))


def _with_without(frame, survey, scale=1.0, **keys) -> tuple[list[float], list[bool]]:
    """[with, without, difference, SE of difference] (x scale) and their marks; a survey without
    remittances has its total in 'with' and nothing else."""
    w = _pick(frame, survey, concept="with", **keys)
    if not np.isfinite(w):
        return [_pick(frame, survey, concept="total", **keys) * scale] + [math.nan] * 3, [False] * 4
    vals = [w, _pick(frame, survey, concept="without", **keys), _pick(frame, survey, concept="difference", **keys),
            _pick(frame, survey, "se", concept="difference", **keys)]
    return [v * scale for v in vals], [False, False, _significant(frame, survey, concept="difference", **keys), False]


def _ww_rows(frame, infos, lab, key: str, parts, tail):
    """Rows ``[label, *with/without/difference/SE per part, *tail(info)]`` and their marks, one per
    survey present in ``frame``; ``key`` is the column that tells the parts apart."""
    rows, marks = [], []
    for i in infos:
        if not (frame["survey"] == i.label).any():
            continue
        vals, mk, extra = [lab[i.label]], [False], tail(i)
        for part in parts:
            v, m = _with_without(frame, i.label, **{key: part})
            vals += v
            mk += m
        rows.append(vals + extra)
        marks.append(mk + [False] * len(extra))
    return rows, marks


def _ww_columns(prefix: str, group: str, language, labels, kind="pct", se_kind="se_pp", diff_kind="pp"):
    return [Column(f"{prefix}with", _t("with", language, labels), group, kind),
            Column(f"{prefix}without", _t("without", language, labels), group, kind),
            Column(f"{prefix}difference", _t("difference", language, labels), group, diff_kind),
            Column(f"{prefix}se", _t("se_difference", language, labels), group, se_kind)]


def _total_only(frame: pd.DataFrame | None) -> bool:
    """No survey of the table has remittances (every row's concept is "total")."""
    return frame is not None and len(frame) > 0 and set(frame["concept"].astype(str)) == {"total"}


def _total_table(name, frame, infos, lab, key, parts, groups, kind, se_kind, scale, title, notes, source, language,
                 labels, label_col, tail=True) -> PubTable:
    """A chapter without remittances: per part (``key`` = value), the estimate and its SE of the
    whole population, no with/without columns (they would be empty) and no marks."""
    rows = []
    for i in infos:
        if not (frame["survey"] == i.label).any():
            continue
        vals = [lab[i.label]]
        for part in parts:
            vals += [scale * _pick(frame, i.label, concept="total", **{key: part}),
                     scale * _pick(frame, i.label, "se", concept="total", **{key: part})]
        rows.append(vals + ([i.n] if tail else []))
    cols = [label_col]
    for k, (part, group) in enumerate(zip(parts, groups)):
        cols += [Column(f"e{k}", _t("estimate", language, labels), group, kind),
                 Column(f"s{k}", _t("se_difference", language, labels), group, se_kind)]
    if tail:
        cols.append(Column("n", _t("n", language, labels), "", "int"))
    return _make(name, title, cols, rows, [[False] * len(cols)] * len(rows), source, notes, language, labels)


def _make(name, title, columns, rows, marks, source, notes, language, labels) -> PubTable:
    keys = [c.key for c in columns]
    values = pd.DataFrame(rows, columns=keys)
    mk = pd.DataFrame(marks, columns=keys).fillna(False).astype(bool)
    return PubTable(name, title, tuple(columns), values, mk, source, tuple(notes),
                    _t("sheet_" + name, language, labels)[:31])


def build_tables(tables: Mapping[str, pd.DataFrame], infos: Sequence[SurveyInfo], pub: PublicationSpec,
                 language: str = "en", level: float = 0.95) -> dict[str, PubTable]:
    """The publication tables that apply, from the chapter's tidy ``tables`` (see the module docstring).

    ``infos`` are the surveys in the chapter's order; their labels are the tidy tables'
    ``survey`` values.
    """
    L = pub.labels
    source = source_line(pub, infos, language)
    extra = list(pub.notes)
    out: dict[str, PubTable] = {}
    pov, inc = tables.get("poverty"), tables.get("incidence")
    lab = {i.label: _row_label(i, language) for i in infos}
    label_col = Column("label", _t("survey", language, L), "", "text")

    def share(i):
        if inc is None:
            return math.nan
        return _pick(inc, i.label, domain="total", indicator="persons_in_recipient_households")

    for kind in ("poverty", "indigence"):
        if kind not in pub.tables or pov is None or not (pov["indicator"] == kind).any():
            continue
        if _total_only(pov):  # no survey with remittances: the rates, their SEs and the sample only
            sub = pov[(pov["indicator"] == kind) & (pov["population"] == "total")]
            notes = _common_notes(pub, infos, language, (kind,), level) + [_t("note_pct_se", language),
                                                                           _t("note_n", language)] + extra
            out[kind] = _total_table(kind, sub, infos, lab, "indicator", (kind,), (_t("total", language, L),), "pct",
                                     "se_pp", 1.0, _t(f"title_{kind}_total", language, L), notes, source, language,
                                     L, label_col)
            continue
        rows, marks = _ww_rows(pov[pov["indicator"] == kind], infos, lab, "population", ("total", "recipients"),
                               lambda i: [share(i), i.n])
        cols = [label_col, *_ww_columns("t_", _t("total", language, L), language, L),
                *_ww_columns("r_", _t("recipients", language, L), language, L),
                Column("share", _t("recipient_share", language, L), "", "pct"),
                Column("n", _t("n", language, L), "", "int")]
        notes = _common_notes(pub, infos, language, (kind,), level) + _stat_notes(pub, language, level) + extra
        out[kind] = _make(kind, _t("title_" + kind, language, L), cols, rows, marks, source, notes, language, L)

    fgt = tables.get("fgt")
    if "gap" in pub.tables and _total_only(fgt):
        notes = [_t("note_fgt", language)] + _common_notes(pub, infos, language, ("poverty",), level) + \
            [_t("note_pct_se", language), _t("note_n", language)] + extra
        out["gap"] = _total_table("gap", fgt[fgt["domain"] == "total"], infos, lab, "measure", ("fgt1", "fgt2"),
                                  (_t("fgt1", language, L), _t("fgt2", language, L)), "pct", "se_pp", 1.0,
                                  _t("title_gap_total", language, L), notes, source, language, L, label_col)
    elif "gap" in pub.tables and fgt is not None:
        rows, marks = _ww_rows(fgt[fgt["domain"] == "total"], infos, lab, "measure", ("fgt1", "fgt2"),
                               lambda i: [i.n])
        cols = [label_col, *_ww_columns("g1_", _t("fgt1", language, L), language, L),
                *_ww_columns("g2_", _t("fgt2", language, L), language, L), Column("n", _t("n", language, L), "", "int")]
        notes = [_t("note_fgt", language)] + _common_notes(pub, infos, language, ("poverty",), level) + \
            _stat_notes(pub, language, level) + extra
        out["gap"] = _make("gap", _t("title_gap", language, L), cols, rows, marks, source, notes, language, L)

    gini = tables.get("gini")
    if "gini" in pub.tables and _total_only(gini):
        keys = {i.scale for i in infos if (gini["survey"] == i.label).any()}
        note = _t("note_gini_total", language, welfare=welfare_phrase(sorted(keys), language))
        notes = [note] + _common_notes(pub, infos, language, level=level, lines=False) + [_t("note_n", language)] + extra
        out["gini"] = _total_table("gini", gini, infos, lab, "measure", ("gini",), (_t("gini", language, L),), "gini",
                                   "se_gini", 0.01, _t("title_gini_total", language, L,
                                                       measure=measure_text(keys, language)),
                                   notes, source, language, L, label_col)
    elif "gini" in pub.tables and gini is not None:
        rows, marks = [], []
        for i in infos:
            if not (gini["survey"] == i.label).any():
                continue
            a, ma = _with_without(gini, i.label, scale=0.01, measure="gini")  # tidy: Gini x 100 -> 0-1
            rows.append([lab[i.label], *a, i.n])
            marks.append([False, *ma, False])
        cols = [label_col, *_ww_columns("", _t("gini", language, L), language, L, "gini", "se_gini", "gini"),
                Column("n", _t("n", language, L), "", "int")]
        keys = {i.scale for i in infos if (gini["survey"] == i.label).any()}
        note = _t("note_gini", language) if keys == {"per_capita"} else \
            _t("note_gini_welfare", language, welfare=welfare_phrase(sorted(keys), language))
        notes = [note] + _common_notes(pub, infos, language, level=level, lines=False) + \
            _stat_notes(pub, language, level, percent=False) + extra
        out["gini"] = _make("gini", _t("title_gini", language, L, measure=measure_text(keys, language)), cols, rows, marks, source, notes, language, L)

    if "incidence" in pub.tables and inc is not None:
        rows = []
        for i in infos:
            if not (inc["survey"] == i.label).any():
                continue
            g = {ind: _pick(inc, i.label, domain="total", indicator=ind) for ind in
                 ("recipient_households", "persons_in_recipient_households", "remittances_pct_of_recipient_income",
                  "mean_remittance_per_person_in_recipient_households")}
            rows.append([lab[i.label], *g.values(), _t("currency_per", language, currency=i.currency or "?",
                                                     period=_t("period_" + (i.period or "unknown"), language)), i.n])
        cols = [label_col, Column("households", _t("recipient_households", language, L), "", "pct"),
                Column("persons", _t("recipient_persons", language, L), "", "pct"),
                Column("income_share", _t("remittance_share", language, L), "", "pct"),
                Column("mean", _t("mean_remittance", language, L), "", "money"),
                Column("currency", _t("currency", language, L), "", "text"),
                Column("n", _t("n", language, L), "", "int")]
        notes = [_t("note_mean", language)] + \
            _common_notes(pub, infos, language, level=level, lines=False) + [_t("note_n", language)] + extra
        out["incidence"] = _make("incidence", _t("title_incidence", language, L), cols, rows,
                                 [[False] * len(cols)] * len(rows), source, notes, language, L)

    if "quintiles" in pub.tables and inc is not None and (inc["domain"] == "quintile").any():
        sub = inc[(inc["domain"] == "quintile") & (inc["indicator"] == "persons_in_recipient_households")]
        rows = []
        for i in infos:
            if not (sub["survey"] == i.label).any():
                continue
            rows.append([lab[i.label], *[_pick(sub, i.label, group=q) for q in range(1, 6)],
                         _pick(inc, i.label, domain="total", indicator="persons_in_recipient_households")])
        wf = welfare_phrase(sorted({i.scale for i in infos if (sub["survey"] == i.label).any()}), language)
        grp = _t("quintile_group", language, L, welfare=wf)
        cols = [label_col, *[Column(f"q{q}", _t("quintile_n", language, L, q=q), grp, "pct") for q in range(1, 6)],
                Column("all", _t("total_short", language, L), "", "pct")]
        notes = [_t("note_quintile", language, welfare=wf)] + _common_notes(pub, infos, language, level=level, lines=False) + extra
        out["quintiles"] = _make("quintiles", _t("title_quintiles", language, L, welfare=wf), cols, rows,
                                 [[False] * len(cols)] * len(rows), source, notes, language, L)

    cf = tables.get("counterfactual")
    if "counterfactual" in pub.tables and cf is not None:
        sub = cf[cf["measure"] == "fgt0"]
        concepts = list(dict.fromkeys(sub["concept"]))
        rows = []
        for i in infos:
            if (sub["survey"] == i.label).any():
                rows.append([lab[i.label], *[_pick(sub, i.label, concept=c) for c in concepts],
                             *[_pick(sub, i.label, "se", concept=c) for c in concepts]])
        cols = [label_col, *[Column(f"e_{c}", _t("cf_" + c, language, L, default=c), _t("headcount", language, L), "pct")
                             for c in concepts],
                *[Column(f"s_{c}", _t("cf_" + c, language, L, default=c), _t("se_group", language, L), "se_pp")
                  for c in concepts]]
        notes = [_t("note_cf", language)] + _common_notes(pub, infos, language, ("poverty",), level) + extra
        out["counterfactual"] = _make("counterfactual", _t("title_counterfactual", language, L), cols, rows,
                                      [[False] * len(cols)] * len(rows), source, notes, language, L)
    return {k: out[k] for k in pub.tables if k in out}
