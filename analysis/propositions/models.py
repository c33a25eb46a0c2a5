"""The models of the analysis as data: one :class:`ModelSpec` per SEM, built once from the scored data.

Every consumer fits from the same list, so they cannot disagree on a model:
:func:`analysis.propositions.pipeline.step3_measure` (``measurement_specs``),
``step4_test`` (``hypothesis_specs``) and ``smesurvey export-r`` (``model_specs``,
which writes each spec's syntax, data and lavaan options for R).

A spec holds the lavaan syntax, the data frame it is fitted to (items, observed
variables, product indicators, the group column, the cluster column and the
auxiliary variables of FIML) and the options of :func:`analysis.sem.fit.fit`:
MLR with FIML, as the pipeline fits every SEM by default; with ``ordinal=True``
(``smesurvey analyze --ordinal``) the items as ordinal, WLSMV with pairwise deletion
(:func:`ordinal_variant`), except models with latent products, which stay on MLR.
"""

from __future__ import annotations

import weakref
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache

import numpy as np
import pandas as pd

from analysis.propositions.hypotheses import Hypothesis, Registry
from analysis.psychometrics.scoring import Scored, as_floats
from analysis.sem.fit import FitResult, fit
from analysis.sem.interaction import product_columns
from analysis.sem.syntax import classify_variables, parse_model
from instrument import Instrument
from smecore.errors import DataError, OptionError, SmeSurveyError

CLUSTER_COLUMN = "firm_cluster_org"
ESTIMATOR = "MLR"
MISSING = "fiml"
#: with ``--ordinal``: lavaan's estimator for ordered items and its missing-data option for them
ORDINAL_ESTIMATOR = "WLSMV"
ORDINAL_MISSING = "pairwise"
#: why a model with latent products stays on MLR under ``--ordinal``
PRODUCTS_STAY_MLR = ("latent interaction / quadratic terms (product indicators) have no WLSMV form in lavaan: "
                     "fitted with MLR and FIML")

#: Observed variables that predict missingness: added to every SEM that does not already contain
#: them as auxiliary variables of FIML (saturated correlates, :mod:`analysis.sem.auxiliary`). Firm size
#: (``SIZE``, log employees): small firms leave more answers blank - in the synthetic data by
#: construction (``synthetic_data.knobs``, MAR given size), and a common pattern in SME surveys.
MISSINGNESS_PREDICTORS = ("SIZE",)


