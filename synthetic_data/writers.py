"""Write generated data as a plain file or in a survey platform's own export layout.

* ``csv``, ``xlsx``, ``sav``, ``dta`` - one column per codebook variable (the SPSS file carries
  variable labels, value labels, measurement levels, integer formats and ``-99`` kept as the
  user-missing "no answer" code; the Stata file the same with ``.a`` for "no answer");
* ``qualtrics`` - a Qualtrics "Data & Analysis" CSV export: three header rows
  (export tags, question texts, ``{"ImportId": ...}``), Qualtrics' metadata
  columns (``StartDate`` ... ``UserLanguage``), then the questions;
* ``limesurvey`` - a LimeSurvey response export (CSV, question codes, answer
  codes): ``id, submitdate, lastpage, startlanguage, seed, startdate,
  datestamp``, array items as ``QUESTION[subquestion]``;
* ``kobo`` - a KoboToolbox CSV export (``;``-separated, group paths in the
  headers, ``start``/``end`` and the ``_id``/``_uuid``/``_submission_time``...
  system columns).

With the ``page_durations`` knob on, the LimeSurvey export adds ``groupTime1..n`` and the Qualtrics
export four Timing-question columns per page (``<page>_timer_Page Submit``, ...): the generated page
times (:attr:`GeneratedData.pages`).

Timestamps are derived from the seed (a fieldwork window in spring of the
survey year), so the same seed gives byte-identical files. A later capability
reads these layouts back.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pyreadstat
from openpyxl import Workbook

from instrument import Instrument
from instrument.export import statfiles
from instrument.model import MISSING_CODE
from instrument.platforms import limesurvey, qualtrics
from instrument.platforms.base import ResponseMeta
from smecore.csvsafe import xlsx_cells
from smecore.errors import OptionError
from smecore.files import fix_dta_timestamp, fix_sav_timestamp, save_workbook, write_text
from smecore.jsonio import dumps
from synthetic_data.generate import GeneratedData

DATA_FORMATS = ("csv", "xlsx", "sav", "qualtrics", "limesurvey", "kobo", "redcap", "dta")
SUFFIX = {"csv": ".csv", "xlsx": ".xlsx", "sav": ".sav", "qualtrics": ".csv", "limesurvey": ".csv",
          "kobo": ".csv", "redcap": ".csv", "dta": ".dta"}


def _timestamps(gen: GeneratedData) -> tuple[list[datetime], list[datetime]]:
    """Start and end times: a 6-week fieldwork window from 1 March, seeded by the data's seed."""
    n = len(gen.data)
    rng = np.random.default_rng(np.random.SeedSequence([gen.sidecar["seed"], 7_000_003]))
    start0 = datetime(gen.sidecar["survey_year"], 3, 1, 8, 0, 0)
    offsets = np.sort(rng.integers(0, 42 * 24 * 3600, size=n))
    dur = np.nan_to_num(gen.data["duration_sec"].to_numpy(dtype=float), nan=600.0)
    starts = [start0 + timedelta(seconds=int(o)) for o in offsets]
    ends = [s + timedelta(seconds=int(d)) for s, d in zip(starts, dur)]
    return starts, ends


def response_meta(gen: GeneratedData) -> ResponseMeta:
    """The generated rows' bookkeeping as the platform writers take it (:class:`ResponseMeta`)."""
    starts, ends = _timestamps(gen)
    stop = gen.respondents["stopped_at"].to_numpy()
    return ResponseMeta(respondent=[str(x) for x in gen.data["respondent_id"]], started=starts, ended=ends,
                        duration_sec=gen.data["duration_sec"].to_numpy(dtype=float),
                        finished=gen.respondents["finished"].to_numpy(dtype=bool),
                        stopped_at=np.asarray(stop, dtype=int), seed=int(gen.sidecar["seed"]), pages=gen.pages)


def _csv(frame: pd.DataFrame, sep: str = ",") -> str:
    return frame.to_csv(index=False, sep=sep, lineterminator="\n")


