"""Auxiliary variables for FIML: Graham's (2003) saturated-correlates model, as ``semTools::auxiliary()``.

FIML is unbiased when the data are missing at random *given the variables in
the model*. A variable that predicts missingness (or the missing values) but
does not belong in the model can still be used, without changing the model's
meaning or its degrees of freedom, by adding it as an *auxiliary* variable:

* the auxiliaries get free means and variances and are correlated with each
  other and with every observed variable of the model - with the residuals of
  endogenous observed variables (indicators, outcomes) and with exogenous
  observed variables, which become random (``fixed.x = FALSE``, as semTools
  requires);
* the baseline (independence) model of CFI / TLI / NFI ... keeps the
  auxiliaries saturated in the same way (their means, (co)variances and
  covariances with every model variable free), so that only the model's own
  variables are made uncorrelated.

Each auxiliary adds as many free parameters as sample moments, so ``df`` and
the baseline ``df`` equal those of the model without auxiliaries, while the
estimates use the auxiliaries' information about the missing values.

Matched to semTools 0.5-6 ``auxiliary(model, data, aux, fun)`` on lavaan
0.6.14 (lavaan 0.6.14 itself has no ``auxiliary`` option). As there, the
saturated-correlates rows stay in the parameter table (lavaan's
``parameterEstimates()`` of the semTools fit lists them); they are the rows
whose ``lhs`` or ``rhs`` is an auxiliary, :func:`auxiliary_rows` finds them and
``FitResult.summary()`` prints them in a section of their own. One lavaan
0.6.14 detail is kept for comparability: the robust (FIML-corrected, Zhang &
Savalei) CFI / TLI take the baseline's correction terms from lavaan's plain
independence model of *all* observed variables, auxiliaries included, and only
the baseline ``df`` from the adjusted baseline - lavaan's
``lav_fit_fiml_corrected`` does not see semTools' baseline. ``cfi``, ``tli``,
``cfi.scaled`` and ``tli.scaled`` use the adjusted baseline throughout.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from analysis.sem.partable import ParTable, table_from_rows
from analysis.sem.syntax import VariableClasses
from smecore.errors import OptionError

#: Column of the parameter table that marks the saturated-correlates rows (1) of a fit with auxiliaries.
AUX_COLUMN = "auxiliary"


def check_auxiliary(auxiliary: Sequence[str] | str | None, *, missing: str,
                    model_variables: Sequence[str]) -> tuple[str, ...]:
    """Validate the ``auxiliary`` argument of :func:`analysis.sem.fit.fit`; returns the names as a tuple.

    Raises :class:`~smecore.errors.OptionError` when auxiliaries are given
    without ``missing="fiml"`` (they only make sense for FIML), when a name is
    repeated or empty, or when an auxiliary is a variable of the model.
    """
    if auxiliary is None:
        return ()
    aux = (auxiliary,) if isinstance(auxiliary, str) else tuple(auxiliary)
    if not aux:
        return ()
    if missing != "fiml":
        raise OptionError(f"auxiliary={list(aux)} needs missing='fiml': auxiliary variables (saturated correlates) "
                          f"carry information about missing values only under full-information ML; got "
                          f"missing={missing!r}")
    bad = [a for a in aux if not isinstance(a, str) or not a.strip()]
    if bad:
        raise OptionError(f"auxiliary must be a list of column names; got {list(aux)}")
    repeated = sorted({a for a in aux if aux.count(a) > 1})
    if repeated:
        raise OptionError(f"auxiliary variable(s) {repeated} named more than once")
    in_model = [a for a in aux if a in set(model_variables)]
    if in_model:
        raise OptionError(f"auxiliary variable(s) {in_model} are variables of the model; an auxiliary variable "
                          "must not appear in the model (it is already used by FIML there)")
    return aux


def _saturated_rows(aux: Sequence[str], ov: Sequence[str]) -> list[tuple[str, str, str]]:
    """semTools' ``satMod``: aux (co)variances (lower triangle, column by column), aux means, aux ~~ model ov."""
    rows = [(aux[j], "~~", aux[i]) for j in range(len(aux)) for i in range(j, len(aux))]  # as lavaanify writes them
    rows += [(a, "~1", "") for a in aux]
    rows += [(a, "~~", v) for v in ov for a in aux]
    return rows


