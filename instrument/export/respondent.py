"""The questionnaire as a respondent sees it: HTML (one self-contained file) and a printable PDF.

The researcher's preview (:mod:`instrument.export.html`) shows construct names, variable names and
reverse-keying; this view shows none of them. What it shows, in one language:

* the title, introduction, consent and the estimated completion time;
* numbered sections with neutral titles (the modules' titles) and their introductions;
* numbered questions: profile questions with answer boxes and entry hints (range, year, percent),
  grids of statements lettered a, b, c ... under their instruction (the construct's stem, or the scale's
  instruction when it has none) with the scale's anchors as column heads; consecutive constructs that
  share a stem and a scale form one grid, and an attention check sits in the grid before it when the
  scale is the same (an instructed item looks like its neighbours);
* skip instructions derived from the definition's conditions (``relevant``): beside the answers of a
  filter question that skip the questions right after it ("No -> go to question 13"), on a conditional
  question ("Answer only if you answered "Yes" to question 11.") and at the top of a conditional section
  ("Answer this section only if ... Otherwise, please go to section 5.");
* the thanks and "End of the questionnaire".

Every string comes from the definition (``questionnaire.yaml: respondent`` for the view's own), so a
language is complete when :func:`instrument.translations.require_languages` says so. Rendered by jinja2
with autoescaping on. The PDF is the HTML printed by headless Chromium (``--print-to-pdf``, A4, page
numbers in the footer); :func:`find_chromium` says which browser, and a missing one is an
:class:`~smecore.errors.OptionError` that says how to install it.
"""

from __future__ import annotations

import os
import shutil
import string
import subprocess
import tempfile
from pathlib import Path

from jinja2 import Environment, PackageLoader, select_autoescape

from instrument.export.common import text
from instrument.model import Block, Instrument, Variable
from smecore.errors import OptionError
from smecore.files import write_text

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def _letters(k: int) -> str:
    return string.ascii_lowercase[k] if k < 26 else f"{string.ascii_lowercase[k // 26 - 1]}{string.ascii_lowercase[k % 26]}"


#: Most statements in one grid (consecutive constructs sharing a stem are split beyond it, so that no
#: battery runs over a page; an attention check may add one).
MAX_GRID_ROWS = 12


def _grids(blocks: tuple[Block, ...]) -> list[list[Block]]:
    """Blocks grouped into the questions a respondent sees: consecutive grid blocks with the same stem and
    scale form one question (up to :data:`MAX_GRID_ROWS` statements); an attention check joins the grid
    before it when the scale is the same."""
    out: list[list[Block]] = []
    for b in blocks:
        prev = out[-1][-1] if out else None
        attention = all(v.kind == "attention" for v in b.variables)
        rows = sum(len(x.variables) for x in out[-1]) if out else 0
        if (prev is not None and b.kind in ("grid", "matrix") and prev.kind in ("grid", "matrix")
                and b.scale == prev.scale
                and ((b.stem and b.stem == prev.stem and rows + len(b.variables) <= MAX_GRID_ROWS)
                     or (attention and not b.stem))):
            out[-1].append(b)
        else:
            out.append([b])
    return out


def context(instrument: Instrument, lang: str = "en") -> dict:
    """Plain data for the template: sections -> questions -> rows, every text in ``lang``."""
    q = instrument.questionnaire
    r = {k: text(t, lang) for k, t in q.respondent.items()}
    sections = instrument.sections()
    # 1. number the questions and the sections (the numbers the skip instructions point at)
    numbered: list[tuple[int, list[tuple[str, list[Block]]]]] = []
    number_of: dict[str, str] = {}  # variable -> "12" or "15b"
    first_question_of: list[int] = []
    n = 0
    for s in sections:
        questions = []
        first_question_of.append(n + 1)
        for group in _grids(s.blocks):
            if group[0].kind in ("grid", "matrix"):
                n += 1
                rows = [v for b in group for v in b.variables]
                for k, v in enumerate(rows):
                    number_of[v.name] = f"{n}{_letters(k)}" if len(rows) > 1 else str(n)
                questions.append(("grid", group))
            else:
                for b in group:
                    for v in b.variables:
                        n += 1
                        number_of[v.name] = str(n)
                        questions.append(("question", [b]))
        numbered.append((n, questions))
    first_question_of.append(n + 1)

    def answer_label(var: str, value: int) -> str:
        v = instrument.variable(var)
        return instrument.value_labels(v, lang).get(value, str(value))

    def condition_text(cond: dict[str, int]) -> tuple[str, str]:
        var, value = next(iter(cond.items()))  # the definition's conditions name one filter question
        return answer_label(var, value), number_of.get(var, "?")

    # 2. where a filter question's other answers jump to: past the conditional questions right after it
    order = [v for s in sections for b in s.blocks for v in b.variables]
    jumps: dict[tuple[str, int], str] = {}
    for i, v in enumerate(order):
        if not v.scale or v.kind != "profile":
            continue
        j = i + 1
        while j < len(order) and (order[j].relevant or {}).get(v.name) is not None \
                and order[j].kind == "profile":
            j += 1
        if j > i + 1 and j < len(order):
            needed = order[i + 1].relevant[v.name]
            for value in instrument.value_labels(v, lang):
                if value != needed:
                    jumps[(v.name, value)] = r["goto_question"].format(number=number_of[order[j].name])

    # 3. the view
    out_sections = []
    for k, (s, (_, questions)) in enumerate(zip(sections, numbered)):
        skip = ""
        if s.relevant:
            answer, number = condition_text(s.relevant)
            if k + 1 < len(sections):
                skip = r["only_if_section"].format(answer=answer, number=number, next=k + 2)
            else:
                skip = r["only_if_section_last"].format(answer=answer, number=number)
        items = []
        for kind, group in questions:
            if kind == "grid":
                b = group[0]
                scale = instrument.scales[b.scale]
                instruction = text(b.stem, lang) or text(scale.instruction, lang)
                rows = [{"letter": number_of[v.name][len(str(_qnum(number_of[v.name]))):],
                         "text": v.label(lang)} for b2 in group for v in b2.variables]
                items.append({"kind": "grid", "number": _qnum(number_of[group[0].variables[0].name]),
                              "instruction": instruction, "hint": r["grid_hint"],
                              "points": [text(p.label, lang) for p in scale.points], "rows": rows})
            else:
                v = group[0].variables[0]
                items.append(_question(instrument, v, lang, r, number_of, jumps, condition_text, s.relevant))
        out_sections.append({"number": r["section"].format(number=k + 1), "title": text(s.title, lang),
                             "intro": text(s.intro, lang), "skip": skip, "questions": items})
    minutes = instrument.completion_time().iloc[-1]["minutes"]
    language = instrument.language(lang)
    return {"lang": lang, "title": text(q.title, lang), "introduction": text(q.introduction, lang),
            "consent": text(q.consent, lang), "thanks": text(q.thanks, lang),
            "minutes": r["minutes"].format(minutes=f"{minutes:.0f}"), "sections": out_sections,
            "end": r["end"], "page": r["page"], "version": q.version,
            "draft": language.status == "draft", "status": language.status}


