"""Export chapter tables as CSV, XLSX (openpyxl), Markdown and LaTeX.

Conventions
-----------
* CSV holds the numbers at full precision (Python ``repr`` of each float, so a value read
  back is bit-identical to the estimator's result), ``\\n`` line endings, UTF-8, no index.
* Markdown and LaTeX are for reading: floats are rounded to ``digits`` decimals
  (default 2; counts and integers are printed as integers), column headers are
  translated to the chapter language.
* XLSX: one workbook, one sheet per table, full-precision numbers; the workbook's
  creation/modification dates are fixed so that reruns differ only if numbers differ.

All writers are deterministic: the same frame gives the same bytes.
"""
from __future__ import annotations

import datetime as _dt
import math
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np
import pandas as pd

from .i18n import TEXT, override

#: column header translations: a view of the "header" section of :data:`remitpov.report.i18n.TEXT`
HEADERS = {lang: sections["header"] for lang, sections in TEXT.items()}


def header(col: str, language: str = "en", headers: Mapping[str, str] | None = None) -> str:
    """The displayed header of column ``col``: ``headers[col]`` when given (the chapter's, e.g. the
    welfare measure over "concept"), else the translation table's, else the name with spaces."""
    o = override("header", col)  # the spec's [labels.header] first
    if o is not None:
        return o
    if headers and col in headers:
        return headers[col]
    return HEADERS.get(language, HEADERS["en"]).get(col, col.replace("_", " "))


def _fmt(v, digits: int) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return ""
    if isinstance(v, (bool, np.bool_)):
        return str(bool(v))
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    if isinstance(v, (float, np.floating)):
        if not np.isfinite(v):
            return ""
        return f"{float(v):,.{digits}f}"
    return str(v)


def _column_digits(frame: pd.DataFrame, digits: int) -> list[int]:
    """Decimals per column: ``digits``, or ``digits + 2`` for float columns whose values all
    lie in (-1, 1) (ratios, Gini components) so that they do not print as 0.00."""
    out = []
    for c in frame.columns:
        col = frame[c]
        small = False
        if pd.api.types.is_float_dtype(col):
            v = np.abs(col.to_numpy(dtype=float))
            v = v[np.isfinite(v)]
            small = v.size > 0 and bool((v < 1).all())
        out.append(digits + 2 if small else digits)
    return out


def _cells(frame: pd.DataFrame, digits: int) -> list[list[str]]:
    dig = _column_digits(frame, digits)
    return [[_fmt(v, d) for v, d in zip(row, dig)] for row in frame.itertuples(index=False, name=None)]


def to_csv(frame: pd.DataFrame, path) -> Path:
    """Full-precision CSV (floats written with ``repr``: exact round trip)."""
    path = Path(path)
    path.write_text(frame.to_csv(index=False, lineterminator="\n", float_format=None), encoding="utf-8")
    return path


def to_markdown(frame: pd.DataFrame, title: str | None = None, *, language: str = "en", digits: int = 2,
                notes: Sequence[str] = (), headers: Mapping[str, str] | None = None) -> str:
    """A GitHub-flavoured pipe table (numbers right-aligned); ``headers`` as in :func:`header`."""
    cols = [header(c, language, headers) for c in frame.columns]
    num = [pd.api.types.is_numeric_dtype(frame[c]) and not pd.api.types.is_bool_dtype(frame[c]) for c in frame.columns]
    rows = _cells(frame, digits)
    esc = lambda s: s.replace("|", "\\|")  # noqa: E731
    out = []
    if title:
        out += [f"### {title}", ""]
    out.append("| " + " | ".join(esc(c) for c in cols) + " |")
    out.append("|" + "|".join("---:" if n else ":---" for n in num) + "|")
    for r in rows:
        out.append("| " + " | ".join(esc(c) for c in r) + " |")
    for n in notes:
        out += ["", f"*{n}*"]
    return "\n".join(out) + "\n"


_TEX_ESC = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_",
            "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}"}


def tex_escape(s: str) -> str:
    return "".join(_TEX_ESC.get(ch, ch) for ch in str(s))


def to_latex(frame: pd.DataFrame, title: str | None = None, *, label: str | None = None, language: str = "en",
             digits: int = 2, notes: Sequence[str] = (), headers: Mapping[str, str] | None = None) -> str:
    """A ``booktabs`` LaTeX table (needs ``\\usepackage{booktabs}``); ``headers`` as in :func:`header`."""
    num = [pd.api.types.is_numeric_dtype(frame[c]) and not pd.api.types.is_bool_dtype(frame[c]) for c in frame.columns]
    spec = "".join("r" if n else "l" for n in num)
    lines = [r"\begin{table}[htbp]", r"\centering"]
    if title:
        lines.append(r"\caption{" + tex_escape(title) + "}")
    if label:
        lines.append(r"\label{" + label + "}")
    lines += [r"\begin{tabular}{" + spec + "}", r"\toprule",
              " & ".join(tex_escape(header(c, language, headers)) for c in frame.columns) + r" \\", r"\midrule"]
    for r in _cells(frame, digits):
        lines.append(" & ".join(tex_escape(c) for c in r) + r" \\")
    lines += [r"\bottomrule", r"\end{tabular}"]
    for n in notes:
        lines.append(r"\par\smallskip{\footnotesize " + tex_escape(n) + "}")
    lines.append(r"\end{table}")
    return "\n".join(lines) + "\n"


