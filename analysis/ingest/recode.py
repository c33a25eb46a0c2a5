"""Answer labels -> codes through the instrument's scales, the same for every platform.

Accepted for a variable with a scale (Likert, matrix, attention, select-one):
the code itself (``"7"``, ``"7.0"``), the label in any of the instrument's
languages (``"Strongly agree"``), or both (``"7 - Strongly agree"``,
``"7: Strongly agree"``, ``"7=Strongly agree"``); case and surrounding /
repeated whitespace do not matter.
"""

from __future__ import annotations

import re

from instrument.model import Instrument, Variable

_CODE_AND_LABEL = re.compile(r"^(-?\d+)\s*[-–:=.)]\s*(.+)$")


def _norm(text: str) -> str:
    return " ".join(str(text).split()).casefold()


def label_map(instrument: Instrument, v: Variable) -> dict[str, int]:
    """``{normalised label: code}`` of ``v``'s scale in every language of ``instrument`` ({} without a scale)."""
    out: dict[str, int] = {}
    for lang in instrument.languages:
        for code, label in instrument.value_labels(v, lang).items():
            out.setdefault(_norm(label), int(code))
    return out


def recode_value(value: str, labels: dict[str, int]) -> tuple[int | None, bool]:
    """``(code, was_label)`` for one written answer; ``(None, False)`` when it is neither a code nor a label.

    A bare number is returned as the code it names (range checks come later);
    ``"7 - Strongly agree"`` only when number and label agree.
    """
    text = _norm(value)
    try:
        num = float(text)
        if num.is_integer():
            return int(num), False
        return None, False
    except ValueError:
        pass
    if text in labels:
        return labels[text], True
    m = _CODE_AND_LABEL.match(text)
    if m and labels.get(_norm(m.group(2))) == int(m.group(1)):
        return int(m.group(1)), True
    return None, False
