"""The loaded instrument: one immutable object every later stage reads.

:class:`Instrument` holds the validated definition and answers the questions
exports, the generator and the analysis ask: which variables exist and in
which order (:meth:`Instrument.variables`), how the questionnaire is laid out
(:meth:`Instrument.sections`), the codebook, the measurement model in lavaan
syntax and the completion-time estimate. :meth:`Instrument.select` restricts
it to some modules; the firm profile (M0) always stays because it frames
every fielded questionnaire (consent, profile, attention checks, marker).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property

import numpy as np
import pandas as pd

from instrument.schema import (
    AttentionCheck,
    Construct,
    Hypothesis,
    Matrix,
    ProfileQuestion,
    Questionnaire,
    Scale,
    Seed,
)
from smecore.errors import OptionError

MISSING_CODE = -99
#: Written for "no answer" by spreadsheets, statistics packages and platforms (compared ignoring case and
#: surrounding spaces): read as missing and logged as "missing marker" by every reader of response data.
MISSING_MARKERS = ("NA", "N/A", "#N/A", ".", "-", "NaN")
MISSING_LABEL = "No answer"
CODEBOOK_COLUMNS = ("variable", "label", "construct", "module", "reverse", "scale", "values", "missing")


@dataclass(frozen=True)
class Variable:
    """One column of a data file, with everything exports and analyses need."""

    name: str
    kind: str  # paradata | profile | likert | matrix | attention
    module: str
    text: dict[str, str]
    construct: str = ""
    reverse: bool = False
    scale: str | None = None
    type: str = "likert"  # likert | integer | year | percent | select_one | text
    min: int | None = None
    max: int | None = None
    required: bool = True
    relevant: dict[str, int] | None = None
    expected: int | None = None  # attention checks: the instructed answer

    def label(self, lang: str = "en") -> str:
        return self.text.get(lang) or self.text["en"]


@dataclass(frozen=True)
class Block:
    """A run of questions shown together: a grid sharing a stem and scale, or a single question."""

    kind: str  # grid | question | matrix
    title: dict[str, str]
    stem: dict[str, str] | None
    scale: str | None
    variables: tuple[Variable, ...]
    construct: str = ""


@dataclass(frozen=True)
class Section:
    module: str
    title: dict[str, str]
    intro: dict[str, str]
    blocks: tuple[Block, ...]
    relevant: dict[str, int] | None = None  # the module's condition (its variables carry it too)
    closing: bool = False  # the closing section with the marker items (a second M0 section)


def _paradata() -> tuple[Variable, Variable]:
    rid = Variable("respondent_id", "paradata", "M0", {"en": "Respondent identifier"}, type="text")
    dur = Variable("duration_sec", "paradata", "M0", {"en": "Completion time in seconds"}, type="integer", min=0)
    return rid, dur


@dataclass(frozen=True)
class Instrument:
    """A validated instrument definition, optionally restricted to some modules."""

    scales: dict[str, Scale]
    questionnaire: Questionnaire
    constructs: dict[str, Construct]
    matrices: dict[str, Matrix]
    hypotheses: tuple[Hypothesis, ...]
    source: str = ""
    selected: tuple[str, ...] | None = field(default=None)
    #: the source texts by file name (``seeds.yaml``; empty when the definition has none)
    seeds: dict[str, Seed] = field(default_factory=dict)

    def cite(self, seed_file: str) -> str:
        """In-text citation of a seed file (``Harris & Fletcher (2012)``); the file name when it is not listed."""
        seed = self.seeds.get(seed_file)
        return seed.citation if seed is not None else seed_file

    # -- modules --------------------------------------------------------------------
    @property
    def module_ids(self) -> tuple[str, ...]:
        """Modules in questionnaire order (restricted by :meth:`select`; M0 always first)."""
        all_ids = tuple(m.id for m in self.questionnaire.modules)
        return all_ids if self.selected is None else tuple(m for m in all_ids if m in self.selected)

    def select(self, modules: Sequence[str] | None) -> Instrument:
        """The same instrument restricted to ``modules`` (M0, the frame, is always kept)."""
        if not modules:
            return self
        all_ids = [m.id for m in self.questionnaire.modules]
        unknown = [m for m in modules if m not in all_ids]
        if unknown:
            raise OptionError(f"unknown module(s) {unknown}; the modules are {', '.join(all_ids)}")
        return replace(self, selected=tuple(dict.fromkeys(["M0", *modules])))

    def module(self, module_id: str):
        return next(m for m in self.questionnaire.modules if m.id == module_id)

    @property
    def languages(self) -> tuple[str, ...]:
        """The languages the definition declares (``questionnaire.yaml: languages``), English (the source)
        first. How completely each is translated: :func:`instrument.translations.coverage`."""
        return tuple(lang.code for lang in self.questionnaire.languages)

    def language(self, code: str):
        """The declared :class:`~instrument.schema.Language` ``code``; an unknown code is an
        :class:`~smecore.errors.OptionError` naming the declared ones."""
        for lang in self.questionnaire.languages:
            if lang.code == code:
                return lang
        raise OptionError(f"language '{code}' is not declared in the instrument (declared: "
                          f"{', '.join(self.languages)}; questionnaire.yaml: languages)")

    # -- constructs ---------------------------------------------------------------------
    def constructs_in(self, module_id: str) -> list[Construct]:
        """First-order constructs of a module, in questionnaire order (the marker excluded)."""
        ids = self.module(module_id).constructs
        return [self.constructs[c] for c in ids if c in self.constructs and c != self.questionnaire.marker]

    def matrices_in(self, module_id: str) -> list[Matrix]:
        return [self.matrices[c] for c in self.module(module_id).constructs if c in self.matrices]

    @property
    def marker(self) -> Construct | None:
        m = self.questionnaire.marker
        return self.constructs[m] if m else None

    def second_order(self) -> dict[str, list[str]]:
        """Second-order factors whose members are all in the selected modules: ``{id: members}``."""
        present = {c.id for m in self.module_ids for c in self.constructs_in(m)}
        return {so.id: list(so.members) for so in self.questionnaire.second_order
                if all(mbr in present for mbr in so.members)}

    # -- variables ----------------------------------------------------------------------
    def _profile_variable(self, p: ProfileQuestion) -> Variable:
        lo, hi = p.min, p.max
        if p.type == "percent":
            lo, hi = 0, 100
        return Variable(p.id, "profile", "M0", dict(p.text), scale=p.scale, type=p.type, min=lo, max=hi,
                        required=p.required, relevant=p.relevant)

    def _item_variables(self, c: Construct, relevant: dict[str, int] | None = None) -> list[Variable]:
        return [Variable(it.id, "likert", c.module, dict(it.text), construct=c.id, reverse=it.reverse,
                         scale=c.scale, relevant=relevant) for it in c.items]

    def _matrix_variables(self, m: Matrix, relevant: dict[str, int] | None = None) -> list[Variable]:
        out = []
        for s in m.sources:
            for ct in m.contents:
                text = {lang: f"{s.label.get(lang, s.label['en'])} - {ct.label.get(lang, ct.label['en'])}"
                        for lang in set(s.label) | set(ct.label)}
                out.append(Variable(m.item_id(s.id, ct.id), "matrix", m.module, text, construct=m.id,
                                    scale=m.scale, relevant=relevant))
        return out

    def _attention_variable(self, a: AttentionCheck, module: str, relevant: dict[str, int] | None = None) -> Variable:
        return Variable(a.id, "attention", module, dict(a.text), scale=a.scale, expected=a.expected,
                        relevant=relevant)

    def sections(self) -> list[Section]:
        """The questionnaire as fielded: M0 profile first, then each selected module, the marker last.

        Attention checks close the first / last substantive module that is fielded. A module's condition
        (``relevant``) is its section's and every one of its variables' (an attention check placed in a
        conditional module shares its condition).
        """
        return list(self._sections)

    @cached_property
    def _sections(self) -> tuple[Section, ...]:
        """:meth:`sections`, built once per instrument (a frozen definition; :meth:`select` makes a new
        one): an analysis asks for the variables several times, and a power study per replication."""
        q = self.questionnaire
        substantive = [m for m in self.module_ids if m != "M0"]
        out = []
        m0 = self.module("M0")
        profile_blocks = tuple(Block("question", {"en": p.id}, None, p.scale, (self._profile_variable(p),))
                               for p in q.profile)
        out.append(Section("M0", dict(m0.title), dict(m0.intro), profile_blocks))
        for i, mid in enumerate(substantive):
            mod = self.module(mid)
            cond = dict(mod.relevant) if mod.relevant else None
            blocks = []
            for cid in mod.constructs:
                if cid in self.matrices:
                    mx = self.matrices[cid]
                    blocks.append(Block("matrix", dict(mx.name), dict(mx.stem), mx.scale,
                                        tuple(self._matrix_variables(mx, cond)), mx.id))
                elif cid != q.marker:
                    c = self.constructs[cid]
                    blocks.append(Block("grid", dict(c.name), dict(c.stem) if c.stem else None, c.scale,
                                        tuple(self._item_variables(c, cond)), c.id))
            for a in q.attention_checks:
                if (a.position == "first" and i == 0) or (a.position == "last" and i == len(substantive) - 1
                                                          and len(substantive) > 1):
                    blocks.append(Block("grid", {"en": "Check"}, None, a.scale,
                                        (self._attention_variable(a, mid, cond),)))
            out.append(Section(mid, dict(mod.title), dict(mod.intro), tuple(blocks), cond))
        if self.marker is not None:
            mk = self.marker
            out.append(Section("M0", dict(q.closing.title), dict(q.closing.intro),
                               (Block("grid", dict(mk.name), None, mk.scale, tuple(self._item_variables(mk)), mk.id),), closing=True))
        return tuple(out)

    def variables(self, paradata: bool = True) -> list[Variable]:
        """Every variable in questionnaire order (with ``respondent_id`` first and
        ``duration_sec`` last when ``paradata``)."""
        body = list(self._body_variables)
        if not paradata:
            return body
        rid, dur = _paradata()
        return [rid, *body, dur]

    @cached_property
    def _body_variables(self) -> tuple[Variable, ...]:
        return tuple(v for s in self._sections for b in s.blocks for v in b.variables)

    def counts(self) -> dict[str, int]:
        """What the (selected) questionnaire holds, counted from :meth:`variables`.

        Keys: ``constructs`` (first-order constructs, the marker not included), ``marker`` (1 when the
        instrument has a marker construct), ``items`` (the constructs' items), ``marker_items``,
        ``matrices`` and ``matrix_cells`` (single-item source x content cells), ``profile_questions``,
        ``attention_checks``, ``questionnaire_variables`` (every question fielded: the sum of the
        above items, cells, questions and checks), ``paradata`` (``respondent_id``, ``duration_sec``) and
        ``codebook_variables`` (the codebook's rows and a data file's columns: questionnaire variables
        and paradata).
        """
        vs = self.variables()
        kinds = {k: sum(v.kind == k for v in vs) for k in ("likert", "matrix", "profile", "attention", "paradata")}
        marker_items = len(self.marker.items) if self.marker is not None else 0
        return {"constructs": sum(len(self.constructs_in(m)) for m in self.module_ids),
                "marker": int(self.marker is not None),
                "items": kinds["likert"] - marker_items, "marker_items": marker_items,
                "matrices": sum(len(self.matrices_in(m)) for m in self.module_ids),
                "matrix_cells": kinds["matrix"], "profile_questions": kinds["profile"],
                "attention_checks": kinds["attention"],
                "questionnaire_variables": len(vs) - kinds["paradata"], "paradata": kinds["paradata"],
                "codebook_variables": len(vs)}

    def variable(self, name: str) -> Variable:
        for v in self.variables():
            if v.name == name:
                return v
        raise KeyError(name)

    def items_of(self, construct: str) -> list[str]:
        """Item ids of a construct (or of a matrix)."""
        if construct in self.matrices:
            return [v.name for v in self._matrix_variables(self.matrices[construct])]
        return [it.id for it in self.constructs[construct].items]

    def partial_constructs(self, columns: Sequence[str]) -> list[tuple[str, list[str], list[str]]]:
        """``(construct, items present, items absent)`` for every construct with some but not all of its
        items among ``columns`` (a construct with none is simply not fielded)."""
        have = {str(c) for c in columns}
        out = []
        for cid, construct in self.constructs.items():
            items = [it.id for it in construct.items]
            present = [i for i in items if i in have]
            if present and len(present) < len(items):
                out.append((cid, present, [i for i in items if i not in have]))
        return out

    def reverse_items(self) -> list[str]:
        return [it.id for c in self.constructs.values() for it in c.items if it.reverse]

    def reverse_keyed(self, names: Sequence[str]) -> list[str]:
        """The reverse-keyed items among ``names`` (variable names, e.g. a model's observed variables),
        in the order of ``names``."""
        reverse = set(self.reverse_items())
        return [n for n in dict.fromkeys(names) if n in reverse]

    def reverse_scored(self, data: pd.DataFrame, items: Sequence[str] | None = None) -> pd.DataFrame:
        """``data`` with reverse-keyed items reverse-scored: ``min + max - x`` on the item's scale
        (``8 - x`` on 1-7), as the analysis scores them.

        ``items``: the reverse-keyed items to reverse-score (default: every reverse-keyed item that is a
        column of ``data``); a name that is not a reverse-keyed item of the instrument is an
        :class:`~smecore.errors.OptionError`. Only numbers within the scale's range are reversed: any
        other cell (a missing code such as -99, text, a number out of range) is left as it is, so that the
        checks that come later still see it. ``data`` itself is not modified.
        """
        reverse = {it.id: c.scale for c in self.constructs.values() for it in c.items if it.reverse}
        chosen = [n for n in reverse if n in data.columns] if items is None else list(dict.fromkeys(items))
        unknown = [n for n in chosen if n not in reverse]
        if unknown:
            raise OptionError(f"not reverse-keyed items of the instrument: {', '.join(map(str, unknown))}")
        missing = [n for n in chosen if n not in data.columns]
        if missing:
            raise OptionError(f"reverse-keyed items not in the data: {', '.join(missing)}")
        out = data.copy()
        floats = {}  # float columns, reversed on their arrays (the same numbers) and set together
        for name in chosen:
            points = [p.value for p in self.scales[reverse[name]].points]
            lo, hi = min(points), max(points)
            if out[name].dtype == np.float64:
                x = out[name].to_numpy()
                inside = (x >= lo) & (x <= hi)  # Series.between: both ends included; NaN outside
                if inside.any():
                    floats[name] = np.where(inside, lo + hi - x, x)
                continue
            numbers = pd.to_numeric(out[name], errors="coerce")
            inside = numbers.between(lo, hi)
            if inside.any():
                if out[name].dtype == object:
                    out[name] = out[name].where(~inside, lo + hi - numbers)
                else:
                    out[name] = (lo + hi - numbers).where(inside, out[name])
        return out.assign(**floats) if floats else out

    # -- outputs derived from the definition ------------------------------------------
    def value_labels(self, v: Variable, lang: str = "en") -> dict[int, str]:
        if v.scale is None:
            return {}
        return {p.value: p.label.get(lang, p.label["en"]) for p in self.scales[v.scale].points}

    def codebook(self, lang: str = "en") -> pd.DataFrame:
        """One row per variable: ``variable, label, construct, module, reverse, scale, values, missing``.

        ``values`` is ``1=Strongly disagree;2=...`` for coded answers, ``min-max``
        for numbers, empty for text; ``missing`` is the code that means no answer.
        """
        rows = []
        for v in self.variables():
            labels = self.value_labels(v, lang)
            if labels:
                values = ";".join(f"{k}={lab}" for k, lab in labels.items())
            elif v.type in ("integer", "year", "percent"):
                values = f"{'' if v.min is None else v.min}-{'' if v.max is None else v.max}"
            else:
                values = ""
            rows.append({"variable": v.name, "label": v.label(lang), "construct": v.construct, "module": v.module,
                         "reverse": int(v.reverse), "scale": v.scale or v.type, "values": values,
                         "missing": "" if v.kind == "paradata" else f"{MISSING_CODE}={MISSING_LABEL}"})
        return pd.DataFrame(rows, columns=list(CODEBOOK_COLUMNS))

    def lavaan_syntax(self, modules: Sequence[str] | None = None, *, second_order: bool = True) -> str:
        """Measurement model in lavaan syntax for ``modules`` (default: the selected ones).

        First-order factors are measured by their items (reverse-keyed items
        enter as they are: their loadings come out negative unless the data are
        reverse-scored first); second-order factors are added when all their
        members are present. The marker (M0) is included only when M0 is named
        explicitly; single-item matrices are never part of it.
        """
        inst = self if modules is None else self.select(modules)
        wanted = [m for m in inst.module_ids if m != "M0" or (modules and "M0" in modules)]
        lines = []
        present = []
        for mid in wanted:
            cs = inst.constructs_in(mid) if mid != "M0" else ([inst.marker] if inst.marker else [])
            if cs:
                lines.append(f"# {mid} {inst.module(mid).title['en']}")
            for c in cs:
                lines.append(f"{c.id} =~ " + " + ".join(it.id for it in c.items))
                present.append(c.id)
        if second_order:
            for so in inst.questionnaire.second_order:
                if all(m in present for m in so.members):
                    lines.append(f"{so.id} =~ " + " + ".join(so.members) + f"   # second order: {so.name['en']}")
        return "\n".join(lines) + "\n"

    def completion_time(self) -> pd.DataFrame:
        """Estimated answering time per module and in total.

        Columns: ``module, likert_items, factual_questions, text_questions, seconds,
        minutes``; the last row is the total (introduction and consent included).
        The assumptions (seconds per item) are in ``DataFrame.attrs["assumptions"]``.
        """
        t = self.questionnaire.timing
        rows = []
        for s in self.sections():
            vs = [v for b in s.blocks for v in b.variables]
            lik = sum(v.kind in ("likert", "matrix", "attention") for v in vs)
            text = sum(v.type == "text" for v in vs)
            fact = len(vs) - lik - text
            secs = lik * t.likert + fact * t.factual + text * t.text + t.module_intro
            rows.append({"module": "M0 (marker)" if s.closing else s.module,
                         "likert_items": lik, "factual_questions": fact, "text_questions": text, "seconds": secs})
        df = pd.DataFrame(rows)
        total = {"module": "total", "likert_items": int(df["likert_items"].sum()),
                 "factual_questions": int(df["factual_questions"].sum()),
                 "text_questions": int(df["text_questions"].sum()),
                 "seconds": float(df["seconds"].sum() + t.introduction)}
        df = pd.concat([df, pd.DataFrame([total])], ignore_index=True)
        df["minutes"] = (df["seconds"] / 60).round(1)
        df.attrs["assumptions"] = (f"{t.likert:g} s per Likert item, {t.factual:g} s per factual question, "
                                   f"{t.text:g} s per text answer, {t.module_intro:g} s per module introduction, "
                                   f"{t.introduction:g} s for introduction and consent")
        return df
