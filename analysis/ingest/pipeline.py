"""``ingest``: any supported response file -> the codebook layout, with a log of every row and changed cell.

Steps (each a small function below):
0. options checked, input hashed;  1. read by its platform module (:mod:`.detect`);
2. rows: empty rows and repeated respondent ids excluded;  3. cells: labels recoded, platform missing
codes / text / codes the codebook does not allow (:mod:`.schema`) set missing, impossible profile answers;
4. privacy: identifier columns dropped, ids pseudonymised;  5. formula-looking text escaped.
``strict=True`` raises :class:`DataError` at the first problem instead (file, row, column, value).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.ingest.detect import read_raw
from analysis.ingest.privacy import load_key, pseudonymise
from analysis.ingest.recode import label_map, recode_value
from analysis.ingest.schema import failures
from instrument.model import MISSING_CODE, Instrument
from smecore import jsonio
from smecore.errors import DataError
from smecore.files import write_text
from smecore.provenance import package_versions

ROW_COLUMNS = ("source_row", "respondent", "status", "reasons")
CELL_COLUMNS = ("source_row", "variable", "original", "new", "reason")
DEFAULT_MISSING = (str(MISSING_CODE),)
_FORMULA = re.compile(r"^(?:[=+\-@](?![\d.])|[\t\r])")


@dataclass(frozen=True)
class IngestResult:
    """``responses``: codebook layout (codes, NaN missing), one row per kept respondent; ``rows``:
    :data:`ROW_COLUMNS` per data row read; ``cells``: :data:`CELL_COLUMNS` per changed cell;
    ``provenance``: input hash, format, options, versions, dropped identifiers."""

    responses: pd.DataFrame
    rows: pd.DataFrame
    cells: pd.DataFrame
    provenance: dict

    def write(self, out: str | Path) -> list[Path]:
        """Write responses.csv, rows.csv, cells.csv and provenance.json into ``out``; return the paths."""
        out = Path(out)
        return [write_text(out / "responses.csv", self.responses.to_csv(index=False, lineterminator="\n")),
                write_text(out / "rows.csv", self.rows.to_csv(index=False, lineterminator="\n")),
                write_text(out / "cells.csv", self.cells.to_csv(index=False, lineterminator="\n")),
                write_text(out / "provenance.json", jsonio.dumps(self.provenance))]


def _problem(strict: bool, path: Path, row: int, column: str, value, what: str) -> None:
    if strict:
        raise DataError(f"{path}: row {row}: column '{column}': value {value!r}: {what}; fix the file or "
                        "run without --strict to set it missing and log it")


def _clean_cells(raw, instrument: Instrument, path: Path, strict: bool) -> tuple[pd.DataFrame, list[dict]]:
    """Step 3: numeric questionnaire variables to float codes; text variables as str."""
    missing = set(DEFAULT_MISSING) | set(raw.missing_codes)
    out, log = {}, []
    for v in instrument.variables(paradata=False):
        if v.name not in raw.data.columns:
            continue
        col = raw.data[v.name]
        if v.type == "text":
            out[v.name] = col.map(lambda x: np.nan if pd.isna(x) or str(x).strip() == "" else str(x))
            continue
        labels = label_map(instrument, v)
        values = []
        for i, x in enumerate(col.tolist()):
            src = int(raw.source_row[i])
            text = "" if pd.isna(x) else (str(int(x)) if isinstance(x, float) and float(x).is_integer() else str(x))
            text = text.strip()
            if text == "":
                values.append(np.nan)
                continue
            if text in missing:
                _problem(strict, path, src, v.name, text, "platform missing code")
                log.append({"source_row": src, "variable": v.name, "original": text, "new": "",
                            "reason": "platform missing code"})
                values.append(np.nan)
                continue
            code, was_label = (recode_value(text, labels) if labels else (None, False))
            if code is None and not labels:
                num = pd.to_numeric(text.replace(",", "."), errors="coerce")  # decimal comma in numbers
                code = None if pd.isna(num) else float(num)
            if code is None:
                _problem(strict, path, src, v.name, text, "text in numeric item")
                log.append({"source_row": src, "variable": v.name, "original": text, "new": "",
                            "reason": "text in numeric item"})
                values.append(np.nan)
                continue
            if was_label:
                log.append({"source_row": src, "variable": v.name, "original": text, "new": str(code),
                            "reason": "label recoded"})
            values.append(float(code))
        out[v.name] = pd.Series(values, dtype=float)
    frame = pd.DataFrame(out, index=raw.data.index)
    for f in failures(frame.drop(columns=[c for c in frame if instrument.variable(c).type == "text"]),
                      instrument).itertuples():
        src = int(raw.source_row[f.index])
        _problem(strict, path, src, f.variable, f.value, f"out of range ({f.check})")
        log.append({"source_row": src, "variable": f.variable, "original": f"{f.value:g}", "new": "",
                    "reason": f"out of range set missing ({f.check})"})
        frame.loc[f.index, f.variable] = np.nan
    if {"firm_founded", "firm_first_foreign_sale"} <= set(frame.columns):
        bad = frame["firm_first_foreign_sale"] < frame["firm_founded"]
        for i in np.flatnonzero(bad.to_numpy()):
            src = int(raw.source_row[i])
            val = frame["firm_first_foreign_sale"].iloc[i]
            _problem(strict, path, src, "firm_first_foreign_sale", val, "first foreign sale before founding")
            log.append({"source_row": src, "variable": "firm_first_foreign_sale", "original": f"{val:g}",
                        "new": "", "reason": "impossible: first foreign sale before the firm was founded"})
            frame.iloc[i, frame.columns.get_loc("firm_first_foreign_sale")] = np.nan
    return frame, log


def ingest(path: str | Path, out: str | Path | None = None, *, format: str = "auto", strict: bool = False,
           key: str | Path | None = None, keep_identifiers: bool = False,
           instrument: Instrument | None = None) -> IngestResult:
    """Read ``path`` (never modified) into the codebook layout; write the outputs into ``out`` when given.

    ``key``: a key file for the pseudonyms (default: a random key, never stored).
    """
    if instrument is None:
        from instrument import load_instrument

        instrument = load_instrument()
    path = Path(path)
    raw = read_raw(path, instrument, format)  # step 1 (also checks the path and format)
    sha = hashlib.sha256(path.read_bytes()).hexdigest()
    secret = load_key(key)
    n = len(raw.data)
    # step 2: rows
    reasons: list[list[str]] = [[] for _ in range(n)]
    blank = raw.data.apply(lambda c: c.isna() | c.astype(str).str.strip().eq("")).all(axis=1)
    ids = raw.meta["respondent"].fillna("").astype(str)
    seen: dict[str, int] = {}
    for i in range(n):
        src = int(raw.source_row[i])
        if bool(blank.iloc[i]) and not ids.iloc[i]:
            _problem(strict, path, src, "(all)", "", "empty row")
            reasons[i].append("empty row")
        elif ids.iloc[i] and ids.iloc[i] in seen:
            _problem(strict, path, src, "respondent_id", ids.iloc[i], f"repeats source row {seen[ids.iloc[i]]}")
            reasons[i].append(f"duplicate respondent id (first in source row {seen[ids.iloc[i]]})")
        elif ids.iloc[i]:
            seen[ids.iloc[i]] = src
    frame, log = _clean_cells(raw, instrument, path, strict)  # step 3
    pseudo = ids if keep_identifiers else pseudonymise(ids, secret)  # step 4
    frame.insert(0, "respondent_id", pseudo)
    if raw.meta["duration_sec"].notna().any():
        frame["duration_sec"] = raw.meta["duration_sec"].to_numpy()
    if keep_identifiers:
        frame = pd.concat([frame, raw.identifying.reset_index(drop=True)], axis=1)
    for c in frame.columns:  # step 5: text that a spreadsheet would run as a formula
        if pd.api.types.is_numeric_dtype(frame[c]):
            continue
        for i, x in enumerate(frame[c].tolist()):
            if isinstance(x, str) and _FORMULA.match(x):
                log.append({"source_row": int(raw.source_row[i]), "variable": c, "original": x, "new": "'" + x,
                            "reason": "formula escaped"})
                frame.iloc[i, frame.columns.get_loc(c)] = "'" + x
    kept = np.array([not r for r in reasons])
    rows = pd.DataFrame({"source_row": raw.source_row, "respondent": pseudo.to_numpy(),
                         "status": np.where(kept, "kept", "excluded"), "reasons": ["; ".join(r) for r in reasons]},
                        columns=list(ROW_COLUMNS))
    cells = pd.DataFrame(log, columns=list(CELL_COLUMNS)).sort_values(["source_row", "variable"], kind="stable")
    fielded = set(raw.data.columns)
    provenance = {"input": str(path), "input_sha256": sha, "format": raw.format, "detected_by": raw.detected_by,
                  "details": raw.details, "options": {"format": format, "strict": strict, "key_file": bool(key),
                                                      "keep_identifiers": keep_identifiers},
                  "rows_read": n, "rows_kept": int(kept.sum()), "unknown_columns": list(raw.unknown),
                  "dropped_identifier_columns": [] if keep_identifiers else list(raw.identifiers),
                  "modules_not_fielded": [m for m in instrument.module_ids if m != "M0" and not any(
                      v.name in fielded for v in instrument.variables(paradata=False) if v.module == m)],
                  "versions": package_versions()}
    result = IngestResult(frame[kept].reset_index(drop=True), rows, cells.reset_index(drop=True), provenance)
    if out is not None:
        result.write(out)
    return result
