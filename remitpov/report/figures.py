"""Chapter figures: one publication style, PNG + PDF/SVG, English or Spanish labels.

Every function takes a tidy frame built by :mod:`remitpov.report.chapter`, draws one
figure and saves it in each requested format via :func:`save`, which strips timestamps
(PDF ``CreationDate``, SVG ``Date``, fixed SVG hash salt) so reruns give the same files.
Matplotlib runs headless (the ``Agg`` backend is selected if no backend was chosen).

The style and the helpers shared by all figures are in :mod:`remitpov.report.figures_style`,
the curve figures (incidence, dominance, Lorenz) and the counterfactual figure in
:mod:`remitpov.report.figures_curves`; all are importable from here.
"""
from __future__ import annotations

from pathlib import Path
from typing import Mapping

import numpy as np
import pandas as pd

from .figures_curves import counterfactual_dots, dominance_curves, incidence_curves, lorenz_curves  # noqa: F401
from .figures_style import (COLORS, LABELS, PALETTE, STYLE, STYLE_DEFAULTS, axis_labels as _axis_labels,  # noqa: F401
                            current_style, decimal_comma, err as _err, fig_height as _height, grid as _grid, label,
                            legend_columns, legend_outside as _legend_outside, palette, panel_title as _panel_title,
                            parse_style,
                            row_panel as _row_panel, save, style, use_style, welfare_labels, wrap_title)


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
        # each survey's name wrapped to its group's width: long names never run into the next group
        group_in = 0.85 * fig.get_figwidth() / len(groups)
        ax.set_xticklabels([f"{wrap_title(str(s), group_in, 7)}\n{label(p + '_short', language)}"
                            for s, p in groups.itertuples(index=False)], fontsize=7)
        ax.set_ylabel(label("rate", language))
        ax.set_title(title)
        _legend_outside(fig, ax, title=whisk)
        return save(fig, stem, formats)


def _rows_order(frame: pd.DataFrame) -> list[str]:
    """Surveys sorted by the total population's rate with remittances (highest on top)."""
    key = frame[(frame["concept"].isin(["with", "total"])) & (frame.get("population", "total") == "total")]
    order = key.sort_values("estimate", kind="stable")["survey"].tolist()
    return list(dict.fromkeys(order + list(dict.fromkeys(frame["survey"]))))


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
