"""Run a Social Panorama remittances chapter from a spec: tables, figures, manifest.

:func:`run_chapter` does, in order:

1. **validate** the spec and the output folder (:mod:`remitpov.report.spec`);
2. **load** every survey with its loader and build the income concepts (with and without
   remittances, per person) -- then check, *before any estimate*, that every area in the
   data has a line and that surveys without remittances only ask for poverty measures;
3. **estimate**, for all surveys side by side (person weights, strict ``y < z``), every
   measure being a block of :mod:`remitpov.report.blocks` (one file each, one registry that
   also gives the spec its measure names, the tables' order, titles and figures):

   * ``incidence``: % of households and of persons in recipient households,
     remittances as % of recipients' income, mean remittance per person in recipient
     households -- total, by area, by quintile and decile of per-capita income WITHOUT
     remittances (:func:`remitpov.estimation.mean` / :func:`~remitpov.estimation.ratio`);
   * ``poverty`` and ``poverty_layout``: poverty and indigence rates with and without
     remittances, total population and persons in recipient households, SE/CI and the
     difference (:func:`remitpov.poverty.compare`), the "con y sin remesas" layout;
   * ``fgt``: P0/P1/P2 with and without (total and by area); ``gini`` with and without
     and their difference with SE/CI (joint, same sample:
     :func:`remitpov.inequality.compare_inequality`);
     ``decomposition``: Lerman--Yitzhaki source decomposition (share, marginal effect)
     (:mod:`remitpov.inequality`);
   * ``identity``: the static-counterfactual identity -- change in the total rate =
     recipients' population share x change among recipients;
   * ``counterfactual``: selection-corrected counterfactual poverty where requested
     (:mod:`remitpov.econometrics.counterfactual`: binary Heckman;
     :mod:`remitpov.econometrics.multinomial`: no migrants / internal / international);
   Long loops (imputation draws; replicate chunks on replicate-weight designs) report
   progress on one updated line when the display is on (:mod:`remitpov.report.progress`:
   a terminal, or ``REMITPOV_PROGRESS=1``; quiet otherwise);
4. **write** tables (CSV, XLSX, Markdown, LaTeX), figures (PNG/PDF/SVG) and
   ``manifest.json``.

Quantile groups (quintiles/deciles) rank persons by per-capita income without
remittances; a person's group is ``1 + floor(g x F_before)`` where ``F_before`` is the
person-weighted share of the population strictly ranked before them (ties broken by row
order, a stable sort), so every group holds ~1/g of the population.

Rates, shares and their SEs/CIs are in percent in the tables (column ``unit``); the
numbers are exactly ``100 x`` the estimators' results.
"""
from __future__ import annotations

import datetime as _dt
import importlib
import time
import warnings
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Mapping

import numpy as np
import pandas as pd

from ..exceptions import InputError, SpecError
from .manifest import build_manifest, file_sha256, survey_inputs, write_manifest
from .output import check_target, staged_output
from .progress import Progress
from .spec import (FORMATS, ChapterSpec, SurveySpec, check_counterfactual_columns, check_line_columns, check_line_period,
                   check_lines_cover, check_remittances, load_spec, parse_spec)
from .blocks import BLOCKS, check_tidy, table_order
from .blocks._common import (AREA, DECILE, HH_FIRST, QUINTILE, RECIP_LABEL, RECIPIENT, REMIT, Y_STATIC, Y_WITH,  # noqa: F401
                             Y_WITHOUT, Z_IND, Z_POV, tidy)
from .blocks.poverty import identity, poverty_layout  # noqa: F401  (former names of this module)
from .blocks.counterfactual import (counterfactual_function, counterfactual_block,  # noqa: F401  (former home)
                                    static_income)
from .i18n import label_overrides, text
from .labels import parse_labels
from .tables import write_tables
from .publication import PUB_SOURCES, PublicationSpec, build_tables, chapter_publication, source_line, survey_info
from .pubwrite import write_publication

# the column names the chapter adds to every survey (Y_WITH, ...) are in remitpov.report.blocks._common

