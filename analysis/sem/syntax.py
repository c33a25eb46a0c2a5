"""Parse lavaan model syntax into a flat list of statements.

Why not semopy's parser: ``semopy.parser.parse_desc`` covers ``=~``, ``~`` and
``~~`` with a single numeric or label multiplier, but it has no defined
parameters (``:=``), no per-group modifiers (``c(a, b)*x``), no ``NA*``/
``start()``/``label()`` modifiers, no intercepts (``y ~ 1``) and it silently
overwrites a term written twice. Those are everyday lavaan syntax, so this
module reads the language itself (small, and tested on lavaan's own examples);
the result feeds :mod:`analysis.sem.partable`.

What goes in: a model string in lavaan syntax. What comes out: a
:class:`ParsedModel` holding

* ``statements`` - one :class:`Statement` per (lhs, op, rhs) with its modifier
  (fixed value, label, start value or free ``NA``; scalar or one per group);
* ``definitions`` - ``name := expression`` lines (expression kept as text and
  evaluated later by :mod:`analysis.sem.defined` with a restricted evaluator);
* ``constraints`` - ``lhs == rhs`` lines.

Errors raise :class:`~smecore.errors.ModelSyntaxError` naming the line.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from smecore.errors import ModelSyntaxError

#: Operators that relate variables; ``~1`` is produced for ``y ~ 1``.
VARIABLE_OPERATORS = ("=~", "~~", "~")
UNSUPPORTED_OPERATORS = {
    "<~": "formative (composite) indicators ('<~') are not supported; model the composite with '=~' or as an observed score",
}

_NAME = r"[A-Za-z_.][A-Za-z0-9_.]*"
_NUMBER = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
_NAME_RE = re.compile(rf"^{_NAME}$")
_NUMBER_RE = re.compile(rf"^{_NUMBER}$")


@dataclass(frozen=True)
class Modifier:
    """What a ``modifier*`` in front of a term says, per group or for all groups.

    Each field is either ``None`` (not given), a scalar, or a tuple with one
    entry per group (from ``c(...)``). In ``fixed`` a ``None`` entry inside a
    tuple means "free in this group" (``NA``).
    """

    fixed: float | None | tuple[float | None, ...] = None
    label: str | None | tuple[str | None, ...] = None
    start: float | None | tuple[float | None, ...] = None
    free: bool = False  # an explicit NA*: free this parameter (e.g. the first loading)

    def merge(self, other: Modifier) -> Modifier:
        """Combine two modifiers given for the same term (later ones win field by field)."""
        return Modifier(
            fixed=other.fixed if other.fixed is not None else self.fixed,
            label=other.label if other.label is not None else self.label,
            start=other.start if other.start is not None else self.start,
            free=self.free or other.free,
        )


@dataclass(frozen=True)
class Statement:
    """One relation ``lhs op rhs``; ``op`` is one of ``=~``, ``~``, ``~~``, ``~1``."""

    lhs: str
    op: str
    rhs: str
    modifier: Modifier = field(default_factory=Modifier)
    line: int = 0


@dataclass(frozen=True)
class Definition:
    """A defined parameter ``name := expression``."""

    name: str
    expression: str
    line: int = 0


@dataclass(frozen=True)
class Constraint:
    """An equality constraint ``lhs == rhs`` (each side a label or a number)."""

    lhs: str
    op: str
    rhs: str
    line: int = 0


@dataclass(frozen=True)
class ParsedModel:
    """The statements, definitions and constraints of one model string."""

    statements: tuple[Statement, ...]
    definitions: tuple[Definition, ...] = ()
    constraints: tuple[Constraint, ...] = ()

    def variables(self) -> list[str]:
        """Every variable name in the statements, in order of first appearance."""
        seen: dict[str, None] = {}
        for s in self.statements:
            seen.setdefault(s.lhs)
            if s.rhs:
                seen.setdefault(s.rhs)
        return list(seen)


# --- statement splitting ------------------------------------------------------

def _strip_comment(line: str) -> str:
    # lavaan accepts '#' and '!' comments; quoted strings only occur inside
    # label("...") where neither character is meaningful.
    out = []
    quote = None
    for ch in line:
        if quote:
            out.append(ch)
            if ch == quote:
                quote = None
            continue
        if ch in "\"'":
            quote = ch
        elif ch in "#!":
            break
        out.append(ch)
    return "".join(out)


_CONTINUES = ("+", "*", "=~", "~", "~~", ":=", "==", ",", "(")


def _statements(text: str) -> list[tuple[int, str]]:
    """Split model text into (line number, statement) pairs, joining continued lines."""
    pieces: list[tuple[int, str]] = []
    for number, raw in enumerate(text.replace("\r\n", "\n").split("\n"), start=1):
        for part in _strip_comment(raw).split(";"):
            part = part.strip()
            if part:
                pieces.append((number, part))
    joined: list[tuple[int, str]] = []
    for number, part in pieces:
        if joined and (joined[-1][1].endswith(_CONTINUES) or part.startswith(("+", "*"))):
            joined[-1] = (joined[-1][0], joined[-1][1] + " " + part)
        else:
            joined.append((number, part))
    return joined


def _find_operator(stmt: str) -> tuple[str, int]:
    """Return the main operator of a statement and its position (outside parentheses)."""
    depth = 0
    i = 0
    candidates = (":=", "==", "=~", "~~", "<~", "~*~", "~", "<", ">", "|")
    while i < len(stmt):
        ch = stmt[i]
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif depth == 0:
            for op in candidates:
                if stmt.startswith(op, i):
                    return op, i
        i += 1
    return "", -1


# --- modifiers -----------------------------------------------------------------

def _split_top(text: str, sep: str) -> list[str]:
    """Split on ``sep`` outside parentheses and quotes."""
    parts, depth, quote, cur = [], 0, None, []
    for ch in text:
        if quote:
            cur.append(ch)
            if ch == quote:
                quote = None
            continue
        if ch in "\"'":
            quote = ch
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == sep and depth == 0:
            parts.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    parts.append("".join(cur))
    return [p.strip() for p in parts]


def _unquote(s: str) -> str:
    s = s.strip()
    if len(s) >= 2 and s[0] == s[-1] and s[0] in "\"'":
        return s[1:-1]
    return s


def _scalar_value(token: str, where: str) -> tuple[str, float | str | None]:
    """Classify one modifier value: ('fixed', x), ('free', None) or ('label', name)."""
    token = token.strip()
    if token in ("NA", "na"):
        return "free", None
    if _NUMBER_RE.match(token):
        return "fixed", float(token)
    unq = _unquote(token)
    if unq != token or _NAME_RE.match(token):
        if not _NAME_RE.match(unq):
            raise ModelSyntaxError(f"{where}: '{token}' is not a valid label")
        return "label", unq
    raise ModelSyntaxError(f"{where}: cannot read modifier '{token}'; use a number, NA, a label or c(...)")


def _parse_modifier(text: str, where: str) -> Modifier:
    text = text.strip()
    m = re.fullmatch(r"(start|label|equal|c)\s*\((.*)\)", text, flags=re.S)
    if m:
        kind, inner = m.group(1), m.group(2)
        values = _split_top(inner, ",")
        if kind == "start":
            starts = []
            for v in values:
                k, x = _scalar_value(v, where)
                if k != "fixed":
                    raise ModelSyntaxError(f"{where}: start() needs numbers, got '{v}'")
                starts.append(x)
            return Modifier(start=starts[0] if len(starts) == 1 else tuple(starts))
        if kind in ("label", "equal"):
            labels = [_unquote(v) for v in values]
            for lab in labels:
                if not _NAME_RE.match(lab):
                    raise ModelSyntaxError(f"{where}: '{lab}' is not a valid label")
            return Modifier(label=labels[0] if len(labels) == 1 else tuple(labels))
        # c(...): one value per group, all of one kind (numbers/NA, or labels)
        kinds = [_scalar_value(v, where) for v in values]
        if all(k in ("fixed", "free") for k, _ in kinds):
            return Modifier(fixed=tuple(x for _, x in kinds),
                            free=any(k == "free" for k, _ in kinds))
        if all(k == "label" or (k == "free") for k, _ in kinds):
            return Modifier(label=tuple(x for _, x in kinds))
        raise ModelSyntaxError(f"{where}: c(...) mixes numbers and labels; write two modifiers, e.g. c(1, NA)*x + c(a1, a2)*x")
    kind, value = _scalar_value(text, where)
    if kind == "fixed":
        return Modifier(fixed=value)
    if kind == "free":
        return Modifier(free=True)
    return Modifier(label=value)


def _parse_term(term: str, where: str) -> tuple[str, Modifier]:
    """``[mod*]...[mod*]name`` (or ``mod?name`` for a start value) -> (name, modifier)."""
    if not term:
        raise ModelSyntaxError(f"{where}: empty term (check for a doubled '+')")
    parts = _split_top(term, "*")
    name = parts[-1]
    modifier = Modifier()
    if "?" in name and "(" not in name:
        start_text, name = name.split("?", 1)
        k, x = _scalar_value(start_text, where)
        if k != "fixed":
            raise ModelSyntaxError(f"{where}: '{start_text}?' needs a number")
        modifier = modifier.merge(Modifier(start=x))
        name = name.strip()
    for mod_text in parts[:-1]:
        modifier = modifier.merge(_parse_modifier(mod_text, where))
    if name == "1":
        return "1", modifier
    if not _NAME_RE.match(name):
        raise ModelSyntaxError(f"{where}: '{name}' is not a valid variable name")
    return name, modifier


# --- public --------------------------------------------------------------------

def parse_model(text: str, *, fragment: bool = False) -> ParsedModel:
    """Parse a lavaan model string.

    Parameters
    ----------
    text : str
        Model in lavaan syntax (``=~``, ``~``, ``~~``, ``~ 1``, ``|`` (thresholds of an ordinal
        item: ``u1 | t1 + a*t2``), ``~*~`` (its scale factor: ``u1 ~*~ c(1, NA)*u1``), ``:=``, ``==``;
        modifiers ``0.5*x``, ``NA*x``, ``a*x``, ``c(a, b)*x``, ``start(1)*x``,
        ``label("a")*x``, ``0.5?x``).

    fragment : bool
        Parse a part of a model (e.g. one parameter, ``"u1 | t2"``): no check that it has relations.

    Returns
    -------
    ParsedModel
        Statements in the order written (a term written twice is merged, as
        lavaan does), definitions and equality constraints.

    Raises
    ------
    ModelSyntaxError
        With the line number and what to change.
    """
    if not isinstance(text, str) or not text.strip():
        raise ModelSyntaxError("the model is empty: write at least one line such as 'F =~ x1 + x2 + x3'")
    merged: dict[tuple[str, str, str], Statement] = {}
    definitions: list[Definition] = []
    constraints: list[Constraint] = []
    for number, stmt in _statements(text):
        where = f"model line {number} ('{stmt}')"
        op, pos = _find_operator(stmt)
        if not op:
            raise ModelSyntaxError(f"{where}: no operator found; expected one of =~, ~, ~~, :=, ==")
        if op in UNSUPPORTED_OPERATORS:
            raise ModelSyntaxError(f"{where}: {UNSUPPORTED_OPERATORS[op]}")
        lhs_text, rhs_text = stmt[:pos].strip(), stmt[pos + len(op):].strip()
        if not lhs_text or not rhs_text:
            raise ModelSyntaxError(f"{where}: '{op}' needs something on both sides")
        if op == ":=":
            if not _NAME_RE.match(lhs_text):
                raise ModelSyntaxError(f"{where}: '{lhs_text}' is not a valid name for a defined parameter")
            definitions.append(Definition(lhs_text, rhs_text, number))
            continue
        if op in ("==", "<", ">"):
            token = stmt[max(pos - 1, 0):pos + 2].strip()
            if op != "==" and "=" in token:  # '=>', '<=', '>=', '=<': an arrow, not lavaan syntax
                raise ModelSyntaxError(
                    f"{where}: '{token}' is not a lavaan operator; write 'F =~ x1 + x2' for a factor measured "
                    "by items, 'y ~ x' for a regression, 'a ~~ b' for a covariance")
            if op != "==":
                raise ModelSyntaxError(f"{where}: inequality constraints are not supported; "
                                       "use equality constraints (a == b) or fix the parameter")
            constraints.append(Constraint(lhs_text, op, rhs_text, number))
            continue
        if op == "|" and not _NAME_RE.match(lhs_text):
            raise ModelSyntaxError(f"{where}: thresholds are written 'item | t1 + t2 + ...' with one observed "
                                   "variable on the left")
        lhs_names = _split_top(lhs_text, "+")
        for lhs in lhs_names:
            if not _NAME_RE.match(lhs):
                raise ModelSyntaxError(f"{where}: '{lhs}' is not a valid variable name")
        for term in _split_top(rhs_text, "+"):
            name, modifier = _parse_term(term, where)
            for lhs in lhs_names:
                if op == "~*~" and name != lhs:
                    raise ModelSyntaxError(f"{where}: a scale factor is written 'item ~*~ item' (the same item on "
                                           "both sides)")
                if op == "|" and not re.fullmatch(r"t[1-9][0-9]*", name):
                    raise ModelSyntaxError(f"{where}: '{name}' is not a threshold; thresholds are named t1, t2, "
                                           "... in category order ('item | a*t1 + t2')")
                if name == "1":
                    if op != "~":
                        raise ModelSyntaxError(f"{where}: '1' is only allowed as 'y ~ 1' (an intercept)")
                    key = (lhs, "~1", "")
                elif op == "=~" and name == lhs:
                    raise ModelSyntaxError(f"{where}: '{lhs}' cannot be measured by itself")
                else:
                    key = (lhs, op, name)
                # lavaan treats y ~~ x and x ~~ y as the same parameter
                if op == "~~" and (name, "~~", lhs) in merged:
                    key = (name, "~~", lhs)
                if key in merged:
                    old = merged[key]
                    merged[key] = Statement(old.lhs, old.op, old.rhs, old.modifier.merge(modifier), old.line)
                else:
                    merged[key] = Statement(key[0], key[1], key[2], modifier, number)
    if not fragment and not any(op in ("=~", "~", "~~", "~1") for _, op, _ in merged):
        raise ModelSyntaxError("the model has no relations (=~, ~ or ~~); only definitions, constraints, thresholds "
                               "or scale factors were found")
    return ParsedModel(_reorder_covariances(tuple(merged.values())), tuple(definitions), tuple(constraints))


def _reorder_covariances(statements: tuple[Statement, ...]) -> tuple[Statement, ...]:
    """Write each covariance ``a ~~ b`` with the variable that comes first (latent variables, then
    observed ones, in order of appearance) on the left, as lavaan's ``lav_partable_covariance_reorder``
    does - so parameter tables join with lavaan's row for row."""
    v = classify_variables(statements)
    rank = {name: i for i, name in enumerate(list(v.lv) + list(v.ov))}
    return tuple(Statement(s.rhs, s.op, s.lhs, s.modifier, s.line)
                 if s.op == "~~" and s.lhs != s.rhs and rank.get(s.lhs, 0) > rank.get(s.rhs, 0) else s
                 for s in statements)


