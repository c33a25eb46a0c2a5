"""The data-quality report of an ingest: ``quality.html`` (self-contained) and ``quality.md``.

:func:`quality_report` turns an :class:`~analysis.ingest.pipeline.IngestResult`
into an immutable :class:`QualityReport` of tidy frames, in small steps:

1. rows   - rows read / kept / excluded by ingest, with the reasons (``result.rows``);
2. cells  - cells ingest changed, by reason (``result.cell_log``);
3. screen - every index of :mod:`analysis.psychometrics.screening` on the kept rows,
   which rules exclude and which only flag (:class:`ScreeningRules`), with their sources;
   per page (where the export has page timers, ``result.pages``): items, median seconds and the share of
   respondents below the page-speeder threshold; a note when the export had no page timers;
4. missing - per item (skip logic respected), per respondent (distribution), per module,
   the pattern matrix (the :data:`MAX_PATTERNS` most frequent patterns) and Little's MCAR test;
5. answers - the distribution of every coded item, the most frequent text answers;
6. reliability - Cronbach's alpha per construct before and after the screening exclusions.

:func:`write_quality` renders it with the jinja2 templates ``quality.html.j2``
(autoescaped; figures are inline SVG from matplotlib's svg backend, no script,
no external resource) and ``quality.md.j2``. Same inputs give byte-identical files:
the SVG ids are salted with a fixed string, no date is written, samples are
drawn with a fixed seed.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from jinja2 import Environment, PackageLoader, select_autoescape  # noqa: E402

from analysis.ingest.cell_log import CellLog  # noqa: E402
from analysis.ingest.pipeline import IngestResult  # noqa: E402
from analysis.psychometrics.missingness import (  # noqa: E402
    little_mcar,
    missing_by_module,
    missing_patterns_table,
)
from analysis.psychometrics.reliability import cronbach_alpha  # noqa: E402
from analysis.psychometrics.screening import ScreeningRules, screen_instrument  # noqa: E402
from instrument.model import Instrument  # noqa: E402
from instrument.platforms.base import fielded, page_variables  # noqa: E402
from smecore.errors import DataError, EstimationError  # noqa: E402
from smecore.files import write_text  # noqa: E402

#: Patterns drawn in the missingness picture (the most frequent ones).
MAX_PATTERNS = 50
#: Rows used for Little's MCAR test: above this a random sample (seed :data:`SAMPLE_SEED`); the
#: test's EM and its per-pattern terms grow with the number of distinct patterns, which grows with N.
MCAR_MAX_ROWS = 2000
#: The MCAR test over all Likert items together is run only when they show at most this many
#: distinct patterns in the (sampled) rows; the per-module tests are always run.
MCAR_MAX_PATTERNS_ALL = 400
#: Rows screened: above this a random sample (seed :data:`SAMPLE_SEED`). Screening's longstring and
#: row-wise correlations are Python loops over rows (about 0.35 ms a row for the full questionnaire),
#: so the report screens a sample of big files and says so; ``smesurvey analyze`` screens every row.
SCREEN_MAX_ROWS = 50_000
SAMPLE_SEED = 20261202
#: Text answers shown per text question (the most frequent ones).
TOP_TEXT = 5
#: Rows of the screening log and of the changed cells shown in the report (all are in the frames).
SHOW_ROWS = 100

#: Where each screening rule's default comes from (the sources cited in
#: :mod:`analysis.psychometrics.screening`).
RULE_SOURCES = {
    "duplicate": "the respondent id seen in an earlier row (data management, no threshold)",
    "partial": "project default: fewer than half of the Likert items answered",
    "attention": "instructed-response items (Meade & Craig 2012)",
    "speeder": "2 s per item answered (Huang et al. 2012)",
    "straightline": "longstring (Johnson 2005); project default: a run covering 90% of the items",
    "outlier": "Mahalanobis D\u00b2, chi-square p < .001 (Meade & Craig 2012; Curran 2016)",
    "irv": "intra-individual response variability (Dunn et al. 2018; no agreed cut-off, reported only)",
    "evenodd": "even-odd consistency below 0 (Johnson 2005; Curran 2016); reverse-keyed items "
               "reverse-scored, Spearman-Brown corrected, bounded at -1 (careless::evenodd)",
    "psychsyn": "psychometric synonyms, pairs r > .60 (Meade & Craig 2012)",
    "psychant": "psychometric antonyms, pairs r < -.60 (Meade & Craig 2012)",
    "page_speeder": "2 s per item on a page (Huang et al. 2012's per-item minimum, applied page by page); "
                    "project default: below it on more than half of the timed pages",
}
RULES_NOTE = ("By default the rules on data management and direct evidence (duplicate, partial, attention, speeder, "
              "straightline) exclude, and the statistical indices (outlier, irv, evenodd, psychsyn, psychant) only "
              "flag rows for a reviewer, since they have no agreed cut-off (Curran 2016; Meade & Craig 2012; "
              "Huang et al. 2012; Dunn et al. 2018); page_speeder (where the export has page timers) flags too, "
              "since the 2 s per item was set for whole surveys, not single pages. ScreeningRules.exclude sets "
              "which rules exclude.")
INDEX_COLUMNS = ("answered", "attention_failures", "longstring", "seconds", "mahalanobis_d2", "mahalanobis_p",
                 "irv", "evenodd", "psychsyn", "psychant", "pages_sped")
#: Columns of :attr:`QualityReport.pages`.
PAGE_COLUMNS = ("page", "items", "timed", "median_seconds", "threshold_seconds", "share_below")
RESPONDENT_BINS = ((0, 0), (1, 1), (2, 2), (3, 5), (6, 10), (11, 20), (21, 50), (51, None))
_DETAIL = re.compile(r"\s*\((?:first in )?source row \d+\)$")


@dataclass(frozen=True)
class QualityReport:
    """Everything the quality report shows, as tidy frames (columns in the comments).

    Built by :func:`quality_report`; rendered by :func:`write_quality`.
    """

    source: str
    format: str
    detected_by: str
    input_sha256: str
    row_status: pd.DataFrame  # status, rows  (kept / excluded, and "read" = their sum)
    row_reasons: pd.DataFrame  # reason, rows  (ingest exclusions; a row may have several reasons)
    cell_reasons: pd.DataFrame  # reason, cells, variables
    cell_examples: pd.DataFrame  # source_row, variable, original, new, reason (first SHOW_ROWS)
    rules: pd.DataFrame  # rule, setting, value, action, source, excluded, flagged
    screening_log: pd.DataFrame  # source_row, rule, reason, excluded
    indices: pd.DataFrame  # index, n, mean, sd, min, median, max
    screened_rows: int  # rows screened (kept by ingest)
    screened_kept: int  # rows kept after screening
    missing_items: pd.DataFrame  # module, item, kind, asked, n_missing, share_missing
    missing_respondents: pd.DataFrame  # missing_items (a range), respondents, share
    missing_modules: pd.DataFrame  # module, items, cells, share_missing
    patterns: pd.DataFrame  # the MAX_PATTERNS most frequent patterns: Likert items (1/0), n, n_missing
    n_patterns: int  # distinct missing-data patterns over the Likert items
    mcar: pd.DataFrame  # scope, items, statistic, df, p, n_patterns, n, note
    distributions: pd.DataFrame  # module, item, code, n, share
    text_answers: pd.DataFrame  # variable, value, n
    reliability: pd.DataFrame  # module, construct, items, alpha.before, n.before, alpha.after, n.after, note
    pages: pd.DataFrame  # PAGE_COLUMNS per page (no rows when the export has no page timers)
    unknown_columns: tuple[str, ...]
    dropped_identifiers: tuple[str, ...]
    modules_not_fielded: tuple[str, ...]
    notes: tuple[str, ...]  # what was sampled or could not be computed


# -- helpers -----------------------------------------------------------------------------------

def _likert(instrument: Instrument, data: pd.DataFrame) -> list[str]:
    """Likert items of the constructs (marker included) present in ``data``, questionnaire order."""
    return [v.name for v in instrument.variables() if v.kind == "likert" and v.name in data.columns]


def _numeric(data: pd.DataFrame, cols: list[str]) -> pd.DataFrame:
    return data[cols].apply(pd.to_numeric, errors="coerce").astype(float)


def _sample(data: pd.DataFrame, n: int) -> pd.DataFrame:
    """``data`` itself, or ``n`` of its rows drawn with :data:`SAMPLE_SEED` (original order kept)."""
    if len(data) <= n:
        return data
    idx = np.sort(np.random.default_rng(SAMPLE_SEED).choice(len(data), n, replace=False))
    return data.iloc[idx]


def _reverse_scored(data: pd.DataFrame, instrument: Instrument, items: list[str]) -> pd.DataFrame:
    """``items`` as numbers with reverse-keyed items reverse-scored (min + max - x), as
    :func:`analysis.psychometrics.scoring.score` does."""
    return instrument.reverse_scored(_numeric(data, items))


# -- steps -------------------------------------------------------------------------------------

def step1_rows(rows: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``rows.csv`` -> (status counts with the total read, exclusion reasons counted per row)."""
    kept = int((rows["status"] == "kept").sum())
    status = pd.DataFrame({"status": ["read", "kept", "excluded"], "rows": [len(rows), kept, len(rows) - kept]})
    reasons = rows.loc[rows["status"] != "kept", "reasons"].fillna("").astype(str)
    split = [_DETAIL.sub("", r.strip()) for text in reasons for r in text.split(";") if r.strip()]
    counts = pd.Series(split, dtype=object).value_counts(sort=False)
    table = pd.DataFrame({"reason": counts.index.astype(str), "rows": counts.to_numpy(dtype=int)})
    return status, table.sort_values(["rows", "reason"], ascending=[False, True], kind="mergesort") \
        .reset_index(drop=True)


