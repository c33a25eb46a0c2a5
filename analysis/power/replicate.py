"""One replication of a power study: a synthetic study of N firms analysed as ``analyze`` analyses it.

A replication (world, N, r):

1. data   - the generator writes N firms' answers to the whole questionnaire in the world (theory
            with any ``--set`` paths, or null), with the default realism knobs (missing answers,
            careless responders, straight-liners, ...); seed: ``SeedSequence(seed, spawn_key=(world,
            N, r))``, never the worker;
2. screen - ``analyze``'s steps 1-2 (codebook check, screening, scoring): the rows it excludes are
            excluded here;
3. models - :func:`analysis.propositions.models.hypothesis_specs` builds each selected hypothesis'
            SEM as ``analyze`` does (hypotheses sharing a model share its fit); each is fitted by the
            lean refit path (:func:`analysis.sem.lean.refit_result`: MLR standard errors with FIML
            and the auxiliary SIZE, as ``fit()``; no baseline model, fit indices or modification
            indices), warm-started at the model's population values (its estimates on a large
            sample of the same world: :func:`template`);
4. tests  - :func:`analysis.propositions.pipeline.hypothesis_tests`: the registry's decision tests
            with ``analyze``'s code (standardized Wald tests, the chi-square difference test and
            HTMT condition of H8); indirect effects by the Monte Carlo CI (``n_boot=0``, default) or
            by the percentile bootstrap with ``n_boot`` resamples, as ``analyze``; the seed of these
            draws is spawned by (world, N, r, hypothesis);
5. decide - :func:`analysis.propositions.hypotheses.hypothesis_decision` gives each hypothesis'
            weakest test; the family's Holm step and the verdicts are applied across the
            hypotheses of the replication when the results are summarised
            (:func:`analysis.power.summary.decisions`), as ``analyze``'s step 5.

The robustness checks (scale-score regressions, count model, matrix contrasts, multi-group
model) and the measurement models do not change a verdict and are not run.

:func:`run_block` runs a block of replications and returns one row per (replication, hypothesis,
decision test) - see :data:`COLUMNS`. It is what a worker process (joblib / loky or a Dask
worker) executes; everything it needs is rebuilt from its arguments and cached per process.
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass, replace
from functools import cache

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from analysis.power.settings import WORLDS
from analysis.propositions.hypotheses import Registry, hypothesis_decision, load_registry
from analysis.propositions.models import ModelSpec, hypothesis_specs, observed_variables
from analysis.propositions.pipeline import hypothesis_tests, step12_prepare
from analysis.psychometrics.scoring import check_items_usable
from analysis.sem.data_prep import prepare_data
from analysis.sem.effects import wald_values
from analysis.sem.fit import FitResult
from analysis.sem.lean import refit_result
from instrument import Instrument, load_instrument
from smecore.errors import SmeSurveyError
from synthetic_data.generate import generate
from synthetic_data.population import Population, with_overrides

#: firms in the sample whose estimates are a model's population values (the warm start)
TEMPLATE_N = 2000
TEMPLATE_SEED = 20261125

STATUSES = ("ok", "improper", "nonconverged", "skipped")
COLUMNS = ("world", "n", "rep", "hypothesis", "status", "test", "kind", "expression", "direction", "decision",
           "estimate", "se", "ci.lower", "ci.upper", "p.predicted", "p.opposite", "std.estimate", "rec.estimate",
           "rec.se", "h.pvalue", "h.p.opposite", "h.extra_ok", "n.kept", "n.used", "reason", "seconds", "cpu.seconds")


@dataclass(frozen=True)
class Block:
    """A task: replications ``reps`` of (``world``, ``n``) for ``hypotheses``."""

    world: str
    n: int
    reps: tuple[int, ...]
    hypotheses: tuple[str, ...]
    seed: int
    overrides: tuple[tuple[str, float], ...] = ()
    n_boot: int = 0


def hypothesis_number(hid: str) -> int:
    return int(hid.lstrip("Hh"))


def data_seed(seed: int, world: str, n: int, rep: int) -> int:
    """The generator's seed of replication ``rep`` of (world, N): a child of ``SeedSequence(seed)``."""
    ss = np.random.SeedSequence(seed, spawn_key=(WORLDS.index(world), n, rep))
    return int(ss.generate_state(1, dtype=np.uint64)[0])


def draws_seed(seed: int, world: str, n: int, rep: int, hid: str) -> int:
    """The seed of the Monte Carlo / bootstrap draws of ``hid`` in replication ``rep``."""
    ss = np.random.SeedSequence(seed, spawn_key=(WORLDS.index(world), n, rep, hypothesis_number(hid)))
    return int(ss.generate_state(1, dtype=np.uint64)[0])


