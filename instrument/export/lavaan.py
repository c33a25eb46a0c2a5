"""The measurement model in lavaan syntax (first- and second-order factors).

Items enter as answered; the header names the reverse-keyed items among them, which must be
reverse-scored before fitting (``smesurvey fit --reverse-score`` does it on the way in), or their
loadings come out negative.
"""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

from instrument.model import Instrument
from smecore.files import write_text


def header(instrument: Instrument, syntax: str) -> str:
    """The comment lines above the model: instrument, modules, and what to do with reverse-keyed items."""
    reverse = instrument.reverse_keyed(re.findall(r"[A-Za-z_][A-Za-z0-9_.]*", syntax))
    lines = [f"Measurement model of '{instrument.questionnaire.id}' v{instrument.questionnaire.version}, "
             f"modules {', '.join(m for m in instrument.module_ids if m != 'M0')}."]
    if reverse:
        lines += textwrap.wrap(
            f"Items enter as answered. Reverse-keyed items ({len(reverse)}): {', '.join(reverse)}. Fit this "
            f"model to reverse-scored data ({_rule(instrument, reverse)}, as the analysis scores them), e.g. "
            "`smesurvey fit model.lav data.csv --reverse-score` reverse-scores them on the way in; fitted "
            "as answered, their loadings come out negative.", 100, break_on_hyphens=False)
    else:
        lines.append("Items enter as answered; none of them is reverse-keyed.")
    return "".join(f"# {line}\n" for line in lines)


def _rule(instrument: Instrument, items: list[str]) -> str:
    """``x -> 8 - x on the 1-7 scale`` (or the rule on each scale the items use)."""
    ranges = []
    for c in instrument.constructs.values():
        if any(it.id in items for it in c.items):
            values = [p.value for p in instrument.scales[c.scale].points]
            ranges.append((min(values), max(values)))
    return "; ".join(f"x -> {lo + hi} - x on the {lo}-{hi} scale" for lo, hi in dict.fromkeys(ranges))


def write(instrument: Instrument, path: Path, languages=("en",)) -> list[Path]:
    """The measurement model (no respondent text: ``languages`` changes nothing)."""
    syntax = instrument.lavaan_syntax()
    write_text(path, header(instrument, syntax) + syntax)
    return [path]
