"""Outputs of a power study: tables, power curves (PNG and SVG) and a self-contained ``power.html``.

Files written into OUT:

* ``power.csv`` - per world, hypothesis and N: power (share ``supported``; in the null world the
  false-positive rate) with its Monte Carlo SE and Wilson 95% bounds, the rate without the Holm
  step, ``contrary``, non-convergence, improper-solution (Heywood) and skipped rates, mean firms
  kept after screening and used by the model; ``FAMILY`` rows: all supported (theory) / any
  supported (null: the family-wise error rate);
* ``sample_size.csv`` - smallest N for 80% and 90% power with its interval;
* ``recovery.csv`` - bias, relative bias, RMSE, coverage (95% and simultaneous), SE ratio;
* ``replications.parquet`` - one row per replication, hypothesis and decision test;
* ``power_curves.png`` / ``.svg`` (and ``false_positives.png`` / ``.svg`` for the null world);
* ``power.html`` - everything above in one file, with the sample-size recommendation.
"""

from __future__ import annotations

import html
import io
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from analysis.power.summary import FAMILY, TARGETS  # noqa: E402
from smecore.csvsafe import write_csv  # noqa: E402
from smecore.jsonio import dumps  # noqa: E402
from smecore.provenance import package_versions  # noqa: E402

plt.rcParams["svg.hashsalt"] = "sme-intl-survey"
plt.rcParams["svg.fonttype"] = "none"


