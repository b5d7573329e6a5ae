"""Chapter figures: one publication style, PNG + PDF/SVG, English or Spanish labels.

Every function takes a tidy frame built by :mod:`remitpov.report.chapter`, draws one
figure and saves it in each requested format via :func:`save`, which strips timestamps
(PDF ``CreationDate``, SVG ``Date``, fixed SVG hash salt) so reruns give the same files.
Matplotlib runs headless (the ``Agg`` backend is selected if no backend was chosen).
"""
from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

from .i18n import TEXT

os.environ.setdefault("MPLBACKEND", "Agg")

#: one consistent style for all chapter figures
STYLE = {
    "figure.dpi": 100, "savefig.dpi": 150, "figure.constrained_layout.use": True, "font.size": 9, "axes.titlesize": 10,
    "axes.labelsize": 9, "legend.fontsize": 8, "xtick.labelsize": 8, "ytick.labelsize": 8,
    "axes.spines.top": False, "axes.spines.right": False, "axes.grid": True, "axes.grid.axis": "y",
    "grid.color": "#dddddd", "grid.linewidth": 0.6, "font.family": "DejaVu Sans", "svg.hashsalt": "remitpov",
    "pdf.fonttype": 3, "legend.frameon": False,
}
COLORS = {"with": "#1f4e79", "without": "#e07b39", "diff": "#7f7f7f", "equality": "#9e9e9e",
          "remittances": "#2e8b57"}
PALETTE = ["#1f4e79", "#e07b39", "#2e8b57", "#8e44ad", "#c0392b", "#7f8c8d"]

#: figure labels: a view of the "figure" section of :data:`remitpov.report.i18n.TEXT`
LABELS = {lang: sections["figure"] for lang, sections in TEXT.items()}


def label(key: str, language: str = "en", **fmt) -> str:
    s = LABELS.get(language, LABELS["en"]).get(key, key)
    return s.format(**fmt) if fmt else s


@contextmanager
def style():
    import matplotlib

    with matplotlib.rc_context(STYLE):
        yield


def save(fig, stem, formats: Sequence[str] = ("png", "pdf")) -> list[Path]:
    """Save ``fig`` as ``stem.<fmt>`` for each format, without timestamps; closes the figure."""
    import matplotlib.pyplot as plt

    stem = Path(stem)
    stem.parent.mkdir(parents=True, exist_ok=True)
    out = []
    for fmt in formats:
        p = stem.with_suffix(f".{fmt}")
        meta = {"png": {"Software": "remitpov/matplotlib"}, "pdf": {"CreationDate": None, "Producer": "remitpov"},
                "svg": {"Date": None}}.get(fmt)
        fig.savefig(p, format=fmt, metadata=meta)
        out.append(p)
    plt.close(fig)
    return out


def _grid(n: int, width: float = 3.4, height: float = 3.0):
    import matplotlib.pyplot as plt

    ncol = min(n, 3)
    nrow = int(np.ceil(n / ncol))
    fig, axes = plt.subplots(nrow, ncol, figsize=(width * ncol, height * nrow), squeeze=False)
    for ax in axes.flat[n:]:
        ax.set_visible(False)
    return fig, axes.flat


def paired_bars(frame: pd.DataFrame, stem, *, indicator: str = "poverty", language: str = "en",
                formats=("png", "pdf"), level: float = 0.95) -> list[Path]:
    """Bars with/without remittances per survey and population (total, recipients), CI whiskers.

    ``frame`` columns: ``survey``, ``population`` ("total"/"recipients"), ``concept``
    ("with"/"without"), ``estimate``, ``ci_lower``, ``ci_upper`` (percent).
    """
    import matplotlib.pyplot as plt

    with style():
        groups = frame[["survey", "population"]].drop_duplicates().reset_index(drop=True)
        fig, ax = plt.subplots(figsize=(max(4.5, 1.3 * len(groups) + 1.5), 3.6))
        x = np.arange(len(groups))
        width = 0.38
        for j, concept in enumerate(("with", "without")):
            sub = groups.merge(frame[frame["concept"] == concept], on=["survey", "population"], how="left")
            est = sub["estimate"].to_numpy(float)
            err = np.vstack([est - sub["ci_lower"].to_numpy(float), sub["ci_upper"].to_numpy(float) - est])
            ax.bar(x + (j - 0.5) * width, est, width, color=COLORS[concept], label=label(concept, language),
                   yerr=np.where(np.isfinite(err), err, 0), capsize=2.5, error_kw={"elinewidth": 0.8, "ecolor": "#333333"})
        ax.set_xticks(x)
        ax.set_xticklabels([f"{s}\n{label(p + '_short', language)}" for s, p in groups.itertuples(index=False)],
                           fontsize=7)
        ax.set_ylabel(label("rate", language))
        ax.set_title(label("paired_title", language, indicator=label(indicator, language)))
        ax.legend(title=label("whiskers", language, ci=label("ci", language, level=level)), title_fontsize=7)
        return save(fig, stem, formats)


