"""Chapter reports: spec -> tables, figures, manifest; published-figure checks.

``run_chapter(spec, out_dir)`` regenerates a Social Panorama remittances chapter;
``run_demo(out_dir)`` does it on the embedded synthetic surveys; ``reproduce(targets)``
checks published figures against fresh computations.

Layout: :mod:`.spec` (validation), :mod:`.blocks` (one file per chapter table/figure block,
one registry), :mod:`.chapter` (load, run the blocks, write), :mod:`.tables` and
:mod:`.figures` (writers), :mod:`.i18n` (every title and label, English and Spanish),
:mod:`.output` (atomic output folder), :mod:`.manifest` (provenance).
"""
from __future__ import annotations

from .chapter import ChapterResult, run_chapter, run_demo
from .spec import ChapterSpec, SurveySpec, load_spec, parse_spec

__all__ = ["run_chapter", "run_demo", "ChapterResult", "ChapterSpec", "SurveySpec", "load_spec", "parse_spec"]
