"""Analysis of survey responses: screening, scoring, measurement and structural models,
proposition tests and reports.

Every estimate lives in one tidy parameter table whose columns are fixed in
:mod:`analysis.sem.constants` (lavaan's ``parameterEstimates()`` layout).
"""
