"""XLSForm (ODK Collect, KoboToolbox, Enketo) questionnaire export: now in :mod:`instrument.platforms.kobo`
(``write_questionnaire``), which owns the platform's layouts in both directions; ``write`` kept for
existing imports."""

from __future__ import annotations

from instrument.platforms.kobo import write_questionnaire as write

__all__ = ["write"]