def step2_cells(cells: CellLog) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``cells.csv`` (the ingest's :class:`~analysis.ingest.cell_log.CellLog`) -> (cells and variables per
    reason, the first :data:`SHOW_ROWS` changed cells); counted without building every line."""
    table = cells.counts()
    if table.empty:
        return table, cells.head(0)
    table = table.sort_values(["cells", "reason"], ascending=[False, True], kind="mergesort").reset_index(drop=True)
    return table, cells.head(SHOW_ROWS)


def step3_screen(data: pd.DataFrame, source_row: np.ndarray, instrument: Instrument,
                 rules: ScreeningRules, page_seconds: pd.DataFrame | None = None
                 ) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Every screening index on the kept rows, as ``smesurvey analyze`` screens them (both call
    :func:`~analysis.psychometrics.screening.screen_instrument`); ``page_seconds``: the rows' page times.

    Returns (rules with source and counts, log with source rows, index summaries, rows kept).
    """
    res = screen_instrument(data, instrument, rules, page_seconds)
    summary = res.summary().set_index("rule") if len(res.log) else pd.DataFrame(columns=["excluded", "flagged"])
    table = rules.table()
    table["source"] = table["rule"].map(RULE_SOURCES).fillna("")
    table["excluded"] = [int(summary["excluded"].get(r, 0)) for r in table["rule"]]
    table["flagged"] = [int(summary["flagged"].get(r, 0)) for r in table["rule"]]
    pos = {ix: k for k, ix in enumerate(data.index)}
    log = pd.DataFrame({"source_row": [int(source_row[pos[r]]) for r in res.log["row"]],
                        "rule": res.log["rule"].astype(str).to_numpy(),
                        "reason": res.log["reason"].astype(str).to_numpy(),
                        "excluded": res.log["excluded"].astype(bool).to_numpy()})
    rows = []
    for col in INDEX_COLUMNS:
        x = pd.to_numeric(res.indices[col], errors="coerce").astype(float)
        x = x[np.isfinite(x)]
        rows.append({"index": col, "n": len(x), "mean": x.mean() if len(x) else np.nan,
                     "sd": x.std() if len(x) > 1 else np.nan, "min": x.min() if len(x) else np.nan,
                     "median": x.median() if len(x) else np.nan, "max": x.max() if len(x) else np.nan})
    return table, log, pd.DataFrame(rows), res.kept


