"""The pilot's outputs: tables as CSV, the thresholds used, provenance, ``pilot.html`` and ``pilot.md``.

The HTML report is self-contained (inline SVG item distributions from
:mod:`analysis.report.plots`, no script, no external resource) and every
text passes jinja2's autoescaping; the markdown report escapes ``|``. Same
data and thresholds give byte-identical files.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pandas as pd
from jinja2 import Environment, PackageLoader, select_autoescape

from analysis.pilot.pilot import PilotResult
from analysis.report.plots import item_distributions
from analysis.report.render import fmt
from smecore.csvsafe import write_csv
from smecore.files import write_text
from smecore.jsonio import dumps
from smecore.provenance import package_versions

#: Columns of the per-module item table of the report: (heading, column, digits or "%").
ITEM_TABLE = (("Item", "item", None), ("R", "reverse", None), ("Asked", "asked", 0), ("Answered", "answered", 0),
              ("Missing", "missing.share", "%"), ("Mean", "mean", 2), ("SD", "sd", 2), ("Skew", "skew", 2),
              ("Kurtosis", "kurtosis", 2), ("Floor", "floor", "%"), ("Ceiling", "ceiling", "%"),
              ("r (item-rest)", "r.drop", 2), ("Alpha if deleted", "alpha.if.deleted", 2),
              ("EFA factor", "efa.factor", None), ("Loading", "efa.loading", 2), ("Largest other", "efa.cross", 2),
              ("Action", "action", None), ("Reasons", "reasons", None))


def _cell(value, digits) -> str:
    if digits == "%":
        return "" if value is None or not np.isfinite(value) else f"{value:.0%}"
    if isinstance(value, (bool, np.bool_)):
        return "R" if value else ""
    if digits is None:
        return "" if value is None or (isinstance(value, float) and np.isnan(value)) else str(value)
    return fmt(value, digits)


def context(result: PilotResult) -> dict:
    """Everything the templates show, as strings."""
    th = result.thresholds
    items = result.items
    modules = []
    for m in result.modules.to_dict("records"):
        mid = m["module"]
        its = items[items["module"] == mid]
        cons = result.constructs[result.constructs["module"] == mid]
        lam = result.loadings[result.loadings["module"] == mid] if len(result.loadings) else pd.DataFrame()
        factors = [c for c in lam.columns if c.startswith("F") and lam[c].notna().any()] if len(lam) else []
        loadings = [{"item": r["item"], "construct": r["construct"], "reverse": "R" if r["reverse"] else "",
                     "values": [{"text": fmt(r[f], 2), "strong": abs(r[f]) >= th.loading,
                                 "cross": th.cross_loading <= abs(r[f]) < th.loading} for f in factors]}
                    for r in lam.to_dict("records")]
        scale_items = list(its.loc[its["construct"].isin(cons["construct"]), "item"])
        modules.append({
            "id": mid, "anchor": mid.lower(), "rows": int(m["rows"]), "n_items": int(m["items"]),
            "constructs_n": int(m["constructs"]),
            "pc": fmt(m["factors.parallel.pc"], 0) if np.isfinite(m["factors.parallel.pc"]) else "",
            "fa": fmt(m["factors.parallel.fa"], 0) if np.isfinite(m["factors.parallel.fa"]) else "",
            "extracted": fmt(m["factors.extracted"], 0) if np.isfinite(m["factors.extracted"]) else "",
            "note": m["note"] if isinstance(m["note"], str) else "",
            "constructs": [[r["construct"], str(r["items"]), str(r["n.complete"]), fmt(r["alpha"], 2),
                            fmt(r["omega"], 2), str(r["items.after"]), fmt(r["alpha.after"], 2), r["cut"],
                            r["note"] if isinstance(r["note"], str) else ""]
                           for r in cons.to_dict("records")],
            "low": [r["construct"] for r in cons.to_dict("records")
                    if np.isfinite(r["alpha"]) and r["alpha"] < th.alpha_min],
            "item_rows": [{"css": "cut" if r["action"] == "cut" else ("flag" if r["action"] else ""),
                           "cells": [_cell(r[c], d) for _, c, d in ITEM_TABLE]} for r in its.to_dict("records")],
            "factors": factors, "loadings": loadings,
            "distributions": item_distributions(result.screening.kept, scale_items,
                                                title=f"Answers, module {mid}") if scale_items else "",
        })
    cuts = result.suggested_cuts
    t = result.times
    o = result.options
    return {
        "title": "Pilot study: which items to keep before fielding",
        "source": o["source"], "rows_read": o["rows.read"], "rows_kept": o["rows.kept"],
        "modules_list": ", ".join(m for m in o["modules"] if m != "M0"),
        "cuts": [[r["module"], r["construct"], r["item"], r["reasons"]] for r in cuts.to_dict("records")],
        "kept_flagged": [[r["module"], r["construct"], r["item"], r["action"], r["reasons"]]
                         for r in result.cuts[result.cuts["action"] != "cut"].to_dict("records")],
        "times": [[r["measure"], f"{r['before']:.1f}", f"{r['after']:.1f}", r["basis"]] for r in t.to_dict("records")],
        "pages": [[r["page"], str(r["items"]), str(r["timed"]), fmt(r["median.seconds"], 0),
                   fmt(r["seconds.per.item"], 1)] for r in result.pages.to_dict("records")],
        "thresholds": [[r["name"], str(r["value"]), r["source"]] for r in th.table()],
        "screening": [[r["rule"], str(int(r["excluded"])), str(int(r["flagged"]))]
                      for r in result.screening.summary().to_dict("records")],
        "modules": modules, "item_headings": [h for h, _, _ in ITEM_TABLE],
        "loading_threshold": f"{th.loading:.2f}", "cross_threshold": f"{th.cross_loading:.2f}",
        "min_items": th.min_items, "cut_rules": ", ".join(th.cut_rules),
        "provenance": ", ".join(f"{k} {v}" for k, v in package_versions().items()),
    }


def _env(html: bool) -> Environment:
    if html:
        return Environment(loader=PackageLoader("analysis.pilot", "templates"),
                           autoescape=select_autoescape(["html", "j2"], default=True))
    env = Environment(loader=PackageLoader("analysis.pilot", "templates"), autoescape=False, trim_blocks=True,
                      keep_trailing_newline=True)
    env.filters["md"] = lambda s: str(s).replace("|", "\\|").replace("\n", " ")
    return env


def render_html(result: PilotResult) -> str:
    """``pilot.html`` (template ``pilot.html.j2``)."""
    return _env(True).get_template("pilot.html.j2").render(**context(result))


def render_markdown(result: PilotResult) -> str:
    """``pilot.md`` (template ``pilot.md.j2``; the same context as the HTML report)."""
    return _env(False).get_template("pilot.md.j2").render(**context(result))


def write_pilot(result: PilotResult, out: str | Path, input_path: str | Path | None = None) -> list[Path]:
    """Write the pilot's tables, the thresholds used, provenance and the two reports into ``out``.

    Files: ``pilot_items.csv``, ``pilot_distributions.csv``, ``pilot_constructs.csv``, ``pilot_modules.csv``,
    ``pilot_loadings.csv``, ``pilot_parallel.csv``, ``pilot_cuts.csv`` (every flagged item, its action and
    reasons), ``pilot_times.csv``, ``pilot_pages.csv`` (with page timers), ``excluded.csv`` (screening log),
    ``thresholds.yaml`` (read back by ``smesurvey pilot --thresholds``), ``provenance.json``, ``pilot.md``
    and ``pilot.html``.
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    written = [write_csv(frame, out / name) for frame, name in (
        (result.items, "pilot_items.csv"), (result.distributions, "pilot_distributions.csv"),
        (result.constructs, "pilot_constructs.csv"), (result.modules, "pilot_modules.csv"),
        (result.loadings, "pilot_loadings.csv"), (result.parallel, "pilot_parallel.csv"),
        (result.cuts, "pilot_cuts.csv"), (result.times, "pilot_times.csv"),
        (result.screening.log, "excluded.csv"))]
    if len(result.pages):
        written.append(write_csv(result.pages, out / "pilot_pages.csv"))
    written.append(write_text(out / "thresholds.yaml", result.thresholds.as_yaml()))
    prov = {"command": "smesurvey pilot", **result.options, "versions": package_versions()}
    if input_path is not None and Path(input_path).is_file():
        prov["input_sha256"] = hashlib.sha256(Path(input_path).read_bytes()).hexdigest()
    written.append(write_text(out / "provenance.json", dumps(prov)))
    written.append(write_text(out / "pilot.md", render_markdown(result)))
    written.append(write_text(out / "pilot.html", render_html(result)))
    return written