# -- per-process caches ------------------------------------------------------------------------

@cache
def context() -> tuple[Instrument, Registry]:
    inst = load_instrument()
    return inst, load_registry(inst)


@cache
def population(world: str, overrides: tuple[tuple[str, float], ...]) -> Population:
    return with_overrides(world, dict(overrides))


def registry_for(hypotheses: tuple[str, ...]) -> Registry:
    _, reg = context()
    return replace(reg, hypotheses=tuple(h for h in reg.hypotheses if h.id in hypotheses))


@cache
def _template_specs(world: str, overrides: tuple[tuple[str, float], ...]) -> dict[str, ModelSpec]:
    """Every hypothesis model built on the template sample (TEMPLATE_N firms, fixed seed)."""
    inst, reg = context()
    g = generate(world=world, n=TEMPLATE_N, seed=TEMPLATE_SEED, population=population(world, overrides),
                 instrument=inst, nullable_integers=False)
    _, scored = step12_prepare(g.data, inst)
    built = hypothesis_specs(scored, inst, reg)
    return {spec_key(s): s for s in built.specs}


def spec_key(spec: ModelSpec, extra: str = "") -> str:
    """What identifies a model across samples: its syntax (plus constraints) and auxiliary variables."""
    return spec.syntax + extra + "\0" + ",".join(spec.auxiliary)


@cache
def template(world: str, overrides: tuple[tuple[str, float], ...], key: str, extra: str = "") -> FitResult | None:
    """The model ``key`` (plus ``extra`` constraint syntax) fitted to the template sample: its estimates
    are the population values the replications start from; None when the template sample does not
    give this model (then replications use the full fit)."""
    spec = _template_specs(world, overrides).get(key)
    if spec is None:
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return spec.fit(extra)
        except SmeSurveyError:
            return None


def lean_fit(spec: ModelSpec, world: str, overrides, extra: str = "") -> FitResult | None:
    """Fit ``spec`` (plus ``extra``) through the lean refit path from its template; the full
    :meth:`ModelSpec.fit` when no template matches. None when the model cannot be estimated."""
    tmpl = template(world, overrides, spec_key(spec), extra)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if tmpl is None or spec.group is not None or spec.cluster is not None:
            try:
                return spec.fit(extra)
            except SmeSurveyError:
                return None
        prepared = prepare_data(spec.data, observed_variables(spec.syntax + extra) + spec.auxiliary, missing="fiml",
                                covariates=(), source=spec.source)
        if any(len(x) < 2 for x in prepared.arrays):
            return None
        return refit_result(tmpl, prepared.arrays, statistics=bool(extra) or _needs_statistics(spec))


def _needs_statistics(spec: ModelSpec) -> bool:
    """A hypothesis with a chi-square difference test that decides needs the free model's test too."""
    _, reg = context()
    return any(h.spec.lr_required for h in reg.hypotheses if h.id in spec.hypotheses)


# -- one replication ---------------------------------------------------------------------------

def _row(block: Block, rep: int, hid: str, status: str, **values) -> dict:
    return {"world": block.world, "n": block.n, "rep": rep, "hypothesis": hid, "status": status, **values}


