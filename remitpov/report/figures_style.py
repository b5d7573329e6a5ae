"""The style and shared helpers of the chapter figures (:mod:`remitpov.report.figures`,
:mod:`remitpov.report.figures_curves`): one publication style (``[style]`` of the spec: dpi,
font, sizes), labels in the chapter language, the colour-blind-safe palette, small-multiple
grids with the legend outside the data, and :func:`save`, which strips timestamps (PDF
``CreationDate``, SVG ``Date``, fixed SVG hash salt) so reruns give the same files.
Matplotlib runs headless (the ``Agg`` backend is selected if no backend was chosen).
"""
from __future__ import annotations

import contextvars
import os
from contextlib import contextmanager
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np
import pandas as pd

from .i18n import TEXT, override

__all__ = ["STYLE", "COLORS", "PALETTE", "STYLE_DEFAULTS", "LABELS", "label", "parse_style", "use_style",
           "current_style", "style", "welfare_labels", "panel_title", "wrap_title", "palette", "decimal_comma",
           "fit_titles", "save", "footnote", "plain_barh_axis",
           "fig_height", "grid", "axis_labels", "legend_outside", "legend_columns", "err", "row_panel"]

os.environ.setdefault("MPLBACKEND", "Agg")

#: one consistent style for all chapter figures (``[style]`` of the spec sets dpi, font and sizes)
STYLE = {
    "figure.dpi": 100, "savefig.dpi": 300, "figure.constrained_layout.use": True, "font.size": 9, "axes.titlesize": 10,
    "axes.labelsize": 9, "legend.fontsize": 8, "xtick.labelsize": 8, "ytick.labelsize": 8,
    "axes.spines.top": False, "axes.spines.right": False, "axes.grid": True, "axes.grid.axis": "y",
    "grid.color": "#dddddd", "grid.linewidth": 0.6, "font.family": "DejaVu Sans", "svg.hashsalt": "remitpov",
    # TrueType (Type 42) fonts embedded in PDF/PS: text stays text (searchable, editable), no Type 3 bitmaps
    "pdf.fonttype": 42, "ps.fonttype": 42, "legend.frameon": False,
    "axes.axisbelow": True,  # grid lines behind bars and bands, never across them
}
COLORS = {"with": "#1f4e79", "without": "#e07b39", "diff": "#7f7f7f", "equality": "#9e9e9e",
          "remittances": "#2e8b57"}
#: Okabe & Ito's colour-blind-safe palette (yellow last: weak on white); a figure never repeats a
#: colour -- with more series than colours it draws a heat map or small multiples instead
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#000000", "#F0E442"]

#: ``[style]`` keys and defaults: dpi of PNGs, font family, base font size (pt), width of a
#: full-width figure and the largest height (inches; A4 text is ~6.3 x 9.7 in)
STYLE_DEFAULTS = {"dpi": 300, "font": "DejaVu Sans", "font_size": 9.0, "width": 6.3, "max_height": 9.0}
_STYLE_LIMITS = {"dpi": (50, 1200), "font_size": (5.0, 24.0), "width": (2.0, 20.0), "max_height": (2.0, 30.0)}
_CURRENT: contextvars.ContextVar = contextvars.ContextVar("remitpov_figure_style", default=None)

#: figure labels: a view of the "figure" section of :data:`remitpov.report.i18n.TEXT`
LABELS = {lang: sections["figure"] for lang, sections in TEXT.items()}


def label(key: str, language: str = "en", **fmt) -> str:
    """Figure text ``key`` in ``language`` (the spec's ``[labels.figure]`` override first)."""
    s = override("figure", key) or LABELS.get(language, LABELS["en"]).get(key) or LABELS["en"].get(key, key)
    return s.format(**fmt) if fmt else s


def parse_style(raw, key: str = "style") -> dict:
    """Validate a ``[style]`` table; returns :data:`STYLE_DEFAULTS` updated with it.

    ``font`` must be a font family matplotlib finds on this machine (no silent fallback).
    """
    from ..exceptions import SpecError

    if raw is None:
        return dict(STYLE_DEFAULTS)
    if not isinstance(raw, Mapping):
        raise SpecError(f"{key}: must be a table. Fix: write a [style] section (keys {sorted(STYLE_DEFAULTS)})")
    unknown = sorted(set(raw) - set(STYLE_DEFAULTS))
    if unknown:
        raise SpecError(f"{key}: unknown key(s) {unknown}. Fix: use {sorted(STYLE_DEFAULTS)}")
    out = dict(STYLE_DEFAULTS)
    for k, v in raw.items():
        if k == "font":
            if not isinstance(v, str) or not v:
                raise SpecError(f"{key}.font: expected a font family name, got {v!r}. Fix: font = \"DejaVu Sans\"")
            from matplotlib import font_manager

            try:
                font_manager.findfont(font_manager.FontProperties(family=v), fallback_to_default=False)
            except ValueError:
                fams = sorted({f.name for f in font_manager.fontManager.ttflist})
                raise SpecError(f"{key}.font: font {v!r} is not installed. Fix: use one of {fams[:12]}") from None
        else:
            lo, hi = _STYLE_LIMITS[k]
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not lo <= v <= hi:
                raise SpecError(f"{key}.{k}: expected a number in [{lo:g}, {hi:g}], got {v!r}. "
                                f"Fix: e.g. {k} = {STYLE_DEFAULTS[k]!r}")
            v = int(v) if k == "dpi" else float(v)
        out[k] = v
    return out