#: The embedded demo: three synthetic countries, every measure, seconds to run.
DEMO_SPEC: dict = {
    "chapter": {"title": "Remittances, poverty and inequality (synthetic demo)", "language": "en", "seed": 2026,
                "measures": ["incidence", "poverty", "fgt", "gini", "decomposition", "curves"],
                "domains": ["area", "quintile", "decile", "recipient"], "tables": ["csv", "xlsx", "md", "tex"],
                "figures": ["png", "pdf"]},
    "lines": {"poverty": "poverty_line", "indigence": "indigence_line"},
    "survey": [
        {"id": "A", "label": "Country A", "format": "synthetic", "options": {"country": "A"}},
        {"id": "B", "label": "Country B", "format": "synthetic", "options": {"country": "B"}},
        {"id": "C", "label": "Country C", "format": "synthetic", "options": {"country": "C"}},
    ],
}


# =========================================================================== results
@dataclass(frozen=True, eq=False)
class PreparedSurvey:
    """A loaded survey with the chapter's income, domain and line columns."""

    spec: SurveySpec
    survey: Any  # remitpov.Survey
    has_remittances: bool
    lines: Mapping[str, Any]  # kind -> column name or RelativeLine
    line_values: Mapping[str, np.ndarray]  # kind -> per-row numbers (relative lines evaluated)
    household_level: str | None  # "household" (household rows), "first_member" (person rows), None
    income_period: str | None = None  # period of y_with ("month", "quarter", "year"), if known


@dataclass(frozen=True, eq=False)
class ChapterResult:
    """What :func:`run_chapter` produced."""

    out_dir: Path
    tables: Mapping[str, pd.DataFrame]
    estimates: Mapping[tuple[str, str], Any]  # (survey id, block) -> EstimateTable / result
    figures: tuple[Path, ...]
    files: tuple[Path, ...]
    manifest: Mapping[str, Any]
    surveys: Mapping[str, PreparedSurvey] = field(default_factory=dict)

    def summary(self) -> str:
        lines = [f"chapter written to {self.out_dir}", f"tables: {', '.join(self.tables)}",
                 f"figures: {len(self.figures)} files", f"manifest: {self.out_dir / 'manifest.json'}"]
        return "\n".join(lines)


# =========================================================================== loading
def _import(module: str, name: str, what: str):
    try:
        return getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError) as e:
        raise SpecError(f"{what}: {module}.{name} is not available ({e}); update remitpov") from None


def load_survey(s: SurveySpec, seed: int):
    """Load one survey with the loader named by its format."""
    module, name = FORMATS[s.format]
    loader = _import(module, name, f"{s.key}.format = {s.format!r}")
    opts = dict(s.options)
    if s.format == "synthetic":
        # a named country of remitpov.synthetic.COUNTRY_PARAMS gets its preset parameters
        presets = getattr(importlib.import_module(module), "COUNTRY_PARAMS", {})
        opts = {**presets.get(str(opts.get("country", "A")), {}), **opts}
        opts.setdefault("seed", seed)
        return loader(**opts)
    try:
        return loader(s.path, **opts)
    except TypeError as e:
        raise SpecError(f"{s.key}.options: the {s.format!r} loader rejected the options {sorted(opts)} ({e}). "
                        f"Fix: remove or rename the option") from None


def _role(survey, name: str, default: str | None = None) -> str | None:
    col = survey.roles.get(name)
    if col is not None and col in survey.data.columns:
        return col
    if default is not None and default in survey.data.columns:
        return default
    return None


def build_concepts(survey, s: SurveySpec):
    """Add y_with, y_without, remit_pc, recipient (remitpov.income.build_income when there are remittances).

    Returns ``(survey, has_remittances)``.
    """
    has_remit = _role(survey, "remittances") is not None or _role(survey, "remit_pc") is not None
    if not has_remit:
        inc = _role(survey, "y_with") or _role(survey, "income")
        if inc is None:
            raise SpecError(f"{s.key}: the loaded survey has no income role. Fix: use a loader that sets "
                            "roles['income'], or options.roles = {{income = 'column'}} with format 'table'")
        y = survey.data[inc].to_numpy(dtype=float)
        return survey.with_columns(**{Y_WITH: y, Y_WITHOUT: y}), False
    try:
        build_income = importlib.import_module("remitpov.income").build_income
    except (ImportError, AttributeError):
        build_income = None
    if build_income is not None and (s.income or _role(survey, "y_with") is None):
        survey = build_income(survey, **dict(s.income))
    cols = {}
    for key in (Y_WITH, Y_WITHOUT, REMIT, RECIPIENT):
        c = _role(survey, key, key)
        if c is None:
            raise SpecError(f"{s.key}: the income concept column {key!r} is missing after build_income. "
                            "Fix: check [income] options or the loader")
        cols[key] = survey.data[c].to_numpy()
    cols[RECIPIENT] = cols[RECIPIENT].astype(bool)
    for key in (Y_WITH, Y_WITHOUT, REMIT):
        cols[key] = cols[key].astype(float)
    return survey.with_columns(**cols), True


