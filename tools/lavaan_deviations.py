"""Largest deviation from lavaan per reference case: ``python tools/lavaan_deviations.py``.

Fits every case of ``tests/analysis/sem/test_fit_reference.py`` (the shared lavaan 0.6.14
reference set plus ``tests/results/lavaan_extra``) and prints, per case, the largest
absolute difference of ``est``, ``std.all`` and the fit indices (every measure of
lavaan's ``fitMeasures()`` with an absolute tolerance: cfi, rmsea, gfi, srmr_mplus, ...),
and the largest relative difference of ``se``, of the (scaled) chi-square (absolute where
lavaan's chi-square is 0, as for a saturated model) and of the other chi-square-like
measures (baseline chi-squares, fmin, Hoelter's CN). The tests assert the tolerances
(1e-3 absolute, 1% relative for SEs, 1e-3 relative for chi-square); this prints how far
inside them we are. Columns: est, se(rel), std.all, chisq(rel), other(rel), indices.

``--ordinal``: the ordinal (WLS family) cases of ``tests/analysis/sem/test_ordinal_reference.py``
instead, with the issue-14 columns: est, se(rel), std.all, chisq.scaled(rel), and the largest
absolute deviation of the scaled and robust CFI / TLI / RMSEA and of every other index.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.analysis.sem.test_fit_reference import (  # noqa: E402
    CASES,
    EXACT,
    LIKELIHOOD,
    RELATIVE,
    fit_case,
    merged,
    read_case,
)


def deviations(case: str) -> dict[str, float]:
    """Largest deviations of one case from lavaan (NaN where lavaan reports nothing)."""
    result = fit_case(case)
    m = merged(result, case)
    free = m["se_ref"] > 0
    ref = read_case(f"{case}_fit.csv").set_index("measure")["value"]
    fm = result.fit_measures

    def rel(name: str) -> float:
        if name not in ref.index or not np.isfinite(ref[name]):
            return float("nan")
        # a saturated model has chi-square 0 in both: the absolute difference is the measure then
        return abs(fm[name] - ref[name]) / (abs(ref[name]) if ref[name] != 0 else 1.0)

    absolute = [k for k in ref.index if k not in (*RELATIVE, *EXACT, *LIKELIHOOD)]
    indices = [abs(fm[k] - ref[k]) for k in absolute if np.isfinite(ref[k])]
    other = [rel(k) for k in RELATIVE if k not in ("chisq", "chisq.scaled")]
    return {
        "case": case,
        "est": float((m["est"] - m["est_ref"]).abs().max()),
        "se(rel)": float(((m.loc[free, "se"] - m.loc[free, "se_ref"]).abs() / m.loc[free, "se_ref"]).max()),
        "std.all": float((m["std.all"] - m["std.all_ref"]).abs().max()),
        "chisq(rel)": np.nanmax([rel("chisq"), rel("chisq.scaled")]),
        "other(rel)": np.nanmax(other) if not np.all(np.isnan(other)) else float("nan"),
        "indices": max(indices) if indices else float("nan"),
    }


def ordinal_deviations(case: str) -> dict[str, float]:
    """Largest deviations of one ordinal case from lavaan (issue 14's quantities)."""
    from tests.analysis.sem import test_ordinal_reference as ordref

    result = ordref.fit_case(case)
    m = ordref.merged(result, case)
    free = m["se_ref"] > 0
    ref = ordref.read_case(f"{case}_fit.csv").set_index("measure")["value"]
    fm = result.fit_measures
    key = [f"{i}.{v}" for i in ("cfi", "tli", "rmsea") for v in ("scaled", "robust")]
    chisq_like = set(ordref.CHISQ_RELATIVE) | set(ordref.EXACT)

    def dev(names):
        d = [abs(fm[k] - ref[k]) for k in names if k in ref.index and np.isfinite(ref[k])]
        return max(d) if d else float("nan")

    scaled = ref.get("chisq.scaled", float("nan"))
    return {
        "case": case,
        "est": float((m["est"] - m["est_ref"]).abs().max()),
        "se(rel)": float(((m.loc[free, "se"] - m.loc[free, "se_ref"]).abs() / m.loc[free, "se_ref"]).max()),
        "std.all": float((m["std.all"] - m["std.all_ref"]).abs().max()),
        "chisq.scaled(rel)": abs(fm["chisq.scaled"] - scaled) / scaled if np.isfinite(scaled) else float("nan"),
        "cfi/tli/rmsea sc+rob": dev(key),
        "other indices": dev([k for k in ref.index if k not in chisq_like and k not in key]),
    }


def main() -> None:
    if "--ordinal" in sys.argv[1:]:
        from tests.analysis.sem.test_ordinal_reference import CASES as ORDINAL_CASES

        table = pd.DataFrame([ordinal_deviations(case) for case in ORDINAL_CASES]).set_index("case")
        with pd.option_context("display.float_format", "{:.1e}".format, "display.width", 140):
            print(table.to_string())
        print(f"\nworst over all cases:\n{table.max().map('{:.1e}'.format).to_string()}")
        return
    table = pd.DataFrame([deviations(case) for case in CASES]).set_index("case")
    with pd.option_context("display.float_format", "{:.1e}".format, "display.width", 120):
        print(table.to_string())
    print(f"\nworst over all cases:\n{table.max().map('{:.1e}'.format).to_string()}")


if __name__ == "__main__":
    main()
