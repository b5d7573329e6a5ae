"""Safe formulas: check a model formula before the formula library evaluates it.

remitpov's econometric models and chapter specs take formulas in formulaic syntax
(``"np.log(y) ~ educ + I(age**2) + C(area)"``). formulaic evaluates every term as Python
code, so a formula read from a file (a chapter TOML) could run anything
(``"x + {open('f', 'w').write('!')}"``). :func:`check_formula` walks the formula's terms as
a Python abstract syntax tree and refuses everything but:

* **variables**: the data's columns (when ``columns`` is given; a name that is not a
  column is refused with the nearest column names), written bare or quoted with
  backticks (```odd name```);
* **numbers and strings** (``1``, ``0``, ``-1``, category labels in ``C(g, contr.treatment("a"))``);
* **operators**: ``+ - * / ** : | ~``, comparisons, ``[endog ~ instruments]`` blocks
  (linearmodels IV syntax), ``{...}`` Python blocks (checked the same way);
* **functions** in :data:`ALLOWED_FUNCTIONS`: ``np.log``, ``np.exp``, ``np.sqrt`` and other
  elementwise numpy functions, formulaic's transforms ``C``, ``I``, ``Q``, ``center``,
  ``scale``, ``poly``, ``bs``, ``lag``, ... and contrasts (``contr.treatment``, ``Treatment``...).

Attribute access (``x.__class__``), subscripts, lambdas, comprehensions and any other call
raise :class:`~remitpov.exceptions.InputError` naming the token. The check is purely
syntactic: nothing is evaluated.

Where it is called: the chapter spec check (:mod:`remitpov.report.spec`, before the data are
loaded and again against the loaded columns) and the formula constructors of
:mod:`remitpov.econometrics` (``Heckman.from_formula``, ``MultinomialSelection.from_formula``,
``RemittanceIV``, ``RemittancePanel``, the propensity-score models).
"""
from __future__ import annotations

import ast
import difflib
import re
from typing import Iterable

from .exceptions import InputError

__all__ = ["ALLOWED_FUNCTIONS", "check_formula", "formula_variables"]

#: elementwise numpy functions a formula may call as ``np.<name>``
NUMPY_FUNCTIONS = frozenset({
    "log", "log1p", "log2", "log10", "exp", "expm1", "exp2", "sqrt", "cbrt", "square", "abs", "absolute",
    "power", "sign", "floor", "ceil", "round", "rint", "trunc", "minimum", "maximum", "clip", "where",
    "isnan", "isfinite", "sin", "cos", "tan", "arcsin", "arccos", "arctan", "sinh", "cosh", "tanh",
})
#: formulaic transforms and contrasts a formula may call by their bare name
TRANSFORMS = frozenset({
    "C", "I", "Q", "center", "scale", "standardize", "poly", "bs", "cr", "cs", "cc", "lag",
    "log", "log2", "log10", "exp", "exp2", "exp10", "Treatment", "Sum", "Helmert", "Poly", "Diff",
})
#: ``contr.<name>`` contrasts
CONTRASTS = frozenset({"treatment", "sum", "helmert", "poly", "diff", "custom"})
#: every callable a formula may use, as written in the formula
ALLOWED_FUNCTIONS = tuple(sorted({f"np.{f}" for f in NUMPY_FUNCTIONS} | set(TRANSFORMS)
                                 | {f"contr.{c}" for c in CONTRASTS}))
#: constants a formula may use as ``np.<name>``
_NUMPY_CONSTANTS = frozenset({"pi", "e", "nan", "inf"})
#: names that are not columns but that linearmodels' panel formulas accept
_SPECIAL_NAMES = frozenset({"EntityEffects", "TimeEffects", "FixedEffects"})

_BINOPS = (ast.Add, ast.Sub, ast.Mult, ast.Div, ast.Pow, ast.BitOr, ast.MatMult, ast.FloorDiv, ast.Mod)
_UNARY = (ast.UAdd, ast.USub, ast.Not)
_COMPARE = (ast.Lt, ast.Gt, ast.LtE, ast.GtE, ast.Eq, ast.NotEq)
_HINT = ("formulas may use the data's columns, numbers, the operators + - * / ** : | ~, "
         "and the functions np.log, np.exp, np.sqrt (and other elementwise np.* functions), "
         "C(), I(), Q(), center(), scale(), poly(), bs(), lag() and contrasts (see remitpov.formula)")


