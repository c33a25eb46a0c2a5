"""Survey platforms' layouts, in both directions, in one place.

(Being reorganised for issue 11: one module per platform - ``qualtrics``,
``limesurvey``, ``kobo``, ``redcap``, ``plain`` - each providing what
:mod:`instrument.platforms.base` describes; :mod:`instrument.platforms.tables`
reads a file's cells. The names below move into those modules.)

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

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from instrument.model import Instrument

QUALTRICS_META = ("StartDate", "EndDate", "Status", "IPAddress", "Progress", "Duration (in seconds)", "Finished",
                  "RecordedDate", "ResponseId", "RecipientLastName", "RecipientFirstName", "RecipientEmail",
                  "ExternalReference", "LocationLatitude", "LocationLongitude", "DistributionChannel", "UserLanguage")
LIMESURVEY_META = ("id", "submitdate", "lastpage", "startlanguage", "seed", "startdate", "datestamp")
def limesurvey_code(variable: str) -> str:
    """LimeSurvey code of a variable: the name without underscores (``tk_1`` -> ``tk1``)."""
    return variable.replace("_", "")


def limesurvey_column(instrument: Instrument, name: str) -> str:
    """Column heading of a variable in a LimeSurvey response export (question code, array items as Q[SQ])."""
    for section in instrument.sections():
        for b in section.blocks:
            if name in {v.name for v in b.variables}:
                if b.kind in ("grid", "matrix") and len(b.variables) > 1:
                    return f"{b.construct}[{limesurvey_code(name)}]"
                return limesurvey_code(name)
    return limesurvey_code(name)


def looks_like_platform_export(first_lines: list[str]) -> bool:
    """Whether the first lines of a CSV file look like a Qualtrics, LimeSurvey or Kobo response
    export rather than the codebook layout."""
    if not first_lines:
        return False
    head = first_lines[0]
    return head.startswith(("StartDate", '"id","submitdate"')) or (";" in head and "_uuid" in head)


#: Platform modules in detection order (``plain`` last: it accepts any codebook-layout table).
PLATFORM_MODULES = ("qualtrics", "limesurvey", "kobo", "redcap", "plain")
#: Formats ``ingest --format`` and ``generate --format`` accept.
RESPONSE_FORMATS = ("qualtrics", "limesurvey", "kobo", "redcap", "csv", "xlsx", "sav", "dta")


from instrument.platforms.kobo import KOBO_META, kobo_column, xlsform_group  # noqa: E402, F401  (re-exports)
