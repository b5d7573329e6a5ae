"""The chapter as one self-contained HTML page (``report.html``).

:func:`render_report` builds the page from what the chapter already wrote: the tables (the
tidy frames, rounded as in the Markdown tables), the PNG figures (embedded as
``data:image/png;base64`` URIs), the chapter title, an optional text from the spec
(``[chapter] text``, Markdown), and a summary of ``manifest.json`` (package version and git
commit, seeds, settings, every input file with its sha256) with the run's warnings.

Conventions
-----------
* **Self-contained**: one file, no network: no external CSS, JavaScript, fonts or images; no
  script at all. A print stylesheet makes "Print to PDF" from a browser give a readable
  document (long tables unscrolled, figures not split across pages).
* **Deterministic**: the page holds only the deterministic part of the manifest (never the
  ``"run"`` section: start time, timings, host), so a rerun gives the same bytes. It is
  written into the staged output folder before the swap and its sha256 is listed in the
  manifest's ``outputs`` (the manifest summary in the page does not list the outputs'
  hashes, which would be circular).
* **Units in headers**: a table whose ``unit`` column holds a single value shows it in the
  headers of its numeric columns ("Estimate (%)") instead of repeating it on every row; units
  are translated (``unit_<unit>`` keys of the ``"report"`` section).
* **Spanish** (``language = "es"``): every label of the page comes from
  :data:`remitpov.report.i18n.TEXT` (section ``"report"``) and numbers use a decimal comma
  and a point as thousands separator.
* **Markdown subset** for the spec text (always this subset, whatever is installed, so the
  bytes do not depend on the environment): paragraphs (blank-line separated), headings
  ``#`` to ``######``, ``*emphasis*``/``_emphasis_``, ``**strong**``, ```code```, and lists
  (``-``/``*``/``+`` items, or ``1.`` numbered items). Everything else is shown as text
  (HTML in the text is escaped; links are not made).
"""
from __future__ import annotations

import base64
import html as _html
import re
from pathlib import Path
from typing import Any, Mapping, Sequence

import pandas as pd

from .i18n import TEXT, text as _text
from .tables import cells, header

#: the values of ``[chapter] report`` / ``--report``
REPORT_FORMATS = ("html", "none")
#: the file name of the report inside the chapter output folder
REPORT_FILE = "report.html"

_CSS = """
:root { color-scheme: light; }
body { font-family: "DejaVu Sans", "Liberation Sans", Arial, sans-serif; font-size: 14px; line-height: 1.45;
       color: #1a1a1a; background: #ffffff; margin: 0 auto; max-width: 1100px; padding: 24px 32px; }
h1 { font-size: 26px; color: #1f4e79; border-bottom: 2px solid #1f4e79; padding-bottom: 6px; }
h2 { font-size: 20px; color: #1f4e79; margin-top: 36px; border-bottom: 1px solid #cccccc; }
h3 { font-size: 16px; margin-bottom: 6px; }
nav ol { columns: 2; column-gap: 3.5em; } nav li { break-inside: avoid; }
section.item { margin: 18px 0 28px 0; }
.scroll { max-height: 560px; overflow: auto; border: 1px solid #e0e0e0; }
table { border-collapse: collapse; font-size: 12px; width: 100%; }
thead th { position: sticky; top: 0; background: #eef3f8; border-bottom: 2px solid #1f4e79; }
th, td { padding: 3px 8px; text-align: left; vertical-align: top; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
tbody tr:nth-child(even) { background: #f7f7f7; }
table.publication th.group { text-align: center; border-bottom: 1px solid #1f4e79; }
table.publication thead tr:first-child th { position: static; }
table.publication td.txt { white-space: nowrap; }
table.publication th.num { white-space: normal; min-width: 4.5em; }  /* headers wrap: the table fits the page */
table.publication th, table.publication td { padding: 3px 6px; }
p.source, p.note { font-size: 12px; color: #444444; margin: 4px 0; }
figure { margin: 0; }
figure img { max-width: 100%; height: auto; display: block; }
figcaption { font-weight: bold; margin-bottom: 6px; }
dl.summary dt { font-weight: bold; margin-top: 8px; }
dl.summary dd { margin-left: 18px; }
code, .hash { font-family: "DejaVu Sans Mono", monospace; font-size: 11px; word-break: break-all; }
li.load { color: #555555; font-size: 12px; }
ul.warnings li { color: #8a4b00; }
@media print {
  body { max-width: none; padding: 0; font-size: 11px; }
  nav { display: none; }
  .scroll { max-height: none; overflow: visible; border: none; }
  thead th { position: static; }
  table { font-size: 9px; }
  th, td { padding: 2px 4px; }
  thead { display: table-header-group; }
  tr, figure, p.source, p.note { page-break-inside: avoid; break-inside: avoid; }
  h2, h3, figcaption { page-break-after: avoid; break-after: avoid; }
  section.figure { page-break-inside: avoid; break-inside: avoid; }
  @page { size: A4; margin: 15mm; }
}
"""