def quantile_groups(y: np.ndarray, w: np.ndarray, groups: int) -> np.ndarray:
    """Groups 1..g of equal weighted population by ascending ``y`` (see module docstring)."""
    order = np.argsort(y, kind="stable")
    ws = w[order]
    before = (np.cumsum(ws) - ws) / ws.sum()
    g = np.empty(y.shape[0], dtype=np.int64)
    g[order] = np.minimum(np.floor(before * groups).astype(np.int64) + 1, groups)
    return g


def _line_column(line, s: SurveySpec, area: np.ndarray | None, y_with, y_without, w, column_values=None):
    """Per-row line values; relative lines as :class:`remitpov.poverty.RelativeLine` + values."""
    n = w.shape[0]
    if line.value is not None:
        return np.full(n, line.value), None
    if line.column is not None or line.table is not None:
        return np.asarray(column_values, dtype=float), None
    if line.by_area is not None:
        if area is None:
            raise SpecError(f"{line.key}: lines are given by area but the survey has no area column. Fix: give one "
                            f"number, or set {s.key}.area = '<column>'")
        return np.array([line.by_area[a] for a in area], dtype=float), None
    from ..poverty import RelativeLine, weighted_quantile

    stat, frac, concept = line.relative
    v = y_with if concept == "with" else y_without
    value = frac * (weighted_quantile(v, w, 0.5) if stat == "median" else float((w * v).sum() / w.sum()))
    return np.full(n, float(value)), RelativeLine(share=frac, of=stat, income=Y_WITH if concept == "with" else Y_WITHOUT,
                                                  label=f"{frac:g} x {stat}")


def concept_period(s: SurveySpec, survey, built: bool | None = None) -> str | None:
    """Period of the chapter's income concept ``y_with``.

    ``[income] period`` (default "month") when :func:`remitpov.report.chapter.build_concepts`
    ran :func:`remitpov.income.build_income` (``built``; when not given: when the survey has
    the ``income_factor`` role), else the loaded survey's ``metadata.income_period`` (None
    when unknown). A loader that builds its own income concept (EU-SILC: per year) also sets
    ``income_factor``, so ``built`` must be given to tell the two apart.
    """
    if built if built is not None else "income_factor" in survey.roles:
        return s.income.get("period", "month")
    return survey.metadata.income_period


def _builds_income(s: SurveySpec, survey) -> bool:
    """Whether :func:`build_concepts` will run ``build_income`` on the loaded ``survey``."""
    has_remit = _role(survey, "remittances") is not None or _role(survey, "remit_pc") is not None
    return has_remit and (bool(s.income) or _role(survey, "y_with") is None)


#: plausible range of a headcount rate (percent) with the observed income; outside: a warning
PLAUSIBLE_RATE = (0.5, 95.0)


def rate_warnings(p: PreparedSurvey, strict: bool = True) -> list[str]:
    """Warn when a line puts more than 95 % or less than 0.5 % of persons below it.

    The rate is the person-weighted headcount with the observed income ``y_with`` (a
    plausibility check, not an estimate). Each message names the line, the rate and the
    likely cause; they are issued as :class:`~remitpov.exceptions.DataWarning` and returned
    (the chapter records them in ``manifest.json``).
    """
    from ..exceptions import DataWarning

    y = p.survey.data[Y_WITH].to_numpy(float)
    w = p.survey.weights("person")
    lo, hi = PLAUSIBLE_RATE
    period = p.income_period or "(unknown period)"
    out = []
    for kind, z in p.line_values.items():
        below = y < z if strict else y <= z
        rate = 100 * float(w[below].sum() / w.sum())
        if lo <= rate <= hi:
            continue
        line = p.spec.lines[kind]
        if rate > hi:
            cause = (f"the line is likely in a longer period than the income (e.g. an annual line against income "
                     f"per {period}), in another currency, or the income is in smaller units")
        else:
            cause = (f"the line is likely in a shorter period than the income (e.g. a monthly line against income "
                     f"per {period}), in another currency, or the income is in larger units")
        msg = (f"{line.key}: {rate:.2f} % of persons in survey {p.spec.id!r} are below the {kind} line "
               f"({line.describe()}), outside the plausible {lo:g}-{hi:g} %: {cause}. Check [income] period and "
               "the line values (declare [survey.lines] period to have a mismatch refused)")
        warnings.warn(msg, DataWarning, stacklevel=2)
        out.append(msg)
    return out