def to_xlsx(tables: Mapping[str, pd.DataFrame], path, *, titles: Mapping[str, str] | None = None,
            language: str = "en", headers: Mapping[str, str] | None = None) -> Path:
    """One workbook, one sheet per table (sheet names cut to Excel's 31 characters); ``headers``
    as in :func:`header`."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    path = Path(path)
    wb = Workbook()
    wb.remove(wb.active)
    fixed = _dt.datetime(2000, 1, 1)
    wb.properties.created = fixed
    wb.properties.modified = fixed
    wb.properties.creator = "remitpov"
    used = set()
    for name, frame in tables.items():
        sheet = name[:31]
        k = 1
        while sheet in used:
            k += 1
            sheet = f"{name[:28]}_{k}"
        used.add(sheet)
        ws = wb.create_sheet(sheet)
        r0 = 1
        if titles and titles.get(name):
            ws.cell(1, 1, titles[name]).font = Font(bold=True)
            r0 = 3
        for j, c in enumerate(frame.columns, start=1):
            ws.cell(r0, j, header(c, language, headers)).font = Font(bold=True)
        for i, row in enumerate(frame.itertuples(index=False, name=None), start=r0 + 1):
            for j, v in enumerate(row, start=1):
                if isinstance(v, (np.floating, float)):
                    v = None if not np.isfinite(v) else float(v)
                elif isinstance(v, np.integer):
                    v = int(v)
                elif isinstance(v, np.bool_):
                    v = bool(v)
                elif v is not None and not isinstance(v, (int, str, bool)):
                    v = str(v)
                ws.cell(i, j, v)
    wb.save(path)
    freeze_zip(path, fixed)
    return path


def freeze_zip(path: Path, when: _dt.datetime) -> None:
    """Rewrite an XLSX (a zip) with every entry dated ``when`` and ``dcterms:modified`` set to it:
    openpyxl stamps both with the current time, which made reruns differ."""
    import re
    import zipfile

    stamp = when.strftime("%Y-%m-%dT%H:%M:%SZ").encode()
    with zipfile.ZipFile(path) as z:
        entries = [(i, z.read(i.filename)) for i in z.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for info, data in entries:
            if info.filename == "docProps/core.xml":
                data = re.sub(rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)", rb"\g<1>" + stamp + rb"\g<2>",
                              data)
            z.writestr(zipfile.ZipInfo(info.filename, date_time=when.timetuple()[:6]), data,
                       compress_type=zipfile.ZIP_DEFLATED)


_freeze_zip = freeze_zip  # former name


def write_tables(tables: Mapping[str, pd.DataFrame], out_dir, formats: Sequence[str] = ("csv", "xlsx", "md", "tex"),
                 *, titles: Mapping[str, str] | None = None, notes: Mapping[str, Sequence[str]] | None = None,
                 language: str = "en", digits: int = 2, workbook: str = "tables.xlsx",
                 headers: Mapping[str, str] | None = None) -> list[Path]:
    """Write every table in every format; returns the files written (sorted by name).

    ``headers`` replaces the displayed header of some columns (:func:`header`; the CSVs keep
    the column names).

    CSV/LaTeX go to ``out_dir/tables/<name>.<ext>``; Markdown tables are also collected
    into ``out_dir/tables/tables.md``; all sheets go into one ``out_dir/tables/tables.xlsx``.
    """
    titles = titles or {}
    notes = notes or {}
    d = Path(out_dir) / "tables"
    d.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    md_all = []
    for name, frame in tables.items():
        if "csv" in formats:
            written.append(to_csv(frame, d / f"{name}.csv"))
        if "md" in formats:
            md = to_markdown(frame, titles.get(name), language=language, digits=digits, notes=notes.get(name, ()),
                             headers=headers)
            (d / f"{name}.md").write_text(md, encoding="utf-8")
            written.append(d / f"{name}.md")
            md_all.append(md)
        if "tex" in formats:
            tex = to_latex(frame, titles.get(name), label=f"tab:{name}", language=language, digits=digits,
                           notes=notes.get(name, ()), headers=headers)
            (d / f"{name}.tex").write_text(tex, encoding="utf-8")
            written.append(d / f"{name}.tex")
    if "md" in formats and md_all:
        (d / "tables.md").write_text("\n".join(md_all), encoding="utf-8")
        written.append(d / "tables.md")
    if "xlsx" in formats and tables:
        written.append(to_xlsx(tables, d / workbook, titles=titles, language=language, headers=headers))
    return sorted(written)


def cells(frame: pd.DataFrame, digits: int = 2) -> list[list[str]]:
    """The cells of ``frame`` as strings, rounded as in the Markdown/LaTeX tables (used by report.html)."""
    return _cells(frame, digits)
