"""Every word the chapter writes, in one translation table (English and Spanish).

Three sections per language: ``"title"`` (table titles, by table name), ``"header"`` (column
headers of the Markdown/LaTeX/XLSX tables, by column name) and ``"figure"`` (figure titles,
axis labels and legends). A new chapter block adds its title here in every language
(:func:`text` falls back to English, then to the key). :data:`remitpov.report.tables.HEADERS`
and :data:`remitpov.report.figures.LABELS` are views of this table.
"""
from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Mapping

#: language -> section -> key -> text
TEXT: dict[str, dict[str, dict[str, str]]] = {
    "en": {
        "title": {
            'incidence': 'Remittance incidence',
            'poverty_layout': 'Poverty and indigence with and without remittances',
            'poverty': 'Poverty and indigence with and without remittances (with SE and CI)',
            'identity': "Static counterfactual identity: change in total = recipients' share x change among recipients",
            'fgt': 'FGT indices with and without remittances',
            'gini': 'Gini coefficient with and without remittances',
            'decomposition': 'Lerman-Yitzhaki Gini decomposition by income source',
            'counterfactual': 'Econometric counterfactual',
            'incidence_curves': 'Poverty incidence curves',
            'coverage': 'Survey remittances against the balance of payments (coverage)',
            'impact_range': 'Poverty without, with survey and with calibrated remittances (balance-of-payments total)',
        },
        "header": {
            'survey': 'Survey',
            'domain': 'Domain',
            'group': 'Group',
            'population': 'Population',
            'measure': 'Measure',
            'concept': 'Income',
            'total': 'Observed (no remittance data)',
            'line': 'Line',
            'estimate': 'Estimate',
            'se': 'SE',
            'ci_lower': 'CI lower',
            'ci_upper': 'CI upper',
            'unit': 'Unit',
            'with': 'With remittances',
            'without': 'Without remittances',
            'difference': 'Difference',
            'diff_se': 'SE (difference)',
            'source': 'Source',
            'share': 'Income share S_k',
            'gini_k': 'Gini G_k',
            'corr_r': 'Gini correlation R_k',
            'contribution': 'Share of Gini',
            'marginal_effect': 'Marginal effect',
            'n_obs': 'Observations',
            'value': 'Value',
            'method': 'Method',
            'level': 'Level',
            'alpha': 'alpha',
            'indicator': 'Indicator',
            'recipient_share': 'Recipients (% of persons)',
            'change_total': 'Change, total',
            'change_recipients': 'Change, recipients',
            'share_x_change_recipients': 'Share x change, recipients',
            'discrepancy': 'Discrepancy',
            'multiple': 'Line multiple',
        },
        "figure": {
            'with': 'With remittances',
            'without': 'Without remittances',
            'total': 'Total population',
            'recipients': 'People in recipient households',
            'total_short': 'Total',
            'recipients_short': 'Recipient\nhouseholds',
            'poverty': 'Poverty',
            'indigence': 'Indigence',
            'rate': '% of persons',
            'paired_title': '{indicator} with and without remittances',
            'decile': 'Decile of {welfare} without remittances',
            'recipients_pct': '% of persons in recipient households',
            'decile_title': 'Remittance recipients by decile of {welfare} without remittances',
            'curve_x': 'Line as a multiple of the poverty line',
            'curve_y': 'Headcount ratio (%)',
            'curve_title': 'Poverty incidence curves',
            'lorenz_x': 'Cumulative population share',
            'lorenz_y': 'Cumulative share of {measure}',
            'lorenz_y_conc': 'Cumulative share of {measure} or of remittances',
            'lorenz_title': 'Lorenz curves of {welfare} and concentration of remittances',
            'lorenz_with': 'Lorenz, with remittances',
            'lorenz_without': 'Lorenz, without remittances',
            'concentration_remittances': 'Concentration of remittances',
            'equality': 'Equality line',
            'ci': '{level:.0%} confidence interval',
            'whiskers': 'whiskers: {ci}',
            'bop': 'Balance of payments',
            'survey_total': 'Survey (expanded)',
            'billion_usd': 'Remittances (billion USD)',
            'coverage_pct': 'Coverage (survey / BoP, %)',
            'year': 'Survey year',
            'coverage_title': 'Remittances in the survey and in the balance of payments',
            'impact_without': 'Without remittances',
            'impact_with (survey)': 'With survey remittances',
            'impact_with (calibrated)': 'With calibrated remittances',
            'impact_title': 'Poverty headcount: the range of the remittance impact',
            'comparison_title': '{indicator} with and without remittances, by country (sorted)',
            'band': 'shaded: {ci}',
            'lorenz_only_title': 'Lorenz curves of {welfare}',
            'lorenz_total': 'Lorenz curve',
            'cf_observed': 'Observed',
            'curve_total': 'Observed (survey without remittance data)',
            'cf_static': 'Static (without remittances)',
            'cf_heckman': 'Selection-corrected (Heckman)',
            'cf_multinomial': 'Selection-corrected (multinomial)',
            'cf_selection': 'Selection-corrected (recipients)',
            'cf_selection_unconditional': 'Selection-corrected (unconditional)',
            'cf_multinomial_unconditional': 'Selection-corrected (multinomial, unconditional)',
            'cf_title': 'Poverty headcount: observed and counterfactual income',
            'dominance_title_fgt1': 'Poverty gap curves (second-order dominance)',
            'dominance_title_fgt2': 'Poverty severity curves (third-order dominance)',
            'dominance_y_fgt1': 'Poverty gap FGT1 (% of the line)',
            'dominance_y_fgt2': 'Poverty severity FGT2 (x 100)',
            'coverage_state_title': 'Remittance coverage by state, {year} ({survey})',
            'coverage_state_title_year': 'Remittance coverage by state, {year}',
            'coverage_state_title_label': 'Remittance coverage by state, {survey}',
            'coverage_national': 'national: {value} %',
            'cut_at_zero': 'interval cut at 0',
            'million_usd': 'Remittances (million USD)',
            'coverage_short': 'Coverage (survey / BoP)',
        },
    },
    "es": {
        "title": {
            'incidence': 'Incidencia de las remesas',
            'poverty_layout': 'Pobreza e indigencia con y sin remesas',
            'poverty': 'Pobreza e indigencia con y sin remesas (con EE e IC)',
            'identity': 'Identidad del contrafactual estático: cambio total = proporción de receptores x cambio en receptores',
            'fgt': 'Índices FGT con y sin remesas',
            'gini': 'Coeficiente de Gini con y sin remesas',
            'decomposition': 'Descomposición del Gini por fuente (Lerman-Yitzhaki)',
            'counterfactual': 'Contrafactual econométrico',
            'incidence_curves': 'Curvas de incidencia de la pobreza',
            'coverage': 'Remesas de la encuesta frente a la balanza de pagos (cobertura)',
            'impact_range': 'Pobreza sin remesas, con las de la encuesta y con remesas calibradas a la balanza de pagos',
        },
        "header": {
            'survey': 'Encuesta',
            'domain': 'Dominio',
            'group': 'Grupo',
            'population': 'Población',
            'measure': 'Indicador',
            'concept': 'Ingreso',
            'total': 'Observado (sin datos de remesas)',
            'line': 'Línea',
            'estimate': 'Estimación',
            'se': 'EE',
            'ci_lower': 'IC inferior',
            'ci_upper': 'IC superior',
            'unit': 'Unidad',
            'with': 'Con remesas',
            'without': 'Sin remesas',
            'difference': 'Diferencia',
            'diff_se': 'EE (diferencia)',
            'source': 'Fuente',
            'share': 'Participación S_k',
            'gini_k': 'Gini G_k',
            'corr_r': 'Correlación de Gini R_k',
            'contribution': 'Contribución al Gini',
            'marginal_effect': 'Efecto marginal',
            'n_obs': 'Observaciones',
            'value': 'Valor',
            'method': 'Método',
            'level': 'Nivel',
            'alpha': 'alfa',
            'indicator': 'Indicador',
            'recipient_share': 'Receptores (% de personas)',
            'change_total': 'Cambio, total',
            'change_recipients': 'Cambio, receptores',
            'share_x_change_recipients': 'Proporción x cambio, receptores',
            'discrepancy': 'Discrepancia',
            'multiple': 'Múltiplo de la línea',
        },
        "figure": {
            'with': 'Con remesas',
            'without': 'Sin remesas',
            'total': 'Población total',
            'recipients': 'Personas en hogares receptores',
            'total_short': 'Total',
            'recipients_short': 'Hogares\nreceptores',
            'poverty': 'Pobreza',
            'indigence': 'Indigencia',
            'rate': '% de personas',
            'paired_title': '{indicator} con y sin remesas',
            'decile': 'Decil de {welfare} sin remesas',
            'recipients_pct': '% de personas en hogares receptores',
            'decile_title': 'Receptores de remesas por decil de {welfare} sin remesas',
            'curve_x': 'Línea como múltiplo de la línea de pobreza',
            'curve_y': 'Incidencia (%)',
            'curve_title': 'Curvas de incidencia de la pobreza',
            'lorenz_x': 'Proporción acumulada de la población',
            'lorenz_y': 'Proporción acumulada del {measure}',
            'lorenz_y_conc': 'Proporción acumulada del {measure} o de las remesas',
            'lorenz_title': 'Curvas de Lorenz del {welfare} y de concentración de las remesas',
            'lorenz_with': 'Lorenz, con remesas',
            'lorenz_without': 'Lorenz, sin remesas',
            'concentration_remittances': 'Concentración de las remesas',
            'equality': 'Línea de igualdad',
            'ci': 'intervalo de confianza al {level:.0%}',
            'whiskers': 'líneas: {ci}',
            'bop': 'Balanza de pagos',
            'survey_total': 'Encuesta (expandida)',
            'billion_usd': 'Remesas (miles de millones de USD)',
            'coverage_pct': 'Cobertura (% de la balanza de pagos)',
            'year': 'Año de la encuesta',
            'coverage_title': 'Remesas en la encuesta y en la balanza de pagos',
            'impact_without': 'Sin remesas',
            'impact_with (survey)': 'Con las remesas de la encuesta',
            'impact_with (calibrated)': 'Con remesas calibradas',
            'impact_title': 'Incidencia de la pobreza: el rango del efecto de las remesas',
            'comparison_title': '{indicator} con y sin remesas, por país (ordenado)',
            'band': 'sombreado: {ci}',
            'lorenz_only_title': 'Curvas de Lorenz del {welfare}',
            'lorenz_total': 'Curva de Lorenz',
            'cf_observed': 'Observado',
            'curve_total': 'Observado (encuesta sin datos de remesas)',
            'cf_static': 'Estático (sin remesas)',
            'cf_heckman': 'Corregido por selección (Heckman)',
            'cf_multinomial': 'Corregido por selección (multinomial)',
            'cf_selection': 'Corregido por selección (receptores)',
            'cf_selection_unconditional': 'Corregido por selección (incondicional)',
            'cf_multinomial_unconditional': 'Corregido por selección (multinomial, incondicional)',
            'cf_title': 'Incidencia de la pobreza: ingreso observado y contrafactual',
            'dominance_title_fgt1': 'Curvas de brecha de pobreza (dominancia de segundo orden)',
            'dominance_title_fgt2': 'Curvas de severidad de la pobreza (dominancia de tercer orden)',
            'dominance_y_fgt1': 'Brecha de pobreza FGT1 (% de la línea)',
            'dominance_y_fgt2': 'Severidad de la pobreza FGT2 (x 100)',
            'coverage_state_title': 'Cobertura de las remesas por entidad, {year} ({survey})',
            'coverage_state_title_year': 'Cobertura de las remesas por entidad, {year}',
            'coverage_state_title_label': 'Cobertura de las remesas por entidad, {survey}',
            'coverage_national': 'nacional: {value} %',
            'cut_at_zero': 'intervalo cortado en 0',
            'million_usd': 'Remesas (millones de USD)',
            'coverage_short': 'Cobertura (encuesta / balanza de pagos)',
        },
    },
}