def _table_lines(s: SurveySpec, survey, area_col, period: str | None) -> dict | None:
    """Lines from a :class:`remitpov.lines.PovertyLines` table (``[survey.lines] from = ...``)."""
    specs = [l for l in s.lines.values() if l.table is not None]
    if not specs:
        return None
    from ..lines import PovertyLines, default_lines

    src, country, year = specs[0].table
    if src == "coneval":
        from ..io.enigh_tables import coneval_lines

        table = coneval_lines()
    else:
        table = default_lines() if src == "default" else PovertyLines(pd.read_csv(src))
    try:
        ind, pov = table.for_survey(survey, country, year, area_col=area_col, period=period or "month")
    except InputError as e:
        raise SpecError(f"{s.key}.lines: {e}. Fix: add the missing line to the table, or set country/year "
                        "to a (country, year) the table has") from None
    return {"indigence": ind, "poverty": pov}


def prepare_survey(s: SurveySpec, seed: int) -> PreparedSurvey:
    """Load, build income concepts and domains, check lines -- no estimation."""
    survey = load_survey(s, seed)
    if s.lonely_psu is not None:
        survey = survey.with_lonely_psu(s.lonely_psu)
    built = _builds_income(s, survey)
    survey, has_remit = build_concepts(survey, s)
    period = concept_period(s, survey, built)
    check_line_period(s, period)
    check_remittances(s, has_remit)
    if (s.counterfactual or {}).get("method", "static") != "static":
        counterfactual_function(s)
    if has_remit:
        check_counterfactual_columns(s, survey)
    w = survey.weights("person")
    area_col = s.area or _role(survey, "area")
    if s.area is not None and s.area not in survey.data.columns:
        raise SpecError(f"{s.key}.area: column {s.area!r} not found. Fix: use one of {sorted(map(str, survey.data.columns))[:30]}")
    area = None
    cols: dict[str, Any] = {}
    if area_col is not None:
        area = survey.data[area_col].astype(str).to_numpy(dtype=object)
        cols[AREA] = area
    check_lines_cover(s, [] if area is None else np.unique(area))
    check_line_columns(s, survey)
    yw, yo = survey.data[Y_WITH].to_numpy(float), survey.data[Y_WITHOUT].to_numpy(float)
    cols[QUINTILE] = quantile_groups(yo, w, 5)
    cols[DECILE] = quantile_groups(yo, w, 10)
    if has_remit:
        cols[RECIP_LABEL] = np.where(survey.data[RECIPIENT].to_numpy(bool), "recipients", "non-recipients")
    lines, values = {}, {}
    table_lines = _table_lines(s, survey, area_col, period)
    for kind, line in s.lines.items():
        col = Z_POV if kind == "poverty" else Z_IND
        cv = None
        if line.column is not None:
            cv = survey.data[survey.roles.get(line.column, line.column)].to_numpy(float)
        elif line.table is not None:
            cv = table_lines[kind]
        vals, rel = _line_column(line, s, area, yw, yo, w, cv)
        cols[col] = vals
        lines[kind] = rel if rel is not None else col
        values[kind] = vals
    hh_level = None
    if survey.unit == "household" and survey.size is not None:
        hh_level = "household"
    elif survey.unit == "person" and _role(survey, "household") is not None:
        hh = survey.data[_role(survey, "household")].to_numpy()
        cols[HH_FIRST] = ~pd.Series(hh).duplicated().to_numpy()
        hh_level = "first_member"
    survey = survey.with_columns(**cols)
    return PreparedSurvey(s, survey, has_remit, lines, values, hh_level, period)