@dataclass(frozen=True)
class ModelSpec:
    """One SEM of the analysis: what to fit, on which data, with which options.

    ``key`` names the model in every output (``"measurement M1"``, ``"model H11"``);
    ``hypotheses`` are the ids tested on it (several when hypotheses share a model);
    ``data`` holds every column the fit needs (including ``group``, ``cluster`` and
    ``auxiliary``). ``fit()`` fits it with MLR and FIML as the pipeline does - or, when
    ``ordered`` names the ordinal items, with WLSMV and pairwise deletion (``note`` says why a
    model of an ordinal analysis is not, e.g. :data:`PRODUCTS_STAY_MLR`).
    """

    key: str
    syntax: str
    data: pd.DataFrame = field(repr=False)
    hypotheses: tuple[str, ...] = ()
    module: str = ""
    group: str | None = None
    group_equal: tuple[str, ...] = ()
    std_lv: bool = False
    cluster: str | None = None
    auxiliary: tuple[str, ...] = ()
    label: str = ""  # how errors and warnings name the model (default from key and hypotheses)
    ordered: tuple[str, ...] = ()  # ordinal items: fitted with WLSMV (lavaan ordered=)
    note: str = ""  # the estimator choice, when an ordinal analysis keeps this model on MLR

    @property
    def estimator(self) -> str:
        return ORDINAL_ESTIMATOR if self.ordered else ESTIMATOR

    @property
    def missing(self) -> str:
        return ORDINAL_MISSING if self.ordered else MISSING

    @property
    def source(self) -> str:
        """How errors and warnings name this model."""
        if self.label:
            return self.label
        return f"measurement model {self.module}" if self.key.startswith("measurement") else \
            f"model of {self.hypotheses[0]}"

    def fit(self, extra_syntax: str = "") -> FitResult:
        """Fit the model (``extra_syntax``: constraints appended, e.g. for a chi-square difference test)."""
        if self.ordered:
            return fit(self.syntax + extra_syntax, self.data, estimator=ORDINAL_ESTIMATOR, ordered=list(self.ordered),
                       missing=ORDINAL_MISSING, group=self.group, group_equal=list(self.group_equal),
                       std_lv=self.std_lv, source=self.source)
        return fit(self.syntax + extra_syntax, self.data, estimator=ESTIMATOR, missing=MISSING, group=self.group,
                   group_equal=list(self.group_equal), std_lv=self.std_lv, cluster=self.cluster,
                   auxiliary=list(self.auxiliary), source=self.source)

    def lavaan_options(self) -> dict:
        """The options of lavaan's ``sem()`` (and semTools' ``auxiliary(aux=)``) that reproduce ``fit()``
        (with ``ordered``: ``estimator="WLSMV", missing="pairwise", ordered=c(...)``)."""
        if self.ordered:
            return {"estimator": ORDINAL_ESTIMATOR, "missing": ORDINAL_MISSING, "std_lv": self.std_lv,
                    "group": self.group or "", "group_equal": ",".join(self.group_equal), "cluster": "",
                    "auxiliary": "", "ordered": ",".join(self.ordered)}
        return {"estimator": ESTIMATOR, "missing": "ml", "std_lv": self.std_lv, "group": self.group or "",
                "group_equal": ",".join(self.group_equal), "cluster": self.cluster or "",
                "auxiliary": ",".join(self.auxiliary)}


# -- data helpers ------------------------------------------------------------------------------

def numeric_frame(scored: Scored, columns: Sequence[str]) -> pd.DataFrame:
    """The scored data's ``columns`` as floats (text that is not a number becomes NaN)."""
    return as_floats(scored.data[list(columns)])


def cluster_column(scored: Scored) -> str | None:
    """The cluster-organisation column when the data have one with at least two clusters.

    Firms recruited through the same cluster organisation share its influence
    (the design of DESIGN.md). The regression checks always use
    cluster-robust standard errors. The SEMs do only with
    ``analyze(cluster_robust=True)`` (lavaan's ``cluster=``; indirect effects
    then bootstrapped by cluster): with about 20 clusters the cluster sandwich
    is itself very noisy - in our coverage study (theory world, N = 3,000,
    10 seeds) it did not bring the coverage of 95% intervals closer to 95%
    (93% with, 92% without) - so it is offered, not imposed.
    """
    if CLUSTER_COLUMN in scored.data.columns and scored.data[CLUSTER_COLUMN].nunique() >= 2:
        return CLUSTER_COLUMN
    return None


def with_cluster(frame: pd.DataFrame, scored: Scored, cluster: str | None) -> pd.DataFrame:
    """``frame`` plus the cluster column (matched by position) when ``cluster`` is given."""
    if cluster is None:
        return frame
    return frame.assign(**{cluster: scored.data[cluster].to_numpy()})


@lru_cache(maxsize=256)
def observed_variables(syntax: str) -> tuple[str, ...]:
    """The observed variables of a model's syntax, in lavaan's order. Cached: a power study builds and
    refits the same ~15 models every replication, and parsing them again cost ~1 ms per model."""
    return tuple(classify_variables(parse_model(syntax).statements).ov)


