"""The pilot study: which items to keep before fielding, in small steps.

1. prepare  - codes checked, rows screened and reverse-keyed items reverse-scored, as ``analyze`` does
              (:func:`analysis.propositions.pipeline.step12_prepare`);
2. items    - per item (answers as given, firms asked only): answered, missing share, mean, SD,
              skew, excess kurtosis, floor and ceiling shares, the count of each answer;
3. scales   - per construct (reverse-scored): Cronbach's alpha, corrected item-total correlations,
              alpha if an item is deleted, omega of a one-factor CFA (FIML);
4. efa      - per module: Horn's parallel analysis, then an EFA (principal axes, oblimin) on the
              pairwise correlations; primary loading, cross-loadings, items on an
              unexpected factor, reverse-keyed items forming a factor of their own (a method factor);
5. cuts     - the flags of each item under :class:`~analysis.pilot.thresholds.PilotThresholds`, the
              suggested cuts (never below ``min_items`` per construct) with their reasons, alpha after;
6. times    - completion time: observed (``duration_sec``; page timers when the export has them) and
              the instrument's estimate, before and after the cuts.

:func:`pilot` returns a :class:`PilotResult` of tidy frames; :func:`write_pilot` writes them
(CSV, the thresholds used, provenance) and :mod:`analysis.pilot.report` renders the report.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from analysis.pilot.thresholds import PilotThresholds
from analysis.propositions.pipeline import step12_prepare
from analysis.psychometrics.efa import (
    correlations,
    efa_correlations,
    parallel_analysis_correlations,
)
from analysis.psychometrics.reliability import cronbach_alpha, item_total, reliability
from analysis.psychometrics.scoring import Scored, check_layout
from analysis.psychometrics.screening import ScreeningResult
from analysis.sem.fit import fit
from instrument import Instrument, load_instrument
from instrument.platforms.base import fielded, page_variables
from smecore.errors import DataError, SmeSurveyError, SmeSurveyWarning

ITEM_COLUMNS = ("module", "construct", "item", "reverse", "asked", "answered", "missing.share", "mean", "sd",
                "skew", "kurtosis", "floor", "ceiling", "r.drop", "alpha.if.deleted", "efa.factor",
                "efa.loading", "efa.cross", "flags", "action", "reasons")
CONSTRUCT_COLUMNS = ("module", "construct", "items", "n.complete", "alpha", "omega", "items.after", "alpha.after",
                     "cut", "note")
CUT_COLUMNS = ("module", "construct", "item", "action", "reasons")
TIME_COLUMNS = ("measure", "before", "after", "basis")
MODULE_COLUMNS = ("module", "items", "rows", "constructs", "factors.parallel.pc", "factors.parallel.fa",
                  "factors.extracted", "note")


@dataclass(frozen=True)
class PilotResult:
    """Everything the pilot found (columns: the ``*_COLUMNS`` constants of this module)."""

    items: pd.DataFrame  # ITEM_COLUMNS, one row per item (scale items, then matrix cells)
    distributions: pd.DataFrame  # item, code, n, share
    constructs: pd.DataFrame  # CONSTRUCT_COLUMNS
    modules: pd.DataFrame  # MODULE_COLUMNS
    loadings: pd.DataFrame  # module, item, construct, reverse, F1..Fk (the module's rotated loadings)
    parallel: pd.DataFrame  # module, k, observed.pc, random.pc, observed.fa, random.fa
    cuts: pd.DataFrame  # CUT_COLUMNS: every flagged item, cut or kept, with the reasons
    times: pd.DataFrame  # TIME_COLUMNS
    pages: pd.DataFrame  # page, items, timed, median.seconds, seconds.per.item (empty without page timers)
    screening: ScreeningResult
    scored: Scored = field(repr=False)
    thresholds: PilotThresholds = field(default_factory=PilotThresholds)
    options: dict = field(default_factory=dict)

    @property
    def suggested_cuts(self) -> pd.DataFrame:
        """The rows of :attr:`cuts` whose action is ``cut``."""
        return self.cuts[self.cuts["action"] == "cut"].reset_index(drop=True)

    def summary(self) -> str:
        """A few lines: rows, constructs, cuts and the completion time before and after."""
        t = self.times.set_index("measure")
        lines = [f"pilot of {self.options['rows.kept']} firms ({self.options['rows.read']} read), "
                 f"{len(self.constructs)} constructs with {int(self.constructs['items'].sum())} items"
                 + (f" (and {len(self.items) - int(self.constructs['items'].sum())} matrix cells)"
                    if len(self.items) > int(self.constructs["items"].sum()) else ""),
                 f"suggested cuts: {len(self.suggested_cuts)}"
                 + "".join(f"\n  {r.item} ({r.construct}): {r.reasons}" for r in self.suggested_cuts.itertuples())]
        for m in t.index:
            lines.append(f"{m}: {t.loc[m, 'before']:.1f} -> {t.loc[m, 'after']:.1f} min ({t.loc[m, 'basis']})")
        return "\n".join(lines)


def _asked(data: pd.DataFrame, relevant: dict | None) -> np.ndarray:
    """Rows to whom a question applied (its skip logic ``{variable: code}`` holds; every row when none)."""
    mask = np.ones(len(data), dtype=bool)
    for var, code in (relevant or {}).items():
        if var in data.columns:
            mask &= (pd.to_numeric(data[var], errors="coerce") == code).to_numpy()
    return mask


# -- step 2 ------------------------------------------------------------------------------------

def step2_items(kept: pd.DataFrame, instrument: Instrument) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Descriptives of every scale item and matrix cell (answers as given, the firms asked only) and the
    count of each answer. Skew and kurtosis are the bias-corrected sample ones (SPSS, ``psych::describe``
    type 2)."""
    rows, dist = [], []
    for v in instrument.variables(paradata=False):
        if v.kind not in ("likert", "matrix") or v.name not in kept.columns:
            continue
        asked = _asked(kept, v.relevant)
        x = pd.to_numeric(kept.loc[asked, v.name], errors="coerce")
        answered = x.dropna()
        codes = [p.value for p in instrument.scales[v.scale].points]
        n = len(answered)
        rows.append({"module": v.module, "construct": v.construct, "item": v.name, "reverse": v.reverse,
                     "asked": int(asked.sum()), "answered": n,
                     "missing.share": 1 - n / asked.sum() if asked.sum() else np.nan,
                     "mean": answered.mean() if n else np.nan, "sd": answered.std() if n > 1 else np.nan,
                     "skew": stats.skew(answered, bias=False) if n > 2 and answered.nunique() > 1 else np.nan,
                     "kurtosis": stats.kurtosis(answered, bias=False) if n > 3 and answered.nunique() > 1
                     else np.nan,
                     "floor": (answered == min(codes)).mean() if n else np.nan,
                     "ceiling": (answered == max(codes)).mean() if n else np.nan})
        dist += [{"item": v.name, "code": int(c), "n": int((answered == c).sum()),
                  "share": (answered == c).mean() if n else np.nan} for c in codes]
    return pd.DataFrame(rows), pd.DataFrame(dist, columns=["item", "code", "n", "share"])