#: the languages a chapter can be written in
LANGUAGES = tuple(TEXT)


#: the spec's ``[labels]`` overrides of the run being written (section -> key -> text), or None
_OVERRIDES: contextvars.ContextVar = contextvars.ContextVar("remitpov_label_overrides", default=None)


def override(section: str, key: str) -> str | None:
    """The spec's override of ``section``/``key`` for the chapter being written, if any."""
    o = _OVERRIDES.get()
    return None if o is None else o.get(section, {}).get(key)


@contextlib.contextmanager
def label_overrides(labels: Mapping[str, Mapping[str, str]] | None):
    """Within the block, :func:`text` (and the figure labels and table headers built on it)
    return the spec's ``[labels]`` texts first (checked by :func:`remitpov.report.labels.parse_labels`)."""
    token = _OVERRIDES.set(labels or None)
    try:
        yield
    finally:
        _OVERRIDES.reset(token)


def text(section: str, key: str, language: str = "en", default: str | None = None, **fmt) -> str:
    """The ``section``/``key`` text in ``language`` (the spec's ``[labels]`` override of the
    chapter being written first, then the translation table, English if missing there, else
    ``default`` or the key itself), formatted with ``fmt`` when given."""
    s = override(section, key)
    if s is not None:
        return s.format(**fmt) if fmt else s
    s = TEXT.get(language, TEXT["en"])[section].get(key)
    if s is None:
        s = TEXT["en"][section].get(key, key if default is None else default)
    return s.format(**fmt) if fmt else s


