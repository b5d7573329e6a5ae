"""Results of the binary and multinomial counterfactuals: the :class:`CounterfactualIncome`
container and its diagnostics' text, Rubin's rules over imputations (:func:`rubin`), poverty
and Gini under the counterfactual (:func:`counterfactual_fgt`, :func:`counterfactual_gini`),
the FGT0 checks of a counterfactual table (:func:`table_diagnostics`) and the rho
sensitivity band's estimates (:func:`band_estimates`, :func:`band_diagnostics`). The
method is stated in :mod:`remitpov.econometrics.counterfactual`.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Callable, Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import stats

from ..exceptions import InputError
from ..results import EstimateTable
from ..survey import Survey
from .counterfactual_sample import CounterfactualWarning
from .heckman import HeckmanResults

__all__ = ["CounterfactualIncome", "format_diagnostics", "rubin", "estimator_or_fgt", "counterfactual_fgt",
           "counterfactual_gini", "table_diagnostics", "band_diagnostics", "band_estimates"]


@dataclass(frozen=True, eq=False)
class CounterfactualIncome:
    """Result of :func:`counterfactual_income`.

    Attributes
    ----------
    survey : Survey
        The input survey with the counterfactual column(s) added (``output``; and
        ``output_1`` ... ``output_M`` with draws, plus the other prediction kind's
        ``alt_columns``) and a report entry.
    model : HeckmanResults
        The fitted selection model (outcome = log income of households without migration).
    columns : tuple of str
        The imputed columns of the main prediction ``kind`` (M draws, or one column).
    output : str
        Name of the deterministic counterfactual column.
    income, recipient : str
        Columns used (``recipient``: the remittance-receipt indicator).
    draws : int
    kind : str
    notes : tuple of str
        Conventions and warnings (the absent-migrant convention among them).
    alt_columns : tuple of str
        The same imputations with the other prediction kind (``alt_kind``): recipient
        -specific vs unconditional, drawn with the same parameters and residuals.
    alt_kind : str
    selection : str
        Column whose households are imputed (migrant indicator, or ``recipient``).
    diagnostics : mapping
        Exclusion-restriction strength, lambda / rho tests, zero-income shares, the
        kinds' disagreement (see :func:`counterfactual_income`), and after
        :func:`remittance_counterfactual_table` the direction check and the rho
        sensitivity band.
    """

    survey: Survey
    model: HeckmanResults
    columns: tuple[str, ...]
    output: str
    income: str
    recipient: str
    draws: int
    kind: str
    estimation_mask: np.ndarray = field(repr=False, default=None)
    notes: tuple[str, ...] = ()
    alt_columns: tuple[str, ...] = ()
    alt_kind: str | None = None
    selection: str | None = None
    diagnostics: Mapping = field(default_factory=dict)

    def summary(self) -> str:
        sel = self.selection or self.recipient
        imp = self.survey.data[sel].to_numpy().astype(bool)
        lines = ["Selection-corrected counterfactual income (no migration)",
                 f"income: {self.income!r}; imputed households ({sel!r}): {int(imp.sum())} of {self.survey.n} rows; "
                 f"prediction: {self.kind}; draws: {self.draws}; columns: {', '.join(self.columns[:3])}"
                 + (" ..." if len(self.columns) > 3 else ""),
                 str(self.model.summary)]
        lines += ["diagnostics:"] + [f"  {line}" for line in format_diagnostics(self.diagnostics)]
        lines += [f"note: {n}" for n in self.notes]
        return "\n".join(lines)

    def __repr__(self) -> str:
        return (f"CounterfactualIncome(output={self.output!r}, draws={self.draws}, kind={self.kind!r}, "
                f"rows={self.survey.n})")


def format_diagnostics(diag: Mapping) -> list[str]:
    """Readable lines for a counterfactual's ``diagnostics`` mapping."""
    out = []
    if "exclusion_stat" in diag:
        out.append(f"exclusion restriction ({', '.join(diag['excluded']) or 'none'}): Wald chi2({diag['exclusion_df']}) "
                   f"= {diag['exclusion_stat']:.2f}, F = {diag['exclusion_F']:.2f}, p = {diag['exclusion_p']:.3g}"
                   + ("  ** WEAK (F < 10) **" if diag["exclusion_F"] < 10 else ""))
    if "selection_stat" in diag:
        out.append(f"selection on unobservables ({diag['selection_test']}): stat = {diag['selection_stat']:.3f}, "
                   f"p = {diag['selection_p']:.3g}; rho = {diag['rho']:.3f}")
    if "kind_gap_log" in diag:
        out.append(f"recipient-specific minus unconditional prediction, mean log income of the imputed: "
                   f"{diag['kind_gap_log']:+.4f}")
    if "static_zero_share" in diag:
        out.append(f"imputed households with {diag.get('income', 'income')} <= 0 (static counterfactual at zero): "
                   f"{diag['static_zero_share']:.1%}; imputations at zero income: {diag['imputed_zero_share']:.1%}")
    if "kind_contrast" in diag:
        c = diag["kind_contrast"]
        out.append(f"FGT0 recipient-specific minus unconditional: {c['estimate']:+.4f} (SE {c['se']:.4f}, "
                   f"p = {c['p']:.3g})" + ("  ** the two predictions DISAGREE **" if c["p"] < 0.05 else ""))
    if "direction" in diag:
        d = diag["direction"]
        out.append(f"FGT0 change vs observed: static {d['static']:+.4f}, counterfactual {d['counterfactual']:+.4f}"
                   + ("  ** OPPOSITE DIRECTIONS **" if d["opposite"] else ""))
    if "rho_band" in diag:
        band = diag["rho_band"]
        out.append("FGT0 under fixed rho: " + ", ".join(f"{r:+.1f}: {v:.4f}" for r, v in
                                                        zip(band["rho"], band["fgt0"])))
    return out


