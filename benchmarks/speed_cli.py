"""The command line the fit-speed benchmarks share (:mod:`benchmarks.fit_speed`, :mod:`benchmarks.wlsmv_speed`)."""

from __future__ import annotations

import argparse
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path


def run_cases_main(argv: list[str] | None, *, description: str, cases: Sequence[str], repeat_help: str,
                   r_script: str, title: str, run: Callable[[tuple[str, ...], int], list[dict]],
                   report: Callable[[list[dict]], str], export: Callable[[Path], None]) -> None:
    """``--cases`` picks some of ``cases`` (default all), ``--repeat`` sets the repetitions (3);
    ``--export DIR`` writes the data and models for ``r_script`` and stops. Otherwise runs the cases
    with warnings silenced and prints ``"{title}, repeat = N"`` and the ``report`` of the rows."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--repeat", type=int, default=3, help=repeat_help)
    parser.add_argument("--cases", nargs="+", choices=cases, default=list(cases))
    parser.add_argument("--export", type=Path, help=f"write the data and models for {r_script} and stop")
    args = parser.parse_args(argv)
    if args.export:
        export(args.export)
        print(f"data and models written to {args.export}")
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rows = run(tuple(args.cases), args.repeat)
    print(f"{title}, repeat = {args.repeat}")
    print(report(rows))
