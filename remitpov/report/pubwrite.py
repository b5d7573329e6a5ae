"""Writers of the publication tables (:mod:`remitpov.report.publication`): XLSX, LaTeX, Markdown, CSV.

* **XLSX** (openpyxl): one sheet per table -- title (bold), two header rows with the units (the
  top one merged over its group), the rows, then the "Source:" and note lines; number formats
  per column kind (``0.0`` percent/pp, ``0.00`` SE in pp, ``0.000`` Gini, ``#,##0`` counts),
  a significant difference keeps its number and shows its mark through the cell's format
  (``0.0"*";-0.0"*"``); column widths from the longest text; header frozen; the tidy data
  behind the tables on ``data_<table>`` sheets. Excel shows the decimal separator of the
  reader's locale. Fixed timestamps (:func:`remitpov.report.tables.freeze_zip`).
* **LaTeX**: a ``table`` float (``longtable`` beyond :data:`LONG_ROWS` rows) per table, needing
  booktabs, array, graphicx, longtable and pdflscape; the font size is the largest of
  ``\\small``/``\\footnotesize``/``\\scriptsize`` at which the estimated width fits an A4 text
  width of 16 cm (2.5 cm margins), the tabular is shrunk to the line width if it is still
  wider (``\\resizebox`` only then, by at most ~15 % by the estimate), and tables wider than
  that go on a landscape page. ``publication.tex`` is a complete A4 document that ``\\input``\\ s every table.
* **Markdown**: headers "group: column (unit)"; **CSV**: the layout's numbers at full
  precision with one ``significant`` column per marked column.
"""
from __future__ import annotations

import datetime as _dt
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np
import pandas as pd

from .publication import KINDS, Column, PubTable, pub_text as _t
from .tables import freeze_zip, tex_escape

#: tables with more rows than this are LaTeX longtables (split across pages, header repeated)
LONG_ROWS = 40
#: A4 text width with 2.5 cm margins, in TeX points (16 cm)
TEXTWIDTH_PT = 455.24
#: font sizes tried, largest first: (LaTeX command, size in pt at a 10 pt base)
FONT_SIZES = (("small", 9.0), ("footnotesize", 8.0), ("scriptsize", 7.0))
_TABCOLSEP_PT = 4.0
#: a table estimated up to this factor wider than the text at \scriptsize is shrunk to fit, not turned
SHRINK = 1.15


def header(c: Column, language: str) -> str:
    """The column header with its unit ("Difference (pp)")."""
    unit = KINDS[c.kind][1]
    return f"{c.header} ({_t(unit, language)})" if unit else c.header


def header_groups(cols: Sequence[Column]) -> list[tuple[str, int, int]]:
    """Runs of equal non-empty ``group``: (group, first index, last index)."""
    out = []
    for j, c in enumerate(cols):
        if c.group and out and out[-1][0] == c.group and out[-1][2] == j - 1:
            out[-1] = (c.group, out[-1][1], j)
        elif c.group:
            out.append((c.group, j, j))
    return out


# --------------------------------------------------------------------------- Markdown / CSV
def to_markdown(t: PubTable, language: str, mark: str = "*") -> str:
    esc = lambda s: str(s).replace("|", "\\|")  # noqa: E731
    heads = [(f"{c.group}: " if c.group else "") + header(c, language) for c in t.columns]
    out = [f"### {t.title}", "", "| " + " | ".join(esc(h) for h in heads) + " |",
           "|" + "|".join(":---" if c.kind == "text" else "---:" for c in t.columns) + "|"]
    out += ["| " + " | ".join(esc(x) for x in row) + " |" for row in t.cells(language, mark)]
    out += ["", t.source, ""] + [f"{_t('note', language)}: {n}" if k == 0 else n for k, n in enumerate(t.notes)]
    return "\n".join(out) + "\n"


def to_csv(t: PubTable, path, language: str) -> Path:
    fr = pd.DataFrame({(f"{c.group}: " if c.group else "") + header(c, language): t.values[c.key] for c in t.columns})
    for c in t.columns:
        if t.marks[c.key].any() or c.kind == "pp" or (c.kind == "gini" and "difference" in c.key):
            fr[(f"{c.group}: " if c.group else "") + header(c, language) + " " + _t("significant", language)] = \
                t.marks[c.key].to_numpy()
    path = Path(path)
    path.write_text(fr.to_csv(index=False, lineterminator="\n"), encoding="utf-8")
    return path


