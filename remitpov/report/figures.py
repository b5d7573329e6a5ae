"""Chapter figures: one publication style, PNG + PDF/SVG, English or Spanish labels.

Every function takes a tidy frame built by :mod:`remitpov.report.chapter`, draws one
figure and saves it in each requested format via :func:`save`, which strips timestamps
(PDF ``CreationDate``, SVG ``Date``, fixed SVG hash salt) so reruns give the same files.
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

from .i18n import TEXT

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
    s = LABELS.get(language, LABELS["en"]).get(key) or LABELS["en"].get(key, key)
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


def _panel_title(ax, s: str, per: Mapping[str, str], n: int) -> None:
    """A small-multiple panel's title: the survey, and its welfare concept when the panels differ."""
    ax.set_title(f"{s}\n({per[s]})" if s in per else s, fontsize=None if n <= 9 else 7)


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


def save(fig, stem, formats: Sequence[str] = ("png", "pdf")) -> list[Path]:
    """Save ``fig`` as ``stem.<fmt>`` for each format, without timestamps; closes the figure."""
    import matplotlib.pyplot as plt

    stem = Path(stem)
    stem.parent.mkdir(parents=True, exist_ok=True)
    if current_style().get("language") == "es":
        decimal_comma(fig)
    out = []
    for fmt in formats:
        p = stem.with_suffix(f".{fmt}")
        meta = {"png": {"Software": "remitpov/matplotlib"}, "pdf": {"CreationDate": None, "Producer": "remitpov"},
                "svg": {"Date": None}}.get(fmt)
        fig.savefig(p, format=fmt, metadata=meta)
        out.append(p)
    plt.close(fig)
    return out


def _height(rows: int, per_row: float, extra: float = 1.1) -> float:
    """A height that grows with the rows (at least 2.6 in: room for the title, axis and legend),
    bounded by the style's ``max_height``."""
    return float(min(current_style()["max_height"], max(2.6, extra + per_row * rows)))


def _grid(n: int, width: float = 3.4, height: float = 3.0, *, share: bool = False):
    """Small multiples: up to 3 panels of ``width`` x ``height`` in a row; beyond 3 panels the
    figure is the style's full width with 2-6 columns and a bounded height (panels shrink),
    shared axes, and a thin first row kept for the legend (:func:`_legend_outside` puts it
    there: matplotlib's "outside" legends overlap ``supxlabel``/``suptitle``)."""
    import matplotlib.pyplot as plt

    if n <= 3:
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


def _axis_labels(fig, axes, x: str, y: str) -> None:
    """Axis labels: up to 3 panels, x on each and y on the first (the panels show the same
    quantity; a long label repeated on each collides with the titles); more panels: once for
    the figure (small multiples)."""
    if len(axes) > 3:
        fig.supxlabel(x)
        fig.supylabel(y)
        return
    for ax in axes:
        ax.set_xlabel(x)
    axes[0].set_ylabel(y)


def _legend_outside(fig, ax, ncol: int | None = None, title: str | None = None, items=None):
    """One legend for the figure (the entries of ``ax``, or ``items`` = (handles, labels)), below
    the panels or in the legend row of :func:`_grid` -- never over the data, the title or an
    axis label."""
    handles, labels = items if items is not None else ax.get_legend_handles_labels()
    if not handles:
        return
    lax = getattr(fig, "_remitpov_legend_axes", None)
    if lax is not None:  # the legend row of _grid
        lax.legend(handles, labels, loc="center", ncol=ncol or min(len(handles), 3), title=title)
        return
    fig.legend(handles, labels, loc="outside lower center", ncol=ncol or len(handles), title=title,
               title_fontsize=max(float(current_style()["font_size"]) - 2, 5))


def _err(sub: pd.DataFrame) -> np.ndarray:
    est = sub["estimate"].to_numpy(float)
    err = np.vstack([est - sub["ci_lower"].to_numpy(float), sub["ci_upper"].to_numpy(float) - est])
    return np.where(np.isfinite(err), err, 0)


#: up to this many (survey, population) groups, paired bars stand upright; beyond, they lie in two panels
UPRIGHT_GROUPS = 8


