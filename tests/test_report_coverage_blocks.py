"""Chapter blocks ``coverage`` and ``impact_range`` (issue 12): the rows are the estimators'
(remitpov.coverage.remittance_coverage, remitpov.calibration.remittance_impact_range) on the
chapter's prepared survey, scaled once; Spanish labels; ``[survey.coverage]`` validation; the
national ENIGH example on real data."""
from __future__ import annotations

import tomllib
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from remitpov.calibration import remittance_impact_range
from remitpov.coverage import remittance_coverage
from remitpov.exceptions import DataWarning, SpecError
from remitpov.report import blocks
from remitpov.report.blocks._common import Z_POV
from remitpov.report.chapter import run_chapter
from remitpov.report.i18n import text
from remitpov.report.spec import parse_spec

ROOT = Path(__file__).resolve().parents[1]
SMALL = {"country": "A", "n_households": 300, "n_regions": 2}
RATE = 18.5
NATIONAL_USD = 1.0e9  # 12 months x 1e9/12 (the synthetic survey expands to ~6e7 USD a year)
STATE_USD = {1: 4.0e8, 2: 6.0e8}  # 4 quarters each


@pytest.fixture(scope="module")
def banxico(tmp_path_factory):
    """A Banxico folder in the published layout for the synthetic survey's year 2024."""
    d = tmp_path_factory.mktemp("banxico")
    months = pd.date_range("2024-01-01", periods=12, freq="MS").strftime("%Y-%m-%d")
    pd.DataFrame({"PERIODO": months, "ID_FLUJO": 1, "FLUJO": "Ingresos", "OPERACIONES": 1000,
                  "VALOR_USD": NATIONAL_USD / 12}).to_csv(d / "remesas_mensuales.csv", index=False)
    quarters = pd.date_range("2024-01-01", periods=4, freq="QS").strftime("%Y-%m-%d")
    pd.DataFrame([{"PERIODO": q, "CVE_ENT": s, "ENTIDAD": f"State {s}", "VALOR_USD": v / 4}
                  for q in quarters for s, v in STATE_USD.items()]).to_csv(d / "remesas_entidad.csv", index=False)
    return d


def _spec(banxico, measures=("coverage", "impact_range"), language="en", coverage=None, tables=("csv",), **survey):
    cov = {"banxico": str(banxico), "exchange_rate": RATE, "state": "region"} if coverage is None else coverage
    return {"chapter": {"measures": list(measures), "tables": list(tables), "figures": ["png"],
                        "language": language},
            "income": {"scale": "per_capita", "period": "month"},
            "survey": [{"id": "A", "label": "Country A", "format": "synthetic", "options": dict(SMALL),
                        "lines": {"poverty": "poverty_line"}, "coverage": cov, **survey}]}


@pytest.fixture(scope="module")
def chapter(banxico, tmp_path_factory):
    return run_chapter(_spec(banxico), tmp_path_factory.mktemp("ch") / "o", progress=False)


def test_registered_with_the_right_flags():
    cov, imp = blocks.BLOCKS["coverage"], blocks.BLOCKS["impact_range"]
    assert cov.needs_remittances and not cov.needs_poverty_line and not cov.default
    assert imp.needs_remittances and imp.needs_poverty_line and not imp.default
    assert "coverage" in blocks.remittance_measures() and "impact_range" in blocks.line_measures()
    assert "coverage" not in blocks.line_measures()
    assert blocks.table_order()[-2:] == ["coverage", "impact_range"]


def test_coverage_rows_are_remittance_coverage(chapter, banxico):
    p = chapter.surveys["A"]
    cov = remittance_coverage(p.survey, banxico, RATE, by_state=True, state="region")
    t = chapter.tables["coverage"]
    assert list(t.columns) == ["survey", "domain", "group", "indicator", "estimate", "se", "ci_lower", "ci_upper",
                               "unit"]
    ref = cov.table.set_index(cov.table["domain"].astype(str).replace({"national": "all"}))
    for ind, col, se, scale in (("coverage", "coverage", "coverage_se", 100.0),
                                ("survey_usd", "survey_usd", "survey_usd_se", 1e-6)):
        rows = t[t["indicator"] == ind].set_index("group")
        assert list(rows.index) == ["all", "1", "2"]
        np.testing.assert_array_equal(rows["estimate"].to_numpy(), ref.loc[rows.index, col].to_numpy() * scale)
        np.testing.assert_array_equal(rows["se"].to_numpy(), ref.loc[rows.index, se].to_numpy() * scale)
    c = t[t["indicator"] == "coverage"].set_index("group")
    np.testing.assert_array_equal(c["ci_lower"].to_numpy(), ref.loc[c.index, "ci_lower"].to_numpy() * 100)
    bop = t[t["indicator"] == "bop_usd"].set_index("group")["estimate"]
    # the BoP totals are the sums of the file's months / quarters (1e-6 relative: float sums of 12 values)
    assert bop.to_dict() == pytest.approx({"all": 1000.0, "1": 400.0, "2": 600.0}, rel=1e-12)
    # and the ratio is the survey's 4 x quarterly total / rate / BoP (closed form)
    from remitpov import total

    T = total(p.survey, "remesas", level="household").to_frame().iloc[0]
    assert c.loc["all", "estimate"] == pytest.approx(100 * 4 * T.estimate / RATE / NATIONAL_USD, rel=1e-12)
    assert set(t["unit"]) == {"million USD", "percent"}


