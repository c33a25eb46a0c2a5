"""Defined parameters (``name := expression``): safe evaluation and delta-method standard errors.

Expressions use lavaan's arithmetic (``+ - * / ^``, parentheses, numbers,
parameter labels, other defined names and the functions ``exp, log, sqrt,
abs``). They are parsed with :mod:`ast` and evaluated by walking the tree
with an explicit whitelist - never with ``eval`` - because model syntax is
user input.
"""

from __future__ import annotations

import ast
import math
import operator
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from analysis.sem.syntax import Definition
from smecore.errors import ModelSyntaxError

if TYPE_CHECKING:  # pragma: no cover - typing only
    import pandas as pd

_BINARY: dict[type, Callable[[float, float], float]] = {
    ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
    ast.Div: operator.truediv, ast.Pow: operator.pow,
}
_UNARY = {ast.USub: operator.neg, ast.UAdd: operator.pos}
_FUNCTIONS = {"exp": math.exp, "log": math.log, "sqrt": math.sqrt, "abs": abs}
# numbers first, so that "2.5" or "1e-3" are not read as names
_TOKEN = re.compile(r"(?P<num>(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)|(?P<name>[A-Za-z_.][A-Za-z0-9_.]*)")


@dataclass(frozen=True)
class CompiledDefinition:
    """One ``:=`` line, compiled against the model's labels."""

    name: str
    expression: str  # as written (lavaan's rhs)
    tree: ast.Expression
    names: tuple[str, ...]  # labels / defined names it uses, in order of first use


def _evaluate(node: ast.AST, env: Mapping[str, float]) -> float:
    if isinstance(node, ast.Expression):
        return _evaluate(node.body, env)
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)):
        return float(node.value)
    if isinstance(node, ast.Name):
        return env[node.id]
    if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
        return _BINARY[type(node.op)](_evaluate(node.left, env), _evaluate(node.right, env))
    if isinstance(node, ast.UnaryOp) and type(node.op) in _UNARY:
        return _UNARY[type(node.op)](_evaluate(node.operand, env))
    if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
            and node.func.id in _FUNCTIONS and len(node.args) == 1 and not node.keywords):
        return _FUNCTIONS[node.func.id](_evaluate(node.args[0], env))
    raise ValueError(type(node).__name__)


def _placeholder(m: re.Match, known: set[str], where: str, mapping: dict[str, str], used: list[str]) -> str:
    """Replace a label in an expression by a Python-safe placeholder (numbers and functions stay)."""
    tok = m.group(0)
    if m.group("num") is not None or tok in _FUNCTIONS:
        return tok
    if tok not in known:
        raise ModelSyntaxError(
            f"{where}: '{tok}' is not a parameter label; label the parameter in the model "
            f"(e.g. 'y ~ {tok}*x') or define it first")
    if tok not in mapping:
        mapping[tok] = f"_v{len(mapping)}"
        used.append(tok)
    return mapping[tok]


def compile_definitions(definitions: Sequence[Definition], labels: Sequence[str]) -> list[CompiledDefinition]:
    """Check and compile ``:=`` lines; each may use labels and earlier defined names."""
    known = set(labels)
    out = []
    for d in definitions:
        where = f"model line {d.line} ('{d.name} := {d.expression}')"
        if d.name in known:
            raise ModelSyntaxError(f"{where}: '{d.name}' is already a label or defined parameter; choose another name")
        mapping: dict[str, str] = {}
        used: list[str] = []
        text = _TOKEN.sub(lambda m, w=where, mp=mapping, u=used: _placeholder(m, known, w, mp, u),
                          d.expression.replace("^", "**"))
        try:
            tree = ast.parse(text, mode="eval")
            _evaluate(tree, {v: 1.0 for v in mapping.values()})
        except (SyntaxError, ValueError) as exc:
            raise ModelSyntaxError(f"{where}: cannot read the expression (allowed: numbers, labels, "
                                   f"+ - * / ^, parentheses, exp, log, sqrt, abs)") from exc
        except (ZeroDivisionError, OverflowError):
            pass  # the test values were unlucky; real values are checked at evaluation
        out.append(CompiledDefinition(d.name, d.expression.replace(" ", ""), tree, tuple(used)))
        known.add(d.name)
    return out


def evaluate_definitions(defs: Sequence[CompiledDefinition], values: Mapping[str, float]) -> dict[str, float]:
    """Values of the defined parameters given values for the labels (and earlier definitions)."""
    env_values = dict(values)
    out = {}
    for d in defs:
        env = {f"_v{i}": env_values[name] for i, name in enumerate(d.names)}
        try:
            val = _evaluate(d.tree, env)
        except (ZeroDivisionError, ValueError, OverflowError):
            val = float("nan")
        env_values[d.name] = val
        out[d.name] = val
    return out


