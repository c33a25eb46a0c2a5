"""Population models as data: load, validate and assemble the YAML files under ``models/``.

One file per module (M1-M5) plus ``firm_profile.yaml`` (M0) and
``common.yaml`` (threshold profiles, countries and cluster organisations,
realism-knob defaults). Every coefficient is either a ``value`` (the same in
both worlds) or a ``theory``/``null`` pair tagged with the ``hypothesis`` it
encodes; the null world sets every tested effect to zero (or, for the
contrasts of H2-H4, makes the compared paths equal) and keeps everything
else. Files are read with the safe YAML loader (:func:`smecore.yamlio.safe_load`) and validated with pydantic;
every problem is reported with its file and key.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from smecore.errors import DefinitionError, OptionError
from smecore.yamlio import safe_load
from synthetic_data.system import Equation, LatentSystem, Term, build_system

MODELS_DIR = Path(__file__).resolve().parent / "models"
WORLDS = ("theory", "null")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class WorldValue(_Strict):
    """A number that is either the same in both worlds (``value``) or differs (``theory``/``null``)."""

    value: float | None = None
    theory: float | None = None
    null: float | None = None
    hypothesis: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _null_key(cls, data):
        # YAML reads an unquoted `null:` key as None; accept it as the null world's value
        if isinstance(data, dict) and None in data:
            data = {("null" if k is None else k): v for k, v in data.items()}
        return data

    @model_validator(mode="after")
    def _one_kind(self):
        pair = self.theory is not None or self.null is not None
        if self.value is not None and pair:
            raise ValueError("give either 'value' or 'theory' and 'null', not both")
        if self.value is None and not (self.theory is not None and self.null is not None):
            raise ValueError("give 'value', or both 'theory' and 'null'")
        if pair and not self.hypothesis:
            raise ValueError("a number that differs between worlds must name its 'hypothesis'")
        return self

    def in_world(self, world: str) -> float:
        if self.value is not None:
            return self.value
        return self.theory if world == "theory" else self.null

    @property
    def hypotheses(self) -> tuple[str, ...]:
        return tuple(h.strip() for h in self.hypothesis.split(",")) if self.hypothesis else ()


class Coefficient(WorldValue):
    """A path: ``predictor`` (one name, or two for a product/square) and its size per world."""

    predictor: str | list[str]

    @model_validator(mode="after")
    def _predictors(self):
        preds = [self.predictor] if isinstance(self.predictor, str) else self.predictor
        if not 1 <= len(preds) <= 2:
            raise ValueError("'predictor' is one variable or a list of two (a product)")
        return self

    @property
    def variables(self) -> tuple[str, ...]:
        return (self.predictor,) if isinstance(self.predictor, str) else tuple(self.predictor)


class ConstructSpec(_Strict):
    """How a first-order construct's items are generated."""

    loadings: list[float] = Field(min_length=1)
    thresholds: str = "agree_skew"
    shifts: list[float] | None = None  # per-item shift of the threshold profile (skew varies by item)

    @field_validator("loadings")
    @classmethod
    def _ranges(cls, v):
        bad = [x for x in v if not 0 < abs(x) < 1]
        if bad:
            raise ValueError(f"standardized loadings must lie strictly between -1 and 1 (and not be 0); got {bad}")
        return v

    @model_validator(mode="after")
    def _shifts(self):
        if self.shifts is not None and len(self.shifts) != len(self.loadings):
            raise ValueError("'shifts' needs one value per loading")
        return self


class MatrixSpec(_Strict):
    """Source x content importance ratings (M1 matrix): loading on the source's reliance construct,
    a firm-level random intercept, and cell means per world (the within-firm contrasts)."""

    loading: float = Field(gt=0, lt=1)
    firm_sd: float = Field(ge=0, lt=1)
    thresholds: str = "importance_skew"
    cell_means: dict[str, WorldValue]


