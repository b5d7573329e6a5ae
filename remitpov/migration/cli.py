"""``remitpov migration SPEC.toml --out DIR``: the migration context (tables and figures).

Registered as a CLI plugin (:data:`remitpov.cli.PLUGINS`); errors follow the CLI's rules
(one line and exit 2 for bad input).
"""
from __future__ import annotations

import argparse


def _run(args: argparse.Namespace) -> int:
    from .report import run_migration_spec

    manifest = run_migration_spec(args.spec, args.out)
    n_fig = sum(1 for k in manifest["outputs"] if k.startswith("figures/"))
    n_tab = sum(1 for k in manifest["outputs"] if k.startswith("tables/"))
    print(f"migration report written to {args.out}: {n_tab} tables, {n_fig} figures, manifest.json")
    return 0


def register(subparsers) -> None:
    help_ = "migration context (UN DESA migrant stocks): tables and figures in English or Spanish"
    p = subparsers.add_parser("migration", help=help_, description=help_)
    p.add_argument("spec", help="TOML file with a [migration] section (see remitpov.migration.report)")
    p.add_argument("--out", required=True, help="output folder (replaced as a whole when the run completes)")
    p.set_defaults(func=_run)