def with_auxiliary(syntax: str, data: pd.DataFrame, scored: Scored) -> tuple[pd.DataFrame, list[str]]:
    """``data`` plus the :data:`MISSINGNESS_PREDICTORS` the model leaves out, and their names.

    A predictor is added when the scored data have it (with at least two distinct
    observed values) and the model's syntax does not use it; rows are matched on
    the index. Pass the names to ``fit(..., auxiliary=...)``.
    """
    in_model = observed_variables(syntax)
    aux = [v for v, _ in _predictors(scored) if v not in in_model and v not in data.columns]
    if not aux:
        return data, []
    values = dict(_predictors(scored))
    return data.assign(**{v: values[v] for v in aux}), aux


def _predictors(scored: Scored) -> tuple[tuple[str, pd.Series], ...]:
    """The :data:`MISSINGNESS_PREDICTORS` of ``scored`` with at least two distinct observed values, as
    floats: found once per scored data set (each of its models asks) and freed with it."""
    key = id(scored)
    if key not in _PREDICTORS:
        _PREDICTORS[key] = tuple(
            (v, values) for v in MISSINGNESS_PREDICTORS if v in scored.data.columns
            for values in [pd.to_numeric(scored.data[v], errors="coerce").astype(float)] if values.nunique() >= 2)
        weakref.finalize(scored, _PREDICTORS.pop, key, None)
    return _PREDICTORS[key]


_PREDICTORS: dict[int, tuple] = {}


def observed_column(scored: Scored, name: str) -> pd.Series:
    """An observed (profile or derived) variable of the scored data as floats; DataError when absent."""
    if name in scored.data.columns:
        return pd.to_numeric(scored.data[name], errors="coerce").astype(float)
    raise DataError(f"the analysis needs column '{name}', which the data do not have")


# -- building models -----------------------------------------------------------------------------

def build_model(h: Hypothesis, scored: Scored, instrument: Instrument,
                cluster: str | None = None, items_as_floats: pd.DataFrame | None = None) -> tuple[str, pd.DataFrame]:
    """lavaan syntax and data frame (reverse-scored items, observed variables, product indicators).
    ``items_as_floats``: :func:`numeric_frame` of (at least) the hypothesis' items when the caller has it."""
    spec = h.spec
    # columns as numpy arrays in the scored data's row order (building the frame once from them: the
    # models are built in every replication of a power study, where Series lookups and arithmetic
    # cost more than the arrays' work)
    index = scored.data.index
    lines, columns = [], {}
    if items_as_floats is None:
        items_as_floats = numeric_frame(scored, dict.fromkeys(i for c in spec.constructs for i in scored.constructs[c]))
    if not items_as_floats.index.equals(index):
        items_as_floats = items_as_floats.reindex(index)
    item_values = items_as_floats.to_numpy(dtype=float, na_value=np.nan)
    item_at = {c: j for j, c in enumerate(items_as_floats.columns)}
    for c in spec.constructs:
        items = scored.constructs[c]
        lines.append(f"{c} =~ " + " + ".join(items))
        for i in items:
            columns[i] = item_values[:, item_at[i]]
    members = instrument.second_order()
    for so in spec.second_order:
        lines.append(f"{so} =~ " + " + ".join(members[so]))
    for name in spec.observed:
        columns[name] = observed_column(scored, name).to_numpy()
    for prod in spec.products:
        a, b = prod.of
        xa = scored.constructs[a]
        if b in scored.constructs:
            xb = scored.constructs[b]
            values = {i: columns[i] for i in xa} | {i: columns[i] if i in columns else pd.to_numeric(
                scored.data[i], errors="coerce").to_numpy(dtype=float, na_value=np.nan) for i in xb}
        else:  # latent x observed: every indicator times the standardized observed variable
            obs = observed_column(scored, b)
            zname = f"{b}_z"
            values = {i: columns[i] for i in xa} | {zname: ((obs - obs.mean()) / obs.std()).to_numpy()}
            xb = [zname] * len(xa)
        prods = product_columns(values, xa, xb)
        if b not in scored.constructs:
            prods = {f"{i}_x_{b.lower()}": v for i, v in zip(xa, prods.values(), strict=True)}
        lines.append(f"{prod.name} =~ " + " + ".join(prods))
        columns.update(prods)
    lines.append(spec.model.strip())
    for k, t in enumerate(spec.tests):
        if t.kind == "indirect":
            lines.append(f"ind{k + 1} := {t.expression}")
    data = pd.DataFrame(columns, index=index)
    if spec.group:
        g = observed_column(scored, spec.group)
        names = {v: k for k, v in spec.groups.items()}
        data[spec.group] = g.map(names)
        order = {name: i for i, name in enumerate(spec.groups)}
    data = with_cluster(data, scored, cluster)
    if spec.group:
        data = data.iloc[np.argsort(data[spec.group].map(order).fillna(len(order)).to_numpy(), kind="stable")]
    return "\n".join(lines) + "\n", data


