"""Command-line subcommands of the report package: ``chapter``, ``reproduce``, ``verify``, ``demo``.

``remitpov/cli.py`` calls :func:`register` with its ``argparse`` subparsers object; each
subcommand stores its handler as ``func`` (``args.func(args) -> int``). :func:`main` runs
these subcommands on their own (``python -m remitpov.report.cli_commands ...``).

Exit codes: 0 success; 1 a reproduce target missed (or errored), or ``verify`` found a
difference; 2 a bad spec/targets file
(:class:`~remitpov.exceptions.SpecError`) or bad input -- one line naming the key and the fix
(errors are turned into messages and exit codes by :func:`remitpov.cli.run`).
"""
from __future__ import annotations

import argparse
import sys

from pathlib import Path

from ..exceptions import SpecError


def cmd_chapter(args) -> int:
    from .chapter import run_chapter

    res = run_chapter(args.spec, args.out, progress=_progress(args), command=f"remitpov chapter {args.spec}",
                      report=args.report)
    if not args.quiet:
        print(res.summary())
    return 0


def cmd_demo(args) -> int:
    from .chapter import run_demo

    res = run_demo(args.out, language=args.language, progress=_progress(args), report=getattr(args, "report", None))
    if not args.quiet:
        print(res.summary())
        lay = res.tables.get("poverty_layout")
        if lay is not None:
            print(lay.to_string(index=False, float_format=lambda v: f"{v:.2f}"))
    return 0


def cmd_reproduce(args) -> int:
    from .reproduce import reproduce
    from .tables import to_csv

    if args.csv:
        _check_csv_path(args.csv)  # before the (slow) computation, not after printing the table
    res = reproduce(args.targets)
    print(res.summary())
    for _, r in res.table[res.table["status"] != "pass"].iterrows():
        extra = f": {r['error']}" if r["error"] else ""
        print(f"  {r['status']} {r['id']} ({r['source']}){extra}", file=sys.stderr)
    if args.csv:
        to_csv(res.table, args.csv)
    return 0 if res.ok else 1


def cmd_verify(args) -> int:
    from .verify import verify

    res = verify(args.out_dir, inputs_only=args.inputs_only, progress=None)
    print(res.summary())
    return 0 if res.ok else 1


def _check_csv_path(path) -> Path:
    """``--csv`` must name a file in an existing folder (not a folder)."""
    p = Path(path)
    if p.is_dir():
        raise SpecError(f"--csv: {str(p)!r} is a folder. Fix: give a file name, e.g. --csv {p / 'reproduce.csv'}")
    if not p.parent.resolve().is_dir():
        raise SpecError(f"--csv: the folder {str(p.parent)!r} does not exist. Fix: create it or choose another file")
    return p


def _progress(args):
    return False if getattr(args, "quiet", False) else None


def register(subparsers) -> None:
    """Add ``chapter``, ``reproduce``, ``verify`` and (unless already defined) ``demo`` to ``subparsers``."""
    existing = getattr(subparsers, "choices", {}) or {}
    p = subparsers.add_parser("chapter", help="regenerate a remittances chapter from a TOML spec",
                              description="Tables (CSV/XLSX/Markdown/LaTeX), figures and manifest.json for "
                                          "every survey of SPEC.toml, written to --out.")
    p.add_argument("spec", help="chapter spec (TOML), e.g. examples/enigh2018_ags.toml")
    p.add_argument("--out", "-o", default=None,
                   help="output folder (default: chapter.out in the spec); written atomically, a previous "
                        "chapter output there is replaced as a whole, any other non-empty folder is refused")
    _add_report_option(p)
    p.add_argument("--quiet", "-q", action="store_true", help="no progress or summary output")
    p.set_defaults(func=cmd_chapter)
    p = subparsers.add_parser("reproduce", help="check published figures against fresh computations",
                              description="Prints a pass/fail table; exits 1 if any target is missed.")
    p.add_argument("targets", help="targets file (TOML), e.g. examples/targets.toml")
    p.add_argument("--csv", default=None, help="also write the result table to this CSV file")
    p.set_defaults(func=cmd_reproduce)
    p = subparsers.add_parser("verify", help="recompute a chapter from its manifest and compare every output",
                              description="Checks the inputs' sha256, reruns the chapter of OUT_DIR/manifest.json "
                                          "into a temporary folder and compares every table, XLSX and figure; "
                                          "exits 0 if identical, 1 naming each difference, 2 if OUT_DIR is not "
                                          "a chapter output.")
    p.add_argument("out_dir", metavar="OUT_DIR", help="a folder written by `remitpov chapter` or `remitpov demo`")
    p.add_argument("--inputs-only", action="store_true",
                   help="only check the inputs and outputs against the manifest's hashes (no recomputation)")
    p.set_defaults(func=cmd_verify)
    if "demo" not in existing:
        add_demo_parser(subparsers)


def _add_report_option(p) -> None:
    p.add_argument("--report", choices=("html", "none"), default=None,
                   help="html (default, or [chapter] report in the spec): also write report.html, one "
                        "self-contained page with the tables, figures, warnings and provenance; none: do not")


def add_demo_parser(subparsers):
    """The ``demo`` subcommand (the chapter on the embedded synthetic surveys)."""
    p = subparsers.add_parser("demo", help="the chapter on embedded synthetic surveys (no data needed)")
    p.add_argument("--out", "-o", default="remitpov-demo", help="output folder (default ./remitpov-demo)")
    p.add_argument("--language", choices=("en", "es"), default="en")
    _add_report_option(p)
    p.add_argument("--quiet", "-q", action="store_true")
    p.set_defaults(func=cmd_demo)
    return p


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="remitpov")
    sub = parser.add_subparsers(dest="command", required=True)
    register(sub)
    args = parser.parse_args(argv)
    from ..cli import run

    return run(args.func, args)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