def paired_bars(frame: pd.DataFrame, stem, *, indicator: str = "poverty", language: str = "en",
                formats=("png", "pdf"), level: float = 0.95) -> list[Path]:
    """Bars with/without remittances per survey and population (total, recipients), CI whiskers.

    ``frame`` columns: ``survey``, ``population`` ("total"/"recipients"), ``concept``
    ("with"/"without"), ``estimate``, ``ci_lower``, ``ci_upper`` (percent). Up to
    :data:`UPRIGHT_GROUPS` groups the bars stand side by side; with more (many countries) they
    lie horizontally in one panel per population, surveys in rows, so the width stays the
    style's and the height grows with the surveys (bounded). The legend is outside the data.
    """
    import matplotlib.pyplot as plt

    with style():
        groups = frame[["survey", "population"]].drop_duplicates().reset_index(drop=True)
        whisk = label("whiskers", language, ci=label("ci", language, level=level))
        title = label("paired_title", language, indicator=label(indicator, language))
        if len(groups) > UPRIGHT_GROUPS:
            return _paired_bars_rows(frame, stem, title, whisk, language, formats)
        fig, ax = plt.subplots(figsize=(min(max(4.5, 1.3 * len(groups) + 1.5), current_style()["width"]), 3.8))
        x = np.arange(len(groups))
        width = 0.38
        for j, concept in enumerate(("with", "without")):
            sub = groups.merge(frame[frame["concept"] == concept], on=["survey", "population"], how="left")
            ax.bar(x + (j - 0.5) * width, sub["estimate"].to_numpy(float), width, color=COLORS[concept],
                   label=label(concept, language), yerr=_err(sub), capsize=2.5,
                   error_kw={"elinewidth": 0.8, "ecolor": "#333333"})
        ax.set_xticks(x)
        ax.set_xticklabels([f"{s}\n{label(p + '_short', language)}" for s, p in groups.itertuples(index=False)],
                           fontsize=7)
        ax.set_ylabel(label("rate", language))
        ax.set_title(title)
        _legend_outside(fig, ax, title=whisk)
        return save(fig, stem, formats)


def _rows_order(frame: pd.DataFrame) -> list[str]:
    """Surveys sorted by the total population's rate with remittances (highest on top)."""
    key = frame[(frame["concept"].isin(["with", "total"])) & (frame.get("population", "total") == "total")]
    order = key.sort_values("estimate", kind="stable")["survey"].tolist()
    return list(dict.fromkeys(order + list(dict.fromkeys(frame["survey"]))))


def _row_panel(ax, surveys, title: str, xlabel: str) -> None:
    """A panel with one row per survey (labels on y), vertical grid lines only."""
    ax.set_yticks(np.arange(len(surveys)))
    ax.set_yticklabels(surveys, fontsize=7)
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.grid(True, axis="x")
    ax.grid(False, axis="y")


def _paired_bars_rows(frame, stem, title, whisk, language, formats):
    import matplotlib.pyplot as plt

    surveys = _rows_order(frame)
    pops = list(dict.fromkeys(frame["population"]))
    fig, axes = plt.subplots(1, len(pops), figsize=(current_style()["width"], _height(len(surveys), 0.3)),
                             sharey=True, squeeze=False)
    y = np.arange(len(surveys))
    for ax, pop in zip(axes.flat, pops):
        for j, concept in enumerate(("with", "without")):
            sub = pd.DataFrame({"survey": surveys}).merge(
                frame[(frame["concept"] == concept) & (frame["population"] == pop)], on="survey", how="left")
            ax.barh(y + (0.5 - j) * 0.38, sub["estimate"].to_numpy(float), 0.38, color=COLORS[concept],
                    label=label(concept, language), xerr=_err(sub), capsize=1.5,
                    error_kw={"elinewidth": 0.6, "ecolor": "#333333"})
        _row_panel(ax, surveys, label(pop, language), label("rate", language))
    fig.suptitle(title)
    _legend_outside(fig, axes.flat[0], title=whisk)
    return save(fig, stem, formats)


