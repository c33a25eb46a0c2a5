"""Run a power study: schedule blocks of replications, stream them to disk, resume, summarise.

:func:`power` is the whole study (``smesurvey power`` calls it). The grid (world x N x
replication) is cut into blocks of :data:`~analysis.power.settings.BLOCK` replications; each
block runs :func:`analysis.power.replicate.run_block` in a worker - local processes (joblib's
loky, one BLAS thread each) by default, or the workers of a Dask cluster (``scheduler``) - and
its rows are written to ``OUT/chunks/`` as soon as it finishes (one parquet file per block).
Running the same study again skips every block whose file exists, so an interrupted run
resumes; a larger grid (more N, replications, hypotheses or the other world) with the same
seed reuses what is done. ``OUT/run.json`` holds the settings the numbers depend on (seed,
``--set``, bootstrap, SHA-256 of the registry and instrument); a run with other settings into
the same folder is refused.

Seeds come from (world, N, replication) and (..., hypothesis) - never from a worker - so the
results are the same for any number or kind of workers.
"""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.power.replicate import Block, context, population, run_block
from analysis.power.settings import (
    BLOCK,
    DEFAULT_NS,
    DEFAULT_REPS,
    PowerSettings,
    check_counts,
    file_sha256,
    parse_hypotheses,
    parse_ns,
    parse_overrides,
    parse_worlds,
)
from analysis.power.summary import (
    FAMILY,
    decisions,
    power_table,
    recovery_table,
    sample_sizes,
    study_recommendation,
)
from smecore.errors import OptionError
from smecore.files import check_output_dir

#: clean population sample of the true values that recovery is measured against
TRUTH_N = 200_000
_CHUNK = re.compile(r"(?P<world>theory|null)_n(?P<n>\d+)_r(?P<start>\d+)-(?P<stop>\d+)_(?P<hyps>[H\d-]+)\.parquet")
Progress = Callable[[int, int], None]


def definitions_sha256() -> tuple[str, str]:
    """SHA-256 of the hypothesis registry file and of the instrument definition (every file under
    ``instrument/definition``, in path order) - what a preregistration pins."""
    inst, reg = context()
    from instrument.load import DEFINITION_DIR

    files = sorted(p for p in Path(DEFINITION_DIR).rglob("*") if p.is_file())
    return file_sha256([Path(reg.source)]), file_sha256(files)


@dataclass(frozen=True)
class PowerResult:
    """A power study's tables (see :mod:`analysis.power.summary`) and where they were written."""

    settings: PowerSettings
    replications: pd.DataFrame = field(repr=False)
    decisions: pd.DataFrame = field(repr=False)
    power: pd.DataFrame = field(repr=False)
    sample_sizes: pd.DataFrame = field(repr=False)
    recovery: pd.DataFrame = field(repr=False)
    study: dict = field(default_factory=dict)
    timings: dict = field(default_factory=dict)
    paths: tuple[Path, ...] = ()

    def summary(self) -> str:
        """One line per world and hypothesis: the theory world's N for 80% power; the null world's largest
        false-positive rate over the grid (after Holm, and unadjusted; ``FAMILY``: the family-wise rate)."""
        s = self.sample_sizes
        lines = [f"power study: {len(self.settings.hypotheses)} hypotheses, N = {', '.join(map(str, self.settings.ns))},"
                 f" {self.settings.reps} replications, world {'/'.join(self.settings.worlds)}"]
        for r in s[(s["target"] == 0.8) & (s["world"] != "null")].to_dict("records"):
            n = "not reached" if not np.isfinite(r["n.required"]) else f"{r['n.required']:.0f}"
            lines.append(f"  {r['world']:6s} {r['hypothesis']:6s} N for 80% power: {n}")
        null = self.power[self.power["world"] == "null"]
        for hid, g in null.groupby("hypothesis", sort=False):
            worst = g.loc[g["power"].idxmax()]
            what = "family-wise error rate" if hid == FAMILY else "false-positive rate"
            line = f"  null   {hid:6s} {what}: at most {worst['power']:.3f} (N = {worst['n']:,})"
            if hid != FAMILY:
                line += f"; without Holm at most {g['power.unadjusted'].max():.3f}"
            lines.append(line)
        return "\n".join(lines)


def settings_for(*, hypotheses=None, ns: str | Sequence[int] = DEFAULT_NS, reps: int = DEFAULT_REPS,
                 world: str = "theory", overrides=None, n_boot: int = 0, seed: int = 1) -> PowerSettings:
    """Check every option (:class:`OptionError` naming the option) and return the settings."""
    _, reg = context()
    hyps = parse_hypotheses(hypotheses, [h.id for h in reg.hypotheses])
    check_counts(reps, n_boot, seed)
    over = parse_overrides(overrides)
    worlds = parse_worlds(world)
    if over:
        population("theory", over)  # every --set names a path and leaves a valid population
    reg_sha, inst_sha = definitions_sha256()
    return PowerSettings(hyps, parse_ns(ns), reps, worlds, over, n_boot, seed, reg_sha, inst_sha)


