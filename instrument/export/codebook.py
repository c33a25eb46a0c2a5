"""Codebook: CSV (``variable,label,construct,module,reverse,scale,values,missing``),
Markdown, and an SPSS ``.sav`` template (no cases) with variable labels, value
labels and ``-99`` declared as user-missing, written with pyreadstat."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyreadstat

from instrument.export.markdown import md
from instrument.model import MISSING_CODE, Instrument
from smecore.csvsafe import safe_frame
from smecore.files import fix_sav_timestamp, write_text


def markdown(instrument: Instrument) -> str:
    cb = instrument.codebook()
    out = [f"# Codebook: {md(instrument.questionnaire.title['en'])}", "",
           f"{len(cb)} variables. Missing: `{MISSING_CODE}` = no answer (empty cells in CSV files). "
           "Reverse-keyed items (reverse = 1) are stored as answered; reverse-score them (8 - x) before "
           "computing scale scores.", ""]
    for module, rows in cb.groupby("module", sort=False):
        out += [f"## {module}", "", "| variable | label | construct | reverse | scale | values |",
                "|---|---|---|---|---|---|"]
        for r in rows.itertuples():
            out.append(f"| `{r.variable}` | {md(r.label)} | {r.construct} | {r.reverse} | {r.scale} | {md(r.values)} |")
        out.append("")
    return "\n".join(out)


def sav_template(instrument: Instrument, path: Path) -> Path:
    """An empty SPSS file with the instrument's variables, labels and user-missing code."""
    variables = instrument.variables()
    frame = pd.DataFrame({v.name: pd.Series(dtype="object" if v.type == "text" else "float64") for v in variables})
    labels = {v.name: v.label()[:256] for v in variables}
    value_labels = {}
    missing = {}
    for v in variables:
        vl = instrument.value_labels(v)
        if v.type != "text":
            missing[v.name] = [MISSING_CODE]
            vl = {float(k): lab for k, lab in vl.items()}
            vl[float(MISSING_CODE)] = "No answer"
            value_labels[v.name] = vl
    pyreadstat.write_sav(frame, str(path), column_labels=labels, variable_value_labels=value_labels,
                         missing_ranges=missing, file_label=instrument.questionnaire.id)
    return fix_sav_timestamp(path)


def write(instrument: Instrument, path: Path) -> list[Path]:
    """Write ``<path>.csv``, ``<path>.md`` and ``<path>.sav`` (same stem)."""
    csv_path = path.with_suffix(".csv")
    write_text(csv_path, safe_frame(instrument.codebook()).to_csv(index=False, lineterminator="\n"))
    md_path = write_text(path.with_suffix(".md"), markdown(instrument))
    sav_path = sav_template(instrument, path.with_suffix(".sav"))
    return [csv_path, md_path, sav_path]
