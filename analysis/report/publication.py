"""Publication outputs of an analysis: APA-style tables (CSV, Word, LaTeX) and path diagrams (SVG, PDF).

:func:`publication_tables` turns an :class:`~analysis.propositions.pipeline.AnalysisResult` into numbered
:class:`PubTable` objects whose cells are the strings a paper prints (APA 7: two decimals, no leading
zero for values that cannot exceed 1 - reliabilities, loadings, HTMT, p; p below .001 as ``< .001``).
:func:`write_publication` writes each as ``<key>.csv`` and all of them into ``tables.docx``
(python-docx; horizontal rules only, the table number in bold above an italic title, notes below) and
``tables.tex`` (booktabs, via pandas' ``Styler.to_latex``), so the numbers in the three are the same
strings; plus one path diagram per module as ``diagram_<module>.svg`` / ``.pdf`` (graphviz).

The tables, in order: the response and exclusion flow; the sample (firms by country, sector,
technology intensity and size); item descriptives; missing data per construct; the measurement model
(standardized loadings, alpha, omega, CR, AVE, the largest HTMT); HTMT ratios per module; model fit;
the structural results (every decision test with its 95% CI); the cross-country invariance sequence
(configural, metric, scalar) of each module's CFA, run when at least two countries have
:data:`MIN_COUNTRY_FIRMS` firms; the hypotheses with the seed propositions they test (cited by author
and year). Same result, same bytes.
"""

from __future__ import annotations

import math
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.propositions.models import measurement_specs, numeric_frame
from analysis.propositions.pipeline import AnalysisResult
from analysis.psychometrics.validity import htmt
from analysis.report.diagram import DiagramError, analysis_diagram, render_pdf, render_svg
from analysis.sem.invariance import measurement_invariance
from analysis.sem.syntax import parse_model
from instrument import Instrument
from smecore.csvsafe import write_csv
from smecore.errors import SmeSurveyError, SmeSurveyWarning
from smecore.files import save_office, write_text

#: Firms a country needs to enter the invariance sequence (a common minimum for multi-group CFA).
MIN_COUNTRY_FIRMS = 100
#: Levels of the invariance sequence (strict invariance is rarely needed for comparing latent means).
INVARIANCE_LEVELS = ("configural", "metric", "scalar")
#: Screening rules in the order a row is counted in the flow (its first failed rule).
FLOW_ORDER = ("duplicate", "partial", "attention", "speeder", "straightline", "page_speeder", "outlier", "irv",
              "evenodd", "psychsyn", "psychant")
#: Size classes of the EU definition of SMEs (employees).
SIZE_CLASSES = (("Micro (1-9 employees)", 1, 9), ("Small (10-49)", 10, 49), ("Medium (50-249)", 50, 249))


@dataclass(frozen=True)
class PubTable:
    """One numbered table: ``frame`` holds the printed strings (its columns are the headings)."""

    key: str
    number: int
    title: str
    frame: pd.DataFrame
    note: str = ""


@dataclass(frozen=True)
class Publication:
    """The numbered tables, the hypothesis-to-proposition map (also a table), the references."""

    tables: tuple[PubTable, ...]
    references: tuple[str, ...]
    notes: tuple[str, ...] = ()  # what could not be computed (invariance refused, ...)
    diagrams: dict = field(default_factory=dict, repr=False)  # module -> graphviz.Digraph

    def table(self, key: str) -> PubTable:
        return next(t for t in self.tables if t.key == key)


# -- APA numbers -------------------------------------------------------------------------------

def num(x, digits: int = 2, *, lead: bool = True) -> str:
    """A number as printed: fixed decimals; ``lead=False`` drops the zero before the point (APA, for
    quantities that cannot exceed 1); empty when not finite."""
    if x is None or x is pd.NA:
        return ""
    try:
        x = float(x)
    except (TypeError, ValueError):
        return str(x)
    if not math.isfinite(x):
        return ""
    text = f"{x:.{digits}f}"
    if text.startswith("-") and float(text) == 0:
        text = text[1:]
    if not lead:
        text = re.sub(r"^(-?)0\.", r"\1.", text)
    return text


def pval(p) -> str:
    """APA p-value: ``< .001`` or three decimals without the leading zero; empty when unknown."""
    if p is None or p is pd.NA or not np.isfinite(p):
        return ""
    return "< .001" if p < 0.001 else num(p, 3, lead=False)


