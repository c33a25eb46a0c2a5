"""A readable, print-friendly questionnaire preview (HTML, one self-contained file).

Rendered with jinja2 with autoescaping on, so any text in the definition -
including markup someone typed into an item - is shown as text, never
interpreted. Grids show the scale as columns; reverse-keyed items are marked (R).
"""

from __future__ import annotations

from pathlib import Path

from jinja2 import Environment, PackageLoader, select_autoescape

from instrument.export.common import text
from instrument.model import Instrument
from smecore.files import write_text


def context(instrument: Instrument, lang: str = "en") -> dict:
    """Plain data for the templates (also used by the Markdown export)."""
    q = instrument.questionnaire
    sections = []
    for s in instrument.sections():
        blocks = []
        for b in s.blocks:
            points = ([{"value": p.value, "label": text(p.label, lang)} for p in instrument.scales[b.scale].points]
                      if b.scale else [])
            grid = b.kind in ("grid", "matrix")
            blocks.append({
                "grid": grid, "title": text(b.title, lang), "stem": text(b.stem, lang), "points": points,
                "variables": [{"name": v.name, "label": v.label(lang), "reverse": v.reverse,
                               "range": (f"{v.min}-{v.max}" if v.min is not None or v.max is not None else "")}
                              for v in b.variables]})
        sections.append({"anchor": f"{s.module.lower()}-{len(sections)}", "title": text(s.title, lang),
                         "intro": text(s.intro, lang), "blocks": blocks})
    minutes = instrument.completion_time().iloc[-1]["minutes"]
    language = instrument.language(lang)
    translation = "" if language.status == "source" else (
        f"{language.name} translation, status {language.status}"
        + (" (needs review and back-translation before fielding)" if language.status == "draft" else ""))
    return {"lang": lang, "title": text(q.title, lang), "version": q.version, "introduction": text(q.introduction, lang),
            "consent": text(q.consent, lang), "thanks": text(q.thanks, lang), "sections": sections,
            "minutes": minutes, "translation": translation}


def render(instrument: Instrument, lang: str = "en") -> str:
    env = Environment(loader=PackageLoader("instrument", "templates"),
                      autoescape=select_autoescape(["html", "j2"], default=True))
    return env.get_template("questionnaire.html.j2").render(**context(instrument, lang))


def write(instrument: Instrument, path: Path, lang: str = "en") -> list[Path]:
    """The researcher's preview in ``lang`` (construct headings and names stay English)."""
    write_text(path, render(instrument, lang))
    return [path]