# -- step 3 ------------------------------------------------------------------------------------

def omega_one_factor(frame: pd.DataFrame, items: Sequence[str]) -> float:
    """McDonald's omega of a one-factor CFA of ``items`` fitted by ML with FIML (rows answering any item):
    ``(sum l)^2 phi / ((sum l)^2 phi + sum theta)`` as :func:`analysis.psychometrics.reliability.reliability`
    (``semTools::reliability``)."""
    model = "F =~ " + " + ".join(items)
    rows = frame[list(items)].apply(pd.to_numeric, errors="coerce").dropna(how="all")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SmeSurveyWarning)  # a Heywood case is reported by the omega above 1
        res = fit(model, rows, missing="fiml")
    return float(reliability(res.parameters).set_index("factor").loc["F", "omega"])


def step3_scales(scored: Scored, instrument: Instrument) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per construct (reverse-scored items, firms asked): alpha, omega and per item ``r.drop`` and
    ``alpha.if.deleted`` (listwise, as ``psych::alpha``). Returns (constructs, item statistics)."""
    rows, item_rows = [], []
    for mid in scored.modules:
        # M0: the marker variable's items (a scale too, though no hypothesis is about it)
        scales = instrument.constructs_in(mid) if mid != "M0" else [c for c in [instrument.marker] if c]
        for c in scales:
            if c.id not in scored.constructs:
                continue
            items = scored.constructs[c.id]
            mod = instrument.module(mid)
            frame = scored.data.loc[_asked(scored.data, mod.relevant), items].apply(pd.to_numeric, errors="coerce")
            row = {"module": mid, "construct": c.id, "items": len(items), "n.complete": int(frame.notna().all(axis=1)
                                                                                            .sum()),
                   "alpha": np.nan, "omega": np.nan, "note": ""}
            try:
                row["alpha"] = float(cronbach_alpha(frame, items)["alpha"].iloc[0])
                item_rows.append(item_total(frame, items)[["item", "r.drop", "alpha.if.deleted"]])
            except DataError as exc:
                row["note"] = f"alpha not computed: {exc}"
            try:
                row["omega"] = omega_one_factor(frame, items)
            except SmeSurveyError as exc:
                row["note"] = (row["note"] + "; " if row["note"] else "") + f"omega not computed: {exc}"
            rows.append(row)
    stats_frame = pd.concat(item_rows, ignore_index=True) if item_rows else \
        pd.DataFrame(columns=["item", "r.drop", "alpha.if.deleted"])
    return pd.DataFrame(rows), stats_frame


# -- step 4 ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ModuleEFA:
    """One module's EFA: the rotated loadings, parallel analysis and the flags it raised per item."""

    loadings: pd.DataFrame  # items x factors
    parallel: pd.DataFrame
    suggested: int  # parallel analysis: components above the random ones (Horn 1965)
    suggested_fa: int  # parallel analysis: common factors above the random ones (psych::fa.parallel)
    flags: dict[str, list[tuple[str, str]]]  # item -> [(rule, reason)]
    note: str