def integer(x) -> str:
    return "" if x is None or x is pd.NA or (isinstance(x, float) and not math.isfinite(x)) else str(int(x))


# -- the tables --------------------------------------------------------------------------------

def _flow(result: AnalysisResult) -> pd.DataFrame:
    o = result.options
    rows = []
    ing = o.get("ingest") or {}
    if ing:
        rows.append(("Rows in the export", integer(ing["rows_read"]), ""))
        rows.append(("Excluded when read (see rows.csv)", integer(ing["rows_read"] - ing["rows_kept"]), ""))
    read = int(o["rows.read"])
    rows.append(("Responses screened", integer(read), "100.0"))
    log = result.screening.log
    excluded = log[log["excluded"].astype(bool)] if len(log) else log
    first = {}
    for r in excluded.itertuples():
        rank = FLOW_ORDER.index(r.rule) if r.rule in FLOW_ORDER else len(FLOW_ORDER)
        if r.row not in first or rank < first[r.row][0]:
            first[r.row] = (rank, r.rule)
    counts = pd.Series([rule for _, rule in first.values()]).value_counts() if first else pd.Series(dtype=int)
    for rule in [*FLOW_ORDER, *sorted(set(counts.index) - set(FLOW_ORDER))]:
        if rule in counts.index:
            rows.append((f"Excluded: {rule}", integer(counts[rule]), num(100 * counts[rule] / read, 1)))
    rows.append(("Analysed", integer(o["rows.kept"]), num(100 * o["rows.kept"] / read, 1)))
    return pd.DataFrame(rows, columns=["Step", "n", "%"])


def _sample(result: AnalysisResult, instrument: Instrument) -> pd.DataFrame:
    kept = result.screening.kept
    n = len(kept)
    rows = []
    for var, label in (("firm_country", "Country"), ("firm_sector", "Sector"), ("firm_tech", "Technology intensity")):
        if var not in kept.columns:
            continue
        labels = instrument.value_labels(instrument.variable(var))
        x = pd.to_numeric(kept[var], errors="coerce")
        for code, text in labels.items():
            k = int((x == code).sum())
            if k:
                rows.append((label, text, integer(k), num(100 * k / n, 1)))
        if x.isna().any():
            rows.append((label, "Not answered", integer(x.isna().sum()), num(100 * x.isna().sum() / n, 1)))
    if "firm_employees" in kept.columns:
        x = pd.to_numeric(kept["firm_employees"], errors="coerce")
        for text, lo, hi in SIZE_CLASSES:
            k = int(x.between(lo, hi).sum())
            rows.append(("Size", text, integer(k), num(100 * k / n, 1)))
        if x.isna().any():
            rows.append(("Size", "Not answered", integer(x.isna().sum()), num(100 * x.isna().sum() / n, 1)))
    return pd.DataFrame(rows, columns=["Characteristic", "Category", "n", "%"])


def _scale_constructs(result: AnalysisResult, instrument: Instrument) -> list[tuple[str, object]]:
    """(module, construct) of every first-order construct analysed, in questionnaire order."""
    return [(m, c) for m in result.scored.modules if m != "M0" for c in instrument.constructs_in(m)
            if c.id in result.scored.constructs]


def _asked(data: pd.DataFrame, relevant: dict | None) -> np.ndarray:
    mask = np.ones(len(data), dtype=bool)
    for var, code in (relevant or {}).items():
        if var in data.columns:
            mask &= (pd.to_numeric(data[var], errors="coerce") == code).to_numpy()
    return mask


def _items(result: AnalysisResult, instrument: Instrument) -> pd.DataFrame:
    data = result.scored.data
    rows = []
    for mid, c in _scale_constructs(result, instrument):
        asked = _asked(data, instrument.module(mid).relevant)
        for it in c.items:
            x = pd.to_numeric(data.loc[asked, it.id], errors="coerce").dropna()
            rows.append((c.id, it.id + (" (R)" if it.reverse else ""), integer(len(x)), num(x.mean()),
                         num(x.std()), num(x.skew()), num(x.kurt())))
    return pd.DataFrame(rows, columns=["Construct", "Item", "n", "M", "SD", "Skewness", "Kurtosis"])


