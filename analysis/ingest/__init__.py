"""Intake of fielded responses.

:func:`~analysis.ingest.pipeline.ingest` reads any platform export or table
(:mod:`.detect` finds which) into the codebook layout with a log of every row
and changed cell; ``read_responses(path)`` reads a file already laid out as the
codebook (:mod:`.codebook_file`; analyze, export-r and reproduce use it for
such files); :mod:`.recode` turns answer labels into codes, :mod:`.schema`
checks codes against the codebook, :mod:`.privacy` pseudonymises ids.
"""

from __future__ import annotations

from analysis.ingest.codebook_file import read_responses

__all__ = ["read_responses"]