def _assign(loadings: pd.DataFrame, constructs: dict[str, list[str]]) -> dict[str, str]:
    """The factor of each construct: where most of its items have their primary loading (ties: the larger
    sum of absolute loadings)."""
    primary = loadings.abs().idxmax(axis=1)
    out = {}
    for c, items in constructs.items():
        counts = primary[items].value_counts()
        top = counts[counts == counts.max()].index
        out[c] = max(top, key=lambda f: float(loadings.loc[items, f].abs().sum()))
    return out


def module_efa(frame: pd.DataFrame, constructs: dict[str, list[str]], reverse: set[str],
               thresholds: PilotThresholds) -> ModuleEFA:
    """Parallel analysis, then an EFA (principal axis factoring, oblimin rotation) on the pairwise
    correlations of ``frame`` (reverse-scored items; ``psych::fa``'s default ``use``). Principal axes
    rather than ML: at pilot sizes (30-100 firms, up to 38 items a module) the ML fit often fails to
    converge.

    Factors extracted: as many as the module has constructs, or more when parallel analysis (the
    common-factor version, ``psych::fa.parallel``'s ``nfact``) finds more - an extra factor is where a
    method factor shows (fewer than the design would merge constructs and dilute every loading, so the
    items could not be judged against their own construct). Both parallel-analysis counts (principal
    components, Horn 1965; common factors) are reported: fewer than the constructs says the constructs
    are not distinct in these data. Flags per item, under ``thresholds``:

    * ``loading``: primary (largest absolute) loading below ``thresholds.loading``;
    * ``cross_loading``: a loading of ``thresholds.cross_loading`` or more on another factor;
    * ``unexpected_factor``: the primary loading is on another factor than most of the construct's items
      (when every item of that factor is reverse-keyed and they come from several constructs, the
      reason says so: a method factor of the wording, not of the content).
    """
    items = [i for its in constructs.values() for i in its]
    r, n = correlations(frame, items, missing="pairwise")
    table, suggestion = parallel_analysis_correlations(r, n, n_iter=thresholds.parallel_iterations,
                                                       seed=thresholds.seed)
    p = len(items)
    k = max(len(constructs), suggestion["factors"])
    while k > 1 and (p - k) ** 2 <= p + k:  # an identified factor model: positive degrees of freedom
        k -= 1
    notes = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = efa_correlations(r, n, k, method="pa", rotation="oblimin" if k > 1 else None)
    if any("converge" in str(w.message) for w in caught):
        notes.append(f"the EFA with {k} factors did not converge (statsmodels): read its loadings with care")
    lam = res.loadings
    home = _assign(lam, constructs)
    construct_of = {i: c for c, its in constructs.items() for i in its}
    primary = lam.abs().idxmax(axis=1)
    flags: dict[str, list[tuple[str, str]]] = {i: [] for i in items}
    # a method factor: the home of no construct, on which (primary or not) only reverse-keyed items of
    # two or more constructs load at least at the cross-loading threshold
    method: dict[str, list[str]] = {}
    for f in lam.columns:
        if f in home.values():
            continue
        on = [i for i in items if abs(lam.loc[i, f]) >= thresholds.cross_loading]
        if len(on) >= 2 and all(i in reverse for i in on) and len({construct_of[i] for i in on}) > 1:
            method[f] = on
            notes.append(f"{f}: the reverse-keyed items of {', '.join(sorted({construct_of[i] for i in on}))} "
                         f"({', '.join(on)}) share a factor of their own - a method factor of the wording")
        elif any(primary[i] == f for i in items):
            notes.append(f"{f}: the factor of no construct; primary for "
                         f"{', '.join(i for i in items if primary[i] == f)}")
    for i in items:
        c, f = construct_of[i], primary[i]
        value = float(lam.loc[i, f])
        if abs(value) < thresholds.loading:
            flags[i].append(("loading", f"primary EFA loading {_vs(value, thresholds.loading)} < "
                                        f"{thresholds.loading:.2f}"))
        others = [(g, float(lam.loc[i, g])) for g in lam.columns if g != f and
                  abs(lam.loc[i, g]) >= thresholds.cross_loading]
        if others:
            flags[i].append(("cross_loading", "cross-loads on " + ", ".join(
                f"{g} ({_vs(v, thresholds.cross_loading)})" for g, v in others) + f" besides {f} ({value:.2f})"))
        with_whom = sorted({construct_of[j] for j in items if primary[j] == f} - {c})
        if f in method:
            partners = sorted({construct_of[j] for j in method[f]} - {c})
            flags[i].append(("unexpected_factor", f"loads on {f} ({value:.2f}) with the reverse-keyed items of "
                                                  f"{', '.join(partners)} (a method factor), not on {home[c]} with "
                                                  f"the other {c} items"))
        elif f != home[c]:
            flags[i].append(("unexpected_factor", f"loads on {f} ({value:.2f})"
                             + (f" with items of {', '.join(with_whom)}" if with_whom else "")
                             + f", not on {home[c]} with the other {c} items"))
        else:
            for g, members in method.items():
                if i in members:
                    partners = sorted({construct_of[j] for j in members} - {c})
                    flags[i].append(("unexpected_factor", f"also loads on {g} ({lam.loc[i, g]:.2f}) with the "
                                                          f"reverse-keyed items of {', '.join(partners)} "
                                                          "(a method factor)"))
    return ModuleEFA(lam, table, suggestion["components"], suggestion["factors"], flags, "; ".join(notes))