def _missing(result: AnalysisResult, instrument: Instrument) -> pd.DataFrame:
    data = result.scored.data
    rows = []
    cells = answered = 0
    for mid, c in _scale_constructs(result, instrument):
        asked = _asked(data, instrument.module(mid).relevant)
        items = [it.id for it in c.items]
        x = data.loc[asked, items].apply(pd.to_numeric, errors="coerce")
        miss = float(x.isna().to_numpy().mean()) if x.size else np.nan
        cells += x.size
        answered += int(x.notna().to_numpy().sum())
        rows.append((mid, c.id, integer(len(items)), integer(int(asked.sum())), num(100 * miss, 1),
                     integer(int(x.notna().all(axis=1).sum()))))
    if cells:
        rows.append(("All", "", "", "", num(100 * (1 - answered / cells), 1), ""))
    return pd.DataFrame(rows, columns=["Module", "Construct", "Items", "Firms asked", "Missing answers (%)",
                                       "Complete cases"])


def _measurement(result: AnalysisResult, instrument: Instrument) -> pd.DataFrame:
    meas = result.measurement.set_index("construct") if len(result.measurement) else pd.DataFrame()
    p = result.parameters
    rows = []
    for mid, c in _scale_constructs(result, instrument):
        load = p[(p["model"] == f"measurement {mid}") & (p["op"] == "=~") & (p["lhs"] == c.id)
                 & (p["group"] == 1)].set_index("rhs")
        m = meas.loc[c.id] if c.id in meas.index else pd.Series(dtype=object)  # a failed CFA: no numbers

        def stat(key: str, m=m) -> str:
            value = m.get(key, np.nan)
            return num(value, lead=False) if isinstance(value, (int, float, np.number)) else ""

        top = m.get("max.htmt", np.nan)
        with_ = m.get("htmt.with", "")
        htmt_text = (num(top, lead=False) + (f" ({with_})" if isinstance(with_, str) and with_ else "")
                     if isinstance(top, (int, float, np.number)) and np.isfinite(top) else "")
        for k, it in enumerate(c.items):
            first = k == 0
            rows.append((c.id if first else "", it.id + (" (R)" if it.reverse else ""),
                         num(load.loc[it.id, "std.all"], lead=False) if it.id in load.index else "",
                         stat("alpha") if first else "", stat("omega") if first else "",
                         stat("cr") if first else "", stat("ave") if first else "", htmt_text if first else ""))
    return pd.DataFrame(rows, columns=["Construct", "Item", "\u03bb", "\u03b1", "\u03c9", "CR", "AVE", "HTMT max"])


def _htmt_tables(result: AnalysisResult, instrument: Instrument) -> list[tuple[str, pd.DataFrame]]:
    out = []
    for mid in [m for m in result.scored.modules if m != "M0"]:
        constructs = {c.id: result.scored.constructs[c.id] for c in instrument.constructs_in(mid)
                      if c.id in result.scored.constructs}
        if len(constructs) < 2:
            continue
        frame = numeric_frame(result.scored, [i for its in constructs.values() for i in its])
        try:
            long = htmt(frame, constructs)
        except SmeSurveyError:  # e.g. items never answered together: the measurement table says so
            continue
        names = list(constructs)
        value = {(r.construct1, r.construct2): r.htmt for r in long.itertuples()}
        rows = []
        for i, a in enumerate(names):
            row = [a]
            for j, b in enumerate(names[:-1]):
                row.append(num(value.get((b, a), value.get((a, b))), lead=False) if j < i else "")
            rows.append(row)
        out.append((mid, pd.DataFrame(rows[1:], columns=["Construct", *names[:-1]])))
    return out


def _fit(result: AnalysisResult) -> pd.DataFrame:
    rows = []
    keys = [k for k in result.fits if k.startswith("measurement")] + \
        [k for k in result.fits if not k.startswith("measurement")]
    for key in keys:
        fm = result.fits[key]
        rows.append((key, num(fm.get("chisq.scaled", fm["chisq"])), integer(fm["df"]),
                     num(fm.get("cfi.robust", fm["cfi"]), lead=False), num(fm.get("tli.robust", fm["tli"]), lead=False),
                     num(fm.get("rmsea.robust", fm["rmsea"]), 3, lead=False), num(fm["srmr"], 3, lead=False)))
    return pd.DataFrame(rows, columns=["Model", "\u03c7\u00b2 (scaled)", "df", "CFI", "TLI", "RMSEA", "SRMR"])


