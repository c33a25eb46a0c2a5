"""Path diagrams of fitted models (graphviz), read from the parameter table.

Latent variables are ellipses, observed variables boxes; regressions are
arrows labelled with the standardized estimate (``std.all``). A path that a
hypothesis tests is marked with that hypothesis and drawn from the same
decision as the verdict table (one-sided test in the predicted direction,
multiplicity-adjusted): solid and bold when the hypothesis is supported,
dashed with "n.s." when it is not. Paths no hypothesis tests (controls,
structural parts) are thin grey arrows with no mark - a two-sided,
unadjusted p-value would contradict the verdicts beside the diagram, so none
is drawn. :func:`legend` gives the sentence saying so. Covariances between
structural variables are dotted two-headed arcs. Measurement parts can be
shown or hidden (``measurement=False`` keeps big models readable). The
diagram is returned as SVG text (inlined into the HTML report). Labels are
escaped by graphviz's own quoting.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

import graphviz
import pandas as pd

from smecore.errors import SmeSurveyError


class DiagramError(SmeSurveyError):
    """The graphviz ``dot`` program is missing or failed."""

    code = "SME600"


LEGEND = ("Arrows: standardized estimates (std.all). A path tested by a hypothesis carries its id and is drawn "
          "from the verdict's own decision (one-sided test in the predicted direction, multiplicity-adjusted "
          "as in the verdict table): solid = supported, dashed with n.s. = not supported. Thin grey arrows "
          "are paths no hypothesis tests (no significance is shown for them).")


def path_diagram(parameters: pd.DataFrame, *, latent: set[str] | None = None, measurement: bool = False,
                 decisions: Mapping[tuple[str, str], Sequence[tuple[str, bool]]] | None = None,
                 group: int = 1, title: str = "") -> graphviz.Digraph:
    """Build the diagram of one group of a parameter table (lavaan columns).

    ``decisions`` maps a regression ``(lhs, rhs)`` to the hypotheses that test
    it, each ``(hypothesis id, supported)`` - see :func:`decisions_from` for
    building it from an analysis; paths without an entry are drawn neutral.
    """
    decisions = decisions or {}
    p = parameters[parameters["group"] == group].rename(columns={"std.all": "std_all"})
    latent = set(p.loc[p["op"] == "=~", "lhs"]) if latent is None else set(latent)
    g = graphviz.Digraph(graph_attr={"rankdir": "LR", "fontsize": "11", "label": title, "labelloc": "t",
                                     "bgcolor": "white"},
                         node_attr={"fontname": "Helvetica", "fontsize": "11"},
                         edge_attr={"fontname": "Helvetica", "fontsize": "10"})
    structural = p[p["op"] == "~"]
    nodes = set(structural["lhs"]) | set(structural["rhs"])
    if measurement:
        nodes |= set(p.loc[p["op"] == "=~", "lhs"]) | set(p.loc[p["op"] == "=~", "rhs"])
    for n in sorted(nodes):
        g.node(n, n, shape="ellipse" if n in latent else "box")
    if measurement:
        for r in p[p["op"] == "=~"].itertuples():
            g.edge(r.lhs, r.rhs, label=f"{r.std_all:.2f}", color="grey40")
    for r in structural.itertuples():
        tested = decisions.get((r.lhs, r.rhs), ())
        label = f"{r.std_all:.2f}"
        if not tested:
            g.edge(r.rhs, r.lhs, label=label, color="grey55", penwidth="0.8")
            continue
        supported = all(ok for _, ok in tested)
        marks = ", ".join(h if ok else f"{h} n.s." for h, ok in tested)
        g.edge(r.rhs, r.lhs, label=f"{label} ({marks})", style="solid" if supported else "dashed",
               penwidth="1.8" if supported else "1.0")
    cov = p[(p["op"] == "~~") & (p["lhs"] != p["rhs"]) & p["lhs"].isin(nodes) & p["rhs"].isin(nodes)]
    for r in cov.itertuples():
        g.edge(r.lhs, r.rhs, label=f"{r.std_all:.2f}", dir="both", style="dotted", constraint="false",
               color="grey50")
    return g


def decisions_from(parameters: pd.DataFrame, tests: pd.DataFrame,
                   verdicts: Mapping[str, str]) -> dict[tuple[str, str], list[tuple[str, bool]]]:
    """Which hypotheses test which regression path, and whether each is supported.

    ``parameters``: one model's parameter table (labels in ``label``);
    ``tests``: the analysis' decision tests of the hypotheses fitted with that
    model (``hypothesis, expression, decision``); ``verdicts``: hypothesis ->
    verdict. A path belongs to a hypothesis when its label appears in one of
    the hypothesis' decision-test expressions.
    """
    reg = parameters[(parameters["op"] == "~") & (parameters["label"].astype(str) != "")]
    out: dict[tuple[str, str], list[tuple[str, bool]]] = {}
    for t in tests.itertuples():
        if not bool(t.decision) or not isinstance(t.expression, str) or t.hypothesis not in verdicts:
            continue
        names = set(re.findall(r"[A-Za-z_.][A-Za-z0-9_.]*", t.expression))
        for r in reg[reg["label"].isin(names)].itertuples():
            entry = (t.hypothesis, verdicts[t.hypothesis] == "supported")
            if entry not in out.setdefault((r.lhs, r.rhs), []):
                out[(r.lhs, r.rhs)].append(entry)
    return out


def analysis_diagram(result, keys: Sequence[str]) -> graphviz.Digraph | None:
    """One diagram of the structural paths of an analysis' models ``keys`` (an
    :class:`~analysis.propositions.pipeline.AnalysisResult`), tested paths marked from its verdicts;
    ``None`` when the models have no regression."""
    rows, decisions = [], {}
    verdicts = dict(zip(result.verdicts["hypothesis"], result.verdicts["verdict"], strict=True)) \
        if len(result.verdicts) else {}
    for key in keys:
        p = result.models[key][1].parameters
        rows.append(p[(p["op"] == "~") & (p["group"] == 1)])
        tests = result.tests[result.tests["model"] == key] if len(result.tests) else result.tests
        for edge, marks in decisions_from(p[p["group"] == 1], tests, verdicts).items():
            decisions.setdefault(edge, [])
            decisions[edge] += [m for m in marks if m not in decisions[edge]]
    if not rows:
        return None
    edges = pd.concat(rows).drop_duplicates(subset=["lhs", "rhs"])
    latent = set().union(*[set(result.models[k][1].partable.variables.lv) for k in keys])
    return path_diagram(edges, latent=latent, decisions=decisions)


def render_pdf(diagram: graphviz.Digraph) -> bytes:
    """PDF bytes of a diagram with a fixed creation date (the same diagram, the same bytes)."""
    from smecore.files import fix_pdf_timestamp

    try:
        return fix_pdf_timestamp(diagram.pipe(format="pdf"))
    except graphviz.backend.ExecutableNotFound as exc:
        raise DiagramError("graphviz's 'dot' program is not installed; install the Debian package "
                           "'graphviz' (make demo / make test do this when run as root)") from exc


def render_svg(diagram: graphviz.Digraph) -> str:
    """SVG text of a diagram; raises :class:`DiagramError` when graphviz is not installed."""
    try:
        return diagram.pipe(format="svg").decode("utf-8")
    except graphviz.backend.ExecutableNotFound as exc:
        raise DiagramError("graphviz's 'dot' program is not installed; install the Debian package "
                           "'graphviz' (make demo / make test do this when run as root)") from exc
    except graphviz.backend.CalledProcessError as exc:  # pragma: no cover - dot crashed
        raise DiagramError(f"graphviz failed to draw the diagram: {exc}") from exc