# --------------------------------------------------------------------------- LaTeX
def _tex_num(s: str, mark: str) -> str:
    m = ""
    if mark and s.endswith(mark):
        s, m = s[: -len(mark)], r"\rlap{$^{" + tex_escape(mark) + "}$}"
    s = tex_escape(s).replace("…", r"\ldots{}")
    if s.startswith("-"):
        s = "$-$" + s[1:]
    return s + m


def _widths_em(t: PubTable, cells: list[list[str]], language: str) -> tuple[float, list[float]]:
    """Estimated widths (em) of the label column (capped, it wraps) and of each numeric column.

    A digit is 0.5 em; header words wrap (and hyphenate), so a numeric column is as wide as its
    widest cell or its longest header word (~0.6 em per character, at most 6 em), at least 3 em.
    """
    label = min(max([len(r[0]) for r in cells] + [8]) * 0.5, 10.0)
    nums = []
    for j, c in enumerate(t.columns[1:], start=1):
        cell = max([len(r[j]) for r in cells] + [1]) * 0.5 + 0.4
        word = min(max(len(w) for w in header(c, language).split() or [""]) * 0.6, 6.0)  # longer ones hyphenate
        nums.append(max(cell, word, 3.0))
    return label, nums


def to_latex(t: PubTable, language: str, mark: str = "*") -> str:
    """One table as a LaTeX float or longtable (see the module docstring)."""
    cells = t.cells(language, mark)
    label_em, nums = _widths_em(t, cells, language)
    ncol = len(t.columns)
    size, fsize, landscape = None, None, False
    long = len(cells) > LONG_ROWS
    for k, (name, pt) in enumerate(FONT_SIZES):
        width = (label_em + sum(nums)) * pt + 2 * _TABCOLSEP_PT * ncol
        # the smallest size may be shrunk by up to SHRINK (\resizebox) rather than turn the page; a
        # longtable cannot be shrunk, so it needs the estimate (which runs short) to fit with that margin
        if width * (SHRINK if long else 1.0) <= TEXTWIDTH_PT * (SHRINK if k == len(FONT_SIZES) - 1 else 1.0):
            size, fsize = name, pt
            break
    if size is None:
        size, fsize = FONT_SIZES[-1]
        landscape = True
    spec = r"@{}>{\raggedright\arraybackslash}p{" + f"{label_em:.1f}em" + "}" + "r" * (ncol - 1) + "@{}"
    head = []
    groups = header_groups(t.columns)
    if groups:
        row, j = [], 0
        for g, a, b in groups:
            row += [""] * (a - j) + [r"\multicolumn{" + str(b - a + 1) + "}{c}{" + tex_escape(g) + "}"]
            j = b + 1
        row += [""] * (ncol - j)
        head.append(" & ".join(row) + r" \\")
        head.append("".join(r"\cmidrule(lr){" + f"{a + 1}-{b + 1}" + "}" for _, a, b in groups))
    hcells = [tex_escape(header(t.columns[0], language))]
    for c, w in zip(t.columns[1:], nums):
        hcells.append(r"\parbox[b]{" + f"{w:.1f}em" + r"}{\raggedleft\strut\hspace{0pt}" + tex_escape(header(c, language))
                      + r"\strut}")
    head.append(" & ".join(hcells) + r" \\")
    body = [" & ".join([tex_escape(r[0])] + [_tex_num(x, mark) for x in r[1:]]) + r" \\" for r in cells]
    foot = [r"\par\smallskip", r"\noindent\begin{minipage}{\linewidth}\footnotesize\raggedright",
            tex_escape(t.source) + r"\par"]
    foot += [(r"\textit{" + tex_escape(_t("note", language)) + ":} " if k == 0 else "") + tex_escape(n) + r"\par"
             for k, n in enumerate(t.notes)]
    foot.append(r"\end{minipage}")
    lab = r"\label{pub:" + t.name + "}"
    lines = [f"% {t.name}: {ncol} columns, estimated {(label_em + sum(nums)) * fsize + 2 * _TABCOLSEP_PT * ncol:.0f} pt "
             f"wide at \\{size}" + (" (landscape)" if landscape else "")]
    if landscape:
        lines.append(r"\begin{landscape}")
    if long:
        lines += ["{\\" + size, r"\setlength{\tabcolsep}{" + f"{_TABCOLSEP_PT:g}pt" + "}",
                  r"\begin{longtable}{" + spec + "}", r"\caption{" + tex_escape(t.title) + "}" + lab + r" \\",
                  r"\toprule", *head, r"\midrule", r"\endfirsthead", r"\toprule", *head, r"\midrule", r"\endhead",
                  r"\bottomrule", r"\endfoot", *body, r"\end{longtable}", *foot, "}"]
    else:
        lines += [r"\begin{table}[!htbp]", r"\centering", "\\" + size,
                  r"\setlength{\tabcolsep}{" + f"{_TABCOLSEP_PT:g}pt" + "}",
                  r"\caption{" + tex_escape(t.title) + "}" + lab,
                  r"\resizebox{\ifdim\width>\linewidth\linewidth\else\width\fi}{!}{%",
                  r"\begin{tabular}{" + spec + "}", r"\toprule", *head, r"\midrule", *body, r"\bottomrule",
                  r"\end{tabular}}", *foot, r"\end{table}"]
    if landscape:
        lines.append(r"\end{landscape}")
    return "\n".join(lines) + "\n"