def step4_efa(scored: Scored, instrument: Instrument, thresholds: PilotThresholds
              ) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, dict[str, list[tuple[str, str]]]]:
    """:func:`module_efa` for every module with two or more constructs' items. Returns (modules,
    loadings, parallel analysis, flags per item)."""
    mods, loads, par, flags = [], [], [], {}
    for mid in scored.modules:
        if mid == "M0":
            continue
        constructs = {c.id: scored.constructs[c.id] for c in instrument.constructs_in(mid)
                      if c.id in scored.constructs}
        items = [i for its in constructs.values() for i in its]
        if not items:
            continue
        reverse = {it.id for c in instrument.constructs_in(mid) for it in c.items if it.reverse}
        frame = scored.data.loc[_asked(scored.data, instrument.module(mid).relevant), items]
        frame = frame.apply(pd.to_numeric, errors="coerce").dropna(how="all")
        row = {"module": mid, "items": len(items), "rows": len(frame), "constructs": len(constructs),
               "factors.parallel.pc": np.nan, "factors.parallel.fa": np.nan, "factors.extracted": np.nan,
               "note": ""}
        try:
            m = module_efa(frame, constructs, reverse, thresholds)
        except (SmeSurveyError, np.linalg.LinAlgError, ValueError) as exc:
            row["note"] = f"EFA not computed: {exc}"
            mods.append(row)
            continue
        row.update({"factors.parallel.pc": m.suggested, "factors.parallel.fa": m.suggested_fa,
                    "factors.extracted": m.loadings.shape[1], "note": m.note})
        mods.append(row)
        construct_of = {i: c for c, its in constructs.items() for i in its}
        lam = m.loadings.reset_index(names="item")
        lam.insert(0, "module", mid)
        lam.insert(2, "construct", [construct_of[i] for i in lam["item"]])
        lam.insert(3, "reverse", [i in reverse for i in lam["item"]])
        loads.append(lam)
        par.append(m.parallel.assign(module=mid))
        flags.update(m.flags)
    loadings = pd.concat(loads, ignore_index=True) if loads else pd.DataFrame(columns=["module", "item", "construct",
                                                                                       "reverse"])
    parallel = pd.concat(par, ignore_index=True) if par else pd.DataFrame(columns=["module", "k"])
    if len(parallel):
        parallel = parallel[["module", *[c for c in parallel.columns if c != "module"]]]
    return pd.DataFrame(mods, columns=list(MODULE_COLUMNS)), loadings, parallel, flags


