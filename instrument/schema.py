"""Pydantic schema of the instrument definition files.

Each YAML file is validated on its own (types, required fields, English text,
at least three items per construct, id formats), then :mod:`instrument.load`
checks what spans files (duplicate ids, unknown scales, second-order members,
hypothesis constructs). Models are frozen: a loaded instrument cannot be
changed by accident.

Conventions: text fields are ``{language code: text}`` with English (``en``)
required; variable names (item ids, profile ids) are lowercase
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


class ScalePoint(Frozen):
    value: int
    label: dict[str, str]
    check_label = field_validator("label")(_check_text)


class Scale(Frozen):
    name: dict[str, str]
    points: list[ScalePoint] = Field(min_length=2)
    check_name = field_validator("name")(_check_text)

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
    id: Literal[MODULES]  # type: ignore[valid-type]
    title: dict[str, str]
    intro: dict[str, str]
    constructs: list[str] = []
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
    check_texts = field_validator("title", "introduction", "consent", "thanks")(_check_text)


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