@dataclass(frozen=True)
class VariableClasses:
    """Variable names by role, each in lavaan's order (``lav_partable_vnames``)."""

    lv: tuple[str, ...]  # latent variables (lhs of =~), in order of appearance
    ov: tuple[str, ...]  # observed variables in the model
    ov_x: tuple[str, ...]  # exogenous observed covariates (fixed.x)
    ov_nox: tuple[str, ...]
    lv_x: tuple[str, ...]  # exogenous latent variables
    ov_y: tuple[str, ...]  # purely dependent observed variables
    lv_y: tuple[str, ...]  # purely dependent latent variables


def classify_variables(statements: Sequence[Statement]) -> VariableClasses:
    """Sort the model's variables into lavaan's roles (see ``lav_partable_vnames``)."""
    def uniq(xs):
        return list(dict.fromkeys(xs))

    lv = uniq(s.lhs for s in statements if s.op == "=~")
    v_ind = uniq(s.rhs for s in statements if s.op == "=~")
    eqs_y = uniq(s.lhs for s in statements if s.op == "~")
    eqs_x = uniq(s.rhs for s in statements if s.op == "~")
    ov_ind = [v for v in v_ind if v not in lv]
    ov_y_all = [v for v in eqs_y if v not in lv and v not in ov_ind]
    ov_x = [v for v in eqs_x if v not in lv and v not in ov_ind and v not in ov_y_all]
    # covariates named in user ~~ or ~1 rows become random (lavaan warns; we follow)
    user_named = {s.lhs for s in statements if s.op in ("~~", "~1")} | {
        s.rhs for s in statements if s.op == "~~"}
    ov_x = [v for v in ov_x if v not in user_named]
    extra = uniq([s.lhs for s in statements if s.op in ("~~", "~1") and s.lhs not in lv]
                 + [s.rhs for s in statements if s.op == "~~" and s.rhs not in lv])
    ov_tmp = ov_ind + ov_y_all + [v for v in eqs_x if v not in lv and v not in ov_ind and v not in ov_y_all]
    ov = uniq(ov_tmp + [v for v in extra if v not in ov_tmp])
    ov_nox = [v for v in ov if v not in ov_x]
    lv_x = [v for v in lv if v not in v_ind and v not in eqs_y]
    ov_y = [v for v in ov if v in eqs_y and v not in v_ind and v not in eqs_x and v not in lv]
    lv_y = [v for v in lv if v in eqs_y and v not in v_ind and v not in eqs_x]
    return VariableClasses(tuple(lv), tuple(ov), tuple(ov_x), tuple(ov_nox), tuple(lv_x),
                           tuple(ov_y), tuple(lv_y))
