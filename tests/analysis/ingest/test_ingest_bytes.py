"""Ingest's outputs, byte for byte, on a choice-text export (every answer a label, recoded and logged).

The input is tests/data/ingest/qualtrics_choice_text_300.csv.gz: N = 300 generated respondents with every
realism knob on and a handful of planted cells and rows, so that every kind of cells.csv and rows.csv line
appears (make_choice_text_300.py says which). Two checks:

* the SHA-256 of responses.csv, rows.csv, cells.csv, pages.csv and provenance.json (without its
  ``input`` path and package ``versions``) equal :data:`PINNED`, computed by the code before the memory
  work of benchmarks/ingest_speed.py (commit a329642: Python strings per cell, a data frame per chunk
  of cells.csv, ``csv_text`` of whole frames) - with and without ``--keep-identifiers``;
* the outputs equal those of a slower reference path kept here: the text file read by the old
  csv.reader reader (tests/instrument/platforms/test_text_table.py), the frames written with
  ``csv_text`` in one piece, cells.csv as the frame-per-chunk writer wrote it, and the quality report's
  cells table (counts and first lines) equal to what the whole frame of cells gives.

When a change to ingest changes its outputs on purpose, update PINNED (the test prints the new values).
"""

from __future__ import annotations

import gzip
import hashlib
import json
from pathlib import Path

import pytest

from analysis.ingest import pipeline
from analysis.ingest.cell_log import CellLog
from analysis.ingest.pipeline import csv_text, ingest
from instrument.platforms import tables
from smecore.files import write_text
from tests.analysis.ingest.test_cell_log import reference_csv
from tests.instrument.platforms.test_text_table import reference_cells

EXPORT = Path(__file__).resolve().parents[2] / "data" / "ingest" / "qualtrics_choice_text_300.csv.gz"
KEY = b"ingest-bytes-test-key-0123456789"
FILES = ("cells.csv", "pages.csv", "provenance.json", "responses.csv", "rows.csv")
#: SHA-256 per output file, without / with keep_identifiers (provenance.json without input and versions)
PINNED = {
    False: {
        "cells.csv": "333a55eeb987368f747cca520cc8d36162c54e400502126b4adb13639f8870c9",
        "pages.csv": "a778017dc7744b4a4501cc57db402d41be7dc480f4f1a2c0b60650ef35dc9223",
        "provenance.json": "260d04d9fc1a0c7fb735979053410c7cc2cb232b50810d4a5b93e3d3e1241ec0",
        "responses.csv": "c286d293de47af00fcc1362006d21f80bde252e77521b627b8123b3e460255b6",
        "rows.csv": "7c984b0526c3895c4d820f0751cf27107cf83b27382880cf6aab560695940fd5",
    },
    True: {
        "cells.csv": "333a55eeb987368f747cca520cc8d36162c54e400502126b4adb13639f8870c9",
        "pages.csv": "0e8403739cf5d6197185255dbdc7554f591ef3ceb671533a340c31b06880cebd",
        "provenance.json": "585c0cc092cf6af56240f3258aec4dc72afbe9d4cb3f706b56ee2e6c534359bd",
        "responses.csv": "f8963c8efdc7977f4cfb6dede550ac83e1f9b0b3c12c59bea939b5931a003246",
        "rows.csv": "fa2378db3ff78ecffffae8b920ff6cadb479e3371e7a82276d3d32bbf71916c0",
    },
}


@pytest.fixture(scope="module")
def export(tmp_path_factory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("choice_text")
    raw = folder / "qualtrics.csv"
    raw.write_bytes(gzip.decompress(EXPORT.read_bytes()))
    key = folder / "key"
    key.write_bytes(KEY)
    return raw, key


def _outputs(out: Path) -> dict[str, bytes]:
    files = {p.name: p.read_bytes() for p in sorted(out.iterdir())}
    assert sorted(files) == list(FILES)
    return files


def _pinned_form(name: str, data: bytes) -> bytes:
    if name != "provenance.json":
        return data
    prov = json.loads(data)
    prov.pop("input")
    prov.pop("versions")
    return json.dumps(prov, sort_keys=True).encode()


@pytest.mark.parametrize("keep", [False, True], ids=["pseudonyms", "keep-identifiers"])
def test_outputs_equal_the_bytes_before_the_memory_work(export, tmp_path, keep):
    raw, key = export
    res = ingest(raw, tmp_path / "out", key=key, keep_identifiers=keep)
    got = {name: hashlib.sha256(_pinned_form(name, data)).hexdigest()
           for name, data in _outputs(tmp_path / "out").items()}
    assert got == PINNED[keep], f"new SHA-256 values: {got}"
    reasons = set(res.cells["reason"])  # the planted cells and rows did what they were planted for
    assert {"label recoded", "missing marker", "platform missing code", "text in numeric item",
            "formula escaped"} <= reasons and any(r.startswith("out of range") for r in reasons)
    assert any(r.startswith("impossible") for r in reasons)
    excluded = " ".join(res.rows["reasons"])
    for what in ("Survey Preview", "duplicate respondent id", "duplicate submission", "empty row"):
        assert what in excluded


def _reference_text_table(path: Path) -> tables.Table:
    cells, encoding, delimiter = reference_cells(path)
    return tables.Table(path, "text", cells=cells, encoding=encoding, delimiter=delimiter)


def test_outputs_equal_the_slower_reference_path(export, tmp_path, monkeypatch):
    raw, key = export
    fast = ingest(raw, tmp_path / "fast", key=key)
    monkeypatch.setattr(tables, "read_text_table", _reference_text_table)
    monkeypatch.setattr(pipeline, "write_csv", lambda frame, path: write_text(path, csv_text(frame)))
    monkeypatch.setattr(CellLog, "write_csv", lambda log, path: write_text(path, reference_csv(log)))
    slow = ingest(raw, tmp_path / "slow", key=key)
    assert _outputs(tmp_path / "fast") == _outputs(tmp_path / "slow")
    # the quality report's cells table reads the log without its frame: the same as from the frame
    frame = fast.cells
    counts = fast.cell_log.counts().set_index("reason")
    by_reason = frame.groupby("reason")
    assert counts["cells"].to_dict() == by_reason.size().to_dict()
    assert counts["variables"].to_dict() == by_reason["variable"].nunique().to_dict()
    assert fast.cell_log.head(40).equals(frame.head(40))
    assert slow.cells.equals(frame)
