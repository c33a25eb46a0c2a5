"""Codebook: CSV (``variable,label,construct,module,reverse,scale,values,missing``),
Markdown, and empty SPSS ``.sav`` and Stata ``.dta`` templates (no cases) with variable labels, value
labels, ``-99`` declared as user-missing (SPSS), measurement levels and integer formats
(:mod:`instrument.export.statfiles`), written with pyreadstat. Labels are in one language (a copy per
language with ``--language``)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyreadstat

from instrument.export.markdown import md
from instrument.export.statfiles import spss_meta, stata_labels_for, stata_meta
from instrument.model import MISSING_CODE, Instrument
from smecore.csvsafe import safe_frame
from smecore.files import fix_dta_timestamp, fix_sav_timestamp, write_text


def markdown(instrument: Instrument, lang: str = "en") -> str:
    cb = instrument.codebook(lang)
    out = [f"# Codebook: {md(instrument.questionnaire.title.get(lang) or instrument.questionnaire.title['en'])}", "",
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


def sav_template(instrument: Instrument, path: Path, lang: str = "en") -> Path:
    """An empty SPSS file with the instrument's variables, labels, user-missing code, levels and formats."""
    variables = instrument.variables()
    frame = pd.DataFrame({v.name: pd.Series(dtype="object" if v.type == "text" else "float64") for v in variables})
    meta = spss_meta(instrument, variables, lang)
    pyreadstat.write_sav(frame, str(path), column_labels=meta.labels, variable_value_labels=meta.value_labels,
                         missing_ranges=meta.missing_ranges, variable_measure=meta.measure,
                         variable_format=meta.formats, file_label=instrument.questionnaire.id)
    return fix_sav_timestamp(path)


def dta_template(instrument: Instrument, path: Path, lang: str = "en") -> Path:
    """An empty Stata file with the instrument's variables, labels, value labels and integer formats."""
    variables = instrument.variables()
    frame = pd.DataFrame({v.name: pd.Series(dtype="object" if v.type == "text" else "float64") for v in variables})
    meta = stata_meta(instrument, variables, lang)
    pyreadstat.write_dta(frame, str(path), column_labels=meta.labels, variable_value_labels=stata_labels_for(meta, frame),
                         variable_format=meta.formats, file_label=instrument.questionnaire.id[:80])
    return fix_dta_timestamp(path)


def write(instrument: Instrument, path: Path, lang: str = "en") -> list[Path]:
    """Write ``<path>.csv``, ``<path>.md``, ``<path>.sav`` and ``<path>.dta`` (same stem), labels in ``lang``."""
    csv_path = path.with_suffix(".csv")
    write_text(csv_path, safe_frame(instrument.codebook(lang)).to_csv(index=False, lineterminator="\n"))
    md_path = write_text(path.with_suffix(".md"), markdown(instrument, lang))
    sav_path = sav_template(instrument, path.with_suffix(".sav"), lang)
    dta_path = dta_template(instrument, path.with_suffix(".dta"), lang)
    return [csv_path, md_path, sav_path, dta_path]