def rubin(tables: Sequence[EstimateTable], title: str | None = None) -> EstimateTable:
    """Combine M >= 2 completed-data tables with Rubin's (1987) rules.

    ``Q = mean_m Q_m``, ``U = mean_m U_m`` (within), ``B = cov_m(Q_m)`` (between, divisor
    M-1), ``T = U + (1 + 1/M) B`` (full matrices, so covariances between rows are
    combined too). Degrees of freedom: Barnard & Rubin (1999) per estimate,
    ``nu = (1/nu_m + 1/nu_obs)^-1`` with ``nu_m = (M-1)/r^2``, ``r = (1+1/M) B/T`` and
    ``nu_obs = (df+1)/(df+3) df (1-r)`` (``df``: the completed-data degrees of freedom of
    that row); rows that do not vary between imputations (``B = 0``: e.g. observed income
    estimated jointly) keep the completed-data df. The table carries these per-row df
    (``table.df`` is an array), so each row's interval uses its own df and a contrast the
    smallest df of the rows it combines. ``extra`` gets ``fmi`` (fraction of missing
    information, ``(1+1/M)B/T``) and ``df_rubin`` (the same per-row df).
    """
    M = len(tables)
    if M < 2:
        raise InputError("Rubin's rules need at least 2 imputations")
    t0 = tables[0]
    for t in tables[1:]:
        if not t.keys.equals(t0.keys):
            raise InputError("imputed tables have different keys (rows); estimate the same quantities each time")
    Q = np.vstack([t.estimates for t in tables])
    Qbar = Q.mean(0)
    U = np.mean([t.vcov for t in tables], axis=0)
    dev = Q - Qbar
    B = dev.T @ dev / (M - 1)
    T = U + (1 + 1 / M) * B
    with np.errstate(divide="ignore", invalid="ignore"):
        r = (1 + 1 / M) * np.diag(B) / np.diag(T)
        df = np.broadcast_to(np.asarray(t0.df, dtype=float), Qbar.shape)  # completed-data df per row
        nu_m = (M - 1) / r**2
        nu_obs = (df + 1) / (df + 3) * df * (1 - r)
        nu = 1 / (1 / nu_m + 1 / nu_obs)
        # infinite completed-data df (normal intervals): nu_obs = inf, nu = nu_m (Rubin 1987)
        nu = np.where(np.isfinite(df), nu, nu_m)
    pos = np.diag(B) > 1e-12 * np.maximum(np.abs(np.diag(U)), 1e-300)  # rows that differ between imputations
    df_rows = np.where(pos, nu, df)
    extra = pd.DataFrame({"fmi": np.where(pos, r, 0.0), "df_rubin": df_rows})
    if t0.extra is not None:
        for c in t0.extra.columns:
            if c not in extra:
                extra[c] = np.mean([t.extra[c].to_numpy(dtype=float) for t in tables], axis=0)
    span = f"{np.min(df_rows[pos]):.1f} to {np.max(df_rows[pos]):.1f}" if pos.any() else "none varies"
    notes = tuple(t0.notes) + (f"combined over M={M} imputations with Rubin's rules (T = U + (1+1/M) B); "
                               f"each row's interval uses its own Barnard-Rubin df (column df: {span})",)
    return EstimateTable(t0.keys, Qbar, T, df_rows, t0.level, t0.dist, t0.design, title or t0.title, notes, extra)


