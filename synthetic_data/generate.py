"""Generate synthetic survey responses with a known truth.

Steps (each with its own child of one ``numpy.random.SeedSequence(seed)``, so
that the same seed gives the same data and changing a knob does not reshuffle
everything else):

1. firms: country (by share) and cluster organisation (uniform within country);
2. latent scores from the population's latent system (all modules, always -
   the truth does not depend on which modules are written out);
3. Likert answers of the selected modules: loadings, acquiescence, per-item
   thresholds (:mod:`synthetic_data.items`); the M1 source x content matrix;
   the marker; the attention checks (answered as instructed);
4. the firm profile (:mod:`synthetic_data.profile`);
5. realism knobs (:mod:`synthetic_data.knobs`);
6. page durations when ``knobs.page_durations`` (:func:`synthetic_data.knobs.page_durations`, a random
   stream of its own: the answers and everything above are the same with it on or off).

The result holds the data (columns named as the codebook), the respondent
types behind the knobs, the latent scores, and a sidecar with the true
parameters, world, seed, knob settings and package versions.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from instrument import Instrument, load_instrument
from instrument.platforms.base import page_variables
from smecore.errors import DefinitionError, OptionError
from smecore.provenance import package_versions
from synthetic_data.items import categorize, continuous_responses, thresholds_for
from synthetic_data.knobs import PAGE_STREAM, Knobs, apply_knobs, page_durations, with_columns
from synthetic_data.population import Population, load_population
from synthetic_data.profile import draw_profile
from synthetic_data.system import simulate

MAX_N = 5_000_000


@dataclass(frozen=True)
class GeneratedData:
    """Synthetic responses and everything needed to know what is true about them."""

    data: pd.DataFrame  # columns named as the codebook
    respondents: pd.DataFrame  # per row: type (attentive / careless / straightliner), finished, duration
    latent: pd.DataFrame  # per row: standardized latent scores (the truth behind the answers)
    sidecar: dict  # world, seed, n, modules, knobs, true parameters, versions
    continuous: pd.DataFrame | None = None  # continuous responses of construct items (keep_continuous=True)
    pages: pd.DataFrame | None = None  # seconds per row and page (columns: page ids), knobs.page_durations


def _check_binding(pop: Population, inst: Instrument) -> None:
    """Every construct of the instrument has a population spec with one loading per item."""
    problems = []
    specs = {c: (mid, spec) for mid, m in pop.modules.items() for c, spec in m.constructs.items()}
    for mid in inst.module_ids:
        for c in inst.constructs_in(mid) + ([inst.marker] if mid == "M0" and inst.marker else []):
            if c.id not in specs:
                problems.append(f"population models: no generating model for construct {c.id} (module {mid}); "
                                f"add it under 'constructs' in the {mid} model file")
                continue
            file = pop.files[specs[c.id][0]]
            n_load = len(specs[c.id][1].loadings)
            if n_load != len(c.items):
                problems.append(f"{file}: constructs.{c.id}.loadings: {n_load} values but the instrument has "
                                f"{len(c.items)} items")
    if problems:
        raise DefinitionError(problems)


def _assign_firms(n: int, pop: Population, rng: np.random.Generator) -> tuple[pd.DataFrame, int]:
    countries = pop.common.countries
    names = list(countries)
    shares = np.array([countries[c]["share"] for c in names], dtype=float)
    country_idx = rng.choice(len(names), size=n, p=shares / shares.sum())
    clusters, country_of = [], []
    for c in names:
        for cl in countries[c]["clusters"]:
            clusters.append(cl)
            country_of.append(c)
    offsets = np.cumsum([0] + [len(countries[c]["clusters"]) for c in names])
    sizes = np.array([len(countries[c]["clusters"]) for c in names])
    cluster_idx = offsets[country_idx] + (rng.random(n) * sizes[country_idx]).astype(int)
    firms = pd.DataFrame({"country": np.array(names, dtype=object)[country_idx],
                          "cluster": np.array(clusters, dtype=object)[cluster_idx],
                          "cluster_index": cluster_idx})
    return firms, len(clusters)


def generate(*, world: str = "theory", n: int = 600, seed: int = 1, modules: Sequence[str] | None = None,
             knobs: Knobs | None = None, clean: bool = False, instrument: Instrument | None = None,
             population: Population | None = None, keep_continuous: bool = False,
             nullable_integers: bool = True) -> GeneratedData:
    """Generate ``n`` firms' responses in ``world`` ("theory" or "null").

    Parameters
    ----------
    modules : sequence of str, optional
        Modules to write (default all; M0 is always included).
    knobs : Knobs, optional
        Realism knobs (default: ``common.yaml``'s settings); ``clean=True``
        switches them all off.
    keep_continuous : bool
        Also return the continuous responses of the construct items (before
        categorisation and knobs) - for checking the generator against the
        implied population covariance.
    nullable_integers : bool
        Whole-number columns as pandas' nullable integers (default: a CSV shows ``3`` and an empty
        cell). ``False``: as floats with NaN for a missing answer - the same numbers, as
        ``pandas.read_csv`` reads a written file's columns with empty cells; for analyses in memory
        (a power study's replications), which convert them to floats anyway.
    """
    if not isinstance(n, int | np.integer) or not 1 <= n <= MAX_N:
        raise OptionError(f"n must be a whole number between 1 and {MAX_N:,}; got {n!r}")
    inst = (instrument or load_instrument()).select(modules)
    pop = population if population is not None and population.world == world else load_population(world)
    _check_binding(pop, inst)
    if clean:
        knobs = Knobs.clean()
    elif knobs is None:
        knobs = Knobs.from_mapping(pop.common.knobs)
    root = np.random.SeedSequence(seed)
    s_firms, s_latent, s_items, s_matrix, s_profile, s_knobs, s_acq = root.spawn(7)
    firms, n_clusters = _assign_firms(n, pop, np.random.default_rng(s_firms))
    latent = simulate(pop.system, n, firms["cluster_index"].to_numpy(), n_clusters, np.random.default_rng(s_latent))
    acquiescence = knobs.acquiescence_sd * np.random.default_rng(s_acq).standard_normal(n)
    profiles = pop.common.threshold_profiles
    specs = {c: spec for m in pop.modules.values() for c, spec in m.constructs.items()}
    item_rng = np.random.default_rng(s_items)
    answers: dict[str, np.ndarray] = {}
    continuous: dict[str, np.ndarray] = {}
    variables = inst.variables()
    wanted = {v.name for v in variables}
    for c in list(inst.constructs.values()):
        ids = [it.id for it in c.items]
        if not any(i in wanted for i in ids):
            continue
        spec = specs[c.id]
        reverse = np.array([it.reverse for it in c.items])
        ystar = continuous_responses(latent[c.id].to_numpy(), np.array(spec.loadings), reverse, item_rng)
        ystar += acquiescence[:, None]
        shifts = spec.shifts or [0.0] * len(ids)
        for j, item_id in enumerate(ids):
            t = thresholds_for(profiles[spec.thresholds], shifts[j], bool(reverse[j]))
            answers[item_id] = categorize(ystar[:, j], t)
            if keep_continuous:
                continuous[item_id] = ystar[:, j]
    for mx in inst.matrices.values():
        if not any(v.name in wanted for v in inst._matrix_variables(mx)):
            continue
        model = next(m.matrix for m in pop.modules.values() if m.matrix is not None)
        rng = np.random.default_rng(s_matrix)
        firm_effect = rng.standard_normal(n)
        noise_sd = np.sqrt(1 - model.loading ** 2 - model.firm_sd ** 2)
        t = np.array(profiles[model.thresholds])
        for s in mx.sources:
            for ct in mx.contents:
                cell = f"{s.id}_{ct.id}"
                if cell not in model.cell_means:
                    raise DefinitionError(f"{pop.files['M1']}: matrix.cell_means: no mean for cell '{cell}'")
                mean = model.cell_means[cell].in_world(world)
                y = (mean + model.loading * latent[s.construct_id].to_numpy() + model.firm_sd * firm_effect
                     + noise_sd * rng.standard_normal(n) + acquiescence)
                answers[mx.item_id(s.id, ct.id)] = categorize(y, t)
    for a in inst.questionnaire.attention_checks:
        if a.id in wanted:
            answers[a.id] = np.full(n, a.expected, dtype=np.int8)
    m0 = pop.modules["M0"]
    profile = draw_profile(latent, firms, m0.observed, world, inst, pop.common.survey_year,
                           np.random.default_rng(s_profile))
    columns: dict[str, object] = {"respondent_id": np.array([f"R{i + 1:07d}" for i in range(n)], dtype=object)}
    for v in variables:
        if v.name in answers:
            columns[v.name] = answers[v.name]
        elif v.name in profile.columns:
            columns[v.name] = profile[v.name].to_numpy()
    frame = pd.DataFrame(columns, index=pd.RangeIndex(n))
    likert = [v.name for v in variables if v.kind in ("likert", "matrix")]
    attention = {a.id: a.expected for a in inst.questionnaire.attention_checks if a.id in wanted}
    questions = [v.name for v in variables if v.kind != "paradata"]
    frame, respondents = apply_knobs(frame, likert=likert, attention=attention, questions=questions,
                                     size=latent["SIZE"].to_numpy(), knobs=knobs, seed_sequence=s_knobs)
    frame = frame.assign(duration_sec=respondents["duration_sec"].to_numpy())
    pages = None
    if knobs.page_durations:
        pages = page_durations(frame, page_variables(inst), respondents["duration_sec"].to_numpy(),
                               np.random.default_rng(np.random.SeedSequence([seed, PAGE_STREAM])))
    frame = _typed(frame, variables, nullable_integers)
    sidecar = {
        "generator": "sme-intl-survey synthetic_data", "world": world, "seed": seed, "n": n,
        "modules": [m for m in inst.module_ids], "knobs": knobs.as_dict(), "clean": clean,
        "n_clusters": n_clusters, "survey_year": pop.common.survey_year,
        "respondent_types": respondents["type"].value_counts().sort_index().to_dict(),
        "unfinished": int((~respondents["finished"]).sum()),
        "true_parameters": pop.true_parameters(),
        "latent_covariance": {"variables": list(pop.system.covariance.columns),
                              "values": np.round(pop.system.covariance.to_numpy(), 10).tolist()},
        "population_files": dict(pop.files),
        "versions": package_versions(),
    }
    return GeneratedData(frame, respondents, latent, sidecar,
                         pd.DataFrame(continuous) if keep_continuous else None, pages)


def _typed(frame: pd.DataFrame, variables, nullable: bool = True) -> pd.DataFrame:
    """Whole-number columns as nullable integers (CSV shows ``3`` and empty, not ``3.0`` and ``nan``);
    ``nullable=False``: the same numbers as floats, NaN where missing."""
    dtypes = frame.dtypes
    names = [v.name for v in variables if v.name in frame.columns and v.type != "text"]
    numeric = [c for c in names if pd.api.types.is_numeric_dtype(dtypes[c]) and not pd.api.types.is_bool_dtype(dtypes[c])]
    columns = {}
    if numeric:  # one conversion of all numeric columns (the same numbers as column by column)
        block = np.round(frame[numeric].to_numpy(dtype=float, na_value=np.nan))
        for j, c in enumerate(numeric):
            x = block[:, j]
            if nullable:
                missing = np.isnan(x)
                columns[c] = pd.arrays.IntegerArray(np.where(missing, 0, x).astype(np.int64), missing)
            else:
                columns[c] = x
    for c in names:
        if c not in columns:
            whole = pd.array(np.round(pd.to_numeric(frame[c])).astype("Float64"), dtype="Int64")
            columns[c] = whole if nullable else whole.to_numpy(dtype=float, na_value=np.nan)
    return with_columns(frame, columns)
