"""Census figures' source line in the chapter's language (#11/#13): the seeded synthetic census's
English name is translated in Spanish chapters."""
from __future__ import annotations

from types import SimpleNamespace

import pytest

from remitpov.migration.census import synthetic_census
from remitpov.report.blocks.migration import SYNTHETIC_CENSUS, census_source


def test_the_pattern_is_the_generators_name():
    c = synthetic_census(countries=["ARG", "USA"], persons_per_country=2_000, year=2010, seed=1)
    assert c.metadata.name == SYNTHETIC_CENSUS["en"].format(year=2010)


@pytest.mark.parametrize("language, expected", [
    ("es", "(censo sintético de tipo IMILA, 2010)"),
    ("en", "(synthetic IMILA-like census 2010)"),
])
def test_synthetic_census_named_in_the_chapter_language(language, expected):
    line = census_source(SimpleNamespace(language=language), SYNTHETIC_CENSUS["en"].format(year=2010))
    assert expected in line and ("IMILA-like" in line) == (language == "en")


def test_other_census_names_kept():
    assert "(Censo de Población 2010)" in census_source(SimpleNamespace(language="es"), "Censo de Población 2010")