def _kind(kind: str) -> str:
    kind = str(kind)
    if kind.startswith("wald"):
        return "Wald (standardized)" if "standardized" in kind else "Wald"
    if "bootstrap" in kind:
        return "Percentile bootstrap"
    return {"lr": "\u03c7\u00b2 difference", "htmt": "HTMT"}.get(kind, kind)


def _structural(result: AnalysisResult) -> pd.DataFrame:
    v = result.verdicts.set_index("hypothesis") if len(result.verdicts) else pd.DataFrame()
    t = result.tests
    rows = []
    for hid in v.index:
        ht = t[(t["hypothesis"] == hid) & t["decision"].astype(bool)]
        for k, r in enumerate(ht.to_dict("records")):
            lo, hi = r.get("ci.lower", np.nan), r.get("ci.upper", np.nan)
            ci = f"[{num(lo)}, {num(hi)}]" if np.isfinite(lo) and np.isfinite(hi) else ""
            rows.append((hid if k == 0 else "", r["test"], _kind(r["kind"]), num(r["estimate"]), num(r.get("se")),
                         ci, pval(r["p.predicted"]), pval(v.loc[hid, "pvalue.holm"]) if k == 0 else "",
                         v.loc[hid, "verdict"] if k == 0 else ""))
    return pd.DataFrame(rows, columns=["Hypothesis", "Test", "Method", "Estimate", "SE", "95% CI", "p (one-sided)",
                                       "p (Holm)", "Verdict"])


def first_order(syntax: str) -> tuple[str, tuple[str, ...]]:
    """``syntax`` without its second-order factors (``F =~ F1 + F2``: every indicator a factor), whose
    first-order factors then correlate freely; returns the syntax and the dropped factors.

    The invariance sequence tests the items' measurement: with a second-order factor in every group,
    freeing the latent means at the scalar level leaves the first-order intercepts and the
    second-order mean confounded (not identified; lavaan fits it and warns that the vcov is singular).
    """
    statements = parse_model(syntax).statements
    latent = {s.lhs for s in statements if s.op == "=~"}
    second = {s.lhs for s in statements if s.op == "=~" and s.rhs in latent}
    if not second:
        return syntax, ()
    lines = [line for line in syntax.splitlines()
             if not (m := re.match(r"\s*([A-Za-z_.][\w.]*)\s*=~", line)) or m[1] not in second]
    if any(s.lhs in second or s.rhs in second for s in parse_model("\n".join(lines)).statements):
        return syntax, ()  # the second-order factors appear elsewhere (regressions): keep the model
    return "\n".join(lines) + "\n", tuple(sorted(second))


def _country_names(text: str, fits: dict, labels: dict) -> str:
    """``text`` with lavaan's "(group 2)" replaced by the country of that group."""
    groups = next(iter(fits.values())).group_labels

    def name(m: re.Match) -> str:
        code = groups[int(m[1]) - 1]
        return f"({labels.get(int(float(code)), code)})"
    return re.sub(r"\(group (\d+)\)", name, text)