# =========================================================================== estimation blocks
# The blocks live in remitpov.report.blocks (one file each, one registry). These wrappers keep
# the former per-block functions: (rows of the block's main table, estimates) for one survey.
def _block_function(measure: str, table: str):
    def run(spec: ChapterSpec, p: PreparedSurvey, progress=None):
        res = BLOCKS[measure].run(spec, p, {"progress": lambda label: progress})
        return res.tables.get(table), res.estimates

    run.__name__ = f"{measure}_block"
    run.__doc__ = f"``BLOCKS[{measure!r}].run`` for one survey: (rows of table {table!r}, estimates)."
    return run


incidence_block = _block_function("incidence", "incidence")
poverty_block = _block_function("poverty", "poverty")
fgt_block = _block_function("fgt", "fgt")
gini_block = _block_function("gini", "gini")
decomposition_block = _block_function("decomposition", "decomposition")
curves_block = _block_function("curves", "incidence_curves")


# =========================================================================== driver
def _relpaths(paths, root: Path) -> list[str]:
    return [str(Path(x).resolve().relative_to(root.resolve())) for x in paths]


def run_chapter(spec, out_dir=None, *, progress: bool | None = None, command: str = "remitpov chapter",
                report: str | None = None) -> ChapterResult:
    """Run a chapter spec (a :class:`ChapterSpec`, a dict, or a TOML path) into ``out_dir``.

    Everything that can be wrong with the spec is checked before the first estimate
    (:class:`~remitpov.exceptions.SpecError` naming the key and the fix). The output is
    written atomically (:mod:`remitpov.report.output`): into a temporary folder next to
    ``out_dir``, moved into place when complete; an existing chapter output in ``out_dir`` is
    replaced as a whole; any other non-empty ``out_dir`` is refused.

    ``report`` ("html" or "none"; default: ``[chapter] report`` of the spec, else "html")
    says whether ``report.html`` (:mod:`remitpov.report.html`) is written.
    """
    t_start = time.perf_counter()
    started = _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")
    if isinstance(spec, (str, Path)):
        spec = load_spec(spec)
    elif isinstance(spec, Mapping):
        spec = parse_spec(spec)
    if out_dir is None:
        if spec.out is None:
            raise SpecError("--out: no output folder given. Fix: pass --out DIR or set chapter.out in the spec")
        out_dir = spec.out
    target = check_target(out_dir, "--out" if spec.out is None else "--out / chapter.out")
    report = _report_format(spec, report)
    from ..exceptions import RemitpovWarning

    with warnings.catch_warnings(record=True) as caught:
        warnings.filterwarnings("always", category=RemitpovWarning)  # every one, every run: into the manifest
        try:
            # [labels]: the spec's own texts replace the translation table's (remitpov.report.i18n)
            with staged_output(target) as out, label_overrides(parse_labels(spec.raw.get("labels"))):
                res = _write_chapter(spec, out, progress, command, t_start, started, caught, report=report)
        finally:
            seen = list(caught)
    for w in seen:  # shown after the run, under the caller's filters (the CLI prints one line each)
        warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)

    def moved(p):
        return target / Path(p).relative_to(out)

    return replace(res, out_dir=target, figures=tuple(map(moved, res.figures)), files=tuple(map(moved, res.files)))


def _line_files(s: SurveySpec) -> list[dict]:
    """The poverty-line table files a survey read (``[survey.lines] from = "x.csv"``), hashed."""
    srcs = sorted({l.table[0] for l in s.lines.values() if l.table is not None and l.table[0] != "default"})
    from ..io.enigh_tables import coneval_lines_file

    return [{"path": src, "sha256": file_sha256(coneval_lines_file() if src == "coneval" else src)} for src in srcs]


def _manifest_warnings(caught) -> list[dict]:
    """remitpov's warnings of the run (category and message, in order, without repeats)."""
    from ..exceptions import RemitpovWarning

    out = []
    for w in caught:
        if issubclass(w.category, RemitpovWarning):
            item = {"category": w.category.__name__, "message": str(w.message)}
            if item not in out:
                out.append(item)
    return out