def test_impact_rows_are_remittance_impact_range(chapter, banxico):
    p = chapter.surveys["A"]
    ir = remittance_impact_range(p.survey, Z_POV, banxico, RATE, seed=2026, scale="per_capita", period="month")
    ref = ir.to_frame()
    t = chapter.tables["impact_range"]
    assert list(t.columns) == ["survey", "measure", "concept", "estimate", "se", "ci_lower", "ci_upper", "unit"]
    assert t["concept"].tolist() == ref["concept"].tolist() and t["measure"].tolist() == ref["measure"].tolist()
    for c in ("estimate", "se", "ci_lower", "ci_upper"):
        np.testing.assert_array_equal(t[c].to_numpy(), 100 * ref[c].to_numpy())
    # the "with (survey)" and "without" rows are the chapter's own poverty rates (same income, same line)
    d = t.set_index(["measure", "concept"])["estimate"]
    assert d[("fgt0", "with (calibrated)")] <= d[("fgt0", "with (survey)")] <= d[("fgt0", "without")]


def test_figures_written(chapter):
    names = {f.name for f in chapter.figures}
    assert {"coverage_by_state_A.png", "coverage_time_series.png", "impact_range.png"} <= names


def test_spanish_labels(banxico, tmp_path, monkeypatch):
    from remitpov.report import figures as F

    seen = []
    real = F.save

    def save(fig, stem, formats=("png", "pdf")):
        seen.append((Path(stem).name, [t.get_text() for ax in fig.axes for t in
                                       [ax.title, ax.xaxis.label, ax.yaxis.label, *ax.texts]]
                     + [t.get_text() for ax in fig.axes if ax.get_legend() for t in ax.get_legend().get_texts()]
                     + [t.get_text() for lg in fig.legends for t in lg.get_texts()]
                     + [fig._suptitle.get_text() if fig._suptitle else ""]))
        return real(fig, stem, formats)

    monkeypatch.setattr(F, "save", save)
    res = run_chapter(_spec(banxico, language="es", tables=("md",)), tmp_path / "o", progress=False)
    md = (res.out_dir / "tables" / "tables.md").read_text(encoding="utf-8")
    assert text("title", "coverage", "es") in md and text("title", "impact_range", "es") in md
    labels = dict(seen)
    assert "Remesas en la encuesta y en la balanza de pagos" in labels["coverage_time_series"]
    assert "Balanza de pagos" in labels["coverage_time_series"]
    assert {"Sin remesas", "Con las remesas de la encuesta", "Con remesas calibradas"} <= set(labels["impact_range"])
    assert "Cobertura de las remesas por entidad, 2024" in " ".join(labels["coverage_by_state_A"])


@pytest.mark.parametrize("coverage, match", [
    ({"banxico": "no/such/folder"}, r"survey\[0\]\.coverage\.banxico: input file not found: 'no/such/folder'"),
    ({"banxico": "B", "exchange": 20}, r"survey\[0\]\.coverage: unknown key\(s\) \['exchange'\]"),
    ({"banxico": "B", "exchange_rate": 0}, r"survey\[0\]\.coverage\.exchange_rate: expected a finite number > 0"),
    ({"banxico": "B", "exchange_rate": "20"}, r"exchange_rate: expected a finite number > 0, got '20'"),
    ({"exchange_rate": 20.0}, r"survey\[0\]\.coverage\.banxico: missing"),
    ({"banxico": "B/remesas_mensuales.csv", "by_state": True}, r"coverage\.by_state: true with a file"),
    ({"banxico": "B", "method": "scale"}, r"coverage\.method: unknown method 'scale'"),
    ({"banxico": "B", "method": "impute"}, r"method 'impute' needs extra_recipients > 0"),
    ({"banxico": "B", "extra_recipients": -1}, r"extra_recipients: expected a finite number >= 0"),
    ({"banxico": "B", "year": "2024"}, r"coverage\.year: expected a year"),
])
def test_spec_errors(banxico, coverage, match):
    cov = {k: (v.replace("B", str(banxico), 1) if isinstance(v, str) and v.startswith("B") else v)
           for k, v in coverage.items()}
    with pytest.raises(SpecError, match=match):
        parse_spec(_spec(banxico, coverage=cov))


