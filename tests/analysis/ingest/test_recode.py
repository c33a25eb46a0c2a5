"""Labels -> codes through the instrument's scales."""

from __future__ import annotations

import pytest

from analysis.ingest.recode import label_map, recode_value
from instrument import load_instrument


@pytest.fixture(scope="module")
def labels():
    inst = load_instrument()
    v = inst.variable("tk_1")
    lab = inst.value_labels(v, "en")
    return label_map(inst, v), lab


def test_every_label_of_the_scale_maps_to_its_code(labels):
    mapping, lab = labels
    for code, text in lab.items():
        assert recode_value(text, mapping) == (code, True)
        assert recode_value(f"  {text.upper()}  ", mapping) == (code, True)
        assert recode_value(f"{code} - {text}", mapping) == (code, True)
        assert recode_value(str(code), mapping) == (code, False)


@pytest.mark.parametrize("value", ["seven", "N/A", "3.5", "1 - " + "no such label"])
def test_non_codes_are_refused(labels, value):
    assert recode_value(value, labels[0]) == (None, False)


def test_code_and_label_must_agree(labels):
    mapping, lab = labels
    first, last = min(lab), max(lab)
    assert recode_value(f"{first} - {lab[last]}", mapping) == (None, False)


def test_numbers_outside_the_scale_are_left_to_the_range_check(labels):
    assert recode_value("99", labels[0]) == (99, False)
    assert recode_value("8.0", labels[0]) == (8, False)
