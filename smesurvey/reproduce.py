"""One-command reproduction of the reference analysis (``smesurvey reproduce``).

1. regenerate the reference data sets from their seeds and check them against
   ``synthetic_data/reference/MANIFEST.sha256`` (byte for byte);
2. re-run the full analysis (2,000 bootstrap resamples, seed 1) on each set;
3. compare verdicts and key estimates with the expected results committed in
   ``synthetic_data/reference/expected/<world>/``: verdict labels exactly,
   numbers to ``1e-6`` (absolute, or relative for numbers above 1).

Returns a tidy table of checks (``check, item, compared, max.deviation,
tolerance, status``); the CLI prints it and exits non-zero on any ``FAIL``.
``update_expected`` rewrites the expected results (for maintainers, after a
deliberate change of the analysis).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from smecore.errors import OptionError
from smecore.jsonio import dumps
from smecore.provenance import package_versions

TOLERANCE = 1e-6
SETTINGS = {"bootstrap": 2000, "seed": 1}


@dataclass(frozen=True)
class Compared:
    """What is compared in one output table."""

    keys: tuple[str, ...]
    exact: tuple[str, ...]
    numeric: tuple[str, ...]


COMPARED = {
    "verdicts.csv": Compared(("hypothesis",), ("verdict", "test"),
                             ("estimate", "se", "ci.lower", "ci.upper", "pvalue", "pvalue.holm", "pvalue.bh",
                              "std.estimate", "n", "cfi", "rmsea", "srmr")),
    "tests.csv": Compared(("hypothesis", "test"), ("kind",),
                          ("estimate", "se", "ci.lower", "ci.upper", "p.predicted", "std.estimate")),
    "robustness.csv": Compared(("hypothesis", "check"), ("significant",), ("estimate", "se", "p.predicted")),
    "measurement.csv": Compared(("module", "construct"), ("fornell.larcker", "htmt.ok"),
                                ("alpha", "omega", "omega.l2", "cr", "ave", "max.htmt")),
}


def expected_dir() -> Path:
    from synthetic_data.reference import REFERENCE_DIR

    return REFERENCE_DIR / "expected"


def _worlds(worlds: Sequence[str]):
    from synthetic_data.reference import REFERENCE_SETS

    known = {r.world: r for r in REFERENCE_SETS}
    bad = [w for w in worlds if w not in known]
    if bad:
        raise OptionError(f"unknown reference world(s) {bad}; choose from {sorted(known)}")
    return [known[w] for w in worlds]


def compare_tables(got: pd.DataFrame, expected: pd.DataFrame, spec: Compared, name: str,
                   tolerance: float = TOLERANCE) -> list[dict]:
    """One check row per compared column of ``name``: rows matched on ``spec.keys``."""
    rows = []
    g = got.set_index(list(spec.keys))
    e = expected.set_index(list(spec.keys))
    missing, extra = e.index.difference(g.index), g.index.difference(e.index)
    rows.append({"check": name, "item": "rows", "compared": len(e),
                 "max.deviation": float(len(missing) + len(extra)), "tolerance": 0.0,
                 "status": "PASS" if len(missing) == len(extra) == 0 else "FAIL",
                 "detail": f"missing {list(missing)[:3]} extra {list(extra)[:3]}" if len(missing) + len(extra) else ""})
    common = e.index.intersection(g.index)
    for col in spec.exact:
        if col not in e.columns:
            continue
        # empty cells (NA: "not computable") compare equal; astype(str) leaves NaN in object columns
        a = g.loc[common, col].fillna("").astype(str).to_numpy()
        b = e.loc[common, col].fillna("").astype(str).to_numpy()
        bad = int((a != b).sum())
        rows.append({"check": name, "item": col, "compared": len(common), "max.deviation": float(bad),
                     "tolerance": 0.0, "status": "PASS" if bad == 0 else "FAIL",
                     "detail": "" if bad == 0 else f"{bad} differ, e.g. {list(common[a != b])[:2]}"})
    for col in spec.numeric:
        if col not in e.columns:
            continue
        a = pd.to_numeric(g.loc[common, col], errors="coerce").to_numpy(dtype=float)
        b = pd.to_numeric(e.loc[common, col], errors="coerce").to_numpy(dtype=float)
        both_nan = np.isnan(a) & np.isnan(b)
        dev = np.where(both_nan, 0.0, np.abs(a - b) / np.maximum(1.0, np.abs(b)))
        dev = np.where(np.isnan(dev), np.inf, dev)
        worst = float(dev.max()) if len(dev) else 0.0
        rows.append({"check": name, "item": col, "compared": len(common), "max.deviation": worst,
                     "tolerance": tolerance, "status": "PASS" if worst <= tolerance else "FAIL",
                     "detail": "" if worst <= tolerance else f"worst at {common[int(np.argmax(dev))]}"})
    return rows


def _analyse(path: Path, out: Path, progress: Callable | None):
    from analysis.ingest import read_responses
    from analysis.propositions.pipeline import analyze, write_outputs
    from analysis.report.render import write_reports
    from instrument import load_instrument

    inst = load_instrument()
    result = analyze(read_responses(path), instrument=inst, n_boot=SETTINGS["bootstrap"], seed=SETTINGS["seed"],
                     progress=progress, source=path.name)
    write_outputs(result, out, path)
    write_reports(result, inst, out)
    return result


def reproduce(out: str | Path, worlds: Sequence[str] = ("theory", "null"),
              progress: Callable[[str, int, int], None] | None = None) -> pd.DataFrame:
    """Regenerate, re-analyse and compare (see the module docstring); returns the table of checks."""
    from synthetic_data.reference import REFERENCE_DIR, verify

    out = Path(out)
    sets = _worlds(worlds)
    rows = []
    for r in verify():
        if r["file"] in {s.filename for s in sets}:
            rows.append({"check": "data (SHA-256)", "item": r["file"], "compared": 1,
                         "max.deviation": 0.0 if r["ok"] else 1.0, "tolerance": 0.0,
                         "status": "PASS" if r["ok"] else "FAIL",
                         "detail": "" if r["ok"] else f"manifest {r['expected'][:12]}, regenerated "
                                                      f"{r['regenerated'][:12]}, committed {r['committed'][:12]}"})
    for s in sets:
        folder = out / s.world
        _analyse(REFERENCE_DIR / s.filename, folder, progress)
        for name, spec in COMPARED.items():
            expected_path = expected_dir() / s.world / name
            if not expected_path.exists():
                rows.append({"check": f"{s.world}/{name}", "item": "expected file", "compared": 0,
                             "max.deviation": np.inf, "tolerance": 0.0, "status": "FAIL",
                             "detail": f"{expected_path} is missing"})
                continue
            rows += compare_tables(pd.read_csv(folder / name), pd.read_csv(expected_path), spec,
                                   f"{s.world}/{name}")
    return pd.DataFrame(rows, columns=["check", "item", "compared", "max.deviation", "tolerance", "status", "detail"])


def update_expected(worlds: Sequence[str] = ("theory", "null"),
                    progress: Callable[[str, int, int], None] | None = None) -> list[Path]:
    """Re-run the reference analysis and store its tables as the expected results."""
    import tempfile

    from synthetic_data.reference import REFERENCE_DIR

    written = []
    for s in _worlds(worlds):
        with tempfile.TemporaryDirectory() as tmp:
            _analyse(REFERENCE_DIR / s.filename, Path(tmp), progress)
            target = expected_dir() / s.world
            target.mkdir(parents=True, exist_ok=True)
            for name in COMPARED:
                path = target / name
                path.write_bytes((Path(tmp) / name).read_bytes())
                written.append(path)
    info = expected_dir() / "settings.json"
    info.write_text(dumps({**SETTINGS, "tolerance": TOLERANCE, "versions": package_versions()}), encoding="utf-8")
    return [*written, info]
