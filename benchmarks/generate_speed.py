"""Generation speed: N = 100,000 firms, all modules, default knobs, written as CSV (goal: under 30 s).

Run: ``python -m benchmarks.generate_speed [--n 100000]``. Prints the time to
generate and to write, and the ratio against a baseline run in this process:
drawing the same number of standard normals, cutting them into 7 categories
with numpy and writing them with pandas - the least any generator of this much
data must spend.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd


def baseline(n: int, n_cols: int, path: Path) -> float:
    t0 = time.perf_counter()
    rng = np.random.default_rng(1)
    z = rng.standard_normal((n, n_cols))
    cats = np.searchsorted(np.array([-1.5, -0.9, -0.3, 0.3, 0.9, 1.5]), z) + 1
    pd.DataFrame(cats, columns=[f"v{i}" for i in range(n_cols)]).to_csv(path, index=False)
    return time.perf_counter() - t0


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000)
    args = parser.parse_args(argv)
    from synthetic_data.generate import generate
    from synthetic_data.writers import write_data

    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        gen = generate(n=args.n, seed=1)
        t_gen = time.perf_counter() - t0
        t1 = time.perf_counter()
        write_data(gen, Path(tmp) / "data.csv")
        t_write = time.perf_counter() - t1
        t_base = baseline(args.n, gen.data.shape[1], Path(tmp) / "base.csv")
    total = t_gen + t_write
    print(f"generate speed: N = {args.n:,} firms, all modules ({gen.data.shape[1]} columns), default knobs")
    print(f"  generate {t_gen:6.2f} s   write CSV {t_write:6.2f} s   total {total:6.2f} s  (goal < 30 s)")
    print(f"  baseline (normals -> 7 categories -> CSV, same shape) {t_base:6.2f} s; ratio {total / t_base:.2f}")


if __name__ == "__main__":
    main()