def _default_estimator(line, alpha, by, level, strict) -> Callable:
    def est(survey, incomes):
        from ..poverty import fgt

        return fgt(survey, incomes, line, alpha, by, level=level, strict=strict)

    return est


def estimator_or_fgt(estimator, line, alpha, by, level, strict) -> Callable:
    """``estimator`` if given, else :func:`remitpov.poverty.fgt` at ``line`` (required then)."""
    if estimator is not None:
        return estimator
    if line is None:
        raise InputError("give a poverty line (or an estimator)")
    return _default_estimator(line, alpha, by, level, strict)


def counterfactual_fgt(cf: CounterfactualIncome, line=None, alpha=(0, 1, 2), by=None, *,
                       concepts: Mapping[str, str] | None = None, estimator: Callable | None = None,
                       level: str = "person", strict: bool = True, concept: str = "selection",
                       alternative: bool = False, imputed: Mapping[str, Sequence[str]] | None = None,
                       progress: Callable[[int, int], None] | None = None) -> EstimateTable:
    """Poverty under the counterfactual, with the same estimator as the static one.

    Parameters
    ----------
    cf : CounterfactualIncome
    line, alpha, by, level, strict
        Passed to :func:`remitpov.poverty.fgt` (``line`` required unless ``estimator``).
    concepts : mapping, optional
        Other incomes to estimate JOINTLY with the counterfactual, ``{label: column}``
        (e.g. ``{"observed": "y_with", "static": "y_without"}``); their rows are identical in
        every imputation, so Rubin's rules leave their variance unchanged while keeping
        covariances with the counterfactual rows.
    estimator : callable, optional
        ``estimator(survey, {label: column}) -> EstimateTable`` (e.g. a mean of a poverty
        indicator); default :func:`remitpov.poverty.fgt`.
    concept : str
        Label of the counterfactual income.
    alternative : bool
        Also estimate the other prediction kind (``cf.alt_columns``, same draws) as concept
        ``f"{concept}_{cf.alt_kind}"``.
    imputed : mapping, optional
        Other imputed incomes ``{label: [column of draw 1, ..., draw M]}`` with the same M
        (e.g. another model's imputations), estimated jointly draw by draw.
    progress : callable, optional
        ``progress(done, total)`` after each imputed income is estimated (once per draw).

    Returns
    -------
    EstimateTable
        With draws: Rubin's combination (:func:`rubin`) of the M completed-data tables.
    """
    estimator = estimator_or_fgt(estimator, line, alpha, by, level, strict)
    concepts = dict(concepts or {})
    sets = {concept: list(cf.columns)}
    if alternative and cf.alt_columns:
        sets[f"{concept}_{cf.alt_kind}"] = list(cf.alt_columns)
    for lab, cols in (imputed or {}).items():
        if len(cols) != len(cf.columns):
            raise InputError(f"imputed[{lab!r}] has {len(cols)} columns, the counterfactual {len(cf.columns)} draws; "
                             "impute both with the same draws")
        sets[lab] = list(cols)
    dup = set(sets) & set(concepts)
    if dup or len(sets) != len(set(sets)):
        raise InputError(f"concept label(s) {sorted(dup)} used twice")
    tables = []
    for m, col in enumerate(cf.columns):
        inc = dict(concepts)
        inc.update({lab: cols[m] for lab, cols in sets.items()})
        tables.append(estimator(cf.survey, inc))
        if progress is not None:
            progress(len(tables), len(cf.columns))
    if len(tables) == 1:
        return tables[0]
    out = rubin(tables, title=tables[0].title + " (multiple imputation)")
    M = len(tables)
    fmi = float(np.nanmax(out.extra["fmi"].to_numpy(dtype=float)))
    if fmi > M / 100:
        from dataclasses import replace

        out = replace(out, notes=tuple(out.notes) + (
            f"largest fraction of missing information {fmi:.2f} > M/100 = {M / 100:.2f}: White, Royston & Wood "
            f"(2011) suggest M >= 100 x fmi = {int(np.ceil(100 * fmi))} imputations for reproducible SEs",))
    return out