def _qnum(number: str) -> int:
    return int("".join(ch for ch in number if ch.isdigit()))


def _question(instrument: Instrument, v: Variable, lang: str, r: dict[str, str], number_of: dict[str, str],
              jumps: dict, condition_text, section_condition) -> dict:
    """One question that is not a grid: choices with their skip arrows, or an answer field with its hint."""
    own = {k: val for k, val in (v.relevant or {}).items() if (section_condition or {}).get(k) != val}
    only_if = ""
    if own:
        answer, number = condition_text(own)
        only_if = r["only_if_question"].format(answer=answer, number=number)
    choices = []
    if v.scale:
        choices = [{"label": label, "jump": jumps.get((v.name, value), "")}
                   for value, label in instrument.value_labels(v, lang).items()]
        hint = r["choice_hint"]
    elif v.type == "percent":
        hint = r["percent_hint"]
    elif v.type == "year":
        hint = r["year_hint"]
    elif v.type == "integer":
        hint = r["number_hint"].format(min="" if v.min is None else v.min, max="" if v.max is None else v.max)
    else:
        hint = r["text_hint"]
    return {"kind": "question", "number": number_of[v.name], "text": v.label(lang), "hint": hint,
            "optional": r["optional"] if not v.required else "", "only_if": only_if, "choices": choices,
            "field": "text" if v.type == "text" else ("number" if not v.scale else ""),
            "percent": v.type == "percent"}


def render(instrument: Instrument, lang: str = "en") -> str:
    env = Environment(loader=PackageLoader("instrument", "templates"),
                      autoescape=select_autoescape(["html", "j2"], default=True))
    return env.get_template("respondent.html.j2").render(**context(instrument, lang))


def write_html(instrument: Instrument, path: Path, lang: str = "en") -> list[Path]:
    """The respondent view in ``lang`` as one self-contained HTML file."""
    write_text(path, render(instrument, lang))
    return [path]


def find_chromium() -> str:
    """The headless browser that prints the PDF: ``$SMESURVEY_CHROMIUM`` or the first of
    :data:`CHROMIUM_NAMES` on the PATH."""
    chosen = os.environ.get("SMESURVEY_CHROMIUM") or next(
        (p for p in map(shutil.which, CHROMIUM_NAMES) if p), None)
    if not chosen:
        raise OptionError("the PDF is printed by headless Chromium, which is not installed: install the Debian "
                          "package 'chromium' (make demo / make test do it when run as root) or set "
                          "SMESURVEY_CHROMIUM to a Chrome / Chromium executable; the HTML (--format "
                          "respondent) needs no browser")
    return chosen


def print_pdf(html_path: Path, pdf_path: Path, timeout: float = 120) -> Path:
    """Print ``html_path`` to ``pdf_path`` with headless Chromium (A4 from the page's CSS, no browser header
    or footer). Raises :class:`~smecore.errors.OptionError` when Chromium fails or writes nothing."""
    browser = find_chromium()
    pdf_path = Path(pdf_path).resolve()
    pdf_path.unlink(missing_ok=True)
    with tempfile.TemporaryDirectory(prefix="smesurvey-chromium-") as profile:
        cmd = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
               "--no-first-run", "--disable-extensions", f"--user-data-dir={profile}",
               "--no-pdf-header-footer", "--print-to-pdf-no-header", f"--print-to-pdf={pdf_path}",
               Path(html_path).resolve().as_uri()]
        try:
            run = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
        except subprocess.TimeoutExpired as exc:
            raise OptionError(f"{browser} did not print {html_path} within {timeout:.0f} s") from exc
    if not pdf_path.is_file() or pdf_path.stat().st_size == 0:
        tail = " ".join((run.stderr or "").split()[-40:])
        raise OptionError(f"{browser} wrote no PDF for {html_path} (exit status {run.returncode}): {tail}")
    return pdf_path


def write_pdf(instrument: Instrument, path: Path, lang: str = "en") -> list[Path]:
    """The respondent view in ``lang`` as a PDF, and the HTML it is printed from beside it (same stem)."""
    html_path = write_html(instrument, path.with_suffix(".html"), lang)[0]
    return [html_path, print_pdf(html_path, path)]
