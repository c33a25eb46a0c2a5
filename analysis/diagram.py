"""Path diagrams of fitted models (graphviz), read from the parameter table.

Latent variables are ellipses, observed variables boxes; regressions are
arrows labelled with the standardized estimate (``std.all``), drawn solid
when significant at ``alpha`` and dashed otherwise; covariances between
structural variables are dotted two-headed arcs. Measurement parts can be
shown or hidden (``measurement=False`` keeps big models readable). The
diagram is returned as SVG text (inlined into the HTML report). Labels are
escaped by graphviz's own quoting.
"""

from __future__ import annotations

import graphviz
import pandas as pd

from smesurvey.errors import SmeSurveyError


class DiagramError(SmeSurveyError):
    """The graphviz ``dot`` program is missing or failed."""

    code = "SME600"


def path_diagram(parameters: pd.DataFrame, *, latent: set[str] | None = None, measurement: bool = False,
                 alpha: float = 0.05, group: int = 1, title: str = "") -> graphviz.Digraph:
    """Build the diagram of one group of a parameter table (lavaan columns)."""
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
        sig = pd.notna(r.pvalue) and r.pvalue < alpha
        g.edge(r.rhs, r.lhs, label=f"{r.std_all:.2f}" + ("" if sig else " (ns)"),
               style="solid" if sig else "dashed", penwidth="1.6" if sig else "1.0")
    cov = p[(p["op"] == "~~") & (p["lhs"] != p["rhs"]) & p["lhs"].isin(nodes) & p["rhs"].isin(nodes)]
    for r in cov.itertuples():
        g.edge(r.lhs, r.rhs, label=f"{r.std_all:.2f}", dir="both", style="dotted", constraint="false",
               color="grey50")
    return g


def render_svg(diagram: graphviz.Digraph) -> str:
    """SVG text of a diagram; raises :class:`DiagramError` when graphviz is not installed."""
    try:
        return diagram.pipe(format="svg").decode("utf-8")
    except graphviz.backend.ExecutableNotFound as exc:
        raise DiagramError("graphviz's 'dot' program is not installed; install the Debian package "
                           "'graphviz' (make demo / make test do this when run as root)") from exc
    except graphviz.backend.CalledProcessError as exc:  # pragma: no cover - dot crashed
        raise DiagramError(f"graphviz failed to draw the diagram: {exc}") from exc