def section(section: str, language: str) -> dict[str, str]:
    """One section of one language (a live view: the dict stored in :data:`TEXT`)."""
    return TEXT[language][section]

# the labels of report.html (remitpov.report.html); fig_<stem>: a figure's caption by file stem
TEXT["en"]["report"] = {
    "contents": "Contents", "publication": "Publication tables",
    "tables": "Tables", "figures": "Figures", "table": "Table", "figure": "Figure",
    "warnings": "Warnings", "no_warnings": "The run issued no warnings.",
    "manifest": "Provenance (manifest.json)",
    "manifest_intro": "What is needed to rerun this chapter and get the same numbers: the full record, with the "
                      "sha256 of every output file, is manifest.json next to this report.",
    "package": "Package", "commit": "git commit", "dirty": "(with uncommitted changes)", "unknown": "unknown",
    "environment": "Environment", "command": "Command", "spec": "Spec", "seeds": "Seeds", "settings": "Settings",
    "inputs": "Inputs", "loader": "loader", "rows": "rows", "income_period": "income per", "currency": "currency",
    "lines": "lines", "no_files": "no input file (generated data)",
    "migration_inputs": "Migration inputs", "layout": "layout", "years": "years", "options": "options",
    "design": "design", "used_by": "used by",
    "migration_source": "Source: own calculations based on {inputs}.",
    "src_un": "United Nations, Department of Economic and Social Affairs (UN DESA), Population Division, "
              "International Migrant Stock ({files})",
    "src_census": "census microdata ({files})",
    "src_census_synthetic": "synthetic census microdata generated by remitpov (not real data)",
    "src_other": "{files}",
    "source": "Source: own calculations from {surveys}.", "note": "Note",
    "note_ci": "Confidence intervals at {level} % from the survey design; rates are of persons (household "
               "weight x household size).",
    "no_figures": "No PNG figures were written (add \"png\" to [chapter] figures).",
    "fig_paired_bars_poverty": "Poverty with and without remittances",
    "fig_paired_bars_indigence": "Indigence with and without remittances",
    "fig_recipients_by_decile": "Remittance recipients by decile of pre-remittance income",
    "fig_incidence_curves": "Poverty incidence curves",
    "fig_lorenz_curves": "Lorenz and concentration curves",
    "fig_country_comparison_poverty": "Poverty with and without remittances, by country",
    "fig_country_comparison_indigence": "Indigence with and without remittances, by country",
    "fig_counterfactual": "Poverty headcount under the econometric counterfactual",
    "unit_percent": "%", "unit_percentage points": "percentage points", "unit_ratio": "ratio",
    "unit_Gini x 100": "Gini x 100", "unit_currency per person": "currency per person",
    "fig_dominance_fgt1": "Poverty gap curves with and without remittances (second-order dominance)",
    "fig_dominance_fgt2": "Poverty severity curves with and without remittances (third-order dominance)",
    "fig_coverage_by_state": "Coverage of remittances in the survey by state (percent of the balance of payments)",
    "fig_coverage_time_series": "Remittances in the survey and in the balance of payments",
    "fig_impact_range": "Poverty without, with survey and with calibrated remittances",
    "note_fig_incidence_curves": "Shaded bands: pointwise {level} % confidence intervals of the headcount at each "
                                 "line (design-based, remitpov.poverty.fgt); they hold line by line, not jointly.",
    "note_fig_dominance": "Shaded bands: pointwise {level} % confidence intervals at each line (design-based, "
                          "remitpov.poverty.fgt), line by line, not jointly. A curve below the other over the whole "
                          "range of lines means less poverty for every line and every poverty measure of that order "
                          "(Davidson and Duclos 2000); remitpov.robustness.poverty_dominance tests it.",
    "note_fig_lorenz_curves": "Shaded bands: pointwise {level} % confidence intervals of each ordinate "
                              "(design-based, linearised: remitpov.inequality.lorenz and concentration_curve), "
                              "line by line, not jointly. The concentration curve ranks persons by the welfare "
                              "measure without remittances.",
    "note_fig_coverage_by_state": "Coverage = expanded annual remittances in the survey / remittances in the balance "
                                  "of payments (Banco de México), both in US dollars, in percent; whiskers: the "
                                  "{level} % confidence interval (design-based, the balance of payments taken as "
                                  "known), cut at 0 and marked where it reaches below.",
    "note_fig_coverage_time_series": "Totals in million US dollars per year; coverage in percent with its {level} % "
                                     "confidence interval.",
    "note_fig_impact_range": "Poverty headcount (% of persons) without remittances, with the remittances reported "
                             "in the survey, and with them scaled to the balance-of-payments total; surveys sorted by "
                             "the headcount with survey remittances; whiskers: {level} % confidence intervals.",
}
TEXT["es"]["report"] = {
    "contents": "Contenido", "publication": "Cuadros para publicación",
    "tables": "Cuadros", "figures": "Gráficos", "table": "Cuadro", "figure": "Gráfico",
    "warnings": "Advertencias", "no_warnings": "La ejecución no emitió advertencias.",
    "manifest": "Procedencia (manifest.json)",
    "manifest_intro": "Lo necesario para volver a ejecutar este capítulo y obtener las mismas cifras: el registro "
                      "completo, con el sha256 de cada archivo de salida, es manifest.json, junto a este informe.",
    "package": "Paquete", "commit": "commit de git", "dirty": "(con cambios sin confirmar)", "unknown": "desconocido",
    "environment": "Entorno", "command": "Comando", "spec": "Especificación", "seeds": "Semillas",
    "settings": "Parámetros", "inputs": "Insumos", "loader": "lector", "rows": "filas", "income_period": "ingreso por",
    "currency": "moneda", "lines": "líneas", "no_files": "sin archivo de entrada (datos generados)",
    "migration_inputs": "Insumos de migración", "layout": "formato", "years": "años", "options": "opciones",
    "design": "diseño", "used_by": "usado por",
    "migration_source": "Fuente: elaboración propia sobre la base de {inputs}.",
    "src_un": "Naciones Unidas, Departamento de Asuntos Económicos y Sociales (DAES), División de Población, "
              "International Migrant Stock ({files})",
    "src_census": "microdatos censales ({files})",
    "src_census_synthetic": "microdatos censales sintéticos generados por remitpov (no son datos reales)",
    "src_other": "{files}",
    "source": "Fuente: elaboración propia sobre la base de {surveys}.", "note": "Nota",
    "note_ci": "Intervalos de confianza al {level} % según el diseño muestral; las tasas son de personas (factor "
               "de expansión del hogar x tamaño del hogar).",
    "no_figures": "No se generaron gráficos PNG (agregue \"png\" a [chapter] figures).",
    "fig_paired_bars_poverty": "Pobreza con y sin remesas",
    "fig_paired_bars_indigence": "Indigencia con y sin remesas",
    "fig_recipients_by_decile": "Receptores de remesas por decil de ingreso antes de remesas",
    "fig_incidence_curves": "Curvas de incidencia de la pobreza",
    "fig_lorenz_curves": "Curvas de Lorenz y de concentración",
    "fig_country_comparison_poverty": "Pobreza con y sin remesas, por país",
    "fig_country_comparison_indigence": "Indigencia con y sin remesas, por país",
    "fig_counterfactual": "Incidencia de la pobreza en el contrafactual econométrico",
    "unit_percent": "%", "unit_percentage points": "puntos porcentuales", "unit_ratio": "razón",
    "unit_Gini x 100": "Gini x 100", "unit_currency per person": "moneda por persona",
    "fig_dominance_fgt1": "Curvas de brecha de pobreza con y sin remesas (dominancia de segundo orden)",
    "fig_dominance_fgt2": "Curvas de severidad de la pobreza con y sin remesas (dominancia de tercer orden)",
    "fig_coverage_by_state": "Cobertura de las remesas en la encuesta por entidad (porcentaje de la balanza de pagos)",
    "fig_coverage_time_series": "Remesas en la encuesta y en la balanza de pagos",
    "fig_impact_range": "Pobreza sin remesas, con las remesas de la encuesta y con remesas calibradas",
    "note_fig_incidence_curves": "Bandas sombreadas: intervalos de confianza puntuales al {level} % de la incidencia "
                                 "en cada línea (según el diseño muestral, remitpov.poverty.fgt); valen línea por "
                                 "línea, no conjuntamente.",
    "note_fig_dominance": "Bandas sombreadas: intervalos de confianza puntuales al {level} % en cada línea (según el "
                          "diseño muestral, remitpov.poverty.fgt), línea por línea, no conjuntamente. Una curva por "
                          "debajo de la otra en todo el rango de líneas indica menos pobreza para toda línea y toda "
                          "medida de ese orden (Davidson y Duclos, 2000); remitpov.robustness.poverty_dominance lo "
                          "contrasta.",
    "note_fig_lorenz_curves": "Bandas sombreadas: intervalos de confianza puntuales al {level} % de cada ordenada "
                              "(según el diseño muestral, linealizados: remitpov.inequality.lorenz y "
                              "concentration_curve), punto por punto, no conjuntamente. La curva de concentración "
                              "ordena a las personas por el indicador de bienestar sin remesas.",
    "note_fig_coverage_by_state": "Cobertura = remesas anuales expandidas de la encuesta / remesas de la balanza de "
                                  "pagos (Banco de México), ambas en dólares, en porcentaje; líneas: intervalo de "
                                  "confianza al {level} % (según el diseño muestral, la balanza de pagos se toma como "
                                  "conocida), cortado en 0 y marcado donde baja de cero.",
    "note_fig_coverage_time_series": "Totales en millones de dólares por año; cobertura en porcentaje con su intervalo "
                                     "de confianza al {level} %.",
    "note_fig_impact_range": "Incidencia de la pobreza (% de personas) sin remesas, con las remesas declaradas en la "
                             "encuesta y con ellas escaladas al total de la balanza de pagos; encuestas ordenadas por "
                             "la incidencia con las remesas de la encuesta; líneas: intervalos de confianza al "
                             "{level} %.",
}

