"""Exports of the one instrument definition to the formats surveys are fielded and documented in.

``export(instrument, fmt, out, modules=None)`` writes one format and returns
the paths written. Formats: ``xlsform`` (ODK / KoboToolbox), ``limesurvey``
(tab-separated survey structure), ``redcap`` (data dictionary), ``qualtrics``
(Advanced Format TXT), ``html`` and ``markdown`` (previews), ``codebook``
(CSV + Markdown + SPSS ``.sav`` template) and ``lavaan`` (measurement model).
Variable names are the item ids in every format, except LimeSurvey, whose
codes cannot contain ``_`` (see :func:`instrument.platforms.limesurvey_code`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from instrument.model import Instrument
from smecore.errors import OptionError


def _registry() -> dict[str, tuple[Callable[[Instrument, Path], list[Path]], str]]:
    from instrument.export import (
        codebook,
        html,
        lavaan,
        markdown,
    )
    from instrument.platforms import kobo, limesurvey, qualtrics, redcap

    return {
        "xlsform": (kobo.write_questionnaire, ".xlsx"),
        "limesurvey": (limesurvey.write_questionnaire, ".txt"),
        "redcap": (redcap.write_questionnaire, ".csv"),
        "qualtrics": (qualtrics.write_questionnaire, ".txt"),
        "html": (html.write, ".html"),
        "markdown": (markdown.write, ".md"),
        "codebook": (codebook.write, ".csv"),
        "lavaan": (lavaan.write, ".lav"),
    }


FORMATS = ("xlsform", "limesurvey", "redcap", "qualtrics", "html", "markdown", "codebook", "lavaan")


def export(instrument: Instrument, fmt: str, out: str | Path, modules: Sequence[str] | None = None) -> list[Path]:
    """Write ``instrument`` (restricted to ``modules``) in format ``fmt`` to ``out``; return the paths written.

    ``out`` is the file to write (its parent folder is created); formats that
    write several files (``codebook``) put the others beside it with their own suffix.
    """
    registry = _registry()
    if fmt not in registry:
        raise OptionError(f"unknown export format '{fmt}'; choose one of: {', '.join(FORMATS)}")
    inst = instrument.select(modules) if modules else instrument
    path = Path(out)
    path.parent.mkdir(parents=True, exist_ok=True)
    writer, _ = registry[fmt]
    return writer(inst, path)


def default_filename(fmt: str, stem: str = "questionnaire") -> str:
    """A sensible file name for a format (used by ``smesurvey demo``)."""
    return {"codebook": "codebook.csv", "lavaan": "measurement_model.lav",
            "redcap": "redcap_data_dictionary.csv", "limesurvey": "limesurvey_survey.txt",
            "qualtrics": "qualtrics_advanced_format.txt", "xlsform": "xlsform.xlsx"}.get(
        fmt, f"{stem}{_registry()[fmt][1]}")
