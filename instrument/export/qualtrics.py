"""Qualtrics Advanced Format TXT (Survey > Tools > Import/Export > Import Survey).

One ``[[Block]]`` per module; each construct is a single-answer matrix whose
ID is the construct in lower case, so a Qualtrics data export names its
columns ``tk_1``, ``tk_2``, ... - exactly our variable names; the matrix
cells, attention checks and profile questions are separate questions whose
IDs are their variable names. Recode values follow the scale points because
answers are listed in scale order with ``[[AdvancedAnswers]]``/
``[[AdvancedChoices]]`` and explicit ``[[Answer:n]]``/``[[Choice:n]]`` ids.
"""

from __future__ import annotations

from pathlib import Path

from instrument.export.common import text
from instrument.model import Instrument, Variable
from smecore.files import write_text


def _choices(instrument: Instrument, v: Variable, tag: str) -> list[str]:
    lines = [f"[[Advanced{tag}s]]"]
    for value, label in instrument.value_labels(v).items():
        lines += [f"[[{tag}:{value}]]", label]
    return lines


def lines(instrument: Instrument) -> list[str]:
    q = instrument.questionnaire
    out = ["[[AdvancedFormat]]", "", "[[Block:Introduction]]", "", "[[Question:Text]]", "[[ID:intro]]",
           text(q.introduction), "", text(q.consent), ""]
    for section in instrument.sections():
        out += [f"[[Block:{section.module} {text(section.title)}]]", ""]
        for b in section.blocks:
            stem = text(b.stem)
            if b.kind == "grid" and len(b.variables) > 1:
                ids = [v.name for v in b.variables]
                prefix = b.construct.lower()
                if all(n == f"{prefix}_{k}" for k, n in enumerate(ids, start=1)):
                    out += ["[[Question:Matrix:SingleAnswer]]", f"[[ID:{prefix}]]", stem or text(b.title),
                            "[[AdvancedChoices]]"]
                    for k, v in enumerate(b.variables, start=1):
                        out += [f"[[Choice:{k}]]", v.label()]
                    out += _choices(instrument, b.variables[0], "Answer") + [""]
                    continue
            if stem:
                out += ["[[Question:Text]]", f"[[ID:stem_{b.construct.lower()}]]", stem, ""]
            for v in b.variables:
                if v.scale:
                    out += ["[[Question:MC:SingleAnswer:Vertical]]", f"[[ID:{v.name}]]", v.label()]
                    out += _choices(instrument, v, "Choice") + [""]
                else:
                    out += ["[[Question:TE:SingleLine]]", f"[[ID:{v.name}]]", v.label(), ""]
    return out


def write(instrument: Instrument, path: Path) -> list[Path]:
    write_text(path, "\n".join(lines(instrument)) + "\n")
    return [path]
