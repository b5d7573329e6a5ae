"""Progress display for long chapter steps, silent in non-interactive runs.

The display is on when the stream is a terminal (``isatty()``), off otherwise (CI, pipes,
notebooks executed by a test). ``REMITPOV_PROGRESS=1`` forces it on, ``=0`` off. Output
goes to ``stderr`` so that tables printed to ``stdout`` stay clean.
"""
from __future__ import annotations

import os
import sys
import time
from typing import Callable, Iterable, Iterator, TypeVar

T = TypeVar("T")


def progress_enabled(stream=None) -> bool:
    """Whether to show progress on ``stream`` (default ``sys.stderr``)."""
    env = os.environ.get("REMITPOV_PROGRESS", "").strip().lower()
    if env in ("1", "true", "yes", "on"):
        return True
    if env in ("0", "false", "no", "off"):
        return False
    stream = sys.stderr if stream is None else stream
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


class Progress:
    """A minimal step counter: ``[3/7] survey mex2018: poverty (1.2 s)``.

    Parameters
    ----------
    total : int
        Number of steps expected (for the ``[i/n]`` counter).
    enabled : bool, optional
        Force on/off; default :func:`progress_enabled`.
    stream : file, optional
        Default ``sys.stderr``.
    """

    def __init__(self, total: int = 0, *, enabled: bool | None = None, stream=None):
        self.stream = sys.stderr if stream is None else stream
        self.enabled = progress_enabled(self.stream) if enabled is None else bool(enabled)
        self.total = int(total)
        self.count = 0
        self._t0 = time.perf_counter()
        self._last = self._t0
        self._shown = 0  # last count shown by update()

    def step(self, message: str) -> None:
        """Report that a step starts."""
        self.count += 1
        now = time.perf_counter()
        if self.enabled:
            tot = f"/{self.total}" if self.total else ""
            print(f"[{self.count}{tot}] {message} (+{now - self._last:.1f} s)", file=self.stream, flush=True)
        self._last = now

    def iterate(self, items: Iterable[T], message: str, total: int | None = None) -> Iterator[T]:
        """Wrap a loop (e.g. replicates or imputation draws), updating one line in place."""
        total = total if total is not None else (len(items) if hasattr(items, "__len__") else None)
        for i, it in enumerate(items, start=1):
            self.update(i, total, message)
            yield it

    def update(self, done: int, total: int | None, message: str) -> None:
        """Show ``message: done/total`` on one line updated in place (about 50 updates a loop).

        The line is finished (newline) when ``done == total``.
        """
        if not self.enabled:
            return
        if done < self._shown:  # a new loop
            self._shown = 0
        every = max(1, (total or 100) // 50)
        if done - self._shown >= every or done == total:
            self._shown = 0 if done == total else done
            tot = f"/{total}" if total else ""
            end = "\n" if done == total else ""
            print(f"\r  {message}: {done}{tot}", end=end, file=self.stream, flush=True)

    def callback(self, message: str) -> Callable[[int, int], None] | None:
        """A ``progress(done, total)`` callback for estimators' long loops, or ``None`` when off.

        Estimators accept ``progress=None`` (no reporting, no overhead), so a disabled
        display passes nothing at all.
        """
        if not self.enabled:
            return None
        return lambda done, total: self.update(done, total, message)

    def done(self, message: str = "done") -> float:
        """Finish; returns the elapsed seconds."""
        el = time.perf_counter() - self._t0
        if self.enabled:
            print(f"{message} in {el:.1f} s", file=self.stream, flush=True)
        return el
