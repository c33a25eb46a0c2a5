"""Names fixed once for the whole package: parameter-table columns, operators, fit measures.

The parameter table follows lavaan's ``parameterEstimates(standardized=TRUE, ci=TRUE)``
layout so that numbers can be compared with lavaan line by line.
"""

from __future__ import annotations

# --- parameter table -------------------------------------------------------
LHS, OP, RHS, GROUP, LABEL = "lhs", "op", "rhs", "group", "label"
EST, SE, Z, PVALUE = "est", "se", "z", "pvalue"
CI_LOWER, CI_UPPER = "ci.lower", "ci.upper"
STD_LV, STD_ALL = "std.lv", "std.all"

#: Columns of every parameter table, in this order. ``group`` is the 1-based
#: group index in order of first appearance in the data (as lavaan); it is 1
#: for single-group models. ``label`` is the user's label or "".
PARAMETER_COLUMNS: tuple[str, ...] = (
    LHS, OP, RHS, GROUP, LABEL, EST, SE, Z, PVALUE, CI_LOWER, CI_UPPER, STD_LV, STD_ALL,
)

# --- operators (lavaan syntax) ----------------------------------------------
MEASURED_BY = "=~"
REGRESSION = "~"
COVARIANCE = "~~"
INTERCEPT = "~1"
DEFINED = ":="
EQUALS = "=="
LESS_THAN = "<"
GREATER_THAN = ">"

# --- fit measures (lavaan's fitMeasures() names) -----------------------------
#: The measures reports and comparisons with lavaan show (every fit has all of
#: lavaan's fitMeasures(); these are the headline ones).
FIT_MEASURES: tuple[str, ...] = (
    "chisq", "df", "chisq.scaled", "cfi", "tli", "rmsea", "srmr", "cfi.robust", "tli.robust", "rmsea.robust",
)
#: The key of a parameter-table row.
ROW_KEY: tuple[str, ...] = (LHS, OP, RHS, GROUP)
