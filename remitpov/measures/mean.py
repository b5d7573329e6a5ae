"""Means, totals and ratios of totals: registered here, estimated by :mod:`remitpov.estimation`
(:func:`remitpov.mean`, :func:`remitpov.total`, :func:`remitpov.ratio`; the engines run them
out of core)."""
from __future__ import annotations

from .registry import Measure, register

register(Measure("mean", "mean", "mean", joint=False, rank=140, summary="weighted mean"))
register(Measure("total", "mean", "total", joint=False, rank=150, summary="weighted total"))
register(Measure("ratio", "mean", "ratio", joint=False, rank=160, summary="ratio of totals"))