# -- step 5 ------------------------------------------------------------------------------------

def _vs(value: float, threshold: float) -> str:
    """``value`` with 2 decimals, or 3 where 2 would print it equal to ``threshold`` (0.398 vs 0.40)."""
    return f"{value:.2f}" if f"{abs(value):.2f}" != f"{threshold:.2f}" else f"{value:.3f}"


def _item_flags(r: dict, alpha: float, efa_flags: list[tuple[str, str]], th: PilotThresholds) -> list[tuple[str, str]]:
    """Every rule an item breaks, as ``(rule, reason)``."""
    out = []
    if np.isfinite(r.get("r.drop", np.nan)) and r["r.drop"] < th.item_total:
        out.append(("item_total", f"corrected item-total r {_vs(r['r.drop'], th.item_total)} < {th.item_total:.2f}"))
    gain = r.get("alpha.if.deleted", np.nan)
    if np.isfinite(gain) and np.isfinite(alpha) and gain > alpha + th.alpha_gain:
        out.append(("alpha_gain", f"alpha rises from {alpha:.2f} to {gain:.2f} without it"))
    out += efa_flags
    if np.isfinite(r["missing.share"]) and r["missing.share"] > th.missing:
        out.append(("missing", f"{r['missing.share']:.0%} of the firms asked left it unanswered "
                               f"(> {th.missing:.0%})"))
    for end in ("floor", "ceiling"):
        if np.isfinite(r[end]) and r[end] > th.floor_ceiling:
            out.append(("floor_ceiling", f"{end} effect: {r[end]:.0%} at the "
                                         f"{'lowest' if end == 'floor' else 'highest'} answer "
                                         f"(> {th.floor_ceiling:.0%})"))
    return out