def measurement_spec(module: str, scored: Scored, instrument: Instrument, cluster: str | None = None,
                     ordinal: bool = False) -> ModelSpec:
    """The CFA of one module: every construct of the module that the data have (second-order factors
    as the instrument defines them), with the missingness predictors as auxiliary variables (with
    ``ordinal``: its :func:`ordinal_variant`)."""
    syntax = instrument.lavaan_syntax([module])
    items = [i for c in instrument.constructs_in(module) if c.id in scored.constructs for i in scored.constructs[c.id]]
    data, aux = with_auxiliary(syntax, with_cluster(numeric_frame(scored, items), scored, cluster), scored)
    spec = ModelSpec(f"measurement {module}", syntax, data, module=module, cluster=cluster, auxiliary=tuple(aux))
    return ordinal_variant(spec, scored) if ordinal else spec


def measurement_specs(scored: Scored, instrument: Instrument, cluster: str | None = None,
                      ordinal: bool = False) -> list[ModelSpec]:
    """One :func:`measurement_spec` per module in the data (M0, the firm profile, has no scales)."""
    return [measurement_spec(m, scored, instrument, cluster, ordinal) for m in scored.modules if m != "M0"]


def ordinal_variant(spec: ModelSpec, scored: Scored) -> ModelSpec:
    """``spec`` with its questionnaire items as ordinal, for WLSMV with pairwise deletion.

    The items of the scored constructs become ``ordered``; other observed variables (``DOI``,
    ``lnew``, ...) stay continuous (polyserial / Pearson correlations). Auxiliary variables, a
    FIML device, are dropped. An observed exogenous covariate gets a free variance (``x ~~ x``):
    lavaan would otherwise condition on it (``conditional.x``, probit regressions of the items),
    a different model from the ML one; with its variance free it is one more continuous variable,
    and the structural model is that of the ML fit (lavaan fits it the same way: no ``ov.x``).
    Refuses a cluster-robust spec (no cluster-robust WLSMV here).
    """
    if spec.cluster is not None:
        raise OptionError("ordinal (WLSMV) models have no cluster-robust standard errors here; analyse with "
                          "--ordinal or with --cluster-robust, not both")
    roles = classify_variables(parse_model(spec.syntax).statements)
    items = {i for its in scored.constructs.values() for i in its}
    ordered = tuple(v for v in roles.ov if v in items)
    if not ordered:
        return spec
    syntax = spec.syntax + "".join(f"{x} ~~ {x}\n" for x in roles.ov_x)
    data = spec.data.drop(columns=[c for c in spec.auxiliary if c in spec.data.columns])
    return replace(spec, syntax=syntax, data=data, auxiliary=(), ordered=ordered)


