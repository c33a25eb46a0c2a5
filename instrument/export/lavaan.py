"""The measurement model in lavaan syntax (first- and second-order factors)."""

from __future__ import annotations

from pathlib import Path

from instrument.model import Instrument
from smecore.files import write_text


def write(instrument: Instrument, path: Path) -> list[Path]:
    header = (f"# Measurement model of '{instrument.questionnaire.id}' v{instrument.questionnaire.version}, "
              f"modules {', '.join(m for m in instrument.module_ids if m != 'M0')}\n"
              "# Reverse-keyed items: reverse-score them (8 - x on 7 points) before fitting.\n")
    write_text(path, header + instrument.lavaan_syntax())
    return [path]