def add_saturated_correlates(pt: ParTable, auxiliary: Sequence[str]) -> ParTable:
    """The parameter table of ``pt``'s model with ``auxiliary`` variables added as saturated correlates.

    Exogenous covariates become random (``fixed.x = FALSE``: their rows lose
    the ``exo`` flag and are estimated); the saturated-correlates rows of every
    group are appended (free, marked 1 in column :data:`AUX_COLUMN`) and
    numbered after the model's free parameters, as semTools does. The
    variables of the result are the model's observed variables followed by
    the auxiliaries, with no fixed covariates.
    """
    aux = tuple(auxiliary)
    t = pt.table.copy()
    v = pt.variables
    exo = t["exo"].to_numpy() == 1
    # fixed.x = FALSE: the covariates' (co)variances and means become free parameters; renumber in row order
    old = t["free"].to_numpy()
    number: dict[object, int] = {}
    free = np.zeros(len(t), dtype=int)
    for i in range(len(t)):
        key = int(old[i]) if old[i] > 0 else (("exo", i) if exo[i] else None)
        if key is None:
            continue
        free[i] = number.setdefault(key, len(number) + 1)
    t["free"] = free
    t["exo"] = 0
    t[AUX_COLUMN] = 0
    rows = _saturated_rows(aux, v.ov)
    sat = table_from_rows([(lhs, op, rhs, 1, 0, np.nan) for lhs, op, rhs in rows], pt.ngroups)
    sat["user"] = 1  # semTools adds them as user rows (lavaanify of its syntax)
    sat["free"] = np.where(sat["free"] > 0, sat["free"] + len(number), 0)
    sat["id"] = sat["id"] + len(t)
    sat["plabel"] = [f".p{i}." for i in sat["id"]]
    sat[AUX_COLUMN] = 1
    table = pd.concat([t, sat[t.columns]], ignore_index=True)
    ov = tuple(v.ov) + aux
    variables = VariableClasses(lv=v.lv, ov=ov, ov_x=(), ov_nox=ov, lv_x=v.lv_x, ov_y=v.ov_y, lv_y=v.lv_y)
    return ParTable(table, variables, pt.ngroups, True, pt.definitions)


def auxiliary_baseline_partable(variables: VariableClasses, auxiliary: Sequence[str], ngroups: int) -> ParTable:
    """semTools' baseline model: the auxiliaries saturated (as in the model), the model's variables independent.

    ``variables`` are those of the model *with* auxiliaries (from
    :func:`add_saturated_correlates`); the model's own observed variables get
    free variances and means only.
    """
    aux = tuple(auxiliary)
    model_ov = [x for x in variables.ov if x not in aux]
    rows = [(lhs, op, rhs, 1, 0, np.nan) for lhs, op, rhs in _saturated_rows(aux, model_ov)]
    rows += [(x, "~~", x, 1, 0, np.nan) for x in model_ov] + [(x, "~1", "", 1, 0, np.nan) for x in model_ov]
    ov = tuple(variables.ov)
    v = VariableClasses(lv=(), ov=ov, ov_x=(), ov_nox=ov, lv_x=(), ov_y=(), lv_y=())
    return ParTable(table_from_rows(rows, ngroups), v, ngroups, True)


def auxiliary_rows(parameters: pd.DataFrame, auxiliary: Sequence[str]) -> np.ndarray:
    """Boolean mask of the saturated-correlates rows of a parameter table (``lhs`` or ``rhs`` an auxiliary)."""
    aux = list(auxiliary)
    if not aux:
        return np.zeros(len(parameters), dtype=bool)
    return (parameters["lhs"].isin(aux) | parameters["rhs"].isin(aux)).to_numpy()