def replication(block: Block, rep: int) -> list[dict]:
    """The rows of one replication (see the module docstring)."""
    inst, _ = context()
    reg = registry_for(block.hypotheses)
    t0, c0 = time.perf_counter(), time.process_time()
    g = generate(world=block.world, n=block.n, seed=data_seed(block.seed, block.world, block.n, rep),
                 population=population(block.world, block.overrides), instrument=inst, nullable_integers=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            _, scored = step12_prepare(g.data, inst)
            check_items_usable(scored)
        except SmeSurveyError as exc:
            return [_row(block, rep, h.id, "skipped", reason=f"the data cannot be analysed: {exc}",
                         seconds=time.perf_counter() - t0, **{"cpu.seconds": time.process_time() - c0})
                    for h in reg.hypotheses]
        built = hypothesis_specs(scored, inst, reg)
    specs = {s.key: s for s in built.specs}
    why = dict(zip(built.skipped["hypothesis"], built.skipped["reason"], strict=True))
    fitted: dict[str, FitResult | None] = {}
    rows: list[dict] = []
    n_kept = len(scored.data)
    # the data's time (generation, screening, scoring, model building) is shared out over the hypotheses
    shared = (time.perf_counter() - t0) / max(len(reg.hypotheses), 1)
    shared_cpu = (time.process_time() - c0) / max(len(reg.hypotheses), 1)
    for h in reg.hypotheses:
        t1, c1 = time.perf_counter(), time.process_time()

        def spent(t1=t1, c1=c1) -> dict:
            return {"seconds": shared + time.perf_counter() - t1, "cpu.seconds": shared_cpu + time.process_time() - c1}

        if h.id in why:
            rows.append(_row(block, rep, h.id, "skipped", reason=why[h.id], **{"n.kept": n_kept}, **spent()))
            continue
        spec = specs[built.of[h.id]]
        if spec.key not in fitted:
            fitted[spec.key] = lean_fit(spec, block.world, block.overrides)
        res = fitted[spec.key]
        if res is None:
            rows.append(_row(block, rep, h.id, "nonconverged", reason="the model could not be estimated",
                             **{"n.kept": n_kept}, **spent()))
            continue

        def fit_restricted(constraint: str, spec=spec) -> FitResult:
            out = lean_fit(spec, block.world, block.overrides, constraint + "\n")
            if out is None:
                raise _RestrictedFailed(constraint)
            return out

        seed = draws_seed(block.seed, block.world, block.n, rep, h.id)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                tests = hypothesis_tests(h, spec, res, reg, scored, seed=seed, n_boot=block.n_boot,
                                         indirect="monte_carlo" if block.n_boot == 0 else "bootstrap",
                                         fit_restricted=fit_restricted, decisions_only=True)
                weakest, _, extra_ok = hypothesis_decision(_decision_frame(tests))
                recovery = _recovery_values(h, res)
        except (SmeSurveyError, _RestrictedFailed) as exc:
            rows.append(_row(block, rep, h.id, "nonconverged", reason=f"a test could not be computed: {exc}",
                             **{"n.kept": n_kept}, **spent()))
            continue
        status = "improper" if res.warnings else "ok"
        times = spent()
        for t in tests:
            rec = recovery.get(t["test"], (t.get("std.estimate", np.nan), t.get("se", np.nan)))
            rows.append(_row(block, rep, h.id, status, test=t["test"], kind=t["kind"], expression=t["expression"],
                             direction=t["direction"], decision=bool(t["decision"]), estimate=t["estimate"],
                             se=t["se"], **{"ci.lower": t["ci.lower"], "ci.upper": t["ci.upper"],
                                            "p.predicted": t["p.predicted"], "p.opposite": t["p.opposite"],
                                            "std.estimate": t["std.estimate"], "rec.estimate": rec[0],
                                            "rec.se": rec[1], "h.pvalue": weakest["p.predicted"],
                                            "h.p.opposite": weakest["p.opposite"], "h.extra_ok": extra_ok,
                                            "n.kept": n_kept, "n.used": int(sum(res.nobs))},
                             reason="; ".join(res.warnings), **times))
    return rows


#: the columns of the test rows that :func:`hypothesis_decision` reads, and the replication from its answer
_DECISION_COLUMNS = ("test", "kind", "decision", "p.predicted", "p.opposite", "ok")


def _decision_frame(tests: list[dict]) -> pd.DataFrame:
    """The test rows as :func:`hypothesis_decision` reads them (``tests.csv``'s columns that decide): the
    frame of all their columns cost three times as much to build, once per hypothesis and replication."""
    return pd.DataFrame({c: [t.get(c, np.nan) for t in tests] for c in _DECISION_COLUMNS})


class _RestrictedFailed(Exception):
    def __str__(self) -> str:
        return f"the restricted model ({self.args[0]}) could not be estimated"


def _recovery_values(h, res: FitResult) -> dict[str, tuple[float, float]]:
    """Standardized estimate and its delta-method SE of each Wald/indirect test that is not already
    standardized (indirect effects, H8's correlation difference): what recovery compares with the truth."""
    out = {}
    for t in h.spec.tests:
        if not t.standardized:
            w = wald_values(res, t.expression, standardized=True)
            out[t.name] = (float(w["estimate"]), float(w["se"]))
    return out


def run_block(block: Block) -> pd.DataFrame:
    """Run the replications of ``block`` with one BLAS thread; one row per replication, hypothesis
    and decision test (:data:`COLUMNS`)."""
    rows: list[dict] = []
    with threadpool_limits(limits=1, user_api="blas"):
        for rep in block.reps:
            rows += replication(block, rep)
    frame = pd.DataFrame(rows).reindex(columns=list(COLUMNS))
    return frame.astype({"decision": "boolean", "h.extra_ok": "boolean"})