def write_plain_csv(gen: GeneratedData, instrument: Instrument, path: Path) -> Path:
    return write_text(path, _csv(gen.data))


def write_xlsx(gen: GeneratedData, instrument: Instrument, path: Path) -> Path:
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("data")
    ws.append(list(gen.data.columns))
    for row in gen.data.itertuples(index=False):
        ws.append(xlsx_cells(ws, [None if pd.isna(x) else (int(x) if isinstance(x, np.integer) else x)
                                  for x in row]))
    return save_workbook(wb, path)


def write_sav(gen: GeneratedData, instrument: Instrument, path: Path) -> Path:
    """SPSS ``.sav`` in the codebook layout (:mod:`instrument.export.statfiles`): labels, value labels,
    measurement levels, integer formats, and ``-99`` ("No answer", declared user-missing) in every numeric
    question that was asked and left unanswered (a question not asked stays system-missing)."""
    frame = gen.data.copy()
    variables = [v for v in instrument.variables() if v.name in frame.columns]
    widths = {v.name: int(frame[v.name].fillna("").astype(str).str.len().max() or 1)
              for v in variables if v.type == "text"}
    meta = statfiles.spss_meta(instrument, variables, text_widths=widths)
    for v in variables:
        if v.name in meta.numeric:
            frame[v.name] = frame[v.name].astype("float64")
            if v.name in meta.missing_ranges:
                frame.loc[statfiles.no_answer_cells(frame, v), v.name] = float(MISSING_CODE)
    pyreadstat.write_sav(frame, str(path), column_labels=meta.labels, variable_value_labels=meta.value_labels,
                         missing_ranges=meta.missing_ranges, variable_measure=meta.measure,
                         variable_format=meta.formats,
                         file_label=f"synthetic {gen.sidecar['world']} seed {gen.sidecar['seed']}")
    return fix_sav_timestamp(path)


def write_qualtrics(gen: GeneratedData, instrument: Instrument, path: Path, *, labels: bool = False) -> Path:
    return qualtrics.write_responses(gen.data, response_meta(gen), instrument, path, labels=labels)


def write_limesurvey(gen: GeneratedData, instrument: Instrument, path: Path, *, labels: bool = False) -> Path:
    return limesurvey.write_responses(gen.data, response_meta(gen), instrument, path, labels=labels)


def write_kobo(gen: GeneratedData, instrument: Instrument, path: Path, labels: bool = False,
               **options) -> Path:
    """KoboToolbox CSV export layout (:func:`instrument.platforms.kobo.write_responses`; ``options``:
    its ``layout``, ``sep`` and ``group_separator``; a ``.xlsx`` path writes Kobo's XLSX export)."""
    from instrument.platforms import kobo

    return kobo.write_responses(gen.data, response_meta(gen), instrument, path, labels=labels, **options)


def write_redcap(gen: GeneratedData, instrument: Instrument, path: Path, labels: bool = False) -> Path:
    """REDCap records export layout (:func:`instrument.platforms.redcap.write_responses`)."""
    from instrument.platforms import redcap

    return redcap.write_responses(gen.data, response_meta(gen), instrument, path, labels=labels)


def write_dta(gen: GeneratedData, instrument: Instrument, path: Path) -> Path:
    """Stata ``.dta`` in the codebook layout: variable labels, value labels, integer formats; a question asked
    and left unanswered is Stata's extended missing value ``.a`` ("no answer"), one not asked ``.``."""
    frame = gen.data.copy()
    variables = [v for v in instrument.variables() if v.name in frame.columns]
    widths = {v.name: int(frame[v.name].fillna("").astype(str).str.len().max() or 1)
              for v in variables if v.type == "text"}
    meta = statfiles.stata_meta(instrument, variables, text_widths=widths)
    for v in variables:
        if v.name in meta.numeric:
            frame[v.name] = frame[v.name].astype("float64")
            if v.name in meta.missing_ranges:
                column = frame[v.name].astype(object)
                column[statfiles.no_answer_cells(frame, v)] = statfiles.STATA_NO_ANSWER
                frame[v.name] = column
    pyreadstat.write_dta(frame, str(path), column_labels=meta.labels,
                         variable_value_labels=statfiles.stata_labels_for(meta, frame),
                         missing_user_values=meta.missing_ranges, variable_format=meta.formats,
                         file_label=f"synthetic {gen.sidecar['world']} seed {gen.sidecar['seed']}"[:80])
    return fix_dta_timestamp(path)