def evaluate_batch(definition: CompiledDefinition, values: Mapping[str, np.ndarray | float]
                   ) -> tuple[np.ndarray, np.ndarray]:
    """``definition`` evaluated for many sets of values at once (an array per name, one entry per set;
    a float for a value all sets share). Returns ``(values, exact)``: ``exact`` is False where some
    intermediate result was not finite - evaluate those sets one by one with
    :func:`evaluate_definitions`, whose rules for division by zero, overflow and domain errors
    apply there. Elsewhere the numbers are those of :func:`evaluate_definitions`: ``+ - * /``,
    ``sqrt`` and ``abs`` are exactly rounded in numpy as in Python, ``^``, ``exp`` and ``log`` are
    computed value by value with Python's (numpy's vectorised ones may differ in the last digit)."""
    env = {f"_v{i}": values[name] for i, name in enumerate(definition.names)}
    n = max((np.size(v) for v in env.values()), default=1)
    exact = np.ones(n, dtype=bool)

    def one_by_one(fn, *args) -> np.ndarray:
        cols = [np.broadcast_to(np.asarray(a, dtype=float), (n,)) for a in args]
        out = np.empty(n)
        for i in range(n):
            try:
                out[i] = fn(*(float(c[i]) for c in cols))
            except (ZeroDivisionError, ValueError, OverflowError, TypeError):
                out[i] = np.nan
        return out

    def walk(node: ast.AST) -> np.ndarray | float:
        nonlocal exact
        if isinstance(node, ast.Expression):
            return walk(node.body)
        if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)):
            return float(node.value)
        if isinstance(node, ast.Name):
            return env[node.id]
        if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
            left, right = walk(node.left), walk(node.right)
            out = one_by_one(operator.pow, left, right) if isinstance(node.op, ast.Pow) else \
                _BINARY[type(node.op)](np.asarray(left, dtype=float), np.asarray(right, dtype=float))
        elif isinstance(node, ast.UnaryOp) and type(node.op) in _UNARY:
            out = _UNARY[type(node.op)](np.asarray(walk(node.operand), dtype=float))
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
              and node.func.id in _FUNCTIONS and len(node.args) == 1 and not node.keywords):
            arg = walk(node.args[0])
            name = node.func.id
            out = (np.sqrt(arg) if name == "sqrt" else np.abs(arg)) if name in ("sqrt", "abs") else \
                one_by_one(_FUNCTIONS[name], arg)
        else:
            raise ValueError(type(node).__name__)
        exact &= np.broadcast_to(np.isfinite(out), (n,))
        return out

    with np.errstate(all="ignore"):
        result = np.broadcast_to(np.asarray(walk(definition.tree), dtype=float), (n,)).copy()
    return result, exact


def definition_columns(table: pd.DataFrame, defs: Sequence[CompiledDefinition]) -> list[int]:
    """The free parameters (0-based) that definitions ``defs`` can read: those of every row of parameter
    table ``table`` whose label or plabel they name. A delta method of the definitions needs no
    other column (their Jacobian is exactly zero there)."""
    names = {n for d in defs for n in d.names}
    free = table["free"].to_numpy()
    named = [lab in names or plab in names for lab, plab in zip(table["label"].tolist(), table["plabel"].tolist())]
    return sorted({int(f) - 1 for f, hit in zip(free, named) if hit and f > 0})


def delta_method(function: Callable[[np.ndarray], np.ndarray], theta: np.ndarray,
                 vcov: np.ndarray, h: float = 1e-7, columns: Sequence[int] | None = None
                 ) -> tuple[np.ndarray, np.ndarray]:
    """Values and standard errors of ``function(theta)`` by the delta method.

    The Jacobian is taken by central differences (lavaan also differentiates
    ``:=`` functions numerically). ``columns``: the parameters the function can
    depend on (the Jacobian is zero in the others; default all). Returns ``(values, se)``.
    """
    value = np.asarray(function(theta), dtype=float)
    jac = np.zeros((len(value), len(theta)))
    for j in (range(len(theta)) if columns is None else columns):
        step = h * max(1.0, abs(theta[j]))
        up, down = theta.copy(), theta.copy()
        up[j] += step
        down[j] -= step
        jac[:, j] = (np.asarray(function(up)) - np.asarray(function(down))) / (2 * step)
    var = np.einsum("ij,jk,ik->i", jac, vcov, jac)
    return value, np.sqrt(np.maximum(var, 0.0))


def delta_method_batch(function: Callable[[np.ndarray], np.ndarray], theta: np.ndarray,
                       vcov: np.ndarray, h: float = 1e-7, columns: Sequence[int] | None = None
                       ) -> tuple[np.ndarray, np.ndarray]:
    """:func:`delta_method` for a ``function`` of many parameter vectors at once (``k x npar`` ->
    ``k x`` outputs): the ``2 npar`` shifted vectors go in one call. The same steps and differences,
    so the same numbers when ``function`` gives each row what a call with it alone would.
    ``columns``: as :func:`delta_method`'s, the parameters the function can depend on (only those
    are shifted; the Jacobian is zero in the others; default all)."""
    n = len(theta)
    cols = np.arange(n) if columns is None else np.asarray(columns, dtype=int)
    m = len(cols)
    steps = (h * np.maximum(1.0, np.abs(theta)))[cols]
    shifted = np.tile(theta, (2 * m + 1, 1))
    shifted[np.arange(m), cols] += steps
    shifted[m + np.arange(m), cols] -= steps
    out = np.asarray(function(shifted), dtype=float)
    value = out[2 * m]
    jac = np.zeros((out.shape[1], n))  # as delta_method lays it out
    jac[:, cols] = ((out[:m] - out[m:2 * m]) / (2 * steps)[:, None]).T
    var = np.einsum("ij,jk,ik->i", jac, vcov, jac)
    return value, np.sqrt(np.maximum(var, 0.0))
