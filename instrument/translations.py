"""The questionnaire's languages: which strings a respondent sees, and how completely each is translated.

English is the source; every other language is declared in ``questionnaire.yaml: languages`` with a
status (``draft``: a forward translation that still needs review and back-translation; ``reviewed``;
``final``). What a respondent sees - and so what a translation must cover - is listed once, by
:func:`strings`: the title, introduction, consent and thanks, section titles and introductions, profile
questions, attention checks, instructions (construct stems, scale instructions), items, matrix rows,
answer options and the respondent view's own strings. Construct names and definitions, second-order
factors and hypotheses are the researcher's and stay English.

* :func:`coverage` - one row per language: strings, translated, missing, placeholder and duplicate-label
  problems, complete or not (``smesurvey instrument languages``, ``instrument validate``);
* :func:`language_problems` - what a language lacks, each with its location;
* :func:`require_languages` - the check every export with ``--language`` runs first: a questionnaire in
  a language that is not complete would mix languages in front of a respondent, so it is refused;
* :func:`undeclared` - text keyed by a language the definition does not declare (a load error).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import pandas as pd
from pydantic import BaseModel

from smecore.errors import OptionError

PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")
COVERAGE_COLUMNS = ("language", "name", "status", "strings", "translated", "missing", "placeholder_errors",
                    "duplicate_labels", "complete")


@dataclass(frozen=True)
class TString:
    """One respondent-facing string: ``key`` says where it is (``item ik_1``, ``scale agree7: 3``),
    ``kind`` what it is (item, instruction, answer option, ...), ``text`` its ``{language: text}``."""

    key: str
    kind: str
    text: dict[str, str]

    def placeholders(self, lang: str) -> set[str]:
        return set(PLACEHOLDER.findall(self.text.get(lang, "")))


def strings(instrument) -> list[TString]:
    """Every respondent-facing string of the whole definition (whatever modules are selected), in
    questionnaire order: frame, sections, questions, items, answer options, respondent-view strings."""
    q = instrument.questionnaire
    out = [TString("questionnaire: title", "title", dict(q.title)),
           TString("questionnaire: introduction", "introduction", dict(q.introduction)),
           TString("questionnaire: consent", "consent", dict(q.consent)),
           TString("questionnaire: thanks", "thanks", dict(q.thanks))]
    for m in q.modules:
        out += [TString(f"module {m.id}: title", "section title", dict(m.title)),
                TString(f"module {m.id}: intro", "section introduction", dict(m.intro))]
    out += [TString("closing: title", "section title", dict(q.closing.title)),
            TString("closing: intro", "section introduction", dict(q.closing.intro))]
    out += [TString(f"profile {p.id}", "question", dict(p.text)) for p in q.profile]
    out += [TString(f"attention check {a.id}", "attention check", dict(a.text)) for a in q.attention_checks]
    for m in q.modules:
        for cid in m.constructs:
            if cid in instrument.matrices:
                mx = instrument.matrices[cid]
                out.append(TString(f"matrix {mx.id}: stem", "instruction", dict(mx.stem)))
                out += [TString(f"matrix {mx.id}: {dim.id}", "matrix row", dict(dim.label))
                        for dim in (*mx.sources, *mx.contents)]
                continue
            c = instrument.constructs[cid]
            if c.stem:
                out.append(TString(f"construct {c.id}: stem", "instruction", dict(c.stem)))
            out += [TString(f"item {it.id}", "item", dict(it.text)) for it in c.items]
    for sid, scale in instrument.scales.items():
        if scale.instruction:
            out.append(TString(f"scale {sid}: instruction", "instruction", dict(scale.instruction)))
        out += [TString(f"scale {sid}: {p.value}", "answer option", dict(p.label)) for p in scale.points]
    out += [TString(f"respondent view: {k}", "interface", dict(t)) for k, t in q.respondent.items()]
    return out


def language_problems(instrument, lang: str) -> dict[str, list[str]]:
    """What ``lang`` lacks: ``{"missing": [keys], "placeholders": [...], "duplicate_labels": [...]}``.

    A placeholder problem is a translation whose ``{placeholders}`` differ from the English text's (the
    respondent view would print a raw ``{number}`` or fail); a duplicate label is two answer options of
    one scale with the same text in ``lang`` (a respondent could not tell them apart and a labelled
    export could not be read back)."""
    missing, placeholders = [], []
    for s in strings(instrument):
        if not s.text.get(lang, "").strip():
            missing.append(s.key)
        elif s.placeholders(lang) != s.placeholders("en"):
            placeholders.append(f"{s.key}: has {{{', '.join(sorted(s.placeholders(lang)))}}}, English "
                                f"{{{', '.join(sorted(s.placeholders('en')))}}}")
    duplicates = []
    for sid, scale in instrument.scales.items():
        labels = [p.label.get(lang, "").strip().casefold() for p in scale.points]
        dup = sorted({lab for lab in labels if lab and labels.count(lab) > 1})
        if dup:
            duplicates.append(f"scale {sid}: {', '.join(dup)}")
    return {"missing": missing, "placeholders": placeholders, "duplicate_labels": duplicates}


def coverage(instrument) -> pd.DataFrame:
    """One row per declared language (:data:`COVERAGE_COLUMNS`): how many respondent-facing strings it
    has out of all, the problems of :func:`language_problems`, and ``complete`` (nothing missing, no
    problem). ``status`` is the declared one (``source``, ``draft``, ``reviewed``, ``final``)."""
    total = len(strings(instrument))
    rows = []
    for lang in instrument.questionnaire.languages:
        probs = language_problems(instrument, lang.code)
        n_missing = len(probs["missing"])
        rows.append({"language": lang.code, "name": lang.name, "status": lang.status, "strings": total,
                     "translated": total - n_missing, "missing": n_missing,
                     "placeholder_errors": len(probs["placeholders"]),
                     "duplicate_labels": len(probs["duplicate_labels"]),
                     "complete": not any(probs.values())})
    return pd.DataFrame(rows, columns=list(COVERAGE_COLUMNS))


def parse_languages(instrument, value: str | Sequence[str] | None) -> tuple[str, ...]:
    """``--language`` as codes: ``None`` -> ``("en",)``; ``"fi"``; ``"en,fi"``; ``"all"`` -> every declared
    language (English first). Unknown codes are an :class:`~smecore.errors.OptionError`."""
    if value is None:
        return ("en",)
    parts = [p.strip() for p in (value.split(",") if isinstance(value, str) else value) if p.strip()]
    if parts == ["all"]:
        return instrument.languages
    if not parts:
        raise OptionError("--language: give a language code (e.g. fi), several (en,fi) or 'all'")
    for p in parts:
        instrument.language(p)  # raises for an undeclared code
    return tuple(dict.fromkeys(parts))


def require_languages(instrument, languages: Sequence[str]) -> None:
    """Refuse (:class:`~smecore.errors.OptionError`) a language that is undeclared or incomplete, naming
    the first problems and the command that lists them all."""
    for code in languages:
        instrument.language(code)
        probs = language_problems(instrument, code)
        found = probs["missing"] + probs["placeholders"] + probs["duplicate_labels"]
        if found:
            shown = "; ".join(found[:5]) + (f"; ... ({len(found)} in all)" if len(found) > 5 else "")
            raise OptionError(f"language '{code}' is not complete, so the questionnaire would mix languages: "
                              f"{shown}. `smesurvey instrument languages` lists the coverage of each language")


def text_fields(obj, path: str = "") -> Iterator[tuple[str, dict[str, str]]]:
    """``(location, {language: text})`` for every text mapping inside a schema object (any depth)."""
    if isinstance(obj, BaseModel):
        for name in type(obj).model_fields:
            yield from text_fields(getattr(obj, name), f"{path}.{name}" if path else name)
    elif isinstance(obj, dict):
        if obj and "en" in obj and all(isinstance(v, str) for v in obj.values()):
            yield path, obj
        else:
            for k, v in obj.items():
                yield from text_fields(v, f"{path}.{k}" if path else str(k))
    elif isinstance(obj, (list, tuple)):
        for i, v in enumerate(obj):
            yield from text_fields(v, f"{path}.{i}")


def undeclared(obj, declared: Sequence[str]) -> list[str]:
    """``"<location>: language 'xx' is not declared ..."`` for every text keyed by an undeclared language."""
    out = []
    for where, mapping in text_fields(obj):
        for code in mapping:
            if code not in declared:
                out.append(f"{where}: language '{code}' is not declared in questionnaire.yaml: languages "
                           f"(declared: {', '.join(declared)})")
    return out
