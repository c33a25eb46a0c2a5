"""The parameter table: one row per model parameter, built with lavaan's defaults.

Like lavaan's ``lavaanify()``, this turns parsed syntax into the table that
everything else reads: the model matrices (:mod:`analysis.sem.ram`), the
estimates, the standard errors and every printed output. The defaults are
those of lavaan's ``sem()``/``cfa()`` (lavaan 0.6.14, ``lav_partable_flat``):

* the first loading of each latent variable fixed to 1 (``auto.fix.first``;
  with ``std_lv=True`` the latent variances are fixed to 1 instead);
* residual variances of observed and latent variables free (``auto.var``);
* covariances among exogenous latent variables free (``auto.cov.lv.x``) and
  among purely dependent variables free (``auto.cov.y``);
* exogenous observed covariates fixed at their sample (co)variances and means
  (``fixed.x=TRUE``; flagged ``exo``);
* with a mean structure, observed intercepts free and latent means fixed to 0,
  except in groups 2.. when intercepts are held equal (``int.lv.free=FALSE``).

Rows come in lavaan's order: the user's statements, then the defaults, the
whole block repeated for each group. ``free`` numbers the free parameters
from 1 (0 = fixed); rows that share a label, or are held equal across groups
by ``group_equal``, share one number, so equality constraints are a
reparametrisation and ``npar`` counts each constrained set once.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from itertools import combinations

import numpy as np
import pandas as pd

from analysis.sem.syntax import (  # noqa: F401 - re-exported
    ParsedModel,
    Statement,
    VariableClasses,
    classify_variables,
    parse_model,
)
from smecore.errors import IdentificationError, ModelSyntaxError

#: group_equal keywords (lavaan's ``group.equal``) and what they hold equal.
GROUP_EQUAL_CHOICES = (
    "loadings", "intercepts", "means", "residuals", "residual.covariances",
    "lv.variances", "lv.covariances", "regressions", "thresholds",
)
#: lavaan's ``parameterization`` of models with ordinal indicators
PARAMETERIZATIONS = ("delta", "theta")


@dataclass(frozen=True)
class ParTable:
    """The parameter table and what it was built from.

    ``table`` columns: ``id, lhs, op, rhs, user, group, free, ustart, label,
    plabel, exo``. ``free`` > 0 is the index (1-based) of the free parameter;
    ``ustart`` holds fixed values (NaN where the value comes from the data, for
    ``exo`` rows, or where the row is free).
    """

    table: pd.DataFrame
    variables: VariableClasses
    ngroups: int
    meanstructure: bool
    definitions: tuple = ()

    @cached_property
    def npar(self) -> int:
        """Number of free parameters (each equality-constrained set counted once)."""
        free = self.table["free"].to_numpy()
        return int(free.max()) if (free > 0).any() else 0


def _per_group(value, g: int, ngroups: int, what: str, stmt: Statement):
    if isinstance(value, tuple):
        if len(value) != ngroups:
            raise ModelSyntaxError(
                f"model line {stmt.line}: c(...) for '{stmt.lhs} {stmt.op} {stmt.rhs}' has "
                f"{len(value)} {what}s but the data have {ngroups} group(s); give one per group")
        return value[g]
    return value


def build_partable(
    model: ParsedModel,
    ngroups: int = 1,
    *,
    meanstructure: bool = False,
    std_lv: bool = False,
    group_equal: Sequence[str] = (),
    group_partial: Sequence[str] = (),
    int_ov_free: bool = True,
    int_lv_free: bool = False,
    ordered: Mapping[str, int] | None = None,
    parameterization: str = "delta",
) -> ParTable:
    """Build the full parameter table for ``model`` with lavaan's ``sem()`` defaults.

    Parameters
    ----------
    model : ParsedModel
        From :func:`analysis.sem.syntax.parse_model`.
    ngroups : int
        Number of groups (the block of rows is repeated per group).
    meanstructure : bool
        Add intercepts / means (forced on when the syntax has ``~ 1`` rows).
    std_lv : bool
        Identify latent variables by fixing their variances to 1 instead of
        their first loadings.
    group_equal : sequence of str
        Parameter types held equal across groups, from
        :data:`GROUP_EQUAL_CHOICES` (lavaan's ``group.equal``).
    group_partial : sequence of str
        Parameters exempted from ``group_equal``, in lavaan syntax (``"visual =~ x2"``,
        ``"x3 ~ 1"``, ``"x3~1"``; read with the model parser). An entry that names
        no parameter of the model raises :class:`ModelSyntaxError`.
    int_ov_free : bool
        With a mean structure, intercepts of observed variables free (lavaan's
        ``int.ov.free``: ``True`` for ``cfa()``/``sem()``, ``False`` for ``growth()``,
        which fixes them to 0). Covariates' means come from the data either way.
    int_lv_free : bool
        With a mean structure, latent means / intercepts free in every group
        (lavaan's ``int.lv.free``: ``False`` for ``cfa()``/``sem()``, ``True`` for
        ``growth()``). When ``False`` they are fixed to 0, except in groups 2..
        when intercepts (or thresholds) are held equal.
    ordered : mapping of str to int, optional
        Ordinal indicators and their number of thresholds (categories - 1): lavaan's
        ``ordered=`` with its defaults (``lav_partable_flat``): threshold rows ``x | t1, t2, ...``
        (free) before the variances, a mean structure with the ordinal items' intercepts fixed to
        0, their residual variances fixed (to 1; in the delta parameterisation computed from the
        model, so that the latent responses have unit variance) and scale factors ``x ~*~ x``
        fixed to 1 (before the intercepts). In groups 2.. with ``"thresholds"`` in
        ``group_equal`` the scale factors (``delta``) or the residual variances (``theta``) are
        freed, and so are the latent means unless ``"means"`` is held equal too.
    parameterization : {"delta", "theta"}
        lavaan's parameterisation of the latent responses of ordinal items.

    Returns
    -------
    ParTable
    """
    if isinstance(group_partial, str):
        group_partial = [group_partial]
    bad = [g for g in group_equal if g not in GROUP_EQUAL_CHOICES]
    if bad:
        raise ModelSyntaxError(
            f"group_equal must be chosen from {list(GROUP_EQUAL_CHOICES)}; got {bad}")
    statements = model.statements
    if any(s.op == "~1" for s in statements):
        meanstructure = True
    ordered = dict(ordered or {})
    if ordered:
        meanstructure = True  # lavaan: categorical models always have a mean structure
    if parameterization not in PARAMETERIZATIONS:
        raise ModelSyntaxError(f"parameterization must be one of {list(PARAMETERIZATIONS)}; got {parameterization!r}")
    v = classify_variables(statements)
    lv, ov = list(v.lv), list(v.ov)
    ov_ord = [x for x in ov if x in ordered and x not in v.ov_x]

    # 1. user rows, 2. default rows (lav_partable_flat order)
    user_rows = [(s.lhs, s.op, s.rhs) for s in statements]
    defaults: list[tuple[str, str, str]] = []
    defaults += [(x, "|", f"t{k}") for x in ov_ord for k in range(1, ordered[x] + 1)]
    defaults += [(x, "~~", x) for x in v.ov_nox] + [(x, "~~", x) for x in lv]
    defaults += list(((a, "~~", b) for a, b in combinations(v.lv_x, 2)))
    defaults += list(((a, "~~", b) for a, b in combinations(list(v.lv_y) + list(v.ov_y), 2)))
    nx = len(v.ov_x)
    for j in range(nx):  # lower triangle, column by column (as lavaan)
        for i in range(j, nx):
            defaults.append((v.ov_x[j], "~~", v.ov_x[i]))
    defaults += [(x, "~*~", x) for x in ov_ord]
    if meanstructure:
        defaults += [(x, "~1", "") for x in ov] + [(x, "~1", "") for x in lv]
    user_keys = set(user_rows) | {(r, o, lhs) for lhs, o, r in user_rows if o == "~~"}
    defaults = [d for d in defaults if d not in user_keys]

    keys = user_rows + defaults
    user_set = set(user_rows)
    n1 = len(keys)
    n = n1 * ngroups
    lhs_a = np.array([k[0] for k in keys] * ngroups, dtype=object)
    op_a = np.array([k[1] for k in keys] * ngroups, dtype=object)
    rhs_a = np.array([k[2] for k in keys] * ngroups, dtype=object)
    user_a = np.tile(np.array([1 if k in user_set else 0 for k in keys], dtype=int), ngroups)
    grp_a = np.repeat(np.arange(1, ngroups + 1), n1)
    partial = _partial_keys(group_partial, set(keys)) if group_partial else set()  # checked even with one group
    free = np.ones(n, dtype=int)
    ustart = np.full(n, np.nan)
    exo = np.zeros(n, dtype=int)
    start = np.full(n, np.nan)
    label = np.array([""] * n, dtype=object)
    is_lv_lhs = np.isin(lhs_a, lv)

    # 3. defaults that fix things
    if std_lv:
        idx = (op_a == "~~") & is_lv_lhs & (lhs_a == rhs_a)
        ustart[idx], free[idx] = 1.0, 0
    else:
        for g in range(1, ngroups + 1):
            seen = set()
            for i in np.flatnonzero((op_a == "=~") & (grp_a == g)):
                if lhs_a[i] not in seen:
                    seen.add(lhs_a[i])
                    ustart[i], free[i] = 1.0, 0
    # single-indicator latent variables: residual variance of the indicator fixed to 0
    mm = [(s.lhs, s.rhs) for s in statements if s.op == "=~"]
    counts = pd.Series([a for a, _ in mm]).value_counts() if mm else pd.Series(dtype=int)
    ind_counts = pd.Series([b for _, b in mm]).value_counts() if mm else pd.Series(dtype=int)
    single = [b for a, b in mm if counts[a] == 1 and ind_counts[b] == 1 and b in ov]
    idx = (op_a == "~~") & np.isin(lhs_a, single) & (lhs_a == rhs_a) & (user_a == 0)
    ustart[idx], free[idx] = 0.0, 0
    if meanstructure and ov_ord:  # ordinal items: intercepts 0, residual variances and scale factors 1
        idx = (op_a == "~1") & np.isin(lhs_a, ov_ord) & (user_a == 0)
        ustart[idx], free[idx] = 0.0, 0
        idx = (((op_a == "~~") & (lhs_a == rhs_a)) | (op_a == "~*~")) & np.isin(lhs_a, ov_ord) & (user_a == 0)
        ustart[idx], free[idx] = 1.0, 0
        if ngroups > 1 and "thresholds" in group_equal:  # lav_partable_flat: identified by equal thresholds
            scale = (op_a == "~*~") if parameterization == "delta" else ((op_a == "~~") & (lhs_a == rhs_a))
            idx = scale & np.isin(lhs_a, ov_ord) & (grp_a > 1)
            ustart[idx], free[idx] = np.nan, 1
    if meanstructure and not int_ov_free:  # growth(): observed intercepts fixed to 0
        idx = (op_a == "~1") & np.isin(lhs_a, ov) & (user_a == 0)
        ustart[idx], free[idx] = 0.0, 0
    if meanstructure and not int_lv_free:
        idx = (op_a == "~1") & is_lv_lhs & (user_a == 0)
        ustart[idx], free[idx] = 0.0, 0
        if ngroups > 1 and ("intercepts" in group_equal or "thresholds" in group_equal) \
                and "means" not in group_equal:
            idx = (op_a == "~1") & is_lv_lhs & (user_a == 0) & (grp_a > 1)
            ustart[idx], free[idx] = np.nan, 1
    if std_lv and ngroups > 1 and "loadings" in group_equal and "lv.variances" not in group_equal:
        idx = (op_a == "~~") & is_lv_lhs & (lhs_a == rhs_a) & (user_a == 0) & (grp_a > 1)
        ustart[idx], free[idx] = np.nan, 1
    # fixed.x: covariates' (co)variances and means come from the data
    idx = (((op_a == "~~") & np.isin(lhs_a, v.ov_x) & np.isin(rhs_a, v.ov_x))
           | ((op_a == "~1") & np.isin(lhs_a, v.ov_x))) & (user_a == 0)
    ustart[idx], free[idx], exo[idx] = np.nan, 0, 1

    # 4. the user's modifiers
    by_key = {(s.lhs, s.op, s.rhs): s for s in statements}
    for i in range(n):
        s = by_key.get((lhs_a[i], op_a[i], rhs_a[i]))
        if s is None:
            continue
        g = grp_a[i] - 1
        m = s.modifier
        fixed = _per_group(m.fixed, g, ngroups, "value", s)
        if fixed is not None:
            ustart[i], free[i] = float(fixed), 0
        elif m.free or (isinstance(m.fixed, tuple) and fixed is None):
            ustart[i], free[i] = np.nan, 1
        lab = _per_group(m.label, g, ngroups, "label", s)
        if lab:
            label[i] = lab
        st = _per_group(m.start, g, ngroups, "start value", s)
        if st is not None:
            start[i] = float(st)

    # 5. equality: shared labels, group_equal, == constraints (union-find on rows)
    ids = np.arange(1, n + 1)
    plabel = np.array([f".p{i}." for i in ids], dtype=object)
    parent = list(range(n))

    def find(a):
        while parent[a] != a:
            parent[a] = parent[parent[a]]
            a = parent[a]
        return a

    def union(a, b):
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)

    by_label: dict[str, int] = {}
    for i in range(n):
        if label[i]:
            if label[i] in by_label:
                union(by_label[label[i]], i)
            else:
                by_label[label[i]] = i
    if ngroups > 1 and group_equal:
        is_ov_lhs = np.isin(lhs_a, ov)
        is_ov_rhs = np.isin(rhs_a, ov)
        is_lv_rhs = np.isin(rhs_a, lv)
        kinds = {
            "loadings": op_a == "=~",
            "intercepts": (op_a == "~1") & is_ov_lhs,
            "means": (op_a == "~1") & is_lv_lhs,
            "residuals": (op_a == "~~") & (lhs_a == rhs_a) & is_ov_lhs,
            "residual.covariances": (op_a == "~~") & (lhs_a != rhs_a) & is_ov_lhs & is_ov_rhs,
            "lv.variances": (op_a == "~~") & (lhs_a == rhs_a) & is_lv_lhs,
            "lv.covariances": (op_a == "~~") & (lhs_a != rhs_a) & is_lv_lhs & is_lv_rhs,
            "regressions": op_a == "~",
            "thresholds": op_a == "|",
        }
        user_label = label.copy()  # labels written by the user; group_equal does not override them
        first_of = {}
        for i in np.flatnonzero(grp_a == 1):
            first_of[(lhs_a[i], op_a[i], rhs_a[i])] = i
        for kind in group_equal:
            for i in np.flatnonzero(kinds[kind] & (grp_a > 1) & (free > 0) & (exo == 0)):
                key = (lhs_a[i], op_a[i], rhs_a[i])
                j = first_of.get(key)
                if j is None or free[j] == 0 or key in partial or user_label[i] or user_label[j]:
                    continue
                union(j, i)
                label[i] = label[j] = plabel[j]
    for c in model.constraints:
        _apply_constraint(c, by_label, union, ustart, free, label)

    # a constrained set that contains a fixed row is fixed at that value
    roots: dict[int, list[int]] = {}
    for i in range(n):
        roots.setdefault(find(i), []).append(i)
    for members in roots.values():
        fixed_members = [i for i in members if free[i] == 0 and exo[i] == 0]
        if fixed_members and len(members) > 1:
            value = ustart[fixed_members[0]]
            for i in members:
                free[i], ustart[i] = 0, value
    # number the free parameters, one number per constrained set, in row order
    number: dict[int, int] = {}
    free_idx = np.zeros(n, dtype=int)
    for i in range(n):
        if free[i] > 0:
            r = find(i)
            if r not in number:
                number[r] = len(number) + 1
            free_idx[i] = number[r]
    t = pd.DataFrame({"id": ids, "lhs": list(lhs_a), "op": list(op_a), "rhs": list(rhs_a), "group": grp_a,
                      "user": user_a, "free": free_idx, "ustart": ustart, "start": start, "label": list(label),
                      "plabel": list(plabel), "exo": exo})
    _check_scales(t, lv, std_lv)
    return ParTable(t, v, ngroups, meanstructure, tuple(model.definitions))


def _partial_keys(terms: Sequence[str], present: set[tuple[str, str, str]]) -> set[tuple[str, str, str]]:
    """The (lhs, op, rhs) keys that ``group_partial`` names, read with the model parser.

    Each entry is lavaan syntax for one or more parameters (``"x3 ~ 1"``, ``"x3~1"``,
    ``"visual =~ x2 + x3"``, ``"x1 ~~ x4"``; spaces and modifiers do not matter). An entry
    that cannot be parsed, or that names no parameter of the model, raises
    :class:`ModelSyntaxError` naming it - a silently ignored exception would fit a more
    constrained model than the one asked for.
    """
    keys: set[tuple[str, str, str]] = set()
    for term in terms:
        if not isinstance(term, str):
            raise ModelSyntaxError(f"group_partial entries must be strings such as 'visual =~ x2'; got {term!r}")
        try:
            parsed = parse_model(term, fragment=True)
        except ModelSyntaxError as exc:
            raise ModelSyntaxError(f"group_partial entry '{term}' cannot be read as lavaan syntax "
                                   f"('lhs op rhs', e.g. 'visual =~ x2' or 'x3 ~ 1'): {exc}") from None
        if parsed.definitions or parsed.constraints:
            raise ModelSyntaxError(f"group_partial entry '{term}' must name parameters ('lhs op rhs', e.g. "
                                   "'visual =~ x2' or 'x3 ~ 1'), not a definition or constraint")
        for s in parsed.statements:
            key = (s.lhs, s.op, s.rhs)
            if s.op == "~~" and key not in present:
                key = (s.rhs, s.op, s.lhs)
            if key not in present:
                shown = f"{s.lhs} ~ 1" if s.op == "~1" else f"{s.lhs} {s.op} {s.rhs}"
                raise ModelSyntaxError(
                    f"group_partial entry '{term}': '{shown}' is not a parameter of the model; write the "
                    "parameter as it appears in the parameter table (e.g. 'visual =~ x2', 'x3 ~ 1')")
            keys.add(key)
    return keys


def _apply_constraint(c, by_label, union, ustart, free, label) -> None:
    def side(text):
        text = text.strip()
        if text in by_label:
            return ("label", by_label[text])
        try:
            return ("number", float(text))
        except ValueError:
            raise ModelSyntaxError(
                f"model line {c.line}: constraint '{c.lhs} {c.op} {c.rhs}': '{text}' is neither a "
                "label defined in the model nor a number; only simple equalities (a == b, a == 0.5) "
                "are supported") from None

    left, right = side(c.lhs), side(c.rhs)
    if left[0] == "label" and right[0] == "label":
        union(left[1], right[1])
    elif left[0] == "number" and right[0] == "number":
        raise ModelSyntaxError(f"model line {c.line}: constraint '{c.lhs} == {c.rhs}' has no label")
    else:
        row = left[1] if left[0] == "label" else right[1]
        value = right[1] if left[0] == "label" else left[1]
        lab = label[row]
        for i in range(len(label)):
            if label[i] == lab:
                free[i], ustart[i] = 0, value


def _check_scales(t: pd.DataFrame, lv: list[str], std_lv: bool) -> None:
    """Every latent variable needs a scale: a fixed loading or a fixed variance - or, in a group,
    a loading held equal to one of the same factor in a group where it has a scale (as in
    metric-invariance models identified by fixing the variances in the first group only)."""
    lhs, op, rhs, grp = (t[c].to_numpy() for c in ("lhs", "op", "rhs", "group"))
    free = t["free"].to_numpy()
    fixed = free == 0
    loading = op == "=~"
    marker = loading & fixed & (t["ustart"].to_numpy() != 0)
    fixed_var = (op == "~~") & (lhs == rhs) & fixed
    scaled = set(zip(grp[marker], lhs[marker])) | set(zip(grp[fixed_var], lhs[fixed_var]))
    changed = True
    while changed:  # equal loadings carry a scale from group to group
        changed = False
        for f in lv:
            rows = loading & (lhs == f) & (free > 0)
            carried = {fr for g, fr in zip(grp[rows], free[rows]) if (g, f) in scaled}
            for g, fr in zip(grp[rows], free[rows]):
                if (g, f) not in scaled and fr in carried:
                    scaled.add((g, f))
                    changed = True
    for g in dict.fromkeys(grp):
        for f in lv:
            if (g, f) not in scaled:
                first = rhs[np.flatnonzero(loading & (grp == g) & (lhs == f))[0]]
                raise IdentificationError(
                    f"latent variable '{f}' (group {g}) has no scale: all its loadings and its "
                    f"variance are free. Fix one loading (e.g. '{f} =~ 1*{first} + ...'), "
                    f"or its variance ('{f} ~~ 1*{f}'), or fit with std_lv=True.")


def table_from_rows(rows: list[tuple[str, str, str, int, int, float]], ngroups: int) -> pd.DataFrame:
    """Table with lavaan's columns from ``(lhs, op, rhs, free_flag, exo, ustart)`` rows, repeated per group."""
    lhs, op, rhs, is_free, exo, ustart = (list(col) for col in zip(*rows)) if rows else ([],) * 6
    n1 = len(rows)
    n = n1 * ngroups
    is_free = np.tile(np.asarray(is_free, dtype=int), ngroups)
    free = np.zeros(n, dtype=int)
    k = np.flatnonzero(is_free == 1)
    free[k] = np.arange(1, len(k) + 1)
    ids = np.arange(1, n + 1)
    return pd.DataFrame({
        "id": ids, "lhs": lhs * ngroups, "op": op * ngroups, "rhs": rhs * ngroups, "user": np.zeros(n, dtype=int),
        "group": np.repeat(np.arange(1, ngroups + 1), n1), "free": free,
        "ustart": np.tile(np.asarray(ustart, dtype=float), ngroups), "start": np.full(n, np.nan),
        "label": [""] * n, "plabel": [f".p{i}." for i in ids], "exo": np.tile(np.asarray(exo, dtype=int), ngroups),
    })


def independence_partable(variables: VariableClasses, ngroups: int, meanstructure: bool) -> ParTable:
    """lavaan's baseline (independence) model: free variances (and means) of the observed variables.

    Exogenous covariates keep their (fixed, sample) covariance block, as in
    lavaan's ``lav_object_independence`` with ``fixed.x=TRUE``.
    """
    rows = [(x, "~~", x, 1, 0, np.nan) for x in variables.ov_nox]
    ox = variables.ov_x
    for j in range(len(ox)):
        for i in range(j, len(ox)):
            rows.append((ox[j], "~~", ox[i], 0, 1, np.nan))
    if meanstructure:
        rows += [(x, "~1", "", 0 if x in ox else 1, 1 if x in ox else 0, np.nan) for x in variables.ov]
    v = VariableClasses(lv=(), ov=variables.ov, ov_x=variables.ov_x, ov_nox=variables.ov_nox,
                        lv_x=(), ov_y=(), lv_y=())
    return ParTable(table_from_rows(rows, ngroups), v, ngroups, meanstructure)


def saturated_partable(ov: Sequence[str], meanstructure: bool) -> ParTable:
    """Unrestricted model of one group: free means (first) and the covariance matrix's lower
    triangle column by column - the order of lavaan's h1 information matrices."""
    ov = list(ov)
    rows = [(x, "~1", "", 1, 0, np.nan) for x in ov] if meanstructure else []
    for j in range(len(ov)):
        for i in range(j, len(ov)):
            rows.append((ov[j], "~~", ov[i], 1, 0, np.nan))
    v = VariableClasses(lv=(), ov=tuple(ov), ov_x=(), ov_nox=tuple(ov), lv_x=(), ov_y=(), lv_y=())
    return ParTable(table_from_rows(rows, 1), v, 1, meanstructure)