@contextmanager
def use_style(st: Mapping | None):
    """Draw the figures of the ``with`` block in the style ``st`` (:func:`parse_style`; a
    ``"language": "es"`` entry also writes numeric tick labels with a decimal comma)."""
    token = _CURRENT.set(dict(st) if st is not None else None)
    try:
        yield
    finally:
        _CURRENT.reset(token)


def current_style() -> dict:
    """The style in effect (:func:`use_style`), else :data:`STYLE_DEFAULTS`."""
    return _CURRENT.get() or dict(STYLE_DEFAULTS)


@contextmanager
def style():
    import matplotlib

    st = current_style()
    fs = float(st["font_size"])
    rc = {**STYLE, "savefig.dpi": st["dpi"], "font.family": st["font"], "font.size": fs, "axes.titlesize": fs + 1,
          "axes.labelsize": fs, "legend.fontsize": fs - 1, "xtick.labelsize": fs - 1, "ytick.labelsize": fs - 1}
    with matplotlib.rc_context(rc):
        yield


def welfare_labels(surveys: Sequence[str], language: str = "en") -> tuple[str, str, dict[str, str]]:
    """``(phrase, measure, per_survey)`` naming the welfare concept of ``surveys``.

    The keys come from the ``"welfare"`` entry of the style in effect (survey label ->
    :func:`remitpov.report.welfare.welfare_key`, set by the chapter from each survey's
    metadata; a survey not in it counts as per capita income). ``phrase``: "per capita
    income", "per capita consumption", ... when the surveys share one concept, else
    "income or consumption"; ``measure``: "income", "consumption" or both; ``per_survey``:
    each survey's own phrase when they differ (for panel titles), else empty.
    """
    from .welfare import measure_text, welfare_phrase, welfare_text

    known = current_style().get("welfare") or {}
    keys = {s: known.get(s, "per_capita") for s in surveys}
    distinct = list(dict.fromkeys(keys.values())) or ["per_capita"]
    per = {s: welfare_text(k, language) for s, k in keys.items()} if len(distinct) > 1 else {}
    return welfare_phrase(distinct, language), measure_text(distinct, language), per


def panel_title(ax, s: str, per: Mapping[str, str], n: int) -> None:
    """A small-multiple panel's title: the survey, and its welfare concept when the panels differ,
    each line wrapped to the panel's width (:func:`wrap_title`: a long concept such as "ingreso
    equivalente (escala OCDE modificada)" never runs past the panel into its neighbour)."""
    size = 7.0 if n > 9 else float(current_style()["font_size"]) + 1  # the style's axes.titlesize
    spec = ax.get_subplotspec()
    width = ax.figure.get_figwidth() * (spec.colspan.stop - spec.colspan.start) / spec.get_gridspec().ncols
    lines = [s] + ([f"({per[s]})"] if s in per else [])
    ax.set_title("\n".join(wrap_title(t, width, size) for t in lines), fontsize=None if n <= 9 else 7)


#: width of a character of DejaVu Sans in units of the font size, with a margin (measured 0.53-0.55 on the
#: chapter's survey labels and welfare phrases)
CHAR_WIDTH = 0.6


