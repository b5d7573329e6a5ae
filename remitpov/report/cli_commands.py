"""Command-line subcommands of the report package: ``chapter``, ``reproduce``, ``demo``.

``remitpov/cli.py`` calls :func:`register` with its ``argparse`` subparsers object; each
subcommand stores its handler as ``func`` (``args.func(args) -> int``). :func:`main` runs
these subcommands on their own (``python -m remitpov.report.cli_commands ...``).

Exit codes: 0 success; 1 a reproduce target missed (or errored); 2 a bad spec/targets file
(:class:`~remitpov.exceptions.SpecError`) or bad input -- the message names the key and the fix.
"""
from __future__ import annotations

import argparse
import sys

from ..exceptions import RemitpovError


def cmd_chapter(args) -> int:
    from .chapter import run_chapter

    try:
        res = run_chapter(args.spec, args.out, progress=_progress(args), command=f"remitpov chapter {args.spec}")
    except RemitpovError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    if not args.quiet:
        print(res.summary())
    return 0


def cmd_demo(args) -> int:
    from .chapter import run_demo

    try:
        res = run_demo(args.out, language=args.language, progress=_progress(args))
    except RemitpovError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    if not args.quiet:
        print(res.summary())
        lay = res.tables.get("poverty_layout")
        if lay is not None:
            print(lay.to_string(index=False, float_format=lambda v: f"{v:.2f}"))
    return 0


def cmd_reproduce(args) -> int:
    from .reproduce import reproduce
    from .tables import to_csv

    try:
        res = reproduce(args.targets)
    except RemitpovError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(res.summary())
    for _, r in res.table[res.table["status"] != "pass"].iterrows():
        extra = f": {r['error']}" if r["error"] else ""
        print(f"  {r['status']} {r['id']} ({r['source']}){extra}", file=sys.stderr)
    if args.csv:
        to_csv(res.table, args.csv)
    return 0 if res.ok else 1


def _progress(args):
    return False if getattr(args, "quiet", False) else None


def register(subparsers) -> None:
    """Add ``chapter``, ``reproduce`` and (unless already defined) ``demo`` to ``subparsers``."""
    existing = getattr(subparsers, "choices", {}) or {}
    p = subparsers.add_parser("chapter", help="regenerate a remittances chapter from a TOML spec",
                              description="Tables (CSV/XLSX/Markdown/LaTeX), figures and manifest.json for "
                                          "every survey of SPEC.toml, written to --out.")
    p.add_argument("spec", help="chapter spec (TOML), e.g. examples/enigh2018_ags.toml")
    p.add_argument("--out", "-o", default=None, help="output folder (default: chapter.out in the spec)")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress or summary output")
    p.set_defaults(func=cmd_chapter)
    p = subparsers.add_parser("reproduce", help="check published figures against fresh computations",
                              description="Prints a pass/fail table; exits 1 if any target is missed.")
    p.add_argument("targets", help="targets file (TOML), e.g. examples/targets.toml")
    p.add_argument("--csv", default=None, help="also write the result table to this CSV file")
    p.set_defaults(func=cmd_reproduce)
    if "demo" not in existing:
        add_demo_parser(subparsers)


def add_demo_parser(subparsers):
    """The ``demo`` subcommand (the chapter on the embedded synthetic surveys)."""
    p = subparsers.add_parser("demo", help="the chapter on embedded synthetic surveys (no data needed)")
    p.add_argument("--out", "-o", default="remitpov-demo", help="output folder (default ./remitpov-demo)")
    p.add_argument("--language", choices=("en", "es"), default="en")
    p.add_argument("--quiet", "-q", action="store_true")
    p.set_defaults(func=cmd_demo)
    return p


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="remitpov")
    sub = parser.add_subparsers(dest="command", required=True)
    register(sub)
    args = parser.parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
