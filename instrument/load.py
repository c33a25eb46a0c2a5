"""Load and validate an instrument definition folder.

What goes in: a folder with ``scales.yaml``, ``questionnaire.yaml``,
``hypotheses.yaml`` and ``constructs/*.yaml`` (default: the packaged
definition). What comes out: an immutable :class:`~instrument.model.Instrument`.

All problems are collected - per file by the pydantic schema, then across
files (duplicate ids, unknown response scales, constructs listed in no or two
modules, second-order factors with unknown members, hypotheses naming
constructs that do not exist) - and raised together as one
:class:`~smecore.errors.DefinitionError`, each prefixed with its file and
location, e.g. ``constructs/ik.yaml: items.2.text: English text ('en') is missing``.
YAML is read with the safe loader only (:func:`smecore.yamlio.safe_load`: libyaml's when available).
"""

from __future__ import annotations

from pathlib import Path

import yaml
from pydantic import ValidationError

from instrument.model import Instrument
from instrument.schema import (
    Construct,
    HypothesesFile,
    Matrix,
    Questionnaire,
    ScalesFile,
    SeedsFile,
)
from instrument.translations import undeclared
from smecore.errors import DefinitionError
from smecore.yamlio import safe_load

DEFINITION_DIR = Path(__file__).resolve().parent / "definition"


def _read(path: Path, label: str, problems: list[str]):
    try:
        return safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        problems.append(f"{label}: file is missing")
    except yaml.YAMLError as exc:
        problems.append(f"{label}: not valid YAML ({str(exc).splitlines()[0]})")
    return None


def _validate(model_cls, data, label: str, problems: list[str]):
    if data is None:
        return None
    try:
        return model_cls.model_validate(data)
    except ValidationError as exc:
        for err in exc.errors():
            loc = ".".join(str(x) for x in err["loc"]) or "(file)"
            msg = err["msg"].removeprefix("Value error, ")
            problems.append(f"{label}: {loc}: {msg}")
        return None


def load_instrument(path: str | Path | None = None) -> Instrument:
    """Load the instrument definition in ``path`` (default: the packaged one).

    Raises
    ------
    DefinitionError
        Listing every problem found, each with its file and location.
    """
    root = Path(path) if path is not None else DEFINITION_DIR
    if not root.is_dir():
        raise DefinitionError(f"{root}: instrument definition folder not found")
    problems: list[str] = []
    scales_file = _validate(ScalesFile, _read(root / "scales.yaml", "scales.yaml", problems), "scales.yaml", problems)
    questionnaire = _validate(Questionnaire, _read(root / "questionnaire.yaml", "questionnaire.yaml", problems),
                              "questionnaire.yaml", problems)
    hyp_file = _validate(HypothesesFile, _read(root / "hypotheses.yaml", "hypotheses.yaml", problems),
                         "hypotheses.yaml", problems)
    seeds_file = (_validate(SeedsFile, _read(root / "seeds.yaml", "seeds.yaml", problems), "seeds.yaml", problems)
                  if (root / "seeds.yaml").is_file() else None)  # optional: without it reports cite file names
    constructs: dict[str, Construct] = {}
    matrices: dict[str, Matrix] = {}
    sources: dict[str, str] = {}  # construct id -> file label
    files = sorted((root / "constructs").glob("*.yaml")) if (root / "constructs").is_dir() else []
    if not files:
        problems.append("constructs/: no construct files found")
    for f in files:
        label = f"constructs/{f.name}"
        data = _read(f, label, problems)
        kind = data.get("kind") if isinstance(data, dict) else None
        obj = _validate(Matrix if kind == "matrix" else Construct, data, label, problems)
        if obj is None:
            continue
        if obj.id in sources:
            problems.append(f"{label}: id: construct '{obj.id}' is already defined in {sources[obj.id]}")
            continue
        sources[obj.id] = label
        (matrices if kind == "matrix" else constructs)[obj.id] = obj
    if problems or scales_file is None or questionnaire is None or hyp_file is None:
        raise DefinitionError(problems)
    _cross_checks(scales_file, questionnaire, hyp_file, constructs, matrices, sources, problems)
    seeds = {s.file: s for s in seeds_file.seeds} if seeds_file is not None else {}
    if seeds_file is not None:
        _check_seeds(seeds_file, hyp_file, constructs, matrices, sources, problems)
    if problems:
        raise DefinitionError(problems)
    return Instrument(scales=scales_file.scales, questionnaire=questionnaire, constructs=constructs,
                      matrices=matrices, hypotheses=tuple(hyp_file.hypotheses), source=str(root), seeds=seeds)


