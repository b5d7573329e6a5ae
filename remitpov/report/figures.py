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
    """Axis labels on each panel (up to 3), or once for the figure (small multiples)."""
    if len(axes) > 3:
        fig.supxlabel(x)
        fig.supylabel(y)
        return
    for ax in axes:
        ax.set_xlabel(x)
        ax.set_ylabel(y)


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
        ax.set_xlabel(label("decile", language))
        ax.set_ylabel(label("recipients_pct", language))
        ax.set_title(label("decile_title", language))
        _legend_outside(fig, ax, ncol=min(k, 4))
        return save(fig, stem, formats)


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
    ax.set_xlabel(label("decile", language))
    ax.set_title(label("decile_title", language))
    fig.colorbar(im, ax=ax, label=label("recipients_pct", language), shrink=0.8)
    return save(fig, stem, formats)


def incidence_curves(frame: pd.DataFrame, stem, *, language: str = "en", formats=("png", "pdf"),
                     bands: pd.DataFrame | None = None, level: float = 0.95) -> list[Path]:
    """Headcount as a function of the line, with and without remittances, one panel per survey.

    ``frame`` columns: ``survey``, ``multiple`` (line / poverty line), ``concept``, ``estimate``
    (percent). ``bands`` (same keys plus ``ci_lower``/``ci_upper``): pointwise confidence
    bands drawn around each curve. One legend below the panels.
    """
    with style():
        surveys = list(dict.fromkeys(frame["survey"]))
        fig, axes = _grid(len(surveys), share=True)
        for k, (ax, s) in enumerate(zip(axes, surveys)):
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
            ax.set_title(s, fontsize=None if len(surveys) <= 9 else 7)
        _axis_labels(fig, axes, label("curve_x", language), label("curve_y", language))
        fig.suptitle(label("curve_title", language))
        _legend_outside(fig, axes[0])
        return save(fig, stem, formats)


def lorenz_curves(frame: pd.DataFrame, stem, *, language: str = "en", formats=("png", "pdf")) -> list[Path]:
    """Lorenz curves with/without remittances and the concentration curve of remittances.

    ``frame`` columns: ``survey``, ``curve`` (lorenz_with / lorenz_without / lorenz_total /
    concentration_remittances), ``p``, ``value``. The title names the concentration curve
    only when one is drawn; one legend below the panels.
    """
    colors = {"lorenz_with": COLORS["with"], "lorenz_without": COLORS["without"], "lorenz_total": COLORS["with"],
              "concentration_remittances": COLORS["remittances"]}
    with style():
        surveys = list(dict.fromkeys(frame["survey"]))
        fig, axes = _grid(len(surveys), 3.7, 3.4, share=True)
        handles = {}
        for ax, s in zip(axes, surveys):
            sub = frame[frame["survey"] == s]
            ax.plot([0, 1], [0, 1], color=COLORS["equality"], lw=0.7, ls="--", label=label("equality", language))
            for curve in dict.fromkeys(sub["curve"]):
                c = sub[sub["curve"] == curve].sort_values("p")
                ax.plot(c["p"], c["value"], color=colors.get(curve, "#333333"), lw=1.3, label=label(curve, language))
            for h, lab in zip(*ax.get_legend_handles_labels()):
                handles.setdefault(lab, h)
            ax.set_xlim(0, 1)
            ax.set_ylim(0, 1)
            ax.set_aspect("equal")
            ax.grid(True, axis="both")
            ax.set_title(s, fontsize=None if len(surveys) <= 9 else 7)
        _axis_labels(fig, axes, label("lorenz_x", language), label("lorenz_y", language))
        concentration = bool((frame["curve"] == "concentration_remittances").any())
        fig.suptitle(label("lorenz_title" if concentration else "lorenz_only_title", language))
        _legend_outside(fig, None, ncol=min(len(handles), 4), items=(list(handles.values()), list(handles)))
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