def country_comparison(frame: pd.DataFrame, stem, *, indicator: str = "poverty", language: str = "en",
                       formats=("png", "pdf"), level: float = 0.95) -> list[Path]:
    """Sorted country comparison: one row per survey (sorted by the rate with remittances),
    dots with and without remittances joined by a line, horizontal CI whiskers; one panel per
    population. Full style width, height growing with the rows (bounded), legend below.

    ``frame``: as :func:`paired_bars` (surveys without remittances have ``concept`` "total":
    drawn as the "with" dot).
    """
    import matplotlib.pyplot as plt

    with style():
        frame = frame.assign(concept=frame["concept"].replace({"total": "with"}))
        surveys = _rows_order(frame)
        pops = list(dict.fromkeys(frame["population"]))
        fig, axes = plt.subplots(1, len(pops), figsize=(current_style()["width"], _height(len(surveys), 0.24)),
                                 sharey=True, squeeze=False)
        hi = np.nanmax(np.r_[frame["ci_upper"].to_numpy(float), frame["estimate"].to_numpy(float)])
        xmax = 1.05 * hi if np.isfinite(hi) and hi > 0 else 1.0
        y = np.arange(len(surveys))
        marker = {"with": "o", "without": "s"}
        for ax, pop in zip(axes.flat, pops):
            subs = {c: pd.DataFrame({"survey": surveys}).merge(
                frame[(frame["concept"] == c) & (frame["population"] == pop)], on="survey", how="left")
                for c in ("with", "without")}
            ax.hlines(y, subs["with"]["estimate"], subs["without"]["estimate"], color="#bbbbbb", lw=1.2, zorder=1)
            for c, sub in subs.items():
                if not np.isfinite(sub["estimate"].to_numpy(float)).any():
                    continue  # surveys without remittances: no "without" dots (nor a legend entry)
                ax.errorbar(sub["estimate"].to_numpy(float), y, xerr=_err(sub), fmt=marker[c], ms=4,
                            color=COLORS[c], ecolor=COLORS[c], elinewidth=0.7, capsize=1.5,
                            label=label(c, language), zorder=2)
            _row_panel(ax, surveys, label(pop, language), label("rate", language))
            ax.set_xlim(0, xmax)
        fig.suptitle(label("comparison_title", language, indicator=label(indicator, language)))
        _legend_outside(fig, axes.flat[0], title=label("whiskers", language, ci=label("ci", language, level=level)))
        return save(fig, stem, formats)


#: up to this many surveys the decile figure has grouped bars; beyond, a heat map (colours never repeat)
DECILE_BARS = 6


def recipients_by_decile(frame: pd.DataFrame, stem, *, language: str = "en", formats=("png", "pdf")) -> list[Path]:
    """% of persons in recipient households by decile of income without remittances, per survey.

    ``frame`` columns: ``survey``, ``group`` (decile number 1..10), ``estimate``, ``ci_lower``,
    ``ci_upper``. Up to :data:`DECILE_BARS` surveys: grouped bars with CI whiskers, one
    distinct colour each, legend outside; more: a heat map (surveys x deciles, values written
    in the cells) whose height grows with the surveys.
    """
    import matplotlib.pyplot as plt

    with style():
        surveys = list(dict.fromkeys(frame["survey"]))
        k = len(surveys)
        if k > DECILE_BARS:
            return _decile_heatmap(frame, surveys, stem, language, formats)
        fig, ax = plt.subplots(figsize=(current_style()["width"] * 0.9, 3.6))
        width = 0.8 / max(k, 1)
        for j, (s, color) in enumerate(zip(surveys, palette(k))):
            sub = frame[frame["survey"] == s].sort_values("group")
            x = sub["group"].to_numpy(float) + (j - (k - 1) / 2) * width
            ax.bar(x, sub["estimate"].to_numpy(float), width, color=color, label=s, yerr=_err(sub), capsize=1.5,
                   error_kw={"elinewidth": 0.6})
        ax.set_xticks(np.arange(1, 11))
        ax.set_ylabel(label("recipients_pct", language))
        _legend_outside(fig, ax, ncol=min(k, 4))
        _decile_labels(ax, surveys, language)
        return save(fig, stem, formats)