def step3_pages(data: pd.DataFrame, page_seconds: pd.DataFrame | None, instrument: Instrument,
                rules: ScreeningRules) -> pd.DataFrame:
    """Per page: its items in ``data``, respondents timed, the median seconds, the page-speeder threshold
    (``page_seconds_per_item`` x items) and the share of timed respondents below it (:data:`PAGE_COLUMNS`;
    no rows without page times)."""
    if page_seconds is None:
        return pd.DataFrame(columns=list(PAGE_COLUMNS))
    rows = []
    per_item = rules.page_seconds_per_item
    for page, items in page_variables(fielded(instrument, data.columns)).items():
        if page not in page_seconds.columns:
            continue
        k = sum(c in data.columns for c in items)
        secs = pd.to_numeric(page_seconds[page], errors="coerce").astype(float)
        secs = secs[secs.notna()]
        limit = np.nan if per_item is None else per_item * k
        rows.append({"page": page, "items": k, "timed": len(secs),
                     "median_seconds": secs.median() if len(secs) else np.nan, "threshold_seconds": limit,
                     "share_below": float((secs < limit).mean()) if len(secs) and per_item is not None else np.nan})
    return pd.DataFrame(rows, columns=list(PAGE_COLUMNS))


def _asked(data: pd.DataFrame, relevant: dict | None) -> np.ndarray:
    """Rows to whom a question applied (its skip logic ``{variable: code}`` holds; all when none)."""
    mask = np.ones(len(data), dtype=bool)
    for var, code in (relevant or {}).items():
        if var in data.columns:
            mask &= (pd.to_numeric(data[var], errors="coerce") == code).to_numpy()
    return mask