def _report_format(spec: ChapterSpec, report: str | None) -> str:
    """``report`` (the ``--report`` option) if given, else ``[chapter] report``, else "html"."""
    from .html import REPORT_FORMATS

    if report is None:
        return str(spec.raw.get("chapter", {}).get("report", "html"))
    if report not in REPORT_FORMATS:
        raise SpecError(f"--report: unknown report format {report!r}. Fix: use one of {list(REPORT_FORMATS)}")
    return report


def _write_chapter(spec: ChapterSpec, out: Path, progress, command: str, t_start: float, started: str,
                   caught=(), report: str = "html") -> ChapterResult:
    """Load, estimate and write the whole chapter into the (temporary) folder ``out``.

    ``caught`` is the list the warnings of the run are recorded into (for the manifest);
    ``report`` = "html" also writes ``report.html`` (hashed in the manifest's outputs).
    """
    prog = Progress(len(spec.surveys), enabled=progress)
    timings: dict[str, float] = {}

    # ---- load everything (no estimation) ----------------------------------------------
    prepared: dict[str, PreparedSurvey] = {}
    for s in spec.surveys:
        prog.step(f"loading {s.id} ({s.format})")
        t0 = time.perf_counter()
        prepared[s.id] = prepare_survey(s, spec.seed)
        rate_warnings(prepared[s.id], spec.strict)
        timings[f"load/{s.id}"] = time.perf_counter() - t0

    # ---- estimate: every registered block that applies to a survey (remitpov.report.blocks) ------
    prog.total = prog.count + 2 + sum(b.applies(p) for p in prepared.values() for b in BLOCKS.values())
    rows: dict[str, list[pd.DataFrame]] = {}
    extras: dict[str, list[pd.DataFrame]] = {}
    est: dict[tuple[str, str], Any] = {}
    ctx = {"progress": prog.callback}
    for sid, p in prepared.items():
        t0 = time.perf_counter()
        for block in BLOCKS.values():
            if not block.applies(p):
                continue
            prog.step(block.step.format(sid=sid, method=(p.spec.counterfactual or {}).get("method", "static")))
            res = block.run(spec, p, ctx)
            for name, frame in res.tables.items():
                if frame is not None and len(frame):
                    rows.setdefault(name, []).append(frame)
            for name, frame in res.extras.items():
                extras.setdefault(name, []).append(frame)
            est.update({(sid, k): v for k, v in res.estimates.items()})
        timings[f"estimate/{sid}"] = time.perf_counter() - t0

    tables = {k: pd.concat(v, ignore_index=True) for k, v in rows.items()}
    for block in BLOCKS.values():
        for name in block.tidy:
            if name in tables:
                check_tidy(name, tables[name])
        if any(name in tables for name in block.tables):
            tables.update({name: view(tables) for name, view in block.views.items()})
    tables = {k: tables[k] for k in table_order() if k in tables}
    extras_all = {k: pd.concat(v, ignore_index=True) for k, v in extras.items()}

    # ---- write ------------------------------------------------------------------------
    prog.step("writing tables")
    t0 = time.perf_counter()
    titles = {k: text("title", k, spec.language) for k in tables}
    # the "concept" column is headed by the surveys' welfare measure (income, consumption or both:
    # remitpov.report.welfare); its cells keep their codes (with / without / total)
    from .welfare import concept_header, welfare_key

    welfare = {p.spec.label: welfare_key(p.survey.metadata) for p in prepared.values()}
    headers = {"concept": concept_header(welfare.values(), spec.language)}
    written = write_tables(tables, out, spec.tables, titles=titles, language=spec.language, headers=headers)
    timings["write/tables"] = time.perf_counter() - t0
    # the ECLAC layout (remitpov.report.publication) in out/publication/, beside the tidy tables: by default
    pub, pub_tables = chapter_publication(spec.raw.get("publication"), spec.tables), {}
    infos = [survey_info(p, spec.language) for p in prepared.values()]
    # one "Source:" line (producer, survey, year) for the publication tables and the report's tables and figures
    source = source_line(pub or PublicationSpec(), infos, spec.language)
    if pub is not None:
        pub_tables = build_tables(tables, infos, pub, spec.language, spec.ci_level)
    if pub_tables:  # nothing to lay out (a migration-only chapter): no publication/ folder
        written += write_publication(pub_tables, {k: v for k, v in tables.items() if k in PUB_SOURCES}, out,
                                     formats=pub.formats, language=spec.language, title=spec.title, mark=pub.mark)
    timings["write/publication"] = time.perf_counter() - t0
    prog.step("drawing figures")
    t0 = time.perf_counter()
    from .figures import parse_style, use_style

    # [style]: dpi, font, sizes of every figure; Spanish: decimal comma on the axes
    # the welfare concept of each survey (its loader's metadata, `welfare` above) names the axes and titles
    with use_style({**parse_style(spec.raw.get("style")), "language": spec.language, "welfare": welfare}):
        figs = [f for block in BLOCKS.values() if block.figures is not None
                for f in block.figures(spec, tables, extras_all, out / "figures")]
    timings["write/figures"] = time.perf_counter() - t0

    for (sid, k), v in est.items():
        if k == "counterfactual_model":
            (out / "models").mkdir(exist_ok=True)
            (out / "models" / f"{sid}_counterfactual.txt").write_text(str(v.summary()) + "\n", encoding="utf-8")

    # ---- manifest -----------------------------------------------------------------------
    # every file written (tables, XLSX, figures, models): `remitpov verify` compares them all
    every = sorted(p for p in out.rglob("*") if p.is_file() and p.name != "manifest.json")
    outputs = dict(zip(_relpaths(every, out), (file_sha256(p) for p in every)))
    spec_text = spec.source.read_text(encoding="utf-8") if spec.source is not None else None
    timings["total"] = time.perf_counter() - t_start
    manifest = build_manifest(
        spec=spec.to_dict(), spec_file=None if spec.source is None else str(spec.source),
        spec_sha256=spec.source_sha256, spec_text=spec_text,
        spec_data=spec.raw if spec.source is None else None,  # a dict spec: rerun by `remitpov verify`
        surveys={sid: {**survey_inputs(p.survey), "format": p.spec.format, "options": dict(p.spec.options),
                       "income": dict(p.spec.income), "has_remittances": p.has_remittances,
                       "lines": {k: p.spec.lines[k].describe() for k in p.spec.lines},
                       "line_files": _line_files(p.spec)}
                 for sid, p in prepared.items()},
        outputs=outputs,
        settings={"ci_level": spec.ci_level, "strict": spec.strict, "weights": "person (household weight x size)",
                  "quantile_groups": "persons ranked by per-capita income without remittances, stable sort",
                  "language": spec.language, "tables": list(spec.tables), "figures": list(spec.figures)},
        seeds={"chapter": spec.seed, **{sid: p.spec.options.get("seed", spec.seed)
                                        for sid, p in prepared.items() if p.spec.format == "synthetic"}},
        command=command, timings=timings, started=started, warnings=_manifest_warnings(caught))
    if report == "html":  # after the manifest is complete (the page summarises it), before it is written
        from .html import REPORT_FILE, write_report

        page = write_report(out / REPORT_FILE, title=spec.title, language=spec.language, tables=tables, titles=titles,
                            figures=figs, manifest=manifest, labels={sid: p.spec.label for sid, p in prepared.items()},
                            intro=spec.raw.get("chapter", {}).get("text"), ci_level=spec.ci_level,
                            publication=pub_tables, mark="*" if pub is None else pub.mark, source=source,
                            headers=headers)
        manifest["outputs"] = dict(sorted({**manifest["outputs"], REPORT_FILE: file_sha256(page)}.items()))
        written = [*written, page]
    write_manifest(manifest, out / "manifest.json")
    prog.done("chapter")
    files = tuple(sorted(set(written) | set(figs) | {out / "manifest.json"}))
    return ChapterResult(out, tables, est, tuple(figs), files, manifest, prepared)


def run_demo(out_dir, *, language: str = "en", progress: bool | None = None, report: str | None = None) -> ChapterResult:
    """The chapter on the embedded synthetic surveys (no external data; seconds); ``report`` as in
    :func:`run_chapter`."""
    d = {k: (dict(v) if isinstance(v, dict) else list(v)) for k, v in DEMO_SPEC.items()}
    d["chapter"] = dict(DEMO_SPEC["chapter"], language=language)
    return run_chapter(parse_spec(d), out_dir, progress=progress, command="remitpov demo", report=report)