def _decile_labels(ax, surveys, language) -> None:
    """Axis label and title of the decile figure, naming the surveys' welfare concept."""
    phrase = welfare_labels(surveys, language)[0]
    ax.set_xlabel(label("decile", language, welfare=phrase))
    ax.set_title(label("decile_title", language, welfare=phrase))


def _decile_heatmap(frame, surveys, stem, language, formats):
    import matplotlib.pyplot as plt

    grid = frame.pivot_table(index="survey", columns="group", values="estimate", sort=False).reindex(surveys)
    fig, ax = plt.subplots(figsize=(current_style()["width"], _height(len(surveys), 0.26, 1.4)))
    im = ax.imshow(grid.to_numpy(float), aspect="auto", cmap="Blues", vmin=0)
    ax.set_xticks(np.arange(grid.shape[1]))
    ax.set_xticklabels([str(int(c)) for c in grid.columns])
    ax.set_yticks(np.arange(len(surveys)))
    ax.set_yticklabels(surveys, fontsize=7)
    ax.grid(False)
    vmax = np.nanmax(grid.to_numpy(float)) if np.isfinite(grid.to_numpy(float)).any() else 1.0
    for (i, j), v in np.ndenumerate(grid.to_numpy(float)):
        if np.isfinite(v):
            ax.text(j, i, f"{v:.0f}", ha="center", va="center", fontsize=6, color="white" if v > 0.6 * vmax else "#222222")
    _decile_labels(ax, surveys, language)
    fig.colorbar(im, ax=ax, label=label("recipients_pct", language), shrink=0.8)
    return save(fig, stem, formats)


def incidence_curves(frame: pd.DataFrame, stem, *, language: str = "en", formats=("png", "pdf"),
                     bands: pd.DataFrame | None = None, level: float = 0.95) -> list[Path]:
    """Headcount as a function of the line, with and without remittances, one panel per survey.

    ``frame`` columns: ``survey``, ``multiple`` (line / poverty line), ``concept``, ``estimate``
    (percent). ``bands`` (same keys plus ``ci_lower``/``ci_upper``): pointwise confidence
    bands drawn around each curve. One legend below the panels.
    """
    return _curve_panels(frame, bands, stem, label("curve_title", language), label("curve_y", language),
                         language, formats, level)


def dominance_curves(frame: pd.DataFrame, stem, *, language: str = "en", formats=("png", "pdf"),
                     level: float = 0.95) -> list[Path]:
    """Poverty-dominance curves of order 2 and 3: FGT1 (gap) and FGT2 (severity) as functions
    of the line, with and without remittances, pointwise confidence bands; one figure per
    order, ``<stem>_fgt1`` and ``<stem>_fgt2``, laid out as :func:`incidence_curves`.

    ``frame`` columns: ``survey``, ``measure`` (fgt1/fgt2), ``concept``, ``multiple``,
    ``estimate``, ``ci_lower``, ``ci_upper`` (percent).
    """
    stem = Path(stem)
    out = []
    for m in ("fgt1", "fgt2"):
        sub = frame[frame["measure"] == m]
        if len(sub):
            out += _curve_panels(sub, sub, stem.with_name(f"{stem.name}_{m}"), label(f"dominance_title_{m}", language),
                                 label(f"dominance_y_{m}", language), language, formats, level)
    return out


def _curve_panels(frame, bands, stem, title: str, ylabel: str, language, formats, level) -> list[Path]:
    """Curves over the line multiple, one panel per survey (small multiples), with/without
    remittances in their colours, shaded pointwise CI bands from ``bands``, the poverty line
    dotted, the welfare concept in the panel titles when the surveys differ."""
    with style():
        surveys = list(dict.fromkeys(frame["survey"]))
        per = welfare_labels(surveys, language)[2]
        fig, axes = _grid(len(surveys), share=True)
        for ax, s in zip(axes, surveys):
            sub = frame[frame["survey"] == s]
            for concept in dict.fromkeys(sub["concept"]):
                c = sub[sub["concept"] == concept].sort_values("multiple")
                color = COLORS.get(concept, "#333333")
                ax.plot(c["multiple"], c["estimate"], color=color, lw=1.4, label=label(concept, language))
                if bands is not None:
                    b = bands[(bands["survey"] == s) & (bands["concept"] == concept)].sort_values("multiple")
                    if len(b):
                        ax.fill_between(b["multiple"], b["ci_lower"], b["ci_upper"], color=color, alpha=0.2, lw=0,
                                        label=label("band", language, ci=label("ci", language, level=level))
                                        if concept in ("with", "total") else None)
            ax.axvline(1.0, color=COLORS["equality"], lw=0.7, ls=":")
            _panel_title(ax, s, per, len(surveys))
        _axis_labels(fig, axes, label("curve_x", language), ylabel)
        fig.suptitle(title)
        _legend_outside(fig, axes[0])
        return save(fig, stem, formats)


