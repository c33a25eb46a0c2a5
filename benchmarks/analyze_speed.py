"""Speed of ``smesurvey analyze`` on the demo data (issue 13: N = 600, 2,000 bootstrap draws, < 15 s).

Run: ``python -m benchmarks.analyze_speed`` (``--repeat`` runs of the command, ``--no-baseline``
skips the slow part). Prints

* the wall time of ``smesurvey analyze`` on the demo data (the theory world, N = 600, the demo's
  seed; generated here into a temporary folder), each run a fresh process as a user starts it -
  imports, reading, the analysis and the reports - with the load average before each run: the
  minimum and the stage table the command prints at its end ("time per stage") for that run;
* the bootstrap of the demo's two indirect-effect models (H6: 10 variables, H15: 29 variables;
  MLR + FIML with an auxiliary variable, 518 firms), 2,000 draws each, in this process: the
  batched refits (:mod:`analysis.sem.batch_refit`, one thread) against the per-draw refit path
  (:func:`analysis.sem.fit.refit`, one process, one thread), which is what the bootstrap used
  before the batched path, and the largest difference of the two paths' draws.

The machine is shared: the load average (``os.getloadavg``) is printed beside every time, and
the minimum over the repetitions is the figure to compare.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
STAGES = re.compile(r"time per stage: (.*)")


def demo_data(folder: Path) -> Path:
    """The demo's data set (``smesurvey demo``'s step 'synthetic data', CSV only)."""
    from smesurvey.cli.demo import DEMO_N, DEMO_SEED, DEMO_WORLD, demo_data_file
    from synthetic_data.generate import generate
    from synthetic_data.writers import write_data

    path = demo_data_file(folder)
    write_data(generate(world=DEMO_WORLD, n=DEMO_N, seed=DEMO_SEED), path)
    return path


def load() -> str:
    return "load {:.1f} {:.1f} {:.1f}".format(*os.getloadavg())


def run_cli(data: Path, out: Path) -> tuple[float, str]:
    """One ``smesurvey analyze`` in a fresh process: wall seconds and its stage line."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    code = "from smesurvey.cli import entry; entry()"
    t0 = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", code, "analyze", str(data), "--out", str(out), "--force"],
                          env=env, capture_output=True, text=True, check=True)
    wall = time.perf_counter() - t0
    match = STAGES.search(done.stdout)
    return wall, match.group(1) if match else "(no stage line)"


def indirect_models(data: Path):
    """The fitted models of the demo's indirect-effect hypotheses, as the pipeline fits them."""
    from analysis.ingest import read_responses
    from analysis.propositions.hypotheses import load_registry
    from analysis.propositions.models import hypothesis_specs
    from analysis.propositions.pipeline import step12_prepare
    from instrument import load_instrument

    inst = load_instrument()
    registry = load_registry(inst)
    _, scored = step12_prepare(read_responses(data), inst)
    built = hypothesis_specs(scored, inst, registry)
    specs = {s.key: s for s in built.specs}
    wanted = [h.id for h in registry.hypotheses if any(t.kind == "indirect" for t in h.spec.tests)]
    keys = list(dict.fromkeys(built.of[h] for h in wanted if h in built.of))
    return [(key, specs[key].fit()) for key in keys]


def bootstrap_paths(models, n_boot: int) -> list[str]:
    """Batched against per-draw refits, both in this process on one thread."""
    import analysis.sem.batch_refit as batch_refit
    from analysis.sem.bootstrap import bootstrap

    lines = []
    for key, res in models:
        t0 = time.perf_counter()
        fast = bootstrap(res, n_boot, seed=1, n_jobs=1)
        t_fast = time.perf_counter() - t0
        supported = batch_refit.supported
        batch_refit.supported = lambda est: False  # the per-draw path, as before the batched one
        try:
            t0 = time.perf_counter()
            slow = bootstrap(res, n_boot, seed=1, n_jobs=1)
            t_slow = time.perf_counter() - t0
        finally:
            batch_refit.supported = supported
        diff = np.nanmax(np.abs(fast.draws.to_numpy() - slow.draws.to_numpy()))
        nvar = res.estimation.groups[0].data.shape[1]
        lines.append(f"{key:<12} {nvar:>4} variables  batched {t_fast:6.2f} s  per-draw {t_slow:6.2f} s  "
                     f"ratio {t_fast / t_slow:5.3f}  max |draw difference| {diff:.1e}  ({load()})")
    return lines


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="runs of smesurvey analyze (the minimum counts)")
    parser.add_argument("--no-baseline", action="store_true", help="skip the bootstrap paths (about a minute)")
    parser.add_argument("--n-boot", type=int, default=2000)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        data = demo_data(Path(tmp))
        runs = []
        print(f"smesurvey analyze on the demo data (N = 600, 2,000 bootstrap draws), {args.repeat} runs")
        for k in range(args.repeat):
            before = load()
            wall, stages = run_cli(data, Path(tmp) / "out")
            runs.append((wall, stages))
            print(f"  run {k + 1}: {wall:5.1f} s wall ({before} before the run)")
        wall, stages = min(runs)
        print(f"minimum: {wall:.1f} s (target < 15 s); its time per stage: {stages}")
        if not args.no_baseline:
            print(f"\nbootstrap of the indirect-effect models, {args.n_boot} draws, in this process (one thread)")
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                from analysis.sem.threads import fit_threads

                with fit_threads():
                    for line in bootstrap_paths(indirect_models(data), args.n_boot):
                        print("  " + line)


if __name__ == "__main__":
    main()
