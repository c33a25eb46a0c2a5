"""REDCap data dictionary (CSV, "Upload data dictionary").

One row per field with REDCap's 18 columns. The first field is the record id
(``respondent_id``); each module is a form (instrument); Likert items are
``radio`` fields grouped by ``Matrix Group Name`` (one matrix per construct,
its stem as section header); numbers are ``text`` fields with ``integer``
validation and min/max; branching logic uses REDCap's ``[field] = 'value'``.
Field names are the variable names (REDCap allows lowercase, digits and
``_``, at most 26 characters is recommended - the schema enforces that).
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from instrument.export.common import text
from instrument.model import Instrument
from smecore.files import write_text

COLUMNS = ("Variable / Field Name", "Form Name", "Section Header", "Field Type", "Field Label",
           "Choices, Calculations, OR Slider Labels", "Field Note", "Text Validation Type OR Show Slider Number",
           "Text Validation Min", "Text Validation Max", "Identifier?", "Branching Logic (Show field only if...)",
           "Required Field?", "Custom Alignment", "Question Number (surveys only)", "Matrix Group Name",
           "Matrix Ranking?", "Field Annotation")


def _form_name(section) -> str:
    words = "marker" if section.title.get("en") == "Finally" else "_".join(text(section.title).lower().split()[:3])
    return "".join(ch for ch in f"{section.module.lower()}_{words}" if ch.isalnum() or ch == "_")


def rows(instrument: Instrument) -> list[dict]:
    sections = instrument.sections()
    out = [{"Variable / Field Name": "respondent_id", "Form Name": _form_name(sections[0]), "Field Type": "text",
            "Field Label": "Respondent identifier", "Identifier?": "y"}]
    for section in sections:
        form = _form_name(section)
        header = text(section.intro)
        for b in section.blocks:
            matrix = b.construct.lower() if b.kind in ("grid", "matrix") and len(b.variables) > 1 else ""
            section_header = " ".join(x for x in (header, text(b.stem)) if x)
            header = ""
            for v in b.variables:
                row = {"Variable / Field Name": v.name, "Form Name": form, "Field Label": v.label(),
                       "Section Header": section_header, "Matrix Group Name": matrix,
                       "Required Field?": "y" if (v.required and v.kind == "profile") else ""}
                section_header = ""
                if v.scale:
                    row["Field Type"] = "radio"
                    row["Choices, Calculations, OR Slider Labels"] = " | ".join(
                        f"{k}, {lab}" for k, lab in instrument.value_labels(v).items())
                elif v.type == "text":
                    row["Field Type"] = "text"
                else:
                    row["Field Type"] = "text"
                    row["Text Validation Type OR Show Slider Number"] = "integer"
                    row["Text Validation Min"] = "" if v.min is None else str(v.min)
                    row["Text Validation Max"] = "" if v.max is None else str(v.max)
                if v.relevant:
                    row["Branching Logic (Show field only if...)"] = " and ".join(
                        f"[{k}] = '{val}'" for k, val in v.relevant.items())
                out.append(row)
    return out


def write(instrument: Instrument, path: Path) -> list[Path]:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=list(COLUMNS), lineterminator="\n")
    w.writeheader()
    for r in rows(instrument):
        w.writerow({c: r.get(c, "") for c in COLUMNS})
    write_text(path, buf.getvalue())
    return [path]
