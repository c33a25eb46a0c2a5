"""Format detection on hand-written files (codebook layout only on this branch)."""

from __future__ import annotations

from pathlib import Path

import pytest

from analysis.ingest.detect import read_raw
from instrument import load_instrument
from smecore.errors import DataError, OptionError

DATA = Path(__file__).resolve().parents[2] / "data" / "ingest"


@pytest.fixture(scope="module")
def inst():
    return load_instrument()


@pytest.mark.parametrize("fmt", ["auto", "csv"])
def test_plain_csv(inst, fmt):
    raw = read_raw(DATA / "plain_basic.csv", inst, fmt)
    assert raw.format == "csv" and raw.detected_by == "header row 1 holds 3 codebook variables"


def test_unknown_layout_is_refused(inst):
    with pytest.raises(DataError, match="not_codebook.csv: not recognised"):
        read_raw(DATA / "not_codebook.csv", inst)


def test_bad_format_option(inst):
    with pytest.raises(OptionError, match="--format must be one of auto, qualtrics"):
        read_raw(DATA / "plain_basic.csv", inst, "spss")


@pytest.mark.parametrize(("name", "message"), [("missing.csv", "no such file"), (".", "is a folder")])
def test_missing_path_and_folder(inst, name, message):
    with pytest.raises(DataError, match=message):
        read_raw(DATA / name, inst)