def wrap_title(text: str, width_in: float, size_pt: float) -> str:
    """``text`` broken into lines that fit ``width_in`` inches at ``size_pt`` points (at most
    ``width / (CHAR_WIDTH x size)`` characters a line; text that fits is returned as it is): a
    text ending in a parenthesis is cut before it when both parts fit ("ingreso equivalente" /
    "(escala OCDE modificada)"); otherwise it is broken between words into lines of about
    equal length."""
    import textwrap

    chars = max(12, int(width_in * 72 / (CHAR_WIDTH * size_pt)))
    if len(text) <= chars:
        return text
    cut = text.rfind(" (", 0, chars)
    if text.endswith(")") and cut > 0 and len(text) - cut - 1 <= chars:
        return text[:cut] + "\n" + text[cut + 1:]
    lines = -(-len(text) // chars)
    width = -(-len(text) // lines)
    while True:  # the narrowest lines that still need no more than `lines` of them
        out = textwrap.wrap(text, width, break_long_words=False, break_on_hyphens=False)
        if len(out) <= lines or width >= chars:
            return "\n".join(out)
        width += 1


def palette(n: int) -> list[str]:
    """``n`` distinct colours (:data:`PALETTE`); more than it holds is a bug in the caller."""
    if n > len(PALETTE):
        raise ValueError(f"{n} series but only {len(PALETTE)} distinct colours: draw small multiples or a heat map")
    return PALETTE[:n]


def decimal_comma(fig) -> None:
    """Numeric tick labels with a decimal comma (Spanish): every axis whose ticks are numbers
    (a ``ScalarFormatter``) gets the same ticks written ``0,5``; text ticks are left alone."""
    from matplotlib.ticker import FuncFormatter, ScalarFormatter

    fmt = FuncFormatter(lambda v, pos: f"{v:g}".replace("-", "\u2212").replace(".", ","))
    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis):
            if type(axis.get_major_formatter()) is ScalarFormatter:
                axis.set_major_formatter(fmt)


def fit_titles(fig) -> None:
    """Break the figure's title and each panel's title into lines that fit their width
    (:func:`wrap_title`; the figure's width, a panel's columns of its grid): a long Spanish
    title ("Curvas de brecha de pobreza (dominancia de segundo orden)") over one narrow panel
    was cut at both edges. Titles that fit are left as they are."""
    st = getattr(fig, "_suptitle", None)
    if st is not None and st.get_text():
        st.set_text("\n".join(wrap_title(t, 0.95 * fig.get_figwidth(), st.get_fontsize())
                              for t in st.get_text().split("\n")))
    for ax in fig.axes:
        spec = ax.get_subplotspec()
        if spec is None or not ax.get_title():
            continue
        width = fig.get_figwidth() * (spec.colspan.stop - spec.colspan.start) / spec.get_gridspec().ncols
        ax.title.set_text("\n".join(wrap_title(t, width, ax.title.get_fontsize()) for t in ax.get_title().split("\n")))


def save(fig, stem, formats: Sequence[str] = ("png", "pdf"), *, tight: bool = False) -> list[Path]:
    """Save ``fig`` as ``stem.<fmt>`` for each format, without timestamps; closes the figure.

    ``tight=True`` saves the bounding box of everything drawn (``bbox_inches="tight"``), for
    figures with a :func:`footnote` below the axes.
    """
    import matplotlib.pyplot as plt

    stem = Path(stem)
    stem.parent.mkdir(parents=True, exist_ok=True)
    if current_style().get("language") == "es":
        decimal_comma(fig)
    fit_titles(fig)
    extra = {"bbox_inches": "tight", "pad_inches": 0.15} if tight else {}
    out = []
    for fmt in formats:
        p = stem.with_suffix(f".{fmt}")
        meta = {"png": {"Software": "remitpov/matplotlib"}, "pdf": {"CreationDate": None, "Producer": "remitpov"},
                "svg": {"Date": None}}.get(fmt)
        fig.savefig(p, format=fmt, metadata=meta, **extra)
        out.append(p)
    plt.close(fig)
    return out


def footnote(fig, lines: Sequence[str]) -> None:
    """Source and notes below the axes, left-aligned, wrapped to the figure's width (save the
    figure with ``save(..., tight=True)`` so they are kept)."""
    size = max(float(current_style()["font_size"]) - 2.5, 5.0)
    width = 0.98 * fig.get_figwidth()
    text = "\n".join(wrap_title(t, width, size) for t in lines if t)
    if text:
        fig.text(0.0, 0.0, text, fontsize=size, va="top", ha="left")


def plain_barh_axis(ax) -> None:
    """Grid lines along the value axis of horizontal bars (the chapter style draws them along y)."""
    ax.grid(False)
    ax.grid(True, axis="x")


def fig_height(rows: int, per_row: float, extra: float = 1.1) -> float:
    """A height that grows with the rows (at least 2.6 in: room for the title, axis and legend),
    bounded by the style's ``max_height``."""
    return float(min(current_style()["max_height"], max(2.6, extra + per_row * rows)))


def grid(n: int, width: float = 3.4, height: float = 3.0, *, share: bool = False):
    """Small multiples: up to 3 panels of ``width`` x ``height`` in a row; beyond 3 panels the
    figure is the style's full width with 2-6 columns and a bounded height (panels shrink),
    shared axes, and a thin first row kept for the legend (:func:`legend_outside` puts it
    there: matplotlib's "outside" legends overlap ``supxlabel``/``suptitle``)."""
    import matplotlib.pyplot as plt

    if n <= 3:
        width = max(width, 0.7 * current_style()["width"] / n)  # one panel: room for the title and legend
        fig, axes = plt.subplots(1, n, figsize=(width * n, height), squeeze=False)
        return fig, list(axes.flat)
    ncol = 2 if n <= 4 else 3 if n <= 9 else 4 if n <= 16 else 5 if n <= 25 else 6
    nrow = int(np.ceil(n / ncol))
    w = current_style()["width"]
    panel = w / ncol * height / width
    h = min(current_style()["max_height"], 1.3 + nrow * panel)
    fig = plt.figure(figsize=(w, h))
    gs = fig.add_gridspec(nrow + 1, ncol, height_ratios=[0.35 / max(panel, 0.35)] + [1.0] * nrow)
    lax = fig.add_subplot(gs[0, :])
    lax.axis("off")
    axes = []
    for k in range(n):
        first = axes[0] if axes and share else None
        axes.append(fig.add_subplot(gs[1 + k // ncol, k % ncol], sharex=first, sharey=first))
    for ax in axes:
        if share:
            ax.label_outer()
    fig._remitpov_legend_axes = lax
    return fig, axes


def axis_labels(fig, axes, x: str, y: str) -> None:
    """Axis labels: up to 3 panels, x on each and y on the first (the panels show the same
    quantity; a long label repeated on each collides with the titles); more panels: once for
    the figure (small multiples). A y label longer than the height it runs along (about 60 % of
    the figure's beside one row of panels) is broken into balanced lines (:func:`wrap_title`):
    it ran into the title of a one-panel Lorenz figure in Spanish."""
    size = float(current_style()["font_size"])
    if len(axes) > 3:
        fig.supxlabel(x)
        fig.supylabel(wrap_title(y, 0.9 * fig.get_figheight(), size))
        return
    for ax in axes:
        ax.set_xlabel(x)
    axes[0].set_ylabel(wrap_title(y, 0.6 * fig.get_figheight(), size))


def legend_outside(fig, ax, ncol: int | None = None, title: str | None = None, items=None):
    """One legend for the figure (the entries of ``ax``, or ``items`` = (handles, labels)), below
    the panels or in the legend row of :func:`grid` -- never over the data, the title or an
    axis label."""
    handles, labels = items if items is not None else ax.get_legend_handles_labels()
    if not handles:
        return
    lax = getattr(fig, "_remitpov_legend_axes", None)
    if lax is not None:  # the legend row of grid
        lax.legend(handles, labels, loc="center", title=title,
                   ncol=legend_columns(labels, ncol or min(len(handles), 3), fig.get_figwidth()))
        return
    fig.legend(handles, labels, loc="outside lower center", ncol=legend_columns(labels, ncol or len(handles),
                                                                                fig.get_figwidth()),
               title=title, title_fontsize=max(float(current_style()["font_size"]) - 2, 5))


def legend_columns(labels: Sequence[str], ncol: int, width_in: float) -> int:
    """At most ``ncol`` legend columns, fewer when the row would be wider than the figure
    (long survey names: "EU-SILC (muestra de laeken)"). Columns are filled as matplotlib fills
    them (the first ``len % c`` columns hold one entry more); each is its longest label
    (:data:`CHAR_WIDTH`) plus the handle (2 em), its pad (0.8 em) and the column spacing (2 em)
    at the legend's font size."""
    fs = float(current_style()["font_size"]) - 1
    for c in range(min(max(int(ncol), 1), len(labels)), 1, -1):
        rows, large = divmod(len(labels), c)
        ends = np.cumsum([rows + 1] * large + [rows] * (c - large))
        cols = [labels[a:b] for a, b in zip(np.r_[0, ends[:-1]], ends)]
        width = sum(max(map(len, col)) * CHAR_WIDTH * fs + 4.8 * fs for col in cols if col)
        if width <= width_in * 72:
            return c
    return 1


def err(sub: pd.DataFrame) -> np.ndarray:
    est = sub["estimate"].to_numpy(float)
    err = np.vstack([est - sub["ci_lower"].to_numpy(float), sub["ci_upper"].to_numpy(float) - est])
    return np.where(np.isfinite(err), err, 0)


def row_panel(ax, surveys, title: str, xlabel: str) -> None:
    """A panel with one row per survey (labels on y), vertical grid lines only."""
    ax.set_yticks(np.arange(len(surveys)))
    ax.set_yticklabels(surveys, fontsize=7)
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.grid(True, axis="x")
    ax.grid(False, axis="y")