def _invariance(result: AnalysisResult, instrument: Instrument) -> tuple[pd.DataFrame | None, str]:
    """The invariance sequence by country of each module's CFA (MLR, FIML), or None and why not."""
    data = result.scored.data
    if "firm_country" not in data.columns:
        return None, "no country in the data: no cross-country invariance sequence"
    country = pd.to_numeric(data["firm_country"], errors="coerce")
    sizes = country.value_counts()
    labels = instrument.value_labels(instrument.variable("firm_country"))
    enough = sorted(int(c) for c in sizes.index[sizes >= MIN_COUNTRY_FIRMS])
    few = [f"{labels.get(int(c), int(c))} ({int(sizes[c])} firms)" for c in sorted(sizes.index)
           if sizes[c] < MIN_COUNTRY_FIRMS]
    if len(enough) < 2:
        return None, (f"fewer than two countries with at least {MIN_COUNTRY_FIRMS} firms "
                      f"({', '.join(f'{labels.get(int(c), int(c))}: {int(n)}' for c, n in sizes.items())}): "
                      "no cross-country invariance sequence")
    rows, problems = [], []
    keep = country.isin(enough).to_numpy()
    flattened = []
    for spec in measurement_specs(result.scored, instrument, None):
        syntax, second = first_order(spec.syntax)
        if second:
            flattened.append(f"{spec.module} without its second-order factors ({', '.join(second)})")
        frame = spec.data.loc[keep].copy()
        frame["firm_country"] = country[keep].to_numpy()
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", SmeSurveyWarning)
                inv = measurement_invariance(syntax, frame, "firm_country", levels=INVARIANCE_LEVELS,
                                             estimator="MLR", missing="fiml", stop_when_improper=True)
        except SmeSurveyError as exc:
            problems.append(f"{spec.module}: not estimated ({re.split(r'[:;(]', str(exc))[0].strip()})")
            continue
        if inv.stopped:
            problems.append(f"{spec.module}: {_country_names(inv.stopped, inv.fits, labels)}")
        for k, r in enumerate(inv.table.to_dict("records")):
            rows.append((spec.module if k == 0 else "", r["level"], num(r["chisq"]), integer(r["df"]),
                         num(r["cfi"], 3, lead=False), num(r["rmsea"], 3, lead=False), num(r["srmr"], 3, lead=False),
                         num(r["delta.chisq"]), integer(r["delta.df"]) if np.isfinite(r["delta.df"]) else "",
                         pval(r["delta.pvalue"]), num(r["delta.cfi"], 3, lead=False), num(r["delta.rmsea"], 3, lead=False),
                         "" if r["invariant"] is None else ("yes" if r["invariant"] else "no")))
    note = (f"Countries: {', '.join(labels.get(c, str(c)) for c in enough)}"
            + (f"; left out (fewer than {MIN_COUNTRY_FIRMS} firms): {', '.join(few)}" if few else "")
            + (f". First-order factors only: {'; '.join(flattened)}" if flattened else "")
            + (f". {'; '.join(problems)}" if problems else "") + ".")
    columns = ["Module", "Level", "\u03c7\u00b2", "df", "CFI", "RMSEA", "SRMR", "\u0394\u03c7\u00b2", "\u0394df",
               "p", "\u0394CFI", "\u0394RMSEA", "Invariant"]
    return pd.DataFrame(rows, columns=columns), note


def _hypothesis_map(result: AnalysisResult, instrument: Instrument) -> pd.DataFrame:
    verdicts = dict(zip(result.verdicts["hypothesis"], result.verdicts["verdict"], strict=True)) \
        if len(result.verdicts) else {}
    skipped = set(result.skipped["hypothesis"]) if len(result.skipped) else set()
    rows = []
    for h in instrument.hypotheses:
        if h.id not in verdicts and h.id not in skipped:
            continue
        passage = " ".join(str(h.passage).replace("*", "").split())
        rows.append((h.id, instrument.cite(h.seed), passage, h.statement["en"],
                     verdicts.get(h.id, "not tested")))
    return pd.DataFrame(rows, columns=["Hypothesis", "Source", "Proposition or passage", "Hypothesis tested",
                                       "Verdict"])