def step5_cuts(items: pd.DataFrame, constructs: pd.DataFrame, scored: Scored, instrument: Instrument,
               efa_flags: dict[str, list[tuple[str, str]]], th: PilotThresholds
               ) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Flags, suggested cuts and alpha after them.

    An item is a candidate when a rule of ``th.cut_rules`` flags it; within a construct the candidates
    are cut in order (most reasons first, then the lowest corrected item-total correlation) while more
    than ``th.min_items`` items remain; the rest are ``flagged, kept`` with the reason. Matrix cells
    (single items) are never cut, only flagged. Returns (items with ``flags, action, reasons``,
    constructs with ``items.after, alpha.after, cut``, the cut table).
    """
    alpha = dict(zip(constructs["construct"], constructs["alpha"], strict=True)) if len(constructs) else {}
    scale_items = {c: scored.constructs[c] for c in alpha}
    items = items.copy()
    records = items.to_dict("records")
    found = {r["item"]: _item_flags(r, alpha.get(r["construct"], np.nan), efa_flags.get(r["item"], []), th)
             for r in records}
    action = {r["item"]: "" for r in records}
    reasons = {}
    for c, its in scale_items.items():
        candidates = [i for i in its if any(rule in th.cut_rules for rule, _ in found[i])]
        r_drop = items.set_index("item")["r.drop"]
        candidates.sort(key=lambda i: (-sum(rule in th.cut_rules for rule, _ in found[i]),
                                       r_drop.get(i, np.nan) if np.isfinite(r_drop.get(i, np.nan)) else 9.0,
                                       its.index(i)))
        left = len(its)
        for i in candidates:
            if left > th.min_items:
                action[i] = "cut"
                left -= 1
            else:
                action[i] = "flagged, kept"
                reasons[i] = f"kept: {c} needs at least {th.min_items} items"
    for r in records:
        i = r["item"]
        if found[i] and not action[i]:
            action[i] = "flagged, kept" if r["construct"] in scale_items or any(
                rule in th.cut_rules for rule, _ in found[i]) else "flagged"
            if r["construct"] not in scale_items and any(rule in th.cut_rules for rule, _ in found[i]):
                reasons[i] = "kept: a single-item matrix cell; revise its wording rather than cut it"
            elif r["construct"] in scale_items:
                reasons[i] = "flag only: no rule of cut_rules applies"
    items["flags"] = [", ".join(dict.fromkeys(rule for rule, _ in found[i])) for i in items["item"]]
    items["action"] = [action[i] for i in items["item"]]
    items["reasons"] = ["; ".join([why for _, why in found[i]] + ([reasons[i]] if i in reasons else []))
                        for i in items["item"]]
    cuts = items.loc[items["flags"] != "", ["module", "construct", "item", "action", "reasons"]]
    order = {"cut": 0, "flagged, kept": 1, "flagged": 2}
    cuts = cuts.assign(_o=cuts["action"].map(order)).sort_values(["_o", "module"], kind="mergesort") \
        .drop(columns="_o").reset_index(drop=True)
    constructs = constructs.copy()
    after, a_after, cut_list = [], [], []
    for c in constructs["construct"]:
        its = scale_items[c]
        gone = [i for i in its if action[i] == "cut"]
        rest = [i for i in its if i not in gone]
        after.append(len(rest))
        cut_list.append(", ".join(gone))
        value = alpha[c]
        if gone:
            frame = scored.data.loc[_asked(scored.data, instrument.module(
                constructs.loc[constructs["construct"] == c, "module"].iloc[0]).relevant), rest]
            try:
                value = float(cronbach_alpha(frame, rest)["alpha"].iloc[0])
            except DataError:
                value = np.nan
        a_after.append(value)
    constructs["items.after"] = after
    constructs["alpha.after"] = a_after
    constructs["cut"] = cut_list
    return items, constructs.reindex(columns=list(CONSTRUCT_COLUMNS)), cuts.reindex(columns=list(CUT_COLUMNS))


# -- step 6 ------------------------------------------------------------------------------------

def step6_times(kept: pd.DataFrame, instrument: Instrument, cut_items: Sequence[str],
                page_seconds: pd.DataFrame | None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Completion time before and after the cuts, in minutes.

    * the instrument's estimate (:meth:`Instrument.completion_time`, its seconds per item), less
      ``timing.likert`` seconds per cut item;
    * the observed median of ``duration_sec`` (firms kept), less per cut item the median seconds per
      item of its page when the export has page timers, else scaled by the estimate's ratio after/before.

    Returns (times, pages: ``page, items, timed, median.seconds, seconds.per.item``).
    """
    fielded_inst = fielded(instrument, kept.columns)
    est = fielded_inst.completion_time()
    before = float(est["seconds"].iloc[-1])
    after = before - len(cut_items) * fielded_inst.questionnaire.timing.likert
    rows = [{"measure": "estimate (instrument's seconds per item)", "before": before / 60, "after": after / 60,
             "basis": fielded_inst.completion_time().attrs["assumptions"]}]
    pages = pd.DataFrame(columns=["page", "items", "timed", "median.seconds", "seconds.per.item"])
    per_item_page: dict[str, float] = {}
    if page_seconds is not None and len(page_seconds):
        layout = page_variables(fielded_inst)
        prow = []
        for page, variables in layout.items():
            if page not in page_seconds.columns:
                continue
            secs = pd.to_numeric(page_seconds[page], errors="coerce").dropna()
            k = len(variables)
            med = float(secs.median()) if len(secs) else np.nan
            prow.append({"page": page, "items": k, "timed": len(secs), "median.seconds": med,
                         "seconds.per.item": med / k if k and np.isfinite(med) else np.nan})
            for v in variables:
                per_item_page[v] = med / k if k and np.isfinite(med) else np.nan
        pages = pd.DataFrame(prow, columns=list(pages.columns))
    if "duration_sec" in kept.columns:
        d = pd.to_numeric(kept["duration_sec"], errors="coerce").dropna()
        if len(d):
            med = float(d.median())
            saved = [per_item_page.get(i, np.nan) for i in cut_items]
            q1, q3 = np.percentile(d, [25, 75])
            spread = f"{len(d)} firms, quartiles {q1 / 60:.1f}-{q3 / 60:.1f} min"
            if per_item_page and all(np.isfinite(saved)):
                rows.append({"measure": "observed median (duration_sec)", "before": med / 60,
                             "after": (med - sum(saved)) / 60,
                             "basis": f"{spread}; after: less the median seconds per item of each cut item's "
                                      "page (page timers)"})
            else:
                rows.append({"measure": "observed median (duration_sec)", "before": med / 60,
                             "after": med * (after / before) / 60,
                             "basis": f"{spread}; after: scaled by the estimate's ratio after/before "
                                      "(no page timers)"})
    return pd.DataFrame(rows, columns=list(TIME_COLUMNS)), pages