def _t(key: str, language: str, **fmt) -> str:
    return _text("report", key, language, **fmt)


def figure_text(kind: str, stem: str, language: str, **fmt) -> str | None:
    """The ``"report"`` text ``<kind>_<stem>`` of a figure (``kind`` "fig": caption, "note_fig":
    its own note), also found for a per-survey figure by its stem without the trailing
    ``_<survey id>`` parts (``coverage_by_state_mex2018`` -> ``coverage_by_state``); None when absent."""
    parts = stem.split("_")
    for k in range(len(parts), 0, -1):
        key = f"{kind}_{'_'.join(parts[:k])}"
        if key in TEXT["en"]["report"]:
            return _text("report", key, language, **fmt)
    return None


def figure_caption(stem: str, language: str, labels: Mapping[str, str] | None = None) -> str:
    """A figure's caption: its ``fig_<stem>`` text; for a per-survey figure found by a shorter
    stem (``coverage_by_state_mex2018``), followed by that survey's label ("…, Mexico 2018")
    so that the figures of several surveys are told apart; else the stem in words."""
    parts = stem.split("_")
    for k in range(len(parts), 0, -1):
        key = f"fig_{'_'.join(parts[:k])}"
        if key in TEXT["en"]["report"]:
            rest = "_".join(parts[k:])
            cap = _text("report", key, language)
            return f"{cap}: {(labels or {}).get(rest, rest)}" if rest else cap
    return stem.replace("_", " ")


def _e(s: Any) -> str:
    return _html.escape(str(s), quote=True)


def _localise(cell: str, language: str) -> str:
    """A number formatted as ``1,234.56`` in the chapter's locale (Spanish: ``1.234,56``)."""
    if language != "es" or not re.fullmatch(r"-?[\d,]+(\.\d+)?", cell):
        return cell
    return cell.translate(str.maketrans({",": ".", ".": ","}))


# --------------------------------------------------------------------------- markdown subset
_INLINE = [
    (re.compile(r"`([^`]+)`"), r"<code>\1</code>"),
    (re.compile(r"\*\*(.+?)\*\*"), r"<strong>\1</strong>"),
    (re.compile(r"__(.+?)__"), r"<strong>\1</strong>"),
    (re.compile(r"(?<![\w*])\*(?!\s)(.+?)(?<!\s)\*(?![\w*])"), r"<em>\1</em>"),
    (re.compile(r"(?<![\w_])_(?!\s)(.+?)(?<!\s)_(?![\w_])"), r"<em>\1</em>"),
]
_HEADING = re.compile(r"(#{1,6})\s+(.*?)\s*#*\s*$")
_BULLET = re.compile(r"\s*[-*+]\s+(.*)")
_NUMBERED = re.compile(r"\s*\d+[.)]\s+(.*)")


def _inline(s: str) -> str:
    s = _e(s)
    for pat, rep in _INLINE:
        s = pat.sub(rep, s)
    return s


def markdown_to_html(md: str, heading_offset: int = 1) -> str:
    """Render the documented Markdown subset (see the module docstring) as HTML.

    Headings are shifted down by ``heading_offset`` levels (``#`` becomes ``<h2>`` by
    default: the page's ``<h1>`` is the chapter title) and capped at ``<h6>``.
    """
    out: list[str] = []
    para: list[str] = []
    items: list[str] = []
    kind: str | None = None  # "ul" / "ol" while a list is open

    def flush():
        nonlocal kind
        if para:
            out.append("<p>" + _inline(" ".join(para)) + "</p>")
            para.clear()
        if items:
            out.append(f"<{kind}>" + "".join(f"<li>{_inline(i)}</li>" for i in items) + f"</{kind}>")
            items.clear()
            kind = None

    for line in md.replace("\r\n", "\n").split("\n"):
        if not line.strip():
            flush()
            continue
        h = _HEADING.fullmatch(line.strip())
        b, n = _BULLET.fullmatch(line), _NUMBERED.fullmatch(line)
        if h:
            flush()
            level = min(len(h.group(1)) + heading_offset, 6)
            out.append(f"<h{level}>{_inline(h.group(2))}</h{level}>")
        elif b or n:
            new = "ul" if b else "ol"
            if para or (kind is not None and kind != new):
                flush()
            kind = new
            items.append((b or n).group(1))
        elif items and line[:1].isspace():  # continuation of a list item
            items[-1] += " " + line.strip()
        else:
            if items:
                flush()
            para.append(line.strip())
    flush()
    return "\n".join(out)