def publication_tables(result: AnalysisResult, instrument: Instrument, *, invariance: bool = True) -> Publication:
    """Every publication table of ``result`` (see the module docstring); ``invariance=False`` skips the
    cross-country invariance sequence (its fits take seconds per module)."""
    adjust = {"holm": "Holm-adjusted", "bh": "Benjamini-Hochberg-adjusted", "none": "unadjusted"}[
        result.registry.adjust]
    tables: list[tuple[str, str, pd.DataFrame, str]] = [
        ("flow", "Responses, Exclusions and the Analysed Sample", _flow(result),
         "Each excluded response is counted under the first screening rule it failed; excluded.csv lists "
         "every rule each response failed."),
        ("sample", "Sample Description", _sample(result, instrument),
         f"N = {result.options['rows.kept']} firms after screening. Size classes as the EU SME definition."),
        ("items", "Item Descriptive Statistics", _items(result, instrument),
         "Reverse-keyed items (R) reverse-scored. Firms asked only (modules with a condition are asked of "
         "some firms). Skewness and excess kurtosis bias-corrected."),
        ("missing", "Missing Answers by Construct", _missing(result, instrument),
         "Share of item answers missing among the firms asked; complete cases answered every item of the "
         "construct. The models use every answer (FIML)."),
        ("measurement", "Measurement Model: Standardized Loadings, Reliability and Validity",
         _measurement(result, instrument),
         "\u03bb: standardized loadings of the module's CFA (MLR, FIML). \u03b1 and \u03c9 as "
         "semTools::reliability; CR composite reliability; AVE average variance extracted; HTMT max: the "
         "largest heterotrait-monotrait ratio of the construct (Henseler et al., 2015: below .85)."),
    ]
    for mid, frame in _htmt_tables(result, instrument):
        tables.append((f"htmt_{mid.lower()}", f"Heterotrait-Monotrait Ratios, Module {mid}", frame,
                       "HTMT2 (Roemer et al., 2021) of the item correlations; values below .85 support "
                       "discriminant validity."))
    tables.append(("fit", "Model Fit", _fit(result),
                   "MLR estimation with FIML; scaled \u03c7\u00b2 (Yuan-Bentler), robust CFI, TLI and RMSEA."))
    tables.append(("structural", "Structural Results: the Decision Tests of Each Hypothesis", _structural(result),
                   f"One-sided tests in the predicted direction; the verdict uses the {adjust} p-value of the "
                   f"weakest decision test (\u03b1 = {result.registry.alpha}). 95% CIs two-sided: Wald (delta "
                   "method) or percentile bootstrap."))
    notes = []
    if invariance:
        inv, why = _invariance(result, instrument)
        if inv is not None and len(inv):
            tables.append(("invariance", "Measurement Invariance across Countries", inv,
                           "Multi-group CFA per module (MLR, FIML); each level is compared with the one before "
                           "(scaled \u03c7\u00b2 difference; Chen, 2007: \u0394CFI \u2265 -.010 and "
                           "\u0394RMSEA \u2264 .015). " + why))
        else:
            notes.append(why)
    tables.append(("hypotheses", "Hypotheses and the Propositions They Test", _hypothesis_map(result, instrument),
                   "Sources cited by author and year; see the references."))
    numbered = tuple(PubTable(f"table{k}_{key}", k, title, frame, note)
                     for k, (key, title, frame, note) in enumerate(tables, start=1))
    cited = {h.seed for h in instrument.hypotheses} | {c.seed for c in instrument.constructs.values() if c.seed}
    refs = tuple(sorted(s.reference for f, s in instrument.seeds.items() if f in cited))
    diagrams = {}
    modules = {h.id: h.module for h in result.registry.hypotheses}
    for mid in [m for m in result.scored.modules if m != "M0"]:
        keys = [k for k, (_, _, ids) in result.models.items() if modules.get(ids[0]) == mid]
        g = analysis_diagram(result, keys) if keys else None
        if g is not None:
            diagrams[mid] = g
    return Publication(numbered, refs, tuple(notes), diagrams)


# -- writers ------------------------------------------------------------------------------------

_TEX = [("\\", r"\textbackslash{}"), ("&", r"\&"), ("%", r"\%"), ("$", r"\$"), ("#", r"\#"), ("_", r"\_"),
        ("{", r"\{"), ("}", r"\}"), ("~", r"\textasciitilde{}"), ("^", r"\textasciicircum{}"),
        ("<", r"\textless{}"), (">", r"\textgreater{}")]
_TEX_UNICODE = {"\u03c7\u00b2": r"$\chi^2$", "\u0394": r"$\Delta$", "\u03bb": r"$\lambda$", "\u03b1": r"$\alpha$",
                "\u03c9": r"$\omega$", "\u2265": r"$\geq$", "\u2264": r"$\leq$", "\u2013": "--", "\u2014": "---",
                "\u00e4": r"\"a", "\u00f6": r"\"o", "\u00e5": r"\aa{}", "\u00e9": r"\'e", "\u00fc": r"\"u"}


def tex_escape(text: object) -> str:
    """Text for LaTeX: its special characters escaped (as pandas' ``escape="latex"``, with ``\\textbackslash``
    first), Greek letters, comparison signs and the accented letters of the seeds' authors as LaTeX."""
    s = str(text)
    out = []
    for ch in s:
        out.append(next((rep for c, rep in _TEX if c == ch), ch))
    s = "".join(out)
    for u, rep in _TEX_UNICODE.items():
        s = s.replace(u, rep)
    return s


