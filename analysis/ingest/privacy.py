"""Direct identifiers out, respondent ids pseudonymised.

Respondent ids become the first 16 hex digits of HMAC-SHA256(key, id): the
same key (``--key-file``) gives the same pseudonyms, so waves can be linked;
without a key a random one is drawn and never stored, so the pseudonyms
cannot be reversed or recomputed.
"""

from __future__ import annotations

import hmac
import secrets
from pathlib import Path

import pandas as pd

from smecore.errors import DataError

PSEUDONYM_HEX = 16


def load_key(path: str | Path | None) -> bytes:
    """The key in ``path`` (its bytes, surrounding whitespace stripped); a fresh random key when ``None``."""
    if path is None:
        return secrets.token_bytes(32)
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: key file not found; give an existing file with --key-file or leave it out")
    key = path.read_bytes().strip()
    if len(key) < 16:
        raise DataError(f"{path}: key file holds {len(key)} bytes; use at least 16 (e.g. `openssl rand -hex 32`)")
    return key


def pseudonymise(ids: pd.Series, key: bytes) -> pd.Series:
    """HMAC-SHA256 pseudonym of each id (``""`` stays ``""``), same index as ``ids``."""
    def one(x: str) -> str:
        x = "" if pd.isna(x) else str(x)
        return hmac.digest(key, x.encode("utf-8"), "sha256").hex()[:PSEUDONYM_HEX] if x else ""

    return ids.map(one)