def _check_seeds(seeds_file, hyp_file, constructs, matrices, sources, problems) -> None:
    """Every seed a construct or hypothesis cites is listed once in ``seeds.yaml``."""
    listed: set[str] = set()
    for i, s in enumerate(seeds_file.seeds):
        if s.file in listed:
            problems.append(f"seeds.yaml: seeds.{i}: file '{s.file}' is listed twice")
        listed.add(s.file)
    for cid, c in list(constructs.items()) + list(matrices.items()):
        if c.seed and c.seed not in listed:
            problems.append(f"{sources[cid]}: seed: '{c.seed}' is not listed in seeds.yaml; add its reference there")
    for i, h in enumerate(hyp_file.hypotheses):
        if h.seed not in listed:
            problems.append(f"hypotheses.yaml: hypotheses.{i} ({h.id}): seed: '{h.seed}' is not listed in "
                            "seeds.yaml; add its reference there")


def _cross_checks(scales_file, questionnaire, hyp_file, constructs, matrices, sources, problems) -> None:
    scales = scales_file.scales
    q = "questionnaire.yaml"
    # response scales exist
    for cid, c in list(constructs.items()) + list(matrices.items()):
        if c.scale not in scales:
            problems.append(f"{sources[cid]}: scale: unknown response scale '{c.scale}' "
                            f"(defined in scales.yaml: {', '.join(sorted(scales))})")
    for i, p in enumerate(questionnaire.profile):
        if p.scale and p.scale not in scales:
            problems.append(f"{q}: profile.{i} ({p.id}): scale: unknown response scale '{p.scale}'")
    for i, a in enumerate(questionnaire.attention_checks):
        if a.scale not in scales:
            problems.append(f"{q}: attention_checks.{i} ({a.id}): scale: unknown response scale '{a.scale}'")
        elif a.expected not in {pt.value for pt in scales[a.scale].points}:
            problems.append(f"{q}: attention_checks.{i} ({a.id}): expected: {a.expected} is not a point of "
                            f"scale '{a.scale}'")
    # variable names unique across the whole instrument
    seen: dict[str, str] = {}

    def claim(var: str, where: str) -> None:
        if var in seen:
            problems.append(f"{where}: duplicate variable id '{var}' (also in {seen[var]})")
        else:
            seen[var] = where

    for p in questionnaire.profile:
        claim(p.id, f"{q}: profile ({p.id})")
    for a in questionnaire.attention_checks:
        claim(a.id, f"{q}: attention_checks ({a.id})")
    for cid, c in constructs.items():
        for j, item in enumerate(c.items):
            claim(item.id, f"{sources[cid]}: items.{j} ({item.id})")
    for mid, m in matrices.items():
        for s in m.sources:
            for ct in m.contents:
                claim(m.item_id(s.id, ct.id), f"{sources[mid]}: {s.id} x {ct.id}")
        for dim in m.sources + m.contents:
            if dim.construct_id not in constructs:
                problems.append(f"{sources[mid]}: matrix dimension '{dim.id}' names unknown construct "
                                f"'{dim.construct_id}'")
    # every construct in exactly one module's list, in its own module
    placed: dict[str, str] = {}
    module_ids = [m.id for m in questionnaire.modules]
    if len(set(module_ids)) != len(module_ids):
        problems.append(f"{q}: modules: duplicate module ids {module_ids}")
    for m in questionnaire.modules:
        for cid in m.constructs:
            if cid not in constructs and cid not in matrices:
                problems.append(f"{q}: modules ({m.id}): unknown construct '{cid}'")
            elif cid in placed:
                problems.append(f"{q}: modules ({m.id}): construct '{cid}' is already listed in {placed[cid]}")
            else:
                placed[cid] = m.id
                own = (constructs.get(cid) or matrices.get(cid)).module
                if own != m.id:
                    problems.append(f"{sources[cid]}: module: says {own} but questionnaire.yaml lists it under {m.id}")
    for cid in list(constructs) + list(matrices):
        if cid not in placed:
            problems.append(f"{sources[cid]}: construct '{cid}' is not listed in any module of questionnaire.yaml")
    # marker
    if questionnaire.marker and questionnaire.marker not in constructs:
        problems.append(f"{q}: marker: unknown construct '{questionnaire.marker}'")
    # second-order factors
    so_ids = set()
    for i, so in enumerate(questionnaire.second_order):
        if so.id in constructs or so.id in so_ids:
            problems.append(f"{q}: second_order.{i}: id '{so.id}' is already used")
        so_ids.add(so.id)
        unknown = [mbr for mbr in so.members if mbr not in constructs]
        if unknown:
            problems.append(f"{q}: second_order.{i} ({so.id}): unknown member construct(s) {unknown}")
        for mbr in so.members:
            if mbr in constructs and constructs[mbr].second_order != so.id:
                problems.append(f"{sources[mbr]}: second_order: should be '{so.id}' (it is a member of "
                                f"{so.id} in questionnaire.yaml)")
    for cid, c in constructs.items():
        if c.second_order and c.second_order not in so_ids:
            problems.append(f"{sources[cid]}: second_order: unknown second-order factor '{c.second_order}'")
        elif c.second_order:
            so = next(s for s in questionnaire.second_order if s.id == c.second_order)
            if cid not in so.members:
                problems.append(f"{sources[cid]}: second_order: '{c.second_order}' does not list '{cid}' "
                                "among its members in questionnaire.yaml")
    # languages: every text keyed by a declared language; conditions name profile questions and their answers
    declared = [lang.code for lang in questionnaire.languages]
    problems += [f"scales.yaml: {p}" for p in undeclared(scales_file, declared)]
    problems += [f"{q}: {p}" for p in undeclared(questionnaire, declared)]
    problems += [f"hypotheses.yaml: {p}" for p in undeclared(hyp_file, declared)]
    for cid, c in list(constructs.items()) + list(matrices.items()):
        problems += [f"{sources[cid]}: {p}" for p in undeclared(c, declared)]
    profile = {p.id: p for p in questionnaire.profile}
    conditions = [(f"{q}: profile ({p.id}): relevant", p.relevant) for p in questionnaire.profile] + \
        [(f"{q}: modules ({m.id}): relevant", m.relevant) for m in questionnaire.modules]
    for where, cond in conditions:
        for var, value in (cond or {}).items():
            if var not in profile:
                problems.append(f"{where}: '{var}' is not a profile question (conditions name profile questions)")
            elif profile[var].scale in scales and value not in {pt.value for pt in scales[profile[var].scale].points}:
                problems.append(f"{where}: {value} is not an answer of '{var}' (scale '{profile[var].scale}')")
    # hypotheses name things that exist
    known = set(constructs) | set(matrices) | so_ids | {p.id for p in questionnaire.profile} | \
        {d.id for d in questionnaire.derived}
    hyp_ids = set()
    for i, h in enumerate(hyp_file.hypotheses):
        if h.id in hyp_ids:
            problems.append(f"hypotheses.yaml: hypotheses.{i}: duplicate hypothesis id '{h.id}'")
        hyp_ids.add(h.id)
        for name in h.constructs:
            if name not in known:
                problems.append(f"hypotheses.yaml: hypotheses.{i} ({h.id}): constructs: '{name}' does not exist "
                                "(not a construct, second-order factor, profile variable or derived index)")