#: a table with more rows than this, or more characters in its wrapped columns than
#: :data:`LONG_TABLE_CHARS` (about a page), is a ``longtable``: it breaks across pages, headings repeated
LONG_TABLE_ROWS = 30
LONG_TABLE_CHARS = 2500
#: a text column whose longest cell has more characters than this wraps
WRAP_CHARS = 40


def to_latex(table: PubTable) -> str:
    """One table as LaTeX with booktabs rules (the cells from pandas' ``Styler.to_latex``).

    A table that fits on a page is a ``table`` float (a ``sidewaystable`` when its columns are too wide
    for a portrait page) with a ``tabularx`` as wide as the line, its text
    columns with cells longer than :data:`WRAP_CHARS` characters wrapping (``X`` columns). A longer one
    (:data:`LONG_TABLE_ROWS`, :data:`LONG_TABLE_CHARS`) is a ``longtable`` whose wrapped columns share
    what the other columns leave of the line, estimated from their widest cells (portrait page, ``\\small``).
    """
    frame = table.frame
    numeric = [bool(frame[c].astype(str).str.fullmatch(r"[-<. \d\[\],]*").all()) and c not in ("Hypothesis",)
               for c in frame.columns]
    lengths = [max(frame[c].astype(str).str.len().max() if len(frame) else 0, len(str(c))) for c in frame.columns]
    wrap = [not n and n_chars > WRAP_CHARS for n, n_chars in zip(numeric, lengths)]
    wrapped_chars = sum(int(frame[c].astype(str).str.len().sum()) for c, w in zip(frame.columns, wrap) if w)
    long = len(frame) > LONG_TABLE_ROWS or wrapped_chars > LONG_TABLE_CHARS
    rag = "\\raggedright\\arraybackslash"
    # about 0.012 of a portrait \\linewidth per character at \\small, plus the column gaps
    rest = sum(n_chars + 2 for n_chars, w in zip(lengths, wrap) if not w) * 0.012
    if long:
        width = max(0.18, (0.92 - rest) / max(sum(wrap), 1))
        wide = f">{{{rag}}}p{{{width:.2f}\\linewidth}}"
    else:
        wide = f">{{{rag}}}X"
    spec = "".join(wide if w else ("r" if n else "l") for n, w in zip(numeric, wrap))
    styler = frame.style.hide(axis="index").format(formatter=tex_escape).format_index(tex_escape, axis=1)
    body = styler.to_latex(hrules=True, column_format=spec)
    note = f"\\par\\smallskip\\footnotesize\\textit{{Note.}} {tex_escape(table.note)}" if table.note else ""
    caption = f"\\caption{{{tex_escape(table.title)}}}\\label{{tab:{table.key}}}"
    if not long:
        if any(wrap):
            body = body.replace("\\begin{tabular}", "\\begin{tabularx}{\\linewidth}", 1).replace(
                "\\end{tabular}", "\\end{tabularx}", 1)
        below = f"\n{note}" if note else ""
        # too wide for a portrait page (the wrapped columns would get less than a quarter of the line
        # each): a landscape page of its own, as APA tables with many columns are set
        env = "sidewaystable" if rest + 0.25 * sum(wrap) > 0.95 else "table"
        place = "" if env == "sidewaystable" else "[htbp]"
        return (f"% Table {table.number}: {table.key}\n\\begin{{{env}}}{place}\n\\centering\n{caption}\n\\small\n"
                f"{body}{below}\n\\end{{{env}}}\n")
    # the longtable from the tabular: its heading repeated on every page, the rows unchanged
    head, rows = body.split("\\midrule\n", 1)
    head = head.split("\\toprule\n", 1)[1]
    rows = rows.split("\\bottomrule", 1)[0]
    ncol = len(frame.columns)
    return (f"% Table {table.number}: {table.key}\n{{\\small\n\\begin{{longtable}}{{{spec}}}\n{caption}\\\\\n"
            f"\\toprule\n{head}\\midrule\n\\endfirsthead\n"
            f"\\multicolumn{{{ncol}}}{{l}}{{\\textit{{Table \\thetable{{}} (continued)}}}}\\\\\n"
            f"\\toprule\n{head}\\midrule\n\\endhead\n\\bottomrule\n\\endfoot\n"
            f"{rows}\\end{{longtable}}\n{note}\\par}}\n")