def step4_missing(data: pd.DataFrame, instrument: Instrument) -> dict:
    """Missing data per item, per respondent, per module, the patterns and Little's MCAR test."""
    variables = [v for v in instrument.variables(paradata=False) if v.name in data.columns]
    item_rows = []
    for v in variables:
        asked = _asked(data, v.relevant)
        col = data[v.name]
        miss = col.isna().to_numpy().copy()
        if not pd.api.types.is_numeric_dtype(col):  # text: blank counts as missing
            miss |= col.astype(str).str.strip().eq("").to_numpy()
        miss &= asked
        n = int(asked.sum())
        item_rows.append({"module": v.module, "item": v.name, "kind": v.kind, "asked": n,
                          "n_missing": int(miss.sum()), "share_missing": miss.sum() / n if n else np.nan})
    likert = _likert(instrument, data)
    values = _numeric(data, likert)
    per_resp = values.isna().sum(axis=1).to_numpy()
    bins = []
    for lo, hi in RESPONDENT_BINS:
        inside = (per_resp >= lo) & (per_resp <= (np.inf if hi is None else hi))
        label = str(lo) if lo == hi else (f"{lo}+" if hi is None else f"{lo}-{hi}")
        bins.append({"missing_items": label, "respondents": int(inside.sum()),
                     "share": inside.mean() if len(per_resp) else np.nan})
    modules = {m: [v.name for v in variables if v.module == m and v.kind != "attention" and v.type != "text"]
               for m in instrument.module_ids}
    modules = {m: its for m, its in modules.items() if its}
    mod_table = missing_by_module(data.assign(**_numeric(data, [i for its in modules.values() for i in its])),
                                  modules) if modules else pd.DataFrame(columns=["module", "items", "cells",
                                                                                  "share_missing"])
    patterns = missing_patterns_table(values, likert) if likert else pd.DataFrame()
    notes = []
    sample = _sample(values, MCAR_MAX_ROWS)
    if len(sample) < len(values):
        notes.append(f"Little's MCAR test on a random sample of {len(sample):,} of the {len(values):,} rows "
                     f"(seed {SAMPLE_SEED}): its cost grows with the number of distinct missing-data patterns.")
    mcar_rows = []
    scopes = [("all Likert items", likert)] + [
        (f"module {m}", [it.id for c in instrument.constructs_in(m) for it in c.items if it.id in likert])
        for m in instrument.module_ids if m != "M0"]
    for scope, items in scopes:
        if len(items) < 2:
            continue
        row = {"scope": scope, "items": len(items), "statistic": np.nan, "df": np.nan, "p": np.nan,
               "n_patterns": np.nan, "n": np.nan, "note": ""}
        n_pat = len(sample[items].isna().drop_duplicates())
        if scope == "all Likert items" and n_pat > MCAR_MAX_PATTERNS_ALL:
            row.update(n_patterns=n_pat, note=f"not run: {n_pat} distinct patterns (> {MCAR_MAX_PATTERNS_ALL}); "
                                              "see the per-module tests")
        elif not sample[items].isna().any().any():
            row.update(n_patterns=1, n=len(sample), note="no missing answers")
        elif (sample[items].notna().sum(axis=0) < len(items) + 2).any():
            row.update(n_patterns=n_pat, note=f"not run: some item has fewer than {len(items) + 2} answers "
                                              f"(the EM estimates need more rows than {len(items)} items)")
        else:
            row["n_patterns"] = n_pat
            try:
                row.update(little_mcar(sample, items).iloc[0].to_dict())
            except (DataError, EstimationError, np.linalg.LinAlgError, ValueError) as exc:
                row["note"] = f"not computable: {exc}"
        mcar_rows.append(row)
    return {"missing_items": pd.DataFrame(item_rows, columns=["module", "item", "kind", "asked", "n_missing",
                                                               "share_missing"]),
            "missing_respondents": pd.DataFrame(bins), "missing_modules": mod_table,
            "patterns": patterns.head(MAX_PATTERNS).reset_index(drop=True), "n_patterns": len(patterns),
            "mcar": pd.DataFrame(mcar_rows, columns=["scope", "items", "statistic", "df", "p", "n_patterns", "n",
                                                     "note"]), "notes": notes}


