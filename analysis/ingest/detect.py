"""Which platform wrote a response file: read its cells once, ask each platform module in turn.

:func:`read_raw` reads ``path`` with :func:`~instrument.platforms.tables.read_table`
(xlsx: the first sheet holding codebook variables) and asks the modules in
:data:`~instrument.platforms.PLATFORM_MODULES` order; the first whose
``detect(table)`` is not ``None`` reads it. ``format`` other than ``auto``
skips detection.
"""

from __future__ import annotations

import importlib
from pathlib import Path

from instrument.model import Instrument
from instrument.platforms import PLATFORM_MODULES, RESPONSE_FORMATS
from instrument.platforms.base import RawResponses
from instrument.platforms.tables import read_table
from smecore.errors import DataError, OptionError

#: ``--format`` values read by the plain (codebook-layout) module.
PLAIN_FORMATS = ("csv", "xlsx", "sav", "dta")
FORMATS = ("auto", *RESPONSE_FORMATS)


def _module(name: str):
    return importlib.import_module(f"instrument.platforms.{name}")


def _detect(module, table) -> str | None:
    return module.detect(table)


def read_raw(path: str | Path, instrument: Instrument, format: str = "auto") -> RawResponses:
    """``path`` read by its platform module (detected when ``format="auto"``).

    Raises :class:`OptionError` for an unknown ``format``, :class:`DataError`
    naming the file when it cannot be read or no module recognises it.
    """
    if format not in FORMATS:
        raise OptionError(f"--format must be one of {', '.join(FORMATS)}; got {format!r}")
    names = {v.name for v in instrument.variables()}
    table = read_table(path, prefer_sheet=lambda head: bool(names.intersection(head)))
    if format != "auto":
        return _module("plain" if format in PLAIN_FORMATS else format).read_responses(table, instrument)
    for name in PLATFORM_MODULES:
        module = _module(name)
        by = module.detect(table, instrument) if name == "plain" else _detect(module, table)
        if by is not None:
            return module.read_responses(table, instrument)
    raise DataError(f"{path}: not recognised as a Qualtrics, LimeSurvey, KoboToolbox, REDCap or codebook-layout "
                    "export (no header row with known column names); give --format or check the file")
