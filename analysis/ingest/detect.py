"""Which platform wrote a response file: read its cells once, ask each platform module in turn.

:func:`read_raw` reads ``path`` with :func:`~instrument.platforms.tables.read_table`
(xlsx: the first sheet holding codebook variables) and asks the modules in
:data:`~instrument.platforms.PLATFORM_MODULES` order; the first whose
``detect(table)`` is not ``None`` reads it. ``format`` other than ``auto``
skips detection. SPSS user-missing values declared in a ``.sav`` file become
:attr:`~instrument.platforms.base.RawResponses.missing_by_variable` of the
variables read (:func:`declared_missing`).
"""

from __future__ import annotations

import dataclasses
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


def _code_text(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else str(x)


def declared_missing(missing_ranges: dict[str, list], columns) -> dict[str, tuple[str, ...]]:
    """``{variable: codes}`` from pyreadstat's ``missing_ranges`` for the variables in ``columns``.

    A discrete value (``lo == hi``) is one code; a range of whole numbers (SPSS ``MISSING VALUES x (90 THRU
    99)``) lists each of them; other ranges (fractional or open-ended bounds) are not representable as codes
    and are left out, so those values are then checked as answers (set missing as out of range and logged).
    """
    out: dict[str, tuple[str, ...]] = {}
    for name, ranges in missing_ranges.items():
        if name not in columns:
            continue
        codes: list[str] = []
        for r in ranges:
            lo, hi = r.get("lo"), r.get("hi")
            if not isinstance(lo, int | float) or not isinstance(hi, int | float):
                continue
            if lo == hi:
                codes.append(_code_text(lo))
            elif float(lo).is_integer() and float(hi).is_integer() and hi - lo <= 1000:
                codes += [str(k) for k in range(int(lo), int(hi) + 1)]
        if codes:
            out[name] = tuple(dict.fromkeys(codes))
    return out


def _with_declared(raw: RawResponses, table, module, instrument: Instrument) -> RawResponses:
    """``raw`` with the ``.sav`` file's user-missing values as :attr:`RawResponses.missing_by_variable`; a
    platform whose export names variables its own way (LimeSurvey's ``tk1`` for ``tk_1``) maps them through
    its ``column_names(instrument)``."""
    if not table.missing_ranges or raw.missing_by_variable:
        return raw
    ranges = table.missing_ranges
    if hasattr(module, "column_names"):
        names = module.column_names(instrument)
        ranges = {names.get(k, k): v for k, v in ranges.items()}
    return dataclasses.replace(raw, missing_by_variable=declared_missing(ranges, raw.data.columns))


def detect_table(table, instrument: Instrument) -> tuple[str, str] | None:
    """``(platform module, detected-by text)`` of the first module in :data:`PLATFORM_MODULES` order
    whose ``detect`` recognises ``table``; ``None`` when none does."""
    for name in PLATFORM_MODULES:
        module = _module(name)
        by = module.detect(table, instrument) if name == "plain" else module.detect(table)
        if by is not None:
            return name, by
    return None


def _read_table(path: str | Path, instrument: Instrument):
    names = {v.name for v in instrument.variables()}
    return read_table(path, prefer_sheet=lambda head: bool(names.intersection(head)))


def read_raw(path: str | Path, instrument: Instrument, format: str = "auto") -> RawResponses:
    """``path`` read by its platform module (detected when ``format="auto"``).

    Raises :class:`OptionError` for an unknown ``format``, :class:`DataError`
    naming the file when it cannot be read or no module recognises it.
    """
    if format not in FORMATS:
        raise OptionError(f"--format must be one of {', '.join(FORMATS)}; got {format!r}")
    table = _read_table(path, instrument)
    if format != "auto":
        module = _module("plain" if format in PLAIN_FORMATS else format)
        return _with_declared(module.read_responses(table, instrument), table, module, instrument)
    found = detect_table(table, instrument)
    if found is None:
        raise DataError(f"{path}: not recognised as a Qualtrics, LimeSurvey, KoboToolbox, REDCap or "
                        "codebook-layout export (no header row with known column names); give --format or "
                        "check the file")
    module = _module(found[0])
    return _with_declared(module.read_responses(table, instrument), table, module, instrument)


def is_codebook_csv(path: str | Path, instrument: Instrument) -> bool:
    """Whether ``path`` is a codebook-layout CSV that :func:`analysis.ingest.read_responses` reads as it is.

    True for a ``.csv`` file that the platform modules' ``detect`` functions recognise as the codebook
    layout (no platform's export), comma-separated, UTF-8 (with or without BOM), header in the first
    row. Everything else (platform exports, other delimiters, encodings, a title row) goes through
    :func:`~analysis.ingest.pipeline.ingest`. False when the file cannot be read at all (ingest then
    names the problem).
    """
    path = Path(path)
    if path.suffix.lower() != ".csv" or not path.is_file():
        return False
    try:
        table = _read_table(path, instrument)
    except DataError:
        return False
    found = detect_table(table, instrument)
    if found is None or found[0] != "plain" or table.delimiter != "," or table.encoding not in ("utf-8", "utf-8-sig"):
        return False
    from instrument.platforms.plain import header_row

    return header_row(table, {v.name for v in instrument.variables()}) == 0
