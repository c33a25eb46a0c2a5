"""Intake of fielded responses (issue 11, being built).

``read_responses(path)`` reads a file already laid out as the codebook (the
reader the CLI and reproduce use today, in :mod:`analysis.ingest.codebook_file`);
:mod:`analysis.ingest.recode` turns answer labels into codes.
"""

from __future__ import annotations

from analysis.ingest.codebook_file import read_responses

__all__ = ["read_responses"]