def lorenz_curves(frame: pd.DataFrame, stem, *, language: str = "en", formats=("png", "pdf"),
                  level: float = 0.95) -> list[Path]:
    """Lorenz curves with/without remittances and the concentration curve of remittances.

    ``frame`` columns: ``survey``, ``curve`` (lorenz_with / lorenz_without / lorenz_total /
    concentration_remittances), ``p``, ``value``; optional ``ci_lower``/``ci_upper``:
    pointwise confidence bands drawn around each curve (shaded, at ``level``). The title
    names the survey's welfare concept (:func:`welfare_labels`) and the concentration curve
    only when one is drawn; one legend below the panels.
    """
    colors = {"lorenz_with": COLORS["with"], "lorenz_without": COLORS["without"], "lorenz_total": COLORS["with"],
              "concentration_remittances": COLORS["remittances"]}
    bands = {"ci_lower", "ci_upper"} <= set(frame.columns)
    with style():
        surveys = list(dict.fromkeys(frame["survey"]))
        phrase, measure, per = welfare_labels(surveys, language)
        n = len(surveys)  # up to 3 square panels side by side within the style's width (room for the title)
        fig, axes = _grid(n, current_style()["width"] / min(n, 3), 4.2 if n == 1 else 3.4, share=True)
        handles = {}
        for ax, s in zip(axes, surveys):
            sub = frame[frame["survey"] == s]
            ax.plot([0, 1], [0, 1], color=COLORS["equality"], lw=0.7, ls="--", label=label("equality", language))
            for curve in dict.fromkeys(sub["curve"]):
                c = sub[sub["curve"] == curve].sort_values("p")
                color = colors.get(curve, "#333333")
                ax.plot(c["p"], c["value"], color=color, lw=1.3, label=label(curve, language))
                if bands and np.isfinite(c["ci_lower"].to_numpy(float)).any():
                    ax.fill_between(c["p"], c["ci_lower"], c["ci_upper"], color=color, alpha=0.2, lw=0,
                                    label=label("band", language, ci=label("ci", language, level=level)))
            for h, lab in zip(*ax.get_legend_handles_labels()):
                handles.setdefault(lab, h)
            ax.set_xlim(0, 1)
            ax.set_ylim(0, 1)
            if len(surveys) <= 3:  # small multiples keep the grid's panel shape (equal aspect squeezes them)
                ax.set_aspect("equal")
            ax.grid(True, axis="both")
            _panel_title(ax, s, per, len(surveys))
        band = label("band", language, ci=label("ci", language, level=level))
        if band in handles:  # one neutral swatch for the bands of every curve
            from matplotlib.patches import Patch

            handles[band] = Patch(color="#888888", alpha=0.35, lw=0)
        concentration = bool((frame["curve"] == "concentration_remittances").any())
        _axis_labels(fig, axes, label("lorenz_x", language),
                     label("lorenz_y_conc" if concentration else "lorenz_y", language, measure=measure))
        fig.suptitle(label("lorenz_title" if concentration else "lorenz_only_title", language, welfare=phrase))
        _legend_outside(fig, None, ncol=min(len(handles), 2), items=(list(handles.values()), list(handles)))
        return save(fig, stem, formats)