def unavailable(h: Hypothesis, scored: Scored, instrument: Instrument) -> str:
    """Empty when the hypothesis can be tested on these data, else why not."""
    missing_constructs = [c for c in h.spec.constructs if c not in scored.constructs]
    if missing_constructs:
        mods = sorted({instrument.constructs[c].module for c in missing_constructs})
        return f"module(s) {', '.join(mods)} not in the data (constructs {', '.join(missing_constructs)})"
    needed = list(h.spec.observed) + ([h.spec.group] if h.spec.group else [])
    for r in h.spec.robustness:
        if r.kind == "count" and r.outcome:
            needed.append(r.outcome)
        if r.kind == "multigroup" and r.group:
            needed.append(r.group)
    absent = [v for v in needed if v not in scored.data.columns]
    if absent:
        return f"firm-profile variable(s) {', '.join(absent)} not in the data"
    return ""


@dataclass(frozen=True)
class HypothesisModels:
    """The structural models of the testable hypotheses (``specs``, one per distinct model, in the
    order of first use), which spec each hypothesis is tested on (``of``), and the hypotheses that
    cannot be tested (``skipped``: ``hypothesis, reason``)."""

    specs: tuple[ModelSpec, ...]
    of: dict[str, str]
    skipped: pd.DataFrame


def hypothesis_specs(scored: Scored, instrument: Instrument, registry: Registry,
                     cluster: str | None = None, ordinal: bool = False) -> HypothesisModels:
    """Build the SEM of every hypothesis of ``registry`` the data allow; hypotheses whose syntax is
    the same share one spec (keyed by the first of them). With ``ordinal`` each spec is its
    :func:`ordinal_variant`, except models with latent products (MLR, ``note`` says why)."""
    specs: dict[str, ModelSpec] = {}
    by_syntax: dict[str, str] = {}
    of: dict[str, str] = {}
    skipped = []
    # every construct's items as floats once, not once per hypothesis
    items_as_floats = numeric_frame(scored, dict.fromkeys(i for items in scored.constructs.values() for i in items))
    for h in registry.hypotheses:
        reason = unavailable(h, scored, instrument)
        if reason:
            skipped.append({"hypothesis": h.id, "reason": reason})
            continue
        try:
            syntax, data = build_model(h, scored, instrument, cluster, items_as_floats)
        except SmeSurveyError as exc:
            skipped.append({"hypothesis": h.id, "reason": f"the model could not be built: {exc}"})
            continue
        key = by_syntax.get(syntax)
        if key is None:
            data, aux = with_auxiliary(syntax, data, scored)
            key = f"model {h.id}"
            by_syntax[syntax] = key
            spec = ModelSpec(key, syntax, data, (h.id,), module=h.module, group=h.spec.group,
                             group_equal=tuple(h.spec.group_equal), std_lv=h.spec.std_lv, cluster=cluster,
                             auxiliary=tuple(aux))
            if ordinal:
                spec = replace(spec, note=PRODUCTS_STAY_MLR) if h.spec.products else ordinal_variant(spec, scored)
            specs[key] = spec
        else:
            s = specs[key]
            specs[key] = replace(s, hypotheses=(*s.hypotheses, h.id))
        of[h.id] = key
    return HypothesisModels(tuple(specs.values()), of, pd.DataFrame(skipped, columns=["hypothesis", "reason"]))


def model_specs(scored: Scored, instrument: Instrument, registry: Registry,
                cluster: str | None = None, ordinal: bool = False) -> list[ModelSpec]:
    """Every SEM of the analysis: the measurement models, then the hypotheses' models."""
    return [*measurement_specs(scored, instrument, cluster, ordinal),
            *hypothesis_specs(scored, instrument, registry, cluster, ordinal).specs]


def flag_auxiliary(res: FitResult) -> pd.DataFrame:
    """``res.parameters`` plus a boolean ``auxiliary`` column: True on the rows of the auxiliary
    variables (their variances, means and saturated correlates, as semTools' ``auxiliary()`` adds
    them), which belong to the missing-data treatment, not to the substantive model."""
    aux = list(res.options.auxiliary)
    p = res.parameters
    return p.assign(auxiliary=p["lhs"].isin(aux) | p["rhs"].isin(aux))