def step5_answers(data: pd.DataFrame, instrument: Instrument) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Counts per code of every coded item (codes of its scale, in order); the top text answers."""
    rows, texts = [], []
    for v in instrument.variables(paradata=False):
        if v.name not in data.columns:
            continue
        if v.type == "text":
            counts = data[v.name].dropna().astype(str).value_counts(sort=False)
            counts = counts.sort_values(ascending=False, kind="mergesort") if len(counts) else counts
            top = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:TOP_TEXT]
            texts += [{"variable": v.name, "value": value, "n": int(n)} for value, n in top]
            continue
        if v.scale is None:
            continue
        x = pd.to_numeric(data[v.name], errors="coerce")
        answered = int(x.notna().sum())
        for p in instrument.scales[v.scale].points:
            n = int((x == p.value).sum())
            rows.append({"module": v.module, "item": v.name, "code": int(p.value), "n": n,
                         "share": n / answered if answered else np.nan})
    return (pd.DataFrame(rows, columns=["module", "item", "code", "n", "share"]),
            pd.DataFrame(texts, columns=["variable", "value", "n"]))


def _alpha(frame: pd.DataFrame, items: list[str]) -> tuple[float, int, str]:
    try:
        a = cronbach_alpha(frame, items).iloc[0]
        return float(a["alpha"]), int(a["n"]), ""
    except DataError as exc:
        return np.nan, int(frame[items].notna().all(axis=1).sum()), str(exc).split(": ", 1)[-1]


def step6_reliability(before: pd.DataFrame, after: pd.DataFrame, instrument: Instrument) -> pd.DataFrame:
    """Cronbach's alpha (listwise, reverse-keyed items reverse-scored) per construct whose items are all
    present, on the rows kept by ingest (before) and by screening (after)."""
    rows = []
    constructs = [c for m in instrument.module_ids for c in instrument.constructs_in(m)]
    if instrument.marker is not None:
        constructs.append(instrument.marker)
    for c in constructs:
        items = [it.id for it in c.items]
        if len(items) < 2 or not all(i in before.columns for i in items):
            continue
        a0, n0, note0 = _alpha(_reverse_scored(before, instrument, items), items)
        a1, n1, note1 = _alpha(_reverse_scored(after, instrument, items), items)
        rows.append({"module": c.module, "construct": c.id, "items": len(items), "alpha.before": a0,
                     "n.before": n0, "alpha.after": a1, "n.after": n1, "note": note0 or note1})
    return pd.DataFrame(rows, columns=["module", "construct", "items", "alpha.before", "n.before", "alpha.after",
                                       "n.after", "note"])


def quality_report(result: IngestResult, instrument: Instrument,
                   rules: ScreeningRules | None = None) -> QualityReport:
    """The data-quality report of ``result`` (see the module docstring for the steps).

    ``instrument``: the instrument the data were ingested with; ``rules``: the
    screening thresholds and which rules exclude (default :class:`ScreeningRules`).
    """
    rules = rules or ScreeningRules()
    data = result.responses.reset_index(drop=True)
    prov = result.provenance
    # the modules fielded: those with any of their items in the data (not the provenance's list, which
    # counts an attention check as its module's item although it moves with the modules fielded)
    items_of = {m: [it.id for c in instrument.constructs_in(m) for it in c.items]
                + [i for mx in instrument.matrices_in(m) for i in instrument.items_of(mx.id)]
                for m in instrument.module_ids if m != "M0"}
    fielded = [m for m, its in items_of.items() if any(i in data.columns for i in its)]
    not_fielded = tuple(m for m in items_of if m not in fielded)
    if fielded:  # as fielded: attention checks belong to the first / last module fielded
        instrument = instrument.select(fielded)
    status, reasons = step1_rows(result.rows)
    cell_reasons, cell_examples = step2_cells(result.cell_log)
    kept_rows = result.rows.loc[result.rows["status"] == "kept", "source_row"].to_numpy(dtype=int)
    screened = _sample(data, SCREEN_MAX_ROWS)
    page_seconds = None if result.pages is None else result.pages.iloc[screened.index.to_numpy()]
    table, log, indices, kept = step3_screen(screened, kept_rows[screened.index.to_numpy()], instrument, rules,
                                             page_seconds)
    pages = step3_pages(data, result.pages, instrument, rules)
    missing = step4_missing(data, instrument)
    distributions, texts = step5_answers(data, instrument)
    notes = []
    if len(screened) < len(data):
        notes.append(f"Screening and the reliability table on a random sample of {len(screened):,} of the "
                     f"{len(data):,} rows kept by ingest (seed {SAMPLE_SEED}): the counts are of the sample. "
                     "smesurvey analyze screens every row.")
    notes += missing.pop("notes")
    if "duration_sec" not in data.columns:
        notes.append("The export has no completion times: the speeder rule was not applied.")
    if result.pages is None:
        why = prov.get("page_timers", {}).get("note", "the ingested data carry no page times")
        notes.append(f"Per-page speeding (page_speeder) was not checked: the export had no page timers ({why}).")
    return QualityReport(
        source=str(prov.get("input", "")), format=str(prov.get("format", "")),
        detected_by=str(prov.get("detected_by", "")), input_sha256=str(prov.get("input_sha256", "")),
        row_status=status, row_reasons=reasons, cell_reasons=cell_reasons, cell_examples=cell_examples,
        rules=table, screening_log=log, indices=indices, screened_rows=len(screened), screened_kept=len(kept),
        distributions=distributions, text_answers=texts,
        reliability=step6_reliability(screened, kept, instrument), pages=pages,
        unknown_columns=tuple(prov.get("unknown_columns", ())),
        dropped_identifiers=tuple(prov.get("dropped_identifier_columns", ())),
        modules_not_fielded=not_fielded, notes=tuple(notes), **missing)


# -- figures -----------------------------------------------------------------------------------

_SVG_RC = {"svg.hashsalt": "sme-intl-survey", "svg.fonttype": "none"}


def _svg(fig) -> str:
    """The figure as inline SVG text, the same bytes for the same figure (salted ids, no date)."""
    buf = io.StringIO()
    with plt.rc_context(_SVG_RC):
        fig.savefig(buf, format="svg", bbox_inches="tight", metadata={"Date": None})
    plt.close(fig)
    text = buf.getvalue()
    return text[text.find("<svg"):]


def pattern_picture(patterns: pd.DataFrame) -> str:
    """The pattern matrix: one row per pattern (most frequent first), one column per item; dark = missing."""
    items = [c for c in patterns.columns if c not in ("n", "n_missing")]
    if patterns.empty or not items:
        return ""
    obs = patterns[items].to_numpy(dtype=float)
    with plt.rc_context(_SVG_RC):
        fig, ax = plt.subplots(figsize=(min(0.09 * len(items) + 2.0, 14.0), 0.16 * len(patterns) + 1.4))
        # vector, not imshow: an image would be embedded as a PNG; runs of missing items as bars
        for r, row in enumerate(obs):
            miss = np.flatnonzero(np.diff(np.concatenate([[0], (row == 0).astype(int), [0]])))
            runs = [(float(a) - 0.5, float(b - a)) for a, b in zip(miss[0::2], miss[1::2], strict=True)]
            if runs:
                ax.broken_barh(runs, (r - 0.5, 1.0), facecolors="black", linewidth=0)
        ax.set_xlim(-0.5, len(items) - 0.5)
        ax.set_ylim(len(patterns) - 0.5, -0.5)
        ax.set_yticks(range(len(patterns)))
        ax.set_yticklabels([f"n={n}" for n in patterns["n"]], fontsize=6)
        ax.set_xticks(range(len(items)))
        ax.set_xticklabels(items, rotation=90, fontsize=5)
        ax.set_title("Missing-data patterns (black = missing), most frequent first", fontsize=9)
        return _svg(fig)


def distribution_grid(dist: pd.DataFrame, title: str = "", ncols: int = 8) -> str:
    """Small multiples: per item a bar chart of the share of each code (codes left to right, missing left out).

    Drawn on one set of axes, each item in its own cell (hand-laid out: a matplotlib subplot per
    item costs about 0.1 s each, too slow for the ~150 coded items of the questionnaire).
    """
    items = list(dict.fromkeys(dist["item"]))
    if not items:
        return ""
    nrows = -(-len(items) // ncols)
    with plt.rc_context(_SVG_RC):
        fig, ax = plt.subplots(figsize=(1.0 * ncols, 0.75 * nrows + 0.3))
        xs, hs, lefts, widths = [], [], [], []
        for k, item in enumerate(items):
            r, c = divmod(k, ncols)
            d = dist[dist["item"] == item]
            shares = np.nan_to_num(d["share"].to_numpy(dtype=float))
            width = 0.84 / max(len(d), 1)
            base = -r - 0.85  # each cell: 1 unit wide and high, bars in its lower 0.7
            xs += [c + 0.08 + width * (j + 0.5) for j in range(len(d))]
            hs += list(0.7 * shares)
            lefts += [base] * len(d)
            widths += [0.8 * width] * len(d)
            ax.plot([c + 0.06, c + 0.94], [base, base], color="#adb5bd", lw=0.4)
            ax.text(c + 0.5, base + 0.74, item, ha="center", va="bottom", fontsize=5)
        ax.bar(xs, hs, width=widths, bottom=lefts, color="#4c6ef5", linewidth=0)
        ax.set_xlim(0, ncols)
        ax.set_ylim(-nrows, 0)
        ax.set_axis_off()
        if title:
            ax.set_title(f"{title} (share of each code, lowest code left; bar height 100% = cell height)",
                         fontsize=7)
        return _svg(fig)


# -- rendering ---------------------------------------------------------------------------------

def _fmt(x, digits: int = 3) -> str:
    if x is None or x is pd.NA or (isinstance(x, float | np.floating) and not np.isfinite(x)):
        return ""
    if isinstance(x, bool | np.bool_):
        return "yes" if x else "no"
    if isinstance(x, int | np.integer):
        return f"{int(x)}"
    if isinstance(x, float | np.floating):
        return f"{int(x)}" if float(x).is_integer() and abs(x) < 1e15 and digits == 0 else f"{x:.{digits}f}"
    return str(x)


def _p(p) -> str:
    if p is None or not np.isfinite(p):
        return ""
    return "<.001" if p < 0.001 else f"{p:.3f}"


def _records(frame: pd.DataFrame, digits: dict[str, int] | None = None, pcols: tuple[str, ...] = ()) -> list[list]:
    digits = digits or {}
    return [[_p(r[c]) if c in pcols else _fmt(r[c], digits.get(c, 3)) for c in frame.columns]
            for r in frame.to_dict("records")]


def context(report: QualityReport, figures: bool = True) -> dict:
    """Everything the templates show, as plain strings and lists of rows (SVG figures when ``figures``)."""
    status = dict(zip(report.row_status["status"], report.row_status["rows"], strict=True))
    dist_sections = []
    for module in dict.fromkeys(report.distributions["module"]):
        d = report.distributions[report.distributions["module"] == module]
        dist_sections.append({"module": module, "n_items": d["item"].nunique(),
                              "figure": distribution_grid(d, f"Answers, module {module}") if figures else ""})
    log = report.screening_log
    mcar = report.mcar.copy()
    return {
        "title": "Data quality of the ingested responses",
        "source": report.source, "format": report.format, "detected_by": report.detected_by,
        "sha": report.input_sha256, "read": status["read"], "kept": status["kept"], "excluded": status["excluded"],
        "row_reasons": _records(report.row_reasons), "cell_reasons": _records(report.cell_reasons),
        "cells_changed": int(report.cell_reasons["cells"].sum()) if len(report.cell_reasons) else 0,
        "cell_examples": _records(report.cell_examples), "show_rows": SHOW_ROWS,
        "n_cell_examples": len(report.cell_examples),
        "unknown_columns": list(report.unknown_columns), "dropped_identifiers": list(report.dropped_identifiers),
        "modules_not_fielded": list(report.modules_not_fielded),
        "rules": _records(report.rules[["rule", "setting", "value", "action", "source", "excluded", "flagged"]],
                          {"value": 3}),
        "rules_note": RULES_NOTE, "screened_rows": report.screened_rows, "screened_kept": report.screened_kept,
        "screened_excluded": report.screened_rows - report.screened_kept,
        "flagged_rows": int(log.loc[~log["excluded"], "source_row"].nunique()) if len(log) else 0,
        "log": _records(log.head(SHOW_ROWS)), "n_log": len(log),
        "indices": _records(report.indices, {"n": 0}),
        "pages": _records(report.pages, {"items": 0, "timed": 0, "median_seconds": 1, "threshold_seconds": 1}),
        "missing_items": _records(report.missing_items),
        "missing_respondents": _records(report.missing_respondents),
        "missing_modules": _records(report.missing_modules),
        "n_patterns": report.n_patterns, "shown_patterns": len(report.patterns),
        "pattern_picture": pattern_picture(report.patterns) if figures else "",
        "mcar": _records(mcar[["scope", "items", "statistic", "df", "p", "n_patterns", "n", "note"]],
                         {"statistic": 2, "df": 0, "n_patterns": 0, "n": 0}, pcols=("p",)),
        "distributions": dist_sections, "text_answers": _records(report.text_answers),
        "reliability": _records(report.reliability, {"n.before": 0, "n.after": 0}),
        "notes": list(report.notes),
    }


def _md(s) -> str:
    return str(s).replace("|", "\\|").replace("\n", " ")


def render_html(report: QualityReport) -> str:
    """``quality.html``: one self-contained file (inline SVG, no script, autoescaped text)."""
    env = Environment(loader=PackageLoader("analysis.report", "templates"),
                      autoescape=select_autoescape(["html", "j2"], default=True))
    return env.get_template("quality.html.j2").render(**context(report))


def render_markdown(report: QualityReport) -> str:
    """``quality.md``: the same tables without the figures."""
    env = Environment(loader=PackageLoader("analysis.report", "templates"), autoescape=False,
                      trim_blocks=True, keep_trailing_newline=True)
    env.filters["md"] = _md
    return env.get_template("quality.md.j2").render(**context(report, figures=False))


def write_quality(report: QualityReport, out: str | Path) -> list[Path]:
    """Write ``quality.html`` and ``quality.md`` into ``out``; return their paths."""
    out = Path(out)
    return [write_text(out / "quality.html", render_html(report)),
            write_text(out / "quality.md", render_markdown(report))]
