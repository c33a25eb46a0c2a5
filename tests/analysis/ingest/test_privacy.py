"""Pseudonyms and keys."""

from __future__ import annotations

import hashlib
import hmac

import pandas as pd
import pytest

from analysis.ingest.privacy import load_key, pseudonymise
from smecore.errors import DataError


def test_pseudonym_is_keyed_hmac_and_stable(tmp_path):
    key_file = tmp_path / "k"
    key_file.write_text("0123456789abcdef0123\n")
    key = load_key(key_file)
    assert key == b"0123456789abcdef0123"
    out = pseudonymise(pd.Series(["r1", "", "r1"]), key)
    expected = hmac.new(key, b"r1", hashlib.sha256).hexdigest()[:16]
    assert out.tolist() == [expected, "", expected]


def test_random_keys_differ():
    s = pd.Series(["r1"])
    assert pseudonymise(s, load_key(None)).iloc[0] != pseudonymise(s, load_key(None)).iloc[0]


def test_bad_key_files_are_named(tmp_path):
    with pytest.raises(DataError, match="nope: key file not found"):
        load_key(tmp_path / "nope")
    short = tmp_path / "short"
    short.write_text("abc")
    with pytest.raises(DataError, match="short: key file holds 3 bytes"):
        load_key(short)