def counterfactual_dots(frame: pd.DataFrame, stem, *, language: str = "en", formats=("png", "pdf"),
                        level: float = 0.95) -> list[Path]:
    """Poverty headcount under each counterfactual concept (observed, static, selection-corrected),
    dots with CI whiskers, one row per concept, one panel per survey.

    ``frame``: the tidy ``counterfactual`` rows of measure ``fgt0`` (``survey``, ``concept``,
    ``estimate``, ``ci_lower``, ``ci_upper``; percent).
    """
    with style():
        surveys = list(dict.fromkeys(frame["survey"]))
        concepts = list(dict.fromkeys(frame["concept"]))
        colors = dict(zip(concepts, palette(len(concepts))))
        fig, axes = _grid(len(surveys), 4.6, 0.6 + 0.42 * len(concepts))
        for ax, s in zip(axes, surveys):
            sub = frame[frame["survey"] == s].set_index("concept").reindex(concepts).reset_index()
            y = np.arange(len(concepts))[::-1]
            for yi, (_, r) in zip(y, sub.iterrows()):
                ax.errorbar([r["estimate"]], [yi], xerr=_err(pd.DataFrame([r])), fmt="o", ms=5, color=colors[r["concept"]],
                            elinewidth=0.9, capsize=2)
                ax.annotate(f"{r['estimate']:.1f}".replace(".", "," if language == "es" else "."), (r["estimate"], yi),
                            textcoords="offset points", xytext=(0, 6), ha="center", fontsize=7)
            ax.set_yticks(y)
            ax.set_yticklabels([label("cf_" + c, language) for c in concepts])
            ax.set_ylim(-0.7, len(concepts) - 0.3)
            ax.set_xlabel(label("rate", language))
            ax.set_title(s)
            ax.grid(True, axis="x")
            ax.grid(False, axis="y")
        fig.suptitle(label("cf_title", language) + "\n" + label("whiskers", language,
                                                                 ci=label("ci", language, level=level)))
        return save(fig, stem, formats)


# ---------------------------------------------------------------------------- coverage / impact range
def _fmt(v: float, decimals: int, language: str) -> str:
    """A number for a figure's text (not its ticks): thousands separator, decimal comma in Spanish."""
    from .publication import format_number

    return format_number(v, decimals, language)


def coverage_by_state_size(fr: pd.DataFrame) -> tuple[float, float]:
    """Figure size (inches) of :func:`coverage_by_state` for the rows ``fr``: the style's width,
    a height growing with the number of states (bounded)."""
    return current_style()["width"], _height(int((fr["domain"] != "national").sum()), 0.2, 1.6)


def draw_coverage_by_state(ax, fr: pd.DataFrame, *, language: str = "en", names: Mapping | None = None) -> None:
    """Draw the coverage of survey remittances by state (percent) on ``ax``; see
    :func:`coverage_by_state` (which saves it) for what is drawn and the columns of ``fr``.
    :func:`remitpov.coverage.plot_coverage` draws with it too, so the API figure and the
    chapter's are the same."""
    from matplotlib.lines import Line2D

    names = names or {}
    nat = fr[fr["domain"] == "national"].iloc[0]
    st = fr[fr["domain"] != "national"].sort_values("coverage", kind="stable")
    labels = [str(names.get(d, d)) for d in st["domain"]]
    est, lo, hi = (100 * st[c].to_numpy(float) for c in ("coverage", "ci_lower", "ci_upper"))
    cut = lo < 0
    y = np.arange(len(st))
    level = float(nat["ci_level"])
    ax.axvspan(100 * nat["ci_lower"], 100 * nat["ci_upper"], color=PALETTE[5], alpha=0.12, lw=0)
    ax.axvline(100 * nat["coverage"], color=PALETTE[5], ls="--", lw=1, zorder=3)
    ax.barh(y, est, color=PALETTE[0], height=0.7)
    ax.errorbar(est, y, xerr=[est - np.maximum(lo, 0), hi - est], fmt="none", ecolor="#333333", lw=0.7,
                capsize=1.5)
    if cut.any():
        ax.plot(np.zeros(cut.sum()), y[cut], "<", color="#333333", ms=4, clip_on=False)
    _row_panel(ax, labels, "", label("coverage_pct", language))
    ax.set_ylim(-0.7, len(st) - 0.3)
    ax.set_xlim(left=0)
    survey, year = nat.get("survey"), int(nat["year"])
    key = "coverage_state_title_year" if not survey or str(survey) == str(year) else \
        "coverage_state_title_label" if str(year) in str(survey) else "coverage_state_title"
    ax.set_title(label(key, language, survey=survey, year=year))
    items = [Line2D([], [], color=PALETTE[5], ls="--", lw=1),
             Line2D([], [], color="#333333", marker="|", ls="none", ms=8)]
    texts = [label("coverage_national", language, value=_fmt(100 * nat["coverage"], 1, language)),
             label("whiskers", language, ci=label("ci", language, level=level))]
    if cut.any():
        items.append(Line2D([], [], color="#333333", marker="<", ls="none", ms=4))
        texts.append(label("cut_at_zero", language))
    _legend_outside(ax.figure, ax, ncol=len(items), items=(items, texts))