#: the preamble of ``publication.tex`` (packages of Debian's texlive-latex-base/-recommended)
PREAMBLE = r"""\documentclass[10pt]{article}
\usepackage[a4paper,margin=2.5cm]{geometry}
\usepackage[T1]{fontenc}
\usepackage[utf8]{inputenc}
\usepackage{lmodern}
\usepackage{booktabs,array,longtable,graphicx,pdflscape}
% tall tables (many countries, long notes) may fill a page: no empty page before them
\renewcommand{\topfraction}{0.95}\renewcommand{\bottomfraction}{0.95}
\renewcommand{\textfraction}{0.05}\renewcommand{\floatpagefraction}{0.8}
"""


def document(names: Sequence[str], title: str, language: str) -> str:
    """``publication.tex``: an A4 document that inputs ``<name>.tex`` for every table."""
    lang = r"\renewcommand{\tablename}{Cuadro}" + "\n" if language == "es" else ""
    return (PREAMBLE + lang + r"\begin{document}" + "\n" + r"\section*{" + tex_escape(title) + "}\n"
            + "".join(r"\input{" + n + "}\n" for n in names) + r"\end{document}" + "\n")


# --------------------------------------------------------------------------- XLSX
def _xlsx_format(c: Column, marked: bool, mark: str) -> str:
    dec = c.decimals
    base = "#,##0" + ("." + "0" * dec if dec else "")
    if not marked:
        return base
    m = '"' + mark.replace('"', "") + '"'
    return f"{base}{m};-{base}{m}"