class ModuleModel(_Strict):
    """One ``models/<module>.yaml`` file."""

    module: str
    title: str
    seed_file: str | None = None
    constructs: dict[str, ConstructSpec] = {}
    second_order: dict[str, dict[str, float]] = {}  # second-order -> {member: loading}
    exogenous: list[str] = []
    default_correlation: float = 0.0  # among this module's exogenous variables
    correlations: list[tuple[str, str, float]] = []
    equations: dict[str, list[Coefficient]] = {}
    icc: dict[str, float] = {}  # cluster-level share of variance
    matrix: MatrixSpec | None = None
    observed: dict = {}  # firm-profile mappings (M0 only)


class CommonModel(_Strict):
    threshold_profiles: dict[str, list[float]]
    countries: dict[str, dict]
    knobs: dict[str, float | int | bool] = {}
    survey_year: int = 2026


def _load_yaml(path: Path) -> object:
    try:
        return safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise DefinitionError(f"{path.name}: not valid YAML ({exc})") from exc


def _validate(model_cls, data, name: str):
    try:
        return model_cls.model_validate(data)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            loc = ".".join(str(x) for x in err["loc"])
            problems.append(f"{name}: {loc}: {err['msg'].removeprefix('Value error, ')}")
        raise DefinitionError(problems) from None


@dataclass(frozen=True)
class Population:
    """All population models, assembled for one world."""

    world: str
    common: CommonModel
    modules: Mapping[str, ModuleModel]  # by module id (M0..M5)
    system: LatentSystem
    files: Mapping[str, str]  # module id -> file name

    def true_parameters(self) -> list[dict]:
        """Every coefficient of this world: outcome, predictor, value, hypothesis, file."""
        rows = []
        for mid, m in self.modules.items():
            for outcome, coefs in m.equations.items():
                for c in coefs:
                    rows.append({"module": mid, "outcome": outcome, "predictor": "*".join(c.variables),
                                 "value": c.in_world(self.world), "hypothesis": c.hypothesis,
                                 "file": self.files[mid]})
            for so, members in m.second_order.items():
                for member, lam in members.items():
                    rows.append({"module": mid, "outcome": member, "predictor": so, "value": lam,
                                 "hypothesis": None, "file": self.files[mid]})
            if m.matrix is not None:
                for cell, c in m.matrix.cell_means.items():
                    rows.append({"module": mid, "outcome": f"matrix:{cell}", "predictor": "mean",
                                 "value": c.in_world(self.world), "hypothesis": c.hypothesis,
                                 "file": self.files[mid]})
            for key, c in _observed_coefficients(m.observed):
                rows.append({"module": mid, "outcome": key, "predictor": "*".join(c.variables),
                             "value": c.in_world(self.world), "hypothesis": c.hypothesis,
                             "file": self.files[mid]})
        return rows


def _observed_coefficients(observed: dict):
    """Coefficients inside the firm-profile mappings (e.g. the count model of new markets)."""
    for name, spec in observed.items():
        for c in spec.get("coefficients", []) if isinstance(spec, dict) else []:
            yield f"observed:{name}", Coefficient.model_validate(c)


def load_population(world: str = "theory", models_dir: Path | None = None) -> Population:
    """Read every model file, validate it, and build the latent system of ``world``.

    Raises :class:`DefinitionError` naming the file and parameter on any problem
    (unknown world, bad values, undefined predictors, circular equations, a
    non-positive-definite exogenous correlation matrix, equations explaining
    more than all of a variable's variance).
    """
    if world not in WORLDS:
        raise OptionError(f"The 'world' parameter must be one of {list(WORLDS)}. Got {world!r}.")
    folder = Path(models_dir) if models_dir else MODELS_DIR
    common_path = folder / "common.yaml"
    if not common_path.exists():
        raise DefinitionError(f"{folder}: common.yaml is missing")
    common = _validate(CommonModel, _load_yaml(common_path), "common.yaml")
    modules: dict[str, ModuleModel] = {}
    files: dict[str, str] = {}
    for path in sorted(folder.glob("*.yaml")):
        if path.name == "common.yaml":
            continue
        m = _validate(ModuleModel, _load_yaml(path), path.name)
        if m.module in modules:
            raise DefinitionError(f"{path.name}: module {m.module} is already defined in {files[m.module]}")
        modules[m.module] = m
        files[m.module] = path.name
    problems = []
    for mid, m in modules.items():
        for cname, spec in m.constructs.items():
            if spec.thresholds not in common.threshold_profiles:
                problems.append(f"{files[mid]}: constructs.{cname}.thresholds: unknown profile "
                                f"'{spec.thresholds}'; defined: {sorted(common.threshold_profiles)}")
    for name, prof in common.threshold_profiles.items():
        if len(prof) != 6 or any(b <= a for a, b in zip(prof, prof[1:])):
            problems.append(f"common.yaml: threshold_profiles.{name}: needs 6 increasing values (7 categories)")
    if problems:
        raise DefinitionError(problems)
    system = _assemble(modules, files, world)
    return Population(world, common, modules, system, files)


