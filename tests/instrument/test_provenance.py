"""Every construct's and hypothesis' passage occurs verbatim (whitespace-normalised) in its seed."""

import os
import re
from pathlib import Path

import pytest

from instrument import load_instrument

SEEDS = Path(__file__).resolve().parents[3] / "shared" / "seeds"


def norm(s: str) -> str:
    return re.sub(r"\s+", " ", s).strip()


def test_passages_are_verbatim_quotes():
    if not SEEDS.is_dir():
        # CI always has ../shared beside the clone: there a missing folder is a failure, not a skip
        if os.environ.get("CI"):
            pytest.fail(f"{SEEDS} is missing; CI must run with ../shared beside the checkout")
        pytest.skip(f"SKIPPED: the seed texts ({SEEDS}) are not beside the checkout, so the passages "
                    "cannot be checked against them; put ../shared beside the checkout")
    inst = load_instrument()
    texts = {p.name: norm(p.read_text(encoding="utf-8")) for p in SEEDS.glob("*.txt")}
    entries = [(c.id, c.seed, c.passage) for c in list(inst.constructs.values()) + list(inst.matrices.values())
               if c.seed] + [(h.id, h.seed, h.passage) for h in inst.hypotheses]
    assert len(entries) > 50
    for ident, seed, passage in entries:
        assert seed in texts, f"{ident}: seed file {seed} not found"
        assert norm(passage) in texts[seed], f"{ident}: passage not found verbatim in {seed}"


def test_origins_are_new_or_adapted():
    inst = load_instrument()
    origins = {c.origin for c in inst.constructs.values()}
    assert "new" in origins and any(o.startswith("adapted from Covin & Slevin") for o in origins)