def _curves(power: pd.DataFrame, world: str, alpha: float = 0.05):
    p = power[(power["world"] == world)]
    hyps = [h for h in dict.fromkeys(p["hypothesis"]) if h != FAMILY] + ([FAMILY] if (p["hypothesis"] == FAMILY).any()
                                                                         else [])
    if not hyps:
        return None
    cols = min(4, len(hyps))
    rows = int(np.ceil(len(hyps) / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(2.6 * cols, 2.0 * rows + 0.4), sharex=True, sharey=True,
                             squeeze=False)
    for ax, hid in zip(axes.flat, hyps):
        g = p[p["hypothesis"] == hid].sort_values("n")
        ax.fill_between(g["n"], g["power.lower"], g["power.upper"], color="#9ecae1", alpha=0.6, lw=0)
        ax.plot(g["n"], g["power"], color="#08519c", marker="o", ms=2.5, lw=1.2)
        if world == "theory":
            for t, ls in zip(TARGETS, ("--", ":")):
                ax.axhline(t, color="#636363", ls=ls, lw=0.8)
        else:
            ax.axhline(alpha, color="#a50f15", ls="--", lw=0.8)
        title = {"theory": "all supported", "null": "any supported (FWER)"}[world] if hid == FAMILY else hid
        ax.set_title(title, fontsize=9)
        ax.set_ylim(0, 1 if world == "theory" else max(0.2, float(g["power.upper"].max()) * 1.1))
        ax.tick_params(labelsize=7)
    for ax in list(axes.flat)[len(hyps):]:
        ax.axis("off")
    label = "power (share supported)" if world == "theory" else "false-positive rate"
    fig.supxlabel("N (firms fielded)", fontsize=9)
    fig.supylabel(label, fontsize=9)
    fig.tight_layout()
    return fig


def write_plots(power: pd.DataFrame, out: Path, alpha: float = 0.05) -> tuple[list[Path], dict[str, str]]:
    """PNG and SVG curves per world; returns the paths and the SVG text (inlined in the HTML)."""
    paths, svgs = [], {}
    for world, stem in (("theory", "power_curves"), ("null", "false_positives")):
        fig = _curves(power, world, alpha)
        if fig is None:
            continue
        fig.savefig(out / f"{stem}.png", dpi=120, metadata={"Software": None})
        buf = io.StringIO()
        fig.savefig(buf, format="svg", metadata={"Date": None})
        plt.close(fig)
        text = buf.getvalue()
        (out / f"{stem}.svg").write_text(text, encoding="utf-8")
        svgs[world] = text[text.find("<svg"):]
        paths += [out / f"{stem}.png", out / f"{stem}.svg"]
    return paths, svgs


def _fmt(x, digits=3) -> str:
    if x is None or (isinstance(x, float) and not np.isfinite(x)):
        return "-"
    if isinstance(x, float):
        return f"{x:.{digits}f}"
    return html.escape(str(x))


def _table(frame: pd.DataFrame, columns: list[str], digits: dict | None = None) -> str:
    digits = digits or {}
    head = "".join(f"<th>{html.escape(c)}</th>" for c in columns)
    body = "".join("<tr>" + "".join(f"<td>{_fmt(r[c], digits.get(c, 3))}</td>" for c in columns) + "</tr>"
                   for _, r in frame.iterrows())
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _n(x) -> str:
    return "not reached" if not np.isfinite(x) else f"{x:,.0f}"


def render_html(result, svgs: dict[str, str]) -> str:
    """``power.html``: settings, recommendation, curves, tables (one file, no external resources)."""
    s = result.settings
    from analysis.power.replicate import context

    _, reg = context()
    study = result.study
    sizes = result.sample_sizes
    parts = ["<!doctype html><html><head><meta charset='utf-8'><title>Power study</title><style>"
             "body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;color:#222}"
             "table{border-collapse:collapse;font-size:0.85em;margin:0.5em 0 1.5em}"
             "td,th{border:1px solid #ccc;padding:2px 6px;text-align:right}th{background:#f0f0f0}"
             ".note{background:#fff8e1;border-left:4px solid #f0b400;padding:0.5em 1em}"
             "svg{max-width:100%;height:auto}</style></head><body>",
             "<h1>Sample size and power for H1-H16</h1>"]
    boot = ("the percentile bootstrap with " + f"{s.n_boot:,} resamples, as <code>analyze</code>") if s.n_boot else \
        (f"the <b>Monte Carlo CI</b> ({reg.monte_carlo:,} draws; semTools' monteCarloCI) instead of "
         f"<code>analyze</code>'s percentile bootstrap ({reg.bootstrap:,} resamples) - the two agree closely for "
         "indirect effects; <code>--bootstrap N</code> makes the power run exact")
    parts.append(
        f"<p>Each replication generates N firms' answers to the whole questionnaire in the "
        f"{' and '.join(s.worlds)} world (default realism knobs: missing answers, careless responders, "
        f"straight-liners), screens and scores them and tests the hypotheses with <code>analyze</code>'s code: "
        f"the registry's decision tests (MLR, FIML with the auxiliary SIZE), alpha = {reg.alpha} one-sided, "
        f"{reg.adjust.capitalize()} across the family of {len(s.hypotheses)} hypotheses "
        f"({', '.join(s.hypotheses)}). {s.reps:,} replications per N; seed {s.seed}.</p>"
        f"<p class='note'>Indirect effects (H6, H15) are decided by {boot}.</p>")
    if s.overrides:
        parts.append("<p class='note'>Theory-world paths set for this plan: "
                     + ", ".join(f"{html.escape(k)} = {v:g}" for k, v in s.overrides) + "</p>")
    if study:
        unreached = (f" Not reached within N = {study['max.n']:,}: {', '.join(study['unreached'])}."
                     if study["unreached"] else "")
        parts.append(
            f"<h2>Recommendation</h2><p>For 80% power on <b>each</b> hypothesis: <b>N = {_n(study['n.each'])}</b> "
            f"firms (limited by {study['limiting']}; upper end of its interval {_n(study['n.each.upper'])}). "
            f"For an 80% chance that <b>all</b> hypotheses are supported together: N = {_n(study['n.all'])}."
            f"{unreached} N counts firms fielded; screening and the cluster module's filter leave fewer "
            "(columns n.kept and n.used of power.csv).</p>")
        theory = sizes[sizes["world"] == "theory"]
        rows = []
        for hid, g in theory.groupby("hypothesis", sort=False):
            by = {r["target"]: r for r in g.to_dict("records")}
            rows.append({"hypothesis": hid, **{f"N {int(tg * 100)}%": f"{_n(by[tg]['n.required'])} "
                                                f"({_n(by[tg]['n.lower'])}-{_n(by[tg]['n.upper'])})" for tg in TARGETS}})
        parts.append("<p>Smallest N per hypothesis (interpolated; interval from the 95% Wilson bounds of the "
                     "power):</p>" + _table(pd.DataFrame(rows), ["hypothesis", *[f"N {int(t * 100)}%" for t in TARGETS]]))
    if "theory" in svgs:
        parts.append("<h2>Power curves</h2>" + svgs["theory"])
    if "null" in svgs:
        parts.append("<h2>Null world: false-positive rates</h2><p>Share of replications in which a hypothesis "
                     "whose effect is zero was declared supported (Holm across the family; the dashed line is "
                     f"alpha = {reg.alpha}).</p>" + svgs["null"])
    cols = ["world", "hypothesis", "n", "reps", "power", "mc.se", "power.unadjusted", "contrary", "nonconverged",
            "improper", "skipped", "n.kept", "n.used"]
    parts.append("<h2>Power and error rates</h2>" + _table(result.power, cols, {"n.kept": 0, "n.used": 0}))
    if len(result.recovery):
        parts.append("<h2>Recovery of the tested quantities</h2><p>Standardized estimates against the population "
                     "values; coverage of the 95% interval and of the simultaneous (Bonferroni) one.</p>"
                     + _table(result.recovery, ["world", "hypothesis", "test", "n", "true", "bias", "relative.bias",
                                                "rmse", "coverage.95", "coverage.simultaneous", "se.ratio"]))
    parts.append("<h2>Settings</h2><pre>" + html.escape(dumps(result.settings.as_dict())) + "</pre></body></html>")
    return "\n".join(parts)


def write_outputs(result, out: str | Path) -> list[Path]:
    out = Path(out)
    paths = [write_csv(result.power, out / "power.csv"), write_csv(result.sample_sizes, out / "sample_size.csv"),
             write_csv(result.recovery, out / "recovery.csv")]
    result.replications.to_parquet(out / "replications.parquet", index=False)
    paths.append(out / "replications.parquet")
    from analysis.power.replicate import context

    plots, svgs = write_plots(result.power, out, context()[1].alpha)
    paths += plots
    (out / "power.html").write_text(render_html(result, svgs), encoding="utf-8")
    paths.append(out / "power.html")
    prov = {"command": "smesurvey power", **result.settings.as_dict(), "study": result.study,
            "timings": result.timings, "versions": package_versions()}
    (out / "provenance.json").write_text(dumps(prov), encoding="utf-8")
    paths.append(out / "provenance.json")
    return paths