# --------------------------------------------------------------------------- tables
def _numeric(col: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_bool_dtype(col)


def table_html(frame: pd.DataFrame, *, language: str = "en", digits: int = 2, table_id: str | None = None,
               headers: Mapping[str, str] | None = None) -> str:
    """One table as HTML (cells rounded as in the Markdown tables; see the module docstring for units;
    ``headers`` as in :func:`remitpov.report.tables.header`)."""
    unit = None
    if "unit" in frame.columns:
        units = frame["unit"].astype(str).map(lambda u: _text("report", f"unit_{u}", language, default=u))
        if units.nunique(dropna=False) == 1:
            unit = units.iloc[0]
            frame = frame.drop(columns="unit")
        else:
            frame = frame.assign(unit=units)
    num = [_numeric(frame[c]) for c in frame.columns]
    heads = []
    for c, n in zip(frame.columns, num):
        h = header(c, language, headers)
        if unit and n and c not in ("n_obs", "alpha", "multiple") and "%" not in h and "(" not in h:  # has its own
            h = f"{h} ({unit})"
        heads.append(f'<th class="num">{_e(h)}</th>' if n else f"<th>{_e(h)}</th>")
    body = []
    for row in cells(frame, digits):
        body.append("<tr>" + "".join(f'<td class="num">{_e(_localise(v, language))}</td>' if n else f"<td>{_e(v)}</td>"
                                     for v, n in zip(row, num)) + "</tr>")
    tid = f' id="{_e(table_id)}"' if table_id else ""
    return (f'<div class="scroll"><table{tid}>\n<thead><tr>' + "".join(heads) + "</tr></thead>\n<tbody>\n"
            + "\n".join(body) + "\n</tbody></table></div>")


def publication_html(t, *, language: str = "en", mark: str = "*") -> str:
    """A publication table (:class:`remitpov.report.publication.PubTable`) as HTML: two header
    rows (groups over their columns), the displayed cells, its source and notes."""
    from .pubwrite import header as pub_header, header_groups

    cols = t.columns
    top, j = [], 0
    for g, a, b in header_groups(cols):
        top += ["<th></th>"] * (a - j) + [f'<th class="group" colspan="{b - a + 1}">{_e(g)}</th>']
        j = b + 1
    top += ["<th></th>"] * (len(cols) - j)
    heads = "".join(f'<th class="{"txt" if c.kind == "text" else "num"}">{_e(pub_header(c, language))}</th>'
                    for c in cols)
    rows = "\n".join("<tr>" + "".join(f'<td class="{"txt" if c.kind == "text" else "num"}">{_e(v)}</td>'
                                      for c, v in zip(cols, row)) + "</tr>" for row in t.cells(language, mark))
    thead = (f"<tr>{''.join(top)}</tr>" if any(c.group for c in cols) else "") + f"<tr>{heads}</tr>"
    notes = "".join(f'<p class="note">{_e((_t("note", language) + ": ") if k == 0 else "")}{_e(n)}</p>'
                    for k, n in enumerate(t.notes))
    return (f'<div class="scroll"><table class="publication" id="pub-{_e(t.name)}">\n<thead>{thead}</thead>\n'
            f"<tbody>\n{rows}\n</tbody></table></div>\n<p class=\"source\">{_e(t.source)}</p>{notes}")


# --------------------------------------------------------------------------- manifest summary
def _sources(manifest: Mapping[str, Any], labels: Mapping[str, str], language: str) -> str:
    """The "Source:" line shared by every table and figure: the surveys and their producers."""
    parts = []
    for sid, info in (manifest.get("inputs") or {}).items():
        meta = info.get("metadata") or {}
        name = labels.get(sid, sid)
        extra = []
        for k in ("name", "year"):  # the producer's name and the year, unless the label already says them
            v = str(meta.get(k) or "")
            if v and v not in name and not any(v in e for e in extra):
                extra.append(v)
        parts.append(name + (f" ({', '.join(extra)})" if extra else ""))
    return _t("source", language, surveys="; ".join(parts))


def _summary(manifest: Mapping[str, Any], labels: Mapping[str, str], language: str) -> str:
    pkg = manifest.get("package") or {}
    git = pkg.get("git") or {}
    commit = git.get("commit") or _t("unknown", language)
    if git.get("dirty"):
        commit += " " + _t("dirty", language)
    env = manifest.get("environment") or {}
    spec = manifest.get("spec") or {}
    rows = [(_t("package", language), f"remitpov {_e(pkg.get('version', '?'))}, "
             f"{_e(_t('commit', language))} <span class=\"hash\">{_e(commit)}</span>"),
            (_t("environment", language), _e(", ".join(f"{k} {v}" for k, v in sorted(env.items())))),
            (_t("command", language), f"<code>{_e(manifest.get('command', ''))}</code>")]
    if spec.get("sha256"):  # the file's path is in manifest.json; the page shows the hash only, so a
        # recomputation by `remitpov verify` from the manifest's copy of an edited spec gives the same page
        rows.append((_t("spec", language), f"sha256 <span class=\"hash\">{_e(spec.get('sha256'))}</span>"))
    seeds = manifest.get("seeds") or {}
    rows.append((_t("seeds", language), _e(", ".join(f"{k} = {v}" for k, v in seeds.items()))))
    settings = manifest.get("settings") or {}
    rows.append((_t("settings", language), _e("; ".join(f"{k} = {v}" for k, v in settings.items()
                                                      if not isinstance(v, (list, dict))))))
    inputs = []
    for sid, info in (manifest.get("inputs") or {}).items():
        meta = info.get("metadata") or {}
        desc = [f"{_t('loader', language)} {info.get('loader')}", f"{_t('rows', language)} {info.get('rows')}"]
        if meta.get("income_period"):
            period = _text("pub", f"period_{meta['income_period']}", language, default=meta["income_period"])
            desc.append(f"{_t('income_period', language)} {period}")
        if meta.get("currency"):
            desc.append(f"{_t('currency', language)} {meta['currency']}")
        lines = info.get("lines") or {}
        if lines:
            desc.append(_t("lines", language) + " " + "; ".join(f"{k}: {v}" for k, v in sorted(lines.items())))  # key order of the spec is not kept by every manifest route
        inputs.append(f"<li><strong>{_e(labels.get(sid, sid))}</strong> ({_e(sid)}): {_e(', '.join(desc))}"
                      f"<ul>{_file_items(info.get('files') or [], language)}</ul></li>")
    rows.append((_t("inputs", language), "<ul>" + "".join(inputs) + "</ul>"))
    if manifest.get("migration_inputs"):
        rows.append((_t("migration_inputs", language), _migration_inputs(manifest["migration_inputs"], language)))
    return '<dl class="summary">' + "".join(f"<dt>{_e(k)}</dt><dd>{v}</dd>" for k, v in rows) + "</dl>"


def _file_items(files: Sequence[Mapping[str, Any]], language: str) -> str:
    """``<li>`` items: each input file's name and sha256 (or "no input file" for generated data)."""
    if not files:
        return f"<li>{_e(_t('no_files', language))}</li>"
    return "".join(f"<li><code>{_e(Path(str(f.get('path', ''))).name)}</code> sha256 "
                   f"<span class=\"hash\">{_e(f.get('sha256'))}</span></li>" for f in files)


def _migration_inputs(mig: Mapping[str, Any], language: str) -> str:
    """The manifest's ``migration_inputs`` (UN tables, groupings, census; hashed and re-checked by
    ``remitpov verify``): per input its loader, rows, layout, years, the options of generated data,
    the sample design, the chapter blocks that use it, its files with sha256 and its load report."""
    items = []
    for key, info in mig.items():
        desc = [f"{_t('loader', language)} {info.get('loader')}"]
        if info.get("rows") is not None:
            desc.append(f"{_t('rows', language)} {info['rows']}")
        if info.get("layout"):
            desc.append(f"{_t('layout', language)} {info['layout']}")
        if info.get("years"):
            desc.append(f"{_t('years', language)} {', '.join(map(str, info['years']))}")
        if info.get("options"):
            desc.append(f"{_t('options', language)} " + "; ".join(f"{k} = {v}" for k, v in sorted(info["options"].items())))
        if info.get("design"):
            desc.append(f"{_t('design', language)} " + "; ".join(f"{k} = {v}" for k, v in sorted(info["design"].items())))
        used = f"<br>{_e(_t('used_by', language))}: {_e(', '.join(info['used_by']))}" if info.get("used_by") else ""
        notes = "".join(f'<li class="load">{_e(n)}</li>' for n in info.get("load_report") or ())
        items.append(f"<li><strong>{_e(key)}</strong>: {_e(', '.join(desc))}{used}"
                     f"<ul>{_file_items(info.get('files') or [], language)}{notes}</ul></li>")
    return "<ul>" + "".join(items) + "</ul>"


#: the loaders of the [migration] inputs -> their "report" text key (the producer's words)
_MIGRATION_PRODUCERS = {"remitpov.migration.un.read_un_migrant_stock": "src_un",
                        "remitpov.migration.census.synthetic_census": "src_census_synthetic",
                        "remitpov.migration.census.read_census": "src_census"}


def migration_source(manifest: Mapping[str, Any], name: str, language: str) -> str | None:
    """The "Source:" line of a migration table or figure (``name`` starts with "migration"):
    the ``migration_inputs`` that list it in ``used_by``, else (the UN stock block's figures:
    emigrants, change, destinations) the UN stock tables; None for the survey tables and figures,
    or when the manifest has no migration inputs."""
    mig = manifest.get("migration_inputs") or {}
    if not name.startswith("migration") or not mig:
        return None
    used = [i for i in mig.values() if name in (i.get("used_by") or ())]
    used = used or [i for i in mig.values() if _MIGRATION_PRODUCERS.get(i.get("loader")) == "src_un"]
    files: dict[str, list[str]] = {}  # one phrase per producer, its files together
    for info in used:
        key = _MIGRATION_PRODUCERS.get(info.get("loader"), "src_other")
        names = [Path(str(f.get("path", ""))).name for f in info.get("files") or ()] or [str(info.get("loader", ""))]
        files.setdefault(key, []).extend(n for n in names if n not in files.get(key, ()))
    parts = [_t(key, language, files=", ".join(names)) for key, names in files.items()]
    return _t("migration_source", language, inputs="; ".join(parts)) if parts else None


def _warnings(manifest: Mapping[str, Any], language: str) -> str:
    ws = manifest.get("warnings") or []
    if not ws:
        return f"<p>{_e(_t('no_warnings', language))}</p>"
    return '<ul class="warnings">' + "".join(f"<li><strong>{_e(w.get('category', ''))}</strong>: "
                                               f"{_e(w.get('message', ''))}</li>" for w in ws) + "</ul>"


# --------------------------------------------------------------------------- the page
def _png_uri(path: Path) -> str:
    return "data:image/png;base64," + base64.b64encode(Path(path).read_bytes()).decode("ascii")


def render_report(*, title: str, language: str, tables: Mapping[str, pd.DataFrame], titles: Mapping[str, str],
                  figures: Sequence[Path], manifest: Mapping[str, Any], labels: Mapping[str, str] | None = None,
                  intro: str | None = None, notes: Mapping[str, Sequence[str]] | None = None,
                  ci_level: float = 0.95, publication: Mapping[str, Any] | None = None, mark: str = "*",
                  source: str | None = None, headers: Mapping[str, str] | None = None) -> str:
    """The whole ``report.html`` page as a string (see the module docstring).

    Parameters
    ----------
    title : str
        The chapter title (``<title>`` and ``<h1>``).
    language : {"en", "es"}
        Language of the page's labels and number format.
    tables : mapping
        Table name -> frame, in the chapter's order; ``titles`` gives each one's title.
    figures : sequence of Path
        Figure files; the PNGs among them are embedded (others are ignored).
    manifest : mapping
        The chapter manifest (only its deterministic part is read).
    labels : mapping, optional
        Survey id -> label (for the source line and the inputs list).
    intro : str, optional
        Markdown text (the documented subset) shown after the title.
    notes : mapping, optional
        Table or figure name -> notes shown under it, after the common notes.
    ci_level : float
        The chapter's confidence level (stated in the common notes).
    publication : mapping, optional
        Name -> :class:`remitpov.report.publication.PubTable` (a spec with ``[publication]``):
        shown first, under "Publication tables", each with its own source and notes; ``mark``
        is their significance mark.
    source : str, optional
        The "Source:" line under every table and figure (the chapter passes the publication
        tables' line: producer, survey and year, :func:`remitpov.report.publication.source_line`);
        default: the surveys' labels, names and years from the manifest.
    headers : mapping, optional
        Displayed headers of some tidy-table columns (:func:`remitpov.report.tables.header`).
    """
    labels = dict(labels or {})
    notes = notes or {}
    source = source or _sources(manifest, labels, language)
    common = [_t("note_ci", language, level=f"{100 * ci_level:g}")]
    pngs = [Path(f) for f in figures if Path(f).suffix.lower() == ".png"]

    def foot(name: str, figure: bool = False) -> str:
        own = figure_text("note_fig", name, language, level=f"{100 * ci_level:g}") if figure else None
        ns = list(common) + ([own] if own else []) + list(notes.get(name, ()))
        src = migration_source(manifest, name, language) or source
        return (f'<p class="source">{_e(src)}</p>'
                + "".join(f'<p class="note">{_e(_t("note", language))}: {_e(n)}</p>' for n in ns))

    toc, body = [], []
    if intro and intro.strip():
        body.append(f'<section id="text">{markdown_to_html(intro)}</section>')
    if publication:
        body.append(f'<h2 id="publication">{_e(_t("publication", language))}</h2>')
        for k, (name, t) in enumerate(publication.items(), start=1):
            cap = f"{_t('table', language)} {k}. {t.title}"
            toc.append(f'<li><a href="#pubtable-{_e(name)}">{_e(cap)}</a></li>')
            body.append(f'<section class="item table" id="pubtable-{_e(name)}"><h3>{_e(cap)}</h3>\n'
                        f"{publication_html(t, language=language, mark=mark)}</section>")
    body.append(f'<h2 id="tables">{_e(_t("tables", language))}</h2>')
    for k, (name, frame) in enumerate(tables.items(), start=1 + len(publication or {})):
        cap = f"{_t('table', language)} {k}. {titles.get(name, name)}"
        toc.append(f'<li><a href="#table-{_e(name)}">{_e(cap)}</a></li>')
        body.append(f'<section class="item table" id="table-{_e(name)}"><h3>{_e(cap)}</h3>\n'
                    f"{table_html(frame, language=language, headers=headers)}\n{foot(name)}</section>")
    body.append(f'<h2 id="figures">{_e(_t("figures", language))}</h2>')
    if not pngs:
        body.append(f"<p>{_e(_t('no_figures', language))}</p>")
    for k, p in enumerate(pngs, start=1):
        cap = f"{_t('figure', language)} {k}. {figure_caption(p.stem, language, labels)}"
        toc.append(f'<li><a href="#figure-{_e(p.stem)}">{_e(cap)}</a></li>')
        body.append(f'<section class="item figure" id="figure-{_e(p.stem)}"><figure><figcaption>{_e(cap)}</figcaption>'
                    f'<img src="{_png_uri(p)}" alt="{_e(cap)}"></figure>\n{foot(p.stem, figure=True)}</section>')
    body.append(f'<h2 id="warnings">{_e(_t("warnings", language))}</h2>\n{_warnings(manifest, language)}')
    body.append(f'<h2 id="manifest">{_e(_t("manifest", language))}</h2>\n'
                f"<p>{_e(_t('manifest_intro', language))}</p>\n{_summary(manifest, labels, language)}")
    nav = (f'<nav><h2>{_e(_t("contents", language))}</h2><ol>' + "".join(toc)
           + f'<li><a href="#warnings">{_e(_t("warnings", language))}</a></li>'
           + f'<li><a href="#manifest">{_e(_t("manifest", language))}</a></li></ol></nav>')
    return ("<!DOCTYPE html>\n"
            f'<html lang="{_e(language)}">\n<head>\n<meta charset="utf-8">\n'
            '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f'<meta name="generator" content="remitpov {_e((manifest.get("package") or {}).get("version", ""))}">\n'
            f"<title>{_e(title)}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n"
            f"<h1>{_e(title)}</h1>\n{nav}\n" + "\n".join(body) + "\n</body>\n</html>\n")


def write_report(path, **kwargs) -> Path:
    """Write :func:`render_report` to ``path`` (UTF-8, ``\\n`` line endings); returns the path."""
    p = Path(path)
    p.write_bytes(render_report(**kwargs).encode("utf-8"))
    return p
