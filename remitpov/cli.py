"""The ``remitpov`` command line.

Subcommands are registered on one ``argparse`` subparsers object; each stores its
handler as ``func`` (``args.func(args) -> int``). Other modules plug in through
:data:`PLUGINS`: each named module's ``register(subparsers)`` is called FIRST, so a
plugin may define ``chapter``, ``reproduce`` and its own ``demo``; the commands here
(``describe`` and a basic ``demo``) are added only under names still free.

* ``remitpov demo``: the synthetic survey, headcount poverty with and without
  remittances (design-based SEs from :func:`remitpov.estimation.mean`).
* ``remitpov describe FILE --format enigh|encovi2000|eusilc|SPEC.toml``: households,
  persons, weighted population, share of households / persons receiving remittances,
  remittance share of recipients' income, and the load report.

Errors and exit codes (:func:`run`): 0 success; 2 bad input or bad usage -- a
:mod:`remitpov.exceptions` error, a missing/unreadable file (``OSError``), a file that is
not valid TOML or text -- printed as ONE line ``error: what, where. Fix: what to do``, never
a traceback; 1 a programming error in remitpov: its traceback, then a request to report it;
130 interrupted (Ctrl-C). Warnings are printed as one line each (``warning: ...``).
"""
from __future__ import annotations

import argparse
import importlib
import inspect
import sys
import tomllib
import traceback
import warnings
from pathlib import Path
from typing import Callable

import numpy as np

from .exceptions import RemitpovError

__all__ = ["main", "run", "error_line", "build_parser", "describe_survey", "load_for_describe", "PLUGINS",
           "register_command"]

#: where to report programming errors
REPORT_TO = "the remitpov issue tracker"

#: Modules whose ``register(subparsers)`` adds subcommands (skipped when absent).
PLUGINS: list[str] = ["remitpov.report.cli_commands", "remitpov.migration.cli"]

_COMMANDS: dict[str, tuple[str, Callable, Callable]] = {}


def register_command(name: str, help: str, configure: Callable[[argparse.ArgumentParser], None],
                     run: Callable[[argparse.Namespace], int], *, replace: bool = False) -> None:
    """Add a subcommand to the built-in table (``replace=True`` to overwrite one)."""
    if name in _COMMANDS and not replace:
        raise ValueError(f"subcommand {name!r} already registered; pass replace=True")
    _COMMANDS[name] = (help, configure, run)


# ---------------------------------------------------------------------------- describe
def _describe_formats() -> tuple[str, ...]:
    """Registered formats that read a file and need no further option (remitpov.io.registry)."""
    from .io.registry import LOADERS

    return tuple(n for n, i in LOADERS.items() if i.needs_file and not i.required_options)


FORMATS = _describe_formats()


def load_for_describe(path, fmt: str, *, year: int | None = None):
    """Load ``path`` with the loader registered as ``fmt`` (or a TOML spec path)."""
    from .exceptions import InputError
    from .io import read_survey
    from .io.registry import LOADERS

    if str(fmt).lower().endswith(".toml"):
        return read_survey(path, fmt)
    if fmt not in _describe_formats():
        raise InputError(f"unknown --format {fmt!r}: use one of {_describe_formats()} or a spec .toml file")
    fn = LOADERS[fmt].function
    return fn(path, year=year) if "year" in inspect.signature(fn).parameters else fn(path)


def _household_view(survey):
    """(weights, remittances, income, members) per household for ``survey``."""
    d = survey.data
    rem_col = survey.roles.get("hh_remittances") or survey.roles.get("remittances")
    inc_col = survey.roles.get("hh_income") or survey.roles.get("income")
    if survey.unit == "household":
        w = survey.weights("household")
        size = survey.household_size if survey.size else np.ones(survey.n)
        rem = None if rem_col is None else d[rem_col].to_numpy(dtype=float)
        inc = None if inc_col is None else d[inc_col].to_numpy(dtype=float)
        return w, rem, inc, size
    hh = survey.roles.get("household")
    if hh is None:
        return None
    first = ~d.duplicated(hh).to_numpy()
    size = d.groupby(hh, sort=False)[hh].transform("size").to_numpy(dtype=float)[first]
    w = survey.weights("person")[first]  # person weight of the first member (equal within households)
    rem = None if rem_col is None else d[rem_col].to_numpy(dtype=float)[first]
    inc = None if inc_col is None else d[inc_col].to_numpy(dtype=float)[first]
    return w, rem, inc, size


