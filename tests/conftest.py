"""Fixtures shared across the test packages.

``analyzed`` runs ``smesurvey analyze`` once per session on the committed
reference data (theory world, N = 600) with a short bootstrap; the pipeline,
report, CLI and browser tests all read what it wrote.
"""

from __future__ import annotations

from pathlib import Path

import pytest

REFERENCE_DATA = Path(__file__).resolve().parents[1] / "synthetic_data" / "reference"
THEORY_600 = REFERENCE_DATA / "theory_n600_seed20261123.csv"


@pytest.fixture(scope="session")
def analyzed(tmp_path_factory) -> Path:
    """Output folder of ``smesurvey analyze`` on the reference theory data (200 bootstrap resamples)."""
    from smesurvey.cli import main

    out = tmp_path_factory.mktemp("analyzed")
    rc = main(["analyze", str(THEORY_600), "--out", str(out), "--bootstrap", "200", "--seed", "3"])
    assert rc == 0
    return out