def _check_run_file(out: Path, settings: PowerSettings) -> None:
    path = out / "run.json"
    key = settings.key()
    if path.exists():
        try:
            old = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            old = None
        if old != key:
            differ = sorted(k for k in key if not old or old.get(k) != key[k])
            raise OptionError(f"{out}: holds replications of a power study with other settings ({', '.join(differ)}"
                              "); give another --out (resuming needs the same seed, --set, --bootstrap and "
                              "definitions)")
    else:
        out.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(key, indent=1), encoding="utf-8")


def _done(chunks: Path) -> dict[tuple[str, int, str], set[int]]:
    """(world, n, hypothesis) -> replications on disk."""
    done: dict[tuple[str, int, str], set[int]] = {}
    for f in chunks.glob("*.parquet"):
        m = _CHUNK.fullmatch(f.name)
        if not m:
            continue
        for h in m["hyps"].split("-"):
            done.setdefault((m["world"], int(m["n"]), h), set()).update(range(int(m["start"]), int(m["stop"])))
    return done


def plan_blocks(settings: PowerSettings, chunks: Path) -> list[Block]:
    """The blocks still to run, largest N first (the longest tasks start early)."""
    done = _done(chunks)
    blocks = []
    for world in settings.worlds:
        for n in sorted(settings.ns, reverse=True):
            for start in range(0, settings.reps, BLOCK):
                reps = range(start, min(start + BLOCK, settings.reps))
                missing = tuple(h for h in settings.hypotheses
                                if not set(reps) <= done.get((world, n, h), set()))
                if missing:
                    blocks.append(Block(world, n, tuple(reps), missing, settings.seed, settings.overrides,
                                        settings.n_boot))
    return blocks


def _chunk_name(b: Block) -> str:
    return f"{b.world}_n{b.n:05d}_r{b.reps[0]:05d}-{b.reps[-1] + 1:05d}_{'-'.join(b.hypotheses)}.parquet"


def _write_chunk(frame: pd.DataFrame, path: Path) -> None:
    tmp = path.with_suffix(".tmp")
    frame.to_parquet(tmp, index=False)
    os.replace(tmp, path)  # a block is on disk whole or not at all


def execute(blocks: list[Block], chunks: Path, *, workers: int | None = None, scheduler=None,
            progress: Progress | None = None, total: int | None = None, done: int = 0) -> None:
    """Run ``blocks``; write each block's rows into ``chunks`` as it finishes.

    ``scheduler``: a Dask scheduler address (``tcp://host:8786``) or a ``distributed.Client``;
    otherwise ``workers`` local processes (default: every core; 1 runs in this process).
    """
    chunks.mkdir(parents=True, exist_ok=True)
    total = total if total is not None else sum(len(b.reps) for b in blocks)

    def finished(b: Block, frame: pd.DataFrame) -> None:
        nonlocal done
        _write_chunk(frame, chunks / _chunk_name(b))
        done += len(b.reps)
        if progress:
            progress(done, total)

    if progress:
        progress(done, total)
    if not blocks:
        return
    if scheduler is not None:
        _execute_dask(blocks, scheduler, finished)
        return
    workers = workers or os.cpu_count() or 1
    if workers < 1:
        raise OptionError(f"--workers must be at least 1; got {workers}")
    if workers == 1:
        for b in blocks:
            finished(b, run_block(b))
        return
    from joblib import Parallel, delayed, parallel_config

    with parallel_config(backend="loky", inner_max_num_threads=1):
        runner = Parallel(n_jobs=workers, return_as="generator_unordered")
        for b, frame in runner(delayed(_tagged)(b) for b in blocks):
            finished(b, frame)


def _tagged(b: Block) -> tuple[Block, pd.DataFrame]:
    return b, run_block(b)


def _execute_dask(blocks: list[Block], scheduler, finished) -> None:
    try:
        from distributed import Client, as_completed
    except ImportError:  # pragma: no cover - a dependency of the package
        raise OptionError("--scheduler needs the 'distributed' package (pip install 'dask[distributed]')") from None
    own = isinstance(scheduler, str)
    try:
        client = Client(scheduler, timeout="20s") if own else scheduler
    except (OSError, TimeoutError) as exc:
        raise OptionError(f"--scheduler {scheduler}: cannot reach the Dask scheduler ({exc}); start one with "
                          "'dask scheduler' and workers with 'dask worker ADDRESS'") from None
    try:
        futures = [client.submit(_tagged, b, pure=False) for b in blocks]
        for fut in as_completed(futures):
            b, frame = fut.result()
            finished(b, frame)
            fut.release()
    finally:
        if own:
            client.close()


