"""Figures for reports and notebooks, returned as SVG text (inlined, so reports stay one file).

matplotlib with the Agg backend; SVG ids are salted with a fixed string and no
date is written, so the same data give the same bytes.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.collections import PolyCollection  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402

plt.rcParams["svg.hashsalt"] = "sme-intl-survey"
plt.rcParams["svg.fonttype"] = "none"


def _svg(fig) -> str:
    buf = io.StringIO()
    fig.savefig(buf, format="svg", bbox_inches="tight", metadata={"Date": None})
    plt.close(fig)
    text = buf.getvalue()
    return text[text.find("<svg"):]  # drop the XML prolog and doctype: the SVG is inlined in HTML


def item_distributions(data: pd.DataFrame, items: Sequence[str], categories: Sequence[int] = range(1, 8),
                       title: str = "") -> str:
    """Stacked horizontal bars: the share of each answer category per item (missing left out)."""
    cats = list(categories)
    shares = np.array([[(pd.to_numeric(data[i], errors="coerce") == c).mean() for c in cats] for i in items])
    shares = shares / np.maximum(shares.sum(axis=1, keepdims=True), 1e-12)
    fig, ax = plt.subplots(figsize=(6.5, 0.22 * len(items) + 1.0))
    colors = plt.get_cmap("RdYlGn")(np.linspace(0.05, 0.95, len(cats)))
    # one collection of bars per category rather than a patch per bar (ax.barh): the same picture,
    # drawn in a fraction of the time (a module has 30-50 items x 7 categories)
    y = np.arange(len(items), dtype=float)
    left = np.zeros(len(items))
    for j in range(len(cats)):
        right = left + shares[:, j]
        boxes = np.stack([np.stack([left, y - 0.4], 1), np.stack([left, y + 0.4], 1),
                          np.stack([right, y + 0.4], 1), np.stack([right, y - 0.4], 1)], axis=1)
        ax.add_collection(PolyCollection(boxes, facecolors=[colors[j]], edgecolors="none", linewidths=0))
        left = right
    ax.set_xlim(0, 1)
    ax.set_ylim(len(items) - 0.5, -0.5)  # first item on top
    ax.set_yticks(range(len(items)))
    ax.set_yticklabels(items, fontsize=7)
    ax.set_xlabel("share of answers")
    ax.legend(handles=[Patch(facecolor=colors[j], label=str(c)) for j, c in enumerate(cats)], ncol=len(cats),
              fontsize=7, loc="lower center", bbox_to_anchor=(0.5, 1.0), frameon=False)
    if title:
        ax.set_title(title, fontsize=9, pad=18)
    return _svg(fig)


def correlation_heatmap(frame: pd.DataFrame, title: str = "") -> str:
    """Heatmap of the Pearson correlations of the columns of ``frame`` (pairwise complete)."""
    r = frame.apply(pd.to_numeric, errors="coerce").corr()
    n = len(r)
    fig, ax = plt.subplots(figsize=(0.45 * n + 1.6, 0.45 * n + 1.2))
    im = ax.imshow(r.to_numpy(), cmap="RdBu_r", vmin=-1, vmax=1)
    ax.set_xticks(range(n))
    ax.set_yticks(range(n))
    ax.set_xticklabels(r.columns, rotation=90, fontsize=7)
    ax.set_yticklabels(r.index, fontsize=7)
    for i in range(n):
        for j in range(n):
            if i != j and np.isfinite(r.iat[i, j]):
                ax.text(j, i, f"{r.iat[i, j]:.2f}", ha="center", va="center", fontsize=5)
    fig.colorbar(im, ax=ax, fraction=0.04)
    if title:
        ax.set_title(title, fontsize=9)
    return _svg(fig)


def verdict_chart(verdicts: pd.DataFrame, colors: Mapping[str, str] | None = None) -> str:
    """Per hypothesis the estimate of its deciding test with its 95% confidence interval (``ci.lower``,
    ``ci.upper``; standardized where the test is), coloured by verdict."""
    colors = colors or {"supported": "#2b8a3e", "not supported": "#868e96", "contrary": "#c92a2a"}
    v = verdicts.dropna(subset=["estimate"])
    fig, ax = plt.subplots(figsize=(6.0, 0.3 * len(v) + 0.9))
    y = np.arange(len(v))
    ax.axvline(0, color="black", lw=0.8)
    lo = v["ci.lower"].to_numpy(dtype=float) if "ci.lower" in v else np.full(len(v), np.nan)
    hi = v["ci.upper"].to_numpy(dtype=float) if "ci.upper" in v else np.full(len(v), np.nan)
    est = v["estimate"].to_numpy(dtype=float)
    c = [colors.get(x, "black") for x in v["verdict"]]
    ok = np.isfinite(lo) & np.isfinite(hi)
    if ok.any():
        ax.hlines(y[ok], lo[ok], hi[ok], colors=[c[i] for i in np.flatnonzero(ok)], lw=1.6, zorder=2)
    ax.scatter(est, y, c=c, zorder=3)
    ax.set_yticks(y)
    ax.set_yticklabels(v["hypothesis"], fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel("estimate of the deciding test with its 95% CI")
    return _svg(fig)