def _assemble(modules: Mapping[str, ModuleModel], files: Mapping[str, str], world: str) -> LatentSystem:
    """Merge the modules into one recursive latent system."""
    terms: dict[str, list[Term]] = {}
    icc: dict[str, float] = {}
    where: dict[str, str] = {}
    declared_exo: list[str] = []
    correlations: dict[tuple[str, str], float] = {}
    for mid, m in modules.items():
        f = files[mid]
        for outcome, coefs in m.equations.items():
            for c in coefs:
                terms.setdefault(outcome, []).append(
                    Term(c.variables, c.in_world(world), c.hypothesis, f"{f}: equations.{outcome}"))
            where.setdefault(outcome, f"{f}: equations.{outcome}")
        for so, members in m.second_order.items():
            for member, lam in members.items():
                terms.setdefault(member, []).append(Term((so,), lam, None, f"{f}: second_order.{so}.{member}"))
                where.setdefault(member, f"{f}: second_order.{so}")
        for v, share in m.icc.items():
            icc[v] = share
        declared_exo += m.exogenous
    # constructs and second-order factors that no equation defines are exogenous
    for m in modules.values():
        for v in list(m.constructs) + list(m.second_order):
            if v not in terms and v not in declared_exo:
                declared_exo.append(v)
    exo = list(dict.fromkeys(declared_exo))
    for m in modules.values():
        own = [v for v in exo if v in m.exogenous or v in m.constructs or v in m.second_order]
        if m.default_correlation:
            for i, a in enumerate(own):
                for b in own[i + 1:]:
                    correlations[(a, b)] = m.default_correlation
        for a, b, r in m.correlations:
            correlations.pop((b, a), None)
            correlations[(a, b)] = r
    equations = [Equation(v, tuple(ts), icc.get(v, 0.0), where[v]) for v, ts in terms.items()]
    exo_icc = {v: s for v, s in icc.items() if v in exo}
    return build_system(exo, correlations, equations, exo_icc, where="population models")


# -- overriding theory-world paths (power analysis: plan for a smaller effect) -----------------

@dataclass(frozen=True)
class TaggedPath:
    """A coefficient that differs between the worlds, named by the hypothesis (or hypotheses) it encodes."""

    module: str
    outcome: str  # latent outcome, or the observed variable of a firm-profile count model
    predictor: str  # one variable, or ``A*B`` for a product / square
    theory: float
    null: float
    hypotheses: tuple[str, ...]
    where: str  # file and key

    @property
    def name(self) -> str:
        return f"{self.outcome}~{self.predictor}"


def tagged_paths(pop: Population) -> list[TaggedPath]:
    """Every structural path with a theory / null pair: the equations of the latent system and the
    coefficients of the firm-profile count model (``firm_new_markets_3y``). Matrix cell means (the
    within-firm robustness contrasts) are not paths and are left out."""
    out = []
    for mid, m in pop.modules.items():
        for outcome, coefs in m.equations.items():
            for c in coefs:
                if c.hypothesis:
                    out.append(TaggedPath(mid, outcome, "*".join(c.variables), c.theory, c.null, c.hypotheses,
                                          f"{pop.files[mid]}: equations.{outcome}"))
        for key, c in _observed_coefficients(m.observed):
            if c.hypothesis:
                out.append(TaggedPath(mid, key.removeprefix("observed:"), "*".join(c.variables), c.theory, c.null,
                                      c.hypotheses, f"{pop.files[mid]}: observed.{key.removeprefix('observed:')}"))
    return out


