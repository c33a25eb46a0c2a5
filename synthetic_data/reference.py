"""Reference data sets for reviewers: theory and null worlds, N = 600 each, fixed seeds.

``build(folder)`` regenerates them (CSV + sidecar) and writes ``MANIFEST.sha256``
(``sha256sum`` format) over the CSV files; ``verify(folder)`` regenerates in a
temporary place and compares checksums with the manifest. The sidecars are not
in the manifest because they record the package versions of the machine that
wrote them; the data files themselves must match byte for byte.
"""

from __future__ import annotations

import hashlib
import tempfile
from dataclasses import dataclass
from pathlib import Path

from smecore.files import write_text
from synthetic_data.generate import generate
from synthetic_data.writers import write_data

REFERENCE_DIR = Path(__file__).resolve().parent / "reference"
MANIFEST = "MANIFEST.sha256"


@dataclass(frozen=True)
class ReferenceSet:
    world: str
    n: int
    seed: int

    @property
    def filename(self) -> str:
        return f"{self.world}_n{self.n}_seed{self.seed}.csv"


REFERENCE_SETS = (ReferenceSet("theory", 600, 20261123), ReferenceSet("null", 600, 20261124))


def sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def build(folder: Path = REFERENCE_DIR) -> list[Path]:
    """Generate every reference set into ``folder`` and write the manifest; returns the paths written."""
    folder = Path(folder)
    written = []
    for ref in REFERENCE_SETS:
        written += write_data(generate(world=ref.world, n=ref.n, seed=ref.seed), folder / ref.filename)
    lines = [f"{sha256(folder / r.filename)}  {r.filename}" for r in REFERENCE_SETS]
    written.append(write_text(folder / MANIFEST, "\n".join(lines) + "\n"))
    return written


def read_manifest(folder: Path = REFERENCE_DIR) -> dict[str, str]:
    out = {}
    for line in (Path(folder) / MANIFEST).read_text().splitlines():
        if line.strip():
            digest, name = line.split(maxsplit=1)
            out[name.strip()] = digest
    return out


def verify(folder: Path = REFERENCE_DIR) -> list[dict]:
    """Regenerate the reference sets and compare with the manifest (and the committed files).

    Returns one row per file: ``file, expected, regenerated, committed, ok``.
    """
    manifest = read_manifest(folder)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        build(Path(tmp))
        for ref in REFERENCE_SETS:
            regenerated = sha256(Path(tmp) / ref.filename)
            committed_path = Path(folder) / ref.filename
            committed = sha256(committed_path) if committed_path.exists() else ""
            expected = manifest.get(ref.filename, "")
            rows.append({"file": ref.filename, "expected": expected, "regenerated": regenerated,
                         "committed": committed, "ok": expected == regenerated == committed})
    return rows