def recipients_by_decile(frame: pd.DataFrame, stem, *, language: str = "en", formats=("png", "pdf")) -> list[Path]:
    """% of persons in recipient households by decile of income without remittances, per survey.

    ``frame`` columns: ``survey``, ``group`` (decile number 1..10), ``estimate``, ``ci_lower``, ``ci_upper``.
    """
    import matplotlib.pyplot as plt

    with style():
        surveys = list(dict.fromkeys(frame["survey"]))
        fig, ax = plt.subplots(figsize=(5.5, 3.4))
        k = len(surveys)
        width = 0.8 / max(k, 1)
        for j, s in enumerate(surveys):
            sub = frame[frame["survey"] == s].sort_values("group")
            x = sub["group"].to_numpy(float) + (j - (k - 1) / 2) * width
            est = sub["estimate"].to_numpy(float)
            err = np.vstack([est - sub["ci_lower"].to_numpy(float), sub["ci_upper"].to_numpy(float) - est])
            ax.bar(x, est, width, color=PALETTE[j % len(PALETTE)], label=s,
                   yerr=np.where(np.isfinite(err), err, 0), capsize=1.5, error_kw={"elinewidth": 0.6})
        ax.set_xticks(np.arange(1, 11))
        ax.set_xlabel(label("decile", language))
        ax.set_ylabel(label("recipients_pct", language))
        ax.set_title(label("decile_title", language))
        ax.legend()
        return save(fig, stem, formats)


def incidence_curves(frame: pd.DataFrame, stem, *, language: str = "en", formats=("png", "pdf")) -> list[Path]:
    """Headcount as a function of the line, with and without remittances, one panel per survey.

    ``frame`` columns: ``survey``, ``multiple`` (line / poverty line), ``concept``, ``estimate`` (percent).
    """
    with style():
        surveys = list(dict.fromkeys(frame["survey"]))
        fig, axes = _grid(len(surveys))
        for ax, s in zip(axes, surveys):
            sub = frame[frame["survey"] == s]
            for concept in dict.fromkeys(sub["concept"]):
                c = sub[sub["concept"] == concept].sort_values("multiple")
                ax.plot(c["multiple"], c["estimate"], color=COLORS.get(concept, "#333333"), lw=1.4,
                        label=label(concept, language))
            ax.axvline(1.0, color=COLORS["equality"], lw=0.7, ls=":")
            ax.set_title(s)
            ax.set_xlabel(label("curve_x", language))
            ax.set_ylabel(label("curve_y", language))
            ax.legend()
        fig.suptitle(label("curve_title", language))
        return save(fig, stem, formats)


def lorenz_curves(frame: pd.DataFrame, stem, *, language: str = "en", formats=("png", "pdf")) -> list[Path]:
    """Lorenz curves with/without remittances and the concentration curve of remittances.

    ``frame`` columns: ``survey``, ``curve`` (lorenz_with / lorenz_without /
    concentration_remittances), ``p``, ``value``.
    """
    colors = {"lorenz_with": COLORS["with"], "lorenz_without": COLORS["without"],
              "concentration_remittances": COLORS["remittances"]}
    with style():
        surveys = list(dict.fromkeys(frame["survey"]))
        fig, axes = _grid(len(surveys), 3.7, 3.4)
        for ax, s in zip(axes, surveys):
            sub = frame[frame["survey"] == s]
            ax.plot([0, 1], [0, 1], color=COLORS["equality"], lw=0.7, ls="--", label=label("equality", language))
            for curve in dict.fromkeys(sub["curve"]):
                c = sub[sub["curve"] == curve].sort_values("p")
                ax.plot(c["p"], c["value"], color=colors.get(curve, "#333333"), lw=1.3, label=label(curve, language))
            ax.set_xlim(0, 1)
            ax.set_ylim(0, 1)
            ax.set_aspect("equal")
            ax.grid(True, axis="both")
            ax.set_title(s)
            ax.set_xlabel(label("lorenz_x", language))
            ax.set_ylabel(label("lorenz_y", language))
            ax.legend(fontsize=6)
        fig.suptitle(label("lorenz_title", language))
        return save(fig, stem, formats)
