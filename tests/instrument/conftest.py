"""A tiny valid instrument written inline (pyxform-style fixtures), mutated by each test."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

SCALES = {"scales": {"agree": {"name": {"en": "Agreement"}, "points": [
    {"value": i, "label": {"en": lab}} for i, lab in enumerate(["No", "Maybe", "Yes"], start=1)]}}}

QUESTIONNAIRE = {
    "id": "tiny", "version": "1", "title": {"en": "Tiny"}, "introduction": {"en": "Hi"},
    "consent": {"en": "Agree?"}, "thanks": {"en": "Thanks"},
    "modules": [{"id": "M0", "title": {"en": "Firm"}, "intro": {"en": "Facts"}, "constructs": []},
                {"id": "M1", "title": {"en": "One"}, "intro": {"en": "First"}, "constructs": ["AA", "BB"]}],
    "profile": [{"id": "firm_size", "type": "integer", "min": 1, "max": 9, "text": {"en": "Size?"}}],
    "attention_checks": [{"id": "attn_1", "scale": "agree", "expected": 3, "position": "first",
                          "text": {"en": "Pick Yes"}}],
    "second_order": [{"id": "SO", "name": {"en": "Both"}, "definition": {"en": "A and B"}, "members": ["AA", "BB"]}],
    "timing": {"likert": 6, "factual": 12, "text": 20, "module_intro": 10, "introduction": 45},
}


def construct(cid: str) -> dict:
    return {"id": cid, "module": "M1", "name": {"en": cid}, "definition": {"en": f"{cid} def"},
            "seed": "000_x.txt", "passage": "a passage", "origin": "new", "scale": "agree", "second_order": "SO",
            "items": [{"id": f"{cid.lower()}_{k}", "text": {"en": f"{cid} item {k}"}} for k in (1, 2, 3)]}


HYPOTHESES = {"hypotheses": [{"id": "H1", "seed": "000_x.txt", "passage": "p", "statement": {"en": "A raises B"},
                              "module": "M1", "constructs": ["AA", "BB", "firm_size"]}]}


class TinyDefinition:
    """Holds the tiny definition as dicts; ``write()`` puts it in a folder."""

    def __init__(self, root: Path):
        self.root = root
        self.scales = copy.deepcopy(SCALES)
        self.questionnaire = copy.deepcopy(QUESTIONNAIRE)
        self.hypotheses = copy.deepcopy(HYPOTHESES)
        self.constructs = {"aa": construct("AA"), "bb": construct("BB")}

    def write(self) -> Path:
        (self.root / "constructs").mkdir(parents=True, exist_ok=True)
        for name, data in (("scales", self.scales), ("questionnaire", self.questionnaire),
                           ("hypotheses", self.hypotheses)):
            (self.root / f"{name}.yaml").write_text(yaml.safe_dump(data), encoding="utf-8")
        for f in (self.root / "constructs").glob("*.yaml"):
            f.unlink()
        for name, data in self.constructs.items():
            (self.root / "constructs" / f"{name}.yaml").write_text(yaml.safe_dump(data), encoding="utf-8")
        return self.root


@pytest.fixture()
def tiny(tmp_path) -> TinyDefinition:
    return TinyDefinition(tmp_path / "definition")
