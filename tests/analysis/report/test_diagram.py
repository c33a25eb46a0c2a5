"""Path diagrams mark tested paths from the verdicts, not from two-sided unadjusted p-values."""

from __future__ import annotations

import pandas as pd

from analysis.report.diagram import LEGEND, decisions_from, path_diagram


def _params() -> pd.DataFrame:
    rows = [  # lhs, op, rhs, label, std.all, two-sided p
        ("G7", "~", "CIP", "b", 0.20, 0.001),   # significant two-sided ...
        ("G7", "~", "SIZE", "", 0.10, 0.0001),  # a control: no hypothesis tests it
        ("INN", "~", "LOCK", "c", -0.15, 0.03),
    ]
    return pd.DataFrame([{"lhs": a, "op": o, "rhs": b, "label": lab, "std.all": s, "pvalue": p, "group": 1}
                         for a, o, b, lab, s, p in rows])


def _edge(source: str, tail: str, head: str) -> str:
    return next(line for line in source.splitlines() if f"{tail} -> {head}" in line)


def test_tested_paths_follow_the_verdict_and_controls_stay_unmarked():
    tests = pd.DataFrame([{"hypothesis": "H7", "expression": "b", "decision": True},
                          {"hypothesis": "H12", "expression": "c", "decision": True}])
    # ... but H7 is not supported (e.g. wrong direction, or Holm-adjusted p above alpha)
    dec = decisions_from(_params(), tests, {"H7": "not supported", "H12": "supported"})
    assert dec == {("G7", "CIP"): [("H7", False)], ("INN", "LOCK"): [("H12", True)]}
    src = path_diagram(_params(), latent={"G7", "CIP", "INN", "LOCK"}, decisions=dec).source
    assert "H7 n.s." in _edge(src, "CIP", "G7") and "dashed" in _edge(src, "CIP", "G7")
    assert "H12" in _edge(src, "LOCK", "INN") and "solid" in _edge(src, "LOCK", "INN")
    control = _edge(src, "SIZE", "G7")
    assert "n.s." not in control and "dashed" not in control and "H" not in control.split("label=")[1]
    assert "one-sided" in LEGEND and "adjusted" in LEGEND


def test_a_difference_marks_both_paths():
    p = pd.DataFrame([{"lhs": "TK", "op": "~", "rhs": "VN", "label": "b_vn_tk", "std.all": 0.3, "pvalue": 0.0,
                       "group": 1},
                      {"lhs": "IK", "op": "~", "rhs": "VN", "label": "b_vn_ik", "std.all": 0.1, "pvalue": 0.2,
                       "group": 1}])
    tests = pd.DataFrame([{"hypothesis": "H2", "expression": "b_vn_tk - b_vn_ik", "decision": True}])
    dec = decisions_from(p, tests, {"H2": "supported"})
    assert dec == {("TK", "VN"): [("H2", True)], ("IK", "VN"): [("H2", True)]}