def describe_survey(survey) -> str:
    """The text printed by ``remitpov describe``."""
    m = survey.metadata
    lines = [f"{m.name} ({m.loader or 'survey'}): {survey.n} {survey.unit} rows"]
    hv = _household_view(survey)
    if survey.unit == "household":
        persons = float(survey.household_size.sum()) if survey.size else float("nan")
        lines.append(f"households: {survey.n:,}   persons (sample): {persons:,.0f}")
    else:
        nh = len(hv[0]) if hv is not None else None
        lines.append(f"households: {nh:,}   persons (sample): {survey.n:,}" if nh is not None
                     else f"persons (sample): {survey.n:,}")
    lines.append(f"weighted population: {survey.population('person'):,.0f} persons"
                 + (f", {survey.population('household'):,.0f} households" if survey.unit == "household" else ""))
    des = survey.design().describe()
    lines.append(f"design: strata={survey.strata} ({des['n_strata']}), psu={survey.psu} ({des['n_psu']}), "
                 f"df={des['df']}")
    period = m.income_period or "?"
    rem_col = survey.roles.get("remittances")
    if rem_col is None or hv is None or hv[1] is None:
        lines.append("remittances: none in this survey")
    else:
        w, rem, inc, size = hv
        rec = rem > 0
        lines.append(f"households receiving remittances ({rem_col} > 0): {100 * np.average(rec, weights=w):.2f} %")
        lines.append(f"persons in receiving households: {100 * np.average(rec, weights=w * size):.2f} %")
        if inc is not None and rec.any():
            share = float(np.sum(w[rec] * rem[rec]) / np.sum(w[rec] * inc[rec]))
            lines.append(f"remittances / income of recipient households (aggregate): {100 * share:.2f} %")
            lines.append(f"mean remittances of recipients: {np.average(rem[rec], weights=w[rec]):,.2f} "
                         f"{m.currency or ''} per household per {period}")
    lines.append(str(survey.report))
    return "\n".join(lines)


def cmd_describe(args) -> int:
    survey = load_for_describe(args.file, args.format, year=args.year)
    print(describe_survey(survey))
    return 0


def _configure_describe(p):
    p.add_argument("file", help="data file (or folder for encovi2000)")
    p.add_argument("--format", "-f", required=True,
                   help="enigh | encovi2000 | eusilc | path to a survey spec .toml (read_survey)")
    p.add_argument("--year", type=int, default=None, help="survey year (ENIGH metadata)")


# ---------------------------------------------------------------------------- demo
def demo_summary(seed: int = 2026, country: str = "A") -> str:
    """Headcount poverty with and without remittances on the synthetic survey."""
    from .estimation import mean
    from .income import build_income
    from .synthetic import COUNTRY_PARAMS, synthetic_lines, synthetic_survey

    params = COUNTRY_PARAMS.get(country, {})
    s = synthetic_survey(seed=seed, country=country, **params)
    b = build_income(s)
    ind, pov = synthetic_lines(s).for_survey(b)
    d = b.data
    b = b.with_columns(poor_with=(d["y_with"] < pov).astype(float), poor_without=(d["y_without"] < pov).astype(float),
                       indig_with=(d["y_with"] < ind).astype(float),
                       indig_without=(d["y_without"] < ind).astype(float))
    t = mean(b, ["poor_with", "poor_without", "indig_with", "indig_without"])
    wh = b.weights("household")
    rec = b.data["recipient"].to_numpy()
    out = [f"remitpov demo: synthetic survey {country!r} (seed {seed}), {b.n} households, "
           f"{b.population():,.0f} persons",
           f"households receiving remittances: {100 * np.average(rec, weights=wh):.1f} %",
           "income per person per month; poverty = y < line (strict); persons; design-based SEs",
           f"{'':<22}{'with':>14}{'without':>14}{'difference':>14}"]
    for name, a, b_ in (("poverty headcount", 0, 1), ("indigence headcount", 2, 3)):
        e_w, e_wo = t.get(variable=t.keys["variable"].iloc[a]), t.get(variable=t.keys["variable"].iloc[b_])
        c = np.zeros(len(t))
        c[a], c[b_] = -1.0, 1.0
        diff = t.contrast(c, "without - with")
        out.append(f"{name:<22}{100 * e_w.estimate:>8.2f} ({100 * e_w.se:.2f}){100 * e_wo.estimate:>8.2f} "
                   f"({100 * e_wo.se:.2f}){100 * diff.estimate:>8.2f} ({100 * diff.se:.2f})")
    out.append("(percent; SE in parentheses; difference = without - with, the static effect of remittances)")
    return "\n".join(out)