def coverage_by_state(fr: pd.DataFrame, stem, *, language: str = "en", formats=("png", "pdf"),
                      names: Mapping | None = None) -> list[Path]:
    """Coverage of survey remittances by state, in percent of the balance-of-payments total.

    One row per state, sorted (highest on top); bars = the estimate, whiskers = its CI, cut at
    0 where the interval reaches below it (marked with a "<"); the national coverage as a
    dashed line with its CI band. Style width, height growing with the states (bounded),
    Okabe--Ito colours, legend below the panel (never over the bars).

    ``fr``: one survey's rows of the ``coverage`` block's extra -- ``domain`` ("national" or a
    state code), ``coverage``, ``ci_lower``, ``ci_upper`` (fractions), ``year``,
    ``ci_level``, ``survey`` (its label); ``names`` maps state codes to names.
    """
    import matplotlib.pyplot as plt

    with style():
        fig, ax = plt.subplots(figsize=coverage_by_state_size(fr))
        draw_coverage_by_state(ax, fr, language=language, names=names)
        return save(fig, stem, formats)


def coverage_time_series(nat: pd.DataFrame, stem, *, language: str = "en", formats=("png", "pdf")) -> list[Path]:
    """Survey against balance-of-payments remittances (million USD, the coverage table's unit)
    and the coverage (percent, with its CI) by survey year, two panels at the style's width,
    one legend below them.

    ``nat``: the national rows of the ``coverage`` extra, one per survey (``year``,
    ``macro_usd``, ``survey_usd``, ``survey_usd_se``, ``df``, ``coverage``, ``ci_lower``,
    ``ci_upper``, ``ci_level``), sorted by year.
    """
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter
    from scipy import stats

    nat = nat.sort_values("year", kind="stable")
    x = nat["year"].to_numpy(int)
    level = float(nat["ci_level"].iloc[0])
    with style():
        fig, (a1, a2) = plt.subplots(1, 2, figsize=(current_style()["width"], 3.6))
        a1.plot(x, nat["macro_usd"].to_numpy(float) / 1e6, "o-", color=PALETTE[0], ms=4,
                label=label("bop", language))
        su, se = nat["survey_usd"].to_numpy(float) / 1e6, nat["survey_usd_se"].to_numpy(float) / 1e6
        q = stats.t.ppf(0.5 + nat["ci_level"].to_numpy(float) / 2, nat["df"].to_numpy(float))
        a1.errorbar(x, su, yerr=q * se, fmt="s-", color=PALETTE[1], ms=4, capsize=2, elinewidth=0.8,
                    label=label("survey_total", language))
        a1.set_ylabel(label("million_usd", language))
        a1.set_ylim(bottom=0)
        a1.yaxis.set_major_formatter(FuncFormatter(lambda v, pos: _fmt(v, 0, language)))
        c = 100 * nat["coverage"].to_numpy(float)
        a2.errorbar(x, c, yerr=[c - 100 * nat["ci_lower"].to_numpy(float), 100 * nat["ci_upper"].to_numpy(float) - c],
                    fmt="o-", color=PALETTE[2], ms=4, capsize=2, elinewidth=0.8, label=label("coverage_short", language))
        a2.set_ylabel(label("coverage_pct", language))
        a2.set_ylim(bottom=0)
        for a in (a1, a2):
            a.set_xticks(x, [str(v) for v in x])
            a.set_xlabel(label("year", language))
            a.margins(x=0.15)
        fig.suptitle(label("coverage_title", language))
        h1, l1 = a1.get_legend_handles_labels()
        h2, l2 = a2.get_legend_handles_labels()
        _legend_outside(fig, a1, ncol=3, items=(h1 + h2, l1 + l2),
                        title=label("whiskers", language, ci=label("ci", language, level=level)))
        return save(fig, stem, formats)