def to_xlsx(pub_tables: Mapping[str, PubTable], tidy: Mapping[str, pd.DataFrame], path, *, language: str,
            mark: str = "*") -> Path:
    """The publication workbook (see the module docstring)."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Border, Font, Side
    from openpyxl.utils import get_column_letter

    wb = Workbook()
    wb.remove(wb.active)
    fixed = _dt.datetime(2000, 1, 1)
    wb.properties.created = wb.properties.modified = fixed
    wb.properties.creator = "remitpov"
    bold, thin = Font(bold=True), Side(style="thin")
    for t in pub_tables.values():
        ws = wb.create_sheet(t.sheet)
        ws.cell(1, 1, t.title).font = Font(bold=True, size=12)
        cols = t.columns
        groups = header_groups(cols)
        r_group, r_head = 3, 4 if groups else 3
        for g, a, b in groups:
            ws.cell(r_group, a + 1, g).font = bold
            ws.cell(r_group, a + 1).alignment = Alignment(horizontal="center")
            if b > a:
                ws.merge_cells(start_row=r_group, start_column=a + 1, end_row=r_group, end_column=b + 1)
        widths = [len(str(t.title)) * 0 + 8.0] * len(cols)
        for j, c in enumerate(cols, start=1):
            cell = ws.cell(r_head, j, header(c, language))
            cell.font = bold
            cell.alignment = Alignment(horizontal="left" if c.kind == "text" else "right", wrap_text=True,
                                       vertical="bottom")
            cell.border = Border(bottom=thin)
            widths[j - 1] = max(widths[j - 1], min(max(len(w) for w in header(c, language).split()) + 2, 40))
        shown = t.cells(language, mark)
        for i in range(len(t.values)):
            for j, c in enumerate(cols, start=1):
                v = t.values[c.key].iloc[i]
                if c.kind == "text":
                    ws.cell(r_head + 1 + i, j, str(v))
                    widths[j - 1] = max(widths[j - 1], min(len(str(v)) + 2, 45))
                    continue
                v = float(v) if v is not None and np.isfinite(v) else None
                cell = ws.cell(r_head + 1 + i, j, int(round(v)) if (v is not None and c.kind == "int") else v)
                cell.number_format = _xlsx_format(c, bool(t.marks[c.key].iloc[i]), mark)
                if v is None:
                    cell.value = "…"
                    cell.alignment = Alignment(horizontal="right")
                widths[j - 1] = max(widths[j - 1], len(shown[i][j - 1]) + 3)
        last = r_head + len(t.values)
        for j in range(1, len(cols) + 1):
            ws.cell(last, j).border = Border(bottom=thin)
            ws.column_dimensions[get_column_letter(j)].width = round(widths[j - 1], 1)
        r = last + 2
        ws.cell(r, 1, t.source)
        for k, n in enumerate(t.notes):
            ws.cell(r + 1 + k, 1, (f"{_t('note', language)}: " if k == 0 else "") + n)
        ws.freeze_panes = ws.cell(r_head + 1, 2)
        ws.row_dimensions[r_head].height = 45
    used = {t.sheet for t in pub_tables.values()}
    prefix = _t("data_prefix", language)
    for name, frame in tidy.items():
        sheet = f"{prefix}{name}"[:31]
        if sheet in used:
            continue
        used.add(sheet)
        ws = wb.create_sheet(sheet)
        ws.append([str(c) for c in frame.columns])
        for c in ws[1]:
            c.font = bold
        for row in frame.itertuples(index=False, name=None):
            ws.append([None if isinstance(v, float) and not np.isfinite(v) else
                       (v.item() if isinstance(v, np.generic) else v) for v in row])
        ws.freeze_panes = "A2"
        for j, c in enumerate(frame.columns, start=1):
            ws.column_dimensions[get_column_letter(j)].width = max(10, min(len(str(c)) + 2, 40))
    path = Path(path)
    wb.save(path)
    freeze_zip(path, fixed)
    return path


# --------------------------------------------------------------------------- all of it
def write_publication(pub_tables: Mapping[str, PubTable], tidy: Mapping[str, pd.DataFrame], out_dir, *,
                      formats: Sequence[str], language: str, title: str, mark: str = "*") -> list[Path]:
    """Write ``out_dir/publication/``: per-table ``.tex``/``.md``/``.csv``, ``publication.tex``,
    ``publication.md`` and ``publication.xlsx``; returns the files written (sorted)."""
    d = Path(out_dir) / "publication"
    d.mkdir(parents=True, exist_ok=True)
    written, mds = [], []
    for name, t in pub_tables.items():
        if "csv" in formats:
            written.append(to_csv(t, d / f"{name}.csv", language))
        if "md" in formats:
            md = to_markdown(t, language, mark)
            mds.append(md)
            (d / f"{name}.md").write_text(md, encoding="utf-8")
            written.append(d / f"{name}.md")
        if "tex" in formats:
            (d / f"{name}.tex").write_text(to_latex(t, language, mark), encoding="utf-8")
            written.append(d / f"{name}.tex")
    if "tex" in formats and pub_tables:
        (d / "publication.tex").write_text(document(list(pub_tables), title, language), encoding="utf-8")
        written.append(d / "publication.tex")
    if "md" in formats and mds:
        (d / "publication.md").write_text(f"# {title}\n\n" + "\n".join(mds), encoding="utf-8")
        written.append(d / "publication.md")
    if "xlsx" in formats and pub_tables:
        written.append(to_xlsx(pub_tables, tidy, d / "publication.xlsx", language=language, mark=mark))
    return sorted(written)