def test_spec_needs_the_coverage_table_and_a_line(banxico):
    d = _spec(banxico)
    del d["survey"][0]["coverage"]
    with pytest.raises(SpecError, match=r"survey\[0\]\.coverage: missing \(needed by measures \['coverage', "
                                        r"'impact_range'\]\)"):
        parse_spec(d)
    d = _spec(banxico, measures=("coverage",))
    del d["survey"][0]["lines"]
    s = parse_spec(d)  # coverage needs no poverty line ...
    assert s.surveys[0].coverage["by_state"] is True and s.surveys[0].coverage["exchange_rate"] == RATE
    d = _spec(banxico, measures=("impact_range",))
    del d["survey"][0]["lines"]
    with pytest.raises(SpecError, match=r"lines\.poverty: missing \(needed by measures \['impact_range'\]\)"):
        parse_spec(d)  # ... impact_range does
    # without the measures the table is accepted and kept in the spec's record
    s = parse_spec(_spec(banxico, measures=("incidence",)))
    assert s.surveys[0].to_dict()["coverage"]["banxico"] == str(banxico)


def test_coverage_above_one_is_warned_not_hidden(banxico, tmp_path):
    small = tmp_path / "bx"
    small.mkdir()
    m = pd.read_csv(banxico / "remesas_mensuales.csv").assign(VALOR_USD=1000.0)
    m.to_csv(small / "remesas_mensuales.csv", index=False)
    with pytest.warns(DataWarning, match="coverage above 1"):
        res = run_chapter(_spec(banxico, measures=("coverage",), coverage={"banxico": str(small / "remesas_mensuales.csv"),
                                                                         "exchange_rate": RATE}),
                          tmp_path / "o", progress=False)
    c = res.tables["coverage"]
    assert (c[c.indicator == "coverage"]["estimate"] > 100).all()
    assert list(c["domain"].unique()) == ["national"]


@pytest.mark.slow
@pytest.mark.shared
def test_national_example_one_year(shared, tmp_path):
    """examples/enigh_national.toml on ENIGH 2022 only: CEMLA's 4.93 billion USD, Banxico's 58.9 billion."""
    shared("data", "enigh_national", "ingresos_2022.csv.gz")
    shared("data", "banxico", "remesas_entidad.csv")
    d = tomllib.loads((ROOT / "examples" / "enigh_national.toml").read_text(encoding="utf-8"))
    assert [s["options"]["year"] for s in d["survey"]] == [2018, 2020, 2022]
    d["survey"] = [s for s in d["survey"] if s["options"]["year"] == 2022]
    d["chapter"].update(measures=["coverage", "impact_range"], tables=["csv"], figures=["png"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        res = run_chapter(parse_spec(d, ROOT / "examples"), tmp_path / "o", progress=False)
    c = res.tables["coverage"].set_index(["group", "indicator"])["estimate"]
    # CEMLA: about 4.93 billion USD in the survey (half a unit of the last published digit)
    assert c[("all", "survey_usd")] == pytest.approx(4930, abs=5)
    assert c[("all", "bop_usd")] == pytest.approx(58868, abs=1)  # Banxico 2022: 58.87 billion
    assert len(res.tables["coverage"]) == 3 * 33  # national + 32 states, three indicators
    assert c[("all", "coverage")] == pytest.approx(100 * 4930 / 58868, abs=0.02)
    imp = res.tables["impact_range"].set_index(["measure", "concept"])["estimate"]
    assert imp[("fgt0", "with (calibrated)")] < imp[("fgt0", "with (survey)")] < imp[("fgt0", "without")]
    assert {f.name for f in res.figures} >= {"coverage_by_state_mex2022.png", "coverage_time_series.png",
                                             "impact_range.png"}