#: the impact-range concepts, in the figure's order, and their Okabe--Ito colours
IMPACT_CONCEPTS = {"without": PALETTE[1], "with (survey)": PALETTE[0], "with (calibrated)": PALETTE[2]}


def impact_range(t: pd.DataFrame, stem, *, language: str = "en", formats=("png", "pdf"),
                 level: float = 0.95) -> list[Path]:
    """Poverty headcount without remittances, with the survey's and with calibrated remittances
    (scaled to the balance of payments): one row per survey, sorted by the headcount with the
    survey's remittances (highest on top), three dots with CI whiskers joined by a line, the
    value of each dot written beside it when there are few surveys. Style width, height
    growing with the surveys (bounded), Okabe--Ito colours, legend below.

    ``t``: the ``impact_range`` tidy rows of measure ``fgt0`` (``survey``, ``concept``,
    ``estimate``, ``ci_lower``, ``ci_upper``; percent).
    """
    import matplotlib.pyplot as plt

    t = t[t["concept"].isin(IMPACT_CONCEPTS)]
    key = t[t["concept"] == "with (survey)"].sort_values("estimate", kind="stable")
    surveys = list(dict.fromkeys(key["survey"].tolist() + t["survey"].tolist()))
    y = np.arange(len(surveys))
    annotate = len(surveys) <= 8
    with style():
        fig, ax = plt.subplots(figsize=(current_style()["width"], _height(len(surveys), 0.42 if annotate else 0.26)))
        subs = {c: pd.DataFrame({"survey": surveys}).merge(t[t["concept"] == c], on="survey", how="left")
                for c in IMPACT_CONCEPTS}
        e = np.vstack([s["estimate"].to_numpy(float) for s in subs.values()])
        if not annotate:  # dots on one line per survey: a connector shows the range
            ax.hlines(y, np.nanmin(e, axis=0), np.nanmax(e, axis=0), color="#bbbbbb", lw=1.2, zorder=1)
        offsets = np.linspace(0.18, -0.18, len(IMPACT_CONCEPTS)) if annotate else np.zeros(len(IMPACT_CONCEPTS))
        for (c, color), sub, dy in zip(IMPACT_CONCEPTS.items(), subs.values(), offsets):
            est = sub["estimate"].to_numpy(float)
            ax.errorbar(est, y + dy, xerr=_err(sub), fmt="o", ms=4, color=color, elinewidth=0.8, capsize=1.5,
                        label=label(f"impact_{c}", language), zorder=2)
            if annotate:
                for xi, yi, hi in zip(est, y + dy, sub["ci_upper"].to_numpy(float)):
                    if np.isfinite(xi):
                        ax.annotate(_fmt(xi, 1, language), (hi, yi), xytext=(3, 0), textcoords="offset points",
                                    va="center", fontsize=max(float(current_style()["font_size"]) - 2, 5))
        _row_panel(ax, surveys, label("impact_title", language), label("rate", language))
        ax.set_ylim(-0.6, len(surveys) - 0.4)
        # dots, not bars: the axis spans the data (from 0 only when the data come near it)
        lo, hi = (np.nanmin(t["ci_lower"].to_numpy(float)), np.nanmax(t["ci_upper"].to_numpy(float))) if len(t) \
            else (0.0, 1.0)
        span = max(hi - lo, 1.0) if np.isfinite(hi - lo) else 1.0
        ax.set_xlim(max(0.0, lo - 0.15 * span) if np.isfinite(lo) else 0.0,
                    (hi if np.isfinite(hi) else 1.0) + (0.3 if annotate else 0.1) * span)
        _legend_outside(fig, ax, ncol=3, title=label("whiskers", language, ci=label("ci", language, level=level)))
        return save(fig, stem, formats)