def load_replications(settings: PowerSettings, chunks: Path) -> pd.DataFrame:
    """Every row of the study's grid from ``chunks`` (rows of other hypotheses, sizes or replications
    stored by earlier, larger runs are left out)."""
    frames = []
    for f in sorted(chunks.glob("*.parquet")):
        m = _CHUNK.fullmatch(f.name)
        if not m or m["world"] not in settings.worlds or int(m["n"]) not in settings.ns \
                or int(m["start"]) >= settings.reps:
            continue
        frames.append(pd.read_parquet(f))
    if not frames:
        return pd.DataFrame()
    rows = pd.concat(frames, ignore_index=True)
    rows = rows[rows["hypothesis"].isin(settings.hypotheses) & (rows["rep"] < settings.reps)]
    rows = rows.drop_duplicates(["world", "n", "rep", "hypothesis", "test"], keep="first")
    order = {h: i for i, h in enumerate(settings.hypotheses)}
    return rows.sort_values(["world", "n", "rep", "hypothesis"], key=lambda s: s.map(order) if s.name == "hypothesis"
                            else s, kind="stable").reset_index(drop=True)


def truth_table(settings: PowerSettings, out: Path) -> pd.DataFrame:
    """True values of every decision test in each world (cached in ``OUT/truth.csv``)."""
    from analysis.propositions.truth import true_test_values

    path = out / "truth.csv"
    if path.exists():
        truth = pd.read_csv(path)
        if set(settings.worlds) <= set(truth["world"]):
            return truth
    frames = [true_test_values(w, TRUTH_N, settings.overrides if w == "theory" else ()).assign(world=w)
              for w in settings.worlds]
    truth = pd.concat(frames, ignore_index=True)[["world", "hypothesis", "test", "expression", "true"]]
    truth.to_csv(path, index=False)
    return truth


def power(*, out: str | Path, hypotheses=None, ns: str | Sequence[int] = DEFAULT_NS, reps: int = DEFAULT_REPS,
          world: str = "theory", overrides=None, n_boot: int = 0, workers: int | None = None, scheduler=None,
          seed: int = 1, progress: Progress | None = None, recovery: bool = True) -> PowerResult:
    """Monte Carlo power, error rates and recovery of the hypotheses' decisions (see the package docstring).

    Parameters
    ----------
    out : path
        Folder of the outputs and of the replications on disk (``chunks/``, for resuming).
    hypotheses : str or sequence, optional
        Ids (``"H1,H6"``); default every hypothesis of the registry (the family of the Holm step).
    ns : str or sequence of int
        Sample sizes (firms fielded): ``"100:1500:100"``, ``"200,400"`` or a list.
    reps : int
        Replications per world and N.
    world : {"theory", "null", "both"}
    overrides : mapping or sequence of "TAG=VALUE", optional
        Theory-world paths by hypothesis tag (``{"H14": 0.30}``).
    n_boot : int
        0: indirect effects decided by the Monte Carlo CI (default); N >= 100: by the percentile
        bootstrap with N resamples in every replication, as ``analyze``.
    workers, scheduler
        Local processes, or a Dask scheduler address / ``distributed.Client``.
    progress : callable, optional
        ``progress(replications_done, replications_total)``.
    recovery : bool
        Compute the true values (a clean population sample, about a minute) and ``recovery.csv``.
    """
    out = check_output_dir(out, command="smesurvey power")  # before any work
    settings = settings_for(hypotheses=hypotheses, ns=ns, reps=reps, world=world, overrides=overrides,
                            n_boot=n_boot, seed=seed)
    if workers is not None and scheduler is not None:
        raise OptionError("give --workers or --scheduler, not both (a Dask cluster has its own workers)")
    if workers is not None and (not isinstance(workers, int) or workers < 1):
        raise OptionError(f"--workers must be a positive whole number; got {workers!r}")
    _check_run_file(out, settings)
    chunks = out / "chunks"
    chunks.mkdir(exist_ok=True)
    blocks = plan_blocks(settings, chunks)
    total = len(settings.worlds) * len(settings.ns) * settings.reps
    t0 = time.perf_counter()
    execute(blocks, chunks, workers=workers, scheduler=scheduler, progress=progress, total=total,
            done=total - sum(len(b.reps) for b in blocks))
    t_run = time.perf_counter() - t0
    from analysis.power.report import write_outputs

    t1 = time.perf_counter()
    reps_frame = load_replications(settings, chunks)
    _, reg = context()
    family = type(reg)(reg.alpha, reg.bootstrap, reg.monte_carlo,
                       tuple(h for h in reg.hypotheses if h.id in settings.hypotheses), reg.source, reg.adjust)
    dec = decisions(reps_frame, family)
    pw = power_table(dec)
    sizes = sample_sizes(pw)
    truth = truth_table(settings, out) if recovery else pd.DataFrame()
    rec = recovery_table(reps_frame, truth)
    study = study_recommendation(sizes, pw)
    reps_frame = reps_frame.merge(dec[["world", "n", "rep", "hypothesis", "pvalue.adjusted", "verdict"]],
                                  on=["world", "n", "rep", "hypothesis"], how="left")
    if not truth.empty:
        reps_frame = reps_frame.merge(truth[["world", "hypothesis", "test", "true"]],
                                      on=["world", "hypothesis", "test"], how="left")
    timings = {"replications (s)": t_run, "blocks run": len(blocks), "summaries (s)": time.perf_counter() - t1}
    result = PowerResult(settings, reps_frame, dec, pw, sizes, rec, study, timings)
    paths = write_outputs(result, out)
    return PowerResult(settings, reps_frame, dec, pw, sizes, rec, study, timings, tuple(paths))
