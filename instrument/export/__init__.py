"""Exports of the one instrument definition to the formats surveys are fielded and documented in.

``export(instrument, fmt, out, modules=None, languages=("en",))`` writes one format and returns
the paths written. Formats: ``xlsform`` (ODK / KoboToolbox), ``limesurvey``
(tab-separated survey structure), ``redcap`` (data dictionary), ``qualtrics``
(Advanced Format TXT), ``html`` and ``markdown`` (the researcher's previews: construct names,
variable names), ``respondent`` and ``respondent-pdf`` (the questionnaire as a respondent sees it,
HTML and a printable PDF), ``codebook`` (CSV + Markdown + SPSS ``.sav`` and Stata ``.dta``
templates), ``lavaan`` (measurement model) and ``backtranslation`` (the translation committee's
XLSX sheet). Variable names are the item ids in every format, except LimeSurvey, whose
codes cannot contain ``_`` (see :func:`instrument.platforms.limesurvey_code`).

Languages (``languages``, ``--language``): the first is the questionnaire's base language. Platforms
with translations in their import format get every language in one file (XLSForm
``label::Finnish (fi)`` columns, LimeSurvey additional languages); Qualtrics gets the TXT in the
first language plus its translation file; every other format is written once per language, the
first at ``out`` and the others beside it as ``<stem>_<code><suffix>`` (REDCap: one data dictionary
per language, i.e. one project per language with the same field names). A language that does not
cover every respondent-facing string is refused (:func:`instrument.translations.require_languages`),
except by ``backtranslation``, whose job is to show what is missing; ``lavaan`` has no text.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from instrument.model import Instrument
from smecore.errors import OptionError

Writer = Callable[[Instrument, Path, Sequence[str]], list[Path]]


def language_copies(path: Path, languages: Sequence[str]) -> list[tuple[str, Path]]:
    """``(language, file)`` for formats written once per language: the first language at ``path``, the
    others beside it as ``<stem>_<code><suffix>``."""
    return [(lang, path if k == 0 else path.with_name(f"{path.stem}_{lang}{path.suffix}"))
            for k, lang in enumerate(languages)]


def per_language(write_one: Callable[[Instrument, Path, str], list[Path]]) -> Writer:
    """A writer of a single-language format, made to write one copy per language (:func:`language_copies`)."""
    def write(instrument: Instrument, path: Path, languages: Sequence[str] = ("en",)) -> list[Path]:
        out: list[Path] = []
        for lang, file in language_copies(path, languages):
            out += write_one(instrument, file, lang)
        return out
    write.__doc__ = write_one.__doc__
    return write


def _registry() -> dict[str, tuple[Writer, str]]:
    from instrument.export import (
        backtranslation,
        codebook,
        html,
        lavaan,
        markdown,
        respondent,
    )
    from instrument.platforms import kobo, limesurvey, qualtrics, redcap

    return {
        "xlsform": (kobo.write_questionnaire, ".xlsx"),
        "limesurvey": (limesurvey.write_questionnaire, ".txt"),
        "redcap": (per_language(redcap.write_questionnaire), ".csv"),
        "qualtrics": (qualtrics.write_questionnaire, ".txt"),
        "html": (per_language(html.write), ".html"),
        "markdown": (per_language(markdown.write), ".md"),
        "respondent": (per_language(respondent.write_html), ".html"),
        "respondent-pdf": (per_language(respondent.write_pdf), ".pdf"),
        "codebook": (per_language(codebook.write), ".csv"),
        "lavaan": (lavaan.write, ".lav"),
        "backtranslation": (backtranslation.write, ".xlsx"),
    }


FORMATS = ("xlsform", "limesurvey", "redcap", "qualtrics", "html", "markdown", "respondent", "respondent-pdf",
           "codebook", "lavaan", "backtranslation")
#: Formats without respondent-facing text that must be complete in the chosen languages.
_NO_LANGUAGE_CHECK = ("lavaan", "backtranslation")


def export(instrument: Instrument, fmt: str, out: str | Path, modules: Sequence[str] | None = None,
           languages: Sequence[str] = ("en",)) -> list[Path]:
    """Write ``instrument`` (restricted to ``modules``) in format ``fmt`` to ``out``, in ``languages``
    (declared language codes, the first being the base language); return the paths written.

    ``out`` is the file to write (its parent folder is created); formats that
    write several files (``codebook``, a language per copy) put the others beside it.
    Raises :class:`~smecore.errors.OptionError` for an unknown format, an undeclared language or a
    language that does not cover every respondent-facing string.
    """
    from instrument.translations import require_languages

    registry = _registry()
    if fmt not in registry:
        raise OptionError(f"unknown export format '{fmt}'; choose one of: {', '.join(FORMATS)}")
    languages = tuple(dict.fromkeys(languages)) or ("en",)
    if fmt not in _NO_LANGUAGE_CHECK:
        require_languages(instrument, languages)
    else:
        for lang in languages:
            instrument.language(lang)
    inst = instrument.select(modules) if modules else instrument
    path = Path(out)
    path.parent.mkdir(parents=True, exist_ok=True)
    writer, _ = registry[fmt]
    return writer(inst, path, languages)


def default_filename(fmt: str, stem: str = "questionnaire") -> str:
    """A sensible file name for a format (used by ``smesurvey demo``)."""
    return {"codebook": "codebook.csv", "lavaan": "measurement_model.lav",
            "redcap": "redcap_data_dictionary.csv", "limesurvey": "limesurvey_survey.txt",
            "qualtrics": "qualtrics_advanced_format.txt", "xlsform": "xlsform.xlsx",
            "respondent": "respondent_questionnaire.html", "respondent-pdf": "respondent_questionnaire.pdf",
            "backtranslation": "backtranslation.xlsx"}.get(
        fmt, f"{stem}{_registry()[fmt][1]}")
