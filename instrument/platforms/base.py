"""What every platform module of :mod:`instrument.platforms` provides, and what its reader returns.

One module per survey platform (``qualtrics``, ``limesurvey``, ``kobo``,
``redcap``) plus ``plain`` (csv / xlsx / sav / dta in the codebook layout)
owns that platform's layouts in both directions:

* ``write_questionnaire(instrument, path) -> list[Path]`` - the questionnaire
  file the platform imports (where the platform has one);
* ``write_responses(data, meta, instrument, path, *, labels=False) -> Path`` -
  a response export as the platform lays it out (the generator's side);
  ``data`` has the codebook's columns (codes, missing as NaN), ``meta`` is a
  :class:`ResponseMeta`; ``labels=True`` writes choice texts instead of codes
  where the platform offers that export;
* ``detect(table) -> str | None`` - a short "detected by" text when a
  :class:`~instrument.platforms.tables.Table` is this platform's response
  export, else ``None``;
* ``read_responses(table, instrument) -> RawResponses`` - the export mapped to
  the codebook's variable names; values stay as the platform wrote them
  (codes, labels, platform missing codes): recoding and validation against
  the codebook happen in :mod:`analysis.ingest`, the same for every platform.

Column names come from the same functions in both directions, so export and
import cannot disagree.

Pages (:func:`pages`, :func:`page_ids`, :func:`page_variables`): the instrument's sections in fielded
order, one page each - ``M0`` (profile), the substantive modules, and the closing marker section (a
second ``M0`` section) as :data:`MARKER_PAGE`. The questionnaire exports put one group / block per page
in this order, and the readers map per-page timers (LimeSurvey ``groupTime<gid>``, Qualtrics Timing
questions ``<page>_timer``) to these ids.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from instrument.model import Instrument, Section

#: Columns of :attr:`RawResponses.meta`, the platform bookkeeping every reader maps to (NaN / NaT
#: / "" where the export does not have it).
META_COLUMNS = ("respondent", "started", "ended", "duration_sec", "finished")
#: Optional column of :attr:`RawResponses.meta`: why the platform marks a row as not a real response
#: (``""`` for real ones), e.g. a Qualtrics survey preview; ingest excludes those rows with this reason.
EXCLUDE_META = "exclude"
#: Page id of the closing marker section (the instrument's second ``M0`` section).
MARKER_PAGE = "M0_MKR"


def pages(instrument: Instrument) -> list[tuple[str, Section]]:
    """``(page id, section)`` per page, in fielded order: the section's module, :data:`MARKER_PAGE` for the
    second ``M0`` section (the marker items), ``<module>_<k>`` should a module ever have more sections."""
    out: list[tuple[str, Section]] = []
    seen: set[str] = set()
    for section in instrument.sections():
        pid = section.module if section.module not in seen else (
            MARKER_PAGE if section.module == "M0" else f"{section.module}_2")
        k = 2
        while pid in seen:
            k += 1
            pid = f"{section.module}_{k}"
        seen.add(pid)
        out.append((pid, section))
    return out


def page_ids(instrument: Instrument) -> list[str]:
    """Page ids in fielded order (:func:`pages`), e.g. ``["M0", "M1", ..., "M5", "M0_MKR"]``."""
    return [pid for pid, _ in pages(instrument)]


def page_variables(instrument: Instrument) -> dict[str, list[str]]:
    """Page id -> the codebook variables asked on that page, in questionnaire order."""
    return {pid: [v.name for b in s.blocks for v in b.variables] for pid, s in pages(instrument)}


def fielded(instrument: Instrument, columns: Iterable[str]) -> Instrument:
    """The instrument restricted to the modules with a scale item among ``columns`` (every module when
    none has), whatever ``instrument`` was restricted to: the pages an export of those columns was fielded
    with (attention checks move with the modules), so readers and screening agree on each page's items."""
    names = set(columns)
    full = replace(instrument, selected=None)
    mods = [m for m in full.module_ids if m != "M0" and any(
        v.name in names for v in full.variables(paradata=False) if v.module == m and v.kind in ("likert", "matrix"))]
    return full.select(mods) if mods else full


@dataclass(frozen=True)
class ResponseMeta:
    """Bookkeeping of generated responses, one entry per row of the data (the writers' input)."""

    respondent: list[str]  # the codebook's respondent_id
    started: list  # datetime per row
    ended: list  # datetime per row
    duration_sec: np.ndarray  # float seconds (NaN: unknown)
    finished: np.ndarray  # bool
    stopped_at: np.ndarray  # int per row: questions answered before a partial respondent stopped (generator)
    seed: int  # seeds platform ids (ResponseId, _uuid, ...) so files are byte-identical per seed
    pages: pd.DataFrame | None = None  # seconds per row and page (columns: page ids), None: no page timers


@dataclass(frozen=True)
class RawResponses:
    """A response export read by a platform module: codebook names, the platform's values.

    ``data``: one row per data row of the input (RangeIndex), one column per
    codebook variable found (named as in the codebook), values as read (``str``
    for text files, numbers for sav/dta). ``source_row``: the 1-based data-row
    number of each row in the input file (header rows not counted).
    ``meta``: :data:`META_COLUMNS` per row. ``unknown``: columns that are
    neither codebook variables nor known platform columns (kept out of the
    responses). ``identifiers``: columns that hold direct identifiers (IP,
    e-mail, names, phone, recipient fields, geolocation, device ids, contact
    text), their values in ``identifying``. ``missing_codes``: the platform's
    declared missing codes (as strings, e.g. ``("-99",)``); ``missing_by_variable``:
    codes declared missing for one variable only (``{"tk_1": ("99",)}``, e.g. SPSS
    user-missing values), which stay answers in every other variable. ``details``:
    encoding, delimiter, sheet, header rows, export variant (codes / labels), and either
    ``page_timers`` (page id -> the export column read) or ``page_timers_note`` (why none were read).
    ``pages``: seconds per row (same rows as ``data``) and page (columns: :func:`page_ids` of the
    fielded instrument), ``None`` when the export has no usable page timers.
    """

    format: str
    detected_by: str
    data: pd.DataFrame
    source_row: np.ndarray
    meta: pd.DataFrame
    unknown: tuple[str, ...] = ()
    identifiers: tuple[str, ...] = ()
    identifying: pd.DataFrame = field(default_factory=pd.DataFrame)
    missing_codes: tuple[str, ...] = ()
    details: dict = field(default_factory=dict)
    missing_by_variable: dict[str, tuple[str, ...]] = field(default_factory=dict)
    pages: pd.DataFrame | None = None
