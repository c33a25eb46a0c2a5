"""REDCap data dictionary export: now in :mod:`instrument.platforms.redcap` (``write_questionnaire``);
``write`` and ``rows`` kept for existing imports."""

from __future__ import annotations

from instrument.platforms.redcap import COLUMNS, rows
from instrument.platforms.redcap import write_questionnaire as write

__all__ = ["COLUMNS", "rows", "write"]
