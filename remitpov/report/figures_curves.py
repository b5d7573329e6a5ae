"""Curve figures of the chapter -- poverty incidence and dominance (FGT1/FGT2) curves over the
line, Lorenz and concentration curves, each with pointwise confidence bands -- and the
counterfactual figure (observed vs static vs selection-corrected headcounts). Same style and
helpers as every chapter figure (:mod:`remitpov.report.figures_style`);
:mod:`remitpov.report.figures` re-exports them.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from .figures_style import (COLORS, axis_labels as _axis_labels, current_style, err as _err, grid as _grid, label,
                            legend_outside as _legend_outside, palette, panel_title as _panel_title, save, style,
                            welfare_labels)

__all__ = ["incidence_curves", "dominance_curves", "lorenz_curves", "counterfactual_dots"]


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
                # a survey without remittances has one curve, "total": the observed welfare, in the "with" colour
                color = COLORS.get("with" if concept == "total" else concept, "#333333")
                ax.plot(c["multiple"], c["estimate"], color=color, lw=1.4,
                        label=label("curve_total" if concept == "total" else concept, language))
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
        handles = {}  # every panel's entries once (a survey without remittances adds its "observed" curve)
        for ax in axes:
            for h, lab in zip(*ax.get_legend_handles_labels()):
                handles.setdefault(lab, h)
        _legend_outside(fig, axes[0], items=(list(handles.values()), list(handles)))
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
        # one survey: the style's full width (the concept names take half of it; the panel title was cut)
        fig, axes = _grid(len(surveys), max(4.6, current_style()["width"] / len(surveys)), 0.6 + 0.42 * len(concepts))
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