# -- the whole pilot ---------------------------------------------------------------------------

def pilot(data: pd.DataFrame, *, instrument: Instrument | None = None, modules: Sequence[str] | None = None,
          thresholds: PilotThresholds | None = None, page_seconds: pd.DataFrame | None = None,
          source: str = "data") -> PilotResult:
    """Analyse a pilot sample (see the module docstring) and suggest item cuts.

    ``data``: responses as answered, laid out as the codebook (what ``analyze`` reads; platform exports
    go through :func:`analysis.ingest.pipeline.ingest` first); ``page_seconds``: their page times, one
    row per row of ``data`` (``IngestResult.pages``). ``modules`` restricts the pilot (default: every
    module present).
    """
    if not isinstance(data, pd.DataFrame):
        raise DataError(f"{source}: expected a table of responses")
    th = thresholds or PilotThresholds()
    full = instrument or load_instrument()
    inst = full.select(modules)
    check_layout(data.columns, inst, source, known=[v.name for v in full.variables()])
    if not any(v.kind == "likert" and v.name in data.columns for v in inst.variables(paradata=False)):
        raise DataError(f"{source}: no questionnaire items found; columns must be named as the codebook "
                        "(e.g. tk_1, cbc_2)")
    pages_in = None
    if page_seconds is not None:
        if len(page_seconds) != len(data):
            raise DataError(f"{source}: {len(page_seconds)} rows of page times for {len(data)} rows of data; "
                            "pass the page times of these rows, in order")
        pages_in = page_seconds.set_axis(data.index)
    screened, scored = step12_prepare(data, inst, None, pages_in)
    kept = screened.kept
    items, dist = step2_items(kept, inst)
    if items.empty:
        raise DataError(f"{source}: no scale items of the selected modules in the data")
    constructs, item_stats = step3_scales(scored, inst)
    items = items.merge(item_stats, on="item", how="left")
    mods, loadings, parallel, efa_flags = step4_efa(scored, inst, th)
    if len(loadings):
        lam = loadings.set_index("item")[[c for c in loadings.columns if c.startswith("F")]]
        primary = lam.abs().idxmax(axis=1)
        items["efa.factor"] = items["item"].map(primary).fillna("")
        items["efa.loading"] = [float(lam.loc[i, primary[i]]) if i in primary.index else np.nan for i in items["item"]]
        items["efa.cross"] = [float(lam.loc[i].drop(primary[i]).abs().max()) if i in primary.index and
                              lam.shape[1] > 1 else np.nan for i in items["item"]]
    items, constructs, cuts = step5_cuts(items, constructs, scored, inst, efa_flags, th)
    items = items.reindex(columns=list(ITEM_COLUMNS))
    times, pages = step6_times(kept, inst, list(cuts.loc[cuts["action"] == "cut", "item"]),
                               pages_in.loc[kept.index] if pages_in is not None else None)
    options = {"source": source, "rows.read": len(data), "rows.kept": len(kept), "modules": list(scored.modules),
               "thresholds": {k: list(v) if isinstance(v, tuple) else v for k, v in th.__dict__.items()}}
    return PilotResult(items, dist, constructs, mods, loadings, parallel, cuts, times, pages, screened, scored, th,
                       options)