def _dotted(node) -> str | None:
    """``np.log`` -> "np.log"; None when ``node`` is not a chain of names."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    parts.append(node.id)
    return ".".join(reversed(parts))


def _is_allowed_function(name: str | None) -> bool:
    if name is None:
        return False
    if name in TRANSFORMS:
        return True
    head, _, tail = name.partition(".")
    return (head == "np" and tail in NUMPY_FUNCTIONS) or (head == "contr" and tail in CONTRASTS)


class _Walker:
    def __init__(self, formula: str, columns, quoted: dict[str, str]):
        self.formula = formula
        self.columns = None if columns is None else {str(c) for c in columns}
        self.quoted = quoted
        self.variables: list[str] = []

    def refuse(self, token: str, what: str) -> InputError:
        return InputError(f"formula {self.formula!r}: {what} {token!r} is not allowed. Fix: {_HINT}; "
                          "compute anything else as a column of the data beforehand")

    def variable(self, name: str):
        name = self.quoted.get(name, name)
        if name in _SPECIAL_NAMES:
            return
        if self.columns is not None and name not in self.columns:
            near = difflib.get_close_matches(name, sorted(self.columns), n=3)
            hint = f" (did you mean {', '.join(map(repr, near))}?)" if near else ""
            raise InputError(f"formula {self.formula!r}: variable {name!r} is not a column of the data{hint}. "
                             "Fix: use the data's column names (functions allowed: see remitpov.formula)")
        if name not in self.variables:
            self.variables.append(name)

    def visit(self, node):  # noqa: C901 - one dispatch over the allowed node types
        if isinstance(node, ast.Expression):
            return self.visit(node.body)
        if isinstance(node, ast.Constant):
            if isinstance(node.value, (int, float, str, bool)) or node.value is None:
                return
            raise self.refuse(repr(node.value), "the constant")
        if isinstance(node, ast.Name):
            return self.variable(node.id)
        if isinstance(node, ast.BinOp) and isinstance(node.op, _BINOPS):
            self.visit(node.left)
            return self.visit(node.right)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, _UNARY):
            return self.visit(node.operand)
        if isinstance(node, ast.BoolOp):
            for v in node.values:
                self.visit(v)
            return
        if isinstance(node, ast.Compare) and all(isinstance(o, _COMPARE) for o in node.ops):
            self.visit(node.left)
            for c in node.comparators:
                self.visit(c)
            return
        if isinstance(node, (ast.List, ast.Tuple, ast.Set)):
            for e in node.elts:
                self.visit(e)
            return
        if isinstance(node, ast.Call):
            name = _dotted(node.func)
            if not _is_allowed_function(name):
                raise self.refuse(name or ast.unparse(node.func), "the function")
            for a in node.args:
                if isinstance(a, ast.Starred):
                    raise self.refuse("*" + ast.unparse(a.value), "the argument")
                self.visit(a)
            for k in node.keywords:
                if k.arg is None or k.arg.startswith("_"):
                    raise self.refuse(ast.unparse(k) if k.arg else "**" + ast.unparse(k.value), "the argument")
                self.visit(k.value)
            return
        if isinstance(node, ast.Attribute):
            name = _dotted(node)
            if name is not None and self.columns is not None and name in self.columns:
                return self.variable(name)  # a column whose name has a dot
            if name is not None and name.startswith("np.") and name[3:] in _NUMPY_CONSTANTS:
                return
            raise self.refuse(name or ast.unparse(node), "the attribute")
        token = ast.unparse(node) if hasattr(ast, "unparse") else type(node).__name__
        raise self.refuse(token, "the expression")


_BACKTICK = re.compile(r"`([^`]*)`")


def _to_python(formula: str) -> tuple[str, dict[str, str]]:
    """Rewrite formula syntax as a Python expression with the same tokens.

    Backtick-quoted names become placeholder names; ``~`` becomes ``<`` (a comparison) and
    ``:`` becomes ``@`` (a binary operator), so ``ast`` can parse the formula; the rewrite is
    only used for checking, never evaluated.
    """
    quoted = {}

    def q(m):
        key = f"_remitpov_quoted_{len(quoted)}"
        quoted[key] = m.group(1)
        return key

    text = _BACKTICK.sub(q, formula).replace("~", " < ").replace(":", " @ ")
    if text.strip().startswith("<"):
        text = "0 " + text.strip()
    return text, quoted


def check_formula(formula: str, columns: Iterable[str] | None = None, *, what: str = "formula") -> list[str]:
    """Refuse a formula that uses anything but columns, arithmetic and allowed functions.

    Parameters
    ----------
    formula : str
        A formulaic formula (``"y ~ x + np.log(z)"``), a right-hand side (``"x + C(g)"`` or
        ``"~ x"``) or a linearmodels IV formula (``"y ~ 1 + x + [d ~ z1 + z2]"``).
    columns : iterable of str, optional
        The data's columns. When given, every variable must be one of them; when omitted
        (a spec checked before the data are loaded) only the functions and syntax are checked.
    what : str
        How to name the formula in messages (e.g. ``"survey[0].counterfactual.income_formula"``).

    Returns
    -------
    list of str
        The variables the formula uses, in order of first appearance.

    Raises
    ------
    InputError
        Naming the refused token (function, attribute, expression) or the unknown variable.
    """
    if not isinstance(formula, str):
        raise InputError(f"{what}: expected a formula string, got {type(formula).__name__} {formula!r}")
    text, quoted = _to_python(formula)
    try:
        tree = ast.parse(text, mode="eval")
    except SyntaxError as e:
        raise InputError(f"{what} {formula!r}: cannot parse it as a formula ({e.msg}). Fix: write e.g. "
                         "'y ~ x1 + np.log(x2) + C(group)'") from None
    walker = _Walker(formula, columns, quoted)
    try:
        walker.visit(tree)
    except InputError as e:
        if what != "formula":
            raise InputError(f"{what}: {e}") from None
        raise
    return walker.variables


def formula_variables(formula: str) -> list[str]:
    """The variables of a (checked) formula, without a column check."""
    return check_formula(formula)