def cmd_demo_basic(args) -> int:
    print(demo_summary(seed=args.seed, country=args.country))
    return 0


def _configure_demo(p):
    p.add_argument("--seed", type=int, default=2026)
    p.add_argument("--country", default="A", choices=("A", "B", "C"))


register_command("describe", "describe a survey file: households, persons, remittance receipt, load report",
                 _configure_describe, cmd_describe)
register_command("demo", "with/without-remittances poverty on the embedded synthetic survey",
                 _configure_demo, cmd_demo_basic)


# ---------------------------------------------------------------------------- parser / main
def build_parser(*, plugins: bool = True) -> argparse.ArgumentParser:
    """The full parser: plugin subcommands first, then the built-in ones under free names."""
    from . import __version__

    parser = argparse.ArgumentParser(prog="remitpov", description="Remittances, poverty and inequality from "
                                                                   "household-survey microdata.")
    parser.add_argument("--version", action="version", version=f"remitpov {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    if plugins:
        for mod in PLUGINS:
            try:
                module = importlib.import_module(mod)
            except ModuleNotFoundError as exc:
                if exc.name and mod.startswith(exc.name):
                    continue  # plugin not installed
                raise
            module.register(sub)
    for name, (help_, configure, run) in _COMMANDS.items():
        if name in (sub.choices or {}):
            continue
        p = sub.add_parser(name, help=help_, description=help_)
        configure(p)
        p.set_defaults(func=run)
    return parser


def _one_line(text) -> str:
    return " ".join(str(text).split())


def error_line(exc: BaseException) -> str | None:
    """The one-line message for a bad-input error, or None for a programming error.

    Bad input: :class:`~remitpov.exceptions.RemitpovError` (its message already names what,
    where and the fix), ``OSError`` (a missing, unreadable or unwritable file or folder),
    ``tomllib.TOMLDecodeError`` and ``UnicodeDecodeError`` (a file that is not TOML / text).
    """
    if isinstance(exc, RemitpovError):
        return f"error: {_one_line(exc)}"
    if isinstance(exc, OSError):
        where = exc.filename if exc.filename is not None else ""
        what = {FileNotFoundError: "file or folder not found", IsADirectoryError: "a folder where a file is needed",
                NotADirectoryError: "a file where a folder is needed",
                PermissionError: "permission denied"}.get(type(exc), _one_line(exc.strerror or exc))
        return (f"error: {what}: {where!s}. Fix: check the path (and that you may read/write it)"
                if where else f"error: {what}. Fix: check the paths given and free disk space")
    if isinstance(exc, tomllib.TOMLDecodeError):
        return f"error: not a valid TOML file ({_one_line(exc)}). Fix: correct the TOML syntax"
    if isinstance(exc, UnicodeDecodeError):
        return f"error: a file is not UTF-8 text ({_one_line(exc)}). Fix: give a UTF-8 text file"
    return None


def _show_warning(message, category, filename, lineno, file=None, line=None):
    print(f"warning: {_one_line(message)}", file=sys.stderr if file is None else file)


def run(func, args) -> int:
    """Run a subcommand handler: bad input -> one line on stderr and 2; bugs -> traceback and 1."""
    old = warnings.showwarning
    warnings.showwarning = _show_warning
    try:
        return int(func(args))
    except BrokenPipeError:  # output piped into e.g. `head`
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # noqa: BLE001 - sorted into bad input / programming error below
        msg = error_line(exc)
        if msg is not None:
            print(msg, file=sys.stderr)
            return 2
        traceback.print_exc()
        print(f"remitpov: internal error (a bug, not your input). Please report it with the command and "
              f"the traceback above to {REPORT_TO}", file=sys.stderr)
        return 1
    finally:
        warnings.showwarning = old


def main(argv=None, *, plugins: bool = True) -> int:
    """Run the CLI; returns the exit code (see the module docstring)."""
    parser = build_parser(plugins=plugins)
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse usage errors / --help
        return int(exc.code or 0)
    return run(args.func, args)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