WRITERS = {"csv": write_plain_csv, "xlsx": write_xlsx, "sav": write_sav, "qualtrics": write_qualtrics,
           "limesurvey": write_limesurvey, "kobo": write_kobo,
           "redcap": write_redcap, "dta": write_dta}


#: Formats with a choice-text ("labels") variant.
LABEL_FORMATS = ("qualtrics", "limesurvey", "kobo", "redcap")


def data_format(path: str | Path, fmt: str | None = None) -> str:
    """The data format ``write_data`` writes: ``fmt``, else from the suffix of ``path`` (``.csv``, ``.txt``,
    or none -> ``csv``; ``.xlsx``, ``.sav``, ``.dta``). Another suffix (``data.json``) without
    ``fmt`` raises :class:`~smecore.errors.OptionError`: the file would hold CSV under a misleading name."""
    if fmt:
        return fmt
    suffix = Path(path).suffix.lower()
    known = {".xlsx": "xlsx", ".sav": "sav", ".dta": "dta", ".csv": "csv", ".txt": "csv", "": "csv"}
    if suffix not in known:
        raise OptionError(f"--out {path}: the suffix '{suffix}' names no data format; use .csv, .xlsx, .sav or "
                          ".dta, or give --format")
    return known[suffix]


def write_data(gen: GeneratedData, path: str | Path, fmt: str | None = None,
               instrument: Instrument | None = None, *, labels: bool = False,
               kobo_options: dict | None = None) -> list[Path]:
    """Write ``gen`` to ``path`` in ``fmt`` (default: from the suffix; ``.csv`` -> plain CSV) plus the
    sidecar ``<path>.sidecar.json``. Returns both paths. ``labels=True``: choice texts instead of codes
    (Qualtrics "choice text", LimeSurvey "full answers", Kobo labels, REDCap labels); ``kobo_options``:
    ``layout`` / ``sep`` / ``group_separator`` of :func:`instrument.platforms.kobo.write_responses`.
    Raises :class:`~smecore.errors.OptionError` for an unknown format, ``labels`` with a format that has
    no labels variant, or ``kobo_options`` with another format."""
    from instrument import load_instrument

    path = Path(path)
    fmt = data_format(path, fmt)
    if fmt not in WRITERS:
        raise OptionError(f"unknown data format '{fmt}'; choose one of: {', '.join(DATA_FORMATS)}")
    if labels and fmt not in LABEL_FORMATS:
        raise OptionError(f"format '{fmt}' has no choice-text variant; labels apply to {', '.join(LABEL_FORMATS)}")
    if kobo_options and fmt != "kobo":
        raise OptionError(f"the KoboToolbox layout options apply to --format kobo, not '{fmt}'")
    inst = (instrument or load_instrument()).select(gen.sidecar["modules"])
    path.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "kobo":
        WRITERS[fmt](gen, inst, path, labels=labels, **(kobo_options or {}))
    elif fmt in LABEL_FORMATS:
        WRITERS[fmt](gen, inst, path, labels=labels)
    else:
        WRITERS[fmt](gen, inst, path)
    side = dict(gen.sidecar)
    side["format"] = fmt
    if labels:
        side["labels"] = True
    if kobo_options:
        side["kobo_options"] = dict(sorted(kobo_options.items()))
    side["file"] = path.name
    side["sha256"] = hashlib.sha256(path.read_bytes()).hexdigest()
    sidecar = path.with_name(path.name + ".sidecar.json")
    write_text(sidecar, dumps(side, sort_keys=True))
    return [path, sidecar]
