"""The chapter block registry (see :mod:`remitpov.report.blocks`): :class:`Block`,
:class:`BlockOutput`, :data:`BLOCKS` and the lookups. Block modules import from here,
so the package imports its blocks without an import circle."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

import pandas as pd

__all__ = ["Block", "BlockOutput", "BLOCKS", "register", "measures", "default_measures", "remittance_measures",
           "line_measures", "table_order"]


@dataclass
class BlockOutput:
    """What a block's ``run`` returns for one survey.

    ``tables``: table name -> tidy rows (``None``/empty: nothing for this survey);
    ``estimates``: name -> the estimator result behind the rows (``ChapterResult.estimates``);
    ``extras``: name -> data kept for figures only (e.g. Lorenz ordinates).
    """

    tables: dict[str, pd.DataFrame | None] = field(default_factory=dict)
    estimates: dict[str, Any] = field(default_factory=dict)
    extras: dict[str, pd.DataFrame] = field(default_factory=dict)


@dataclass(frozen=True)
class Block:
    """One chapter block (see the module docstring).

    Parameters
    ----------
    measure : str
        Its name in ``[chapter] measures``.
    run : callable
        ``run(spec, p, ctx) -> BlockOutput`` for one prepared survey ``p``; ``ctx["progress"]``
        is a factory ``label -> callback(done, total)`` for long loops (draws, replicates).
    tables : tuple of str
        The tables it writes, in their order in the chapter.
    rank : int
        Position of its tables among all blocks' (ascending).
    step : str
        Progress text (``{sid}`` and ``{method}`` are filled in).
    needs_remittances, needs_poverty_line : bool
        Skipped for a survey without remittances / without a poverty line; spec checks use them.
    default : bool
        In the default ``measures`` list.
    tidy : tuple of str
        Tables that follow the tidy schema (checked); the others are views.
    views : mapping
        Table name -> ``f(all tables) -> DataFrame`` computed over all surveys after the runs.
    figures : callable, optional
        ``figures(spec, tables, extras, folder) -> list[Path]``.
    """

    measure: str
    run: Callable[..., BlockOutput]
    tables: tuple[str, ...]
    rank: int
    step: str
    needs_remittances: bool = False
    needs_poverty_line: bool = False
    default: bool = True
    tidy: tuple[str, ...] = ()
    views: Mapping[str, Callable[[Mapping[str, pd.DataFrame]], pd.DataFrame]] = field(default_factory=dict)
    figures: Callable | None = None

    def applies(self, p) -> bool:
        """Whether the block runs for the prepared survey ``p``."""
        return (self.measure in p.spec.measures and (p.has_remittances or not self.needs_remittances)
                and ("poverty" in p.lines or not self.needs_poverty_line))


#: measure name -> Block, in the order the chapter estimates them
BLOCKS: dict[str, Block] = {}


def register(block: Block) -> Block:
    """Add ``block`` to :data:`BLOCKS` (a measure name is registered once)."""
    if block.measure in BLOCKS:
        raise ValueError(f"chapter block {block.measure!r} is already registered")
    BLOCKS[block.measure] = block
    return block


def measures() -> tuple[str, ...]:
    """Every measure a spec may ask for, in estimation order."""
    return tuple(BLOCKS)


def default_measures() -> tuple[str, ...]:
    return tuple(m for m, b in BLOCKS.items() if b.default)


def remittance_measures() -> tuple[str, ...]:
    return tuple(m for m, b in BLOCKS.items() if b.needs_remittances)


def line_measures() -> tuple[str, ...]:
    return tuple(m for m, b in BLOCKS.items() if b.needs_poverty_line)


def table_order() -> list[str]:
    """Every table name, in the chapter's order (by block rank, then within the block)."""
    return [t for b in sorted(BLOCKS.values(), key=lambda b: b.rank) for t in b.tables]


