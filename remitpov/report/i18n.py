"""Every word the chapter writes, in one translation table (English and Spanish).

Three sections per language: ``"title"`` (table titles, by table name), ``"header"`` (column
headers of the Markdown/LaTeX/XLSX tables, by column name) and ``"figure"`` (figure titles,
axis labels and legends). A new chapter block adds its title here in every language
(:func:`text` falls back to English, then to the key). :data:`remitpov.report.tables.HEADERS`
and :data:`remitpov.report.figures.LABELS` are views of this table.
"""
from __future__ import annotations

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
        },
        "header": {
            'survey': 'Survey',
            'domain': 'Domain',
            'group': 'Group',
            'population': 'Population',
            'measure': 'Measure',
            'concept': 'Income',
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
            'decile': 'Decile of per-capita income without remittances',
            'recipients_pct': '% of persons in recipient households',
            'decile_title': 'Remittance recipients by decile of pre-remittance income',
            'curve_x': 'Poverty line (multiple of the poverty line)',
            'curve_y': 'Headcount ratio (%)',
            'curve_title': 'Poverty incidence curves',
            'lorenz_x': 'Cumulative population share',
            'lorenz_y': 'Cumulative income share',
            'lorenz_title': 'Lorenz and concentration curves',
            'lorenz_with': 'Lorenz, with remittances',
            'lorenz_without': 'Lorenz, without remittances',
            'concentration_remittances': 'Concentration of remittances',
            'equality': 'Equality line',
            'ci': '{level:.0%} confidence interval',
            'whiskers': 'whiskers: {ci}',
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
        },
        "header": {
            'survey': 'Encuesta',
            'domain': 'Dominio',
            'group': 'Grupo',
            'population': 'Población',
            'measure': 'Indicador',
            'concept': 'Ingreso',
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
            'decile': 'Decil de ingreso per cápita sin remesas',
            'recipients_pct': '% de personas en hogares receptores',
            'decile_title': 'Receptores de remesas por decil de ingreso antes de remesas',
            'curve_x': 'Línea de pobreza (múltiplo de la línea)',
            'curve_y': 'Incidencia (%)',
            'curve_title': 'Curvas de incidencia de la pobreza',
            'lorenz_x': 'Proporción acumulada de la población',
            'lorenz_y': 'Proporción acumulada del ingreso',
            'lorenz_title': 'Curvas de Lorenz y de concentración',
            'lorenz_with': 'Lorenz, con remesas',
            'lorenz_without': 'Lorenz, sin remesas',
            'concentration_remittances': 'Concentración de las remesas',
            'equality': 'Línea de igualdad',
            'ci': 'Intervalo de confianza al {level:.0%}',
            'whiskers': 'barras: {ci}',
        },
    },
}

#: the languages a chapter can be written in
LANGUAGES = tuple(TEXT)


def text(section: str, key: str, language: str = "en", default: str | None = None, **fmt) -> str:
    """The ``section``/``key`` text in ``language`` (English if missing there, else ``default``
    or the key itself), formatted with ``fmt`` when given."""
    s = TEXT.get(language, TEXT["en"])[section].get(key)
    if s is None:
        s = TEXT["en"][section].get(key, key if default is None else default)
    return s.format(**fmt) if fmt else s


def section(section: str, language: str) -> dict[str, str]:
    """One section of one language (a live view: the dict stored in :data:`TEXT`)."""
    return TEXT[language][section]

# the labels of report.html (remitpov.report.html); fig_<stem>: a figure's caption by file stem
TEXT["en"]["report"] = {
    "contents": "Contents", "tables": "Tables", "figures": "Figures", "table": "Table", "figure": "Figure",
    "warnings": "Warnings", "no_warnings": "The run issued no warnings.",
    "manifest": "Provenance (manifest.json)",
    "manifest_intro": "What is needed to rerun this chapter and get the same numbers: the full record, with the "
                      "sha256 of every output file, is manifest.json next to this report.",
    "package": "Package", "commit": "git commit", "dirty": "(with uncommitted changes)", "unknown": "unknown",
    "environment": "Environment", "command": "Command", "spec": "Spec", "seeds": "Seeds", "settings": "Settings",
    "inputs": "Inputs", "loader": "loader", "rows": "rows", "income_period": "income per", "currency": "currency",
    "lines": "lines", "no_files": "no input file (generated data)",
    "source": "Source: own calculations from {surveys}.", "note": "Note",
    "note_ci": "Confidence intervals at {level} % from the survey design; rates are of persons (household "
               "weight x household size).",
    "no_figures": "No PNG figures were written (add \"png\" to [chapter] figures).",
    "fig_paired_bars_poverty": "Poverty with and without remittances",
    "fig_paired_bars_indigence": "Indigence with and without remittances",
    "fig_recipients_by_decile": "Remittance recipients by decile of pre-remittance income",
    "fig_incidence_curves": "Poverty incidence curves",
    "fig_lorenz_curves": "Lorenz and concentration curves",
    "unit_percent": "%", "unit_percentage points": "percentage points", "unit_ratio": "ratio",
    "unit_Gini x 100": "Gini x 100", "unit_currency per person": "currency per person",
}
TEXT["es"]["report"] = {
    "contents": "Contenido", "tables": "Cuadros", "figures": "Gráficos", "table": "Cuadro", "figure": "Gráfico",
    "warnings": "Advertencias", "no_warnings": "La ejecución no emitió advertencias.",
    "manifest": "Procedencia (manifest.json)",
    "manifest_intro": "Lo necesario para volver a ejecutar este capítulo y obtener las mismas cifras: el registro "
                      "completo, con el sha256 de cada archivo de salida, es manifest.json, junto a este informe.",
    "package": "Paquete", "commit": "commit de git", "dirty": "(con cambios sin confirmar)", "unknown": "desconocido",
    "environment": "Entorno", "command": "Comando", "spec": "Especificación", "seeds": "Semillas",
    "settings": "Parámetros", "inputs": "Insumos", "loader": "lector", "rows": "filas", "income_period": "ingreso por",
    "currency": "moneda", "lines": "líneas", "no_files": "sin archivo de entrada (datos generados)",
    "source": "Fuente: elaboración propia sobre la base de {surveys}.", "note": "Nota",
    "note_ci": "Intervalos de confianza al {level} % según el diseño muestral; las tasas son de personas (factor "
               "de expansión del hogar x tamaño del hogar).",
    "no_figures": "No se generaron gráficos PNG (agregue \"png\" a [chapter] figures).",
    "fig_paired_bars_poverty": "Pobreza con y sin remesas",
    "fig_paired_bars_indigence": "Indigencia con y sin remesas",
    "fig_recipients_by_decile": "Receptores de remesas por decil de ingreso antes de remesas",
    "fig_incidence_curves": "Curvas de incidencia de la pobreza",
    "fig_lorenz_curves": "Curvas de Lorenz y de concentración",
    "unit_percent": "%", "unit_percentage points": "puntos porcentuales", "unit_ratio": "razón",
    "unit_Gini x 100": "Gini x 100", "unit_currency per person": "moneda por persona",
}