def resolve_override(key: str, pop: Population) -> list[TaggedPath]:
    """The tagged paths a ``--set`` key names: ``H14`` (the hypothesis' path, when it has one value),
    ``H10:LC`` (its path from predictor LC) or ``H10:PEG~LE*LV`` (outcome and predictor).

    Raises :class:`OptionError` naming the candidates when the key is unknown or ambiguous.
    """
    hyp, _, which = key.partition(":")
    hyp = hyp.strip().upper()
    which = which.strip().replace(" ", "")
    paths = tagged_paths(pop)
    tagged = [p for p in paths if hyp in p.hypotheses]
    if not tagged:
        known = sorted({h for p in paths for h in p.hypotheses}, key=lambda h: int(h[1:]))
        raise OptionError(f"--set {key}: no theory-world path is tagged {hyp!r}; tagged hypotheses: "
                          f"{', '.join(known)}")
    listed = ", ".join(f"{hyp}:{p.name} ({p.theory:g})" for p in tagged)
    if which:
        if "~" in which:
            picked = [p for p in tagged if p.name == which]
        else:
            picked = [p for p in tagged if p.predictor == which]
        if not picked:
            raise OptionError(f"--set {key}: {hyp} has no path {which!r}; its paths: {listed}")
    else:
        picked = tagged
    if len({p.theory for p in picked}) > 1:
        raise OptionError(f"--set {key}: names {len(picked)} paths of different sizes; name one "
                          f"as HYPOTHESIS:OUTCOME~PREDICTOR: {listed}")
    return picked


def with_overrides(world: str, overrides: Mapping[str, float], models_dir: Path | None = None) -> Population:
    """The population of ``world`` with theory-world paths set by hypothesis tag (see
    :func:`resolve_override`), e.g. ``{"H14": 0.30}``. The null world has no theory paths: its
    population is returned unchanged. Every implied model is checked as at load
    (:class:`DefinitionError` when a path makes a variance exceed 1)."""
    pop = load_population(world, models_dir)
    if world != "theory" or not overrides:
        return pop
    for key, value in overrides.items():
        if not isinstance(value, int | float) or not -1 < float(value) < 1:
            raise OptionError(f"--set {key}={value!r}: a standardized path must lie strictly between -1 and 1")
    chosen: dict[tuple[str, str, str], float] = {}
    for key, value in overrides.items():
        for p in resolve_override(key, pop):
            chosen[(p.module, p.outcome, p.predictor)] = float(value)
    modules = {}
    for mid, m in pop.modules.items():
        equations = {outcome: [c.model_copy(update={"theory": chosen[(mid, outcome, "*".join(c.variables))]})
                               if c.hypothesis and (mid, outcome, "*".join(c.variables)) in chosen else c
                               for c in coefs] for outcome, coefs in m.equations.items()}
        observed = {}
        for name, spec in m.observed.items():
            if isinstance(spec, dict) and "coefficients" in spec:
                coefs = []
                for raw in spec["coefficients"]:
                    c = Coefficient.model_validate(raw)
                    k = (mid, name, "*".join(c.variables))
                    coefs.append({**raw, "theory": chosen[k]} if c.hypothesis and k in chosen else raw)
                spec = {**spec, "coefficients": coefs}
            observed[name] = spec
        modules[mid] = m.model_copy(update={"equations": equations, "observed": observed})
    try:
        system = _assemble(modules, pop.files, world)
    except DefinitionError as exc:
        raise OptionError(f"--set {', '.join(f'{k}={v}' for k, v in overrides.items())}: the population "
                          f"model is no longer valid: {exc}") from None
    return Population(world, pop.common, modules, system, pop.files)
