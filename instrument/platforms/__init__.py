"""Survey platforms' layouts, in both directions, in one place.

One module per platform - ``qualtrics``, ``limesurvey``, ``kobo``, ``redcap``,
``plain`` - each providing what :mod:`instrument.platforms.base` describes;
:mod:`instrument.platforms.tables` reads a file's cells. The names below are
re-exported from those modules.

How each platform names the questionnaire's variables - in the questionnaire
file we export to it and in the response file it hands back - and which
bookkeeping columns its response exports carry. The questionnaire exports
(:mod:`instrument.export`), the generator's platform layouts
(:mod:`synthetic_data.writers`) and the readers of fielded data
(:mod:`analysis.ingest`) all take the names from here, so a layout changes
in one place.

* Qualtrics: variables keep their names; the CSV export has three header rows
  (names, question texts, ``{"ImportId": ...}``) and the bookkeeping columns
  :data:`QUALTRICS_META`.
* LimeSurvey: codes cannot contain ``_`` (:func:`limesurvey_code`); array
  (grid) items are exported as ``QUESTION[SUBQUESTION]`` (:func:`limesurvey_column`).
* KoboToolbox / ODK: questions sit in XLSForm groups (:func:`xlsform_group`) and
  response exports prefix the group path (:func:`kobo_column`), with
  :data:`KOBO_META` system columns and ``;`` as separator.
"""

from __future__ import annotations

from instrument.platforms.kobo import KOBO_META, kobo_column, xlsform_group
from instrument.platforms.limesurvey import LIMESURVEY_META, limesurvey_code, limesurvey_column
from instrument.platforms.qualtrics import QUALTRICS_META

__all__ = ["KOBO_META", "LIMESURVEY_META", "QUALTRICS_META", "kobo_column", "limesurvey_code", "limesurvey_column",
           "xlsform_group"]


#: Platform modules in detection order (``plain`` last: it accepts any codebook-layout table).
PLATFORM_MODULES = ("qualtrics", "limesurvey", "kobo", "redcap", "plain")
#: Formats ``ingest --format`` and ``generate --format`` accept.
RESPONSE_FORMATS = ("qualtrics", "limesurvey", "kobo", "redcap", "csv", "xlsx", "sav", "dta")