def counterfactual_gini(cf: CounterfactualIncome, by=None, *, concepts: Mapping[str, str] | None = None,
                        level: str = "person", concept: str = "selection") -> EstimateTable:
    """Gini coefficient under the counterfactual (with :func:`remitpov.inequality.gini`, the
    same estimator as for observed income), one row per concept (key ``concept``), combined
    over imputations with Rubin's rules. With other ``concepts`` the concepts are estimated
    JOINTLY on the same sample (:func:`remitpov.inequality.compare_inequality`): the table
    also has the differences "first concept minus each other" with SEs from the difference
    of influence values (Rubin's rules applied to the joint covariance).
    """
    from dataclasses import replace as _replace

    from ..inequality import compare_inequality, gini

    def est(survey, incomes):
        if len(incomes) == 1:
            (label, col), = incomes.items()
            t = gini(survey, col, by, level=level, deff=True)
            keys = t.keys.drop(columns=[c for c in ("variable",) if c in t.keys.columns])
            keys.insert(1, "concept", label)  # the imputed column's name varies by draw: use the label
        else:
            t = compare_inequality(survey, incomes, measure="gini", by=by, level=level, deff=True)
            keys = t.keys.drop(columns=[c for c in ("variable",) if c in t.keys.columns])
        return _replace(t, keys=keys, title="Gini coefficient")

    return counterfactual_fgt(cf, concepts=concepts, estimator=est, concept=concept)


def _row(tab: EstimateTable, measure: str, concept: str) -> int | None:
    k = tab.keys
    hit = np.flatnonzero((k["measure"].astype(str) == measure).to_numpy() & (k["concept"].astype(str) == concept).to_numpy())
    return int(hit[0]) if hit.size else None


def table_diagnostics(tab: EstimateTable, main: str, alt: str | None, kind: str, *, observed: str = "observed",
                      static: str = "static") -> dict:
    """FGT0 checks on a counterfactual table: the two prediction kinds' contrast and the direction.

    ``kind_contrast``: FGT0(main) - FGT0(alt) with its SE from the joint (Rubin) covariance
    and a normal p-value. ``direction``: FGT0 changes of the static and of the
    counterfactual concept with respect to ``observed``; ``opposite`` when their signs differ
    (a :class:`CounterfactualWarning` is issued: migration would *raise* poverty according to
    one and lower it according to the other -- check the exclusion restriction and rho).
    """
    out = {}
    i, o, s = _row(tab, "fgt0", main), _row(tab, "fgt0", observed), _row(tab, "fgt0", static)
    j = _row(tab, "fgt0", alt) if alt else None
    if i is not None and j is not None:
        c = np.zeros(len(tab.estimates))
        c[i], c[j] = 1.0, -1.0
        e = tab.contrast(c)
        p = float(2 * stats.norm.sf(abs(e.estimate / e.se))) if e.se > 0 else np.nan
        out["kind_contrast"] = {"estimate": e.estimate, "se": e.se, "p": p, "main": kind}
    if i is not None and o is not None and s is not None:
        d_s = float(tab.estimates[s] - tab.estimates[o])
        d_c = float(tab.estimates[i] - tab.estimates[o])
        opposite = bool(d_s * d_c < 0)
        out["direction"] = {"static": d_s, "counterfactual": d_c, "opposite": opposite}
        if opposite:
            warnings.warn(f"the counterfactual moves FGT0 by {d_c:+.4f} from observed income, the static "
                          f"counterfactual by {d_s:+.4f}: opposite directions (migration would {'raise' if d_c < 0 else 'lower'} "
                          "poverty). Check the exclusion restriction's strength, rho and the specification before "
                          "reporting it", CounterfactualWarning, stacklevel=3)
    return out


def band_diagnostics(band: pd.DataFrame) -> dict:
    """``diagnostics`` entries of a sensitivity band: the frame and its FGT0 values by rho."""
    f0 = band[band["measure"] == "fgt0"]
    return {"rho_sensitivity": band, "rho_band": {"rho": f0["rho"].tolist(), "fgt0": f0["estimate"].tolist()}}


def band_estimates(survey: Survey, cols: Mapping, grid: Sequence[float], draws: int, estimator: Callable) -> pd.DataFrame:
    """Point estimates of ``estimator`` on the incomes ``cols[(rho, m)]``, averaged over the draws m."""
    names = {key: f"__rho{i}" for i, key in enumerate(cols)}
    sv = survey.with_columns(**{names[k]: v for k, v in cols.items()})
    frames = [estimator(sv, {f"{r:+.2f}": names[(float(r), m)] for r in grid}).to_frame() for m in range(draws)]
    est = np.mean([f["estimate"].to_numpy(float) for f in frames], axis=0)
    out = frames[0][[c for c in frames[0].columns if c in ("measure", "concept", "domain", "line")]].copy()
    out["rho"] = out.pop("concept").astype(float)
    out["estimate"] = est
    return out.reset_index(drop=True)