def latex_document(pub: Publication) -> str:
    """Every table, ``\\input``-able (the preamble needs ``\\usepackage{booktabs, longtable, array, tabularx, rotating}``), then
    the references."""
    head = ("% APA-style tables of smesurvey analyze. Needs \\usepackage{booktabs, longtable, array, tabularx, rotating} in the "
            "preamble.\n% The cells are those of the CSV files beside this one.\n\n")
    refs = "".join(f"% {r}\n" for r in pub.references)
    return head + "\n".join(to_latex(t) for t in pub.tables) + ("\n% References\n" + refs if refs else "")


def _borders(element, **edges: str) -> None:
    """Set the borders of a table (``w:tblBorders``) or cell (``w:tcBorders``): edge -> 'single' or 'nil'."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    is_table = element.tag == qn("w:tbl")
    props = element.tblPr if is_table else element.get_or_add_tcPr()
    tag = "w:tblBorders" if is_table else "w:tcBorders"
    box = props.find(qn(tag))
    if box is None:
        box = OxmlElement(tag)
        props.append(box)
    for edge, kind in edges.items():
        e = OxmlElement(f"w:{edge}")
        e.set(qn("w:val"), kind)
        if kind != "nil":
            e.set(qn("w:sz"), "8")
            e.set(qn("w:space"), "0")
            e.set(qn("w:color"), "000000")
        box.append(e)


def to_docx(pub: Publication, path: str | Path) -> Path:
    """Every table into one Word document (A4 landscape): ``Table N`` in bold, the title in italics, the
    table with horizontal rules only (above and below the headings, at the end), ``Note.`` below; then
    the references."""
    from docx import Document
    from docx.enum.section import WD_ORIENT
    from docx.shared import Mm, Pt

    doc = Document()
    sec = doc.sections[0]
    sec.orientation = WD_ORIENT.LANDSCAPE
    sec.page_width, sec.page_height = Mm(297), Mm(210)
    for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
        setattr(sec, side, Mm(18))
    normal = doc.styles["Normal"]
    normal.font.name = "Times New Roman"
    normal.font.size = Pt(11)
    doc.core_properties.title = "APA-style tables"
    doc.core_properties.author = "smesurvey"
    for k, t in enumerate(pub.tables):
        if k:
            doc.add_paragraph()
        doc.add_paragraph().add_run(f"Table {t.number}").bold = True
        doc.add_paragraph().add_run(t.title).italic = True
        frame = t.frame
        table = doc.add_table(rows=len(frame) + 1, cols=len(frame.columns))
        _borders(table._tbl, top="single", bottom="single", left="nil", right="nil", insideH="nil", insideV="nil")
        # each row's cells fetched once: python-docx rebuilds the list on every ``row.cells``
        rows = table.rows
        for row, values in zip(rows, [tuple(frame.columns), *frame.itertuples(index=False)], strict=True):
            for cell, value in zip(row.cells, values, strict=True):
                par = cell.paragraphs[0]
                par.paragraph_format.space_after = Pt(0)
                par.add_run(str(value)).font.size = Pt(9)
        for cell in rows[0].cells:
            _borders(cell._tc, bottom="single")
        if t.note:
            p = doc.add_paragraph()
            p.add_run("Note.").italic = True
            p.add_run(" " + t.note).font.size = Pt(10)
    if pub.references:
        doc.add_paragraph()
        doc.add_paragraph().add_run("References").bold = True
        for r in pub.references:
            doc.add_paragraph(r)
    return save_office(doc, path)


def write_publication(pub: Publication, out: str | Path) -> list[Path]:
    """Write ``<key>.csv`` per table, ``tables.docx``, ``tables.tex`` and ``diagram_<module>.svg`` / ``.pdf``
    (when graphviz is installed) into ``out``."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    paths = [write_csv(t.frame, out / f"{t.key}.csv") for t in pub.tables]
    paths.append(to_docx(pub, out / "tables.docx"))
    paths.append(write_text(out / "tables.tex", latex_document(pub)))
    for mid, g in pub.diagrams.items():
        try:
            svg, pdf = render_svg(g), render_pdf(g)
        except DiagramError:
            break
        paths.append(write_text(out / f"diagram_{mid.lower()}.svg", svg))
        pdf_path = out / f"diagram_{mid.lower()}.pdf"
        pdf_path.write_bytes(pdf)
        paths.append(pdf_path)
    return paths
