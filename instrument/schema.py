"""Pydantic schema of the instrument definition files.

Each YAML file is validated on its own (types, required fields, English text,
at least three items per construct, id formats), then :mod:`instrument.load`
checks what spans files (duplicate ids, unknown scales, second-order members,
hypothesis constructs). Models are frozen: a loaded instrument cannot be
changed by accident.

Conventions: text fields are ``{language code: text}`` with English (``en``)
required and every other code declared in ``questionnaire.yaml: languages``
(checked across files by :mod:`instrument.load`; which respondent-facing
strings each language still lacks is :mod:`instrument.translations`' job); variable names (item ids, profile ids) are lowercase
``[a-z][a-z0-9_]*`` of at most 26 characters (REDCap's limit, the strictest of
the platforms we export to); construct ids are uppercase.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

VARIABLE_RE = re.compile(r"^[a-z][a-z0-9_]{0,25}$")
CONSTRUCT_RE = re.compile(r"^[A-Z][A-Z0-9]*$")
LANGUAGE_RE = re.compile(r"^[a-z]{2,3}(-[A-Z]{2})?$")
ORIGIN_RE = re.compile(r"^(new|adapted from .+\(\d{4}\))$")
MODULES = ("M0", "M1", "M2", "M3", "M4", "M5")


class Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _check_text(value: dict[str, str]) -> dict[str, str]:
    if not isinstance(value, dict):
        raise ValueError("text must be a mapping of language code to text, e.g. {en: ...}")
    bad = [k for k in value if not LANGUAGE_RE.match(str(k))]
    if bad:
        raise ValueError(f"language codes {bad} are not valid (use e.g. 'en', 'fi', 'pt-BR')")
    if not str(value.get("en", "")).strip():
        raise ValueError("English text ('en') is missing")
    return {str(k): str(v) for k, v in value.items()}


def _variable(value: str) -> str:
    if not VARIABLE_RE.match(value):
        raise ValueError(f"'{value}' is not a valid variable name: lowercase letters, digits and '_', "
                         "starting with a letter, at most 26 characters")
    return value


def _optional_text(value):
    return None if value is None else _check_text(value)


class ScalePoint(Frozen):
    value: int
    label: dict[str, str]
    check_label = field_validator("label")(_check_text)


class Scale(Frozen):
    """A response scale. ``level``: the SPSS measurement level of its answers (ordered categories are
    ``ordinal``, unordered ones ``nominal``); ``instruction``: what the respondent is asked to do with a grid
    of statements on this scale when the construct has no stem of its own (respondent view)."""

    name: dict[str, str]
    points: list[ScalePoint] = Field(min_length=2)
    level: Literal["ordinal", "nominal"] = "ordinal"
    instruction: dict[str, str] | None = None
    check_name = field_validator("name")(_check_text)
    check_instruction = field_validator("instruction")(_optional_text)

    @model_validator(mode="after")
    def _unique(self):
        values = [p.value for p in self.points]
        if len(set(values)) != len(values):
            raise ValueError(f"point values must be unique, got {values}")
        return self


class ScalesFile(Frozen):
    scales: dict[str, Scale]


class Item(Frozen):
    id: str
    text: dict[str, str]
    reverse: bool = False
    check_id = field_validator("id")(_variable)
    check_text = field_validator("text")(_check_text)


class Construct(Frozen):
    """One reflective construct: its theory (seed, passage), provenance and items."""

    id: str
    module: Literal[MODULES]  # type: ignore[valid-type]
    name: dict[str, str]
    definition: dict[str, str]
    seed: str | None
    passage: str | None
    origin: str
    scale: str
    stem: dict[str, str] | None = None
    second_order: str | None = None
    role: Literal["construct", "marker"] = "construct"
    items: list[Item] = Field(min_length=3)
    check_texts = field_validator("name", "definition")(_check_text)

    @field_validator("stem")
    @classmethod
    def _stem(cls, v):
        return None if v is None else _check_text(v)

    @field_validator("id")
    @classmethod
    def _cid(cls, v):
        if not CONSTRUCT_RE.match(v):
            raise ValueError(f"construct id '{v}' must be uppercase letters and digits")
        return v

    @field_validator("origin")
    @classmethod
    def _origin(cls, v):
        if not ORIGIN_RE.match(v):
            raise ValueError("origin must be 'new' or 'adapted from <published scale> (<year>)'")
        return v

    @model_validator(mode="after")
    def _theory(self):
        if self.role == "construct" and not (self.seed and self.passage):
            raise ValueError("a construct must record its seed file and the passage it operationalises")
        return self


class MatrixDimension(Frozen):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    id: str
    construct_id: str = Field(alias="construct")
    label: dict[str, str]
    check_label = field_validator("label")(_check_text)


class Matrix(Frozen):
    """A grid of single-item ratings (rows x columns), e.g. knowledge source x content."""

    id: str
    kind: Literal["matrix"]
    module: Literal[MODULES]  # type: ignore[valid-type]
    name: dict[str, str]
    definition: dict[str, str]
    seed: str
    passage: str
    origin: str
    scale: str
    stem: dict[str, str]
    sources: list[MatrixDimension] = Field(min_length=2)
    contents: list[MatrixDimension] = Field(min_length=2)
    check_texts = field_validator("name", "definition", "stem")(_check_text)

    def item_id(self, source: str, content: str) -> str:
        return f"{self.id.lower()}_{source}_{content}"


class Module(Frozen):
    """A module (one section, one page). ``relevant``: asked only when every named profile question has the
    given answer (e.g. ``{firm_cluster_member: 1}``); platforms get it as group / field relevance, the
    respondent view as a skip instruction."""

    id: Literal[MODULES]  # type: ignore[valid-type]
    title: dict[str, str]
    intro: dict[str, str]
    constructs: list[str] = []
    relevant: dict[str, int] | None = None
    check_texts = field_validator("title", "intro")(_check_text)


class ProfileQuestion(Frozen):
    id: str
    type: Literal["integer", "year", "percent", "select_one", "text"]
    text: dict[str, str]
    scale: str | None = None
    min: int | None = None
    max: int | None = None
    required: bool = True
    relevant: dict[str, int] | None = None
    check_id = field_validator("id")(_variable)
    check_text = field_validator("text")(_check_text)

    @model_validator(mode="after")
    def _scale_for_choices(self):
        if self.type == "select_one" and not self.scale:
            raise ValueError("a select_one question needs a 'scale' with its choices")
        return self


class AttentionCheck(Frozen):
    id: str
    text: dict[str, str]
    scale: str
    expected: int
    position: Literal["first", "last"]
    check_id = field_validator("id")(_variable)
    check_text = field_validator("text")(_check_text)


class SecondOrder(Frozen):
    id: str
    name: dict[str, str]
    definition: dict[str, str]
    members: list[str] = Field(min_length=2)
    check_texts = field_validator("name", "definition")(_check_text)


class Derived(Frozen):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    id: str
    name: dict[str, str]
    definition: dict[str, str]
    from_: list[str] = Field(alias="from")
    check_texts = field_validator("name", "definition")(_check_text)


class Timing(Frozen):
    likert: float = Field(gt=0)
    factual: float = Field(gt=0)
    text: float = Field(gt=0)
    module_intro: float = Field(ge=0)
    introduction: float = Field(ge=0)


LANGUAGE_STATUS = ("source", "draft", "reviewed", "final")


class Language(Frozen):
    """A language the questionnaire is written in. ``status``: ``source`` (English, the original),
    ``draft`` (forward translation not yet reviewed: needs review and back-translation before fielding),
    ``reviewed`` (back-translated and reconciled by the translation committee) or ``final`` (pretested).
    ``name`` is the English name (XLSForm's ``label::Finnish (fi)``), ``native`` the name in the language."""

    code: str
    name: str
    native: str
    status: Literal[LANGUAGE_STATUS]  # type: ignore[valid-type]
    translator: str = ""
    note: str = ""

    @field_validator("code")
    @classmethod
    def _code(cls, v):
        if not LANGUAGE_RE.match(v):
            raise ValueError(f"language code '{v}' is not valid (use e.g. 'en', 'fi', 'pt-BR')")
        return v


ENGLISH = Language(code="en", name="English", native="English", status="source")


def _en(s: str) -> dict[str, str]:
    return {"en": s}


class Closing(Frozen):
    """The closing section that holds the marker items (title "Finally" unless the file says otherwise)."""

    title: dict[str, str] = _en("Finally")
    intro: dict[str, str] = _en("A few general statements to finish.")
    check_texts = field_validator("title", "intro")(_check_text)


#: The respondent view's own strings (English defaults); ``{name}`` placeholders are filled in when it is
#: rendered and must appear unchanged in every translation.
RESPONDENT_STRINGS: dict[str, str] = {
    "section": "Section {number}",
    "minutes": "Answering takes about {minutes} minutes.",
    "grid_hint": "Please mark one answer in each row.",
    "choice_hint": "Please mark one answer.",
    "number_hint": "Please enter a whole number from {min} to {max}.",
    "year_hint": "Please enter a year (four digits).",
    "percent_hint": "Please enter a percentage from 0 to 100.",
    "text_hint": "Please write your answer.",
    "optional": "(optional)",
    "goto_question": "go to question {number}",
    "only_if_question": "Answer only if you answered \u201c{answer}\u201d to question {number}.",
    "only_if_section": "Answer this section only if you answered \u201c{answer}\u201d to question {number}. "
                       "Otherwise, please go to section {next}.",
    "only_if_section_last": "Answer this section only if you answered \u201c{answer}\u201d to question "
                            "{number}. Otherwise, please go to the end of the questionnaire.",
    "end": "End of the questionnaire",
    "page": "Page",
}


class Questionnaire(Frozen):
    id: str
    version: str
    title: dict[str, str]
    introduction: dict[str, str]
    consent: dict[str, str]
    thanks: dict[str, str]
    modules: list[Module] = Field(min_length=1)
    profile: list[ProfileQuestion]
    attention_checks: list[AttentionCheck] = []
    marker: str | None = None
    second_order: list[SecondOrder] = []
    timing: Timing
    derived: list[Derived] = []
    languages: list[Language] = [ENGLISH]
    closing: Closing = Closing()
    respondent: dict[str, dict[str, str]] = Field(default_factory=dict, validate_default=True)
    check_texts = field_validator("title", "introduction", "consent", "thanks")(_check_text)

    @field_validator("respondent")
    @classmethod
    def _respondent(cls, v):
        """The respondent view's strings: the English defaults of RESPONDENT_STRINGS, with their
        translations (and any English rewording) from the file."""
        unknown = sorted(set(v) - set(RESPONDENT_STRINGS))
        if unknown:
            raise ValueError(f"unknown respondent-view strings {unknown}; known: {', '.join(RESPONDENT_STRINGS)}")
        out = {k: _en(d) for k, d in RESPONDENT_STRINGS.items()}
        out.update({k: _check_text(t) for k, t in v.items()})
        return out

    @field_validator("languages")
    @classmethod
    def _languages(cls, v):
        codes = [lang.code for lang in v]
        if not v or codes[0] != "en" or v[0].status != "source":
            raise ValueError("the first language must be English ('en') with status 'source': the source text")
        if len(set(codes)) != len(codes):
            raise ValueError(f"duplicate language codes in {codes}")
        if any(lang.status == "source" for lang in v[1:]):
            raise ValueError("only English is the source; translations are 'draft', 'reviewed' or 'final'")
        return v


class Hypothesis(Frozen):
    id: str
    seed: str
    passage: str
    statement: dict[str, str]
    module: Literal[MODULES]  # type: ignore[valid-type]
    constructs: list[str] = Field(min_length=1)
    test: dict | None = None  # how it is tested; filled in by the analysis registry
    check_statement = field_validator("statement")(_check_text)

    @field_validator("id")
    @classmethod
    def _hid(cls, v):
        if not re.match(r"^H\d+$", v):
            raise ValueError(f"hypothesis id '{v}' must look like H1, H2, ...")
        return v


class HypothesesFile(Frozen):
    hypotheses: list[Hypothesis]


class Seed(Frozen):
    """A source text (``seeds.yaml``): the file name constructs and hypotheses cite, and its reference."""

    file: str
    authors: list[str] = Field(min_length=1)  # surnames, in the publication's order
    year: int
    title: str
    source: str
    doi: str | None = None

    @property
    def citation(self) -> str:
        """In-text citation, APA 7: ``Rilla (2016)``, ``Harris & Fletcher (2012)``, ``Eriksson et al. (2022)``."""
        names = self.authors
        who = names[0] if len(names) == 1 else " & ".join(names) if len(names) == 2 else f"{names[0]} et al."
        return f"{who} ({self.year})"

    @property
    def reference(self) -> str:
        """The reference-list entry (surnames only, as the seed texts give them)."""
        names = self.authors
        who = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " & " + names[-1]
        doi = f" https://doi.org/{self.doi}" if self.doi else ""
        return f"{who} ({self.year}). {self.title}. {self.source}.{doi}"


class SeedsFile(Frozen):
    seeds: list[Seed] = Field(min_length=1)
