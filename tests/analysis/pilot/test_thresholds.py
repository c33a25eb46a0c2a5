"""Pilot thresholds: defaults with sources, YAML and --set, every bad value refused with its name."""

import pytest

from analysis.pilot.thresholds import (
    RULES,
    THRESHOLD_SOURCES,
    PilotThresholds,
    load_thresholds,
    parse_settings,
    with_settings,
)
from smecore.errors import OptionError


def test_every_threshold_states_its_source():
    names = [r["name"] for r in PilotThresholds().table()]
    assert names == list(THRESHOLD_SOURCES)
    assert all(r["source"] for r in PilotThresholds().table())


def test_yaml_round_trip_and_partial_file(tmp_path):
    th = with_settings(PilotThresholds(), {"loading": "0.5", "cut_rules": "item_total,missing", "min_items": 4})
    f = tmp_path / "t.yaml"
    f.write_text(th.as_yaml(), encoding="utf-8")
    assert load_thresholds(f) == th
    f.write_text("loading: 0.45\n", encoding="utf-8")
    assert load_thresholds(f) == PilotThresholds(loading=0.45)
    f.write_text("", encoding="utf-8")
    assert load_thresholds(f) == PilotThresholds()


@pytest.mark.parametrize(("settings", "message"), [
    ({"loadings": "0.5"}, "unknown pilot threshold(s) ['loadings']"),
    ({"loading": "high"}, "'loading' must be a number"),
    ({"loading": "1.5"}, "'loading' must be between 0 and 1"),
    ({"min_items": "2.5"}, "'min_items' must be a whole number"),
    ({"min_items": "1"}, "'min_items' must be at least 2"),
    ({"cut_rules": "item_total,vibes"}, "unknown rule(s) ['vibes']"),
])
def test_bad_settings_are_refused_by_name(settings, message):
    with pytest.raises(OptionError, match=message.replace("(", r"\(").replace(")", r"\)").replace("[", r"\[")
                       .replace("]", r"\]")):
        with_settings(PilotThresholds(), settings, "--set")


def test_yaml_errors_name_the_file(tmp_path):
    f = tmp_path / "t.yaml"
    f.write_text("- a list\n", encoding="utf-8")
    with pytest.raises(OptionError, match="t.yaml: expected a mapping"):
        load_thresholds(f)
    f.write_text("loading: [\n", encoding="utf-8")
    with pytest.raises(OptionError, match="t.yaml: not valid YAML"):
        load_thresholds(f)
    with pytest.raises(OptionError, match="cannot read"):
        load_thresholds(tmp_path / "absent.yaml")


def test_set_pairs():
    assert parse_settings(["loading=0.5", " missing = 0.2 "]) == {"loading": "0.5", "missing": "0.2"}
    with pytest.raises(OptionError, match="write name=value"):
        parse_settings(["loading"])
    assert set(PilotThresholds().cut_rules) < set(RULES)  # floor_ceiling only flags by default