# the publication tables (remitpov.report.publication): headers, titles, notes, sheet names
TEXT["en"]["pub"] = {
    "survey": "Country (survey year)", "with": "With remittances", "without": "Without remittances",
    "difference": "Difference", "se_difference": "SE", "total": "Total population",
    "recipients": "Persons in recipient households", "recipient_share": "Population in recipient households",
    "n": "Sample (households)", "total_short": "Total",
    "title_poverty": "Poverty with and without remittances, total population and persons in recipient households",
    "title_indigence": "Indigence (extreme poverty) with and without remittances, total population and persons in "
                       "recipient households",
    "title_gap": "Poverty gap (FGT1) and severity (FGT2) with and without remittances",
    "title_gini": "Gini coefficient of {measure} with and without remittances",
    "title_incidence": "Households and persons receiving remittances, and the weight of remittances in their income",
    "title_quintiles": "Persons in recipient households by quintile of {welfare} without remittances",
    "title_counterfactual": "Poverty under the econometric counterfactual: observed, static and "
                            "selection-corrected income",
    "fgt1": "Poverty gap (FGT1)", "fgt2": "Poverty severity (FGT2)", "gini": "Gini coefficient",
    "recipient_households": "Recipient households", "recipient_persons": "Persons in recipient households",
    "remittance_share": "Remittances in recipients' income", "mean_remittance": "Mean remittance per person",
    "currency": "Currency", "quintile_group": "Quintile of {welfare} without remittances",
    "quintile_n": "Q{q}", "headcount": "Poverty headcount", "se_group": "Standard error",
    "cf_observed": "Observed", "cf_static": "Static (without remittances)", "cf_heckman": "Selection-corrected (Heckman)",
    "cf_multinomial": "Selection-corrected (multinomial)",
    "cf_selection": "Selection-corrected (recipients)", "cf_selection_unconditional": "Selection-corrected "
    "(unconditional)", "cf_multinomial_unconditional": "Selection-corrected (multinomial, unconditional)",
    "sheet_poverty": "Poverty", "sheet_indigence": "Indigence", "sheet_gap": "Poverty gap", "sheet_gini": "Gini",
    "sheet_incidence": "Remittance incidence", "sheet_quintiles": "Recipients by quintile",
    "sheet_counterfactual": "Counterfactual", "data_prefix": "data_",
    "source": "Source: own calculations based on {surveys}.",
    "synthetic": "synthetic survey {name} generated by remitpov (not real data)",
    "synthetic_many": "synthetic surveys generated by remitpov (not real data)",
    "note": "Note", "significant": "significant",
    "per_person": "{currency} per person per {period}",
    "period_month": "month", "period_quarter": "quarter", "period_year": "year", "period_unknown": "period",
    "poverty": "Poverty", "indigence": "Indigence (extreme poverty)",
    "note_lines": "{line} lines:",
    "line_range": "{lo} to {hi} (varies by household)", "line_relative": "({pct} % of the {stat} of income {concept})",
    "median": "median", "mean": "mean", "concept_with": "with remittances", "concept_without": "without remittances",
    "area_urban": "urban", "area_rural": "rural",
    "note_income": "Welfare measure: {scale}; estimates are of persons (household weight x household size).",
    "note_poor": "A person is poor when the household's {scale} is strictly below the line.",
    "scale_per_capita": "per capita income", "scale_none": "household income", "scale_sqrt": "income per "
                   "square-root equivalent adult", "scale_oecd_modified": "equivalised income (modified OECD scale)",
    "scale_coneval": "income per adult equivalent (CONEVAL scale)", "scale_consumption": "per capita consumption",
    "note_poor_mixed": "A person is poor when the welfare measure of the household (income or consumption, as "
                       "listed) is strictly below the line.",
    "title_poverty_total": "Poverty, total population", "title_indigence_total": "Indigence (extreme poverty), "
    "total population", "title_gap_total": "Poverty gap (FGT1) and severity (FGT2)",
    "title_gini_total": "Gini coefficient of {measure}", "estimate": "Estimate",
    "note_pct_se": "Rates in percent of persons; standard errors (SE) in percentage points (pp).",
    "note_gini_total": "Gini coefficient of {welfare} on the 0-1 scale, with its standard error (SE).",
    "scale_income": "income", "measure_income": "income", "measure_consumption": "consumption",
    "note_gini_welfare": "Gini coefficient of {welfare} on the 0-1 scale; the difference and its standard error "
                         "are in Gini points (0-1), estimated jointly on the same sample.",
    "note_without": "“Without remittances” subtracts the remittances received from each household's income, "
                    "everything else unchanged (static counterfactual: no behavioural response).",
    "note_mark": "{mark} The {level} % confidence interval of the difference (design-based: strata, PSUs and "
                 "weights of each survey) excludes zero.",
    "note_pp": "Rates in percent of persons; differences and their standard errors (SE) in percentage points (pp).",
    "note_n": "Sample: unweighted number of households in the survey sample.",
    "note_fgt": "FGT1 is the mean shortfall from the poverty line as a percentage of the line (the poor's gap, zero "
                "for the non-poor); FGT2 weights each gap by itself.",
    "note_gini": "Gini coefficient of per person income on the 0-1 scale; the difference and its standard error "
                 "are in Gini points (0-1), estimated jointly on the same sample.",
    "note_mean": "Mean remittance per person in recipient households, in the survey's currency and income period "
                 "(column Currency); percentages of persons and households are weighted.",
    "currency_per": "{currency} per {period}",
    "note_quintile": "Quintiles of persons ranked by {welfare} without remittances; percentage of the "
                     "persons of each quintile living in a household that receives remittances.",
    "note_cf": "Observed: income with remittances; static: income minus remittances; selection-corrected: income "
               "predicted without migration for recipient households (imputations combined by Rubin's rules).",
    "unit_pct": "%", "unit_pp": "pp", "or": " or ",
}
TEXT["es"]["pub"] = {
    "survey": "País (año de la encuesta)", "with": "Con remesas", "without": "Sin remesas",
    "difference": "Diferencia", "se_difference": "EE", "total": "Población total",
    "recipients": "Personas en hogares receptores", "recipient_share": "Población en hogares receptores",
    "n": "Muestra (hogares)", "total_short": "Total",
    "title_poverty": "Pobreza con y sin remesas, población total y personas en hogares receptores",
    "title_indigence": "Indigencia (pobreza extrema) con y sin remesas, población total y personas en hogares "
                       "receptores",
    "title_gap": "Brecha (FGT1) y severidad (FGT2) de la pobreza con y sin remesas",
    "title_gini": "Coeficiente de Gini del {measure} con y sin remesas",
    "title_incidence": "Hogares y personas que reciben remesas, y peso de las remesas en su ingreso",
    "title_quintiles": "Personas en hogares receptores por quintil de {welfare} sin remesas",
    "title_counterfactual": "Pobreza en el contrafactual econométrico: ingreso observado, estático y corregido por "
                            "selección",
    "fgt1": "Brecha de pobreza (FGT1)", "fgt2": "Severidad de la pobreza (FGT2)", "gini": "Coeficiente de Gini",
    "recipient_households": "Hogares receptores", "recipient_persons": "Personas en hogares receptores",
    "remittance_share": "Remesas en el ingreso de los receptores", "mean_remittance": "Remesa media por persona",
    "currency": "Moneda", "quintile_group": "Quintil de {welfare} sin remesas",
    "quintile_n": "Q{q}", "headcount": "Incidencia de la pobreza", "se_group": "Error estándar",
    "cf_observed": "Observado", "cf_static": "Estático (sin remesas)", "cf_heckman": "Corregido por selección (Heckman)",
    "cf_multinomial": "Corregido por selección (multinomial)",
    "cf_selection": "Corregido por selección (receptores)", "cf_selection_unconditional": "Corregido por "
    "selección (incondicional)", "cf_multinomial_unconditional": "Corregido por selección (multinomial, "
    "incondicional)",
    "sheet_poverty": "Pobreza", "sheet_indigence": "Indigencia", "sheet_gap": "Brecha de pobreza", "sheet_gini": "Gini",
    "sheet_incidence": "Incidencia de remesas", "sheet_quintiles": "Receptores por quintil",
    "sheet_counterfactual": "Contrafactual", "data_prefix": "datos_",
    "source": "Fuente: elaboración propia sobre la base de {surveys}.",
    "synthetic": "encuesta sintética {name} generada por remitpov (no son datos reales)",
    "synthetic_many": "encuestas sintéticas generadas por remitpov (no son datos reales)",
    "note": "Nota", "significant": "significativa",
    "per_person": "{currency} por persona al {period}",
    "period_month": "mes", "period_quarter": "trimestre", "period_year": "año", "period_unknown": "período",
    "poverty": "pobreza", "indigence": "indigencia (pobreza extrema)",
    "note_lines": "Líneas de {line}:",
    "line_range": "{lo} a {hi} (varía según el hogar)", "line_relative": "({pct} % de la {stat} del ingreso {concept})",
    "median": "mediana", "mean": "media", "concept_with": "con remesas", "concept_without": "sin remesas",
    "area_urban": "urbana", "area_rural": "rural",
    "note_income": "Indicador de bienestar: {scale}; estimaciones de personas (factor de expansión del hogar x "
                   "tamaño del hogar).",
    "note_poor": "Una persona es pobre cuando el {scale} de su hogar es estrictamente inferior a la línea.",
    "scale_per_capita": "ingreso per cápita", "scale_none": "ingreso del hogar", "scale_sqrt": "ingreso por adulto "
                   "equivalente (raíz cuadrada)", "scale_oecd_modified": "ingreso equivalente (escala OCDE modificada)",
    "scale_coneval": "ingreso por adulto equivalente (escala del CONEVAL)", "scale_consumption": "consumo per cápita",
    "note_poor_mixed": "Una persona es pobre cuando el indicador de bienestar de su hogar (ingreso o consumo, según "
                       "se indica) es estrictamente inferior a la línea.",
    "title_poverty_total": "Pobreza, población total", "title_indigence_total": "Indigencia (pobreza extrema), "
    "población total", "title_gap_total": "Brecha (FGT1) y severidad (FGT2) de la pobreza",
    "title_gini_total": "Coeficiente de Gini del {measure}", "estimate": "Estimación",
    "note_pct_se": "Tasas en porcentaje de personas; errores estándar (EE) en puntos porcentuales (pp).",
    "note_gini_total": "Coeficiente de Gini del {welfare} en la escala 0-1, con su error estándar (EE).",
    "scale_income": "ingreso", "measure_income": "ingreso", "measure_consumption": "consumo",
    "note_gini_welfare": "Coeficiente de Gini del {welfare} en la escala 0-1; la diferencia y su error estándar "
                         "están en puntos de Gini (0-1), estimados conjuntamente sobre la misma muestra.",
    "note_without": "“Sin remesas” resta del ingreso de cada hogar las remesas recibidas, sin cambiar nada más "
                    "(contrafactual estático: sin respuesta de comportamiento).",
    "note_mark": "{mark} El intervalo de confianza al {level} % de la diferencia (según el diseño muestral: estratos, "
                 "UPM y factores de expansión de cada encuesta) excluye el cero.",
    "note_pp": "Tasas en porcentaje de personas; diferencias y sus errores estándar (EE) en puntos porcentuales (pp).",
    "note_n": "Muestra: número de hogares de la muestra de la encuesta, sin ponderar.",
    "note_fgt": "FGT1 es el déficit medio respecto de la línea de pobreza como porcentaje de la línea (cero para los "
                "no pobres); FGT2 pondera cada brecha por sí misma.",
    "note_gini": "Coeficiente de Gini del ingreso por persona en la escala 0-1; la diferencia y su error estándar "
                 "están en puntos de Gini (0-1), estimados conjuntamente sobre la misma muestra.",
    "note_mean": "Remesa media por persona en hogares receptores, en la moneda y el período de ingreso de la encuesta "
                 "(columna Moneda); los porcentajes de personas y hogares son ponderados.",
    "currency_per": "{currency} por {period}",
    "note_quintile": "Quintiles de personas ordenadas por {welfare} sin remesas; porcentaje de las personas "
                     "de cada quintil que viven en un hogar que recibe remesas.",
    "note_cf": "Observado: ingreso con remesas; estático: ingreso menos remesas; corregido por selección: ingreso "
               "predicho sin migración para los hogares receptores (imputaciones combinadas con las reglas de Rubin).",
    "unit_pct": "%", "unit_pp": "pp", "or": " o ",
}
